"""How is an LSTM language model trained, cached and checkpointed, and how well does it predict?

The RNN experiments of Morcos et al. (2018) (Figure 1 b-c, e-f; Figure 6; Appendices A1, A3, A4,
A8) read LSTM language models at many points of training. :func:`lm_config` turns a profile's
``text`` table into a run config (the cache identity) and :func:`train_lm` trains, or loads, the
model of :mod:`morcos2018.lm_model` it describes through
:func:`morcos2018.training.train`.

Training is truncated back-propagation through time with state carried between windows: a
*stateful* copy of the model is fed the windows of :func:`morcos2018.text.stateful_windows`
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

Training to a converged reference (Figure 6 compares each checkpoint with the last one, which
must have stopped moving; issue 12). Two options of the profile's ``[training]`` table, both off
when absent, so that runs trained without them keep their configs and cache keys:

- ``data_phase = "random_offset"``: every pass over the corpus reads the training stream from
  its own random offset (:func:`stream_offset`, wrapping around), so the text seen just before a
  checkpoint differs from pass to pass. With the default ``"fixed"`` every pass feeds the same
  windows in the same order, and every checkpoint at the same point of a pass follows the same
  batches as the final one: distances to the final checkpoint then dip at those checkpoints (a
  saw-tooth of data phase, not convergence).
- ``schedule = { name = "cosine", final_fraction = f }``: the optimizer's learning rate is
  annealed from its value to ``f`` times it along a half cosine over the whole run
  (:func:`annealed_learning_rate`), so the last checkpoints settle. :func:`lm_config` writes the
  run's length (``checkpoints``) into the table: the horizon is part of the run's identity, and
  asking for a longer run trains a new one rather than extending a decay that has ended.

Dropout (``dropout`` of a ``[models]`` table, :func:`morcos2018.lm_model.build_lm`) is the
regulariser that keeps deep models from overfitting their reference away.

Resume stays bitwise with both options: the offset of a pass is a pure function of the run's
seed and the pass's index, and the learning rate of a step a pure function of the step's
checkpoint, its position in it and the horizon; neither reads any state a resumed run lacks
(``tests/morcos2018/test_lm_training_options.py`` extends a run and compares it with one trained at
once).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018 import text, training
from morcos2018.lm_model import build_lm, reset_states


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
    _check_options(training_settings, horizon=False)
    if "schedule" in training_settings:
        training_settings["schedule"] = {**training_settings["schedule"],
                                         "checkpoints": epochs * per_epoch}
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


#: Data phases of ``[training] data_phase``: every pass from the stream's start (the default),
#: or from a random offset per pass (:func:`stream_offset`).
DATA_PHASES = ("fixed", "random_offset")
#: Learning-rate schedules of ``[training] schedule``.
SCHEDULES = ("cosine",)
# Tag of the offsets' random stream, apart from the per-epoch seeds of training.train.
_OFFSET_STREAM = 12


def _check_options(training_settings: Mapping[str, Any], horizon: bool) -> None:
    """Validate ``data_phase`` and ``schedule``; ``horizon``: the schedule must hold the run's
    ``checkpoints`` (a config from :func:`lm_config`), else it must not (a profile's table)."""
    phase = training_settings.get("data_phase", "fixed")
    if phase not in DATA_PHASES:
        raise ValueError(f"training.data_phase must be one of {DATA_PHASES}; got {phase!r}")
    schedule = training_settings.get("schedule")
    if schedule is None:
        return
    allowed = {"name", "final_fraction"} | ({"checkpoints"} if horizon else set())
    if not isinstance(schedule, Mapping) or schedule.get("name") not in SCHEDULES or (
        set(schedule) - allowed
    ):
        raise ValueError(
            f"training.schedule must be a table {{name = 'cosine', final_fraction = f}} (the "
            f"run's length is added by lm_config); got {schedule!r}"
        )
    fraction = schedule.get("final_fraction", 0.0)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not (
        0 <= fraction <= 1
    ):
        raise ValueError(
            f"training.schedule.final_fraction must be in [0, 1] (the last learning rate over "
            f"the first); got {fraction!r}"
        )
    if horizon and not (isinstance(schedule.get("checkpoints"), int)
                        and schedule["checkpoints"] >= 1):
        raise ValueError(
            f"the config's training.schedule needs the run's length, 'checkpoints' (a positive "
            f"int); got {schedule!r}: build configs with lm_config"
        )
    rate = training_settings["optimizer"].get("learning_rate")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise ValueError(
            f"training.schedule anneals a constant optimizer learning_rate; the optimizer gives "
            f"{rate!r}"
        )


def stream_offset(seed: int, pass_index: int, n_tokens: int) -> int:
    """Where pass ``pass_index`` (0-based) of a run seeded ``seed`` starts reading the stream.

    A pure function of its arguments (``data_phase = "random_offset"``): a run resumed after a
    kill reads each pass from the same offset as an uninterrupted one.

    Examples
    --------
    >>> stream_offset(0, 3, 1000) == stream_offset(0, 3, 1000)
    True
    >>> len({stream_offset(0, p, 10_000) for p in range(20)}) > 15
    True
    """
    rng = np.random.default_rng([int(seed), int(pass_index), _OFFSET_STREAM])
    return int(rng.integers(n_tokens))


def annealed_learning_rate(base: float, progress: float, final_fraction: float = 0.0) -> float:
    """The cosine schedule: ``base`` at ``progress`` 0, ``final_fraction * base`` from 1 on.

    ``base * (f + (1 - f) * (1 + cos(pi * min(progress, 1))) / 2)`` with ``f = final_fraction``;
    ``progress`` is the share of the run's checkpoints done (Loshchilov & Hutter 2017, without
    restarts).

    Examples
    --------
    >>> [round(annealed_learning_rate(1.0, p, 0.1), 3) for p in (0, 0.5, 1, 2)]
    [1.0, 0.55, 0.1, 0.1]
    """
    shape = (1 + math.cos(math.pi * min(max(progress, 0.0), 1.0))) / 2
    return float(base * (final_fraction + (1 - final_fraction) * shape))


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
    """The :class:`~morcos2018.text.TextCorpus` a config's ``corpus`` table describes."""
    return _cached_corpus(
        corpus["name"], int(corpus["vocab_size"]), corpus.get("max_train_tokens"),
        corpus.get("max_valid_tokens"), float(corpus.get("validation_fraction", 0.05)),
        int(corpus.get("split_seed", 0)),
    )


def model_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments of :func:`morcos2018.lm_model.build_lm` for a :func:`lm_config`.

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
    :func:`~morcos2018.text.stateful_windows` in order, with Adam (or the config's
    optimizer) and the config's gradient clipping; the validation stream is evaluated the same
    way after every epoch, so ``exp(val_loss)`` is the validation perplexity
    (:func:`validation_perplexity`).
    """
    settings = config["training"]
    _check_options(settings, horizon=True)
    batch_size, seq_len = int(settings["batch_size"]), int(settings["seq_len"])

    def build() -> Any:
        return training_model(config)

    def data() -> training.FitData:
        corpus = corpus_from_config(config["corpus"])
        x, y = text.stateful_windows(corpus.train, batch_size, seq_len)
        validation = text.stateful_windows(corpus.valid, batch_size, seq_len)
        pass_windows = None
        if settings.get("data_phase", "fixed") == "random_offset":
            def pass_windows(seed: int, pass_index: int) -> tuple[np.ndarray, np.ndarray]:
                offset = stream_offset(seed, pass_index, len(corpus.train))
                return text.stateful_windows(corpus.train, batch_size, seq_len, offset=offset)
        return _ChunkedFitData(x, y, validation=validation, batch_size=batch_size,
                               shuffle=False, chunks=_checkpoints_per_epoch(settings),
                               pass_windows=pass_windows)

    per_epoch = _checkpoints_per_epoch(settings)
    model = config["model"]
    label = f"{model['layers']}-layer LSTM seed {config['seed']} (width {model['width']}"
    label += ")" if per_epoch == 1 else f", {per_epoch} checkpoints per epoch)"
    return training.train(config, build, data, callbacks=training_callbacks(config),
                          cache_root=cache_root, verbose=verbose, label=label,
                          unit="epoch" if per_epoch == 1 else "checkpoint")


def training_model(config: Mapping[str, Any]) -> Any:
    """The compiled stateful model :func:`train_lm` trains for a :func:`lm_config`.

    Built with the config's ``batch_size`` and ``seq_len`` and compiled with its optimizer and
    the cross-entropy of the logits.
    """
    import keras

    settings = config["training"]
    model = build_lm(**model_arguments(config), batch_size=int(settings["batch_size"]),
                     seq_len=int(settings["seq_len"]), stateful=True)
    model.compile(
        optimizer=training.make_optimizer(settings["optimizer"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def training_callbacks(config: Mapping[str, Any]) -> list[Any]:
    """The Keras callbacks of :func:`train_lm`'s ``fit``: state resets and the schedule, if any."""
    settings = config["training"]
    _check_options(settings, horizon=True)
    callbacks = [_reset_callback()]
    if "schedule" in settings:
        callbacks.append(_schedule_callback(settings["schedule"],
                                            float(settings["optimizer"]["learning_rate"])))
    return callbacks


class _ChunkedFitData(training.FitData):
    """Stateful windows, fed one of ``chunks`` consecutive stretches per cache "epoch".

    ``pass_windows(seed, pass_index)``, if given, gives the windows of each pass over the corpus
    (cache epochs ``pass_index * chunks + 1 .. (pass_index + 1) * chunks``) instead of ``x, y``;
    it must give the same number of windows every pass.
    """

    def __init__(
        self,
        *args: Any,
        chunks: int = 1,
        pass_windows: Callable[[int, int], tuple[np.ndarray, np.ndarray]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.chunks = chunks
        self.pass_windows = pass_windows

    def epoch_inputs(self, seed: int, epoch: int) -> dict[str, Any]:
        inputs = super().epoch_inputs(seed, epoch)
        if self.pass_windows is not None:
            x, y = self.pass_windows(seed, (epoch - 1) // self.chunks)
            inputs = {**inputs, "x": x, "y": y}
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


def _schedule_callback(schedule: Mapping[str, Any], base: float) -> Any:
    import keras

    horizon = int(schedule["checkpoints"])
    final_fraction = float(schedule.get("final_fraction", 0.0))

    class Anneal(keras.callbacks.Callback):
        """Set the learning rate before every step from the step's place in the run."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.checkpoint = epoch

        def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
            progress = (self.checkpoint + batch / self.params["steps"]) / horizon
            self.model.optimizer.learning_rate = annealed_learning_rate(base, progress,
                                                                        final_fraction)

    return Anneal()


def perplexity_gap(run: training.TrainedRun, corpus: text.TextCorpus) -> dict[str, float]:
    """Final validation perplexity, the unigram baseline and their ratio (baseline / model)."""
    final = float(validation_perplexity(run)[-1])
    unigram = corpus.unigram_perplexity()
    return {"val_perplexity": final, "unigram_perplexity": unigram,
            "ratio": unigram / final if math.isfinite(final) else 0.0}
