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


def plot_coefficients_by_epoch(ax: Any, correlations: Sequence[np.ndarray], shown: Sequence[int],
                               title: str) -> None:
    """Figure 1a: the sorted canonical correlations of a layer at several epochs with its final
    state, one line per epoch shown (viridis, earliest darkest).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    correlations : sequence of ndarray
        Sorted correlations of each epoch with the final epoch
        (:func:`morcos2018.analysis.sorted_correlations`), indexed by epoch.
    shown : sequence of int
        The epochs to draw.
    title : str
        The panel's title.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> plot_coefficients_by_epoch(ax, [np.array([0.9, 0.5]), np.ones(2)], [0, 1], "1a")
    >>> [line.get_label() for line in ax.get_lines()]
    ['epoch 0', 'epoch 1']
    """
    import matplotlib.pyplot as plt

    colours = plt.cm.viridis(np.linspace(0, 0.9, len(shown)))
    for colour, epoch in zip(colours, shown, strict=True):
        ax.plot(np.arange(1, len(correlations[epoch]) + 1), correlations[epoch],
                color=colour, label=f"epoch {epoch}")
    ax.set_xlabel("CCA coefficient index (sorted)")
    ax.set_ylabel("CCA coefficient")
    ax.set_title(title)
    ax.legend()


