"""Figure 1: representations keep converging after performance has, as claim checks.

Figure 1 a-c, :func:`coefficients_lag_performance`
    Sorted canonical correlations of a layer at checkpoint t with the same layer at the end
    (:func:`morcos2018.analysis.sorted_correlations`): the paper's claim is that many are
    still unconverged when accuracy (CNN) or perplexity (LSTM) has converged. Declared:
    performance has converged at the first checkpoint from which every later one is within
    :data:`TOLERANCES` of the final value; a coefficient is unconverged below
    :data:`UNCONVERGED_BELOW`; "many" is at least :data:`MIN_FRACTION` of them. The baseline is
    the same fraction one step from the end (:data:`BASELINE_CHECKPOINT`: the second-to-last
    checkpoint against the final one), the floor of a layer's change between two checkpoints
    once training has ended. (Until 2026-12-05 it was the final checkpoint against itself,
    0 by construction: claims/register.toml.) Units: networks (independent trainings).

Figure 1 d-f, :func:`directions_against_noise`
    CCA between an early and a mid-training checkpoint gives directions ordered by correlation;
    the top ones ("stable") should stay carried by the layer, the bottom ones ("unstable") should
    decorrelate like noise (:func:`morcos2018.analysis.direction_stability`). "Top closer
    than bottom" alone follows from how the two sets are chosen, so **each** set is compared with
    a noise baseline: the top set must end clearly below the chance level of its distance to the
    final layer (the set's datapoints permuted, :func:`cca.permutation_test`); the bottom set
    must end *at* the noise level, an equivalence, against the chance level of directions chosen
    the same way (early's rows permuted before the bottom directions are chosen against mid:
    being chosen least correlated with mid makes a set farther from a final layer like mid than
    a random one, :data:`NOISE_LEVEL_TEST`). Units: networks; with one network, the top set's test
    is over that network's row permutations and says so (see :func:`.evidence.against_chance`),
    and the equivalence is inconclusive.

Thresholds are module constants, declared with the checks and passed as parameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

import cca
from morcos2018.claims import evidence

#: Declared: performance has converged at the first checkpoint from which every later
#: checkpoint is within this of the final value: (kind, tolerance); "absolute" for accuracy,
#: "relative" (a share of the final value) for perplexity.
TOLERANCES = {"accuracy": ("absolute", 0.01), "perplexity": ("relative", 0.05)}
#: Declared: a canonical correlation with the final layer below this is unconverged.
UNCONVERGED_BELOW = 0.9
#: Declared: "many" coefficients is at least this share of them (mean over networks).
MIN_FRACTION = 0.25
#: Declared: the baseline's checkpoint, as an index of the checkpoints (its coefficients with
#: the final one): -2, the last step of training.
BASELINE_CHECKPOINT = -2

#: Declared: stable directions end at a distance closing at least this share of the gap from
#: the chance level to 0 (distance <= 0.5 x chance) ...
STABLE_SHARE = 0.5
#: ... and unstable ones end at the noise level: their distance over its chance level within
#: 1 +- this (:data:`NOISE_LEVEL_TEST`; until 2026-12-05 one-sided, distance >= 0.8 x chance).
NOISE_SHARE = 0.2
#: How "at the noise level" is tested (changed 2026-12-05: claims/register.toml).
NOISE_LEVEL_TEST = (
    "equivalence: per network, the bottom set's distance to the final layer over the mean "
    "distance of bottom sets chosen after early's rows are permuted (the chance level of "
    "directions chosen least correlated with mid) lies within 1 +- NOISE_SHARE; two one-sided "
    "sign-flip tests over networks"
)
#: Row permutations per chance level.
N_PERMUTATIONS = 200

COEFFICIENTS_CLAIM = (
    "Figure 1 a-c: many CCA coefficients between a layer during training and at the end are "
    "still unconverged when performance has converged"
)
DIRECTIONS_CLAIM = (
    "Figure 1 d-f: the top (stable) CCA directions of an early vs a mid-training checkpoint stay "
    "carried by the layer, clearly below the noise level, while the bottom (unstable) ones end at "
    "the noise level"
)


def converged_checkpoint(
    performance: Sequence[float], *, metric: str = "accuracy", tolerance: float | None = None
) -> int:
    """First checkpoint from which performance stays within ``tolerance`` of its final value.

    Parameters
    ----------
    performance : sequence of float
        One value per checkpoint, the last being the final one (train accuracy, validation
        perplexity). NaN (e.g. no accuracy measured before training) counts as not converged.
    metric : {"accuracy", "perplexity"}
        Chooses the kind of tolerance (:data:`TOLERANCES`).
    tolerance : float, optional
        Overrides the metric's default (absolute for accuracy, relative for perplexity).

    Returns
    -------
    int
        Index of the checkpoint; the last index when only the final value is within tolerance.

    Examples
    --------
    >>> converged_checkpoint([float("nan"), 0.42, 0.81, 0.991, 1.0, 0.997])
    3
    >>> converged_checkpoint([2002.5, 106.2, 70.2, 60.1, 57.2, 55.9, 55.4], metric="perplexity")
    4
    """
    values = np.asarray(performance, dtype=float)
    kind, tolerance = _tolerance(metric, tolerance)
    if values.ndim != 1 or len(values) < 2 or not np.isfinite(values[-1]):
        raise ValueError(
            "performance must hold one value per checkpoint (at least 2), the final one finite; "
            f"found shape {values.shape} ending in {values[-1:] if values.ndim == 1 else values}."
        )
    scale = abs(values[-1]) if kind == "relative" else 1.0
    within = np.abs(values - values[-1]) <= tolerance * scale + 1e-12
    outside = np.flatnonzero(~within)
    return int(outside[-1] + 1) if len(outside) else 0


def coefficients_lag_performance(
    correlations: Sequence[np.ndarray] | Sequence[Sequence[np.ndarray]],
    performance: Sequence[float] | Sequence[Sequence[float]],
    *,
    metric: str = "accuracy",
    tolerance: float | None = None,
    unconverged_below: float = UNCONVERGED_BELOW,
    min_fraction: float = MIN_FRACTION,
    baseline_checkpoint: int = BASELINE_CHECKPOINT,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Verdict:
    """Figure 1 a-c: many coefficients unconverged when performance has converged.

    Per network: ``t*`` = :func:`converged_checkpoint` of its performance; the statistic is the
    fraction of its canonical correlations with the final layer below ``unconverged_below`` at
    ``t*``, the baseline the same fraction at ``baseline_checkpoint`` (the second-to-last: what
    one step of training still changes at the end). A sign-flip test over networks
    (:func:`.evidence.sign_flip`, "greater") of the excess beyond the declared threshold: it
    holds when the mean excess is significantly beyond ``min_fraction`` (with 5 networks: every
    network's excess beyond it), and it is contradicted when the excess is significantly below
    ``min_fraction``. With fewer than 5 networks the test is inconclusive (no outcome reaches
    p <= 0.05), and the reason says so; the fraction is still reported. When a network's
    performance converges only at its final checkpoint there is nothing to compare, and the test
    is inconclusive.

    Parameters
    ----------
    correlations : sequence of ndarray, or a sequence of them per network
        For one network, one array of sorted canonical correlations per checkpoint, each against
        the final checkpoint (:func:`morcos2018.analysis.sorted_correlations`); for several,
        a sequence of those.
    performance : sequence of float, or a sequence of them per network
        Train accuracy or validation perplexity, one value per checkpoint (same checkpoints).
    metric : {"accuracy", "perplexity"}
        How convergence is judged (:data:`TOLERANCES`).
    tolerance : float, optional
        Overrides the metric's declared tolerance.
    unconverged_below : float
        Declared: a coefficient below this is unconverged (default 0.9).
    min_fraction : float
        Declared: "many" is at least this share of the coefficients (default 0.25).
    baseline_checkpoint : int
        Declared: the checkpoint whose fraction is the baseline (default -2).
    alpha : float
        Significance level of the one-sided test.
    seed : int
        Seed of random sign flips and of the bootstrap interval.

    Returns
    -------
    Verdict
        One test, ``"coefficients unconverged when performance has converged"``: ``value`` is the
        mean fraction at ``t*``, ``null_value`` the mean fraction at ``baseline_checkpoint``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def network():  # 10 epochs; accuracy converges at epoch 7, coefficients at epoch 9
    ...     low = [*np.linspace(0.2, 0.48, 8), 0.85, 0.92]
    ...     rho = [np.sort(rng.uniform(low[t], 1.0, 64))[::-1] for t in range(10)]
    ...     return [*rho, np.ones(64)], [np.nan, *np.linspace(0.4, 0.99, 7), 0.995, 1.0, 0.997]
    >>> runs = [network() for _ in range(5)]
    >>> verdict = coefficients_lag_performance([r for r, _ in runs], [a for _, a in runs])
    >>> verdict.holds
    True
    >>> coefficients_lag_performance(*runs[0]).holds is None  # one network: inconclusive
    True
    """
    networks = _per_network(correlations, performance)
    if not 0 < unconverged_below <= 1:
        raise ValueError(f"unconverged_below must be in (0, 1]; found {unconverged_below!r}.")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction must be in (0, 1]; found {min_fraction!r}.")
    kind, tol = _tolerance(metric, tolerance)
    at_convergence, at_final, converged = [], [], []
    for rho, values in networks:
        t_star = converged_checkpoint(values, metric=metric, tolerance=tolerance)
        converged.append(t_star)
        at_convergence.append(float(np.mean(rho[t_star] < unconverged_below)))
        at_final.append(float(np.mean(rho[baseline_checkpoint] < unconverged_below)))
    name = "coefficients unconverged when performance has converged"
    rule = (
        f"{metric} converged: the first checkpoint from which every later one is within "
        f"{tol:g} ({kind}) of the final value; unconverged: coefficient < {unconverged_below:g}"
    )
    test = evidence.sign_flip(
        at_convergence, baseline=at_final, name=name,
        statistic_text=f"fraction of coefficients unconverged at the checkpoint where {rule}",
        baseline_text=(f"the same fraction at checkpoint {baseline_checkpoint} (what one step of "
                       "training still changes at the end)"),
        unit="networks", alternative="greater", alpha=alpha, threshold=min_fraction, seed=seed,
    )
    last = [len(rho) - 1 for rho, _ in networks]
    if any(t == end for t, end in zip(converged, last, strict=True)):
        test = dataclasses.replace(test, pvalue=None, holds=None, reason=(
            f"{metric} converges only at the final checkpoint (checkpoints {converged} of "
            f"{last}): there is no checkpoint after convergence to compare"
        ))
    elif test.holds is None and len(networks) < math.ceil(math.log2(1 / alpha)):
        test = dataclasses.replace(test, reason=(
            f"{test.reason}; {len(networks)} network(s): the fraction is measured, but at least "
            f"{math.ceil(math.log2(1 / alpha))} independent networks are needed to test it"
        ))
    return evidence.Verdict(COEFFICIENTS_CLAIM, (test,))


def directions_against_noise(
    early: np.ndarray | Sequence[np.ndarray],
    mid: np.ndarray | Sequence[np.ndarray],
    final: np.ndarray | Sequence[np.ndarray],
    n_directions: int,
    *,
    stable_share: float = STABLE_SHARE,
    noise_share: float = NOISE_SHARE,
    n_permutations: int = N_PERMUTATIONS,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Verdict:
    """Figure 1 d-f: stable directions end clearly below the noise level, unstable ones at it.

    The sets are those of :func:`morcos2018.analysis.direction_stability`: CCA of ``early``
    with ``mid``, the variates of ``early`` on the top and the bottom ``n_directions`` directions.
    Each set's distance to the final layer, ``1 - mean CCA(H_set, final)``, is compared with its
    chance level, the same distance with the set's datapoints permuted (a random subspace of the
    same size and the same variances: what a set unrelated to the layer gets). Two tests
    (see :func:`.evidence.against_chance`):

    1. ``"stable directions below the noise level"``: top distance <= ``(1 - stable_share)`` x its
       chance level; several networks: a sign-flip test over networks; one network: a Monte Carlo
       test over its row permutations, whose record says that it covers only the chance level's
       spread, not the variation between networks;
    2. ``"unstable directions at the noise level"``: the bottom distance over its selection-aware
       chance level (the mean over ``n_permutations`` permutations of early's rows of the distance
       of the bottom set chosen then) lies within ``1 +- noise_share``, two one-sided sign-flip
       tests over networks (:func:`.evidence.equivalence_sign_flip`; inconclusive below 5
       networks).

    Parameters
    ----------
    early, mid, final : ndarray or sequence of ndarray
        One network's layer at the early, mid-training and final checkpoints, each (n, neurons)
        on the same probe datapoints; or one sequence per checkpoint, one array per network.
    n_directions : int
        Size of each set; at most half the canonical correlations of ``early`` with ``mid``.
    stable_share, noise_share : float
        Declared share of the gap from chance to 0 the stable set must close (default 0.5), and
        margin of the unstable set's ratio to its chance level (default 0.2).
    n_permutations : int
        Row permutations per chance level (default 200; the smallest p-value with one network
        is 1 / 201).
    alpha : float
        Significance level of each one-sided test.
    seed : int
        Seed of the permutations, sign flips and bootstrap.

    Returns
    -------
    Verdict
        Tests ``"stable directions below the noise level"`` (``value`` the mean distance at the
        final checkpoint, ``null_value`` the mean scaled chance level) and ``"unstable
        directions at the noise level"`` (``value`` the mean ratio to the selection-aware
        chance level, ``null_value`` 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def network():
    ...     kept, lost = rng.normal(size=(600, 8)), rng.normal(size=(600, 8))
    ...     early = np.hstack([kept, lost]) @ rng.normal(size=(16, 16))
    ...     mid = np.hstack([kept, rng.normal(size=(600, 8))]) @ rng.normal(size=(16, 16))
    ...     noisy = kept + 0.5 * rng.normal(size=(600, 8))
    ...     return early, mid, np.hstack([noisy, rng.normal(size=(600, 8))])
    >>> early, mid, final = zip(*(network() for _ in range(5)))
    >>> directions_against_noise(early, mid, final, 4, n_permutations=50).holds
    True
    """
    layers = _checkpoints(early=early, mid=mid, final=final)
    if not 0 < stable_share < 1 or not 0 < noise_share < 1:
        raise ValueError(
            f"stable_share and noise_share must be in (0, 1); found {stable_share!r} and "
            f"{noise_share!r}."
        )
    top: list[cca.PermutationResult] = []
    ratios, chances = [], []
    for index, (early_layer, mid_layer, final_layer) in enumerate(layers):
        sets = _direction_sets(early_layer, mid_layer, n_directions)
        top.append(evidence.permutation_null(
            sets["top"], final_layer, "mean_cca_distance", n_permutations, seed
        ))
        chance = _selected_chance(
            early_layer, mid_layer, final_layer, n_directions, n_permutations, seed + index
        ).mean()
        chances.append(chance)
        ratios.append(cca.mean_cca_distance(sets["bottom"], final_layer) / chance)
    statistic = f"{n_directions} early-vs-mid directions: 1 - mean CCA with the final layer"
    common = dict(unit="networks", alpha=alpha, seed=seed)
    tests = (
        evidence.against_chance(
            top, share=stable_share, alternative="less",
            name="stable directions below the noise level",
            statistic_text=f"top {statistic}", **common,
        ),
        evidence.equivalence_sign_flip(
            ratios, margin=noise_share, name="unstable directions at the noise level",
            statistic_text=f"bottom {statistic}, over its selection-aware chance level",
            baseline_text=(
                f"1: the chance level of bottom sets chosen with early's rows permuted (mean "
                f"{np.mean(chances):.3g}, {n_permutations} permutations per network)"
            ),
            **common,
        ),
    )
    return evidence.Verdict(DIRECTIONS_CLAIM, tests)


def _selected_chance(early, mid, final, n_directions, n_permutations, seed) -> np.ndarray:
    """Distances to ``final`` of bottom sets chosen as :func:`_direction_sets` chooses them, with
    early's rows permuted first: directions unrelated to the layer, but chosen least correlated
    with mid, as the real bottom set is (one distance per permutation)."""
    rng = np.random.default_rng(seed)
    distances = []
    for _ in range(n_permutations):
        shuffled = early[rng.permutation(len(early))]
        bottom = _direction_sets(shuffled, mid, n_directions)["bottom"]
        distances.append(cca.mean_cca_distance(bottom, final))
    return np.array(distances)


def _direction_sets(early: np.ndarray, mid: np.ndarray, n_directions: int) -> dict[str, np.ndarray]:
    """The top and bottom variates of ``early`` on its CCA directions with ``mid``, as
    :func:`morcos2018.analysis.direction_stability` chooses them."""
    fit = cca.cca(early, mid)
    available = len(fit.correlations)
    if isinstance(n_directions, bool) or not isinstance(n_directions, int | np.integer) or not (
        1 <= n_directions <= available // 2
    ):
        raise ValueError(
            f"n_directions must be an int in 1..{available // 2} (half of the {available} "
            f"canonical correlations, so top and bottom sets do not overlap), got {n_directions!r}"
        )
    variates = fit.project_x(early)
    return {"top": variates[:, :n_directions], "bottom": variates[:, available - n_directions :]}


def _tolerance(metric: str, tolerance: float | None) -> tuple[str, float]:
    if metric not in TOLERANCES:
        raise ValueError(f"metric must be one of {sorted(TOLERANCES)}; found {metric!r}.")
    kind, default = TOLERANCES[metric]
    if tolerance is None:
        return kind, default
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0; found {tolerance!r}.")
    return kind, float(tolerance)


def _per_network(correlations, performance) -> list[tuple[list[np.ndarray], np.ndarray]]:
    """(coefficients per checkpoint, performance) for each network, one network or several."""
    first = correlations[0] if len(correlations) else None
    one_network = first is not None and len(first) > 0 and np.ndim(first[0]) == 0
    if one_network:
        correlations, performance = [correlations], [performance]
    if len(correlations) != len(performance) or not correlations:
        raise ValueError(
            f"correlations and performance must describe the same networks; found "
            f"{len(correlations)} and {len(performance)}."
        )
    networks = []
    for index, (rho, values) in enumerate(zip(correlations, performance, strict=True)):
        rho = [np.asarray(r, dtype=float) for r in rho]
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or len(rho) != len(values) or len(rho) < 2:
            raise ValueError(
                f"network {index}: one array of coefficients and one performance value per "
                f"checkpoint (at least 2); found {len(rho)} and shape {values.shape}."
            )
        if any(r.ndim != 1 or r.size == 0 or not np.isfinite(r).all() for r in rho):
            raise ValueError(
                f"network {index}: every checkpoint needs a 1-D, finite, non-empty array of "
                "canonical correlations."
            )
        networks.append((rho, values))
    return networks


def _checkpoints(**layers) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(early, mid, final) per network, from one network's arrays or one sequence per checkpoint."""
    if all(np.ndim(layer) == 2 for layer in layers.values()):
        layers = {label: [layer] for label, layer in layers.items()}
    counts = {label: len(layer) for label, layer in layers.items()}
    if len(set(counts.values())) != 1 or not all(counts.values()):
        raise ValueError(
            "early, mid and final must each be one (n, neurons) array, or sequences with one array "
            f"per network of one length; found {counts}."
        )
    return list(zip(*layers.values(), strict=True))


