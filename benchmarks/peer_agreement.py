"""How closely independent implementations agree with ``cca`` (issue 22), as a Markdown table.

For each peer of the ``peers`` extra and each quantity, the largest absolute difference to ``cca``
over ``--seeds`` seeds of four data families (n = 2000, 10 and 8 neurons; CKA on the first 500
rows, since repsim forms n x n kernels):

- gaussian: two unrelated Gaussian layers;
- low-rank: a shared 3-dimensional signal plus noise of 1/10 its scale;
- scaled: correlated neurons whose scales span six decades, with offsets of about 100;
- relu: a Gaussian layer and a ReLU layer computed from it.

Peers: statsmodels' ``CanCorr`` and cca-zoo's ``CCA`` (exact: whitening and one SVD), scikit-learn's
``CCA`` (NIPALS, iterative; at its defaults and tightened), and repsim (C++/Eigen: CCA summaries,
SVCCA, PWCCA, CKA). SVCCA with 3 directions is checked by giving a peer's CCA the top 3 principal
components (NumPy's SVD); repsim's own SVCCA keeps 99% of the variance. tests/cca/test_cca_peers.py
asserts these agreements; this script measures them.

Usage: python benchmarks/peer_agreement.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from importlib.metadata import version

import numpy as np
import repsim
from cca_zoo.linear import CCA as ZooCCA
from cca_zoo.metrics import pairwise_correlations
from sklearn.cross_decomposition import CCA as SklearnCCA
from statsmodels.multivariate.cancorr import CanCorr
from threadpoolctl import threadpool_limits

import cca

FAMILIES = ("gaussian", "low-rank", "scaled", "relu")
N, CKA_N, SVCCA_DIRECTIONS = 2000, 500, 3


def layers(family: str, seed: int = 0, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Two layers (n x 10, n x 8) of one data family (see the module docstring); the agreement
    tests (tests/cca/test_cca_peers.py) use these families and peer adapters too."""
    rng = np.random.default_rng(seed)
    if family == "gaussian":
        return rng.normal(size=(n, 10)), rng.normal(size=(n, 8))
    if family == "relu":
        x = rng.normal(size=(n, 10))
        return x, np.maximum(x @ rng.normal(size=(10, 8)) + 0.5, 0.0)
    latent = rng.normal(size=(n, 3))
    noise = 0.1 if family == "low-rank" else 1.0
    x = latent @ rng.normal(size=(3, 10)) + noise * rng.normal(size=(n, 10))
    y = latent @ rng.normal(size=(3, 8)) + noise * rng.normal(size=(n, 8))
    if family == "scaled":
        x, y = (a * 10.0 ** rng.uniform(-3, 3, a.shape[1]) + rng.normal(0, 100, a.shape[1])
                for a in (x, y))
    return x, y


def statsmodels_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return CanCorr(y, x).cancorr


def zoo_correlations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    model = ZooCCA(n_components=min(x.shape[1], y.shape[1])).fit([x, y])
    return pairwise_correlations(model.transform([x, y]))[0, 1]


def sklearn_correlations(x: np.ndarray, y: np.ndarray, **options) -> np.ndarray:
    """Correlations of scikit-learn's paired scores (components in NIPALS's order, not sorted)."""
    with warnings.catch_warnings(), threadpool_limits(1):  # small products: one BLAS thread
        warnings.simplefilter("ignore")  # ConvergenceWarning at the defaults: part of the result
        model = SklearnCCA(n_components=min(x.shape[1], y.shape[1]), **options).fit(x, y)
    x_scores, y_scores = model.transform(x, y)
    return np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(x_scores.T, y_scores.T, strict=True)])


def principal_components(a: np.ndarray, k: int) -> np.ndarray:
    """The top k principal components of a layer (NumPy's SVD of the centered layer)."""
    u, s, _ = np.linalg.svd(a - a.mean(axis=0), full_matrices=False)
    return u[:, :k] * s[:k]


def directions_kept(a: np.ndarray, fraction: float = 0.99) -> int:
    """Fewest principal directions holding ``fraction`` of a layer's variance (sum of s**2)."""
    variance = np.linalg.svd(a - a.mean(axis=0), compute_uv=False) ** 2
    return int(np.searchsorted(np.cumsum(variance) / variance.sum(), fraction) + 1)


def exact_peer_rows(name: str, correlations: Callable) -> dict[str, Callable]:
    def svcca(x, y):
        k = SVCCA_DIRECTIONS
        reduced = correlations(principal_components(x, k), principal_components(y, k))
        return abs(reduced.mean() - cca.svcca(x, y, keep=k))

    def canonical(x, y):
        peer, ours = correlations(x, y), cca.canonical_correlations(x, y)
        return max(np.abs(peer - ours).max(), abs(peer.mean() - cca.mean_cca(x, y)))

    return {
        f"{name} | canonical correlations, their mean": canonical,
        f"{name} | SVCCA, 3 directions (its CCA on NumPy's top 3 PCs)": svcca,
    }


