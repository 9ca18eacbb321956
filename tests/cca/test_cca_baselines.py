"""Linear CKA (Kornblith et al. 2019), cosine and Euclidean baselines (paper, Appendix A5-A8)."""

import numpy as np
import pytest

import cca

rng = np.random.default_rng(0)


def reference_cka(x, y, debiased):
    """Kornblith et al.'s kernel form with explicit n x n Gram matrices (centered features)."""
    x, y = x - x.mean(0), y - y.mean(0)
    k, l_ = x @ x.T, y @ y.T
    n = len(x)

    def hsic(k, l_):
        if not debiased:
            h = np.eye(n) - 1 / n
            return np.trace(k @ h @ l_ @ h)
        k, l_ = k - np.diag(np.diag(k)), l_ - np.diag(np.diag(l_))
        ones = np.ones(n)
        return (
            np.trace(k @ l_)
            + (ones @ k @ ones) * (ones @ l_ @ ones) / ((n - 1) * (n - 2))
            - 2 / (n - 2) * ones @ k @ l_ @ ones
        ) / (n * (n - 3))

    return hsic(k, l_) / np.sqrt(hsic(k, k) * hsic(l_, l_))


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_matches_kernel_form(debiased):
    x = rng.normal(size=(60, 5)) + 3
    y = x @ rng.normal(size=(5, 3)) + rng.normal(size=(60, 3))
    assert cca.linear_cka(x, y, debiased) == pytest.approx(reference_cka(x, y, debiased), abs=1e-12)


def test_linear_cka_properties():
    x = rng.normal(size=(2000, 6))
    rotation, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    assert cca.linear_cka(x, 5 * x @ rotation + 2) == pytest.approx(1)
    assert cca.linear_cka(x, x @ np.diag([1, 1, 1, 1, 1, 50])) < 0.9  # not invariant to any map
    independent = rng.normal(size=(2000, 6))
    assert abs(cca.linear_cka(x, independent, debiased=True)) < 0.01
    assert cca.linear_cka(x, independent) < 0.05
    assert cca.linear_cka_distance(x, x) == pytest.approx(0)
    with pytest.raises(ValueError, match="at least 4 datapoints"):
        cca.linear_cka(x[:3], x[:3], debiased=True)


def test_cosine_and_euclidean():
    x = rng.normal(size=(100, 4))
    assert cca.cosine_similarity(x, 3 * x + 7) == pytest.approx(1)
    assert cca.cosine_distance(x, -x) == pytest.approx(2)
    assert cca.cosine_similarity(x + 7, x, center=False) < 0.5
    rotated = x @ np.linalg.qr(rng.normal(size=(4, 4)))[0]
    assert cca.cosine_similarity(x, rotated) < 0.9 and cca.mean_cca(x, rotated) == pytest.approx(1)
    assert cca.euclidean_distance(x, x + 7) == pytest.approx(0)
    assert cca.euclidean_distance(x, x + 7, center=False) == pytest.approx(14)
    centered = x - x.mean(0)
    expected = np.sqrt(np.mean(np.sum((centered - 2 * centered) ** 2, axis=1)))
    assert cca.euclidean_distance(x, 2 * x) == pytest.approx(expected)
    conv = rng.normal(size=(10, 2, 2, 3))
    assert cca.cosine_similarity(conv, conv) == pytest.approx(1)


def test_baselines_need_the_same_neurons():
    with pytest.raises(ValueError, match="same shape.*\\(100, 4\\) and \\(100, 3\\)"):
        cca.cosine_similarity(rng.normal(size=(100, 4)), rng.normal(size=(100, 3)))
    with pytest.raises(ValueError, match="same shape"):
        cca.euclidean_distance(rng.normal(size=(100, 4)), rng.normal(size=(90, 4)))
    with pytest.raises(ValueError, match="all zeros after centering"):
        cca.cosine_similarity(np.ones((5, 2)), np.ones((5, 2)))
