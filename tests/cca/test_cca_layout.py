"""Channels-first conv layers, bfloat16 input, transposed layers and the package's metadata (issue
26, items 1 and 6).

A conv layer laid out (n, c, h, w), as PyTorch does, with ``layout="nchw"`` gives exactly what the
same layer laid out (n, h, w, c) gives by default, in every measure, conv mode and wrapper; by
default, a layout that channels last could misread is refused, never guessed.
"""

import re
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

import cca
from cca._validation import channels_last, float_resolution

ROOT = Path(__file__).resolve().parents[2]
rng = np.random.default_rng(0)


def nhwc_layers(n=120, height=4, width=3, channels=2, out=5):
    """A conv layer (n, h, w, c) and a ReLU layer computed from it; non-square maps, so that a
    swap of height and width would show."""
    x = rng.normal(size=(n, height, width, channels))
    y = np.einsum("nhwc,cd->nhwd", x, rng.normal(size=(channels, out)))
    return x, np.maximum(y + 0.5 * rng.normal(size=y.shape), 0)


def nchw(layer):
    """The same layer laid out channels first, as a PyTorch conv layer's output."""
    return np.ascontiguousarray(layer.transpose(0, 3, 1, 2))


class TorchTensor:
    """What the library sees of a PyTorch CPU tensor: its class's module and ``__array__``."""

    __module__ = "torch"

    def __init__(self, array):
        self.array = array
        self.shape = array.shape

    def __array__(self, dtype=None, copy=None):
        return self.array


X, Y = nhwc_layers()
MEASURES = [cca.canonical_correlations, cca.mean_cca, cca.mean_cca_distance, cca.svcca,
            cca.svcca_distance, cca.pwcca, cca.pwcca_distance, cca.linear_cka,
            cca.linear_cka_distance]
WITH_DFT = {cca.canonical_correlations, cca.mean_cca, cca.mean_cca_distance, cca.pwcca,
            cca.pwcca_distance}


def test_channels_last_moves_the_channel_axis_and_nothing_else():
    assert np.array_equal(channels_last(nchw(X), "x", "nchw"), X)
    assert channels_last(X, "x", "nhwc") is X
    assert channels_last(X[:, 0, 0], "x", "nchw").shape == X[:, 0, 0].shape  # 2-D unchanged


