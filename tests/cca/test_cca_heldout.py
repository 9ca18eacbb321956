"""Held-out CCA (cca.heldout): unrelated layers score about 0 where the plain measures sit at their
chance level, linearly related layers score 1, the finite-n bias against a closed-form population
value is smaller than the plain measures', the invariances of the measures hold, conv input is
split by image, and bad arguments fail clearly."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import cca

README = Path(__file__).resolve().parents[2] / "README.md"
MEASURES = ["mean_cca", "pwcca"]


def heldout(x, y, measure="pwcca", **options):
    """The held-out statistic alone (no bootstrap)."""
    return cca.heldout_similarity(x, y, measure, n_resamples=0, **options).statistic


def related_layers(seed, n=300, a=5, b=4, noise=1.0):
    """Two layers sharing a latent signal, with offsets."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 2))
    x = latent @ rng.normal(size=(2, a)) + noise * rng.normal(size=(n, a)) + 2
    y = latent @ rng.normal(size=(2, b)) + noise * rng.normal(size=(n, b)) - 1
    return x, y


# --- what it measures -------------------------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES)
def test_unrelated_layers_average_zero_where_the_plain_measure_sits_at_chance(measure):
    rng = np.random.default_rng(0)
    plain, held = [], []
    for seed in range(30):
        x, y = rng.normal(size=(200, 5)), rng.normal(size=(200, 5))
        plain.append(getattr(cca, measure)(x, y))
        held.append(heldout(x, y, measure, seed=seed))
    error = np.std(held, ddof=1) / np.sqrt(len(held))
    assert abs(np.mean(held)) < 3 * error
    assert min(held) < 0 < max(held)  # signed: fits to noise correlate either way on new data
    assert np.mean(plain) > 0.08
    assert np.mean(plain) > np.mean(held) + 10 * error


@pytest.mark.parametrize("measure", MEASURES)
def test_layers_related_by_an_invertible_map_score_one(measure):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(150, 6))
    assert heldout(x, x, measure) == pytest.approx(1.0, abs=1e-9)
    mixed = x @ rng.normal(size=(6, 6)) + 5.0
    assert heldout(x, mixed, measure, method="svd") == pytest.approx(1.0, abs=1e-9)


# Planted model with a closed form: x's 4 neurons independent, scales SCALES; y_i = GAINS_i x_i/s_i
# plus unit noise for the first 2, pure noise for the other 2. Population canonical correlations
# rho_i = g_i / sqrt(g_i^2 + 1) and two zeros; mean CCA = sum(rho) / 4. PWCCA weights x's variates
# by |cov(h_i, x_j)| summed over j: s_1, s_2 for the related ones; the two tied uncorrelated
# directions are a uniformly random rotation by theta of (x_3, x_4) (see
# benchmarks/bench_heldout_coverage.py), weights |cos| + |sin| each; PWCCA is the mean over theta.
SCALES = np.array([1.0, 2.0, 1.0, 1.0])
GAINS = np.array([1.5, 0.75])


def planted(n, rng):
    latent = rng.normal(size=(n, 4))
    y = rng.normal(size=(n, 4))
    y[:, :2] += latent[:, :2] * GAINS
    return latent * SCALES, y


def population_value(measure):
    rho = GAINS / np.sqrt(GAINS**2 + 1)
    if measure == "mean_cca":
        return rho.sum() / 4
    theta = np.linspace(0, np.pi / 2, 10_001)
    untied = 2 * (np.abs(np.cos(theta)) + np.abs(np.sin(theta)))
    return np.mean(SCALES[:2] @ rho / (SCALES[:2].sum() + untied))


@pytest.mark.parametrize("measure", MEASURES)
def test_finite_n_bias_is_smaller_than_the_plain_measures(measure):
    rng = np.random.default_rng(2)
    population = population_value(measure)
    plain, held = [], []
    for seed in range(40):
        x, y = planted(100, rng)
        plain.append(getattr(cca, measure)(x, y))
        held.append(heldout(x, y, measure, seed=seed))
    plain_bias, held_bias = np.mean(plain) - population, np.mean(held) - population
    assert plain_bias > 5 * np.std(plain, ddof=1) / np.sqrt(len(plain))  # inflated upwards
    assert abs(held_bias) < plain_bias / 2


# --- invariances -------------------------------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES)
def test_invariant_to_neuron_order_layer_scale_and_offsets(measure):
    x, y = related_layers(3)
    rng = np.random.default_rng(3)
    expected = heldout(x, y, measure, seed=4)
    moved = [
        (x[:, rng.permutation(x.shape[1])], y[:, rng.permutation(y.shape[1])]),
        (1e3 * x - 7.0, 0.01 * y),
    ]
    for x_moved, y_moved in moved:
        assert heldout(x_moved, y_moved, measure, seed=4) == pytest.approx(expected, abs=1e-9)


def test_mean_cca_is_invariant_to_scaling_single_neurons():
    x, y = related_layers(5)
    scales = np.array([1e-3, 1.0, 50.0, 2.0, 0.5])
    assert heldout(x * scales, y, "mean_cca") == pytest.approx(heldout(x, y, "mean_cca"), abs=1e-9)


def test_the_split_follows_the_seed_and_row_order_moves_the_value_within_split_noise():
    x, y = related_layers(6)
    first = cca.heldout_similarity(x, y, n_resamples=5, seed=7)
    again = cca.heldout_similarity(x, y, n_resamples=5, seed=np.random.default_rng(7))
    assert first.statistic == again.statistic
    np.testing.assert_array_equal(first.bootstrap_distribution, again.bootstrap_distribution)
    assert heldout(x, y) == heldout(x, y)  # seed 0 by default
    order = np.random.default_rng(8).permutation(len(x))
    steady = heldout(x, y, repeats=20)
    assert heldout(x[order], y[order], repeats=20) == pytest.approx(steady, abs=0.02)


