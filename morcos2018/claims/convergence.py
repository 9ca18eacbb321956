"""Figure 6 and Appendix A8: LSTM layers converge to their final representation bottom-up.

Paper, Figure 6 (blog figure 2) and its text: the PWCCA distance of each layer of an LSTM
language model to its own representation at the end of training falls earlier for layers closer
to the input; unweighted mean CCA blurs this order (6d), and so do cosine and Euclidean distance
(Appendix A8).

How the order is measured. Each layer's curve (distance to a reference checkpoint at each
checkpoint) is summarised by a statistic of the whole curve *before* the reference
(:func:`convergence_statistics`):

- ``"area"`` (default): the time-averaged distance to the reference over the checkpoints from
  ``start`` up to, not including, the reference (the area under the curve divided by its span).
  A layer that converges earlier has a smaller area.
- ``"first_within"``: the first epoch, before the reference, at which the distance is within
  ``threshold``; ``inf`` for a layer that never gets there. The reference itself (distance 0 to
  itself) never counts, so a layer that never converges does not "converge" at the last epoch and
  tie with the others, the flaw of comparing first crossings up to and including the reference.

Per training run (a model and seed: the independent unit), the bottom-up order is the Spearman
correlation between depth (1 = next to the input) and that statistic; +1 is a perfect bottom-up
order. Over runs, a sign-flip test (:func:`.evidence.sign_flip`) asks whether the mean correlation
is above 0, and the declared rule also asks it to reach ``min_rank_correlation``.

The choice of reference. The reference is one checkpoint, and which one moves the verdict. The
check takes curves computed against several references (:func:`curves_to_references`: by default
the last three checkpoints) and runs the order test once per reference; the claim holds only when
it holds for every reference.

Weaker measures (6d, A8). For each other measure given (mean CCA, cosine, Euclidean), the
per-run difference "correlation under PWCCA minus correlation under that measure", at the last
checkpoint as reference, is tested the same way (sign flip over runs, above
``min_contrast``): the paper's claim that the measure shows the order less clearly.

One check, two records. :func:`bottom_up_convergence` returns all these tests in one verdict;
:func:`figure6_and_a8` splits it into Figure 6's claim (the PWCCA order at every reference, and
mean CCA's contrast, 6d) and Appendix A8's (the cosine and Euclidean contrasts), without changing
any test, so each claim gets its own record. :func:`figure6_parts` splits it three ways instead,
so that the contrast with mean CCA (6d) is reported apart from the order it qualifies.

Per depth, with few seeds (``by_depth=True``). The paper shows 3- and 5-layer models; a few seeds
of each make too few runs for the sign flip (3 runs give at best p = 1/8). Per depth the order is
then also tested against the null that a run's layers are exchangeable: each run's statistics are
shuffled among its layers, independently per run, and the mean Spearman correlation recomputed
(Page's trend test, with Spearman's correlation as the per-run score). The runs are still the
units: the null shuffles within each independent training and never pools layers of different
runs, and a depth with fewer than ``min_runs`` runs (declared 3) is undecided.

Is the reference converged? The reference stands for "the final representation" only if the last
checkpoints have stopped moving. :func:`adjacent_distances` gives each layer's distance between
consecutive checkpoints, and :func:`reference_settled` checks, as a size rule, that at the end
every layer of every run moves less than ``tolerance`` (declared half the ``"first_within"``
threshold) from one checkpoint to the next.

Where the parts live. This module holds the checks, their declared parameters (the names that
morcos2018/claims/register.toml lists) and the numbers the notebook records beside each verdict.
Building and summarising the curves is :mod:`.convergence_curves` (its functions take every
setting; those here of the same names give them the declared defaults); the tests of the order
beyond the pooled sign flip (layer 1 first, per depth, contrasts between measures) are
:mod:`.convergence_order`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from morcos2018.claims import convergence_curves, convergence_order, evidence
from morcos2018.claims.convergence_curves import Curves
from morcos2018.claims.convergence_order import depth_trend_null

__all__ = [
    "A8_CLAIM", "A8_MEASURES", "BY_MEASURE", "CLAIM", "CONTRASTS", "Curves", "FIGURE6D_CLAIM",
    "FIGURE6_CLAIM", "FIGURE6_ORDER_CLAIM", "MEASURE", "MIN_CONTRAST", "MIN_RANK_CORRELATION",
    "MIN_RUNS", "NORMALISED_ORDER_CLAIM", "NORMALISED_ORDER_RULE", "REFERENCES", "SETTLED",
    "SETTLED_CLAIM", "SETTLED_STEPS", "SPLIT_FIRST_LAYER", "START", "STATISTICS", "THRESHOLD",
    "a8_measured", "adjacent_distances", "bottom_up_convergence", "convergence_statistics",
    "curves_to_references", "depth_rank_correlation", "depth_trend_null", "figure6_and_a8",
    "figure6_measured", "figure6_parts", "figure6d_measured", "final_reference_orders",
    "normalised_areas", "order_beyond_layer_one", "reference_settled", "reference_settled_measured",
]

#: The measure that shows the order (Fig 6a-c) and those claimed to show it less clearly.
MEASURE = "pwcca_distance"
CONTRASTS = ("mean_cca_distance", "cosine_distance", "euclidean_distance")
#: The contrasts of Appendix A8; the others (mean CCA) belong to Figure 6 (6d).
A8_MEASURES = ("cosine_distance", "euclidean_distance")
#: Declared: references are the last three checkpoints (offsets 0, 1, 2 from the end).
REFERENCES = (-1, -2, -3)
STATISTICS = ("area", "first_within")
#: Declared: distance counted as "converged" by the ``"first_within"`` statistic.
THRESHOLD = 0.1
#: Declared: checkpoint 0 (initialisation) is left out of the statistic.
START = 1
#: Declared: the mean per-run Spearman correlation of depth and the statistic must reach it.
MIN_RANK_CORRELATION = 0.5
#: Declared: PWCCA's mean correlation must exceed another measure's by this much.
MIN_CONTRAST = 0.25
#: Declared: with ``by_depth``, a depth needs this many runs (seeds) to be decided.
MIN_RUNS = 3
#: Declared: test "layer 1 first" and "layers 2..L in order" apart, at the last reference (the
#: paper claims the full order; a pooled order can be carried by layer 1 alone).
SPLIT_FIRST_LAYER = True
#: Declared: a layer has settled when consecutive checkpoints at the end are this close.
SETTLED = THRESHOLD / 2
#: Declared: the number of final checkpoint-to-checkpoint steps :func:`reference_settled` reads.
SETTLED_STEPS = 2

CLAIM = (
    "Figure 6 / A8: LSTM layers converge to their final representation bottom-up under PWCCA, "
    "whatever the reference checkpoint; mean CCA (6d), cosine and Euclidean distance (A8) show "
    "the order less clearly"
)

FIGURE6_CLAIM = (
    "Figure 6: LSTM layers converge to their final representation bottom-up under PWCCA, "
    "whatever the reference checkpoint; unweighted mean CCA shows the order less clearly (6d)"
)
A8_CLAIM = (
    "Appendix A8: cosine and Euclidean distance show Figure 6's bottom-up order less clearly "
    "than PWCCA"
)

FIGURE6_ORDER_CLAIM = (
    "Figure 6a-c: LSTM layers converge to their final representation bottom-up under PWCCA, "
    "whatever the reference checkpoint"
)
FIGURE6D_CLAIM = "Figure 6d: unweighted mean CCA shows the bottom-up order less clearly than PWCCA"
SETTLED_CLAIM = (
    "Figure 6's reference is converged: at the end of training every layer has stopped moving "
    "from one checkpoint to the next"
)


# --------------------------------------------------------------------------- curves, declared
# The functions of convergence_curves with the declared references, measure and statistic.


def curves_to_references(
    representations: Mapping[str, Sequence[np.ndarray]],
    measures: Sequence[str],
    references: Sequence[int] = REFERENCES,
) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Distance of each layer at each checkpoint to its representation at several references.

    :func:`.convergence_curves.curves_to_references` (parameters and return value there), by
    default against the declared references, the last three checkpoints.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> series = {"lstm1": [rng.normal(size=(50, 3)) for _ in range(4)]}
    >>> sorted(curves_to_references(series, ["cosine_distance"])["cosine_distance"])
    [1, 2, 3]
    """
    return convergence_curves.curves_to_references(representations, measures, references)


def adjacent_distances(
    representations: Mapping[str, Sequence[np.ndarray]], measure: str = MEASURE
) -> dict[str, np.ndarray]:
    """Each layer's distance from every checkpoint to the next: how far training still moves it.

    :func:`.convergence_curves.adjacent_distances` (parameters and return value there), by
    default under the declared measure; its last entries are the input of
    :func:`reference_settled`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 3))
    >>> steps = adjacent_distances({"lstm1": [rng.normal(size=(60, 3)), x, 2 * x]})
    >>> steps["lstm1"].shape, round(float(steps["lstm1"][-1]), 6)
    ((2,), 0.0)
    """
    return convergence_curves.adjacent_distances(representations, measure)


def convergence_statistics(
    curves: Curves,
    epochs: Sequence[float],
    *,
    reference: int = -1,
    statistic: str = "area",
    threshold: float = THRESHOLD,
    start: int = START,
) -> dict[str, float]:
    """Each layer's convergence statistic, from its checkpoints before the reference.

    :func:`.convergence_curves.convergence_statistics` (parameters and return value there) with
    the declared statistic (one of :data:`STATISTICS`), threshold and first checkpoint.

    Examples
    --------
    >>> epochs = [0, 1, 2, 3, 4]
    >>> curves = {"early": [0.6, 0.05, 0.04, 0.02, 0.0], "never": [0.6, 0.5, 0.4, 0.3, 0.0]}
    >>> convergence_statistics(curves, epochs, statistic="first_within")
    {'early': 1.0, 'never': inf}
    """
    epochs = convergence_curves.as_epochs(epochs)
    _check_statistic(statistic)
    return convergence_curves.convergence_statistics(
        curves, epochs, reference=reference, statistic=statistic, threshold=threshold,
        start=start,
    )


def depth_rank_correlation(
    curves: Curves,
    epochs: Sequence[float],
    *,
    reference: int = -1,
    statistic: str = "area",
    threshold: float = THRESHOLD,
    start: int = START,
) -> float:
    """Spearman correlation of depth with :func:`convergence_statistics` in one run.

    :func:`.convergence_curves.depth_rank_correlation` with the declared statistic, threshold and
    first checkpoint: +1 is a perfect bottom-up order, -1 top-down, 0 no order.

    Examples
    --------
    >>> epochs = [0, 1, 2, 3]
    >>> curves = {"l1": [0.6, 0.1, 0.05, 0], "l2": [0.6, 0.3, 0.1, 0], "l3": [0.6, 0.4, 0.3, 0]}
    >>> depth_rank_correlation(curves, epochs)
    1.0
    """
    epochs = convergence_curves.as_epochs(epochs)
    _check_statistic(statistic)
    return convergence_curves.depth_rank_correlation(
        curves, epochs, reference=reference, statistic=statistic, threshold=threshold,
        start=start,
    )


def _check_statistic(statistic: str) -> None:
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}; found {statistic!r}.")


def reference_settled(
    runs: Sequence[Mapping[str, Sequence[float]]],
    *,
    tolerance: float = SETTLED,
    steps: int = SETTLED_STEPS,
    measure: str = MEASURE,
) -> evidence.Verdict:
    """The last checkpoints have stopped moving, so the last one can stand for "final".

    A size rule, not a significance test (that a layer does *not* move cannot be shown by a
    small p-value): one test per layer name, over the runs that have it; the value is the largest,
    over those runs, of the mean distance of the layer's last ``steps`` checkpoint-to-checkpoint
    moves. It holds when that is at most ``tolerance``.

    Parameters
    ----------
    runs : sequence of mapping
        One per training run: ``{layer: consecutive distances}`` from :func:`adjacent_distances`.
    tolerance : float
        Declared largest move of a settled layer (default half the ``"first_within"``
        threshold, 0.05 in distance units).
    steps : int
        How many final moves are averaged (default 2).
    measure : str
        Name of the measure the distances are in, for the record.

    Returns
    -------
    Verdict
        Tests named ``"<layer> settled at the end"``; ``effect`` is ``value - tolerance``.

    Examples
    --------
    >>> moving = {"lstm1": [0.3, 0.1, 0.02, 0.01], "lstm2": [0.4, 0.3, 0.2, 0.2]}
    >>> verdict = reference_settled([moving])
    >>> [test.holds for test in verdict.tests]
    [True, None]
    """
    if not runs:
        raise ValueError("runs is empty: give one {layer: adjacent distances} mapping per run.")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise ValueError(f"steps must be a positive int; found {steps!r}.")
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive (a distance); found {tolerance!r}.")
    per_layer: dict[str, list[float]] = {}
    for position, run in enumerate(runs):
        for layer, moves in run.items():
            moves = np.asarray(moves, dtype=float)
            if moves.ndim != 1 or len(moves) < steps or not np.isfinite(moves).all():
                raise ValueError(
                    f"run {position}, {layer!r}: need a 1-D array of at least {steps} finite "
                    f"consecutive distances (adjacent_distances); found {moves!r}."
                )
            per_layer.setdefault(layer, []).append(float(moves[-steps:].mean()))
    tests = []
    for layer, values in per_layer.items():
        worst = max(values)
        # A size rule without a declared contrary: a layer still moving leaves the order
        # unreadable (inconclusive), it is no evidence against it (evidence.CONTRARY_RULE).
        holds = True if worst <= tolerance else None
        tests.append(evidence.Evidence(
            name=f"{layer} settled at the end",
            statistic=(
                f"largest over runs of the mean {measure} distance between consecutive "
                f"checkpoints, last {steps} moves"
            ),
            value=worst,
            null=f"declared tolerance {tolerance:g} (size rule, no test of an absence)",
            null_value=tolerance,
            pvalue=None,
            units=len(values),
            unit="runs",
            effect=worst - tolerance,
            holds=holds,
            reason=(
                f"size rule only: per run {[round(v, 4) for v in values]}, "
                f"{'all within' if holds else 'not all within'} {tolerance:g}"
            ),
        ))
    return evidence.Verdict(SETTLED_CLAIM, tuple(tests))


def bottom_up_convergence(
    runs: Sequence[Mapping[str, Mapping[Any, Any]]],
    epochs: Sequence[float] | Sequence[Sequence[float]],
    *,
    measure: str = MEASURE,
    contrasts: Sequence[str] = CONTRASTS,
    statistic: str = "area",
    threshold: float = THRESHOLD,
    start: int = START,
    min_rank_correlation: float = MIN_RANK_CORRELATION,
    min_contrast: float = MIN_CONTRAST,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
    by_depth: bool = False,
    min_runs: int = MIN_RUNS,
    split_first_layer: bool = SPLIT_FIRST_LAYER,
) -> evidence.Verdict:
    """Layers converge bottom-up under PWCCA, robustly to the reference; other measures blur it.

    Paper, Figure 6 (a-c: PWCCA; d: mean CCA) and Appendix A8 (cosine, Euclidean).
    Units are training runs (each model and seed an independent training); runs of models with
    different depths may be pooled. Tests, each a sign flip over runs (see the module docstring):

    - ``"<measure> bottom-up, reference: <which>"``, one per reference checkpoint given: per run
      the Spearman correlation of depth with the convergence statistic (before that reference);
      holds when the mean is above 0 with ``p <= alpha`` and reaches ``min_rank_correlation``.
    - ``"<other> shows the order less clearly than <measure>"``, for each measure of
      ``contrasts`` present in every run, at the last reference given: per run the correlation
      under ``measure`` minus that under the other; holds when the mean is above 0 with
      ``p <= alpha`` and reaches ``min_contrast``.

    - with ``split_first_layer``, at the last reference given: ``"<measure>: layer 1 first"``
      (per run, the mean statistic of layers 2..L minus layer 1's, above 0) and
      ``"<measure> bottom-up among layers 2..L"`` (the depth correlation without layer 1, above 0
      and reaching ``min_rank_correlation``; inconclusive where a run has fewer than 3 layers).
    - with ``by_depth``, ``"<measure> bottom-up, <d> layers, reference: <which>"``, one per
      depth and reference: the same mean correlation over the runs of ``d`` layers, against the
      within-run layer-relabelling null of the module docstring; holds when ``p <= alpha`` and
      the mean reaches ``min_rank_correlation``; undecided with fewer than ``min_runs`` runs.

    The verdict holds when all hold. Fewer than 5 runs give at best p = 1/16 > 0.05: undecided,
    with that reason.

    Parameters
    ----------
    runs : sequence of mapping
        One per run: ``{measure: {layer: curve}}`` (curves against the last checkpoint, the largest
        reference of :func:`curves_to_references`) or ``{measure: {reference index:
        {layer: curve}}}`` (against several, as :func:`curves_to_references` returns). Layers
        input first. Every run must give ``measure`` at the same reference offsets from its end.
    epochs : array-like, or sequence of array-like
        Epoch of each checkpoint, shared by all runs or one array per run.
    measure : str
        The measure claimed to show the order (default ``"pwcca_distance"``).
    contrasts : sequence of str
        Measures claimed to show it less clearly; those absent from the runs are skipped.
    statistic, threshold, start
        The convergence statistic (:func:`convergence_statistics`); declared defaults
        ``"area"``, 0.1 (used by ``"first_within"`` only), 1.
    min_rank_correlation : float
        Declared size of the order: mean per-run Spearman correlation (default 0.5).
    min_contrast : float
        Declared size of the contrast: mean per-run difference of correlations (default 0.25).
    alpha : float
        Significance level of each one-sided test.
    seed : int
        Seed of random sign flips (many runs only) and bootstrap intervals.
    by_depth : bool
        Also test the order per depth (number of layers) with the layer-relabelling null.
    split_first_layer : bool
        Declared: also test layer 1 first and the order among layers 2..L, apart.
    min_runs : int
        Declared number of runs a depth needs to be decided (``by_depth`` only).

    Returns
    -------
    Verdict
        Its ``as_record()`` goes into the notebook's record under ``evidence``.

    Examples
    --------
    >>> epochs = np.arange(9) / 2
    >>> def run(taus):
    ...     return {"pwcca_distance": {f"lstm{i}": np.exp(-epochs / tau) - np.exp(-epochs[-1] / tau)
    ...                       for i, tau in enumerate(taus, 1)}}
    >>> verdict = bottom_up_convergence([run([0.5, 1, 2])] * 5, epochs)
    >>> verdict.holds, verdict.tests[0].value
    (True, 1.0)
    """
    per_run_epochs, by_reference = convergence_curves.checked_runs(runs, epochs, measure)
    offsets = convergence_curves.common_offsets(by_reference, measure)
    _check_statistic(statistic)
    options = dict(statistic=statistic, threshold=threshold, start=start)
    about = convergence_curves.statistic_text(statistic, threshold, start)
    over_runs = dict(unit="runs", alternative="greater", alpha=alpha, seed=seed)
    tests = []
    rhos_at = {}
    for offset in offsets:
        rhos_at[offset] = convergence_order.rank_correlations(by_reference, per_run_epochs,
                                                              offset, options)
        tests.append(
            evidence.sign_flip(
                rhos_at[offset],
                name=f"{measure} bottom-up, reference: {convergence_order.reference_label(offset)}",
                statistic_text=f"mean over runs of Spearman(depth, {about}) under {measure}",
                baseline_text="no depth order (correlation 0)",
                threshold=min_rank_correlation,
                **over_runs,
            )
        )
    last = min(offsets)
    if split_first_layer:
        tests += convergence_order.first_layer_tests(
            by_reference, per_run_epochs, last, options, measure, about, min_rank_correlation,
            over_runs)
    if by_depth:
        tests += convergence_order.per_depth_tests(
            by_reference, per_run_epochs, offsets, options, measure, about, min_rank_correlation,
            min_runs, alpha, seed)
    tests += convergence_order.contrast_tests(
        runs, rhos_at[last], per_run_epochs, last, options, measure, contrasts, about,
        min_contrast, over_runs)
    return evidence.Verdict(CLAIM, tuple(tests))


