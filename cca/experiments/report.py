"""Figures and claims: the two things every notebook of the reproduction ends with.

- :func:`use_style` gives all figures one look.
- :func:`save_figure` writes a figure as PNG (for the README) and PDF (vector), atomically and
  deterministically, so rerunning a notebook does not churn git.
- :func:`record_claim` states the paper's claim a notebook checks, the numbers it measured and
  whether the claim holds, as ``<results_dir>/<notebook>.json``, and prints a Markdown summary.

This module needs matplotlib but never TensorFlow.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

PNG_DPI = 150

#: Colour-blind-safe cycle (Okabe & Ito), shared by every figure of the project.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": PNG_DPI,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "pdf.fonttype": 42,
}


def use_style() -> None:
    """Apply the project's matplotlib look (font sizes, dpi, grid, colour cycle).

    Switches to the non-interactive Agg backend when no display or notebook is driving
    matplotlib, so figures render in batch runs (papermill, CI).

    Examples
    --------
    >>> use_style()
    >>> import matplotlib.pyplot as plt
    >>> plt.rcParams["axes.grid"]
    True
    """
    import matplotlib

    if "ipykernel" not in sys.modules and not os.environ.get("DISPLAY"):
        matplotlib.use("Agg")
    from cycler import cycler

    matplotlib.rcParams.update(_STYLE)
    matplotlib.rcParams["axes.prop_cycle"] = cycler(color=list(COLOURS))


def save_figure(fig: Any, name: str, figures_dir: str | os.PathLike[str]) -> list[Path]:
    """Write ``fig`` as ``<figures_dir>/<name>.png`` and ``<name>.pdf``.

    Each file is written to a temporary file in the same folder and renamed into place, so an
    interrupted run never leaves a half-written figure. The PDF carries no creation date, so
    rerunning a notebook reproduces it byte for byte.

    Parameters
    ----------
    fig
        A matplotlib ``Figure``.
    name
        File stem, e.g. ``"fig2_toy_noise"``; no folder part and no suffix.
    figures_dir
        Folder to write into; created if missing.

    Returns
    -------
    list of Path
        The PNG path, then the PDF path.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [1, 0])
    >>> [p.name for p in save_figure(fig, "demo", tempfile.mkdtemp())]
    ['demo.png', 'demo.pdf']
    """
    if not hasattr(fig, "savefig"):
        raise ValueError(
            f"fig must be a matplotlib Figure, got {type(fig).__name__}: "
            "pass the figure returned by plt.subplots()"
        )
    if not isinstance(name, str) or not name or Path(name).name != name or Path(name).suffix:
        raise ValueError(
            f"name must be a bare file stem such as 'fig2_toy_noise', got {name!r}: "
            "drop any folder part and suffix (the folder is figures_dir)"
        )
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt, options in (
        ("png", {"dpi": PNG_DPI}),
        ("pdf", {"metadata": {"CreationDate": None, "ModDate": None}}),
    ):
        target = folder / f"{name}.{fmt}"
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=f".{fmt}", dir=folder)
        try:
            with os.fdopen(handle, "wb") as stream:
                fig.savefig(stream, format=fmt, bbox_inches="tight", **options)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written


def record_claim(
    notebook: str,
    claim: str,
    measured: Mapping[str, Any],
    holds: bool | None,
    figures: Iterable[str | os.PathLike[str]],
    results_dir: str | os.PathLike[str],
    profile: str,
    notes: str = "",
) -> dict[str, Any]:
    """Record the paper's claim a notebook checks, the numbers measured and the verdict.

    Writes ``<results_dir>/<notebook>.json`` (atomically) and prints a Markdown summary: the
    claim, a table of the measured numbers and the verdict.

    Parameters
    ----------
    notebook
        Notebook stem, e.g. ``"fig2_toy_noise"``; names the JSON file.
    claim
        The paper's claim, in one or two sentences, citing the figure.
    measured
        The numbers the verdict rests on, ``{name: value}``. Values may be numbers, strings,
        NumPy scalars or arrays, or nested mappings/lists of them; they are stored as plain JSON
        (arrays become lists, non-finite floats become ``null``).
    holds
        ``True`` or ``False`` if the claim was tested, ``None`` when it cannot be tested at this
        profile (say why in ``notes``).
    figures
        The figure files the notebook wrote (paths or names, e.g. what :func:`save_figure`
        returned); only the file names are stored.
    results_dir
        Folder for the JSON file; created if missing.
    profile
        Name of the profile the notebook ran under.
    notes
        Free text: caveats, why a claim is untestable, differences from the paper's setup.

    Returns
    -------
    dict
        The record as written to JSON.

    Examples
    --------
    >>> import tempfile
    >>> record = record_claim("demo", "1 + 1 = 2", {"sum": 2}, True, [], tempfile.mkdtemp(),
    ...                       "smoke")  # doctest: +ELLIPSIS
    ### demo: ...
    >>> record["holds"]
    True
    """
    for argument, value in (("notebook", notebook), ("claim", claim), ("profile", profile)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{argument} must be a non-empty string, got {value!r}")
    if Path(notebook).name != notebook:
        raise ValueError(
            f"notebook must be a bare notebook stem such as 'fig2_toy_noise', got {notebook!r}"
        )
    if not isinstance(measured, Mapping):
        raise ValueError(
            f"measured must be a mapping {{name: value}}, got {type(measured).__name__}"
        )
    if isinstance(holds, np.bool_):
        holds = bool(holds)
    if holds is not None and not isinstance(holds, bool):
        raise ValueError(
            f"holds must be True, False or None (not testable at this profile), got {holds!r} "
            f"of type {type(holds).__name__}"
        )
    if not isinstance(notes, str):
        raise ValueError(f"notes must be a string, got {type(notes).__name__}")
    if isinstance(figures, str | os.PathLike):
        raise ValueError(
            f"figures must be a list of paths, got the single path {figures!r}: wrap it in a list"
        )
    record = {
        "notebook": notebook,
        "claim": claim,
        "measured": _json_safe(dict(measured)),
        "holds": holds,
        "figures": [Path(figure).name for figure in _flatten(figures)],
        "profile": profile,
        "notes": notes,
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{notebook}.", suffix=".json", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(record, stream, indent=2, allow_nan=False)
        stream.write("\n")
    os.replace(temporary, folder / f"{notebook}.json")
    print(claim_summary(record))
    return record


def claim_summary(record: Mapping[str, Any]) -> str:
    """Markdown summary of a record from :func:`record_claim`: claim, measured numbers, verdict."""
    verdict = {True: "HOLDS", False: "DOES NOT HOLD", None: "NOT TESTABLE at this profile"}
    lines = [
        f"### {record['notebook']}: {verdict[record['holds']]} (profile {record['profile']})",
        "",
        f"**Claim.** {record['claim']}",
        "",
        "| measured | value |",
        "|---|---|",
    ]
    for key, value in _flatten_mapping(record["measured"]):
        lines.append(f"| {key} | {_format_value(value)} |")
    if record.get("notes"):
        lines += ["", f"**Notes.** {record['notes']}"]
    return "\n".join(lines)


def _flatten(items: Iterable[Any]) -> list[Any]:
    """Paths from a list that may hold lists of paths (e.g. several save_figure results)."""
    flat = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            flat.append(item)
        else:
            flat.extend(_flatten(item))
    return flat


def _flatten_mapping(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten_mapping(value, prefix=f"{name}."))
        else:
            rows.append((name, value))
    return rows


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        shown = ", ".join(_format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)


def _json_safe(value: Any) -> Any:
    """Plain-JSON copy of ``value``: NumPy to Python, tuples to lists, NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    raise ValueError(
        f"measured holds a value of type {type(value).__name__} ({value!r}) that JSON cannot "
        "store: convert it to a number, string, list or mapping"
    )


def _versions() -> dict[str, str]:
    """Versions of Python, NumPy, this package, and TensorFlow/Keras if already imported."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        package_version = version("cca")
    except PackageNotFoundError:
        package_version = "unknown"
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cca": package_version,
    }
    for module in ("tensorflow", "keras"):
        if module in sys.modules:
            versions[module] = getattr(sys.modules[module], "__version__", "unknown")
    return versions
