"""Comparing representations across networks, checkpoints and time steps: the shared analyses.

How far apart are two networks, or one layer at two moments? The measures of :mod:`cca` compare
two layers. The paper's figures compare many: every pair of networks of a group at one layer
(Morcos et al. 2018, Figures 3, 4, 5), one network's layer over training (Figures 1 and 6), one
LSTM layer over the steps of a sequence (Appendix A3). These functions do that bookkeeping for
any distance, so one code path serves PWCCA and its controls (mean CCA, SVCCA: Appendix A9;
cosine and Euclidean: A5, A6, A8). NumPy/SciPy only; activations come in as arrays, rows are
datapoints (conv layers already averaged over space, as in the paper's Figure 3, or pass
``conv="mean"`` through the measure's options).

- :func:`distance_function` names a distance of :mod:`cca.registry`: ``"pwcca_distance"``,
  ``"mean_cca_distance"``, ``"svcca_distance"``, ``"linear_cka_distance"``,
  ``"cosine_distance"``, ``"euclidean_distance"`` (the names of the functions of :mod:`cca`).
- :func:`pairwise_distances` / :func:`layerwise_distances`: networks x networks matrices
  (Figures 3, 4, 5); asymmetric measures (PWCCA) are symmetrised.
- :func:`group_profile`: per layer, within-group and between-group mean +- std (Figure 3).
- :func:`mean_distance_to_others`: each network's mean distance to the rest of its group
  (Figure 4b, against test accuracy).
- :func:`distances_to_reference`, :func:`sorted_correlations`: a layer over training against a
  reference checkpoint (Figure 1 a-c; Figure 6's curves are built on it in
  :mod:`morcos2018.claims.convergence`).
- :func:`direction_stability`: CCA directions found between an early and a mid-training
  checkpoint, top ("stable") and bottom ("unstable"), tracked over training (Figure 1 d-f).
- :func:`distances_to_last_step`: an LSTM layer at each step of a sequence against the last
  step (Appendix A3, A4).
- :func:`cluster_networks`, :func:`adjusted_rand_index`: hierarchical clustering of a distance
  matrix against known labels (Figure 5; tested by :mod:`morcos2018.claims.learning_rate`).
- :func:`subsample_neurons`: the same number of neurons from layers of different widths
  (Figure 4).

The networks and their activations come from :mod:`morcos2018.cnn_groups` (CNNs) and
:mod:`morcos2018.lm_probes` (LSTMs); the panels are drawn by :mod:`morcos2018.plotting`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

import cca
from morcos2018 import stats

Distance = Callable[[np.ndarray, np.ndarray], float]

#: Names accepted by :func:`distance_function`: the distances of :mod:`cca.registry`.
MEASURES = cca.registry.DISTANCES


def distance_function(measure: str, **options: Any) -> Distance:
    """The distance ``f(x, y) -> float`` of a named measure, with its options bound.

    Parameters
    ----------
    measure
        A distance of :mod:`cca.registry`: ``"pwcca_distance"`` (the paper's distance,
        Section 2.2; weights from ``x``), ``"mean_cca_distance"``, ``"svcca_distance"``
        (Appendix A9), ``"linear_cka_distance"``, ``"cosine_distance"`` or
        ``"euclidean_distance"`` (Appendix A5, A6; these compare neuron ``j`` of ``x`` with
        neuron ``j`` of ``y``). A similarity's name (``"pwcca"``) is refused with the name
        of its distance: a name means the same function everywhere.
    **options
        Keyword arguments of the measure, e.g. ``keep=0.99`` for SVCCA or ``conv="mean"``.

    Returns
    -------
    callable
        ``f(x, y)``; :func:`is_symmetric` tells whether ``f(x, y) == f(y, x)``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> round(distance_function("pwcca_distance")(x, 2 * x + 1), 6)
    0.0
    """
    entry = cca.registry.distance(measure)
    bound = partial(entry.function, **options)
    bound.symmetric = entry.symmetric  # type: ignore[attr-defined]
    return bound


def is_symmetric(distance: Distance) -> bool:
    """Whether ``distance(x, y) == distance(y, x)``; unknown callables count as asymmetric."""
    return bool(getattr(distance, "symmetric", False))


def heldout_pwcca_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Held-out PWCCA distance, ``1 - cca.heldout_similarity(x, y, "pwcca")`` (5 folds, seed 0,
    no bootstrap): directions fitted on 4/5 of the datapoints, correlations measured on the
    other 1/5 (:mod:`cca.heldout`). Unrelated layers score about 1 at any number of datapoints,
    so it is a chance-corrected scale (Figure 4 of the extended profile, issue 25); weights from
    ``x``, as in PWCCA.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 5))
    >>> round(heldout_pwcca_distance(x, 2 * x + 1), 6), bool(
    ...     heldout_pwcca_distance(x, rng.normal(size=(400, 5))) > 0.8)
    (0.0, True)
    """
    return 1.0 - cca.heldout_similarity(x, y, "pwcca", folds=5, n_resamples=0, seed=0).statistic


