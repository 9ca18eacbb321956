"""Figure 1 claim checks: each fails (or abstains) on null data and holds on a planted effect."""

import functools
import json

import numpy as np
import pytest

import cca
from morcos2018 import analysis
from morcos2018.claims import dynamics, evidence

CNN_ACCURACY = [np.nan, 0.422, 0.719, 0.81, 0.893, 0.937, 0.978, 0.991, 0.998, 1.0, 0.997]
LM_PERPLEXITY = [2002.5, 106.2, 70.2, 60.1, 57.2, 55.9, 55.4]


@functools.cache
def training_run(seed, lag=3.0, stops=False, n=300, width=24, converged=7, epochs=10):
    """One network's layer over ``epochs`` checkpoints and its train accuracy.

    Checkpoint t is the final layer's latent factors plus noise of scale ``(1 - t / epochs) c_j``
    per factor, ``c_j`` uniform in [0, lag]: at ``converged``, where accuracy converges, about
    ``1 - 1.6 / lag`` of the coefficients are still below 0.9 (lag 3: ~45%, as in the CNN
    notebook). ``stops``: the layer stops changing when accuracy converges instead.
    Returns (sorted canonical correlations of each checkpoint with the final one, accuracy).
    """
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, width))
    spread = rng.uniform(0, lag, width)
    series = []
    for t in range(epochs + 1):
        remaining = max(0.0, 1 - t / converged) if stops else 1 - t / epochs
        noisy = latent + remaining * spread * rng.normal(size=(n, width))
        series.append(noisy @ rng.normal(size=(width, width)))
    accuracy = np.concatenate(
        [[np.nan], np.linspace(0.4, 0.993, converged), [0.995] * (epochs - converged - 1), [0.997]]
    )
    accuracy += rng.normal(0, 0.001, len(accuracy))
    return analysis.sorted_correlations(series, series[-1]), accuracy


def check(runs, **kwargs):
    return dynamics.coefficients_lag_performance(
        [rho for rho, _ in runs], [acc for _, acc in runs], **kwargs
    )


def test_converged_checkpoint_definitions():
    assert dynamics.converged_checkpoint(CNN_ACCURACY) == 7
    assert dynamics.converged_checkpoint(LM_PERPLEXITY, metric="perplexity") == 4
    assert dynamics.converged_checkpoint([0.5, 0.99, 0.5, 0.99, 1.0]) == 3  # must stay converged
    assert dynamics.converged_checkpoint([0.1, 0.2, 0.9]) == 2  # only at the end
    with pytest.raises(ValueError, match="metric must be one of"):
        dynamics.converged_checkpoint([1.0, 1.0], metric="loss")


def test_coefficients_lag_holds_on_planted_lag_over_networks():
    verdict = check([training_run(seed) for seed in range(5)])
    test = verdict["coefficients unconverged when performance has converged"]
    assert verdict.holds is True and test.units == 5 and test.unit == "networks"
    assert test.pvalue == pytest.approx(1 / 32)
    assert test.value >= dynamics.MIN_FRACTION and test.null_value == 0.0
    json.dumps(verdict.as_record(), allow_nan=False)


def test_the_baseline_is_the_last_step_not_the_final_checkpoint_against_itself():
    """Issue 24: against the final checkpoint itself the baseline is 0 by construction. A layer
    that keeps changing as much to the end (no lag behind performance) must not hold."""
    rng = np.random.default_rng(7)
    churn = [[np.sort(rng.uniform(0.5, 1.0, 32))[::-1] for _ in range(10)] + [np.ones(32)]
             for _ in range(5)]  # every checkpoint as far from the final one: no lag
    accuracy = [CNN_ACCURACY] * 5
    floor = dynamics.coefficients_lag_performance(churn, accuracy)
    assert floor.tests[0].null_value > 0.6  # the last step still leaves most below 0.9
    assert floor.holds is False  # the excess is ~0, significantly short of 0.25
    by_construction = dynamics.coefficients_lag_performance(churn, accuracy,
                                                            baseline_checkpoint=-1)
    assert by_construction.tests[0].null_value == 0.0 and by_construction.holds is True


def test_coefficients_lag_fails_when_the_layer_converges_with_accuracy():
    verdict = check([training_run(seed, stops=True) for seed in range(5)])
    assert verdict.holds is False
    assert verdict.tests[0].value == 0.0


