"""Every layer of one network against every layer of another, or itself: a matrix of similarities.

:func:`compare_layers` takes a mapping of layer name -> activations (rows are datapoints, the same
inputs in every layer) and returns a :class:`LayerComparison`: one value of a measure of
:mod:`cca.registry` per pair of layers, and a heat map of them (:meth:`LayerComparison.plot`).

Each layer is factored once, not once per pair. The measures' own steps that depend on one layer
only, its validation, power-of-two rescaling, means, Gram block X^T X, whitening (the CCA basis,
or SVCCA's top principal directions) or centered data and norms for CKA, are computed once per
layer and reused in every pair it enters; a pair then costs its cross products X^T Y, the small
product Wx^T (X^T Y) Wy and its SVD (Morcos, Raghu & Bengio 2018, Sections 2.1-2.2; the paths and
rank decisions of :mod:`cca._solver` and :mod:`cca._linalg`, taken pair by pair exactly as the
measures take them). The cross products of a layer with several layers come from one matrix
product with those layers stacked side by side, and PWCCA computes only what its value depends on
(x's directions and its weights, not y's directions nor the rotation of tied ones). Compared with
itself, a mapping's pairs (i, j) and (j, i) share their cross products and SVD. The values equal
the measure called on each pair (to about 1e-12 in float64).

The cross products bound the gain where datapoints far outnumber neurons: between two networks
every pair's X^T Y remains, from half (layers of equal widths) to a third (widths 64 to 512) of
the products over datapoints of the double loop of plain calls, which also forms X^T X and Y^T Y
for each pair; compared with itself, half as many. ``benchmarks/bench_layers.py`` prints this
bound beside the measured ratio.

Cosine and Euclidean distance (same neurons; one pass over the data) and ``conv="dft"`` call the
measure on each pair.
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from cca import _linalg, _solver, registry, significance
from cca._validation import (
    CONV_MODES,
    DegenerateCCAWarning,
    as_activations,
    averaged_resolution,
    channels_last,
    check_flag,
    check_keep,
    check_keep_fits,
    check_layout,
    check_method,
    data_resolution,
    live_neurons,
    random_generator,
    reduce_space,
    warn_if_degenerate,
)

CORRECTIONS = ("holm", "bonferroni", "none")

# Measures computed from per-layer factors: the name of the similarity, by family.
FACTORED = ("mean_cca", "svcca", "pwcca", "linear_cka")


@dataclass(frozen=True)
class LayerComparison:
    """A measure on every pair of layers, from :func:`compare_layers`.

    Attributes
    ----------
    values : ndarray, shape (len(rows), len(columns))
        ``values[i, j]`` is the measure of layer ``rows[i]`` (its first argument, x: PWCCA's
        weights come from it) and layer ``columns[j]`` (y). NaN where the measure is undefined
        for the pair (cosine and Euclidean distance of layers of different shapes).
    rows, columns : tuple
        The layer names (the mappings' keys), in the mappings' order.
    measure : str
        Name of the measure (:data:`cca.registry.MEASURES`), e.g. "pwcca".
    n_samples : int
        Number of datapoints compared (after ``conv`` handling: times h * w with "positions").
    chance_levels : ndarray or None
        The permutation null's mean for each pair (:func:`cca.permutation_test`), when
        significance was asked for; NaN where a pair was not tested (a layer against itself).
    pvalues : ndarray or None
        One-sided permutation p-values ("more similar than chance"), adjusted for the number of
        pairs tested by ``correction``; NaN where not tested.
    uncorrected_pvalues : ndarray or None
        The same p-values before the correction.
    correction : str or None
        "holm" (Holm 1979, step-down; controls the family-wise error rate), "bonferroni" or
        "none".
    n_permutations : int or None
        Permutations per pair.
    """

    values: np.ndarray
    rows: tuple
    columns: tuple
    measure: str
    n_samples: int
    chance_levels: np.ndarray | None = field(default=None, repr=False)
    pvalues: np.ndarray | None = field(default=None, repr=False)
    uncorrected_pvalues: np.ndarray | None = field(default=None, repr=False)
    correction: str | None = None
    n_permutations: int | None = None

    def plot(self, ax=None, *, alpha: float = 0.05):
        """Heat map of :attr:`values`: rows (x) down, columns (y) across, the measure's scale
        beside it. Where p-values were computed, a white dot marks each pair with
        ``pvalues <= alpha`` (after the correction). Imports matplotlib only here.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure's axes by default.
        alpha : float
            Significance level of the marks.

        Returns
        -------
        matplotlib Axes
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:
            raise ImportError(
                "LayerComparison.plot needs matplotlib, which cca does not install: "
                "pip install matplotlib."
            ) from error
        if ax is None:
            _, ax = plt.subplots()
        entry = registry.MEASURES[self.measure]
        bounded = entry.family != "same neurons"
        image = ax.imshow(
            self.values, cmap="viridis_r" if entry.distance else "viridis",
            vmin=0.0 if bounded else None, vmax=1.0 if bounded else None,
        )
        ax.set_xticks(range(len(self.columns)), [str(name) for name in self.columns], rotation=90)
        ax.set_yticks(range(len(self.rows)), [str(name) for name in self.rows])
        ax.set_xlabel("y")
        ax.set_ylabel("x")
        ax.figure.colorbar(image, ax=ax, label=self.measure)
        if self.pvalues is not None:
            rows, columns = np.nonzero(self.pvalues <= alpha)
            ax.scatter(columns, rows, s=8, c="white", label=f"p <= {alpha} ({self.correction})")
        return ax


def compare_layers(
    layers_x: Mapping,
    layers_y: Mapping | None = None,
    measure: str | Callable[..., float] = "pwcca",
    *,
    conv: str | None = None,
    layout: str | None = None,
    n_permutations: int | None = None,
    seed: int | np.random.Generator | None = None,
    correction: str = "holm",
    **measure_options,
) -> LayerComparison:
    """A measure of cca on every layer of ``layers_x`` against every layer of ``layers_y``.

    ``values[i, j]`` equals ``measure(layers_x[i], layers_y[j])``, the measure called on the
    pair (to about 1e-12 in float64), but each layer is factored once (see :mod:`cca.layers`):
    with m and k layers this costs m + k factorizations and m k small products, not 2 m k
    fits. Without ``layers_y`` the layers are compared with each other, and a symmetric measure
    gives a symmetric matrix.

    Parameters
    ----------
    layers_x : mapping of name -> array-like, each (n, neurons) or 4-D with ``conv``
        Activations of each layer; row i of every layer is the response to the same input.
    layers_y : mapping, optional
        The other network's layers (the columns); default: ``layers_x`` itself.
    measure : str or callable
        A name of :data:`cca.registry.MEASURES` (similarity or distance, e.g. "pwcca",
        "svcca_distance") or the public function itself (``cca.linear_cka``).
    conv : {"mean", "positions", "dft"}, optional
        Required where a layer is 4-D, as in :func:`cca.cca`; "mean" also allows 2-D layers
        beside conv ones. Not for cosine and Euclidean distance.
    layout : {None, "nhwc", "nchw"}
        Axes of 4-D layers, as in :func:`cca.cca` ("nchw" for PyTorch's channels first).
    n_permutations : int, optional
        With a number B, each pair also gets its chance level and a permutation p-value
        (:func:`cca.permutation_test`, B permutations), adjusted by ``correction`` over the
        pairs tested. A mapping compared with itself tests each distinct pair once (i < j for
        a symmetric measure, i != j for PWCCA), not a layer against itself.
    seed : int, numpy Generator or None
        Seed of the permutations (one generator, drawn from pair by pair, row by row).
    correction : {"holm", "bonferroni", "none"}
        Multiple-comparison correction of the p-values.
    **measure_options
        Passed to the measure: ``method``, ``keep``, ``rule``, ``debiased``, ``center``.

    Returns
    -------
    LayerComparison
        values, rows, columns, measure, n_samples; chance_levels and pvalues when asked for.

    Raises
    ------
    ValueError
        For an empty mapping, layers with different numbers of datapoints, 4-D layers without
        ``conv``, an unknown measure or option, and whatever the measure rejects in a layer.

    Examples
    --------
    >>> import numpy as np, cca
    >>> rng = np.random.default_rng(0)
    >>> inputs = rng.normal(size=(500, 8))
    >>> net = {"fc1": np.tanh(inputs @ rng.normal(size=(8, 16)))}
    >>> net["fc2"] = np.tanh(net["fc1"] @ rng.normal(size=(16, 12)))
    >>> result = cca.compare_layers(net, measure="linear_cka")
    >>> result.rows, np.round(result.values, 2)
    (('fc1', 'fc2'), array([[1.  , 0.74],
           [0.74, 1.  ]]))
    >>> bool(result.values[0, 1] == cca.linear_cka(net["fc1"], net["fc2"]))
    True
    """
    entry = _measure(measure)
    same = layers_y is None
    layers_x = _named(layers_x, "layers_x")
    layers_y = layers_x if same else _named(layers_y, "layers_y")
    options = _options(entry, measure_options)
    if entry.family == "same neurons" and (conv is not None or layout is not None):
        raise ValueError(
            f"{entry.name} compares the same neurons and flattens 4-D input per datapoint itself; "
            "call compare_layers without conv or layout."
        )
    _check_significance(n_permutations, correction)
    check_layout(layout)
    flattens = entry.family == "same neurons"
    prepared_x = [_Layer.of(value, f"layers_x[{key!r}]", conv, layout, flattens)
                  for key, value in layers_x.items()]
    prepared_y = prepared_x if same else [
        _Layer.of(value, f"layers_y[{key!r}]", conv, layout, flattens)
        for key, value in layers_y.items()
    ]
    _check_layers(prepared_x + ([] if same else prepared_y), conv, entry)
    values = _values(entry, prepared_x, prepared_y, same, conv, options)
    result = LayerComparison(
        values, tuple(layers_x), tuple(layers_y), entry.name, prepared_x[0].reduced.shape[0]
    )
    if n_permutations is None:
        return result
    tests = _permutation_tests(entry, prepared_x, prepared_y, same, conv, options,
                               n_permutations, random_generator(seed))
    mirror = same and entry.symmetric
    return _with_significance(result, tests, correction, n_permutations, mirror)


# --- validation at the boundary -----------------------------------------------------------------


def _measure(measure) -> registry.Measure:
    """The registry entry of ``measure``, or a ValueError listing the names."""
    try:
        return registry.measure(measure)
    except ValueError:
        raise ValueError(
            f"measure must be the name of one of cca's measures, {sorted(registry.MEASURES)}, "
            f"or that function (e.g. cca.pwcca); found {measure!r}."
        ) from None


def _named(layers: object, argument: str) -> dict:
    """``layers`` as a dict of name -> activations, refusing anything else and empty mappings."""
    if not isinstance(layers, Mapping):
        raise ValueError(
            f"{argument} must be a mapping of layer name -> activations, e.g. "
            f"{{'conv1': array, 'fc': array}}; found {type(layers).__name__}. For two single "
            "layers call the measure itself (e.g. cca.pwcca(x, y))."
        )
    if not layers:
        raise ValueError(
            f"{argument} is empty; pass at least one layer as name -> activations (n, neurons)."
        )
    return dict(layers)


def _options(entry: registry.Measure, options: dict) -> dict:
    """The measure's options with its defaults filled in; ValueError for one it does not take."""
    parameters = inspect.signature(entry.function).parameters
    taken = [name for name in parameters if name not in ("x", "y", "conv", "layout")]
    unknown = sorted(set(options) - set(taken))
    if unknown:
        raise ValueError(
            f"{entry.name} takes the options {taken}; found {unknown}. Pass only those (conv and "
            "layout are compare_layers' own)."
        )
    defaults = {name: parameters[name].default for name in taken}
    options = {**defaults, **options}
    if "method" in options:
        check_method(options["method"])
    if "keep" in options:
        check_keep(options["keep"], options["rule"])
    for flag in ("debiased", "center"):
        if flag in options:
            options[flag] = check_flag(options[flag], flag)
    return options


def _check_significance(n_permutations, correction) -> None:
    if n_permutations is not None and (
        isinstance(n_permutations, bool)
        or not isinstance(n_permutations, numbers.Integral)
        or n_permutations < 1
    ):
        raise ValueError(
            "n_permutations must be None (no significance) or a positive int, e.g. 1000; found "
            f"{n_permutations!r}."
        )
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}; found {correction!r}.")


