"""Regressions for silently wrong numbers and unclear errors on awkward input (issue 15).

Each test starts from the issue's reproducer (``rng = np.random.default_rng(0)``) and states the
truth it must give.
"""

import numpy as np
import pytest

import cca


def dependent_with_offset(dtype=np.float64, offset=500.0):
    """Issue 15, item 1: a neuron that is 3 x another one plus an offset; y spans the same space."""
    rng = np.random.default_rng(0)
    h = rng.normal(size=(1000, 4))
    x = np.hstack([h, 3 * h[:, :1] + offset])
    y = h @ rng.normal(size=(4, 8))
    return x.astype(dtype), y.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", ["auto", "svd"])
@pytest.mark.parametrize("offset", [500.0, 1e5])
def test_dependent_neuron_with_offset_is_no_direction(dtype, method, offset):
    x, y = dependent_with_offset(dtype, offset)
    if dtype == np.float32 and offset > 1e4:
        offset = 1e3  # float32 keeps 7 digits: 1e5 offsets leave only ~2 digits of spread
        x, y = dependent_with_offset(dtype, offset)
    assert cca.mean_cca(x, y, method=method) == pytest.approx(1.0, abs=1e-5)
    assert cca.pwcca(x, y, method=method) == pytest.approx(1.0, abs=1e-5)
    assert cca.svcca(x, y, keep=0.9999, method=method) == pytest.approx(1.0, abs=1e-5)
    assert len(cca.canonical_correlations(x, y, method=method)) == 4


def test_auto_is_never_less_accurate_than_gram_on_dependent_neurons():
    for dtype in (np.float32, np.float64):
        x, y = dependent_with_offset(dtype)
        auto, gram = cca.mean_cca(x, y), cca.mean_cca(x, y, method="gram")
        assert abs(auto - 1) <= abs(gram - 1) + 1e-9


def test_streaming_agrees_on_dependent_neuron_in_float32():
    x, y = dependent_with_offset(np.float32)
    accumulator = cca.CCAAccumulator()
    for start in range(0, len(x), 300):
        accumulator.update(x[start : start + 300], y[start : start + 300])
    assert accumulator.mean_cca() == pytest.approx(cca.mean_cca(x, y), abs=1e-5)


def test_a_genuine_small_direction_is_kept():
    """The rounding floor must not eat real signal: a neuron whose independent part is 1e-4 of
    its spread (far above float64 rounding, even with an offset of 500) is a direction."""
    rng = np.random.default_rng(0)
    h = rng.normal(size=(1000, 4))
    extra = rng.normal(size=1000)
    x = np.hstack([h, 3 * h[:, :1] + 500 + 1e-4 * extra[:, None]])
    y = np.hstack([h, extra[:, None]])
    rho = cca.canonical_correlations(x, y)
    assert len(rho) == 5 and rho.min() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("factor", [1e-25, 1e18])
def test_float32_neuron_of_extreme_size(factor):
    """Issue 15, item 2: float32 underflowed (LinAlgError) or lost the neuron (0.54, NaN)."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    b = a[:, :3] @ rng.normal(size=(3, 3)) + rng.normal(size=(500, 3))
    truth_mean, truth_pw = cca.mean_cca(a, b), cca.pwcca(b, a)  # y's map leaves it
    x = a.copy()
    x[:, 0] *= factor
    x32, b32 = x.astype(np.float32), b.astype(np.float32)
    assert cca.mean_cca(x32, b32) == pytest.approx(truth_mean, abs=1e-4)
    assert cca.pwcca(x32, b32) == pytest.approx(cca.pwcca(x, b), abs=1e-4)
    assert cca.pwcca(b32, x32) == pytest.approx(truth_pw, abs=1e-4)


@pytest.mark.parametrize("factor", [1e-150, 1e160, 1e250])
def test_float64_layers_of_extreme_scale(factor):
    """Issue 15, item 5: a bare LinAlgError at 1e160; cosine similarity 0.0."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 5))
    b = a[:, :4] + rng.normal(size=(300, 4))
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca, cca.linear_cka):
        assert measure(a * factor, b) == pytest.approx(measure(a, b), abs=1e-9)
    assert cca.linear_cka(a * factor, b, debiased=True) == pytest.approx(
        cca.linear_cka(a, b, debiased=True), abs=1e-9
    )
    assert cca.cosine_similarity(a * factor, a + 0.5) == pytest.approx(1.0, abs=1e-12)
    assert cca.euclidean_distance(a * factor, -a * factor) / factor == pytest.approx(
        cca.euclidean_distance(a, -a), rel=1e-12
    )


def test_values_beyond_the_computable_range_are_refused():
    huge = np.full((5, 2), np.longdouble("1e400")) * np.arange(10).reshape(5, 2)
    with pytest.raises(ValueError, match="holds values up to 9\\.?e\\+400.*Rescale the layer"):
        cca.mean_cca(huge, np.arange(10.0).reshape(5, 2))
    with pytest.raises(ValueError, match="Rescale the layer"):
        cca.pwcca(np.eye(5, 2) * 1e305, np.arange(10.0).reshape(5, 2))


def test_debiased_cka_on_a_single_datapoint_neuron_is_refused():
    """Issue 15, item 3: returned 1, -1, -2.12, 2.12 or NaN for a 0/0 estimate."""
    s = np.zeros((10, 1))
    s[2] = 1
    with pytest.raises(ValueError, match="HSIC\\(x, x\\) is zero.*debiased=False"):
        cca.linear_cka(s + 1234.5, s - 77.25, debiased=True)
    assert cca.linear_cka(s + 1234.5, s - 77.25) == pytest.approx(1.0)


def test_pwcca_counts_a_duplicated_neuron_twice_by_definition():
    """Issue 15, item 4: PWCCA's weights sum over neurons, so a copy changes them (documented);
    mean CCA does not change."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6))
    b = a[:, :4] + rng.normal(size=(500, 4))
    doubled = np.hstack([a, a[:, :1]])
    assert cca.mean_cca(doubled, b) == pytest.approx(cca.mean_cca(a, b), abs=1e-12)
    assert cca.pwcca(doubled, b) != pytest.approx(cca.pwcca(a, b), abs=1e-4)


def test_pwcca_with_tied_correlations_does_not_depend_on_neuron_order():
    """Issue 15, item 4: with tied correlations the variates are not unique; the result must
    not depend on the column order (it did, by up to 0.03)."""
    rng = np.random.default_rng(0)
    shared = rng.normal(size=(2000, 3))
    x = np.hstack([shared, rng.normal(size=(2000, 2))]) @ rng.normal(size=(5, 5))
    y = np.hstack([shared, rng.normal(size=(2000, 1))])
    assert np.sum(cca.canonical_correlations(x, y) > 1 - 1e-9) == 3  # three tied at 1
    x = x + 0.7 * np.hstack([np.zeros((2000, 4)), shared[:, :1]])  # mixed weights
    values = {round(cca.pwcca(x[:, order], y), 12) for order in map(list, _orders(5, 8))}
    assert len(values) == 1
    tied = np.hstack([shared @ rng.normal(size=(3, 3)), rng.normal(size=(2000, 2))])
    values = [cca.pwcca(tied[:, order], shared) for order in map(list, _orders(5, 8))]
    assert max(values) - min(values) < 1e-9


def _orders(width, count):
    rng = np.random.default_rng(1)
    return [rng.permutation(width) for _ in range(count)]


def test_dft_on_2d_input_is_a_clear_error():
    """Issue 15, item 6: IndexError."""
    x = np.random.default_rng(0).normal(size=(50, 4))
    with pytest.raises(ValueError, match="conv='dft' needs x and y both 4-D.*x and y are 2-D"):
        cca.pwcca(x, x, conv="dft")
    with pytest.raises(ValueError, match="y is 2-D"):
        cca.mean_cca(x.reshape(50, 2, 2, 1), x, conv="dft")


def test_dft_on_spatially_uniform_maps_uses_frequency_zero():
    """Issue 15, item 6: 'every neuron is constant', false at frequency 0. A map constant over
    space is its spatial mean, so the DFT result equals conv='mean' on the same channels (the
    other frequencies hold only rounding and contribute nothing)."""
    rng = np.random.default_rng(0)
    x_channels, y = rng.normal(size=(300, 3)), rng.normal(size=(300, 4, 4, 2))
    y[..., 0] += x_channels[:, None, None, 0]
    x = np.broadcast_to(x_channels[:, None, None, :], (300, 4, 4, 3))
    dft = cca.canonical_correlations(x, y, conv="dft")
    assert len(dft) == 2  # frequency 0 only: min(3, 2)
    assert dft == pytest.approx(cca.canonical_correlations(x_channels, y.mean(axis=(1, 2))))
    assert 0 <= cca.pwcca(x, y, conv="dft") <= 1
    with pytest.raises(ValueError, match="does not vary"):
        cca.mean_cca(np.ones((20, 4, 4, 2)), y[:20], conv="dft")


def test_bad_input_that_returned_a_number_now_fails_clearly():
    """Issue 15, item 7."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(100, 4)), rng.normal(size=(100, 3))
    masked = np.ma.masked_array(a, mask=np.zeros_like(a, dtype=bool))
    masked.mask[0, 0] = True
    with pytest.raises(ValueError, match="masked array with 1 masked value.*Drop the datapoints"):
        cca.mean_cca(masked, b)
    assert cca.mean_cca(np.ma.masked_array(a), b) == cca.mean_cca(a, b)  # nothing masked: fine
    strings = np.array([["1", "2"], ["3", "4"]], dtype=object)
    with pytest.raises(ValueError, match="found a str \\('1'\\) in an object array"):
        cca.euclidean_distance(strings, np.ones((2, 2)))
    assert cca.euclidean_distance(np.array([[1, 2], [3, 4]], dtype=object), np.ones((2, 2))) > 0
    with pytest.raises(ValueError, match="debiased must be True or False; found 'yes'"):
        cca.linear_cka(a, b, debiased="yes")
    with pytest.raises(ValueError, match="center must be True or False"):
        cca.cosine_similarity(a, a, center=None)
    with pytest.raises(ValueError, match="keep=1000000000 directions.*keep <= 3"):
        cca.svcca(a, b, keep=10**9)
    with pytest.raises(ValueError, match="keep=5 directions"):
        cca.CCAAccumulator().update(a, b).svcca(keep=5)


def test_unclear_messages_are_clear():
    """Issue 15, item 7: None, accumulators of different conv, finite longdouble beyond float64."""
    b = np.ones((4, 2))
    with pytest.raises(ValueError, match="^x is None; pass the layer's activations"):
        cca.mean_cca(None, b)
    with pytest.raises(ValueError, match="this one has conv='mean', the other conv=None"):
        cca.CCAAccumulator("mean").merge(cca.CCAAccumulator())
    beyond = np.full((4, 2), np.longdouble("1e400"))
    with pytest.raises(ValueError, match="holds values up to 1\\.?e\\+400") as error:
        cca.linear_cka(beyond, b)
    assert "non-finite" not in str(error.value)


def test_a_layer_that_varies_only_by_rounding_is_refused():
    """float32 values 1000 + 1e-5 x: the spread is below float32's resolution at 1000."""
    rng = np.random.default_rng(0)
    x = (1000 + 1e-5 * rng.normal(size=(200, 2))).astype(np.float32)
    y = rng.normal(size=(200, 2)).astype(np.float32)
    assert np.ptp(x, axis=0).min() > 0  # not constant: a few values round to another level
    with pytest.raises(ValueError, match="varies only at the level of the rounding"):
        cca.mean_cca(x, y)
