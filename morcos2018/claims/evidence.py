"""Verdicts that read like statistics results, and the tests over independent units they use.

A claim check returns a :class:`Verdict`: the claim and a list of :class:`Evidence`, one per
test. Each test compares a statistic with a baseline by a test over **independent units**
(networks or seeds): pairs of networks share networks and are never treated as independent.
Each test has one of three outcomes, decided by rules declared as parameters of the check
(``alpha`` and, where a claim is about size, an effect threshold; when each was declared, and after
which published result, is in claims/register.toml):

- **holds** (``holds=True``): the statistic is on the claimed side of the baseline with
  ``p <= alpha`` (and the effect passes its threshold, if the claim has one);
- **contradicted** (``holds=False``): positive evidence against the claim: the one-sided test in
  the *other* direction, at the smallest effect the claim needs (its threshold, else the baseline
  itself), gives ``contrary_pvalue <= alpha``; for an equivalence claim, the effect lies outside
  the equivalence margin with ``p <= alpha``;
- **inconclusive** (``holds=None``): neither, with the reason: too few units for any outcome to
  reach ``alpha`` (e.g. 3 networks against 3 give at best p = 1/20 one-sided), an effect whose
  interval spans both sides, or a test that has no declared contrary (it can hold, never be
  contradicted). A p-value above ``alpha`` is never, on its own, a contradiction.

A test whose outcome is fixed by construction (it holds under every null: a mathematical identity,
or a control measure that cannot see the effect whatever the networks learned) is a
**demonstration** (``Evidence.demonstration`` says why): it is reported, never counted as
evidence. A verdict's outcome rests on its other tests; one with demonstrations only has the
outcome "demonstration".

The record of a verdict (:meth:`Verdict.as_record`) is what notebooks store under ``evidence``:
a list of tests, each with ``name``, ``statistic``, ``value``, ``null``, ``pvalue``, ``units``,
``holds`` and ``outcome``, plus the effect, its interval, the contrary test and its p-value, and
the reason.

The tests here are exact where the number of relabellings is small enough to enumerate, and
otherwise Monte Carlo with ``p = (1 + #{at least as extreme}) / (1 + draws)``. They are
:func:`scipy.stats.permutation_test` wherever scipy can draw the null (sign flips, orderings,
relabellings of two groups, condition swaps); :func:`null_pvalue` reads a p-value off a null
drawn elsewhere, :func:`smallest_pvalue` is the p of the most extreme outcome (below which a
test cannot go: :func:`decide` calls a test inconclusive when that is above ``alpha``),
:func:`holm` adjusts several p-values, :func:`inconclusive` records a test the data cannot
decide.

A distance against its chance level (:func:`permutation_null`, :func:`against_chance`). The
chance level of a measure is its value on unrelated representations of the same shape:
:func:`cca.permutation_test` permutes the datapoints (rows) of one side, which keeps each layer's
neurons and covariance, the number of datapoints and the widths. For the CCA measures it is far
from 0 (unless n >> a + b), so "close" and "far" are read as shares of the way from chance to
identical: a distance ``d`` with chance level ``c`` closes ``(c - d) / c`` of the gap.
:func:`against_chance` tests one of two claims about that share over independent units:

- ``alternative="less"``: the distance closes **at least** ``share`` of the gap
  (``d <= (1 - share) c``: close, clearly below chance);
- ``alternative="greater"``: it closes **at most** ``share`` of the gap
  (``d >= (1 - share) c``: far, at the noise level).

Several units (networks, seeds): a sign-flip test over units of ``d_i - (1 - share) c_i``
(:func:`sign_flip`). One unit: there is nothing to flip, and the test is a Monte Carlo test over
the B row permutations of that one unit, comparing ``d`` with ``(1 - share)`` times each
permutation's distance: it accounts for the spread of the chance level, not for the variation
between networks or seeds, and its record says so (unit "row permutations").
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import stats as scipy_stats
from scipy.stats import rankdata

import cca
from morcos2018 import stats

ALPHA = 0.05
ALTERNATIVES = ("greater", "less")
#: The three outcomes, keyed by ``Evidence.holds``.
OUTCOMES = {True: "holds", False: "contradicted", None: "inconclusive"}
#: What makes a test contradicted (registered in claims/register.toml under evidence.decide).
CONTRARY_RULE = (
    "contradicted when the one-sided test in the other direction, at the smallest effect the "
    "claim needs (its declared threshold, else the baseline), gives p <= alpha; an equivalence "
    "claim is contradicted when the effect lies beyond a margin with p <= alpha; a test without "
    "a declared contrary can only hold or be inconclusive"
)
#: How a declared effect threshold enters :func:`sign_flip` (registered under evidence.decide).
SIGN_FLIP_THRESHOLD = (
    "tested: sign flips of difference - threshold, so holds needs the mean difference "
    "significantly beyond the threshold"
)
# Largest number of relabellings enumerated exactly; beyond, random ones are drawn.
EXACT_LIMIT = 20_000


@dataclass(frozen=True)
class Evidence:
    """One test of a claim: statistic, baseline, p-value over independent units, verdict.

    Attributes
    ----------
    name : str
        What is tested, in words (e.g. "generalizing pairs closer than memorizing pairs").
    statistic : str
        The statistic's definition (e.g. "mean within-memorizing minus mean within-generalizing
        PWCCA distance, late layers").
    value : float
        Its measured value.
    null : str
        The baseline it is compared with and how its distribution was obtained.
    null_value : float or None
        The baseline's value (chance level, value at initialization, null mean).
    pvalue : float or None
        One-sided p-value in the claimed direction; None when no test was run.
    units : int
        Number of independent units the test is over.
    unit : str
        What a unit is ("networks", "seeds", "row permutations").
    effect : float or None
        Effect size in the statistic's units (e.g. the difference from the baseline).
    interval : tuple of float or None
        Confidence interval of the effect (bootstrap over units unless stated in ``null``).
    holds : bool or None
        The outcome: True holds, False contradicted, None inconclusive (see :data:`OUTCOMES`).
    reason : str
        Why the test is inconclusive or contradicted, or what else qualifies it.
    contrary : str
        The declared test against the claim (empty: none is declared, the test cannot be
        contradicted).
    contrary_pvalue : float or None
        Its one-sided p-value; ``<= alpha`` contradicts the claim.
    demonstration : str
        Why the test's outcome is fixed by construction (empty: it is evidence). A demonstration
        is reported but does not count towards its verdict.
    """

    name: str
    statistic: str
    value: float
    null: str
    null_value: float | None
    pvalue: float | None
    units: int
    unit: str
    effect: float | None = None
    interval: tuple[float, float] | None = None
    holds: bool | None = None
    reason: str = ""
    contrary: str = ""
    contrary_pvalue: float | None = None
    demonstration: str = ""

    @property
    def outcome(self) -> str:
        """``"holds"``, ``"contradicted"`` or ``"inconclusive"``; ``"demonstration"`` for a test
        whose outcome is fixed by construction."""
        return "demonstration" if self.demonstration else OUTCOMES[self.holds]

    def as_record(self) -> dict[str, Any]:
        """Plain-JSON form: the keys notebooks store under ``evidence``."""
        return {
            "name": self.name,
            "statistic": self.statistic,
            "value": _plain(self.value),
            "null": self.null,
            "null_value": _plain(self.null_value),
            "pvalue": _plain(self.pvalue),
            "units": int(self.units),
            "unit": self.unit,
            "effect": _plain(self.effect),
            "interval": None if self.interval is None else [_plain(v) for v in self.interval],
            "holds": self.holds,
            "outcome": self.outcome,
            "reason": self.reason,
            "contrary": self.contrary,
            "contrary_pvalue": _plain(self.contrary_pvalue),
            **({"demonstration": self.demonstration} if self.demonstration else {}),
        }


@dataclass(frozen=True)
class Verdict:
    """A claim and the tests that decide it.

    ``holds`` is True when every test holds, False when any test is contradicted, None
    otherwise (some test inconclusive, none contradicted); :attr:`outcome` says it in words.
    Demonstrations (tests whose outcome is fixed by construction) do not count; a verdict of
    demonstrations only has ``holds`` None and the outcome ``"demonstration"``.
    """

    claim: str
    tests: tuple[Evidence, ...] = field(default_factory=tuple)

    @property
    def holds(self) -> bool | None:
        verdicts = [test.holds for test in self.tests if not test.demonstration]
        if not verdicts:
            return None
        if any(v is False for v in verdicts):
            return False
        return True if all(v is True for v in verdicts) else None

    @property
    def outcome(self) -> str:
        """``"holds"``, ``"contradicted"``, ``"inconclusive"``, or ``"demonstration"`` when every
        test is one."""
        if self.tests and all(test.demonstration for test in self.tests):
            return "demonstration"
        return OUTCOMES[self.holds]

    def __getitem__(self, name: str) -> Evidence:
        for test in self.tests:
            if test.name == name:
                return test
        raise KeyError(f"no test named {name!r}; tests: {[t.name for t in self.tests]}")

    def as_record(self) -> list[dict[str, Any]]:
        """The list stored under ``evidence`` in a notebook's record."""
        return [test.as_record() for test in self.tests]

    def summary(self) -> str:
        """One line per test: name, value vs baseline, p, units, verdict."""
        lines = [f"{self.claim} -> {self.outcome}"]
        for test in self.tests:
            p = "n/a" if test.pvalue is None else f"{test.pvalue:.3g}"
            base = "" if test.null_value is None else f" vs {test.null_value:.3g}"
            lines.append(
                f"  - {test.name}: {test.value:.3g}{base} (p = {p}, {test.units} {test.unit}) "
                f"-> {test.outcome}{f' ({test.reason})' if test.reason else ''}"
            )
        return "\n".join(lines)