@dataclass(frozen=True)
class _Layer:
    """One validated layer: ``array`` as given (4-D ones channels last), ``reduced`` (2-D after
    ``conv`` "mean" or "positions"; ``array`` itself for "dft"), and the relative rounding of its
    neurons (:func:`cca._validation.data_resolution`, ``averaged_resolution``)."""

    name: str
    array: np.ndarray
    reduced: np.ndarray
    resolution: float

    @classmethod
    def of(cls, value, name, conv, layout, flattens=False) -> _Layer:
        """``flattens``: the measure reads 4-D input flattened per datapoint (cosine, Euclidean)."""
        if conv is not None and conv not in CONV_MODES:
            raise ValueError(f"conv must be None or one of {CONV_MODES}; found {conv!r}.")
        array = as_activations(value, name)
        if conv is not None:
            array = channels_last(array, name, layout, value)
        if array.ndim == 4 and conv is None and not flattens:
            raise ValueError(
                f"{name} is 4-D with shape {array.shape} (datapoints, height, width, channels, or "
                "channels first with layout='nchw'): say how space is handled with conv='mean' "
                "(average each channel over space), conv='positions' (each position a "
                "datapoint) or conv='dft', or pass layer.reshape(len(layer), -1)."
            )
        resolution = averaged_resolution(data_resolution(value), array, conv)
        reduced = array if conv == "dft" else reduce_space(array, conv)
        return cls(name, array, reduced, resolution)


def _check_layers(layers: list[_Layer], conv, entry) -> None:
    """ValueError unless every layer has the same datapoints (and, where ``conv`` compares
    positions, the same height and width)."""
    first = layers[0]
    for layer in layers[1:]:
        if len(layer.array) != len(first.array):
            raise ValueError(
                f"every layer must have the same number of datapoints (rows); {first.name} has "
                f"{len(first.array)} and {layer.name} has {len(layer.array)}. Row i of every "
                "layer must be the response to the same input."
            )
    spatial = any(layer.array.ndim == 4 for layer in layers)
    if conv in ("positions", "dft") and spatial and entry.family != "same neurons":
        for layer in layers:
            if layer.array.ndim != 4 or layer.array.shape[1:3] != first.array.shape[1:3]:
                raise ValueError(
                    f"conv={conv!r} needs every layer 4-D with the same height and width; "
                    f"{first.name} has shape {first.array.shape} and {layer.name} "
                    f"{layer.array.shape}. Use conv='mean' to compare layers of different "
                    "spatial size."
                )


# --- values -------------------------------------------------------------------------------------


def _pairs(m: int, k: int, same: bool, symmetric: bool):
    """The (i, j) to compute: all of them, or with a mapping against itself and a symmetric
    value the upper triangle (i <= j; the rest mirrors it)."""
    if same and symmetric:
        return [(i, j) for i in range(m) for j in range(i, m)]
    return [(i, j) for i in range(m) for j in range(k)]


def _values(entry, layers_x, layers_y, same, conv, options) -> np.ndarray:
    """The measure on every pair: from per-layer factors where the measure has them."""
    similarity = entry.counterpart if entry.distance else entry.name
    if similarity not in FACTORED or conv == "dft":
        return _plain_values(entry, layers_x, layers_y, same, conv, options)
    if similarity == "linear_cka":
        values = _cka_values(layers_x, layers_y, same, options["debiased"])
    else:
        values = _cca_values(similarity, layers_x, layers_y, same, conv, options)
    return 1.0 - values if entry.distance else values


def _plain_values(entry, layers_x, layers_y, same, conv, options) -> np.ndarray:
    """The measure called on each pair; NaN for a same-neurons measure on layers of different
    shapes, where it is undefined."""
    values = np.full((len(layers_x), len(layers_y)), np.nan)
    if conv is not None:
        options = {**options, "conv": conv, "layout": "nhwc"}
    for i, j in _pairs(len(layers_x), len(layers_y), same, entry.symmetric):
        x, y = layers_x[i].array, layers_y[j].array
        if entry.family == "same neurons" and x.shape != y.shape:
            continue
        values[i, j] = entry.function(x, y, **options)
    return _mirrored(values) if same and entry.symmetric else values


def _mirrored(values: np.ndarray) -> np.ndarray:
    """The upper triangle copied to the lower one."""
    lower = np.tril_indices(len(values), -1)
    values[lower] = values.T[lower]
    return values


def _cka_values(layers_x, layers_y, same, debiased) -> np.ndarray:
    """Linear CKA of every pair (:func:`cca.linear_cka`) from each layer's centered data, the norm
    of its Gram matrix and, debiased, its kernel diagonal and HSIC with itself."""
    sides_x = [_cka_side(layer, debiased) for layer in layers_x]
    sides_y = sides_x if same else [_cka_side(layer, debiased) for layer in layers_y]
    values = np.empty((len(sides_x), len(sides_y)))
    for i, j in _pairs(len(sides_x), len(sides_y), same, True):
        (x, x_norm, x_diag, x_hsic), (y, y_norm, y_diag, y_hsic) = sides_x[i], sides_y[j]
        cross_sq = np.linalg.norm(x.T @ y) ** 2
        if debiased:
            values[i, j] = _linalg.unbiased_hsic(cross_sq, x_diag, y_diag) / np.sqrt(
                x_hsic * y_hsic
            )
        else:
            values[i, j] = min(cross_sq / (x_norm * y_norm), 1.0)
    return _mirrored(values) if same else values


def _cka_side(layer: _Layer, debiased: bool):
    """(centered layer, ||Xc^T Xc||_F, kernel diagonal, HSIC(X, X)) as :func:`cca.linear_cka`
    computes them (the last two only ``debiased``)."""
    data = layer.reduced.astype(np.float64)
    live_neurons(data, layer.name)
    if debiased and len(data) < 4:
        raise ValueError(f"debiased CKA needs at least 4 datapoints; found {len(data)}.")
    centered = _linalg.centered_layer(data)
    if not debiased:
        return centered, np.linalg.norm(centered.T @ centered), None, None
    diag = (centered**2).sum(axis=1)
    return centered, None, diag, _linalg.self_hsic(centered, diag, layer.name)


def _cca_values(similarity, layers_x, layers_y, same, conv, options) -> np.ndarray:
    """Mean CCA, SVCCA or PWCCA of every pair from the layers' :class:`_Factors`."""
    svcca = (options["keep"], options["rule"]) if similarity == "svcca" else None
    if svcca is not None:
        widths = [[layer.reduced.shape[1] for layer in layers] for layers in (layers_x, layers_y)]
        check_keep_fits(svcca[0], min(widths[0]), min(widths[1]))
    n = len(layers_x[0].reduced)
    widest = [max(layer.reduced.shape[1] for layer in layers) for layers in (layers_x, layers_y)]
    warn_if_degenerate(n, *widest, stacklevel=5)
    factors = _FactorCache(svcca is not None)
    solver = _Solver(options["method"], svcca, similarity == "pwcca", conv)
    pairs = _pairs(len(layers_x), len(layers_y), same, True)
    sides = {(i, j): factors.pair(layers_x[i], layers_y[j]) for i, j in pairs}
    paths = {pair: solver.path(*sides[pair]) for pair in pairs}  # rank errors in pair order
    widths = [layer.reduced.shape[1] for layer in layers_y]
    values = np.empty((len(layers_x), len(layers_y)))
    for (i, j), product in _raw_products(pairs, sides, paths, widths, n):
        x_factors, y_factors = sides[i, j]
        inner = solver.inner(x_factors, y_factors, paths[i, j], product)
        if similarity != "pwcca":
            values[i, j] = _singular_values(inner).mean()
        elif same and i != j:
            values[i, j], values[j, i] = solver.pwcca(
                x_factors, y_factors, paths[i, j], inner, both=True
            )
        else:
            values[i, j] = solver.pwcca(x_factors, y_factors, paths[i, j], inner)[0]
    return _mirrored(values) if same and similarity != "pwcca" else values


# Most values (datapoints times neurons, float64: 256 MB) of the y layers stacked side by side for
# one product X^T [Y_j Y_j+1 ...]: wide enough for the matrix product to run at full speed, which
# the products with one narrow layer at a time do not (about 25% slower at 64 to 512 neurons).
STACK_ELEMENTS = 2**25


def _raw_products(pairs, sides, paths, widths, n):
    """Each pair (i, j), with X^T Y of its data when its path takes the raw float64 products
    (:meth:`_Solver.inner`), else None. The products of a layer x with the y layers of a group of
    consecutive columns (at most :data:`STACK_ELEMENTS` values) come from one product with the
    group's layers stacked, the group's pairs in turn; so only one stack is held at a time."""
    for group in _column_groups(widths, n):
        in_group = [pair for pair in pairs if pair[1] in group]
        stacked = [pair for pair in in_group if _stackable(sides[pair], paths[pair])]
        chosen = set(stacked)
        yield from ((pair, None) for pair in in_group if pair not in chosen)
        if not stacked:
            continue
        columns = {j: sides[i, j][1].data for i, j in stacked}
        order = sorted(columns)
        ends = np.cumsum([widths[j] for j in order])
        offsets = dict(zip(order, ends - [widths[j] for j in order], strict=True))
        stack = columns[order[0]] if len(order) == 1 else np.hstack([columns[j] for j in order])
        for i in sorted({i for i, _ in stacked}):
            row = [j for k, j in stacked if k == i]
            first, last = offsets[row[0]], offsets[row[-1]] + widths[row[-1]]
            product = sides[i, row[0]][0].data.T @ stack[:, first:last]
            for j in row:
                yield (i, j), product[:, offsets[j] - first : offsets[j] - first + widths[j]]


def _column_groups(widths, n):
    """Ranges of consecutive columns holding at most STACK_ELEMENTS values each (a wider layer
    alone)."""
    start = 0
    for stop in range(1, len(widths) + 1):
        if stop == len(widths) or sum(widths[start : stop + 1]) * n > STACK_ELEMENTS:
            yield range(start, stop)
            start = stop


def _stackable(sides, path) -> bool:
    """Whether a pair's cross product may come from a stacked product: the raw float64 products
    of two float64 layers (a layer against itself uses its Gram block)."""
    x, y = sides
    return (
        path.raw and x is not y and x.data.dtype == np.float64 and y.data.dtype == np.float64
    )


class _FactorCache:
    """The :class:`_Factors` of each layer in each working dtype, made on first use."""

    def __init__(self, uniform: bool):
        self.uniform = uniform
        self.made: dict[tuple[int, np.dtype], _Factors] = {}

    def of(self, layer: _Layer, dtype: np.dtype) -> _Factors:
        key = (id(layer), dtype)
        if key not in self.made:
            data = layer.reduced.astype(dtype, copy=False)
            self.made[key] = _Factors(data, layer.name, layer.resolution, self.uniform)
        return self.made[key]

    def pair(self, x: _Layer, y: _Layer) -> tuple[_Factors, _Factors]:
        """Both layers' factors in the pair's common dtype (float64 unless both are float32), as
        the measures cast them."""
        same = x.reduced.dtype == y.reduced.dtype
        dtype = x.reduced.dtype if same else np.dtype(np.float64)
        return self.of(x, dtype), self.of(y, dtype)


