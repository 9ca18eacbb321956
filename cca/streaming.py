"""Streaming CCA: accumulate activations batch by batch, in memory independent of the datapoints.

The accumulator keeps the sufficient statistics of the stacked layers s = [x y] (a + b columns): the
count n, the column means m, the centered cross-product matrix M = sum_i (s_i - m)(s_i - m)^T, plus
each column's minimum and maximum (to recognise constant neurons exactly). Two sets of statistics
(n_A, m_A, M_A) and (n_B, m_B, M_B) combine exactly (Chan, Golub & LeVeque 1979):

    n = n_A + n_B,   d = m_B - m_A,   m = m_A + d n_B / n,   M = M_A + M_B + d d^T n_A n_B / n,

which never subtracts large uncentered sums, so it stays accurate when means dwarf variances. A
batch is merged as its own (n_B, m_B, M_B), computed by centering the batch.

Everything CCA needs comes from M (see :mod:`cca._linalg`): M_xx, M_yy give the whitening, M_xy the
cross term, and the PWCCA inner products <h_i, z_j> = (z_j)^T X a_i = (M_xx a_i)_j, since the
centered neurons z_j are the columns of X and h_i = X a_i. So the results equal those of
the in-memory functions with ``method="gram"`` in float64 (to rounding, ~1e-12 when
well-conditioned).
The SVD fallback of ``method="auto"`` needs the data, so the accumulator cannot take it: on layers
whose equilibrated covariance has eigenvalues below 1e-6 of the largest, expect errors of about
1e-16 / (that ratio) in the smallest correlations.

``update`` also takes dask arrays: their blocks of rows are reduced to these statistics on the
workers and merged there, and only the merged statistics come back (:mod:`cca._dask`).
"""

from __future__ import annotations

import warnings

import numpy as np

from cca import _linalg
from cca._validation import (
    GramPathWarning,
    as_activations,
    check_conv,
    check_keep,
    check_keep_fits,
    check_no_subnormal_neurons,
    check_same_rows,
    data_resolution,
    dead_layer_message,
    gram_path_message,
    is_dask_array,
    reduce_space,
    warn_if_degenerate,
)
from cca.measures import CCAResult, _check_rank, build_result, tie_tolerance


