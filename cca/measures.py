"""CCA-based similarity of two representations: mean CCA, SVCCA, PWCCA and the full CCA result.

Rows are datapoints, columns are neurons (Morcos, Raghu & Bengio 2018, Section 2.1). Every function
takes ``conv`` for 4-D (n, h, w, c) conv activations and ``method``:

* ``"auto"`` (default): the Gram path in the input precision (float32 stays float32 for the
  correlations; PWCCA and :func:`cca`'s directions start in float64); if the Gram eigenvalues are
  too small to trust there, the float64 Gram path; if still not, the SVD path.
* ``"gram"``: the Gram path only (fast; squares the condition number).
* ``"svd"``: thin SVDs of the data in float64 (slower, accurate on ill-conditioned layers).

Rank. A direction of a layer counts only if it stands above two floors (details in
:mod:`cca._linalg`): the rounding of the arithmetic (Gram eigenvalues below about
``width * sqrt(n) * eps`` of the largest; singular values below ``max(n, width) * eps``) and the
rounding already in the values, 10 times ``eps`` of the input's precision times the uncentered
size of the neurons the direction combines. So a duplicated neuron, or one that is a linear
combination of others plus an offset, adds no direction even after float32 rounding, and the
correlations and measures do not change. All paths use the same floors, so ``"auto"`` is never
less accurate than ``"gram"``. Neurons of extreme size (1e-150 to 1e150) are rescaled by exact
powers of two first.

Dask arrays (``pip install "pwcca[dask]"``) are reduced chunk by chunk where they live: the Gram
matrix and means of each block of rows on the workers, merged exactly, then the small solve here
(:mod:`cca._dask`), in memory independent of the number of datapoints. That is the Gram path in
float64 (``"svd"`` and ``conv="dft"`` need the data in memory; where ``"auto"`` would take the SVD
path, a :class:`cca.GramPathWarning` says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from cca import _linalg
from cca._validation import (
    as_activations,
    check_conv,
    check_keep,
    check_keep_fits,
    check_method,
    check_same_rows,
    data_resolution,
    is_dask_array,
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
        return float(np.clip(np.real(self.x_weights @ self.correlations), 0.0, 1.0))

    @cached_property
    def x_variates(self) -> np.ndarray:
        """Canonical variates of x, shape (n, c), orthonormal columns h_i = (x - x_mean) @ a_i."""
        return self._centered(self._x, self.x_mean, "x") @ self.x_directions

    @cached_property
    def y_variates(self) -> np.ndarray:
        """Canonical variates of y, shape (n, c), orthonormal columns."""
        return self._centered(self._y, self.y_mean, "y") @ self.y_directions

    def project_x(self, x: object) -> np.ndarray:
        """Project new x data onto the fitted directions: (x - x_mean) @ x_directions.

        Parameters
        ----------
        x : array-like, shape (m, a) or (m, h, w, c) when fitted with ``conv``
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
        data = as_activations(data, name, min_rows=1)
        check_conv(self.conv, data, data, allow_dft=False)
        data = reduce_space(data, self.conv)
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


def _on_dask(x, y, conv, method, svcca=None, allow_dft=False) -> CCAResult | None:
    """The result for dask input (:mod:`cca._dask`); None when neither layer is a dask array."""
    if not (is_dask_array(x) or is_dask_array(y)):
        return None
    from cca import _dask  # imports dask, which only dask input needs

    return _dask.fit(x, y, conv, method, svcca, allow_dft)


def _prepare(x, y, conv, method, allow_dft=False):
    """Validate a pair of layers; return 2-D arrays (4-D for dft) in a common dtype, and the
    machine epsilon of each input's own precision, (x's, y's)
    (:func:`cca._validation.data_resolution`)."""
    check_method(method)
    resolution = (data_resolution(x), data_resolution(y))
    x, y = as_activations(x, "x"), as_activations(y, "y")
    check_same_rows(x, y)
    check_conv(conv, x, y, allow_dft)
    if conv != "dft":
        x, y = reduce_space(x, conv), reduce_space(y, conv)
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    return x, y, resolution


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
            _check_rank(bases, conv)
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
    _check_rank(bases, conv)
    return Sides(x, y, live, bases, "svd", mean, scale, centered=stacked)


