"""Dask arrays in the measures: statistics per block of rows on the workers, the small solve here.

A pair of dask arrays of activations (rows are datapoints) is reduced block of rows by block of
rows. Each block's statistics, those :class:`cca.CCAAccumulator` keeps (count, column means,
centered Gram matrix of [x y], column minima and maxima; :mod:`cca._statistics`), are computed
where the block lives and
merged pairwise in a tree on the workers, exactly (Chan, Golub & LeVeque 1979; see
:mod:`cca.streaming`). Only the merged statistics, (a + b) x (a + b) numbers, reach the client:
its memory depends on the numbers of neurons and of blocks, never on the number of datapoints.
The solve is then the accumulator's, the Gram path in float64, so the results equal the in-memory
ones wherever that path is exact (float64 input with well-conditioned layers: to ~1e-12).

Each block is also screened on its worker for NaN, infinity and values beyond float64's range;
the client raises the in-memory functions' own errors, with the counts over the whole array.
Shapes, dtypes, ``conv`` and ``layout`` are checked before anything is computed (channels-first
layers are transposed lazily, so every block is read channels last). A block needs all neurons of
its rows, so x and y are rechunked to one chunk along every axis but the first, and to the same
row chunks (x's; a NumPy partner is split like the dask one).

Cosine similarity and Euclidean distance compare the same neurons and need only each neuron's
sums of squares and products of x, y and x - y: their blocks are reduced to those
(:class:`ColumnMoments`), merged the same way.

This module imports dask; the measures import it only when they meet a dask array, so
``import cca`` never imports dask.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace

import dask
import dask.array as da
import numpy as np

from cca import _linalg
from cca._solver import CCAResult
from cca._statistics import Statistics
from cca._validation import (
    MAX_MAGNITUDE,
    GramPathWarning,
    as_activations,
    channels_last,
    check_conv,
    check_dtype_and_shape,
    check_keep_fits,
    check_layout,
    check_method,
    check_same_rows,
    check_same_shape,
    float_resolution,
    gram_path_message,
    is_dask_array,
    magnitude_message,
    nonfinite_message,
    zero_layer_message,
)


def layers(
    x: object,
    y: object,
    conv: str | None,
    min_rows: int = 2,
    allow_dft: bool = False,
    layout: str | None = None,
) -> tuple[da.Array, da.Array]:
    """Validate two layers (dask arrays, or one a NumPy array) without computing them; return
    them as dask arrays with the same row chunks and one chunk along every other axis, 4-D ones
    channels last (``layout`` as :func:`cca._validation.channels_last`). ``allow_dft``:
    whether the calling function has ``conv="dft"`` in memory (for its errors)."""
    check_layout(layout)
    checked = _checked(x, "x", min_rows), _checked(y, "y", min_rows)
    check_same_rows(*checked)
    if conv is not None:
        checked = tuple(
            channels_last(array, name, layout, source)
            for array, name, source in zip(checked, "xy", (x, y), strict=True)
        )
    check_conv(conv, *checked, allow_dft)
    return _aligned(*checked)


def _checked(layer: object, name: str, min_rows: int):
    """A dask layer checked by its shape and dtype only; anything else by the in-memory checks
    (a format coarser than float32, such as float16 or bfloat16, kept as it was, so that the
    blocks carry its precision to the rank decision)."""
    if not is_dask_array(layer):
        array = as_activations(layer, name, min_rows)
        original = getattr(layer, "dtype", None)
        coarse = float_resolution(original) or 0.0
        if isinstance(original, np.dtype) and coarse > np.finfo(np.float32).eps:
            array = array.astype(original)  # exact: the values came from it
        return array
    if any(math.isnan(size) for size in layer.shape):
        raise ValueError(
            f"{name} is a dask array of unknown size (shape {layer.shape}), e.g. after boolean "
            f"indexing; call {name}.compute_chunk_sizes() first."
        )
    check_dtype_and_shape(layer.dtype, layer.shape, name, min_rows)
    return layer


def _aligned(x, y) -> tuple[da.Array, da.Array]:
    """x and y as dask arrays with the row chunks of the first dask one, whole rows per chunk."""
    rows = x.chunks[0] if is_dask_array(x) else y.chunks[0]
    return _rechunked(x, rows), _rechunked(y, rows)


def _rechunked(layer, rows: tuple[int, ...]) -> da.Array:
    """``layer`` as a dask array of row chunks ``rows`` and whole rows in each chunk."""
    chunks = (rows, *layer.shape[1:])
    if is_dask_array(layer):
        return layer.rechunk(chunks)
    return da.from_array(layer, chunks=chunks)


def statistics(x: da.Array, y: da.Array, conv: str | None) -> Statistics:
    """The statistics of aligned dask layers (from :func:`layers`), reduced on the workers."""
    return _reduce(x, y, _accumulated, conv)


def _reduce(x: da.Array, y: da.Array, summarize, *options):
    """``summarize(x_block, y_block, *options)`` of every block of rows, merged in a tree on the
    workers (``.merge``, left before right); raises the in-memory errors for invalid values."""
    blocks = [
        dask.delayed(_screened)(summarize, x_block, y_block, *options)
        for x_block, y_block, size in zip(
            x.to_delayed().ravel(), y.to_delayed().ravel(), x.chunks[0], strict=True
        )
        if size  # an empty chunk holds nothing to merge
    ]
    while len(blocks) > 1:  # neighbours merge, so the first bad value is the first in row order
        pairs = [blocks[i : i + 2] for i in range(0, len(blocks), 2)]
        blocks = [dask.delayed(_merge)(*pair) if len(pair) == 2 else pair[0] for pair in pairs]
    # One BLAS thread for the blocks this process reduces (dask's local threads): blocks run in
    # parallel, and the BLAS threads of one block's small products would compete with the other
    # blocks for the cores (on a loaded machine a block took 30 times longer). distributed's
    # worker processes start with one BLAS thread already (OPENBLAS_NUM_THREADS=1 etc.).
    with _linalg.blas_controller().limit(limits=1, user_api="blas"):
        (summary, screen), = dask.compute(blocks[0])
    for name in ("x", "y"):
        count, first, largest = screen[name]
        if count:
            raise ValueError(nonfinite_message(name, count, first))
        if largest > MAX_MAGNITUDE:
            raise ValueError(magnitude_message(name, largest))
    return summary


def accumulate(
    x: object, y: object, conv: str | None, min_rows: int = 2, layout: str | None = None
) -> Statistics:
    """:func:`layers` then :func:`statistics`."""
    return statistics(*layers(x, y, conv, min_rows, layout=layout), conv)


def _screen(block: np.ndarray) -> tuple[int, float | None, float]:
    """(number of NaN or infinite values, the first of them, largest magnitude of a float64
    block) for the in-memory errors of :func:`cca._validation.as_activations`."""
    finite = np.isfinite(block)
    count = int(block.size - np.count_nonzero(finite))
    first = block[~finite][0].item() if count else None
    wide = block.dtype.kind == "f" and block.dtype.itemsize >= 8 and not count
    largest = float(max(block.max(), -block.min())) if wide else 0.0
    return count, first, largest


def _screened(summarize, x: np.ndarray, y: np.ndarray, *options):
    """On a worker: (the block's summary, or None if a check fails; its screens)."""
    screen = {"x": _screen(x), "y": _screen(y)}
    if any(count or largest > MAX_MAGNITUDE for count, _, largest in screen.values()):
        return None, screen
    return summarize(x, y, *options), screen


def _accumulated(x: np.ndarray, y: np.ndarray, conv: str | None) -> Statistics:
    """A block's CCA statistics."""
    return Statistics(conv).update(x, y)


def _merge(left, right):
    """On a worker: two blocks' (summary, screens), left before right, merged."""
    (left_statistics, left_screen), (right_statistics, right_screen) = left, right
    screen = {
        name: (
            left_screen[name][0] + right_screen[name][0],
            left_screen[name][1] if left_screen[name][0] else right_screen[name][1],
            max(left_screen[name][2], right_screen[name][2]),
        )
        for name in ("x", "y")
    }
    if left_statistics is None or right_statistics is None:
        return None, screen
    return left_statistics.merge(right_statistics), screen


def fit(
    x: object,
    y: object,
    conv: str | None,
    method: str,
    svcca=None,
    allow_dft: bool = False,
    layout: str | None = None,
) -> CCAResult:
    """:func:`cca.cca` of layers of which one at least is a dask array (``svcca=(keep, rule)``:
    of their top principal directions, as :func:`cca.svcca`). ``allow_dft``: whether the calling
    function has ``conv="dft"`` in memory."""
    check_method(method)
    if method == "svd":
        raise ValueError(
            "method='svd' needs the layers in memory (thin SVDs of the whole data); on dask "
            "arrays the measures compute the Gram matrix chunk by chunk. Use method='auto' or "
            "'gram', or pass x.compute() and y.compute() if they fit in memory."
        )
    if conv == "dft" and allow_dft:
        raise ValueError(
            "conv='dft' (CCA per spatial frequency) needs the layers in memory; pass "
            "x.compute() and y.compute(), or use conv='mean' or 'positions' on dask arrays."
        )
    x, y = layers(x, y, conv, allow_dft=allow_dft, layout=layout)
    if svcca is not None:
        check_keep_fits(svcca[0], x.shape[-1], y.shape[-1])
    result, trusted = statistics(x, y, conv).solve(svcca)
    result = replace(result, layout=layout or "nhwc")  # the blocks were read channels last
    if method == "auto" and not trusted:
        warnings.warn(
            gram_path_message("on dask arrays")
            + " Pass method='gram' to accept this, or the layers in memory for the SVD path.",
            GramPathWarning,
            stacklevel=4,  # the caller of the measure
        )
    return result


def linear_cka(x: object, y: object, conv: str | None, layout: str | None = None) -> float:
    """:func:`cca.linear_cka` (``debiased=False``) of layers of which one is a dask array:
    ||X^T Y||_F^2 / (||X^T X||_F ||Y^T Y||_F) from the merged centered Gram matrix."""
    accumulator = accumulate(x, y, conv, layout=layout)
    moments, _ = _linalg.common_scale(accumulator.moments(warn=False), accumulator.scale)
    cross_sq = np.linalg.norm(moments.cross) ** 2
    norms = np.linalg.norm(moments.block("x")[0]) * np.linalg.norm(moments.block("y")[0])
    return float(min(cross_sq / norms, 1.0))


@dataclass(frozen=True)
class ColumnMoments:
    """Per-neuron statistics of two layers of the same neurons (flattened per datapoint), for
    cosine similarity and Euclidean distance: the count n, the means (rows: x, y and d = x - y)
    and the centered sums of squares and products (rows: xx, yy, dd, xy), each layer stored times
    a power of two (``scale``: x's, y's, d's) so that no square overflows. Two merge exactly
    (Chan, Golub & LeVeque 1979), as the accumulator's statistics do. ``low`` and ``high`` (rows
    x, y, d) are each neuron's extremes, so that constant neurons count as exactly 0 centered."""

    n: int
    mean: np.ndarray
    squares: np.ndarray
    scale: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def merge(self, other: ColumnMoments) -> ColumnMoments:
        """The statistics of both blocks' rows together (in each layer's smaller factor)."""
        scale = np.minimum(self.scale, other.scale)
        left, right = self._rescaled(scale), other._rescaled(scale)
        n = left.n + right.n
        delta = right.mean - left.mean
        products = delta[[0, 1, 2, 0]] * delta[[0, 1, 2, 1]] * (left.n * right.n / n)
        mean = left.mean + delta * (right.n / n)
        return ColumnMoments(
            n, mean, left.squares + right.squares + products, scale,
            np.minimum(left.low, right.low), np.maximum(left.high, right.high),
        )

    def _rescaled(self, scale: np.ndarray) -> ColumnMoments:
        ratio = scale / self.scale  # powers of two: exact
        squares = self.squares * (ratio[[0, 1, 2, 0]] * ratio[[0, 1, 2, 1]])[:, None]
        return ColumnMoments(
            self.n, self.mean * ratio[:, None], squares, scale,
            self.low * ratio[:, None], self.high * ratio[:, None],
        )

    def sums(self, center: bool) -> np.ndarray:
        """Sums over neurons of xx, yy, dd and xy, centered or raw (in the stored units)."""
        if center:
            varies = self.high > self.low
            live = np.stack([varies[0], varies[1], varies[2], varies[0] & varies[1]])
            return np.where(live, self.squares, 0.0).sum(axis=1)
        raw = self.mean[[0, 1, 2, 0]] * self.mean[[0, 1, 2, 1]] * self.n
        return (self.squares + raw).sum(axis=1)


def _column_moments(x: np.ndarray, y: np.ndarray) -> ColumnMoments:
    """A block's :class:`ColumnMoments`."""
    x = x.reshape(len(x), -1).astype(np.float64, copy=False)
    y = y.reshape(len(y), -1).astype(np.float64, copy=False)
    x_scale, y_scale = _power_of_two(x), _power_of_two(y)
    scale = np.array([x_scale, y_scale, min(x_scale, y_scale)])
    values = (x * scale[0], y * scale[1], (x - y) * scale[2])
    mean = np.stack([value.mean(axis=0) for value in values])
    centered = [value - row for value, row in zip(values, mean, strict=True)]
    squares = np.stack([np.einsum("ij,ij->j", *pair) for pair in (
        (centered[0], centered[0]), (centered[1], centered[1]), (centered[2], centered[2]),
        (centered[0], centered[1]),
    )])
    low = np.stack([value.min(axis=0) for value in values])
    high = np.stack([value.max(axis=0) for value in values])
    return ColumnMoments(len(x), mean, squares, scale, low, high)


def _power_of_two(values: np.ndarray) -> float:
    """A power of two that brings the largest magnitude of ``values`` to [0.5, 1) (1 if all 0)."""
    largest = np.abs(values).max()
    return 1.0 if largest == 0 else float(np.ldexp(1.0, -np.frexp(largest)[1]))


def _same_neurons(x: object, y: object) -> ColumnMoments:
    """The :class:`ColumnMoments` of two layers of the same shape, one at least a dask array."""
    x, y = _checked(x, "x", 2), _checked(y, "y", 2)
    check_same_shape(x.shape, y.shape)
    return _reduce(*_aligned(x, y), _column_moments)


def cosine_similarity(x: object, y: object, center: bool) -> float:
    """:func:`cca.cosine_similarity` of layers of which one is a dask array."""
    xx, yy, _, xy = _same_neurons(x, y).sums(center)
    norms = np.sqrt(xx) * np.sqrt(yy)
    if norms == 0:
        raise ValueError(zero_layer_message(center))
    return float(np.clip(xy / norms, -1.0, 1.0))


def euclidean_distance(x: object, y: object, center: bool) -> float:
    """:func:`cca.euclidean_distance` of layers of which one is a dask array."""
    moments = _same_neurons(x, y)
    return float(np.sqrt(moments.sums(center)[2] / moments.n) / moments.scale[2])
