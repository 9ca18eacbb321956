"""Figure 2 and Appendix A2: the synthetic toys, as claim checks with independent draws as units.

Figure 2 (Section 2.2), :func:`noise_sensitivity`
    Two layers share ``k`` signal dimensions among noise neurons
    (:func:`morcos2018.toys.signal_noise_pair`). The paper: mean CCA distance is very
    sensitive to the noise neurons, PWCCA is robust, SVCCA lies in between. Units: independent
    draws of the toy. :func:`morcos2018.toys.signal_noise_sweep` draws every (signal ratio,
    repeat) cell from its own child seed, so each cell is one unit; per cell the three distances
    come from the same layers, and the tests are sign-flip tests of the paired differences over
    cells (the statistic is the mean difference over the whole sweep: the area between the
    curves divided by the number of ratios).

Appendix A2, :func:`rotation_invariance`
    A rotation RNN's state at step t is an orthonormal map of its final state
    (:func:`morcos2018.toys.rnn_trajectory`). The paper: CCA sees the steps as similar, cosine
    and Euclidean distance do not. The baseline of every measure is its chance level, the distance
    of unrelated states of the same shape (datapoints of one side permuted,
    :func:`cca.permutation_test`). Units: independent draws of the toy (seeds: a new rotation and
    new initial states each); with one draw, the test is over that draw's row permutations and
    says so (see :func:`.evidence.against_chance`).

Thresholds are module constants, declared with the checks and passed as parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from morcos2018.claims import evidence

#: Figure 2, declared: PWCCA is "robust" when its distance is at most this share of mean
#: CCA's, averaged over the sweep (the ordering alone would allow PWCCA just below SVCCA).
PWCCA_SHARE = 0.5

#: Appendix A2, declared: CCA sees the steps as similar when its distance closes at least this
#: share of the gap from its chance level to 0 (distance <= 0.1 x chance) ...
CLOSE_SHARE = 0.9
#: ... and cosine / Euclidean distance do not when theirs close at most this share
#: (distance >= 0.5 x chance).
FAR_SHARE = 0.5
#: Row permutations per chance level.
N_PERMUTATIONS = 200
#: Why A2 with the pure rotation (beta = 0) is a demonstration: its outcome is an identity.
LINEAR_IDENTITY = (
    "with beta = 0 the final state is an invertible linear map (a product of rotations) of every "
    "earlier one, so CCA sees them as identical and unit-by-unit measures see them rotated, by "
    "construction"
)

NOISE_CLAIM = (
    "Figure 2: mean CCA distance is very sensitive to noise neurons, PWCCA is robust, and SVCCA "
    "lies in between (over independent draws of the toy)"
)
ROTATION_CLAIM = (
    "Appendix A2: CCA sees a rotation RNN's steps as similar to its final step (distance near 0, "
    "far below chance), while cosine and Euclidean distance do not (near their chance level)"
)

_ROTATION_MEASURES = {
    "CCA": "mean_cca_distance",
    "cosine": "cosine_distance",
    "Euclidean": "euclidean_distance",
}


def noise_sensitivity(
    mean_cca: np.ndarray,
    svcca: np.ndarray,
    pwcca: np.ndarray,
    *,
    pwcca_share: float = PWCCA_SHARE,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
) -> evidence.Verdict:
    """Figure 2: PWCCA distance < SVCCA distance < mean CCA distance, PWCCA small (Section 2.2).

    Three tests, each a sign-flip test over independent draws of the toy (cells of the sweep) of
    a paired difference, one-sided:

    1. ``"SVCCA closer than mean CCA"``: ``d_SVCCA - d_meanCCA < 0``;
    2. ``"PWCCA closer than SVCCA"``: ``d_PWCCA - d_SVCCA < 0``;
    3. ``"PWCCA robust: at most pwcca_share of mean CCA's distance"``:
       ``d_PWCCA - pwcca_share * d_meanCCA < 0``.

    The claim holds when all three hold (an intersection-union test: no correction needed). The
    statistic of each is the mean over all cells, i.e. the curves compared over the whole sweep,
    not ratio by ratio; where the curves meet (a signal ratio near 1, all distances ~0, or a very
    low one where SVCCA keeps nearly everything) the cell adds little either way.

    Parameters
    ----------
    mean_cca, svcca, pwcca : ndarray, shape (repeats, n_ratios)
        Distances from :func:`morcos2018.toys.signal_noise_sweep`, the same cells for the
        three measures. Every cell must be an independent draw (the sweep gives each its own
        child seed).
    pwcca_share : float
        Declared: PWCCA's distance at most this share of mean CCA's (default 0.5).
    alpha : float
        Significance level of each one-sided test.
    seed : int
        Seed of the random sign flips (drawn for more than 14 cells) and of the bootstrap
        intervals.

    Returns
    -------
    Verdict
        Tests named as above; ``value`` is the measure's mean distance, ``null_value`` the mean
        of what it is compared with.

    Examples
    --------
    >>> import cca
    >>> from morcos2018 import toys
    >>> sweep = toys.signal_noise_sweep(
    ...     [6, 12, 18, 24], {"mean": cca.mean_cca_distance, "pw": cca.pwcca_distance,
    ...     "sv": lambda x, y: cca.svcca_distance(x, y, 0.99, rule="singular_values")},
    ...     repeats=2, n_neurons=30, n_datapoints=300)
    >>> noise_sensitivity(sweep["mean"], sweep["sv"], sweep["pw"]).holds
    True
    """
    arrays = _same_cells(mean_cca=mean_cca, svcca=svcca, pwcca=pwcca)
    if not 0 < pwcca_share < 1:
        raise ValueError(f"pwcca_share must be in (0, 1); found {pwcca_share!r}.")
    mean_cca, svcca, pwcca = (values.ravel() for values in arrays)
    common = dict(unit="draws", alternative="less", alpha=alpha, seed=seed)
    tests = (
        evidence.sign_flip(
            svcca, baseline=mean_cca, name="SVCCA closer than mean CCA",
            statistic_text="SVCCA distance, mean over draws (signal ratios x repeats)",
            baseline_text="mean CCA distance on the same layers", **common,
        ),
        evidence.sign_flip(
            pwcca, baseline=svcca, name="PWCCA closer than SVCCA",
            statistic_text="PWCCA distance, mean over draws (signal ratios x repeats)",
            baseline_text="SVCCA distance on the same layers", **common,
        ),
        evidence.sign_flip(
            pwcca, baseline=pwcca_share * mean_cca,
            name=f"PWCCA robust: at most {pwcca_share:g} of mean CCA's distance",
            statistic_text="PWCCA distance, mean over draws (signal ratios x repeats)",
            baseline_text=f"{pwcca_share:g} x mean CCA distance on the same layers", **common,
        ),
    )
    return evidence.Verdict(NOISE_CLAIM, tests)


def rotation_invariance(
    trajectories: np.ndarray | Sequence[np.ndarray],
    *,
    step: int = 0,
    close_share: float = CLOSE_SHARE,
    far_share: float = FAR_SHARE,
    n_permutations: int = N_PERMUTATIONS,
    alpha: float = evidence.ALPHA,
    seed: int = 0,
    by_construction: str = "",
    beta: float = 0.0,
) -> evidence.Verdict:
    """Appendix A2: CCA sees a rotation RNN's steps as similar, cosine and Euclidean do not.

    For each trajectory (an independent draw of the toy) the states at ``step`` are compared with
    the final states by mean CCA, cosine and Euclidean distance (:func:`cca.mean_cca_distance`,
    :func:`cca.cosine_distance`, :func:`cca.euclidean_distance`), each against its chance level:
    the same distance with the datapoints of the final step permuted (unrelated states of the
    same shape, :func:`cca.permutation_test`). Three tests (see :func:`.evidence.against_chance`):

    1. ``"CCA near identical"``: CCA distance <= ``(1 - close_share)`` x its chance level;
    2. ``"cosine far"``: cosine distance >= ``(1 - far_share)`` x its chance level;
    3. ``"Euclidean far"``: the same for Euclidean distance (scale-free: the share of the gap
       is the same for the raw distance and the notebook's distance relative to the norms).

    Several trajectories: sign-flip tests over them (seeds). One trajectory: a Monte Carlo test
    over its row permutations, whose record says that it covers only the chance level's spread.

    Parameters
    ----------
    trajectories : ndarray or sequence of ndarray
        One trajectory of shape (steps, datapoints, neurons) from
        :func:`morcos2018.toys.rnn_trajectory`, or several (one per seed).
    step : int
        The step compared with the final one (default 0: the most rotated).
    close_share, far_share : float
        Declared shares of the gap from chance to identical (defaults 0.9 and 0.5).
    n_permutations : int
        Row permutations per chance level (default 200).
    alpha : float
        Significance level of each one-sided test.
    seed : int
        Seed of the permutations, sign flips and bootstrap.
    by_construction : str
        Why the outcome is fixed by construction, for dynamics where it is (the pure rotation,
        beta = 0: :data:`LINEAR_IDENTITY`); every test is then a demonstration.
    beta : float
        Weight of the dynamics' nonlinear term (:func:`morcos2018.toys.rnn_trajectory`), for the
        claim's text only: a nonzero ``beta`` is named in it, so the record says which toy it
        tests.

    Returns
    -------
    Verdict
        Tests ``"CCA near identical"``, ``"cosine far"``, ``"Euclidean far"``; ``value`` is the
        mean distance, ``null_value`` the mean of the scaled chance level.

    Examples
    --------
    >>> from morcos2018 import toys
    >>> runs = [toys.rnn_trajectory(n_neurons=10, n_datapoints=300, n_steps=6, seed=s)
    ...         for s in range(5)]
    >>> rotation_invariance(runs, n_permutations=50).holds
    True
    """
    states = _trajectories(trajectories)
    if isinstance(step, bool) or not isinstance(step, int | np.integer):
        raise ValueError(f"step must be an int index of the steps; found {step!r}.")
    n_steps = states[0].shape[0]
    if not -n_steps <= step < n_steps or step % n_steps == n_steps - 1:
        raise ValueError(
            f"step must index a step before the final one (0..{n_steps - 2}); found {step}."
        )
    for value, label in ((close_share, "close_share"), (far_share, "far_share")):
        if not 0 < value < 1:
            raise ValueError(f"{label} must be in (0, 1); found {value!r}.")
    unit = "seeds"
    results = {
        label: [
            evidence.permutation_null(run[step], run[-1], measure, n_permutations, seed)
            for run in states
        ]
        for label, measure in _ROTATION_MEASURES.items()
    }
    common = dict(unit=unit, alpha=alpha, seed=seed)
    tests = (
        evidence.against_chance(
            results["CCA"], share=close_share, alternative="less", name="CCA near identical",
            statistic_text=f"mean CCA distance, step {step} vs the final step", **common,
        ),
        *(
            evidence.against_chance(
                results[label], share=far_share, alternative="greater", name=f"{label} far",
                statistic_text=f"{label} distance, step {step} vs the final step", **common,
            )
            for label in ("cosine", "Euclidean")
        ),
    )
    tests = tuple(dataclasses.replace(test, demonstration=by_construction) for test in tests)
    claim = ROTATION_CLAIM + (f"; here with a nonlinear term, beta = {beta}" if beta else "")
    return evidence.Verdict(claim, tests)


def _same_cells(**arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays as float (repeats, ratios) of one shape, finite, or a ValueError naming one."""
    checked = []
    for label, values in arrays.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.size == 0:
            raise ValueError(
                f"{label} must be a (repeats, n_ratios) array of distances, as signal_noise_sweep "
                f"returns per measure; found shape {values.shape}."
            )
        if not np.isfinite(values).all():
            raise ValueError(f"{label} holds NaN or infinite distances.")
        checked.append(values)
    shapes = {label: values.shape for label, values in zip(arrays, checked, strict=True)}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"the three sweeps must cover the same cells; found shapes {shapes}.")
    return checked


