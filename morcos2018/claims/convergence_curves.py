"""Figure 6's curves: how far each LSTM layer is from a reference checkpoint over training, and
when it gets there.

A curve is one layer's distance, at every checkpoint, to its own representation at a reference
checkpoint (:func:`curves_to_references`), or from each checkpoint to the next
(:func:`adjacent_distances`: how far training still moves it). A curve is summarised by a
statistic of its checkpoints *before* the reference (:func:`convergence_statistics`): the
time-averaged distance (``"area"``) or the first epoch within a threshold (``"first_within"``);
:func:`depth_rank_correlation` is Spearman(depth, that statistic) in one run.

Every setting is an argument here. :mod:`morcos2018.claims.convergence` holds the declared ones
(``REFERENCES``, ``MEASURE``, ``STATISTICS``, ``THRESHOLD``, ``START``), the functions of the same
names with those as defaults, and the checks. The readers of a check's input (one run's curves
keyed by reference checkpoint, the epochs of each run) are here too, beside the curves they read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from morcos2018 import analysis
from morcos2018.claims import evidence

Curves = Mapping[str, Any]  # {layer: distances at each checkpoint}, layers input first

# The statistics computed here; convergence.STATISTICS declares those the check accepts.
_COMPUTED = ("area", "first_within")
# A curve must vanish at its reference to this tolerance (relative to the curve's largest value).
_REFERENCE_TOLERANCE = 1e-3


def curves_to_references(
    representations: Mapping[str, Sequence[np.ndarray]],
    measures: Sequence[str],
    references: Sequence[int],
) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Distance of each layer at each checkpoint to its representation at several references.

    Each curve is :func:`morcos2018.analysis.distances_to_reference` of a layer's series
    against the layer at one reference checkpoint; the curves against the last checkpoint are
    those Figure 6 and Appendix A8 draw.

    Parameters
    ----------
    representations : mapping of str to sequence of ndarray
        ``{layer: [representation at each checkpoint]}`` from
        :func:`morcos2018.lm_probes.probe_representations`, layers input first.
    measures : sequence of str
        Names for :func:`morcos2018.analysis.distance_function` (``"pwcca_distance"``,
        ``"mean_cca_distance"``, ``"cosine_distance"``, ``"euclidean_distance"``, ...).
    references : sequence of int
        Checkpoint indices of the references; negative ones count from the end.

    Returns
    -------
    dict
        ``{measure: {reference index (non-negative): {layer: distances at each checkpoint}}}``,
        the input of :func:`morcos2018.claims.convergence.bottom_up_convergence` for one run.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> series = {"lstm1": [rng.normal(size=(50, 3)) for _ in range(4)]}
    >>> curves = curves_to_references(series, ["cosine_distance"], references=(-1, -2))
    >>> sorted(curves["cosine_distance"]), float(curves["cosine_distance"][2]["lstm1"][2])
    ([2, 3], 0.0)
    """
    lengths = {len(series) for series in representations.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"every layer needs the same number of checkpoints; found lengths {sorted(lengths)}."
        )
    (length,) = lengths
    indices = [checkpoint_index(r, length, "references") for r in references]
    return {
        measure: {
            index: {
                layer: analysis.distances_to_reference(series, series[index], measure)
                for layer, series in representations.items()
            }
            for index in indices
        }
        for measure in measures
    }


def adjacent_distances(
    representations: Mapping[str, Sequence[np.ndarray]], measure: str
) -> dict[str, np.ndarray]:
    """Each layer's distance from every checkpoint to the next: how far training still moves it.

    Parameters
    ----------
    representations : mapping of str to sequence of ndarray
        ``{layer: [representation at each checkpoint]}`` (as for :func:`curves_to_references`).
    measure : str
        A name for :func:`morcos2018.analysis.distance_function`; for PWCCA the weights
        come from the earlier checkpoint.

    Returns
    -------
    dict
        ``{layer: array of distance(checkpoint t, checkpoint t + 1) for t = 0 .. T - 2}``; its
        last entries say whether the reference has settled
        (:func:`morcos2018.claims.convergence.reference_settled`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, 3))
    >>> steps = adjacent_distances({"lstm1": [rng.normal(size=(60, 3)), x, 2 * x]},
    ...                            "pwcca_distance")
    >>> steps["lstm1"].shape, round(float(steps["lstm1"][-1]), 6)
    ((2,), 0.0)
    """
    distance = analysis.distance_function(measure)
    result = {}
    for layer, series in representations.items():
        if len(series) < 2:
            raise ValueError(
                f"layer {layer!r} has {len(series)} checkpoint(s); consecutive distances need 2."
            )
        pairs = zip(series[:-1], series[1:], strict=True)
        result[layer] = np.array([distance(earlier, later) for earlier, later in pairs])
    return result


