"""Tests of the analyses across networks, checkpoints and steps (morcos2018.analysis)."""

from __future__ import annotations

import numpy as np
import pytest

import cca
from morcos2018 import analysis


def _networks(rng, count, n=300, neurons=6, shared=None, noise=0.0):
    """Layers that are invertible linear maps of ``shared`` plus optional noise."""
    shared = rng.normal(size=(n, neurons)) if shared is None else shared
    return [shared @ rng.normal(size=(neurons, neurons)) + noise * rng.normal(size=shared.shape)
            for _ in range(count)]


def test_distance_function_binds_options_and_rejects_unknown_names():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    y = rng.normal(size=(200, 8))
    svcca2 = analysis.distance_function("svcca_distance", keep=2)
    assert svcca2(x, y) == pytest.approx(cca.svcca_distance(x, y, keep=2))
    assert analysis.is_symmetric(svcca2)
    assert not analysis.is_symmetric(analysis.distance_function("pwcca_distance"))
    with pytest.raises(ValueError, match="name of one of cca's measures"):
        analysis.distance_function("procrustes")
    # a name means the same function everywhere: "pwcca" is the similarity, refused here
    with pytest.raises(ValueError, match="its distance is 'pwcca_distance'"):
        analysis.distance_function("pwcca")


def test_pairwise_distances_symmetrises_pwcca():
    rng = np.random.default_rng(1)
    reps = [rng.normal(size=(300, k)) for k in (4, 7, 10)]
    reps[1][:, :3] = reps[0][:, :3]
    matrix = analysis.pairwise_distances(reps, "pwcca_distance")
    assert np.allclose(matrix, matrix.T)
    assert np.allclose(np.diag(matrix), 0)
    expected = (cca.pwcca_distance(reps[0], reps[1]) + cca.pwcca_distance(reps[1], reps[0])) / 2
    assert matrix[0, 1] == pytest.approx(expected)
    assert cca.pwcca_distance(reps[0], reps[1]) != pytest.approx(
        cca.pwcca_distance(reps[1], reps[0]))


def test_pairwise_distances_sees_linear_maps_as_equal():
    rng = np.random.default_rng(2)
    same = _networks(rng, 3)
    other = rng.normal(size=same[0].shape)
    matrix = analysis.pairwise_distances([*same, other], "mean_cca_distance")
    assert matrix[:3, :3].max() < 1e-6
    assert matrix[3, :3].min() > 0.5


def test_pairwise_distances_checks_inputs():
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError, match="at least 2 networks"):
        analysis.pairwise_distances([rng.normal(size=(10, 2))], "pwcca_distance")
    with pytest.raises(ValueError, match="same probe datapoints"):
        analysis.pairwise_distances([rng.normal(size=(10, 2)), rng.normal(size=(11, 2))],
                                    "linear_cka_distance")


def test_group_profile_separates_a_tight_group_from_a_loose_one():
    rng = np.random.default_rng(4)
    tight = _networks(rng, 4, noise=0.05)
    loose = [rng.normal(size=tight[0].shape) for _ in range(4)]
    matrices = analysis.layerwise_distances({"late": tight + loose, "early": tight + tight},
                                            "pwcca_distance")
    profile = analysis.group_profile(matrices, range(4), range(4, 8))
    assert profile.layers == ("late", "early")
    assert profile.within_a[0] < 0.05 < profile.within_b[0]
    assert profile.between[0] > profile.within_a[0]
    assert profile.within_a_std.shape == (2,)
    assert profile.within_b[1] == pytest.approx(profile.within_a[1])


def test_group_profile_rejects_overlapping_groups():
    matrix = np.zeros((4, 4))
    with pytest.raises(ValueError, match="disjoint"):
        analysis.group_profile({"l": matrix}, [0, 1, 2], [2, 3])


def test_mean_distance_to_others_matches_a_hand_computation():
    d = np.array([[0, 2, 4, 9], [2, 0, 6, 9], [4, 6, 0, 9], [9, 9, 9, 0]], dtype=float)
    assert analysis.mean_distance_to_others(d, [0, 1, 2]).tolist() == [3.0, 4.0, 5.0]


def test_distances_to_reference_decrease_as_noise_fades():
    rng = np.random.default_rng(5)
    final = rng.normal(size=(400, 5))
    series = [final + scale * rng.normal(size=final.shape) for scale in (2.0, 1.0, 0.3, 0.0)]
    distances = analysis.distances_to_reference(series, final, "pwcca_distance")
    assert np.all(np.diff(distances) < 0)
    assert distances[-1] == pytest.approx(0, abs=1e-6)


