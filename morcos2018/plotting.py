"""Figures: one look for all of them, how they are saved, and the layouts the notebooks draw.

- :func:`use_style` gives all figures one look (colour-blind-safe :data:`COLOURS`).
- :func:`save_figure` writes a figure as PNG (for the README) and PDF (vector), atomically and
  deterministically, so rerunning a notebook does not churn git.
- :func:`plot_group_profile`: one panel of Figure 3 of Morcos et al. (2018) (and of Appendices
  A5, A6, A9, A10): distance per layer within two groups of networks and between them, drawn on
  a given matplotlib Axes.
- :func:`plot_convergence_curves`: Figure 6 and Appendix A8, each LSTM layer's distance to its
  final representation over training; returns a matplotlib Figure.

This module needs matplotlib (imported when drawing) but never TensorFlow.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from morcos2018.files import atomic_write

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
        rendered = io.BytesIO()
        fig.savefig(rendered, format=fmt, bbox_inches="tight", **options)
        atomic_write(target, rendered.getvalue())
        written.append(target)
    return written


if TYPE_CHECKING:
    from morcos2018.analysis import GroupProfile

#: Axis titles of the distances of :func:`morcos2018.analysis.distance_function`.
LABELS = {
    "pwcca_distance": "PWCCA distance",
    "mean_cca_distance": "mean CCA distance",
    "svcca_distance": "SVCCA distance",
    "cosine_distance": "cosine distance",
    "euclidean_distance": "Euclidean distance",
}
#: Line style of each seed, in order (repeated when there are more seeds), and its name.
LINE_STYLES = {"-": "solid", "--": "dashed", ":": "dotted", "-.": "dash-dot"}

Run = tuple[str, int]  # (model, seed)


def plot_group_profile(
    ax: Any,
    profile: GroupProfile,
    names: tuple[str, str] = ("generalizing", "memorizing"),
    ylabel: str = "PWCCA distance",
) -> None:
    """Draw one Figure 3 panel: distance per layer, within each group and between, mean +- std.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    profile : GroupProfile
        From :func:`morcos2018.analysis.group_profile`.
    names : tuple of str
        Names of group a and group b, for the legend.
    ylabel : str
        The measure, for the y axis.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from morcos2018.analysis import group_profile
    >>> d = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 3], [4, 4, 3, 0]], dtype=float)
    >>> fig, ax = plt.subplots()
    >>> plot_group_profile(ax, group_profile({"conv1": d}, [0, 1], [2, 3]))
    >>> len(ax.containers)
    3
    """
    positions = np.arange(len(profile.layers))
    for (mean, std, label, marker) in (
        (profile.within_a, profile.within_a_std, f"{names[0]} (within)", "o"),
        (profile.within_b, profile.within_b_std, f"{names[1]} (within)", "s"),
        (profile.between, profile.between_std, f"{names[0]} vs {names[1]}", "^"),
    ):
        ax.errorbar(positions, mean, yerr=std, label=label, marker=marker, capsize=3)
    ax.set_xticks(positions, profile.layers, rotation=60, ha="right")
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)


def plot_convergence_curves(
    curves: Mapping[Run, Mapping[str, Mapping[str, Sequence[float]]]],
    epochs: Mapping[Run, Sequence[float]],
    measures: Sequence[str],
    *,
    ylabel: str = "distance to final epoch",
) -> Any:
    """Each layer's distance to its final representation over training, per model and measure.

    The layout of the paper's Figure 6 (blog figure 2: PWCCA in a-c, unweighted mean CCA in d)
    and of Appendix A8 (cosine and Euclidean distance): one row per model, one column per
    measure; within an axes, colour marks the layer (input first) and line style the seed.

    Parameters
    ----------
    curves : mapping of (model, seed) to mapping
        ``{(model, seed): {measure: {layer: distance at each checkpoint}}}``, one entry per
        training run: the curves against the final checkpoint of
        :func:`morcos2018.claims.convergence.curves_to_references`.
        Rows follow the models' first appearance in this mapping.
    epochs : mapping of (model, seed) to array-like
        Epoch of each checkpoint of each run
        (:func:`morcos2018.lm_training.checkpoint_epochs`).
    measures : sequence of str
        The measures to draw, one column each; every run must have them.
    ylabel : str
        Label of the y axes.

    Returns
    -------
    matplotlib.figure.Figure
        ``len(models) x len(measures)`` axes; the layers of the first seed of a model carry the
        legend labels.

    Examples
    --------
    >>> epochs = {("lstm3", 0): [0, 1, 2]}
    >>> curves = {("lstm3", 0): {"pwcca_distance": {"lstm1": [0.5, 0.1, 0.0],
    ...                                               "lstm2": [0.6, 0.3, 0.0]}}}
    >>> fig = plot_convergence_curves(curves, epochs, ["pwcca_distance"])
    >>> [line.get_label() for line in fig.axes[0].get_lines()], fig.axes[0].get_title()
    (['lstm1', 'lstm2'], 'lstm3: PWCCA distance')
    """
    import matplotlib.pyplot as plt

    _check_curves(curves, epochs, measures)
    models = list(dict.fromkeys(model for model, _ in curves))
    seeds = {model: [seed for m, seed in curves if m == model] for model in models}
    fig, axes = plt.subplots(
        len(models), len(measures), figsize=(4.4 * len(measures), 3.2 * len(models)),
        squeeze=False,
    )
    for row, model in zip(axes, models, strict=True):
        styles = dict(zip(seeds[model], itertools.cycle(LINE_STYLES), strict=False))
        for ax, measure in zip(row, measures, strict=True):
            for seed, style in styles.items():
                for i, (layer, curve) in enumerate(curves[model, seed][measure].items()):
                    ax.plot(epochs[model, seed], curve, style, color=COLOURS[i % len(COLOURS)],
                            marker=".", label=layer if seed == seeds[model][0] else None)
            ax.set(title=f"{model}: {LABELS.get(measure, measure)}", xlabel="epoch",
                   ylabel=ylabel)
            key = ", ".join(f"seed {seed} {LINE_STYLES[style]}" for seed, style in styles.items())
            ax.legend(title=key, fontsize=8)
    fig.tight_layout()
    return fig


def _check_curves(curves, epochs, measures) -> None:
    if not curves:
        raise ValueError("curves is empty: give {(model, seed): {measure: {layer: curve}}}.")
    if not measures:
        raise ValueError("measures is empty: name at least one measure to draw.")
    for run, by_measure in curves.items():
        if run not in epochs:
            raise ValueError(f"epochs has no entry for run {run!r}; it has {sorted(epochs)}.")
        missing = [measure for measure in measures if measure not in by_measure]
        if missing:
            raise ValueError(
                f"run {run!r} has no curves for {missing}; it has {sorted(by_measure)}."
            )
        for measure in measures:
            for layer, curve in by_measure[measure].items():
                if len(curve) != len(epochs[run]):
                    raise ValueError(
                        f"run {run!r}, {measure}, {layer}: {len(curve)} distances for "
                        f"{len(epochs[run])} epochs; give one distance per checkpoint."
                    )
