"""Fuzz of every measure on awkward input (issue 15): no NaN, values in range, the promised
invariances, streaming equal to in-memory, and ``method="auto"`` never worse than ``"gram"``.

Each case draws two clean layers sharing a latent signal (x0, y), then makes x awkward in the
ways users' activations are: neurons scaled from 1e-150 to 1e150 (float64; +-1e30 in float32),
offsets up to 1e6 times a neuron's spread (1e2 in float32, whose 7 digits leave room for no more),
duplicated neurons, linearly dependent neurons with an offset, constant (dead) neurons, tiny n,
and dtypes float64, float32 and int64. The truth is what the measure gives on the clean x0, where
the measure promises invariance:

- mean CCA: any invertible linear map of x and dead, duplicated or dependent neurons
  (paper, Section 2.1: the correlations depend only on the column space);
- every measure (mean CCA, SVCCA, PWCCA, linear CKA): adding a constant to a neuron, scaling the
  whole layer, dead neurons;
- cosine similarity: offsets and layer scale (centered per neuron).

PWCCA's weights sum over neurons, so it is *not* invariant to duplicated neurons or per-neuron
scales (documented in :func:`cca.pwcca`); SVCCA's principal directions depend on neuron scales.
Debiased CKA is an unbiased estimator and may leave [0, 1]; it must be finite or refuse.

Set ``CCA_FUZZ_EXAMPLES`` (default 120) for a longer run, e.g. ``CCA_FUZZ_EXAMPLES=10000``.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cca

EXAMPLES = int(os.environ.get("CCA_FUZZ_EXAMPLES", "120"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="CCA_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)

# How far a result may be from the truth on the clean layers: the rounding the dtype puts into the
# data, amplified by the conditioning of small random layers.
TOLERANCE = {"float64": 1e-6, "int64": 1e-6, "float32": 2e-3}
SCALE_EXPONENTS = {"float64": 150, "int64": 0, "float32": 30}
OFFSET_EXPONENTS = {"float64": 6, "int64": 3, "float32": 2}


@dataclass
class Case:
    """Clean layers x0, y and awkward versions of x (as float64 before the cast to ``dtype``)."""

    dtype: str
    x0: np.ndarray
    y: np.ndarray
    isotropic: np.ndarray  # layer scale, offsets, dead neurons: every measure invariant
    linear: np.ndarray  # + per-neuron scales, duplicated and dependent neurons: mean CCA invariant

    def cast(self, array):
        return array.astype(self.dtype)


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from(["float64", "float32", "int64"]))
    seed = draw(st.integers(0, 2**32 - 1))
    a, b = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    n = draw(st.sampled_from([draw(st.integers(3, 12)), draw(st.integers(20, 400))]))
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, max(a, b)))
    x0 = latent[:, :a] @ rng.normal(size=(a, a)) + draw(st.floats(0, 2)) * rng.normal(size=(n, a))
    y = latent[:, :b] @ rng.normal(size=(b, b)) + draw(st.floats(0, 2)) * rng.normal(size=(n, b))
    if dtype == "int64":  # integer activations: the clean layers are integers too
        x0, y = np.round(100 * x0), np.round(100 * y)
    spread = x0.std(axis=0) + (x0.std(axis=0) == 0)
    offsets = spread * rng.choice([-1, 1], a) * 10.0 ** rng.uniform(-1, OFFSET_EXPONENTS[dtype], a)
    if dtype == "int64":
        offsets = np.round(offsets)
    layer_scale = 10.0 ** rng.uniform(-SCALE_EXPONENTS[dtype], SCALE_EXPONENTS[dtype])
    if dtype == "int64":
        layer_scale = float(rng.integers(1, 1000))
    dead = np.full((n, draw(st.integers(0, 2))), 7.25)
    isotropic = np.hstack([layer_scale * (x0 + offsets), dead * layer_scale])
    neuron_scales = 10.0 ** rng.uniform(-SCALE_EXPONENTS[dtype], SCALE_EXPONENTS[dtype], a)
    if dtype == "int64":
        neuron_scales = rng.integers(1, 1000, a).astype(float)
    scaled = x0 * neuron_scales + offsets * neuron_scales
    extra = []
    for _ in range(draw(st.integers(0, 2))):
        j = rng.integers(a)
        extra.append(scaled[:, j])  # duplicated
    for _ in range(draw(st.integers(0, 2))):
        j = rng.integers(a)
        offset = 10.0 ** rng.uniform(-1, OFFSET_EXPONENTS[dtype]) * x0[:, j].std()
        extra.append(neuron_scales[j] * (3 * x0[:, j] + np.round(offset)))  # dependent + offset
    linear = np.column_stack([scaled, *extra, dead])
    return Case(dtype, x0, y, isotropic, linear)


def quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        return function(*args, **kwargs)


def assert_close(value, truth, case, what):
    assert np.isfinite(value), f"{what}: {value}"
    assert abs(value - truth) <= TOLERANCE[case.dtype], f"{what}: {value} vs truth {truth}"


@FUZZ
@given(case=cases())
def test_fuzz_measures_on_awkward_input(case):
    x0, y = case.x0, case.y
    iso, lin, y_cast = case.cast(case.isotropic), case.cast(case.linear), case.cast(y)
    truth_mean = quietly(cca.mean_cca, x0, y)

    # mean CCA: every awkward version, both argument orders, every method
    for method in ("auto", "svd"):
        assert_close(quietly(cca.mean_cca, lin, y_cast, method=method), truth_mean, case, method)
        assert_close(quietly(cca.mean_cca, y_cast, lin, method=method), truth_mean, case, "y, x")
    auto = quietly(cca.mean_cca, lin, y_cast)
    gram = quietly(cca.mean_cca, lin, y_cast, method="gram")
    assert abs(auto - truth_mean) <= abs(gram - truth_mean) + TOLERANCE[case.dtype] / 10

    # every measure: offsets, layer scale and dead neurons change nothing; values in range
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca, cca.linear_cka):
        value = quietly(measure, iso, y_cast)
        assert 0 <= value <= 1, f"{measure.__name__} = {value}"
        assert_close(value, quietly(measure, x0, y), case, measure.__name__)
    for measure in (cca.pwcca, cca.svcca):  # and from the other side
        assert_close(quietly(measure, y_cast, iso), quietly(measure, y, x0), case, "y first")
    for measure in (cca.pwcca, cca.svcca):  # not invariant here, but in range and finite
        assert 0 <= quietly(measure, lin, y_cast) <= 1

    # streaming equals in-memory
    accumulator = cca.CCAAccumulator()
    for rows in np.array_split(np.arange(len(x0)), 3):
        if len(rows):
            accumulator.update(lin[rows], y_cast[rows])
    assert_close(quietly(accumulator.mean_cca), truth_mean, case, "streaming mean CCA")
    accumulator = cca.CCAAccumulator()
    for rows in np.array_split(np.arange(len(x0)), 2):
        accumulator.update(iso[rows], y_cast[rows])
    assert_close(quietly(accumulator.pwcca), quietly(cca.pwcca, x0, y), case, "streaming PWCCA")

    # debiased CKA: finite, or a clear refusal (n < 4, or a 0/0 estimate)
    try:
        assert np.isfinite(cca.linear_cka(iso, y_cast, debiased=True))
    except ValueError as error:
        assert "debiased CKA" in str(error)

    # cosine and Euclidean distance compare the same neurons: a layer with itself, transformed
    same = case.cast(case.isotropic[:, : x0.shape[1]])
    assert cca.cosine_similarity(same, case.cast(x0 + 1)) == pytest.approx(
        1.0, abs=TOLERANCE[case.dtype]
    ) or np.ptp(x0, axis=0).min() == 0
    assert cca.euclidean_distance(same, same) == 0.0
