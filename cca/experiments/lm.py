"""LSTM language models for the RNN experiments (paper Figs 1b-c, 1e-f, 6, A1, A3, A4, A8).

The paper trains 3-layer (and 5-layer) LSTM language models on PTB and WikiText-2. Here a model is

    token ids -> ``embedding`` -> ``lstm1`` -> ... -> ``lstmN`` -> ``logits`` (dense, vocabulary)

built with the Keras functional API and named layers, so that every LSTM layer's output can be
read per layer and per time step (:func:`layer_activations`). Training is truncated
back-propagation through time with state carried between windows: a *stateful* copy of the model
is fed the windows of :func:`cca.experiments.text.stateful_windows` in order, and its states are
reset at the start of each epoch and of each validation pass (:class:`ResetStates`). Runs are
cached and checkpointed by :func:`cca.experiments.training.train`, ``checkpoints_per_epoch``
times per pass over the corpus (the profile's ``[training]``; Figure 6 needs a finer time axis
than a few epochs): each training "epoch" of the cache is then one consecutive chunk of the
pass's windows, so a run's checkpoint ``i`` lies at epoch ``i / checkpoints_per_epoch``
(:func:`checkpoint_epochs`), and its validation perplexity is measured at each checkpoint.

The recipe that makes these small models learn on the 2-core CPU (validation perplexity far below
the unigram baseline, see ``benchmarks/bench_lm.py`` and the notebooks) is the profile's
``text.toml``: a small vocabulary, state carried across windows of 35 tokens, Adam with a larger
learning rate (3e-3) and gradient-norm clipping, and enough tokens per epoch.

Representations are read on a fixed held-out *probe* (:func:`probe_windows`): windows of the
validation stream, each run from a zero state; the first ``context`` steps warm the state up and
the remaining token positions are the datapoints (rows), the LSTM units the neurons (columns).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cca.experiments import analysis, text, training


def layer_names(n_layers: int) -> list[str]:
    """Names of the LSTM layers of an ``n_layers`` model: ``["lstm1", ..., "lstmN"]``."""
    return [f"lstm{i}" for i in range(1, n_layers + 1)]


def build_lm(
    vocab_size: int,
    n_layers: int,
    width: int,
    embedding_dim: int | None = None,
    dropout: float = 0.0,
    layer_norm: bool = True,
    residual: bool = False,
    batch_size: int | None = None,
    seq_len: int | None = None,
    stateful: bool = False,
) -> Any:
    """A multi-layer LSTM language model (uncompiled Keras functional model).

    Parameters
    ----------
    vocab_size
        Number of token ids (input and output).
    n_layers, width
        Number of stacked LSTM layers and units per layer.
    embedding_dim
        Size of the input embedding (default ``width``).
    dropout
        Dropout rate on the embedding and between layers (0 disables it).
    layer_norm
        Normalise each LSTM layer's output (``LayerNormalization`` named ``lstmK_norm``) before
        it feeds the next layer. Without it, deep (3- and 5-layer) models of width ~128 stall at
        the unigram plateau for well over a thousand updates on this corpus (the signal shrinks
        layer by layer at initialisation); with it they leave it within the first epoch. The
        representation read for CCA is the LSTM output ``lstmK`` itself, before normalisation.
    residual
        Add each layer's input to its (normalised) output from the second layer on
        (``lstmK_residual``), as in deep LSTM stacks for translation (Wu et al. 2016). Needed for
        the 5-layer model: with layer normalisation alone it stays at the unigram plateau for
        the whole default budget (validation perplexity 139 after 4 epochs, unigram 137).
    batch_size, seq_len
        Fixed input shape; required for ``stateful=True``, ``None`` lets any shape through.
    stateful
        Carry each LSTM's final state over to the next batch (for training with truncated BPTT).

    Returns
    -------
    keras.Model
        Inputs ``(batch, steps)`` int32 token ids; outputs ``(batch, steps, vocab_size)`` logits.
        Layers are named ``embedding``, ``lstm1`` ... ``lstm{n_layers}`` (each followed by
        ``lstmK_norm`` if ``layer_norm`` and ``lstmK_residual`` if ``residual``) and ``logits``.
    """
    import keras

    for name, value in (("vocab_size", vocab_size), ("n_layers", n_layers), ("width", width)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if stateful and batch_size is None:
        raise ValueError("batch_size is required when stateful=True (state is kept per row)")
    inputs = keras.Input(batch_shape=(batch_size, seq_len), dtype="int32", name="tokens")
    hidden = keras.layers.Embedding(vocab_size, embedding_dim or width, name="embedding")(inputs)
    for depth, name in enumerate(layer_names(n_layers)):
        layer_input = hidden
        if dropout:
            hidden = keras.layers.Dropout(dropout, name=f"{name}_dropout")(hidden)
        hidden = keras.layers.LSTM(width, return_sequences=True, stateful=stateful, name=name)(
            hidden
        )
        if layer_norm:
            hidden = keras.layers.LayerNormalization(name=f"{name}_norm")(hidden)
        if residual and depth > 0:
            hidden = keras.layers.Add(name=f"{name}_residual")([hidden, layer_input])
    if dropout:
        hidden = keras.layers.Dropout(dropout, name="logits_dropout")(hidden)
    logits = keras.layers.Dense(vocab_size, name="logits")(hidden)
    return keras.Model(inputs, logits, name=f"lstm{n_layers}x{width}")


def reset_states(model: Any) -> None:
    """Zero the carried state of every stateful LSTM layer of ``model``."""
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            layer.reset_state()


def _reset_callback() -> Any:
    import keras

    class ResetStates(keras.callbacks.Callback):
        """Reset LSTM states at the start of each training epoch and each validation pass."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            reset_states(self.model)

        def on_test_begin(self, logs: dict | None = None) -> None:
            reset_states(self.model)

    return ResetStates()