#: Figure 6 beyond layer 1 (issue 25, item 4): the order among layers 2..L, each layer's curve in
#: units of its own distance at initialization, in runs whose learning rate does not vanish.
NORMALISED_ORDER_RULE = (
    "per run (a model and seed trained with a learning rate that does not vanish: the profile's "
    "convergence.arm_final_fraction), each layer l >= 2's PWCCA distance to its last checkpoint "
    "divided by that distance at initialization (checkpoint 0); the time average of that ratio "
    "over checkpoints START..last-1 (the area statistic); the Spearman correlation of depth "
    "(2..L) with it; over runs, a sign flip of (correlation - MIN_RANK_CORRELATION): holds above "
    "at alpha, contradicted below at alpha (its contrary test), inconclusive otherwise; runs "
    "with fewer than 2 layers above layer 1 are refused")
NORMALISED_ORDER_CLAIM = (
    "Figure 6: LSTM layers converge bottom-up beyond the first layer (layers 2..L in order, each "
    "in units of its own distance at initialization), with a learning rate that does not vanish")


def normalised_areas(curves: Mapping[str, Any], epochs: Sequence[float], *,
                     start: int = START) -> dict[str, float]:
    """Each layer above layer 1: its time-averaged distance to the last checkpoint over
    checkpoints ``start``..last-1, in units of its distance at initialization (checkpoint 0),
    the statistic of :func:`order_beyond_layer_one`.

    Examples
    --------
    >>> curves = {"l1": [1.0, 0.1, 0.0], "l2": [2.0, 1.0, 0.0], "l3": [4.0, 1.0, 0.0]}
    >>> normalised_areas(curves, [0, 1, 2])
    {'l2': 0.5, 'l3': 0.25}
    """
    above = {layer: np.asarray(curve, dtype=float) for layer, curve in list(curves.items())[1:]}
    if len(above) < 2:
        raise ValueError(f"{len(above) + 1} layer(s): the order beyond layer 1 needs at least 3 "
                         "layers per run")
    if any(not curve[0] > 0 for curve in above.values()):
        raise ValueError("a layer's distance at initialization is not positive; the curves must "
                         "start at checkpoint 0")
    return convergence_curves.convergence_statistics(
        {layer: curve / curve[0] for layer, curve in above.items()}, epochs, statistic="area",
        threshold=THRESHOLD, start=start)


def order_beyond_layer_one(
    runs: Sequence[Mapping[str, Any]],
    epochs: Sequence[float] | Sequence[Sequence[float]],
    *,
    start: int = START,
    min_rank_correlation: float = MIN_RANK_CORRELATION,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Verdict:
    """Figure 6's order among layers 2..L on a scale normalised per layer
    (:data:`NORMALISED_ORDER_RULE`).

    Parameters
    ----------
    runs
        One ``{layer: PWCCA distance to the last checkpoint at every checkpoint}`` per run
        (checkpoint 0 the initialization), layers input first.
    epochs
        The epochs of the checkpoints, one sequence for all runs or one per run.
    start, min_rank_correlation, alpha, seed
        The declared rule's parameters (:data:`START`, :data:`MIN_RANK_CORRELATION`).

    Examples
    --------
    >>> at = np.arange(6.0)
    >>> def run(rates):  # layer l's distance decays at its own rate, from its own initial level
    ...     return {f"l{i}": (1 + i) * np.exp(-r * at) - (1 + i) * np.exp(-r * 5)
    ...             for i, r in enumerate(rates)}
    >>> runs = [run([3, 2.0, 1.0, 0.5]) for _ in range(6)]
    >>> order_beyond_layer_one(runs, at).outcome
    'holds'
    """
    per_run_epochs = convergence_curves._epochs_per_run(epochs, len(runs))
    correlations = []
    for i, (curves, at) in enumerate(zip(runs, per_run_epochs, strict=True)):
        try:
            values = normalised_areas(curves, at, start=start)
        except ValueError as error:
            raise ValueError(f"run {i}: {error}") from None
        correlations.append(evidence.spearman(np.arange(2, len(values) + 2),
                                              np.array(list(values.values()))))
    test = evidence.sign_flip(
        correlations, threshold=min_rank_correlation, unit="runs", alpha=alpha, seed=seed,
        name="bottom-up among layers 2..L, normalised by initialization",
        statistic_text=(f"per run, Spearman correlation of depth (2..L) with the time-averaged "
                        f"PWCCA distance to the last checkpoint in units of the layer's distance "
                        f"at initialization, checkpoints {start}..last-1"),
        baseline_text=f"no order (0); the claim's size {min_rank_correlation:g}")
    return evidence.Verdict(NORMALISED_ORDER_CLAIM, (test,))


def figure6_and_a8(
    verdict: evidence.Verdict, a8_measures: Sequence[str] = A8_MEASURES
) -> tuple[evidence.Verdict, evidence.Verdict]:
    """Split a :func:`bottom_up_convergence` verdict into Figure 6's claim and Appendix A8's.

    Figure 6 (:data:`FIGURE6_CLAIM`) keeps the order tests at every reference and the contrasts
    with measures not in ``a8_measures`` (mean CCA, 6d); Appendix A8 (:data:`A8_CLAIM`) gets the
    contrasts with the measures in ``a8_measures`` (cosine, Euclidean). The tests are unchanged.
    A8's contrasts compare each measure with PWCCA's order, so they fail where PWCCA shows no
    order either. Without those measures in the runs, A8's verdict has no test and is undecided.

    Parameters
    ----------
    verdict : Verdict
        What :func:`bottom_up_convergence` returned.
    a8_measures : sequence of str
        Measures whose contrasts are Appendix A8's (default cosine and Euclidean distance).

    Returns
    -------
    (Verdict, Verdict)
        Figure 6's verdict and Appendix A8's.

    Examples
    --------
    >>> epochs = np.arange(9) / 2
    >>> def run(taus):
    ...     return {"pwcca_distance": {f"lstm{i}": np.exp(-epochs / tau) - np.exp(-epochs[-1] / tau)
    ...                       for i, tau in enumerate(taus, 1)}}
    >>> runs = [{**run([0.5, 1, 2]), "cosine_distance": run([1, 1, 1])["pwcca_distance"]}] * 5
    >>> figure6, a8 = figure6_and_a8(bottom_up_convergence(runs, epochs))
    >>> [t.name for t in figure6.tests]  # doctest: +NORMALIZE_WHITESPACE
    ['pwcca_distance bottom-up, reference: last checkpoint', 'pwcca_distance: layer 1 first',
     'pwcca_distance bottom-up among layers 2..L']
    >>> [t.name for t in a8.tests]
    ['cosine_distance shows the order less clearly than pwcca_distance']
    """
    if not isinstance(verdict, evidence.Verdict) or verdict.claim != CLAIM:
        raise ValueError(
            "verdict must be what bottom_up_convergence returned (claim "
            f"{CLAIM!r}); found {getattr(verdict, 'claim', type(verdict).__name__)!r}."
        )
    prefixes = tuple(convergence_order.contrast_name(other, "") for other in a8_measures)
    a8 = tuple(test for test in verdict.tests if test.name.startswith(prefixes))
    rest = tuple(test for test in verdict.tests if not test.name.startswith(prefixes))
    return evidence.Verdict(FIGURE6_CLAIM, rest), evidence.Verdict(A8_CLAIM, a8)


def figure6_parts(
    verdict: evidence.Verdict, a8_measures: Sequence[str] = A8_MEASURES
) -> dict[str, evidence.Verdict]:
    """Split a :func:`bottom_up_convergence` verdict three ways: the order, 6d, Appendix A8.

    ``"6a-c"`` (:data:`FIGURE6_ORDER_CLAIM`) keeps the order tests (every reference, pooled and
    per depth); ``"6d"`` (:data:`FIGURE6D_CLAIM`) the contrasts with the measures not in
    ``a8_measures`` (mean CCA): the measured difference of PWCCA's order and mean CCA's, with its
    interval, reported apart from the order itself; ``"A8"`` (:data:`A8_CLAIM`) the contrasts
    with ``a8_measures``. The tests are unchanged; a part without tests is undecided.

    Examples
    --------
    >>> epochs = np.arange(9) / 2
    >>> def run(taus):
    ...     return {f"lstm{i}": np.exp(-epochs / tau) - np.exp(-epochs[-1] / tau)
    ...             for i, tau in enumerate(taus, 1)}
    >>> runs = [{"pwcca_distance": run([0.5, 1, 2]), "mean_cca_distance": run([1, 1, 1])}] * 5
    >>> parts = figure6_parts(bottom_up_convergence(runs, epochs))
    >>> {name: [t.name for t in part.tests] for name, part in parts.items()}["6d"]
    ['mean_cca_distance shows the order less clearly than pwcca_distance']
    """
    figure6, a8 = figure6_and_a8(verdict, a8_measures)
    contrast = tuple(test for test in figure6.tests if convergence_order.CONTRAST in test.name)
    order = tuple(test for test in figure6.tests if convergence_order.CONTRAST not in test.name)
    return {
        "6a-c": evidence.Verdict(FIGURE6_ORDER_CLAIM, order),
        "6d": evidence.Verdict(FIGURE6D_CLAIM, contrast),
        "A8": a8,
    }


# --------------------------------------------------------------------------- measured numbers
# The numbers fig6_rnn_convergence.ipynb records beside each verdict (record_claim's
# ``measured``). ``names`` maps each run's key, ``(model, seed)``, to its name, in run order.
# They stay beside the checks: they read the curves with the declared statistic and start, and
# a module of their own would import this one while this one re-exports it (a cycle).

BY_MEASURE = "order per run with the final checkpoint as reference, by measure"


def final_reference_orders(names: Mapping[Any, str], curves: Mapping[Any, Any],
                           epochs: Mapping[Any, Sequence[float]],
                           measures: Sequence[str]) -> dict:
    """Per measure and run, Spearman(depth, time-averaged distance to the final checkpoint).

    Parameters
    ----------
    names : mapping
        ``{run key: run name}``.
    curves : mapping
        ``{run key: {measure: {layer: distance to the final checkpoint per checkpoint}}}``.
    epochs : mapping
        ``{run key: epoch of each checkpoint}``.
    measures : sequence of str
        The measures.

    Returns
    -------
    dict
        ``{measure: {run name: rank correlation, rounded to 3 decimals}}``.

    Examples
    --------
    >>> curve = {"lstm1": [0.6, 0.1, 0.0], "lstm2": [0.6, 0.4, 0.0]}
    >>> curves = {"a": {"pwcca_distance": curve}}
    >>> final_reference_orders({"a": "run a"}, curves, {"a": [0, 1, 2]}, ["pwcca_distance"])
    {'pwcca_distance': {'run a': 1.0}}
    """
    return {measure: {name: round(depth_rank_correlation(curves[key][measure], epochs[key]), 3)
                      for key, name in names.items()}
            for measure in measures}


def figure6_measured(names: Mapping[Any, str], to_references: Mapping[Any, Any],
                     curves: Mapping[Any, Any], epochs: Mapping[Any, Sequence[float]],
                     verdict: Any, threshold: float) -> dict:
    """Figure 6 a-c: the PWCCA depth order per run and reference checkpoint, how the verdict's
    tests move with the reference, the order per measure, and the time-averaged distances.

    Parameters
    ----------
    names : mapping
        ``{run key: run name}``.
    to_references : mapping
        ``{run key: {measure: {reference checkpoint: {layer: curve}}}}``
        (:func:`curves_to_references`).
    curves, epochs : mapping
        As :func:`final_reference_orders`.
    verdict : Verdict
        Figure 6 a-c's part (:func:`figure6_parts`).
    threshold : float
        The "converged" distance of the descriptive first epoch within it.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> curve = {"lstm1": [0.6, 0.1, 0.0], "lstm2": [0.6, 0.4, 0.0]}
    >>> curves = {"a": {"pwcca_distance": curve, "mean_cca_distance": curve}}
    >>> m = figure6_measured({"a": "run a"}, {"a": {"pwcca_distance": {2: curve}}}, curves,
    ...                      {"a": [0, 1, 2]}, SimpleNamespace(tests=[]), 0.1)
    >>> m["PWCCA order per run, Spearman(depth, time-averaged distance), by reference"]
    {'run a': {'reference epoch 2': 1.0}}
    """
    return {
        "runs": list(names.values()),
        "PWCCA order per run, Spearman(depth, time-averaged distance), by reference": {
            name: {
                f"reference epoch {epochs[key][index]:g}": round(
                    depth_rank_correlation(by_layer, epochs[key], reference=index), 3)
                for index, by_layer in to_references[key]["pwcca_distance"].items()
            }
            for key, name in names.items()
        },
        "how the verdict moves with the reference: each test's mean over runs and verdict":
            {test.name: {"mean": round(test.value, 3), "holds": test.holds}
             for test in verdict.tests},
        BY_MEASURE: final_reference_orders(names, curves, epochs,
                                           ("pwcca_distance", "mean_cca_distance")),
        "PWCCA time-averaged distance to the final checkpoint, per run and layer": {
            name: {layer: round(value, 3) for layer, value in
                   convergence_statistics(curves[key]["pwcca_distance"], epochs[key]).items()}
            for key, name in names.items()
        },
        f"first epoch within {threshold} of the final checkpoint, PWCCA (descriptive)": {
            name: convergence_statistics(curves[key]["pwcca_distance"], epochs[key],
                                         statistic="first_within", threshold=threshold)
            for key, name in names.items()
        },
    }


def figure6d_measured(measured: Mapping[str, Any]) -> dict:
    """Figure 6d: the runs and the depth order per measure, taken from :func:`figure6_measured`.

    Examples
    --------
    >>> figure6d_measured({"runs": ["a"], BY_MEASURE: {}, "other": 1})
    {'runs': ['a'], 'order per run with the final checkpoint as reference, by measure': {}}
    """
    return {"runs": measured["runs"], BY_MEASURE: measured[BY_MEASURE]}


def reference_settled_measured(names: Mapping[Any, str],
                               moves: Mapping[Any, Mapping[str, np.ndarray]]) -> dict:
    """Is the reference converged? Each layer's PWCCA distance between consecutive checkpoints.

    Parameters
    ----------
    names : mapping
        ``{run key: run name}``.
    moves : mapping
        ``{run key: {layer: distance from each checkpoint to the next}}``
        (:func:`adjacent_distances`).

    Returns
    -------
    dict

    Examples
    --------
    >>> m = reference_settled_measured({"a": "run a"}, {"a": {"lstm1": np.array([0.3, 0.01])}})
    >>> m["PWCCA distance between the last two checkpoints, per run and layer"]
    {'run a': {'lstm1': 0.01}}
    """
    return {
        "runs": list(names.values()),
        "PWCCA distance between the last two checkpoints, per run and layer":
            {name: {layer: round(float(series[-1]), 4) for layer, series in moves[key].items()}
             for key, name in names.items()},
        "PWCCA distance between consecutive checkpoints, per run and layer":
            {name: {layer: np.round(series, 3) for layer, series in moves[key].items()}
             for key, name in names.items()},
    }


def a8_measured(names: Mapping[Any, str], curves: Mapping[Any, Any],
                epochs: Mapping[Any, Sequence[float]]) -> dict:
    """Appendix A8: the depth order per run under PWCCA, cosine and Euclidean distance.

    Examples
    --------
    >>> curve = {"lstm1": [0.6, 0.1, 0.0], "lstm2": [0.6, 0.4, 0.0]}
    >>> measures = ("pwcca_distance", "cosine_distance", "euclidean_distance")
    >>> m = a8_measured({"a": "run a"}, {"a": dict.fromkeys(measures, curve)}, {"a": [0, 1, 2]})
    >>> m[BY_MEASURE]["cosine_distance"]
    {'run a': 1.0}
    """
    return {"runs": list(names.values()),
            BY_MEASURE: final_reference_orders(
                names, curves, epochs, ("pwcca_distance", "cosine_distance", "euclidean_distance"))}


def beyond_layer_one_measured(names: Mapping[Any, str], curves: Mapping[Any, Mapping[str, Any]],
                              epochs: Mapping[Any, Sequence[float]],
                              runs: Mapping[Any, Any]) -> dict:
    """The numbers behind :func:`order_beyond_layer_one`: per run its normalised areas, its
    depth correlation over layers 2..L and its final validation perplexity (``runs``: the arm's
    trained language models, for :func:`morcos2018.lm_training.validation_perplexity`)."""
    from morcos2018 import lm_training

    per_run = {}
    for key, name in names.items():
        areas = normalised_areas(curves[key], epochs[key])
        per_run[name] = {
            "normalised area per layer": areas,
            "depth correlation (layers 2..L)": evidence.spearman(
                np.arange(2, len(areas) + 2), np.array(list(areas.values()))),
            "final validation perplexity": float(
                lm_training.validation_perplexity(runs[key])[-1])}
    return {"runs": per_run}
