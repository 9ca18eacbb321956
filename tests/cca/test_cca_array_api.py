"""Arrays of the Python array API standard computed on their own device (cca._array_api).

array-api-strict stands in for an accelerator: its "device1" holds arrays that NumPy refuses to
convert (as a GPU tensor), so no path can copy the data to the host unnoticed, and its
"no_float64" device lacks float64 (as Apple's MPS, or JAX without x64). Every result is checked
against the same call on NumPy arrays; every crossing to the host goes through
``cca._array_api.to_host``, which a wrapper counts.
"""

import warnings

import numpy as np
import pytest

import cca
from cca import _array_api

xp = pytest.importorskip("array_api_strict")
INFO = xp.__array_namespace_info__()
DEVICE = next(d for d in INFO.devices() if "device1" in str(d))
NO_FLOAT64 = next(d for d in INFO.devices() if "no_float64" in str(d))

rng = np.random.default_rng(7)
N, A, B = 3000, 24, 16
X = rng.normal(size=(N, A)) @ rng.normal(size=(A, A))
Y = np.hstack([X[:, :6] @ rng.normal(size=(6, 8)), rng.normal(size=(N, B - 8))])
Y = Y + 0.5 * rng.normal(size=(N, B))


def on_device(array, device=DEVICE):
    return xp.asarray(np.asarray(array), device=device)


MEASURES = {
    "mean_cca": cca.mean_cca,
    "pwcca": cca.pwcca,
    "pwcca_reversed": lambda x, y, **kw: cca.pwcca(y, x, **kw),
    "svcca_variance": lambda x, y, **kw: cca.svcca(x, y, 0.9, **kw),
    "svcca_count": lambda x, y, **kw: cca.svcca(x, y, 5, rule="singular_values", **kw),
    "mean_cca_distance": cca.mean_cca_distance,
    "pwcca_distance": cca.pwcca_distance,
    "svcca_distance": lambda x, y, **kw: cca.svcca_distance(x, y, 6, **kw),
}


@pytest.mark.parametrize("method", ["auto", "gram", "svd"])
@pytest.mark.parametrize("name", sorted(MEASURES))
def test_float64_device_arrays_equal_numpy(name, method):
    measure = MEASURES[name]
    expected = measure(X, Y, method=method)
    assert measure(on_device(X), on_device(Y), method=method) == pytest.approx(
        expected, abs=1e-12)


@pytest.mark.parametrize("method", ["auto", "svd"])
def test_cca_result_equals_numpy_and_keeps_variates_on_the_device(method):
    expected = cca.cca(X, Y, method=method)
    result = cca.cca(on_device(X), on_device(Y), method=method)
    assert result.method == expected.method
    np.testing.assert_allclose(result.correlations, expected.correlations, rtol=0, atol=1e-12)
    assert isinstance(result.correlations, np.ndarray) and isinstance(result.pwcca, float)
    np.testing.assert_allclose(np.abs(result.x_directions), np.abs(expected.x_directions),
                               rtol=1e-8, atol=1e-10)
    variates = result.x_variates
    assert variates.device == DEVICE  # data-sized: computed where the data are
    host = np.from_dlpack(variates.to_device(INFO.default_device()))
    np.testing.assert_allclose(host.T @ host, np.eye(host.shape[1]), atol=1e-10)
    np.testing.assert_allclose(np.abs(host), np.abs(expected.x_variates), atol=1e-8)


def test_correlations_and_a_numpy_partner():
    expected = cca.canonical_correlations(X, Y)
    np.testing.assert_allclose(cca.canonical_correlations(on_device(X), on_device(Y)),
                               expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cca.canonical_correlations(on_device(X), Y), expected,
                               rtol=0, atol=1e-12)
    assert cca.pwcca(X, on_device(Y)) == pytest.approx(cca.pwcca(X, Y), abs=1e-12)


