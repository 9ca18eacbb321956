"""Cached, resumable, repeatable training of Keras models (used by the CNN and LSTM experiments).

Every trained network is described by a *config*: a JSON-able mapping holding everything that
determines it (profile values, experiment, seed). :func:`train` trains it once and caches it on
disk; asking again loads it. Nothing is ever trained twice.

Cache layout
------------
The cache root is the environment variable ``CCA_CACHE_DIR`` (default ``~/.cache/cca-reproduce``),
or the ``cache_root`` argument. A run lives in ``<root>/runs/<key>/`` where ``key`` is
:func:`run_key`: the first 20 hex digits of the SHA-256 of the canonical JSON of the config (sorted
keys, no whitespace), **without** its ``"epochs"`` entry, so asking for more epochs of a cached run
extends it rather than starting over (put anything that depends on the total length, such as a
decay horizon, in the config under another key)::

    config.json          the config, for people
    epoch_0000.npz       all model variables after 0 epochs (the initialization), float32
    epoch_0001.npz       ... after each epoch (weights, batch-norm statistics, RNG states)
    optimizer_0003.npz   optimizer variables (step count, moments) after the last epoch (here 3),
                         for resume; the epoch in its name ties it to the manifest's epochs_done.
                         Every 5th epoch's (optimizer_0005.npz, ...) is kept too: see below
    manifest.json        written last: config, completed epochs, SHA-256 and size of every file,
                         history, and its own checksum
    activations/         cached activations (see :mod:`morcos2018.activations`)

Every file is written atomically (temporary file, fsync, rename). An epoch writes its checkpoint and
its optimizer file, then rewrites ``manifest.json``, and only then deletes the previous epoch's
optimizer file (unless that epoch is an anchor, a multiple of
:data:`morcos2018.cache.ANCHOR_EVERY`); so a run killed at any point, mid-epoch or between these
writes, resumes from the last epoch the manifest records. A checkpoint or optimizer file that is
missing or does not match its checksum in the manifest makes the entry be cut back to its last
good epoch, the latest anchor (or last epoch) whose checkpoint, every earlier checkpoint and
optimizer state verify, and retrained from there (:func:`morcos2018.cache.salvage`; from scratch
if there is none), with a :class:`CacheCorruptionWarning` naming the damaged files and the epoch
it resumes from. A manifest that cannot be read, one whose config does not hash to the entry's
key (an edited config, or another run's folder copied under this key), one that does not match
its own checksum (an edited history) or whose optimizer state is not that of its last epoch (say
``epochs_done`` edited by hand) cannot be trusted about any file, so the whole entry is retrained
(with a warning naming it); neither is ever silently used. An entry this version must not
touch, written in a newer cache format or with a file that cannot be read (permissions, I/O: no
proof of corruption), raises
:class:`morcos2018.cache.CacheRefusedError` naming it and what to do, and nothing is deleted.
Entries of format 1 (one ``optimizer.npz``) are still read and resumed.

A complete entry is read without taking the entry's lock or writing anything, so a shared,
read-only cache of trained networks can be used as it is. Training or resuming needs to write:
into a read-only cache it raises :class:`ReadOnlyCacheError`, which says to point
``CCA_CACHE_DIR`` at a writable folder.

Repeatability
-------------
``config["seed"]`` seeds the initialization (``keras.utils.set_random_seed`` before the model is
built); every epoch ``e`` reseeds all global generators from ``(seed, e)``, and array data is
shuffled with a permutation drawn from ``(seed, e)``, so the data order of an epoch depends on
nothing but the config. Layer RNG states (dropout) are model variables and are checkpointed. Resume
restores weights, optimizer state (step count included, so learning-rate schedules continue) and
these RNG states, so a resumed run gives the same weights as an uninterrupted one on the same
machine (``tests/morcos2018/test_experiments_training.py`` kills a run with SIGKILL and checks
this). On CPU the results are bitwise repeatable without
``tf.config.experimental.enable_op_determinism``; pass ``deterministic=True`` for GPUs, where some
kernels are not (``benchmarks/bench_training.py`` measures its cost).

Progress
--------
Training shows which network it trains, epoch ``e`` of ``E``, and the time left (a tqdm bar: a
widget in JupyterLab, a bar in a terminal); a cached network says it was loaded, a partly cached
one where it resumes. All of it goes to stderr. With ``CCA_PROGRESS=lines`` in the environment (the
batch runner sets it) the bar becomes one line per epoch, each starting with :data:`PROGRESS_MARK`,
which ``cca-reproduce`` relays from the notebook to the terminal.

Example
-------
>>> import tempfile, keras, numpy as np
>>> def build():
...     inputs = keras.Input((3,))
...     model = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
...     model.compile(make_optimizer({"name": "sgd", "learning_rate": 0.1}), "mse")
...     return model
>>> x = np.ones((8, 3), "float32")
>>> run = train({"experiment": "doc", "seed": 0, "epochs": 2}, build,
...             FitData(x, x[:, :1], batch_size=4), cache_root=tempfile.mkdtemp())
>>> run.epochs, len(run.history)
(2, 3)
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018.cache import (
    FORMAT_VERSION,
    assign,
    cache_dir,
    canonical_json,
    checkpoint_name,
    complete_manifest,
    has_epochs,
    load_npz,
    manifest_optimizer,
    read_verified,
    run_key,
    save_epoch,
    valid_manifest,
    write_lock,
)
from morcos2018.files import atomic_write
from morcos2018.progress import epoch_progress, report_progress


def make_optimizer(spec: Mapping[str, Any]) -> Any:
    """A Keras optimizer from a config table.

    Parameters
    ----------
    spec
        ``{"name": "adam" | "sgd" | "rmsprop" | "adamw" | ..., "learning_rate": float or schedule,
        **other keyword arguments of the optimizer}``, e.g. ``{"name": "sgd", "learning_rate": 20,
        "clipnorm": 0.25}``. A schedule is a Keras-serialised table, e.g. ``{"class_name":
        "ExponentialDecay", "config": {"initial_learning_rate": 1e-3, "decay_steps": 1000,
        "decay_rate": 0.5}}``.

    Returns
    -------
    keras.optimizers.Optimizer
    """
    import keras

    if "name" not in spec:
        raise ValueError(f"optimizer spec needs a 'name' (e.g. 'adam'); got keys {sorted(spec)}")
    kwargs = {name: value for name, value in spec.items() if name != "name"}
    if isinstance(kwargs.get("learning_rate"), Mapping):
        kwargs["learning_rate"] = keras.optimizers.schedules.deserialize(
            dict(kwargs["learning_rate"])
        )
    return keras.optimizers.get({"class_name": spec["name"], "config": kwargs})


# --------------------------------------------------------------------------- data


@dataclass
class FitData:
    """What a run trains on, passed to ``keras.Model.fit`` one epoch at a time.

    Parameters
    ----------
    x
        Inputs: an array (or dict of arrays, for several inputs); or a ``tf.data.Dataset`` of
        ``(x, y)`` batches, iterated in its own (fixed) order every epoch; or a callable
        ``epoch -> tf.data.Dataset`` for a pipeline that changes per epoch (seed it from the epoch).
    y
        Targets when ``x`` is an array; ``None`` for datasets.
    validation
        ``(x_val, y_val)`` arrays or a ``tf.data.Dataset``, evaluated after each epoch (and at
        epoch 0) into the history as ``val_*``; or ``None``.
    batch_size
        Batch size for array data (ignored for datasets).
    shuffle
        For array data: shuffle each epoch with a permutation drawn from ``(seed, epoch)``.
        Use ``False`` for stateful models that carry state across consecutive batches.
    """

    x: Any
    y: Any = None
    validation: Any = None
    batch_size: int = 32
    shuffle: bool = True

    def epoch_inputs(self, seed: int, epoch: int) -> dict[str, Any]:
        """Keyword arguments of ``fit`` for epoch ``epoch`` (1-based) of a run seeded ``seed``."""
        if callable(self.x):
            return {"x": self.x(epoch)}
        if self.y is None:
            return {"x": self.x}
        x, y = self.x, self.y
        if self.shuffle:
            order = np.random.default_rng([seed, epoch]).permutation(len(y))
            x = {k: v[order] for k, v in x.items()} if isinstance(x, Mapping) else x[order]
            y = y[order]
        return {"x": x, "y": y, "batch_size": self.batch_size}

    def validation_inputs(self) -> dict[str, Any] | None:
        """Keyword arguments of ``evaluate`` for the validation data, or ``None``."""
        if self.validation is None:
            return None
        if isinstance(self.validation, tuple):
            x_val, y_val = self.validation
            return {"x": x_val, "y": y_val, "batch_size": self.batch_size}
        return {"x": self.validation}


# --------------------------------------------------------------------------- the trained run


@dataclass
class TrainedRun:
    """A trained (cached) network: its checkpoints at epochs ``0..epochs`` and its history.

    Attributes
    ----------
    key, path
        Cache key and folder.
    config
        The config it was trained from.
    epochs
        Number of completed epochs; checkpoints exist for ``0, 1, ..., epochs``.
    history
        One dict per epoch ``0..epochs`` of the metrics Keras reported (``loss``, ``accuracy``,
        ``val_loss``, ...); epoch 0 holds only the validation metrics at initialization.
    """

    key: str
    path: Path
    config: dict[str, Any]
    epochs: int
    history: list[dict[str, float]]
    build_model: Callable[[], Any] = field(repr=False)
    _checksums: dict[str, dict[str, Any]] = field(repr=False, default_factory=dict)

    def metric(self, name: str) -> np.ndarray:
        """One metric over epochs ``0..epochs`` (NaN where it was not measured)."""
        return np.array([record.get(name, np.nan) for record in self.history], dtype=float)

    def checkpoint_path(self, epoch: int) -> Path:
        """File of the checkpoint after ``epoch`` epochs."""
        self._check_epoch(epoch)
        return self.path / checkpoint_name(epoch)

    def load_variables(self, epoch: int | None = None) -> dict[str, np.ndarray]:
        """All model variables after ``epoch`` epochs (default: the last), keyed by path."""
        epoch = self.epochs if epoch is None else epoch
        self._check_epoch(epoch)
        name = checkpoint_name(epoch)
        data = read_verified(self.path / name, self._checksums.get(name))
        with np.load(io.BytesIO(data)) as archive:
            return {key: archive[key] for key in archive.files}

    def load_model(self, epoch: int | None = None) -> Any:
        """The network after ``epoch`` epochs (default: the last), built and weights restored.

        Raises
        ------
        CorruptCacheError
            If the checkpoint changed on disk since it was written; call :func:`train` again
            with the same config to retrain it.
        """
        model = self.build_model()
        assign(model.variables, self.load_variables(epoch), what="model")
        return model

    def _check_epoch(self, epoch: int) -> None:
        if not isinstance(epoch, (int, np.integer)) or not 0 <= epoch <= self.epochs:
            raise ValueError(
                f"epoch must be an int in 0..{self.epochs} (this run's completed epochs); "
                f"got {epoch!r}. Train with a larger config['epochs'] to get later epochs."
            )


# --------------------------------------------------------------------------- training


def train(
    config: Mapping[str, Any],
    build_model: Callable[[], Any],
    data: FitData | Callable[[], FitData],
    *,
    callbacks: Sequence[Any] = (),
    cache_root: str | Path | None = None,
    verbose: bool | None = None,
    deterministic: bool = False,
    label: str | None = None,
    unit: str = "epoch",
) -> TrainedRun:
    """Train a network described by ``config``, or load it from the cache; resume if interrupted.

    Parameters
    ----------
    config
        JSON-able mapping describing the run completely, with at least ``"seed"`` (int) and
        ``"epochs"`` (int >= 0). Two configs with the same content (minus ``"epochs"``) are the
        same run: ``build_model`` and ``data`` must depend on nothing but the config.
    build_model
        Zero-argument function returning a new **compiled** Keras model (optimizer, possibly from
        :func:`make_optimizer` with clipnorm / schedule; loss; metrics). Called after seeding.
    data
        A :class:`FitData`, or a zero-argument function returning one (called only if training is
        needed, so a cache hit does not load the data).
    callbacks
        Keras callbacks passed to every ``fit`` (e.g. resetting LSTM states at epoch start).
        ``fit`` runs one epoch at a time with ``initial_epoch`` set, so callbacks see true epochs.
    cache_root
        Cache folder; default ``$CCA_CACHE_DIR`` or ``~/.cache/cca-reproduce``.
    verbose
        Show Keras's per-batch progress bar too (the epoch progress is always shown, as one
        line per epoch then). Default: only when stdout is a terminal and the ``CI``
        environment variable is unset.
    deterministic
        Call ``tf.config.experimental.enable_op_determinism()`` first (process-wide, irreversible;
        needed for repeatability on GPU, a no-op in effect on CPU).
    label
        What the progress messages call the network, e.g. ``"CNN width 0.125, seed 3"``;
        default: the config's ``experiment``, seed and cache key.
    unit
        What one of ``config["epochs"]`` is, in the progress messages (e.g. ``"checkpoint"``
        when an epoch is split into several checkpoints).

    Returns
    -------
    TrainedRun
        Checkpoints ``0..config["epochs"]`` and the per-epoch history.

    Raises
    ------
    ReadOnlyCacheError
        If the run must be trained or resumed and its cache folder is not writable.
    """
    seed, epochs = _check_config(config)
    config = json.loads(canonical_json(config))
    key = run_key(config)
    folder = cache_dir(cache_root) / "runs" / key
    label = label or f"{config.get('experiment', 'network')} seed {seed} ({key[:8]})"
    manifest = complete_manifest(folder, epochs)
    if manifest is not None:
        return _loaded(label, unit, folder, manifest, epochs, build_model)
    if verbose is None:
        verbose = sys.stdout.isatty() and not os.environ.get("CI")
    with write_lock(folder, epochs):
        manifest = valid_manifest(folder)
        if manifest is not None and has_epochs(manifest, epochs):
            return _loaded(label, unit, folder, manifest, epochs, build_model)
        if deterministic:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        if manifest is not None:
            report_progress(f"resuming {label} from the cache at {unit} "
                            f"{manifest['epochs_done']}/{epochs}")
        with epoch_progress(f"training {label}", unit, epochs,
                            0 if manifest is None else manifest["epochs_done"],
                            lines=verbose) as bar:
            manifest = _train_epochs(
                folder, config, seed, epochs, manifest, build_model, data, callbacks, verbose,
                bar.update,
            )
        return _run_from_manifest(folder, manifest, epochs, build_model)


def _loaded(
    label: str,
    unit: str,
    folder: Path,
    manifest: dict[str, Any],
    epochs: int,
    build_model: Callable[[], Any],
) -> TrainedRun:
    run = _run_from_manifest(folder, manifest, epochs, build_model)
    stopped = " (it met its stopping criterion)" if run.epochs < epochs else ""
    report_progress(f"loaded {label}: {run.epochs} {unit}s{stopped}, trained earlier "
                    f"(cache {folder})")
    return run


def _check_config(config: Mapping[str, Any]) -> tuple[int, int]:
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a mapping; got {type(config).__name__}")
    until = config.get("until")
    if until is not None and not (
        isinstance(until, Mapping) and isinstance(until.get("metric"), str)
        and len({"at_least", "at_most"} & set(until)) == 1
        and all(isinstance(until[k], (int, float)) for k in {"at_least", "at_most"} & set(until))
    ):
        raise ValueError(
            "config['until'] must be a stopping criterion such as {'metric': 'accuracy', "
            f"'at_least': 0.99}} (or 'at_most' for a loss); got {until!r}"
        )
    for name in ("seed", "epochs"):
        value = config.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(
                f"config[{name!r}] must be a non-negative int; got {value!r}. "
                "Every run needs a seed and a number of epochs."
            )
    return config["seed"], config["epochs"]


def _train_epochs(
    folder: Path,
    config: dict[str, Any],
    seed: int,
    epochs: int,
    manifest: dict[str, Any] | None,
    build_model: Callable[[], Any],
    data: FitData | Callable[[], FitData],
    callbacks: Sequence[Any],
    verbose: bool,
    epoch_done: Callable[[int], Any],
) -> dict[str, Any]:
    import keras

    fit_data = data() if callable(data) and not isinstance(data, FitData) else data
    if not isinstance(fit_data, FitData):
        raise ValueError(f"data must be a FitData or return one; got {type(fit_data).__name__}")
    keras.utils.set_random_seed(seed)
    model = build_model()
    if getattr(model, "optimizer", None) is None:
        raise ValueError("build_model must return a compiled model (call model.compile(...))")
    model.optimizer.build(model.trainable_variables)
    if manifest is None:
        atomic_write(folder / "config.json", json.dumps(config, indent=2, sort_keys=True).encode())
        manifest = {"format": FORMAT_VERSION, "config": config, "epochs_done": 0, "files": {},
                    "history": [_validation_record(model, fit_data)]}
        save_epoch(folder, manifest, model, epoch=0)
    else:
        assign(model.variables, load_npz(folder, checkpoint_name(manifest["epochs_done"]),
                                           manifest), what="model")
        assign(model.optimizer.variables, load_npz(folder, manifest_optimizer(manifest),
                                                     manifest), what="optimizer")
    for epoch in range(manifest["epochs_done"], epochs):
        keras.utils.set_random_seed(_epoch_seed(seed, epoch + 1))
        result = model.fit(
            **fit_data.epoch_inputs(seed, epoch + 1),
            validation_data=_validation_argument(fit_data),
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            callbacks=list(callbacks),
            verbose=1 if verbose else 0,
        )
        record = {name: float(values[-1]) for name, values in result.history.items()}
        manifest["history"].append(record)
        if _criterion_met(config.get("until"), record):
            manifest["stopped_at"] = epoch + 1
        save_epoch(folder, manifest, model, epoch=epoch + 1)
        epoch_done(1)
        if "stopped_at" in manifest:
            epoch_done(epochs - epoch - 1)
            break
    return manifest


def _criterion_met(until: Mapping[str, Any] | None, record: Mapping[str, float]) -> bool:
    """Whether an epoch's metrics meet a stopping criterion ``{"metric": name, "at_least": x}``
    (or ``"at_most"``)."""
    if not until:
        return False
    value = record[until["metric"]]
    if "at_least" in until:
        return value >= until["at_least"]
    return value <= until["at_most"]


def _epoch_seed(seed: int, epoch: int) -> int:
    return int(np.random.default_rng([seed, epoch]).integers(2**31 - 1))


def _validation_argument(fit_data: FitData) -> Any:
    inputs = fit_data.validation_inputs()
    if inputs is None:
        return None
    return (inputs["x"], inputs["y"]) if "y" in inputs else inputs["x"]


def _validation_record(model: Any, fit_data: FitData) -> dict[str, float]:
    inputs = fit_data.validation_inputs()
    if inputs is None:
        return {}
    results = model.evaluate(**inputs, verbose=0, return_dict=True)
    return {f"val_{name}": float(value) for name, value in results.items()}


def _run_from_manifest(
    folder: Path, manifest: dict[str, Any], epochs: int, build_model: Callable[[], Any]
) -> TrainedRun:
    epochs = min(epochs, manifest["epochs_done"])  # fewer when it stopped at its criterion
    return TrainedRun(
        key=folder.name,
        path=folder,
        config={**manifest["config"], "epochs": epochs},
        epochs=epochs,
        history=manifest["history"][: epochs + 1],
        build_model=build_model,
        _checksums=manifest["files"],
    )


