"""How often do the plain and the held-out CCA intervals cover the layers' population similarity?

A planted model: two layers of 5 neurons each sharing a 2-dimensional latent signal,
x = z Wx + s e_x and y = z Wy + s e_y (z, e_x, e_y standard normal, Wx and Wy fixed 2 x 5 normal
draws, noise s = 1.5), so that the population canonical correlations are rho_1, rho_2 > 0 and
three zeros. Over ``--repetitions`` fresh samples of n = 300 datapoints, at nominal 95%:

* plain: :func:`cca.bootstrap_interval` of ``cca.mean_cca`` and ``cca.pwcca`` (its default
  centered interval),
* held-out: :func:`cca.heldout_similarity` (5 folds, one split, its centered bootstrap
  interval), and, for comparison, a normal interval from the spread of its 5 fold values
  (statistic +- 1.96 sd / sqrt(5)), which ignores that the folds share training datapoints,

and for each: how often the interval covers the population value, the mean bias against it, the
spread over samples and the mean bootstrap standard error. Then the same measures on unrelated
layers of the same widths (chance level; population value 0).

The population values. Mean CCA: (rho_1 + rho_2) / 5, from the population covariance. PWCCA
(Morcos et al. 2018, Section 2.2) weights x's canonical variates by sum_j |cov(h_i, x_j)|, and
three of them have correlation 0: tied, so their directions are not fixed by the population. At
large n the sample fixes them by the 3 x 3 block of sample cross-covariances between x's and y's
uncorrelated directions, a matrix of independent Gaussians, whose singular vectors are uniformly
(Haar) random: the three directions are a random rotation R of that subspace, which does not
settle as n grows. So PWCCA's population value is the expectation over R of
(w_1 rho_1 + w_2 rho_2) / sum_i w_i (here over 100,000 draws of R), and single samples at any n
scatter around it by its spread over R. Both forms converge to it: the held-out one's training
weights have the same limit and its held-out correlations converge to the population ones
(0 for the tied directions). The script checks both on ``--large-n`` datapoints.

Usage: python benchmarks/bench_heldout_coverage.py [--repetitions 200] [--resamples 100]
       [--n 300] [--large-n 1000000]

200 repetitions with 100 resamples take about 5 minutes on a 2-core CPU (each held-out resample
is 5 CCA fits); fewer resamples than the libraries' default 1000 keep it there.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from scipy.stats import ortho_group
from tqdm import tqdm

import cca

NEURONS, SHARED, NOISE = 5, 2, 1.5
MEASURES = ("mean_cca", "pwcca")


def planted_weights(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The fixed maps Wx, Wy (SHARED x NEURONS) from the shared latent signal to the neurons."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(SHARED, NEURONS)), rng.normal(size=(SHARED, NEURONS))


def sample(weights, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n datapoints of the planted model: x = z Wx + s e_x, y = z Wy + s e_y."""
    latent = rng.normal(size=(n, SHARED))
    return tuple(latent @ w + NOISE * rng.normal(size=(n, NEURONS)) for w in weights)


def _sqrt_and_inverse_sqrt(covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.sqrt(values)) @ vectors.T, (vectors / np.sqrt(values)) @ vectors.T


def population_values(weights, draws: int = 100_000) -> tuple[np.ndarray, dict, float]:
    """Population canonical correlations, {measure: population value}, PWCCA's spread over R.

    Covariances: S_xx = Wx^T Wx + s^2 I, S_yy likewise, S_xy = Wx^T Wy. The canonical
    correlations are the singular values of S_xx^-1/2 S_xy S_yy^-1/2 = U diag(rho) V^T, x's
    directions A = S_xx^-1/2 U and the covariances of x's neurons with its variates
    S_xx A = S_xx^1/2 U; the tied zero-correlation columns are rotated by Haar-random R.
    """
    wx, wy = weights
    identity = np.eye(NEURONS)
    root_x, inverse_root_x = _sqrt_and_inverse_sqrt(wx.T @ wx + NOISE**2 * identity)
    _, inverse_root_y = _sqrt_and_inverse_sqrt(wy.T @ wy + NOISE**2 * identity)
    u, rho, _ = np.linalg.svd(inverse_root_x @ (wx.T @ wy) @ inverse_root_y)
    loadings = root_x @ u
    signal = np.abs(loadings[:, :SHARED]).sum(axis=0)
    rotations = ortho_group.rvs(NEURONS - SHARED, size=draws, random_state=0)
    untied = np.einsum("jk,dkl->djl", loadings[:, SHARED:], rotations)
    pwcca = signal @ rho[:SHARED] / (signal.sum() + np.abs(untied).sum(axis=(1, 2)))
    return rho, {"mean_cca": float(rho.mean()), "pwcca": float(pwcca.mean())}, float(pwcca.std())


