"""Figure 5 (paper, Section 3.3): networks trained with different learning rates converge to
distinct clusters of representations, one per learning rate.

The paper compares layer 8 of 200 CIFAR-10 CNNs of one architecture, trained with several
learning rates, by PWCCA distance: the distance matrix is block diagonal, its clusters follow the
learning rate (Figure 5a). :func:`check_figure5` tests that claim on a ``(networks, networks)``
distance matrix, each network's learning rate and its test accuracy.

Two things make a weak version of the claim easy to pass, and the check guards against both:
clusters that agree with the learning rates better than chance only because one group (say an
undertrained smallest rate) stands apart while the others mix; and networks that did not train
at all, which differ from every trained network for a reason that has nothing to do with their
learning rate's solution.

Declared rules (module defaults): declared in commit d0cd1d7 (2026-11-29), after the pilot run
of 80083b8 (2026-11-28) had been published; see claims/register.toml:

- networks whose test accuracy is below ``accuracy_floor = 0.2`` (twice chance for 10 classes)
  did not train and are left out, and named in every test's statistic; a rate left with fewer
  than 2 networks is left out; fewer than 2 rates left makes the verdict None;
- ``alpha = 0.05``; the units are networks: every null permutes the learning-rate labels over
  networks (``n_permutations`` random relabellings);
- a learning rate "separates" when its networks are closer to each other than to the networks
  of the nearest other rate: ``min over other rates s of mean between(r, s) - mean within(r)``
  is larger than under relabelling; at least ``min_separated = 2`` rates must separate, decided
  by Holm's step-down over the rates (the ``min_separated``-th smallest p-value, Holm-adjusted,
  at most ``alpha``);
- a test that no outcome could pass with these networks is undecided (None), not failed: a rate's
  p is at least ``1 / C(networks, networks of the rate)`` (the relabellings that give it its own
  networks again), times Holm's factor; 2 networks per rate can never pass (4 rates: at best
  ``4 / 28``), 4 or more per rate can (3 rates of 4: ``3 / 495``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from morcos2018 import analysis
from morcos2018.claims import evidence
from morcos2018.claims.evidence import Evidence, Verdict

ALPHA = evidence.ALPHA
#: Test accuracy below which a network counts as not trained (10 classes: twice chance).
ACCURACY_FLOOR = 0.2
#: At least this many learning rates must form their own cluster.
MIN_SEPARATED = 2
N_PERMUTATIONS = 10_000


def check_figure5(
    distances: np.ndarray,
    rate_of: Sequence[float],
    accuracy: Sequence[float],
    *,
    accuracy_floor: float = ACCURACY_FLOOR,
    min_separated: int = MIN_SEPARATED,
    linkage: str = "average",
    alpha: float = ALPHA,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> Verdict:
    """Figure 5a: networks cluster by learning rate, and more than one rate forms its own cluster.

    Two tests over networks (paper, Section 3.3, Figure 5a):

    1. ``"clusters follow the learning rate"``: adjusted Rand index of a hierarchical clustering
       of the distances (``linkage``, cut into as many clusters as learning rates) against the
       learning rates, larger than under relabelling of the networks.
    2. ``"learning rates that form their own cluster"``: the number of rates whose networks are
       closer to each other than to the nearest other rate (module docstring), at least
       ``min_separated`` by Holm's step-down; ``pvalue`` is the Holm-adjusted p of the
       ``min_separated``-th most separated rate. The reason lists each rate's p-value.

    Parameters
    ----------
    distances
        Symmetric ``(networks, networks)`` distance matrix (the paper: PWCCA, layer 8).
    rate_of
        Learning rate of each network.
    accuracy
        Test accuracy of each network; networks below ``accuracy_floor`` are left out.
    accuracy_floor, min_separated, alpha
        The declared rules (module docstring).
    linkage
        Linkage method of :func:`morcos2018.analysis.cluster_networks`.
    n_permutations, seed
        Random relabellings of the networks, and their seed.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> rates = np.repeat([1e-4, 1e-3, 1e-2], 4)
    >>> d = np.where(rates[:, None] == rates[None, :], 0.4, 0.5)
    >>> d = d + np.random.default_rng(0).normal(0, 0.005, d.shape); d = (d + d.T) / 2
    >>> np.fill_diagonal(d, 0)
    >>> check_figure5(d, rates, np.full(12, 0.85), n_permutations=500).holds
    True
    """
    matrix, rates, scores = _check(distances, rate_of, accuracy, min_separated)
    trained = scores >= accuracy_floor
    kept_rates, counts = np.unique(rates[trained], return_counts=True)
    kept = trained & np.isin(rates, kept_rates[counts >= 2])
    left_out = _left_out_text(rates, scores, trained, kept, accuracy_floor)
    d, labels = matrix[np.ix_(kept, kept)], rates[kept]
    values = np.unique(labels)
    claim = ("Figure 5a: networks trained with different learning rates converge to distinct "
             "clusters, one per learning rate (more than one rate forms its own cluster)")
    cluster_name = "clusters follow the learning rate"
    separate_name = "learning rates that form their own cluster"
    if len(values) < 2:
        reason = (f"too few units: {len(values)} learning rate(s) with 2 or more trained "
                  f"networks; {left_out}")
        return Verdict(claim, tuple(
            evidence.inconclusive(name, "", float("nan"), "", int(kept.sum()), "networks", reason)
            for name in (cluster_name, separate_name)))
    codes = np.searchsorted(values, labels)
    rng = np.random.default_rng(seed)
    relabelled = np.array([rng.permutation(codes) for _ in range(n_permutations)])
    return Verdict(claim, (
        _cluster_test(d, codes, relabelled, linkage, alpha,
                      _smallest_cluster_p(codes, n_permutations), left_out, cluster_name),
        _separation_test(d, codes, values, relabelled, min_separated, alpha,
                         _smallest_separation_p(codes, n_permutations, min_separated), left_out,
                         separate_name),
    ))


#: Figure 5 with rate and training length separable (issue 25, item 2): how the two arms decide.
ARMS_RULE = (
    "check_figure5 (its declared alpha, accuracy floor, minimum of separated rates and "
    "relabellings) on each arm of the same networks: 'equal training loss' reads every network "
    "at the first epoch whose training loss is at most the profile's equal_loss (its last "
    "epoch if never, named in the record), 'fixed epochs' after the profile's fixed_epochs; "
    "holds when every test of both arms holds, inconclusive otherwise (with each arm's reason); "
    "check_figure5 has no contradicting outcome, so neither has this")


def check_figure5_arms(arms: Mapping[str, tuple[np.ndarray, Sequence[float], Sequence[float]]],
                       **options: Any) -> Verdict:
    """Figure 5a with the learning rate separated from the training length (:data:`ARMS_RULE`).

    Parameters
    ----------
    arms
        ``{arm name: (distances, rate_of, accuracy)}`` of :func:`check_figure5`, one reading of
        the same networks per arm (e.g. ``"equal training loss"`` and ``"fixed epochs"``).
    **options
        Passed to :func:`check_figure5` for every arm (``linkage``, ``n_permutations``, ...).

    Returns
    -------
    Verdict
        Every arm's tests, each name prefixed by its arm; it holds when every one holds.

    Examples
    --------
    >>> rates = np.repeat([1e-4, 1e-3, 1e-2], 4)
    >>> d = np.where(rates[:, None] == rates[None, :], 0.4, 0.5)
    >>> d = d + np.random.default_rng(0).normal(0, 0.005, d.shape); d = (d + d.T) / 2
    >>> np.fill_diagonal(d, 0)
    >>> mixed = np.full_like(d, 0.5) - 0.1 * np.eye(12)
    >>> arms = {"equal loss": (d, rates, np.full(12, 0.85)),
    ...         "fixed epochs": (mixed, rates, np.full(12, 0.85))}
    >>> verdict = check_figure5_arms(arms, n_permutations=500)
    >>> verdict.outcome, [t.outcome for t in verdict.tests]
    ('inconclusive', ['holds', 'holds', 'inconclusive', 'inconclusive'])
    """
    if not arms:
        raise ValueError("arms must name at least one reading of the networks, e.g. "
                         "{'equal training loss': (distances, rate_of, accuracy)}")
    return Verdict(
        "Figure 5a: networks trained with different learning rates converge to distinct "
        "clusters, one per learning rate, both when read at equal training loss and after "
        f"equal epochs ({', '.join(arms)})",
        evidence.reading_tests({arm: check_figure5(*arm_input, **options)
                                for arm, arm_input in arms.items()}))


def arm_epochs(losses: Sequence[float], equal_loss: float, fixed_epochs: int) -> dict[str, Any]:
    """The two epochs at which one network is read (:data:`ARMS_RULE`).

    Parameters
    ----------
    losses
        The network's training loss after epochs ``1..E`` (epoch 0 has none).
    equal_loss, fixed_epochs
        The profile's levels.

    Returns
    -------
    dict
        ``"equal training loss"`` (the first epoch whose loss is at most ``equal_loss``, else the
        last), ``"reached"`` (whether one was), ``"fixed epochs"``.

    Examples
    --------
    >>> arm_epochs([0.9, 0.3, 0.05, 0.2], 0.1, 2)
    {'equal training loss': 3, 'reached': True, 'fixed epochs': 2}
    >>> arm_epochs([0.9, 0.3], 0.1, 2)["reached"]
    False
    """
    losses = np.asarray(losses, dtype=float)
    if not 1 <= fixed_epochs <= len(losses):
        raise ValueError(f"fixed_epochs must be in 1..{len(losses)} (the epochs trained); "
                         f"found {fixed_epochs}: train longer or lower fixed_epochs")
    below = np.flatnonzero(losses <= equal_loss)
    return {"equal training loss": int(below[0] + 1) if len(below) else len(losses),
            "reached": bool(len(below)), "fixed epochs": int(fixed_epochs)}


def rate_separation(distances: np.ndarray, codes: np.ndarray, n_rates: int) -> np.ndarray:
    """Per rate: mean distance to the nearest other rate's networks minus its within distance.

    ``codes`` holds each network's rate as ``0..n_rates-1``; rows of a 2-D ``codes`` are
    labellings, and the result then has one row per labelling.

    Examples
    --------
    >>> d = np.array([[0, 1, 4, 5], [1, 0, 4, 5], [4, 4, 0, 3], [5, 5, 3, 0]], dtype=float)
    >>> rate_separation(d, np.array([0, 0, 1, 1]), 2).tolist()
    [3.5, 1.5]
    """
    one_hot = (np.atleast_2d(codes)[:, :, None] == np.arange(n_rates)).astype(float)
    sums = np.swapaxes(one_hot, 1, 2) @ distances @ one_hot
    sizes = one_hot.sum(axis=1)
    pairs = sizes[:, :, None] * sizes[:, None, :]
    pairs -= np.eye(n_rates) * sizes[:, :, None]  # within: ordered pairs of distinct networks
    means = sums / pairs
    within = np.diagonal(means, axis1=1, axis2=2)
    nearest = np.where(np.eye(n_rates, dtype=bool), np.inf, means).min(axis=2)
    result = nearest - within
    return result[0] if np.ndim(codes) == 1 else result


def _cluster_test(d, codes, relabelled, linkage, alpha, smallest, left_out, name) -> Evidence:
    n_rates = int(codes.max()) + 1
    _, _, clusters = analysis.cluster_networks(d, n_rates, method=linkage)
    observed = analysis.adjusted_rand_index(clusters, codes)
    null = np.array([analysis.adjusted_rand_index(clusters, order) for order in relabelled])
    pvalue = evidence.null_pvalue(observed, null, "greater", exact=False)
    holds, reason = evidence.decide(pvalue, smallest, alpha)
    low, high = np.quantile(null, [0.025, 0.975])
    # The relabellings' range describes the null, not the effect: it goes in the null's text,
    # and the effect has no interval (Evidence.interval is an interval of the effect).
    return Evidence(
        name,
        f"adjusted Rand index of {linkage}-linkage clusters ({n_rates}) vs learning rates; "
        f"{left_out}",
        observed,
        f"learning rates permuted over networks ({len(null)} relabellings; 95% of them "
        f"between {low:.3g} and {high:.3g})",
        float(null.mean()), pvalue, len(codes), "networks",
        effect=observed - float(null.mean()),
        holds=holds, reason=reason,
    )


def _separation_test(d, codes, values, relabelled, min_separated, alpha, smallest, left_out,
                     name) -> Evidence:
    n_rates = len(values)
    observed = rate_separation(d, codes, n_rates)
    null = rate_separation(d, relabelled, n_rates)
    pvalues = evidence.null_pvalue(observed, null, "greater", exact=False)
    order = np.argsort(pvalues)
    adjusted = evidence.holm(pvalues)[order]
    separated = int(np.sum(adjusted <= alpha))
    statistic = (f"number of learning rates closer within than to the nearest other rate "
                 f"(Holm, alpha {alpha:g}); {left_out}")
    per_rate = ", ".join(f"{values[i]:g}: p = {pvalues[i]:.3g}" for i in order)
    null_text = (f"learning rates permuted over networks ({len(null)} relabellings); at least "
                 f"{min_separated} rates must separate")
    if n_rates < min_separated:
        return evidence.inconclusive(
            name, statistic, separated, null_text, len(codes), "networks",
            f"too few units: {n_rates} learning rates left, fewer than {min_separated}; "
            f"{per_rate}")
    pvalue = float(adjusted[min_separated - 1])
    holds, reason = evidence.decide(pvalue, smallest, alpha)
    return Evidence(
        name, statistic, separated, null_text, None, pvalue, len(codes), "networks",
        effect=float(np.sort(observed - null.mean(axis=0))[::-1][min_separated - 1]),
        holds=holds, reason="; ".join(filter(None, [reason, f"per rate: {per_rate}"])),
    )


def _labellings(codes: np.ndarray) -> int:
    """Distinct labellings of the networks with these group sizes (a multinomial coefficient)."""
    count = math.factorial(len(codes))
    for size in np.bincount(codes):
        count //= math.factorial(int(size))
    return count


def _smallest_cluster_p(codes: np.ndarray, n_permutations: int) -> float:
    """The smallest p the cluster test allows: the adjusted Rand index ignores the clusters'
    names, so every relabelling that swaps whole rates of equal size ties with the observed one."""
    sizes = np.bincount(codes)
    ties = math.prod(math.factorial(int(count)) for count in np.bincount(sizes)[1:])
    return max(1 / (1 + n_permutations), ties / _labellings(codes))


def _smallest_separation_p(codes: np.ndarray, n_permutations: int, min_separated: int) -> float:
    """The smallest Holm-adjusted p the separation test allows for its ``min_separated``-th rate.

    A rate's separation depends on which networks carry it: a relabelling that gives rate ``r``
    its own ``n_r`` networks again has its separation (up to the split of the others), so rate
    ``r``'s p is at least ``1 / C(networks, n_r)``; Holm's step-down then multiplies the j-th
    smallest (from 0) by ``rates - j``. With 2 networks for each of 4 rates, perfectly
    separated rates give at best ``4 / 28 > 0.05``: no outcome could hold, and the test says so.
    """
    sizes = np.bincount(codes)
    each = np.sort([max(1 / (1 + n_permutations), 1 / math.comb(len(codes), int(n)))
                    for n in sizes])
    return float(np.sort(evidence.holm(each))[min(min_separated, len(sizes)) - 1])


def _left_out_text(rates, scores, trained, kept, floor) -> str:
    untrained = np.flatnonzero(~trained)
    alone = np.flatnonzero(trained & ~kept)
    parts = []
    if len(untrained):
        parts.append(f"left out {len(untrained)} network(s) below accuracy {floor:g} (did not "
                     f"train): " + ", ".join(f"#{i} (lr {rates[i]:g}, {scores[i]:.3g})"
                                             for i in untrained))
    if len(alone):
        parts.append(f"left out {len(alone)} network(s) whose rate kept fewer than 2: "
                     + ", ".join(f"#{i} (lr {rates[i]:g})" for i in alone))
    return "; ".join(parts) or "every network trained (none left out)"


def _check(distances, rate_of, accuracy, min_separated):
    matrix = np.asarray(distances, dtype=float)
    rates = np.asarray(rate_of, dtype=float)
    scores = np.asarray(accuracy, dtype=float)
    if matrix.ndim != 2 or matrix.shape != (len(rates), len(rates)):
        raise ValueError(f"distances must be (networks, networks) with one learning rate per "
                         f"network; found shape {matrix.shape} and {len(rates)} rates.")
    if scores.shape != rates.shape or not np.isfinite(scores).all():
        raise ValueError(f"accuracy must hold one finite value per network ({len(rates)}); "
                         f"found shape {scores.shape}.")
    if not np.isfinite(matrix).all() or not np.allclose(matrix, matrix.T):
        raise ValueError("distances must be finite and symmetric: symmetrise with (d + d.T) / 2.")
    if isinstance(min_separated, bool) or not isinstance(min_separated, int) or min_separated < 1:
        raise ValueError(f"min_separated must be a positive int; found {min_separated!r}.")
    return matrix - np.diag(np.diag(matrix)), rates, scores


# --------------------------------------------------------------------------- measured numbers
# The numbers fig5_learning_rate.ipynb records beside its verdict (record_claim's ``measured``).


def rate_distances(distances: np.ndarray, rate_of: np.ndarray,
                   learning_rates: Sequence[float]) -> np.ndarray:
    """Mean distance between the networks of two learning rates; on the diagonal, between
    distinct networks of one rate.

    Parameters
    ----------
    distances : ndarray, shape (networks, networks)
        Pairwise distances.
    rate_of : ndarray, shape (networks,)
        Each network's learning rate.
    learning_rates : sequence of float
        The rates, in the order of the rows and columns.

    Returns
    -------
    ndarray, shape (rates, rates)

    Examples
    --------
    >>> d = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 2], [4, 4, 2, 0]], dtype=float)
    >>> rate_distances(d, np.array([0.1, 0.1, 0.2, 0.2]), [0.1, 0.2]).tolist()
    [[1.0, 4.0], [4.0, 2.0]]
    """
    return np.array([[
        distances[np.ix_(rate_of == a, rate_of == b)][~np.eye(np.sum(rate_of == a), dtype=bool)]
        .mean() if a == b else distances[np.ix_(rate_of == a, rate_of == b)].mean()
        for b in learning_rates] for a in learning_rates])


def figure5_measured(layer: str, learning_rates: Sequence[float], distances: np.ndarray,
                     rate_of: np.ndarray, clusters: np.ndarray, rate_distance: np.ndarray,
                     test_accuracy: np.ndarray, train_accuracy: np.ndarray,
                     stopped_at: np.ndarray) -> dict:
    """Figure 5: how well the clusters recover the learning rates, per cluster and per rate,
    and every network's outcome.

    Parameters
    ----------
    layer : str
        The layer compared.
    learning_rates : sequence of float
        The rates.
    distances : ndarray, shape (networks, networks)
        Pairwise PWCCA distances.
    rate_of, clusters : ndarray, shape (networks,)
        Each network's learning rate and cluster (0-based).
    rate_distance : ndarray
        :func:`rate_distances`.
    test_accuracy, train_accuracy, stopped_at : ndarray, shape (networks,)
        Each network's final accuracies and epochs trained.

    Returns
    -------
    dict

    Examples
    --------
    >>> d = np.array([[0, 0.1, 0.9, 0.9], [0.1, 0, 0.9, 0.9], [0.9, 0.9, 0, 0.1],
    ...               [0.9, 0.9, 0.1, 0]])
    >>> rates, clusters = np.array([0.1, 0.1, 0.01, 0.01]), np.array([0, 0, 1, 1])
    >>> acc = np.array([0.5, 0.6, 0.7, 0.8])
    >>> m = figure5_measured("conv2", [0.1, 0.01], d, rates, clusters,
    ...                      rate_distances(d, rates, [0.1, 0.01]), acc, acc, np.array([1] * 4))
    >>> m["adjusted Rand index (every network)"], m["clusters"]["cluster 2"]["learning rates"]
    (1.0, [0.01])
    """
    codes = np.array([learning_rates.index(rate) for rate in rate_of])
    separation = rate_separation(distances, codes, len(learning_rates))
    by_cluster = {f"cluster {c + 1}": {
        "learning rates": sorted({float(r) for r in rate_of[clusters == c]}),
        "networks": int(np.sum(clusters == c)),
        "test accuracy": float(test_accuracy[clusters == c].mean())}
        for c in range(len(learning_rates))}
    return {"layer": layer, "learning rates": learning_rates,
            "adjusted Rand index (every network)": analysis.adjusted_rand_index(clusters, rate_of),
            "separation per learning rate (every network)": {
                f"{rate:g}": value
                for rate, value in zip(learning_rates, separation, strict=True)},
            "clusters": by_cluster,
            "test accuracy per learning rate": [float(test_accuracy[rate_of == r].mean())
                                                for r in learning_rates],
            "mean distance between learning rates (rows, within on the diagonal)":
                rate_distance.round(4).tolist(),
            "test accuracy per network": test_accuracy.tolist(),
            "train accuracy per network": train_accuracy.tolist(),
            "epochs trained per network": stopped_at.tolist(),
            "learning rate per network": rate_of.tolist()}


def figure5_readings_measured(layer: str, learning_rates: Sequence[float],
                              read: Mapping[str, Mapping[str, Any]], rate_of: np.ndarray,
                              reached: Sequence[bool] | None,
                              table: Mapping[str, Any]) -> dict:
    """Figure 5's measured numbers at each reading of the networks (the notebook's ``read``:
    :func:`morcos2018.cnn_groups.figure5_read`, each reading with its ``rate_distance``).

    One reading (the default design: every network at its last epoch) gives
    :func:`figure5_measured`; the two arms of :data:`ARMS_RULE` give it per arm, with each
    network's training loss where it was read, the arms' levels and which networks never
    reached ``equal_loss`` (read at their last epoch instead).
    """
    def one(r):
        return figure5_measured(layer, learning_rates, r["distances"], rate_of, r["clusters"],
                                r["rate_distance"], r["test_accuracy"], r["train_accuracy"],
                                r["epochs"])
    if reached is None:
        (only,) = read.values()
        return one(only)
    missed = [i for i, ok in enumerate(reached) if not ok]
    return {"layer": layer, "learning rates": list(learning_rates),
            "equal training loss (at most)": float(table["equal_loss"]),
            "fixed epochs": int(table["fixed_epochs"]), "epochs trained": int(table["epochs"]),
            "networks that never reached the equal loss (read at their last epoch)": [
                f"#{i} (lr {rate_of[i]:g})" for i in missed],
            "arms": {reading: {**one(r), "training loss per network": r["loss"].tolist(),
                               "training loss per learning rate": [
                                   float(r["loss"][rate_of == rate].mean())
                                   for rate in learning_rates],
                               "epochs read per learning rate": [
                                   float(r["epochs"][rate_of == rate].mean())
                                   for rate in learning_rates]}
                     for reading, r in read.items()}}
