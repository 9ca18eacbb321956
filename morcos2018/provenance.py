"""What a result was computed with: the installed versions and a digest of the code.

The reproduction's results depend on its own code (this package: models, training, claims,
profiles) and on the similarity library it calls (:mod:`cca`, distributed as ``pwcca``), so both
count in :func:`package_digest`, which decides whether a finished notebook run can be reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import cca

PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARY_DIR = Path(cca.__file__).resolve().parent
#: Distribution names: the reproduction and the library (imported as ``cca``).
DISTRIBUTIONS = ("morcos2018", "pwcca")


def installed_version(distribution: str) -> str:
    """The installed version of ``distribution``, or "unknown" (e.g. run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def package_version() -> str:
    """Versions of the reproduction and the library, e.g. "morcos2018 0.1.0, pwcca 0.1.0"."""
    return ", ".join(f"{name} {installed_version(name)}" for name in DISTRIBUTIONS)


def files_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the names and contents of ``paths`` (in sorted order)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def package_digest() -> str:
    """Identity of the installed code: the versions and every source and profile file of this
    package and of the library."""
    files = [
        path
        for folder in (PACKAGE_DIR, LIBRARY_DIR)
        for path in folder.rglob("*")
        if path.suffix in {".py", ".toml"} and path.name != "pyproject.toml"
    ]
    return package_version() + ":" + files_digest(files)
