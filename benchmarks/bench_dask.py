"""Throughput of the measures on dask arrays on a LocalCluster against the in-memory path.

Two layers of d neurons each, sharing a d/4-dimensional signal plus noise (as
``bench_measures.layers``), are generated block by block on the workers of a
``distributed.LocalCluster`` (``--workers`` processes, one thread each) and kept there, as
activations computed or read by the workers would be. ``cca.pwcca`` of these dask arrays reduces
each block of ``--chunk`` rows to its statistics on the workers and solves locally
(:mod:`cca._dask`). ``cca.pwcca`` of the same layers gathered into NumPy arrays is the in-memory
path, timed with all BLAS threads and with one: the in-memory products are multi-threaded, and on
a loaded machine those threads can wait for each other far longer than they compute. Printed:
seconds (best of ``--repeat``), datapoints and megabytes of activations per second, the ratios,
how far the results differ, and the machine's load.

Measured on this 2-core machine while another job trained networks on it (load average 6-8),
defaults (n = 100,000, d = 256 per layer, 410 MB, chunks of 25,000 rows, 2 workers):

    path                      seconds  datapoints/s    MB/s
    in memory (numpy)            8.03        12,454      51
    in memory, 1 BLAS thread     2.22        45,142     185
    dask, LocalCluster           3.24        30,875     126
    dask / in memory: 0.40x the time (1.46x that on one BLAS thread); |pwcca difference| = 9.3e-15

    path                      seconds  datapoints/s    MB/s
    in memory (numpy)           12.21         8,188      34
    in memory, 1 BLAS thread     2.42        41,332     169
    dask, LocalCluster           5.48        18,246      75
    dask / in memory: 0.45x the time (2.27x that on one BLAS thread); |pwcca difference| = 9.3e-15

(a third run, before the one-thread line existed: in memory 7.96 s, dask 4.13 s). The contended
machine penalises the multi-threaded in-memory products most; against the in-memory path on one
thread, the cluster path costs 1.5-2.3x here (two worker processes on two busy cores, each block
checked for NaN and centered on its own, and the tasks and statistics moving between processes).
Its point is data that do not fit one machine: each worker reads and reduces only its own
blocks.

Usage: python benchmarks/bench_dask.py [--n 100000] [--d 256] [--chunk 25000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import time

import dask.array as da
import distributed
import numpy as np
from bench_measures import best_time
from threadpoolctl import threadpool_limits

import cca


def layers_on_workers(n: int, d: int, chunk: int, seed: int = 0) -> tuple[da.Array, da.Array]:
    """Two dask layers of d neurons sharing a d/4-dimensional latent signal, plus noise."""
    rng = np.random.default_rng(seed)
    blocks = da.random.default_rng(seed)
    latent = blocks.normal(size=(n, max(d // 4, 1)), chunks=(chunk, -1))
    noise_x, noise_y = (blocks.normal(size=(n, d), chunks=(chunk, -1)) for _ in range(2))
    x = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * noise_x + 3
    y = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * noise_y - 1
    return x, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="datapoints (default 100000)")
    parser.add_argument("--d", type=int, default=256, help="neurons per layer (default 256)")
    parser.add_argument("--chunk", type=int, default=25_000, help="rows per block (25000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept")
    args = parser.parse_args()
    megabytes = 2 * args.n * args.d * 8 / 1e6
    print(
        f"n = {args.n}, d = {args.d} per layer ({megabytes:.0f} MB), chunks of {args.chunk} rows, "
        f"{args.workers} worker processes of one thread, best of {args.repeat}"
    )
    with (
        distributed.LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dx, dy = client.persist(layers_on_workers(args.n, args.d, args.chunk))
        distributed.wait([dx, dy])
        on_cluster, value = best_time(lambda: cca.pwcca(dx, dy), args.repeat)
        x, y = client.gather(client.compute([dx, dy]))
    in_memory, expected = best_time(lambda: cca.pwcca(x, y), args.repeat)
    with threadpool_limits(limits=1, user_api="blas"):
        one_thread, _ = best_time(lambda: cca.pwcca(x, y), args.repeat)
    print(f"{'path':24s} {'seconds':>8s} {'datapoints/s':>13s} {'MB/s':>7s}")
    paths = (
        ("in memory (numpy)", in_memory),
        ("in memory, 1 BLAS thread", one_thread),
        ("dask, LocalCluster", on_cluster),
    )
    for label, seconds in paths:
        print(
            f"{label:24s} {seconds:8.2f} {args.n / seconds:13,.0f} {megabytes / seconds:7,.0f}"
        )
    print(
        f"dask / in memory: {on_cluster / in_memory:.2f}x the time "
        f"({on_cluster / one_thread:.2f}x that on one BLAS thread); "
        f"|pwcca difference| = {abs(value - expected):.1e}"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"(whole run {time.perf_counter() - start:.0f} s)")
