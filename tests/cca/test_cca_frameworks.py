"""PyTorch and JAX arrays computed where they live (cca._array_api), on the CPU.

The optional target ``make test-frameworks`` installs PyTorch, JAX and array-api-compat and runs
this module; ``make test`` (and CI) has none of them, and skips it. Values are compared with the
same call on NumPy arrays, within the input dtype's accuracy; every crossing to the host is
counted and of the neurons' size. benchmarks/bench_array_api.py checks a GPU.
"""

import numpy as np
import pytest

import cca

rng = np.random.default_rng(11)
N = 2000
X = rng.normal(size=(N, 20)) @ rng.normal(size=(20, 20))
Y = np.hstack([X[:, :8] @ rng.normal(size=(8, 10)), rng.normal(size=(N, 4))])
Y = Y + 0.3 * rng.normal(size=(N, 14))
MAPS = rng.normal(size=(300, 6, 6, 5))  # channels last
# For float32: correlations from 0.95 to 0.1, well apart. (X, Y's top eight are 1 - 1e-4, a few
# 1e-5 apart, where float32 resolves their directions only to ~1e-7 / gap, PWCCA to ~1e-4.)
_C = np.array([0.95, 0.8, 0.6, 0.4, 0.2, 0.1])
_Z = rng.normal(size=(N, 6))
X32 = (_Z @ rng.normal(size=(6, 6))).astype(np.float32)
Y32 = ((_C * _Z + np.sqrt(1 - _C**2) * rng.normal(size=(N, 6))) @ rng.normal(size=(6, 6))).astype(
    np.float32)
MEASURES = (cca.mean_cca, cca.pwcca, lambda x, y, **kw: cca.svcca(x, y, 0.95, **kw))


def check_against_numpy(convert, tolerance, host_crossings, x=X, y=Y):
    for measure in MEASURES:
        for method in ("auto", "svd"):
            host_crossings.clear()
            value = measure(convert(x), convert(y), method=method)
            assert value == pytest.approx(measure(x, y, method=method), abs=tolerance)
            assert host_crossings and max(host_crossings) <= (x.shape[1] + y.shape[1]) ** 2


def test_pytorch_tensors(host_crossings):
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    check_against_numpy(torch.from_numpy, 1e-12, host_crossings)
    check_against_numpy(torch.from_numpy, 2e-6, host_crossings, X32, Y32)
    tracked = torch.from_numpy(X).requires_grad_()  # an autograd graph is no obstacle
    assert cca.pwcca(tracked, torch.from_numpy(Y)) == pytest.approx(cca.pwcca(X, Y), abs=1e-12)
    nchw = torch.from_numpy(MAPS).permute(0, 3, 1, 2)
    with pytest.raises(ValueError, match="PyTorch tensor"):
        cca.pwcca(nchw, nchw**2, conv="mean")
    expected = cca.pwcca(MAPS, MAPS**2, conv="mean")
    assert cca.pwcca(nchw, nchw**2, conv="mean", layout="nchw") == pytest.approx(
        expected, abs=1e-12)
    for debiased in (False, True):
        assert cca.linear_cka(torch.from_numpy(X), torch.from_numpy(Y), debiased) == (
            pytest.approx(cca.linear_cka(X, Y, debiased), abs=1e-12))
    noisy = X + rng.normal(size=X.shape)
    assert cca.cosine_similarity(torch.from_numpy(X), torch.from_numpy(noisy)) == pytest.approx(
        cca.cosine_similarity(X, noisy), abs=1e-12)
    assert cca.euclidean_distance(torch.from_numpy(X), torch.from_numpy(noisy)) == pytest.approx(
        cca.euclidean_distance(X, noisy), rel=1e-12)
    result = cca.cca(torch.from_numpy(X), torch.from_numpy(Y))
    assert isinstance(result.x_variates, torch.Tensor)
    with pytest.raises(ValueError, match="non-finite value"):
        cca.pwcca(torch.from_numpy(X) / 0, torch.from_numpy(Y))


def test_jax_arrays(host_crossings):
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    # JAX computes in float32 unless x64 is enabled: a device without float64
    check_against_numpy(jnp.asarray, 2e-6, host_crossings, X32, Y32)
    assert cca.pwcca(jnp.asarray(X), jnp.asarray(Y)) == pytest.approx(cca.pwcca(X, Y), abs=1e-4)
    assert cca.cca(jnp.asarray(X), jnp.asarray(Y)).method in ("gram-float32", "svd")
    with jax.enable_x64(True):
        check_against_numpy(jnp.asarray, 1e-12, host_crossings)
        assert cca.pwcca(jnp.asarray(MAPS), jnp.asarray(MAPS) ** 2, conv="mean") == (
            pytest.approx(cca.pwcca(MAPS, MAPS**2, conv="mean"), abs=1e-12))


def test_arrays_of_two_frameworks_are_refused():
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    pytest.importorskip("array_api_compat")
    with pytest.raises(ValueError, match="arrays of different frameworks"):
        cca.pwcca(torch.from_numpy(X), jnp.asarray(Y))