def _fit(
    x, y, method, conv=None, svcca=None, resolution=None, noise=None, directions=True
) -> CCAResult:
    """CCA of validated 2-D layers: :func:`fit_sides`, one small SVD, :func:`build_result`.
    ``directions=False`` when only the correlations are used (:func:`fit_sides`)."""
    warn_if_degenerate(len(x), x.shape[1], y.shape[1], stacklevel=4)
    sides = fit_sides(x, y, method, conv, svcca, resolution, noise, directions)
    if sides.moments is not None:
        cross = sides.moments.cross.astype(sides.bases[0].whitening.dtype)
        rho, x_directions, y_directions = _linalg.solve(*sides.bases, cross)
        inner = sides.moments.block("x")[0].astype(cross.dtype) @ x_directions
    else:
        rho, x_directions, y_directions = _linalg.solve(*sides.bases)
        centered_x = sides.centered[:, : x.shape[1]]
        inner = centered_x.conj().T @ (centered_x @ x_directions)
    return build_result(
        rho, x_directions, y_directions, inner, sides.mean, sides.scale, sides.path, conv, x, y,
        tolerance=tie_tolerance(sides.bases),
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


def _check_rank(bases, conv) -> None:
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
    *, tolerance,
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
        rho, x_directions, y_directions, mean[:cut], mean[cut:], n, path, conv, x, y, raw
    )


def _per_frequency(x, y, method, resolution) -> list[CCAResult]:
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
                fits.append(_fit(x_f, y_f, method, "dft", resolution=resolution, noise=noise))
    if not any(len(fit.correlations) for fit in fits):
        raise ValueError(
            "x or y does not vary over the datapoints at any spatial frequency beyond rounding "
            "(every neuron constant); similarity is undefined. Check the layers."
        )
    return fits


def _varies(coefficients: np.ndarray) -> np.ndarray:
    """Mask of complex neurons that are not constant over datapoints."""
    return (np.ptp(coefficients.real, axis=0) > 0) | (np.ptp(coefficients.imag, axis=0) > 0)


def cca(x: object, y: object, *, conv: str | None = None, method: str = "auto") -> CCAResult:
    """Canonical correlation analysis of two layers (paper, Section 2.1).

    Center X (n x a) and Y (n x b); with Qx, Qy orthonormal bases of their column spaces,
    Qx^T Qy = U diag(rho) V^T gives the canonical correlations rho and directions A, B such that the
    variates X A and Y B are orthonormal and (X A)^T (Y B) = diag(rho).

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or (n, h, w, c) with ``conv``
        Activations; row i of both is the response to the same input. Arrays, lists and anything
        with ``__array__`` (TensorFlow, PyTorch CPU tensors).
    conv : {"mean", "positions"}, optional
        Required for 4-D input: "mean" averages each channel over space (the paper's Figure 3),
        "positions" makes each spatial position a datapoint (n * h * w rows).
    method : {"auto", "gram", "svd"}
        Numerical path; see :mod:`cca.measures`.

    Returns
    -------
    CCAResult
        Correlations, directions, means, lazily computed variates, PWCCA weights and projections.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 5))
    >>> y = np.hstack([x[:, :2], rng.normal(size=(1000, 3))])
    >>> np.round(cca.cca(x, y).correlations, 1)
    array([1. , 1. , 0.1, 0.1, 0. ])

    Dask arrays are reduced chunk by chunk where they live (see :mod:`cca.measures`):

    >>> import dask.array as da
    >>> chunked = cca.cca(da.from_array(x, chunks=300), da.from_array(y, chunks=300))
    >>> bool(np.allclose(chunked.correlations, cca.cca(x, y).correlations, rtol=0, atol=1e-10))
    True
    """
    on_dask = _on_dask(x, y, conv, method)
    if on_dask is not None:
        return on_dask
    x, y, resolution = _prepare(x, y, conv, method)
    return _fit(x, y, method, conv, resolution=resolution)


def canonical_correlations(
    x: object, y: object, *, conv: str | None = None, method: str = "auto"
) -> np.ndarray:
    """Canonical correlations of two layers, descending, in [0, 1] (paper, Section 2.1).

    The singular values of Qx^T Qy, Qx and Qy orthonormal bases of the centered columns of x and y.
    Parameters as :func:`cca`; ``conv="dft"`` is also accepted (SVCCA paper, Section 5: CCA at each
    spatial frequency, all frequencies' correlations together, sorted).

    Returns
    -------
    ndarray, shape (min(rank x, rank y),) (times h * w for ``conv="dft"``)

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> cca.canonical_correlations(x, 2 * x + 1)
    array([1., 1., 1.])
    """
    on_dask = _on_dask(x, y, conv, method, allow_dft=True)
    if on_dask is not None:
        return on_dask.correlations
    x, y, resolution = _prepare(x, y, conv, method, allow_dft=True)
    if conv == "dft":
        fits = _per_frequency(x, y, method, resolution)
        return np.sort(np.concatenate([fit.correlations for fit in fits]))[::-1]
    return _fit(x, y, method, resolution=resolution, directions=False).correlations


def mean_cca(x: object, y: object, *, conv: str | None = None, method: str = "auto") -> float:
    """Mean CCA similarity: (1/c) sum_i rho_i, in [0, 1] (paper, Section 2.1).

    Invariant to any invertible linear map of either layer. Parameters as
    :func:`canonical_correlations`.

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.mean_cca(x, x), 6)
    1.0
    """
    return float(canonical_correlations(x, y, conv=conv, method=method).mean())


