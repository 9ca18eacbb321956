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
from conftest import reference_correlations
from hypothesis import HealthCheck, assume, given, settings
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
    """The call without the warnings awkward input is expected to give (few datapoints; the
    accumulator's Gram path on duplicated neurons), which these tests do not judge."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        warnings.simplefilter("ignore", cca.GramPathWarning)
        return function(*args, **kwargs)


def assert_close(value, truth, case, what):
    assert np.isfinite(value), f"{what}: {value}"
    assert abs(value - truth) <= TOLERANCE[case.dtype], f"{what}: {value} vs truth {truth}"


@FUZZ
@given(case=cases())
def test_fuzz_measures_on_awkward_input(case):
    x0, y = case.x0, case.y
    # a clean layer whose every neuron is constant (integers rounded to 0) has no similarity to
    # compare with: the measures' ValueError, tested elsewhere
    assume(np.ptp(x0, axis=0).any() and np.ptp(y, axis=0).any())
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


# Round three (issue 22): the families that found silently wrong values. References are a QR-free
# SVD of each centered layer in float64 (conftest.reference_correlations).
@st.composite
def near_dependent(draw):
    """x: a few Gaussian neurons and one that is another plus a small independent part of
    relative size ``gap`` (1e-4..1e-11); y: that small part mixed with noise. Some datapoints
    may be shifted as a group (a batch or class offset up to 1e8 times the spread)."""
    seed = draw(st.integers(0, 2**32 - 1))
    gap = 10.0 ** -draw(st.integers(4, 11))
    rng = np.random.default_rng(seed)
    n, a, b = draw(st.integers(50, 600)), draw(st.integers(1, 5)), draw(st.integers(1, 3))
    base, part = rng.normal(size=(n, a)), rng.normal(size=n)
    x = np.c_[base, base[:, 0] + gap * part]
    y = np.c_[part + draw(st.floats(0, 1)) * rng.normal(size=n), rng.normal(size=(n, b - 1))]
    shift = draw(st.sampled_from([0.0, 1e2, 1e5, 1e8]))
    if shift:
        groups = rng.random(n) < 0.5
        x = x + shift * groups[:, None]
    return x, y, gap, shift


def close_to_reference(values, reference, gap, rounding=2.2e-16):
    """Within what float64 can resolve for a direction of relative size ``gap`` in values
    stored with absolute rounding ``rounding``."""
    tolerance = 1e-6 + 100 * rounding / gap
    return len(values) == len(reference) and np.allclose(values, reference, atol=tolerance)


@FUZZ
@given(case=near_dependent())
def test_fuzz_near_dependent_neurons_against_an_svd_reference(case):
    """The small direction is kept where it stands 1e3 times above the rounding of the values
    (about eps (shift + 4)) and dropped where 1e3 times below. Its singular value is about
    gap sqrt(n), that of the rounding at most about rounding sqrt(n), so the reference keeps
    singular values above sqrt(gap rounding n) in the first case, above 10 rounding sqrt(n) in
    the second (sizes known from the construction, not from the library's floors). Cases in
    between are decided by neither rule and skipped."""
    x, y, gap, shift = case
    rounding = np.finfo(np.float64).eps * (shift + 4)
    assume(gap / rounding >= 1e3 or gap / rounding <= 1e-3)
    size = np.sqrt(gap * rounding) if gap > rounding else 10 * rounding
    reference = reference_correlations(x, y, cut=0, absolute=size * np.sqrt(len(x)))
    values = quietly(cca.canonical_correlations, x, y)
    assert close_to_reference(values, reference, gap, rounding), (values, reference)
    # streaming: the right values, or a GramPathWarning saying they may not be
    accumulator = cca.CCAAccumulator()
    for rows in np.array_split(np.arange(len(x)), 3):
        accumulator.update(x[rows], y[rows])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        streamed = accumulator.canonical_correlations()
    warned = any(issubclass(w.category, cca.GramPathWarning) for w in caught)
    assert warned or close_to_reference(streamed, reference, gap, rounding), (streamed, reference)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), extra=st.integers(1, 3), mixing=st.booleans())
def test_fuzz_pwcca_at_zero_correlations_ignores_row_and_neuron_order(seed, extra, mixing):
    """x spans 1 + extra directions; y one correlated with x (0.8) and one uncorrelated with
    everything, so one canonical correlation is exactly 0 and x has directions to spare."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 300))
    u = rng.normal(size=(n, extra + 3))
    u = np.linalg.qr(u - u.mean(0))[0]
    x = u[:, : 1 + extra]
    if mixing:
        x = x @ rng.normal(size=(1 + extra, 1 + extra))
    y = np.c_[0.8 * u[:, 0] + 0.6 * u[:, -2], u[:, -1]]
    value = quietly(cca.pwcca, x, y)
    for _ in range(3):
        rows, neurons = rng.permutation(n), rng.permutation(1 + extra)
        assert quietly(cca.pwcca, x[rows][:, neurons], y[rows]) == pytest.approx(value, abs=1e-9)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), gap=st.integers(5, 9), swap=st.booleans())
def test_fuzz_mixed_precision_keeps_each_layers_own_floor(seed, gap, swap):
    """A float32 layer beside a float64 one whose small direction (relative size 1e-5..1e-9) is
    far above float64's rounding though below float32's."""
    rng = np.random.default_rng(seed)
    h, e = rng.normal(size=(2, int(rng.integers(100, 1000))))
    coarse = np.c_[e, rng.normal(size=len(e))].astype(np.float32)
    fine = np.c_[h, h + 10.0**-gap * e]
    x, y = (fine, coarse) if swap else (coarse, fine)
    reference = reference_correlations(x.astype(np.float64), y.astype(np.float64))
    values = quietly(cca.canonical_correlations, x, y)
    assert close_to_reference(values, reference, 10.0**-gap), (values, reference)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), exponent=st.integers(-1074, -1026))
def test_fuzz_subnormal_layers_are_refused_or_exact(seed, exponent):
    rng = np.random.default_rng(seed)
    k, other = rng.integers(1, 9, size=(20, 3)).astype(float), rng.normal(size=(20, 2))
    tiny = k * 2.0**exponent  # exact: small integers times a power of two
    for measure in (cca.mean_cca, cca.pwcca, cca.svcca):
        try:  # right, or refused (where the rescaling factor would overflow)
            value = quietly(measure, tiny, other)
        except ValueError as error:
            assert "subnormal" in str(error)
        else:
            assert value == pytest.approx(quietly(measure, k, other), abs=1e-9)
    if np.ptp(k, axis=0).all():
        assert cca.linear_cka(tiny, other) == pytest.approx(cca.linear_cka(k, other), rel=1e-9)
        assert cca.cosine_similarity(tiny, tiny[::-1]) == pytest.approx(
            cca.cosine_similarity(k, k[::-1]), abs=1e-9)
