"""Layer x layer comparisons (issue 27): cca.compare_layers equals the double loop of plain calls
for every measure, on awkward layers too; a mapping against itself gives a symmetric matrix for the
symmetric measures; significance comes from cca.permutation_test with a named correction; bad input
fails with a message naming the argument; the heat map draws without importing matplotlib on
``import cca``."""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import cca
from cca.layers import adjusted_pvalues

README = Path(__file__).resolve().parents[2] / "README.md"
rng = np.random.default_rng(27)
N = 90


def network(seed: int) -> dict[str, np.ndarray]:
    """Layers of a small random ReLU network, with the awkward cases the measures handle: a dead
    (constant nonzero) neuron, duplicated neurons and a linear combination plus an offset, a
    layer nearly as wide as the datapoints, a float32 layer and one of huge magnitude."""
    local = np.random.default_rng(seed)
    inputs = np.random.default_rng(0).normal(size=(N, 6))
    first = np.maximum(inputs @ local.normal(size=(6, 12)) + 0.3 * local.normal(size=(N, 12)), 0)
    second = np.tanh(first @ local.normal(size=(12, 8)))
    dead = first.copy()
    dead[:, 2] = 4.0
    duplicated = np.hstack([second, second[:, :3], second[:, :2] @ [[2.0], [-1.0]] + 5])
    wide = np.hstack([first, local.normal(size=(N, 70))])
    return {"relu": first, "tanh": second, "dead": dead, "duplicated": duplicated,
            "wide": wide, "float32": second.astype(np.float32), "huge": 1e140 * first[:, :5]}


NET_A, NET_B = network(1), network(2)

# (measure, options): every measure of the registry, and the options that change its path.
CASES = [(name, {}) for name in cca.registry.MEASURES] + [
    ("mean_cca", {"method": "svd"}),
    ("mean_cca", {"method": "gram"}),
    ("svcca", {"keep": 3}),
    ("svcca", {"keep": 0.9, "rule": "singular_values"}),
    ("pwcca", {"method": "svd"}),
    ("pwcca", {"method": "gram"}),
    ("linear_cka", {"debiased": True}),
    ("cosine_similarity", {"center": False}),
]


def double_loop(measure, layers_x, layers_y, **options) -> np.ndarray:
    """The measure called on each pair; NaN where it refuses the pair (same-neurons measures on
    layers of different shapes)."""
    function = cca.registry.measure(measure).function
    values = np.full((len(layers_x), len(layers_y)), np.nan)
    for i, x in enumerate(layers_x.values()):
        for j, y in enumerate(layers_y.values()):
            if cca.registry.measure(measure).family == "same neurons" and x.shape != y.shape:
                continue
            values[i, j] = function(x, y, **options)
    return values


@pytest.fixture(autouse=True)
def quiet_degenerate():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        warnings.simplefilter("ignore", cca.ChanceLevelWarning)  # n = 90: chance is high
        yield


@pytest.mark.parametrize(("measure", "options"), CASES)
def test_every_measure_equals_the_double_loop_of_plain_calls(measure, options):
    result = cca.compare_layers(NET_A, NET_B, measure, **options)
    expected = double_loop(measure, NET_A, NET_B, **options)
    np.testing.assert_allclose(result.values, expected, rtol=0, atol=1e-12)
    assert result.rows == tuple(NET_A) and result.columns == tuple(NET_B)
    assert result.measure == measure and result.n_samples == N


@pytest.mark.parametrize(("measure", "options"), CASES)
def test_a_mapping_against_itself(measure, options):
    result = cca.compare_layers(NET_A, measure=measure, **options)
    np.testing.assert_allclose(result.values, double_loop(measure, NET_A, NET_A, **options),
                               rtol=0, atol=1e-12)
    entry = cca.registry.measure(measure)
    if entry.symmetric:
        np.testing.assert_array_equal(result.values, result.values.T)
    if measure != "euclidean_distance" and options.get("center", True):
        identical = 0.0 if entry.distance else 1.0
        np.testing.assert_allclose(np.diag(result.values), identical, rtol=0, atol=1e-9)


def test_pwcca_is_asymmetric_and_rows_give_the_weights():
    values = cca.compare_layers(NET_A, measure="pwcca").values
    assert not np.allclose(values, values.T)
    assert values[0, 1] == pytest.approx(cca.pwcca(NET_A["relu"], NET_A["tanh"]), abs=1e-12)


def test_the_measure_may_be_given_as_the_function():
    by_name = cca.compare_layers(NET_A, NET_B, "svcca_distance")
    by_function = cca.compare_layers(NET_A, NET_B, cca.svcca_distance)
    assert by_function.measure == "svcca_distance"
    np.testing.assert_array_equal(by_name.values, by_function.values)


def conv_network(n=40):
    """Conv layers (n, h, w, c) of different sizes, and a dense layer."""
    return {"conv1": rng.normal(size=(n, 6, 6, 3)), "conv2": rng.normal(size=(n, 3, 3, 5)),
            "dense": rng.normal(size=(n, 7))}