def decide(
    pvalue: float,
    smallest_p: float,
    alpha: float = ALPHA,
    effect_ok: bool = True,
    effect_rule: str = "",
    contrary_pvalue: float | None = None,
) -> tuple[bool | None, str]:
    """The declared rule: (holds, reason) from a one-sided p-value and its contrary.

    - None (inconclusive) when even the most extreme outcome could not reach ``alpha``
      (``smallest_p > alpha``);
    - True (holds) when ``p <= alpha`` and the effect passes its threshold;
    - False (contradicted) when the contrary test (the other direction, at the smallest effect
      the claim needs) gives ``contrary_pvalue <= alpha``;
    - None (inconclusive) otherwise, with the reason; also when no contrary test is declared.

    Examples
    --------
    >>> decide(0.01, 0.001)
    (True, '')
    >>> decide(0.97, 0.001, contrary_pvalue=0.03)[0] is False
    True
    >>> decide(0.2, 0.001, contrary_pvalue=0.4)
    (None, 'inconclusive: p = 0.2 > alpha = 0.05, and the test against the claim gives p = 0.4')
    """
    _check_alpha(alpha)
    if smallest_p > alpha:
        return None, (
            f"too few units: the smallest p-value these units allow is {smallest_p:.3g} > "
            f"alpha = {alpha}"
        )
    if pvalue <= alpha and effect_ok:
        return True, ""
    if contrary_pvalue is not None and contrary_pvalue <= alpha:
        return False, (
            f"contradicted: the test against the claim gives p = {contrary_pvalue:.3g} <= "
            f"alpha = {alpha}"
            + ("" if pvalue > alpha else f" (significant, but the effect fails: {effect_rule})")
        )
    against = ("no test against the claim is declared" if contrary_pvalue is None else
               f"the test against the claim gives p = {contrary_pvalue:.3g}")
    if pvalue > alpha:
        return None, f"inconclusive: p = {pvalue:.3g} > alpha = {alpha}, and {against}"
    return None, (
        f"inconclusive: significant (p = {pvalue:.3g}), but the effect fails the declared rule "
        f"({effect_rule}), and {against}"
    )