# ----------------------------------------------------------------------------------------------
# Configs and training
# ----------------------------------------------------------------------------------------------


def lm_config(settings: Mapping[str, Any], model: str, seed: int) -> dict[str, Any]:
    """The training config (cache identity) of one language model of a profile.

    Parameters
    ----------
    settings
        The profile's ``text`` table (``load_profile(name)["text"]``).
    model
        Key of ``settings["models"]``, e.g. ``"lstm3"``.
    seed
        Initialisation seed.
    """
    if model not in settings["models"]:
        raise ValueError(
            f"model must be one of {sorted(settings['models'])} (the profile's [models] tables), "
            f"got {model!r}"
        )
    training_settings = {k: v for k, v in settings["training"].items() if k != "epochs"}
    per_epoch = _checkpoints_per_epoch(training_settings)
    epochs = int(settings["models"][model].get("epochs", settings["training"]["epochs"]))
    return {
        "experiment": "language_model",
        "corpus": dict(settings["corpus"]),
        "model": dict(settings["models"][model]),
        "training": training_settings,
        "seed": int(seed),
        "epochs": epochs * per_epoch,  # checkpoints after the initialisation
    }


def _checkpoints_per_epoch(training_settings: Mapping[str, Any]) -> int:
    value = training_settings.get("checkpoints_per_epoch", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"training.checkpoints_per_epoch must be a positive int (checkpoints per pass over "
            f"the corpus); the profile gives {value!r}"
        )
    return value


def checkpoint_epochs(run: training.TrainedRun) -> np.ndarray:
    """Epoch (passes over the corpus, fractional) of each checkpoint ``0..run.epochs``."""
    return np.arange(run.epochs + 1) / _checkpoints_per_epoch(run.config["training"])


def epoch_checkpoints(run: training.TrainedRun) -> list[int]:
    """Checkpoints at whole epochs: ``0, k, 2k, ...`` for ``k`` checkpoints per epoch."""
    return list(range(0, run.epochs + 1, _checkpoints_per_epoch(run.config["training"])))