@pytest.mark.parametrize(
    ("measure", "conv"),
    [(measure, conv) for measure in MEASURES for conv in ("mean", "positions", "dft")
     if conv != "dft" or measure in WITH_DFT],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_every_measure_reads_channels_first_as_channels_last(measure, conv):
    expected = measure(X, Y, conv=conv)
    assert np.allclose(measure(nchw(X), nchw(Y), conv=conv, layout="nchw"), expected,
                       rtol=0, atol=1e-12)
    assert np.allclose(measure(X, Y, conv=conv, layout="nhwc"), expected, rtol=0, atol=0)


def test_a_channels_first_conv_layer_against_a_dense_layer():
    dense = Y.mean(axis=(1, 2)) @ rng.normal(size=(5, 4))
    expected = cca.pwcca(X, dense, conv="mean")
    value = cca.pwcca(nchw(X), dense, conv="mean", layout="nchw")
    assert value == pytest.approx(expected, abs=1e-12)


def test_the_misread_of_issue_26_is_gone():
    """Read channels last, a channels-first layer is a different layer (issue 26 measured 0.8950
    against 0.8917); with layout="nchw" it gives the channels-last value."""
    misread = cca.pwcca(nchw(X), nchw(Y), conv="mean", layout="nhwc")
    assert abs(misread - cca.pwcca(X, Y, conv="mean")) > 0.01
    assert cca.pwcca(nchw(X), nchw(Y), conv="mean", layout="nchw") == pytest.approx(
        cca.pwcca(X, Y, conv="mean"), abs=1e-12)


@pytest.mark.parametrize("conv", ["mean", "positions"])
def test_projection_uses_the_layout_of_the_fit(conv):
    expected = cca.cca(X, Y, conv=conv)
    fit = cca.cca(nchw(X), nchw(Y), conv=conv, layout="nchw")
    assert fit.layout == "nchw" and expected.layout == "nhwc"
    assert np.allclose(fit.correlations, expected.correlations, rtol=0, atol=1e-12)
    later = X[:7] + 0.1 * rng.normal(size=X[:7].shape)
    projected = fit.project_x(nchw(later))  # with "positions": rows in position order
    assert np.allclose(projected, expected.project_x(later), rtol=0, atol=1e-10)
    assert np.allclose(fit.project_y(nchw(Y[:7])), expected.project_y(Y[:7]), rtol=0, atol=1e-10)


@pytest.mark.parametrize("conv", ["mean", "positions"])
def test_the_accumulator_reads_channels_first_batches(conv):
    expected, channels_first = cca.CCAAccumulator(conv=conv), cca.CCAAccumulator(conv, "nchw")
    for start in range(0, len(X), 50):
        rows = slice(start, start + 50)
        expected.update(X[rows], Y[rows])
        channels_first.update(nchw(X[rows]), nchw(Y[rows]))
    assert channels_first.pwcca() == pytest.approx(expected.pwcca(), abs=1e-12)
    assert channels_first.svcca(2) == pytest.approx(expected.svcca(2), abs=1e-12)
    fit = channels_first.cca()
    assert fit.layout == "nchw"
    assert np.allclose(fit.project_x(nchw(X[:5])), expected.cca().project_x(X[:5]), atol=1e-10)
    merged = channels_first.merge(cca.CCAAccumulator(conv, "nchw").update(nchw(X), nchw(Y)))
    assert merged.layout == "nchw" and merged.n_samples == 2 * channels_first.n_samples


@pytest.mark.filterwarnings("ignore::cca.ChanceLevelWarning")  # 60 datapoints, for speed
@pytest.mark.parametrize("conv", ["mean", "positions", "dft"])
def test_permutation_test_and_bootstrap_read_channels_first(conv):
    x, y = X[:60], Y[:60]
    test = cca.permutation_test(x, y, "pwcca", n_permutations=4, seed=1, conv=conv)
    first = cca.permutation_test(nchw(x), nchw(y), "pwcca", n_permutations=4, seed=1, conv=conv,
                                 layout="nchw")
    assert first.statistic == pytest.approx(test.statistic, abs=1e-12)
    assert np.allclose(first.null_distribution, test.null_distribution, rtol=0, atol=1e-10)
    interval = cca.bootstrap_interval(x, y, "mean_cca", n_resamples=3, seed=1, conv=conv)
    again = cca.bootstrap_interval(nchw(x), nchw(y), "mean_cca", n_resamples=3, seed=1, conv=conv,
                                   layout="nchw")
    assert np.allclose(again.bootstrap_distribution, interval.bootstrap_distribution, atol=1e-10)


def test_permutation_test_of_cka_and_the_same_neuron_measures():
    test = cca.permutation_test(X, Y, "linear_cka", n_permutations=5, seed=2, conv="positions")
    first = cca.permutation_test(nchw(X), nchw(Y), "linear_cka", n_permutations=5, seed=2,
                                 conv="positions", layout="nchw")
    assert np.allclose(first.null_distribution, test.null_distribution, rtol=0, atol=1e-10)
    # cosine and Euclidean distance flatten 4-D input: the layout cannot change them
    assert cca.cosine_similarity(nchw(X), nchw(Y[..., :2])) == pytest.approx(
        cca.cosine_similarity(X, Y[..., :2]), abs=1e-12)
    with pytest.raises(ValueError, match="without conv or layout"):
        cca.permutation_test(nchw(X), nchw(Y[..., :2]), "cosine_similarity", layout="nchw")


@pytest.mark.parametrize("conv", ["mean", "positions"])
def test_heldout_similarity_reads_channels_first(conv):
    expected = cca.heldout_similarity(X, Y, "pwcca", folds=3, n_resamples=2, seed=0, conv=conv)
    first = cca.heldout_similarity(nchw(X), nchw(Y), "pwcca", folds=3, n_resamples=2, seed=0,
                                   conv=conv, layout="nchw")
    assert np.allclose(first.fold_values, expected.fold_values, rtol=0, atol=1e-10)
    assert np.allclose(first.bootstrap_distribution, expected.bootstrap_distribution, atol=1e-10)


def test_dask_arrays_read_channels_first():
    da = pytest.importorskip("dask.array")
    chunked = da.from_array(nchw(X), chunks=(40, 2, 4, 3))
    assert cca.pwcca(chunked, nchw(Y), conv="mean", layout="nchw") == pytest.approx(
        cca.pwcca(X, Y, conv="mean"), abs=1e-10)
    assert cca.linear_cka(chunked, nchw(Y), conv="positions", layout="nchw") == pytest.approx(
        cca.linear_cka(X, Y, conv="positions"), abs=1e-10)
    fit = cca.cca(chunked, nchw(Y), conv="mean", layout="nchw")
    assert fit.layout == "nchw"
    assert np.allclose(fit.project_x(nchw(X[:4])), cca.cca(X, Y, conv="mean").project_x(X[:4]),
                       atol=1e-8)
    accumulated = cca.CCAAccumulator("mean", "nchw").update(chunked, nchw(Y))
    assert accumulated.mean_cca() == pytest.approx(cca.mean_cca(X, Y, conv="mean"), abs=1e-10)
    with pytest.raises(ValueError, match="layout='nchw'"):
        cca.pwcca(da.from_array(rng.normal(size=(50, 16, 8, 8))), nchw(Y[:50]), conv="mean")


# --- the default never guesses what it could misread ------------------------------------------


def test_pytorch_tensors_need_a_layout_and_then_give_the_right_value():
    with pytest.raises(ValueError, match=r"^x is a 4-D PyTorch tensor.*layout='nchw'"):
        cca.pwcca(TorchTensor(nchw(X)), TorchTensor(nchw(Y)), conv="mean")
    with pytest.raises(ValueError, match="PyTorch tensor"):
        cca.CCAAccumulator("mean").update(TorchTensor(nchw(X)), nchw(Y))
    with pytest.raises(ValueError, match="PyTorch tensor"):
        cca.permutation_test(TorchTensor(nchw(X)), nchw(Y), conv="mean", layout=None)
    value = cca.pwcca(TorchTensor(nchw(X)), TorchTensor(nchw(Y)), conv="mean", layout="nchw")
    assert value == pytest.approx(cca.pwcca(X, Y, conv="mean"), abs=1e-12)
    # 2-D tensors have no layout to choose, and permuted ones can say so
    dense = TorchTensor(X.mean(axis=(1, 2)))
    assert cca.pwcca(dense, dense) == pytest.approx(1.0)
    assert cca.pwcca(TorchTensor(X), Y, conv="mean", layout="nhwc") == pytest.approx(
        cca.pwcca(X, Y, conv="mean"), abs=1e-12)


def test_arrays_that_are_square_maps_only_channels_first_need_a_layout():
    channels_first = rng.normal(size=(100, 16, 8, 8))  # 16 channels of 8 x 8
    with pytest.raises(ValueError, match=r"shape \(100, 16, 8, 8\).*layout='nchw'.*layout='nhwc'"):
        cca.mean_cca(channels_first, channels_first ** 2, conv="mean")
    assert cca.mean_cca(channels_first, channels_first, conv="mean", layout="nchw") == (
        pytest.approx(1.0))
    # an unusual channels-last layer of that shape says so, and is read as it says
    value = cca.mean_cca(channels_first, channels_first, conv="mean", layout="nhwc")
    assert value == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(100, 8, 8, 16), (100, 8, 8, 8), (100, 5, 7, 3), (100, 1, 1, 4)])
