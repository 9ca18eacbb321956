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
                         for resume; the epoch in its name ties it to the manifest's epochs_done
    manifest.json        written last: completed epochs, SHA-256 and size of every file, history
    activations/         cached activations (see :mod:`morcos2018.activations`)

Every file is written atomically (temporary file, fsync, rename). An epoch writes its checkpoint and
its optimizer file, then rewrites ``manifest.json``, and only then deletes the previous epoch's
optimizer file; so a run killed at any point, mid-epoch or between these writes, resumes from the
last epoch the manifest records. A file whose checksum does not match the manifest, a manifest that
cannot be read, or one whose optimizer state is not that of its last epoch (say ``epochs_done``
edited by hand) makes the whole entry be retrained (with a :class:`CacheCorruptionWarning`), never
silently used. Entries of format 1 (one ``optimizer.npz``) are still read and resumed.

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

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018.files import atomic_write

CACHE_ENV = "CCA_CACHE_DIR"
DEFAULT_CACHE = Path("~/.cache/cca-reproduce")
MANIFEST = "manifest.json"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
#: Environment variable: ``lines`` turns progress bars into marked lines, for logs.
PROGRESS_ENV = "CCA_PROGRESS"
#: Start of every progress line in ``lines`` mode; the batch runner relays these lines.
PROGRESS_MARK = "[cca progress] "


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its checksums or could not be read; it is retrained."""


class CorruptCacheError(RuntimeError):
    """A checkpoint no longer matches its manifest (it changed after training)."""


class ReadOnlyCacheError(PermissionError):
    """A run must be trained (or resumed) but its cache folder is not writable."""


# --------------------------------------------------------------------------- configs and keys


def cache_dir(root: str | Path | None = None) -> Path:
    """The cache folder: ``root`` if given, else ``$CCA_CACHE_DIR``, else the default."""
    if root is not None:
        return Path(root).expanduser()
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE).expanduser()


def canonical_json(config: Mapping[str, Any]) -> str:
    """The canonical JSON text of a config: sorted keys, no whitespace, exact float repr."""
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"config must be JSON-serialisable (str keys; str, int, float, bool, None, lists, "
            f"dicts): {error}. Convert numpy scalars with float()/int() and tuples to lists."
        ) from error


def run_key(config: Mapping[str, Any]) -> str:
    """Cache key of a run: SHA-256 of :func:`canonical_json` of the config minus ``"epochs"``.

    Examples
    --------
    >>> run_key({"seed": 0, "epochs": 3}) == run_key({"epochs": 10, "seed": 0})
    True
    """
    identity = {name: value for name, value in config.items() if name != "epochs"}
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:20]


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
        return self.path / _checkpoint_name(epoch)

    def load_variables(self, epoch: int | None = None) -> dict[str, np.ndarray]:
        """All model variables after ``epoch`` epochs (default: the last), keyed by path."""
        epoch = self.epochs if epoch is None else epoch
        self._check_epoch(epoch)
        name = _checkpoint_name(epoch)
        data = _read_verified(self.path / name, self._checksums.get(name))
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
        _assign(model.variables, self.load_variables(epoch), what="model")
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
    manifest = _complete_manifest(folder, epochs)
    if manifest is not None:
        return _loaded(label, unit, folder, manifest, epochs, build_model)
    if verbose is None:
        verbose = sys.stdout.isatty() and not os.environ.get("CI")
    with _write_lock(folder, epochs):
        manifest = _valid_manifest(folder)
        if manifest is not None and _has_epochs(manifest, epochs):
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


# --------------------------------------------------------------------------- progress


def progress_lines() -> bool:
    """Whether progress is written as marked lines (``CCA_PROGRESS=lines``) rather than bars."""
    return os.environ.get(PROGRESS_ENV) == "lines"


def report_progress(message: str) -> None:
    """Write one progress message to stderr (marked with :data:`PROGRESS_MARK` in lines mode).

    Examples
    --------
    >>> report_progress("loaded cnn seed 0")  # on stderr: loaded cnn seed 0
    """
    print((PROGRESS_MARK if progress_lines() else "") + message, file=sys.stderr, flush=True)


class _MarkedLines(io.TextIOBase):
    """A stream for tqdm that writes each new state of a bar as one marked line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = ""

    def write(self, text: str) -> int:
        for part in re.split(r"[\r\n]", text):
            line = part.strip()
            if line and line != self.last:
                self.last = line
                self.stream.write(f"{PROGRESS_MARK}{line}\n")
        self.stream.flush()
        return len(text)


