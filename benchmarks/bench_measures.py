"""Time the similarity measures against the least any exact method must do, and classical CCA.

The floor is one Gram matrix of the stacked activations, ``s = np.hstack([x, y]); s.T @ s``, in the
same dtype. Each measure's time is divided by it. Side by side, the classical algorithm written from
the math: covariances, Cxx^-1/2 Cxy Cyy^-1/2 (inverse square roots by scipy.linalg.sqrtm, and by
eigh), its SVD, and PWCCA from explicit variates h = Xc Cxx^-1/2 u.

Targets (float64): PWCCA and SVCCA within 1.5x of the floor, and PWCCA at least 4x faster than the
classical PWCCA (inverse square roots by sqrtm, the textbook form; the eigh variant is printed for
reference). For float32 input: times, and the largest deviation from the float64 results.

Usage: python benchmarks/bench_measures.py [--n 50000] [--d 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.linalg

import cca


def layers(n: int, d: int, dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two layers of d neurons sharing a d/4-dimensional latent signal, plus independent noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, max(d // 4, 1)))
    x = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * rng.normal(size=(n, d)) + 3
    y = latent @ rng.normal(size=(latent.shape[1], d)) + 2 * rng.normal(size=(n, d)) - 1
    return x.astype(dtype), y.astype(dtype)


def best_time(function, repeat: int) -> tuple[float, object]:
    """Smallest wall time over ``repeat`` calls, and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def gram_floor(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The floor: one Gram matrix of the stacked activations."""
    s = np.hstack([x, y])
    return s.T @ s


def cross_products(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """X^T X, Y^T Y and X^T Y on the data in place: what any exact CCA must compute at least."""
    return x.T @ x, y.T @ y, x.T @ y


def classical_pwcca(x: np.ndarray, y: np.ndarray, inverse_sqrt) -> tuple[np.ndarray, float]:
    """Textbook CCA: rho = svd(Cxx^-1/2 Cxy Cyy^-1/2); PWCCA from the variates (paper, Sec. 2.2)."""
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    n = len(x)
    c_xx, c_yy, c_xy = xc.T @ xc / (n - 1), yc.T @ yc / (n - 1), xc.T @ yc / (n - 1)
    w_x, w_y = inverse_sqrt(c_xx), inverse_sqrt(c_yy)
    u, rho, _ = np.linalg.svd(w_x @ c_xy @ w_y, full_matrices=False)
    variates = xc @ (w_x @ u)
    variates /= np.linalg.norm(variates, axis=0)
    weights = np.abs(xc.T @ variates).sum(axis=0)
    return rho, float(weights @ rho / weights.sum())


def inverse_sqrt_sqrtm(c: np.ndarray) -> np.ndarray:
    """C^-1/2 by scipy.linalg.sqrtm and an inverse."""
    return np.linalg.inv(np.real(scipy.linalg.sqrtm(c)))


def inverse_sqrt_eigh(c: np.ndarray) -> np.ndarray:
    """C^-1/2 by a symmetric eigendecomposition."""
    eigvals, eigvecs = np.linalg.eigh(c)
    return (eigvecs / np.sqrt(eigvals)) @ eigvecs.T


MEASURES = {
    "canonical_correlations": lambda x, y: cca.canonical_correlations(x, y),
    "mean_cca": lambda x, y: cca.mean_cca(x, y),
    "pwcca": lambda x, y: cca.pwcca(x, y),
    "svcca (keep=0.99 variance)": lambda x, y: cca.svcca(x, y),
    "svcca (keep=0.99 singular_values)": lambda x, y: cca.svcca(x, y, rule="singular_values"),
    "linear_cka": lambda x, y: cca.linear_cka(x, y),
}


def run_dtype(n: int, d: int, dtype, repeat: int) -> tuple[dict, float]:
    """Time every measure for one dtype; return {name: (seconds, value)} and the floor time."""
    x, y = layers(n, d, dtype)
    floor, _ = best_time(lambda: gram_floor(x, y), repeat)
    results = {name: best_time(lambda f=f: f(x, y), repeat) for name, f in MEASURES.items()}
    if dtype == np.float64:
        results["(X^T X, Y^T Y, X^T Y only)"] = best_time(lambda: cross_products(x, y), repeat)
        results["pwcca, method='svd' (1 run)"] = best_time(lambda: cca.pwcca(x, y, method="svd"), 1)
        for label, inverse_sqrt in (("sqrtm", inverse_sqrt_sqrtm), ("eigh", inverse_sqrt_eigh)):
            seconds, (_, value) = best_time(lambda s=inverse_sqrt: classical_pwcca(x, y, s), repeat)
            results[f"classical pwcca ({label})"] = (seconds, value)
    return results, floor


def as_scalar(value) -> float:
    """Mean of correlations, or the similarity itself, for deviation reports."""
    return float(np.mean(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="datapoints (default 50000)")
    parser.add_argument("--d", type=int, default=512, help="neurons per layer (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept")
    args = parser.parse_args()
    print(f"n = {args.n}, d = {args.d} per layer, best of {args.repeat}")

    results64, floor64 = run_dtype(args.n, args.d, np.float64, args.repeat)
    print(f"\nfloat64  Gram floor (hstack + s.T @ s): {floor64:.3f} s")
    print(f"{'measure':38s} {'seconds':>8s} {'x floor':>8s} {'value':>10s}")
    for name, (seconds, value) in results64.items():
        shown = "" if name.startswith("(") else f"{as_scalar(value):10.6f}"
        print(f"{name:38s} {seconds:8.3f} {seconds / floor64:8.2f} {shown:>10s}")

    ratio = {name: seconds / floor64 for name, (seconds, _) in results64.items()}
    pw = results64["pwcca"][0]
    print("\ntargets (float64):")
    for name in ("pwcca", "svcca (keep=0.99 variance)", "svcca (keep=0.99 singular_values)"):
        met = "met" if ratio[name] <= 1.5 else "NOT met"
        print(f"  {name} within 1.5x of the Gram floor: {ratio[name]:.2f}x -> {met}")
    speedup = results64["classical pwcca (sqrtm)"][0] / pw
    met = "met" if speedup >= 4 else "NOT met"
    print(f"  pwcca >= 4x faster than the classical pwcca (sqrtm): {speedup:.2f}x -> {met}")
    bound = results64["classical pwcca (sqrtm)"][0] / results64["(X^T X, Y^T Y, X^T Y only)"][0]
    print(
        f"  (the most any exact method can gain over the classical pwcca (sqrtm) here: "
        f"{bound:.2f}x, the classical time over that of the cross products X^T X, Y^T Y, X^T Y "
        "alone)"
    )
    speedup = results64["classical pwcca (eigh)"][0] / pw
    print(
        f"  (for reference, not a target: {speedup:.2f}x faster than the classical pwcca with an "
        "eigh inverse square root, itself a Gram-matrix method plus explicit variates)"
    )

    results32, floor32 = run_dtype(args.n, args.d, np.float32, args.repeat)
    print(f"\nfloat32  Gram floor: {floor32:.3f} s")
    print(f"{'measure':38s} {'seconds':>8s} {'x floor':>8s} {'|value - float64|':>18s}")
    for name, (seconds, value) in results32.items():
        if np.shape(value) != np.shape(results64[name][1]):
            raise AssertionError(f"{name}: float32 and float64 results differ in length")
        deviation = np.max(np.abs(np.asarray(value) - np.asarray(results64[name][1])))
        print(f"{name:38s} {seconds:8.3f} {seconds / floor32:8.2f} {deviation:18.2e}")
    x32, y32 = layers(args.n, args.d, np.float32)
    print(f"float32 path taken by cca.cca: {cca.cca(x32, y32).method}")


if __name__ == "__main__":
    main()
