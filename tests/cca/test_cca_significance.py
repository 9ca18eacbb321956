"""Permutation nulls and bootstrap intervals (cca.significance): the fast null equals the measure on
permuted data, p-values behave (uniform under independence, 1 / (B + 1) for identical layers), the
chance level is shown and warned about at small n, and bad arguments fail clearly."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cca

FAST = settings(max_examples=10, deadline=None)
README = Path(__file__).resolve().parents[2] / "README.md"

# (measure, options) for every measure and the options that change its null's fast path.
MEASURES = [
    ("mean_cca", {}),
    ("mean_cca", {"method": "svd"}),
    ("mean_cca_distance", {}),
    ("svcca", {}),
    ("svcca", {"keep": 2}),
    ("svcca", {"keep": 0.9, "rule": "singular_values"}),
    ("svcca_distance", {"keep": 3}),
    ("pwcca", {}),
    ("pwcca", {"method": "gram"}),
    ("pwcca", {"method": "svd"}),
    ("pwcca_distance", {}),
    ("linear_cka", {}),
    ("linear_cka", {"debiased": True}),
    ("linear_cka_distance", {}),
    ("cosine_similarity", {}),
    ("cosine_similarity", {"center": False}),
    ("cosine_distance", {}),
    ("euclidean_distance", {}),
    ("euclidean_distance", {"center": False}),
]
SCALE_INVARIANT = ["mean_cca", "svcca", "pwcca", "linear_cka", "cosine_similarity"]


def related_layers(seed, n=120, a=5, b=4, noise=1.0):
    """Two layers sharing a latent signal, with offsets."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, min(a, b)))
    x = latent @ rng.normal(size=(latent.shape[1], a)) + noise * rng.normal(size=(n, a)) + 2
    y = latent @ rng.normal(size=(latent.shape[1], b)) + noise * rng.normal(size=(n, b)) - 1
    return x, y