def convergence_statistics(
    curves: Curves,
    epochs: Sequence[float],
    *,
    reference: int = -1,
    statistic: str,
    threshold: float,
    start: int,
) -> dict[str, float]:
    """Each layer's convergence statistic, from its checkpoints before the reference.

    Parameters
    ----------
    curves : mapping of str to array-like
        ``{layer: distance to the reference at each checkpoint}`` (0 at the reference).
    epochs : array-like
        Epoch of each checkpoint (e.g. :func:`morcos2018.lm_training.checkpoint_epochs`).
    reference : int
        Index of the reference checkpoint (negative: from the end). It and every later
        checkpoint are left out.
    statistic : {"area", "first_within"}
        ``"area"``: time-averaged distance over checkpoints ``start .. reference - 1``
        (trapezoid rule; the distance itself if there is one checkpoint). ``"first_within"``:
        the first of their epochs with distance ``<= threshold``, ``inf`` if none.
    threshold : float
        "Converged" distance for ``"first_within"``, in the measure's units.
    start : int
        First checkpoint used.

    Returns
    -------
    dict
        ``{layer: statistic}``; larger means later convergence.

    Examples
    --------
    >>> epochs = [0, 1, 2, 3, 4]
    >>> curves = {"early": [0.6, 0.05, 0.04, 0.02, 0.0], "never": [0.6, 0.5, 0.4, 0.3, 0.0]}
    >>> convergence_statistics(curves, epochs, statistic="first_within", threshold=0.1, start=1)
    {'early': 1.0, 'never': inf}
    """
    epochs = as_epochs(epochs)
    if statistic not in _COMPUTED:
        raise ValueError(f"statistic must be one of {_COMPUTED}; found {statistic!r}.")
    index = checkpoint_index(reference, len(epochs), "reference")
    if not 0 <= start < index:
        raise ValueError(
            f"start={start} leaves no checkpoint before the reference (checkpoint {index}): "
            "use an earlier start or a later reference."
        )
    result = {}
    for layer, curve in curves.items():
        curve = _as_curve(curve, layer, len(epochs), index)
        window, at = curve[start:index], epochs[start:index]
        result[layer] = (
            _time_average(window, at) if statistic == "area" else _first_within(window, at,
                                                                                threshold)
        )
    return result


def depth_rank_correlation(
    curves: Curves,
    epochs: Sequence[float],
    *,
    reference: int = -1,
    statistic: str,
    threshold: float,
    start: int,
) -> float:
    """Spearman correlation of depth with :func:`convergence_statistics` in one run.

    Layers are taken in the mapping's order, input first; +1 is a perfect bottom-up order
    (each layer converges after the one below it), -1 top-down, 0 no order. Ties (e.g. layers
    that never get within the threshold) get average ranks; a constant statistic gives 0.

    Examples
    --------
    >>> curves = {"l1": [0.6, 0.1, 0.05, 0], "l2": [0.6, 0.3, 0.1, 0], "l3": [0.6, 0.4, 0.3, 0]}
    >>> depth_rank_correlation(curves, [0, 1, 2, 3], statistic="area", threshold=0.1, start=1)
    1.0
    """
    values = convergence_statistics(
        curves, epochs, reference=reference, statistic=statistic, threshold=threshold,
        start=start,
    )
    if len(values) < 2:
        raise ValueError(f"an order needs at least 2 layers; found {list(values)}.")
    return evidence.spearman(np.arange(1, len(values) + 1), np.array(list(values.values())))


def statistic_text(statistic: str, threshold: float, start: int) -> str:
    """The statistic in words, for a test's record.

    Examples
    --------
    >>> statistic_text("first_within", 0.1, 1)
    'first epoch within 0.1 of the reference, checkpoints 1..reference-1 (inf if never)'
    """
    if statistic == "area":
        return f"time-averaged distance to the reference, checkpoints {start}..reference-1"
    return (
        f"first epoch within {threshold} of the reference, checkpoints {start}..reference-1 "
        "(inf if never)"
    )


def _time_average(distances: np.ndarray, at: np.ndarray) -> float:
    if len(distances) == 1:
        return float(distances[0])
    area = np.sum((distances[1:] + distances[:-1]) / 2 * np.diff(at))
    return float(area / (at[-1] - at[0]))


def _first_within(distances: np.ndarray, at: np.ndarray, threshold: float) -> float:
    within = np.flatnonzero(distances <= threshold)
    return float(at[within[0]]) if within.size else math.inf


# --------------------------------------------------------------------------- reading the runs
# A check's input: per run, ``{measure: {layer: curve}}`` (against the last checkpoint) or
# ``{measure: {reference index: {layer: curve}}}``, and the epochs of each run's checkpoints.


