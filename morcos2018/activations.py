"""Reading a Keras model's activations by layer name, for a fixed probe set, with a disk cache.

The similarity measures compare two layers on the *same* datapoints (rows), so each figure fixes a
probe set (training or test datapoints, :func:`probe_indices`) and reads every layer on it.

- :func:`layer_activations` works on any Keras functional model and any layer names (the CNN's
  ``conv1`` .. ``conv11``, ``logits``, ``softmax``; an LSTM's ``lstm1`` ..), in batches, in
  inference mode. ``spatial="full"`` keeps the layer's shape ``(n, ...)``: for an LSTM language
  model, ``(sequences, steps, units)``, the state after every step (Appendices A3, A4);
  ``spatial="mean"`` averages every axis between the first (datapoints) and the last
  (channels/neurons), giving ``(n, c)``: for conv layers this is the per-channel spatial average
  of Figure 3 of Morcos et al. (2018). Each input row is read from a zero state, so a stateful
  model (which would carry state from one batch to the next) is refused: read a stateless copy
  (:func:`morcos2018.lm_training.load_lm`).
- :func:`cached_activations` reads a :class:`~morcos2018.training.TrainedRun` at a saved
  epoch and stores the result next to the cached model, in
  ``<run>/activations/epoch_XXXX-<probe name>-<spatial>-<dtype>-<probe digest>.npz``, so a rerun
  of an analysis does not recompute it. Stored precision: ``float16`` by default (relative rounding
  error at most 2**-11, about 5e-4, and half the disk of float32); a layer whose values do not fit
  float16 (non-finite after the cast) is stored as float32. Pass ``dtype="float32"`` for exact
  activations. The probe digest (SHA-256 of the probe's bytes) makes a changed probe a new entry.
"""

from __future__ import annotations

import errno
import hashlib
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018.files import atomic_write
from morcos2018.training import TrainedRun

SPATIAL_MODES = ("full", "mean")


def probe_indices(total: int, size: int, seed: int = 0) -> np.ndarray:
    """Indices of a fixed probe set: ``size`` of ``range(total)`` drawn without replacement.

    Examples
    --------
    >>> probe_indices(10, 3, seed=0).tolist() == probe_indices(10, 3, seed=0).tolist()
    True
    """
    if not (isinstance(size, (int, np.integer)) and 0 < size <= total):
        raise ValueError(f"probe size must be an int in 1..{total} (datapoints available); "
                         f"got {size!r}")
    return np.sort(np.random.default_rng(seed).choice(total, size=size, replace=False))


