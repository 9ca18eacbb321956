"""Our measures agree with independent implementations from the package index (issue 22).

The peers are the ``peers`` extra, part of the ``test`` extra, so ``make test`` always runs these:
statsmodels' ``CanCorr`` and cca-zoo's ``linear.CCA`` (exact: whitening and one SVD), scikit-learn's
``CCA`` (NIPALS, iterative) and repsim (C++/Eigen: CCA summaries, SVCCA, PWCCA, CKA). Each is
compared on four families of two layers, n = 2000 with 10 and 8 neurons: unrelated Gaussian layers,
a shared low-rank signal plus noise, correlated neurons whose scales span six decades with offsets,
and a ReLU layer computed from a Gaussian one.

The tolerances are the largest differences that ``python benchmarks/peer_agreement.py`` measured
over 5 seeds of the same families (the README's agreement table), with a margin of at least 30:
exact solvers agree to 3e-13 at most (1e-11 asserted). Where a peer computes something else, it is
configured to compute ours, or the test asserts the documented relation between the two.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import repsim
from cca_zoo.linear import CCA as ZooCCA
from conftest import load_script
from statsmodels.multivariate.cancorr import CanCorr

import cca

EXACT = 1e-11


_peers = load_script("benchmarks/peer_agreement.py")  # families, peer adapters: one home
FAMILIES, layers = _peers.FAMILIES, _peers.layers
zoo_correlations, sklearn_correlations = _peers.zoo_correlations, _peers.sklearn_correlations
statsmodels_correlations = _peers.statsmodels_correlations
principal_components, directions_kept = _peers.principal_components, _peers.directions_kept


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("peer", [statsmodels_correlations, zoo_correlations])
def test_canonical_correlations_and_mean_cca_match_exact_solvers(peer, family):
    x, y = layers(family)
    # cca-zoo whitens with an eigendecomposition of X^T X, whose error grows with the square of a
    # layer's condition number: 2e-10 at most on neurons scaled over six decades.
    tolerance = 1e-8 if (peer, family) == (zoo_correlations, "scaled") else EXACT
    correlations = peer(x, y)
    ours = cca.canonical_correlations(x, y)
    np.testing.assert_allclose(correlations, ours, rtol=0, atol=tolerance)
    assert correlations.mean() == pytest.approx(cca.mean_cca(x, y), abs=tolerance)


def test_cca_zoo_score_is_mean_cca():
    x, y = layers("relu")
    model = ZooCCA(n_components=8).fit([x, y])
    assert model.score([x, y]) == pytest.approx(cca.mean_cca(x, y), abs=EXACT)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("peer", [statsmodels_correlations, zoo_correlations])
def test_svcca_with_fixed_directions_is_a_peers_cca_of_the_top_principal_components(peer, family):
    x, y = layers(family)
    reduced = peer(principal_components(x, 3), principal_components(y, 3))
    assert reduced.mean() == pytest.approx(cca.svcca(x, y, keep=3), abs=EXACT)


@pytest.mark.parametrize("family", FAMILIES)
def test_sklearn_nipals_converges_to_our_correlations_once_tightened(family):
    """NIPALS finds each pair by power iteration, at rate (rho_{k+1} / rho_k)^2, so near-tied
    correlations (0.9988 and 0.9987 in the low-rank family) need thousands of iterations; its
    defaults stop at a change of 1e-6 in the weights or after 500 iterations."""
    x, y = layers(family)
    ours = cca.canonical_correlations(x, y)
    tight = sklearn_correlations(x, y, tol=1e-14, max_iter=100_000)
    np.testing.assert_allclose(tight, ours, rtol=0, atol=1e-9)  # measured: 1e-11
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: the defaults may stop early
        defaults = sklearn_correlations(x, y)
    np.testing.assert_allclose(defaults, ours, rtol=0, atol=1e-2)  # measured: 1e-3


@pytest.mark.parametrize("family", FAMILIES)
def test_repsim_cca_summaries_are_mean_cca_and_mean_squared_cca(family):
    """repsim's summary 'pillai' is the sum of the correlations over min(a, b) (mean CCA for
    full-rank layers), 'yanai' the same of their squares."""
    x, y = layers(family)
    correlations = cca.canonical_correlations(x, y)
    assert repsim.cca([x, y], "pillai")[0, 1] == pytest.approx(correlations.mean(), abs=EXACT)
    assert repsim.cca([x, y], "yanai")[0, 1] == pytest.approx(np.mean(correlations**2), abs=EXACT)


@pytest.mark.parametrize("family", FAMILIES)
def test_repsim_pwcca_is_the_mean_of_both_directions(family):
    """repsim weights by the first layer, as the paper does, then averages both orders."""
    x, y = layers(family)
    symmetric = (cca.pwcca(x, y) + cca.pwcca(y, x)) / 2
    assert repsim.pwcca([x, y])[0, 1] == pytest.approx(symmetric, abs=EXACT)


@pytest.mark.parametrize("family", FAMILIES)
def test_repsim_svcca_keeps_99_percent_of_each_orthonormalised_layer(family):
    """repsim's svcca takes an orthonormal basis of each raw layer before its SVD step, so its 99%
    is of a whitened layer's variance and it drops almost nothing; it then divides the kept
    correlations' sum by min(a, b), not by their number. That is ``cca.svcca`` of the bases."""
    x, y = layers(family)
    bases = [np.linalg.svd(a, full_matrices=False)[0] for a in (x, y)]
    kept = min(directions_kept(basis) for basis in bases)
    as_repsim = cca.svcca(*bases, keep=0.99) * kept / min(x.shape[1], y.shape[1])
    assert repsim.svcca([x, y], "pillai")[0, 1] == pytest.approx(as_repsim, abs=EXACT)


