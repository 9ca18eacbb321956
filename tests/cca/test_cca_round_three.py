"""The defects of the library's third fuzz (issue 22), each as a property that could fail: genuine
small directions kept, PWCCA independent of row order at zero correlations, continuous in near
ties, each layer's rounding floor its own precision, constant and subnormal layers, seed errors.

References are independent of the library: an SVD in float64 (conftest.reference_correlations), or
closed forms of planted data.
"""

import warnings

import numpy as np
import pytest
from conftest import reference_correlations

import cca


def test_a_genuine_small_direction_is_kept():
    h, e = np.random.default_rng(0).normal(size=(2, 1000))
    x = np.c_[h, h + 1e-8 * e]
    assert cca.canonical_correlations(x, e[:, None]) == pytest.approx([1.0], abs=1e-6)
    rng = np.random.default_rng(0)
    wide, e = rng.normal(size=(5000, 99)), rng.normal(size=5000)
    x, y = np.c_[wide, wide[:, 0] + 1e-6 * e], np.c_[e, rng.normal(size=(5000, 3))]
    assert cca.canonical_correlations(x, y)[0] == pytest.approx(1.0, abs=1e-6)


def test_a_shift_between_groups_of_datapoints_keeps_the_spread_directions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2)) + np.repeat([1e8, -1e8], 50)[:, None]
    y = x + rng.normal(size=(100, 2))
    truth = reference_correlations(x - np.repeat([1e8, -1e8], 50)[:, None], y - np.repeat(
        [1e8, -1e8], 50)[:, None])  # the shift is exact in float64 at this size: same layers
    assert len(cca.canonical_correlations(x, y)) == 2
    assert cca.canonical_correlations(x, y) == pytest.approx(
        reference_correlations(x, y), abs=1e-6)
    assert truth[1] < 0.9  # a real second direction, not rounding


def test_svcca_keeps_a_small_principal_direction():
    a, b, c = np.random.default_rng(0).normal(size=(3, 500))
    x, y = np.c_[a, 1e-8 * b], np.c_[b, c]
    assert cca.svcca(x, y, keep=2) == pytest.approx(reference_correlations(x, y).mean(), abs=1e-6)


def test_the_accumulator_warns_where_only_the_gram_matrix_cannot_resolve_a_direction():
    h, e = np.random.default_rng(0).normal(size=(2, 1000))
    accumulator = cca.CCAAccumulator().update(np.c_[h, h + 1e-8 * e], e[:, None])
    with pytest.warns(cca.GramPathWarning):
        accumulator.canonical_correlations()
    with warnings.catch_warnings():
        warnings.simplefilter("error", cca.GramPathWarning)
        cca.CCAAccumulator().update(np.c_[h, e], e[:, None]).canonical_correlations()