def measure_on_permutations(x, y, name, seed, count, **options):
    """The measure itself on y's rows in the orders permutation_test documents it draws."""
    rng = np.random.default_rng(seed)
    measure = getattr(cca, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        return np.array(
            [measure(x, y[rng.permutation(len(y))], **options) for _ in range(count)]
        )


def quiet_test(*args, **kwargs):
    """permutation_test without the chance-level and degenerate-CCA warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.ChanceLevelWarning)
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        return cca.permutation_test(*args, **kwargs)


# --- the fast null is the measure on permuted data -------------------------------------------


@pytest.mark.parametrize(("name", "options"), MEASURES)
def test_null_is_the_measure_on_permuted_rows(name, options):
    x, y = related_layers(0, a=5, b=5 if "cosine" in name or "euclid" in name else 4)
    result = quiet_test(x, y, name, n_permutations=8, seed=1, **options)
    expected = measure_on_permutations(x, y, name, 1, 8, **options)
    np.testing.assert_allclose(result.null_distribution, expected, rtol=0, atol=1e-10)
    assert result.statistic == getattr(cca, name)(x, y, **options)
    assert result.measure == name


@FAST
@given(seed=st.integers(0, 2**32 - 1), a=st.integers(1, 7), b=st.integers(1, 7))
def test_null_is_the_measure_on_permuted_rows_for_any_widths(seed, a, b):
    x, y = related_layers(seed, n=40, a=a, b=b)
    for name in ("mean_cca", "pwcca", "svcca", "linear_cka"):
        result = quiet_test(x, y, name, n_permutations=4, seed=seed)
        expected = measure_on_permutations(x, y, name, seed, 4)
        np.testing.assert_allclose(result.null_distribution, expected, rtol=0, atol=1e-10)


def awkward_layers():
    """Layers the measures treat specially: each (label, x, y)."""
    rng = np.random.default_rng(2)
    h = rng.normal(size=(150, 4))
    y = h @ rng.normal(size=(4, 5)) + rng.normal(size=(150, 5))
    ill = np.hstack([h, h[:, :1] + 1e-6 * rng.normal(size=(150, 1))])  # auto falls back to SVD
    return [
        ("dead and duplicated neurons", np.hstack([h, np.full((150, 1), 3.0), 2 * h[:, :2]]), y),
        ("dependent neuron with an offset", np.hstack([h, 3 * h[:, :1] + 500]), y),
        ("neurons of extreme scales", h * np.array([1e-120, 1.0, 1e150, 1e3]), y),
        ("ill-conditioned", ill, y),
        ("fewer datapoints than neurons (ties at 1)", h[:8] @ rng.normal(size=(4, 6)), y[:8]),
        ("ties at 1 and tiny neurons with offsets", 1e-37 * (h[:5, :3] + [1e3, 1, 1e5]), y[:5, :3]),
    ]


@pytest.mark.parametrize(("label", "x", "y"), awkward_layers(), ids=lambda v: str(v)[:20])
@pytest.mark.parametrize("name", ["mean_cca", "svcca", "pwcca", "linear_cka"])
def test_null_is_the_measure_on_awkward_layers(label, x, y, name):
    for first, second in ((x, y), (y, x)):
        result = quiet_test(first, second, name, n_permutations=5, seed=3)
        expected = measure_on_permutations(first, second, name, 3, 5)
        np.testing.assert_allclose(result.null_distribution, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("conv", ["mean", "positions", "dft"])
def test_conv_layers_permute_whole_images(conv):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3, 3, 4))
    y = x[..., ::-1] + rng.normal(size=x.shape)
    result = quiet_test(x, y, "pwcca", n_permutations=4, seed=5, conv=conv)
    expected = measure_on_permutations(x, y, "pwcca", 5, 4, conv=conv)
    np.testing.assert_allclose(result.null_distribution, expected, rtol=0, atol=1e-10)


def test_float32_input_is_computed_in_float64():
    x, y = related_layers(6, n=300)
    result = cca.permutation_test(
        x.astype(np.float32), y.astype(np.float32), "pwcca", n_permutations=5, seed=0
    )
    expected = measure_on_permutations(x.astype(np.float32), y.astype(np.float32), "pwcca", 0, 5)
    np.testing.assert_allclose(result.null_distribution, expected, rtol=0, atol=1e-5)


def test_measure_given_as_function_or_name_and_distance_forms_agree():
    x, y = related_layers(7)
    by_name = quiet_test(x, y, "pwcca", n_permutations=20, seed=0)
    by_function = quiet_test(x, y, cca.pwcca, n_permutations=20, seed=0)
    np.testing.assert_array_equal(by_name.null_distribution, by_function.null_distribution)
    distance = quiet_test(x, y, cca.pwcca_distance, n_permutations=20, seed=0)
    np.testing.assert_allclose(distance.null_distribution, 1 - by_name.null_distribution)
    assert distance.pvalue == by_name.pvalue
    assert distance.above_chance == pytest.approx(by_name.above_chance, abs=1e-12)


# --- p-values, chance level and the above-chance score -----------------------------------------


@pytest.mark.parametrize(("name", "options"), MEASURES)
def test_identical_layers_get_the_smallest_p_value(name, options):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(60, 4))
    if "cosine" in name or "euclid" in name:
        same = x + 5 if options.get("center", True) else x.copy()
    else:  # a rotation, a scale and offsets: the same representation for CCA, SVCCA and CKA
        same = 3 * x @ np.linalg.qr(rng.normal(size=(4, 4)))[0] + 1
    result = quiet_test(x, same, name, n_permutations=49, seed=0, **options)
    assert result.pvalue == 1 / 50
    assert result.above_chance == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("name", ["mean_cca", "pwcca", "linear_cka", "cosine_similarity"])
def test_p_values_of_independent_layers_are_uniform(name):
    """Under the null, P(p <= k / (B + 1)) = k / (B + 1): over 60 independent pairs the p-values
    average about 1/2 and few are small."""
    p_values = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        x, y = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
        p_values.append(quiet_test(x, y, name, n_permutations=39, seed=seed).pvalue)
    p_values = np.array(p_values)
    assert 0.4 < p_values.mean() < 0.6
    assert np.mean(p_values <= 0.1) < 0.2
    assert p_values.min() >= 1 / 40


def test_related_layers_are_significant_and_above_chance():
    x, y = related_layers(9, n=400, a=4, b=4)
    for name in ("mean_cca", "svcca", "pwcca", "linear_cka"):
        result = cca.permutation_test(x, y, name, n_permutations=99, seed=0)
        assert result.pvalue == 1 / 100
        assert 0 < result.null_mean < result.statistic
        expected = (result.statistic - result.null_mean) / (1 - result.null_mean)
        assert result.above_chance == pytest.approx(expected)
        assert 0 < result.above_chance < 1
    noisy = x + np.random.default_rng(9).normal(size=x.shape)  # the same neurons, with noise
    distance = cca.permutation_test(x, noisy, "euclidean_distance", n_permutations=99, seed=0)
    assert distance.pvalue == 1 / 100 and distance.statistic < distance.null_mean
    assert distance.above_chance == pytest.approx(1 - distance.statistic / distance.null_mean)


def test_null_mean_and_spread_match_the_measure_on_fresh_permutations():
    x, y = related_layers(10, n=80)
    result = quiet_test(x, y, "pwcca", n_permutations=200, seed=0)
    fresh = measure_on_permutations(x, y, "pwcca", 12345, 200)
    standard_error = np.sqrt(result.null_std**2 / 200 + fresh.std(ddof=1) ** 2 / 200)
    assert abs(result.null_mean - fresh.mean()) < 5 * standard_error
    assert result.null_std == pytest.approx(fresh.std(ddof=1), rel=0.3)
    assert result.null_mean == pytest.approx(result.null_distribution.mean())


@FAST
@given(seed=st.integers(0, 2**32 - 1), a=st.integers(1, 6), b=st.integers(1, 6))
def test_cka_null_mean_has_its_closed_form(seed, a, b):
    """Over uniform permutations P, E[P L P^T] = tr(L) / (n - 1) (I - 11^T / n) for a centered
    kernel L, so E||Xc^T P Yc||_F^2 = tr(K) tr(L) / (n - 1) whatever the data: the null mean of
    linear CKA is ||Xc||^2 ||Yc||^2 / ((n - 1) ||Xc^T Xc|| ||Yc^T Yc||)."""
    rng = np.random.default_rng(seed)
    x, y = rng.exponential(size=(30, a)), rng.exponential(size=(30, b)) ** 2
    result = quiet_test(x, y, "linear_cka", n_permutations=400, seed=seed)
    xc, yc = x - x.mean(0), y - y.mean(0)
    closed_form = (np.linalg.norm(xc) * np.linalg.norm(yc)) ** 2 / (
        29 * np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc)
    )
    assert abs(result.null_mean - closed_form) < 5 * result.null_std / np.sqrt(400) + 1e-12


def test_chance_level_of_cca_rises_as_datapoints_approach_neurons():
    """The module's figures: unrelated Gaussian layers of 50 + 50 neurons."""
    rng = np.random.default_rng(22)
    chance = {}
    for n in (5000, 500, 110):
        x, y = rng.normal(size=(n, 50)), rng.normal(size=(n, 50))
        chance[n] = quiet_test(x, y, "mean_cca", n_permutations=10, seed=0).null_mean
    assert chance[5000] < 0.12 < 0.2 < chance[500] < 0.35 < 0.5 < chance[110]


@FAST
@given(seed=st.integers(0, 2**32 - 1), log_scale=st.floats(-3, 3))
def test_invariant_to_scaling_and_offsets(seed, log_scale):
    rng = np.random.default_rng(seed)
    x, y = related_layers(seed, a=4, b=4)
    transformed = 10**log_scale * x + rng.uniform(-100, 100, size=4)
    for name in SCALE_INVARIANT:
        before = quiet_test(x, y, name, n_permutations=10, seed=seed)
        after = quiet_test(transformed, y, name, n_permutations=10, seed=seed)
        assert after.statistic == pytest.approx(before.statistic, abs=1e-9)
        np.testing.assert_allclose(after.null_distribution, before.null_distribution, atol=1e-9)
        assert after.pvalue == before.pvalue


def test_seeded_results_are_reproducible():
    x, y = related_layers(11)
    first = quiet_test(x, y, "mean_cca", n_permutations=30, seed=42)
    again = quiet_test(x, y, "mean_cca", n_permutations=30, seed=42)
    from_generator = quiet_test(
        x, y, "mean_cca", n_permutations=30, seed=np.random.default_rng(42)
    )
    other = quiet_test(x, y, "mean_cca", n_permutations=30, seed=43)
    np.testing.assert_array_equal(first.null_distribution, again.null_distribution)
    np.testing.assert_array_equal(first.null_distribution, from_generator.null_distribution)
    assert not np.array_equal(first.null_distribution, other.null_distribution)


# --- small n ---------------------------------------------------------------------------------


def test_small_n_warns_and_the_score_discounts_chance():
    """At n <= a + b unrelated layers already score high: both warnings, a high null mean, no
    significance, and an above-chance score near 0."""
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(30, 12)), rng.normal(size=(30, 20))
    with pytest.warns(cca.ChanceLevelWarning, match="chance level of mean_cca is high"):
        with pytest.warns(cca.DegenerateCCAWarning):
            result = cca.permutation_test(x, y, "mean_cca", n_permutations=99, seed=0)
    assert result.statistic > 0.6 and result.null_mean > 0.6
    assert result.pvalue > 0.05
    assert abs(result.above_chance) < 0.2


