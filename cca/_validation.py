"""Input checks at the boundary of the public API, and the spatial handling of conv layers.

Public functions call these once, at the top; the numerical core trusts what they return: 2-D arrays
of float32 or float64 (4-D (n, h, w, c) only for ``conv="dft"``), finite, with the same number of
rows. Conv layers laid out channels first (PyTorch's (n, c, h, w)) are read channels last here,
once (:func:`channels_last`), so the core sees one layout.
"""

from __future__ import annotations

import numbers
import re
import warnings

import numpy as np

CONV_MODES = ("mean", "positions", "dft")
METHODS = ("auto", "gram", "svd")
LAYOUTS = ("nhwc", "nchw")


class DegenerateCCAWarning(UserWarning):
    """CCA was asked for with too few datapoints for the number of neurons.

    With ``n`` datapoints the centered activations span at most ``n - 1`` dimensions, so when the
    two layers together have at least ``n`` neurons at least ``a + b - (n - 1)`` canonical
    correlations are exactly 1 whatever the data: the similarity is an artefact of the sample size
    (the paper's Section 2 notes this degenerate regime). Use more datapoints than the two layers
    have neurons together, ideally many times more.
    """


class GramPathWarning(UserWarning):
    """A result from dask arrays or a CCAAccumulator may be less accurate than ``method="auto"``
    would be in memory.

    A layer's equilibrated covariance has eigenvalues below 1e-6 of the largest (nearly dependent
    neurons, or a large shift between groups of datapoints), where the in-memory functions
    switch from the Gram matrix to SVDs of the data. From the Gram matrix alone, expect errors of
    about 1e-16 / (that ratio) in the smallest canonical correlations, and a direction whose
    singular value lies below about 1e-7 of the largest cannot be told from rounding, so it may
    be dropped (exactly duplicated neurons, which have no such direction, warn too).
    ``method="gram"`` accepts this without the warning on dask arrays; for the SVD path, pass
    the layers in memory (``x.compute()``, or the concatenated batches to the measures).
    """


def gram_path_message(where: str) -> str:
    """The text of :class:`GramPathWarning` for results computed ``where``."""
    return (
        "a layer is nearly rank-deficient (equilibrated covariance eigenvalues below 1e-6 of the "
        f"largest, or directions too small for the Gram matrix to resolve): {where} only the "
        "Gram matrix is available, which gives the smallest correlations to about 1e-16 / that "
        "ratio and may drop a direction below about 1e-7 of the largest; in memory, "
        "method='auto' would use SVDs of the data. Exactly duplicated neurons cause this too, "
        "harmlessly."
    )


