"""The register of declared parameters (morcos2018/claims/register.toml) matches the code.

(a) every registered parameter holds the code's current value; (b) every declared parameter of
the claims modules is registered; (c) each parameter's history is consistent: its deviations
run, in order, from a first value to the current one. The first values were checked against git
when the register was written; these tests make no git calls (CI clones shallowly).
"""

import importlib
import inspect
import json
import pathlib
import re

import pytest

from morcos2018 import register

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = ("convergence", "dynamics", "evidence", "language_model", "learning_rate",
           "memorization", "sequence", "toys", "width")

# Upper-case module constants that are not declared parameters of a check, and why.
NOT_PARAMETERS = {
    "evidence.ALTERNATIVES": "the names of the two one-sided alternatives, labels",
    "evidence.OUTCOMES": "the words of the three outcomes, labels",
    "convergence.BY_MEASURE": "the label of a record's field",
    "dynamics.COEFFICIENTS_CLAIM": "a claim's text",
    "dynamics.DIRECTIONS_CLAIM": "a claim's text",
}
IS_CLAIM_TEXT = re.compile(r"(^|_)CLAIM$")


def _normal(value):
    if isinstance(value, tuple | list):
        return [_normal(item) for item in value]
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    return value


def _notebook_keyword(path: str, keyword: str):
    cells = json.loads((ROOT / path).read_text())["cells"]
    source = "".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
    found = set(re.findall(rf"\b{keyword}=(True|False)\b", source))
    assert len(found) <= 1, f"{path} passes {keyword} with different values: {found}"
    return found.pop() == "True" if found else None


def current_value(name: str):
    """The code's value of a registered parameter (see register.toml's header for the forms)."""
    if name.startswith("notebooks/"):
        path, keyword = name.split(": ")
        return _notebook_keyword(path, keyword)
    if name.endswith(")"):
        function, keyword = name[:-1].split("(")
        module, function = function.split(".")
        check = getattr(importlib.import_module(f"morcos2018.claims.{module}"), function)
        return inspect.signature(check).parameters[keyword].default
    module, constant = name.split(".")
    return getattr(importlib.import_module(f"morcos2018.claims.{module}"), constant)


def _parameters() -> list:
    return [pytest.param(check, parameter, id=f"{check}:{parameter['name']}")
            for check, table in register.load_register()["checks"].items()
            for parameter in table["parameters"]]


@pytest.mark.parametrize(("check", "parameter"), _parameters())
def test_registered_value_is_the_codes(check, parameter):
    assert _normal(current_value(parameter["name"])) == parameter["value"], (
        f"{parameter['name']} differs from the register ({check}): a changed declared parameter "
        "needs a deviation entry in morcos2018/claims/register.toml and its new value there"
    )


def test_every_declared_constant_is_registered():
    registered = {parameter["name"] for table in register.load_register()["checks"].values()
                  for parameter in table["parameters"]}
    for module in MODULES:
        names = vars(importlib.import_module(f"morcos2018.claims.{module}"))
        for constant in names:
            name = f"{module}.{constant}"
            skipped = name in NOT_PARAMETERS or IS_CLAIM_TEXT.search(constant)
            if constant.isupper() and not constant.startswith("_") and not skipped:
                assert name in registered, f"{name} is not in morcos2018/claims/register.toml"


@pytest.mark.parametrize(("check", "parameter"), _parameters())
def test_history_runs_to_the_current_value(check, parameter):
    table = register.load_register()["checks"][check]
    changes = [d for d in table.get("deviations", []) if d["parameter"] == parameter["name"]]
    values = [parameter["declared_value"]]
    for change in changes:
        assert change["from"] == values[-1], (
            f"{parameter['name']} went from {values[-1]!r}, not {change['from']!r}: "
            "a change without its deviation entry")
        values.append(change["to"])
    assert values[-1] == parameter["value"], (
        f"{parameter['name']}: the register says {parameter['value']!r} but its declared value "
        f"and deviations lead to {values[-1]!r}: a change without its deviation entry")
    dates = [parameter["date"]] + [change["date"] for change in changes]
    assert dates == sorted(dates), f"{parameter['name']}: deviations out of order"
    assert all(change["from"] != change["to"] for change in changes)


def test_every_entry_is_complete_and_cites_known_results():
    whole = register.load_register()
    results = set(whole["results"])
    for check, table in whole["checks"].items():
        assert {"figure", "declared_commit", "declared_date", "after"} <= set(table), check
        names = {parameter["name"] for parameter in table["parameters"]}
        for parameter in table["parameters"]:
            assert {"name", "kind", "value", "declared_value", "commit", "date", "after"} <= set(
                parameter), check
            assert parameter["after"] in results | {"none"}, (check, parameter["name"])
        for change in table.get("deviations", []):
            assert {"parameter", "from", "to", "date", "commit", "after", "why"} <= set(change)
            assert change["parameter"] in names, (check, change["parameter"])
            assert change["after"] in results | {"none"} and change["why"], (check, change)


def test_a_parameter_shared_by_checks_has_one_history():
    seen = {}
    for table in register.load_register()["checks"].values():
        for parameter in table["parameters"]:
            name = parameter["name"]
            history = (parameter["declared_value"], parameter["commit"], parameter["date"], tuple(
                (d["commit"], str(d["from"])) for d in table.get("deviations", [])
                if d["parameter"] == name))
            assert seen.setdefault(name, history) == history, name