def test_no_chance_warning_with_many_datapoints():
    x, y = related_layers(13, n=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca.permutation_test(x, y, "pwcca", n_permutations=20, seed=0)


def test_chance_at_the_best_value_gives_no_score():
    """With n - 1 <= a every canonical correlation is 1 whatever the pairing: p = 1, no score."""
    rng = np.random.default_rng(14)
    x, y = rng.normal(size=(10, 12)), rng.normal(size=(10, 3))
    result = quiet_test(x, y, "mean_cca", n_permutations=20, seed=0)
    assert result.statistic == pytest.approx(1.0) and result.null_mean == pytest.approx(1.0)
    assert result.pvalue == 1.0
    assert np.isnan(result.above_chance)


# --- bootstrap ---------------------------------------------------------------------------------


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_bootstrap_interval_contains_the_statistic_for_well_conditioned_layers(seed):
    x, y = related_layers(seed, n=400, a=3, b=3)
    for name in ("mean_cca", "pwcca", "linear_cka"):
        result = cca.bootstrap_interval(x, y, name, n_resamples=40, seed=seed)
        low, high = result.confidence_interval
        assert low <= result.statistic <= high
        assert result.standard_error > 0


def test_bootstrap_values_are_the_measure_on_resampled_datapoints():
    x, y = related_layers(15, n=100)
    result = cca.bootstrap_interval(x, y, "svcca", n_resamples=6, seed=7, keep=3)
    rng = np.random.default_rng(7)
    resamples = [rng.integers(0, 100, size=100) for _ in range(6)]
    expected = [cca.svcca(x[rows], y[rows], keep=3) for rows in resamples]
    np.testing.assert_array_equal(result.bootstrap_distribution, expected)
    low, high = np.quantile(expected, [0.025, 0.975])
    assert result.confidence_interval == pytest.approx(
        (2 * result.statistic - high + result.bias, 2 * result.statistic - low + result.bias)
    )
    assert result.bias == pytest.approx(np.mean(expected) - result.statistic)
    assert result.standard_error == pytest.approx(np.std(expected, ddof=1))


def test_bootstrap_resamples_whole_images():
    rng = np.random.default_rng(16)
    x = rng.normal(size=(30, 2, 2, 3))
    y = x + rng.normal(size=x.shape)
    result = cca.bootstrap_interval(x, y, "linear_cka", n_resamples=4, seed=1, conv="positions")
    draws = np.random.default_rng(1)
    expected = [
        cca.linear_cka(x[rows], y[rows], conv="positions")
        for rows in (draws.integers(0, 30, size=30) for _ in range(4))
    ]
    np.testing.assert_allclose(result.bootstrap_distribution, expected, rtol=0, atol=1e-12)


def test_bootstrap_intervals_nest_and_are_reproducible():
    x, y = related_layers(17, n=300)
    wide = cca.bootstrap_interval(x, y, "pwcca", n_resamples=50, confidence=0.95, seed=3)
    narrow = cca.bootstrap_interval(x, y, "pwcca", n_resamples=50, confidence=0.5, seed=3)
    assert wide.confidence_interval.low < narrow.confidence_interval.low
    assert narrow.confidence_interval.high < wide.confidence_interval.high
    assert narrow.confidence_level == 0.5
    again = cca.bootstrap_interval(x, y, "pwcca", n_resamples=50, confidence=0.95, seed=3)
    np.testing.assert_array_equal(wide.bootstrap_distribution, again.bootstrap_distribution)


def test_centered_interval_undoes_the_upward_shift_of_cca_measures():
    """Repeated datapoints raise CCA measures: the percentile interval of PWCCA sits above the
    statistic, the centered one (the default) around it, with the same bootstrap values."""
    rng = np.random.default_rng(21)
    x = rng.normal(size=(300, 20))
    y = x[:, :5] @ rng.normal(size=(5, 20)) + rng.normal(size=(300, 20))
    centered = cca.bootstrap_interval(x, y, "pwcca", n_resamples=40, seed=0)
    percentile = cca.bootstrap_interval(x, y, "pwcca", n_resamples=40, seed=0, method="percentile")
    values = centered.bootstrap_distribution
    np.testing.assert_array_equal(values, percentile.bootstrap_distribution)
    assert centered.method == "centered" and centered.bias > 2 * centered.standard_error
    assert percentile.confidence_interval.low > percentile.statistic
    low, high = centered.confidence_interval
    assert low < centered.statistic < high
    assert high - low == pytest.approx(np.subtract(*percentile.confidence_interval[::-1]))


def test_bootstrap_warns_once_when_resamples_degenerate():
    rng = np.random.default_rng(18)
    x, y = rng.normal(size=(20, 6)), rng.normal(size=(20, 6))  # ~13 distinct rows per resample
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cca.bootstrap_interval(x, y, "mean_cca", n_resamples=20, seed=0)
    degenerate = [w for w in caught if issubclass(w.category, cca.DegenerateCCAWarning)]
    assert len(degenerate) == 1
    assert "distinct datapoints" in str(degenerate[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca.bootstrap_interval(*related_layers(19, n=200), "mean_cca", n_resamples=5, seed=0)


# --- bad arguments ---------------------------------------------------------------------------

X, Y = related_layers(20, n=50)


@pytest.mark.parametrize("count", [0, -3, 2.5, True, "100", None])
def test_bad_counts(count):
    with pytest.raises(ValueError, match="n_permutations must be a positive int"):
        cca.permutation_test(X, Y, n_permutations=count)
    with pytest.raises(ValueError, match="n_resamples must be a positive int"):
        cca.bootstrap_interval(X, Y, n_resamples=count)


@pytest.mark.parametrize("measure", ["cka", "PWCCA", cca.canonical_correlations, len, None])
def test_unknown_measure(measure):
    for significance in (cca.permutation_test, cca.bootstrap_interval):
        with pytest.raises(ValueError, match=r"measure must be the name of one of .*'pwcca'"):
            significance(X, Y, measure)


def test_bad_interval_method():
    with pytest.raises(ValueError, match="method must be 'centered' or 'percentile'"):
        cca.bootstrap_interval(X, Y, method="bca")


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5, True, "0.95", np.nan])
def test_bad_confidence(confidence):
    with pytest.raises(ValueError, match=r"confidence must be a fraction in \(0, 1\)"):
        cca.bootstrap_interval(X, Y, confidence=confidence)
    if confidence == 95:
        with pytest.raises(ValueError, match="a percentage"):
            cca.bootstrap_interval(X, Y, confidence=confidence)


@pytest.mark.parametrize("significance", [cca.permutation_test, cca.bootstrap_interval])
def test_bad_layers_fail_as_in_the_measure(significance):
    for measure in ("pwcca", "linear_cka"):
        with pytest.raises(ValueError, match="same number of datapoints.*50 rows in x and 49"):
            significance(X, Y[:49], measure)
    bad = Y.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^y contains 1 non-finite"):
        significance(X, bad, "mean_cca")
    with pytest.raises(ValueError, match="keep"):
        significance(X, Y, "svcca", keep=1.5)
    with pytest.raises(ValueError, match="same shape"):
        significance(X, Y, "cosine_similarity")
    with pytest.raises(ValueError, match="without conv"):
        significance(X, X, "euclidean_distance", conv="mean")
    with pytest.raises(ValueError, match="conv must be None or one of"):
        significance(X, Y, "svcca", conv="dft")


# --- README ----------------------------------------------------------------------------------


def readme_example() -> str:
    section = README.read_text().split("### Is it above chance?", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no Python example in the README's section 'Is it above chance?'"
    return match.group(1)


def test_readme_significance_example_runs_and_its_claims_hold():
    namespace: dict = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(compile(readme_example(), str(README), "exec"), namespace)  # noqa: S102
    related, unrelated = namespace["related"], namespace["unrelated"]
    assert related.pvalue == 1 / 1001
    assert 0.1 < related.null_mean < related.statistic  # chance is a good part of the value
    assert 0 < related.above_chance < related.statistic
    assert unrelated.null_mean > 0.25 and unrelated.pvalue > 0.05
    assert abs(unrelated.above_chance) < 0.1
    assert any(issubclass(w.category, cca.ChanceLevelWarning) for w in caught)
    low, high = namespace["interval"].confidence_interval
    assert low < related.statistic < high