def _trajectories(trajectories: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """A list of (steps, datapoints, neurons) float arrays of one shape."""
    if isinstance(trajectories, np.ndarray) and trajectories.ndim == 3:
        trajectories = [trajectories]
    runs = [np.asarray(run, dtype=float) for run in trajectories]
    if not runs or any(run.ndim != 3 or run.shape[0] < 2 for run in runs):
        raise ValueError(
            "trajectories must be one (steps, datapoints, neurons) array with at least 2 steps, "
            "as toys.rnn_trajectory returns, or a sequence of them (one per seed); found shapes "
            f"{[np.shape(run) for run in runs]}."
        )
    if len({run.shape for run in runs}) > 1:
        raise ValueError(
            f"the trajectories must share one shape; found {[run.shape for run in runs]}."
        )
    return runs


# --------------------------------------------------------------------------- measured numbers
# The numbers each toy notebook records beside its verdict (record_claim's ``measured``).


def noise_sensitivity_measured(sweep: dict[str, np.ndarray], ratios: np.ndarray) -> dict:
    """Figure 2: every measure's distance at the signal ratio nearest 0.5 and over the sweep.

    Parameters
    ----------
    sweep : dict
        ``{measure label: distances, shape (repeats, ratios)}``
        (:func:`morcos2018.toys.signal_noise_sweep`).
    ratios : ndarray
        The signal ratios of the sweep's columns.

    Returns
    -------
    dict
        ``ratio_shown``, ``at_that_ratio`` (mean over repeats), ``mean_over_sweep`` and ``draws``
        (cells of the sweep).

    Examples
    --------
    >>> m = noise_sensitivity_measured({"PWCCA": np.array([[0.1, 0.3], [0.1, 0.5]])},
    ...                                np.array([0.25, 0.5]))
    >>> float(m["ratio_shown"]), float(m["at_that_ratio"]["PWCCA"]), m["draws"]
    (0.5, 0.4, 4)
    """
    half = int(np.argmin(np.abs(ratios - 0.5)))
    return {
        "ratio_shown": ratios[half],
        "at_that_ratio": {label: values.mean(axis=0)[half] for label, values in sweep.items()},
        "mean_over_sweep": {label: values.mean() for label, values in sweep.items()},
        "draws": next(iter(sweep.values())).size,
    }


def rotation_measured(n_seeds: int, beta: float, result: dict[str, np.ndarray]) -> dict:
    """Appendix A2: one toy RNN's distances to the final step, for its plotted seed.

    Parameters
    ----------
    n_seeds : int
        Trajectories (seeds) the test used.
    beta : float
        Weight of the RNN's nonlinear term.
    result : dict
        ``{measure label: distance of each step to the final step}`` of the plotted seed.

    Returns
    -------
    dict
        ``seeds``, ``beta``, each measure's maximum over steps and its value at step 0.

    Examples
    --------
    >>> rotation_measured(3, 0.0, {"PWCCA": np.array([0.2, 0.1, 0.0])})["max_over_steps_seed_0"]
    {'PWCCA': np.float64(0.2)}
    """
    return {
        "seeds": n_seeds,
        "beta": beta,
        "max_over_steps_seed_0": {label: v.max() for label, v in result.items()},
        "first_step_seed_0": {label: v[0] for label, v in result.items()},
    }