def epoch_progress(description: str, unit: str, total: int, done: int, lines: bool = False) -> Any:
    """A tqdm progress bar over ``total`` epochs, ``done`` of them already done.

    In lines mode (``lines=True`` or ``CCA_PROGRESS=lines``) every update is one line on
    stderr, ``<PROGRESS_MARK><description>: epoch e/E [mm:ss elapsed, mm:ss left]``; otherwise it is
    ``tqdm.auto``'s bar (a widget in JupyterLab, a bar in a terminal).

    Examples
    --------
    >>> with epoch_progress("training demo", "epoch", 2, 0) as bar:  # a bar on stderr
    ...     bar.update(1)
    ...     bar.update(1)
    """
    if lines or progress_lines():
        from tqdm.std import tqdm

        line = "{desc}: " + unit + " {n_fmt}/{total_fmt} [{elapsed} elapsed, {remaining} left]"
        return tqdm(total=total, initial=done, desc=description, file=_MarkedLines(sys.stderr),
                    mininterval=0, miniters=1, unit=unit, bar_format=line)
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=description, unit=unit, miniters=1,
                file=sys.stderr)


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
        _save_epoch(folder, manifest, model, epoch=0)
    else:
        _assign(model.variables, _load_npz(folder, _checkpoint_name(manifest["epochs_done"]),
                                           manifest), what="model")
        _assign(model.optimizer.variables, _load_npz(folder, _manifest_optimizer(manifest),
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
        _save_epoch(folder, manifest, model, epoch=epoch + 1)
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


def _save_epoch(folder: Path, manifest: dict[str, Any], model: Any, epoch: int) -> None:
    """Write the epoch's checkpoint and optimizer state, then the manifest, then drop the previous
    optimizer state: until the manifest names the new epoch, the files it names stay untouched."""
    files = {name: entry for name, entry in manifest["files"].items()
             if not name.startswith("optimizer")}
    files[_checkpoint_name(epoch)] = _write_npz(folder / _checkpoint_name(epoch), model.variables)
    files[_optimizer_name(epoch)] = _write_npz(folder / _optimizer_name(epoch),
                                               model.optimizer.variables)
    manifest.update(format=FORMAT_VERSION, epochs_done=epoch, files=files)
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1).encode())
    for stale in folder.glob("optimizer*.npz"):
        if stale.name != _optimizer_name(epoch):
            stale.unlink()


def _checkpoint_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}.npz"


def _optimizer_name(epoch: int) -> str:
    return f"optimizer_{epoch:04d}.npz"


def _manifest_optimizer(manifest: Mapping[str, Any]) -> str:
    """The optimizer file of the manifest's last epoch (format 1 had one, unnumbered)."""
    if manifest["format"] == 1:
        return "optimizer.npz"
    return _optimizer_name(manifest["epochs_done"])


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


# --------------------------------------------------------------------------- files


_UNREADABLE = (OSError, ValueError, KeyError, TypeError, CorruptCacheError)