def test_sorted_correlations_are_descending_and_reach_one_at_the_end():
    rng = np.random.default_rng(6)
    final = rng.normal(size=(300, 4))
    series = [rng.normal(size=(300, 4)), final]
    correlations = analysis.sorted_correlations(series, final)
    assert all(np.all(np.diff(rho) <= 1e-12) for rho in correlations)
    assert np.allclose(correlations[1], 1)
    assert correlations[0].max() < 0.5


def test_direction_stability_keeps_shared_directions_and_loses_noise():
    rng = np.random.default_rng(7)
    n, signal_dims, noise_dims = 2000, 4, 4
    signal = rng.normal(size=(n, signal_dims))
    mixing = rng.normal(size=(signal_dims + noise_dims, signal_dims + noise_dims))

    def checkpoint():
        """The same signal every time; the remaining neurons carry fresh noise."""
        return np.hstack([signal, rng.normal(size=(n, noise_dims))]) @ mixing

    early, mid = checkpoint(), checkpoint()
    series = [early, mid, checkpoint(), checkpoint()]
    tracked = analysis.direction_stability(early, mid, series, n_directions=3)
    assert np.allclose(tracked["top"], 0, atol=1e-6)
    assert tracked["bottom"][0] == pytest.approx(0, abs=1e-6)
    assert np.all(tracked["bottom"][1:] > 0.9)
    assert tracked["correlations"][:signal_dims].min() > 0.999


def test_direction_stability_rejects_overlapping_sets():
    x = np.random.default_rng(8).normal(size=(100, 4))
    with pytest.raises(ValueError, match="n_directions"):
        analysis.direction_stability(x, x, [x], n_directions=3)


def test_cluster_networks_recovers_planted_blocks_and_orders_them():
    rng = np.random.default_rng(9)
    labels = np.repeat([0, 1, 2], 4)
    perm = rng.permutation(len(labels))
    labels = labels[perm]
    base = np.where(labels[:, None] == labels[None, :], 0.1, 0.6)
    noise = rng.uniform(0, 0.05, base.shape)
    distances = base + (noise + noise.T) / 2
    np.fill_diagonal(distances, 0)
    linkage, order, found = analysis.cluster_networks(distances, 3)
    assert analysis.adjusted_rand_index(found, labels) == pytest.approx(1.0)
    ordered = labels[order]
    assert np.count_nonzero(np.diff(ordered)) == 2  # contiguous blocks
    assert linkage.shape == (len(labels) - 1, 4)


def test_cluster_networks_checks_symmetry():
    with pytest.raises(ValueError, match="symmetric"):
        analysis.cluster_networks(np.array([[0, 1], [2, 0]], dtype=float), 1)


def test_adjusted_rand_index_is_near_zero_for_unrelated_labels():
    rng = np.random.default_rng(10)
    values = [analysis.adjusted_rand_index(rng.integers(0, 3, 60), rng.integers(0, 3, 60))
              for _ in range(50)]
    assert abs(np.mean(values)) < 0.02
    assert analysis.adjusted_rand_index([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert analysis.adjusted_rand_index([0, 1, 0, 1], [0, 0, 1, 1]) < 0


def test_subsample_neurons_is_reproducible_and_checked():
    x = np.arange(30.0).reshape(3, 10)
    assert np.array_equal(analysis.subsample_neurons(x, 4, seed=1),
                          analysis.subsample_neurons(x, 4, seed=1))
    assert analysis.subsample_neurons(x, 4).shape == (3, 4)
    with pytest.raises(ValueError, match="count must be"):
        analysis.subsample_neurons(x, 11)


def test_distances_to_last_step_sees_a_linear_map_of_the_last_step():
    rng = np.random.default_rng(0)
    final = rng.normal(size=(200, 6))
    acts = np.stack([rng.normal(size=(200, 6)), final @ rng.normal(size=(6, 6)), final], axis=1)
    d = analysis.distances_to_last_step(acts, ["mean_cca_distance", "cosine_distance"])
    assert d["mean_cca_distance"][-1] == pytest.approx(0, abs=1e-6)
    assert d["mean_cca_distance"][1] == pytest.approx(0, abs=1e-6)  # a linear map of the last step
    assert d["mean_cca_distance"][0] > 0.5 and d["cosine_distance"][1] > 0.1
    with pytest.raises(ValueError, match="n_sequences, steps, units"):
        analysis.distances_to_last_step(final, ["cosine_distance"])
