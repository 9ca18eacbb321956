"""Synthetic representations with a known answer: the paper's two toy experiments.

Figure 2 (Section 2.2): signal hidden among noise neurons
    Two layers of ``n_neurons`` neurons over ``n_datapoints`` datapoints. ``k`` signal neurons
    carry a shared signal ``S`` (entries from N(0, 1)); the other ``n_neurons - k`` neurons are
    independent noise of scale ``noise_scale``. Our reading of the paper's "Y is a random
    orthonormal transformation of the signal plus fresh noise"::

        X = [S | noise_scale * E_x]
        Y = [S @ Q | noise_scale * E_y]

    with ``Q`` a Haar-random ``k x k`` orthogonal matrix and ``E_x``, ``E_y`` independent
    N(0, 1) noise. Embedding instead with a ``n_neurons x n_neurons`` orthonormal map of the
    whole of ``[S | noise]`` gives the same numbers for every CCA-family measure (mean CCA,
    SVCCA, PWCCA), since all of them are unchanged by an orthonormal map of ``Y``; only the
    neuron-aligned baselines (cosine, Euclidean) would tell the two readings apart. The paper
    sweeps ``k`` from 20 to 199 of 200 neurons with 2000 datapoints and plots distance against
    ``k / n_neurons``.

Appendix A2: toy RNNs whose hidden state rotates
    ``n_datapoints`` random initial states ``h_0 ~ N(0, init_scale^2 I)`` (the datapoints) are
    run for ``n_steps`` steps of::

        h_{t+1} = R h_t + beta * (tanh(R h_t) - R h_t)

    ``R`` is a rotation (see :func:`rotation_matrix`). With ``beta = 0`` this is the linear
    rotation RNN: every step is an orthonormal map of the final step, so CCA sees them as
    identical while cosine and Euclidean distances grow with the rotation. ``beta > 0`` adds a
    purely nonlinear term (its Taylor series starts at ``-(R h)^3 / 3``) and ``beta = 1`` is
    the vanilla RNN ``h_{t+1} = tanh(R h_t)`` with orthogonal recurrent weights; we chose this
    form because it isolates the nonlinearity (the linear part stays a rotation) while staying
    a recognisable RNN. Each step's states (datapoints x neurons) are compared with the final
    step's.

NumPy only; the distance functions are passed in (e.g. from :mod:`cca`), so this module
depends on no measure in particular.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

Distance = Callable[[np.ndarray, np.ndarray], float]


def random_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random ``dim x dim`` orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    gaussian = rng.standard_normal((dim, dim))
    q, r = np.linalg.qr(gaussian)
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def signal_noise_pair(
    n_signal: int,
    n_neurons: int = 200,
    n_datapoints: int = 2000,
    noise_scale: float = 0.1,
    seed: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two layers sharing ``n_signal`` signal dimensions among noise neurons (Figure 2).

    ``X = [S | noise_scale * E_x]`` and ``Y = [S @ Q | noise_scale * E_y]``; see the module
    docstring for the reading of the paper this implements.

    Parameters
    ----------
    n_signal
        Number ``k`` of signal neurons, ``1 <= k <= n_neurons``.
    n_neurons
        Neurons per layer (paper: 200).
    n_datapoints
        Datapoints, the rows (paper: 2000).
    noise_scale
        Standard deviation of the noise neurons (paper: 0.1; signal has 1).
    seed
        Seed or generator; equal seeds give equal layers.

    Returns
    -------
    x, y : ndarray, shape (n_datapoints, n_neurons)

    Examples
    --------
    >>> x, y = signal_noise_pair(20, n_neurons=50, n_datapoints=300, seed=0)
    >>> x.shape, y.shape
    ((300, 50), (300, 50))
    """
    _check_positive_int(n_neurons, "n_neurons")
    _check_positive_int(n_datapoints, "n_datapoints")
    _check_positive_int(n_signal, "n_signal")
    if n_signal > n_neurons:
        raise ValueError(
            f"n_signal must be at most n_neurons={n_neurons}, got {n_signal}: "
            "the signal dimensions are a subset of the neurons"
        )
    if not noise_scale >= 0:
        raise ValueError(f"noise_scale must be >= 0, got {noise_scale!r}")
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal((n_datapoints, n_signal))
    rotation = random_orthogonal(n_signal, rng)
    n_noise = n_neurons - n_signal
    x = np.hstack([signal, noise_scale * rng.standard_normal((n_datapoints, n_noise))])
    y = np.hstack([signal @ rotation, noise_scale * rng.standard_normal((n_datapoints, n_noise))])
    return x, y


