"""The seed rules the notebooks and the training plan share (morcos2018.plan), and the toy
trajectories' and the repeated input's helpers."""

import numpy as np

from morcos2018 import lm_probes, plan, toys
from morcos2018.config import load_profile
from morcos2018.models import family_table


def test_network_seeds_default_to_0_to_networks():
    assert plan.network_seeds(None, 3) == [0, 1, 2]
    assert plan.network_seeds((4, 9), 3) == [4, 9]


def test_memorizing_seeds_never_share_a_generalizing_seed():
    profile = load_profile("smoke")
    offset = profile["cnn"]["fig3"]["memorizing_seed_offset"]
    assert plan.memorizing_seeds(profile, [0, 1]) == [offset, offset + 1]
    assert not set(plan.memorizing_seeds(profile, range(5))) & set(range(5))


def test_learning_rate_seeds_keep_the_base_rate_and_offset_the_others():
    profile = load_profile("smoke")
    base = family_table(profile["images"], "learning_rates")["learning_rate"]
    offset = profile["cnn"]["fig5"]["seed_offset"]
    seeds_of = plan.learning_rate_seeds(profile, [base * 10, base, base / 10], [0, 1])
    assert seeds_of == {base * 10: [offset, offset + 1], base: [0, 1],
                        base / 10: [3 * offset, 3 * offset + 1]}


def test_the_plan_trains_the_seeds_the_rules_give():
    profile = load_profile("smoke")
    seeds = plan.network_seeds(None, profile["images"]["groups"]["networks"])
    configs = plan.fig3_memorization(profile)
    arms = 1 + len(plan.dose_response_tables(profile))
    assert arms == 2  # the smoke profile trains one dose-response arm beside Figure 3's own
    assert [c["seed"] for c in configs] == (seeds + plan.memorizing_seeds(profile, seeds)) * arms


def test_lm_dynamics_units_put_the_shown_network_first_once():
    assert plan.lm_dynamics_units("lstm5", 1, ["lstm3", "lstm5"], [0, 1]) == [
        ("lstm5", 1), ("lstm3", 0), ("lstm3", 1), ("lstm5", 0)]


def test_rnn_trajectories_use_consecutive_seeds_from_the_first():
    sizes = dict(n_neurons=4, n_datapoints=10, n_steps=3, init_scale=1.0)
    runs = toys.rnn_trajectories(sizes, {"a": 0.0, "b": 0.5}, seed=2, n_seeds=2)
    assert list(runs) == ["a", "b"] and len(runs["b"]) == 2
    np.testing.assert_array_equal(runs["b"][1], toys.rnn_trajectory(**sizes, beta=0.5, seed=3))


def test_repeated_input_activations_read_each_repeated_input(monkeypatch):
    seen = []
    monkeypatch.setattr(lm_probes, "layer_activations",
                        lambda network, windows, layers: seen.append(windows) or {"l": windows})
    windows = np.arange(12).reshape(2, 6)
    out = lm_probes.repeated_input_activations(None, windows, [0, 3], 2, ["l"])
    assert list(out) == [0, 3]
    np.testing.assert_array_equal(out[3]["l"], lm_probes.repeat_token(windows, 3, 2))
