"""Dask arrays in the measures (issue 14, part 3): chunk by chunk equals in memory (float64,
1e-10) for every chunking tried, the input checks say what the in-memory ones say, the client's
memory does not grow with the datapoints, and a real two-process LocalCluster gives the same
numbers."""

from __future__ import annotations

import re
import subprocess
import sys
import tracemalloc
import warnings

import dask
import dask.array as da
import distributed
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cca


def layers(seed=0, n=1000, a=8, b=6):
    """x and y sharing 4 latent dimensions, with offsets (the centering must be exact)."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    x = latent @ rng.normal(size=(4, a)) + rng.normal(size=(n, a)) + 1e3
    y = latent @ rng.normal(size=(4, b)) + 0.5 * rng.normal(size=(n, b)) - 20
    return x, y


# Row chunkings: one chunk, even, uneven last chunk; and a column chunking (rechunked).
CHUNKINGS = [(1000, -1), (250, -1), (300, -1), (300, 3)]

MEASURES = {
    "canonical_correlations": cca.canonical_correlations,
    "mean_cca": cca.mean_cca,
    "mean_cca_distance": cca.mean_cca_distance,
    "pwcca": cca.pwcca,
    "pwcca_distance": cca.pwcca_distance,
    "svcca": cca.svcca,
    "svcca (singular_values)": lambda x, y: cca.svcca(x, y, 0.9, rule="singular_values"),
    "svcca (keep=3)": lambda x, y: cca.svcca_distance(x, y, keep=3),
    "linear_cka": cca.linear_cka,
    "linear_cka_distance": cca.linear_cka_distance,
}


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_every_measure_equals_in_memory(chunks):
    x, y = layers()
    dx, dy = da.from_array(x, chunks=chunks), da.from_array(y, chunks=(chunks[0] + 13, -1))
    for name, measure in MEASURES.items():
        expected = measure(x, y)
        for pair in ((dx, dy), (dx, y), (x, dy)):  # one dask layer is enough
            assert np.allclose(measure(*pair), expected, rtol=0, atol=1e-10), name


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cuts=st.lists(st.integers(1, 599), max_size=8))
def test_any_row_chunking_equals_in_memory(seed, cuts):
    """Row chunks of random sizes (empty ones included) for x, y's own chunks."""
    x, y = layers(seed % 1000, n=600)
    sizes = np.diff([0, *sorted(cuts), 600]).tolist()
    dx, dy = da.from_array(x, chunks=(tuple(sizes), 8)), da.from_array(y, chunks=(150, 6))
    assert cca.pwcca(dx, dy) == pytest.approx(cca.pwcca(x, y), abs=1e-10)
    assert cca.svcca(dx, dy, 0.99) == pytest.approx(cca.svcca(x, y, 0.99), abs=1e-10)


@pytest.mark.parametrize("rows", [1, 7])
def test_tiny_chunks_equal_in_memory(rows):
    x, y = layers(n=100, a=5, b=4)
    dx, dy = da.from_array(x, chunks=rows), da.from_array(y, chunks=rows)
    assert cca.pwcca(dx, dy) == pytest.approx(cca.pwcca(x, y), abs=1e-10)
    assert cca.svcca(dx, dy, 0.99) == pytest.approx(cca.svcca(x, y, 0.99), abs=1e-10)


