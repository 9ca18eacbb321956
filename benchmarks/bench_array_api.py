"""PyTorch tensors where they live against NumPy: equal values and the speed ratio (issue 27).

Two layers of 50,000 datapoints x 512 neurons (a ReLU layer and a noisy linear map of it), as
PyTorch tensors on the GPU where one is present (else on the CPU), in float64 and float32. For
PWCCA, mean CCA and SVCCA (0.99 of the variance), on the Gram path (``method="auto"``) and the SVD
path (``method="svd"``), the script times the call on the tensors and the same call on NumPy
arrays on the host, side by side (the tensor call synchronised before the clock stops: the result
is a Python float), and prints both values, their difference, the ratio NumPy / tensor, and the
largest array that crossed to the host (cca._array_api.to_host). Exit status 1 if a difference
exceeds the dtype's tolerance (float64: 1e-9; float32: 1e-4) or a crossing exceeds the
neurons' size ((a + b)^2 numbers: never the datapoints').

This is the short, prepared GPU check: ``python benchmarks/bench_array_api.py`` (needs torch and
array-api-compat: ``make test-frameworks`` installs them). Timings are of one machine; compare
ratios only from one run.

Usage: python benchmarks/bench_array_api.py [--n 50000] [--width 512] [--repeat 3]
       [--device cuda|cpu]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import cca
from cca import _array_api

TOLERANCE = {"float64": 1e-9, "float32": 1e-4}
MEASURES = {
    "pwcca": cca.pwcca,
    "mean_cca": cca.mean_cca,
    "svcca": lambda x, y, **kw: cca.svcca(x, y, 0.99, **kw),
}


def layers(n: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """A ReLU layer and a noisy linear map of it (correlations spread over (0, 1))."""
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(n, width))
    x = np.maximum(inputs @ rng.normal(size=(width, width)) / np.sqrt(width), 0)
    y = x @ rng.normal(size=(width, width)) + 2.0 * rng.normal(size=(n, width))
    return x, y


def timed(measure, x, y, method, repeat: int, synchronize) -> tuple[float, float]:
    """Smallest wall time of ``measure(x, y, method=method)`` over ``repeat`` calls (after one
    warm-up) and its value."""
    value = measure(x, y, method=method)
    times = []
    for _ in range(repeat):
        synchronize()
        start = time.perf_counter()
        value = measure(x, y, method=method)
        synchronize()
        times.append(time.perf_counter() - start)
    return min(times), value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", choices=("cuda", "cpu"), default=None)
    args = parser.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    synchronize = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"{args.n} x {args.width} layers; tensors on {device} ({name}), NumPy on the host")
    crossed = []
    original = _array_api.to_host

    def counting(array):
        host = original(array)
        crossed.append(host.size)
        return host

    _array_api.to_host = counting
    failures = 0
    header = f"{'dtype':8} {'measure':9} {'method':6} {'numpy':>10} {'tensor':>10} "
    print(header + f"{'|diff|':>9} {'numpy s':>8} {'tensor s':>8} {'ratio':>6} crossed")
    x, y = layers(args.n, args.width)
    for dtype in ("float64", "float32"):
        hx, hy = x.astype(dtype), y.astype(dtype)
        tx, ty = torch.from_numpy(hx).to(device), torch.from_numpy(hy).to(device)
        for measure_name, measure in MEASURES.items():
            for method in ("auto", "svd"):
                crossed.clear()
                host_time, expected = timed(measure, hx, hy, method, args.repeat, lambda: None)
                crossed.clear()
                device_time, value = timed(measure, tx, ty, method, args.repeat, synchronize)
                difference = abs(value - expected)
                largest = max(crossed)
                bad = difference > TOLERANCE[dtype] or largest > (2 * args.width) ** 2
                failures += bad
                print(f"{dtype:8} {measure_name:9} {method:6} {expected:10.6f} {value:10.6f} "
                      f"{difference:9.1e} {host_time:8.3f} {device_time:8.3f} "
                      f"{host_time / device_time:6.1f} {largest}{'  FAIL' if bad else ''}")
    print("all values within tolerance" if not failures else f"{failures} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
