"""Experiment profiles: configuration as data.

A profile is a folder ``profiles/<name>/`` of TOML files, one per area (``images.toml``,
``text.toml``, ...). :func:`load_profile` reads them all into one mapping keyed by file stem, so
``load_profile("default")["images"]["epochs"]`` is the ``epochs`` key of ``default/images.toml``.

Profiles shipped with the package:

- ``smoke``: seconds per network, for the test suite.
- ``default``: the whole paper on offline data (Fashion-MNIST, fortunes), sized for a 2-core CPU.
- ``paper``: CIFAR-10, PTB, WikiText-2 and the paper's sizes, for a GPU.

A path to a folder of TOML files works as a profile name too, for your own profiles.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

PROFILES_DIR = Path(__file__).parent / "profiles"


def available_profiles() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(p.name for p in PROFILES_DIR.iterdir() if p.is_dir() and any(p.glob("*.toml")))


def profile_dir(profile: str | Path) -> Path:
    """The folder holding a profile's TOML files, for a shipped profile name or a folder path."""
    candidate = Path(profile)
    if candidate.is_dir():
        return candidate
    shipped = PROFILES_DIR / str(profile)
    if shipped.is_dir():
        return shipped
    raise ValueError(
        f"profile {str(profile)!r} not found: expected one of {available_profiles()} "
        "or a folder of TOML files"
    )


def load_profile(profile: str | Path) -> dict[str, Any]:
    """Read every ``*.toml`` of a profile into ``{file stem: table}``, plus ``"name"``.

    Parameters
    ----------
    profile
        ``"smoke"``, ``"default"``, ``"paper"`` or a path to a folder of TOML files.

    Examples
    --------
    >>> load_profile("smoke")["name"]
    'smoke'
    """
    folder = profile_dir(profile)
    tables: dict[str, Any] = {"name": folder.name}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            tables[path.stem] = tomllib.load(handle)
    return tables
