"""Baselines the CCA measures are compared with: linear CKA, cosine and Euclidean distance.

Linear CKA is the modern comparison users expect (Kornblith et al., ICML 2019); cosine and Euclidean
distance are the naive baselines of the paper's Appendix (Figures A2-A6, A8).
"""

from __future__ import annotations

import numpy as np

from cca import _array_api, _linalg
from cca._validation import (
    array_namespace,
    as_activations,
    check_flag,
    check_same_shape,
    is_dask_array,
    layer_pair,
    live_neurons,
    reduce_space,
    zero_layer_message,
)


def linear_cka(
    x: object,
    y: object,
    debiased: bool = False,
    *,
    conv: str | None = None,
    layout: str | None = None,
) -> float:
    """Linear centered kernel alignment (Kornblith et al. 2019, Section 3 and Eq. (3)).

    CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F) for centered X (n x a), Y (n x b), in [0, 1].
    With ``debiased=True`` each HSIC is the unbiased estimator (Song et al. 2012; Kornblith et al.,
    Appendix), which needs n >= 4 and can be slightly negative for unrelated layers.

    Invariant to orthogonal maps and isotropic scaling of either layer, and to adding constants to
    neurons; not to general invertible linear maps (unlike mean CCA).

    Parameters
    ----------
    x, y : array-like, shape (n, a) and (n, b), or 4-D (n, h, w, c) with ``conv``
    debiased : bool
        Use the unbiased HSIC estimator.
    conv : {"mean", "positions"}, optional
        Required for 4-D input, as in :func:`cca.cca`.
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D input, as in :func:`cca.cca` ("nchw" for PyTorch's channels first).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 10))
    >>> q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    >>> round(cca.linear_cka(x, 3 * x @ q + 1), 6)
    1.0

    On dask arrays (``debiased=False``) the Gram blocks are computed chunk by chunk where the
    chunks live (:mod:`cca._dask`).
    """
    debiased = check_flag(debiased, "debiased")
    if is_dask_array(x) or is_dask_array(y):
        if debiased:
            raise ValueError(
                "debiased CKA needs every datapoint's kernel diagonal, which is not reduced "
                "chunk by chunk: on dask arrays use debiased=False, or pass x.compute() and "
                "y.compute() if they fit in memory."
            )
        from cca import _dask  # imports dask, which only dask input needs

        return _dask.linear_cka(x, y, conv, layout)
    xp = array_namespace(x, y)
    if xp is not None:  # another framework's arrays, computed on their device
        return _array_api.linear_cka(x, y, xp, debiased, conv, layout)
    x, y = _prepare_pair(x, y, conv, layout)
    if debiased and len(x) < 4:
        raise ValueError(f"debiased CKA needs at least 4 datapoints; found {len(x)}.")
    x, y = _linalg.centered_layer(x), _linalg.centered_layer(y)
    cross_sq = np.linalg.norm(x.T @ y) ** 2
    if not debiased:
        alignment = cross_sq / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))
        return float(min(alignment, 1.0))  # <= 1 by Cauchy-Schwarz; rounding may pass it
    diag_k, diag_l = (x**2).sum(axis=1), (y**2).sum(axis=1)
    hsic_xy = _linalg.unbiased_hsic(cross_sq, diag_k, diag_l)
    hsic_xx, hsic_yy = _linalg.self_hsic(x, diag_k, "x"), _linalg.self_hsic(y, diag_l, "y")
    return float(hsic_xy / np.sqrt(hsic_xx * hsic_yy))


def linear_cka_distance(
    x: object,
    y: object,
    debiased: bool = False,
    *,
    conv: str | None = None,
    layout: str | None = None,
) -> float:
    """Linear CKA distance, 1 - :func:`linear_cka`.

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(cca.linear_cka_distance(x, x), 6)
    0.0
    """
    return 1.0 - linear_cka(x, y, debiased, conv=conv, layout=layout)