def opposite(alternative: str) -> str:
    """The other one-sided direction: the contrary test's alternative."""
    _check_alternative(alternative)
    return "less" if alternative == "greater" else "greater"


def null_pvalue(
    observed: float, null: np.ndarray, alternative: str, *, exact: bool, tie: float = 1e-12
) -> float:
    """One-sided p of ``observed`` against a null distribution drawn outside scipy.stats.

    Every test whose null scipy can draw goes through :func:`scipy.stats.permutation_test` (see
    :func:`_permutation`). This is for the rest: the row permutations :func:`cca.permutation_test`
    already ran (:func:`against_chance` with one unit), relabellings shared by two statistics
    (Figure 5's cluster and separation tests), and per-run layer relabellings of runs of unequal
    depth (Figure 6; with equal depths the test equals :func:`scipy.stats.page_trend_test`). The
    p-value is scipy's: with ``exact`` (``null`` is every relabelling, the observed one included)
    the share of the null at least as extreme; otherwise Monte Carlo,
    ``(1 + #{at least as extreme}) / (1 + draws)`` (Phipson & Smyth 2010). Values within ``tie``
    of ``observed`` count as at least as extreme.

    Examples
    --------
    >>> null_pvalue(2.0, np.array([0.0, 1.0, 2.0, 3.0]), "greater", exact=True)
    0.5
    >>> round(null_pvalue(2.0, np.array([0.0, 1.0, 3.0]), "greater", exact=False), 3)
    0.5
    """
    _check_alternative(alternative)
    null = np.asarray(null, dtype=float)
    sign = 1.0 if alternative == "greater" else -1.0
    extreme = np.sum(sign * null >= sign * observed - tie, axis=0)
    if exact:
        return extreme / len(null) if null.ndim > 1 else float(extreme / len(null))
    pvalue = (1 + extreme) / (1 + len(null))
    return pvalue if null.ndim > 1 else float(pvalue)


