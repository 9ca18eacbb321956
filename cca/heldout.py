"""Held-out CCA: canonical directions fitted on some datapoints, correlations measured on others.

The plain CCA measures fit the canonical directions and measure their correlations on the same
datapoints, so noise that happens to line up between the layers counts as similarity: unrelated
layers score well above 0 (their chance level, :func:`cca.permutation_test`) and related ones
above their population value, by an amount that shrinks only as the number of datapoints n grows.
The held-out form separates fitting from measuring, as cross-validation does for a regression's
R^2. The datapoints are split at random into k folds. For each fold, CCA is fitted on the other
k - 1 folds (:func:`cca.cca`), both layers' held-out datapoints are projected onto the fitted
directions (centered by the training means), and each pair of projected variates is correlated
on the held-out datapoints (Pearson, signed). Every fold serves once as the held-out set, and the
fold values are averaged, weighted by fold size.

* Held-out mean CCA: the mean of the held-out correlations of all c fitted pairs (Morcos et al.
  2018, Section 2.1, with the correlations measured on held-out data).
* Held-out PWCCA: sum_i alpha_i r_i, with alpha the projection weights of the training fit
  (Section 2.2, :attr:`cca.CCAResult.x_weights`): alpha_i is proportional to the summed
  |<h_i, z_j>| over x's centered training neurons z_j and orthonormal training variates h_i.

Choices, and why:

* The held-out correlations keep their sign. A direction fitted to noise correlates on fresh
  datapoints as often negatively as positively, so unrelated layers average about 0, and a
  negative value is exactly the evidence that the fit did not generalize. Clipping at 0 would
  restore a positive chance level. So the value lies in [-1, 1].
* The weights come from the training fit. There the variates are orthonormal, as the paper's
  definition assumes, and the weights never see the held-out rows, so chance pairings there
  cannot move them.
* Both forms estimate the same population value: as n grows the training weights converge to
  the plain measure's population weights and the held-out correlations to the population
  canonical correlations (``benchmarks/bench_heldout_coverage.py`` checks this at n = 10^6).
  Their finite-n errors differ. The plain form is pulled up by chance alignment, most in the
  directions the layers do not share; the held-out form is pulled down, since directions fitted
  on part of the datapoints correlate a little less on new ones. Where the layers share few of
  their directions the first dominates (5 + 5 neurons sharing 2, n = 300: PWCCA bias +0.046
  plain, -0.017 held-out); where every direction is strongly shared and n is only a few times
  a + b, the second can (4 + 4 neurons all shared, n = 40: +0.031 plain, -0.053 held-out). The
  price is variance: each correlation is measured on n / k datapoints (standard deviation over
  samples 0.032 against 0.022 for PWCCA above).
* The split is over positions of the rows, drawn from ``seed`` (default 0, so a call is
  repeatable). Reordering the rows therefore changes the split, and the value moves within its
  split noise; ``repeats`` > 1 averages several splits and shrinks it.

The interval is a bootstrap over datapoints of the whole procedure (:func:`heldout_similarity`).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cca import measures, registry
from cca._validation import (
    DegenerateCCAWarning,
    check_confidence,
    check_method,
    layer_pair,
    random_generator,
    reduce_space,
)
from cca.significance import ConfidenceInterval

# Each held-out fold needs this many datapoints for its correlations to mean anything.
MIN_HELDOUT_DATAPOINTS = 3

# The measures of cca.registry whose directions can be fitted on some datapoints and read on others.
HELDOUT_MEASURES = ("mean_cca", "pwcca")


@dataclass(frozen=True)
class HeldoutResult:
    """A held-out CCA similarity with its bootstrap interval, from :func:`heldout_similarity`.

    Attributes
    ----------
    statistic : float
        The held-out similarity, in [-1, 1]: about 0 for unrelated layers, 1 for layers related by
        an invertible linear map.
    confidence_interval : ConfidenceInterval
        (low, high), the centered bootstrap interval (NaN with ``n_resamples=0``).
    standard_error : float
        Standard deviation of the bootstrap distribution (ddof=1; NaN with fewer than 2 resamples).
    bias : float
        Mean of the bootstrap distribution minus the statistic. Negative for held-out CCA: a
        resample holds about 63% distinct datapoints, and directions fitted on fewer distinct
        datapoints generalize less.
    confidence_level : float
        Coverage the interval was asked for, e.g. 0.95.
    measure : str
        "mean_cca" or "pwcca".
    folds, repeats : int
        Number of folds k and of random splits averaged.
    n : int
        Number of datapoints.
    fold_values : ndarray, shape (repeats, folds)
        The measure on each held-out fold of each split.
    bootstrap_distribution : ndarray, shape (n_resamples,)
        The held-out similarity of each resample.
    """

    statistic: float
    confidence_interval: ConfidenceInterval
    standard_error: float
    bias: float
    confidence_level: float
    measure: str
    folds: int
    repeats: int
    n: int
    fold_values: np.ndarray = field(repr=False)
    bootstrap_distribution: np.ndarray = field(repr=False)


def heldout_correlations(x_variates: np.ndarray, y_variates: np.ndarray) -> np.ndarray:
    """Pearson correlation of each pair of columns (x_i, y_i), signed; 0 where one is constant.

    Examples
    --------
    >>> import numpy as np
    >>> u = np.array([[1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    >>> heldout_correlations(u, -u)
    array([-1., -1.])
    """
    x_centered = x_variates - x_variates.mean(axis=0)
    y_centered = y_variates - y_variates.mean(axis=0)
    scale = np.linalg.norm(x_centered, axis=0) * np.linalg.norm(y_centered, axis=0)
    varies = (np.ptp(x_variates, axis=0) > 0) & (np.ptp(y_variates, axis=0) > 0) & (scale > 0)
    inner = np.einsum("ij,ij->j", x_centered, y_centered)
    return np.where(varies, inner / np.where(varies, scale, 1.0), 0.0)


def _fold_value(x, y, train, test, measure, conv, method) -> float:
    """The measure on the rows ``test`` with CCA fitted on the rows ``train``."""
    try:
        fit = measures.cca(x[train], y[train], conv=conv, layout="nhwc", method=method)
    except ValueError as error:
        raise ValueError(
            f"CCA on the training datapoints of a fold ({len(np.unique(train))} distinct "
            f"datapoints) failed: {error}"
        ) from error
    x_variates = fit.project_x(x[test]).astype(np.float64, copy=False)
    y_variates = fit.project_y(y[test]).astype(np.float64, copy=False)
    rho = heldout_correlations(x_variates, y_variates)
    return float(rho.mean() if measure == "mean_cca" else np.real(fit.x_weights) @ rho)


def _split_values(x, y, datapoints, folds, rng, measure, conv, method):
    """One random k-fold split of the distinct ``datapoints`` (copies stay in one fold): each
    fold's held-out value, its number of held-out rows, and the fewest distinct training
    datapoints of a fold."""
    distinct, which = np.unique(datapoints, return_inverse=True)
    fold_of = np.empty(len(distinct), dtype=np.intp)
    fold_of[rng.permutation(len(distinct))] = np.arange(len(distinct)) % folds
    fold_of_row = fold_of[which]
    values, sizes = np.empty(folds), np.empty(folds)
    for k in range(folds):
        test, train = datapoints[fold_of_row == k], datapoints[fold_of_row != k]
        values[k] = _fold_value(x, y, train, test, measure, conv, method)
        sizes[k] = len(test)
    fewest_training = len(distinct) - np.bincount(fold_of, minlength=folds).max()
    return values, sizes, fewest_training


def _heldout(x, y, datapoints, folds, repeats, rng, measure, conv, method):
    """(statistic, fold values (repeats, folds), fewest distinct training datapoints) of the
    rows ``datapoints``: fold values averaged weighted by held-out rows, over ``repeats`` splits."""
    splits = [
        _split_values(x, y, datapoints, folds, rng, measure, conv, method) for _ in range(repeats)
    ]
    values = np.stack([values for values, _, _ in splits])
    sizes = np.stack([sizes for _, sizes, _ in splits])
    statistic = float((values * sizes).sum() / sizes.sum())
    return statistic, values, min(fewest for _, _, fewest in splits)


def heldout_similarity(
    x: object,
    y: object,
    measure: str | Callable[..., float] = "pwcca",
    *,
    folds: int = 5,
    repeats: int = 1,
    n_resamples: int = 200,
    confidence: float = 0.95,
    seed: int | np.random.Generator = 0,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> HeldoutResult:
    """Held-out mean CCA or PWCCA: directions fitted on k - 1 folds, correlations on the k-th.

    See :mod:`cca.heldout` for the definition (Morcos et al. 2018, Sections 2.1 and 2.2, with
    the canonical correlations measured on held-out datapoints) and its choices. Unlike the plain
    measures, unrelated layers score about 0 at any n, and where the layers share few of their
    directions the finite-n bias is several times smaller, so the value estimates the layers'
    population similarity and compares across n. To ask whether two layers are related beyond
    chance at this n, use :func:`cca.permutation_test`: the plain measure varies less.

    The interval: ``n_resamples`` bootstrap resamples of the datapoints (the same for x and y;
    every copy of a datapoint in the same fold, so no datapoint is both fitted and measured),
    each running the whole held-out procedure with fresh splits; ``confidence_interval`` is
    the centered interval of :func:`cca.bootstrap_interval` (the bootstrap's spread about its own
    mean, placed around the statistic). On 5 + 5 neurons sharing 2 dimensions at n = 300
    (``benchmarks/bench_heldout_coverage.py``, 200 samples) the 95% interval covered the
    population value in 95.5% (PWCCA) and 97.5% (mean CCA) of the samples, the plain measures'
    :func:`cca.bootstrap_interval` in 46.5% and 14%; a normal interval from the spread of the fold
    values, which share training datapoints, in about 70%. A resample costs ``folds * repeats``
    CCA fits. The number of folds barely moves the bias (2 to 20 folds on that model).

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or 4-D (n, h, w, c) with ``conv``
        Activations; row i of both is the response to the same input.
    measure : {"mean_cca", "pwcca"} or the function ``cca.mean_cca`` / ``cca.pwcca``
        PWCCA's weights come from x, as in :func:`cca.pwcca`.
    folds : int
        Number of folds k >= 2; each held-out fold needs at least 3 datapoints.
    repeats : int
        Number of random splits averaged (each k fits); more shrink the split noise.
    n_resamples : int
        Number of bootstrap resamples; 0 skips the interval (NaN).
    confidence : float
        Confidence level of the interval, in (0, 1).
    seed : int or numpy Generator
        Seed of the splits and resamples; the same seed gives the same result.
    conv : {"mean", "positions"}, optional
        For 4-D input, as in :func:`cca.cca`. With "positions" the folds split images, so that
        the positions of one image are never both fitted and measured.
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D input, as in :func:`cca.cca` ("nchw" for PyTorch's channels first).
    method : {"auto", "gram", "svd"}
        Numerical path of each fit, as in :func:`cca.cca`.

    Returns
    -------
    HeldoutResult
        statistic, confidence_interval, standard_error, bias, confidence_level, measure, folds,
        repeats, n, fold_values, bootstrap_distribution.

    Warns
    -----
    DegenerateCCAWarning
        When a fold's fit (or a resample's) has no more distinct datapoints than a + b neurons:
        its directions are fitted to noise and the held-out value falls far below the population
        value. Use fewer folds or more datapoints.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(1)
    >>> x, y = rng.normal(size=(400, 5)), rng.normal(size=(400, 5))  # unrelated layers
    >>> round(cca.pwcca(x, y), 2)  # the plain measure's chance level
    0.09
    >>> result = cca.heldout_similarity(x, y, "pwcca", n_resamples=50)
    >>> low, high = result.confidence_interval
    >>> round(result.statistic, 2), bool(low < 0 < high)
    (-0.03, True)
    >>> related = cca.heldout_similarity(x, x @ rng.normal(size=(5, 5)), n_resamples=0)
    >>> round(related.statistic, 6), related.fold_values.shape
    (1.0, (1, 5))
    """
    measure = _check_measure(measure)
    _check_int(folds, "folds", 2, "the number of folds, e.g. 5")
    _check_int(repeats, "repeats", 1, "the number of random splits averaged, e.g. 1 or 5")
    _check_int(n_resamples, "n_resamples", 0, "bootstrap resamples, e.g. 200; 0 for none")
    check_confidence(confidence)
    rng = random_generator(seed, allow_none=False)  # the split makes the value: repeatable
    check_method(method)
    x, y = layer_pair(x, y, conv, layout, allow_dft=False)  # 4-D ones channels last
    if conv == "mean":  # average over space once, not once per fit
        x, y, conv = reduce_space(x, conv), reduce_space(y, conv), None
    n = len(x)
    _check_folds_fit(folds, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateCCAWarning)  # one warning of our own, below
        statistic, fold_values, fewest = _heldout(
            x, y, np.arange(n), folds, repeats, rng, measure, conv, method
        )
        bootstrap = np.empty(n_resamples)
        for r in range(n_resamples):
            resample = rng.integers(0, n, size=n)
            bootstrap[r], _, fewest_here = _heldout(
                x, y, resample, folds, repeats, rng, measure, conv, method
            )
            fewest = min(fewest, fewest_here)
    _warn_if_folds_degenerate(fewest, n, x, y, conv)
    return HeldoutResult(
        statistic=statistic,
        confidence_interval=_centered_interval(statistic, bootstrap, confidence),
        standard_error=float(bootstrap.std(ddof=1)) if n_resamples > 1 else np.nan,
        bias=float(bootstrap.mean() - statistic) if n_resamples else np.nan,
        confidence_level=float(confidence),
        measure=measure,
        folds=folds,
        repeats=repeats,
        n=n,
        fold_values=fold_values,
        bootstrap_distribution=bootstrap,
    )


def _centered_interval(statistic, bootstrap, confidence) -> ConfidenceInterval:
    """[statistic - (q_high - m), statistic + (m - q_low)], m the bootstrap mean, q its quantiles
    (as :func:`cca.bootstrap_interval`'s default)."""
    if not len(bootstrap):
        return ConfidenceInterval(np.nan, np.nan)
    tail = (1 - confidence) / 2
    low, high = np.quantile(bootstrap, [tail, 1 - tail])
    center = bootstrap.mean()
    return ConfidenceInterval(
        float(statistic - (high - center)), float(statistic + (center - low))
    )


def _check_measure(measure) -> str:
    entry = next((e for e in registry.MEASURES.values()
                  if measure is e.function or (isinstance(measure, str) and measure == e.name)),
                 None)
    if entry is not None and entry.name in HELDOUT_MEASURES:
        return entry.name
    raise ValueError(
        f"measure must be 'mean_cca' or 'pwcca' (or cca.mean_cca, cca.pwcca); found {measure!r}. "
        "The held-out form exists for the CCA measures whose directions can be fitted and "
        "measured apart."
    )


def _check_int(value, name: str, smallest: int, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < smallest:
        raise ValueError(
            f"{name} must be an int >= {smallest} ({meaning}); found {value!r}."
        )


def _check_folds_fit(folds: int, n: int) -> None:
    if n // folds < MIN_HELDOUT_DATAPOINTS:
        largest = n // MIN_HELDOUT_DATAPOINTS
        remedy = (
            f"Pass folds <= {largest}, or use more datapoints."
            if largest >= 2
            else f"Use at least {2 * MIN_HELDOUT_DATAPOINTS} datapoints."
        )
        raise ValueError(
            f"folds={folds} splits the {n} datapoints into held-out folds of {n // folds}; each "
            f"needs at least {MIN_HELDOUT_DATAPOINTS} datapoints. {remedy}"
        )


def _warn_if_folds_degenerate(fewest, n, x, y, conv) -> None:
    """DegenerateCCAWarning when some fold's fit has no more distinct datapoints than a + b."""
    rows_per_datapoint = int(np.prod(x.shape[1:3])) if conv == "positions" else 1
    neurons = x.shape[-1] + y.shape[-1]
    if fewest * rows_per_datapoint <= neurons:
        warnings.warn(
            f"some fold fits CCA on only {fewest} distinct datapoints of {n} for "
            f"{x.shape[-1]} + {y.shape[-1]} neurons (in a bootstrap resample, about 63% of the "
            "datapoints are distinct): its directions are fitted to noise, and the held-out "
            "similarity falls far below the population value. Use fewer folds or more datapoints.",
            DegenerateCCAWarning,
            stacklevel=3,
        )
