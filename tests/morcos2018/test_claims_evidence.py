"""The verdict core: every test fails (or abstains) on null data and holds on a planted effect."""

import json

import numpy as np
import pytest

from morcos2018 import stats
from morcos2018.claims import evidence


def group_distances(seed, n_a=5, n_b=5, gap=0.0, noise=0.03):
    """Pairwise distances of n_a + n_b networks; group a's pairs ``gap`` closer than group b's."""
    rng = np.random.default_rng(seed)
    n = n_a + n_b
    offsets = rng.normal(0, noise, n)  # per-network effects: pairs sharing a network correlate
    d = 0.5 + offsets[:, None] + offsets[None, :] + rng.normal(0, noise, (n, n))
    d = (d + d.T) / 2
    d[:n_a, :n_a] -= gap
    np.fill_diagonal(d, 0)
    return d


def test_group_difference_fails_on_null_and_holds_on_planted_effect():
    kwargs = dict(name="a tighter", statistic_text="within b - within a", alternative="greater")
    swapped = lambda d, a, b: stats.within_difference(d, b, a)  # noqa: E731
    null_verdicts = [
        evidence.group_difference(group_distances(s), range(5), range(5, 10), statistic=swapped,
                                  **kwargs).holds
        for s in range(20)
    ]
    assert sum(v is True for v in null_verdicts) <= 4  # ~5% false positives, never systematic
    planted = evidence.group_difference(
        group_distances(0, gap=0.1), range(5), range(5, 10), statistic=swapped, **kwargs
    )
    assert planted.holds is True and planted.pvalue <= 0.05
    assert planted.interval[0] > 0 and planted.units == 10 and planted.unit == "networks"


def test_too_few_networks_is_undecided_not_a_pass():
    d = group_distances(0, n_a=2, n_b=2, gap=0.3)
    verdict = evidence.group_difference(
        d, [0, 1], [2, 3], name="x", statistic_text="s",
        statistic=lambda m, a, b: stats.within_difference(m, b, a),
    )
    assert verdict.holds is None and "too few units" in verdict.reason


def test_sign_flip_over_seeds():
    rng = np.random.default_rng(0)
    null = [
        evidence.sign_flip(rng.normal(0, 1, 6), name="n", statistic_text="s",
                           baseline_text="b").holds
        for _ in range(40)
    ]
    assert sum(v is True for v in null) <= 6
    assert sum(v is False for v in null) <= 6  # contradicted: the other direction, at alpha
    planted = evidence.sign_flip(
        rng.normal(1.0, 0.3, 6), name="n", statistic_text="s", baseline_text="b"
    )
    assert planted.holds is True and planted.pvalue == pytest.approx(1 / 64)
    small = evidence.sign_flip(
        rng.normal(1.0, 0.3, 6), name="n", statistic_text="s", baseline_text="b", threshold=5.0
    )
    # tested beyond the threshold: significantly short of the effect the claim needs
    assert small.holds is False and small.outcome == "contradicted"
    assert small.contrary_pvalue == pytest.approx(1 / 64) and small.pvalue == 1.0
    # at the threshold the test holds at about alpha, not half the time (a point-estimate rule)
    boundary = [evidence.sign_flip(rng.normal(0.5, 0.3, 6), name="n", statistic_text="s",
                                   baseline_text="b", threshold=0.5).holds for _ in range(200)]
    assert sum(v is True for v in boundary) <= 20  # 10 expected at alpha = 0.05
    assert evidence.sign_flip([1.0, 2.0], name="n", statistic_text="s",
                              baseline_text="b").holds is None  # 4 flips: p >= 1/4


