"""Every claim check calibrated by simulation: its size under realistic null data, its power.

Issue 24, part 2. For each check of :mod:`morcos2018.claims` (named as in
claims/register.toml), a :class:`Scenario` draws data the way the real data are made, once with
no effect (``null``) and once with the effect planted at the paper's size (``planted``), and
returns the verdict of the real check on them (nothing here re-implements a check).
:func:`calibrate` runs each scenario on many independent draws and reports:

- **size**: the share of null draws whose verdict holds (it should be at most ``alpha``);
- **power**: the share of planted draws whose verdict holds;
- the share of planted draws whose verdict is **contradicted** (a false contradiction);
- a one-sided binomial test of the size against ``alpha`` (its p-value and the 95% upper bound
  of the size, Clopper-Pearson);
- a check that holds on (nearly) every null draw is a **demonstration**: its outcome is fixed
  by construction, and it is never counted as evidence.

Where a check has a declared effect threshold (a "smallest effect of interest"), its null is a
composite, and the calibration that bounds its size is the least favourable point of it, on the
threshold itself; such scenarios say so (``variant``). The scales of the null data (the level of
a distance, the spread between networks and between pairs) come from the published default run,
findings/default.json; each generator's comment names the record it reads. Those records publish
group means, not the spread of single pairs: where a spread is not published, the comment says
what it was matched to.

Checks that compare activations with row-permutation or swap nulls (Figure 1 d-f, A2, A3, A4)
run here at small sizes (a few hundred datapoints, 8-16 neurons, 50 permutations) and with fewer
draws; their scenarios say so (``note``).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from morcos2018 import toys
from morcos2018.claims import (
    convergence,
    dynamics,
    language_model,
    learning_rate,
    memorization,
    sequence,
    width,
)
from morcos2018.claims import toys as toy_claims
from morcos2018.claims.evidence import ALPHA, Verdict

#: A check whose null verdict holds in at least this share of draws is a demonstration.
DEMONSTRATION_SHARE = 0.9
#: One-sided binomial level at which the table calls a size "above alpha".
FLAG_LEVEL = 0.01

Draw = Callable[[np.random.Generator], Verdict]


@dataclass(frozen=True)
class Scenario:
    """A check's null and planted data, each drawn by a function of a random generator.

    Attributes
    ----------
    check : str
        The check, named as in claims/register.toml (``"module.function"``).
    figure : str
        The paper's figure.
    units : str
        The independent units of one simulated data set (as in the default profile).
    null, planted : callable
        ``f(rng) -> Verdict``: draw one data set and return the real check's verdict on it.
    null_text, planted_text : str
        What the null and the planted data are, in words.
    variant : str
        Which null, where a check has more than one (e.g. the boundary of a threshold).
    draws : int or None
        Draws to use instead of the run's (for the expensive scenarios).
    note : str
        What else the table must say (small sizes, fewer draws).
    """

    check: str
    figure: str
    units: str
    null: Draw
    planted: Draw
    null_text: str
    planted_text: str
    variant: str = ""
    draws: int | None = None
    note: str = ""

    @property
    def key(self) -> str:
        """The check's name, with the variant in brackets where there is one."""
        return f"{self.check} [{self.variant}]" if self.variant else self.check


# --------------------------------------------------------------------------- shared generators


def _seed(rng: np.random.Generator) -> int:
    """A seed for the check's own permutations, so that they differ between draws."""
    return int(rng.integers(2**31))


def network_distances(
    rng: np.random.Generator,
    block_means: np.ndarray,
    labels: Sequence[int],
    network_sd: float,
    pair_sd: float,
) -> np.ndarray:
    """Distances between exchangeable networks: block mean + network effects + pair noise.

    ``d_ij = block_means[g_i, g_j] + u_i + u_j + e_ij`` with ``u_i ~ N(0, network_sd)`` (a
    network that is far from every other) and ``e_ij ~ N(0, pair_sd)``; symmetric, 0 on the
    diagonal, clipped to ``[0.001, inf)``. Networks of one group are exchangeable.

    Examples
    --------
    >>> d = network_distances(np.random.default_rng(0), np.array([[0.5]]), [0, 0, 0], 0.02, 0.03)
    >>> d.shape, bool(np.allclose(d, d.T)), float(d[0, 0])
    ((3, 3), True, 0.0)
    """
    groups = np.asarray(labels)
    n = len(groups)
    effects = rng.normal(0, network_sd, n)
    noise = np.triu(rng.normal(0, pair_sd, (n, n)), 1)
    matrix = block_means[np.ix_(groups, groups)] + effects[:, None] + effects[None, :]
    matrix = np.maximum(matrix + noise + noise.T, 1e-3)
    np.fill_diagonal(matrix, 0.0)
    return matrix


# --------------------------------------------------------------------------- Figure 3, A5, A9, A10
# Fig 3 record (findings/default.json, "late-layer PWCCA distance, training data"): within
# generalizing 0.413, within memorizing 0.608, between 0.764; 4 + 4 networks (profile
# images.groups.networks). The record gives means only: the spread is taken as network sd 0.015
# and pair sd 0.03, which makes a group mean over 6 pairs vary by ~0.02, the size of the
# differences between nearly equal group means published in Fig 5's record (0.4717 vs 0.4768).
GROUPS = [0] * 4 + [1] * 4
GENERALIZING, MEMORIZING = range(4), range(4, 8)
NETWORK_SD, PAIR_SD = 0.015, 0.03


def _groups(within_gen: float, within_mem: float, between: float) -> np.ndarray:
    return np.array([[within_gen, between], [between, within_mem]])


def _figure3(rng, within_gen, within_mem, between) -> Verdict:
    d = network_distances(rng, _groups(within_gen, within_mem, between), GROUPS, NETWORK_SD,
                          PAIR_SD)
    return memorization.check_figure3(d, GENERALIZING, MEMORIZING, seed=_seed(rng))


