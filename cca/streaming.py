"""Streaming CCA: accumulate activations batch by batch, in memory independent of the datapoints.

The accumulator keeps the sufficient statistics of the stacked layers s = [x y] (a + b columns,
:class:`cca._statistics.Statistics`): the
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

from cca._solver import CCAResult
from cca._statistics import Statistics
from cca._validation import (
    GramPathWarning,
    check_keep,
    check_keep_fits,
    check_layout,
    gram_path_message,
    is_dask_array,
)


class CCAAccumulator(Statistics):
    """Accumulate two layers' activations batch by batch; CCA measures from the totals.

    Parameters
    ----------
    conv : {"mean", "positions"}, optional
        How 4-D batches are handled, as in :func:`cca.cca`.
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D batches, as in :func:`cca.cca` (None: channels last, refusing PyTorch
        tensors and shapes that are square maps only read channels first). The result's
        ``project_x`` reads 4-D data the same way.

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

    def __init__(self, conv: str | None = None, layout: str | None = None) -> None:
        if conv not in (None, "mean", "positions"):
            raise ValueError(f"conv must be None, 'mean' or 'positions'; found {conv!r}.")
        check_layout(layout)
        super().__init__(conv, layout)

    def update(self, x: object, y: object) -> CCAAccumulator:
        """Add a batch: x (m, a) and y (m, b) (or 4-D with ``conv``); returns the accumulator.

        x and y may be dask arrays (or one of them): the batch is then reduced on the workers,
        block of rows by block of rows, and only its statistics are merged here.
        """
        if not (is_dask_array(x) or is_dask_array(y)):
            return super().update(x, y)
        from cca import _dask  # imports dask, which only dask input needs

        x, y = _dask.layers(x, y, self.conv, min_rows=1, layout=self.layout)
        self.check_layers(x.shape[-1], y.shape[-1])
        self.absorb(_dask.statistics(x, y, self.conv))
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
        return super().merge(other)

    def cca(self, *, svcca: tuple | None = None) -> CCAResult:
        """The :class:`cca.CCAResult` of all data so far (Gram path; variates via ``project_x``).

        ``svcca=(keep, rule)`` reduces each layer to its top principal directions first (as
        :func:`cca.svcca`). A :class:`cca.GramPathWarning` says when the in-memory
        ``method="auto"`` would have taken the SVD path instead.
        """
        result, trusted = self.solve(svcca)
        if not trusted:
            warnings.warn(
                gram_path_message("in an accumulator"), GramPathWarning, stacklevel=3
            )
        return result

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
        moments = self.moments()
        check_keep_fits(keep, moments.n_x, len(moments.mean) - moments.n_x)
        return self.cca(svcca=(keep, rule)).mean_cca
