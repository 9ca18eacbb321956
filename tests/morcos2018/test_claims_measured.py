"""The measured numbers each notebook records beside a verdict, built by the claims modules."""

from types import SimpleNamespace

import numpy as np
import pytest

from morcos2018.claims import (
    convergence,
    dynamics,
    language_model,
    learning_rate,
    memorization,
    sequence,
    toys,
    width,
)


def test_cnn_dynamics_numbers():
    rho = [[np.array([0.5, 0.1]), np.array([1.0, 0.9])], [np.array([0.3, 0.1]), np.ones(2)]]
    m = dynamics.cnn_coefficients_measured("conv2", [0, 1], rho, [[0.1, 0.9], [0.2, 0.8]])
    assert m["epoch accuracy converged, per network"] == [1, 1]
    np.testing.assert_allclose(m["mean coefficient vs final per epoch, mean over networks"],
                               [0.25, 0.975])
    tracked = [{"top": np.array([0.2, 0.0]), "bottom": np.array([0.9, 0.8])},
               {"top": np.array([0.4, 0.2]), "bottom": np.array([0.7, 0.6])}]
    d = dynamics.cnn_directions_measured("conv2", [0, 1], 0, 1, 3, tracked)
    assert d["epochs of the directions"] == [0, 1]
    np.testing.assert_allclose(d["top directions distance per epoch, mean over networks"],
                               [0.3, 0.1])


def test_lm_dynamics_numbers_per_network():
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(60, 4)) for _ in range(3)]
    rho = [np.array([1.0, 0.5]), np.array([1.0, 0.95]), np.ones(2)]
    m = dynamics.lm_dynamics_measured(
        "lstm1", {"a": np.array([9.0, 5.0, 5.0])}, {"a": series}, {"a": rho}, 0, 1, 1, "a",
        {"top": np.zeros(3), "bottom": np.ones(3)}, np.full(3, 0.5))
    below = dynamics.UNCONVERGED_BELOW
    assert m[f"fraction of coefficients below {below} at that epoch, per network"] == {"a": 0.0}
    assert m[f"fraction of coefficients below {below} at the final epoch, per network"] == {"a": 0}
    assert m["stable / unstable set's distance to the final layer, per network"]["a"]["stable"] < 1
    assert list(m)[-3:] == ["a: stable distance by epoch", "a: unstable distance by epoch",
                            "a: random-subspace distance by epoch"]


def test_toy_numbers():
    sweep = {"mean CCA": np.array([[0.2, 0.6, 0.9], [0.4, 0.6, 0.9]]),
             "PWCCA": np.array([[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]])}
    m = toys.noise_sensitivity_measured(sweep, np.array([0.1, 0.45, 0.9]))
    assert m["ratio_shown"] == 0.45 and m["draws"] == 6
    assert m["at_that_ratio"] == pytest.approx({"mean CCA": 0.6, "PWCCA": 0.2})
    r = toys.rotation_measured(4, 0.5, {"PWCCA": np.array([0.3, 0.5, 0.0])})
    assert r == {"seeds": 4, "beta": 0.5, "max_over_steps_seed_0": {"PWCCA": 0.5},
                 "first_step_seed_0": {"PWCCA": 0.3}}


def test_memorization_numbers():
    profile = SimpleNamespace(layers=["conv1", "softmax"], within_a=[0.1, 0.2],
                              within_b=[0.3, 0.4], between=[0.5, 0.6])
    test = SimpleNamespace(name="t", value=0.1, pvalue=0.02, holds=True)
    control = SimpleNamespace(holds=True, tests=[test])
    late = {"train PWCCA": {"between": 0.5}, "train PWCCA without class means": {"between": 0.4},
            "train cosine": {"between": 0.1}}
    m = memorization.figure3_measured(["conv1"], late, profile, {"g": 1}, {"g": [3]}, 0.9,
                                      {"conv1": {"g": [0.2, 0.4]}}, control)
    assert m["control, class means removed"]["tests"] == {
        "t": {"value": 0.1, "pvalue": 0.02, "holds": True}}
    assert m["class-mean share of variance"]["conv1"]["g"] == pytest.approx(0.3)
    a10 = memorization.a10_measured(profile, {"g": {"test accuracy": [0.7]}})
    assert a10["softmax PWCCA distance, test data"] == {
        "within generalizing": 0.2, "within memorizing": 0.4, "between": 0.6}
    assert memorization.late_layers_measured(["conv1"], late, ["PWCCA", "cosine"])[
        "late-layer distance, training data"] == {"PWCCA": {"between": 0.5},
                                                  "cosine": {"between": 0.1}}