def zero_correlation_layers(seed=0):
    """x spans 3 orthonormal directions u0..u2 (mixed), y = (0.8 u0 + 0.6 u3, u4): canonical
    correlations 0.8 and exactly 0, and x has a direction more than there are correlations."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.normal(size=(200, 5)))[0]
    u = np.linalg.qr(u - u.mean(0))[0]
    x = u[:, :3] @ np.array([[1, 0.5, 0.2], [0, 1, 0.7], [0.3, 0, 1]])
    y = np.c_[0.8 * u[:, 0] + 0.6 * u[:, 3], u[:, 4]]
    return x, y, rng


def test_pwcca_does_not_depend_on_the_order_of_rows_or_neurons_at_zero_correlations():
    x, y, rng = zero_correlation_layers()
    assert cca.canonical_correlations(x, y) == pytest.approx([0.8, 0.0], abs=1e-12)
    values = [cca.pwcca(x[rows], y[rows]) for rows in (rng.permutation(200) for _ in range(8))]
    values += [cca.pwcca(x[:, order], y) for order in ([2, 0, 1], [1, 2, 0])]
    assert np.ptp(values) < 1e-9


def planted(rho, n=2000, seed=0):
    """Layers whose sample canonical correlations are exactly ``rho`` (orthonormal, centered
    latent columns, mixed by random invertible maps)."""
    rng = np.random.default_rng(seed)
    k = len(rho)
    u = rng.normal(size=(n, 2 * k + 2))
    u = np.linalg.qr(u - u.mean(0))[0]
    x = np.c_[u[:, :k], u[:, 2 * k :]] @ rng.normal(size=(k + 2, k + 2))
    y = (u[:, :k] * rho + u[:, k : 2 * k] * np.sqrt(1 - np.square(rho))) @ rng.normal(size=(k, k))
    return x, y


def test_pwcca_moves_continuously_through_near_ties():
    """PWCCA of planted correlations (0.9, 0.7, 0.7 - g, 0.3) as the gap g shrinks from 1e-6 to 0
    in steps of 10^(1/8): the value moves from the separated directions' to the tie's, but over
    several steps, never by most of the way at once (a tie cut at one gap would)."""
    gaps = np.r_[10.0 ** -np.arange(6, 16.125, 0.125), 0.0]
    values = np.array([cca.pwcca(*planted([0.9, 0.7, 0.7 - g, 0.3])) for g in gaps])
    change = abs(values[-1] - values[0])
    assert change > 1e-3  # the tie's directions do differ from the separated ones here
    steps = np.abs(np.diff(values))
    assert steps.max() < 0.6 * change, (gaps[steps.argmax()], steps.max(), change)
    assert abs(values[-1] - values[-2]) < 1e-9  # the tie and a gap of 1e-16 agree


def test_float32_pwcca_equals_float64_of_the_same_values_near_ties():
    for gap in (1e-2, 1e-4, 1e-6):
        x, y = (layer.astype(np.float32) for layer in planted([0.9, 0.7, 0.7 - gap, 0.3]))
        assert cca.pwcca(x, y) == pytest.approx(
            cca.pwcca(x.astype(np.float64), y.astype(np.float64)), abs=1e-12)


def test_each_layer_keeps_its_own_precisions_rounding_floor():
    h, e = np.random.default_rng(0).normal(size=(2, 1000))
    x, y = e[:, None].astype(np.float32), np.c_[h, h + 1e-6 * e]
    assert cca.canonical_correlations(x, y) == pytest.approx([1.0], abs=1e-5)
    assert cca.canonical_correlations(y, x) == pytest.approx([1.0], abs=1e-5)
    accumulator = cca.CCAAccumulator().update(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.GramPathWarning)
        assert accumulator.canonical_correlations()[0] > 0.99


@pytest.mark.parametrize("chunked", [False, True])
def test_constant_layers_refuse_cosine_similarity(chunked):
    x, y = np.full((10, 3), 0.1), np.full((10, 3), 0.7)
    if chunked:
        import dask.array as da

        x = da.from_array(x, chunks=4)
    with pytest.raises(ValueError, match="all zeros after centering"):
        cca.cosine_similarity(x, y)


def test_baselines_keep_the_digits_of_subnormal_layers():
    k = np.random.default_rng(1).integers(1, 9, size=(30, 3)).astype(float)
    other = np.random.default_rng(2).integers(1, 9, size=(30, 3)).astype(float)
    tiny = 5e-324
    assert cca.linear_cka(k * tiny, other * tiny) == pytest.approx(cca.linear_cka(k, other))
    assert cca.cosine_similarity(k * tiny, other * tiny) == pytest.approx(
        cca.cosine_similarity(k, other))
    assert cca.euclidean_distance(k * 2.0**-1070, other * 2.0**-1070) == pytest.approx(
        cca.euclidean_distance(k, other) * 2.0**-1070, rel=1e-6)


def test_subnormal_neurons_are_computed_right_or_refused():
    k = np.random.default_rng(0).integers(1, 5, size=(20, 3)).astype(float)
    other = np.random.default_rng(1).normal(size=(20, 2))
    small = (k * 1e-40).astype(np.float32)  # subnormal in float32, exact in float64
    assert cca.mean_cca(small, other) == pytest.approx(cca.mean_cca(k, other), abs=1e-6)
    assert cca.pwcca(k * 2.0**-1023, other) == pytest.approx(cca.pwcca(k, other), abs=1e-12)
    for measure in (cca.mean_cca, cca.pwcca, cca.canonical_correlations):
        with pytest.raises(ValueError, match="subnormal"):
            measure(k * 1e-320, other)
    with pytest.raises(ValueError, match="subnormal"):
        cca.CCAAccumulator().update(other, k * 1e-309)


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True])
def test_a_bad_seed_is_named(seed):
    x = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="seed"):
        cca.permutation_test(x, x, seed=seed)
    with pytest.raises(ValueError, match="seed"):
        cca.bootstrap_interval(x, x, seed=seed)


def test_a_low_precision_conv_layer_averaged_over_space_keeps_its_directions():
    """float16 ReLU channels near 8 (ulp 2^-7), averaged over 8 x 8 positions: the means carry
    about 8 times less rounding than the values, and every one of the 12 directions (the
    smallest 0.2 of the largest) stands far above it. The floor of the values themselves dropped
    one and gave PWCCA 0.7037 instead of 0.6589."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 8, 8, 16))
    mixed = x[..., :12] @ rng.normal(size=(12, 12)) + 0.5 * rng.normal(size=(500, 8, 8, 12))
    y = np.maximum(mixed, 0)
    x16, y16 = x.astype(np.float16), (y + 8).astype(np.float16)
    exact = cca.pwcca(x16.astype(np.float64), y16.astype(np.float64), conv="mean")
    assert len(cca.canonical_correlations(x16, y16, conv="mean")) == 12
    assert cca.pwcca(x16, y16, conv="mean") == pytest.approx(exact, abs=1e-9)
    streamed = cca.CCAAccumulator("mean").update(x16, y16).pwcca()
    assert streamed == pytest.approx(exact, abs=1e-9)


def test_only_means_kept_in_float64_carry_less_rounding():
    """float32 means are rounded to float32 again, and no mean carries less than float64's."""
    from cca._validation import averaged_resolution

    eps16, eps32, eps64 = (float(np.finfo(t).eps) for t in (np.float16, np.float32, np.float64))
    maps = np.zeros((4, 8, 8, 3))
    assert averaged_resolution(eps16, maps, "mean") == eps16 / 8
    assert averaged_resolution(eps64, maps, "mean") == eps64
    assert averaged_resolution(eps32, maps.astype(np.float32), "mean") == eps32
    assert averaged_resolution(eps16, maps, "positions") == eps16
    assert averaged_resolution(eps16, maps[:, 0, 0], "mean") == eps16