def test_no_host_copy_of_the_data(host_crossings):
    """What reaches the host is of the neurons' size ((a + b)^2 at most), never of the
    datapoints'; and NumPy cannot read a device1 array at all, so nothing else copies it."""
    with pytest.raises(RuntimeError):
        np.asarray(on_device(X))
    crossed = host_crossings
    for method in ("auto", "svd"):
        for measure in (cca.pwcca, cca.mean_cca, lambda x, y, **kw: cca.svcca(x, y, 4, **kw)):
            crossed.clear()
            measure(on_device(X), on_device(Y), method=method)
            assert crossed and max(crossed) <= (A + B) ** 2 < N


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
@pytest.mark.parametrize("conv", ["mean", "positions"])
def test_conv_layers_in_both_layouts(conv, layout):
    maps_x = rng.normal(size=(200, 5, 5, 6))
    maps_y = maps_x[..., :4] ** 2 + rng.normal(size=(200, 5, 5, 4))
    expected = cca.pwcca(maps_x, maps_y, conv=conv)
    if layout == "nchw":
        maps_x, maps_y = maps_x.transpose(0, 3, 1, 2), maps_y.transpose(0, 3, 1, 2)
    value = cca.pwcca(on_device(maps_x), on_device(maps_y), conv=conv, layout=layout)
    assert value == pytest.approx(expected, abs=1e-12)


def test_ill_conditioned_layers_take_the_same_path():
    """A near-duplicate neuron (1e-9 apart): method="auto" leaves the Gram path for the SVD
    path on the device as in memory, with the same value."""
    x = np.hstack([X[:, :5], X[:, :1] + 1e-9 * rng.normal(size=(N, 1))])
    y = np.hstack([x[:, 5:] - x[:, :1], rng.normal(size=(N, 3))])
    expected = cca.cca(x, y)
    result = cca.cca(on_device(x), on_device(y))
    assert result.method == expected.method == "svd"
    np.testing.assert_allclose(result.correlations, expected.correlations, atol=1e-9)
    # PWCCA's weights of the near-duplicate direction are this input's weak point: in memory,
    # reversing the rows moves them by ~1e-7 (the rounding of the norms and SVD, amplified by
    # the condition number ~1e9); the device's own rounding may move them as much.
    reversed_rows = cca.cca(x[::-1], y[::-1]).pwcca
    spread = abs(reversed_rows - expected.pwcca)
    assert 1e-9 < spread < 1e-6
    assert result.pwcca == pytest.approx(expected.pwcca, abs=10 * spread)


def test_awkward_input_on_the_device():
    dead = np.hstack([X[:, :6], np.full((N, 2), 3.0)])  # constant neurons
    duplicated = np.hstack([Y[:, :5], Y[:, :1]])
    tiny, huge = 1e-150 * X[:, :6], 1e150 * Y[:, :6]  # rescaled by powers of two
    integers = np.round(10 * X[:, :6]).astype(np.int64)
    for x, y in ((dead, duplicated), (tiny, huge), (integers, Y[:, :6]), (huge, tiny)):
        for measure in (cca.pwcca, cca.mean_cca):
            assert measure(on_device(x), on_device(y)) == pytest.approx(measure(x, y), abs=1e-12)


def test_few_datapoints_warn_as_in_memory():
    x, y = X[:20, :12], Y[:20, :12]
    with pytest.warns(cca.DegenerateCCAWarning, match="20 datapoints for 12 \\+ 12"):
        cca.mean_cca(on_device(x), on_device(y))


def test_float32_arrays_compute_in_float32_within_its_accuracy():
    x32, y32 = X.astype(np.float32), Y.astype(np.float32)
    for measure in (cca.mean_cca, cca.pwcca, MEASURES["svcca_variance"]):
        expected = measure(x32, y32)
        assert measure(on_device(x32), on_device(y32)) == pytest.approx(expected, abs=1e-6)
    assert cca.cca(on_device(x32), on_device(y32)).method == cca.cca(x32, y32).method
    fit = cca.canonical_correlations
    np.testing.assert_allclose(fit(on_device(x32), on_device(y32)), fit(x32, y32), atol=1e-6)


