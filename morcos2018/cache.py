"""The training cache on disk: where a run lives, its key, and its files, checked before use.

Layout, atomic writes, checksums, locking and the read-only case are described in
:mod:`morcos2018.training`, which trains into it. This module holds what reads and writes the
entries: :func:`run_key` (the folder name of a config), the manifest that lists every file with
its size and SHA-256, and the checks that make a damaged entry be retrained, never silently used:
from its last good epoch (:func:`salvage`) when only later files are damaged, from scratch when the
manifest itself cannot be trusted.

The manifest is checked too, since everything a notebook reads of a run comes through it (config,
epochs, the training history behind the accuracies of Figures 3-5): its config must hash to the
entry's key (its folder name), which catches an edited config and another run's folder copied
under this key, and its ``checksum`` (SHA-256 of the manifest's canonical JSON without that
field, :func:`manifest_checksum`) must match, which catches any other edit, of the history
included. Manifests written before the checksum existed have none; they are checked by their
config alone (and gain a checksum when the run is extended).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import shutil
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018.files import atomic_write

CACHE_ENV = "CCA_CACHE_DIR"
DEFAULT_CACHE = Path("~/.cache/cca-reproduce")
MANIFEST = "manifest.json"
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its checksums or could not be read; it is retrained."""


class CorruptCacheError(RuntimeError):
    """A checkpoint no longer matches its manifest (it changed after training)."""


class ReadOnlyCacheError(PermissionError):
    """A run must be trained (or resumed) but its cache folder is not writable."""


class CacheRefusedError(RuntimeError):
    """An entry this version must not touch: written in a newer cache format, or a file of it
    that cannot be read (permissions, I/O). Nothing is deleted: the message says what to do."""


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


def save_epoch(folder: Path, manifest: dict[str, Any], model: Any, epoch: int) -> None:
    """Write the epoch's checkpoint and optimizer state, then the manifest, then drop the previous
    optimizer state unless its epoch is an anchor (:func:`is_anchor`): until the manifest names
    the new epoch, the files it names stay untouched."""
    files = {name: entry for name, entry in manifest["files"].items()
             if not name.startswith("optimizer") or _kept_optimizer(name)}
    files[checkpoint_name(epoch)] = write_npz(folder / checkpoint_name(epoch), model.variables)
    files[optimizer_name(epoch)] = write_npz(folder / optimizer_name(epoch),
                                               model.optimizer.variables)
    manifest.update(format=FORMAT_VERSION, epochs_done=epoch, files=files)
    write_manifest(folder, manifest)
    for stale in folder.glob("optimizer*.npz"):
        if stale.name not in files:
            stale.unlink()


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    manifest["checksum"] = manifest_checksum(manifest)
    atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1).encode())


ANCHOR_EVERY = 5
"""Every this many epochs an epoch's optimizer state is kept (not only the last epoch's), so a
damaged later checkpoint is retrained from there (:func:`salvage`) instead of from scratch. The
state is about twice a checkpoint's size: this adds ~2/5 to an entry's checkpoints."""


def is_anchor(epoch: int) -> bool:
    """Whether an epoch's optimizer state is kept after later epochs are trained."""
    return epoch > 0 and epoch % ANCHOR_EVERY == 0


def _optimizer_epoch(name: str) -> int | None:
    """The epoch in an optimizer file's name (``None`` for format 1's ``optimizer.npz``)."""
    stem = name.removeprefix("optimizer_").removesuffix(".npz")
    return int(stem) if stem.isdigit() else None


def _kept_optimizer(name: str) -> bool:
    epoch = _optimizer_epoch(name)
    return epoch is not None and is_anchor(epoch)


def checkpoint_name(epoch: int) -> str:
    return f"epoch_{epoch:04d}.npz"


def optimizer_name(epoch: int) -> str:
    return f"optimizer_{epoch:04d}.npz"


def manifest_optimizer(manifest: Mapping[str, Any]) -> str:
    """The optimizer file of the manifest's last epoch (format 1 had one, unnumbered)."""
    if manifest["format"] == 1:
        return "optimizer.npz"
    return optimizer_name(manifest["epochs_done"])