def checked_runs(runs, epochs, measure: str) -> tuple[list[np.ndarray], list[dict[int, Curves]]]:
    """Each run's epochs and ``{reference index: curves}`` of ``measure``, their lengths checked."""
    if not runs:
        raise ValueError("runs is empty: give one {measure: curves} mapping per training run.")
    per_run_epochs = _epochs_per_run(epochs, len(runs))
    by_reference = [curves_by_reference(run, measure, i) for i, run in enumerate(runs)]
    for position, (curves, at) in enumerate(zip(by_reference, per_run_epochs, strict=True)):
        if checkpoint_count(curves) != len(at):
            raise ValueError(
                f"run {position} has curves over {checkpoint_count(curves)} checkpoints but its "
                f"epochs give {len(at)}: the curves' shape must match one epoch per checkpoint."
            )
    return per_run_epochs, by_reference


def curves_by_reference(run: Mapping[str, Any], measure: str,
                        position: int) -> dict[int, Curves]:
    """``{reference index: {layer: curve}}`` of one run's ``measure``, whichever form was given."""
    if measure not in run:
        raise ValueError(
            f"run {position} has no curves for {measure!r}; it has {sorted(run)}."
        )
    entry = run[measure]
    if entry and all(isinstance(key, (int, np.integer)) for key in entry):
        lengths = {len(np.asarray(c)) for curves in entry.values() for c in curves.values()}
        if len(lengths) != 1:
            raise ValueError(
                f"run {position}, {measure!r}: curves of different lengths {sorted(lengths)}."
            )
        (length,) = lengths
        return {checkpoint_index(int(k), length, "reference"): v for k, v in entry.items()}
    lengths = {len(np.asarray(c)) for c in entry.values()}
    if len(lengths) != 1:
        raise ValueError(
            f"run {position}, {measure!r}: curves of different lengths {sorted(lengths)}."
        )
    return {lengths.pop() - 1: entry}


def common_offsets(by_reference: list[dict[int, Curves]], measure: str) -> list[int]:
    """Reference offsets from the end (0 = last checkpoint) shared by every run, sorted."""
    offsets = [sorted(checkpoint_count(curves) - 1 - index for index in curves)
               for curves in by_reference]
    if any(o != offsets[0] for o in offsets):
        raise ValueError(
            f"every run must give {measure!r} against the same references, counted from its "
            f"last checkpoint; found offsets {offsets}."
        )
    return offsets[0]


def checkpoint_count(by_reference: dict[int, Curves]) -> int:
    """Number of checkpoints of a run's curves (one curve read)."""
    return len(np.asarray(next(iter(next(iter(by_reference.values())).values()))))


def as_epochs(epochs: Any) -> np.ndarray:
    """``epochs`` as a float array, checked: 1-D, increasing, one epoch per checkpoint."""
    epochs = np.asarray(epochs, dtype=float)
    if epochs.ndim != 1 or len(epochs) < 2 or not np.all(np.diff(epochs) > 0):
        raise ValueError(
            "epochs must be a 1-D increasing array with one epoch per checkpoint (e.g. "
            f"lm_training.checkpoint_epochs(run)); found {epochs!r}."
        )
    return epochs


def checkpoint_index(reference: int, length: int, name: str) -> int:
    """``reference`` as a non-negative index into ``length`` checkpoints, checked."""
    if not -length <= reference < length:
        raise ValueError(
            f"{name} {reference} is not a checkpoint index for {length} checkpoints."
        )
    return reference % length


def _epochs_per_run(epochs: Any, n_runs: int) -> list[np.ndarray]:
    first = epochs[0]
    if np.ndim(first) == 0:
        return [as_epochs(epochs)] * n_runs
    if len(epochs) != n_runs:
        raise ValueError(
            f"epochs must be one array shared by all runs or one per run; found {len(epochs)} "
            f"arrays for {n_runs} runs."
        )
    return [as_epochs(at) for at in epochs]


def _as_curve(curve: Any, layer: str, length: int, reference: int) -> np.ndarray:
    curve = np.asarray(curve, dtype=float)
    if curve.shape != (length,):
        raise ValueError(
            f"the curve of {layer!r} has shape {curve.shape}; expected ({length},), one distance "
            "per checkpoint of epochs."
        )
    if not np.isfinite(curve).all():
        raise ValueError(f"the curve of {layer!r} holds NaN or infinite distances.")
    if abs(curve[reference]) > _REFERENCE_TOLERANCE * max(1.0, np.abs(curve).max()):
        raise ValueError(
            f"the curve of {layer!r} is {curve[reference]:.3g} at its reference checkpoint "
            f"{reference}, not 0: it was computed against another checkpoint. Key the curves by "
            "the index of the checkpoint they are measured against."
        )
    return curve
