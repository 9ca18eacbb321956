"""Tests of the synthetic toys of Figure 2 and appendix A2."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018 import toys


def _mean_cca_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Reference 1 - mean canonical correlation, written out here to keep the toys' tests
    independent of the library under test."""
    bases = []
    for layer in (x, y):
        u, s, _ = np.linalg.svd(layer - layer.mean(0), full_matrices=False)
        bases.append(u[:, s > s[0] * 1e-10])
    return 1 - np.linalg.svd(bases[0].T @ bases[1], compute_uv=False).mean()


def test_random_orthogonal_is_orthogonal():
    q = toys.random_orthogonal(7, np.random.default_rng(0))
    np.testing.assert_allclose(q @ q.T, np.eye(7), atol=1e-12)


def test_signal_noise_pair_structure():
    x, y = toys.signal_noise_pair(30, n_neurons=50, n_datapoints=400, noise_scale=0.1, seed=0)
    assert x.shape == y.shape == (400, 50)
    np.testing.assert_allclose(x[:, :30].std(0).mean(), 1, atol=0.05)
    np.testing.assert_allclose(x[:, 30:].std(0).mean(), 0.1, atol=0.01)
    # Y's signal block is an orthonormal map of X's: same Gram matrix, not the same neurons.
    np.testing.assert_allclose(x[:, :30] @ x[:, :30].T, y[:, :30] @ y[:, :30].T, atol=1e-9)
    assert not np.allclose(x[:, :30], y[:, :30])
    # The noise is fresh in Y.
    assert abs(np.corrcoef(x[:, 30], y[:, 30])[0, 1]) < 0.2


def test_signal_noise_pair_seeds():
    first = toys.signal_noise_pair(10, n_neurons=20, n_datapoints=50, seed=3)
    again = toys.signal_noise_pair(10, n_neurons=20, n_datapoints=50, seed=3)
    other = toys.signal_noise_pair(10, n_neurons=20, n_datapoints=50, seed=4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])


def test_signal_noise_pair_mean_cca_tracks_signal_fraction():
    # k signal dims give k canonical correlations of 1; the noise ones are small, so the
    # mean CCA distance is near 1 - k / n_neurons (the paper's Figure 2, mean CCA curve).
    # Spurious correlations of the noise neurons pull it a little below 1 - k / n_neurons.
    x, y = toys.signal_noise_pair(10, n_neurons=20, n_datapoints=500, seed=0)
    assert 0.35 < _mean_cca_distance(x, y) < 0.5
    x, y = toys.signal_noise_pair(20, n_neurons=20, n_datapoints=500, seed=0)
    assert _mean_cca_distance(x, y) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"n_signal": 0}, "n_signal"), ({"n_signal": 60}, "n_signal"), ({"noise_scale": -1}, "noise")],
)
def test_signal_noise_pair_validates(arguments, message):
    call = {"n_signal": 10, "n_neurons": 50, "n_datapoints": 100}
    call.update(arguments)
    with pytest.raises(ValueError, match=message):
        toys.signal_noise_pair(**call)


def test_signal_noise_sweep_shapes_and_layers_shared():
    seen = []

    def record(x, y):
        seen.append(x[0, 0])
        return float(x.shape[1])

    sweep = toys.signal_noise_sweep(
        [5, 10, 15], {"a": record, "b": record}, repeats=2, n_neurons=20, n_datapoints=30
    )
    assert set(sweep) == {"a", "b"} and sweep["a"].shape == (2, 3)
    assert (sweep["a"] == 20).all()
    # Both measures saw the same layers, in the same order.
    assert seen[0::2] == seen[1::2]
    again = toys.signal_noise_sweep(
        [5, 10, 15], {"a": lambda x, y: x[0, 0]}, repeats=2, n_neurons=20, n_datapoints=30
    )
    np.testing.assert_array_equal(again["a"].ravel(order="F"), seen[0::2])


def test_rotation_matrix_is_a_rotation():
    r = toys.rotation_matrix(9, np.pi / 10, np.random.default_rng(0))
    np.testing.assert_allclose(r @ r.T, np.eye(9), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    assert np.abs(np.angle(np.linalg.eigvals(r))).max() <= np.pi / 10 + 1e-9


def test_rotation_rnn_preserves_norms_and_is_linear():
    states = toys.rnn_trajectory(n_neurons=12, n_datapoints=30, n_steps=6, seed=0)
    assert states.shape == (7, 30, 12)
    norms = np.linalg.norm(states, axis=2)
    np.testing.assert_allclose(norms, np.broadcast_to(norms[0], norms.shape), rtol=1e-10)
    # Every step is an orthonormal map of the final step: mean CCA distance 0.
    assert _mean_cca_distance(states[0], states[-1]) == pytest.approx(0.0, abs=1e-8)
    # ... but the states did turn.
    assert not np.allclose(states[0], states[-1], atol=0.1)


def test_nonlinear_rnn_shrinks_and_is_not_linear():
    linear = toys.rnn_trajectory(n_neurons=12, n_datapoints=300, n_steps=6, seed=0)
    tanh = toys.rnn_trajectory(n_neurons=12, n_datapoints=300, n_steps=6, beta=0.5, seed=0)
    np.testing.assert_array_equal(linear[0], tanh[0])
    assert (np.linalg.norm(tanh[1:], axis=2) < np.linalg.norm(linear[1:], axis=2)).all()
    assert _mean_cca_distance(tanh[0], tanh[-1]) > 1e-3


def test_rnn_validates():
    with pytest.raises(ValueError, match="beta"):
        toys.rnn_trajectory(beta=1.5)
    with pytest.raises(ValueError, match="n_steps"):
        toys.rnn_trajectory(n_steps=0)


def test_distances_to_final():
    states = toys.rnn_trajectory(n_neurons=6, n_datapoints=20, n_steps=4, seed=1)
    result = toys.distances_to_final(states, {"gap": lambda a, b: float(np.abs(a - b).max())})
    assert result["gap"].shape == (5,) and result["gap"][-1] == 0
    with pytest.raises(ValueError, match="trajectory"):
        toys.distances_to_final(states[0], {"gap": lambda a, b: 0.0})


def test_relative_euclidean_distance_is_scale_free_and_matches_cosine_for_equal_norms():
    rng = np.random.default_rng(0)
    states = toys.rnn_trajectory(n_neurons=8, n_datapoints=200, n_steps=4, seed=2)
    first, final = states[0] - states[0].mean(0), states[-1] - states[-1].mean(0)
    value = toys.relative_euclidean_distance(states[0], states[-1])
    written_out = np.linalg.norm(first - final) / np.sqrt(
        (np.linalg.norm(first) ** 2 + np.linalg.norm(final) ** 2) / 2
    )
    assert value == pytest.approx(written_out, rel=1e-12)
    assert toys.relative_euclidean_distance(1e200 * states[0], 1e200 * states[-1]) == (
        pytest.approx(value, rel=1e-12)
    )
    x = rng.normal(size=(50, 3))
    cosine = 1 - np.sum(x * -x) / np.sum(x * x)
    assert toys.relative_euclidean_distance(x, -x) == pytest.approx(np.sqrt(cosine * 2))
    with pytest.raises(ValueError, match="constant"):
        toys.relative_euclidean_distance(np.ones((5, 2)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="one shape"):
        toys.relative_euclidean_distance(x, x[:, :2])