def test_coefficients_lag_fails_when_few_coefficients_lag():
    verdict = check([training_run(seed, lag=1.9) for seed in range(5)])  # ~15% below 0.9
    assert verdict.holds is False
    assert 0 < verdict.tests[0].value < dynamics.MIN_FRACTION
    # the excess is tested beyond the declared 0.25: significantly short of it, contradicted
    assert verdict.tests[0].pvalue > 0.05 and verdict.tests[0].contrary_pvalue <= 0.05
    assert "contradicted" in verdict.tests[0].reason


def test_one_network_is_undecided_and_says_why():
    rho, accuracy = training_run(0)
    verdict = dynamics.coefficients_lag_performance(rho, accuracy)
    assert verdict.holds is None
    assert verdict.tests[0].value >= dynamics.MIN_FRACTION  # measured, reported, not tested
    assert "5 independent networks" in verdict.tests[0].reason


def test_performance_converging_only_at_the_end_is_undecided():
    runs = [training_run(seed) for seed in range(5)]
    runs[0] = (runs[0][0], np.linspace(0.1, 0.9, len(runs[0][1])))
    verdict = check(runs)
    assert verdict.holds is None and "only at the final checkpoint" in verdict.tests[0].reason


def test_perplexity_metric():
    rho, _ = training_run(0, epochs=6, converged=4)
    runs = [(rho, np.array(LM_PERPLEXITY) * (1 + 0.01 * s)) for s in range(5)]
    verdict = check(runs, metric="perplexity")
    assert verdict.holds is True
    assert "within 0.05 (relative)" in verdict.tests[0].statistic


def layers(rng, n=400, width=24, kept=12, final_noise=1.0):
    """Early, mid and final layers: ``kept`` latent factors persist (the final one noisier, the
    stable directions at about 0.65 of the way from chance to identical, as in the LM notebook);
    the early layer's other factors are replaced by fresh ones by mid-training."""
    signal = rng.normal(size=(n, kept))
    lost = rng.normal(size=(n, width - kept))

    def mixed(*blocks):
        return np.hstack(blocks) @ rng.normal(size=(width, width))

    early = mixed(signal, lost)
    mid = mixed(signal + 0.3 * rng.normal(size=signal.shape), rng.normal(size=lost.shape))
    final = mixed(signal + final_noise * rng.normal(size=signal.shape),
                  rng.normal(size=lost.shape))
    return early, mid, final


def test_directions_on_one_network_test_the_stable_set_only():
    """One network: the stable set is tested over its row permutations; the equivalence of the
    unstable set with its noise level needs networks (5 for p <= 1/32), so it is inconclusive."""
    early, mid, final = layers(np.random.default_rng(0))
    verdict = dynamics.directions_against_noise(early, mid, final, 6, n_permutations=300)
    stable = verdict["stable directions below the noise level"]
    unstable = verdict["unstable directions at the noise level"]
    assert stable.holds is True and unstable.holds is None and verdict.holds is None
    assert "too few units" in unstable.reason
    assert stable.unit == "row permutations" and "not the variation between" in stable.null
    tracked = analysis.direction_stability(early, mid, [final], 6)
    assert stable.value == pytest.approx(tracked["top"][0])
    chance = dynamics._selected_chance(early, mid, final, 6, 300, 0).mean()
    assert unstable.value == pytest.approx(tracked["bottom"][0] / chance)
    assert 0.8 < unstable.value < 1.2  # the planted bottom set is at its noise level
    json.dumps(verdict.as_record(), allow_nan=False)


def test_the_noise_level_accounts_for_how_the_bottom_set_is_chosen():
    """Chosen least correlated with mid, a set of directions is farther from a final layer that
    resembles mid than a random set is: the selection-aware chance level exceeds the plain one
    (the row-permuted set), so the plain one would put a set at noise above the noise level."""
    rng = np.random.default_rng(6)
    early, mid, _ = layers(rng)
    final = mid + 0.3 * rng.normal(size=mid.shape) * mid.std(axis=0)
    selected = dynamics._selected_chance(early, mid, final, 6, 100, 0).mean()
    bottom = dynamics._direction_sets(early, mid, 6)["bottom"]
    plain = evidence.permutation_null(bottom, final, "mean_cca_distance", 100, 0).null_mean
    assert selected > plain + 0.02


def test_directions_hold_on_planted_split_over_networks():
    rng = np.random.default_rng(1)
    early, mid, final = zip(*(layers(rng) for _ in range(5)), strict=True)
    verdict = dynamics.directions_against_noise(early, mid, final, 6, n_permutations=100)
    assert verdict.holds is True
    assert all(t.units == 5 and t.unit == "networks" for t in verdict.tests)