def test_channels_last_calls_keep_their_values_without_a_layout(shape):
    """Square maps channels last, maps as many as their channels, non-square ones: the default
    reads them as before (no error, no warning)."""
    x = rng.normal(size=shape)
    y = x[..., :2] ** 2 + rng.normal(size=(*shape[:3], 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = cca.pwcca(x, y, conv="mean")
    assert value == cca.pwcca(x.mean(axis=(1, 2)), y.mean(axis=(1, 2)))


def test_an_unknown_layout_is_a_clear_error():
    for layout in ("NCHW", "channels_first", 1):
        with pytest.raises(ValueError, match=r"^layout must be None, 'nhwc' or 'nchw'.*PyTorch"):
            cca.pwcca(X, Y, conv="mean", layout=layout)
    with pytest.raises(ValueError, match="layout must be"):
        cca.CCAAccumulator("mean", layout="chw")
    with pytest.raises(ValueError, match="layout must be"):
        cca.heldout_similarity(X, Y, conv="mean", layout="hwc")


def test_a_4d_layer_without_conv_mentions_the_channels_first_layout():
    with pytest.raises(ValueError, match="channels first with layout='nchw'.*conv='mean'"):
        cca.pwcca(nchw(X), nchw(Y), layout="nchw")


# --- bfloat16 and other formats NumPy does not know ---------------------------------------------


def test_float_resolution_by_name():
    assert float_resolution("bfloat16") == 2.0**-7
    assert float_resolution("float8_e5m2") == 2.0**-2
    assert float_resolution("torch.float16") == float(np.finfo(np.float16).eps)
    assert float_resolution(np.dtype(np.float32)) == float(np.finfo(np.float32).eps)
    assert float_resolution(np.dtype(np.int32)) is None and float_resolution(None) is None


def test_bfloat16_is_accepted_with_its_own_rounding():
    """JAX's and TensorFlow's bfloat16 arrays convert to ml_dtypes' bfloat16, which NumPy knows
    only as kind "V". Accepted, and its rounding (eps 2^-7) decides the rank: a neuron that is
    the sum of two others plus an offset, rounded to bfloat16 (steps of 1/16 near 10), adds no
    direction, while the same values in float64 are taken at their word."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    h = rng.normal(size=(500, 2))
    x = np.column_stack([h, h[:, 0] + h[:, 1] + 10]).astype(ml_dtypes.bfloat16)
    y = h @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(500, 3))
    assert x.dtype.kind == "V"
    assert len(cca.canonical_correlations(x, y)) == 2
    assert len(cca.canonical_correlations(x.astype(np.float64), y)) == 3
    without = x[:, :2].astype(np.float64)
    assert cca.mean_cca(x, y) == pytest.approx(cca.mean_cca(without, y), abs=1e-4)
    accumulated = cca.CCAAccumulator().update(x, y)
    assert len(accumulated.canonical_correlations()) == 2
    assert cca.linear_cka(x, y) == pytest.approx(cca.linear_cka(x.astype(np.float64), y))
    small_integers = rng.integers(-8, 8, size=(200, 3))
    assert cca.mean_cca(small_integers.astype(ml_dtypes.int4), small_integers) == pytest.approx(1)


@pytest.mark.parametrize("format_name", ["float8_e4m3fn", "float8_e5m2", "float4_e2m1fn"])
def test_formats_too_coarse_for_the_rank_decision_are_refused_clearly(format_name):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    values = rng.normal(size=(100, 3)).astype(getattr(ml_dtypes, format_name))
    with pytest.raises(ValueError, match=rf"^x holds {format_name} values.*x.astype\(np.float32\)"):
        cca.pwcca(values, rng.normal(size=(100, 2)))


def test_bfloat16_on_dask_keeps_its_rounding():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    da = pytest.importorskip("dask.array")
    h = rng.normal(size=(400, 2))
    x = np.column_stack([h, h[:, 0] + h[:, 1] + 10]).astype(ml_dtypes.bfloat16)
    y = h @ rng.normal(size=(2, 3)) + 0.1 * rng.normal(size=(400, 3))
    assert len(cca.canonical_correlations(da.from_array(y, chunks=100), x)) == 2
    assert len(cca.canonical_correlations(y, da.from_array(x, chunks=100))) == 2


# --- transposed layers ---------------------------------------------------------------------------


def test_layers_passed_neurons_x_datapoints_are_asked_about():
    """google/svcca takes (neurons, datapoints); here rows are datapoints."""
    x, y = rng.normal(size=(2000, 64)), rng.normal(size=(2000, 48))
    asked = r"did you pass neurons x datapoints, as google/svcca expects\? Then pass"
    with pytest.raises(ValueError, match=f"{asked} x.T and y.T"):
        cca.pwcca(x.T, y.T)
    with pytest.raises(ValueError, match=f"{asked} x.T\\.$"):
        cca.pwcca(x.T, y)
    with pytest.raises(ValueError, match=f"{asked} y.T\\.$"):
        cca.mean_cca(x, y.T)
    with pytest.raises(ValueError, match=f"at least 2 datapoints.*{asked} x.T"):
        cca.mean_cca(x[:1], y[:1])
    with pytest.warns(cca.DegenerateCCAWarning, match=f"{asked} x.T and y.T"):
        cca.mean_cca(x[:200].T, rng.normal(size=(200, 64)).T)  # 64 rows, 200 columns each
    with pytest.raises(ValueError, match="same number of datapoints") as error:
        cca.mean_cca(x[:30], y[:40])  # nothing suggests a transposed layer
    assert "google/svcca" not in str(error.value)


def test_no_question_when_there_are_more_datapoints_than_each_layer_has_neurons():
    with pytest.warns(cca.DegenerateCCAWarning) as caught:
        cca.mean_cca(rng.normal(size=(50, 30)), rng.normal(size=(50, 30)))
    assert "google/svcca" not in str(caught[0].message)


# --- the README -----------------------------------------------------------------------------------


def test_the_readme_conv_example_compares_two_different_layers():
    """Issue 26: the example compared a layer with its mirror image, trivially 1.0."""
    section = (ROOT / "README.md").read_text().split("## The `cca` library", 1)[1]
    namespace = {}
    exec(compile(re.search(r"```python\n(.*?)```", section, re.S)[1], "README.md", "exec"),  # noqa: S102
         namespace)
    maps, deeper, first = namespace["maps"], namespace["deeper"], namespace["first"]
    value = cca.pwcca(maps, deeper, conv="mean")
    assert round(value, 3) == 0.871  # the value the README states
    assert cca.pwcca(first, nchw(deeper), conv="mean", layout="nchw") == pytest.approx(value)
    assert round(cca.pwcca(first, nchw(deeper), conv="mean", layout="nhwc"), 3) == 0.125


# --- the package --------------------------------------------------------------------------------


def test_version_is_the_distributions():
    assert cca.__version__ == metadata.version("pwcca")


def test_license_and_type_marker_ship_with_the_library():
    assert (ROOT / "LICENSE").read_text() == (ROOT / "cca" / "LICENSE").read_text()
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "Version 2.0, January 2004" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "cca" / "py.typed").exists()


def test_import_cca_loads_no_framework_and_no_ml_dtypes():
    code = (
        "import sys, cca; print(sorted(name for name in ('torch', 'jax', 'tensorflow', "
        "'ml_dtypes', 'dask') if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert loaded.strip() == "[]"


# --- PyTorch itself (skipped where it is not installed, as in CI) -------------------------------


def test_real_pytorch_tensors():
    torch = pytest.importorskip("torch")
    x, y = torch.from_numpy(nchw(X)), torch.from_numpy(nchw(Y))
    with pytest.raises(ValueError, match="PyTorch tensor"):
        cca.pwcca(x, y, conv="mean")
    expected = cca.pwcca(X, Y, conv="mean")
    assert cca.pwcca(x, y, conv="mean", layout="nchw") == pytest.approx(expected, abs=1e-12)
    channels_last_memory = x.contiguous(memory_format=torch.channels_last)  # shape still NCHW
    assert cca.pwcca(channels_last_memory, y, conv="mean", layout="nchw") == pytest.approx(
        expected, abs=1e-12)
    assert cca.pwcca(x.permute(0, 2, 3, 1), y.permute(0, 2, 3, 1), conv="mean",
                     layout="nhwc") == pytest.approx(expected, abs=1e-12)
    # bfloat16, which NumPy cannot convert: through float32, with bfloat16's rounding
    h = torch.from_numpy(rng.normal(size=(500, 2)))
    coarse = torch.column_stack([h, h[:, 0] + h[:, 1] + 10]).to(torch.bfloat16)
    assert len(cca.canonical_correlations(coarse, h)) == 2
    half = torch.from_numpy(nchw(X)).to(torch.bfloat16)
    assert cca.pwcca(half, y, conv="mean", layout="nchw") == pytest.approx(expected, abs=0.01)