def layer_activations(
    model: Any,
    x: np.ndarray,
    layer_names: Sequence[str],
    *,
    spatial: str = "full",
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """Activations of named layers of a Keras model on inputs ``x``, in inference mode.

    Parameters
    ----------
    model
        A Keras functional model (layers reachable by ``model.get_layer(name)``), not stateful.
    x
        Inputs, datapoints along the first axis (for a language model: int token ids of shape
        ``(sequences, steps)``, each sequence read from a zero state).
    layer_names
        Layers to read; each layer's (single) output is returned.
    spatial
        ``"full"``: the output as is, ``(n, ...)``. ``"mean"``: averaged over every axis but the
        first and the last, ``(n, channels)`` (conv layers: space; sequences: time).
    batch_size
        Datapoints per forward pass (memory bound); reduction happens per batch.

    Returns
    -------
    dict
        ``{layer name: float32 array}``, rows in the order of ``x``.

    Examples
    --------
    >>> from morcos2018.models import build_cnn
    >>> acts = layer_activations(build_cnn(width=0.125), np.zeros((5, 28, 28, 1), "float32"),
    ...                          ["conv1", "softmax"], spatial="mean")
    >>> acts["conv1"].shape, acts["softmax"].shape
    ((5, 8), (5, 10))
    """
    import keras

    names = list(layer_names)
    _check_readable(model, x, names, spatial)
    reader = keras.Model(model.input, [model.get_layer(name).output for name in names])
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for start in range(0, len(x), batch_size):
        outputs = reader(x[start: start + batch_size], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for name, output in zip(names, outputs, strict=True):
            values = np.asarray(output, dtype=np.float32)
            if spatial == "mean" and values.ndim > 2:
                values = values.mean(axis=tuple(range(1, values.ndim - 1)))
            chunks[name].append(values)
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def _check_readable(model: Any, x: np.ndarray, names: list[str], spatial: str) -> None:
    """The checks of :func:`layer_activations`: a known spatial mode, layers the model has, some
    datapoints, and no stateful layer."""
    if spatial not in SPATIAL_MODES:
        raise ValueError(f"spatial must be one of {SPATIAL_MODES}; got {spatial!r}")
    if not names:
        raise ValueError("layer_names is empty: name at least one layer (e.g. 'conv1')")
    known = [layer.name for layer in model.layers]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"layers {unknown} not in the model; it has {known}")
    if len(x) == 0:
        raise ValueError("x holds no datapoints")
    stateful = [layer.name for layer in model.layers if getattr(layer, "stateful", False)]
    if stateful:
        raise ValueError(
            f"layers {stateful} are stateful: their state would carry over from one batch to the "
            "next; read a stateless copy of the model (for a language model, "
            "morcos2018.lm_training.load_lm)"
        )


def cached_activations(
    run: TrainedRun,
    x: np.ndarray,
    layer_names: Sequence[str],
    *,
    epoch: int | None = None,
    probe_name: str = "probe",
    spatial: str = "mean",
    dtype: str = "float16",
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """Activations of a cached run's layers at a saved epoch, computed once and stored.

    In a read-only cache, activations not stored yet are computed each time and not stored.

    Parameters
    ----------
    run
        A trained run (:func:`morcos2018.training.train`, :func:`~morcos2018.models.
        train_cnn`).
    x
        The probe inputs (e.g. ``data.x_train[probe_indices(...)]``).
    layer_names
        Layers to read. Layers already stored for this epoch and probe are loaded, the others
        computed (one model load) and added to the file.
    epoch
        Checkpoint to read, ``0`` (initialization) .. ``run.epochs``; default the last.
    probe_name
        A readable label of the probe in the file name (e.g. ``"train500"``).
    spatial
        ``"mean"`` (default, Figure 3) or ``"full"``; see :func:`layer_activations`.
    dtype
        Stored precision, ``"float16"`` or ``"float32"``.
    batch_size
        Datapoints per forward pass.

    Returns
    -------
    dict
        ``{layer name: array}`` in the stored precision.
    """
    if dtype not in ("float16", "float32"):
        raise ValueError(f"dtype must be 'float16' or 'float32'; got {dtype!r}")
    if spatial not in SPATIAL_MODES:
        raise ValueError(f"spatial must be one of {SPATIAL_MODES}; got {spatial!r}")
    epoch = run.epochs if epoch is None else epoch
    run.checkpoint_path(epoch)  # validates the epoch
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()[:12]
    file_name = f"epoch_{epoch:04d}-{probe_name}-{spatial}-{dtype}-{digest}.npz"
    path = run.path / "activations" / file_name
    stored = _load_archive(path)
    missing = [name for name in layer_names if name not in stored]
    if missing:
        fresh = layer_activations(run.load_model(epoch), x, missing, spatial=spatial,
                                  batch_size=batch_size)
        for name, values in fresh.items():
            compact = values.astype(dtype)
            stored[name] = compact if np.isfinite(compact).all() else values
        _store_archive(path, stored)
    return {name: stored[name] for name in layer_names}


def _store_archive(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an activation file atomically; in a shared, read-only cache, write nothing (the
    caller uses the values without storing them)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, buffer.getvalue())
    except OSError as error:  # EACCES/EPERM (permissions) or EROFS (a read-only mount)
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise


def _load_archive(path: Any) -> dict[str, np.ndarray]:
    """Arrays of an activation file; empty (to recompute) if absent or unreadable."""
    try:
        with np.load(path) as archive:
            return {name: archive[name] for name in archive.files}
    except (FileNotFoundError, OSError, ValueError, zipfile.BadZipFile, EOFError):
        return {}
