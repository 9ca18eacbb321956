"""Arrays of other frameworks where they live: the CCA measures on the Python array API standard.

PyTorch tensors (through array-api-compat), JAX, CuPy and array-api-strict arrays are computed
on their own device, with the standard's own operations (means, matrix products, ``linalg.svd``),
and never copied to the host as a whole: what crosses is each neuron's extremes (for the rank
floors and the power-of-two rescaling of :mod:`cca._linalg`) and, per path,

* the Gram path: the column means and the (a + b) x (a + b) centered Gram matrix of [x y], from
  which the host solve is exactly the in-memory one (:func:`cca._solver.gram_result`);
* the SVD path: each side's singular values and right singular vectors, Qx^H Qy (c x c) and
  PWCCA's inner products X^H X A (a x c); the left singular vectors stay on the device.

So the host holds numbers of the neurons' count, never of the datapoints' (:func:`to_host` is the
one way across, which tests count). The paths and their order are those of the in-memory
functions (``method="auto"``: the Gram path in the input precision, then in float64, then the
SVD path; PWCCA and :func:`cca.cca` start in float64), the rank floors and tie rules the same, so
results equal NumPy's within the input dtype's accuracy. A device without float64 (Apple's MPS,
JAX without ``jax_enable_x64``) computes in float32 throughout, with float32's floors.

The baselines (:func:`linear_cka`, :func:`cosine_similarity`, :func:`euclidean_distance`) need
only sums: their centered layers' Gram products, or sums over all values, reduced to a few
numbers on the device.

Input is validated on the device with the in-memory functions' own messages: shape, dtype, NaN
or infinity (counted there), magnitude, ``conv`` and ``layout``. ``conv="dft"`` needs NumPy input.
Results are Python floats and NumPy arrays; a result's variates
(:attr:`cca.CCAResult.x_variates`) are computed on the data's device and stay there.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np

from cca import _linalg
from cca._solver import CCAResult, build_result, check_rank, gram_result, tie_tolerance
from cca._validation import (
    MAX_MAGNITUDE,
    array_namespace,
    as_activations,
    averaged_resolution,
    channels_last,
    check_conv,
    check_dtype_and_shape,
    check_keep_fits,
    check_layout,
    check_same_rows,
    check_same_shape,
    data_resolution,
    dead_layer_message,
    device_of,
    float_resolution,
    is_torch_tensor,
    magnitude_message,
    nonfinite_message,
    warn_if_degenerate,
    zero_layer_message,
)

FLOAT64_EPS = float(np.finfo(np.float64).eps)


def to_host(array) -> np.ndarray:
    """A small device array (statistics or factors, never the data) as a float64 NumPy array of
    its own, as the host solve computes.

    Through DLPack where the array is on the CPU; otherwise by the framework's copy to the host
    (CuPy's ``get``, PyTorch's ``cpu``, or the standard's ``to_device`` to a CPU device)."""
    try:
        host = np.from_dlpack(array)
    except (BufferError, RuntimeError, TypeError, ValueError):
        host = _copied_to_host(array)
    return np.array(host, dtype=np.float64, copy=True)


def _copied_to_host(array):
    if hasattr(array, "get"):  # CuPy
        return array.get()
    if is_torch_tensor(array):
        return array.cpu().numpy()
    space = array_namespace(array)
    cpu = [d for d in space.__array_namespace_info__().devices() if "cpu" in str(d).lower()]
    if cpu:
        return np.from_dlpack(array.to_device(cpu[0]))
    return np.asarray(array)


def has_float64(xp, device) -> bool:
    """Whether ``device`` computes in float64 (not Apple's MPS, nor JAX without x64, which
    silently makes float32 of it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # JAX warns that it truncates to float32
        try:
            return xp.asarray(0.0, dtype=xp.float64, device=device).dtype == xp.float64
        except (TypeError, ValueError, RuntimeError):
            return False


class Pair:
    """Two validated layers on one device, 2-D after ``conv``: ``x``, ``y`` in their working
    precision (float32 stays float32; other formats become float64, or float32 without it),
    ``resolution`` the machine epsilon of each one's stored values (as
    :func:`cca._validation.data_resolution`, less after averaging over space)."""

    def __init__(self, xp, x, y, conv=None, layout=None, allow_dft=False, flat=False):
        check_layout(layout)
        self.xp = xp
        self.device = _common_device(x, y)
        self.wide = has_float64(xp, self.device)
        arrays, resolution = zip(
            *(self._layer(value, name) for value, name in ((x, "x"), (y, "y"))), strict=True
        )
        if flat:  # the same neurons (cosine, Euclidean): same shape, flattened per datapoint
            check_same_shape(tuple(arrays[0].shape), tuple(arrays[1].shape))
            self.x, self.y = (
                xp.astype(xp.reshape(a, (a.shape[0], -1)), self.precision, copy=False)
                for a in arrays
            )
            self.resolution = resolution
            return
        check_same_rows(*arrays)
        if conv is not None:
            arrays = tuple(
                self._channels_last(array, name, layout, source)
                for array, name, source in zip(arrays, "xy", (x, y), strict=True)
            )
        check_conv(conv, *arrays, allow_dft)
        if conv == "dft":
            raise ValueError(
                "conv='dft' (CCA per spatial frequency) needs NumPy input; pass x and y as "
                "NumPy arrays (tensor.detach().cpu().numpy()), or use conv='mean' or "
                "'positions' on the device."
            )
        self.resolution = tuple(
            averaged_resolution(r, array, conv) for r, array in zip(resolution, arrays, strict=True)
        )
        x, y = (self._reduced(array, conv) for array in arrays)
        if x.dtype != y.dtype:
            x, y = (xp.astype(v, self.precision, copy=False) for v in (x, y))
        self.x, self.y = x, y

    @property
    def precision(self):
        """The widest floating-point type of the device: float64, or float32 without it."""
        return self.xp.float64 if self.wide else self.xp.float32

    def _layer(self, value, name):
        """One layer validated on the device (a NumPy partner validated here, then moved)."""
        xp = self.xp
        if array_namespace(value) is None:
            host = as_activations(value, name)
            if not self.wide:
                host = host.astype(np.float32)
            return xp.asarray(host, device=self.device), data_resolution(value)
        if hasattr(value, "detach"):
            value = value.detach()  # a PyTorch autograd graph: the measures are not differentiable
        real = xp.isdtype(value.dtype, ("real floating", "integral", "bool"))
        check_dtype_and_shape(value.dtype, tuple(value.shape), name, 2, real=real)
        if xp.isdtype(value.dtype, "real floating"):
            _screen(xp, value, name)
        working = value.dtype if value.dtype in (xp.float32, self.precision) else self.precision
        # The rounding in the stored values, or in the working precision where that is coarser
        # (integers on a device without float64).
        eps = float_resolution(value.dtype) or FLOAT64_EPS
        eps = max(eps, float(np.finfo(np.float32 if working == xp.float32 else np.float64).eps))
        return xp.astype(value, working, copy=False), eps

    def _channels_last(self, array, name, layout, source):
        if array.ndim == 4 and layout == "nchw":
            return self.xp.permute_dims(array, (0, 2, 3, 1))
        return channels_last(array, name, layout, source)  # checks; channels last as it is

    def _reduced(self, array, conv):
        """:func:`cca._validation.reduce_space` on the device (means accumulated in float64)."""
        xp = self.xp
        if array.ndim == 2:
            return array
        if conv == "positions":
            return xp.reshape(array, (-1, array.shape[-1]))
        return xp.astype(xp.mean(xp.astype(array, self.precision), axis=(1, 2)), array.dtype)


def _common_device(x, y):
    devices = [device_of(v) for v in (x, y) if array_namespace(v) is not None]
    if len(devices) == 2 and str(devices[0]) != str(devices[1]):
        raise ValueError(
            f"x is on device {devices[0]} and y on {devices[1]}; move one to the other's "
            "device (e.g. y.to(x.device) in PyTorch)."
        )
    return devices[0]


def _screen(xp, value, name) -> None:
    """The in-memory errors for NaN, infinity or values beyond float64's range, found on the
    device (only a count, the first bad value and the largest magnitude cross). The largest
    magnitude, from two reductions (the standard's max and min propagate NaN), clears the usual
    layer; only a layer it flags is searched for its bad values."""
    largest = max(float(xp.max(value)), -float(xp.min(value)))
    if math.isfinite(largest) and (largest <= MAX_MAGNITUDE or value.dtype != xp.float64):
        return
    bad = ~xp.isfinite(value)
    count = int(xp.count_nonzero(bad))
    if count:
        flat = xp.reshape(value, (-1,))
        first = int(xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8)))
        raise ValueError(nonfinite_message(name, count, float(flat[first])))
    raise ValueError(magnitude_message(name, largest))


def fit(
    x, y, xp, method, conv=None, svcca=None, layout=None, directions=True, allow_dft=False
) -> CCAResult:
    """:func:`cca.cca` of layers of which one at least is an array of namespace ``xp`` (the
    module docstring); ``svcca=(keep, rule)`` of their top principal directions; ``directions``
    whether the directions are used (PWCCA, :func:`cca.cca`), as :func:`cca._solver.fit`."""
    pair = Pair(xp, x, y, conv, layout, allow_dft)
    layout = layout or "nhwc"
    n, a, b = pair.x.shape[0], pair.x.shape[1], pair.y.shape[1]
    if svcca is not None:
        check_keep_fits(svcca[0], a, b)
    warn_if_degenerate(n, a, b, stacklevel=5)
    sides = _Scaled(pair, uniform=svcca is not None)
    resolution = _linalg.per_neuron(pair.resolution, a, b)
    for dtype in _gram_dtypes(pair, method, directions):
        moments = sides.moments(dtype, resolution)
        bases = tuple(moments.basis(side, np.dtype(dtype), svcca) for side in "xy")
        if method == "gram" or all(basis.trusted for basis in bases):
            check_rank(bases, conv)
            path = f"gram-{np.dtype(dtype).name}"
            result = gram_result(moments, bases, sides.scale, path, conv, layout=layout)
            return replace(result, _x=pair.x, _y=pair.y)
    return sides.svd_result(resolution, svcca, conv, layout)


def _gram_dtypes(pair, method, directions) -> list:
    """The precisions of the Gram path's tries, as :func:`cca._solver.fit_sides` (NumPy names),
    without float64 on a device that lacks it; none for ``method="svd"``."""
    if method == "svd":
        return []
    first = "float32" if pair.x.dtype == pair.xp.float32 else "float64"
    dtypes = [first] + (["float64"] if first == "float32" else [])
    if directions and method == "auto":
        dtypes = ["float64"]
    if not pair.wide:
        dtypes = ["float32"]
    return dtypes


class _Scaled:
    """A pair's [x y] on the device, neurons rescaled by powers of two where their magnitudes
    need it (:func:`cca._linalg.scales_from_extremes`), with the mask of varying neurons."""

    def __init__(self, pair: Pair, uniform: bool):
        xp = self.xp = pair.xp
        self.pair, self.n_x = pair, pair.x.shape[1]
        stacked = xp.concat([pair.x, pair.y], axis=1)
        low = to_host(xp.min(stacked, axis=0))
        high = to_host(xp.max(stacked, axis=0))
        dtype = np.float32 if stacked.dtype == xp.float32 else np.float64
        cut = self.n_x
        scales = [
            _linalg.scales_from_extremes(low[part], high[part], dtype, uniform, name)
            for part, name in ((slice(None, cut), "x"), (slice(cut, None), "y"))
        ]
        self.scale = None
        if any(s is not None for s in scales):
            sizes = (cut, len(low) - cut)
            self.scale = np.concatenate(
                [np.ones(size) if s is None else s for s, size in zip(scales, sizes, strict=True)]
            )
            stacked = stacked * xp.asarray(self.scale, dtype=stacked.dtype, device=pair.device)
            low, high = low * self.scale, high * self.scale
        self.stacked = stacked
        self.live = high > low
        for name, part in (("x", self.live[:cut]), ("y", self.live[cut:])):
            if not part.any():
                raise ValueError(dead_layer_message(name, stacked.shape[0]))

    def _centered(self, dtype):
        """[x y] centered (means accumulated in the device's widest precision) in ``dtype``,
        dead neurons exactly 0, and the means on the host."""
        xp, pair = self.xp, self.pair
        wide = xp.astype(self.stacked, pair.precision, copy=False)
        mean = xp.mean(wide, axis=0)
        centered = xp.astype(wide - mean, dtype, copy=False)
        if not self.live.all():
            centered = centered * xp.asarray(self.live, dtype=dtype, device=pair.device)
        return centered, to_host(mean)

    def moments(self, name: str, resolution) -> _linalg.Moments:
        """:func:`cca._linalg.moments_of` of the device data, the products in ``name``."""
        centered, mean = self._centered(getattr(self.xp, name))
        gram = to_host(self.xp.matmul(centered.T, centered))
        return _linalg.Moments(centered.shape[0], mean, gram, self.live, self.n_x, resolution)

    def svd_result(self, resolution, svcca, conv, layout) -> CCAResult:
        """The SVD path (:func:`cca._linalg.data_basis` per side) on the device, the solve and
        :func:`cca._solver.build_result` here."""
        xp, pair = self.xp, self.pair
        centered, mean = self._centered(pair.precision)
        n, cut = centered.shape[0], self.n_x
        squares = to_host(xp.sum(centered * centered, axis=0))
        noise = _linalg.rounding_noise(squares + n * mean**2, resolution)
        eps = float(np.finfo(np.float64 if pair.wide else np.float32).eps)
        parts = (centered[:, :cut], centered[:, cut:])
        masks, noises = (self.live[:cut], self.live[cut:]), (noise[:cut], noise[cut:])
        sides = [
            self._side_basis(part, live, svcca, side_noise, eps)
            for part, live, side_noise in zip(parts, masks, noises, strict=True)
        ]
        bases = tuple(basis for basis, _ in sides)
        check_rank(bases, conv)
        inner = to_host(xp.matmul(sides[0][1].T, sides[1][1]))
        rho, x_directions, y_directions = _linalg.solve(*bases, inner=inner)
        on_device = xp.asarray(x_directions, dtype=pair.precision, device=pair.device)
        products = to_host(xp.matmul(parts[0].T, xp.matmul(parts[0], on_device)))
        result = build_result(
            rho, x_directions, y_directions, products, mean, self.scale,
            "svd", conv, n=n, tolerance=tie_tolerance(bases), layout=layout,
        )
        return replace(result, _x=pair.x, _y=pair.y)

    def _side_basis(self, centered, live, svcca, noise, eps):
        """One side's :class:`cca._linalg.Basis` and its Q (n x r, on the device)."""
        xp, device = self.xp, self.pair.device
        columns = xp.asarray(np.flatnonzero(live), device=device)
        data = xp.take(centered, columns, axis=1)
        if svcca is None:
            scale = 1 / xp.linalg.vector_norm(data, axis=0)
        else:
            scale = xp.ones(data.shape[1], dtype=data.dtype, device=device)
        left, singular, right_h = xp.linalg.svd(data * scale, full_matrices=False)
        basis, kept = _linalg.basis_from_svd(
            to_host(singular), to_host(right_h), to_host(scale), live, data.shape[0], svcca,
            noise, eps,
        )
        return basis, xp.take(left, xp.asarray(kept, device=device), axis=1)


# --------------------------------------------------------------------------- the baselines


def _power_of_two(largest: float) -> float:
    """A power of two that brings ``largest`` (> 0) to [0.5, 1)."""
    return float(np.ldexp(1.0, -np.frexp(largest)[1]))


def _largest(xp, array) -> float:
    return max(float(xp.max(array)), -float(xp.min(array)))


def _centered_layer(xp, layer, rescale: bool = True):
    """:func:`cca._linalg.centered_layer` on the device: each neuron minus its mean, constant
    neurons exactly 0 (from their extremes), scaled by powers of two (exact) so that squares
    neither overflow nor underflow; and whether any neuron varies."""
    largest = _largest(xp, layer)
    if rescale and largest > 0:
        layer = layer * _power_of_two(largest)
    varies = xp.max(layer, axis=0) > xp.min(layer, axis=0)
    centered = (layer - xp.mean(layer, axis=0)) * xp.astype(varies, layer.dtype)
    spread = _largest(xp, centered)
    if rescale and spread > 0:
        centered = centered * _power_of_two(spread)
    return centered, spread > 0


def _frobenius_sq(xp, matrix) -> float:
    return float(xp.sum(matrix * matrix))


def linear_cka(x, y, xp, debiased: bool, conv, layout) -> float:
    """:func:`cca.linear_cka` on the device: the centered layers' Gram products there, a few
    sums to the host (for ``debiased``, those of the kernel diagonals,
    :func:`cca._linalg.hsic_from_sums`)."""
    pair = Pair(xp, x, y, conv, layout)
    layers = []
    for name, layer in (("x", pair.x), ("y", pair.y)):
        centered, varies = _centered_layer(xp, xp.astype(layer, pair.precision, copy=False))
        if not varies:
            raise ValueError(dead_layer_message(name, layer.shape[0]))
        layers.append(centered)
    x, y = layers
    n = x.shape[0]
    if debiased and n < 4:
        raise ValueError(f"debiased CKA needs at least 4 datapoints; found {n}.")
    cross_sq = _frobenius_sq(xp, xp.matmul(x.T, y))
    self_x, self_y = (_frobenius_sq(xp, xp.matmul(s.T, s)) for s in (x, y))
    if not debiased:
        return float(min(cross_sq / (math.sqrt(self_x) * math.sqrt(self_y)), 1.0))
    diag_k, diag_l = xp.sum(x * x, axis=1), xp.sum(y * y, axis=1)
    sum_k, sum_l = float(xp.sum(diag_k)), float(xp.sum(diag_l))
    hsic_xy, _ = _linalg.hsic_from_sums(cross_sq, n, float(xp.sum(diag_k * diag_l)), sum_k, sum_l)
    hsic_xx = _linalg.checked_self_hsic(*_linalg.hsic_from_sums(
        self_x, n, float(xp.sum(diag_k * diag_k)), sum_k, sum_k), "x")
    hsic_yy = _linalg.checked_self_hsic(*_linalg.hsic_from_sums(
        self_y, n, float(xp.sum(diag_l * diag_l)), sum_l, sum_l), "y")
    return float(hsic_xy / math.sqrt(hsic_xx * hsic_yy))


def cosine_similarity(x, y, xp, center: bool) -> float:
    """:func:`cca.cosine_similarity` on the device (three sums to the host)."""
    pair = Pair(xp, x, y, flat=True)
    if center:
        (x, _), (y, _) = _centered_layer(xp, pair.x), _centered_layer(xp, pair.y)
    else:
        x, y = (s * _power_of_two(m) if (m := _largest(xp, s)) > 0 else s
                for s in (pair.x, pair.y))
    norms = math.sqrt(float(xp.sum(x * x))) * math.sqrt(float(xp.sum(y * y)))
    if norms == 0:
        raise ValueError(zero_layer_message(center))
    return float(np.clip(float(xp.sum(x * y)) / norms, -1.0, 1.0))


def euclidean_distance(x, y, xp, center: bool) -> float:
    """:func:`cca.euclidean_distance` on the device (one sum to the host)."""
    pair = Pair(xp, x, y, flat=True)
    difference = pair.x - pair.y
    largest = _largest(xp, difference)
    if largest == 0:
        return 0.0
    exponent = int(np.frexp(largest)[1])  # in units of 2^exponent: exact, no underflow
    scaled = difference * float(np.ldexp(1.0, -exponent))
    if center:
        scaled, _ = _centered_layer(xp, scaled, rescale=False)
    norm = math.sqrt(float(xp.sum(scaled * scaled)))
    return float(np.ldexp(norm, exponent) / math.sqrt(pair.x.shape[0]))