@pytest.mark.parametrize("center", [True, False])
def test_same_neuron_measures_chunked_equal_in_memory(center):
    """Cosine similarity and Euclidean distance need each neuron's sums of squares and products
    only; 4-D layers are flattened per datapoint, chunks of any shape."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(500, 2, 3, 4)) + 7
    y = 0.5 * x + rng.normal(size=x.shape)
    for chunks in ((500, 2, 3, 4), (120, 1, 3, 2), (7, 2, 3, 4)):
        dx = da.from_array(x, chunks=chunks)
        for measure in (cca.cosine_similarity, cca.cosine_distance, cca.euclidean_distance):
            expected = measure(x, y, center=center)
            assert measure(dx, y, center=center) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    huge, tiny = x * 1e295, y * 1e-250  # powers of two per chunk and layer: no overflow
    assert cca.cosine_similarity(da.from_array(huge, chunks=100), tiny) == pytest.approx(
        cca.cosine_similarity(huge, tiny), rel=1e-12
    )
    assert cca.euclidean_distance(da.from_array(huge, chunks=100), tiny) == pytest.approx(
        cca.euclidean_distance(huge, tiny), rel=1e-12
    )


def test_cca_result_from_dask_projects_like_in_memory():
    x, y = layers(1)
    chunked = cca.cca(da.from_array(x, chunks=128), da.from_array(y, chunks=128))
    result = cca.cca(x, y)
    assert chunked.n_samples == 1000 and chunked.method == "gram-float64"
    assert np.allclose(chunked.correlations, result.correlations, rtol=0, atol=1e-10)
    assert np.allclose(chunked.project_x(x), result.x_variates, rtol=0, atol=1e-9)
    assert np.allclose(chunked.project_y(y), result.y_variates, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="dask arrays.*use project_x"):
        _ = chunked.x_variates


@pytest.mark.parametrize("conv", ["mean", "positions"])
def test_conv_layers_chunked_equal_in_memory(conv):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 3, 3, 4))
    x[..., 0] = 2.0  # a dead channel
    y = rng.normal(size=(300, 3, 3, 2)) + x[..., 1:3]
    dx, dy = da.from_array(x, chunks=(70, 2, 3, 4)), da.from_array(y, chunks=(50, 3, 3, 2))
    assert cca.pwcca(dx, dy, conv=conv) == pytest.approx(cca.pwcca(x, y, conv=conv), abs=1e-10)
    expected = cca.svcca(x, y, 2, conv=conv)
    assert cca.svcca(dx, dy, 2, conv=conv) == pytest.approx(expected, abs=1e-10)


def test_accumulator_takes_dask_batches_and_numpy_batches():
    x, y = layers(3)
    accumulator = cca.CCAAccumulator().update(x[:100], y[:100])
    accumulator.update(da.from_array(x[100:700], chunks=90), da.from_array(y[100:700], chunks=90))
    accumulator.update(x[700:], da.from_array(y[700:], chunks=64))
    assert accumulator.n_samples == 1000
    assert accumulator.pwcca() == pytest.approx(cca.pwcca(x, y), abs=1e-10)
    assert accumulator.svcca(0.99) == pytest.approx(cca.svcca(x, y, 0.99), abs=1e-10)
    with pytest.raises(ValueError, match="earlier batches had 8 \\+ 6"):
        accumulator.update(da.from_array(x[:, :5]), da.from_array(y))


def test_float32_chunks_are_reduced_in_float64():
    x, y = (layer.astype(np.float32) for layer in layers(4))
    chunked = cca.pwcca(da.from_array(x, chunks=200), da.from_array(y, chunks=200))
    assert chunked == pytest.approx(cca.CCAAccumulator().update(x, y).pwcca(), abs=1e-10)
    assert chunked == pytest.approx(cca.pwcca(x, y), abs=1e-5)  # in memory: the float32 Gram path
    # A float16 NumPy partner keeps its precision for the rank decision: a neuron that is the sum
    # of two others plus an offset, rounded to float16, is no new direction.
    x = x - np.float32(1e3)  # float16's rounding of values near 1e3 would hide x's spread
    coarse = np.column_stack([y[:, 0], y[:, 1], y[:, 0] + y[:, 1] + 100]).astype(np.float16)
    assert len(cca.canonical_correlations(x, coarse)) == 2
    chunked = cca.canonical_correlations(da.from_array(x, chunks=200), coarse)
    assert np.allclose(chunked, cca.canonical_correlations(x, coarse), rtol=0, atol=1e-10)


def test_scales_differing_between_chunks_merge_exactly():
    """Chunks are scaled by their own powers of two (a neuron dead in one chunk, 1e200 in
    another); the merge keeps the smaller factor, so nothing overflows."""
    x, y = layers(5, n=400)
    x[:200, 0] = 0.0
    x[200:, 0] *= 1e200
    dx, dy = da.from_array(x, chunks=200), da.from_array(y, chunks=200)
    assert cca.mean_cca(dx, dy) == pytest.approx(cca.mean_cca(x, y), abs=1e-10)


def error_of(function, *args, **kwargs) -> str:
    with pytest.raises(ValueError) as caught:
        function(*args, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda x, y: (x, y[:-1]), id="rows differ"),
        pytest.param(lambda x, y: (x[:, 0], y), id="1-D"),
        pytest.param(lambda x, y: (x[None], y), id="3-D"),
        pytest.param(lambda x, y: (x[:1], y[:1]), id="one datapoint"),
        pytest.param(lambda x, y: (x.reshape(-1, 2, 2, 2), y), id="4-D without conv"),
        pytest.param(lambda x, y: (x.astype(complex), y), id="complex"),
        pytest.param(lambda x, y: (x, np.where(np.arange(1000)[:, None] > 620, np.nan, y)),
                     id="NaN in later chunks"),
        pytest.param(lambda x, y: (np.where(x > 1003, np.inf, x), y), id="infinity"),
        pytest.param(lambda x, y: (x * 1e299, y), id="beyond float64's range"),
        pytest.param(lambda x, y: (0 * x + 3, y), id="every neuron constant"),
    ],
)
def test_invalid_chunked_input_fails_as_in_memory(spoil):
    x, y = spoil(*layers())
    message = error_of(cca.pwcca, x, y)
    chunked = (da.from_array(x, chunks=300), da.from_array(y, chunks=300))
    assert error_of(cca.pwcca, *chunked) == message
    assert error_of(cca.linear_cka, *chunked) == error_of(cca.linear_cka, x, y)
    for same_neurons in (cca.cosine_similarity, cca.euclidean_distance):  # x against itself
        try:
            same_neurons(x, x)
        except ValueError as error:
            assert error_of(same_neurons, chunked[0], chunked[0]) == str(error)


def test_a_layer_within_its_rounding_fails_as_in_memory():
    """float16 values near 1000 round by up to 0.25, more than x's spread (here about 0.05-0.15):
    no direction of x is above the rounding of its values. In memory and chunked: the same error,
    never an empty result whose mean would be NaN (the accumulator's too)."""
    x, y = layers()
    x = ((x - 1e3) * 0.05 + 1e3).astype(np.float16)
    message = error_of(cca.mean_cca, x, y)
    assert "rounding of its values" in message
    assert error_of(cca.mean_cca, da.from_array(x, chunks=300), y) == message
    assert error_of(cca.CCAAccumulator().update(x, y).mean_cca) == message


def test_what_needs_the_rows_in_memory_says_compute():
    x, y = layers()
    dx, dy = da.from_array(x, chunks=300), da.from_array(y, chunks=300)
    for call in (
        lambda: cca.pwcca(dx, dy, method="svd"),
        lambda: cca.canonical_correlations(da.ones((9, 2, 2, 3)), da.ones((9, 2, 2, 3)),
                                           conv="dft"),
        lambda: cca.linear_cka(dx, dy, debiased=True),
        lambda: cca.permutation_test(x, dy, "mean_cca", n_permutations=10),
        lambda: cca.cca(x, y).project_x(dx),
    ):
        assert ".compute()" in error_of(call)
    assert "compute_chunk_sizes" in error_of(cca.pwcca, dx[dx[:, 0] > 1e3], dy)


def test_significance_refuses_dask_before_reading_a_single_block():
    x, _ = layers()

    def unreadable(block):
        raise AssertionError("a block was computed before the refusal")

    dy = da.from_array(np.ones_like(x), chunks=300).map_blocks(unreadable, dtype=float)
    for call in (lambda: cca.permutation_test(x, dy, "pwcca", n_permutations=10),
                 lambda: cca.bootstrap_interval(x, dy, "pwcca", n_resamples=10)):
        assert ".compute()" in error_of(call)


def test_nearly_dependent_neurons_warn_where_auto_would_take_the_svd_path():
    x, y = layers(6)
    x[:, 1] = x[:, 0] + 1e-4 * np.random.default_rng(0).normal(size=1000)
    dx, dy = da.from_array(x, chunks=300), da.from_array(y, chunks=300)
    assert cca.cca(x, y).method == "svd"
    with pytest.warns(cca.GramPathWarning, match="method='gram'"):
        chunked = cca.pwcca(dx, dy)
    assert chunked == pytest.approx(cca.pwcca(x, y), abs=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cca.pwcca(dx, dy, method="gram")


def test_client_memory_does_not_grow_with_the_datapoints():
    """The client holds a block and merged statistics at a time, never the layers: for 8x the
    datapoints (8x the blocks) its peak allocation grows by less than half (the task graph's
    bookkeeping per block), and stays far below the layers' size. The blocks are generated
    lazily, and the synchronous scheduler runs every task in this process, where it is measured:
    on a cluster the client does not even hold a block."""
    peaks = []
    for n in (100_000, 800_000):
        x = da.random.default_rng(0).normal(size=(n, 16), chunks=(10_000, 16))
        y = x[:, :8] + da.random.default_rng(1).normal(size=(n, 8), chunks=(10_000, 8))
        tracemalloc.start()
        with dask.config.set(scheduler="synchronous"):
            cca.pwcca(x, y)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    layer_bytes = 800_000 * 24 * 8
    assert peaks[1] < 1.5 * peaks[0] and peaks[1] < layer_bytes / 10, (peaks, layer_bytes)


def test_blas_threads_are_limited_during_the_reduction_and_restored_after():
    """Blocks run in parallel on one BLAS thread each; the limit must not outlive the call (a
    limit set and lifted by each of several concurrent blocks once left BLAS on one thread)."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    x = da.random.default_rng(0).normal(size=(20_000, 12), chunks=(500, 12))
    for _ in range(3):
        with dask.config.set(scheduler="threads", num_workers=4):
            cca.pwcca(x, x[:, :6] + 1)
        assert blas_threads() == before


def test_import_cca_imports_neither_dask_nor_a_deep_learning_framework():
    """The library is NumPy/SciPy: dask comes in only with a dask array, never with the import."""
    code = (
        "import sys, cca; "
        "print(sorted(name for name in ('dask', 'distributed', 'tensorflow', 'keras', 'torch', "
        "'jax') if name in sys.modules))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout
    assert imported.strip() == "[]"


def test_two_worker_processes_give_the_in_memory_values():
    """A real cluster: the blocks are reduced in two other processes (issue 14, part 4)."""
    x, y = layers(7, n=3000)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        dx = client.persist(da.from_array(x, chunks=400))  # the blocks live on the workers
        dy = client.persist(da.from_array(y, chunks=500))
        with distributed.get_task_stream(client) as tasks:
            assert cca.pwcca(dx, dy) == pytest.approx(cca.pwcca(x, y), abs=1e-10)
        workers = {task["worker"] for task in tasks.data if "_screened" in str(task["key"])}
        assert workers == set(client.nthreads()) and len(workers) == 2
        assert np.allclose(cca.canonical_correlations(dx, dy), cca.canonical_correlations(x, y),
                           rtol=0, atol=1e-10)
        accumulator = cca.CCAAccumulator().update(dx, dy)
        assert accumulator.mean_cca() == pytest.approx(cca.mean_cca(x, y), abs=1e-10)
        spoiled = da.where(da.arange(3000)[:, None] == 2500, np.nan, dx)
        message = re.escape(error_of(cca.pwcca, np.where(np.arange(3000)[:, None] == 2500,
                                                         np.nan, x), y))
        with pytest.raises(ValueError, match=message):
            cca.pwcca(spoiled, dy)