@pytest.mark.parametrize("measure", ["mean_cca", "svcca", "pwcca", "linear_cka_distance"])
def test_conv_layers_mean_and_channels_first(measure):
    layers = conv_network()
    expected = double_loop(measure, layers, layers, conv="mean")
    result = cca.compare_layers(layers, measure=measure, conv="mean")
    np.testing.assert_allclose(result.values, expected, rtol=0, atol=1e-12)
    first = {name: layer.transpose(0, 3, 1, 2) if layer.ndim == 4 else layer
             for name, layer in layers.items()}
    channels_first = cca.compare_layers(first, measure=measure, conv="mean", layout="nchw")
    np.testing.assert_allclose(channels_first.values, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("measure", "conv"), [("pwcca", "positions"), ("mean_cca", "dft"),
                                               ("pwcca", "dft"), ("linear_cka", "positions")])
def test_conv_positions_and_dft(measure, conv):
    layers = {f"conv{k}": rng.normal(size=(30, 3, 3, 2 + k)) for k in range(3)}
    result = cca.compare_layers(layers, measure=measure, conv=conv)
    np.testing.assert_allclose(result.values, double_loop(measure, layers, layers, conv=conv),
                               rtol=0, atol=1e-12)
    if conv == "positions":
        assert result.n_samples == 30 * 9


def test_same_neuron_measures_flatten_conv_layers():
    layers = {"early": rng.normal(size=(30, 3, 3, 2)), "late": rng.normal(size=(30, 3, 3, 2))}
    result = cca.compare_layers(layers, {"late": layers["late"] + 1}, "cosine_distance")
    np.testing.assert_allclose(result.values, double_loop("cosine_distance", layers,
                                                          {"late": layers["late"] + 1}),
                               rtol=0, atol=1e-12)


def test_float32_layers_stay_on_the_float32_path_as_the_measures_do():
    layers = {name: layer.astype(np.float32) for name, layer in NET_A.items() if name != "huge"}
    for measure in ("mean_cca", "svcca", "pwcca"):
        np.testing.assert_allclose(cca.compare_layers(layers, measure=measure).values,
                                   double_loop(measure, layers, layers), rtol=0, atol=1e-12)


@pytest.mark.parametrize("stack_elements", [1, 25 * N])
@pytest.mark.parametrize("measure", ["pwcca", "mean_cca"])
def test_stacked_cross_products_in_groups_of_columns_equal_the_plain_calls(
    monkeypatch, measure, stack_elements
):
    """The cross products come from x against several y layers stacked side by side, in groups
    of columns of at most STACK_ELEMENTS values (here one layer per group, or groups of a few
    layers); the values do not depend on the grouping."""
    monkeypatch.setattr(cca.layers, "STACK_ELEMENTS", stack_elements)
    np.testing.assert_allclose(cca.compare_layers(NET_A, NET_B, measure).values,
                               double_loop(measure, NET_A, NET_B), rtol=0, atol=1e-12)
    np.testing.assert_allclose(cca.compare_layers(NET_A, measure=measure).values,
                               double_loop(measure, NET_A, NET_A), rtol=0, atol=1e-12)


def test_few_datapoints_warn_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cca.compare_layers(NET_A, NET_B, "mean_cca")
    degenerate = [w for w in caught if issubclass(w.category, cca.DegenerateCCAWarning)]
    assert len(degenerate) == 1
    assert degenerate[0].filename == __file__


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "message"), [
    (lambda: cca.compare_layers({"a": rng.normal(size=(5, 2)), "b": rng.normal(size=(6, 2))}),
     r"same number of datapoints.*layers_x\['a'\] has 5 and layers_x\['b'\] has 6"),
    (lambda: cca.compare_layers(NET_A, {"b": rng.normal(size=(N + 1, 3))}),
     r"layers_y\['b'\] has 91"),
    (lambda: cca.compare_layers({}), "layers_x is empty"),
    (lambda: cca.compare_layers(NET_A, {}), "layers_y is empty"),
    (lambda: cca.compare_layers([rng.normal(size=(9, 2))]), "layers_x must be a mapping"),
    (lambda: cca.compare_layers({"conv": rng.normal(size=(9, 3, 3, 2))}),
     r"layers_x\['conv'\] is 4-D.*conv='mean'"),
    (lambda: cca.compare_layers({"v": rng.normal(size=9)}), r"layers_x\['v'\] must be 2-D"),
    (lambda: cca.compare_layers(NET_A, measure="pwcc"), r"measure must be.*'pwcca'.*'pwcc'"),
    (lambda: cca.compare_layers(NET_A, measure="pwcca", keep=3), r"pwcca takes.*\['keep'\]"),
    (lambda: cca.compare_layers(NET_A, measure="svcca", keep=50), "keep=50"),
    (lambda: cca.compare_layers(NET_A, conv="average"), "conv must be None or one of"),
    (lambda: cca.compare_layers(NET_A, measure="cosine_similarity", conv="mean"),
     "without conv or layout"),
    (lambda: cca.compare_layers({"a": rng.normal(size=(9, 3, 3, 2)),
                                 "b": rng.normal(size=(9, 2, 2, 2))}, conv="positions"),
     "same height and width"),
    (lambda: cca.compare_layers({"a": np.full((9, 2), np.nan)}), r"layers_x\['a'\] contains"),
    (lambda: cca.compare_layers({"a": np.ones((9, 2))}), r"every neuron of layers_x\['a'\]"),
    (lambda: cca.compare_layers(NET_A, n_permutations=0), "n_permutations must be"),
    (lambda: cca.compare_layers(NET_A, n_permutations=9, correction="fdr"),
     "correction must be one of"),
])
def test_bad_input_fails_with_a_message_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- significance -------------------------------------------------------------------------------


