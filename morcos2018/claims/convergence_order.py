"""Figure 6's tests of the depth order over runs, beyond the pooled sign flip per reference.

The units are training runs (a model and seed each); every test reads, per run, the Spearman
correlation of depth with the layers' convergence statistic
(:mod:`morcos2018.claims.convergence_curves`):

- :func:`first_layer_tests`: layer 1 converging first, and the order among layers 2..L, apart
  (a pooled order can be carried by layer 1 alone);
- :func:`per_depth_tests`: the order per depth (number of layers) against the null that a run's
  layers are exchangeable (:func:`depth_trend_null`; Page's trend test with Spearman scores),
  for the few seeds of each depth the paper's 3- and 5-layer models give;
- :func:`contrast_tests`: a measure's order minus another measure's (6d, A8), run by run.

The declared sizes and levels come from :func:`morcos2018.claims.convergence.bottom_up_convergence`,
which gathers these tests into its verdict.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from morcos2018.claims import evidence
from morcos2018.claims.convergence_curves import (
    Curves,
    checkpoint_count,
    convergence_statistics,
    curves_by_reference,
    depth_rank_correlation,
)

#: The words that name a contrast test: ``"<other> shows the order less clearly than <measure>"``.
CONTRAST = " shows the order less clearly than "
# Layer relabellings of the per-depth null: enumerated up to this many, else drawn at random.
_EXACT_RELABELLINGS = 1_000_000
_RANDOM_RELABELLINGS = 20_000


def contrast_name(other: str, measure: str) -> str:
    """The name of the test of ``other`` showing the order less clearly than ``measure``.

    Examples
    --------
    >>> contrast_name("cosine_distance", "pwcca_distance")
    'cosine_distance shows the order less clearly than pwcca_distance'
    """
    return f"{other}{CONTRAST}{measure}"


def reference_label(offset: int) -> str:
    """The reference checkpoint ``offset`` steps before the last, in words.

    Examples
    --------
    >>> reference_label(0), reference_label(2)
    ('last checkpoint', '2 checkpoints before the last')
    """
    if offset == 0:
        return "last checkpoint"
    return f"{offset} checkpoint{'s' if offset > 1 else ''} before the last"


def rank_correlations(
    by_reference: list[dict[int, Curves]],
    per_run_epochs: list[np.ndarray],
    offset: int,
    options: dict[str, Any],
    names: tuple[str, str] | None = None,
) -> list[float]:
    """Per run, :func:`.depth_rank_correlation` against the checkpoint ``offset`` from its end.

    ``names``: (this measure, the measure whose references it must share), for the error when a
    run lacks that reference.
    """
    rhos = []
    for curves, at in zip(by_reference, per_run_epochs, strict=True):
        index = checkpoint_count(curves) - 1 - offset
        if index not in curves and names is not None:
            raise ValueError(
                f"{names[0]!r} curves need the reference checkpoint {index} that {names[1]!r} "
                f"uses; found references {sorted(curves)}."
            )
        rhos.append(depth_rank_correlation(curves[index], at, reference=index, **options))
    return rhos


def first_layer_tests(by_reference, per_run_epochs, offset, options, measure, about,
                      min_rank_correlation, over_runs) -> list[evidence.Evidence]:
    """Layer 1 converging first, and the order among layers 2..L, as two sign flips over runs."""
    values = _statistics_per_run(by_reference, per_run_epochs, offset, options)
    where = f"reference: {reference_label(offset)}"
    first = evidence.sign_flip(
        [float(np.mean(v[1:]) - v[0]) for v in values],
        name=f"{measure}: layer 1 first",
        statistic_text=f"mean over runs of (mean {about} of layers 2..L minus layer 1's); {where}",
        baseline_text="layer 1 no earlier than the rest (difference 0)", **over_runs,
    )
    name = f"{measure} bottom-up among layers 2..L"
    statistic_text = f"mean over runs of Spearman(depth, {about}) over layers 2..L; {where}"
    if min(len(v) for v in values) < 3:
        return [first, evidence.inconclusive(
            name, statistic_text, float("nan"), "no depth order among layers 2..L",
            len(values), "runs", "too few units: a run with fewer than 3 layers has no order "
            "among layers 2..L")]
    rest = evidence.sign_flip(
        [evidence.spearman(np.arange(1, len(v)), v[1:]) for v in values], name=name,
        statistic_text=statistic_text, baseline_text="no depth order (correlation 0)",
        threshold=min_rank_correlation, **over_runs,
    )
    return [first, rest]


def per_depth_tests(by_reference, per_run_epochs, offsets, options, measure, about,
                    min_rank_correlation, min_runs, alpha, seed) -> list[evidence.Evidence]:
    """The order per depth (number of layers), against the layer-relabelling null."""
    depths = [len(next(iter(curves.values()))) for curves in by_reference]
    tests = []
    for depth in sorted(set(depths)):
        members = [i for i, d in enumerate(depths) if d == depth]
        for offset in offsets:
            tests.append(_layer_relabelling_test(
                [by_reference[i] for i in members], [per_run_epochs[i] for i in members],
                offset, options,
                name=f"{measure} bottom-up, {depth} layers, reference: "
                     f"{reference_label(offset)}",
                statistic_text=(
                    f"mean over the {depth}-layer runs of Spearman(depth, {about}) under "
                    f"{measure}"
                ),
                threshold=min_rank_correlation, min_runs=min_runs, alpha=alpha, seed=seed,
            ))
    return tests


def contrast_tests(runs: Sequence[Mapping[str, Any]], own: list[float],
                   per_run_epochs: list[np.ndarray], offset: int, options: dict[str, Any],
                   measure: str, contrasts: Sequence[str], about: str, min_contrast: float,
                   over_runs: dict[str, Any]) -> list[evidence.Evidence]:
    """For each measure of ``contrasts`` present in every run (``measure`` itself left out): the
    per-run correlation under ``measure`` (``own``) minus that under the other, as a sign flip
    over runs, at the reference ``offset`` checkpoints before the last."""
    tests = []
    for other in contrasts:
        if other != measure and all(other in run for run in runs):
            others = [curves_by_reference(run, other, i) for i, run in enumerate(runs)]
            theirs = rank_correlations(others, per_run_epochs, offset, options, (other, measure))
            tests.append(evidence.sign_flip(
                [own_rho - other_rho for own_rho, other_rho in zip(own, theirs, strict=True)],
                name=contrast_name(other, measure),
                statistic_text=(
                    f"mean over runs of Spearman(depth, {about}) under {measure} minus under "
                    f"{other}; reference: {reference_label(offset)}"
                ),
                baseline_text="both measures show the order equally (difference 0)",
                threshold=min_contrast,
                **over_runs,
            ))
    return tests


def depth_trend_null(
    values: Sequence[np.ndarray], seed: int = 0
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each run's Spearman(depth, values) and the null of their mean under "no depth order".

    ``values[r]`` holds run r's statistic per layer, bottom layer first (runs may differ in
    depth). Under the null each run's layers are exchangeable: the null is the mean Spearman
    correlation over every combination of per-run relabellings (exact, when there are at most
    ``_EXACT_RELABELLINGS``) or over random ones. Returns (per-run correlations, null, exact).
    With runs of one depth the one-sided p-value equals :func:`scipy.stats.page_trend_test`'s.

    Examples
    --------
    >>> rhos, null, exact = depth_trend_null([np.array([1.0, 2.0, 3.0])] * 2)
    >>> rhos.tolist(), len(null), exact
    ([1.0, 1.0], 36, True)
    """
    rhos = np.array([evidence.spearman(np.arange(1, len(v) + 1), v) for v in values])
    per_run = [_relabelled_correlations(v) for v in values]
    if math.prod(len(r) for r in per_run) <= _EXACT_RELABELLINGS:
        null = np.zeros(1)
        for run_null in per_run:
            null = (null[:, None] + run_null[None, :]).ravel()
        return rhos, null / len(per_run), True
    rng = np.random.default_rng(seed)
    null = np.mean([r[rng.integers(len(r), size=_RANDOM_RELABELLINGS)] for r in per_run],
                   axis=0)
    return rhos, null, False


