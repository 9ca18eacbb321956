"""Is a similarity above chance? Permutation nulls and bootstrap intervals for the measures of cca.

Chance level. Pairing row i of x with row pi(i) of y, for a random permutation pi, breaks every
relation between the layers and keeps everything else: each layer's neurons, their covariance, the
number of datapoints n and the widths a, b. The measure over many such permutations is its *null
distribution*, the value unrelated layers of this size and shape get. For the CCA measures it is far
from 0 unless n is many times a + b (for Gaussian noise with a = b = 50: mean CCA about 0.09 at
n = 5000, 0.27 at n = 500, 0.6 at n = 110), and at n <= a + b at least a + b - n + 1 canonical
correlations equal 1 whatever the data (Morcos et al. 2018, Section 2; see
:class:`cca.DegenerateCCAWarning`).

The statistics of the permuted layers, one product and a small SVD per permutation where the
measure allows it, are in :mod:`cca._nulls`; which measures have one is in :mod:`cca.registry`.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from cca import _nulls, registry
from cca._validation import (
    DegenerateCCAWarning,
    as_activations,
    averaged_resolution,
    channels_last,
    check_confidence,
    check_layout,
    data_resolution,
    random_generator,
    reduce_space,
)

# The permutation null of a similarity (in [0, 1], or its distance 1 - similarity) at or above this
# value raises :class:`ChanceLevelWarning`: unrelated layers already get a quarter of the scale.
CHANCE_LEVEL_WARNING = 0.25

# Two values of a measure closer than this (relative) count as equal: the null, computed by the
# fast path, and the observed value, by the measure itself, agree to about 1e-12.
TIED_VALUES = 1e-9


class ChanceLevelWarning(UserWarning):
    """Unrelated layers of this size already look similar: the permutation null's mean is high.

    The chance level of the CCA measures rises steeply as the number of datapoints n approaches the
    number of neurons a + b (and is 1 when n <= max(a, b) + 1). Read ``above_chance`` of the result,
    which discounts it, and use many more datapoints than neurons where you can.
    """


@dataclass(frozen=True)
class PermutationResult:
    """A measure on two layers against its permutation null, from :func:`permutation_test`.

    Attributes
    ----------
    statistic : float
        The measure on the layers as given (what the measure itself returns).
    pvalue : float
        One-sided, in the direction "more similar than chance": (1 + k) / (1 + B) where k of the B
        permutations are at least as similar as observed (Phipson & Smyth 2010), so never 0; at
        least 1 / (1 + B).
    null_mean, null_std : float
        The chance level of the measure at this n and these widths, and its spread (ddof=1).
    above_chance : float
        (statistic - null_mean) / (best - null_mean), best = 1 for similarities and 0 for
        distances: the share of the way from chance to identical layers. 0 at chance, 1 for
        identical layers, negative below chance; NaN when chance is already the best value (e.g.
        CCA with n <= max(a, b) + 1: every correlation is 1 whatever the data).
    measure : str
        Name of the measure, e.g. "pwcca".
    null_distribution : ndarray, shape (B,)
        The measure on the layers with the rows of y permuted, one value per permutation.
    """

    statistic: float
    pvalue: float
    null_mean: float
    null_std: float
    above_chance: float
    measure: str
    null_distribution: np.ndarray = field(repr=False)


class ConfidenceInterval(NamedTuple):
    """Lower and upper ends of a confidence interval."""

    low: float
    high: float


@dataclass(frozen=True)
class BootstrapResult:
    """A measure on two layers with a bootstrap interval over datapoints, from
    :func:`bootstrap_interval`.

    Attributes
    ----------
    statistic : float
        The measure on the layers as given.
    confidence_interval : ConfidenceInterval
        (low, high), by ``method``.
    standard_error : float
        Standard deviation of the bootstrap distribution (ddof=1).
    bias : float
        Mean of the bootstrap distribution minus the statistic. For the CCA measures it is
        positive and often larger than the standard error: a resample repeats datapoints, and
        fewer distinct datapoints raise the measure (see :func:`bootstrap_interval`).
    confidence_level : float
        Coverage the interval was asked for, e.g. 0.95.
    method : str
        "centered" or "percentile".
    measure : str
        Name of the measure.
    bootstrap_distribution : ndarray, shape (B,)
        The measure on each resample.
    """

    statistic: float
    confidence_interval: ConfidenceInterval
    standard_error: float
    bias: float
    confidence_level: float
    method: str
    measure: str
    bootstrap_distribution: np.ndarray = field(repr=False)


def _check_count(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"{name} must be a positive int (how many to draw, e.g. 1000); found {value!r}."
        )


def _layers(name, entry, x, y, conv, layout) -> tuple[np.ndarray, np.ndarray]:
    """x and y as arrays (refusing dask arrays before a full pass), 4-D ones channels last where
    ``conv`` reads space (:func:`cca._validation.channels_last`); the measure checks the rest."""
    if entry.family == "same neurons" and (conv is not None or layout is not None):
        raise ValueError(
            f"{name} compares the same neurons and flattens 4-D input per datapoint itself; "
            "call it without conv or layout."
        )
    check_layout(layout)
    arrays = as_activations(x, "x"), as_activations(y, "y")
    if conv is None:
        return arrays
    return channels_last(arrays[0], "x", layout, x), channels_last(arrays[1], "y", layout, y)


def _evaluate(entry, x, y, conv, options) -> float:
    """The measure itself on x, y (4-D ones channels last, from :func:`_layers`): it validates
    them and the options as it always does."""
    if conv is not None:
        options = {**options, "conv": conv, "layout": "nhwc"}
    return entry.function(x, y, **options)


def _options(entry, options) -> dict:
    """The measure's options with its own defaults filled in (x, y, conv and layout aside)."""
    bound = inspect.signature(entry.function).bind(None, None, **options)
    bound.apply_defaults()
    passed = ("x", "y", "conv", "layout")
    return {key: value for key, value in bound.arguments.items() if key not in passed}