@lru_cache(maxsize=4)
def _cached_corpus(
    name: str, vocab_size: int, max_train_tokens: int | None, max_valid_tokens: int | None,
    validation_fraction: float, split_seed: int,
) -> text.TextCorpus:
    return text.load_corpus(name, vocab_size, max_train_tokens, max_valid_tokens,
                            validation_fraction, split_seed)


def corpus_from_config(corpus: Mapping[str, Any]) -> text.TextCorpus:
    """The :class:`~cca.experiments.text.TextCorpus` a config's ``corpus`` table describes."""
    return _cached_corpus(
        corpus["name"], int(corpus["vocab_size"]), corpus.get("max_train_tokens"),
        corpus.get("max_valid_tokens"), float(corpus.get("validation_fraction", 0.05)),
        int(corpus.get("split_seed", 0)),
    )


def model_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`build_lm` for a :func:`lm_config` (shape-free)."""
    model = config["model"]
    return {
        "vocab_size": int(config["corpus"]["vocab_size"]),
        "n_layers": int(model["layers"]),
        "width": int(model["width"]),
        "embedding_dim": model.get("embedding_dim"),
        "dropout": float(model.get("dropout", 0.0)),
        "layer_norm": bool(model.get("layer_norm", True)),
        "residual": bool(model.get("residual", False)),
    }


def train_lm(
    config: Mapping[str, Any],
    cache_root: str | Path | None = None,
    verbose: bool | None = None,
) -> training.TrainedRun:
    """Train (or load from the cache) the language model a :func:`lm_config` describes.

    The model is trained stateful, on the windows of
    :func:`~cca.experiments.text.stateful_windows` in order, with Adam (or the config's
    optimizer) and the config's gradient clipping; the validation stream is evaluated the same
    way after every epoch, so ``exp(val_loss)`` is the validation perplexity
    (:func:`validation_perplexity`).
    """
    import keras

    settings = config["training"]
    batch_size, seq_len = int(settings["batch_size"]), int(settings["seq_len"])

    def build() -> Any:
        model = build_lm(**model_arguments(config), batch_size=batch_size, seq_len=seq_len,
                         stateful=True)
        model.compile(
            optimizer=training.make_optimizer(settings["optimizer"]),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        return model

    def data() -> training.FitData:
        corpus = corpus_from_config(config["corpus"])
        x, y = text.stateful_windows(corpus.train, batch_size, seq_len)
        validation = text.stateful_windows(corpus.valid, batch_size, seq_len)
        return _ChunkedFitData(x, y, validation=validation, batch_size=batch_size,
                               shuffle=False, chunks=_checkpoints_per_epoch(settings))

    per_epoch = _checkpoints_per_epoch(settings)
    model = config["model"]
    label = f"{model['layers']}-layer LSTM seed {config['seed']} (width {model['width']}"
    label += ")" if per_epoch == 1 else f", {per_epoch} checkpoints per epoch)"
    return training.train(config, build, data, callbacks=[_reset_callback()],
                          cache_root=cache_root, verbose=verbose, label=label,
                          unit="epoch" if per_epoch == 1 else "checkpoint")


class _ChunkedFitData(training.FitData):
    """Stateful windows, fed one of ``chunks`` consecutive stretches per cache "epoch"."""

    def __init__(self, *args: Any, chunks: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chunks = chunks

    def epoch_inputs(self, seed: int, epoch: int) -> dict[str, Any]:
        inputs = super().epoch_inputs(seed, epoch)
        n_batches = len(self.y) // self.batch_size
        if n_batches < self.chunks:
            raise ValueError(
                f"{n_batches} training batches cannot make {self.chunks} checkpoints per epoch: "
                "lower training.checkpoints_per_epoch or use more text"
            )
        chunk = (epoch - 1) % self.chunks
        edges = np.linspace(0, n_batches, self.chunks + 1).astype(int) * self.batch_size
        part = slice(edges[chunk], edges[chunk + 1])
        return {**inputs, "x": inputs["x"][part], "y": inputs["y"][part]}


def validation_perplexity(run: training.TrainedRun) -> np.ndarray:
    """Validation perplexity at checkpoints ``0..run.epochs`` (``exp`` of the mean cross-entropy).

    Checkpoint ``i`` is at epoch ``checkpoint_epochs(run)[i]``."""
    return np.exp(run.metric("val_loss"))


def training_perplexity(run: training.TrainedRun) -> np.ndarray:
    """Training perplexity during epochs ``1..run.epochs`` (NaN at epoch 0)."""
    return np.exp(run.metric("loss"))


def load_lm(run: training.TrainedRun, epoch: int | None = None) -> Any:
    """The model of ``run`` after ``epoch`` epochs as a stateless model taking any input shape."""
    trained = run.load_model(epoch)
    model = build_lm(**model_arguments(run.config))
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    return model


# ----------------------------------------------------------------------------------------------
# Reading representations
# ----------------------------------------------------------------------------------------------


def layer_activations(
    model: Any, inputs: np.ndarray, layers: Sequence[str], batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Outputs of the named layers at every time step.

    Parameters
    ----------
    model
        A stateless language model from :func:`build_lm` or :func:`load_lm`.
    inputs
        Token ids, shape ``(n_sequences, steps)``; each sequence starts from a zero state.
    layers
        Layer names, e.g. ``["lstm1", "lstm2"]``.

    Returns
    -------
    dict
        ``{name: array of shape (n_sequences, steps, units)}``, float32.
    """
    import keras

    inputs = np.asarray(inputs)
    if inputs.ndim != 2:
        raise ValueError(f"inputs must have shape (n_sequences, steps), got {inputs.shape}")
    missing = [name for name in layers if name not in {layer.name for layer in model.layers}]
    if missing:
        raise ValueError(
            f"layers {missing} not in the model; its layers are {[x.name for x in model.layers]}"
        )
    reader = keras.Model(model.inputs, [model.get_layer(name).output for name in layers])
    outputs = reader.predict(inputs.astype(np.int32), batch_size=batch_size, verbose=0)
    if len(layers) == 1:
        outputs = [outputs]
    return {name: np.asarray(out, dtype=np.float32) for name, out in
            zip(layers, outputs, strict=True)}