heldout_pwcca_distance.symmetric = False  # type: ignore[attr-defined]


def pairwise_distances(
    representations: Sequence[np.ndarray], distance: Distance | str
) -> np.ndarray:
    """Distance between every pair of networks' representations of one layer.

    For an asymmetric measure (PWCCA takes its weights from the first argument) both orders are
    computed and averaged, ``D[i, j] = (d(r_i, r_j) + d(r_j, r_i)) / 2``, so the matrix is
    symmetric, as the pair statistics of :mod:`morcos2018.stats` expect. The diagonal is 0.

    Parameters
    ----------
    representations
        One array per network, rows the same probe datapoints in the same order.
    distance
        A callable ``f(x, y)`` or a measure name for :func:`distance_function`.

    Returns
    -------
    ndarray, shape (networks, networks)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 5))
    >>> d = pairwise_distances([x, x @ rng.normal(size=(5, 5)), rng.normal(size=(200, 5))],
    ...                        "mean_cca_distance")
    >>> bool(d[0, 1] < 1e-6 < d[0, 2])
    True
    """
    distance = distance_function(distance) if isinstance(distance, str) else distance
    if len(representations) < 2:
        raise ValueError(
            f"representations needs at least 2 networks to compare, got {len(representations)}"
        )
    rows = {np.shape(r)[0] for r in representations}
    if len(rows) != 1:
        raise ValueError(
            f"representations must all hold the same probe datapoints, found row counts "
            f"{sorted(rows)}: read every network's activations on one probe set"
        )
    count = len(representations)
    matrix = np.zeros((count, count))
    symmetric = is_symmetric(distance)
    for i in range(count):
        for j in range(i + 1, count):
            forward = distance(representations[i], representations[j])
            backward = forward if symmetric else distance(representations[j], representations[i])
            matrix[i, j] = matrix[j, i] = (forward + backward) / 2
    return matrix


def layerwise_distances(
    representations: Mapping[str, Sequence[np.ndarray]], distance: Distance | str
) -> dict[str, np.ndarray]:
    """:func:`pairwise_distances` for each layer: ``{layer: (networks, networks) matrix}``.

    Parameters
    ----------
    representations
        ``{layer name: [network 0's activations, network 1's, ...]}``.
    distance
        A callable or a measure name.
    """
    return {layer: pairwise_distances(reps, distance) for layer, reps in representations.items()}


@dataclass(frozen=True)
class GroupProfile:
    """Per-layer distances within two groups of networks and between them (Figure 3).

    Every array has one entry per layer, in the order of ``layers``; ``*_std`` are standard
    deviations over network pairs (ddof 0), as the paper's error bars.
    """

    layers: tuple[str, ...]
    within_a: np.ndarray
    within_a_std: np.ndarray
    within_b: np.ndarray
    within_b_std: np.ndarray
    between: np.ndarray
    between_std: np.ndarray


def group_profile(
    matrices: Mapping[str, np.ndarray], group_a: Sequence[int], group_b: Sequence[int]
) -> GroupProfile:
    """Mean +- std of the distances within ``group_a``, within ``group_b`` and between them.

    Parameters
    ----------
    matrices
        ``{layer: pairwise distance matrix}`` from :func:`layerwise_distances`.
    group_a, group_b
        Disjoint network indices (e.g. generalizing and memorizing networks), two or more each.

    Examples
    --------
    >>> d = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 3], [4, 4, 3, 0]], dtype=float)
    >>> profile = group_profile({"conv1": d}, [0, 1], [2, 3])
    >>> profile.within_a.tolist(), profile.within_b.tolist(), profile.between.tolist()
    ([1.0], [3.0], [4.0])
    """
    if not matrices:
        raise ValueError("matrices is empty: pass {layer: distance matrix} for at least one layer")
    columns: dict[str, list[float]] = {name: [] for name in
                                       ("wa", "wa_s", "wb", "wb_s", "bt", "bt_s")}
    for matrix in matrices.values():
        for (mean_key, std_key), pair in (
            (("wa", "wa_s"), stats.within_group(matrix, group_a)),
            (("wb", "wb_s"), stats.within_group(matrix, group_b)),
            (("bt", "bt_s"), stats.between_groups(matrix, group_a, group_b)),
        ):
            columns[mean_key].append(pair.mean)
            columns[std_key].append(pair.std)
    arrays = {key: np.array(values) for key, values in columns.items()}
    return GroupProfile(tuple(matrices), arrays["wa"], arrays["wa_s"], arrays["wb"],
                        arrays["wb_s"], arrays["bt"], arrays["bt_s"])


def mean_distance_to_others(distances: np.ndarray, group: Sequence[int]) -> np.ndarray:
    """For each network of ``group``, its mean distance to the other members (Figure 4b).

    Examples
    --------
    >>> d = np.array([[0, 1, 3], [1, 0, 5], [3, 5, 0]], dtype=float)
    >>> mean_distance_to_others(d, [0, 1, 2]).tolist()
    [2.0, 3.0, 4.0]
    """
    stats.within_group(distances, group)  # validates the matrix and the group
    members = np.asarray(list(group))
    block = np.asarray(distances, dtype=float)[np.ix_(members, members)]
    return block.sum(axis=1) / (len(members) - 1)


def distances_to_reference(
    series: Sequence[np.ndarray], reference: np.ndarray, distance: Distance | str
) -> np.ndarray:
    """``distance(series[t], reference)`` for every t: e.g. each epoch against the final one.

    Parameters
    ----------
    series
        A layer's activations at successive checkpoints, same probe datapoints.
    reference
        The activations to compare with (the last checkpoint for Figure 1 and Figure 6).
    distance
        A callable or a measure name; the series element is the first argument (for PWCCA, the
        weights come from the checkpoint being compared).
    """
    distance = distance_function(distance) if isinstance(distance, str) else distance
    return np.array([distance(state, reference) for state in series])


def sorted_correlations(series: Sequence[np.ndarray], reference: np.ndarray) -> list[np.ndarray]:
    """Canonical correlations of each checkpoint with ``reference``, descending (Figure 1 a-c).

    Returns
    -------
    list of ndarray
        One array per element of ``series``; lengths may differ (they are min of the ranks).
    """
    return [cca.canonical_correlations(state, reference) for state in series]


def direction_stability(
    early: np.ndarray,
    mid: np.ndarray,
    series: Sequence[np.ndarray],
    n_directions: int,
) -> dict[str, np.ndarray]:
    """Track the top and bottom CCA directions of an early vs a mid-training checkpoint (Fig 1d-f).

    CCA of the layer at an early checkpoint (``early``) with the same layer at mid-training
    (``mid``) gives directions ordered by correlation. The top ``n_directions`` are the ones
    that have already converged ("stable"), the bottom ``n_directions`` the ones that have not
    ("unstable"). Each set's variates on the probe data, ``H_S = (early - mean) @ A_S`` (the
    result's :meth:`~cca.CCAResult.project_x`), are then compared with the whole layer at every
    checkpoint ``L_t`` of ``series``: ``d_S(t) = 1 - mean CCA(H_S, L_t)``, how much of that
    subspace the layer still linearly carries. Stable directions stay near 0; unstable ones stay
    far, like noise.

    Parameters
    ----------
    early, mid
        The layer at the two checkpoints, shape (n, neurons), the same probe datapoints.
    series
        The layer at the checkpoints to track, each (n, neurons).
    n_directions
        Size of each set; at most half the number of canonical correlations, so the two sets
        do not overlap.

    Returns
    -------
    dict
        ``"top"`` and ``"bottom"``: distances, one per element of ``series``;
        ``"correlations"``: the canonical correlations of ``early`` with ``mid``.
    """
    fit = cca.cca(early, mid)
    available = len(fit.correlations)
    if isinstance(n_directions, bool) or not isinstance(n_directions, int) or not (
        1 <= n_directions <= available // 2
    ):
        raise ValueError(
            f"n_directions must be an int in 1..{available // 2} (half of the {available} "
            f"canonical correlations, so top and bottom sets do not overlap), got {n_directions!r}"
        )
    variates = fit.project_x(early)
    sets = {"top": variates[:, :n_directions], "bottom": variates[:, available - n_directions:]}
    result = {
        name: np.array([cca.mean_cca_distance(subset, state) for state in series])
        for name, subset in sets.items()
    }
    result["correlations"] = fit.correlations
    return result


def distances_to_last_step(
    activations: np.ndarray, measures: Sequence[str]
) -> dict[str, np.ndarray]:
    """Distance of a layer's representation at each step to the one at the last step (Appendix A3).

    Parameters
    ----------
    activations
        One layer over sequences, shape ``(n_sequences, steps, units)`` (e.g.
        :func:`morcos2018.activations.layer_activations` of an LSTM layer); the datapoints
        are the sequences.
    measures
        Names for :func:`distance_function`.

    Returns
    -------
    dict
        ``{measure: distances, one per step}`` (0 at the last step).

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(50, 3, 2))
    >>> distances_to_last_step(x, ["cosine_distance"])["cosine_distance"].shape
    (3,)
    """
    array = np.asarray(activations)
    if array.ndim != 3:
        raise ValueError(
            f"activations must have shape (n_sequences, steps, units), got {array.shape}"
        )
    steps = [array[:, t, :] for t in range(array.shape[1])]
    return {m: distances_to_reference(steps, steps[-1], m) for m in measures}


def cluster_networks(
    distances: np.ndarray, n_clusters: int, method: str = "average"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hierarchical clustering of networks from a symmetric distance matrix (Figure 5).

    Parameters
    ----------
    distances
        Symmetric (networks, networks) matrix with zero diagonal.
    n_clusters
        Number of flat clusters to cut the tree into.
    method
        Linkage of :func:`scipy.cluster.hierarchy.linkage` (``"average"``, ``"complete"``,
        ``"single"``, ``"ward"``...).

    Returns
    -------
    linkage : ndarray
        The linkage matrix, for :func:`scipy.cluster.hierarchy.dendrogram`.
    order : ndarray
        Leaf order of the dendrogram: reorder rows and columns with it to show the blocks.
    labels : ndarray
        Flat cluster of each network, ``0..n_clusters-1``.

    Examples
    --------
    >>> d = np.array([[0, 1, 9, 9], [1, 0, 9, 9], [9, 9, 0, 1], [9, 9, 1, 0]], dtype=float)
    >>> _, _, labels = cluster_networks(d, 2)
    >>> labels.tolist()
    [0, 0, 1, 1]
    """
    matrix = np.asarray(distances, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 2:
        raise ValueError(f"distances must be a square matrix of >= 2 networks, got {matrix.shape}")
    if not np.allclose(matrix, matrix.T) or not np.isfinite(matrix).all():
        raise ValueError("distances must be finite and symmetric: symmetrise with (d + d.T) / 2")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, int) or not (
        1 <= n_clusters <= len(matrix)
    ):
        raise ValueError(f"n_clusters must be an int in 1..{len(matrix)}, got {n_clusters!r}")
    condensed = squareform(matrix - np.diag(np.diag(matrix)), checks=False)
    linkage = hierarchy.linkage(condensed, method=method)
    order = hierarchy.leaves_list(linkage)
    flat = hierarchy.fcluster(linkage, n_clusters, criterion="maxclust")
    _, labels = np.unique(flat, return_inverse=True)
    first_seen = {label: rank for rank, label in enumerate(dict.fromkeys(labels))}
    return linkage, order, np.array([first_seen[label] for label in labels])


def adjusted_rand_index(labels_a: Sequence[Any], labels_b: Sequence[Any]) -> float:
    """Adjusted Rand index of two labellings (Hubert & Arabie 1985): 1 identical, ~0 chance.

    Examples
    --------
    >>> adjusted_rand_index([0, 0, 1, 1], ["a", "a", "b", "b"])
    1.0
    """
    a, b = np.asarray(list(labels_a)), np.asarray(list(labels_b))
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"labels_a and labels_b must be 1-D of equal length >= 2, got "
                         f"{a.shape} and {b.shape}")
    _, a_codes = np.unique(a, return_inverse=True)
    _, b_codes = np.unique(b, return_inverse=True)
    table = np.zeros((a_codes.max() + 1, b_codes.max() + 1))
    np.add.at(table, (a_codes, b_codes), 1)
    pairs = table * (table - 1) / 2
    sum_cells = pairs.sum()
    sum_rows = (table.sum(1) * (table.sum(1) - 1) / 2).sum()
    sum_cols = (table.sum(0) * (table.sum(0) - 1) / 2).sum()
    expected = sum_rows * sum_cols / math.comb(len(a), 2)
    maximum = (sum_rows + sum_cols) / 2
    if maximum == expected:
        return 1.0
    return float((sum_cells - expected) / (maximum - expected))


def subsample_neurons(activations: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """A random subset of ``count`` neurons (columns), e.g. Figure 4's 128 final-layer filters.

    Comparing layers of different widths with the same number of neurons keeps the ratio of
    datapoints to neurons, which CCA is sensitive to, equal across widths.
    """
    array = np.asarray(activations)
    if array.ndim != 2:
        raise ValueError(f"activations must be 2-D (datapoints, neurons), got shape {array.shape}")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= array.shape[1]:
        raise ValueError(
            f"count must be an int in 1..{array.shape[1]} (the layer's neurons), got {count!r}"
        )
    chosen = np.sort(np.random.default_rng(seed).choice(array.shape[1], count, replace=False))
    return array[:, chosen]
