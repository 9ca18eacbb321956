"""The solver behind the measures: CCA of validated layers, from either path to its result.

The public functions (:mod:`cca.measures`) validate their input, then call :func:`fit` (or
:func:`per_frequency` for ``conv="dft"``): each side's orthonormal basis by the chosen path
(:func:`fit_sides`; the paths and rank decisions of :mod:`cca._linalg`), one small SVD, and
:func:`build_result`, which maps the directions back to the neurons' units and settles tied
correlations. :func:`solve_moments` does the same from accumulated statistics (the streaming
accumulator and dask arrays, Gram path only). Morcos, Raghu & Bengio 2018, Sections 2.1-2.2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cca import _linalg
from cca._validation import (
    array_namespace,
    as_activations,
    channels_last,
    check_conv,
    device_of,
    live_neurons,
    reduce_space,
    warn_if_degenerate,
)


@dataclass(frozen=True)
class CCAResult:
    """The canonical correlation analysis of two layers, from :func:`cca`.

    Attributes
    ----------
    correlations : ndarray, shape (c,)
        Canonical correlations rho_1 >= ... >= rho_c in [0, 1], c = min(rank x, rank y).
    x_directions, y_directions : ndarray, shapes (a, c) and (b, c)
        Directions A, B mapping centered neurons to canonical variates: h = (x - x_mean) @ A. The
        variates of the fitted data are orthonormal columns.
    x_mean, y_mean : ndarray, shapes (a,) and (b,)
        Means of the neurons in the fitted data; :meth:`project_x` and :meth:`project_y` use them.
    n_samples : int
        Number of datapoints fitted (after ``conv`` handling).
    method : str
        The path that produced the result: "gram-float32", "gram-float64" (Gram matrix computed in
        that precision) or "svd".
    conv : str or None
        How 4-D input was handled; projection applies the same.
    layout : {"nhwc", "nchw"}
        How 4-D input was laid out (channels last or first); projection reads 4-D data the same
        way.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 8))
    >>> result = cca.cca(x, x @ rng.normal(size=(8, 8)))
    >>> bool(np.allclose(result.correlations, 1))
    True
    >>> result.project_x(x[:3]).shape
    (3, 8)
    """

    correlations: np.ndarray
    x_directions: np.ndarray
    y_directions: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray
    n_samples: int
    method: str
    conv: str | None = None
    layout: str = "nhwc"
    _x: np.ndarray | None = field(default=None, repr=False, compare=False)
    _y: np.ndarray | None = field(default=None, repr=False, compare=False)
    _raw_weights: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def mean_cca(self) -> float:
        """Mean CCA similarity, the mean of all canonical correlations (paper, Section 2.1)."""
        return float(self.correlations.mean())

    @property
    def x_weights(self) -> np.ndarray:
        """PWCCA weights alpha (shape (c,), sum 1) of x's variates (paper, Section 2.2)."""
        return self._raw_weights / self._raw_weights.sum()

    @property
    def pwcca(self) -> float:
        """Projection-weighted CCA similarity sum_i alpha_i rho_i, weights from x (Section 2.2).

        Where correlations tie, the tied directions are the unique choice described in
        :func:`cca._linalg.settle_ties`, so the value depends neither on the order of rows and
        neurons nor on the solver's arbitrary pick, and moves continuously with the data.
        """
        return weighted_correlation(self._raw_weights, self.correlations)

    @cached_property
    def x_variates(self) -> np.ndarray:
        """Canonical variates of x, shape (n, c), orthonormal columns h_i = (x - x_mean) @ a_i."""
        return self._variates(self._x, self.x_mean, self.x_directions, "x")

    @cached_property
    def y_variates(self) -> np.ndarray:
        """Canonical variates of y, shape (n, c), orthonormal columns."""
        return self._variates(self._y, self.y_mean, self.y_directions, "y")

    def project_x(self, x: object) -> np.ndarray:
        """Project new x data onto the fitted directions: (x - x_mean) @ x_directions.

        Parameters
        ----------
        x : array-like, shape (m, a), or 4-D in the fit's ``layout`` when fitted with ``conv``
            Activations of the same neurons, e.g. from a later checkpoint (paper, Figure 1 d-f).

        Returns
        -------
        ndarray, shape (m, c)
        """
        return self._project(x, self.x_mean, self.x_directions, "x")

    def project_y(self, y: object) -> np.ndarray:
        """Project new y data onto the fitted directions: (y - y_mean) @ y_directions."""
        return self._project(y, self.y_mean, self.y_directions, "y")

    def _project(self, data, mean, directions, name) -> np.ndarray:
        array = as_activations(data, name, min_rows=1)
        if self.conv is not None:
            array = channels_last(array, name, self.layout, data)
        check_conv(self.conv, array, array, allow_dft=False)
        data = reduce_space(array, self.conv)
        if data.shape[1] != len(mean):
            raise ValueError(
                f"{name} has {data.shape[1]} neurons but the fit had {len(mean)}; project "
                "activations of the same neurons."
            )
        return (data - mean) @ directions

    def _centered(self, data, mean, name) -> np.ndarray:
        if data is None:
            raise ValueError(
                f"this result has no {name} data (it was computed from moments, by a "
                "CCAAccumulator or from dask arrays); "
                f"use project_{name}(data) to get the variates of any data."
            )
        return data - mean

    def _variates(self, data, mean, directions, name) -> np.ndarray:
        """(data - mean) @ directions; data held by another framework (:mod:`cca._array_api`)
        stay on their device, in their precision."""
        xp = None if isinstance(data, np.ndarray) else array_namespace(data)
        if xp is None:
            return self._centered(data, mean, name) @ directions
        device = device_of(data)
        mean = xp.asarray(mean, dtype=data.dtype, device=device)
        return xp.matmul(data - mean, xp.asarray(directions, dtype=data.dtype, device=device))


