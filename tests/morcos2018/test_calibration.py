"""Every claim check calibrated by simulation (issue 24): with fewer draws than the committed
table, no check's size exceeds alpha beyond binomial noise, its power on the planted effect is
clearly above its size, and findings/calibration.json lists every scenario.

Scenarios that cost more than ~0.05 s a draw run under ``slow``; the rest stay in the fast suite.
A scenario whose size is known to exceed alpha (a finding, reported in findings/calibration.md;
the check is not changed here) is a strict xfail: it fails the suite once the check is fixed, so
that this list and the table are updated with it."""

import json
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from morcos2018 import calibration

ROOT = Path(__file__).resolve().parents[2]
DRAWS = 40
#: Draws of the slow scenarios (the whole file then runs in about a minute).
SLOW_DRAWS = 20
#: One-sided binomial level at which a size counts as above alpha here.
LEVEL = 0.001
#: Power must exceed size by at least this much.
POWER_MARGIN = 0.25
#: Scenarios whose draws are slow (seconds for 2 x 40 draws, measured on the 2-core machine).
SLOW = {
    "toys.noise_sensitivity [threshold boundary]",
    "memorization.check_figure3",
    "memorization.check_figure3 [equivalence boundary]",
    "memorization.check_a10_test_softmax",
    "memorization.check_a9_mean_cca_svcca",
    "memorization.check_a5_cosine_euclidean",
    "learning_rate.check_figure5",
    "sequence.repeated_input_perturbs",
    # 0.44 s and 0.16 s a draw (measured 2026-12-05): 105 s and 24 s of the fast suite before
    "dynamics.directions_against_noise",
    "dynamics.directions_against_noise [none kept]",
    "dynamics.directions_against_noise [noise-level boundary]",
    "sequence.steps_related_to_last",
}
#: Findings: sizes above alpha. (Figure 1 a-c's threshold boundary, 0.5 at ccccbb5, is now tested
#: beyond the threshold: evidence.SIGN_FLIP_THRESHOLD.)
SIZE_ABOVE_ALPHA: dict[str, str] = {}
#: Demonstrations: the null holds in (nearly) every draw. (Figure 1 d-f's earlier null, a layer
#: that stops changing after mid-training, satisfies the claim; its nulls are now a layer that
#: keeps every early direction and one that keeps none.)
DEMONSTRATIONS: dict[str, str] = {}


def _marks(key: str) -> list:
    marks = [pytest.mark.slow] if key in SLOW else []
    if key in SIZE_ABOVE_ALPHA:
        marks.append(pytest.mark.xfail(strict=True, reason=SIZE_ABOVE_ALPHA[key]))
    return marks


SCENARIOS = {scenario.key: scenario for scenario in calibration.scenarios()}
PARAMS = [pytest.param(key, marks=_marks(key), id=key)
          for key in SCENARIOS if key not in DEMONSTRATIONS]


@pytest.mark.parametrize("key", PARAMS)
def test_size_within_alpha_and_power_above_size(key):
    draws = SLOW_DRAWS if key in SLOW else DRAWS
    [row] = calibration.calibrate([SCENARIOS[key]], draws=draws, seed=24)
    holding = round(row["size"] * row["draws"])
    pvalue = stats.binom.sf(holding - 1, row["draws"], calibration.ALPHA)
    assert pvalue > LEVEL, (
        f"{key}: holds on {holding} of {row['draws']} null draws (binomial p = {pvalue:.2g} "
        f"against alpha {calibration.ALPHA})")
    assert row["power"] >= row["size"] + POWER_MARGIN, (
        f"{key}: power {row['power']:.2f} is not clearly above size {row['size']:.2f}")


def test_every_scenario_is_in_the_committed_table():
    committed = json.loads((ROOT / "findings" / "calibration.json").read_text())
    keys = [row["key"] for row in committed["scenarios"]]
    assert sorted(keys) == sorted(SCENARIOS), "rerun scripts/calibrate.py and commit its output"
    table = (ROOT / "findings" / "calibration.md").read_text()
    assert all(f"`{row['check']}`" in table for row in committed["scenarios"])
    by_key = {row["key"]: row for row in committed["scenarios"]}
    for key in SIZE_ABOVE_ALPHA:
        assert by_key[key]["verdict"] == "size above alpha"
    for key in DEMONSTRATIONS:
        assert by_key[key]["verdict"] == "demonstration"


def test_every_registered_check_has_a_scenario_or_a_reason():
    register = tomllib.loads((ROOT / "morcos2018" / "claims" / "register.toml").read_text())
    checks = set(register["checks"])
    covered = {scenario.check for scenario in SCENARIOS.values()}
    assert covered <= checks, f"scenarios name checks the register lacks: {covered - checks}"
    assert checks - covered == set(calibration.NOT_CALIBRATED)


def test_scenario_draws_are_reproducible_and_distinct():
    scenario = SCENARIOS["language_model.models_beat_unigram [threshold boundary]"]
    first = calibration.calibrate([scenario], draws=20, seed=3)[0]
    assert calibration.calibrate([scenario], draws=20, seed=3)[0] == first
    values = {scenario.null(np.random.default_rng([3, i])).tests[0].value for i in range(5)}
    assert len(values) == 5


def test_fast_scenarios_are_fast():
    start = time.perf_counter()
    for key, scenario in SCENARIOS.items():
        if key not in SLOW:
            scenario.null(np.random.default_rng(0))
    assert time.perf_counter() - start < 10