def _a10(rng, within_gen) -> Verdict:
    # A10 record ("softmax PWCCA distance, test data"): within memorizing 0.909, between 0.904,
    # within generalizing 0.140.
    d = network_distances(rng, _groups(within_gen, 0.909, 0.904), GROUPS, NETWORK_SD, PAIR_SD)
    return memorization.check_a10_test_softmax(d, GENERALIZING, MEMORIZING, seed=_seed(rng))


#: Relative patterns (within generalizing, within memorizing) / between, from the A5 / A9
#: records ("late-layer distance, training data"), and each measure's between-group level.
RELATIVE = {
    "PWCCA": ((0.413 / 0.764, 0.608 / 0.764), 0.764),
    "mean CCA": ((0.674 / 0.796, 0.748 / 0.796), 0.796),
    "SVCCA": ((0.608 / 0.793, 0.732 / 0.793), 0.793),
    "Euclidean": ((4.503 / 4.236, 3.856 / 4.236), 4.236),
    "cosine": ((0.9857 / 0.9991, 0.9944 / 0.9991), 0.9991),
}


def measures_of_groups(
    rng: np.random.Generator, patterns: Mapping[str, tuple[tuple[float, float], float]],
    own_sd: float = 0.02, shared_sd: float = 0.03,
) -> dict[str, np.ndarray]:
    """Several measures of the same 4 + 4 networks: ``{measure: distance matrix}``.

    Each measure is ``level x (relative pattern + shared noise + own noise)``: the network
    effects and part of the pair noise are shared (the same networks compared), the rest is the
    measure's own. Relative sd: network 0.02, shared pair ``shared_sd``, own pair ``own_sd``
    (PWCCA's absolute spread of :data:`PAIR_SD` at its level ~0.76 is ~0.04 relative).
    """
    effects = rng.normal(0, 0.02, 8)
    shared = np.triu(rng.normal(0, shared_sd, (8, 8)), 1)
    result = {}
    for measure, ((gen, mem), level) in patterns.items():
        own = np.triu(rng.normal(0, own_sd, (8, 8)), 1)
        relative = _groups(gen, mem, 1.0)[np.ix_(GROUPS, GROUPS)]
        relative = relative + effects[:, None] + effects[None, :] + shared + shared.T + own + own.T
        matrix = level * np.maximum(relative, 1e-3)
        np.fill_diagonal(matrix, 0.0)
        result[measure] = matrix
    return result


def _a9(rng, planted: bool) -> Verdict:
    measures = ("PWCCA", "mean CCA", "SVCCA")
    patterns = {m: RELATIVE[m] if planted else (RELATIVE["PWCCA"][0], RELATIVE[m][1])
                for m in measures}
    return memorization.check_a9_mean_cca_svcca(
        measures_of_groups(rng, patterns), GENERALIZING, MEMORIZING, seed=_seed(rng))


def _a5(rng, planted: bool) -> Verdict:
    patterns = {"PWCCA": RELATIVE["PWCCA"],
                "cosine": RELATIVE["cosine"],
                "Euclidean": RELATIVE["Euclidean"] if planted
                else (RELATIVE["PWCCA"][0], RELATIVE["Euclidean"][1])}
    matrices = measures_of_groups(rng, patterns)
    # cosine: ~1 for every pair of unaligned networks (record: 0.986-0.999), spread ~0.003
    matrices["cosine"] = network_distances(
        rng, _groups(*RELATIVE["cosine"][0], 1.0) * 0.9991, GROUPS, 0.001, 0.002)
    return memorization.check_a5_cosine_euclidean(matrices, GENERALIZING, MEMORIZING,
                                                  seed=_seed(rng))


# Issue 25: Figure 3 at 1,000, 2,000 and 5,000 training images, an independent 4 + 4 arm each;
# the measured ratios (within memorizing / between) were 0.74, 0.795 and 0.885. Each arm is drawn
# as the Fig 3 record's (within generalizing 0.413, between 0.764, the same spreads), with within
# memorizing = ratio x 0.764.
DOSE_SIZES = (1000, 2000, 5000)
DOSE_RATIOS = (0.74, 0.795, 0.885)


def _dose_response(rng, ratios: Sequence[float]) -> Verdict:
    arms = {n: network_distances(rng, _groups(0.413, ratio * 0.764, 0.764), GROUPS, NETWORK_SD,
                                 PAIR_SD)
            for n, ratio in zip(DOSE_SIZES, ratios, strict=True)}
    return memorization.check_figure3_dose_response(arms, GENERALIZING, MEMORIZING)


def _memorization_scenarios() -> list[Scenario]:
    units = "4 + 4 networks"
    dose_units = "3 arms (n = 1,000, 2,000, 5,000) of 4 + 4 networks"
    planted_text = ("the measured ratios 0.74, 0.795, 0.885 at n = 1,000, 2,000, 5,000 (a rise "
                    "of ~0.2 per tenfold n)")
    return [
        Scenario("memorization.check_figure3", "Figure 3", units,
                 lambda rng: _figure3(rng, 0.608, 0.608, 0.608),
                 lambda rng: _figure3(rng, 0.413, 0.760, 0.764),
                 "8 exchangeable networks: every pair at the within-memorizing level 0.608",
                 "the paper's pattern: generalizing 0.413, memorizing 0.760 ~ between 0.764 "
                 "(ratio ~1.0)"),
        Scenario("memorization.check_figure3", "Figure 3", units,
                 lambda rng: _figure3(rng, 0.413, 0.9 * 0.764, 0.764),
                 lambda rng: _figure3(rng, 0.413, 0.760, 0.764),
                 "generalizing closer (0.413), memorizing / between at the margin's edge 0.9",
                 "as above", variant="equivalence boundary"),
        Scenario("memorization.check_a10_test_softmax", "Appendix A10", units,
                 lambda rng: _a10(rng, 0.909), lambda rng: _a10(rng, 0.140),
                 "8 exchangeable networks at the test softmax level 0.909",
                 "generalizing softmax pairs at 0.140 (the record)"),
        Scenario("memorization.check_a9_mean_cca_svcca", "Appendix A9", units,
                 lambda rng: _a9(rng, False), lambda rng: _a9(rng, True),
                 "mean CCA and SVCCA with PWCCA's relative gap (0.26): the order, no smaller gap",
                 "relative gaps of the record: PWCCA 0.26, mean CCA 0.09, SVCCA 0.16"),
        Scenario("memorization.check_a5_cosine_euclidean", "Appendix A5", units,
                 lambda rng: _a5(rng, False), lambda rng: _a5(rng, True),
                 "Euclidean with PWCCA's relative gap (0.26); cosine ~1 for every pair",
                 "Euclidean with the record's gap (-0.15), cosine ~1",
                 note="cosine half is a declared demonstration; the verdict rests on Euclidean"),
        Scenario("memorization.check_figure3_dose_response", "Figure 3", dose_units,
                 lambda rng: _dose_response(rng, (0.80,) * 3),
                 lambda rng: _dose_response(rng, DOSE_RATIOS),
                 "no trend: the ratio 0.80 at every n", planted_text),
        Scenario("memorization.check_figure3_dose_response", "Figure 3", dose_units,
                 lambda rng: _dose_response(rng, (0.9,) * 3),
                 lambda rng: _dose_response(rng, DOSE_RATIOS),
                 "no trend, at the equivalence margin: the ratio 0.9 at every n", planted_text,
                 variant="flat at the margin"),
    ]