def as_activations(value: object, name: str, min_rows: int = 2) -> np.ndarray:
    """Convert ``value`` to a finite float32/float64 array of shape (n, d) or 4-D (as laid out).

    float32 stays float32 (the Gram path checks whether that is accurate enough); every other real
    dtype becomes float64, the number formats NumPy does not know as numbers too (bfloat16 and the
    other formats of ml_dtypes, which JAX and TensorFlow arrays convert to; a PyTorch bfloat16
    tensor, which NumPy cannot convert, through float32, which holds it exactly). Raises
    ValueError naming ``name`` for anything else: None, masked arrays with masked values,
    strings, complex numbers, NaN or infinity, values beyond float64's range, or the wrong number
    of dimensions.
    """
    if value is None:
        raise ValueError(f"{name} is None; pass the layer's activations as an array.")
    if is_dask_array(value):
        raise ValueError(
            f"{name} is a dask array, and this function needs the whole layer in memory. The "
            "measures (cca, canonical_correlations, mean_cca, svcca, pwcca, linear_cka with "
            "debiased=False, cosine_similarity, euclidean_distance, and the distances) and "
            "CCAAccumulator.update reduce dask arrays chunk by chunk. If the layer fits in "
            f"memory, pass {name}.compute()."
        )
    if isinstance(value, np.ma.MaskedArray):
        if np.ma.count_masked(value):
            raise ValueError(
                f"{name} is a masked array with {np.ma.count_masked(value)} masked value(s); the "
                "measures need every value. Drop the datapoints (rows) with masked values from "
                "both layers, e.g. keep = ~(x.mask.any(axis=1) | y.mask.any(axis=1)), or fill them."
            )
        value = value.data
    if is_torch_tensor(value) and str(getattr(value, "dtype", "")) == "torch.bfloat16":
        value = value.float()  # NumPy has no bfloat16; float32 holds every bfloat16 exactly
    try:
        array = np.asarray(value)
    except Exception as error:  # tensors on a GPU or requiring grad refuse conversion
        raise ValueError(
            f"{name} could not be converted to a NumPy array ({type(value).__name__}: {error}). "
            "Pass a NumPy array, a nested list of numbers, or a tensor on the CPU "
            "(e.g. tensor.detach().cpu().numpy()); or install array-api-compat "
            '(pip install "pwcca[array-api]") to compute on the tensor\'s own device.'
        ) from error
    if array.dtype.kind == "O":
        array = _numbers_from_objects(array, name)
    check_dtype_and_shape(array.dtype, array.shape, name, min_rows)
    if is_extension_number(array.dtype):
        array = array.astype(np.float64)  # exact; data_resolution keeps the format's rounding
    finite = np.isfinite(array)
    if not finite.all():
        bad = array[~finite]
        raise ValueError(nonfinite_message(name, bad.size, bad[0]))
    wide = array.dtype.kind == "f" and array.dtype.itemsize >= 8  # float32 cannot reach the limit
    largest = max(array.max(), -array.min()) if wide else 0
    if largest > MAX_MAGNITUDE:
        raise ValueError(magnitude_message(name, largest))
    if array.dtype != np.float32:
        array = array.astype(np.float64, copy=False)
    return array


# Smallest magnitude of a neuron whose power-of-two rescaling factor (near 1 / magnitude) is still
# a float64: 2^-1024 (~5.6e-309), deep in float64's subnormal range.
SMALLEST_NEURON = 2.0**-1024


def subnormal_message(name: str, neurons: np.ndarray) -> str:
    """The error for ``neurons`` of ``name`` whose values all lie below :data:`SMALLEST_NEURON`."""
    return (
        f"{name} has {len(neurons)} neuron(s) whose values are all subnormal, below "
        f"{SMALLEST_NEURON:.1e} in magnitude (e.g. neuron {neurons[0]}): they hold few digits, "
        "and no power of two brings them to full range without overflowing their CCA "
        f"directions. Multiply the layer by a constant first (e.g. {name} * 2.0**600): every "
        "similarity here is invariant to scaling a whole layer."
    )


def check_no_subnormal_neurons(array: np.ndarray, name: str) -> None:
    """ValueError naming ``name`` for a neuron whose values all lie below
    :data:`SMALLEST_NEURON` (the in-memory measures find this while rescaling,
    :func:`cca._linalg.power_of_two_scales`)."""
    flat = array.reshape(-1, array.shape[-1])
    magnitude = np.maximum(np.abs(flat.max(axis=0)), np.abs(flat.min(axis=0)))
    subnormal = (magnitude > 0) & (magnitude < SMALLEST_NEURON)
    if subnormal.any():
        raise ValueError(subnormal_message(name, np.flatnonzero(subnormal)))


def is_dask_array(value: object) -> bool:
    """Whether ``value`` is a dask array (recognised by its class, without importing dask)."""
    return type(value).__module__.startswith("dask.array") and hasattr(value, "chunks")


def array_namespace(*values: object):
    """The array API namespace (PyTorch, JAX, CuPy, array-api-strict, ...) of the values that
    are arrays of another framework than NumPy and dask, or None if there are none; computed
    there by :mod:`cca._array_api`. PyTorch tensors have no namespace of their own: they need
    array-api-compat (``pip install "pwcca[array-api]"``); without it they are read on the host
    as before (CPU tensors). ValueError for arrays of two frameworks."""
    spaces = [space for space in map(_namespace_of, values) if space is not None]
    if any(space is not spaces[0] for space in spaces[1:]):
        raise ValueError(
            f"x and y are arrays of different frameworks ({spaces[0].__name__} and "
            f"{spaces[1].__name__}); pass both as arrays of one framework, on one device."
        )
    return spaces[0] if spaces else None