def _null_statistic(entry, x, y, conv, measure_options):
    """The statistic of the permuted layers (orders -> values, see the module docstring), the
    number of datapoints, and how many rows one datapoint makes (h * w with conv="positions").
    4-D x and y are channels last (:func:`_layers`)."""
    options = _options(entry, measure_options)
    if conv == "dft":  # no fast path: the measure itself on each permuted layer
        x, y = np.asarray(x), np.asarray(y)
        statistic = _nulls.each(
            lambda rows: entry.function(x, y[rows], conv="dft", layout="nhwc", **options)
        )
        return statistic, len(x), 1
    resolutions = (data_resolution(x), data_resolution(y))
    x, y = as_activations(x, "x"), as_activations(y, "y")
    if entry.family == "cca":
        options["resolution"] = tuple(
            averaged_resolution(r, layer, conv)
            for r, layer in zip(resolutions, (x, y), strict=True)
        )
    rows_per_datapoint = math.prod(x.shape[1:3]) if conv == "positions" and x.ndim == 4 else 1
    n = len(x)
    if entry.family == "same neurons":  # flattened per datapoint, as the measures do
        x, y = x.reshape(n, -1), y.reshape(n, -1)
    else:
        x, y = reduce_space(x, conv), reduce_space(y, conv)
    x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    return entry.null(x, y, **options), n, rows_per_datapoint


def _rows_of(order: np.ndarray, rows_per_datapoint: int) -> np.ndarray:
    """Row indices that put datapoints in ``order`` (all rows of a datapoint stay together)."""
    if rows_per_datapoint == 1:
        return order
    return (order[:, None] * rows_per_datapoint + np.arange(rows_per_datapoint)).ravel()


