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

A3's probe (:data:`A3_PROBE`, :func:`unseen_documents`, :func:`aligned_windows`): the default
corpus is Debian's fortunes, short texts (median 21 tokens among those the model never read).
Each window starts at a fortune's first token and spans :data:`ALIGNED_LENGTH` = 20 tokens of a
fortune that holds at least 20, and step :data:`ALIGNED_STEP` = 10 is compared with the last
step: both steps read the same fortune. (The published probe, 60-token windows at random
positions, compared steps 30 and 59, mostly of different fortunes; A4 still uses it.)

A3 rules (:data:`A3_RULE`), per layer (and per seed, when several are given; all must hold):

- the measure (PWCCA) relates step j to the last step: its plain permutation ``p <= alpha``
  **and** its held-out share, :func:`cca.heldout_similarity` (:data:`HELDOUT_FOLDS` folds: about
  0 for unrelated layers at any n, 1 for identical ones, so it *is* the share of the way from
  chance to identical, without the plain measure's chance floor), above ``min_above_chance``
  (0.1) by a paired bootstrap over sequences (:data:`N_BOOTSTRAP` resamples, every copy of a
  sequence in one fold, centered on the statistic); contradicted when the bootstrap puts it below
  0.1 at ``alpha``;
- per baseline (cosine, Euclidean distance), the contrast "held-out share of PWCCA minus the
  baseline's share of the way from its chance level to identical, ``1 - d / chance``" above 0 by
  the same bootstrap (the same resamples: paired); contradicted when below 0 at ``alpha``. The
  held-out share is pulled down a little at finite n (:mod:`cca.heldout`), the baselines' shares
  are not, so the contrast errs against the claim. Euclidean distance's share is not linear in
  a correlation; it is reported on the same scale as before.

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

Units. The permutation, bootstrap and swap tests are over the sequences (rows), treated as
exchangeable; A4's windows may overlap in the text stream, which this does not model (A3's are
distinct fortunes). With activations of
several seeds, each seed is tested on its own and all must hold (seeds are not pooled).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats as scipy_stats

import cca
from cca import heldout as cca_heldout
from morcos2018 import text
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
#: Declared: folds of the held-out CCA whose share A3 tests (5: each fit on 4/5 of 2,500
#: sequences, 2,000 rows for 128 + 128 units).
HELDOUT_FOLDS = 5
#: Declared: resamples of A3's paired bootstrap over sequences (smallest p = 1 / 201; each
#: resample costs HELDOUT_FOLDS CCA fits).
N_BOOTSTRAP = 200
#: Declared: A3's windows, aligned to a fortune's first token, span this many steps: about the
#: median length of the fortunes the model never read (21 tokens; 55% of them reach 20), so
#: that step j and the last step read the same fortune.
ALIGNED_LENGTH = 20
#: Declared: the step A3 compares with the last step (19): the middle of the window.
ALIGNED_STEP = 10
#: Declared: A3's probe.
A3_PROBE = (
    "windows of ALIGNED_LENGTH tokens starting at the first token of fortunes the model never "
    "read (all validation fortunes and the training fortunes beyond max_train_tokens) that hold "
    "at least that many tokens, n_sequences of them drawn at random; step ALIGNED_STEP against "
    "the last step"
)
#: Declared: A3's tests, per layer.
A3_RULE = (
    "PWCCA relates the steps: plain permutation p <= alpha and held-out PWCCA (HELDOUT_FOLDS "
    "folds; chance 0, identical 1) above MIN_ABOVE_CHANCE by a paired bootstrap over sequences "
    "(contradicted below it); per baseline, held-out PWCCA share minus the baseline's share "
    "(1 - d / chance) above 0 by the same bootstrap (contradicted below 0)"
)
#: Declared: condition swaps of the A4 null (smallest p = 1 / 101). Each swap computes the
#: measure twice (about 2 x 16 ms for 600 x 128 PWCCA on an idle core).
N_SWAPS = 100


A3_CLAIM = (
    "Appendix A3: over a sequence, CCA relates an LSTM layer's representation at a step to the "
    "last step (clearly, on held-out sequences), and more than cosine and Euclidean distance do"
)
A4_CLAIM = (
    "Appendix A4: one input repeated for several steps perturbs the representation's relation "
    "to the last step beyond chance"
)