def manifest_checksum(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (sorted keys, exact floats, NaN kept as a
    loss may be) without its own ``checksum`` field."""
    content = {name: value for name, value in manifest.items() if name != "checksum"}
    return sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode())


def check_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Raise :class:`CorruptCacheError` if the manifest is not the one written for this entry:
    its config does not hash to the folder's key, or its checksum does not match its content."""
    key = run_key(manifest["config"])
    if key != folder.name:
        raise CorruptCacheError(
            f"its manifest describes run {key} (seed {manifest['config'].get('seed')!r}), not "
            f"{folder.name}: the manifest was edited or another run's folder copied here"
        )
    if "checksum" in manifest and manifest["checksum"] != manifest_checksum(manifest):
        raise CorruptCacheError("its manifest does not match its own checksum: it was edited "
                                "(config, epochs or training history) after training")


UNREADABLE = (OSError, ValueError, KeyError, TypeError, CorruptCacheError)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The entry's manifest, checked as a whole (format, the files it must list, its key and
    checksum: :func:`check_manifest`) but without reading the files it names.

    Raises
    ------
    FileNotFoundError
        If the entry has no manifest (new, or never finished its first epoch).
    ValueError, KeyError, TypeError, OSError, CorruptCacheError
        If the manifest cannot be read or is not this entry's: nothing it says can be trusted.
    CacheRefusedError
        If a newer version wrote it, or it cannot be read (permissions, I/O).
    """
    manifest = json.loads(_read(folder / MANIFEST))
    if isinstance(manifest.get("format"), int) and manifest["format"] > max(READABLE_FORMATS):
        raise CacheRefusedError(
            f"cache entry {folder} was written in cache format {manifest['format']} by a newer "
            f"version (this one reads formats {list(READABLE_FORMATS)}); nothing was deleted: "
            f"upgrade morcos2018, or set {CACHE_ENV} to another folder for this version")
    if manifest["format"] not in READABLE_FORMATS:
        raise ValueError(f"cache format {manifest['format']!r}; this version reads "
                         f"{READABLE_FORMATS}")
    files = manifest["files"]
    optimizer = manifest_optimizer(manifest)
    if optimizer not in files:
        listed = sorted(name for name in files if name.startswith("optimizer"))
        raise ValueError(
            f"the manifest records {manifest['epochs_done']} epochs done but its optimizer "
            f"state is {listed}, not {optimizer}: resuming would pair the weights of one epoch "
            "with the optimizer of another"
        )
    expected = {checkpoint_name(e) for e in range(manifest["epochs_done"] + 1)}
    if not expected <= set(files):
        raise ValueError("manifest does not list every checkpoint")
    check_manifest(folder, manifest)
    return manifest


def damaged_files(folder: Path, manifest: Mapping[str, Any]) -> dict[str, str]:
    """The files of the manifest that are missing or do not match their checksum, each with
    why; an unreadable one raises :class:`CacheRefusedError` (no proof of corruption)."""
    damaged = {}
    for name, entry in manifest["files"].items():
        try:
            read_verified(folder / name, entry)
        except CorruptCacheError as error:
            damaged[name] = str(error)
    return damaged


def intact_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an intact entry, read and checked without writing anything.

    Raises
    ------
    FileNotFoundError
        If the entry has no manifest (new, or never finished its first epoch).
    ValueError, KeyError, TypeError, OSError, CorruptCacheError
        If the manifest cannot be read, is not this entry's (:func:`check_manifest`) or a file
        it names does not match it.
    """
    manifest = read_manifest(folder)
    damaged = damaged_files(folder, manifest)
    if damaged:
        raise CorruptCacheError(next(iter(damaged.values())))
    return manifest


def complete_manifest(folder: Path, epochs: int) -> dict[str, Any] | None:
    """The manifest if the entry is intact and has ``epochs`` epochs, else ``None``; takes no
    lock and writes nothing, so it works on a read-only cache. An entry that is being written
    meanwhile reads as not complete, and :func:`train` then waits for the lock."""
    try:
        manifest = intact_manifest(folder)
    except UNREADABLE:
        return None
    return manifest if has_epochs(manifest, epochs) else None


def has_epochs(manifest: Mapping[str, Any], epochs: int) -> bool:
    """Whether the entry holds what a run of ``epochs`` epochs asks: that many, or fewer because
    it met its stopping criterion (``config["until"]``) earlier."""
    stopped = manifest.get("stopped_at")
    return manifest["epochs_done"] >= epochs or (stopped is not None and stopped <= epochs)


def valid_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest if the entry is intact, or cut back to its last good epoch (:func:`salvage`)
    if only files after it are damaged; ``None`` (entry wiped) if new, partial or corrupt from
    the start, or its manifest cannot be trusted. Call with the entry's write lock held."""
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink()
    if not (folder / MANIFEST).exists():
        wipe(folder, reason=None)
        return None
    try:
        manifest = read_manifest(folder)
        damaged = damaged_files(folder, manifest)
    except UNREADABLE as error:
        wipe(folder, reason=str(error))
        return None
    if not damaged:
        return manifest
    resumed = salvage(folder, manifest, damaged)
    if resumed is None:
        wipe(folder, reason="; ".join(damaged.values()))
    return resumed