def test_directions_fail_when_the_final_layer_is_unrelated():
    """The artifact the check guards against: both sets at chance, whichever is closer."""
    rng = np.random.default_rng(2)
    nets = [layers(rng) for _ in range(5)]
    unrelated = [rng.normal(size=final.shape) for _, _, final in nets]
    early, mid, _ = zip(*nets, strict=True)
    verdict = dynamics.directions_against_noise(early, mid, unrelated, 6, n_permutations=100)
    assert verdict.holds is False
    assert verdict["stable directions below the noise level"].holds is False
    single = dynamics.directions_against_noise(early[0], mid[0], unrelated[0], 6,
                                               n_permutations=100)
    assert single["stable directions below the noise level"].holds is False


def test_directions_fail_when_nothing_decorrelates():
    rng = np.random.default_rng(3)
    early, mid, _ = zip(*(layers(rng) for _ in range(5)), strict=True)
    verdict = dynamics.directions_against_noise(early, mid, early, 6, n_permutations=50)
    assert verdict.holds is False
    unstable = verdict["unstable directions at the noise level"]
    assert unstable.holds is False and unstable.contrary_pvalue <= 1 / 32


def test_directions_fail_when_every_direction_decays_alike():
    """A uniform drift: top and bottom sets are split by rank only, neither stable nor noise."""
    rng = np.random.default_rng(4)
    base = rng.normal(size=(400, 24))
    early = base @ rng.normal(size=(24, 24))
    mid = (base + 0.8 * rng.normal(size=base.shape)) @ rng.normal(size=(24, 24))
    final = (base + 1.5 * rng.normal(size=base.shape)) @ rng.normal(size=(24, 24))
    verdict = dynamics.directions_against_noise(early, mid, final, 6, n_permutations=100)
    assert verdict.holds is False


def test_bad_arguments():
    early, mid, final = layers(np.random.default_rng(5), n=200, width=8, kept=4)
    with pytest.raises(ValueError, match="n_directions must be an int in 1..4"):
        dynamics.directions_against_noise(early, mid, final, 5)
    with pytest.raises(ValueError, match="one array per network"):
        dynamics.directions_against_noise([early, early], [mid], [final, final], 2)
    with pytest.raises(ValueError, match="per checkpoint"):
        dynamics.coefficients_lag_performance([np.ones(3)] * 4, [0.5, 1.0])
    with pytest.raises(ValueError, match="min_fraction"):
        dynamics.coefficients_lag_performance([np.ones(3)] * 2, [0.5, 1.0], min_fraction=0)


def test_chance_level_is_the_library_permutation_null():
    early, mid, final = layers(np.random.default_rng(6))
    verdict = dynamics.directions_against_noise(early, mid, final, 6, n_permutations=100, seed=3)
    top = cca.cca(early, mid).project_x(early)[:, :6]
    null = cca.permutation_test(top, final, "mean_cca_distance", n_permutations=100, seed=3)
    stable = verdict["stable directions below the noise level"]
    assert stable.null_value == pytest.approx((1 - dynamics.STABLE_SHARE) * null.null_mean)


def test_checkpoints_may_differ_in_rank():
    """sorted_correlations gives min(rank) coefficients per checkpoint: lengths may differ."""
    rho = [np.linspace(0.3, 1, 10 - t % 2) for t in range(4)] + [np.full(9, 0.95), np.ones(10)]
    accuracy = [np.nan, 0.5, 0.9, 0.99, 1.0, 0.998]
    verdict = dynamics.coefficients_lag_performance([rho] * 5, [accuracy] * 5)
    assert verdict.holds is True and verdict.tests[0].units == 5


def test_five_networks_inconclusive_reason_does_not_ask_for_more_networks():
    def network(share):  # accuracy converges at checkpoint 2 of 4; the floor is 0
        below = int(round(100 * share))
        at_convergence = np.array([0.5] * below + [0.95] * (100 - below))
        return [np.full(100, 0.5), np.full(100, 0.5), at_convergence, np.ones(100),
                np.ones(100)], [0.2, 0.5, 0.995, 1.0, 1.0]

    runs = [network(share) for share in (0.30, 0.30, 0.30, 0.30, 0.10)]
    verdict = dynamics.coefficients_lag_performance([r for r, _ in runs], [a for _, a in runs])
    assert verdict.holds is None
    assert "networks are needed" not in verdict.tests[0].reason