@dataclass(frozen=True)
class Sides:
    """Both layers' orthonormal bases as the measures choose them, from :func:`fit_sides`.

    Everything is in the units of the (possibly power-of-two rescaled) data ``x``, ``y``:
    ``scale`` holds the factors the neurons were multiplied by (x's first; None if none was
    needed). ``moments`` is set on the Gram paths, ``centered`` (the centered [x y], dead
    neurons zeroed) on the SVD path.
    """

    x: np.ndarray
    y: np.ndarray
    live: np.ndarray
    bases: tuple[_linalg.Basis, _linalg.Basis]
    path: str
    mean: np.ndarray
    scale: np.ndarray | None
    moments: _linalg.Moments | None = None
    centered: np.ndarray | None = None


def fit_sides(
    x, y, method, conv=None, svcca=None, resolution=None, noise=None, directions=False
) -> Sides:
    """Each side's basis of validated 2-D layers (real or complex) by ``method``.

    The module docstring's paths: neurons rescaled by powers of two where their magnitudes need
    it (one factor per layer for SVCCA, whose PCA depends on neuron scales); the Gram path in
    the input precision, then in float64, then the SVD path, each taken when its directions are
    trusted (``"auto"``). ``resolution``: machine epsilon of the data's original precision
    (default: of ``x.dtype``), for the rank decision (:mod:`cca._linalg`). ``noise``: per-neuron
    rounding noise norms (x's first) overriding the default (``resolution`` times each neuron's
    uncentered norm). A side with no direction above rounding is an error, except per frequency
    (``conv="dft"``), where it contributes no correlations. ``directions``: the canonical
    directions are wanted (PWCCA's weights, :func:`cca`), so ``"auto"`` starts float32 input on
    the float64 Gram path: the float32 path gets correlations to about 1e-6, but the directions
    of two correlations a gap g apart only to about 1e-7 / g (PWCCA off by 1e-5 at g = 1e-3).
    """
    if resolution is None:
        resolution = float(np.finfo(x.dtype).eps)
    resolution = _linalg.per_neuron(resolution, x.shape[1], y.shape[1])
    scales = [
        _linalg.power_of_two_scales(side, uniform=svcca is not None, name=name)
        for side, name in ((x, "x"), (y, "y"))
    ]
    scale = None
    if any(s is not None for s in scales):  # extreme magnitudes: compute on rescaled neurons
        scales = [
            np.ones(d.shape[1]) if s is None else s for s, d in zip(scales, (x, y), strict=True)
        ]
        x, y = ((d * s).astype(d.dtype) for d, s in zip((x, y), scales, strict=True))  # exact
        scale = np.concatenate(scales)
        noise = None if noise is None else noise * scale
    live = None  # found by the first Gram pass, which checks only the neurons that may be constant
    dtypes = [x.dtype] + ([np.dtype(np.float64)] if x.dtype == np.float32 else [])
    if directions and method == "auto":
        dtypes = [np.dtype(np.complex128 if np.iscomplexobj(x) else np.float64)]
    for dtype in dtypes if method != "svd" else []:
        moments = _linalg.moments_of(
            x.astype(dtype, copy=False), y.astype(dtype, copy=False), live, resolution
        )
        live = moments.live
        bases = tuple(moments.basis(side, dtype, svcca, _side(noise, side, x)) for side in "xy")
        if method == "gram" or all(basis.trusted for basis in bases):
            check_rank(bases, conv)
            path = f"gram-{np.dtype(dtype).name}"
            return Sides(x, y, live, bases, path, moments.mean, scale, moments=moments)
    precision = np.complex128 if np.iscomplexobj(x) else np.float64
    if live is None:
        live = np.concatenate([live_neurons(x, "x"), live_neurons(y, "y")])
    stacked, mean = _linalg.centered_stack(x.astype(precision), y.astype(precision), live)
    if noise is None:
        squares = np.einsum("ij,ij->j", stacked, stacked.conj()).real + len(x) * abs(mean) ** 2
        noise = _linalg.rounding_noise(squares, resolution)
    cut = x.shape[1]
    bases = (
        _linalg.data_basis(stacked[:, :cut], live[:cut], svcca, noise[:cut]),
        _linalg.data_basis(stacked[:, cut:], live[cut:], svcca, noise[cut:]),
    )
    check_rank(bases, conv)
    return Sides(x, y, live, bases, "svd", mean, scale, centered=stacked)


