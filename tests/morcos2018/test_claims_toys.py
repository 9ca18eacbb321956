"""Figure 2 and A2 claim checks: each fails (or abstains) on null data and holds on a planted
effect (the toys themselves, at small sizes)."""

import functools
import json

import numpy as np
import pytest

import cca
from morcos2018 import toys
from morcos2018.claims import toys as claims


@functools.cache
def small_sweep():
    """The Figure 2 toy at a quarter of the paper's size: 50 neurons, 500 datapoints."""
    distances = {
        "mean CCA": cca.mean_cca_distance,
        "SVCCA": lambda x, y: cca.svcca_distance(x, y, 0.99, rule="singular_values"),
        "PWCCA": cca.pwcca_distance,
    }
    return toys.signal_noise_sweep([10, 20, 30, 40], distances, repeats=2, n_neurons=50,
                                   n_datapoints=500, seed=0)


def test_noise_sensitivity_holds_on_the_toy():
    sweep = small_sweep()
    verdict = claims.noise_sensitivity(sweep["mean CCA"], sweep["SVCCA"], sweep["PWCCA"])
    assert verdict.holds is True
    for test in verdict.tests:
        assert test.pvalue <= 0.05 and test.units == 8 and test.unit == "draws"
    json.dumps(verdict.as_record(), allow_nan=False)


def test_noise_sensitivity_fails_when_the_measures_agree():
    sweep = small_sweep()
    same = sweep["mean CCA"]
    verdict = claims.noise_sensitivity(same, same, same)
    # no difference at all: neither closer nor significantly farther (inconclusive) ...
    assert all(test.holds is None for test in verdict.tests[:2])
    # ... while PWCCA's distance equal to mean CCA's is significantly above half of it
    assert verdict.tests[2].holds is False and verdict.holds is False


def test_noise_sensitivity_null_false_positives_are_rare():
    """Three measures drawn from one distribution per cell: no ordering, no robust measure."""
    rng = np.random.default_rng(0)
    curve = np.linspace(0.6, 0.1, 10)
    holds = []
    for _ in range(40):
        draws = [curve + rng.normal(0, 0.05, (3, 10)) for _ in range(3)]
        holds.append([test.holds for test in claims.noise_sensitivity(*draws).tests])
    holds = np.array(holds)
    assert (holds[:, :2] == True).sum(axis=0).max() <= 6  # noqa: E712  ~5% of 40
    assert not (holds == True).all(axis=1).any()  # noqa: E712


def test_noise_sensitivity_fails_when_svcca_is_not_in_between():
    sweep = small_sweep()
    verdict = claims.noise_sensitivity(sweep["mean CCA"], sweep["mean CCA"] + 0.01,
                                       sweep["PWCCA"])
    assert verdict.holds is False and verdict["SVCCA closer than mean CCA"].holds is False


def test_noise_sensitivity_fails_when_pwcca_is_only_slightly_better():
    sweep = small_sweep()
    close = 0.8 * sweep["mean CCA"]  # below SVCCA, but not small against mean CCA
    verdict = claims.noise_sensitivity(sweep["mean CCA"], 0.9 * sweep["mean CCA"], close)
    assert verdict["PWCCA closer than SVCCA"].holds is True
    assert verdict.holds is False
    assert verdict["PWCCA robust: at most 0.5 of mean CCA's distance"].holds is False


def rotations(n, **kwargs):
    return [toys.rnn_trajectory(n_neurons=10, n_datapoints=300, n_steps=6, seed=seed, **kwargs)
            for seed in range(n)]


def test_rotation_invariance_holds_over_seeds_and_for_one_draw():
    verdict = claims.rotation_invariance(rotations(5), n_permutations=50)
    assert verdict.holds is True
    assert all(test.units == 5 and test.unit == "seeds" for test in verdict.tests)
    chance = verdict["CCA near identical"].null_value / (1 - claims.CLOSE_SHARE)
    assert verdict["CCA near identical"].value < 1e-6 < 0.5 < chance
    single = claims.rotation_invariance(rotations(1)[0], n_permutations=100)
    assert single.holds is True and single.tests[0].unit == "row permutations"
    json.dumps(single.as_record(), allow_nan=False)


def test_the_pure_rotation_is_a_demonstration():
    """Issue 24: with beta = 0 the outcome is an identity; reported, never counted as evidence."""
    verdict = claims.rotation_invariance(rotations(5), n_permutations=50,
                                         by_construction=claims.LINEAR_IDENTITY)
    assert verdict.outcome == "demonstration" and verdict.holds is None
    assert all(test.holds is True and test.outcome == "demonstration" for test in verdict.tests)


def test_the_claim_names_a_nonlinear_term_and_only_that():
    """The record of A2's nonlinear toy says which toy it tests (the claim's text carries beta);
    beta changes no test."""
    plain = claims.rotation_invariance(rotations(3), n_permutations=20)
    named = claims.rotation_invariance(rotations(3), n_permutations=20, beta=0.5)
    assert plain.claim == claims.ROTATION_CLAIM
    assert named.claim == claims.ROTATION_CLAIM + "; here with a nonlinear term, beta = 0.5"
    assert named.tests == plain.tests


def test_rotation_invariance_fails_on_unrelated_states():
    rng = np.random.default_rng(0)
    unrelated = [rng.normal(size=(7, 300, 10)) for _ in range(5)]
    verdict = claims.rotation_invariance(unrelated, n_permutations=50)
    assert verdict.holds is False and verdict["CCA near identical"].holds is False
    assert claims.rotation_invariance(unrelated[0], n_permutations=50).holds is False


def test_rotation_invariance_fails_without_rotation():
    """No rotation: every measure sees the steps as identical, cosine and Euclidean too."""
    verdict = claims.rotation_invariance(rotations(5, max_angle=0.0), n_permutations=50)
    assert verdict.holds is False
    assert verdict["cosine far"].holds is False and verdict["Euclidean far"].holds is False


def test_rotation_invariance_fails_when_steps_are_a_generic_linear_map():
    """CCA alone cannot tell rotations from any invertible map; a mildly mixed final step with
    noise leaves CCA far from identical, and the check says so."""
    rng = np.random.default_rng(1)
    runs = []
    for _ in range(5):
        start = rng.normal(size=(300, 10))
        final = start @ rng.normal(size=(10, 10)) + 1.5 * rng.normal(size=(300, 10))
        runs.append(np.stack([start, final]))
    assert claims.rotation_invariance(runs, n_permutations=50)["CCA near identical"].holds is False


def test_bad_arguments():
    run = rotations(1)[0]
    with pytest.raises(ValueError, match="before the final one"):
        claims.rotation_invariance(run, step=-1)
    with pytest.raises(ValueError, match="share one shape"):
        claims.rotation_invariance([run, run[:, :100]])
    with pytest.raises(ValueError, match="same cells"):
        claims.noise_sensitivity(np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        claims.noise_sensitivity(np.full((2, 3), np.nan), np.ones((2, 3)), np.ones((2, 3)))