def test_significance_is_the_permutation_test_of_each_pair_with_holm():
    x = {name: NET_A[name] for name in ("relu", "tanh")}
    y = {"noise": rng.normal(size=(N, 4)), "tanh": NET_B["tanh"]}
    result = cca.compare_layers(x, y, "pwcca", n_permutations=49, seed=3)
    generator = np.random.default_rng(3)
    raw = np.array([[cca.permutation_test(a, b, "pwcca", n_permutations=49, seed=generator).pvalue
                     for b in y.values()] for a in x.values()])
    np.testing.assert_array_equal(result.uncorrected_pvalues, raw)
    np.testing.assert_array_equal(result.pvalues, adjusted_pvalues(raw.ravel(), "holm")
                                  .reshape(raw.shape))
    assert result.correction == "holm" and result.n_permutations == 49
    assert result.pvalues[0, 1] == pytest.approx(4 * 0.02)  # related: 1 / 50, four tests
    assert result.chance_levels[0, 0] > 0.1  # chance is far from 0 at n = 90
    assert np.all(result.pvalues >= result.uncorrected_pvalues)


def test_a_mapping_against_itself_tests_each_distinct_pair_once():
    layers = {name: NET_A[name] for name in ("relu", "tanh", "dead")}
    symmetric = cca.compare_layers(layers, measure="linear_cka", n_permutations=19, seed=0,
                                   correction="bonferroni")
    assert np.isnan(np.diag(symmetric.pvalues)).all()
    np.testing.assert_array_equal(symmetric.pvalues, symmetric.pvalues.T)
    np.testing.assert_array_equal(symmetric.chance_levels, symmetric.chance_levels.T)
    assert np.nanmin(symmetric.pvalues) == pytest.approx(3 / 20)  # 3 tests, Bonferroni
    pwcca = cca.compare_layers(layers, measure="pwcca", n_permutations=19, seed=0)
    assert np.isnan(pwcca.pvalues).sum() == 3  # the diagonal; (i, j) and (j, i) both tested


def test_high_chance_levels_warn_once_at_the_callers_line():
    layers = {name: NET_A[name] for name in ("relu", "tanh", "wide")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cca.compare_layers(layers, measure="mean_cca", n_permutations=9, seed=0)
    chance = [w for w in caught if issubclass(w.category, cca.ChanceLevelWarning)]
    assert len(chance) == 1 and chance[0].filename == __file__
    assert "3 of 3 pairs" in str(chance[0].message)


def test_adjusted_pvalues():
    pvalues = np.array([0.01, 0.04, 0.03, 0.5])
    np.testing.assert_allclose(adjusted_pvalues(pvalues, "holm"), [0.04, 0.09, 0.09, 0.5])
    np.testing.assert_allclose(adjusted_pvalues(pvalues, "bonferroni"), [0.04, 0.16, 0.12, 1.0])
    np.testing.assert_array_equal(adjusted_pvalues(pvalues, "none"), pvalues)


# --- the heat map -------------------------------------------------------------------------------


def test_plot_draws_a_heat_map_with_the_layer_names():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = {name: NET_A[name] for name in ("relu", "tanh")}
    result = cca.compare_layers(layers, measure="pwcca_distance", n_permutations=9, seed=0)
    ax = result.plot()
    np.testing.assert_array_equal(ax.images[0].get_array(), result.values)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["relu", "tanh"]
    _, given = plt.subplots()
    assert cca.compare_layers(layers).plot(ax=given) is given
    plt.close("all")


def test_import_cca_does_not_import_matplotlib():
    code = "import sys, cca; print('matplotlib' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert loaded.strip() == "False"


def test_readme_example_runs_and_its_claims_hold():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    section = README.read_text().split("### Every layer against every layer", 1)
    assert len(section) == 2, "the README has no layer x layer section"
    namespace = {}
    exec(compile(re.search(r"```python\n(.*?)```", section[1], re.S)[1], str(README), "exec"),  # noqa: S102
         namespace)
    result, tested, net = namespace["result"], namespace["tested"], namespace["net"]
    assert result.values.shape == (4, 4) and result.rows == tuple(net)
    assert result.values[0, 1] == pytest.approx(cca.pwcca(net["fc1"], net["fc2"]), abs=1e-12)
    assert tested.correction == "holm" and tested.pvalues.shape == (4, 4)
