"""Time a layer x layer comparison: cca.compare_layers against the double loop of plain calls.

Two networks of 12 ReLU layers (widths from 64 to 512) see the same 10,000 inputs. For PWCCA, SVCCA
and linear CKA the script times the double loop ``[[measure(x[i], y[j]) for j] for i]`` and
``cca.compare_layers`` on the same layers, side by side in one run, and prints the ratio and the
largest difference between the two matrices. Two cases: one network against the other (12 x 12
pairs), and one network against itself (``layers_y`` omitted: pairs (i, j) and (j, i) share their
products and SVD).

Target: compare_layers at least 5x faster than the double loop for PWCCA, 12 x 12, n = 10,000.

The column "bound" is the double loop's time over that of the pairs' cross products X^T Y alone
(the layers of the other network stacked, as compare_layers multiplies them): the work that
factoring each layer once cannot remove, so no compare_layers that keeps the plain calls' values
(the same products, each rounded alike) can beat that ratio. Between two networks the products
of every pair remain, about a third of the double loop's products (it also forms X^T X and Y^T Y
per pair); against itself half of them (X_i^T X_j serves (i, j) and (j, i)).

Usage: python benchmarks/bench_layers.py [--n 10000] [--layers 12] [--repeat 1]
       [--measures pwcca svcca linear_cka]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import cca

MEASURES = ("pwcca", "svcca", "linear_cka")


def network(inputs: np.ndarray, widths: list[int], seed: int) -> dict[str, np.ndarray]:
    """Activations of a random ReLU network: each layer a noisy ReLU of the one below."""
    rng = np.random.default_rng(seed)
    layers, below = {}, inputs
    for depth, width in enumerate(widths):
        weights = rng.normal(size=(below.shape[1], width)) / np.sqrt(below.shape[1])
        below = np.maximum(below @ weights + 0.1 * rng.normal(size=(len(below), width)), 0)
        layers[f"layer{depth + 1}"] = below
    return layers


def side_by_side(plain, factored, repeat: int) -> tuple[float, float, object, object]:
    """Smallest wall time of each over ``repeat`` rounds, the two calls alternating within a
    round so that both see the same load on a shared machine; and their last results."""
    plain_times, factored_times = [], []
    for _ in range(repeat):
        for function, times in ((plain, plain_times), (factored, factored_times)):
            start = time.perf_counter()
            result = function()
            times.append(time.perf_counter() - start)
            if function is plain:
                expected = result
    return min(plain_times), min(factored_times), expected, result


def double_loop(measure: str, layers_x: dict, layers_y: dict) -> np.ndarray:
    """The measure called on every pair, as a user would without compare_layers."""
    function = cca.registry.MEASURES[measure].function
    return np.array([[function(x, y) for y in layers_y.values()] for x in layers_x.values()])


def cross_products(layers_x: dict, layers_y: dict | None) -> None:
    """Every pair's X^T Y, as compare_layers forms them: each x layer against the other
    network's layers stacked side by side, or against itself against the layers after it."""
    xs = list(layers_x.values())
    stacked = np.hstack(xs if layers_y is None else list(layers_y.values()))
    start = 0
    for x in xs:
        start += x.shape[1]
        x.T @ (stacked[:, start:] if layers_y is None else stacked)


def smallest_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="inputs (default 10000)")
    parser.add_argument("--layers", type=int, default=12, help="layers per network (default 12)")
    parser.add_argument("--repeat", type=int, default=1, help="timing repeats, best kept")
    parser.add_argument("--measures", nargs="+", default=list(MEASURES), choices=MEASURES,
                        help="measures to time (default: all three)")
    args = parser.parse_args()
    widths = [int(w) for w in np.geomspace(64, 512, args.layers).round()]
    inputs = np.random.default_rng(0).normal(size=(args.n, 32))
    first, second = network(inputs, widths, seed=1), network(inputs, widths, seed=2)
    print(f"n = {args.n}, {args.layers} layers of widths {widths}, best of {args.repeat}")
    print(f"{'measure':12s} {'case':22s} {'double loop':>12s} {'compare_layers':>15s} "
          f"{'ratio':>7s} {'bound':>7s} {'max |diff|':>11s}")
    warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
    cases = (("two networks", second), ("a network vs itself", None))
    floors = {case: smallest_time(lambda y=layers_y: cross_products(first, y), args.repeat)
              for case, layers_y in cases}
    for measure in args.measures:
        for case, layers_y in cases:
            plain, factored, expected, result = side_by_side(
                lambda m=measure, y=layers_y: double_loop(m, first, first if y is None else y),
                lambda m=measure, y=layers_y: cca.compare_layers(first, y, m),
                args.repeat,
            )
            difference = np.abs(result.values - expected).max()
            print(f"{measure:12s} {case:22s} {plain:11.2f}s {factored:14.2f}s "
                  f"{plain / factored:6.1f}x {plain / floors[case]:6.1f}x {difference:11.1e}")


if __name__ == "__main__":
    main()
