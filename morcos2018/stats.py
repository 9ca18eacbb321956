"""Statistics over groups of networks, from a matrix of pairwise distances.

The paper reports distances as mean +- std over network pairs, within a group (e.g. the five
generalizing CNNs of Figure 3) and between groups (generalizing vs memorizing), and correlates
distance with test accuracy (Figure 4b, r = -0.96). These helpers compute those numbers and a
permutation test of group differences. NumPy/SciPy only.

A distance matrix ``d`` is square, one row and column per network; ``d[i, j]`` is the distance
between networks ``i`` and ``j``. Within a group only the upper triangle (``i < j``) is read;
between groups ``a`` and ``b`` the block ``d[a][:, b]`` is read. Asymmetric measures (PWCCA
takes its weights from the first argument) should be symmetrised by the caller, e.g.
``(d + d.T) / 2``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import stats as _scipy_stats

Statistic = Callable[[np.ndarray, np.ndarray, np.ndarray], float]
#: Statistics this close to the observed one count as ties (as extreme as it).
TIE = 1e-12


class PairStats(NamedTuple):
    """Mean and standard deviation (ddof=0) of distances over ``n_pairs`` network pairs."""

    mean: float
    std: float
    n_pairs: int


class RelabellingResult(NamedTuple):
    """A network-relabelling test (:func:`permutation_test`): the observed statistic, its p-value
    and how many labellings the null used (not :class:`cca.PermutationResult`, whose units are
    datapoints)."""

    statistic: float
    pvalue: float
    n_permutations: int
    exact: bool


class Correlation(NamedTuple):
    """Pearson correlation ``r`` of ``n`` pairs and its two-sided p-value."""

    r: float
    pvalue: float
    n: int


def within_group(distances: np.ndarray, group: Sequence[int]) -> PairStats:
    """Mean +- std of the distances between all pairs of networks inside ``group``.

    Parameters
    ----------
    distances
        Square pairwise distance matrix, shape (networks, networks).
    group
        Indices of at least two distinct networks.

    Examples
    --------
    >>> d = np.array([[0, 1, 3], [1, 0, 5], [3, 5, 0]], dtype=float)
    >>> within_group(d, [0, 1, 2]).mean
    3.0
    """
    matrix = _check_distances(distances)
    members = _check_group(group, matrix.shape[0], "group", minimum=2)
    return _pair_stats(_within_values(matrix, members))


def between_groups(
    distances: np.ndarray, group_a: Sequence[int], group_b: Sequence[int]
) -> PairStats:
    """Mean +- std of the distances ``d[i, j]``, ``i`` in ``group_a`` and ``j`` in ``group_b``.

    Examples
    --------
    >>> d = np.array([[0, 1, 3], [1, 0, 5], [3, 5, 0]], dtype=float)
    >>> between_groups(d, [0, 1], [2]).mean
    4.0
    """
    matrix = _check_distances(distances)
    a = _check_group(group_a, matrix.shape[0], "group_a", minimum=1)
    b = _check_group(group_b, matrix.shape[0], "group_b", minimum=1)
    if np.intersect1d(a, b).size:
        raise ValueError(
            f"group_a and group_b share networks {np.intersect1d(a, b).tolist()}: "
            "the groups must be disjoint"
        )
    return _pair_stats(matrix[np.ix_(a, b)].ravel())


def within_difference(distances: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Mean within-``a`` distance minus mean within-``b`` distance (Figure 3's comparison).

    A statistic for :func:`permutation_test`: ``a`` and ``b`` are integer index arrays.
    """
    return float(_within_values(distances, a).mean() - _within_values(distances, b).mean())


def separation(distances: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Mean between-group distance minus the mean of the two within-group means (clustering).

    A statistic for :func:`permutation_test`: ``a`` and ``b`` are integer index arrays.
    """
    within = (_within_values(distances, a).mean() + _within_values(distances, b).mean()) / 2
    return float(distances[np.ix_(a, b)].mean() - within)


def permutation_test(
    distances: np.ndarray,
    group_a: Sequence[int],
    group_b: Sequence[int],
    statistic: Statistic = within_difference,
    alternative: str = "two-sided",
    n_permutations: int = 10_000,
    seed: int | None = 0,
) -> RelabellingResult:
    """Permutation test of a difference between two groups of networks.

    The null hypothesis is that the group labels are exchangeable. Network labels are shuffled
    (not the pair distances, which are dependent because pairs share networks) and the
    statistic is recomputed from the distance matrix for each relabelling. When there are at
    most ``n_permutations`` ways to split the networks, all of them are enumerated (an exact
    test, the observed split included); otherwise ``n_permutations`` random splits are drawn
    and ``p = (1 + #{null >= observed}) / (1 + n_permutations)``: this is
    :func:`scipy.stats.permutation_test` with ``permutation_type="independent"`` over the
    networks' indices. ``"two-sided"`` compares absolute values (for statistics centred on 0
    under the null), not scipy's doubled one-sided p.

    Parameters
    ----------
    distances
        Square pairwise distance matrix over (at least) the networks of both groups.
    group_a, group_b
        Disjoint network indices; each needs two networks if ``statistic`` uses within-group
        pairs (both shipped statistics do).
    statistic
        ``f(distances, a, b) -> float``; :func:`within_difference` (default) or
        :func:`separation`, or your own.
    alternative
        ``"greater"`` (observed larger than under the null), ``"less"`` or ``"two-sided"``
        (compares absolute values; meant for statistics centred on 0 under the null, such as
        :func:`within_difference`).
    n_permutations
        Random relabellings drawn when exact enumeration would need more.
    seed
        Seed of the random relabellings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = rng.uniform(0.4, 0.6, (10, 10)); d = (d + d.T) / 2
    >>> d[:5, :5] -= 0.3  # group a is tighter
    >>> result = permutation_test(d, range(5), range(5, 10), alternative="less")
    >>> result.pvalue < 0.01, result.exact
    (True, True)
    """
    matrix = _check_distances(distances)
    a = _check_group(group_a, matrix.shape[0], "group_a", minimum=1)
    b = _check_group(group_b, matrix.shape[0], "group_b", minimum=1)
    if np.intersect1d(a, b).size:
        raise ValueError("group_a and group_b must be disjoint")
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(
            f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}"
        )
    if not isinstance(n_permutations, int) or n_permutations < 1:
        raise ValueError(f"n_permutations must be a positive integer, got {n_permutations!r}")
    pooled = np.concatenate([a, b])
    if not np.isfinite(matrix[np.ix_(pooled, pooled)]).all():
        raise ValueError(
            "distances holds NaN or infinite entries among these networks: fill every pair"
        )
    observed = float(statistic(matrix, a, b))
    target = abs(observed) if alternative == "two-sided" else observed

    def relabelled(first: np.ndarray, second: np.ndarray) -> float:
        value = float(statistic(matrix, first.astype(int), second.astype(int)))
        value = abs(value) if alternative == "two-sided" else value
        # a relabelling within rounding (1e-12) of the observed statistic ties with it
        return target if abs(value - target) <= TIE else value

    # The units are networks: scipy permutes their labels (the indices), never the pairs.
    result = _scipy_stats.permutation_test(
        (a, b), relabelled, permutation_type="independent",
        alternative="greater" if alternative == "two-sided" else alternative,
        n_resamples=n_permutations, vectorized=False, rng=np.random.default_rng(seed),
    )
    exact = math.comb(len(pooled), len(a)) <= n_permutations
    return RelabellingResult(observed, float(result.pvalue), len(result.null_distribution), exact)


def pearson(x: Sequence[float], y: Sequence[float]) -> Correlation:
    """Pearson correlation of ``x`` and ``y`` with its two-sided p-value (Figure 4b).

    Examples
    --------
    >>> pearson([1, 2, 3, 4], [2, 4, 5, 9]).r > 0.9
    True
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise ValueError(
            f"x and y must be 1-D and of equal length, got shapes {xs.shape} and {ys.shape}"
        )
    if len(xs) < 3:
        raise ValueError(f"pearson needs at least 3 pairs, got {len(xs)}")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise ValueError("x and y must be finite: drop the NaN or infinite entries first")
    if np.ptp(xs) == 0 or np.ptp(ys) == 0:
        raise ValueError("x and y must each vary: a constant input has no correlation")
    result = _scipy_stats.pearsonr(xs, ys)
    return Correlation(float(result[0]), float(result[1]), len(xs))


def _within_values(matrix: np.ndarray, members: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(len(members), k=1)
    return matrix[members[rows], members[cols]]


def _pair_stats(values: np.ndarray) -> PairStats:
    if not np.isfinite(values).all():
        raise ValueError(
            "distances holds NaN or infinite entries for the requested pairs: fill the matrix "
            "for every pair of these networks"
        )
    return PairStats(float(values.mean()), float(values.std()), int(values.size))


def _check_distances(distances: np.ndarray) -> np.ndarray:
    matrix = np.asarray(distances, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"distances must be a square (networks, networks) matrix, got shape {matrix.shape}"
        )
    return matrix


def _check_group(group: Sequence[int], n_networks: int, name: str, minimum: int) -> np.ndarray:
    members = np.asarray(list(group))
    if members.ndim != 1 or (members.size and not np.issubdtype(members.dtype, np.integer)):
        raise ValueError(f"{name} must be a sequence of network indices, got {group!r}")
    if members.size < minimum:
        raise ValueError(f"{name} needs at least {minimum} networks, got {members.size}")
    if len(np.unique(members)) != members.size:
        raise ValueError(f"{name} repeats networks: {members.tolist()}")
    if members.size and (members.min() < 0 or members.max() >= n_networks):
        raise ValueError(
            f"{name} has indices {members.tolist()} outside the distance matrix's "
            f"{n_networks} networks"
        )
    return members
