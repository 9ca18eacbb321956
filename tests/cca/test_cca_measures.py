"""Mean CCA, SVCCA, PWCCA and the CCA result: agreement with a plain float64 reference, invariances
(paper, Section 2), closed forms and the Figure 2 toy."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

import cca
from cca import _solver

FAST = settings(max_examples=20, deadline=None)


def reference_cca(x, y):
    """Classical CCA in float64: rho = svd(Cxx^-1/2 Cxy Cyy^-1/2); PWCCA as in Section 2.2."""
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    inv_sqrt_xx = np.linalg.inv(np.real(scipy.linalg.sqrtm(xc.T @ xc)))
    inv_sqrt_yy = np.linalg.inv(np.real(scipy.linalg.sqrtm(yc.T @ yc)))
    u, rho, _ = np.linalg.svd(inv_sqrt_xx @ xc.T @ yc @ inv_sqrt_yy, full_matrices=False)
    variates = xc @ inv_sqrt_xx @ u  # h_i, orthonormal
    alpha = np.array([sum(abs(h @ z) for z in xc.T) for h in variates.T])
    return rho, float((alpha / alpha.sum()) @ rho)


def related_layers(seed, n=400, a=5, b=4, noise=1.0):
    """Two layers sharing a latent signal, with distinct canonical correlations."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, min(a, b))) * np.linspace(2, 0.3, min(a, b))
    x = latent @ rng.normal(size=(latent.shape[1], a)) + noise * rng.normal(size=(n, a))
    y = latent @ rng.normal(size=(latent.shape[1], b)) + noise * rng.normal(size=(n, b))
    return x, y


@FAST
@given(seed=st.integers(0, 2**32 - 1), a=st.integers(1, 6), b=st.integers(1, 6))
def test_agrees_with_classical_reference(seed, a, b):
    x, y = related_layers(seed, a=a, b=b)
    rho, pw = reference_cca(x, y)
    for method in ("auto", "gram", "svd"):
        assert np.allclose(cca.canonical_correlations(x, y, method=method), rho, atol=1e-10)
        assert cca.pwcca(x, y, method=method) == pytest.approx(pw, abs=1e-9)
    assert cca.mean_cca(x, y) == pytest.approx(rho.mean(), abs=1e-12)


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_invariant_to_offsets_layer_scale_and_permutation(seed):
    rng = np.random.default_rng(seed)
    x, y = related_layers(seed, a=6, b=5)
    offsets = rng.uniform(-1e3, 1e3, size=6)
    scale = 10 ** rng.uniform(-3, 3)
    permuted = rng.permutation(6)
    transformed = (scale * x + offsets)[:, permuted]
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca, cca.linear_cka):
        expected = measure(x, y)
        assert measure(transformed, y) == pytest.approx(expected, abs=1e-9)
        assert measure(y, transformed) == pytest.approx(measure(y, x), abs=1e-9)


@FAST
@given(seed=st.integers(0, 2**32 - 1))
def test_mean_cca_invariant_to_invertible_linear_maps(seed):
    rng = np.random.default_rng(seed)
    x, y = related_layers(seed)
    linear_map = rng.normal(size=(5, 5)) + 3 * np.eye(5)
    assert cca.mean_cca(x @ linear_map, y) == pytest.approx(cca.mean_cca(x, y), abs=1e-10)


@FAST
@given(seed=st.integers(0, 2**32 - 1), dead=st.integers(1, 3), duplicates=st.integers(1, 3))
def test_dead_and_duplicated_neurons_change_no_correlation(seed, dead, duplicates):
    rng = np.random.default_rng(seed)
    x, y = related_layers(seed)
    constants = rng.choice([0.0, 0.1, -7.3, 1e6], size=dead)
    padded = np.hstack([x, np.ones((len(x), dead)) * constants, x[:, :duplicates] * 2.5])
    expected = cca.canonical_correlations(x, y)
    for method in ("auto", "gram", "svd"):
        found = cca.canonical_correlations(padded, y, method=method)
        assert np.all(np.isfinite(found))
        assert np.allclose(found, expected, atol=1e-9)
    with_dead = np.hstack([x, np.ones((len(x), dead)) * constants])
    assert cca.pwcca(with_dead, y) == pytest.approx(cca.pwcca(x, y), abs=1e-10)
    assert cca.svcca(with_dead, y) == pytest.approx(cca.svcca(x, y), abs=1e-10)


def test_neuron_scales_over_many_orders_of_magnitude_match_standardized():
    x, y = related_layers(3, a=6)
    scales = 10.0 ** np.array([-8, -4, 0, 3, 6, 9])
    standardized = (x - x.mean(0)) / x.std(0)
    for method in ("auto", "gram", "svd"):
        found = cca.canonical_correlations(x * scales, y, method=method)
        assert np.allclose(found, cca.canonical_correlations(standardized, y), atol=1e-10)


