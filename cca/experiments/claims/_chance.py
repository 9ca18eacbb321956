"""A distance against its chance level: the noise baseline shared by the toy and dynamics checks.

The chance level of a measure is its value on unrelated representations of the same shape:
:func:`cca.permutation_test` permutes the datapoints (rows) of one side, which keeps each layer's
neurons and covariance, the number of datapoints and the widths. For the CCA measures it is far
from 0 (unless n >> a + b), so "close" and "far" are read as shares of the way from chance to
identical: a distance ``d`` with chance level ``c`` closes ``(c - d) / c`` of the gap.

:func:`against_chance` turns one :class:`cca.PermutationResult` per independent unit into an
:class:`~.evidence.Evidence` for one of two claims about that share:

- ``alternative="less"``: the distance closes **at least** ``share`` of the gap
  (``d <= (1 - share) c``: close, clearly below chance);
- ``alternative="greater"``: it closes **at most** ``share`` of the gap
  (``d >= (1 - share) c``: far, at the noise level).

Several units (networks, seeds): a sign-flip test over units of ``d_i - (1 - share) c_i``
(:func:`.evidence.sign_flip`). One unit: there is nothing to flip, and the test is a Monte Carlo
test over the B row permutations of that one unit, comparing ``d`` with ``(1 - share)`` times each
permutation's distance: it accounts for the spread of the chance level, not for the variation
between networks or seeds, and its record says so (unit "row permutations").

Not in :mod:`.evidence` because that module is shared and fixed; this is private to the claim
modules that need a chance baseline (:mod:`.toys`, :mod:`.dynamics`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

import cca
from cca.experiments.claims import evidence


def permutation_null(
    x: np.ndarray, y: np.ndarray, measure: str, n_permutations: int, seed: int
) -> cca.PermutationResult:
    """:func:`cca.permutation_test` of a distance, without its chance-level warning.

    The warning tells a user to read the result against its chance level; the claim checks do
    exactly that, so it would only repeat what the verdict already accounts for.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.ChanceLevelWarning)
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        return cca.permutation_test(x, y, measure, n_permutations=n_permutations, seed=seed)


def against_chance(
    results: Sequence[cca.PermutationResult],
    *,
    share: float,
    alternative: str,
    name: str,
    statistic_text: str,
    unit: str,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Evidence:
    """Evidence that distances close at least (``"less"``) or at most (``"greater"``) ``share``
    of the gap from their chance level to 0, one permutation result per independent unit.

    Parameters
    ----------
    results : sequence of cca.PermutationResult
        One per unit, each from :func:`permutation_null` of a distance.
    share : float
        Pre-declared share of the gap from chance to identical, in (0, 1).
    alternative : {"less", "greater"}
        "less": the claim is ``d <= (1 - share) * chance`` (close); "greater": the claim is
        ``d >= (1 - share) * chance`` (far).
    name, statistic_text : str
        As in :class:`.evidence.Evidence`.
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
    """
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
        return evidence.sign_flip(
            distances, baseline=factor * chance, name=name, statistic_text=statistic_text,
            baseline_text=baseline_text, unit=unit, alternative=alternative, alpha=alpha,
            seed=seed,
        )
    (result,) = results
    thresholds = factor * np.asarray(result.null_distribution, dtype=float)
    observed = float(result.statistic)
    tie = 1e-12
    if alternative == "less":
        against = observed >= thresholds - tie
    elif alternative == "greater":
        against = observed <= thresholds + tie
    else:
        raise ValueError(f"alternative must be 'less' or 'greater'; found {alternative!r}.")
    draws = len(thresholds)
    p_value = float((1 + against.sum()) / (1 + draws))
    holds, reason = evidence.decide(p_value, 1 / (1 + draws), alpha)
    effects = observed - thresholds
    return evidence.Evidence(
        name=name,
        statistic=statistic_text,
        value=observed,
        null=(
            f"{baseline_text}; one {unit[:-1]} only: Monte Carlo over its row permutations, "
            f"which covers the spread of the chance level, not the variation between {unit}"
        ),
        null_value=float(thresholds.mean()),
        p_value=p_value,
        units=draws,
        unit="row permutations",
        effect=float(observed - thresholds.mean()),
        interval=(float(np.quantile(effects, 0.025)), float(np.quantile(effects, 0.975))),
        holds=holds,
        reason=reason,
    )