def test_repsim_svcca_differs_from_the_svcca_papers_on_a_low_rank_signal():
    x, y = layers("low-rank")
    assert directions_kept(x) == directions_kept(y) == 3  # the paper's step keeps the signal
    assert cca.svcca(x, y, keep=0.99) > 0.99
    assert repsim.svcca([x, y], "pillai")[0, 1] == pytest.approx(cca.mean_cca(x, y), abs=EXACT)


@pytest.mark.parametrize("family", FAMILIES)
def test_repsim_linear_cka_matches_and_its_debiased_form_mixes_estimators(family):
    """repsim's 'gretton' estimator is our (biased) linear CKA. Its 'song' estimator divides the
    unbiased HSIC(x, y) by the biased self-terms; over its own unbiased self-terms it is our
    debiased CKA. Its n x n kernels cost O(n^3), so 500 datapoints."""
    x, y = (a[:500] for a in layers(family))
    assert repsim.cka([x, y], "linear", "gretton")[0, 1] == pytest.approx(
        cca.linear_cka(x, y), rel=0, abs=EXACT)
    # Entries (0, 2) and (1, 3): x with x and y with y, unbiased over biased self-terms.
    song = repsim.cka([x, y, x, y], "linear", "song")
    debiased = song[0, 1] / np.sqrt(song[0, 2] * song[1, 3])
    assert debiased == pytest.approx(cca.linear_cka(x, y, debiased=True), abs=EXACT)


def test_statsmodels_refuses_a_duplicated_neuron_that_the_others_accept():
    x, y = layers("low-rank")
    duplicated = np.column_stack([x, x[:, 0]])
    with pytest.raises(ValueError, match="collinear"):
        CanCorr(y, duplicated)
    ours = cca.canonical_correlations(duplicated, y)
    np.testing.assert_allclose(ours, cca.canonical_correlations(x, y), rtol=0, atol=EXACT)
    np.testing.assert_allclose(zoo_correlations(duplicated, y), ours, rtol=0, atol=EXACT)
    assert repsim.cca([duplicated, y], "pillai")[0, 1] == pytest.approx(ours.mean(), abs=EXACT)