@pytest.mark.parametrize("offset", [0.0, 2.0, 1e7])
def test_gram_matrix_routes_agree_with_centered_data(offset):
    """The raw-product route (X^T X - n m m^T, used while means are small against the spread) and
    the blockwise-centered route (large means, where subtracting would cancel digits) both give
    the centered Gram matrix; dead neurons get zero rows and columns."""
    from cca import _linalg

    rng = np.random.default_rng(3)
    n = 3 * _linalg.BLOCK_ROWS + 17  # several blocks and a partial one
    x = rng.normal(size=(n, 6)) + offset
    x[:, 2] = 0.0  # dead, as a ReLU that never fires
    y = rng.normal(size=(n, 4)) * np.array([1e-3, 1, 10, 1e3]) + offset
    live = np.array([True, True, False, True, True, True] + [True] * 4)
    moments = _linalg.moments_of(x, y, live)
    stacked = np.hstack([x, y])
    centered = stacked - stacked.mean(axis=0)
    centered[:, ~live] = 0
    expected = centered.T @ centered
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected))) + (expected == 0)
    np.testing.assert_allclose(moments.gram / scale, expected / scale, atol=1e-12)
    detected = _linalg.moments_of(x, y)  # dead neurons found by the Gram pass itself
    np.testing.assert_array_equal(detected.live, live)



@FAST
@given(seed=st.integers(0, 2**32 - 1), a=st.integers(1, 7), b=st.integers(1, 7))
def test_symmetry_and_range(seed, a, b):
    x, y = related_layers(seed, a=a, b=b)
    rho = cca.canonical_correlations(x, y)
    assert len(rho) == min(a, b)
    assert np.all(np.diff(rho) <= 0) and rho.min() >= 0 and rho.max() <= 1
    assert np.allclose(rho, cca.canonical_correlations(y, x), atol=1e-12)
    for measure in (cca.pwcca, cca.svcca, cca.mean_cca):
        assert 0 <= measure(x, y) <= 1
        assert 0 <= measure(y, x) <= 1


def test_pwcca_works_whichever_layer_is_larger_and_weights_come_from_x():
    x, y = related_layers(5, a=8, b=3)
    for first, second in ((x, y), (y, x)):
        assert cca.pwcca(first, second) == pytest.approx(reference_cca(first, second)[1], abs=1e-10)
    assert cca.pwcca(x, y) != pytest.approx(cca.pwcca(y, x), abs=1e-4)


def test_closed_forms_identical_layers_and_independent_gaussians():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 10))
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca):
        assert measure(x, x) == pytest.approx(1, abs=1e-10)
        assert measure(x, np.exp(0.1) * x @ rng.normal(size=(10, 10))) > 0.999999
    independent = (rng.normal(size=(20_000, 5)), rng.normal(size=(20_000, 5)))
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca):
        assert measure(*independent) < 0.05  # rho ~ sqrt(d / n) = 0.016
    single = rng.normal(size=(20_000, 1))
    noisy = single + 0.5 * rng.normal(size=(20_000, 1))
    assert cca.mean_cca(single, noisy) == pytest.approx(1 / np.sqrt(1.25), abs=0.01)


def test_auto_falls_back_to_svd_when_the_gram_matrix_is_ill_conditioned():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 6))
    x[:, 5] = x[:, 0] + 1e-6 * rng.normal(size=3000)  # a real but tiny direction
    y = x @ rng.normal(size=(6, 3)) + rng.normal(size=(3000, 3))
    result = cca.cca(x, y)
    assert result.method == "svd"
    assert np.allclose(result.correlations, cca.canonical_correlations(x, y, method="svd"))
    well_conditioned = cca.cca(*related_layers(0))
    assert well_conditioned.method == "gram-float64"


def test_float32_correlations_stay_float32_when_accurate_and_match_float64():
    x, y = (layer.astype(np.float32) for layer in related_layers(4, n=2000))
    assert _solver.fit_sides(x, y, "auto").path == "gram-float32"
    exact = cca.canonical_correlations(x.astype(np.float64), y.astype(np.float64))
    assert np.allclose(cca.canonical_correlations(x, y), exact, atol=1e-6)
    duplicated = np.hstack([x, x[:, :1]])  # the float32 Gram matrix cannot tell the rank
    assert _solver.fit_sides(duplicated, y, "auto").path != "gram-float32"
    assert np.allclose(cca.canonical_correlations(duplicated, y), exact, atol=1e-6)


def test_float32_directions_and_pwcca_come_from_float64():
    """The float32 Gram path's directions of correlations g apart are only good to ~1e-7 / g, so
    cca() and pwcca() on float32 input take the float64 path: the same numbers as float64 input
    of the same values."""
    x, y = (layer.astype(np.float32) for layer in related_layers(4, n=2000))
    result = cca.cca(x, y)
    assert result.method == "gram-float64"
    assert cca.pwcca(x, y) == cca.pwcca(x.astype(np.float64), y.astype(np.float64))


def test_svcca_keep_conventions():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1000, 6)) * np.array([10, 5, 1, 0.1, 0.01, 0.001])
    y = x.copy()
    y[:, :2] += rng.normal(size=(1000, 2))  # y's spectrum ~ x's: the same counts are kept
    assert cca.svcca(x, y, keep=2) == pytest.approx(cca.mean_cca(x[:, :2], y[:, :2]), abs=0.01)
    # variance shares: 100, 25, 1, ... of 126.01 -> 0.99 keeps 2 directions (125 / 126.01)
    assert cca.svcca(x, y, keep=0.99) == pytest.approx(cca.svcca(x, y, keep=2), abs=1e-12)
    # singular-value shares: 10, 5, 1, 0.1, ... of 16.111 -> 0.99 keeps 3 directions (16 / 16.111)
    by_values = cca.svcca(x, y, keep=0.99, rule="singular_values")
    assert by_values == pytest.approx(cca.svcca(x, y, keep=3), abs=1e-12)
    assert by_values != pytest.approx(cca.svcca(x, y, keep=0.99), abs=1e-6)
    assert cca.svcca(x, y, keep=1.0) == pytest.approx(cca.mean_cca(x, y), abs=1e-10)
    assert cca.svcca(x, y, keep=x.shape[1]) == pytest.approx(cca.mean_cca(x, y), abs=1e-10)
    with pytest.raises(ValueError, match="keep=100 directions, but the layers have 6 and 6"):
        cca.svcca(x, y, keep=100)  # issue 15: was silently clamped


def figure2_toy(signal_dims, seed, n=2000, neurons=200):
    """Paper, Figure 2: k signal dims from N(0, 1), the rest noise of scale 0.1; Y = a random
    orthonormal map of the same signal plus fresh noise."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=(n, signal_dims))
    noise_dims = neurons - signal_dims
    x = np.hstack([signal, 0.1 * rng.normal(size=(n, noise_dims))])
    rotation, _ = np.linalg.qr(rng.normal(size=(neurons, neurons)))
    y = np.hstack([signal, 0.1 * rng.normal(size=(n, noise_dims))]) @ rotation
    return x, y


def test_figure2_toy_pwcca_robust_to_noise_svcca_paper_rule_in_between():
    x, y = figure2_toy(signal_dims=100, seed=0)
    mean_distance = cca.mean_cca_distance(x, y)
    pwcca_distance = cca.pwcca_distance(x, y)
    svcca_distance = cca.svcca_distance(x, y, keep=0.99, rule="singular_values")
    assert pwcca_distance < 0.25 * mean_distance
    assert pwcca_distance < svcca_distance < mean_distance


def test_result_object_variates_directions_and_projection():
    x, y = related_layers(7, a=5, b=3)
    result = cca.cca(x, y)
    h, z = result.x_variates, result.y_variates
    assert h.shape == (400, 3) and z.shape == (400, 3)
    assert np.allclose(h.T @ h, np.eye(3), atol=1e-10)
    assert np.allclose(z.T @ z, np.eye(3), atol=1e-10)
    assert np.allclose(h.T @ z, np.diag(result.correlations), atol=1e-10)
    assert np.allclose(result.project_x(x), h) and np.allclose(result.project_y(y), z)
    assert result.pwcca == pytest.approx(cca.pwcca(x, y)) and result.x_weights.sum() == 1
    # projection uses the fitted means: a later batch shifted by a constant projects shifted
    later = x[:10] + 100.0
    assert np.allclose(result.project_x(later), h[:10] + 100.0 * result.x_directions.sum(0))
    with pytest.raises(ValueError, match="neurons"):
        result.project_x(y)


def test_figure1_def_projection_of_later_checkpoints():
    """Paper, Figure 1 d-f: directions found between an early and a mid checkpoint; the activations
    of a later checkpoint projected onto them keep the stable directions, not the unstable ones."""
    rng = np.random.default_rng(8)
    stable = rng.normal(size=(1000, 3))
    neurons = rng.normal(size=(6, 6))  # the same neurons at the mid and the later checkpoint
    early = np.hstack([stable, rng.normal(size=(1000, 3))]) @ rng.normal(size=(6, 6))
    middle = np.hstack([stable, rng.normal(size=(1000, 3))]) @ neurons
    later = np.hstack([stable, rng.normal(size=(1000, 3))]) @ neurons
    fit = cca.cca(middle, early)
    assert np.allclose(fit.correlations[:3], 1) and fit.correlations[3:].max() < 0.2
    projected = fit.project_x(later)
    top, bottom = fit.x_variates[:, :3], fit.x_variates[:, 3:]
    assert cca.mean_cca(top, projected[:, :3]) > 0.999
    assert cca.mean_cca(bottom, projected[:, 3:]) < 0.2