def _relabelled_correlations(values: np.ndarray) -> np.ndarray:
    """Spearman(depth, values) under every relabelling of the layers (0 for constant values)."""
    centred = rankdata(values) - (len(values) + 1) / 2
    depth = np.arange(len(values)) - (len(values) - 1) / 2
    norm = np.sqrt((centred**2).sum() * (depth**2).sum())
    orders = np.array(list(itertools.permutations(range(len(values)))))
    return centred[orders] @ depth / norm if norm > 0 else np.zeros(len(orders))


def _statistics_per_run(by_reference, per_run_epochs, offset, options) -> list[np.ndarray]:
    """Each run's statistic per layer, bottom first, against the checkpoint ``offset`` from its
    end."""
    values = []
    for curves, at in zip(by_reference, per_run_epochs, strict=True):
        index = checkpoint_count(curves) - 1 - offset
        values.append(np.array(list(convergence_statistics(
            curves[index], at, reference=index, **options).values())))
    return values


def _layer_relabelling_test(
    by_reference: list[dict[int, Curves]],
    per_run_epochs: list[np.ndarray],
    offset: int,
    options: dict[str, Any],
    *,
    name: str,
    statistic_text: str,
    threshold: float,
    min_runs: int,
    alpha: float,
    seed: int,
) -> evidence.Evidence:
    """Mean per-run Spearman(depth, statistic) against each run's layers relabelled at random.

    Page's trend test with Spearman scores: under "no depth order" the layers of a run are
    exchangeable, so each run's statistics are permuted among its layers, independently per run
    (all ``prod(L_r!)`` relabellings when few enough, else random ones). With runs of one depth
    this is :func:`scipy.stats.page_trend_test` (exact method; tested); runs of several depths
    (3- and 5-layer LSTMs) are beyond it, hence the null is built here.
    """
    values = _statistics_per_run(by_reference, per_run_epochs, offset, options)
    rhos, null, exact = depth_trend_null(values, seed)
    observed = float(rhos.mean())
    pvalue = evidence.null_pvalue(observed, null, "greater", exact=exact)
    smallest = evidence.smallest_pvalue(null, "greater", exact=exact)
    contrary_pvalue = evidence.null_pvalue(observed, null, "less", exact=exact)
    holds, reason = evidence.decide(
        pvalue, smallest, alpha, observed >= threshold,
        f"mean correlation at least {threshold}", contrary_pvalue,
    )
    if len(values) < min_runs:
        holds, reason = None, (
            f"too few units: {len(values)} run(s) of this depth, the declared minimum is "
            f"{min_runs}"
        )
    return evidence.Evidence(
        name=name,
        statistic=statistic_text,
        value=observed,
        null=(
            f"no depth order: each run's layers relabelled at random, independently per run "
            f"({'all' if exact else 'random'} {len(null)} relabellings)"
        ),
        null_value=float(null.mean()),
        pvalue=pvalue,
        units=len(values),
        unit="runs",
        effect=observed - float(null.mean()),
        interval=evidence.bootstrap_mean(rhos, seed=seed),
        holds=holds,
        reason=reason,
        contrary="the same relabellings, the other direction (a top-down order)",
        contrary_pvalue=contrary_pvalue,
    )