def fit(
    x, y, method, conv=None, svcca=None, resolution=None, noise=None, directions=True, *,
    layout="nhwc",
) -> CCAResult:
    """CCA of validated 2-D layers: :func:`fit_sides`, one small SVD, :func:`build_result`.
    ``directions=False`` when only the correlations are used (:func:`fit_sides`); ``conv`` and
    ``layout`` (of 4-D input, before reduction) are kept for projection."""
    warn_if_degenerate(len(x), x.shape[1], y.shape[1], stacklevel=4)
    sides = fit_sides(x, y, method, conv, svcca, resolution, noise, directions)
    if sides.moments is not None:
        return gram_result(
            sides.moments, sides.bases, sides.scale, sides.path, conv, x, y, layout=layout
        )
    rho, x_directions, y_directions = _linalg.solve(*sides.bases)
    centered_x = sides.centered[:, : x.shape[1]]
    inner = centered_x.conj().T @ (centered_x @ x_directions)
    return build_result(
        rho, x_directions, y_directions, inner, sides.mean, sides.scale, sides.path, conv, x, y,
        tolerance=tie_tolerance(sides.bases), layout=layout,
    )


def gram_result(moments, bases, scale, path, conv, x=None, y=None, *, layout) -> CCAResult:
    """The :class:`CCAResult` of two bases from ``moments`` (Gram path): the solve with the cross
    block X^T Y, PWCCA's inner products X^T X A, and :func:`build_result`."""
    cross = moments.cross.astype(bases[0].whitening.dtype)
    rho, x_directions, y_directions = _linalg.solve(*bases, cross)
    inner = moments.block("x")[0].astype(cross.dtype) @ x_directions
    return build_result(
        rho, x_directions, y_directions, inner, moments.mean, scale, path, conv, x, y,
        n=moments.n, tolerance=tie_tolerance(bases), layout=layout,
    )


def tie_tolerance(bases) -> float:
    """Correlations closer than this are tied (:func:`cca._linalg.settle_ties`): a few times the
    accuracy the two bases leave in the correlations."""
    return _linalg.TIE_SAFETY * max(basis.accuracy for basis in bases)


def _side(values, side, x):
    """x's or y's part of a per-neuron array (None stays None)."""
    if values is None:
        return None
    return values[: x.shape[1]] if side == "x" else values[x.shape[1] :]


def check_rank(bases, conv) -> None:
    """ValueError if a layer has no direction above the rounding of its values (unless dft)."""
    for name, basis in zip("xy", bases, strict=True):
        if basis.whitening.shape[1] == 0 and conv != "dft":
            raise ValueError(
                f"{name} varies only at the level of the rounding of its values (its neurons' "
                "spread is below about 10 units of their precision, e.g. a huge offset with a "
                "tiny spread in float32); similarity is undefined. Subtract the offset in "
                "float64 before converting, or compare another layer."
            )


