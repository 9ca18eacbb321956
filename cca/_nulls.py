"""The measures' statistics on permuted rows: what :func:`cca.permutation_test` draws its null from.

Speed. Permuting the rows of y leaves X^T X, Y^T Y and the column means unchanged, hence each side's
whitening and orthonormal basis Qx = Xc Wx, Qy = Yc Wy (and the SVCCA principal directions): the
permuted layer's basis is P Qy. So one permutation costs one product Qx^T (P Qy), of
n x rank(x) x rank(y), and the SVD of that small matrix, whose singular values are the canonical
correlations (paper, Section 2.1). PWCCA's inner products <h_i, z_j> = (Xc^T Qx U)_ji need only U,
since x is not permuted. Linear CKA needs only ||Xc^T P Yc||_F (or <K, P L P^T> with the n x n
kernels, when n^2 is below a b); cosine and Euclidean distance one pass over the data. The bases
come from :mod:`cca._linalg` as the measures' own: the Gram path in float64 where its directions are
trusted, else the SVD path (``method`` as in :func:`cca.cca`), with the same rank decisions. The
products use every BLAS thread, the small SVDs run in batches on one (as in :mod:`cca._linalg`).
``benchmarks/bench_significance.py`` measures the gain against calling the measure on permuted
data: about 3-4x for full-rank CCA with n >> a + b (one product instead of three, and no
eigendecomposition), 10x and more when SVCCA keeps few directions or the layers are small.

Each ``*_null(x, y, **options)`` takes validated float64 layers (2-D, rows are datapoints) and the
measure's own options, and returns ``orders -> values``: the measure of ``x`` and ``y[rows]`` for
each row order, as a NumPy array. :mod:`cca.registry` says which measure uses which.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from cca import _linalg, _solver

# Memory for one batch of the small matrices Qx^T P Qy whose SVDs run together on one BLAS thread.
BATCH_BYTES = 2**25


@dataclass(frozen=True)
class _Fitted:
    """What a permutation of y's rows leaves unchanged, in the measures' rescaled units.

    Qx = Xc Wx and Qy = Yc Wy (orthonormal, n x rx and n x ry), the whitenings W, Xc^T Qx (the
    inner products of x's neurons with its basis), the column means, the power-of-two factors the
    neurons were multiplied by (x's first; None if none was needed) and the measures' name of the
    path taken.
    """

    x_basis: np.ndarray
    y_basis: np.ndarray
    x_whitening: np.ndarray
    y_whitening: np.ndarray
    x_inner: np.ndarray
    mean: np.ndarray
    scale: np.ndarray | None
    path: str
    tolerance: float


def _fit_sides(x, y, method, resolution, svcca=None) -> _Fitted:
    """Each side's basis of validated float64 layers, exactly as the measures choose it
    (:func:`cca._solver.fit_sides`), with what a permutation needs: Qx, Qy and Xc^T Qx."""
    sides = _solver.fit_sides(x, y, method, svcca=svcca, resolution=resolution)
    a = x.shape[1]
    if sides.centered is None:  # Gram path: the bases Q = Xc W from the centered data
        centered, _ = _linalg.centered_stack(sides.x, sides.y, sides.live)
        x_whitening, y_whitening = (basis.whitening for basis in sides.bases)
        x_basis, y_basis = centered[:, :a] @ x_whitening, centered[:, a:] @ y_whitening
        x_inner = sides.moments.block("x")[0] @ x_whitening
    else:
        x_whitening, y_whitening = (basis.whitening for basis in sides.bases)
        x_basis, y_basis = (basis.basis for basis in sides.bases)
        x_inner = sides.centered[:, :a].T @ x_basis
    return _Fitted(
        x_basis, y_basis, x_whitening, y_whitening, x_inner, sides.mean, sides.scale, sides.path,
        _solver.tie_tolerance(sides.bases),
    )


@_linalg.single_blas_thread
def _svds(inner: np.ndarray, with_vectors: bool):
    """(U, singular values, V^T) of a stack of small matrices (U, V^T None without
    ``with_vectors``), on one BLAS thread."""
    if not with_vectors:
        return None, np.linalg.svd(inner, compute_uv=False), None
    return np.linalg.svd(inner, full_matrices=True)


def _solutions(fitted: _Fitted, orders, with_vectors=False):
    """Yield (rho, U, V^T) for each row order: Qx^T Qy[rows] = U diag(rho) V^T (full U and V^T:
    PWCCA's tie rule needs x's unpaired directions, :func:`cca._linalg.solve`), rho clipped to
    [0, 1] as :func:`cca._linalg.solve` does (U, V^T None without ``with_vectors``). The products
    use every BLAS thread; the small SVDs go in batches of up to :data:`BATCH_BYTES` to one."""
    x_basis, y_basis = fitted.x_basis, fitted.y_basis
    size = int(np.clip(BATCH_BYTES // (8 * x_basis.shape[1] * y_basis.shape[1]), 1, 64))
    orders = iter(orders)
    while batch := list(itertools.islice(orders, size)):
        left, rho, right_h = _svds(
            np.stack([x_basis.T @ y_basis[rows] for rows in batch]), with_vectors
        )
        if not with_vectors:
            left = right_h = itertools.repeat(None)
        yield from zip(np.clip(rho, 0.0, 1.0), left, right_h, strict=False)


def _mean_correlation(fitted: _Fitted):
    """orders -> mean canonical correlation of Qx and Qy[rows] for each row order."""
    return lambda orders: np.array([rho.mean() for rho, _, _ in _solutions(fitted, orders)])


def mean_cca_null(x, y, *, method, resolution):
    """Mean CCA (paper, Section 2.1) of x and y[rows]."""
    return _mean_correlation(_fit_sides(x, y, method, resolution))


def svcca_null(x, y, *, keep, rule, method, resolution):
    """SVCCA (Raghu et al. 2017): mean CCA of each side's top principal directions, fixed by y's
    Gram matrix, which the permutation leaves alone."""
    return _mean_correlation(_fit_sides(x, y, method, resolution, svcca=(keep, rule)))


def pwcca_null(x, y, *, method, resolution):
    """PWCCA (paper, Section 2.2) of x and y[rows]. With Qx^T Qy[rows] = U diag(rho) V^T the
    directions are A = Wx U, B = Wy V, and the inner products of x's neurons with its variates
    Xc^T Qx U; the measures' own :func:`cca._solver.build_result` maps them back to the neurons'
    units and settles tied correlations (:func:`cca._linalg.canonical_ties`)."""
    fitted = _fit_sides(x, y, method, resolution)

    def pwcca(rho, left, right_h):
        return _solver.build_result(
            rho, fitted.x_whitening @ left, fitted.y_whitening @ right_h[: len(rho)].T,
            fitted.x_inner @ left, fitted.mean, fitted.scale, fitted.path, None, n=len(x),
            tolerance=fitted.tolerance,
        ).pwcca

    return lambda orders: np.array(
        [pwcca(*solution) for solution in _solutions(fitted, orders, with_vectors=True)]
    )


def each(value_of):
    """orders -> array of ``value_of(rows)`` for each row order."""
    return lambda orders: np.array([value_of(rows) for rows in orders])


def _cross_norm_squared(x_centered, y_centered):
    """rows -> ||Xc^T Yc[rows]||_F^2, by the (a x b) product or, when n^2 < a b, the n x n kernels:
    <K, L[rows][:, rows]> with K = Xc Xc^T, L = Yc Yc^T."""
    n, a = x_centered.shape
    if n * n >= a * y_centered.shape[1]:
        return lambda rows: np.linalg.norm(x_centered.T @ y_centered[rows]) ** 2
    x_kernel, y_kernel = x_centered @ x_centered.T, y_centered @ y_centered.T
    return lambda rows: float(np.vdot(x_kernel, y_kernel[np.ix_(rows, rows)]))


def linear_cka_null(x, y, *, debiased):
    """Linear CKA (Kornblith et al. 2019) of x and y[rows]: only ||Xc^T P Yc||_F changes, and for
    the debiased form the pairing of the kernels' diagonals. Each centered layer is divided by a
    power of two near its largest value, as :func:`cca.linear_cka` does."""
    x_centered, y_centered = _linalg.centered_layer(x), _linalg.centered_layer(y)
    cross_norm_squared = _cross_norm_squared(x_centered, y_centered)
    if not debiased:
        x_norm = np.linalg.norm(x_centered.T @ x_centered)
        y_norm = np.linalg.norm(y_centered.T @ y_centered)
        return each(lambda rows: cross_norm_squared(rows) / (x_norm * y_norm))
    x_diag, y_diag = (x_centered**2).sum(axis=1), (y_centered**2).sum(axis=1)
    x_hsic = _linalg.self_hsic(x_centered, x_diag, "x")
    y_hsic = _linalg.self_hsic(y_centered, y_diag, "y")
    scale = np.sqrt(x_hsic * y_hsic)

    def debiased_cka(rows):
        cross_hsic = _linalg.unbiased_hsic(cross_norm_squared(rows), x_diag, y_diag[rows])
        return cross_hsic / scale

    return each(debiased_cka)


def _centered_if(layer, center):
    """The layer as the baselines use it: centered (:func:`cca._linalg.centered_layer`) or not,
    scaled by a power of two."""
    return _linalg.centered_layer(layer) if center else _linalg.unit_scale(layer)


def cosine_null(x, y, *, center):
    """Cosine similarity (paper, Appendix A5) of x and y[rows]: only <X, PY> changes."""
    x, y = _centered_if(x, center), _centered_if(y, center)
    norms = np.linalg.norm(x) * np.linalg.norm(y)
    return each(lambda rows: np.clip(np.vdot(x, y[rows]) / norms, -1.0, 1.0))


def euclidean_null(x, y, *, center):
    """Root-mean-square Euclidean distance (paper, Appendix A5) between x and y[rows], the
    difference scaled by its largest value first as :func:`cca.euclidean_distance` does."""
    if center:
        x, y = _linalg.centered_layer(x, rescale=False), _linalg.centered_layer(y, rescale=False)

    def distance(rows):
        difference = x - y[rows]
        largest = np.abs(difference).max()
        return 0.0 if largest == 0 else np.linalg.norm(difference / largest) * largest

    return each(lambda rows: distance(rows) / np.sqrt(len(x)))


def complement(similarity_null):
    """The null of the distance 1 - s from that of the similarity s."""

    def distance_null(x, y, **options):
        similarity = similarity_null(x, y, **options)
        return lambda orders: 1.0 - similarity(orders)

    return distance_null
