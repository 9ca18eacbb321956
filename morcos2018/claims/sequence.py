"""Appendix A3 and A4: an LSTM's representation over the steps of a sequence.

A3: the representation of a layer at step j, over many sequences (rows: sequences, columns:
units), is compared with the same layer at the last step. The paper finds CCA relates the steps
where cosine and Euclidean distance, which compare neuron j with neuron j, see them as unrelated.
A4: one input repeated for 20 steps perturbs the representation.

Every distance is judged against its **chance level**: the same measure with the rows of the last
step permuted (:func:`cca.permutation_test`), i.e. unrelated layers of this n and these widths.
For CCA measures at n not far above the widths this is far from 0 (600 sequences of 128 + 128
units: PWCCA distance about 0.60), so a raw comparison such as "PWCCA below cosine" says nothing:
it holds for unrelated layers too.

A3 rules (declared), per layer (and per seed, when several are given; all must hold):

- the measure (PWCCA distance) relates step j to the last step: permutation ``p <= alpha``
  **and** the distance is at least ``min_above_chance`` of the way from chance to identical
  (``above_chance`` of :class:`cca.PermutationResult`, default 0.1);
- each baseline (cosine, Euclidean distance) does *not* relate them clearly: its distance is less
  than ``min_above_chance`` of the way from its own chance level to identical. This is a size rule
  (an absence cannot be shown by a small p-value); the baseline's permutation p-value is reported
  in the test's ``reason``.

A4 rule (declared), per layer and repeat start: the change of the distance to the last step
at the last repeated step, ``d(repeated) - d(plain)``, is tested against a **condition-swap
null**: for random halves of the sequences, the plain and repeated versions are exchanged, and the
change recomputed. Under "the repeat changes nothing about how that step relates to the last" the
two versions of each sequence are exchangeable. It holds when the two-sided ``p <= alpha`` **and**
the change is at least ``min_change`` (default 0.02) in distance units.

A4 against chance (``require_below_chance=True``): a change of the distance to the last step
says something only where that distance, without the repetition, is itself clearly below its
chance level (permutation ``p <= alpha`` and at least ``min_above_chance`` of the way to
identical); where it is not, the layer and start are undecided, with that reason.

The curves, with their chance level. :func:`distances_with_chance` gives each layer's distance
from every step to the last one together with the chance level of that distance at each step
(the permutation null's mean and its 2.5-97.5% range), for the figures of A3 and A4 to draw the
band that a distance must leave to mean anything.

Units. The permutation and swap tests are over the sequences (rows), treated as exchangeable; the
probe's windows may overlap in the text stream, which this does not model. With activations of
several seeds, each seed is tested on its own and all must hold (seeds are not pooled).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

import cca
from morcos2018.claims import evidence

#: The measure claimed to relate the steps, and the baselines claimed not to (Appendix A3).
MEASURE = "pwcca_distance"
BASELINES = ("cosine_distance", "euclidean_distance")
#: Declared: share of the way from chance to identical that counts as "clearly related".
MIN_ABOVE_CHANCE = 0.1
#: Declared: row permutations of the chance level (smallest p = 1 / 1001).
N_PERMUTATIONS = 1000
#: Declared: smallest change of the distance to the last step that counts as a perturbation.
MIN_CHANGE = 0.02
#: Row permutations per step of the chance band of :func:`distances_with_chance` (a band, not a
#: test: 200 give its 2.5-97.5% range to about +-0.01 for PWCCA at 600 x 128).
N_CURVE_PERMUTATIONS = 200
#: Declared: condition swaps of the A4 null (smallest p = 1 / 101). Each swap computes the
#: measure twice (about 2 x 16 ms for 600 x 128 PWCCA on an idle core).
N_SWAPS = 100


A3_CLAIM = (
    "Appendix A3: over a sequence, CCA relates an LSTM layer's representation at a step to the "
    "last step (clearly below chance) where cosine and Euclidean distance do not"
)
A4_CLAIM = (
    "Appendix A4: one input repeated for several steps perturbs the representation's relation "
    "to the last step beyond chance"
)

Layers = Mapping[str, np.ndarray]  # {layer: activations (n_sequences, steps, units)}


def steps_related_to_last(
    activations: Layers | Sequence[Layers],
    *,
    step: int | None = None,
    measure: str = MEASURE,
    baselines: Sequence[str] = BASELINES,
    min_above_chance: float = MIN_ABOVE_CHANCE,
    alpha: float = evidence.ALPHA,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
) -> evidence.Verdict:
    """CCA relates step ``step`` to the last step, cosine and Euclidean do not (Appendix A3).

    Parameters
    ----------
    activations : mapping, or sequence of mappings (one per seed)
        ``{layer: activations}`` of shape ``(n_sequences, steps, units)``, as
        :func:`morcos2018.activations.layer_activations` returns for an LSTM; rows are the
        datapoints.
    step : int, optional
        The step compared with the last one (default: the middle step, ``steps // 2``).
    measure : str
        Distance claimed to relate the steps, a name of :func:`cca.permutation_test`
        (default ``"pwcca_distance"``; weights from step ``step``).
    baselines : sequence of str
        Distances claimed not to (default cosine and Euclidean distance).
    min_above_chance : float
        Declared share of the way from chance to identical that counts as clearly related.
    alpha : float
        Significance level of the permutation tests.
    n_permutations : int
        Row permutations per chance level.
    seed : int
        Seed of the permutations.

    Returns
    -------
    Verdict
        Per seed and layer, one test for ``measure`` and one per baseline (see the module
        docstring). ``value`` is the distance, ``null_value`` its chance level, ``effect`` chance
        minus distance, ``interval`` the effect against the 2.5-97.5% range of the null.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> unrelated = {"lstm1": rng.normal(size=(200, 8, 4))}  # steps independent of each other
    >>> steps_related_to_last(unrelated, n_permutations=99).holds
    False
    """
    seeds = _per_seed(activations, "activations")
    _check_measures([measure, *baselines])
    _check_share(min_above_chance)
    tests = []
    for index, layers in enumerate(seeds):
        prefix = f"seed {index}, " if len(seeds) > 1 else ""
        for layer, acts in layers.items():
            acts = _check_activations(acts, layer)
            at = acts.shape[1] // 2 if step is None else _check_step(step, acts.shape[1])
            x, last = acts[:, at, :], acts[:, -1, :]
            for name in (measure, *baselines):
                result = evidence.permutation_null(x, last, name, n_permutations, seed)
                tests.append(
                    _related_test(result, name, claimed=name == measure, step=at, label=prefix
                                  + layer, min_share=min_above_chance, alpha=alpha, n=len(x))
                )
    return evidence.Verdict(A3_CLAIM, tuple(tests))


def repeated_input_perturbs(
    plain: Layers | Sequence[Layers],
    repeated: Mapping[int, Layers] | Sequence[Mapping[int, Layers]],
    repeat_length: int,
    *,
    measure: str = MEASURE,
    min_change: float = MIN_CHANGE,
    alpha: float = evidence.ALPHA,
    n_swaps: int = N_SWAPS,
    seed: int = 0,
    require_below_chance: bool = False,
    min_above_chance: float = MIN_ABOVE_CHANCE,
    n_permutations: int = N_PERMUTATIONS,
) -> evidence.Verdict:
    """A repeated input changes how the representation relates to the last step (Appendix A4).

    For each layer and repeat start s, at the last repeated step t = s + repeat_length - 1:
    change = ``measure(repeated[:, t], repeated[:, -1]) - measure(plain[:, t], plain[:, -1])``,
    against the condition-swap null (module docstring). Holds when two-sided ``p <= alpha`` and
    ``|change| >= min_change``; the verdict holds when every (seed,) layer and start holds.

    Parameters
    ----------
    plain : mapping, or sequence of mappings (one per seed)
        ``{layer: activations (n_sequences, steps, units)}`` on the unchanged sequences.
    repeated : mapping, or sequence of mappings (one per seed)
        ``{start: {layer: activations}}`` on the same sequences with the token at ``start``
        repeated ``repeat_length`` times (:func:`morcos2018.lm_probes.repeat_token`).
    repeat_length : int
        Number of steps the input is repeated.
    measure : str
        Distance to the last step (default ``"pwcca_distance"``).
    min_change : float
        Declared smallest change, in the measure's units (default 0.02).
    alpha : float
        Significance level.
    n_swaps : int
        Random condition swaps of the null.
    seed : int
        Seed of the swaps (and of the permutations of ``require_below_chance``).
    require_below_chance : bool
        Decide a layer and start only where the plain distance at step t is clearly below its
        chance level (module docstring); elsewhere the test is undecided.
    min_above_chance : float
        Declared share of the way from chance to identical that counts as clearly below
        chance (``require_below_chance`` only).
    n_permutations : int
        Row permutations of that chance level (``require_below_chance`` only).

    Returns
    -------
    Verdict
        One test per (seed,) layer and start, named ``"<layer>, repeat from step <s>"``; ``value``
        and ``effect`` are the change, ``null_value`` the null's mean change.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> plain = {"lstm1": rng.normal(size=(100, 6, 3))}
    >>> noisy = {"lstm1": plain["lstm1"] + rng.normal(0, 0.01, (100, 6, 3))}
    >>> repeated_input_perturbs(plain, {1: noisy}, 2, n_swaps=19).holds
    False
    """
    plains = _per_seed(plain, "plain")
    repeats = _per_seed(repeated, "repeated")
    if len(plains) != len(repeats):
        raise ValueError(
            f"plain and repeated must hold the same seeds; found {len(plains)} and {len(repeats)}."
        )
    _check_measures([measure])
    distance = cca.registry.MEASURES[measure].function
    if not (isinstance(repeat_length, (int, np.integer)) and repeat_length >= 1):
        raise ValueError(f"repeat_length must be a positive int; found {repeat_length!r}.")
    rng = np.random.default_rng(seed)
    tests = []
    for index, (layers, by_start) in enumerate(zip(plains, repeats, strict=True)):
        prefix = f"seed {index}, " if len(plains) > 1 else ""
        for start, repeated_layers in by_start.items():
            for layer, acts in layers.items():
                acts = _check_activations(acts, layer)
                if layer not in repeated_layers:
                    raise ValueError(f"repeated[{start}] has no activations for {layer!r}.")
                other = _check_activations(repeated_layers[layer], layer)
                if other.shape != acts.shape:
                    raise ValueError(
                        f"{layer!r}: repeated activations have shape {other.shape}, plain "
                        f"{acts.shape}; they must be the same sequences."
                    )
                at = _check_step(int(start) + int(repeat_length) - 1, acts.shape[1])
                test = _swap_test(acts, other, at, distance, measure, rng, n_swaps, alpha,
                                  min_change, f"{prefix}{layer}, repeat from step {start}")
                if require_below_chance:
                    test = _unless_at_chance(test, acts, at, measure, min_above_chance, alpha,
                                             n_permutations, seed)
                tests.append(test)
    return evidence.Verdict(A4_CLAIM, tuple(tests))


def distances_with_chance(
    activations: Layers,
    measures: Sequence[str] = (MEASURE, *BASELINES),
    *,
    steps: Sequence[int] | None = None,
    n_permutations: int = N_CURVE_PERMUTATIONS,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Each layer's distance from every step to the last step, with its chance level per step.

    The A3 and A4 curves with the band a distance must leave to mean anything: at each step
    ``j``, the measure between step ``j`` and the last step (rows: sequences), and the same
    measure with the rows of the last step permuted (:func:`cca.permutation_test`).

    Parameters
    ----------
    activations : mapping
        ``{layer: activations (n_sequences, steps, units)}`` of one network.
    measures : sequence of str
        Distances of :func:`cca.permutation_test` (default PWCCA, cosine and Euclidean).
    steps : sequence of int, optional
        Steps compared with the last one (default every step before it).
    n_permutations : int
        Row permutations per step and measure.
    seed : int
        Seed of the permutations.

    Returns
    -------
    dict
        ``{layer: {measure: {"steps", "distance", "chance", "chance_low", "chance_high",
        "pvalue", "above_chance"}}}``, arrays over ``steps``: the distance, the null's mean and
        2.5% and 97.5% quantiles, the one-sided permutation p-value (more similar than chance)
        and the share of the way from chance to identical.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> acts = rng.normal(size=(100, 4, 3))
    >>> acts[:, 2] = acts[:, 3] + 0.1 * rng.normal(size=(100, 3))  # step 2 ~ the last step
    >>> curves = distances_with_chance({"lstm1": acts}, ["pwcca_distance"], n_permutations=49)
    >>> band = curves["lstm1"]["pwcca_distance"]
    >>> (band["above_chance"] > 0.5).tolist()  # only step 2 is related to the last step
    [False, False, True]
    """
    _check_measures(list(measures))
    result: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for layer, acts in activations.items():
        acts = _check_activations(acts, layer)
        at = list(range(acts.shape[1] - 1)) if steps is None else [
            _check_step(int(step), acts.shape[1]) for step in steps
        ]
        result[layer] = {}
        for name in measures:
            nulls = [evidence.permutation_null(acts[:, j], acts[:, -1], name, n_permutations,
                                               seed) for j in at]
            result[layer][name] = {
                "steps": np.array(at),
                "distance": np.array([r.statistic for r in nulls]),
                "chance": np.array([r.null_mean for r in nulls]),
                "chance_low": np.array([np.quantile(r.null_distribution, 0.025) for r in nulls]),
                "chance_high": np.array([np.quantile(r.null_distribution, 0.975)
                                         for r in nulls]),
                "pvalue": np.array([r.pvalue for r in nulls]),
                "above_chance": np.array([r.above_chance for r in nulls]),
            }
    return result


def steps_clearly_below_chance(
    band: Mapping[str, np.ndarray], *, min_share: float = MIN_ABOVE_CHANCE,
    alpha: float = evidence.ALPHA,
) -> list[int]:
    """The steps of one curve of :func:`distances_with_chance` (``curves[layer][measure]``) whose
    distance to the last step is clearly below chance, by the rule A3's and A4's tests apply:
    permutation p <= ``alpha`` and at least ``min_share`` of the way from chance to identical.

    Examples
    --------
    >>> band = {"steps": np.array([0, 3, 6]), "pvalue": np.array([0.5, 0.01, 0.01]),
    ...         "above_chance": np.array([0.0, 0.05, 0.4])}
    >>> steps_clearly_below_chance(band)
    [6]
    """
    _check_share(min_share)
    return [int(step) for step, p, share in
            zip(band["steps"], band["pvalue"], band["above_chance"], strict=True)
            if _clearly_below(p, share, min_share, alpha)]


def _clearly_below(pvalue: float, share: float, min_share: float, alpha: float) -> bool:
    """A3's and A4's rule: significant and at least ``min_share`` of the way (NaN: no)."""
    return bool(pvalue <= alpha and share >= min_share)


def _unless_at_chance(
    test: evidence.Evidence, plain: np.ndarray, step: int, measure: str, min_share: float,
    alpha: float, n_permutations: int, seed: int,
) -> evidence.Evidence:
    """``test``, or the same numbers undecided where the plain distance at ``step`` is not
    clearly below its chance level (its change then cannot be read)."""
    result = evidence.permutation_null(plain[:, step], plain[:, -1], measure, n_permutations,
                                       seed)
    share = result.above_chance
    if _clearly_below(result.pvalue, share, min_share, alpha):
        return test
    return dataclasses.replace(test, holds=None, reason=(
        f"the distance without repetition, {result.statistic:.3g}, is not clearly below its "
        f"chance level {result.null_mean:.3g} ({share:.1%} of the way to identical, permutation "
        f"p = {result.pvalue:.3g}; needed p <= {alpha} and {min_share:.0%}): a change of it "
        "cannot be read"
    ))


def _related_test(
    result: cca.PermutationResult, name: str, *, claimed: bool, step: int, label: str,
    min_share: float, alpha: float, n: int,
) -> evidence.Evidence:
    """Evidence that ``name`` does (claimed) or does not (baseline) relate the steps."""
    share = result.above_chance
    null = result.null_distribution
    effect = result.null_mean - result.statistic
    interval = (float(np.quantile(null, 0.025) - result.statistic),
                float(np.quantile(null, 0.975) - result.statistic))
    null_text = (
        f"chance level: {name} with the rows of the last step permuted "
        f"({len(null)} permutations, sd {result.null_std:.3g})"
    )
    statistic = f"{name} between step {step} and the last step, {n} sequences"
    # "at least min_share of the way": d <= (1 - min_share) x chance, row permutation by row
    boundary = (1 - min_share) * np.asarray(null, dtype=float)
    contrary = (f"the distance above {1 - min_share:g} x the chance level (short of "
                f"{min_share:.0%} of the way), over the same permutations")
    contrary_pvalue = evidence.null_pvalue(result.statistic, boundary, "greater", exact=False)
    if claimed:
        rule = f"at least {min_share:.0%} of the way from chance to identical"
        holds, reason = evidence.decide(
            result.pvalue, 1 / (1 + len(null)), alpha, bool(share >= min_share), rule,
            contrary_pvalue,
        )
        if holds is not True and result.pvalue <= alpha:
            reason = f"{reason} (it is {share:.1%} of the way)"
        pvalue = result.pvalue
        name_text = f"{label}: {name} relates step {step} to the last step"
    else:
        holds, reason = _control_outcome(share, min_share, result.pvalue, alpha)
        pvalue, contrary = None, ""
        contrary_pvalue = None
        name_text = f"{label}: {name} does not clearly relate step {step} to the last step"
    return evidence.Evidence(
        name=name_text,
        statistic=statistic,
        value=result.statistic,
        null=null_text,
        null_value=result.null_mean,
        pvalue=pvalue,
        units=n,
        unit="sequences",
        effect=effect,
        interval=interval,
        holds=holds,
        reason=reason,
        contrary=contrary,
        contrary_pvalue=contrary_pvalue,
    )


def _control_outcome(share: float, min_share: float, pvalue: float, alpha: float
                     ) -> tuple[bool | None, str]:
    """A control measure that should *not* clearly relate the steps: a size rule, no test of an
    absence. Below ``min_share`` of the way it holds (by the rule, not by a test); at or above it
    with permutation ``p <= alpha`` the control relates the steps clearly (contradicted);
    otherwise inconclusive. A NaN share (chance already best) counts as below."""
    below = not bool(share >= min_share)
    where = f"{share:.1%} of the way from chance to identical"
    if below:
        return True, (f"size rule only, no test of an absence: {where} (below {min_share:.0%}); "
                      f"permutation p = {pvalue:.3g}")
    if pvalue <= alpha:
        return False, (f"contradicted: {where} (at or above {min_share:.0%}) with permutation "
                       f"p = {pvalue:.3g} <= alpha = {alpha}")
    return None, (f"inconclusive: {where} (at or above {min_share:.0%}) but permutation "
                  f"p = {pvalue:.3g} > alpha = {alpha}")


def _swap_test(
    plain: np.ndarray, repeated: np.ndarray, step: int, distance: Callable[[Any, Any], float],
    measure: str, rng: np.random.Generator, n_swaps: int, alpha: float, min_change: float,
    name: str,
) -> evidence.Evidence:
    """Change of ``distance(step, last)`` from plain to repeated, against condition swaps.

    :func:`scipy.stats.permutation_test` with ``permutation_type="samples"``: the units are the
    sequences, and a swap exchanges a sequence's plain and repeated versions (both steps
    together). Two-sided: the statistic compared with the null is ``|change|``.
    """
    n = len(plain)
    at_step = np.concatenate([plain[:, step, :], repeated[:, step, :]])
    at_last = np.concatenate([plain[:, -1, :], repeated[:, -1, :]])

    def change(repeated_rows: np.ndarray, plain_rows: np.ndarray) -> float:
        repeated_rows, plain_rows = repeated_rows.astype(int), plain_rows.astype(int)
        return (distance(at_step[repeated_rows], at_last[repeated_rows])
                - distance(at_step[plain_rows], at_last[plain_rows]))

    rows = (np.arange(n) + n, np.arange(n))  # row i + n: sequence i repeated; row i: plain
    observed = change(*rows)
    tie = 1e-9 * max(1.0, abs(observed))

    def size(repeated_rows: np.ndarray, plain_rows: np.ndarray) -> float:
        value = abs(change(repeated_rows, plain_rows))
        return abs(observed) if abs(value - abs(observed)) <= tie else value  # ties count

    result = scipy_stats.permutation_test(
        rows, size, permutation_type="samples", alternative="greater", n_resamples=n_swaps,
        vectorized=False, rng=rng,
    )
    null = result.null_distribution
    pvalue = float(result.pvalue)
    # Against the claim: |change| significantly below min_change, reading the swaps' spread
    # of |change| as the change's sampling spread (the margin of error of the observed change).
    contrary_pvalue = evidence.null_pvalue(min_change - abs(observed), null, "greater",
                                           exact=False)
    holds, reason = evidence.decide(
        pvalue, evidence.smallest_pvalue(null, "greater", exact=False), alpha,
        bool(abs(observed) >= min_change), f"|change| at least {min_change}", contrary_pvalue,
    )
    high = float(np.quantile(null, 0.95))
    return evidence.Evidence(
        name=name,
        statistic=(
            f"{measure}(step {step}, last step) with the repeated input minus without, "
            f"{n} sequences"
        ),
        value=observed,
        null=(
            f"plain and repeated versions of random halves of the sequences swapped ({n_swaps} "
            f"swaps; 95% of the null's |change| below {high:.3g}); two-sided"
        ),
        null_value=float(null.mean()),
        pvalue=pvalue,
        units=n,
        unit="sequences",
        effect=observed,
        interval=None,
        holds=holds,
        reason=reason,
        contrary=(f"|change| below {min_change} by more than the swaps' spread of |change| "
                  "(the swap null read as the change's margin of error)"),
        contrary_pvalue=contrary_pvalue,
    )


def _per_seed(value: Any, name: str) -> list[Mapping[Any, Any]]:
    if isinstance(value, Mapping):
        return [value]
    seeds = list(value)
    if not seeds or not all(isinstance(v, Mapping) for v in seeds):
        raise ValueError(
            f"{name} must be a mapping (one seed) or a non-empty sequence of mappings (one per "
            f"seed); found {type(value).__name__}."
        )
    return seeds


def _check_measures(names: Sequence[str]) -> None:
    unknown = [name for name in names if name not in cca.registry.DISTANCES]
    if unknown:
        raise ValueError(
            f"measures {unknown} are not distances of cca.permutation_test; use one of "
            f"{list(cca.registry.DISTANCES)}."
        )


def _check_share(share: float) -> None:
    if not 0 < share < 1:
        raise ValueError(
            f"min_above_chance must be in (0, 1), a share of the way from chance to identical; "
            f"found {share!r}."
        )


def _check_activations(acts: Any, layer: str) -> np.ndarray:
    acts = np.asarray(acts)
    if acts.ndim != 3 or acts.shape[1] < 2:
        raise ValueError(
            f"activations of {layer!r} must have shape (n_sequences, steps >= 2, units), as "
            f"activations.layer_activations returns; found {acts.shape}."
        )
    return acts


def _check_step(step: int, steps: int) -> int:
    if not 0 <= step < steps - 1:
        raise ValueError(
            f"step {step} must be before the last step of the {steps}-step sequences "
            f"(0 .. {steps - 2}); for a repeat, start + repeat_length - 1 must be."
        )
    return step


# --------------------------------------------------------------------------- measured numbers
# The numbers figA3_A4_sequence.ipynb records beside each verdict (record_claim's ``measured``).


def steps_related_measured(related: evidence.Verdict, plain: Mapping[str, Mapping[str, Any]],
                           below: Mapping[str, Any], step: int, layers: Sequence[str],
                           measures: Sequence[str]) -> dict:
    """Appendix A3: each layer's distance to the last step at ``step`` under every measure,
    PWCCA's chance level there, and how far each test's statistic lies from chance.

    Parameters
    ----------
    related : Verdict
        :func:`steps_related_to_last` at ``step``; its tests with a p-value are the PWCCA tests,
        one per layer in the order of ``layers``.
    plain : mapping
        ``{layer: {measure: distance to the last step per step}}``.
    below : mapping
        ``{layer: steps clearly below chance}`` (:func:`steps_clearly_below_chance`).
    step : int
        The step compared with the last step.
    layers, measures : sequence of str
        The layers and measures.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> related = T(tests=[T(name="lstm1", value=0.2, null_value=0.8, pvalue=0.01)])
    >>> m = steps_related_measured(related, {"lstm1": {"pwcca_distance": [0.5, 0.2, 0.0]}},
    ...                            {"lstm1": [1]}, 1, ["lstm1"], ["pwcca_distance"])
    >>> m["share of the way from chance to identical, per test"]
    {'lstm1': 0.75}
    """
    chance = dict(zip(layers, (test.null_value for test in related.tests
                               if test.pvalue is not None), strict=True))
    return {
        "step compared with the last step": step,
        "distance to the last step at that step, per layer and measure":
            {layer: {m: round(float(plain[layer][m][step]), 3) for m in measures}
             for layer in layers},
        "chance level of the PWCCA distance at that step, per layer":
            {layer: round(float(chance[layer]), 3) for layer in layers},
        "steps clearly below chance under PWCCA (p <= 0.05, >= 10% of the way), per layer": below,
        "share of the way from chance to identical, per test":
            {test.name: round(1 - test.value / test.null_value, 3) + 0.0  # no -0.0
             for test in related.tests},
    }


def repeated_input_measured(perturbs: evidence.Verdict,
                            plain: Mapping[str, Mapping[str, np.ndarray]],
                            repeated: Mapping[int, Mapping[str, np.ndarray]],
                            repeat_length: int) -> dict:
    """Appendix A4: each test's change of the PWCCA distance to the last step, and the largest
    signed change during each repetition (descriptive).

    Parameters
    ----------
    perturbs : Verdict
        :func:`repeated_input_perturbs`.
    plain : mapping
        ``{layer: {"pwcca_distance": distance per step}}`` without repetition.
    repeated : mapping
        ``{start: {layer: PWCCA distance per step}}`` with the input repeated from ``start``.
    repeat_length : int
        Steps the input is repeated for.

    Returns
    -------
    dict

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> plain = {"lstm1": {"pwcca_distance": np.array([0.5, 0.4, 0.0])}}
    >>> m = repeated_input_measured(T(tests=[]), plain, {0: {"lstm1": np.array([0.5, 0.7, 0.0])}},
    ...                             2)
    >>> m["largest signed change during the repetition (descriptive)"]
    {'lstm1, repeat from step 0': 0.3}
    """
    largest = {}
    for start, by_layer in repeated.items():
        for layer, curve in by_layer.items():
            during = (curve - plain[layer]["pwcca_distance"])[start:start + repeat_length]
            largest[f"{layer}, repeat from step {start}"] = round(
                float(during[np.argmax(np.abs(during))]), 3)
    return {"repeat length": repeat_length,
            "repeat starts": list(repeated),
            "change of the PWCCA distance to the last step at the last repeated step, per test":
                {test.name: round(test.value, 3) for test in perturbs.tests},
            "largest signed change during the repetition (descriptive)": largest}