def _namespace_of(value: object):
    if value is None or isinstance(value, np.ndarray) or is_dask_array(value):
        return None
    if not (is_torch_tensor(value) or hasattr(value, "__array_namespace__")):
        return None
    try:
        import array_api_compat
    except ImportError:
        return value.__array_namespace__() if hasattr(value, "__array_namespace__") else None
    try:
        return array_api_compat.array_namespace(value)
    except TypeError:  # an array type array-api-compat does not know: read on the host
        return None


def device_of(array: object):
    """The device an array of another framework lives on (array-api-compat's reading where it
    is installed)."""
    try:
        from array_api_compat import device
    except ImportError:
        return array.device
    return device(array)


def is_torch_tensor(value: object) -> bool:
    """Whether ``value`` is a PyTorch tensor (recognised by its class, without importing torch)."""
    module = type(value).__module__
    return module == "torch" or module.startswith("torch.")


def float_resolution(dtype: object) -> float | None:
    """Machine epsilon of the floating-point format ``dtype``, or None if it is not one.

    Recognised by name, without importing any framework: NumPy's floats; ml_dtypes' bfloat16
    (eps 2^-7) and its float8/float6/float4 formats, named ``float{bits}_e{E}m{M}...`` (eps
    2^-M), which JAX and TensorFlow arrays convert to; and a framework's own dtype objects of
    those names (``torch.float16``, TensorFlow's ``tf.bfloat16``).

    Examples
    --------
    >>> import numpy as np
    >>> float_resolution(np.dtype(np.float16)), float_resolution("bfloat16")
    (0.0009765625, 0.0078125)
    >>> float_resolution("float8_e4m3fn"), float_resolution(np.dtype(np.int64))
    (0.125, None)
    """
    if dtype is None:
        return None
    name = str(getattr(dtype, "name", dtype)).rsplit(".", 1)[-1]
    if name == "bfloat16":
        return 2.0**-7
    low_precision = re.fullmatch(r"float\d+_e\d+m(\d+)[a-z]*", name)
    if low_precision:
        return 2.0 ** -int(low_precision[1])
    try:
        numpy_dtype = np.dtype(name)
    except (TypeError, ValueError):  # not a NumPy type name, e.g. TensorFlow's "qint8"
        return None
    return float(np.finfo(numpy_dtype).eps) if numpy_dtype.kind == "f" else None


def is_extension_number(dtype: np.dtype) -> bool:
    """Whether ``dtype`` is a number format that NumPy does not count as one (kind "V"): those of
    ml_dtypes (bfloat16, float8_*, int4, ...), which JAX and TensorFlow arrays convert to."""
    if dtype.isbuiltin != 2:  # NumPy's own types, and structured ones
        return False
    return float_resolution(dtype) is not None or re.fullmatch(r"u?int\d+", dtype.name) is not None


def transposed_hint(names: str) -> str:
    """The question to ask when ``names`` ("x", or "x and y") may be neurons x datapoints."""
    flipped = " and ".join(f"{name}.T" for name in names.split(" and "))
    return (
        " Rows are datapoints here: did you pass neurons x datapoints, as google/svcca "
        f"expects? Then pass {flipped}."
    )


# The coarsest floating-point format accepted, bfloat16's eps: a direction counts only above 10
# units of the values' rounding, so in a coarser format (float8, float6, float4) none would.
COARSEST_RESOLUTION = 2.0**-7