# --------------------------------------------------------------------------- measured numbers
# The numbers each Figure 1 notebook records beside its verdict (record_claim's ``measured``).


def cnn_coefficients_measured(layer: str, seeds: Sequence[int],
                              correlations: Sequence[Sequence[np.ndarray]],
                              accuracy: Sequence[Sequence[float]]) -> dict:
    """Figure 1a (CNN): what :func:`coefficients_lag_performance` was given, summarised.

    Parameters
    ----------
    layer : str
        The layer analysed.
    seeds : sequence of int
        The networks' seeds.
    correlations : sequence of sequence of ndarray
        Per network, per epoch, the sorted canonical correlations with the final epoch.
    accuracy : sequence of sequence of float
        Per network, the training accuracy per epoch.

    Returns
    -------
    dict
        The layer, the seeds, the epoch each network's accuracy converged
        (:func:`converged_checkpoint`), the final accuracies and the mean coefficient per epoch
        (mean over networks).

    Examples
    --------
    >>> rho = [[np.array([0.5, 0.1]), np.array([1.0, 1.0])]]
    >>> m = cnn_coefficients_measured("conv2", [0], rho, [[0.1, 0.9]])
    >>> m["final train accuracy, per network"]
    [0.9]
    """
    return {"layer": layer, "seeds": seeds,
            "epoch accuracy converged, per network":
                [converged_checkpoint(values) for values in accuracy],
            "final train accuracy, per network": [values[-1] for values in accuracy],
            "mean coefficient vs final per epoch, mean over networks":
                np.mean([[c.mean() for c in network] for network in correlations], axis=0)}