def test_dead_neurons_change_nothing_and_float32_agrees():
    x, y = related_layers(9)
    dead = np.hstack([x, np.full((len(x), 1), 3.0)])
    for measure in MEASURES:
        assert heldout(dead, y, measure) == pytest.approx(heldout(x, y, measure), abs=1e-9)
        float32 = heldout(x.astype(np.float32), y.astype(np.float32), measure)
        assert float32 == pytest.approx(heldout(x, y, measure), abs=1e-4)
    sparse = x.copy()
    sparse[:, 0] = 0.0
    sparse[5, 0] = 1.0  # alive on one datapoint: dead in the fits that hold it out
    assert np.isfinite(heldout(sparse, y))


# --- the result and its interval ----------------------------------------------------------------


def test_result_fields_and_interval():
    x, y = related_layers(10)
    result = cca.heldout_similarity(x, y, cca.mean_cca, folds=4, repeats=3, n_resamples=40)
    assert result.measure == "mean_cca"
    assert (result.folds, result.repeats, result.n) == (4, 3, len(x))
    assert result.fold_values.shape == (3, 4)
    assert result.statistic == pytest.approx(result.fold_values.mean(), abs=1e-12)  # equal folds
    assert result.bootstrap_distribution.shape == (40,)
    low, high = result.confidence_interval
    assert low < result.statistic < high
    assert result.standard_error == pytest.approx(result.bootstrap_distribution.std(ddof=1))
    assert result.confidence_level == 0.95
    none = cca.heldout_similarity(x, y, n_resamples=0)
    assert np.isnan(none.confidence_interval.low) and np.isnan(none.standard_error)


def test_a_degenerate_fold_warns():
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(30, 12)), rng.normal(size=(30, 12))
    with pytest.warns(cca.DegenerateCCAWarning, match="fitted to noise"):
        cca.heldout_similarity(x, y, n_resamples=0)
    x, y = related_layers(11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cca.DegenerateCCAWarning)
        cca.heldout_similarity(x, y, n_resamples=3)


# --- conv input --------------------------------------------------------------------------------


def test_conv_mean_is_the_held_out_measure_of_the_spatial_means():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(120, 3, 3, 4))
    y = x[..., ::-1] @ rng.normal(size=(4, 4)) + rng.normal(size=(120, 3, 3, 4))
    result = heldout(x, y, conv="mean")
    assert result == pytest.approx(heldout(x.mean(axis=(1, 2)), y.mean(axis=(1, 2))), abs=1e-12)


def test_conv_positions_splits_images_so_no_image_is_both_fitted_and_measured():
    """Each unrelated image's four positions are copies: split by position, the copies would
    carry the fit's noise into the held-out rows and score like the plain measure."""
    rng = np.random.default_rng(13)
    plain, held = [], []
    for seed in range(10):
        x, y = (np.repeat(rng.normal(size=(40, 1, 1, 5)), 2, axis=1) for _ in range(2))
        x, y = np.repeat(x, 2, axis=2), np.repeat(y, 2, axis=2)
        plain.append(cca.pwcca(x, y, conv="positions"))
        held.append(heldout(x, y, conv="positions", seed=seed))
    assert np.mean(plain) > 0.2
    assert abs(np.mean(held)) < 0.1  # a split by position would give about 0.24


# --- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"measure": "svcca"}, "measure must be 'mean_cca' or 'pwcca'"),
        ({"measure": cca.linear_cka}, "measure must be"),
        ({"folds": 1}, "folds must be an int >= 2"),
        ({"folds": 2.5}, "folds must be an int"),
        ({"folds": True}, "folds must be an int"),
        ({"folds": 40}, "folds=40 splits the 100 datapoints into held-out folds of 2"),
        ({"repeats": 0}, "repeats must be an int >= 1"),
        ({"n_resamples": -1}, "n_resamples must be an int >= 0"),
        ({"confidence": 95}, "confidence must be a fraction"),
        ({"seed": -1}, "seed must be a non-negative int or a numpy Generator"),
        ({"seed": "zero"}, "seed must be"),
        ({"seed": None}, "seed must be"),
        ({"method": "qr"}, "method must be one of"),
        ({"conv": "dft"}, "conv must be None or one of"),
    ],
)
def test_bad_arguments_name_the_argument(options, message):
    x, y = related_layers(14, n=100)
    with pytest.raises(ValueError, match=re.escape(message)):
        cca.heldout_similarity(x, y, **{"n_resamples": 0, **options})


def test_bad_layers_fail_with_the_librarys_messages():
    x, y = related_layers(15, n=100)
    with pytest.raises(ValueError, match="same number of datapoints"):
        cca.heldout_similarity(x, y[:-1])
    with pytest.raises(ValueError, match="conv='mean'"):
        cca.heldout_similarity(x.reshape(100, 1, 1, 5), y)
    with pytest.raises(ValueError, match="non-finite"):
        cca.heldout_similarity(np.where(x > 3, np.nan, x), y)
    with pytest.raises(ValueError, match="folds=2 splits the 5 datapoints"):
        cca.heldout_similarity(x[:5], y[:5], folds=2)
    alive_once = np.zeros((100, 1))
    alive_once[0] = 1.0
    with pytest.raises(ValueError, match="training datapoints of a fold"):
        cca.heldout_similarity(alive_once, y, n_resamples=0)


def test_readme_example_runs():
    section = README.read_text().split("### Held-out CCA: a similarity about the population", 1)
    assert len(section) == 2, "the README has no held-out section"
    code = re.search(r"```python\n(.*?)```", section[1], re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    assert abs(namespace["unrelated"].statistic) < 0.1