# The held-out form of each CCA distance A3 can test.
_HELDOUT_FORMS = {"pwcca_distance": "pwcca", "mean_cca_distance": "mean_cca"}

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
    folds: int = HELDOUT_FOLDS,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> evidence.Verdict:
    """CCA relates step ``step`` to the last step, more than cosine and Euclidean do (Appendix A3).

    Per (seed and) layer, with x the representation at ``step`` and y at the last step (rows:
    sequences), three kinds of test (module docstring, :data:`A3_RULE`):

    1. ``measure`` relates the steps clearly: its plain permutation p <= ``alpha`` **and** its
       held-out share s (:func:`cca.heldout_similarity` of x and y, ``folds`` folds: the share of
       the way from chance, 0, to identical, 1) beyond ``min_above_chance`` by a paired bootstrap
       over sequences (p = the larger of the two); contradicted when the bootstrap puts s below
       ``min_above_chance`` at ``alpha``;
    2. per baseline, the contrast s - s_b > 0, s_b = 1 - d_b / c_b the baseline's share (d_b its
       distance, c_b its row-permutation chance level), by the same bootstrap; contradicted when
       the contrast is below 0 at ``alpha``.

    Parameters
    ----------
    activations : mapping, or sequence of mappings (one per seed)
        ``{layer: activations}`` of shape ``(n_sequences, steps, units)``, as
        :func:`morcos2018.activations.layer_activations` returns for an LSTM; rows are the
        datapoints (for A3: windows aligned to document starts, :func:`aligned_windows`).
    step : int, optional
        The step compared with the last one (default: the middle step, ``steps // 2``).
    measure : {"pwcca_distance", "mean_cca_distance"}
        The CCA distance claimed to relate the steps; its held-out form gives the share.
    baselines : sequence of str
        Distances of :func:`cca.permutation_test` contrasted with it (default cosine and
        Euclidean distance).
    min_above_chance : float
        Declared held-out share that counts as clearly related.
    alpha : float
        Significance level.
    n_permutations : int
        Row permutations of each chance level.
    folds : int
        Folds of the held-out CCA.
    n_bootstrap : int
        Resamples of the paired bootstrap over sequences (each ``folds`` CCA fits).
    seed : int
        Seed of the permutations, folds and resamples.

    Returns
    -------
    Verdict
        Per seed and layer, one test of ``measure`` and one contrast per baseline. The first has
        ``value`` the held-out share and ``null_value`` 0 (its chance level); a contrast has
        ``value`` the contrast, ``null_value`` 0. ``effect`` is the value minus the boundary it
        is tested against (``min_above_chance`` for the share, 0 for a contrast) and
        ``interval`` the centered bootstrap 95% interval of that effect.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> unrelated = {"lstm1": rng.normal(size=(200, 8, 4))}  # steps independent of each other
    >>> steps_related_to_last(unrelated, n_permutations=99, n_bootstrap=39).holds is True
    False
    """
    seeds = _per_seed(activations, "activations")
    _check_measures([measure, *baselines])
    if measure not in _HELDOUT_FORMS:
        raise ValueError(f"measure must be one of {list(_HELDOUT_FORMS)} (a CCA distance with a "
                         f"held-out form); found {measure!r}.")
    _check_share(min_above_chance)
    tests = []
    for index, layers in enumerate(seeds):
        prefix = f"seed {index}, " if len(seeds) > 1 else ""
        for layer, acts in layers.items():
            acts = _check_activations(acts, layer)
            at = acts.shape[1] // 2 if step is None else _check_step(step, acts.shape[1])
            tests += _related_tests(
                acts[:, at, :], acts[:, -1, :], measure, list(baselines), label=prefix + layer,
                step=at, min_share=min_above_chance, alpha=alpha, n_permutations=n_permutations,
                folds=folds, n_bootstrap=n_bootstrap, seed=seed,
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


def _related_tests(
    x: np.ndarray, last: np.ndarray, measure: str, baselines: list[str], *, label: str,
    step: int, min_share: float, alpha: float, n_permutations: int, folds: int,
    n_bootstrap: int, seed: int,
) -> list[evidence.Evidence]:
    """A3's tests of one layer: the measure's held-out share, then one contrast per baseline."""
    n, form = len(x), _HELDOUT_FORMS[measure]
    relation = evidence.permutation_null(x, last, measure, n_permutations, seed)
    chance = {b: evidence.permutation_null(x, last, b, n_permutations, seed).null_mean
              for b in baselines}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cca.DegenerateCCAWarning)
        share = cca.heldout_similarity(x, last, form, folds=folds, n_resamples=0,
                                       seed=seed).statistic
        shares = _paired_bootstrap(x, last, form, baselines, chance, folds, n_bootstrap,
                                   np.random.default_rng(seed))
    observed = np.array([share, *(share - _baseline_share(x, last, b, chance[b])
                                  for b in baselines)])
    boot = np.column_stack([shares[:, 0], shares[:, :1] - shares[:, 1:]])
    centered = boot - boot.mean(axis=0) + observed  # the bootstrap's spread about the statistic
    between = f"between step {step} and the last step, {n} sequences"
    bootstrap = (f"paired bootstrap over the sequences ({n_bootstrap} resamples, the copies of a "
                 "sequence in one fold), centered on the statistic")
    tests = [_bootstrap_test(
        f"{label}: {measure} relates step {step} to the last step (held-out share)",
        f"held-out {form} ({folds} folds) {between}: the share of the way from chance (0) to "
        "identical (1)",
        observed[0], centered[:, 0], min_share, alpha, n,
        null=(f"the declared share {min_share:g}, by the {bootstrap}; and the plain {measure}, "
              f"{relation.statistic:.3g}, against its chance level {relation.null_mean:.3g} "
              f"({len(relation.null_distribution)} row permutations, p = {relation.pvalue:.3g})"),
        relation=relation,
    )]
    for column, name in enumerate(baselines, start=1):
        tests.append(_bootstrap_test(
            f"{label}: {measure} relates step {step} to the last step more than {name}",
            f"held-out share of {form} minus the share of {name} (1 - distance / chance, chance "
            f"{chance[name]:.3g} from {n_permutations} row permutations) {between}",
            observed[column], centered[:, column], 0.0, alpha, n,
            null=f"contrast 0 (no advantage of CCA), by the {bootstrap}",
        ))
    return tests


