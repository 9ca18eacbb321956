"""Numerical core of CCA, shared by the in-memory measures and the streaming accumulator.

Notation (paper, Section 2.1): X (n x a) and Y (n x b) are centered; a *whitening*
W (a x r) maps centered neurons to an orthonormal basis Q = X W of X's column space (Q^T Q = I).
The canonical correlations are the singular values of Qx^T Qy = Wx^T (X^T Y) Wy, and with
Qx^T Qy = U diag(rho) V^T the canonical directions are A = Wx U and B = Wy V: the canonical
variates H = X A are orthonormal.

Two ways to get W:

* **Gram path** (fast): from the centered Gram matrix G = [X Y]^T [X Y], computed once. Columns are
  equilibrated (R = D G D with D = diag(G)^-1/2, so neuron scales do not matter) and R = V diag(l)
  V^T gives W = D V diag(l)^-1/2, dropping eigenvalues below a null tolerance (duplicated neurons).
  It squares the condition number: an eigenvalue l (relative to the largest) carries a relative
  error of about eps / l, so directions with small l are only trusted above a floor
  (:data:`TRUST_FLOOR`).
* **SVD path** (accurate): thin SVD of the equilibrated data, X D = U S V^T, W = D V S^-1, Q = U.

Constant (dead) neurons are excluded from both (their rows of W are zero).

**How rank is decided.** A direction is dropped as numerically null when it is below either of two
floors, and kept otherwise:

* the *data floor*: what rounding of the input values alone can create. A neuron stored with unit
  roundoff u (the input's precision: float32 input keeps u = 2^-24 even when computed in float64)
  carries errors of about u |x_ij| per value, so after centering its rounding noise has norm about
  u ||x_j|| with x_j the *uncentered* neuron: an offset of 500 on a neuron of spread 3 makes
  rounding 170 times larger relative to its signal. A linearly dependent neuron with an offset
  thus leaves a spurious direction of that size, which is no signal. A direction is kept only
  above :data:`DATA_FLOOR_SAFETY` times the rounding noise of the neurons it combines, in the
  units of the basis (equilibrated for CCA); see :func:`rounding_noise` and :func:`data_floor`.
* the *arithmetic floor*: eigenvalues of the Gram matrix below ``null_tolerance`` (relative to the
  largest) are the rounding of the products themselves; singular values of the data below
  ``max(n, a) eps`` (relative) for the SVD path.

Neurons are rescaled by exact powers of two before any product (:func:`power_of_two_scales`), so
values from 1e-150 to 1e150 neither overflow nor underflow; results are mapped back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import gammaln
from threadpoolctl import ThreadpoolController

from cca._validation import live_neurons, subnormal_message

# Smallest eigenvalue of an equilibrated Gram matrix, relative to the largest, whose direction the
# Gram path trusts at each precision: errors in rho are then below ~1e-4 (float32) and ~1e-9
# (float64).
TRUST_FLOOR = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-6}

# Factor between a side's estimated rounding noise (Frobenius norm, see module docstring) and the
# smallest singular value kept as a real direction.
DATA_FLOOR_SAFETY = 10.0

# Largest and smallest magnitude of a neuron's values used as they are; outside, every neuron is
# rescaled by a power of two first. Chosen so that squares summed over any realistic n, and squares
# of spreads down to the precision's resolution below the magnitude, stay normal numbers.
SAFE_MAGNITUDE = {
    np.dtype(np.float32): (2.0**-20, 2.0**20),
    np.dtype(np.float64): (2.0**-100, 2.0**100),
}


@dataclass(frozen=True)
class Moments:
    """Sufficient statistics of a pair of layers: the stacked [x y] columns, x first.

    Attributes
    ----------
    n : int
        Number of datapoints.
    mean : ndarray, shape (a + b,)
        Column means.
    gram : ndarray, shape (a + b, a + b)
        Sum over datapoints of the outer products of the centered rows.
    live : ndarray of bool, shape (a + b,)
        False for constant (dead) neurons.
    n_x : int
        Number of columns of x (a).
    resolution : float or ndarray, shape (a + b,)
        Machine epsilon of the input data's precision (float32 input: 2^-23, even when the
        moments are computed in float64): the relative size of the rounding in each value; per
        neuron where the layers came in different precisions (:func:`per_neuron`).
    """

    n: int
    mean: np.ndarray
    gram: np.ndarray
    live: np.ndarray
    n_x: int
    resolution: float | np.ndarray = float(np.finfo(np.float64).eps)

    def _cut(self, side: str) -> slice:
        return slice(None, self.n_x) if side == "x" else slice(self.n_x, None)

    def block(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """The (Gram block, live mask) of side "x" or "y"."""
        cut = self._cut(side)
        return self.gram[cut, cut], self.live[cut]

    def noise(self, side: str) -> np.ndarray:
        """Per-neuron rounding noise of side "x" or "y": its norm, :func:`rounding_noise`."""
        cut = self._cut(side)
        squares = np.diag(self.gram).real[cut] + self.n * np.abs(self.mean[cut]) ** 2
        resolution = per_neuron(self.resolution, self.n_x, len(self.mean) - self.n_x)
        return rounding_noise(squares, resolution[cut])

    def basis(self, side: str, dtype: np.dtype, svcca=None, noise=None) -> Basis:
        """The whitening of one side (:func:`gram_basis`), with its data floor.

        ``noise`` overrides the per-neuron rounding noise norms (default :meth:`noise`).
        """
        noise = self.noise(side) if noise is None else noise
        return gram_basis(*self.block(side), self.n, dtype, svcca, noise=noise)

    @property
    def cross(self) -> np.ndarray:
        """X^T Y, the (a, b) block of the Gram matrix."""
        return self.gram[: self.n_x, self.n_x :]


@dataclass(frozen=True)
class Basis:
    """An orthonormal basis of one side: whitening (a x r), trust flag, Q (n x r) if known, and
    ``accuracy``, the size of the errors float64 arithmetic leaves in the canonical correlations
    (its unit roundoff over the smallest kept eigenvalue of the equilibrated Gram matrix, or over
    the smallest kept singular value of the equilibrated data, both relative to the largest): the
    scale of ties (:func:`settle_ties`), the same whichever path computed the basis."""

    whitening: np.ndarray
    trusted: bool
    basis: np.ndarray | None = None
    accuracy: float = 0.0


def per_neuron(resolution, n_x: int, n_y: int) -> np.ndarray:
    """Machine epsilon of each of the a + b neurons' stored precision, from one value for both
    layers, a pair (x's, y's) or already one per neuron: the rounding floor of each neuron is that
    of its own input, so a float32 layer does not coarsen a float64 one."""
    if np.ndim(resolution) == 1 and len(resolution) == n_x + n_y:
        return np.asarray(resolution, dtype=np.float64)
    if np.ndim(resolution) == 0:
        resolution = (resolution, resolution)
    return np.repeat(np.asarray(resolution, dtype=np.float64), [n_x, n_y])


def rounding_noise(uncentered_squares: np.ndarray, resolution: float) -> np.ndarray:
    """Norm of each neuron's rounding noise: ``resolution`` times its uncentered norm.

    ``uncentered_squares`` is sum_i x_ij^2 (the centered sum of squares plus n mean_j^2): rounding
    is relative to the values as stored, offsets included.
    """
    return resolution * np.sqrt(uncentered_squares)


def power_of_two_scales(
    array: np.ndarray, uniform: bool = False, name: str = "x"
) -> np.ndarray | None:
    """Per-neuron powers of two (float64) that bring each column's largest magnitude near 1, or
    None.

    None when every column is already within :data:`SAFE_MAGNITUDE` for its dtype (or all zero),
    so the data are used as they are. Scaling by a power of two is exact, so the rescaled data
    carry the same information; a CCA direction a of the rescaled data is ``scale * a`` of the
    original. ``uniform``: one power of two for all varying neurons (from the widest spread: a
    varying neuron's spread is at least its magnitude times eps, so nothing exceeds 1 / eps), for
    PCA (SVCCA), which per-neuron scales would change; constant neurons keep their own.
    ValueError naming ``name`` for a neuron too small for its factor to be a float64 (values all
    below :data:`cca._validation.SMALLEST_NEURON`, ~5.6e-309: their directions would overflow).
    """
    if np.iscomplexobj(array):
        magnitude = np.abs(array).max(axis=0)
        return scales_from_extremes(-magnitude, magnitude, array.dtype, uniform, name)
    return scales_from_extremes(array.min(axis=0), array.max(axis=0), array.dtype, uniform, name)


def scales_from_extremes(
    low: np.ndarray, high: np.ndarray, dtype: np.dtype, uniform: bool = False, name: str = "x"
) -> np.ndarray | None:
    """:func:`power_of_two_scales` from each column's minimum and maximum (``low``, ``high``) in a
    layer of ``dtype`` (float32 or float64): all that rule reads of the data, so a layer held
    elsewhere (:mod:`cca._array_api`) sends only these two rows."""
    low_safe, high_safe = SAFE_MAGNITUDE[np.finfo(dtype).dtype]
    magnitude = np.maximum(np.abs(high), np.abs(low))
    if np.all((magnitude == 0) | ((magnitude >= low_safe) & (magnitude <= high_safe))):
        return None
    if uniform:  # the live neurons' common factor from the widest spread (<= 1 / eps after)
        spread = high - low
        if spread.max() > 0:
            magnitude = np.where(spread > 0, spread.max(), magnitude)
    exponents = np.frexp(np.where(magnitude > 0, magnitude, 1.0))[1]
    too_small = -exponents > np.finfo(np.float64).maxexp - 1  # factor 2^1024 or more
    if np.any(too_small):
        raise ValueError(subnormal_message(name, np.flatnonzero(too_small)))
    return np.ldexp(1.0, -exponents)


def common_scale(moments: Moments, scale: np.ndarray) -> tuple[Moments, np.ndarray]:
    """``moments`` of data stored times per-neuron ``scale``, re-expressed with one power of two
    for the varying neurons of each side (the smallest of their factors, so nothing overflows),
    as PCA needs. Constant neurons keep their factor (their Gram entries are zero)."""
    common = scale.copy()
    for side in "xy":
        cut, live = moments._cut(side), moments.live[moments._cut(side)]
        common[cut][live] = scale[cut][live].min()
    ratio = common / scale
    gram = moments.gram * np.outer(ratio, ratio)
    rescaled = Moments(
        moments.n, moments.mean * ratio, gram, moments.live, moments.n_x, moments.resolution
    )
    return rescaled, common


def centered_stack(x: np.ndarray, y: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return [x y] centered (dead columns set to exactly 0) and the column means (float64)."""
    stacked = np.hstack([x, y])
    mean = stacked.mean(axis=0, dtype=np.result_type(stacked.dtype, np.float64))
    stacked -= mean.astype(stacked.dtype)
    stacked[:, ~live] = 0
    return stacked, mean


# Rows per block when forming the Gram matrix: big enough for full-speed matrix products, small
# enough that the centered copies of a block (rows x a, rows x b) stay a few megabytes.
BLOCK_ROWS = 2048


def _adjoint(matrix: np.ndarray) -> np.ndarray:
    return matrix.conj().T if np.iscomplexobj(matrix) else matrix.T


# Largest loss of precision (factor on rounding errors) accepted when the centered Gram matrix is
# obtained from the raw one, X^T X - n m m^T: for a neuron, (sum of squares) / (centered sum of
# squares) = 1 + mean^2 / variance.
RAW_GRAM_CANCELLATION = 10.0


def moments_of(
    x: np.ndarray, y: np.ndarray, live: np.ndarray | None = None, resolution: float | None = None
) -> Moments:
    """Moments of two validated layers, in their dtype.

    Real float64 layers: the raw products X^T X, Y^T Y (one syrk each) and X^T Y (one gemm) on the
    data in place, centered afterwards as X^T X - n m m^T, unless that would lose more than a
    factor :data:`RAW_GRAM_CANCELLATION` in precision for some neuron (mean large against its
    spread; decided from the neurons' sums of squares before any product). Otherwise (and always
    in float32 or complex): the same products accumulated over centered blocks of rows, without a
    centered copy of the whole data. Either way, the products of one Gram matrix of the stacked
    layers, without stacking. Dead neurons get zero rows and columns, as if their centered values
    were exactly 0.

    ``live`` is the mask of varying neurons; if None it is found here: a neuron whose centered sum
    of squares is above rounding level for its mean certainly varies (a constant neuron is centered
    to within a few ulps of its value), so only the others get an exact check
    (:func:`cca._validation.live_neurons`). ``resolution`` is the machine epsilon of the data's
    original precision (default: of ``x.dtype``).
    """
    if resolution is None:
        resolution = float(np.finfo(x.dtype).eps)
    accumulate = np.result_type(x.dtype, np.float64)
    x_mean, y_mean = x.mean(axis=0, dtype=accumulate), y.mean(axis=0, dtype=accumulate)
    mean = np.concatenate([x_mean, y_mean])
    if x.dtype == np.float64 and _raw_products_are_accurate(x, y, mean):
        gram = _raw_products(x, y) - len(x) * np.outer(mean, mean)
    else:
        gram = _centered_products(x, y, x_mean.astype(x.dtype), y_mean.astype(y.dtype))
    if live is None:
        rounding = len(x) * (1e3 * np.finfo(x.dtype).eps * np.abs(mean)) ** 2
        suspects = np.diag(gram).real <= rounding
        a = x.shape[1]
        live = np.concatenate(
            [live_neurons(x, "x", suspects[:a]), live_neurons(y, "y", suspects[a:])]
        )
    gram[~live] = 0
    gram[:, ~live] = 0
    return Moments(len(x), mean, gram, live, x.shape[1], resolution)


def _raw_products_are_accurate(x: np.ndarray, y: np.ndarray, mean: np.ndarray) -> bool:
    """Whether X^T X - n m m^T loses at most :data:`RAW_GRAM_CANCELLATION` for every neuron."""
    squares = np.concatenate([np.einsum("ij,ij->j", x, x), np.einsum("ij,ij->j", y, y)])
    centered = squares - len(x) * mean**2
    return not np.any(centered * RAW_GRAM_CANCELLATION < squares)


def _raw_products(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[[X^T X, X^T Y], [Y^T X, Y^T Y]] of real layers, on the data as they are."""
    cross = x.T @ y
    return np.block([[x.T @ x, cross], [cross.T, y.T @ y]])


def _centered_products(x: np.ndarray, y: np.ndarray, x_shift, y_shift) -> np.ndarray:
    """The Gram matrix of [x - x_shift, y - y_shift], accumulated over blocks of rows."""
    a, b = x.shape[1], y.shape[1]
    xx = np.zeros((a, a), dtype=x.dtype)
    yy = np.zeros((b, b), dtype=x.dtype)
    xy = np.zeros((a, b), dtype=x.dtype)
    for start in range(0, len(x), BLOCK_ROWS):
        x_block = x[start : start + BLOCK_ROWS] - x_shift
        y_block = y[start : start + BLOCK_ROWS] - y_shift
        xx += _adjoint(x_block) @ x_block
        yy += _adjoint(y_block) @ y_block
        xy += _adjoint(x_block) @ y_block
    return np.block([[xx, xy], [_adjoint(xy), yy]])


@functools.cache
def blas_controller() -> ThreadpoolController:
    """One inspection of the loaded BLAS libraries, reused (a new one costs ~0.5 ms per call)."""
    return ThreadpoolController()


def single_blas_thread(function):
    """Run ``function`` (work on small (neurons x neurons) matrices) on one BLAS thread.

    Multi-threaded LAPACK on a few hundred columns gains little when the machine is idle and loses
    10-100x when other processes compete for the cores (threads spin waiting for each other), as
    when similarities of many network pairs are computed in parallel jobs.
    """

    @functools.wraps(function)
    def on_one_thread(*args, **kwargs):
        with blas_controller().limit(limits=1, user_api="blas"):
            return function(*args, **kwargs)

    return on_one_thread


def null_tolerance(n: int, width: int, dtype: np.dtype) -> float:
    """Relative eigenvalue below which a Gram direction is numerically null (rounding noise)."""
    return max(width, 1) * np.sqrt(n) * np.finfo(dtype).eps


def keep_count(singular_values: np.ndarray, keep: float | int, rule: str) -> int:
    """How many leading directions SVCCA keeps (``singular_values`` sorted descending).

    ``keep`` an int: that many. A float: the fewest whose share of the total reaches ``keep``, the
    share being of sum(s**2) (``rule="variance"``) or of sum(s) (``rule="singular_values"``, the
    SVCCA paper's Appendix A).
    """
    if isinstance(keep, (int, np.integer)):
        return min(int(keep), len(singular_values))
    weights = singular_values**2 if rule == "variance" else singular_values
    share = np.cumsum(weights) / weights.sum()
    return min(int(np.searchsorted(share, keep - 1e-12)) + 1, len(singular_values))


@single_blas_thread
def gram_basis(
    gram: np.ndarray,
    live: np.ndarray,
    n: int,
    dtype: np.dtype,
    svcca=None,
    noise: np.ndarray | None = None,
) -> Basis:
    """Whitening of one side from its Gram block (computed in ``dtype``; solved in float64).

    ``svcca`` None: the CCA basis of all live neurons, equilibrated. ``svcca=(keep, rule)``: the top
    principal directions (no equilibration: PCA depends on scale), as in SVCCA.

    Rank: an eigenvalue is kept when it is above both the arithmetic floor (``null_tolerance``
    relative to the largest, capped at :data:`TRUST_FLOOR`) and its direction's data floor, the
    square of :func:`data_floor` (``noise``: per-neuron rounding noise norms,
    :meth:`Moments.noise`; None: no data floor). The basis is untrusted (``method="auto"`` then
    recomputes in float64 or by SVD) when an eigenvalue lies below :data:`TRUST_FLOOR` of the
    largest: in float32, any (rounding of the products may have hidden a direction); in float64,
    a kept one.
    """
    gram = gram.astype(np.complex128 if np.iscomplexobj(gram) else np.float64)
    if svcca is None:
        scale = 1 / np.sqrt(np.diag(gram).real[live])
        eigvals, eigvecs = np.linalg.eigh(gram[np.ix_(live, live)] * np.outer(scale, scale))
    else:
        scale = np.ones(live.sum())
        eigvals, eigvecs = np.linalg.eigh(gram[np.ix_(live, live)])
    eigvals, eigvecs = eigvals[::-1], eigvecs[:, ::-1]
    ratio = np.clip(eigvals, 0, None) / eigvals[0]
    if svcca is not None:
        count = keep_count(np.sqrt(ratio), *svcca)
        ratio, eigvals, eigvecs = ratio[:count], eigvals[:count], eigvecs[:, :count]
    floor = 0.0 if noise is None else data_floor(noise[live] * scale, eigvecs) ** 2
    precision = np.finfo(dtype).dtype
    null = min(null_tolerance(n, len(ratio), dtype), TRUST_FLOOR[precision])
    kept = (ratio > null) & (eigvals > floor)
    # An eigenvalue is known to within about null * largest: only one certainly below its data
    # floor is certainly no direction. Any other below TRUST_FLOOR, kept or not, may be a genuine
    # small direction that the Gram matrix cannot resolve (method="auto" then takes the SVD).
    certainly_null = (ratio + null) * eigvals[0] < floor
    doubtful = (ratio < TRUST_FLOOR[precision]) & ~certainly_null
    whitening = np.zeros((len(live), kept.sum()), dtype=eigvecs.dtype)
    whitening[live] = scale[:, None] * eigvecs[:, kept] / np.sqrt(eigvals[kept])
    accuracy = float(np.finfo(np.float64).eps / ratio[kept].min()) if kept.any() else 0.0
    return Basis(whitening, not np.any(doubtful), accuracy=accuracy)


def data_floor(noise: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Smallest singular value kept for each direction, given the neurons' rounding-noise norms.

    A unit direction v (a column of ``directions``, in the same units as ``noise``) picks up
    rounding noise of norm about sqrt(sum_j noise_j^2 |v_j|^2) from the neurons it combines
    (rounding errors of different neurons are independent). The floor is
    :data:`DATA_FLOOR_SAFETY` times that: a direction below it cannot be told apart from the
    rounding of the input values. Only the neurons a direction involves count, so one
    coarsely stored neuron does not hide the directions of the others.
    """
    return DATA_FLOOR_SAFETY * np.sqrt((np.abs(noise[:, None] * directions) ** 2).sum(axis=0))


def data_basis(
    centered: np.ndarray, live: np.ndarray, svcca=None, noise: np.ndarray | None = None
) -> Basis:
    """Whitening and orthonormal basis of one side from its centered data by a thin SVD.

    Rank: singular values above ``max(n, a) eps`` of the largest and above their direction's
    :func:`data_floor` (``noise``: per-neuron rounding noise norms, as :func:`gram_basis`) are
    kept.
    """
    data = centered[:, live]
    scale = 1 / np.linalg.norm(data, axis=0) if svcca is None else np.ones(data.shape[1])
    left, singular, right_h = np.linalg.svd(data * scale, full_matrices=False)
    basis, columns = basis_from_svd(singular, right_h, scale, live, len(data), svcca, noise)
    return replace(basis, basis=left[:, columns])


def basis_from_svd(
    singular: np.ndarray,
    right_h: np.ndarray,
    scale: np.ndarray,
    live: np.ndarray,
    n: int,
    svcca=None,
    noise: np.ndarray | None = None,
    eps: float = float(np.finfo(np.float64).eps),
) -> tuple[Basis, np.ndarray]:
    """:func:`data_basis` from the thin SVD U S V^H of a side's live columns times ``scale``
    (``singular`` S and ``right_h`` V^H; n rows): the basis without Q, and the indices of the
    columns of U that Q keeps. The SVD may have been computed elsewhere (:mod:`cca._array_api`):
    only these small factors are needed here. ``eps``: the unit roundoff of the SVD's arithmetic
    (float32's where a device has no float64), for the rank floor; the tie scale
    (:attr:`Basis.accuracy`) is float64's on every path, as :func:`gram_basis` sets it for the
    float32 Gram path, so that PWCCA settles as ties only what float64 could not tell apart."""
    count = len(singular) if svcca is None else keep_count(singular, *svcca)
    right = right_h[:count].conj().T
    floor = 0.0 if noise is None else data_floor(noise[live] * scale, right)
    arithmetic = singular[0] * max(n, len(scale)) * eps
    kept = singular[:count] > np.maximum(arithmetic, floor)
    whitening = np.zeros((len(live), kept.sum()), dtype=right_h.dtype)
    whitening[live] = scale[:, None] * right[:, kept] / singular[:count][kept]
    smallest = singular[:count][kept].min() / singular[0] if kept.any() else 1.0
    accuracy = float(np.finfo(np.float64).eps / smallest)  # the tie scale, as gram_basis's
    return Basis(whitening, True, None, accuracy), np.flatnonzero(kept)


@single_blas_thread
def solve(
    basis_x: Basis, basis_y: Basis, cross: np.ndarray | None = None, inner: np.ndarray | None = None
):
    """Canonical correlations and directions (A, B) from two bases.

    ``cross`` is X^T Y (Gram path); without it the bases' Q matrices are used (SVD path), or
    ``inner``, Qx^H Qy formed where the data are (:mod:`cca._array_api`). A holds
    all of x's directions: the c = min(rank x, rank y) canonical ones first, then (when x has
    more) the directions of x's basis unpaired with y (correlation 0), which PWCCA's tie rule
    needs (:func:`settle_ties`); B holds the c canonical ones.
    """
    if 0 in (basis_x.whitening.shape[1], basis_y.whitening.shape[1]):  # a side without rank
        empty = np.zeros(0)
        return empty, basis_x.whitening[:, :0], basis_y.whitening[:, :0]
    if inner is None and cross is None:
        inner = basis_x.basis.conj().T @ basis_y.basis
    elif inner is None:
        inner = basis_x.whitening.conj().T @ cross @ basis_y.whitening
    left, rho, right_h = np.linalg.svd(inner, full_matrices=True)
    right = right_h[: len(rho)].conj().T
    return np.clip(rho, 0.0, 1.0), basis_x.whitening @ left, basis_y.whitening @ right


# Ties. Two canonical correlations closer than the tie tolerance (TIE_SAFETY times the accuracy of
# the correlations, :attr:`Basis.accuracy`) are tied; farther than TIE_BLEND times it, distinct;
# in between, PWCCA's weights move continuously from the one to the other (log scale of the gap).
TIE_SAFETY = 10.0
TIE_BLEND = 10.0


def tie_strengths(rho: np.ndarray, tolerance: float, unpaired: bool) -> np.ndarray:
    """How tied each neighbouring pair (rho_k, rho_k+1) of descending ``rho`` is, in [0, 1]: 1 for
    gaps up to ``tolerance``, 0 from TIE_BLEND times it, log-linear between. ``unpaired``: one more
    entry, rho_c against the zero correlation of x's directions unpaired with y."""
    values = np.append(rho, 0.0) if unpaired else rho
    gaps = np.maximum(-np.diff(values), 0.0)
    with np.errstate(divide="ignore"):
        strength = np.log(TIE_BLEND * tolerance / gaps) / np.log(TIE_BLEND)
    return np.clip(strength, 0.0, 1.0)


def settle_ties(rho, x_directions, y_directions, inner, tolerance):
    """Unique directions where correlations tie, and PWCCA's raw weights; returns (A, B, raw
    weights), each for the c = len(rho) canonical pairs.

    Within a run of k equal correlations any rotation R of the directions (A_g R, B_g R) is an
    equally valid CCA, and a run of zero correlations may take any k directions of x's basis
    uncorrelated with y (the m - k unpaired ones, columns of A and inner beyond c, included).
    PWCCA's raw weights sum_j |<h_i, z_j>| depend on that choice, so a run's weights are their
    average over all valid choices (uniformly random rotations): each of its variates gets
    E|<r, p_j>| summed over the neurons, r uniform on the unit sphere of the run's m-dimensional
    span and p_j neuron j's projection on it, = c_m sum_j ||p_j|| (:func:`mean_abs_projection`).
    This depends neither on the order of the rows or neurons nor on the solver's pick, and for
    a single correlation (m = 1) is the ordinary weight. Nearly tied runs (:func:`tie_strengths`
    strictly between 0 and 1) average the weights over tie levels, so that they move
    continuously with the data. The directions returned are one valid choice, that of tie level
    1/2: the rotation for which the neurons' projections on the tied variates are orthogonal
    (inner_g = U S R^T, an SVD of the (a x m) block of <z_j, h_i>: A_g R, B_g R, the top k).
    """
    c = len(rho)
    strength = tie_strengths(rho, tolerance, x_directions.shape[1] > c)
    raw = _blended_weights(strength, inner, c)
    x_directions, y_directions = _rotated(strength > 0.5, x_directions, y_directions, inner, c)
    return x_directions[:, :c], y_directions, raw


def tied_weights(rho, inner, tolerance) -> np.ndarray:
    """PWCCA's raw weights alone, as :func:`settle_ties` returns them, without rotating the
    directions (which the weights do not depend on); ``inner`` has a column for each of x's
    directions, the c = len(rho) canonical ones first."""
    c = len(rho)
    return _blended_weights(tie_strengths(rho, tolerance, inner.shape[1] > c), inner, c)


def _blended_weights(strength, inner, c):
    """The raw weights averaged over tie levels (:func:`settle_ties`)."""
    bounds = np.unique(np.concatenate([[0.0, 1.0], strength]))
    raw = np.zeros(c)
    for low, high in zip(bounds[:-1], bounds[1:], strict=True):
        raw = raw + (high - low) * _expected_weights(strength > (low + high) / 2, inner, c)
    return raw


def mean_abs_projection(m: int, complex_valued: bool = False) -> float:
    """E|r_1| for r uniform on the unit sphere of R^m (or C^m): Gamma(m/2) / (sqrt(pi)
    Gamma((m+1)/2)) (Gamma(m) Gamma(3/2) / Gamma(m + 1/2) in C^m); 1 for m = 1."""
    if complex_valued:
        return float(np.exp(gammaln(m) + gammaln(1.5) - gammaln(m + 0.5)))
    return float(np.exp(gammaln(m / 2) - gammaln((m + 1) / 2)) / np.sqrt(np.pi))


def _tied_runs(joined, c, width):
    """(canonical indices, columns spanned) of each run that ``joined`` links (entry k links k
    and k + 1; index c stands for x's unpaired directions, columns c..width - 1)."""
    breaks = np.flatnonzero(~joined) + 1
    for group in np.split(np.arange(len(joined) + 1), breaks):
        if len(group) > 1:
            real = group[group < c]
            yield real, (np.arange(real[0], width) if group[-1] == c else real)


def _expected_weights(joined, inner, c):
    """PWCCA's raw weights with each run that ``joined`` links averaged over its valid choices."""
    raw = np.abs(inner[:, :c]).sum(axis=0)
    for real, columns in _tied_runs(joined, c, inner.shape[1]):
        factor = mean_abs_projection(len(columns), np.iscomplexobj(inner))
        raw[real] = factor * np.linalg.norm(inner[:, columns], axis=1).sum()
    return raw


def _rotated(joined, x_directions, y_directions, inner, c):
    """(A, B) with each run of correlations that ``joined`` links rotated as :func:`settle_ties`
    says."""
    x_directions, y_directions = x_directions.copy(), y_directions.copy()
    for real, columns in _tied_runs(joined, c, inner.shape[1]):
        _, _, rotation_h = np.linalg.svd(inner[:, columns], full_matrices=False)
        rotation = rotation_h[: len(real)].conj().T
        x_directions[:, real] = x_directions[:, columns] @ rotation
        if len(columns) == len(real):  # a run at a nonzero correlation: y's partners rotate alike
            y_directions[:, real] = y_directions[:, real] @ rotation
    return x_directions, y_directions


# Linear CKA (Kornblith et al. 2019) and the baselines: HSIC and centering of whole layers.


def unbiased_hsic_terms(
    cross_sq: float, diag_k: np.ndarray, diag_l: np.ndarray
) -> tuple[float, float]:
    """Unbiased HSIC (Song et al. 2012) of linear kernels K = X X^T, L = Y Y^T of centered X, Y,
    and the size of its rounding error.

    With K~, L~ the kernels with zeroed diagonals,
    HSIC_u = [tr(K~ L~) + 1^T K~ 1 1^T L~ 1 / ((n-1)(n-2)) - 2/(n-2) 1^T K~ L~ 1] / (n (n-3)).
    For centered data K 1 = 0, so every term needs only ||X^T Y||_F^2 (``cross_sq``) and the kernel
    diagonals (squared row norms): tr(K~ L~) = cross_sq - dK.dL, 1^T K~ 1 = -sum dK, K~ 1 = -dK.
    The terms cancel exactly when a neuron varies on one datapoint only: HSIC_u is then 0 up to
    rounding, which the second value (1e-10 of the terms' magnitudes) bounds generously.
    """
    return hsic_from_sums(cross_sq, len(diag_k), diag_k @ diag_l, diag_k.sum(), diag_l.sum())


def hsic_from_sums(
    cross_sq: float, n: int, dot: float, sum_k: float, sum_l: float
) -> tuple[float, float]:
    """:func:`unbiased_hsic_terms` from the sums it reads of the kernel diagonals dK, dL (their
    dot product and totals), so that layers held elsewhere (:mod:`cca._array_api`) send only
    these numbers."""
    terms = np.array(
        [cross_sq, -dot, sum_k * sum_l / ((n - 1) * (n - 2)), -2 * dot / (n - 2)], dtype=float
    )
    return terms.sum() / (n * (n - 3)), 1e-10 * np.abs(terms).sum() / (n * (n - 3))


def unbiased_hsic(cross_sq: float, diag_k: np.ndarray, diag_l: np.ndarray) -> float:
    """Unbiased HSIC of linear kernels (see :func:`unbiased_hsic_terms`)."""
    return unbiased_hsic_terms(cross_sq, diag_k, diag_l)[0]


def self_hsic(centered: np.ndarray, diag: np.ndarray, name: str) -> float:
    """Unbiased HSIC of a layer with itself; ValueError where it is 0 (up to rounding) or below."""
    hsic, rounding = unbiased_hsic_terms(np.linalg.norm(centered.T @ centered) ** 2, diag, diag)
    return checked_self_hsic(hsic, rounding, name)


def checked_self_hsic(hsic: float, rounding: float, name: str) -> float:
    """``hsic``, a layer's unbiased HSIC with itself; ValueError where it is within ``rounding``
    of 0 or below."""
    if hsic <= rounding:
        raise ValueError(
            f"debiased CKA is undefined here: the unbiased estimate of HSIC({name}, {name}) is "
            f"{'zero' if abs(hsic) <= rounding else 'negative'} (for example when every neuron "
            f"of {name} varies on a single datapoint, or with very few datapoints), so the ratio "
            "is 0/0. Use debiased=False or more datapoints."
        )
    return hsic


def unit_scale(values: np.ndarray) -> np.ndarray:
    """``values`` divided by a power of two near its largest magnitude (exact; avoids overflow
    and underflow of squares, for measures invariant to scaling a whole layer)."""
    largest = np.abs(values).max()
    return values if largest == 0 else np.ldexp(values, -np.frexp(largest)[1])


def centered_layer(layer: np.ndarray, rescale: bool = True) -> np.ndarray:
    """Each neuron minus its mean, constant neurons exactly 0 (the mean of equal values may miss
    them by an ulp). ``rescale``: the result scaled by a power of two near its largest magnitude
    (:func:`unit_scale`), so that squares neither overflow nor underflow, and a layer of tiny
    (subnormal) values scaled up before centering, so that it keeps its digits."""
    centered, largest = center_neurons(layer)
    if rescale and 0 < largest < TINY_SPREAD:
        centered, largest = center_neurons(unit_scale(layer))
    if not rescale or largest == 0:
        return centered
    return np.ldexp(centered, -np.frexp(largest)[1])


# A centered layer whose largest magnitude is below this may have lost digits in the mean (values
# near the subnormal range): it is centered again after scaling by a power of two.
TINY_SPREAD = 2.0**-900


def center_neurons(layer: np.ndarray) -> tuple[np.ndarray, float]:
    """(``layer`` minus each neuron's mean with constant neurons set to 0, its largest magnitude).
    Only neurons whose centered values are within rounding of their mean get the exact check."""
    mean = layer.mean(axis=0)
    centered = layer - mean
    column_largest = np.abs(centered).max(axis=0)
    suspects = column_largest <= 1e3 * np.finfo(np.float64).eps * np.abs(mean)
    if suspects.any():
        constant = np.flatnonzero(suspects)[np.ptp(layer[:, suspects], axis=0) == 0]
        centered[:, constant] = 0
        column_largest[constant] = 0
    return centered, float(column_largest.max())