def _intact_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an intact entry, read and checked without writing anything.

    Raises
    ------
    FileNotFoundError
        If the entry has no manifest (new, or never finished its first epoch).
    ValueError, KeyError, TypeError, OSError, CorruptCacheError
        If the manifest cannot be read or a file it names does not match it.
    """
    manifest = json.loads((folder / MANIFEST).read_bytes())
    if manifest["format"] not in READABLE_FORMATS:
        raise ValueError(f"cache format {manifest['format']!r}; this version reads "
                         f"{READABLE_FORMATS}")
    files = manifest["files"]
    optimizer = _manifest_optimizer(manifest)
    if optimizer not in files:
        listed = sorted(name for name in files if name.startswith("optimizer"))
        raise ValueError(
            f"the manifest records {manifest['epochs_done']} epochs done but its optimizer "
            f"state is {listed}, not {optimizer}: resuming would pair the weights of one epoch "
            "with the optimizer of another"
        )
    expected = {_checkpoint_name(e) for e in range(manifest["epochs_done"] + 1)}
    if not expected <= set(files):
        raise ValueError("manifest does not list every checkpoint")
    for name, entry in files.items():
        _read_verified(folder / name, entry)
    return manifest


def _complete_manifest(folder: Path, epochs: int) -> dict[str, Any] | None:
    """The manifest if the entry is intact and has ``epochs`` epochs, else ``None``; takes no
    lock and writes nothing, so it works on a read-only cache. An entry that is being written
    meanwhile reads as not complete, and :func:`train` then waits for the lock."""
    try:
        manifest = _intact_manifest(folder)
    except _UNREADABLE:
        return None
    return manifest if _has_epochs(manifest, epochs) else None


def _has_epochs(manifest: Mapping[str, Any], epochs: int) -> bool:
    """Whether the entry holds what a run of ``epochs`` epochs asks: that many, or fewer because
    it met its stopping criterion (``config["until"]``) earlier."""
    stopped = manifest.get("stopped_at")
    return manifest["epochs_done"] >= epochs or (stopped is not None and stopped <= epochs)


def _valid_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest if the entry is intact; ``None`` (entry wiped) if new, partial or corrupt.
    Call with the entry's write lock held."""
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink()
    if not (folder / MANIFEST).exists():
        _wipe(folder, reason=None)
        return None
    try:
        return _intact_manifest(folder)
    except _UNREADABLE as error:
        _wipe(folder, reason=str(error))
        return None


def _wipe(folder: Path, reason: str | None) -> None:
    if reason is not None:
        warnings.warn(
            f"cache entry {folder} is corrupt ({reason}); retraining it",
            CacheCorruptionWarning,
            stacklevel=4,
        )
    for child in folder.iterdir():
        if child.name == ".lock":
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def _read_verified(path: Path, entry: Mapping[str, Any] | None) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError as error:
        raise CorruptCacheError(f"{path} is missing") from error
    if entry is None or len(data) != entry["size"] or _sha256(data) != entry["sha256"]:
        raise CorruptCacheError(
            f"{path} does not match its manifest checksum; call train() with the same config "
            "to retrain this entry"
        )
    return data


def _load_npz(folder: Path, name: str, manifest: Mapping[str, Any]) -> dict[str, np.ndarray]:
    data = _read_verified(folder / name, manifest["files"].get(name))
    with np.load(io.BytesIO(data)) as archive:
        return {key: archive[key] for key in archive.files}


def _write_npz(path: Path, variables: Sequence[Any]) -> dict[str, Any]:
    """Save variables as ``{"00000:<path>": array}`` atomically; return size and checksum."""
    arrays = {f"{i:05d}:{v.path}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    atomic_write(path, data)
    return {"size": len(data), "sha256": _sha256(data)}


def _assign(variables: Sequence[Any], arrays: Mapping[str, np.ndarray], what: str) -> None:
    names = sorted(arrays)
    if len(names) != len(variables):
        raise CorruptCacheError(
            f"{what} checkpoint has {len(names)} variables, the model built now has "
            f"{len(variables)}: build_model no longer matches the cached run's config"
        )
    for variable, name in zip(variables, names, strict=True):
        variable.assign(arrays[name])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _write_lock(folder: Path, epochs: int) -> Iterator[None]:
    """Create the run folder and hold its exclusive lock, so two processes never train the same
    run; a folder that cannot be written raises :class:`ReadOnlyCacheError`."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        raise ReadOnlyCacheError(
            error.errno,
            f"run {folder.name} is not in the cache with {epochs} epochs (missing, shorter or "
            f"damaged), so it must be trained, but its cache folder {folder} is not writable "
            f"({error.strerror}). Set {CACHE_ENV} (or pass cache_root) to a writable folder; to "
            "reuse a read-only cache's trained runs there, copy the cache into it first",
        ) from error
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock
