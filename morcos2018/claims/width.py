"""Figure 4 and appendix A6, A7 (paper, Section 3.2): wider networks converge to more similar
solutions, and networks with more similar solutions generalize better.

The paper trains 5 CNNs per width multiplier and compares 128 random final-layer filters of every
pair of networks of one width by PWCCA distance:

- Figure 4a: the distance between networks of a width falls as the width grows, and (A7) this
  is not there at initialization: :func:`check_figure4a`;
- Figure 4b: test accuracy falls with that distance (r = -0.96): :func:`check_figure4b`;
- A6: cosine and Euclidean distance do not show the width effect clearly:
  :func:`check_a6_cosine_euclidean`.

:func:`check_figure4` runs 4a and 4b in one call.

**The units are widths.** A network's mean distance to its width-mates shares pairs with theirs,
and every network of a width shares its architecture, so the networks of one width are not
independent of each other; the widths are (disjoint networks, disjoint pairs). Each width gives
one number (the mean distance over its pairs, its networks' mean accuracy) and every trend is a
Spearman rank correlation over widths, exact over all orderings of the widths
(:func:`.evidence.rank_trend`). Five widths allow p = 1/120; three cannot reach 0.05 and are
undecided. A permutation of network labels across widths would treat a width's networks as
exchangeable with other widths' and, when widths differ in ways unrelated to their order, would
call a chance ordering of five groups significant.

Declared rules (module defaults): declared in commit 1a936d2 (2026-11-29), after the pilot run
of 80083b8 (2026-11-28) had been published; see claims/register.toml:

- ``alpha = 0.05``, one-sided in the claimed direction;
- A7 is an interaction: the per-width within-width distance after training minus the same at
  initialization must itself fall with width (the trained fall exceeds the initial one, in
  distance units);
- Figure 4b must not rest on one width: with any one width left out, the Spearman correlation
  of accuracy with distance must stay at or below ``robust_rho = -0.5`` (needs 4 widths);
- A6 compares measures by the log of the ratio of their within-width distances: log(PWCCA /
  control) must fall with width (PWCCA's distance falls by a larger factor).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from morcos2018 import stats
from morcos2018.claims import evidence
from morcos2018.claims.evidence import Evidence, Verdict

ALPHA = evidence.ALPHA
#: Figure 4b's correlation with any one width left out must stay at or below this.
ROBUST_RHO = -0.5
N_PERMUTATIONS = 20_000


def within_width_distances(
    distances: np.ndarray, width_of: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """The widths, ascending, and the mean distance over the pairs of networks of each width.

    Examples
    --------
    >>> d = np.array([[0, 2, 9, 9], [2, 0, 9, 9], [9, 9, 0, 1], [9, 9, 1, 0]], dtype=float)
    >>> widths, within = within_width_distances(d, [1, 1, 2, 2])
    >>> widths.tolist(), within.tolist()
    ([1.0, 2.0], [2.0, 1.0])
    """
    matrix, labels = _check(distances, width_of, "distances")
    widths = np.unique(labels)
    return widths, np.array([stats.within_group(matrix, np.flatnonzero(labels == w)).mean
                             for w in widths])


def check_figure4a(
    trained: np.ndarray,
    initialization: np.ndarray,
    width_of: Sequence[float],
    *,
    alpha: float = ALPHA,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> Verdict:
    """Figure 4a with A7: within-width distance falls with width, more than at initialization.

    Two tests over widths (paper, Section 3.2, Figure 4a; appendix A7):

    1. ``"distance within a width falls with width"``: Spearman correlation of width with the
       mean trained distance between networks of that width, < 0.
    2. ``"the fall exceeds the one at initialization (A7)"``: Spearman correlation of width
       with (trained minus initial) within-width distance, < 0. Random networks of a width
       already agree more the wider they are (README, A7); this asks for more than that.

    Parameters
    ----------
    trained, initialization
        Symmetric ``(networks, networks)`` distances of the same networks, after training and
        at initialization (epoch 0), the same layer and filters.
    width_of
        Width multiplier of each network (two or more networks per width).
    alpha
        Significance level.
    n_permutations, seed
        Random orderings drawn when the widths are too many to enumerate (more than 7).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> width_of = np.repeat([1, 2, 4, 8, 16], 3)
    >>> level = {1: 0.3, 2: 0.25, 4: 0.2, 8: 0.15, 16: 0.1}
    >>> trained = np.array([[level[a] if a == b else 0.5 for b in width_of] for a in width_of])
    >>> initial = np.full((15, 15), 0.6)
    >>> check_figure4a(trained, initial, width_of).holds
    True
    """
    if np.shape(trained) != np.shape(initialization):
        raise ValueError(f"trained and initialization must compare the same networks; found "
                         f"shapes {np.shape(trained)} and {np.shape(initialization)}.")
    widths, after = within_width_distances(trained, width_of)
    _, before = within_width_distances(initialization, width_of)
    options = dict(alternative="less", alpha=alpha, n_permutations=n_permutations, seed=seed)
    return Verdict(
        "Figure 4a: wider networks converge to more similar solutions (within-width distance "
        "falls with width), more than networks of those widths agree at initialization (A7)",
        (
            _trend(widths, after, name="distance within a width falls with width",
                   statistic_text="Spearman correlation of width with the mean trained "
                                  "distance between networks of that width", **options),
            _trend(widths, after - before,
                   name="the fall exceeds the one at initialization (A7)",
                   statistic_text="Spearman correlation of width with the within-width "
                                  "distance after training minus at initialization", **options),
        ),
    )


def check_figure4b(
    trained: np.ndarray,
    width_of: Sequence[float],
    accuracy: Sequence[float],
    *,
    alpha: float = ALPHA,
    robust_rho: float = ROBUST_RHO,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> Verdict:
    """Figure 4b: widths whose networks are more similar generalize better, not by one width.

    Two tests over widths (paper, Section 3.2, Figure 4b, r = -0.96):

    1. ``"accuracy falls with distance"``: Spearman correlation of a width's mean within-width
       distance with its networks' mean test accuracy, < 0, exact over orderings of the widths.
    2. ``"no single width drives it"``: the same correlation with each width left out in turn;
       the largest of them must be at most ``robust_rho``. Its ``reason`` names the width whose
       removal weakens the correlation most (e.g. an underfit narrowest width). None with fewer
       than 4 widths.

    Parameters
    ----------
    trained
        Symmetric ``(networks, networks)`` trained distances.
    width_of
        Width multiplier of each network.
    accuracy
        Test accuracy of each network.
    alpha, robust_rho
        The declared rules (module docstring).
    n_permutations, seed
        Random orderings drawn when the widths are too many to enumerate.

    Examples
    --------
    >>> width_of = np.repeat([1, 2, 4, 8, 16], 3)
    >>> level = {1: 0.3, 2: 0.25, 4: 0.2, 8: 0.15, 16: 0.1}
    >>> trained = np.array([[level[a] if a == b else 0.5 for b in width_of] for a in width_of])
    >>> accuracy = 0.9 - np.array([level[w] for w in width_of])
    >>> check_figure4b(trained, width_of, accuracy).holds
    True
    """
    widths, within = within_width_distances(trained, width_of)
    labels = np.asarray(width_of, dtype=float)
    scores = np.asarray(accuracy, dtype=float)
    if scores.shape != labels.shape or not np.isfinite(scores).all():
        raise ValueError(f"accuracy must hold one finite value per network ({len(labels)}); "
                         f"found shape {scores.shape}.")
    mean_accuracy = np.array([scores[labels == w].mean() for w in widths])
    association = _trend(
        within, mean_accuracy, name="accuracy falls with distance",
        statistic_text="Spearman correlation, over widths, of the mean distance between networks "
                       "of a width with their mean test accuracy",
        alternative="less", alpha=alpha, n_permutations=n_permutations, seed=seed)
    return Verdict(
        "Figure 4b: networks that converge to more similar solutions generalize better (test "
        "accuracy falls with within-width distance), not because of one width",
        (association, _leave_one_width_out(widths, within, mean_accuracy, robust_rho)),
    )


def check_figure4(
    trained: np.ndarray,
    initialization: np.ndarray,
    width_of: Sequence[float],
    accuracy: Sequence[float],
    *,
    alpha: float = ALPHA,
    robust_rho: float = ROBUST_RHO,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> Verdict:
    """Figure 4 (a with A7, and b) in one verdict: the tests of :func:`check_figure4a` and
    :func:`check_figure4b`.

    Examples
    --------
    >>> width_of = np.repeat([1, 2, 4, 8, 16], 3)
    >>> level = {1: 0.3, 2: 0.25, 4: 0.2, 8: 0.15, 16: 0.1}
    >>> trained = np.array([[level[a] if a == b else 0.5 for b in width_of] for a in width_of])
    >>> accuracy = 0.9 - np.array([level[w] for w in width_of])
    >>> verdict = check_figure4(trained, np.full((15, 15), 0.6), width_of, accuracy)
    >>> verdict.holds, len(verdict.tests)
    (True, 4)
    """
    a = check_figure4a(trained, initialization, width_of, alpha=alpha,
                       n_permutations=n_permutations, seed=seed)
    b = check_figure4b(trained, width_of, accuracy, alpha=alpha, robust_rho=robust_rho,
                       n_permutations=n_permutations, seed=seed)
    return Verdict(
        "Figure 4: wider networks converge to more similar solutions, beyond their agreement at "
        "initialization (A7), and more similar networks generalize better",
        a.tests + b.tests,
    )


#: Figure 4 with width separated from training length, on a chance-corrected scale (issue 25).
READINGS_RULE = (
    "check_figure4 (its declared alpha, robust_rho and orderings; Figure 4a with A7 as the "
    "trained minus initialization contrast, and 4b) on each reading of the same networks, every "
    "network trained for the profile's epochs (a fixed budget) without a stopping criterion: "
    "'fixed epochs' reads every network after those epochs, 'training accuracy criterion' at "
    "the first epoch whose training accuracy reaches the profile's criterion_accuracy (its last "
    "epoch if never, named in the record); distances on the chance-corrected scale of "
    "analysis.heldout_pwcca_distance (1 - held-out PWCCA, 5 folds, seed 0; symmetrised), the "
    "profile's filters random filters of the last conv layer, on heldout_probe test images "
    "(never trained on); holds when every test of both readings holds, contradicted when any "
    "is contradicted, inconclusive otherwise")


def check_figure4_readings(
    readings: Mapping[str, tuple[np.ndarray, np.ndarray, Sequence[float]]],
    width_of: Sequence[float],
    **options: object,
) -> Verdict:
    """Figure 4 (a with A7, and b) at each reading of the same networks (:data:`READINGS_RULE`).

    Parameters
    ----------
    readings
        ``{reading: (trained, initialization, accuracy)}`` of :func:`check_figure4`, e.g.
        ``"fixed epochs"`` and ``"training accuracy criterion"``.
    width_of
        Width multiplier of each network.
    **options
        Passed to :func:`check_figure4` (``alpha``, ``robust_rho``, ``n_permutations``, ...).

    Returns
    -------
    Verdict
        Every reading's tests, each name prefixed by its reading.

    Examples
    --------
    >>> width_of = np.repeat([1, 2, 4, 8, 16, 32, 64], 3)
    >>> level = dict(zip([1, 2, 4, 8, 16, 32, 64], [0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4]))
    >>> trained = np.array([[level[a] if a == b else 0.9 for b in width_of] for a in width_of])
    >>> accuracy = 1.5 - np.array([level[w] for w in width_of])
    >>> one = (trained, np.full((21, 21), 1.0), accuracy)
    >>> verdict = check_figure4_readings({"fixed epochs": one, "criterion": one}, width_of)
    >>> verdict.outcome, len(verdict.tests)
    ('holds', 8)
    """
    if not readings:
        raise ValueError("readings must name at least one reading of the networks, e.g. "
                         "{'fixed epochs': (trained, initialization, accuracy)}")
    tests = evidence.reading_tests({
        reading: check_figure4(trained, initialization, width_of, accuracy, **options)
        for reading, (trained, initialization, accuracy) in readings.items()})
    return Verdict(
        "Figure 4: wider networks converge to more similar solutions, beyond their agreement at "
        "initialization (A7), and more similar networks generalize better, on a chance-corrected "
        f"scale, at a fixed epoch budget and at a training criterion ({', '.join(readings)})",
        tests)


def check_a6_cosine_euclidean(
    trained: Mapping[str, np.ndarray],
    width_of: Sequence[float],
    *,
    reference: str = "PWCCA",
    controls: Sequence[str] = ("cosine", "Euclidean"),
    alpha: float = ALPHA,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> Verdict:
    """Appendix A6: cosine and Euclidean distance show Figure 4a's width effect less clearly.

    "Less clearly" is declared as a weaker relative trend: per width, the log of the ratio
    of the reference's within-width distance to the control's (free of either measure's scale)
    must fall with width (Spearman over widths, < 0): the reference's distance falls by a
    larger factor. One test per control, ``"<control>: weaker width trend than <reference>"``.
    A ratio to each measure's mean over widths would not do: a chance difference of the means
    multiplies the reference's profile, and any profile that trends with width then makes the
    contrast trend too.

    Parameters
    ----------
    trained
        ``{measure name: (networks, networks) trained distances}`` with ``reference`` and
        ``controls``.
    width_of
        Width multiplier of each network.
    reference, controls
        Measure names.
    alpha, n_permutations, seed
        As in :func:`check_figure4a`.
    """
    missing = [m for m in (reference, *controls) if m not in trained]
    if missing:
        raise ValueError(f"trained has no measure {missing}; found {list(trained)}. Pass "
                         "{measure name: matrix} for the reference and every control.")
    logs = {}
    for measure in (reference, *controls):
        widths, within = within_width_distances(trained[measure], width_of)
        if (within <= 0).any():
            raise ValueError(f"trained[{measure!r}] has a width whose mean distance is not "
                             "positive; the log-ratio needs positive distances.")
        logs[measure] = np.log(within)
    tests = tuple(
        _trend(widths, logs[reference] - logs[control],
               name=f"{control}: weaker width trend than {reference}",
               statistic_text=f"Spearman correlation of width with log(within-width distance "
                              f"of {reference} / that of {control})",
               alternative="less", alpha=alpha, n_permutations=n_permutations, seed=seed)
        for control in controls
    )
    return Verdict(
        f"Appendix A6: {' and '.join(controls)} show the width effect less clearly than "
        f"{reference}",
        tests,
    )


def _trend(covariate, values, *, name, statistic_text, **options) -> Evidence:
    """:func:`.evidence.rank_trend` over widths; undecided (not an error) below 3 widths."""
    if len(values) < 3:
        return evidence.inconclusive(
            name, statistic_text, float("nan"), "no monotone trend", len(values), "widths",
            f"too few units: a trend needs 3 widths, found {len(values)}", null_value=0.0)
    return evidence.rank_trend(covariate, values, name=name, statistic_text=statistic_text,
                               unit="widths", **options)


def _leave_one_width_out(widths, within, mean_accuracy, robust_rho) -> Evidence:
    name = "no single width drives it"
    statistic = ("largest Spearman correlation of within-width distance with test accuracy "
                 "over the widths with one width left out")
    null = f"declared bound {robust_rho:g} for every leave-one-width-out correlation"
    if len(widths) < 4:
        return evidence.inconclusive(
            name, statistic, float("nan"), null, len(widths), "widths",
            f"too few units: leaving one width out needs 4, found {len(widths)}",
            null_value=robust_rho)
    left_out = np.array([evidence.spearman(np.delete(within, i), np.delete(mean_accuracy, i))
                         for i in range(len(widths))])
    weakest = int(np.argmax(left_out))
    full = evidence.spearman(within, mean_accuracy)
    # A robustness rule, not a test: it can hold or leave the claim inconclusive, never
    # contradict it (evidence.CONTRARY_RULE: no declared contrary, no contradiction).
    holds = True if left_out[weakest] <= robust_rho else None
    detail = (f"without width {widths[weakest]:g}: rho = {left_out[weakest]:.3g} (all widths: "
              f"{full:.3g})")
    return Evidence(name, statistic, float(left_out[weakest]), null, robust_rho, None,
                    len(widths), "widths", effect=float(left_out[weakest] - full),
                    holds=holds,
                    reason=detail if holds else (f"inconclusive: {detail} > {robust_rho:g}: that "
                                                 "width drives it"))


def _check(distances, width_of, name) -> tuple[np.ndarray, np.ndarray]:
    matrix = np.asarray(distances, dtype=float)
    labels = np.asarray(width_of, dtype=float)
    if matrix.ndim != 2 or matrix.shape != (len(labels), len(labels)):
        raise ValueError(f"{name} must be (networks, networks) with one width per network; "
                         f"found shape {matrix.shape} and {len(labels)} widths.")
    if not np.isfinite(matrix).all() or not np.allclose(matrix, matrix.T):
        raise ValueError(f"{name} must be finite and symmetric: symmetrise with (d + d.T) / 2.")
    _, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"every width needs at least 2 networks (a pair); found counts "
                         f"{counts.tolist()}.")
    return matrix - np.diag(np.diag(matrix)), labels


# --------------------------------------------------------------------------- measured numbers
# The numbers fig4_width.ipynb records beside each verdict (record_claim's ``measured``).


def figure4_measured(widths: Sequence[float], layer: str, filters: int, n_seeds: int,
                     per_width: Mapping[tuple[str, str], Sequence[object]],
                     width_of: np.ndarray, test_accuracy: np.ndarray,
                     train_accuracy: np.ndarray, stopped_at: np.ndarray,
                     slopes: Mapping[str, float], r: float) -> dict:
    """Figure 4 (and A7): within-width PWCCA distances, accuracy and training per width, the
    descriptive slopes and the correlation over networks.

    Parameters
    ----------
    widths : sequence of float
        The width multipliers.
    layer : str
        The layer compared.
    filters : int
        Random filters compared per network.
    n_seeds : int
        Networks per width.
    per_width : mapping
        ``{(stage, measure): per width, a result with ``mean``}`` (stage ``"trained"`` or
        ``"initialization"``).
    width_of, test_accuracy, train_accuracy, stopped_at : ndarray, shape (networks,)
        Each network's width, final accuracies and epochs trained.
    slopes : mapping
        ``{stage: PWCCA distance per doubling of the width}``.
    r : float
        Pearson r over networks between test accuracy and distance to width-mates.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace as W
    >>> per_width = {(s, "PWCCA"): [W(mean=0.5)] for s in ("trained", "initialization")}
    >>> one = np.array([0.5])
    >>> m = figure4_measured([1.0], "conv2", 8, 1, per_width, np.array([1.0]), one, one,
    ...                      np.array([3]), {}, 0.0)
    >>> m["epochs trained per width"]
    {'1': [3]}
    """
    return {"widths": widths, "layer": layer, "filters": filters, "networks per width": n_seeds,
            "mean PWCCA distance within each width, trained":
                [v.mean for v in per_width["trained", "PWCCA"]],
            "mean PWCCA distance within each width, at initialization":
                [v.mean for v in per_width["initialization", "PWCCA"]],
            "test accuracy per width":
                [float(test_accuracy[width_of == w].mean()) for w in widths],
            "training accuracy per width":
                [float(train_accuracy[width_of == w].mean()) for w in widths],
            "epochs trained per width":
                {f"{w:g}": stopped_at[width_of == w].tolist() for w in widths},
            "PWCCA distance per doubling of the width (least-squares slope), trained and at "
            "initialization": slopes,
            "Pearson r over networks (test accuracy, distance to width-mates)": r}


def a6_measured(widths: Sequence[float], per_width: Mapping[tuple[str, str], Sequence[object]],
                names: Sequence[str]) -> dict:
    """Appendix A6: the mean distance within each width of the trained networks, per measure.

    Parameters
    ----------
    widths : sequence of float
        The width multipliers.
    per_width : mapping
        As :func:`figure4_measured`.
    names : sequence of str
        The measures, e.g. ``["PWCCA", "cosine", "Euclidean"]``.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace as W
    >>> a6_measured([1.0], {("trained", "cosine"): [W(mean=0.2)]}, ["cosine"])
    {'widths': [1.0], 'mean distance within each width, trained': {'cosine': [0.2]}}
    """
    return {"widths": widths,
            "mean distance within each width, trained": {
                name: [v.mean for v in per_width["trained", name]] for name in names}}


def width_slopes(widths: Sequence[float], per_width: Mapping[tuple[str, str], Sequence[object]]
                 ) -> dict[str, float]:
    """The paper's contrast, descriptive: the least-squares slope of the within-width PWCCA
    distance against log2(width), per doubling, trained and at initialization (the tests are
    rank tests over widths).

    Parameters
    ----------
    widths : sequence of float
        The width multipliers.
    per_width : mapping
        As :func:`figure4_measured`.

    Returns
    -------
    dict
        ``{"trained": slope, "initialization": slope}``.

    Examples
    --------
    >>> from types import SimpleNamespace as W
    >>> per_width = {(s, "PWCCA"): [W(mean=0.6), W(mean=0.4)]
    ...              for s in ("trained", "initialization")}
    >>> round(width_slopes([1.0, 2.0], per_width)["trained"], 3)
    -0.2
    """
    return {stage: float(np.polyfit(np.log2(widths), [v.mean for v in per_width[stage, "PWCCA"]],
                                    1)[0]) for stage in ("trained", "initialization")}


def readings_measured(widths: Sequence[float], width_of: np.ndarray,
                      per_width: Mapping[str, Sequence[object]],
                      readings: Mapping[str, Sequence[int]], accuracy: Mapping[str, np.ndarray],
                      reached: Sequence[bool], settings: Mapping[str, object]) -> dict:
    """Figure 4's numbers at each reading on the chance-corrected scale (:data:`READINGS_RULE`):
    per width the mean within-width distance (each reading, and at initialization), the epochs
    read and the mean test accuracy there, and the networks that never met the criterion."""
    labels = np.asarray(width_of, dtype=float)

    def by_width(values):
        values = np.asarray(values, dtype=float)
        return [float(values[labels == w].mean()) for w in widths]
    return {
        "widths": list(widths), **settings,
        "within-width held-out PWCCA distance": {
            stage: [float(v.mean) for v in values] for stage, values in per_width.items()},
        "epochs read per width": {r: by_width(e) for r, e in readings.items()},
        "test accuracy per width": {r: by_width(a) for r, a in accuracy.items()},
        "networks that never reached the criterion (read at their last epoch)": [
            f"#{i} (width {labels[i]:g})" for i, ok in enumerate(reached) if not ok]}