def probe_windows(
    ids: np.ndarray, n_windows: int, length: int, seed: int = 0, overlap: bool = False
) -> np.ndarray:
    """``n_windows`` windows of ``length`` tokens of a held-out stream, shape (n_windows, length).

    Windows are drawn at random (seeded) among the stream's non-overlapping windows (or, with
    ``overlap=True``, among all start positions) and sorted by position, so the probe is the same
    for every model trained on the same corpus.
    """
    stride = 1 if overlap else length
    available = (len(ids) - length) // stride + 1 if len(ids) >= length else 0
    if n_windows > available:
        raise ValueError(
            f"n_windows={n_windows} windows of {length} tokens do not fit in the {len(ids)} "
            f"held-out tokens (at most {available}): lower n_windows or length, allow overlap, "
            "or keep more validation tokens"
        )
    starts = stride * np.sort(np.random.default_rng(seed).choice(available, n_windows,
                                                                 replace=False))
    return np.stack([ids[s : s + length] for s in starts]).astype(np.int32)


def repeat_token(windows: np.ndarray, start: int, length: int) -> np.ndarray:
    """Copy of ``windows`` where each window's token at ``start`` is repeated ``length`` times.

    Steps ``start .. start + length - 1`` all hold the token that was at ``start`` (Appendix A4:
    one input repeated for 20 steps); the rest of each window is unchanged.
    """
    if not (0 <= start and start + length <= windows.shape[1]):
        raise ValueError(
            f"start={start} and length={length} must fit in windows of {windows.shape[1]} steps"
        )
    repeated = windows.copy()
    repeated[:, start : start + length] = windows[:, start : start + 1]
    return repeated


