"""CCA-based similarity of two representations: mean CCA, SVCCA, PWCCA and the full CCA result.

Rows are datapoints, columns are neurons (Morcos, Raghu & Bengio 2018, Section 2.1). Every function
takes ``conv`` for 4-D conv activations, ``layout`` for their axes (channels last (n, h, w, c) by
default; ``"nchw"`` for PyTorch's channels first) and ``method``:

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

import numpy as np

from cca import _array_api
from cca._solver import CCAResult, fit, per_frequency, pooled_pwcca
from cca._validation import (
    array_namespace,
    averaged_resolution,
    check_keep,
    check_keep_fits,
    check_method,
    data_resolution,
    is_dask_array,
    layer_pair,
    reduce_space,
)


def _on_dask(x, y, conv, layout, method, svcca=None, allow_dft=False) -> CCAResult | None:
    """The result for dask input (:mod:`cca._dask`); None when neither layer is a dask array."""
    if not (is_dask_array(x) or is_dask_array(y)):
        return None
    from cca import _dask  # imports dask, which only dask input needs

    return _dask.fit(x, y, conv, method, svcca, allow_dft, layout)


def _on_device(
    x, y, conv, layout, method, svcca=None, allow_dft=False, directions=True
) -> CCAResult | None:
    """The result for arrays of another framework, computed on their device
    (:mod:`cca._array_api`); None when neither layer is one."""
    xp = array_namespace(x, y)
    if xp is None:
        return None
    check_method(method)
    return _array_api.fit(x, y, xp, method, conv, svcca, layout, directions, allow_dft)


def _prepare(x, y, conv, layout, method, allow_dft=False):
    """Validate a pair of layers; return 2-D arrays (4-D (n, h, w, c) for dft) in a common dtype,
    and the machine epsilon of each input's own precision, (x's, y's), less after averaging
    over space (:func:`cca._validation.data_resolution`, ``averaged_resolution``)."""
    check_method(method)
    resolution = (data_resolution(x), data_resolution(y))
    x, y = layer_pair(x, y, conv, layout, allow_dft)
    resolution = tuple(
        averaged_resolution(r, layer, conv) for r, layer in zip(resolution, (x, y), strict=True)
    )
    if conv != "dft":
        x, y = reduce_space(x, conv), reduce_space(y, conv)
    if x.dtype != y.dtype:
        x, y = x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)
    return x, y, resolution


def cca(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> CCAResult:
    """Canonical correlation analysis of two layers (paper, Section 2.1).

    Center X (n x a) and Y (n x b); with Qx, Qy orthonormal bases of their column spaces,
    Qx^T Qy = U diag(rho) V^T gives the canonical correlations rho and directions A, B such that the
    variates X A and Y B are orthonormal and (X A)^T (Y B) = diag(rho).

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or 4-D (n, h, w, c) with ``conv``
        Activations; row i of both is the response to the same input. Arrays, lists and anything
        with ``__array__`` (TensorFlow, JAX, PyTorch CPU tensors; bfloat16 too).
    conv : {"mean", "positions"}, optional
        Required for 4-D input: "mean" averages each channel over space (the paper's Figure 3),
        "positions" makes each spatial position a datapoint (n * h * w rows).
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D input: "nhwc" channels last (Keras, JAX), "nchw" channels first (PyTorch).
        None (default) reads channels last, but refuses with a ValueError, asking for the
        layout, what that could misread: a PyTorch tensor, or a shape that is square maps only
        read channels first, (n, c, h, h) with c != h.
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

    Conv activations laid out channels first, as PyTorch's (n, c, h, w), need ``layout``:

    >>> maps = rng.normal(size=(300, 4, 6, 6))  # 300 images, 4 channels of 6 x 6
    >>> fit = cca.cca(maps, maps[:, :2] ** 2, conv="mean", layout="nchw")
    >>> fit.x_directions.shape, fit.layout
    ((4, 2), 'nchw')

    Dask arrays are reduced chunk by chunk where they live (see :mod:`cca.measures`):

    >>> import dask.array as da
    >>> chunked = cca.cca(da.from_array(x, chunks=300), da.from_array(y, chunks=300))
    >>> bool(np.allclose(chunked.correlations, cca.cca(x, y).correlations, rtol=0, atol=1e-10))
    True
    """
    on_dask = _on_dask(x, y, conv, layout, method)
    if on_dask is not None:
        return on_dask
    on_device = _on_device(x, y, conv, layout, method)
    if on_device is not None:
        return on_device
    x, y, resolution = _prepare(x, y, conv, layout, method)
    return fit(x, y, method, conv, resolution=resolution, layout=layout or "nhwc")


def canonical_correlations(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
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
    on_dask = _on_dask(x, y, conv, layout, method, allow_dft=True)
    if on_dask is not None:
        return on_dask.correlations
    on_device = _on_device(x, y, conv, layout, method, allow_dft=True, directions=False)
    if on_device is not None:
        return on_device.correlations
    x, y, resolution = _prepare(x, y, conv, layout, method, allow_dft=True)
    if conv == "dft":
        fits = per_frequency(x, y, method, resolution)
        return np.sort(np.concatenate([frequency.correlations for frequency in fits]))[::-1]
    return fit(x, y, method, resolution=resolution, directions=False).correlations


def mean_cca(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> float:
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
    return float(canonical_correlations(x, y, conv=conv, layout=layout, method=method).mean())


def mean_cca_distance(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> float:
    """Mean CCA distance, 1 - :func:`mean_cca`, in [0, 1].

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.mean_cca_distance(x, x), 6)
    0.0
    """
    return 1.0 - mean_cca(x, y, conv=conv, layout=layout, method=method)


def svcca(
    x: object,
    y: object,
    keep: float | int = 0.99,
    *,
    rule: str = "variance",
    conv: str | None = None,
    layout: str | None = None,
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
    conv, layout, method
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
    on_dask = _on_dask(x, y, conv, layout, method, svcca=(keep, rule))
    if on_dask is not None:
        return on_dask.mean_cca
    on_device = _on_device(x, y, conv, layout, method, svcca=(keep, rule), directions=False)
    if on_device is not None:
        return on_device.mean_cca
    x, y, resolution = _prepare(x, y, conv, layout, method)
    check_keep_fits(keep, x.shape[1], y.shape[1])
    reduced = fit(x, y, method, conv, svcca=(keep, rule), resolution=resolution, directions=False)
    return reduced.mean_cca


def svcca_distance(
    x: object,
    y: object,
    keep: float | int = 0.99,
    *,
    rule: str = "variance",
    conv: str | None = None,
    layout: str | None = None,
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
    return 1.0 - svcca(x, y, keep, rule=rule, conv=conv, layout=layout, method=method)


def pwcca(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> float:
    """Projection-weighted CCA similarity, sum_i alpha_i rho_i in [0, 1] (paper, Section 2.2).

    alpha_i is proportional to ``sum_j |<h_i, z_j>|``, h_i the orthonormal canonical variates of x
    and z_j the centered neurons of x, normalized to sum 1. Not symmetric: the weights come from the
    first argument, which may have more or fewer neurons than the second. With ``conv="dft"`` the
    weights use each frequency's Fourier-coefficient neurons, normalized over all frequencies.

    Invariant to adding constants to neurons, scaling the whole layer and dead neurons. *Not*
    invariant, by its definition, to duplicating a neuron of x or to rescaling single neurons:
    the weights sum ``|<h_i, z_j>|`` over the neurons z_j, so a copy counts twice. Where canonical
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
    on_dask = _on_dask(x, y, conv, layout, method, allow_dft=True)
    if on_dask is not None:
        return on_dask.pwcca
    on_device = _on_device(x, y, conv, layout, method, allow_dft=True)
    if on_device is not None:
        return on_device.pwcca
    x, y, resolution = _prepare(x, y, conv, layout, method, allow_dft=True)
    if conv != "dft":
        return fit(x, y, method, resolution=resolution).pwcca
    return pooled_pwcca(per_frequency(x, y, method, resolution))


def pwcca_distance(
    x: object,
    y: object,
    *,
    conv: str | None = None,
    layout: str | None = None,
    method: str = "auto",
) -> float:
    """PWCCA distance, 1 - :func:`pwcca`, in [0, 1] (the distance of the paper's Figures 3-6).

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(200, 4))
    >>> round(cca.pwcca_distance(x, x), 6)
    0.0
    """
    return 1.0 - pwcca(x, y, conv=conv, layout=layout, method=method)