def mean_cca_distance(
    x: object, y: object, *, conv: str | None = None, method: str = "auto"
) -> float:
    """Mean CCA distance, 1 - :func:`mean_cca`, in [0, 1].

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.mean_cca_distance(x, x), 6)
    0.0
    """
    return 1.0 - mean_cca(x, y, conv=conv, method=method)


def svcca(
    x: object,
    y: object,
    keep: float | int = 0.99,
    *,
    rule: str = "variance",
    conv: str | None = None,
    method: str = "auto",
) -> float:
    """SVCCA similarity (Raghu et al. 2017): mean CCA of each layer's top principal directions.

    Each centered layer is reduced by SVD, X = U S V^T, to its first k directions U_k S_k, then the
    mean of the canonical correlations of the reduced layers is returned, in [0, 1].

    Parameters
    ----------
    x, y : array-like
        As :func:`cca` (``conv`` "mean" or "positions").
    keep : float or int
        An int: keep that many directions per layer. A float in (0, 1]: keep the fewest directions
        whose share of the total reaches ``keep``, per ``rule``.
    rule : {"variance", "singular_values"}
        "variance" (default, the convention of most tools and the SVCCA paper's text): share of
        sum(s_i**2). "singular_values": share of sum(s_i), the SVCCA paper's Appendix A rule, which
        the paper's Figure 2 toy needs to place SVCCA between mean CCA and PWCCA.
    conv, method
        As :func:`cca`.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> signal = rng.normal(size=(2000, 3)) @ rng.normal(size=(3, 20))
    >>> x = signal + 0.01 * rng.normal(size=(2000, 20))
    >>> round(cca.svcca(x, signal, keep=3), 3)
    1.0
    """
    check_keep(keep, rule)
    on_dask = _on_dask(x, y, conv, method, svcca=(keep, rule))
    if on_dask is not None:
        return on_dask.mean_cca
    x, y, resolution = _prepare(x, y, conv, method)
    check_keep_fits(keep, x.shape[1], y.shape[1])
    fit = _fit(x, y, method, conv, svcca=(keep, rule), resolution=resolution, directions=False)
    return fit.mean_cca


def svcca_distance(
    x: object,
    y: object,
    keep: float | int = 0.99,
    *,
    rule: str = "variance",
    conv: str | None = None,
    method: str = "auto",
) -> float:
    """SVCCA distance, 1 - :func:`svcca`, in [0, 1].

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.svcca_distance(x, x, keep=2), 6)
    0.0
    """
    return 1.0 - svcca(x, y, keep, rule=rule, conv=conv, method=method)


def pwcca(x: object, y: object, *, conv: str | None = None, method: str = "auto") -> float:
    """Projection-weighted CCA similarity, sum_i alpha_i rho_i in [0, 1] (paper, Section 2.2).

    alpha_i is proportional to sum_j |<h_i, z_j>|, h_i the orthonormal canonical variates of x and
    z_j the centered neurons of x, normalized to sum 1. Not symmetric: the weights come from the
    first argument, which may have more or fewer neurons than the second. With ``conv="dft"`` the
    weights use each frequency's Fourier-coefficient neurons, normalized over all frequencies.

    Invariant to adding constants to neurons, scaling the whole layer and dead neurons. *Not*
    invariant, by its definition, to duplicating a neuron of x or to rescaling single neurons:
    the weights sum |<h_i, z_j>| over the neurons z_j, so a copy counts twice. Where canonical
    correlations tie (within 1e-7) the variates are not unique; the tied ones are chosen so that
    the result does not depend on the order of the neurons (:func:`cca._linalg.canonical_ties`).

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 6))
    >>> round(cca.pwcca(x, x[:, :3] @ rng.normal(size=(3, 3))), 2)
    1.0
    """
    on_dask = _on_dask(x, y, conv, method, allow_dft=True)
    if on_dask is not None:
        return on_dask.pwcca
    x, y, resolution = _prepare(x, y, conv, method, allow_dft=True)
    if conv != "dft":
        return _fit(x, y, method, resolution=resolution).pwcca
    fits = _per_frequency(x, y, method, resolution)
    raw = np.concatenate([fit._raw_weights for fit in fits])
    rho = np.concatenate([fit.correlations for fit in fits])
    return float(np.clip(raw @ rho / raw.sum(), 0.0, 1.0))


def pwcca_distance(x: object, y: object, *, conv: str | None = None, method: str = "auto") -> float:
    """PWCCA distance, 1 - :func:`pwcca`, in [0, 1] (the distance of the paper's Figures 3-6).

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.pwcca_distance(x, x), 6)
    0.0
    """
    return 1.0 - pwcca(x, y, conv=conv, method=method)