def smallest_pvalue(null: np.ndarray, alternative: str, *, exact: bool, tie: float = 1e-12
                    ) -> float:
    """The smallest p a test could give with these units: the p of the most extreme outcome.

    Exact: the share of relabellings that tie with the null's most extreme value (e.g.
    ``1 / C(10, 5)`` for 5 networks against 5, ``1 / 2**k`` for k sign flips); Monte Carlo:
    ``1 / (1 + draws)``. Above ``alpha`` no outcome could hold and :func:`decide` says
    inconclusive.

    Examples
    --------
    >>> smallest_pvalue(np.array([-1.0, 0.0, 1.0, 1.0]), "greater", exact=True)
    0.5
    """
    _check_alternative(alternative)
    null = np.asarray(null, dtype=float)
    if not exact:
        return 1 / (1 + len(null))
    sign = 1.0 if alternative == "greater" else -1.0
    return float(np.mean(sign * null >= (sign * null).max() - tie))


def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of several p-values (family-wise error), in their order.

    The j-th smallest (from 0) of m p-values is multiplied by ``m - j``, made non-decreasing
    and capped at 1. scipy.stats has Benjamini-Hochberg (``false_discovery_control``), not Holm.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    pvalues = np.asarray(pvalues, dtype=float)
    order = np.argsort(pvalues, kind="stable")
    steps = (len(pvalues) - np.arange(len(pvalues))) * pvalues[order]
    adjusted = np.empty_like(pvalues)
    adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    return adjusted


def reading_tests(verdicts: Mapping[str, Verdict]) -> tuple[Evidence, ...]:
    """The tests of one check run on several readings of the same units (e.g. networks read
    after a fixed budget and at a criterion), each name prefixed by its reading, in order: a
    :class:`Verdict` of them holds when every reading's tests hold.

    Examples
    --------
    >>> test = Evidence("closer", "mean distance", 0.2, "chance", 0.5, 0.01, 6, "seeds",
    ...                 holds=True)
    >>> [t.name for t in reading_tests({"early": Verdict("c", (test,)),
    ...                                 "late": Verdict("c", (test,))})]
    ['early: closer', 'late: closer']
    """
    if not verdicts:
        raise ValueError("give at least one reading of the units, e.g. {'fixed epochs': ...}")
    return tuple(replace(test, name=f"{reading}: {test.name}")
                 for reading, verdict in verdicts.items() for test in verdict.tests)


def inconclusive(
    name: str, statistic: str, value: float, null: str, units: int, unit: str, reason: str,
    **fields: Any,
) -> Evidence:
    """A test the data cannot decide (``holds=None``, no p-value), with the reason why.

    Examples
    --------
    >>> inconclusive("trend", "Spearman rho", 0.5, "no trend", 2, "widths",
    ...           "too few units: a trend needs 3 widths").holds is None
    True
    """
    fields.setdefault("null_value", None)
    return Evidence(name, statistic, value, null, units=units, unit=unit, pvalue=None,
                    holds=None, reason=reason, **fields)


