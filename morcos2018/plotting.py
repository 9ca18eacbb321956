"""Figure layouts that the notebooks draw from the package: what does each figure show, and how?

- :func:`plot_group_profile`: one panel of Figure 3 of Morcos et al. (2018) (and of Appendices
  A5, A6, A9, A10): distance per layer within two groups of networks and between them, drawn on
  a given matplotlib Axes.
- :func:`plot_convergence_curves`: Figure 6 and Appendix A8, each LSTM layer's distance to its
  final representation over training; returns a matplotlib Figure.

The notebooks save their figures with :func:`morcos2018.report.save_figure`. This module
needs matplotlib (imported when drawing) but never TensorFlow.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from morcos2018.report import COLOURS

if TYPE_CHECKING:
    from morcos2018.analysis import GroupProfile

#: Axis titles of the distances of :func:`morcos2018.analysis.distance_function`.
LABELS = {
    "pwcca": "PWCCA distance",
    "mean_cca": "mean CCA distance",
    "svcca": "SVCCA distance",
    "cosine": "cosine distance",
    "euclidean": "Euclidean distance",
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
    >>> curves = {("lstm3", 0): {"pwcca": {"lstm1": [0.5, 0.1, 0.0], "lstm2": [0.6, 0.3, 0.0]}}}
    >>> fig = plot_convergence_curves(curves, epochs, ["pwcca"])
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
