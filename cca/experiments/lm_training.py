"""How is an LSTM language model trained, cached and checkpointed, and how well does it predict?

The RNN experiments of Morcos et al. (2018) (Figure 1 b-c, e-f; Figure 6; Appendices A1, A3, A4,
A8) read LSTM language models at many points of training. :func:`lm_config` turns a profile's
``text`` table into a run config (the cache identity) and :func:`train_lm` trains, or loads, the
model of :mod:`cca.experiments.lm_model` it describes through
:func:`cca.experiments.training.train`.

Training is truncated back-propagation through time with state carried between windows: a
*stateful* copy of the model is fed the windows of :func:`cca.experiments.text.stateful_windows`
in order, and its states are reset at the start of each epoch and of each validation pass. Runs
are checkpointed ``checkpoints_per_epoch`` times per pass over the corpus (the profile's
``[training]``; Figure 6 needs a finer time axis than a few epochs): each training "epoch" of the
cache is then one consecutive chunk of the pass's windows, so a run's checkpoint ``i`` lies at
epoch ``i / checkpoints_per_epoch`` (:func:`checkpoint_epochs`), and its validation perplexity is
measured at each checkpoint (:func:`validation_perplexity`; Appendix A1 compares it with the
unigram baseline, :func:`perplexity_gap`). :func:`load_lm` gives a checkpoint back as a stateless
model that reads any input shape.

The recipe that makes these small models learn on the 2-core CPU (validation perplexity far below
the unigram baseline, see ``benchmarks/bench_lm.py`` and the notebooks) is the profile's
``text.toml``: a small vocabulary, state carried across windows of 35 tokens, Adam with a larger
learning rate (3e-3) and gradient-norm clipping, and enough tokens per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cca.experiments import text, training
from cca.experiments.lm_model import build_lm, reset_states


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
    """Keyword arguments of :func:`cca.experiments.lm_model.build_lm` for a :func:`lm_config`.

    Shape-free: add ``batch_size``, ``seq_len`` and ``stateful`` to build the training copy.
    """
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


def _reset_callback() -> Any:
    import keras

    class ResetStates(keras.callbacks.Callback):
        """Reset LSTM states at the start of each training epoch and each validation pass."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            reset_states(self.model)

        def on_test_begin(self, logs: dict | None = None) -> None:
            reset_states(self.model)

    return ResetStates()


def perplexity_gap(run: training.TrainedRun, corpus: text.TextCorpus) -> dict[str, float]:
    """Final validation perplexity, the unigram baseline and their ratio (baseline / model)."""
    final = float(validation_perplexity(run)[-1])
    unigram = corpus.unigram_perplexity()
    return {"val_perplexity": final, "unigram_perplexity": unigram,
            "ratio": unigram / final if math.isfinite(final) else 0.0}