def cosine_similarity(x: object, y: object, *, center: bool = True) -> float:
    """Cosine similarity of two representations of the same neurons (paper, Appendix A5, A6, A8).

    cos = <X, Y>_F / (||X||_F ||Y||_F), the cosine between the flattened (n x d) matrices, where X
    and Y are centered per neuron (each neuron's mean over datapoints removed) when ``center`` is
    True, as by default, so that adding a constant to a neuron changes nothing, as for the CCA
    measures. It compares neuron j of x with neuron j of y: use it for one layer at two times of
    training, not for two different layers. In [-1, 1]; invariant to scaling a layer, not to
    rotating it.

    Parameters
    ----------
    x, y : array-like, same shape (n, d) or 4-D
        4-D input is flattened per datapoint (the same neurons are compared position by position,
        so channels first or last gives the same value: no ``conv`` or ``layout`` here).
    center : bool
        Remove each neuron's mean first (default); False compares the raw activations.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(cca.cosine_similarity(x, 2 * x + 5), 6), round(cca.cosine_similarity(x, -x), 6)
    (1.0, -1.0)

    On dask arrays each neuron's sums of squares and products are computed chunk by chunk where
    the chunks live (:mod:`cca._dask`):

    >>> import dask.array as da
    >>> round(cca.cosine_similarity(da.from_array(x, chunks=30), 2 * x + 5), 6)
    1.0
    """
    center = check_flag(center, "center")
    if is_dask_array(x) or is_dask_array(y):
        from cca import _dask  # imports dask, which only dask input needs

        return _dask.cosine_similarity(x, y, center)
    xp = array_namespace(x, y)
    if xp is not None:
        return _array_api.cosine_similarity(x, y, xp, center)
    x, y = _prepare_same_shape(x, y, center)
    norms = np.linalg.norm(x) * np.linalg.norm(y)
    if norms == 0:
        raise ValueError(zero_layer_message(center))
    return float(np.clip(np.vdot(x, y) / norms, -1.0, 1.0))


def cosine_distance(x: object, y: object, *, center: bool = True) -> float:
    """Cosine distance, 1 - :func:`cosine_similarity`, in [0, 2].

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> round(cca.cosine_distance(x, x), 6)
    0.0
    """
    return 1.0 - cosine_similarity(x, y, center=center)


def euclidean_distance(x: object, y: object, *, center: bool = True) -> float:
    """Root-mean-square Euclidean distance between matched datapoints (paper, Appendix A5, A6, A8).

    d = sqrt((1/n) sum_i ||x_i - y_i||^2) = ||X - Y||_F / sqrt(n), with X, Y centered per neuron
    when ``center`` is True (default). Same units as the activations (not scale invariant), >= 0. It
    compares neuron j of x with neuron j of y, so x and y must have the same shape.

    Parameters
    ----------
    x, y : array-like, same shape (n, d) or (n, h, w, c) (flattened per datapoint)
    center : bool
        Remove each neuron's mean first (default); False compares the raw activations.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, cca
    >>> x = np.zeros((4, 2))
    >>> cca.euclidean_distance(x, x + [[3, 4], [-3, -4], [3, 4], [-3, -4]])
    5.0

    Dask arrays are reduced chunk by chunk, as for :func:`cosine_similarity`.
    """
    center = check_flag(center, "center")
    if is_dask_array(x) or is_dask_array(y):
        from cca import _dask  # imports dask, which only dask input needs

        return _dask.euclidean_distance(x, y, center)
    xp = array_namespace(x, y)
    if xp is not None:
        return _array_api.euclidean_distance(x, y, xp, center)
    x, y = _flat_pair(x, y)
    difference = x - y
    largest = np.abs(difference).max()
    if largest == 0:
        return 0.0
    exponent = np.frexp(largest)[1]  # computed in units of 2^exponent: exact, no underflow
    scaled = np.ldexp(difference, -exponent)
    if center:
        scaled = _linalg.centered_layer(scaled, rescale=False)
    return float(np.ldexp(np.linalg.norm(scaled), exponent) / np.sqrt(len(x)))


def _prepare_pair(x, y, conv, layout):
    x, y = layer_pair(x, y, conv, layout, allow_dft=False)
    x, y = reduce_space(x, conv).astype(np.float64), reduce_space(y, conv).astype(np.float64)
    live_neurons(x, "x")
    live_neurons(y, "y")
    return x, y


def _flat_pair(x, y):
    """Validated layers of the same shape, flattened per datapoint, in float64."""
    x, y = as_activations(x, "x"), as_activations(y, "y")
    check_same_shape(x.shape, y.shape)
    return x.reshape(len(x), -1).astype(np.float64), y.reshape(len(y), -1).astype(np.float64)


def _prepare_same_shape(x, y, center):
    """Validated layers of the same shape, flattened, centered if ``center``
    (:func:`cca._linalg.centered_layer`), each scaled by its own power of two (for measures
    invariant to scaling a layer)."""
    x, y = _flat_pair(x, y)
    if center:
        return _linalg.centered_layer(x), _linalg.centered_layer(y)
    return _linalg.unit_scale(x), _linalg.unit_scale(y)
