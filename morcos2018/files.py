"""Files that readers never see half-written: the one atomic write of the experiment code.

The training cache (checkpoints, manifests), the activation cache, the figures, the claim records
and the runner's findings are all written through :func:`atomic_write`: a temporary file in the
same folder, flushed and fsynced, then renamed over the target, so that an interrupted job leaves
the old file or the new one, never a part of one. The file gets the permissions a plain ``open()``
would give it (0666 less the umask), so a cache shared by a group stays readable by the group.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "note.txt"
    >>> atomic_write(target, "done")
    >>> target.read_text()
    'done'
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, 0o666 & ~current_umask())  # as open() would: mkstemp gives 0600
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike[str], data: Any, **options: Any) -> None:
    """Write ``data`` as indented JSON (plus a final newline) atomically; ``options`` go to
    :func:`json.dumps` (e.g. ``default=str``, ``allow_nan=False``)."""
    atomic_write(path, json.dumps(data, indent=2, **options) + "\n")


def repository_root() -> Path | None:
    """The clone the package runs from (an editable install or a source checkout), else None."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def notebook_outputs(
    profile: str,
    figures_dir: str | os.PathLike[str] | None = None,
    results_dir: str | os.PathLike[str] | None = None,
) -> tuple[Path, Path]:
    """The folders a notebook writes its figures and claim records to, created.

    The batch runner passes both (``cca-reproduce``). A notebook run by hand (JupyterLab, Binder,
    papermill without parameters) gets ``runs/<profile>/figures`` and ``runs/<profile>/results``
    under the clone it runs from (under the working folder for an installed package), whatever
    its working folder: only publishing (``make publish``) writes ``figures/`` and ``findings/``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> figures, results = notebook_outputs("smoke", folder / "f", folder / "r")
    >>> figures.name, results.name, figures.is_dir()
    ('f', 'r', True)
    >>> notebook_outputs("smoke")[0].parts[-3:]
    ('runs', 'smoke', 'figures')
    """
    base = (repository_root() or Path.cwd()) / "runs" / Path(str(profile)).name
    folders = (Path(figures_dir) if figures_dir is not None else base / "figures",
               Path(results_dir) if results_dir is not None else base / "results")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders
