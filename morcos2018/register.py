"""The register of the claim checks' declared parameters and their deviations.

``morcos2018/claims/register.toml`` lists, per check (named ``module.function``), each declared
parameter with its current value, the commit and date where that value first appeared and the
published result that already existed then, and every later change of a value (a deviation:
from, to, when, after which result, why). This module reads it; ``tests/morcos2018/
test_register.py`` checks it against the code.

Examples
--------
>>> [p["name"] for p in declared("language_model.models_beat_unigram")]
['language_model.MIN_RATIO', 'evidence.ALPHA', 'language_model.POOLED']
>>> [d["parameter"] for d in deviations("dynamics.directions_against_noise")]
['dynamics.N_PERMUTATIONS', 'dynamics.NOISE_LEVEL_TEST']
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any


@functools.cache
def load_register() -> dict[str, Any]:
    """The whole register: ``{"results": {commit: ...}, "checks": {check: ...}}``."""
    with resources.files("morcos2018.claims").joinpath("register.toml").open("rb") as file:
        return tomllib.load(file)


def _check(check: str) -> dict[str, Any]:
    checks = load_register()["checks"]
    if check not in checks:
        raise KeyError(f"no check {check!r} in the register; it has {sorted(checks)}.")
    return checks[check]


def declared(check: str) -> list[dict[str, Any]]:
    """The declared parameters of ``check`` (e.g. ``"memorization.check_figure3"``), each with
    ``name``, ``kind``, ``value``, ``commit``, ``date`` and ``after``."""
    return list(_check(check)["parameters"])


def deviations(check: str) -> list[dict[str, Any]]:
    """The changes of ``check``'s parameters since each first appeared, oldest first, each with
    ``parameter``, ``from``, ``to``, ``date``, ``commit``, ``after`` and ``why``."""
    return list(_check(check).get("deviations", []))