def _bootstrap_test(
    name: str, statistic: str, observed: float, centered: np.ndarray, boundary: float,
    alpha: float, n: int, *, null: str, relation: cca.PermutationResult | None = None,
) -> evidence.Evidence:
    """Evidence that ``observed`` exceeds ``boundary`` by the centered bootstrap ``centered``
    (p: the share of it at or below ``boundary``) and, with ``relation``, that the plain measure
    relates the steps (intersection-union: p is the larger of the two); contrary: below
    ``boundary`` by the same bootstrap."""
    pvalue = evidence.null_pvalue(boundary, centered, "less", exact=False)
    contrary_pvalue = evidence.null_pvalue(boundary, centered, "greater", exact=False)
    smallest = 1 / (1 + len(centered))
    if relation is not None:
        pvalue = max(pvalue, relation.pvalue)
        smallest = max(smallest, 1 / (1 + len(relation.null_distribution)))
    holds, reason = evidence.decide(pvalue, smallest, alpha, contrary_pvalue=contrary_pvalue)
    if relation is not None and holds is not True:
        reason = f"{reason} (plain permutation p = {relation.pvalue:.3g})"
    return evidence.Evidence(
        name=name,
        statistic=statistic,
        value=float(observed),
        null=null,
        null_value=0.0,
        pvalue=pvalue,
        units=n,
        unit="sequences",
        effect=float(observed - boundary),
        interval=(float(np.quantile(centered, 0.025) - boundary),
                  float(np.quantile(centered, 0.975) - boundary)),
        holds=holds,
        reason=reason,
        contrary=f"the same bootstrap, below {boundary:g} (the smallest effect the claim needs)",
        contrary_pvalue=contrary_pvalue,
    )