def last_good_epoch(manifest: Mapping[str, Any], damaged: Iterable[str]) -> int | None:
    """The latest epoch a damaged entry can resume from: its checkpoint and every earlier one
    verify and its optimizer state was kept and verifies; ``None`` if there is none.

    >>> files = {name: {} for name in ["epoch_0000.npz", "epoch_0005.npz", "epoch_0007.npz",
    ...          "optimizer_0005.npz", "optimizer_0007.npz"]}
    >>> last_good_epoch({"epochs_done": 7, "files": files}, ["epoch_0007.npz"])
    5
    >>> last_good_epoch({"epochs_done": 7, "files": files}, ["epoch_0000.npz"]) is None
    True
    """
    damaged = set(damaged)
    bad_checkpoints = [epoch for epoch in range(manifest["epochs_done"] + 1)
                       if checkpoint_name(epoch) in damaged]
    first_bad = min(bad_checkpoints, default=manifest["epochs_done"] + 1)
    anchors = [epoch for name in manifest["files"]
               if name not in damaged and (epoch := _optimizer_epoch(name)) is not None
               and epoch < first_bad]
    return max(anchors, default=None)


def salvage(folder: Path, manifest: dict[str, Any],
            damaged: Mapping[str, str]) -> dict[str, Any] | None:
    """Cut a damaged entry back to :func:`last_good_epoch` (warning which files are damaged and
    where it resumes), deleting what came after it; ``None`` if there is no good epoch.

    Nothing the entry holds up to that epoch is touched. Retraining the later epochs from the
    kept weights, optimizer state and per-epoch seeds gives the same weights as the lost ones on
    the same machine (:mod:`morcos2018.training`, Repeatability)."""
    epoch = last_good_epoch(manifest, damaged)
    if epoch is None:
        return None
    names = ", ".join(sorted(damaged))
    lost = (f"retraining epochs {epoch + 1}-{manifest['epochs_done']}"
            if epoch < manifest["epochs_done"] else "nothing to retrain")
    warnings.warn(
        f"cache entry {folder}: {names} damaged ({'; '.join(damaged.values())}); its epochs up "
        f"to {epoch} verify, so it resumes from epoch {epoch} ({lost})",
        CacheCorruptionWarning,
        stacklevel=4,
    )
    kept = {name: entry for name, entry in manifest["files"].items()
            if name not in damaged and _file_epoch(name) <= epoch}
    manifest = {**manifest, "epochs_done": epoch, "files": kept,
                "history": manifest["history"][: epoch + 1]}
    if manifest.get("stopped_at") is not None and manifest["stopped_at"] > epoch:
        del manifest["stopped_at"]
    write_manifest(folder, manifest)
    for path in folder.glob("*.npz"):
        if path.name not in kept:
            path.unlink()
    for path in (folder / "activations").glob("epoch_*.npz"):
        if int(path.name[len("epoch_"):].split("-")[0]) > epoch:
            path.unlink()
    return manifest


def _file_epoch(name: str) -> int:
    """The epoch of a checkpoint or numbered optimizer file."""
    return int(name.split("_")[1].split(".")[0])


def wipe(folder: Path, reason: str | None) -> None:
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


def _read(path: Path) -> bytes:
    """A cache file's bytes. Missing: ``FileNotFoundError`` (the entry is incomplete). Present
    but unreadable (permissions, I/O): :class:`CacheRefusedError`, since that proves no
    corruption and retraining would destroy what may be intact."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise CacheRefusedError(
            f"cache file {path} cannot be read ({error.strerror or error}); nothing was deleted: "
            f"fix its permissions (or the disk), or delete {path.parent} to retrain it") from error


def read_verified(path: Path, entry: Mapping[str, Any] | None) -> bytes:
    try:
        data = _read(path)
    except FileNotFoundError as error:
        raise CorruptCacheError(f"{path} is missing") from error
    if entry is None or len(data) != entry["size"] or sha256(data) != entry["sha256"]:
        raise CorruptCacheError(
            f"{path} does not match its manifest checksum; call train() with the same config "
            "to retrain this entry"
        )
    return data


def load_npz(folder: Path, name: str, manifest: Mapping[str, Any]) -> dict[str, np.ndarray]:
    data = read_verified(folder / name, manifest["files"].get(name))
    with np.load(io.BytesIO(data)) as archive:
        return {key: archive[key] for key in archive.files}


def write_npz(path: Path, variables: Sequence[Any]) -> dict[str, Any]:
    """Save variables as ``{"00000:<path>": array}`` atomically; return size and checksum."""
    arrays = {f"{i:05d}:{v.path}": np.asarray(v.numpy()) for i, v in enumerate(variables)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    atomic_write(path, data)
    return {"size": len(data), "sha256": sha256(data)}


def assign(variables: Sequence[Any], arrays: Mapping[str, np.ndarray], what: str) -> None:
    names = sorted(arrays)
    if len(names) != len(variables):
        raise CorruptCacheError(
            f"{what} checkpoint has {len(names)} variables, the model built now has "
            f"{len(variables)}: build_model no longer matches the cached run's config"
        )
    for variable, name in zip(variables, names, strict=True):
        variable.assign(arrays[name])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def write_lock(folder: Path, epochs: int) -> Iterator[None]:
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
