"""Experiment profiles: configuration as data.

A profile is a folder ``profiles/<name>/`` of TOML files, one per area (``images.toml``,
``text.toml``, ...). :func:`load_profile` reads them all into one mapping keyed by file stem, so
``load_profile("default")["images"]["epochs"]`` is the ``epochs`` key of ``default/images.toml``.

Profiles shipped with the package:

- ``smoke``: seconds per network, for the test suite.
- ``default``: the whole paper on offline data (Fashion-MNIST, fortunes), sized for a 2-core CPU.
- ``extended``: the default profile plus what needs more than its 90-minute budget on a 2-core
  CPU (Figure 4 at widths 1/4 to 1, each network trained to a training-accuracy criterion).
- ``paper``: CIFAR-10, PTB, WikiText-2 and the paper's sizes, for a GPU.

A path to a folder of TOML files works as a profile name too, for your own profiles.

A profile may build on another: its ``profile.toml`` says ``extends = "default"`` (a shipped name
or a folder), and each of its other TOML files then changes only the keys it sets, table by table
(``[widths]`` with ``multipliers = [...]`` replaces those and keeps the base's other keys of
``[widths]``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
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
        ``"smoke"``, ``"default"``, ``"extended"``, ``"paper"`` or a path to a folder of TOML
        files. A profile that extends another (``profile.toml``: ``extends = "default"``) is its
        base with its own keys merged in, table by table.

    Examples
    --------
    >>> load_profile("smoke")["name"]
    'smoke'
    >>> extended, default = load_profile("extended"), load_profile("default")
    >>> extended["images"]["widths"]["multipliers"][-1], extended["text"] == default["text"]
    (1.0, True)
    """
    tables: dict[str, Any] = {}
    for folder in reversed(_lineage(profile)):
        for path in sorted(folder.glob("*.toml")):
            if path.name != PROFILE_FILE:
                with path.open("rb") as handle:
                    tables[path.stem] = _merged(tables.get(path.stem, {}), tomllib.load(handle))
    tables["name"] = profile_dir(profile).name
    return tables


def profile_files(profile: str | Path) -> list[Path]:
    """Every TOML file a profile reads, its bases' included (what its results depend on)."""
    return [path for folder in _lineage(profile) for path in sorted(folder.glob("*.toml"))]


#: The file of a profile folder that names the profile it builds on (``extends = "default"``).
PROFILE_FILE = "profile.toml"


def _lineage(profile: str | Path) -> list[Path]:
    """The profile's folder, then the folder of the profile it extends, and so on."""
    folders: list[Path] = []
    name: str | Path | None = profile
    while name is not None:
        folder = profile_dir(name).resolve()
        if folder in folders:
            chain = " -> ".join(f.name for f in (*folders, folder))
            raise ValueError(f"profile {str(profile)!r} extends itself ({chain}): fix `extends` "
                             f"in {PROFILE_FILE}")
        folders.append(folder)
        meta = folder / PROFILE_FILE
        if not meta.exists():
            break
        with meta.open("rb") as handle:
            name = tomllib.load(handle).get("extends")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{meta}: `extends` must be a profile name or folder, got {name!r}")
        if isinstance(name, str) and not Path(name).is_absolute() and (folder / name).is_dir():
            name = folder / name  # a folder relative to the profile's own
    return folders


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: tables merged key by key, other values replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged
