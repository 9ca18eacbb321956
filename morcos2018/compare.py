"""Did a rerun reproduce the published findings? ``cca-reproduce --compare FILE``.

:func:`compare_findings` sets two findings reports (what ``findings.json`` holds, see
:func:`morcos2018.runner.write_findings`) side by side, claim record by claim record. Records are
matched by their name (:func:`morcos2018.report.record_name`: the notebook, plus ``.<part>`` for a
notebook's further claims), the tests of a record by their name (in order, where a name repeats),
and the measured numbers by their path in ``measured`` (``key › key[i]``). For each record it says
whether the outcome (holds, contradicted or inconclusive: :func:`morcos2018.report.outcome_word`)
reproduced, and for each test and measured
number that moved, by how much: ``absolute`` ``|rerun - published|`` and ``relative`` (that over
``|published|``; ``None`` when the published number is 0). Records, tests and numbers present on
one side only are listed.

:func:`comparison_summary` is the one line ``cca-reproduce`` prints first, :func:`comparison_lines`
the lines after it, one per record.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from morcos2018.report import format_number, outcome_word, record_name

#: The numbers of an evidence test (morcos2018.report.record_verdict) that a comparison measures.
TEST_NUMBERS = ("value", "null_value", "pvalue", "effect", "interval", "units")


def compare_findings(published: Mapping[str, Any], rerun: Mapping[str, Any]) -> dict[str, Any]:
    """How the findings of ``rerun`` differ from those of ``published``.

    Parameters
    ----------
    published, rerun
        Findings reports: mappings with a ``findings`` list of claim records.

    Returns
    -------
    dict
        ``records``: one entry per record on both sides (``record``, ``outcome`` as
        ``[published, rerun]``, ``reproduced``, ``tests`` and ``measured``: the numbers that
        moved, each with ``published``, ``rerun``, ``absolute`` and ``relative``; ``compared``:
        how many numbers were compared; ``largest``: the number that moved most, or ``None``;
        ``only_published`` and ``only_rerun``: tests or numbers on one side only). Then
        ``reproduced`` and ``changed`` (record names), ``only_published`` and ``only_rerun``
        (records on one side only) and ``largest`` (the number that moved most over all records,
        with its record, or ``None``).

    Examples
    --------
    >>> old = {"findings": [{"notebook": "fig2", "holds": True, "measured": {"gap": 0.5}}]}
    >>> new = {"findings": [{"notebook": "fig2", "holds": True, "measured": {"gap": 0.25}}]}
    >>> compared = compare_findings(old, new)
    >>> compared["reproduced"], compared["largest"]["absolute"], compared["largest"]["relative"]
    (['fig2'], 0.25, 0.5)
    """
    for side, report in (("published", published), ("rerun", rerun)):
        if not isinstance(report, Mapping) or not isinstance(report.get("findings"), list):
            raise ValueError(f"the {side} findings have no 'findings' list of claim records: "
                             "pass a findings.json that cca-reproduce wrote")
    old = {record_name(r): r for r in published["findings"]}
    new = {record_name(r): r for r in rerun["findings"]}
    records = [compare_record(old[name], new[name]) for name in old if name in new]
    moved = [{"record": r["record"], **r["largest"]} for r in records if r["largest"]]
    return {
        "records": records,
        "reproduced": [r["record"] for r in records if r["reproduced"]],
        "changed": [r["record"] for r in records if not r["reproduced"]],
        "only_published": [name for name in old if name not in new],
        "only_rerun": [name for name in new if name not in old],
        "largest": max(moved, key=lambda m: m["absolute"], default=None),
    }


def compare_record(published: Mapping[str, Any], rerun: Mapping[str, Any]) -> dict[str, Any]:
    """One record of :func:`compare_findings`: its outcome, and its tests' and measured numbers
    that moved."""
    old_tests = dict(_named_tests(published.get("evidence") or []))
    new_tests = dict(_named_tests(rerun.get("evidence") or []))
    tests, compared = [], 0
    for name in (n for n in old_tests if n in new_tests):
        old, new = old_tests[name], new_tests[name]
        numbers = _pairs({k: old.get(k) for k in TEST_NUMBERS if k in old},
                         {k: new.get(k) for k in TEST_NUMBERS if k in new})
        compared += len(numbers)
        outcomes = [outcome_word(old), outcome_word(new)]
        tests.append({"name": name, "outcome": outcomes, "reproduced": outcomes[0] == outcomes[1],
                      "moved": [n for n in numbers if n["absolute"] != 0]})
    old_measured, new_measured = published.get("measured") or {}, rerun.get("measured") or {}
    measured = _pairs(old_measured, new_measured)
    compared += len(measured)
    moved = [{"test": t["name"], **n} for t in tests for n in t["moved"]]
    moved += [n for n in measured if n["absolute"] != 0]
    return {
        "record": record_name(published),
        "outcome": [outcome_word(published), outcome_word(rerun)],
        "reproduced": outcome_word(published) == outcome_word(rerun),
        "tests": tests,
        "measured": [n for n in measured if n["absolute"] != 0],
        "compared": compared,
        "largest": max(moved, key=lambda n: n["absolute"], default=None),
        "only_published": _one_side(old_tests, new_tests, old_measured, new_measured),
        "only_rerun": _one_side(new_tests, old_tests, new_measured, old_measured),
    }


def number_change(published: float, rerun: float) -> dict[str, Any]:
    """``published``, ``rerun``, ``absolute`` (``|rerun - published|``) and ``relative`` (that
    over ``|published|``, ``None`` when ``published`` is 0 and the number moved).

    Examples
    --------
    >>> number_change(2.0, 1.5)
    {'published': 2.0, 'rerun': 1.5, 'absolute': 0.5, 'relative': 0.25}
    """
    absolute = abs(rerun - published)
    relative = absolute / abs(published) if published else (0.0 if not absolute else None)
    return {"published": published, "rerun": rerun, "absolute": absolute, "relative": relative}


def comparison_summary(comparison: Mapping[str, Any], label: str) -> str:
    """The one line that opens a comparison's report, e.g. ``compare with findings/default.json:
    19 of 20 outcomes reproduced; 1 changed: fig3_memorization (inconclusive -> holds); largest
    numeric change 0.0003 (fig4_width, test 'x' value)``."""
    records = {r["record"]: r for r in comparison["records"]}
    parts = [f"compare with {label}: {len(comparison['reproduced'])} of {len(records)} outcomes "
             "reproduced"]
    if comparison["changed"]:
        changes = ", ".join(f"{name} ({_outcomes(records[name]['outcome'])})"
                            for name in comparison["changed"])
        parts.append(f"{len(comparison['changed'])} changed: {changes}")
    largest = comparison["largest"]
    parts.append(f"largest numeric change {_change(largest)} ({largest['record']}, "
                 f"{_where(largest)})" if largest else "no number moved")
    for key, side in (("only_published", "the published findings"), ("only_rerun", "this run")):
        if comparison[key]:
            count = len(comparison[key])
            parts.append(f"{count} record{'s' if count != 1 else ''} only in {side}: "
                         f"{', '.join(comparison[key])}")
    return "; ".join(parts)


def comparison_lines(comparison: Mapping[str, Any]) -> list[str]:
    """One line per record of a comparison (its outcome, how many of its numbers moved and the
    largest move), then one per test whose outcome changed or that one side lacks."""
    lines = []
    for record in comparison["records"]:
        moved = len(record["measured"]) + sum(len(t["moved"]) for t in record["tests"])
        word = "reproduced" if record["reproduced"] else "CHANGED"
        line = (f"  {record['record']}: {_outcomes(record['outcome'])}, {word}; {moved} of "
                f"{record['compared']} numbers moved")
        largest = record["largest"]
        lines.append(line + (f", most {_change(largest)} ({_where(largest)})" if largest else ""))
        lines += [f"    test {t['name']!r}: {_outcomes(t['outcome'])}" for t in record["tests"]
                  if not t["reproduced"]]
        for key, side in (("only_published", "the published findings"), ("only_rerun", "this run")):
            if record[key]:
                shown = ", ".join(record[key][:3]) + (", …" if len(record[key]) > 3 else "")
                lines.append(f"    {len(record[key])} only in {side}: {shown}")
    lines += [f"  {name}: only in the published findings" for name in comparison["only_published"]]
    lines += [f"  {name}: only in this run" for name in comparison["only_rerun"]]
    return lines


def _named_tests(tests: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """A record's tests by name; a name's second test is ``name #2``, and so on."""
    seen: dict[str, int] = {}
    for test in tests:
        name = str(test.get("name", ""))
        seen[name] = seen.get(name, 0) + 1
        yield (name if seen[name] == 1 else f"{name} #{seen[name]}"), test


def _one_side(tests: Mapping[str, Any], other_tests: Mapping[str, Any], measured: Any,
              other_measured: Any) -> list[str]:
    """The tests and measured numbers of one side that the other lacks."""
    other = dict(_numbers(other_measured))
    return ([f"test {name!r}" for name in tests if name not in other_tests]
            + [f"measured {key}" for key, _ in _numbers(measured) if key not in other])


def _numbers(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    """The finite numbers (not bools) of a nested mapping or list, by path (``a › b[2]``)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _numbers(item, f"{path} › {key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _numbers(item, f"{path}[{index}]")
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        yield path, value


def _pairs(published: Any, rerun: Any) -> list[dict[str, Any]]:
    """:func:`number_change` of every number at a path both sides have, with its ``key``."""
    new = dict(_numbers(rerun))
    return [{"key": key, **number_change(value, new[key])}
            for key, value in _numbers(published) if key in new]


def _outcomes(outcomes: Sequence[str]) -> str:
    old, new = outcomes
    return old if old == new else f"{old} -> {new}"


def _change(change: Mapping[str, Any]) -> str:
    relative = change["relative"]
    if relative is None:
        return format_number(change["absolute"], 2)
    percent = 100 * relative
    return f"{format_number(change['absolute'], 2)} ({percent:.2g}%)" if percent < 100 else (
        f"{format_number(change['absolute'], 2)} ({percent:.0f}%)")


def _where(change: Mapping[str, Any]) -> str:
    return f"test {change['test']!r} {change['key']}" if "test" in change else change["key"]