def test_rank_trend():
    rng = np.random.default_rng(1)
    widths = np.repeat([1, 2, 4, 8], 3)
    null = [
        evidence.rank_trend(widths, rng.normal(size=12), name="t", statistic_text="s").holds
        for _ in range(20)
    ]
    assert sum(v is True for v in null) <= 4
    assert sum(v is False for v in null) <= 4
    rising = evidence.rank_trend(widths, np.log(widths) + rng.normal(0, 0.2, 12), name="t",
                                 statistic_text="s")
    assert rising.holds is False and rising.contrary_pvalue <= 0.05  # the other direction
    planted = evidence.rank_trend(
        widths, -np.log(widths) + rng.normal(0, 0.2, 12), name="t", statistic_text="s"
    )
    assert planted.holds is True and planted.value < -0.8
    assert evidence.rank_trend([1, 2, 3], [3, 2, 1], name="t", statistic_text="s").holds is None


def test_verdict_aggregates_and_records_as_json():
    yes = evidence.sign_flip([1.0, 1.2, 0.9, 1.1, 1.0], name="a", statistic_text="s",
                             baseline_text="b")
    undecided = evidence.sign_flip([1.0, 1.2], name="b", statistic_text="s", baseline_text="b")
    no = evidence.sign_flip([-1.0, -1.2, -0.9, -1.1, -1.0], name="c", statistic_text="s",
                            baseline_text="b")
    mixed = evidence.sign_flip([-1.0, 1.2, -0.9, 1.1, -1.0], name="d", statistic_text="s",
                               baseline_text="b")
    assert no.holds is False and mixed.holds is None  # p > alpha alone is no contradiction
    assert mixed.reason.startswith("inconclusive")
    assert evidence.Verdict("claim", (yes,)).holds is True
    assert evidence.Verdict("claim", (yes, undecided)).holds is None
    assert evidence.Verdict("claim", (yes, undecided, no)).holds is False
    record = evidence.Verdict("claim", (yes, no)).as_record()
    assert {"name", "statistic", "value", "null", "pvalue", "units", "holds", "outcome",
            "contrary", "contrary_pvalue"} <= set(record[0])
    assert [r["outcome"] for r in record] == ["holds", "contradicted"]
    json.dumps(record, allow_nan=False)
    assert evidence.Verdict("claim", (yes,))["a"] is yes
    assert "holds" in evidence.Verdict("claim", (yes,)).summary()


def test_bad_arguments():
    with pytest.raises(ValueError, match="alternative must be one of"):
        evidence.sign_flip([1.0], name="n", statistic_text="s", baseline_text="b",
                           alternative="two-sided")
    with pytest.raises(ValueError, match="at least 3 independent"):
        evidence.rank_trend([1, 2], [1, 2], name="t", statistic_text="s")
    with pytest.raises(ValueError, match="NaN"):
        evidence.sign_flip([1.0, np.nan], name="n", statistic_text="s", baseline_text="b")
    with pytest.raises(ValueError, match="alpha"):
        evidence.decide(0.01, 0.001, alpha=1.5)


def chance_results(related, units, seed=0):
    """One permutation null per unit: y a noisy map of x (related) or independent of it."""
    rng = np.random.default_rng(seed)
    results = []
    for unit in range(units):
        x = rng.normal(size=(300, 4))
        noise = rng.normal(size=(300, 4))
        y = x @ rng.normal(size=(4, 4)) + 0.2 * noise if related else noise
        results.append(evidence.permutation_null(x, y, "mean_cca_distance", 99, unit))
    return results


@pytest.mark.parametrize("units", [1, 6])
def test_against_chance_fails_on_null_and_holds_on_planted_effect(units):
    close = dict(share=0.5, alternative="less", name="close", statistic_text="d")
    far = dict(share=0.5, alternative="greater", name="far", statistic_text="d")
    unrelated, related = chance_results(False, units), chance_results(True, units)
    assert evidence.against_chance(unrelated, unit="seeds", **close).holds is False
    assert evidence.against_chance(related, unit="seeds", **close).holds is True
    assert evidence.against_chance(unrelated, unit="seeds", **far).holds is True
    unit = evidence.against_chance(related, unit="seeds", **close).unit
    assert unit == ("row permutations" if units == 1 else "seeds")  # one unit: its permutations
