"""Time the permutation null's fast path against calling the measure on permuted data.

For each measure, side by side in one run: the time per permutation of the statistic that
``cca.permutation_test`` evaluates on the permutations (its one-off set-up, a whole
``permutation_test`` with one permutation, is printed beside it), and the time of the measure itself
on ``x, y[permutation]``, the plain way, for the same permutations, in alternating rounds so both
see about the same load. The ratio is plain / fast. A last column gives the whole test
of 1000 permutations, set-up included, plain / fast. The bootstrap has no such shortcut (a resample
changes every moment); its time per resample is printed against one call of the measure.

Then the bootstrap's accuracy, which decides its default interval: over ``--trials`` fresh samples
of two layers (20 + 20 neurons sharing 5 dimensions, n = 2000), how often the 95% interval of PWCCA
covers the measure's expected value at that n (the mean over as many more fresh samples), for
``method="percentile"`` and ``method="centered"``, with the bootstrap's mean shift (bias) and spread
beside the spread over fresh samples.

Layers share a d/4-dimensional latent signal plus noise, as in ``bench_measures.py``. A second
shape, few datapoints for wide layers, shows linear CKA's kernel form (n^2 < a b); the CCA measures
are skipped where n <= a + b (degenerate).

Usage: python benchmarks/bench_significance.py [--shapes 5000x256,1000x1024] [--permutations 20]
       [--trials 30]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import cca
from cca import significance

MEASURES = [
    ("mean_cca", {}),
    ("svcca", {}),
    ("svcca", {"keep": 20}),
    ("pwcca", {}),
    ("pwcca", {"method": "svd"}),
    ("linear_cka", {}),
    ("linear_cka", {"debiased": True}),
    ("cosine_similarity", {}),
    ("euclidean_distance", {}),
]


CCA_MEASURES = ("mean_cca", "svcca", "pwcca")


def layers(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two layers of d neurons sharing a d/4-dimensional latent signal, plus independent noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, max(d // 4, 1)))
    x = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * rng.normal(size=(n, d)) + 3
    y = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * rng.normal(size=(n, d)) - 1
    return x, y


def seconds(function, repeat: int = 3) -> float:
    """Smallest wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def fast_statistic(x, y, name: str, options: dict):
    """The statistic ``permutation_test`` evaluates on permuted rows (orders -> values)."""
    entry = significance._MEASURES[name]
    return significance._null_statistic(entry, x, y, None, options)[0]


def compare(x, y, name: str, options: dict, permutations: int) -> tuple[float, float, float]:
    """(set-up, fast per permutation, plain per permutation) in seconds.

    The same permutations both ways, in three alternating rounds, the best round of each kept,
    so that both see about the same load on the machine. The fast path takes all permutations
    at once, as ``permutation_test`` does (its small SVDs go in batches).
    """
    setup = seconds(lambda: cca.permutation_test(x, y, name, n_permutations=1, seed=0, **options))
    statistic = fast_statistic(x, y, name, options)
    measure = getattr(cca, name)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(y)) for _ in range(permutations)]
    fast, plain = [], []
    for _ in range(3):
        fast.append(seconds(lambda: statistic(orders), repeat=1))
        plain.append(seconds(lambda: [measure(x, y[o], **options) for o in orders], repeat=1))
    return setup, min(fast) / permutations, min(plain) / permutations


def bootstrap_ratio(x, y, name: str, resamples: int) -> tuple[float, float]:
    """(seconds per bootstrap resample, seconds of one call of the measure)."""
    total = seconds(
        lambda: cca.bootstrap_interval(x, y, name, n_resamples=resamples, seed=0), repeat=1
    )
    measure = getattr(cca, name)
    once = seconds(lambda: measure(x, y))
    return total / (resamples + 1), once


def shared_dimensions(n: int, seed: int, mixing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x (n x 20) and y = 5 of x's dimensions mixed into 20 neurons, plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20))
    return x, x[:, :5] @ mixing + rng.normal(size=(n, 20))


def coverage(trials: int, n: int = 2000, resamples: int = 100) -> None:
    """Coverage of PWCCA's expected value at n by both bootstrap intervals (module docstring)."""
    mixing = np.random.default_rng(0).normal(size=(5, 20))
    fresh = [cca.pwcca(*shared_dimensions(n, 1000 + k, mixing)) for k in range(trials)]
    expected = np.mean(fresh)
    covered = {"percentile": 0, "centered": 0}
    biases, errors = [], []
    for k in range(trials):
        x, y = shared_dimensions(n, 100 + k, mixing)
        for method in covered:
            result = cca.bootstrap_interval(
                x, y, "pwcca", n_resamples=resamples, seed=k, method=method
            )
            low, high = result.confidence_interval
            covered[method] += low <= expected <= high
        biases.append(result.bias)
        errors.append(result.standard_error)
    print(
        f"\nbootstrap of pwcca, 20 + 20 neurons sharing 5 dimensions, n = {n}, {trials} samples: "
        f"expected value {expected:.3f}, spread over fresh samples {np.std(fresh, ddof=1):.4f}; "
        f"bootstrap bias {np.mean(biases):+.4f}, bootstrap standard error {np.mean(errors):.4f}"
    )
    for method, count in covered.items():
        print(f"  95% {method} interval covers the expected value in {count} of {trials}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", default="5000x256,1000x1024", help="n x d per layer, comma-separated"
    )
    parser.add_argument("--permutations", type=int, default=20, help="permutations timed")
    parser.add_argument("--trials", type=int, default=30, help="samples for the coverage check")
    args = parser.parse_args()
    warnings.simplefilter("ignore", cca.ChanceLevelWarning)
    for shape in args.shapes.split(","):
        n, d = (int(part) for part in shape.split("x"))
        x, y = layers(n, d)
        print(f"\nn = {n}, d = {d} per layer, {args.permutations} permutations")
        print(
            f"{'measure':34s} {'set-up s':>9s} {'fast ms':>9s} {'plain ms':>9s} "
            f"{'plain/fast':>10s} {'1000 perms':>10s}"
        )
        for name, options in MEASURES:
            if n <= 2 * d and name in CCA_MEASURES:
                continue  # degenerate CCA (n <= a + b): nothing to learn from its timing
            setup, fast, plain = compare(x, y, name, options, args.permutations)
            label = name + "".join(f", {key}={value}" for key, value in options.items())
            whole = 1000 * plain / (setup + 1000 * fast)
            print(
                f"{label:34s} {setup:9.3f} {1e3 * fast:9.2f} {1e3 * plain:9.2f} "
                f"{plain / fast:9.1f}x {whole:9.1f}x"
            )
        bootstrapped = "linear_cka" if n <= 2 * d else "pwcca"
        per_resample, once = bootstrap_ratio(x, y, bootstrapped, max(args.permutations // 4, 2))
        print(
            f"bootstrap {bootstrapped}: {1e3 * per_resample:.2f} ms per resample, the measure "
            f"once {1e3 * once:.2f} ms ({per_resample / once:.2f}x)"
        )
    if args.trials:
        coverage(args.trials)


if __name__ == "__main__":
    main()