# --------------------------------------------------------------------------- Figure 4, A6, A7
# Fig 4 record: widths 0.03125 .. 0.25 x 3 networks (profile images.widths); mean within-width
# PWCCA distance trained 0.326, 0.217, 0.163, 0.156, 0.179, at initialization 0.665 .. 0.494;
# "PWCCA distance per doubling of the width": -0.051 trained, -0.054 at initialization; test
# accuracy per width 0.648, 0.727, 0.771, 0.780, 0.795. The trained means scatter ~0.02 around a
# smooth fall: network sd 0.015 and pair sd 0.03 give a width mean (3 pairs) an sd of ~0.024.
WIDTHS = np.array([0.03125, 0.0625, 0.125, 0.1875, 0.25])
WIDTH_OF = np.repeat(WIDTHS, 3)
DOUBLINGS = np.log2(WIDTHS / WIDTHS[0])
INITIAL = np.array([0.665, 0.664, 0.667, 0.544, 0.494])
ACCURACY = np.array([0.648, 0.727, 0.771, 0.780, 0.795])
#: The planted fall: the record's trained slope, -0.051 per doubling, from 0.33 at the narrowest.
FALLING = 0.33 - 0.051 * DOUBLINGS


def width_distances(rng: np.random.Generator, per_width: np.ndarray, *,
                    network_sd: float = NETWORK_SD, pair_sd: float = PAIR_SD) -> np.ndarray:
    """Distances of ``len(per_width)`` widths x 3 networks: within a width at ``per_width``,
    across two widths at the mean of their levels."""
    levels = np.asarray(per_width, dtype=float)
    blocks = (levels[:, None] + levels[None, :]) / 2
    return network_distances(rng, blocks, np.repeat(np.arange(len(levels)), 3), network_sd,
                             pair_sd)


def _figure4a(rng, trained, initial) -> Verdict:
    return width.check_figure4a(width_distances(rng, trained), width_distances(rng, initial),
                                WIDTH_OF, seed=_seed(rng))


def _figure4b(rng, trained) -> Verdict:
    d = width_distances(rng, trained)
    _, within = width.within_width_distances(d, WIDTH_OF)
    # accuracy = its width's level of the record, minus 0.9 x (within-width distance - mean),
    # plus network noise 0.016: Pearson r ~ -0.96 over networks when the distance falls (the
    # paper's Fig 4b); when it does not, accuracy keeps the record's rise with width only
    slope = 0.9 if np.ptp(trained) > 0 else 0.0
    shift = -slope * (within - within.mean())
    base = ACCURACY.mean() if slope else ACCURACY
    accuracy = np.repeat(base + shift, 3) + rng.normal(0, 0.016, 15)
    return width.check_figure4b(d, WIDTH_OF, accuracy, seed=_seed(rng))


def _a6(rng, planted: bool) -> Verdict:
    pwcca = width_distances(rng, FALLING)
    if planted:  # the A6 record's controls: cosine 0.972 .. 0.942, Euclidean 3.51 .. 3.43
        cosine = np.array([0.972, 0.965, 0.954, 0.953, 0.942])
        euclidean = np.array([3.51, 3.67, 3.66, 3.54, 3.43])
    else:  # both fall by PWCCA's factor
        cosine, euclidean = 0.96 * FALLING / FALLING[0], 3.5 * FALLING / FALLING[0]
    # relative spread network 0.01, pair 0.02: a width mean scatters by ~1.5%, between the
    # record's cosine (~0.3%) and Euclidean (~3%) scatter around a smooth profile
    controls = {name: levels.mean() * width_distances(rng, levels / levels.mean(),
                                                      network_sd=0.01, pair_sd=0.02)
                for name, levels in (("cosine", cosine), ("Euclidean", euclidean))}
    return width.check_a6_cosine_euclidean({"PWCCA": pwcca, **controls}, WIDTH_OF,
                                           seed=_seed(rng))


# The extended profile's readings design (issue 25, item 1): 7 widths x 3 networks, each read
# after a fixed budget and at a criterion, on the held-out scale (chance ~1). Planted: within-
# width distance falls 0.051 per doubling (the raw record's slope) from 0.60 at the narrowest,
# with accuracy tracking it as in _figure4b, flat 0.95 at initialization; null: the same at the
# fixed budget but flat at the criterion (a width effect that is a training-length effect). The
# readings are drawn independently, although the real ones read the same networks.
SEVEN_DOUBLINGS = np.arange(7) / 2


def _figure4_readings(rng, criterion_falls: bool) -> Verdict:
    width_of = np.repeat(2.0 ** SEVEN_DOUBLINGS, 3)
    falling = 0.60 - 0.051 * SEVEN_DOUBLINGS
    readings = {}
    for reading, levels in (("fixed epochs", falling),
                            ("criterion", falling if criterion_falls else np.full(7, 0.5))):
        d = width_distances(rng, levels)
        _, within = width.within_width_distances(d, width_of)
        accuracy = np.repeat(0.76 - 0.9 * (within - within.mean()), 3) + rng.normal(0, 0.016, 21)
        readings[reading] = (d, width_distances(rng, np.full(7, 0.95)), accuracy)
    return width.check_figure4_readings(readings, width_of, seed=_seed(rng))


def _width_scenarios() -> list[Scenario]:
    units = "5 widths x 3 networks"
    flat = np.full(5, 0.2)
    return [
        Scenario("width.check_figure4a", "Figure 4a, A7", units,
                 lambda rng: _figure4a(rng, flat, np.full(5, 0.6)),
                 lambda rng: _figure4a(rng, FALLING, np.full(5, 0.6)),
                 "no width trend, trained (0.2) or at initialization (0.6)",
                 "trained distance falls 0.051 per doubling (the record's slope), flat at "
                 "initialization (A7)"),
        Scenario("width.check_figure4a", "Figure 4a, A7", units,
                 lambda rng: _figure4a(rng, INITIAL - 0.4, INITIAL),
                 lambda rng: _figure4a(rng, FALLING, np.full(5, 0.6)),
                 "trained falls exactly as at initialization (the record's 0.665 .. 0.494)",
                 "as above", variant="fall as at initialization"),
        Scenario("width.check_figure4b", "Figure 4b", units,
                 lambda rng: _figure4b(rng, flat), lambda rng: _figure4b(rng, FALLING),
                 "no width trend in distance; accuracy rises with width as recorded",
                 "distance falls with width; accuracy tracks it at r ~ -0.96 (the paper)"),
        Scenario("width.check_figure4_readings", "Figure 4, A7",
                 "7 widths x 3 networks, 2 readings",
                 lambda rng: _figure4_readings(rng, False),
                 lambda rng: _figure4_readings(rng, True),
                 "distance falls 0.051 per doubling at the fixed budget, flat (0.5) at the "
                 "criterion; flat 0.95 at initialization",
                 "falls 0.051 per doubling from 0.60 in both readings, accuracy tracking it",
                 note="readings drawn independently"),
        Scenario("width.check_a6_cosine_euclidean", "Appendix A6", units,
                 lambda rng: _a6(rng, False), lambda rng: _a6(rng, True),
                 "cosine and Euclidean fall by PWCCA's factor (log ratio flat)",
                 "PWCCA falls; cosine and Euclidean as recorded (nearly flat)"),
    ]


# --------------------------------------------------------------------------- Figure 5
# Fig 5 record: 3 learning rates x 5 networks, layer conv8; mean distance between rates 0.468 ..
# 0.477, within a rate 0.472, 0.477 (no cluster) and 0.429 (3e-3, the one that separated). Block
# means of 10 pairs differ by ~0.005 where there is no cluster: network sd 0.01, pair sd 0.02.
RATES = np.repeat([3e-4, 1e-3, 3e-3], 5)
RATE_ACCURACY = np.repeat([0.729, 0.746, 0.791], 5)  # the record's test accuracy per rate


def rate_distances(rng: np.random.Generator, within: float, rates: int) -> np.ndarray:
    """Distances of ``rates`` learning rates x 5 networks: ``within`` inside a rate, 0.472 (the
    record's) across rates."""
    blocks = np.full((rates, rates), 0.472)
    np.fill_diagonal(blocks, within)
    return network_distances(rng, blocks, np.repeat(np.arange(rates), 5), 0.01, 0.02)


def _figure5(rng, within: float) -> Verdict:
    d = rate_distances(rng, within, 3)
    accuracy = RATE_ACCURACY + rng.normal(0, 0.02, 15)
    return learning_rate.check_figure5(d, RATES, accuracy, n_permutations=2000, seed=_seed(rng))


# The extended profile's two-arm design (issue 25, item 2): 4 rates x 5 networks, each read at
# equal training loss and after equal epochs. The arms are drawn independently here, although the
# real ones read the same networks; the null that matters is a cluster in one arm only (a rate
# effect that is really a fit or a training-length effect).
ARM_RATES = np.repeat([1e-4, 4.6416e-4, 2.1544e-3, 1e-2], 5)


def _figure5_arms(rng, within_loss: float, within_epochs: float) -> Verdict:
    arms = {}
    for arm, within in (("equal training loss", within_loss), ("fixed epochs", within_epochs)):
        arms[arm] = (rate_distances(rng, within, 4), ARM_RATES, 0.75 + rng.normal(0, 0.02, 20))
    return learning_rate.check_figure5_arms(arms, n_permutations=2000, seed=_seed(rng))


def _learning_rate_scenarios() -> list[Scenario]:
    return [Scenario(
        "learning_rate.check_figure5", "Figure 5", "3 rates x 5 networks",
        lambda rng: _figure5(rng, 0.472), lambda rng: _figure5(rng, 0.429),
        "15 exchangeable networks at 0.472 (no clusters)",
        "every rate as separated as the record's 3e-3: within 0.429, between 0.472",
        note="2000 relabellings (declared 10000)"), Scenario(
        "learning_rate.check_figure5_arms", "Figure 5", "4 rates x 5 networks, 2 readings",
        lambda rng: _figure5_arms(rng, 0.429, 0.472), lambda rng: _figure5_arms(rng, 0.429, 0.429),
        "rates separated (within 0.429, between 0.472) at equal loss only; exchangeable after "
        "equal epochs", "every rate separated in both readings (within 0.429, between 0.472)",
        note="2000 relabellings (declared 10000); arms drawn independently")]


# --------------------------------------------------------------------------- Figure 1
# Fig 1 a record (fig1_cnn_dynamics): 5 networks, conv11 of 64 channels, checkpoints at epochs
# 0 .. 10; "mean coefficient vs final per epoch" 0.360 .. 0.937, 1.0; "epoch accuracy converged,
# per network" 7, 8, 8, 9, 7; the fraction below 0.9 at that epoch 0.384 (interval 0.29-0.45).
# A checkpoint's sorted coefficients are 1 - Exponential(scale): mean 1 - scale, a share
# exp(-0.1 / scale) below 0.9. A settled layer keeps a floor of a few coefficients below 0.9
# (probe noise): scale 0.03 x lognormal(0.3) per network, ~4% below 0.9.
MEAN_COEFFICIENT = np.array([0.360, 0.437, 0.525, 0.608, 0.690, 0.778, 0.820, 0.878, 0.912,
                             0.937, 1.0])
CONVERGED_AT = (7, 8, 8, 9, 7)
MID = 5
UNCONVERGED_AT_CONVERGENCE = 0.384


def _coefficient_network(rng: np.random.Generator, kind: str) -> tuple[list, np.ndarray]:
    """One network's coefficients per checkpoint and its accuracy curve. ``kind``: "null" (the
    layer stops changing at mid-training), "boundary" (the excess at t* is exactly the declared
    0.25) or "planted" (0.384 unconverged at t*, settled one checkpoint before the end)."""
    t_star = int(rng.choice(CONVERGED_AT if kind == "null" else (7, 8)))
    floor = 0.03 * math.exp(rng.normal(0, 0.3))
    scales = 1 - MEAN_COEFFICIENT[:-1]
    scales[MID:] = floor
    if kind != "null":
        share = UNCONVERGED_AT_CONVERGENCE * math.exp(rng.normal(0, 0.1)) if kind == "planted" \
            else math.exp(-0.1 / floor) + dynamics.MIN_FRACTION
        scales[MID:t_star + 1] = np.linspace(scales[MID - 1], 0.1 / math.log(1 / share),
                                             t_star + 2 - MID)[1:]
    rho = [np.sort(np.clip(1 - rng.exponential(s, 64), 0, 1))[::-1] for s in scales]
    accuracy = np.full(11, 0.998)
    accuracy[:t_star] -= 0.02 + 0.05 * (t_star - 1 - np.arange(t_star))
    accuracy[t_star:-1] -= rng.uniform(0, 0.009, 10 - t_star)
    accuracy[0] = np.nan
    return [*rho, np.ones(64)], accuracy


def _coefficients(rng, kind: str) -> Verdict:
    networks = [_coefficient_network(rng, kind) for _ in range(5)]
    return dynamics.coefficients_lag_performance([r for r, _ in networks],
                                                 [a for _, a in networks], seed=_seed(rng))


def _directions(rng, kind: str) -> Verdict:
    """Fig 1 d-f at small size: 300 datapoints, 16 neurons, 4 directions per set, 5 networks,
    50 row permutations. ``kind``: "planted" (8 dimensions persist from early to the end, 8 are
    replaced by mid-training and again after it), "all kept" (null: the layer keeps every early
    dimension, mid and final are early's dimensions mixed anew plus probe noise), "none kept"
    (null: every early dimension is replaced by mid-training) or "boundary" (null of the noise
    level's equivalence: as planted, but the final layer still carries the lost dimensions at
    correlation 0.3, which puts the bottom set's ratio to its chance level at the margin, 0.80:
    mean of 10 draws 0.799, sd 0.026, measured 2026-12-05)."""
    checkpoints: dict[str, list[np.ndarray]] = {"early": [], "mid": [], "final": []}

    def noisy(x):
        return x + 0.3 * rng.normal(size=x.shape) * x.std(axis=0)

    for _ in range(5):
        kept, lost, new = (rng.normal(size=(300, 8)) for _ in range(3))
        early = np.hstack([kept, lost]) @ rng.normal(size=(16, 16))
        if kind in ("planted", "boundary"):  # the stable part stays, the rest changes after mid
            carried = 0.3 if kind == "boundary" else 0.0
            rest = carried * lost + np.sqrt(1 - carried**2) * rng.normal(size=(300, 8))
            mid = np.hstack([kept, new]) @ rng.normal(size=(16, 16))
            final = np.hstack([kept + 0.5 * rng.normal(size=(300, 8)), rest])
        elif kind == "all kept":
            mid = noisy(np.hstack([kept, lost]) @ rng.normal(size=(16, 16)))
            final = noisy(np.hstack([kept, lost]) @ rng.normal(size=(16, 16)))
        else:  # "none kept"
            mid = np.hstack([new, rng.normal(size=(300, 8))]) @ rng.normal(size=(16, 16))
            final = noisy(mid)
        checkpoints["early"].append(early)
        checkpoints["mid"].append(mid)
        checkpoints["final"].append(final)
    return dynamics.directions_against_noise(
        checkpoints["early"], checkpoints["mid"], checkpoints["final"], 4, n_permutations=50,
        seed=_seed(rng))


def _dynamics_scenarios() -> list[Scenario]:
    units = "5 networks"
    return [
        Scenario("dynamics.coefficients_lag_performance", "Figure 1 a-c", units,
                 lambda rng: _coefficients(rng, "null"), lambda rng: _coefficients(rng, "planted"),
                 "the layer stops changing at mid-training (epoch 5 of 10); accuracy converges "
                 "at epochs 7-9 (the record)",
                 "0.384 of 64 coefficients below 0.9 where accuracy converges (the record), the "
                 "layer settled one epoch before the end"),
        Scenario("dynamics.coefficients_lag_performance", "Figure 1 a-c", units,
                 lambda rng: _coefficients(rng, "boundary"),
                 lambda rng: _coefficients(rng, "planted"),
                 "excess over the floor at t* exactly the declared 0.25", "as above",
                 variant="threshold boundary"),
        # Until ccccbb5 the null was "nothing changes after mid-training"; it held in 200 of
        # 200 draws, but such a layer satisfies the claim (it kept its stable early directions
        # and dropped the others by mid-training). The claim's nulls are a layer that drops no
        # early direction and one that keeps none (changed 2026-12-05, after that result).
        Scenario("dynamics.directions_against_noise", "Figure 1 d-f", units,
                 lambda rng: _directions(rng, "all kept"), lambda rng: _directions(rng, "planted"),
                 "the layer keeps every early dimension (mid and final: early's dimensions mixed "
                 "anew, plus probe noise)",
                 "8 dimensions persist to the end, 8 change by mid-training and again after",
                 note="small: 300 datapoints, 16 neurons, 4 directions, 50 permutations"),
        Scenario("dynamics.directions_against_noise", "Figure 1 d-f", units,
                 lambda rng: _directions(rng, "none kept"),
                 lambda rng: _directions(rng, "planted"),
                 "every early dimension replaced by mid-training", "as above",
                 variant="none kept",
                 note="small: 300 datapoints, 16 neurons, 4 directions, 50 permutations"),
        # Added 2026-12-05 with the noise level's equivalence (register: NOISE_LEVEL_TEST).
        Scenario("dynamics.directions_against_noise", "Figure 1 d-f", units,
                 lambda rng: _directions(rng, "boundary"),
                 lambda rng: _directions(rng, "planted"),
                 "as planted, but the final layer still carries the lost early dimensions at "
                 "correlation 0.3: the bottom set's ratio to its noise level at the margin, 0.80",
                 "as above", variant="noise-level boundary",
                 note="small: 300 datapoints, 16 neurons, 4 directions, 50 permutations"),
    ]


# --------------------------------------------------------------------------- Figure 2, A2
# Fig 2 record: 30 cells (10 signal ratios x 3 repeats, profile toys.fig2); mean over the sweep
# mean CCA 0.354, SVCCA (singular values) 0.327 (0.92 x), PWCCA 0.131 (0.37 x). Mean CCA falls
# with the signal ratio r as ~0.8 (1 - r) (0.40 at r = 0.5, the record); cell noise sd 0.01
# (2000 datapoints: distances of one cell vary little between repeats).
SIGNAL_RATIOS = np.repeat(np.array([20, 40, 60, 80, 100, 120, 140, 160, 180, 199]) / 200, 3)


def _noise_sensitivity(rng, pwcca_share: float) -> Verdict:
    mean_cca = 0.8 * (1 - SIGNAL_RATIOS)
    cells = [level + rng.normal(0, 0.01, 30)
             for level in (mean_cca, 0.92 * mean_cca, pwcca_share * mean_cca)]
    return toy_claims.noise_sensitivity(*(np.clip(c, 0, 1)[None, :] for c in cells),
                                        seed=_seed(rng))


def _rotation(rng, planted: bool) -> Verdict:
    """A2 at small size: 8 seeds (the profile) of 10 neurons, 300 datapoints, 6 steps; 50 row
    permutations. Null: a pure rotation whose final state carries fresh noise of sd 0.44 x the
    state's, which puts its mean CCA distance at 0.085 (30 seeds, sd 0.002), 0.1 x its chance
    level 0.846: the boundary of "near identical". Planted: the published nonlinear toy
    (beta = 0.5)."""
    runs = []
    for _ in range(8):
        run = toys.rnn_trajectory(n_neurons=10, n_datapoints=300, n_steps=6,
                                  beta=0.5 if planted else 0.0, seed=_seed(rng))
        if not planted:
            run[-1] = run[-1] + 0.44 * run[-1].std() * rng.normal(size=run[-1].shape)
        runs.append(run)
    return toy_claims.rotation_invariance(runs, n_permutations=50, seed=_seed(rng))


def _toy_scenarios() -> list[Scenario]:
    return [
        Scenario("toys.noise_sensitivity", "Figure 2", "30 draws (10 ratios x 3)",
                 lambda rng: _noise_sensitivity(rng, toy_claims.PWCCA_SHARE),
                 lambda rng: _noise_sensitivity(rng, 0.37),
                 "PWCCA at exactly the declared 0.5 x mean CCA (SVCCA 0.92 x)",
                 "PWCCA at 0.37 x mean CCA (the record)", variant="threshold boundary"),
        Scenario("toys.rotation_invariance", "Appendix A2", "8 seeds",
                 lambda rng: _rotation(rng, False), lambda rng: _rotation(rng, True),
                 "final state = rotation + noise, CCA distance at ~0.1 x chance (boundary)",
                 "the nonlinear toy, beta = 0.5", variant="nonlinear, threshold boundary",
                 note="small: 10 neurons, 300 datapoints, 6 steps, 50 permutations"),
    ]


# --------------------------------------------------------------------------- Figure 6, A8, A1
# Fig 6 record: 6 runs (3-layer and 5-layer LSTMs x 3 seeds), checkpoints every half epoch over
# 10 epochs, references the last, 1 and 2 epochs before (profile text.convergence). Curves as in
# tests/morcos2018/test_claims_convergence.py's path_run: layer l moves along 0.6 exp(-t / tau_l)
# (per-run log-normal jitter 0.15 of tau), distance to a reference = gap + |N(0, 0.02)|.
EPOCHS = np.arange(21) / 2
REFERENCE_INDICES = (20, 18, 16)
DEPTHS = (3, 3, 3, 5, 5, 5)


def path_curves(rng: np.random.Generator, taus: Sequence[float]) -> dict[int, dict]:
    """``{reference index: {layer: distances to that reference}}`` of one run."""
    positions = {f"lstm{depth}": 0.6 * np.exp(-EPOCHS / (tau * math.exp(rng.normal(0, 0.15))))
                 for depth, tau in enumerate(taus, 1)}
    result = {}
    for index in REFERENCE_INDICES:
        curves = {}
        for layer, position in positions.items():
            curve = np.abs(position - position[index]) + np.abs(rng.normal(0, 0.02, len(EPOCHS)))
            curve[index] = 0.0
            curves[layer] = curve
        result[index] = curves
    return result


def _taus(depth: int, ordered: bool) -> np.ndarray:
    """Time constants (epochs): 1.0 to 2.0 bottom-up (the test file's BOTTOM_UP), or 1.5 each."""
    return np.linspace(1.0, 2.0, depth) if ordered else np.full(depth, 1.5)


def _bottom_up(rng, ordered: bool) -> Verdict:
    runs = [{"pwcca_distance": path_curves(rng, _taus(depth, ordered))} for depth in DEPTHS]
    return convergence.bottom_up_convergence(runs, EPOCHS, by_depth=True, seed=_seed(rng))


def _a8(rng, planted: bool) -> Verdict:
    runs = [{measure: path_curves(rng, _taus(depth, measure == "pwcca_distance" or not planted))
             for measure in ("pwcca_distance", *convergence.A8_MEASURES)} for depth in DEPTHS]
    verdict = convergence.bottom_up_convergence(runs, EPOCHS, seed=_seed(rng))
    return convergence.figure6_and_a8(verdict)[1]


# A1 record: unigram perplexity 137; unigram / final perplexity 2.71-2.74 over the 6 runs: the
# log ratio's spread between runs is ~0.004.
def _unigram(rng, ratio: float) -> Verdict:
    perplexity = 137.0 / (ratio * np.exp(rng.normal(0, 0.004, 6)))
    return language_model.models_beat_unigram(
        {"lstm3": perplexity[:3], "lstm5": perplexity[3:]}, 137.0, seed=_seed(rng))


# Fig 6 (reference) record: the mean of the last two moves per layer 0.0001-0.0017 (PWCCA).
def _settled(rng, level: float) -> Verdict:
    runs = [{f"lstm{d}": level * np.exp(rng.normal(0, 0.3, 20)) for d in range(1, depth + 1)}
            for depth in DEPTHS]
    return convergence.reference_settled(runs)


# Figure 6 beyond layer 1 (issue 25, item 4): curves to the last checkpoint of 6 runs; layer 1
# fastest (tau 1.0); layers 2..L either exchangeable (tau 1.5 each: the default record's tie) or
# in order (tau 1.25 to 2.0 bottom-up). Each layer's curve is scaled by its own factor
# (lognormal, sd 0.3), which the normalisation by the distance at initialization must remove.
def _beyond_layer_one(rng, ordered: bool) -> Verdict:
    runs = []
    for depth in DEPTHS:
        taus = np.concatenate([[1.0], np.linspace(1.25, 2.0, depth - 1) if ordered
                               else np.full(depth - 1, 1.5)])
        curves = path_curves(rng, taus)
        last = curves[max(curves)]
        runs.append({layer: curve * math.exp(rng.normal(0, 0.3)) for layer, curve in last.items()})
    return convergence.order_beyond_layer_one(runs, EPOCHS, seed=_seed(rng))


def _convergence_scenarios() -> list[Scenario]:
    units = "6 runs (3 x 3 + 3 x 5 layers)"
    return [
        Scenario("convergence.bottom_up_convergence", "Figure 6", units,
                 lambda rng: _bottom_up(rng, False), lambda rng: _bottom_up(rng, True),
                 "no depth order: every layer tau = 1.5 epochs", "tau 1.0 to 2.0 bottom-up",
                 note="by_depth=True as in the notebook; PWCCA curves only"),
        Scenario("convergence.order_beyond_layer_one", "Figure 6", units,
                 lambda rng: _beyond_layer_one(rng, False),
                 lambda rng: _beyond_layer_one(rng, True),
                 "layer 1 first (tau 1.0), layers 2..L tied (tau 1.5), each layer scaled at random",
                 "layers 2..L in order (tau 1.25 to 2.0)", note="curves to the last checkpoint"),
        Scenario("convergence.figure6_and_a8", "Appendix A8", units,
                 lambda rng: _a8(rng, False), lambda rng: _a8(rng, True),
                 "cosine and Euclidean show PWCCA's bottom-up order",
                 "cosine and Euclidean show no order; PWCCA bottom-up",
                 note="A8's part of the split verdict"),
        Scenario("convergence.reference_settled", "Figure 6 (reference)", units,
                 lambda rng: _settled(rng, convergence.SETTLED),
                 lambda rng: _settled(rng, 0.001),
                 "last moves at the declared tolerance 0.05", "last moves ~0.001 (the record)",
                 variant="threshold boundary", note="a size rule, not a test"),
        Scenario("language_model.models_beat_unigram", "Appendix A1", "6 runs",
                 lambda rng: _unigram(rng, language_model.MIN_RATIO),
                 lambda rng: _unigram(rng, 2.73),
                 "perplexity exactly 1.5 x below the unigram's", "2.73 x (the record)",
                 variant="threshold boundary"),
        Scenario("language_model.models_beat_unigram", "Appendix A1", "6 runs",
                 lambda rng: _unigram(rng, 1.0), lambda rng: _unigram(rng, 2.73),
                 "perplexity at the unigram level", "2.73 x (the record)",
                 variant="unigram level"),
    ]


# --------------------------------------------------------------------------- A3, A4
# Small sizes: one layer of 8 units, 300 sequences, 50 permutations or swaps, 39 bootstrap
# resamples (the profile: three layers of 128, 2500 sequences, 1000 permutations, 100 swaps, 200
# resamples). A3's null: the last step is 0.4 x the step + noise in the *same* units, which CCA
# and cosine distance both see (the held-out share passes, the contrasts sit at 0); planted: the
# same map rotated (unaligned), which only CCA can see.
def _related(rng: np.random.Generator, x: np.ndarray, weight: float, aligned: bool = False
             ) -> np.ndarray:
    rotation = np.eye(x.shape[1]) if aligned else np.linalg.qr(
        rng.normal(size=(x.shape[1], x.shape[1])))[0]
    return (weight * x + math.sqrt(1 - weight**2) * rng.normal(size=x.shape)) @ rotation


def _steps_related(rng, aligned: bool) -> Verdict:
    x = rng.normal(size=(300, 8))
    acts = np.stack([rng.normal(size=x.shape), x, _related(rng, x, 0.4, aligned)], axis=1)
    return sequence.steps_related_to_last({"lstm1": acts}, step=1, n_permutations=50,
                                          n_bootstrap=39, seed=_seed(rng))


def _repeated(rng, planted: bool) -> Verdict:
    x = rng.normal(size=(300, 8))
    last = _related(rng, x, 0.6)
    plain = np.stack([x + 0.5 * rng.normal(size=x.shape), last], axis=1)
    state = 0.6 * x + 0.8 * rng.normal(size=x.shape) if planted else x
    repeated = np.stack([state + 0.5 * rng.normal(size=x.shape), last], axis=1)
    return sequence.repeated_input_perturbs({"lstm1": plain}, {0: {"lstm1": repeated}}, 1,
                                            n_swaps=50, seed=_seed(rng))