def permutation_test(
    x: object,
    y: object,
    measure: str | Callable[..., float] = "pwcca",
    *,
    n_permutations: int = 1000,
    seed: int | np.random.Generator | None = None,
    conv: str | None = None,
    layout: str | None = None,
    **measure_options,
) -> PermutationResult:
    """Is the similarity of two layers above chance? Permutation null of a measure of cca.

    The rows of y are permuted ``n_permutations`` times (whole datapoints, all positions of an image
    together with ``conv="positions"``), breaking the pairing of inputs while keeping each layer's
    neurons, the number of datapoints and the widths. The measure on the permuted layers is its
    chance level here: for the CCA measures it rises steeply as n approaches the number of neurons
    a + b, so compare against it rather than against 0. Null hypothesis: the pairing of rows is
    arbitrary (the layers are independent and the datapoints exchangeable).

    Measures: ``"mean_cca"`` and ``"svcca"`` (Morcos et al. 2018, Section 2.1; SVCCA: Raghu et al.
    2017), ``"pwcca"`` (Section 2.2; weights from x, which is never permuted), ``"linear_cka"``
    (Kornblith et al. 2019; ``debiased=True`` too), ``"cosine_similarity"`` and
    ``"euclidean_distance"`` (the paper's Appendix A5, A6, A8; same neurons in x and y), and the
    distance forms ``"*_distance"``. A distance is "more similar" when smaller.

    The null is computed by a fast path (see :mod:`cca.significance`) that equals the measure on the
    permuted data (to ~1e-12 in float64; float32 input is computed in float64). It draws
    ``rng.permutation(n)`` in turn from ``rng = np.random.default_rng(seed)``, and puts
    ``y[permutation]`` beside x. ``conv="dft"`` calls the measure on each permuted layer (no fast
    path).

    Small n. Every result carries ``null_mean`` and ``above_chance`` = (statistic - null_mean) /
    (best - null_mean), the share of the way from chance to identical layers. When the chance level
    of a similarity (or 1 - distance) reaches :data:`CHANCE_LEVEL_WARNING` (0.25) a
    :class:`ChanceLevelWarning` says so; the measure's own :class:`DegenerateCCAWarning` still
    comes when n <= a + b. A small p-value says the layers are related, not that they are as similar
    as the raw value suggests: read ``above_chance`` for that.

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or 4-D (n, h, w, c) with ``conv``
        Activations; row i of both is the response to the same input.
    measure : str or callable
        A measure's name (above) or the public function itself, e.g. ``cca.pwcca``.
    n_permutations : int
        Number of random permutations B; the p-value is at least 1 / (B + 1).
    seed : int, numpy Generator or None
        Seed of the permutations; a fixed seed gives the same result every time.
    conv : {"mean", "positions", "dft"}, optional
        For 4-D input, as in :func:`cca.cca` ("dft" only where the measure has it).
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D input, as in :func:`cca.cca` ("nchw" for PyTorch's channels first); not for
        cosine and Euclidean distance, which flatten 4-D input.
    **measure_options
        Passed to the measure: ``method``, ``keep``, ``rule``, ``debiased``, ``center``.

    Returns
    -------
    PermutationResult
        statistic, pvalue, null_mean, null_std, above_chance, measure, null_distribution.

    Raises
    ------
    ValueError
        For an unknown measure, ``n_permutations`` < 1, and whatever the measure rejects.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 10))
    >>> y = x[:, :3] @ rng.normal(size=(3, 10)) + rng.normal(size=(500, 10))
    >>> result = cca.permutation_test(x, y, "mean_cca", n_permutations=99, seed=0)
    >>> float(result.pvalue)  # no permutation comes close: 1 / (99 + 1)
    0.01
    >>> bool(0.1 < result.null_mean < result.statistic)  # chance is not 0
    True
    """
    entry = registry.measure(measure)
    name = entry.name
    _check_count(n_permutations, "n_permutations")
    x, y = _layers(name, entry, x, y, conv, layout)
    observed = _evaluate(entry, x, y, conv, measure_options)
    statistic, n, rows_per_datapoint = _null_statistic(entry, x, y, conv, measure_options)
    rng = random_generator(seed)
    orders = (_rows_of(rng.permutation(n), rows_per_datapoint) for _ in range(n_permutations))
    null = statistic(orders)
    tie = TIED_VALUES * max(1.0, abs(observed))
    at_least_as_similar = null <= observed + tie if entry.distance else null >= observed - tie
    null_mean = float(null.mean())
    best = 0.0 if entry.distance else 1.0
    if name != "euclidean_distance":  # the others: 1 for identical layers, ~0 when unrelated
        chance = 1.0 - null_mean if entry.distance else null_mean
        _warn_if_chance_is_high(name, chance, n)
    return PermutationResult(
        statistic=float(observed),
        pvalue=float((1 + at_least_as_similar.sum()) / (1 + n_permutations)),
        null_mean=null_mean,
        null_std=float(null.std(ddof=1)) if n_permutations > 1 else 0.0,
        above_chance=float((observed - null_mean) / (best - null_mean))
        if abs(best - null_mean) > TIED_VALUES
        else np.nan,
        measure=name,
        null_distribution=null,
    )