def _paired_bootstrap(
    x: np.ndarray, last: np.ndarray, form: str, baselines: list[str], chance: Mapping[str, float],
    folds: int, n_bootstrap: int, rng: np.random.Generator,
) -> np.ndarray:
    """(n_bootstrap, 1 + baselines): per resample of the sequences, the held-out share and each
    baseline's share, all on the same resampled sequences."""
    n = len(x)
    result = np.empty((n_bootstrap, 1 + len(baselines)))
    for r in range(n_bootstrap):
        rows = rng.integers(0, n, size=n)
        result[r, 0] = _heldout_on_rows(x, last, rows, folds, rng, form)
        result[r, 1:] = [_baseline_share(x[rows], last[rows], b, chance[b]) for b in baselines]
    return result


def _heldout_on_rows(x: np.ndarray, y: np.ndarray, rows: np.ndarray, folds: int,
                     rng: np.random.Generator, form: str) -> float:
    """Held-out ``form`` (as :func:`cca.heldout_similarity`) of the rows ``rows``, which may
    repeat: each distinct row's copies lie in one fold, so no row is both fitted and measured."""
    distinct, which = np.unique(rows, return_inverse=True)
    fold_of = np.empty(len(distinct), dtype=np.intp)
    fold_of[rng.permutation(len(distinct))] = np.arange(len(distinct)) % folds
    fold_of_row = fold_of[which]
    total = 0.0
    for k in range(folds):
        test, train = rows[fold_of_row == k], rows[fold_of_row != k]
        fit = cca.cca(x[train], y[train])
        rho = cca_heldout.heldout_correlations(fit.project_x(x[test]), fit.project_y(y[test]))
        total += len(test) * float(rho.mean() if form == "mean_cca"
                                   else np.real(fit.x_weights) @ rho)
    return total / len(rows)


def _baseline_share(x: np.ndarray, y: np.ndarray, name: str, chance: float) -> float:
    """Share of the way from ``chance`` to identical of the distance ``name``: 1 - d / chance."""
    return 1.0 - cca.registry.MEASURES[name].function(x, y) / chance


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


# --------------------------------------------------------------------------- A3's aligned probe


def unseen_documents(corpus: text.TextCorpus, settings: Mapping[str, Any]) -> list[np.ndarray]:
    """Token ids of every document the language model never read, in corpus order.

    Fortunes: every validation fortune (not only the ``max_valid_tokens`` the corpus keeps) and
    every training fortune that starts after the ``max_train_tokens`` the model was trained on
    (the split and order of :func:`morcos2018.text.load_corpus`; the fortune cut by that limit is
    left out). PTB, WikiText-2: the validation stream's lines. Encoded with the model's
    vocabulary, without the ``<eos>`` that ends each.

    Parameters
    ----------
    corpus : TextCorpus
        The corpus the model was trained on (:func:`morcos2018.lm_training.corpus_from_config`).
    settings : mapping
        Its ``corpus`` table of the profile.

    Returns
    -------
    list of ndarray
    """
    if corpus.name != "fortunes":
        ends = np.flatnonzero(corpus.valid == corpus.vocabulary.eos_id)
        return [part[:-1] for part in np.split(corpus.valid, ends + 1)[:-1] if len(part) > 1]
    seed = int(settings.get("split_seed", 0))
    documents = [text.tokenize(f) for f in text.read_fortunes()]
    train, valid = text.split_documents(text.shuffled(documents, seed),
                                        float(settings.get("validation_fraction", 0.05)), seed)
    trained = settings.get("max_train_tokens")
    starts = np.cumsum([0] + [len(doc) + 1 for doc in train])  # each document and its <eos>
    first = len(train) if trained is None else int(np.searchsorted(starts, trained))
    return [corpus.vocabulary.encode(doc) for doc in [*train[first:], *valid] if doc]