def separated_pair():
    """Six canonical correlations from 0.95 to 0.1, none closer than float32 can tell apart (the
    bottom ones of X, Y are 1e-4 apart: there, in float32, PWCCA's tie rule blends their weights,
    as it should where they cannot be told apart)."""
    c = np.array([0.95, 0.8, 0.6, 0.4, 0.2, 0.1])
    x = rng.normal(size=(N, 6))
    y = c * x + np.sqrt(1 - c**2) * rng.normal(size=(N, 6))
    return x @ rng.normal(size=(6, 6)), y @ rng.normal(size=(6, 6))


@pytest.mark.parametrize("method", ["auto", "gram", "svd"])
def test_a_device_without_float64_computes_in_float32(method):
    x32, y32 = X.astype(np.float32), Y.astype(np.float32)
    for measure in (cca.mean_cca, MEASURES["svcca_variance"]):
        value = measure(on_device(x32, NO_FLOAT64), on_device(y32, NO_FLOAT64), method=method)
        assert value == pytest.approx(measure(X, Y), abs=2e-6)
    x, y = separated_pair()
    value = cca.pwcca(on_device(x.astype(np.float32), NO_FLOAT64),
                      on_device(y.astype(np.float32), NO_FLOAT64), method=method)
    # the float32 Gram path's directions are good to ~1e-7 / gap (as in memory: cca.measures)
    assert value == pytest.approx(cca.pwcca(x, y), abs=1e-5 if method == "gram" else 2e-6)
    result = cca.cca(on_device(x32, NO_FLOAT64), on_device(y32, NO_FLOAT64), method=method)
    # auto: the float32 Gram path distrusts X's smallest directions, so the float32 SVD path
    assert result.method == ("gram-float32" if method == "gram" else "svd")
    # a near-duplicate neuron is below float32's floor: one direction fewer, as in memory
    x = np.hstack([x32[:, :4], x32[:, :1] + np.float32(1e-9)]).astype(np.float32)
    assert len(cca.canonical_correlations(on_device(x, NO_FLOAT64), on_device(y32[:, :6],
               NO_FLOAT64), method=method)) == 4


def errors(call_numpy, call_device):
    with pytest.raises(ValueError) as in_memory:
        call_numpy()
    with pytest.raises(ValueError) as on_the_device:
        call_device()
    return str(in_memory.value), str(on_the_device.value)


@pytest.mark.parametrize("case", [
    "nan", "inf", "three_d", "few_rows", "transposed", "rows_differ", "four_d_no_conv",
    "square_maps", "beyond_float64", "dead_layer", "keep_too_large", "bad_method",
])
def test_bad_device_input_gets_the_in_memory_error(case):
    x, y = X[:100, :5].copy(), Y[:100, :4].copy()
    measure, kwargs = cca.pwcca, {}
    if case == "nan":
        x[3, 2], x[50, 1] = np.nan, np.nan
    elif case == "inf":
        y[7, 0] = -np.inf
    elif case == "three_d":
        x = x.reshape(100, 5, 1)
    elif case == "few_rows":
        x, y = x[:1], y[:1]
    elif case == "transposed":
        x = x.T
    elif case == "rows_differ":
        y = y[:50]
    elif case == "four_d_no_conv":
        x = x.reshape(100, 5, 1, 1)
    elif case == "square_maps":
        x, y, kwargs = rng.normal(size=(100, 6, 3, 3)), rng.normal(size=(100, 6, 3, 3)), {
            "conv": "mean"}
    elif case == "beyond_float64":
        x[0, 0] = 1e305
    elif case == "dead_layer":
        x = np.ones((100, 3))
    elif case == "keep_too_large":
        measure, kwargs = cca.svcca, {"keep": 9}
    elif case == "bad_method":
        kwargs = {"method": "qr"}
    expected, found = errors(lambda: measure(x, y, **kwargs),
                             lambda: measure(on_device(x), on_device(y), **kwargs))
    assert found == expected