def _warn_if_chance_is_high(name: str, chance_similarity: float, n: int) -> None:
    if chance_similarity >= CHANCE_LEVEL_WARNING:
        warnings.warn(
            f"the chance level of {name} is high: with the rows of y permuted (unrelated layers) "
            f"it already reaches a similarity of {chance_similarity:.2f} on these {n} datapoints. "
            "Read the result's above_chance, which discounts it, and use many more datapoints "
            "than neurons where you can.",
            ChanceLevelWarning,
            stacklevel=3,
        )


def bootstrap_interval(
    x: object,
    y: object,
    measure: str | Callable[..., float] = "pwcca",
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    method: str = "centered",
    seed: int | np.random.Generator | None = None,
    conv: str | None = None,
    layout: str | None = None,
    **measure_options,
) -> BootstrapResult:
    """Bootstrap confidence interval over datapoints for a measure of cca on two layers.

    Each resample draws n datapoints with replacement (the same ones for x and y, whole images with
    4-D input) and computes the measure on them (Efron & Tibshirani 1993). The interval says how
    much the similarity depends on which inputs were shown, not whether it is above chance (see
    :func:`permutation_test`). The draws are ``rng.integers(0, n, size=n)`` in turn from
    ``rng = np.random.default_rng(seed)``. Measures and their papers as in
    :func:`permutation_test`.

    Why "centered" by default. A resample holds only about 63% distinct datapoints (1 - 1/e), and
    the CCA measures rise as the distinct datapoints fall towards the number of neurons a + b (their
    chance level, :func:`permutation_test`). So the bootstrap distribution of a CCA measure sits
    above the statistic, often by more than its spread. For 20 + 20 neurons sharing 5 dimensions
    at n = 2000, PWCCA is 0.231 +- 0.006 over fresh samples and its bootstrap distribution sits
    0.03 above the statistic: over 30 such samples the 95% percentile interval never covered
    0.231, the centered one 29 times. The bootstrap's spread matches the spread over fresh
    samples. Hence:

    * ``"centered"`` (default): the bootstrap deviations from their own mean m, reflected about the
      statistic, [statistic - (q_high - m), statistic + (m - q_low)], q the bootstrap quantiles.
      It covers the measure's expected value over samples of n datapoints (what another sample
      of the same size would give), not its value at infinite n, which is lower for CCA measures.
      It equals the basic bootstrap interval when the bootstrap is unbiased.
    * ``"percentile"``: [q_low, q_high], the textbook percentile interval; fine for measures the
      repeats barely move (linear CKA, cosine and Euclidean distance at moderate n).

    ``bias`` reports the shift. When some resample holds no more distinct datapoints than
    a + b, a :class:`DegenerateCCAWarning` says so (once; the measure's own warning is silenced
    inside the resamples). A resample in which every neuron of a layer is constant raises the
    measure's ValueError.

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or 4-D (n, h, w, c) with ``conv``
        Activations; row i of both is the response to the same input.
    measure : str or callable
        A measure's name or the public function itself, as in :func:`permutation_test`.
    n_resamples : int
        Number of bootstrap resamples B.
    confidence : float
        Confidence level of the interval, in (0, 1).
    method : {"centered", "percentile"}
        How the interval is read off the bootstrap distribution (above).
    seed : int, numpy Generator or None
        Seed of the resamples; a fixed seed gives the same result every time.
    conv : {"mean", "positions", "dft"}, optional
        For 4-D input, as in :func:`cca.cca`.
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D input, as in :func:`permutation_test`.
    **measure_options
        Passed to the measure.

    Returns
    -------
    BootstrapResult
        statistic, confidence_interval (low, high), standard_error, bias, confidence_level,
        method, measure, bootstrap_distribution.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 4))
    >>> y = x @ rng.normal(size=(4, 4)) + rng.normal(size=(1000, 4))
    >>> result = cca.bootstrap_interval(x, y, "linear_cka", n_resamples=200, seed=0)
    >>> low, high = result.confidence_interval
    >>> bool(low < result.statistic < high), bool(high - low < 0.1)
    (True, True)
    """
    entry = registry.measure(measure)
    name = entry.name
    _check_count(n_resamples, "n_resamples")
    check_confidence(confidence)
    if method not in ("centered", "percentile"):
        raise ValueError(f"method must be 'centered' or 'percentile'; found {method!r}.")
    x, y = _layers(name, entry, x, y, conv, layout)
    observed = _evaluate(entry, x, y, conv, measure_options)
    if conv == "mean":  # average over space once, not once per resample
        x, y, conv = reduce_space(x, conv), reduce_space(y, conv), None
    rng = random_generator(seed)
    n = len(x)
    fewest_distinct = n
    values = np.empty(n_resamples)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateCCAWarning)
        for k in range(n_resamples):
            resample = rng.integers(0, n, size=n)
            fewest_distinct = min(fewest_distinct, len(np.unique(resample)))
            values[k] = _evaluate(entry, x[resample], y[resample], conv, measure_options)
    if entry.family == "cca":
        _warn_if_resamples_degenerate(fewest_distinct, n, x, y, conv)
    tail = (1 - confidence) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    center = values.mean()
    if method == "centered":
        low, high = observed - (high - center), observed + (center - low)
    return BootstrapResult(
        statistic=float(observed),
        confidence_interval=ConfidenceInterval(float(low), float(high)),
        standard_error=float(values.std(ddof=1)) if n_resamples > 1 else 0.0,
        bias=float(center - observed),
        confidence_level=float(confidence),
        method=method,
        measure=name,
        bootstrap_distribution=values,
    )


def _warn_if_resamples_degenerate(fewest_distinct, n, x, y, conv) -> None:
    """DegenerateCCAWarning when some resample's distinct rows do not exceed the neurons a + b."""
    rows_per_datapoint = math.prod(x.shape[1:3]) if conv == "positions" else 1
    neurons = x.shape[-1] + y.shape[-1]
    if fewest_distinct * rows_per_datapoint <= neurons:
        warnings.warn(
            f"some bootstrap resamples hold only {fewest_distinct} distinct datapoints of {n} "
            f"(a resample repeats some and misses about 37%) for {x.shape[-1]} + {y.shape[-1]} "
            "neurons: CCA degenerates in them and the interval is inflated. Use many more "
            "datapoints than neurons.",
            DegenerateCCAWarning,
            stacklevel=3,
        )
