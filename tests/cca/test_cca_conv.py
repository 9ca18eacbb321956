"""Conv layers (n, h, w, c): conv="mean" (paper, Figure 3), "positions", and "dft" (SVCCA paper,
Raghu et al. 2017, Section 5)."""

import numpy as np
import pytest

import cca

rng = np.random.default_rng(0)


def conv_layers(n=300, size=4, channels=3):
    x = rng.normal(size=(n, size, size, channels))
    y = np.einsum("nhwc,cd->nhwd", x, rng.normal(size=(channels, 5))) + 0.5 * rng.normal(
        size=(n, size, size, 5)
    )
    return x, y


def test_4d_input_needs_an_explicit_conv_choice():
    x, y = conv_layers()
    with pytest.raises(ValueError, match="conv='mean'.*conv='positions'.*conv='dft'"):
        cca.mean_cca(x, y)
    with pytest.raises(ValueError, match="same height and width"):
        cca.mean_cca(x, y[:, :2, :2], conv="positions")
    with pytest.raises(ValueError, match="conv must be None or one of"):
        cca.svcca(x, y, conv="dft")


def test_modes_reduce_space_as_documented():
    x, y = conv_layers()
    spatial_mean = cca.canonical_correlations(x.mean(axis=(1, 2)), y.mean(axis=(1, 2)))
    assert np.allclose(cca.canonical_correlations(x, y, conv="mean"), spatial_mean)
    positions = cca.canonical_correlations(x.reshape(-1, 3), y.reshape(-1, 5))
    assert np.allclose(cca.canonical_correlations(x, y, conv="positions"), positions)
    assert len(cca.canonical_correlations(x, y, conv="dft")) == 3 * 16
    # mean mode compares layers of different spatial size (e.g. after a stride-2 conv)
    assert 0 <= cca.pwcca(x, y[:, :2, :2], conv="mean") <= 1
    fit = cca.cca(x, y, conv="mean")
    assert np.allclose(fit.project_x(x), fit.x_variates)


def test_dft_equals_full_cca_for_translation_invariant_layers():
    """For circulant statistics the (h*w*c)-neuron CCA splits per frequency (Section 5)."""
    n, size = 4000, 3
    base = rng.normal(size=(n, size, size, 2))
    # a translation-equivariant map: y is a circular conv of x plus noise
    y = base + 0.5 * np.roll(base, 1, axis=1) + rng.normal(size=base.shape)
    full = cca.canonical_correlations(base.reshape(n, -1), y.reshape(n, -1))
    dft = cca.canonical_correlations(base, y, conv="dft")
    # population values: at vertical frequency u the gain is g = 1 + 0.5 exp(-2 pi i u / 3), so
    # rho = |g| / sqrt(|g|^2 + 1): 1.5 / sqrt(3.25) for u = 0 (6 of them), sqrt(0.75 / 1.75) else
    population = np.repeat([np.sqrt(0.75 / 1.75), 1.5 / np.sqrt(3.25)], [12, 6])
    assert dft.shape == full.shape
    assert np.allclose(np.sort(dft), population, atol=0.02)
    assert np.allclose(np.sort(full), population, atol=0.06)  # 36-neuron CCA: more sampling bias


def test_circular_shifts_are_identical_for_mean_and_dft():
    x, _ = conv_layers()
    shifted = np.roll(x, shift=(1, 2), axis=(1, 2))
    assert np.allclose(cca.canonical_correlations(x, shifted, conv="dft"), 1)
    assert cca.mean_cca(x, shifted, conv="mean") == pytest.approx(1)
    assert cca.pwcca(x, shifted, conv="dft") == pytest.approx(1)
    assert cca.mean_cca(x, shifted, conv="positions") < 0.5  # rows no longer match


def test_dft_pwcca_in_range_and_sees_noise():
    x, y = conv_layers()
    value = cca.pwcca(x, y, conv="dft")
    assert 0 < value < 1
    assert value > cca.mean_cca(x, rng.normal(size=y.shape), conv="dft")