class _Factors:
    """What the measures compute from one layer alone (:func:`cca._solver.fit_sides`), once.

    The data rescaled by powers of two where their magnitudes need it (one factor for all
    neurons for SVCCA), then, each when first asked for: the means and Gram block in a Gram
    dtype, either from the raw products (X^T X - n m m^T) or over centered blocks of rows, as
    :func:`cca._linalg.moments_of` chooses for the pair; the live (varying) neurons; the Gram
    path's whitening; and the SVD path's centered data and basis.
    """

    def __init__(self, data: np.ndarray, name: str, resolution: float, uniform: bool):
        scale = _linalg.power_of_two_scales(data, uniform=uniform, name=name)
        self.data = data if scale is None else (data * scale).astype(data.dtype)
        self.scale, self.name, self.resolution = scale, name, resolution
        self.live: np.ndarray | None = None
        self._made: dict = {}

    def _once(self, key, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def cast(self, dtype) -> np.ndarray:
        return self._once(("cast", dtype), lambda: self.data.astype(dtype, copy=False))

    def mean(self, dtype) -> np.ndarray:
        accumulate = np.result_type(dtype, np.float64)
        return self._once(("mean", dtype), lambda: self.cast(dtype).mean(axis=0, dtype=accumulate))

    def raw_products_are_accurate(self) -> bool:
        """Whether X^T X - n m m^T loses at most RAW_GRAM_CANCELLATION for every neuron (float64;
        :func:`cca._linalg.moments_of` takes the raw products when both layers pass)."""

        def accurate():
            data, mean = self.cast(np.float64), self.mean(np.float64)
            squares = np.einsum("ij,ij->j", data, data)
            centered = squares - len(data) * mean**2
            return not np.any(centered * _linalg.RAW_GRAM_CANCELLATION < squares)

        return self._once("raw accurate", accurate)

    def gram(self, dtype, raw: bool) -> np.ndarray:
        """The centered Gram block in ``dtype``, dead neurons' rows and columns zeroed."""
        return self._once(("gram", dtype, raw), lambda: self._gram(dtype, raw))

    def _gram(self, dtype, raw):
        data, mean = self.cast(dtype), self.mean(dtype)
        if raw:
            gram = data.T @ data - len(data) * np.outer(mean, mean)
        else:
            gram = _centered_cross(data, data, mean.astype(dtype), same=True)
        if self.live is None:  # as moments_of: only neurons within rounding of constant checked
            rounding = len(data) * (1e3 * np.finfo(dtype).eps * np.abs(mean)) ** 2
            self.live = live_neurons(data, self.name, np.diag(gram).real <= rounding)
        gram[~self.live] = 0
        gram[:, ~self.live] = 0
        return gram

    def gram_basis(self, dtype, raw: bool, svcca) -> _linalg.Basis:
        """The whitening of :meth:`cca._linalg.Moments.basis`, with its data floor."""

        def basis():
            gram = self.gram(dtype, raw)
            squares = np.diag(gram).real + len(self.data) * np.abs(self.mean(dtype)) ** 2
            noise = _linalg.rounding_noise(squares, self.resolution)
            return _linalg.gram_basis(gram, self.live, len(self.data), dtype, svcca, noise=noise)

        return self._once(("gram basis", dtype, raw), basis)

    def centered(self) -> np.ndarray:
        """The SVD path's centered float64 data, dead neurons exactly 0
        (:func:`cca._linalg.centered_stack`)."""

        def centered():
            if self.live is None:
                self.live = live_neurons(self.data, self.name)
            data = self.cast(np.float64).copy()
            data -= data.mean(axis=0, dtype=np.float64)
            data[:, ~self.live] = 0
            return data

        return self._once("centered", centered)

    def data_basis(self, svcca) -> _linalg.Basis:
        """The SVD path's basis (:func:`cca._linalg.data_basis`), with its data floor."""

        def basis():
            centered, mean = self.centered(), self.mean(np.float64)
            squares = np.einsum("ij,ij->j", centered, centered) + len(centered) * mean**2
            noise = _linalg.rounding_noise(squares, self.resolution)
            return _linalg.data_basis(centered, self.live, svcca, noise)

        return self._once("data basis", basis)


def _centered_cross(x, y, x_shift, y_shift=None, *, same=False) -> np.ndarray:
    """(X - x_shift)^T (Y - y_shift) accumulated over blocks of rows, as
    :func:`cca._linalg.moments_of` does where the raw products would lose precision (``same``:
    Y is X, the Gram block)."""
    product = np.zeros((x.shape[1], y.shape[1]), dtype=x.dtype)
    for start in range(0, len(x), _linalg.BLOCK_ROWS):
        x_block = x[start : start + _linalg.BLOCK_ROWS] - x_shift
        y_block = x_block if same else y[start : start + _linalg.BLOCK_ROWS] - y_shift
        product += x_block.T @ y_block
    return product


@dataclass(frozen=True)
class _Path:
    """How a pair is solved (:func:`cca._solver.fit_sides`): the bases, the path's name, and on
    the Gram path its dtype and whether the products are raw."""

    bases: tuple[_linalg.Basis, _linalg.Basis]
    name: str
    dtype: np.dtype | None = None
    raw: bool = False


class _Solver:
    """A pair's canonical correlations, or PWCCA, from the two layers' :class:`_Factors`."""

    def __init__(self, method: str, svcca, directions: bool, conv):
        self.method, self.svcca, self.directions, self.conv = method, svcca, directions, conv

    def path(self, x: _Factors, y: _Factors) -> _Path:
        """The Gram path in the data's dtype, then in float64, each where both bases are trusted
        (``"auto"``), else the SVD path; as :func:`cca._solver.fit_sides`."""
        dtype = x.data.dtype
        dtypes = [dtype] + ([np.dtype(np.float64)] if dtype == np.float32 else [])
        if self.directions and self.method == "auto":
            dtypes = [np.dtype(np.float64)]
        for gram_dtype in dtypes if self.method != "svd" else []:
            raw = gram_dtype == np.float64 and all(
                side.raw_products_are_accurate() for side in (x, y)
            )
            bases = x.gram_basis(gram_dtype, raw, self.svcca), y.gram_basis(
                gram_dtype, raw, self.svcca
            )
            if self.method == "gram" or all(basis.trusted for basis in bases):
                _check_rank(bases, (x, y))
                return _Path(bases, f"gram-{np.dtype(gram_dtype).name}", gram_dtype, raw)
        bases = x.data_basis(self.svcca), y.data_basis(self.svcca)
        _check_rank(bases, (x, y))
        return _Path(bases, "svd")

    def inner(self, x: _Factors, y: _Factors, path: _Path, product=None) -> np.ndarray:
        """Qx^T Qy: Wx^T (X^T Y) Wy on the Gram path, from the bases' Q on the SVD path.
        ``product``: X^T Y of the raw float64 products, where already computed."""
        if path.dtype is None:
            return _basis_product(*path.bases)
        dtype = path.dtype
        if x is y and path.raw:  # a layer against itself: X^T X is its Gram block
            gram = x.gram(dtype, True)
            return _whitened_product(*path.bases, gram.astype(path.bases[0].whitening.dtype))
        if path.raw:
            mean_x, mean_y = x.mean(dtype), y.mean(dtype)
            if product is None:
                product = x.cast(dtype).T @ y.cast(dtype)
            cross = product - len(x.data) * np.outer(mean_x, mean_y)
        else:
            shifts = x.mean(dtype).astype(dtype), y.mean(dtype).astype(dtype)
            cross = _centered_cross(x.cast(dtype), y.cast(dtype), *shifts)
        cross[~x.live] = 0
        cross[:, ~y.live] = 0
        return _whitened_product(*path.bases, cross.astype(path.bases[0].whitening.dtype))

    def pwcca(
        self, x: _Factors, y: _Factors, path: _Path, inner: np.ndarray, both: bool = False
    ) -> tuple[float, float | None]:
        """PWCCA with weights from x, and (``both``) with weights from y, from the pair's path and
        Qx^T Qy (:meth:`inner`): one SVD serves both, Qy^T Qx being the transpose of Qx^T Qy."""
        if not both:
            left, rho = _left_svd(inner)
            return self._pwcca(x, path.bases[0], path, rho, left), None
        left, rho, right_h = _full_svd(inner)
        forward = self._pwcca(x, path.bases[0], path, rho, left)
        return forward, self._pwcca(y, path.bases[1], path, rho, right_h.conj().T)

    def _pwcca(self, x: _Factors, basis: _linalg.Basis, path: _Path, rho, left) -> float:
        """PWCCA with weights from x (``basis`` its side of the pair) from the SVD
        Qx^T Qy = U diag(rho) V^T (``left``: all of U), as :func:`cca._solver.gram_result` (or
        :func:`cca._solver.fit`'s SVD branch) and :func:`cca._solver.build_result` compute it:
        x's directions A = Wx U, their inner products with x's neurons, mapped back to the
        neurons' units, and the raw weights with ties settled. The canonical directions
        themselves, y's and the rotation of tied ones, do not enter the value and are skipped."""
        x_directions = _x_directions(basis, left)
        if path.dtype is None:
            centered = x.centered()
            inner = centered.conj().T @ (centered @ x_directions)
        else:
            gram = x.gram(path.dtype, path.raw).astype(x_directions.dtype, copy=False)
            inner = gram @ x_directions
        if x.scale is not None:
            inner = inner / x.scale[:, None]
        rho = np.clip(rho, 0.0, 1.0)
        raw = _linalg.tied_weights(rho, inner, _solver.tie_tolerance(path.bases))
        return _solver.weighted_correlation(raw, rho)


def _check_rank(bases, sides) -> None:
    """ValueError naming the layer with no direction above the rounding of its values."""
    for basis, side in zip(bases, sides, strict=True):
        if basis.whitening.shape[1] == 0:
            raise ValueError(
                f"{side.name} varies only at the level of the rounding of its values (its "
                "neurons' spread is below about 10 units of their precision, e.g. a huge offset "
                "with a tiny spread in float32); similarity is undefined. Subtract the offset in "
                "float64 before converting, or leave the layer out."
            )


@_linalg.single_blas_thread
def _whitened_product(basis_x, basis_y, cross) -> np.ndarray:
    """Wx^T (X^T Y) Wy, as :func:`cca._linalg.solve` forms it."""
    return basis_x.whitening.conj().T @ cross @ basis_y.whitening


@_linalg.single_blas_thread
def _basis_product(basis_x, basis_y) -> np.ndarray:
    """Qx^T Qy of the SVD path's bases."""
    return basis_x.basis.conj().T @ basis_y.basis


@_linalg.single_blas_thread
def _singular_values(inner: np.ndarray) -> np.ndarray:
    return np.clip(np.linalg.svd(inner, compute_uv=False), 0.0, 1.0)


@_linalg.single_blas_thread
def _full_svd(inner: np.ndarray):
    """U, rho, V^T with full U and V^T (PWCCA's tie rule needs each side's unpaired
    directions)."""
    return np.linalg.svd(inner, full_matrices=True)


@_linalg.single_blas_thread
def _left_svd(inner: np.ndarray):
    """U (full: PWCCA's tie rule needs x's unpaired directions) and rho; V^T only as wide as
    the LAPACK call needs (U and rho are those of the full SVD)."""
    left, rho, _ = np.linalg.svd(inner, full_matrices=inner.shape[0] > inner.shape[1])
    return left, rho


@_linalg.single_blas_thread
def _x_directions(basis: _linalg.Basis, left: np.ndarray) -> np.ndarray:
    """A = Wx U, all of x's directions, as :func:`cca._linalg.solve` returns them."""
    return basis.whitening @ left


# --- significance -------------------------------------------------------------------------------


def _tested_pairs(m: int, k: int, same: bool, symmetric: bool):
    """The pairs that get a permutation test: all, or with a mapping against itself each distinct
    pair once (i < j for a symmetric measure, i != j otherwise)."""
    if not same:
        return [(i, j) for i in range(m) for j in range(k)]
    return [(i, j) for i in range(m) for j in range(m) if i < j or (i > j and not symmetric)]


def _permutation_tests(entry, layers_x, layers_y, same, conv, options, n_permutations, rng):
    """{(i, j): PermutationResult} of every tested pair, drawing from one generator in turn. The
    pairs' warnings come once: DegenerateCCAWarning already came with the values, and one
    ChanceLevelWarning sums up the pairs whose chance level is high."""
    if conv is not None:
        options = {**options, "conv": conv, "layout": "nhwc"}
    tests = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateCCAWarning)
        warnings.simplefilter("ignore", significance.ChanceLevelWarning)
        for i, j in _tested_pairs(len(layers_x), len(layers_y), same, entry.symmetric):
            x, y = layers_x[i].array, layers_y[j].array
            if entry.family == "same neurons" and x.shape != y.shape:
                continue
            tests[i, j] = significance.permutation_test(
                x, y, entry.name, n_permutations=n_permutations, seed=rng, **options
            )
    _warn_if_chance_is_high(entry, [test.null_mean for test in tests.values()], len(
        layers_x[0].reduced))
    return tests