def large_n_check(weights, population: dict, n: int, samples: int = 3) -> None:
    """Plain and held-out measures on ``samples`` draws of n datapoints against the population."""
    rng = np.random.default_rng(1)
    print(f"\ncheck at n = {n:,} (mean of {samples} samples):")
    values = {(m, form): [] for m in MEASURES for form in ("plain", "held-out")}
    for _ in range(samples):
        x, y = sample(weights, n, rng)
        for m in MEASURES:
            values[m, "plain"].append(getattr(cca, m)(x, y))
            values[m, "held-out"].append(cca.heldout_similarity(x, y, m, n_resamples=0).statistic)
    for m in MEASURES:
        plain, heldout = np.mean(values[m, "plain"]), np.mean(values[m, "held-out"])
        print(f"  {m:9s} population {population[m]:.4f}  plain {plain:.4f}  held-out {heldout:.4f}")


def _is_in(interval, value: float) -> bool:
    low, high = interval
    return bool(low <= value <= high)


def coverage(weights, population: dict, n: int, repetitions: int, resamples: int) -> dict:
    """Per (measure, form): covered (bool per sample), value, bootstrap standard error."""
    rng = np.random.default_rng(2)
    forms = ("plain", "held-out", "held-out, fold spread")
    records = {
        (m, form): {"covered": [], "value": [], "error": []} for m in MEASURES for form in forms
    }
    for repetition in tqdm(range(repetitions), desc="samples", mininterval=5):
        x, y = sample(weights, n, rng)
        for m in MEASURES:
            plain = cca.bootstrap_interval(x, y, m, n_resamples=resamples, seed=repetition)
            heldout = cca.heldout_similarity(x, y, m, n_resamples=resamples, seed=repetition)
            folds = heldout.fold_values.ravel()
            spread = folds.std(ddof=1) / np.sqrt(len(folds))
            fold_interval = (heldout.statistic - 1.96 * spread, heldout.statistic + 1.96 * spread)
            for form, result, interval in (
                ("plain", plain, plain.confidence_interval),
                ("held-out", heldout, heldout.confidence_interval),
                ("held-out, fold spread", heldout, fold_interval),
            ):
                record = records[m, form]
                record["covered"].append(_is_in(interval, population[m]))
                record["value"].append(result.statistic)
                record["error"].append(
                    spread if form.endswith("spread") else result.standard_error
                )
    return records


def print_coverage(records: dict, population: dict, n: int, repetitions: int, resamples: int):
    print(
        f"\n{NEURONS} + {NEURONS} neurons sharing {SHARED} dimensions, n = {n}, {repetitions} "
        f"samples, {resamples} bootstrap resamples, nominal 95%:"
    )
    print(
        f"{'measure':9s} {'form':22s} {'covers population':>17s} {'bias':>8s} "
        f"{'sd over samples':>15s} {'mean SE':>8s}"
    )
    for (m, form), record in records.items():
        values = np.array(record["value"])
        print(
            f"{m:9s} {form:22s} {np.mean(record['covered']):16.1%} "
            f"{values.mean() - population[m]:+8.4f} {values.std(ddof=1):15.4f} "
            f"{np.mean(record['error']):8.4f}"
        )


def chance_level(n: int, repetitions: int) -> None:
    """Plain and held-out measures on unrelated Gaussian layers of the same widths."""
    rng = np.random.default_rng(3)
    values = {(m, form): [] for m in MEASURES for form in ("plain", "held-out")}
    for repetition in range(repetitions):
        x, y = rng.normal(size=(n, NEURONS)), rng.normal(size=(n, NEURONS))
        for m in MEASURES:
            values[m, "plain"].append(getattr(cca, m)(x, y))
            heldout = cca.heldout_similarity(x, y, m, n_resamples=0, seed=repetition)
            values[m, "held-out"].append(heldout.statistic)
    print(f"\nunrelated layers ({NEURONS} + {NEURONS} neurons, n = {n}, {repetitions} samples):")
    for (m, form), found in values.items():
        print(f"  {m:9s} {form:9s} {np.mean(found):+.4f} +- {np.std(found, ddof=1):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200, help="fresh samples")
    parser.add_argument("--resamples", type=int, default=100, help="bootstrap resamples")
    parser.add_argument("--n", type=int, default=300, help="datapoints per sample")
    parser.add_argument("--large-n", type=int, default=1_000_000, help="for the check")
    args = parser.parse_args()
    warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
    start = time.perf_counter()
    weights = planted_weights()
    rho, population, spread = population_values(weights)
    print(f"population canonical correlations {np.round(rho, 3)}")
    print(
        f"population mean CCA {population['mean_cca']:.4f}, PWCCA {population['pwcca']:.4f} "
        f"(spread over the rotation of the tied directions {spread:.4f})"
    )
    if args.large_n:
        large_n_check(weights, population, args.large_n)
    records = coverage(weights, population, args.n, args.repetitions, args.resamples)
    print_coverage(records, population, args.n, args.repetitions, args.resamples)
    chance_level(args.n, args.repetitions)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