def distances_to_last_step(
    activations: np.ndarray, measures: Sequence[str]
) -> dict[str, np.ndarray]:
    """Distance of the representation at each step to the one at the last step (Appendix A3).

    Parameters
    ----------
    activations
        One layer over sequences, shape ``(n_sequences, steps, units)`` (from
        :func:`layer_activations`); datapoints are the sequences.
    measures
        Names for :func:`cca.experiments.analysis.distance_function`.

    Returns
    -------
    dict
        ``{measure: distances, one per step}`` (0 at the last step).
    """
    steps = [activations[:, t, :] for t in range(activations.shape[1])]
    return {m: analysis.distances_to_reference(steps, steps[-1], m) for m in measures}


def probe_representations(
    run: training.TrainedRun,
    probe: np.ndarray,
    context: int,
    epochs: Sequence[int] | None = None,
    layers: Sequence[str] | None = None,
) -> dict[str, list[np.ndarray]]:
    """Each LSTM layer's representation of the probe positions at each epoch.

    Parameters
    ----------
    run
        A trained language model (:func:`train_lm`).
    probe
        Windows from :func:`probe_windows`, shape ``(n_windows, length)``.
    context
        Steps at the start of each window that only warm up the state; positions
        ``context .. length - 1`` of every window are the datapoints.
    epochs
        Checkpoints to read (default ``0 .. run.epochs``).
    layers
        Layer names (default every LSTM layer).

    Returns
    -------
    dict
        ``{layer: [matrix of shape (n_windows * (length - context), width) per epoch]}``:
        rows are token positions, columns are units.
    """
    if not 0 <= context < probe.shape[1]:
        raise ValueError(f"context must be in [0, {probe.shape[1]}), got {context}")
    epochs = list(range(run.epochs + 1)) if epochs is None else list(epochs)
    layers = list(layers or layer_names(int(run.config["model"]["layers"])))
    result: dict[str, list[np.ndarray]] = {name: [] for name in layers}
    for epoch in epochs:
        acts = layer_activations(load_lm(run, epoch), probe, layers)
        for name in layers:
            steps = acts[name][:, context:, :]
            result[name].append(steps.reshape(-1, steps.shape[-1]))
    return result


def perplexity_gap(run: training.TrainedRun, corpus: text.TextCorpus) -> dict[str, float]:
    """Final validation perplexity, the unigram baseline and their ratio (baseline / model)."""
    final = float(validation_perplexity(run)[-1])
    unigram = corpus.unigram_perplexity()
    return {"val_perplexity": final, "unigram_perplexity": unigram,
            "ratio": unigram / final if math.isfinite(final) else 0.0}


# ----------------------------------------------------------------------------------------------
# Convergence order (Figure 6)
# ----------------------------------------------------------------------------------------------


def convergence_curves(
    representations: Mapping[str, Sequence[np.ndarray]], measures: Sequence[str]
) -> dict[str, dict[str, np.ndarray]]:
    """Distance of each layer at each epoch to its own final representation (Figures 6, A8).

    Parameters
    ----------
    representations
        ``{layer: [representation per epoch]}`` from :func:`probe_representations`; the last
        entry is the reference.
    measures
        Names for :func:`cca.experiments.analysis.distance_function`: ``"pwcca"`` (Fig 6a-c),
        ``"mean_cca"`` (Fig 6d), ``"cosine"`` and ``"euclidean"`` (A8), ...

    Returns
    -------
    dict
        ``{measure: {layer: distances at each epoch}}``.
    """
    return {
        measure: {
            layer: analysis.distances_to_reference(series, series[-1], measure)
            for layer, series in representations.items()
        }
        for measure in measures
    }