def group_difference(
    distances: np.ndarray,
    group_a: Sequence[int],
    group_b: Sequence[int],
    *,
    name: str,
    statistic_text: str,
    statistic: stats.Statistic = stats.within_difference,
    alternative: str = "greater",
    alpha: float = ALPHA,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> Evidence:
    """Network-label permutation test of a group statistic on a pairwise distance matrix.

    The units are networks: their labels are permuted, never the pair distances (pairs share
    networks). ``statistic(distances, a, b)`` is e.g. :func:`.stats.within_difference`
    (within-a minus within-b); ``alternative`` says the claimed direction. The baseline
    is the statistic's mean over relabellings; the interval is the 2.5-97.5% range of the
    statistic over bootstrap resamples of the networks within each group. The relabelling is
    :func:`morcos2018.stats.permutation_test`, the one the published notebooks' p-values
    come from, so that these verdicts and those numbers agree; the sign-flip and rank tests
    below use :func:`scipy.stats.permutation_test`.
    """
    _check_alternative(alternative)
    a, b = np.asarray(group_a, dtype=int), np.asarray(group_b, dtype=int)
    result = stats.permutation_test(
        distances, a, b, statistic, alternative, n_permutations=n_permutations, seed=seed
    )
    contrary = stats.permutation_test(
        distances, a, b, statistic, opposite(alternative), n_permutations=n_permutations,
        seed=seed,
    )
    splits = math.comb(len(a) + len(b), len(a))
    smallest = 1 / splits if result.exact else 1 / (1 + n_permutations)
    null_mean = _relabelled_mean(distances, a, b, statistic, seed)
    interval = _bootstrap_groups(distances, a, b, statistic, seed)
    holds, reason = decide(result.pvalue, smallest, alpha, contrary_pvalue=contrary.pvalue)
    return Evidence(
        name=name,
        statistic=statistic_text,
        value=result.statistic,
        null=(
            f"network labels permuted ({'all ' if result.exact else ''}{result.n_permutations} "
            "relabellings)"
        ),
        null_value=null_mean,
        pvalue=result.pvalue,
        units=len(a) + len(b),
        unit="networks",
        effect=result.statistic - null_mean,
        interval=interval,
        holds=holds,
        reason=reason,
        contrary=f"the same relabellings, the other direction ({opposite(alternative)})",
        contrary_pvalue=contrary.pvalue,
    )


def sign_flip(
    values: Sequence[float],
    *,
    baseline: float | Sequence[float] = 0.0,
    name: str,
    statistic_text: str,
    baseline_text: str,
    unit: str = "seeds",
    alternative: str = "greater",
    alpha: float = ALPHA,
    threshold: float | None = None,
    n_flips: int = 20_000,
    seed: int = 0,
) -> Evidence:
    """Test that per-unit values exceed (or fall below) their baseline: a sign-flip test.

    Each independent unit (seed, network) contributes ``values[i] - baseline[i]``. Under the null
    these differences are symmetric about 0, so their mean is compared with the means under all
    2^k sign flips (exact for up to ``log2(EXACT_LIMIT)`` units, else ``n_flips`` random ones).
    ``threshold`` (a claim about size): the test is of the mean difference beyond the threshold,
    the signs of ``difference - threshold`` flipped (symmetric about the threshold under the
    null), so a mean difference at the threshold holds at rate alpha, not half the time as a
    point-estimate rule would (findings/calibration.md, Figure 1 a-c; register:
    ``evidence.SIGN_FLIP_THRESHOLD``). The interval is a bootstrap over units of the mean
    difference. The contrary test flips the same signs in the other direction: it contradicts
    the claim when the mean difference is significantly short of the smallest effect the claim
    needs (0 without a threshold).
    """
    _check_alternative(alternative)
    values = np.asarray(values, dtype=float)
    differences = values - np.broadcast_to(np.asarray(baseline, dtype=float), values.shape)
    _check_units(differences, "values", minimum=1)
    sign = 1.0 if alternative == "greater" else -1.0
    observed = float(differences.mean())
    k = len(differences)
    boundary = 0.0 if threshold is None else sign * threshold
    beyond = differences - boundary
    pvalue, null, exact = _sign_flips(beyond, alternative, n_flips, seed)
    contrary_pvalue = _sign_flips(beyond, opposite(alternative), n_flips, seed)[0]
    # the units' smallest p (all k differences on the claimed side), whatever ties the data hold
    smallest = 1 / 2**k if exact else smallest_pvalue(null, alternative, exact=False)
    text = (
        f"{'all' if exact else 'random'} {len(null)} sign flips of the {k} per-{unit[:-1]} "
        f"differences{'' if threshold is None else f' - {threshold:g} (the declared threshold)'}"
    )
    effect_ok = threshold is None or sign * observed >= threshold
    rule = "" if threshold is None else f"mean difference beyond {threshold:g}, claimed direction"
    holds, reason = decide(pvalue, smallest, alpha, effect_ok, rule, contrary_pvalue)
    return Evidence(
        name=name,
        statistic=statistic_text,
        value=float(values.mean()),
        null=f"{baseline_text}; {text}",
        null_value=float(np.mean(np.broadcast_to(baseline, values.shape))),
        pvalue=pvalue,
        units=k,
        unit=unit,
        effect=observed,
        interval=bootstrap_mean(differences, seed=seed),
        holds=holds,
        reason=reason,
        contrary=(f"sign flips of the differences{'' if threshold is None else ' - threshold'}, "
                  f"the other direction ({opposite(alternative)})"),
        contrary_pvalue=contrary_pvalue,
    )


def equivalence_sign_flip(
    ratios: Sequence[float],
    *,
    margin: float,
    name: str,
    statistic_text: str,
    baseline_text: str,
    unit: str = "networks",
    alpha: float = ALPHA,
    seed: int = 0,
) -> Evidence:
    """Test that per-unit ratios to a baseline lie within ``1 +- margin``: two one-sided sign-flip
    tests (TOST) over units, each of :func:`sign_flip`.

    Holds when the mean ratio is significantly above ``1 - margin`` and significantly below
    ``1 + margin`` (the larger of the two p-values at most ``alpha``); contradicted when it is
    significantly beyond either margin (the contrary tests); inconclusive otherwise, and with
    fewer units than ``alpha`` allows (5 units: smallest p 1/32).

    Examples
    --------
    >>> near_one = [0.97, 1.05, 1.02, 0.99, 1.04]
    >>> equivalence_sign_flip(near_one, margin=0.2, name="at chance", statistic_text="ratio",
    ...                       baseline_text="chance").outcome
    'holds'
    >>> equivalence_sign_flip([0.5, 0.6, 0.55, 0.52, 0.58], margin=0.2, name="at chance",
    ...                       statistic_text="ratio", baseline_text="chance").outcome
    'contradicted'
    """
    if not 0 < margin < 1:
        raise ValueError(f"margin must be in (0, 1); found {margin!r}.")
    ratios = np.asarray(ratios, dtype=float)
    _check_units(ratios, "ratios", minimum=1)
    common = dict(name=name, statistic_text=statistic_text, baseline_text=baseline_text,
                  unit=unit, alpha=alpha, seed=seed)
    above = sign_flip(ratios, baseline=1 - margin, alternative="greater", **common)
    below = sign_flip(ratios, baseline=1 + margin, alternative="less", **common)
    pvalue = max(above.pvalue, below.pvalue)
    contrary_pvalue = min(above.contrary_pvalue, below.contrary_pvalue)
    k = len(ratios)
    smallest = 1 / 2**k if 2**k <= EXACT_LIMIT else 1 / (EXACT_LIMIT + 1)
    holds, reason = decide(pvalue, smallest, alpha, contrary_pvalue=contrary_pvalue)
    return Evidence(
        name=name,
        statistic=statistic_text,
        value=float(ratios.mean()),
        null=(f"{baseline_text}; equivalence within 1 +- {margin:g}: two one-sided sign-flip "
              f"tests over the {k} {unit} (ratio above {1 - margin:g}, ratio below "
              f"{1 + margin:g}), the larger p"),
        null_value=1.0,
        pvalue=pvalue,
        units=k,
        unit=unit,
        effect=float(ratios.mean() - 1),
        interval=bootstrap_mean(ratios - 1, seed=seed),
        holds=holds,
        reason=reason,
        contrary=(f"the ratio beyond the nearer margin ({1 - margin:g} or {1 + margin:g}): the "
                  "same sign flips, the other direction, the smaller p"),
        contrary_pvalue=contrary_pvalue,
    )


def _sign_flips(differences: np.ndarray, alternative: str, n_flips: int, seed: int):
    """(p-value, null, exact?) of a sign-flip test of the mean of ``differences``."""
    if len(differences) == 1:  # scipy needs two units: the observed sign and its mirror
        observed = float(differences[0])
        null = np.array([observed, -observed])
        return null_pvalue(observed, null, alternative, exact=True), null, True
    return _permutation((differences,), np.mean, "samples", alternative, n_flips, seed)


def rank_trend(
    covariate: Sequence[float],
    values: Sequence[float],
    *,
    name: str,
    statistic_text: str,
    unit: str = "networks",
    alternative: str = "less",
    alpha: float = ALPHA,
    n_permutations: int = 20_000,
    seed: int = 0,
) -> Evidence:
    """Spearman rank correlation of ``values`` with ``covariate`` over independent units.

    The null permutes the values among the units (exactly when k! <= :data:`EXACT_LIMIT`).
    ``alternative="less"`` claims a falling trend. The baseline is 0 (no monotone trend); the
    interval is a bootstrap over units.
    """
    _check_alternative(alternative)
    x, y = np.asarray(covariate, dtype=float), np.asarray(values, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(
            f"covariate and values must be 1-D of one length; found {x.shape} and {y.shape}."
        )
    _check_units(y, "values", minimum=3)
    rho = spearman(x, y)
    k = len(y)

    def correlation_with_covariate(reordered: np.ndarray, axis: int = -1) -> np.ndarray:
        reordered = np.moveaxis(reordered, axis, -1)
        rows = reordered.reshape(-1, k)
        values = _spearman_rows(np.broadcast_to(x, rows.shape), rows)
        return np.nan_to_num(values).reshape(reordered.shape[:-1])

    pvalue, null, exact = _permutation(
        (y,), correlation_with_covariate, "pairings", alternative, n_permutations, seed
    )
    smallest = smallest_pvalue(null, alternative, exact=exact)
    text = f"{'all' if exact else 'random'} {len(null)} orderings of the {k} {unit}"
    contrary_pvalue = null_pvalue(rho, null, opposite(alternative), exact=exact)
    holds, reason = decide(pvalue, smallest, alpha, contrary_pvalue=contrary_pvalue)
    rows = np.random.default_rng(seed).integers(0, k, (2000, k))
    boot = _spearman_rows(x[rows], y[rows])
    boot = boot[np.isfinite(boot)]
    interval = None
    if len(boot):
        interval = (float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975)))
    return Evidence(
        name=name,
        statistic=statistic_text,
        value=rho,
        null=f"no monotone trend; {text}",
        null_value=0.0,
        pvalue=pvalue,
        units=k,
        unit=unit,
        effect=rho,
        interval=interval,
        holds=holds,
        reason=reason,
        contrary=f"the same orderings, the other direction ({opposite(alternative)})",
        contrary_pvalue=contrary_pvalue,
    )