def repsim_rows() -> dict[str, Callable]:
    def first_pair(matrix):
        return matrix[0, 1]

    def svcca(x, y, as_repsim):
        """repsim orthonormalises each raw layer first (its SVD step then sees a whitened layer)
        and divides the kept correlations' sum by min(a, b), not by their number."""
        peer = first_pair(repsim.svcca([x, y], "pillai"))
        if not as_repsim:
            return abs(peer - cca.svcca(x, y, keep=0.99))
        bases = [np.linalg.svd(a, full_matrices=False)[0] for a in (x, y)]
        kept = min(directions_kept(basis) for basis in bases)
        return abs(peer - cca.svcca(*bases, keep=0.99) * kept / min(x.shape[1], y.shape[1]))

    def debiased(x, y, normalised):
        x, y = x[:CKA_N], y[:CKA_N]
        # repsim divides its unbiased HSIC(x, y) by biased self-terms; entries (0, 2) and (1, 3)
        # of the 4 x 4 matrix, x with x and y with y, are its unbiased over biased self-terms.
        kernels = repsim.cka([x, y, x, y], "linear", "song")
        peer = kernels[0, 1]
        if normalised:
            peer /= np.sqrt(kernels[0, 2] * kernels[1, 3])
        return abs(peer - cca.linear_cka(x, y, debiased=True))

    name = f"repsim {version('repsim')}"
    return {
        f"{name} | mean CCA (`cca`, summary 'pillai')": lambda x, y: abs(
            first_pair(repsim.cca([x, y], "pillai")) - cca.mean_cca(x, y)),
        f"{name} | mean squared CCA (`cca`, summary 'yanai')": lambda x, y: abs(
            first_pair(repsim.cca([x, y], "yanai"))
            - np.mean(cca.canonical_correlations(x, y) ** 2)),
        f"{name} | SVCCA 99% (`svcca`) vs `svcca(x, y, 0.99)`": lambda x, y: svcca(x, y, False),
        f"{name} | the same vs `svcca` of orthonormal bases x kept / min(a, b)":
            lambda x, y: svcca(x, y, True),
        f"{name} | PWCCA (`pwcca`) vs mean of both directions": lambda x, y: abs(
            first_pair(repsim.pwcca([x, y])) - (cca.pwcca(x, y) + cca.pwcca(y, x)) / 2),
        f"{name} | linear CKA (`cka`, 'linear', 'gretton')": lambda x, y: abs(
            first_pair(repsim.cka([x[:CKA_N], y[:CKA_N]], "linear", "gretton"))
            - cca.linear_cka(x[:CKA_N], y[:CKA_N])),
        f"{name} | debiased CKA ('song') as returned": lambda x, y: debiased(x, y, False),
        f"{name} | the same over its own 'song' self-similarities":
            lambda x, y: debiased(x, y, True),
    }


def rows() -> dict[str, Callable]:
    sklearn = f"scikit-learn {version('scikit-learn')}"
    return {
        **exact_peer_rows(f"statsmodels {version('statsmodels')} `CanCorr`",
                          statsmodels_correlations),
        **exact_peer_rows(f"cca-zoo {version('cca-zoo')} `linear.CCA`", zoo_correlations),
        f"{sklearn} `CCA`, defaults (tol 1e-6, 500 iterations) | canonical correlations":
            lambda x, y: np.abs(sklearn_correlations(x, y)
                                - cca.canonical_correlations(x, y)).max(),
        f"{sklearn} `CCA(tol=1e-14, max_iter=100000)` | canonical correlations":
            lambda x, y: np.abs(sklearn_correlations(x, y, tol=1e-14, max_iter=100000)
                                - cca.canonical_correlations(x, y)).max(),
        **repsim_rows(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    seeds = range(parser.parse_args().seeds)
    data = {(family, seed): layers(family, seed) for family in FAMILIES for seed in seeds}
    print(f"Largest |peer - cca| over {len(seeds)} seeds; n = {N} (CKA: {CKA_N}), "
          "10 and 8 neurons.")
    print()
    print("| implementation | quantity | " + " | ".join(FAMILIES) + " |")
    print("|---|---|" + "---|" * len(FAMILIES))
    for label, difference in rows().items():
        worst = [max(difference(*data[family, seed]) for seed in seeds) for family in FAMILIES]
        print(f"| {label} | " + " | ".join(f"{value:.0e}" for value in worst) + " |")


if __name__ == "__main__":
    main()