def cnn_directions_measured(layer: str, seeds: Sequence[int], early: int, mid: int,
                            n_directions: int,
                            tracked: Sequence[dict[str, np.ndarray]]) -> dict:
    """Figure 1d (CNN): the stable and unstable directions' distance per epoch.

    Parameters
    ----------
    layer : str
        The layer analysed.
    seeds : sequence of int
        The networks' seeds.
    early, mid : int
        The epochs the directions come from.
    n_directions : int
        Directions per set.
    tracked : sequence of dict
        Per network, :func:`morcos2018.analysis.direction_stability`'s ``{"top", "bottom"}``.

    Returns
    -------
    dict
        The layer, seeds, epochs, set size, and both sets' distance per epoch, mean over
        networks.

    Examples
    --------
    >>> tracked = [{"top": np.array([0.2, 0.0]), "bottom": np.array([0.9, 0.8])}] * 2
    >>> cnn_directions_measured("conv2", [0, 1], 0, 1, 3, tracked)["directions per set"]
    3
    """
    return {"layer": layer, "seeds": seeds, "epochs of the directions": [early, mid],
            "directions per set": n_directions,
            "top directions distance per epoch, mean over networks":
                np.mean([t["top"] for t in tracked], axis=0),
            "bottom directions distance per epoch, mean over networks":
                np.mean([t["bottom"] for t in tracked], axis=0)}