def check_dtype_and_shape(
    dtype: np.dtype, shape: tuple, name: str, min_rows: int = 2, real: bool | None = None
) -> None:
    """Raise ValueError unless an array of ``dtype`` and ``shape`` can be a layer: real numbers
    in a format no coarser than bfloat16, 2-D or 4-D, at least ``min_rows`` datapoints and one
    neuron. ``real``: whether ``dtype``, another framework's (:mod:`cca._array_api`), holds real
    numbers (None: ``dtype`` is NumPy's, which says so itself)."""
    if real is None:
        real = dtype.kind in "biuf" or is_extension_number(dtype)
    if not real:
        raise ValueError(
            f"{name} must hold real numbers; found dtype {dtype}. "
            "Pass a numeric (integer or floating point) array of activations."
        )
    resolution = float_resolution(dtype)
    if resolution is not None and resolution > COARSEST_RESOLUTION:
        raise ValueError(
            f"{name} holds {dtype} values, rounded to {resolution:g} of their size: too coarse "
            "for these measures, which count a direction only where it exceeds 10 times the "
            "rounding of the values (bfloat16 is the coarsest format accepted). If the values "
            f"are exact, pass {name}.astype(np.float32)."
        )
    if len(shape) not in (2, 4):
        raise ValueError(
            f"{name} must be 2-D (datapoints, neurons) or 4-D (datapoints, height, width, "
            f"channels, or channels first with layout='nchw'); found {len(shape)}-D with shape "
            f"{shape}. Reshape it, e.g. {name}.reshape(len({name}), -1) for one neuron per column."
        )
    if shape[0] < min_rows:
        hint = transposed_hint(name) if len(shape) == 2 and shape[1] >= min_rows else ""
        raise ValueError(
            f"{name} must have at least {min_rows} datapoints (rows); found {shape[0]}. "
            f"Similarity measures need several datapoints, many more than neurons.{hint}"
        )
    if 0 in shape:
        raise ValueError(f"{name} has no neurons (shape {shape}); pass at least one neuron.")


def nonfinite_message(name: str, count: int, first: float) -> str:
    """The error for ``count`` NaN or infinite values in ``name``, ``first`` the first of them."""
    return (
        f"{name} contains {count} non-finite value(s) (NaN or infinity, first: {first}). "
        "Remove or replace those datapoints before comparing representations."
    )


def magnitude_message(name: str, largest: float) -> str:
    """The error for values of ``name`` up to ``largest`` in magnitude, beyond MAX_MAGNITUDE."""
    return (
        f"{name} holds values up to {np.format_float_scientific(largest, 3, trim='-')} in "
        "magnitude, "
        f"beyond what the measures compute with in float64 (at most {MAX_MAGNITUDE:.0e}). "
        "Rescale the layer (divide it by a constant): every similarity is invariant to "
        "scaling a whole layer."
    )


# Largest magnitude accepted: float64 reaches 1.8e308, and sums over many datapoints need room.
MAX_MAGNITUDE = 1e300


def _numbers_from_objects(array: np.ndarray, name: str) -> np.ndarray:
    """A float64 array from an object array that holds only real numbers (no strings)."""
    for item in array.flat:
        if not isinstance(item, numbers.Real) or isinstance(item, bool | np.bool_):
            raise ValueError(
                f"{name} must hold numbers; found a {type(item).__name__} ({item!r}) in an object "
                "array. Pass a numeric array of activations (convert strings yourself if you "
                "mean them as numbers)."
            )
    return array.astype(np.float64)


def averaged_resolution(resolution: float, layer: np.ndarray, conv: str | None) -> float:
    """The relative rounding of a layer's neurons after ``conv`` handling: ``resolution`` (its
    values' machine epsilon) for 2-D layers and ``conv="positions"``; for ``conv="mean"`` over
    h x w positions of a float64 ``layer``, ``resolution / sqrt(h w)`` (at least float64's
    epsilon, the rounding of the mean itself), since the mean of independently rounded values
    carries that much less rounding (a float16 or bfloat16 conv layer, computed in float64,
    averaged over 8 x 8 positions keeps directions 8 times smaller than its values' rounding).
    A float32 layer's means are stored in float32 again (:func:`reduce_space`), which rounds
    them as much as the values: ``resolution``."""
    float64 = float_resolution(getattr(layer, "dtype", None)) == np.finfo(np.float64).eps
    if conv == "mean" and len(np.shape(layer)) == 4 and float64:  # NumPy's or any framework's
        averaged = resolution / float(np.sqrt(layer.shape[1] * layer.shape[2]))
        return max(averaged, float(np.finfo(np.float64).eps))  # the mean is itself a float64
    return resolution