def signal_noise_sweep(
    n_signals: Sequence[int],
    distances: Mapping[str, Distance],
    repeats: int = 1,
    n_neurons: int = 200,
    n_datapoints: int = 2000,
    noise_scale: float = 0.1,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Distance between the two layers of :func:`signal_noise_pair` for each ``k`` (Figure 2).

    Parameters
    ----------
    n_signals
        The numbers ``k`` of signal neurons to sweep.
    distances
        ``{label: f(x, y) -> distance}``, e.g.
        ``{"mean CCA": lambda x, y: 1 - cca.mean_cca(x, y)}``. Every measure sees the same
        layers.
    repeats
        Independent draws of the layers per ``k``.
    n_neurons, n_datapoints, noise_scale
        As in :func:`signal_noise_pair`.
    seed
        Seed of the whole sweep; repeat ``r`` of the ``i``-th ``k`` uses the ``(i, r)``-th
        child seed, so adding measures does not change the layers.

    Returns
    -------
    dict
        ``{label: array of shape (repeats, len(n_signals))}``.

    Examples
    --------
    >>> def gap(x, y):
    ...     return float(np.abs(x - y).mean())
    >>> sweep = signal_noise_sweep([5, 10], {"gap": gap}, repeats=2, n_neurons=10,
    ...                            n_datapoints=50)
    >>> sweep["gap"].shape
    (2, 2)
    """
    _check_positive_int(repeats, "repeats")
    if not distances:
        raise ValueError("distances must name at least one distance function {label: f(x, y)}")
    ks = list(n_signals)
    if not ks:
        raise ValueError("n_signals must hold at least one number of signal neurons")
    children = np.random.SeedSequence(seed).spawn(len(ks) * repeats)
    results = {label: np.empty((repeats, len(ks))) for label in distances}
    for i, k in enumerate(ks):
        for r in range(repeats):
            rng = np.random.default_rng(children[i * repeats + r])
            x, y = signal_noise_pair(int(k), n_neurons, n_datapoints, noise_scale, rng)
            for label, distance in distances.items():
                results[label][r, i] = distance(x, y)
    return results


def rotation_matrix(dim: int, max_angle: float, rng: np.random.Generator) -> np.ndarray:
    """Random rotation turning ``dim // 2`` random planes by angles uniform in ``[0, max_angle]``.

    ``R = U B U^T`` with ``U`` Haar-random orthogonal and ``B`` block diagonal of 2 x 2
    rotations (plus a fixed axis when ``dim`` is odd), so ``det R = 1``. Small angles rotate
    a state a little per step; over many steps the planes dephase and the state turns far.
    """
    blocks = np.eye(dim)
    angles = rng.uniform(0.0, max_angle, dim // 2)
    for plane, angle in enumerate(angles):
        i = 2 * plane
        cos, sin = np.cos(angle), np.sin(angle)
        blocks[i : i + 2, i : i + 2] = [[cos, -sin], [sin, cos]]
    basis = random_orthogonal(dim, rng)
    return basis @ blocks @ basis.T


def rnn_trajectory(
    n_neurons: int = 50,
    n_datapoints: int = 1000,
    n_steps: int = 20,
    max_angle: float | None = None,
    beta: float = 0.0,
    init_scale: float = 1.0,
    seed: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Hidden states of the toy RNN of appendix A2 for many initial states.

    ``h_{t+1} = R h_t + beta * (tanh(R h_t) - R h_t)`` from ``h_0 ~ N(0, init_scale^2 I)``;
    ``beta = 0`` is the linear rotation RNN, ``beta = 1`` the tanh RNN (module docstring).

    Parameters
    ----------
    n_neurons
        Hidden units.
    n_datapoints
        Initial states, one per datapoint.
    n_steps
        Steps run; the trajectory holds ``n_steps + 1`` states including ``h_0``.
    max_angle
        Largest per-step rotation angle of :func:`rotation_matrix`, in radians. Default
        ``pi / n_steps``: over the whole run no plane turns more than half a turn, so the
        distances to the final step rise steadily instead of oscillating.
    beta
        Weight of the nonlinear term, in ``[0, 1]``.
    init_scale
        Standard deviation of the initial states (sets how far into tanh's nonlinear range
        the states reach).
    seed
        Seed or generator; equal seeds give the same ``R`` and initial states for any ``beta``.

    Returns
    -------
    ndarray, shape (n_steps + 1, n_datapoints, n_neurons)

    Examples
    --------
    >>> states = rnn_trajectory(n_neurons=4, n_datapoints=10, n_steps=3, seed=0)
    >>> states.shape
    (4, 10, 4)
    """
    _check_positive_int(n_neurons, "n_neurons")
    _check_positive_int(n_datapoints, "n_datapoints")
    _check_positive_int(n_steps, "n_steps")
    if not 0.0 <= beta <= 1.0:
        raise ValueError(
            f"beta must be in [0, 1] (0: linear rotation RNN, 1: tanh RNN), got {beta!r}"
        )
    if not init_scale > 0:
        raise ValueError(f"init_scale must be > 0, got {init_scale!r}")
    if max_angle is None:
        max_angle = np.pi / n_steps
    if not max_angle >= 0:
        raise ValueError(f"max_angle must be >= 0 radians, got {max_angle!r}")
    rng = np.random.default_rng(seed)
    rotation = rotation_matrix(n_neurons, max_angle, rng)
    states = np.empty((n_steps + 1, n_datapoints, n_neurons))
    states[0] = init_scale * rng.standard_normal((n_datapoints, n_neurons))
    for t in range(n_steps):
        rotated = states[t] @ rotation.T
        states[t + 1] = rotated + beta * (np.tanh(rotated) - rotated)
    return states


def distances_to_final(
    trajectory: np.ndarray, distances: Mapping[str, Distance]
) -> dict[str, np.ndarray]:
    """Distance of each step's representation to the final step's (appendix A2).

    Parameters
    ----------
    trajectory
        States, shape (steps, datapoints, neurons), e.g. from :func:`rnn_trajectory`.
    distances
        ``{label: f(states_t, states_final) -> distance}``.

    Returns
    -------
    dict
        ``{label: array of shape (steps,)}``; the last entry compares the final step with
        itself.
    """
    states = np.asarray(trajectory, dtype=float)
    if states.ndim != 3:
        raise ValueError(
            f"trajectory must have shape (steps, datapoints, neurons), got shape {states.shape}"
        )
    if not distances:
        raise ValueError("distances must name at least one distance function {label: f(x, y)}")
    final = states[-1]
    return {
        label: np.array([distance(step, final) for step in states])
        for label, distance in distances.items()
    }


def relative_euclidean_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Euclidean distance relative to the two representations' root-mean-square norm (A2).

    ``|X - Y|_F / sqrt((|X|_F^2 + |Y|_F^2) / 2)``, each neuron centred first: the
    :func:`cca.euclidean_distance` of the two divided by their RMS norm, so that it is unitless
    and lies in [0, 2] like the cosine distance (it equals ``sqrt(2 * cosine distance)`` when
    the two norms are equal, as for the rotation RNN, whose steps all have the final step's
    norm). Figure A2 plots it next to cosine distance.

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [-1.0, 0.0]])
    >>> relative_euclidean_distance(x, -x)
    2.0
    """
    x, y = (np.asarray(layer, dtype=float) for layer in (x, y))
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(
            "x and y must be (datapoints, neurons) arrays of one shape, neuron j of x compared "
            f"with neuron j of y; got shapes {x.shape} and {y.shape}"
        )
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    scale = max(np.abs(x).max(initial=0.0), np.abs(y).max(initial=0.0))
    if scale == 0 or not np.isfinite(scale):
        raise ValueError(
            "relative Euclidean distance needs finite representations that vary over the "
            "datapoints; both are constant (or hold NaN/inf)"
        )
    x, y = x / scale, y / scale
    rms = np.sqrt((np.sum(x**2) + np.sum(y**2)) / 2)
    return float(np.linalg.norm(x - y) / rms)


def _check_positive_int(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def rnn_trajectories(sizes: dict, betas: dict[str, float], seed: int,
                     n_seeds: int) -> dict[str, list[np.ndarray]]:
    """Appendix A2's trajectories: for each toy RNN, one per seed ``seed, seed + 1, ...,
    seed + n_seeds - 1`` (the first is plotted; all are the claim check's units).

    Parameters
    ----------
    sizes : dict
        :func:`rnn_trajectory`'s ``n_neurons``, ``n_datapoints``, ``n_steps``, ``init_scale``.
    betas : dict
        ``{RNN name: weight of its nonlinear term}``.
    seed : int
        The first seed.
    n_seeds : int
        Trajectories per RNN.

    Returns
    -------
    dict
        ``{RNN name: list of trajectories}``.

    Examples
    --------
    >>> sizes = dict(n_neurons=4, n_datapoints=10, n_steps=3, init_scale=1.0)
    >>> runs = rnn_trajectories(sizes, {"rotation": 0.0}, seed=0, n_seeds=2)
    >>> len(runs["rotation"])
    2
    """
    seeds = range(seed, seed + n_seeds)
    return {name: [rnn_trajectory(**sizes, beta=weight, seed=s) for s in seeds]
            for name, weight in betas.items()}
