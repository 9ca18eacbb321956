"""Bad input: a ValueError naming the argument; too few datapoints: DegenerateCCAWarning."""

import warnings

import numpy as np
import pytest

import cca

MEASURES = [cca.canonical_correlations, cca.mean_cca, cca.svcca, cca.pwcca, cca.cca, cca.linear_cka]
rng = np.random.default_rng(0)
X, Y = rng.normal(size=(50, 3)), rng.normal(size=(50, 2))


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_values(measure, bad_value):
    y = Y.copy()
    y[3, 1] = bad_value
    with pytest.raises(ValueError, match=r"^y contains 1 non-finite"):
        measure(X, y)


@pytest.mark.parametrize("measure", MEASURES)
def test_mismatched_datapoints(measure):
    with pytest.raises(ValueError, match="same number of datapoints.*50 rows in x and 49"):
        measure(X, Y[:49])


@pytest.mark.parametrize("measure", MEASURES)
def test_fewer_than_two_datapoints(measure):
    with pytest.raises(ValueError, match="x must have at least 2 datapoints"):
        measure(X[:1], Y[:1])


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("shape", [(50,), (50, 2, 3), (50, 1, 1, 1, 2)])
def test_wrong_number_of_dimensions(measure, shape):
    with pytest.raises(ValueError, match=f"x must be 2-D .* found {len(shape)}-D"):
        measure(np.ones(shape), Y)


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize(
    "bad", [np.array([["a", "b"]] * 50), [[1, "b"]] * 50, np.ones((50, 2), dtype=complex)]
)
def test_non_numeric(measure, bad):
    with pytest.raises(ValueError, match="^x must hold"):
        measure(bad, Y)


def test_all_neurons_dead_is_an_error_not_nan():
    with pytest.raises(ValueError, match="every neuron of y is constant"):
        cca.mean_cca(X, np.full((50, 2), 3.0))


def test_invalid_options():
    with pytest.raises(ValueError, match="method must be one of"):
        cca.mean_cca(X, Y, method="qr")
    with pytest.raises(ValueError, match="conv must be None or one of"):
        cca.mean_cca(X, Y, conv="max")
    for keep in (0, 1.5, -0.5, True, "all"):
        with pytest.raises(ValueError, match="keep"):
            cca.svcca(X, Y, keep=keep)
    with pytest.raises(ValueError, match="rule must be"):
        cca.svcca(X, Y, rule="energy")


def test_accepts_lists_and_array_like_objects():
    class Tensor:  # what TensorFlow and PyTorch CPU tensors offer
        def __init__(self, array):
            self.array = array

        def __array__(self, dtype=None, copy=None):
            return self.array

    expected = cca.mean_cca(X, Y)
    assert cca.mean_cca(X.tolist(), Y.tolist()) == pytest.approx(expected)
    assert cca.mean_cca(Tensor(X), Tensor(Y)) == pytest.approx(expected)
    assert cca.mean_cca((X * 10).astype(int), Y) == pytest.approx(
        cca.mean_cca(np.trunc(X * 10), Y)
    )


def test_unconvertible_object_names_the_argument():
    class GpuTensor:
        def __array__(self, dtype=None, copy=None):
            raise TypeError("can't convert cuda tensor to numpy")

    with pytest.raises(ValueError, match=r"^y could not be converted.*\.cpu\(\)"):
        cca.pwcca(X, GpuTensor())


@pytest.mark.parametrize("measure", MEASURES[:4])
def test_fewer_datapoints_than_neurons_warns_and_stays_finite(measure):
    x, y = rng.normal(size=(8, 10)), rng.normal(size=(8, 6))
    with pytest.warns(cca.DegenerateCCAWarning, match="8 datapoints for 10 \\+ 6 neurons"):
        value = measure(x, y)
    assert np.all(np.isfinite(value))
    assert np.all(np.asarray(value) <= 1)


def test_no_warning_with_enough_datapoints():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca.pwcca(X, Y)