def aligned_windows(documents: Sequence[np.ndarray], length: int, n_windows: int, seed: int = 0
                    ) -> np.ndarray:
    """The first ``length`` tokens of at most ``n_windows`` documents of at least ``length``
    tokens, drawn at random (seeded) and kept in corpus order: shape ``(windows, length)``.

    Every window starts at a document's first token and lies inside that one document, so step
    j and the last step of a row read the same text (Appendix A3 on short documents such as
    fortunes). Fewer windows than ``n_windows`` when fewer documents are long enough.

    Examples
    --------
    >>> docs = [np.arange(5), np.arange(2), np.arange(10, 14)]
    >>> aligned_windows(docs, 4, 10).tolist()
    [[0, 1, 2, 3], [10, 11, 12, 13]]
    """
    if not (isinstance(length, (int, np.integer)) and length >= 2):
        raise ValueError(f"length must be an int >= 2 (steps of a window); found {length!r}.")
    long_enough = [i for i, doc in enumerate(documents) if len(doc) >= length]
    if len(long_enough) < 2:
        raise ValueError(
            f"{len(long_enough)} of the {len(documents)} documents hold at least {length} "
            "tokens; choose a shorter length (document_lengths shows the distribution)."
        )
    chosen = np.random.default_rng(seed).choice(long_enough, min(n_windows, len(long_enough)),
                                                replace=False)
    return np.stack([documents[i][:length] for i in np.sort(chosen)]).astype(np.int32)


def document_lengths(documents: Sequence[np.ndarray], lengths: Sequence[int] = (10, 20, 30, 60)
                     ) -> dict:
    """The documents' length distribution in tokens: count, quartiles, 10% and 90% points, and
    the share that reaches each of ``lengths`` (what a window aligned to a document start may
    span).

    Examples
    --------
    >>> document_lengths([np.arange(k) for k in (5, 10, 20, 40)], (20,))["share reaching"]
    {20: 0.5}
    """
    sizes = np.array([len(doc) for doc in documents])
    quantiles = (0.1, 0.25, 0.5, 0.75, 0.9)
    return {"documents": len(sizes),
            "quantiles": {q: float(np.quantile(sizes, q)) for q in quantiles},
            "share reaching": {int(k): round(float(np.mean(sizes >= k)), 3) for k in lengths}}


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


def aligned_steps_measured(related: evidence.Verdict, lengths: Mapping[str, Any],
                           plain: Mapping[str, Mapping[str, Any]], below: Mapping[str, Any],
                           windows: np.ndarray, step: int, layers: Sequence[str],
                           measures: Sequence[str]) -> dict:
    """Appendix A3 on the aligned probe: the probe and the fortunes it came from, each layer's
    plain distances at ``step``, and each test's held-out share or contrast.

    Parameters
    ----------
    related : Verdict
        :func:`steps_related_to_last` at ``step``.
    lengths : mapping
        :func:`document_lengths` of the unseen documents.
    plain : mapping
        ``{layer: {measure: distance to the last step per step}}`` on the aligned windows.
    below : mapping
        ``{layer: steps clearly below chance}`` (:func:`steps_clearly_below_chance`).
    windows : ndarray, shape (sequences, steps)
        The aligned windows (:func:`aligned_windows`).
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
    >>> related = T(tests=[T(name="lstm1: share", value=0.123456)])
    >>> m = aligned_steps_measured(related, {"documents": 3}, {"lstm1": {"pwcca_distance":
    ...     [0.5, 0.2]}}, {"lstm1": []}, np.zeros((4, 3)), 0, ["lstm1"], ["pwcca_distance"])
    >>> m["held-out share (chance 0, identical 1) or contrast with a baseline, per test"]
    {'lstm1: share': 0.123}
    """
    return {
        "probe": A3_PROBE,
        "rule": A3_RULE,
        "lengths of the unseen documents in tokens": lengths,
        "sequences": int(windows.shape[0]),
        "window length": int(windows.shape[1]),
        "step compared with the last step": step,
        "plain distance to the last step at that step, per layer and measure":
            {layer: {m: round(float(plain[layer][m][step]), 3) for m in measures}
             for layer in layers},
        "steps clearly below chance under plain PWCCA (p <= 0.05, >= 10% of the way), per layer":
            below,
        "held-out share (chance 0, identical 1) or contrast with a baseline, per test":
            {test.name: round(test.value, 3) for test in related.tests},
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
