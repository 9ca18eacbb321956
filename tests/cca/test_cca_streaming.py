"""CCAAccumulator: batch by batch equals in memory (float64, 1e-8), merges are exact."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cca


def layers(seed, n=600, a=6, b=4):
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    x = latent @ rng.normal(size=(3, a)) + rng.normal(size=(n, a)) + 1e4  # large offset
    y = latent @ rng.normal(size=(3, b)) + rng.normal(size=(n, b)) - 50
    return x, y


def assert_matches_in_memory(accumulator, x, y):
    assert np.allclose(
        accumulator.canonical_correlations(), cca.canonical_correlations(x, y), atol=1e-8, rtol=0
    )
    assert accumulator.mean_cca() == pytest.approx(cca.mean_cca(x, y), abs=1e-8)
    assert accumulator.pwcca() == pytest.approx(cca.pwcca(x, y), abs=1e-8)
    for keep, rule in ((0.99, "variance"), (0.9, "singular_values"), (2, "variance")):
        expected = cca.svcca(x, y, keep, rule=rule)
        assert accumulator.svcca(keep, rule=rule) == pytest.approx(expected, abs=1e-8)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(1, 599), max_size=6))
def test_batches_equal_in_memory(seed, cuts):
    x, y = layers(seed)
    accumulator = cca.CCAAccumulator()
    for start, stop in zip([0, *sorted(cuts)], [*sorted(cuts), 600], strict=True):
        if stop > start:
            accumulator.update(x[start:stop], y[start:stop])
    assert accumulator.n_samples == 600
    assert_matches_in_memory(accumulator, x, y)


def test_merge_of_two_accumulators_equals_one():
    x, y = layers(1)
    left = cca.CCAAccumulator().update(x[:250], y[:250])
    right = cca.CCAAccumulator().update(x[250:400], y[250:400]).update(x[400:], y[400:])
    merged = left.merge(right)
    single = cca.CCAAccumulator().update(x, y)
    assert merged.n_samples == 600
    assert np.allclose(merged.canonical_correlations(), single.canonical_correlations(), atol=1e-12)
    assert merged.pwcca() == pytest.approx(single.pwcca(), abs=1e-12)
    assert_matches_in_memory(merged, x, y)
    assert left.n_samples == 250  # merge leaves its inputs alone


def test_dead_neurons_conv_batches_and_result_object():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 2, 2, 3))
    x[..., 0] = 5.0  # a dead channel
    y = x.mean(axis=(1, 2)) @ rng.normal(size=(3, 2)) + rng.normal(size=(400, 2))
    accumulator = cca.CCAAccumulator(conv="mean")
    for start in range(0, 400, 64):
        accumulator.update(x[start : start + 64], y[start : start + 64])
    assert np.allclose(
        accumulator.canonical_correlations(), cca.canonical_correlations(x, y, conv="mean")
    )
    result = accumulator.cca()
    assert np.allclose(result.project_x(x), cca.cca(x, y, conv="mean").x_variates)
    with pytest.raises(ValueError, match="project_x"):
        _ = result.x_variates


def test_accumulator_errors():
    accumulator = cca.CCAAccumulator()
    with pytest.raises(ValueError, match="holds 0 datapoint"):
        accumulator.mean_cca()
    accumulator.update(np.ones((3, 2)) * [1, 2], np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match="every neuron of x is constant"):
        accumulator.mean_cca()
    with pytest.raises(ValueError, match="earlier batches had 2 \\+ 2"):
        accumulator.update(np.ones((3, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="conv must be"):
        cca.CCAAccumulator(conv="dft")
    with pytest.raises(ValueError, match="this one has conv=None, the other conv='mean'"):
        accumulator.merge(cca.CCAAccumulator(conv="mean"))
    with pytest.raises(ValueError, match="other must be a CCAAccumulator; found dict"):
        accumulator.merge({})