def plot_direction_stability(ax: Any, tracked: Sequence[Mapping[str, np.ndarray]],
                             n_directions: int, early: int, mid: int) -> None:
    """Figure 1d: distance of the stable (top) and unstable (bottom) CCA directions of epochs
    ``early`` and ``mid`` to the layer at every epoch, mean +- std over networks.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    tracked : sequence of mapping
        Per network, :func:`morcos2018.analysis.direction_stability`'s ``{"top": distance per
        epoch, "bottom": ...}``.
    n_directions : int
        Directions per set, for the legend.
    early, mid : int
        The epochs the directions come from (dotted lines).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> tracked = [{"top": np.zeros(3), "bottom": np.ones(3)}] * 2
    >>> plot_direction_stability(ax, tracked, 4, 0, 1)
    >>> ax.get_legend_handles_labels()[1]
    ['top 4 (stable)', 'bottom 4 (unstable)']
    """
    epochs = len(tracked[0]["top"]) - 1
    for key, style, label in (("top", "-o", "stable"), ("bottom", "-s", "unstable")):
        values = np.array([t[key] for t in tracked])
        ax.errorbar(range(epochs + 1), values.mean(axis=0), yerr=values.std(axis=0), fmt=style,
                    capsize=3, label=f"{key} {n_directions} ({label})")
    for epoch in (early, mid):
        ax.axvline(epoch, color="grey", linestyle=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel("CCA distance")
    ax.set_title(f"Figure 1d: directions of epochs {early} vs {mid}\n"
                 f"(mean +- std over {len(tracked)} networks)")
    ax.legend()


def plot_accuracy_over_training(ax: Any, train: Sequence[Sequence[float]],
                                test: Sequence[Sequence[float]]) -> None:
    """Appendix A1 (CNN): training and test accuracy over training, mean +- std over networks.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    train : array-like, shape (networks, epochs)
        Training accuracy of epochs 1 .. epochs (none is measured at epoch 0).
    test : array-like, shape (networks, epochs + 1)
        Test accuracy of epochs 0 .. epochs.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> plot_accuracy_over_training(ax, [[0.5, 0.7]], [[0.1, 0.4, 0.6]])
    >>> ax.get_legend_handles_labels()[1]
    ['train', 'test']
    """
    for values, style, first, label in ((train, "-o", 1, "train"), (test, "-s", 0, "test")):
        values = np.array(values)
        ax.errorbar(range(first, first + values.shape[1]), values.mean(axis=0),
                    yerr=values.std(axis=0), fmt=style, capsize=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Appendix A1: accuracy over training\n(mean +- std over {len(train)} networks)")
    ax.legend()


#: Line format of the distance within a width, for trained networks and at initialization.
STAGE_STYLES = {"trained": "-o", "initialization": "--s", "fixed epochs": "-o",
                "training accuracy criterion": "-^"}


def plot_width_distances(ax: Any, widths: Sequence[float], by_stage: Mapping[str, Sequence[Any]],
                         ylabel: str, title: str, labels: Mapping[str, str] | None = None) -> None:
    """Figure 4a (and Appendices A6, A7): the distance within each width, mean +- std, trained
    and at initialization, against the width multiplier (log 2 axis). Draws no legend.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    widths : sequence of float
        The width multipliers.
    by_stage : mapping of str to sequence
        ``{"trained": ..., "initialization": ...}``: per width, a result with ``mean`` and
        ``std`` (:func:`morcos2018.stats.within_group`).
    ylabel, title : str
        The y axis and the panel's title.
    labels : mapping of str to str, optional
        Legend label of each stage (default: the stage's name).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from types import SimpleNamespace as Within
    >>> fig, ax = plt.subplots()
    >>> values = [Within(mean=0.5, std=0.1), Within(mean=0.3, std=0.1)]
    >>> plot_width_distances(ax, [1, 2], {"trained": values}, "PWCCA distance", "4a")
    >>> ax.get_xscale(), ax.get_legend_handles_labels()[1]
    ('log', ['trained'])
    """
    labels = labels or {}
    for stage, values in by_stage.items():
        ax.errorbar(widths, [v.mean for v in values], yerr=[v.std for v in values],
                    fmt=STAGE_STYLES.get(stage, "-o"), capsize=3, label=labels.get(stage, stage))
    ax.set_xscale("log", base=2)
    ax.set_xticks(widths, [f"{w:g}" for w in widths])
    ax.set_xlabel("width multiplier")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def plot_accuracy_against_distance(ax: Any, widths: Sequence[float], width_of: np.ndarray,
                                   own_distance: np.ndarray, test_accuracy: np.ndarray,
                                   width_means: Sequence[float], r: float) -> None:
    """Figure 4b: each network's test accuracy against its mean distance to the other networks
    of its width, one colour per width, and each width's mean (the test's units) as a cross.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    widths : sequence of float
        The width multipliers.
    width_of, own_distance, test_accuracy : ndarray, shape (networks,)
        Each network's width, distance to its width-mates and test accuracy.
    width_means : sequence of float
        Mean within-width distance of each width.
    r : float
        Pearson correlation over networks, for the title.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> w, d, a = np.array([1.0, 1.0, 2.0]), np.array([0.4, 0.5, 0.2]), np.array([0.6, 0.5, 0.8])
    >>> plot_accuracy_against_distance(ax, [1.0, 2.0], w, d, a, [0.45, 0.2], -0.9)
    >>> ax.get_title()
    'Figure 4b: r = -0.90 over networks'
    """
    for i, width in enumerate(widths):
        chosen = width_of == width
        ax.scatter(own_distance[chosen], test_accuracy[chosen], color=COLOURS[i % len(COLOURS)],
                   label=f"width {width:g}")
    ax.scatter(width_means, [test_accuracy[width_of == w].mean() for w in widths], marker="x",
               s=80, color="black", label="width mean (the test's units)")
    ax.set_xlabel("mean PWCCA distance to the other networks of its width")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Figure 4b: r = {r:.2f} over networks")
    ax.legend(loc="lower left")


def plot_learning_rate_clusters(linkage: np.ndarray, distances: np.ndarray, order: Sequence[int],
                                rate_of: np.ndarray, clusters: np.ndarray,
                                test_accuracy: np.ndarray, learning_rates: Sequence[float]) -> Any:
    """Figure 5: (a) the distance matrix ordered by hierarchical clustering, under its
    dendrogram; (b) each network's test accuracy by cluster, coloured by learning rate.

    Parameters
    ----------
    linkage : ndarray
        The clustering's linkage matrix (:func:`morcos2018.analysis.cluster_networks`).
    distances : ndarray, shape (networks, networks)
        Pairwise PWCCA distances.
    order : sequence of int
        The networks in the dendrogram's order.
    rate_of, clusters, test_accuracy : ndarray, shape (networks,)
        Each network's learning rate, cluster (0-based) and test accuracy.
    learning_rates : sequence of float
        The learning rates, in the order of their colours.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from morcos2018.analysis import cluster_networks
    >>> d = np.array([[0, 0.1, 0.9, 0.9], [0.1, 0, 0.9, 0.9], [0.9, 0.9, 0, 0.1],
    ...               [0.9, 0.9, 0.1, 0]])
    >>> linkage, order, clusters = cluster_networks(d, 2)
    >>> rates = np.array([0.1, 0.1, 0.01, 0.01])
    >>> fig = plot_learning_rate_clusters(linkage, d, order, rates, clusters,
    ...                                   np.array([0.5, 0.6, 0.7, 0.8]), [0.1, 0.01])
    >>> len(fig.axes)
    4
    """
    import matplotlib.pyplot as plt
    from scipy.cluster import hierarchy

    rate_index = {rate: i for i, rate in enumerate(learning_rates)}
    fig = plt.figure(figsize=(12, 5))
    top = fig.add_axes([0.06, 0.8, 0.36, 0.15])
    matrix_ax = fig.add_axes([0.06, 0.1, 0.36, 0.68])
    scatter_ax = fig.add_axes([0.56, 0.1, 0.4, 0.8])
    hierarchy.dendrogram(linkage, ax=top, no_labels=True, color_threshold=0,
                         above_threshold_color="grey")
    top.set_axis_off()
    top.set_title("Figure 5a: PWCCA distance, networks ordered by clustering")
    image = matrix_ax.imshow(distances[np.ix_(order, order)], cmap="viridis")
    labels = [f"{rate_of[i]:g}" for i in order]
    matrix_ax.set_xticks(range(len(order)), labels, rotation=90, fontsize=7)
    matrix_ax.set_yticks(range(len(order)), labels, fontsize=7)
    matrix_ax.set_xlabel("network (learning rate)")
    matrix_ax.set_ylabel("network (learning rate)")
    matrix_ax.grid(False)
    fig.colorbar(image, ax=matrix_ax, fraction=0.046, pad=0.04, label="PWCCA distance")
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(rate_of))
    for rate in learning_rates:
        chosen = rate_of == rate
        scatter_ax.scatter(clusters[chosen] + jitter[chosen], test_accuracy[chosen],
                           color=COLOURS[rate_index[rate] % len(COLOURS)], label=f"lr {rate:g}")
    scatter_ax.set_xticks(range(len(learning_rates)),
                          [f"cluster {c + 1}" for c in range(len(learning_rates))])
    scatter_ax.set_xlabel("cluster (Figure 5a)")
    scatter_ax.set_ylabel("test accuracy")
    scatter_ax.set_title("Figure 5b: clusters against generalization")
    scatter_ax.legend()
    return fig


def plot_steps_to_last(plain: Mapping[str, Mapping[str, np.ndarray]],
                       bands: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]],
                       layers: Sequence[str], measures: Sequence[str]) -> Any:
    """Appendix A3: each step's distance to the last step of the sequence, one panel per
    measure, one colour per layer, each curve over its shaded chance band.

    Parameters
    ----------
    plain : mapping
        ``{layer: {measure: distance per step}}``
        (:func:`morcos2018.analysis.distances_to_last_step`).
    bands : mapping
        ``{layer: {measure: {"steps", "chance_low", "chance_high", ...}}}``
        (:func:`morcos2018.claims.sequence.distances_with_chance`).
    layers, measures : sequence of str
        The layers (colours) and the measures (panels), in order.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> band = {"steps": [0, 1], "chance_low": [0.8, 0.8], "chance_high": [0.9, 0.9]}
    >>> fig = plot_steps_to_last({"lstm1": {"pwcca_distance": [0.5, 0.2, 0.0]}},
    ...                          {"lstm1": {"pwcca_distance": band}}, ["lstm1"],
    ...                          ["pwcca_distance", "pwcca_distance"])
    >>> fig.axes[0].get_title()
    'PWCCA distance'
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.2))
    for ax, measure in zip(axes, measures, strict=True):
        for i, layer in enumerate(layers):
            band = bands[layer][measure]
            ax.fill_between(band["steps"], band["chance_low"], band["chance_high"],
                            color=COLOURS[i], alpha=0.2, lw=0)
            ax.plot(plain[layer][measure], color=COLOURS[i], label=layer)
        ax.set(title=LABELS[measure], xlabel="step j", ylabel="distance to last step")
        ax.legend()
    fig.tight_layout()
    return fig


def plot_repeated_input(plain: Mapping[str, Mapping[str, np.ndarray]],
                        bands: Mapping[str, Mapping[str, Mapping[str, np.ndarray]]],
                        repeated: Mapping[int, Mapping[str, np.ndarray]], layers: Sequence[str],
                        repeat_length: int) -> Any:
    """Appendix A4: PWCCA distance to the last step with one input repeated, one row per start
    of the repetition (grey span), one column per layer; dashed, the curve without repetition
    over its chance band.

    Parameters
    ----------
    plain, bands : mapping
        As :func:`plot_steps_to_last` (their ``"pwcca_distance"`` entries are drawn).
    repeated : mapping of int to mapping
        ``{start: {layer: PWCCA distance per step}}`` with the input repeated from ``start``.
    layers : sequence of str
        The layers, one column each.
    repeat_length : int
        Steps the input is repeated for.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> band = {"steps": [0, 1], "chance_low": [0.8, 0.8], "chance_high": [0.9, 0.9]}
    >>> fig = plot_repeated_input({"lstm1": {"pwcca_distance": [0.5, 0.2, 0.0]}},
    ...                           {"lstm1": {"pwcca_distance": band}},
    ...                           {0: {"lstm1": [0.6, 0.3, 0.0]}}, ["lstm1"], 2)
    >>> fig.axes[0].get_title()
    'lstm1, repeat from step 0'
    """
    import matplotlib.pyplot as plt

    starts = list(repeated)
    fig, axes = plt.subplots(len(starts), len(layers), sharex=True, sharey=True,
                             figsize=(3.4 * len(layers), 2.2 * len(starts)), squeeze=False)
    for row, start in zip(axes, starts, strict=True):
        for ax, (i, layer) in zip(row, enumerate(layers), strict=True):
            ax.axvspan(start, start + repeat_length - 1, color="0.9", zorder=0)
            band = bands[layer]["pwcca_distance"]
            ax.fill_between(band["steps"], band["chance_low"], band["chance_high"],
                            color="lightsteelblue", alpha=0.5, lw=0)
            ax.plot(plain[layer]["pwcca_distance"], "--", color="0.5", lw=1)
            ax.plot(repeated[start][layer], color=COLOURS[i])
            ax.set_title(f"{layer}, repeat from step {start}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("step j")
    for ax in axes[:, 0]:
        ax.set_ylabel("PWCCA to last step")
    fig.tight_layout()
    return fig


def plot_dose_response(ratios: Mapping[int, tuple[float, float]],
                       class_share: Mapping[int, Mapping[str, float]],
                       margin: float) -> Any:
    """Figure 3 against the number of training images (issue 25, item 3): left, the ratio of
    the mean within-memorizing to the mean between-group distance (+- its jackknife standard
    error) with the equivalence interval's lower bound ``1 - margin``; right, the late layers'
    class-mean share of variance per group.

    Parameters
    ----------
    ratios : mapping of int to (float, float)
        ``{n: (ratio, standard error)}``
        (:func:`morcos2018.claims.memorization.figure3_ratios`).
    class_share : mapping of int to mapping
        ``{n: {"generalizing": share, "memorizing": share}}``.
    margin : float
        Figure 3's equivalence margin.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_dose_response({1000: (0.74, 0.02), 5000: (0.88, 0.03)},
    ...                          {1000: {"generalizing": 0.5, "memorizing": 0.8},
    ...                           5000: {"generalizing": 0.4, "memorizing": 0.6}}, 0.1)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['training images', 'training images']
    """
    import matplotlib.pyplot as plt

    sizes = sorted(ratios)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    values, errors = zip(*(ratios[n] for n in sizes), strict=True)
    left.errorbar(sizes, values, yerr=errors, marker="o", capsize=3, color=COLOURS[1],
                  label="within memorizing / between")
    left.axhline(1.0, color="0.4", lw=1)
    left.axhline(1 - margin, color="0.4", lw=1, ls="--", label=f"1 - margin ({1 - margin:g})")
    left.set_ylabel("PWCCA distance ratio")
    left.set_title("Memorizing pairs vs between-group pairs", fontsize=10)
    for i, group in enumerate(("generalizing", "memorizing")):
        right.plot(sizes, [class_share[n][group] for n in sizes], marker="o", color=COLOURS[i],
                   label=group)
    right.set_ylim(0, 1)
    right.set_ylabel("class-mean share of variance")
    right.set_title("Late layers along their labels' class means", fontsize=10)
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("training images")
        ax.legend()
    fig.tight_layout()
    return fig