def test_errors_only_the_device_has():
    x, y = rng.normal(size=(50, 4, 4, 3)), rng.normal(size=(50, 4, 4, 3))
    with pytest.raises(ValueError, match="conv='dft'.*needs NumPy input"):
        cca.pwcca(on_device(x), on_device(y), conv="dft")
    other = next(d for d in INFO.devices() if "device2" in str(d))
    with pytest.raises(ValueError, match="x is on device .*device1.* and y on .*device2"):
        cca.pwcca(on_device(X), on_device(Y, other))
    with pytest.raises(ValueError, match="must hold real numbers; found dtype"):
        cca.pwcca(xp.asarray(X[:, :3] + 1j, device=DEVICE), on_device(Y))


def test_numpy_input_never_takes_the_device_path(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the device path ran for NumPy input")

    monkeypatch.setattr(_array_api, "fit", refuse)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca.pwcca(X, Y)
        cca.mean_cca(X.tolist()[:200], Y[:200])


# --- the baselines on the device -----------------------------------------------------------------

BASELINES = {
    "linear_cka": cca.linear_cka,
    "linear_cka_debiased": lambda x, y: cca.linear_cka(x, y, debiased=True),
    "linear_cka_distance": cca.linear_cka_distance,
    "cosine": cca.cosine_similarity,
    "cosine_raw": lambda x, y: cca.cosine_similarity(x, y, center=False),
    "cosine_distance": cca.cosine_distance,
    "euclidean": cca.euclidean_distance,
    "euclidean_raw": lambda x, y: cca.euclidean_distance(x, y, center=False),
}
SAME_NEURONS = ("cosine", "cosine_raw", "cosine_distance", "euclidean", "euclidean_raw")


def baseline_pair(name):
    """Two layers the baseline reads: the same neurons (with a constant one) for cosine and
    Euclidean, X and Y for CKA."""
    if name in SAME_NEURONS:
        x = np.hstack([X[:, :8], np.full((N, 1), 2.5)])
        return x, x + 0.4 * rng.normal(size=x.shape)
    return X, Y


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baselines_equal_numpy_on_the_device(name):
    measure = BASELINES[name]
    x, y = baseline_pair(name)
    assert measure(on_device(x), on_device(y)) == pytest.approx(measure(x, y), abs=1e-12)
    for scale in (1e-150, 1e150):  # exact powers of two on the device too
        expected = measure(scale * x, scale * y)
        assert measure(on_device(scale * x), on_device(scale * y)) == pytest.approx(
            expected, rel=1e-12, abs=1e-12 * abs(expected))
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    assert measure(on_device(x32, NO_FLOAT64), on_device(y32, NO_FLOAT64)) == pytest.approx(
        measure(x32, y32), rel=1e-5, abs=1e-6)


def test_baselines_on_conv_layers_and_4d_input():
    maps_x = rng.normal(size=(200, 5, 5, 6))
    maps_y = maps_x**2 + rng.normal(size=maps_x.shape)
    nchw_x, nchw_y = (on_device(m.transpose(0, 3, 1, 2)) for m in (maps_x, maps_y))
    for debiased in (False, True):
        expected = cca.linear_cka(maps_x, maps_y, debiased, conv="mean")
        assert cca.linear_cka(nchw_x, nchw_y, debiased, conv="mean", layout="nchw") == (
            pytest.approx(expected, abs=1e-12))
    assert cca.cosine_similarity(on_device(maps_x), on_device(maps_y)) == pytest.approx(
        cca.cosine_similarity(maps_x, maps_y), abs=1e-12)


@pytest.mark.parametrize("case", ["shapes_differ", "dead_layer", "few_rows", "zero_layer", "nan"])
def test_bad_baseline_input_gets_the_in_memory_error(case):
    x, y = X[:100, :5].copy(), X[:100, :5] + 1.0
    measure = cca.cosine_similarity
    if case == "shapes_differ":
        y = Y[:100, :4]
    elif case == "dead_layer":
        x, measure = np.ones((100, 3)), cca.linear_cka
    elif case == "few_rows":
        x, y = x[:3], y[:3]
        measure = lambda a, b: cca.linear_cka(a, b, debiased=True)  # noqa: E731
    elif case == "zero_layer":
        x = np.ones((100, 5))
    elif case == "nan":
        y[5, 2] = np.nan
    expected, found = errors(lambda: measure(x, y), lambda: measure(on_device(x), on_device(y)))
    assert found == expected