def permutation_null(
    x: np.ndarray, y: np.ndarray, measure: str, n_permutations: int, seed: int
) -> cca.PermutationResult:
    """:func:`cca.permutation_test` of a distance, without its chance-level warning.

    The warning tells a user to read the result against its chance level; the claim checks do
    exactly that, so it would only repeat what the verdict already accounts for. The measure's
    own :class:`cca.DegenerateCCAWarning` (n <= a + b datapoints) still comes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 3))
    >>> result = permutation_null(x, x @ rng.normal(size=(3, 3)), "mean_cca_distance", 99, 0)
    >>> round(result.statistic, 6), bool(result.null_mean > 0.5)
    (0.0, True)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.ChanceLevelWarning)
        return cca.permutation_test(x, y, measure, n_permutations=n_permutations, seed=seed)


def against_chance(
    results: Sequence[cca.PermutationResult],
    *,
    share: float,
    alternative: str,
    name: str,
    statistic_text: str,
    unit: str,
    alpha: float = ALPHA,
    seed: int = 0,
) -> Evidence:
    """Evidence that distances close at least (``"less"``) or at most (``"greater"``) ``share``
    of the gap from their chance level to 0, one permutation result per independent unit.

    Parameters
    ----------
    results : sequence of cca.PermutationResult
        One per unit, each from :func:`permutation_null` of a distance.
    share : float
        Declared share of the gap from chance to identical, in (0, 1).
    alternative : {"less", "greater"}
        "less": the claim is ``d <= (1 - share) * chance`` (close); "greater": the claim is
        ``d >= (1 - share) * chance`` (far).
    name, statistic_text : str
        As in :class:`Evidence`.
    unit : str
        What a unit is, plural ("networks", "seeds").
    alpha : float
        Significance level.
    seed : int
        Seed of random sign flips and of the bootstrap interval.

    Returns
    -------
    Evidence
        ``value``: mean distance; ``null_value``: mean of ``(1 - share) * chance``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 4))
    >>> results = [permutation_null(x, x + 0.1 * rng.normal(size=(200, 4)), "mean_cca_distance",
    ...                             99, seed) for seed in range(5)]
    >>> against_chance(results, share=0.9, alternative="less", name="close",
    ...                statistic_text="mean CCA distance", unit="seeds").holds
    True
    """
    _check_alternative(alternative)
    if not 0 < share < 1:
        raise ValueError(f"share must be in (0, 1) (a share of the gap from chance to 0); "
                         f"found {share!r}.")
    distances = np.array([result.statistic for result in results])
    chance = np.array([result.null_mean for result in results])
    factor = 1.0 - share
    baseline_text = (
        f"{factor:g} x the chance level (mean {chance.mean():.3g}: the same distance with the "
        f"datapoints of one side permuted, {len(results[0].null_distribution)} permutations)"
    )
    if len(results) > 1:
        return sign_flip(
            distances, baseline=factor * chance, name=name, statistic_text=statistic_text,
            baseline_text=baseline_text, unit=unit, alternative=alternative, alpha=alpha,
            seed=seed,
        )
    (result,) = results
    thresholds = factor * np.asarray(result.null_distribution, dtype=float)
    observed = float(result.statistic)
    draws = len(thresholds)
    pvalue = null_pvalue(observed, thresholds, alternative, exact=False)
    contrary_pvalue = null_pvalue(observed, thresholds, opposite(alternative), exact=False)
    holds, reason = decide(pvalue, smallest_pvalue(thresholds, alternative, exact=False), alpha,
                           contrary_pvalue=contrary_pvalue)
    effects = observed - thresholds
    return Evidence(
        name=name,
        statistic=statistic_text,
        value=observed,
        null=(
            f"{baseline_text}; one {unit[:-1]} only: Monte Carlo over its row permutations, "
            f"which covers the spread of the chance level, not the variation between {unit}"
        ),
        null_value=float(thresholds.mean()),
        pvalue=pvalue,
        units=draws,
        unit="row permutations",
        effect=float(observed - thresholds.mean()),
        interval=(float(np.quantile(effects, 0.025)), float(np.quantile(effects, 0.975))),
        holds=holds,
        reason=reason,
        contrary=f"the same permutations, the other direction ({opposite(alternative)})",
        contrary_pvalue=contrary_pvalue,
    )


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); 0 if either is constant."""
    value = _spearman_rows(np.asarray(x, dtype=float)[None], np.asarray(y, dtype=float)[None])[0]
    return 0.0 if not np.isfinite(value) else float(value)


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of x with the same row of y (NaN where one is constant)."""
    rx, ry = rankdata(x, axis=1), rankdata(y, axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    norms = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms > 0, (rx * ry).sum(axis=1) / norms, np.nan)


def bootstrap_mean(
    values: Sequence[float], confidence: float = 0.95, resamples: int = 4000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over independent units (scipy.stats.bootstrap);
    one unit, or units that all agree, give the degenerate interval (mean, mean)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or np.ptp(values) == 0:
        return float(values.mean()), float(values.mean())
    result = scipy_stats.bootstrap(
        (values,), np.mean, n_resamples=resamples, confidence_level=confidence,
        method="percentile", rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _permutation(data, statistic, permutation_type, alternative, n_resamples, seed):
    """(one-sided p-value, null distribution, all relabellings enumerated?) from
    :func:`scipy.stats.permutation_test`: exact when there are at most ``max(n_resamples,
    EXACT_LIMIT)`` relabellings, else Monte Carlo with ``p = (1 + #{as extreme}) / (1 + draws)``."""
    draws = max(n_resamples, EXACT_LIMIT)
    result = scipy_stats.permutation_test(
        data, statistic, permutation_type=permutation_type, alternative=alternative,
        n_resamples=draws, vectorized=True, rng=np.random.default_rng(seed),
    )
    return float(result.pvalue), result.null_distribution, len(result.null_distribution) < draws


def _relabelled_mean(distances, a, b, statistic, seed, draws: int = 500) -> float:
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([a, b])
    values = []
    for _ in range(draws):
        order = rng.permutation(pooled)
        values.append(statistic(np.asarray(distances, float), order[: len(a)], order[len(a) :]))
    return float(np.mean(values))


def _bootstrap_groups(distances, a, b, statistic, seed, resamples: int = 1000):
    """2.5-97.5% range of the statistic over resamples of networks within each group (distinct
    networks only, so that within-group pairs stay pairs of different networks)."""
    rng = np.random.default_rng(seed)
    matrix = np.asarray(distances, dtype=float)
    values = []
    for _ in range(resamples):
        a_star = np.unique(rng.choice(a, len(a)))
        b_star = np.unique(rng.choice(b, len(b)))
        if len(a_star) >= 2 and len(b_star) >= 2:
            values.append(statistic(matrix, a_star, b_star))
    if not values:
        return None
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ValueError(
            f"alternative must be one of {ALTERNATIVES} (the claimed direction); "
            f"found {alternative!r}."
        )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); found {alpha!r}.")


def _check_units(values: np.ndarray, name: str, minimum: int) -> None:
    if values.ndim != 1 or len(values) < minimum:
        raise ValueError(
            f"{name} must be 1-D with at least {minimum} independent unit(s); found shape "
            f"{values.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{name} holds NaN or infinite entries; every unit needs a value.")


def _plain(value: Any) -> Any:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