def _warn_if_chance_is_high(entry, chance_levels, n) -> None:
    """One :class:`cca.ChanceLevelWarning` for the pairs whose chance level, as a similarity,
    reaches :data:`cca.significance.CHANCE_LEVEL_WARNING`."""
    if entry.name == "euclidean_distance" or not chance_levels:
        return
    similarity = 1.0 - np.array(chance_levels) if entry.distance else np.array(chance_levels)
    high = similarity >= significance.CHANCE_LEVEL_WARNING
    if high.any():
        warnings.warn(
            f"the chance level of {entry.name} is high for {high.sum()} of {len(high)} pairs "
            f"tested: with the rows of y permuted (unrelated layers) they already reach a "
            f"similarity of up to {similarity.max():.2f} on these {n} datapoints. Read "
            "chance_levels beside the values, and use many more datapoints than neurons "
            "where you can.",
            significance.ChanceLevelWarning,
            stacklevel=4,
        )


def _with_significance(result, tests, correction, n_permutations, mirror) -> LayerComparison:
    """``result`` with chance levels and p-values (adjusted by ``correction``), the upper
    triangle mirrored with ``mirror`` (a mapping against itself, symmetric measure)."""
    shape = result.values.shape
    chance, raw = np.full(shape, np.nan), np.full(shape, np.nan)
    for (i, j), test in tests.items():
        chance[i, j], raw[i, j] = test.null_mean, test.pvalue
    tested = ~np.isnan(raw)
    adjusted = np.full(shape, np.nan)
    adjusted[tested] = adjusted_pvalues(raw[tested], correction)
    if mirror:
        chance, raw, adjusted = (_mirrored(values) for values in (chance, raw, adjusted))
    return LayerComparison(
        result.values, result.rows, result.columns, result.measure, result.n_samples,
        chance_levels=chance, pvalues=adjusted, uncorrected_pvalues=raw, correction=correction,
        n_permutations=n_permutations,
    )


def adjusted_pvalues(pvalues: np.ndarray, correction: str) -> np.ndarray:
    """P-values adjusted for testing them all: "holm" (Holm 1979: the k-th smallest of m times
    m - k + 1, made non-decreasing), "bonferroni" (times m) or "none"; at most 1.

    Examples
    --------
    >>> adjusted_pvalues(np.array([0.01, 0.04, 0.03]), "holm")
    array([0.03, 0.06, 0.06])
    """
    pvalues = np.asarray(pvalues, dtype=np.float64)
    m = len(pvalues)
    if correction == "none" or m == 0:
        return pvalues.copy()
    if correction == "bonferroni":
        return np.minimum(pvalues * m, 1.0)
    order = np.argsort(pvalues, kind="stable")
    stepped = np.maximum.accumulate(pvalues[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