def lm_dynamics_measured(layer: str, perplexity: dict[str, np.ndarray],
                         states: dict[str, Sequence[np.ndarray]],
                         correlations: dict[str, Sequence[np.ndarray]], early: int, mid: int,
                         n_directions: int, shown: str, stability: dict[str, np.ndarray],
                         noise_level: np.ndarray) -> dict:
    """Figure 1 b, e (language models): per network, when perplexity converged, the fraction of
    unconverged coefficients then and at the end, and the two direction sets' final distance;
    for the network shown, the panels' curves.

    Parameters
    ----------
    layer : str
        The layer analysed.
    perplexity : dict
        ``{network name: validation perplexity per epoch}``.
    states : dict
        ``{network name: the layer on the probe, per epoch}``.
    correlations : dict
        ``{network name: sorted correlations of each epoch with the final one}``.
    early, mid : int
        The epochs the directions come from.
    n_directions : int
        Directions per set.
    shown : str
        Name of the network of the panels.
    stability : dict
        Its :func:`morcos2018.analysis.direction_stability` curves.
    noise_level : ndarray
        Its random-subspace distance per epoch.

    Returns
    -------
    dict
        Keys and values as printed and recorded by ``fig1_lm_dynamics.ipynb``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> series = [rng.normal(size=(40, 4)) for _ in range(3)]
    >>> rho = [np.array([1.0, 0.5]), np.array([1.0, 0.95]), np.ones(2)]
    >>> m = lm_dynamics_measured("lstm1", {"a": np.array([9.0, 5.0, 5.0])}, {"a": series},
    ...                          {"a": rho}, 0, 1, 1, "a", {"top": np.zeros(3),
    ...                          "bottom": np.ones(3)}, np.ones(3))
    >>> m["epoch perplexity converged, per network"]
    {'a': 1}
    """
    from morcos2018 import analysis

    names = list(perplexity)
    converged = {name: converged_checkpoint(values, metric="perplexity")
                 for name, values in perplexity.items()}
    below = UNCONVERGED_BELOW
    final_distances = {
        name: analysis.direction_stability(series[early], series[mid], [series[-1]],
                                           n_directions)
        for name, series in states.items()
    }
    return {
        "layer": layer,
        "networks": names,
        "validation perplexity by epoch, per network":
            {name: np.round(values, 1) for name, values in perplexity.items()},
        "epoch perplexity converged, per network": converged,
        f"fraction of coefficients below {below} at that epoch, per network":
            {name: round(float(np.mean(correlations[name][t] < below)), 3)
             for name, t in converged.items()},
        f"fraction of coefficients below {below} at the final epoch, per network":
            {name: round(float(np.mean(rho[-1] < below)), 3) for name, rho in correlations.items()},
        "stable / unstable set's distance to the final layer, per network":
            {name: {"stable": round(float(d["top"][0]), 3),
                    "unstable": round(float(d["bottom"][0]), 3)}
             for name, d in final_distances.items()},
        f"{shown}: stable distance by epoch": np.round(stability["top"], 3),
        f"{shown}: unstable distance by epoch": np.round(stability["bottom"], 3),
        f"{shown}: random-subspace distance by epoch": np.round(noise_level, 3),
    }