class CCAAccumulator:
    """Accumulate two layers' activations batch by batch; CCA measures from the totals.

    Parameters
    ----------
    conv : {"mean", "positions"}, optional
        How 4-D batches (n, h, w, c) are handled, as in :func:`cca.cca`.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(1000, 6))
    >>> y = x @ rng.normal(size=(6, 4)) + rng.normal(size=(1000, 4))
    >>> acc = cca.CCAAccumulator()
    >>> for start in range(0, 1000, 300):
    ...     _ = acc.update(x[start:start + 300], y[start:start + 300])
    >>> bool(np.isclose(acc.pwcca(), cca.pwcca(x, y)))
    True
    >>> left, right = cca.CCAAccumulator().update(x[:400], y[:400]), cca.CCAAccumulator()
    >>> bool(np.isclose(left.merge(right.update(x[400:], y[400:])).mean_cca(), cca.mean_cca(x, y)))
    True

    A dask array is reduced chunk by chunk where its chunks live (``pip install "pwcca[dask]"``):

    >>> import dask.array as da
    >>> acc = cca.CCAAccumulator().update(da.from_array(x, chunks=300), y)
    >>> bool(np.isclose(acc.pwcca(), cca.pwcca(x, y), rtol=0, atol=1e-10))
    True
    """

    def __init__(self, conv: str | None = None) -> None:
        if conv not in (None, "mean", "positions"):
            raise ValueError(f"conv must be None, 'mean' or 'positions'; found {conv!r}.")
        self.conv = conv
        self.n_samples = 0
        self._n_x: int | None = None
        self._mean: np.ndarray | None = None
        self._gram: np.ndarray | None = None
        self._low: np.ndarray | None = None
        self._high: np.ndarray | None = None
        self._scale: np.ndarray | None = None  # powers of two the neurons are stored times
        self._resolution = 0.0  # per neuron: machine epsilon of the coarsest precision fed

    def update(self, x: object, y: object) -> CCAAccumulator:
        """Add a batch: x (m, a) and y (m, b) (or 4-D with ``conv``); returns the accumulator.

        x and y may be dask arrays (or one of them): the batch is then reduced on the workers,
        block of rows by block of rows, and only its statistics are merged here.
        """
        if is_dask_array(x) or is_dask_array(y):
            from cca import _dask  # imports dask, which only dask input needs

            x, y = _dask.layers(x, y, self.conv, min_rows=1)
            self._check_layers(x.shape[-1], y.shape[-1])
            self._absorb_part(_dask.statistics(x, y, self.conv))
            return self
        raw_x, raw_y = x, y
        x, y = as_activations(x, "x", min_rows=1), as_activations(y, "y", min_rows=1)
        check_same_rows(x, y)
        check_conv(self.conv, x, y, allow_dft=False)
        check_no_subnormal_neurons(x, "x")
        check_no_subnormal_neurons(y, "y")
        batch = np.hstack([reduce_space(x, self.conv), reduce_space(y, self.conv)])
        batch = batch.astype(np.float64, copy=False)
        self._check_layers(x.shape[-1], batch.shape[1] - x.shape[-1])
        if self._scale is None:
            magnitude = np.abs(batch).max(axis=0)
            self._scale = np.ldexp(1.0, -np.frexp(np.where(magnitude > 0, magnitude, 1.0))[1])
        batch = batch * self._scale
        mean = batch.mean(axis=0)
        centered = batch - mean
        gram = centered.T @ centered
        resolution = _linalg.per_neuron(
            (data_resolution(raw_x), data_resolution(raw_y)), x.shape[-1], y.shape[-1]
        )
        self._absorb(
            len(batch), mean, gram, batch.min(0), batch.max(0), x.shape[-1], self._scale, resolution
        )
        return self

    def merge(self, other: CCAAccumulator) -> CCAAccumulator:
        """A new accumulator holding the data of both (exact; e.g. results of two workers)."""
        if not isinstance(other, CCAAccumulator):
            raise ValueError(f"other must be a CCAAccumulator; found {type(other).__name__}.")
        if other.conv != self.conv:
            raise ValueError(
                f"cannot merge accumulators with different conv settings: this one has "
                f"conv={self.conv!r}, the other conv={other.conv!r}. Accumulate both with the same."
            )
        merged = CCAAccumulator(self.conv)
        for part in (self, other):
            merged._absorb_part(part)
        return merged

    def _check_layers(self, n_x: int, n_y: int, what: str = "this batch has") -> None:
        """ValueError unless ``what`` (a batch, another accumulator) of n_x + n_y neurons fits
        the data so far."""
        if self._n_x is not None and (n_x, n_y) != (self._n_x, len(self._mean) - self._n_x):
            raise ValueError(
                f"{what} {n_x} + {n_y} neurons; earlier batches had {self._n_x} + "
                f"{len(self._mean) - self._n_x}. Feed the same layers."
            )

    def _absorb_part(self, part: CCAAccumulator) -> None:
        """Merge another accumulator's statistics into this one."""
        if part.n_samples:
            n_y = len(part._mean) - part._n_x
            self._check_layers(part._n_x, n_y, "the other accumulator holds")
            self._absorb(
                part.n_samples, part._mean, part._gram, part._low, part._high, part._n_x,
                part._scale, part._resolution,
            )

    def _absorb(self, n, mean, gram, low, high, n_x, scale, resolution) -> None:
        """Merge statistics of data stored times ``scale`` (Chan, Golub & LeVeque, exact).

        The merged statistics keep each neuron's smaller factor, so a part of larger values
        (merged from elsewhere) does not overflow; the factors are powers of two, so exact.
        """
        self._resolution = np.maximum(self._resolution, resolution)
        if self._n_x is None:
            self.n_samples, self._mean, self._gram = n, mean.copy(), gram.copy()
            self._low, self._high, self._n_x, self._scale = low.copy(), high.copy(), n_x, scale
            return
        common = np.minimum(self._scale, scale)
        if np.any(common != self._scale):
            ratio = common / self._scale
            self._mean, self._gram = self._mean * ratio, self._gram * np.outer(ratio, ratio)
            self._low, self._high, self._scale = self._low * ratio, self._high * ratio, common
        ratio = common / scale
        mean, gram = mean * ratio, gram * np.outer(ratio, ratio)
        low, high = low * ratio, high * ratio
        total = self.n_samples + n
        delta = mean - self._mean
        gram = self._gram + gram + np.outer(delta, delta) * (self.n_samples * n / total)
        if not np.all(np.isfinite(gram)):
            raise ValueError(
                "these activations are too large relative to the first batch to accumulate "
                "(the sums of squares overflow float64). Rescale the layer: every measure is "
                "invariant to scaling a whole layer."
            )
        self._gram = gram
        self._mean = self._mean + delta * (n / total)
        self._low, self._high = np.minimum(self._low, low), np.maximum(self._high, high)
        self.n_samples = total

    def _moments(self, warn: bool = True) -> _linalg.Moments:
        """The statistics as :class:`cca._linalg.Moments`, dead neurons zeroed; ``warn``: issue
        :class:`cca.DegenerateCCAWarning` when there are too few datapoints for CCA."""
        if self.n_samples < 2:
            raise ValueError(
                f"the accumulator holds {self.n_samples} datapoint(s); feed at least 2 by update()."
            )
        live = self._high > self._low
        for name, part in (("x", live[: self._n_x]), ("y", live[self._n_x :])):
            if not part.any():
                raise ValueError(dead_layer_message(name, self.n_samples))
        gram = np.where(np.outer(live, live), self._gram, 0.0)
        if warn:
            warn_if_degenerate(self.n_samples, self._n_x, len(live) - self._n_x, stacklevel=4)
        return _linalg.Moments(
            self.n_samples, self._mean, gram, live, self._n_x, self._resolution
        )

    def cca(self, *, svcca: tuple | None = None) -> CCAResult:
        """The :class:`cca.CCAResult` of all data so far (Gram path; variates via ``project_x``).

        ``svcca=(keep, rule)`` reduces each layer to its top principal directions first (as
        :func:`cca.svcca`). A :class:`cca.GramPathWarning` says when the in-memory
        ``method="auto"`` would have taken the SVD path instead.
        """
        result, trusted = self._solve(svcca)
        if not trusted:
            warnings.warn(
                gram_path_message("in an accumulator"), GramPathWarning, stacklevel=3
            )
        return result

    def _solve(self, svcca: tuple | None = None) -> tuple[CCAResult, bool]:
        """The result of :meth:`cca` and whether the Gram path trusts both layers' directions
        (no kept eigenvalue below :data:`cca._linalg.TRUST_FLOOR`, where ``method="auto"`` of the
        in-memory functions would take the SVD path instead)."""
        moments, scale = self._moments(), self._scale
        if svcca is not None:  # PCA is not invariant to per-neuron scales
            moments, scale = _linalg.common_scale(moments, scale)
        float64 = np.dtype(np.float64)
        bases = [moments.basis(side, float64, svcca) for side in "xy"]
        _check_rank(bases, self.conv)
        rho, x_directions, y_directions = _linalg.solve(*bases, moments.cross)
        inner = moments.block("x")[0] @ x_directions
        result = build_result(
            rho, x_directions, y_directions, inner, moments.mean, scale, "gram-float64",
            self.conv, n=moments.n, tolerance=tie_tolerance(bases),
        )
        return result, all(basis.trusted for basis in bases)

    def canonical_correlations(self) -> np.ndarray:
        """Canonical correlations of all data so far, as :func:`cca.canonical_correlations`."""
        return self.cca().correlations

    def mean_cca(self) -> float:
        """Mean CCA similarity of all data so far, as :func:`cca.mean_cca`."""
        return self.cca().mean_cca

    def pwcca(self) -> float:
        """PWCCA similarity (weights from x) of all data so far, as :func:`cca.pwcca`."""
        return self.cca().pwcca

    def svcca(self, keep: float | int = 0.99, *, rule: str = "variance") -> float:
        """SVCCA similarity of all data so far, as :func:`cca.svcca`."""
        check_keep(keep, rule)
        moments = self._moments()
        check_keep_fits(keep, moments.n_x, len(moments.mean) - moments.n_x)
        return self.cca(svcca=(keep, rule)).mean_cca