def data_resolution(*values: object) -> float:
    """Machine epsilon of the coarsest floating-point precision among ``values`` (float64's if
    none is coarser): the relative rounding already in the data, which float16, bfloat16 or
    float32 activations keep after conversion to float64. The rank decision of the CCA measures
    uses it (:mod:`cca._linalg`). Values of no floating-point format
    (:func:`float_resolution`) count as float64."""
    resolution = float(np.finfo(np.float64).eps)
    for value in values:
        eps = float_resolution(getattr(value, "dtype", None))
        if eps is not None:
            resolution = max(resolution, eps)
    return resolution


def random_generator(seed: object, allow_none: bool = True) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for a valid ``seed`` (a non-negative int, a NumPy
    Generator, or None where ``allow_none``); ValueError naming ``seed`` otherwise."""
    if isinstance(seed, np.random.Generator) or (seed is None and allow_none):
        return np.random.default_rng(seed)
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, numbers.Integral) or seed < 0:
        accepted = "a non-negative int, a numpy Generator or None" if allow_none else (
            "a non-negative int or a numpy Generator"
        )
        raise ValueError(f"seed must be {accepted}; found {seed!r}.")
    return np.random.default_rng(seed)


def check_confidence(confidence: object) -> None:
    """ValueError unless ``confidence`` is a fraction in (0, 1) (hinting at a percentage)."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not (
        0 < confidence < 1
    ):
        percentage = isinstance(confidence, numbers.Real) and 1 < confidence < 100
        hint = f" (a percentage? pass {confidence / 100})" if percentage else ""
        raise ValueError(
            f"confidence must be a fraction in (0, 1), e.g. 0.95 for a 95% interval; found "
            f"{confidence!r}{hint}."
        )


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` if it is a bool (Python or NumPy); ValueError otherwise."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False; found {value!r}.")
    return bool(value)


def check_same_rows(x: np.ndarray, y: np.ndarray) -> None:
    """Raise ValueError unless x and y have the same number of datapoints, asking whether a 2-D
    layer was passed neurons x datapoints where its columns match the other's rows (or both
    layers' columns match)."""
    if x.shape[0] != y.shape[0]:
        if x.ndim == y.ndim == 2 and x.shape[1] == y.shape[1]:
            hint = transposed_hint("x and y")
        elif x.ndim == 2 and x.shape[1] == y.shape[0]:
            hint = transposed_hint("x")
        elif y.ndim == 2 and y.shape[1] == x.shape[0]:
            hint = transposed_hint("y")
        else:
            hint = ""
        raise ValueError(
            f"x and y must have the same number of datapoints (rows); found {x.shape[0]} rows in x "
            f"and {y.shape[0]} in y. Row i of both must be the response to the same input.{hint}"
        )


def check_method(method: str) -> None:
    """Raise ValueError unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; found {method!r}.")


def check_conv(conv: str | None, x: np.ndarray, y: np.ndarray, allow_dft: bool) -> None:
    """Check that ``conv`` is valid and present exactly when an input is 4-D (after
    :func:`channels_last` where ``conv`` is given: "positions" and "dft" compare the height and
    width)."""
    allowed = CONV_MODES if allow_dft else CONV_MODES[:2]
    if conv is not None and conv not in allowed:
        hint = "" if allow_dft or conv != "dft" else " (this function has no per-frequency form)"
        raise ValueError(f"conv must be None or one of {allowed}; found {conv!r}{hint}.")
    four_d = [name for name, a in (("x", x), ("y", y)) if a.ndim == 4]
    if conv == "dft" and len(four_d) < 2:
        two_d = [name for name, a in (("x", x), ("y", y)) if a.ndim == 2]
        raise ValueError(
            "conv='dft' needs x and y both 4-D (datapoints, height, width, channels); "
            f"{' and '.join(two_d)} {'is' if len(two_d) == 1 else 'are'} 2-D. Omit conv for layers "
            "without spatial dimensions."
        )
    if four_d and conv is None:
        raise ValueError(
            f"{' and '.join(four_d)} is 4-D (datapoints, height, width, channels, or channels "
            "first with layout='nchw'): say how space is handled with conv='mean' (average each "
            "channel over space, the paper's Figure 3), conv='positions' (each position a "
            "datapoint)"
            + (" or conv='dft' (per-frequency CCA, SVCCA paper Section 5)." if allow_dft else ".")
        )
    if conv in ("positions", "dft") and four_d and (
        len(four_d) < 2 or x.shape[1:3] != y.shape[1:3]
    ):
        raise ValueError(
            f"conv={conv!r} needs x and y both 4-D with the same height and width; found shapes "
            f"{x.shape} and {y.shape}. Use conv='mean' to compare layers of different spatial size."
        )


def check_layout(layout: str | None) -> None:
    """Raise ValueError unless ``layout`` is None or one of :data:`LAYOUTS`."""
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(
            f"layout must be None, 'nhwc' or 'nchw'; found {layout!r}. 'nchw' for channels first "
            "(datapoints, channels, height, width), as PyTorch lays out conv activations; 'nhwc' "
            "for channels last (datapoints, height, width, channels), as Keras and JAX do."
        )


def channels_last(array, name: str, layout: str | None, source: object = None):
    """A 4-D layer ``array`` (NumPy or dask) as (n, h, w, c), read per ``layout``; 2-D unchanged.

    ``"nhwc"``: as it is. ``"nchw"``: its axes moved (a view, no copy). None, the default of
    the public functions: channels last, except where that reading could silently be wrong,
    which raises ValueError asking for ``layout``: ``source`` (the value the user passed) is a
    PyTorch tensor (PyTorch lays conv activations out channels first), or the shape is square
    maps only when read channels first, (n, c, h, h) with c != h (e.g. (n, 64, 8, 8)).
    """
    if array.ndim != 4 or layout == "nhwc":
        return array
    if layout == "nchw":
        return array.transpose(0, 2, 3, 1)
    shape = tuple(array.shape)
    if is_torch_tensor(source):
        raise ValueError(
            f"{name} is a 4-D PyTorch tensor of shape {shape}: PyTorch lays conv activations out "
            "channels first, (datapoints, channels, height, width), and the default here reads "
            "4-D input channels last, as Keras and JAX do. Pass layout='nchw' (or "
            "layout='nhwc' if you permuted it to channels last)."
        )
    if shape[2] == shape[3] != shape[1]:
        raise ValueError(
            f"{name} has shape {shape}: read channels last (the default), {shape[1]} x "
            f"{shape[2]} maps of {shape[3]} channels; read channels first (as PyTorch lays them "
            f"out), square {shape[2]} x {shape[3]} maps of {shape[1]} channels. Say which: "
            "layout='nchw' for (datapoints, channels, height, width), layout='nhwc' for "
            "(datapoints, height, width, channels)."
        )
    return array


def layer_pair(
    x: object, y: object, conv: str | None, layout: str | None, allow_dft: bool, min_rows: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """x and y validated (:func:`as_activations`), with the same datapoints, ``conv`` checked and
    4-D layers as (n, h, w, c) (:func:`channels_last`; only where ``conv`` reads space)."""
    check_layout(layout)
    arrays = as_activations(x, "x", min_rows), as_activations(y, "y", min_rows)
    check_same_rows(*arrays)
    if conv is not None:
        arrays = channels_last(arrays[0], "x", layout, x), channels_last(arrays[1], "y", layout, y)
    check_conv(conv, *arrays, allow_dft)
    return arrays


def reduce_space(array: np.ndarray, conv: str | None) -> np.ndarray:
    """Turn a 4-D (n, h, w, c) array into 2-D for ``conv`` in {"mean", "positions"}."""
    if array.ndim == 2:
        return array
    if conv == "mean":
        return array.mean(axis=(1, 2), dtype=np.float64).astype(array.dtype, copy=False)
    return array.reshape(-1, array.shape[-1])


def live_neurons(array: np.ndarray, name: str, suspects: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the neurons that vary over datapoints; ValueError if none does.

    ``suspects``: optional mask of the only neurons that may be constant (the others are known to
    vary); only those are checked, exactly.
    """
    if suspects is None:
        live = np.ptp(array, axis=0) > 0
    else:
        live = ~suspects
        live[suspects] = np.ptp(array[:, suspects], axis=0) > 0
    if not live.any():
        raise ValueError(dead_layer_message(name, array.shape[0]))
    return live


def dead_layer_message(name: str, n: int) -> str:
    """The error for a layer ``name`` whose every neuron is constant over its ``n`` datapoints."""
    return (
        f"every neuron of {name} is constant over the {n} datapoints (dead neurons); similarity "
        "is undefined. Check the layer, or compare another one."
    )


def warn_if_degenerate(n: int, n_x: int, n_y: int, stacklevel: int = 3) -> None:
    """Issue :class:`DegenerateCCAWarning` when n datapoints do not exceed a + b neurons; where a
    layer has more neurons than datapoints, ask whether it was passed transposed."""
    if n <= n_x + n_y:
        wide = " and ".join(name for name, d in (("x", n_x), ("y", n_y)) if d > n)
        warnings.warn(
            f"{n} datapoints for {n_x} + {n_y} neurons: the centered data span at most {n - 1} "
            f"dimensions, so at least {n_x + n_y - n + 1} canonical correlations equal 1 whatever "
            "the data and the similarity is inflated. Use many more datapoints than neurons."
            + (transposed_hint(wide) if wide else ""),
            DegenerateCCAWarning,
            stacklevel=stacklevel,
        )


def check_keep_fits(keep: float | int, n_x: int, n_y: int) -> None:
    """Raise ValueError when an int ``keep`` asks for more directions than a layer has neurons.

    (A layer of rank below ``keep``, with dead or dependent neurons, has only rank directions:
    SVCCA then keeps those.)
    """
    if isinstance(keep, numbers.Integral) and keep > min(n_x, n_y):
        raise ValueError(
            f"keep={keep} directions, but the layers have {n_x} and {n_y} neurons; pass "
            f"keep <= {min(n_x, n_y)}, or a fraction of the variance such as 0.99."
        )


def check_keep(keep: float | int, rule: str) -> None:
    """Validate the SVCCA ``keep`` and ``rule`` arguments."""
    if rule not in ("variance", "singular_values"):
        raise ValueError(f"rule must be 'variance' or 'singular_values'; found {rule!r}.")
    if isinstance(keep, bool) or not isinstance(keep, numbers.Real):
        raise ValueError(
            f"keep must be a fraction in (0, 1] or a positive int; found {keep!r}."
        )
    if isinstance(keep, numbers.Integral):
        if keep < 1:
            raise ValueError(f"keep as an int is a number of directions, at least 1; found {keep}.")
    elif not 0 < keep <= 1:
        raise ValueError(
            f"keep as a float is the fraction kept, in (0, 1]; found {keep}. "
            "Pass an int to keep a fixed number of directions."
        )


def check_same_shape(x_shape: tuple, y_shape: tuple) -> None:
    """ValueError unless the layers have the same shape (the same neurons)."""
    if x_shape != y_shape:
        raise ValueError(
            f"x and y must have the same shape to compare the same neurons; found {x_shape} and "
            f"{y_shape}. For layers of different sizes use a CCA measure or linear_cka."
        )


def zero_layer_message(center: bool) -> str:
    """The error of cosine similarity with a layer of zeros (after centering, if ``center``)."""
    return "cosine similarity is undefined: x or y is all zeros" + (
        " after centering (every neuron constant)." if center else "."
    )