def build_result(
    rho, x_directions, y_directions, inner, mean, scale, path, conv, x=None, y=None, n=None,
    *, tolerance, layout="nhwc",
) -> CCAResult:
    """A :class:`CCAResult` from a solve on (possibly power-of-two rescaled) data.

    ``scale`` (None: not rescaled) holds the per-neuron factors the data were multiplied by, x's
    first; directions, means and inner products are mapped back to the original units. x's
    directions and inner products may hold, after the c canonical ones, x's directions unpaired
    with y (:func:`cca._linalg.solve`). Tied correlations (within ``tolerance``) get their
    canonical directions (:func:`cca._linalg.settle_ties`).
    """
    cut = x_directions.shape[0]
    if scale is not None:
        x_directions = scale[:cut, None] * x_directions
        y_directions = scale[cut:, None] * y_directions
        inner = inner / scale[:cut, None]
        mean = mean / scale
    x_directions, y_directions, raw = _linalg.settle_ties(  # in the neurons' own units
        rho, x_directions, y_directions, inner, tolerance
    )
    n = len(x) if n is None else n
    return CCAResult(
        rho, x_directions, y_directions, mean[:cut], mean[cut:], n, path, conv, layout, x, y, raw
    )


def weighted_correlation(raw_weights: np.ndarray, correlations: np.ndarray) -> float:
    """PWCCA from raw weights: sum_i alpha_i rho_i with alpha the weights normalized to sum 1."""
    weights = raw_weights / raw_weights.sum()
    return float(np.clip(np.real(weights @ correlations), 0.0, 1.0))


def per_frequency(x, y, method, resolution) -> list[CCAResult]:
    """CCA at each spatial frequency of 4-D x, y (SVCCA paper, Raghu et al. 2017, Section 5).

    For conv layers whose statistics are translation invariant (circular boundary), the covariance
    of the (h * w * c)-neuron representation is block circulant; the unitary 2-D DFT over space
    block-diagonalizes it, so the CCA of the whole layer splits into h * w independent CCAs between
    the c-channel Fourier coefficients at each frequency. Their correlations together are those of
    the whole layer.
    """
    x, y = x.astype(np.float64), y.astype(np.float64)
    x_hat = np.fft.fft2(x, axes=(1, 2), norm="ortho")
    y_hat = np.fft.fft2(y, axes=(1, 2), norm="ortho")
    # A coefficient's rounding scales with its channel's whole energy, not with the coefficient:
    # the frequencies of a spatially uniform map are rounding residue (Parseval; log factor of the
    # FFT's stages).
    stages = np.sqrt(np.log2(x.shape[1] * x.shape[2]) + 1)
    energy = [np.sqrt(np.einsum("ihwc,ihwc->c", side, side)) for side in (x, y)]
    resolution = _linalg.per_neuron(resolution, x.shape[-1], y.shape[-1])
    noise = resolution * stages * np.concatenate(energy)
    fits = []
    for u in range(x.shape[1]):
        for v in range(x.shape[2]):
            x_f, y_f = x_hat[:, u, v], y_hat[:, u, v]
            if _varies(x_f).any() and _varies(y_f).any():
                fits.append(fit(x_f, y_f, method, "dft", resolution=resolution, noise=noise))
    if not any(len(fit.correlations) for fit in fits):
        raise ValueError(
            "x or y does not vary over the datapoints at any spatial frequency beyond rounding "
            "(every neuron constant); similarity is undefined. Check the layers."
        )
    return fits


def _varies(coefficients: np.ndarray) -> np.ndarray:
    """Mask of complex neurons that are not constant over datapoints."""
    return (np.ptp(coefficients.real, axis=0) > 0) | (np.ptp(coefficients.imag, axis=0) > 0)


def pooled_pwcca(fits: list[CCAResult]) -> float:
    """PWCCA over the CCAs of several parts (the frequencies of :func:`per_frequency`): every
    part's raw weights normalized together, sum_i alpha_i rho_i over all of them."""
    raw = np.concatenate([part._raw_weights for part in fits])
    rho = np.concatenate([part.correlations for part in fits])
    return float(np.clip(raw @ rho / raw.sum(), 0.0, 1.0))


def solve_moments(
    moments: _linalg.Moments, scale, conv, svcca=None, layout="nhwc"
) -> tuple[CCAResult, bool]:
    """CCA from accumulated statistics (Gram path in float64) of data stored times ``scale``, and
    whether both bases are trusted (no eigenvalue where ``method="auto"`` in memory would take
    the SVD path). ``svcca=(keep, rule)``: of each side's top principal directions. ``conv``
    and ``layout``: how 4-D batches were read, kept for projection."""
    if svcca is not None:  # PCA is not invariant to per-neuron scales
        moments, scale = _linalg.common_scale(moments, scale)
    float64 = np.dtype(np.float64)
    bases = [moments.basis(side, float64, svcca) for side in "xy"]
    check_rank(bases, conv)
    result = gram_result(moments, bases, scale, "gram-float64", conv, layout=layout)
    return result, all(basis.trusted for basis in bases)