def _sequence_scenarios() -> list[Scenario]:
    note = "small: 1 layer of 8 units, 300 sequences, 50 permutations / swaps"
    return [
        Scenario("sequence.steps_related_to_last", "Appendix A3", "300 sequences",
                 lambda rng: _steps_related(rng, True), lambda rng: _steps_related(rng, False),
                 "last step 0.4 x step + noise in the same units (cosine sees it as CCA does)",
                 "last step an unaligned map of 0.4 x step + noise", note=f"{note}, 39 bootstrap "
                 "resamples"),
        Scenario("sequence.repeated_input_perturbs", "Appendix A4", "300 sequences",
                 lambda rng: _repeated(rng, False), lambda rng: _repeated(rng, True),
                 "repeated and plain versions exchangeable (the repetition changes nothing)",
                 "the repetition replaces 36% of the state's variance", note=note),
    ]


# --------------------------------------------------------------------------- the registry


def scenarios() -> list[Scenario]:
    """Every scenario, in the order of claims/register.toml."""
    return [*_dynamics_scenarios(), *_toy_scenarios(), *_memorization_scenarios(),
            *_width_scenarios(), *_learning_rate_scenarios(), *_convergence_scenarios(),
            *_sequence_scenarios()]


#: Checks of claims/register.toml that have no scenario, and why.
NOT_CALIBRATED = {
    "sequence.distances_with_chance": "not a claim check: it returns the distances and their "
                                      "chance levels that A3 / A4 plot",
    "evidence.decide": "the rule that turns a p-value into an outcome, calibrated through every "
                       "check that uses it",
}


def calibrate(
    chosen: Sequence[Scenario],
    draws: int = 200,
    seed: int = 0,
    *,
    alpha: float = ALPHA,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Size, power and false contradictions of each scenario's check, over independent draws.

    Parameters
    ----------
    chosen : sequence of Scenario
        The scenarios (:func:`scenarios` for all).
    draws : int
        Null and planted data sets per scenario; a scenario's own ``draws``, when smaller, wins.
    seed : int
        Seed of the whole run; each scenario and draw gets its own child generator.
    alpha : float
        The level the size is compared with.
    progress : callable, optional
        Called with each scenario's result as it finishes.

    Returns
    -------
    list of dict
        Per scenario: ``check``, ``variant``, ``key``, ``figure``, ``units``, ``null``,
        ``planted``, ``note``, ``draws``, ``size``, ``size_upper`` (one-sided 95%
        Clopper-Pearson bound), ``size_pvalue`` (binomial P(as many holds | size = alpha)),
        ``power``, ``contradicted_planted``, ``contradicted_null``, ``null_outcomes``,
        ``planted_outcomes``, ``null_tests_holding`` (each test's share of null draws that hold)
        and ``verdict`` (:func:`classify`).

    Examples
    --------
    >>> [row] = calibrate([s for s in scenarios() if s.check.endswith("unigram")][:1], draws=20)
    >>> row["size"] <= 0.2, row["power"]
    (True, 1.0)
    """
    if draws < 1:
        raise ValueError(f"draws must be a positive int; found {draws!r}.")
    rows = []
    for scenario in chosen:
        n = min(draws, scenario.draws) if scenario.draws else draws
        key = zlib.crc32(scenario.key.encode())
        null = [scenario.null(np.random.default_rng([seed, key, i, 0])) for i in range(n)]
        planted = [scenario.planted(np.random.default_rng([seed, key, i, 1])) for i in range(n)]
        row = _summary(scenario, null, planted, alpha)
        rows.append(row)
        if progress is not None:
            progress(row)
    return rows


def _summary(scenario: Scenario, null: list[Verdict], planted: list[Verdict],
             alpha: float) -> dict:
    n = len(null)
    null_outcomes = _counts(v.outcome for v in null)
    planted_outcomes = _counts(v.outcome for v in planted)
    holding = null_outcomes.get("holds", 0)
    tests: dict[str, list[bool]] = {}
    for verdict in null:
        for test in verdict.tests:
            tests.setdefault(test.name, []).append(test.holds is True)
    size = holding / n
    size_pvalue = float(scipy_stats.binom.sf(holding - 1, n, alpha))
    return {
        "check": scenario.check, "variant": scenario.variant, "key": scenario.key,
        "figure": scenario.figure, "units": scenario.units, "null": scenario.null_text,
        "planted": scenario.planted_text, "note": scenario.note, "draws": n,
        "size": size, "size_upper": size_upper_bound(holding, n), "size_pvalue": size_pvalue,
        "power": planted_outcomes.get("holds", 0) / n,
        "contradicted_planted": planted_outcomes.get("contradicted", 0) / n,
        "contradicted_null": null_outcomes.get("contradicted", 0) / n,
        "null_outcomes": null_outcomes, "planted_outcomes": planted_outcomes,
        "null_tests_holding": {name: float(np.mean(values)) for name, values in tests.items()},
        "verdict": classify(size, size_pvalue),
    }


def _counts(outcomes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return dict(sorted(counts.items()))


def size_upper_bound(holding: int, draws: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of a rate seen ``holding`` times in ``draws``.

    Examples
    --------
    >>> round(size_upper_bound(0, 200), 4)
    0.0149
    """
    if holding >= draws:
        return 1.0
    return float(scipy_stats.beta.ppf(confidence, holding + 1, draws - holding))


def classify(size: float, size_pvalue: float) -> str:
    """``"demonstration"`` (holds on at least :data:`DEMONSTRATION_SHARE` of null draws),
    ``"size above alpha"`` (binomial p at most :data:`FLAG_LEVEL`) or ``"calibrated"``.

    Examples
    --------
    >>> classify(0.03, 0.8), classify(0.12, 0.001), classify(0.97, 0.0)
    ('calibrated', 'size above alpha', 'demonstration')
    """
    if size >= DEMONSTRATION_SHARE:
        return "demonstration"
    return "size above alpha" if size_pvalue <= FLAG_LEVEL else "calibrated"
