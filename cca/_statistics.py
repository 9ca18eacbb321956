"""Mergeable statistics of a pair of layers, the core of :class:`cca.CCAAccumulator`.

The count n, the column means m, the centered cross-product matrix M = sum_i (s_i - m)(s_i - m)^T
of the stacked layers s = [x y], and each column's minimum and maximum (to recognise constant
neurons exactly). Two sets combine exactly (Chan, Golub & LeVeque 1979):

    n = n_A + n_B,   d = m_B - m_A,   m = m_A + d n_B / n,   M = M_A + M_B + d d^T n_A n_B / n.

Everything CCA needs comes from M (:func:`cca._solver.solve_moments`). The accumulator feeds
these from batches in memory; :mod:`cca._dask` from the blocks of dask arrays, on the workers.
"""

from __future__ import annotations

import numpy as np

from cca import _linalg
from cca._solver import CCAResult, solve_moments
from cca._validation import (
    averaged_resolution,
    check_no_subnormal_neurons,
    data_resolution,
    dead_layer_message,
    layer_pair,
    reduce_space,
    warn_if_degenerate,
)


class Statistics:
    """The sufficient statistics of two layers' activations, fed batch by batch in memory.
    ``conv`` and ``layout``: how 4-D batches are read (:func:`cca._validation.layer_pair`)."""

    def __init__(self, conv: str | None = None, layout: str | None = "nhwc") -> None:
        self.conv = conv
        self.layout = layout
        self.n_samples = 0
        self._n_x: int | None = None
        self._mean: np.ndarray | None = None
        self._gram: np.ndarray | None = None
        self._low: np.ndarray | None = None
        self._high: np.ndarray | None = None
        self._scale: np.ndarray | None = None  # powers of two the neurons are stored times
        self._resolution = 0.0  # per neuron: machine epsilon of the coarsest precision fed

    def update(self, x: object, y: object) -> Statistics:
        """Add a batch in memory: x (m, a) and y (m, b) (or 4-D with ``conv``); returns self."""
        raw_x, raw_y = x, y
        x, y = layer_pair(x, y, self.conv, self.layout, allow_dft=False, min_rows=1)
        check_no_subnormal_neurons(x, "x")
        check_no_subnormal_neurons(y, "y")
        batch = np.hstack([reduce_space(x, self.conv), reduce_space(y, self.conv)])
        batch = batch.astype(np.float64, copy=False)
        self.check_layers(x.shape[-1], batch.shape[1] - x.shape[-1])
        if self._scale is None:
            magnitude = np.abs(batch).max(axis=0)
            self._scale = np.ldexp(1.0, -np.frexp(np.where(magnitude > 0, magnitude, 1.0))[1])
        batch = batch * self._scale
        mean = batch.mean(axis=0)
        centered = batch - mean
        gram = centered.T @ centered
        resolution = _linalg.per_neuron(
            (averaged_resolution(data_resolution(raw_x), x, self.conv),
             averaged_resolution(data_resolution(raw_y), y, self.conv)),
            x.shape[-1], y.shape[-1],
        )
        self._absorb(
            len(batch), mean, gram, batch.min(0), batch.max(0), x.shape[-1], self._scale, resolution
        )
        return self

    def merge(self, other: Statistics) -> Statistics:
        """New statistics holding the data of both (exact)."""
        merged = type(self)(self.conv, self.layout)
        for part in (self, other):
            merged.absorb(part)
        return merged

    def check_layers(self, n_x: int, n_y: int, what: str = "this batch has") -> None:
        """ValueError unless ``what`` (a batch, other statistics) of n_x + n_y neurons fits
        the data so far."""
        if self._n_x is not None and (n_x, n_y) != (self._n_x, len(self._mean) - self._n_x):
            raise ValueError(
                f"{what} {n_x} + {n_y} neurons; earlier batches had {self._n_x} + "
                f"{len(self._mean) - self._n_x}. Feed the same layers."
            )

    def absorb(self, part: Statistics) -> None:
        """Merge another set of statistics into this one."""
        if part.n_samples:
            n_y = len(part._mean) - part._n_x
            self.check_layers(part._n_x, n_y, "the other accumulator holds")
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

    def moments(self, warn: bool = True) -> _linalg.Moments:
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

    @property
    def scale(self) -> np.ndarray:
        """The powers of two each neuron is stored times (x's first)."""
        return self._scale

    def solve(self, svcca: tuple | None = None) -> tuple[CCAResult, bool]:
        """CCA of all data so far (:func:`cca._solver.solve_moments`) and whether the Gram path
        trusts both layers' directions (no eigenvalue where ``method="auto"`` of the in-memory
        functions would take the SVD path)."""
        layout = self.layout or "nhwc"  # None read channels last, or refused the batch
        return solve_moments(self.moments(), self._scale, self.conv, svcca, layout)