def test_width_numbers():
    w = SimpleNamespace
    per_width = {("trained", "PWCCA"): [w(mean=0.6), w(mean=0.4), w(mean=0.2)],
                 ("initialization", "PWCCA"): [w(mean=0.5)] * 3,
                 ("trained", "cosine"): [w(mean=0.1)] * 3}
    slopes = width.width_slopes([1.0, 2.0, 4.0], per_width)
    assert slopes == pytest.approx({"trained": -0.2, "initialization": 0.0})
    width_of = np.array([1.0, 2.0, 4.0])
    acc = np.array([0.5, 0.6, 0.7])
    m = width.figure4_measured([1.0, 2.0, 4.0], "conv2", 8, 1, per_width, width_of, acc, acc,
                               np.array([2, 3, 4]), slopes, -0.9)
    assert m["test accuracy per width"] == pytest.approx([0.5, 0.6, 0.7])
    assert m["epochs trained per width"] == {"1": [2], "2": [3], "4": [4]}
    assert width.a6_measured([1.0], per_width, ["cosine"])[
        "mean distance within each width, trained"] == {"cosine": [0.1] * 3}


def test_learning_rate_numbers():
    d = np.array([[0, 0.1, 0.9, 0.8], [0.1, 0, 0.7, 0.9], [0.9, 0.7, 0, 0.2],
                  [0.8, 0.9, 0.2, 0]])
    rates = np.array([0.1, 0.1, 0.01, 0.01])
    between = learning_rate.rate_distances(d, rates, [0.1, 0.01])
    np.testing.assert_allclose(between, [[0.1, 0.825], [0.825, 0.2]])
    acc = np.array([0.5, 0.6, 0.7, 0.8])
    m = learning_rate.figure5_measured("conv2", [0.1, 0.01], d, rates, np.array([0, 0, 1, 1]),
                                       between, acc, acc, np.array([3, 3, 4, 4]))
    assert m["adjusted Rand index (every network)"] == 1.0
    assert m["clusters"]["cluster 1"] == {"learning rates": [0.1], "networks": 2,
                                          "test accuracy": pytest.approx(0.55)}
    assert m["test accuracy per learning rate"] == pytest.approx([0.55, 0.75])


def test_convergence_numbers():
    up = {"lstm1": [0.6, 0.1, 0.05, 0.0], "lstm2": [0.6, 0.4, 0.2, 0.0]}
    measures = ("pwcca_distance", "mean_cca_distance", "cosine_distance", "euclidean_distance")
    names = {("lstm3", 0): "lstm3 seed 0"}
    curves = {key: dict.fromkeys(measures, up) for key in names}
    epochs = {key: [0, 1, 2, 3] for key in names}
    to_references = {key: {"pwcca_distance": {3: up}} for key in names}
    verdict = SimpleNamespace(tests=[SimpleNamespace(name="t", value=0.91234, holds=True)])
    m = convergence.figure6_measured(names, to_references, curves, epochs, verdict, 0.1)
    assert m["runs"] == ["lstm3 seed 0"]
    assert m[convergence.BY_MEASURE] == {"pwcca_distance": {"lstm3 seed 0": 1.0},
                                         "mean_cca_distance": {"lstm3 seed 0": 1.0}}
    assert m["how the verdict moves with the reference: each test's mean over runs and verdict"
             ] == {"t": {"mean": 0.912, "holds": True}}
    assert convergence.figure6d_measured(m) == {"runs": m["runs"],
                                                convergence.BY_MEASURE: m[convergence.BY_MEASURE]}
    assert list(convergence.a8_measured(names, curves, epochs)[convergence.BY_MEASURE]) == [
        "pwcca_distance", "cosine_distance", "euclidean_distance"]
    moves = {key: {"lstm1": np.array([0.3, 0.012345])} for key in names}
    settled = convergence.reference_settled_measured(names, moves)
    assert settled["PWCCA distance between the last two checkpoints, per run and layer"] == {
        "lstm3 seed 0": {"lstm1": 0.0123}}


def test_language_model_numbers():
    m = language_model.models_beat_unigram_measured({"lstm3": [100.04, 200.0]}, 400.0)
    assert m == {"unigram validation perplexity": 400.0,
                 "final validation perplexity, per model and seed": {"lstm3": [100.0, 200.0]},
                 "unigram / final perplexity, per model and seed": {"lstm3": [4.0, 2.0]}}


def test_sequence_numbers():
    t = SimpleNamespace
    plain = {"lstm1": {"pwcca_distance": np.array([0.5, 0.2, 0.0]),
                       "cosine_distance": np.array([0.4, 0.3, 0.0])}}
    repeated = {1: {"lstm1": np.array([0.5, 0.1, 0.6])}}
    perturbs = t(tests=[t(name="x", value=0.1234)])
    a4 = sequence.repeated_input_measured(perturbs, plain, repeated, 2)
    assert a4["repeat starts"] == [1]
    assert a4["largest signed change during the repetition (descriptive)"] == {
        "lstm1, repeat from step 1": 0.6}
