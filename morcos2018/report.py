"""Claim records: what every notebook of the reproduction ends with (its figures:
:mod:`morcos2018.plotting`; the findings report of a batch: :mod:`morcos2018.findings`).

- :func:`record_claim` states the paper's claim a notebook checks, the numbers it measured and
  whether the claim holds, as ``<results_dir>/<notebook>.json``, and prints a Markdown summary.
- :func:`claim_summary`, :func:`verdict_text`, :func:`evidence_table` and :func:`key_numbers` put
  a record in words and tables; :func:`result_files` finds the records a notebook wrote.

This module needs NumPy but never TensorFlow.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from morcos2018.files import write_json


def record_claim(
    notebook: str,
    claim: str,
    measured: Mapping[str, Any],
    holds: bool | None,
    figures: Iterable[str | os.PathLike[str]],
    results_dir: str | os.PathLike[str],
    profile: str,
    notes: str = "",
    evidence: Any = None,
    figure: str = "",
    part: str | None = None,
) -> dict[str, Any]:
    """Record the paper's claim a notebook checks, the numbers measured and the verdict.

    Writes ``<results_dir>/<notebook>.json`` (atomically; ``<notebook>.<part>.json`` for a
    further claim of the same notebook, see ``part``) and prints a Markdown summary: the claim,
    a table of the measured numbers and the verdict.

    Parameters
    ----------
    notebook
        Notebook stem, e.g. ``"fig2_toy_noise"``; names the JSON file.
    claim
        The paper's claim, in one or two sentences, citing the figure.
    measured
        The numbers the verdict rests on, ``{name: value}``. Values may be numbers, strings,
        NumPy scalars or arrays, or nested mappings/lists of them; they are stored as plain JSON
        (arrays become lists, non-finite floats become ``null``).
    holds
        The outcome: ``True`` holds, ``False`` contradicted (positive evidence against the
        claim), ``None`` inconclusive (say why in ``notes`` or in the evidence's reasons).
        Stored as ``holds`` and, in words, as ``outcome``.
    figures
        The figure files the notebook wrote (paths or names, e.g. what :func:`save_figure`
        returned); only the file names are stored.
    results_dir
        Folder for the JSON file; created if missing.
    profile
        Name of the profile the notebook ran under.
    notes
        Free text: caveats, why a claim is untestable, differences from the paper's setup.
    evidence
        The tests behind the verdict: a :class:`~morcos2018.claims.evidence.Verdict` or
        a list of :class:`~morcos2018.claims.evidence.Evidence` records (their
        ``as_record()``); stored under ``evidence`` and shown as a table. ``None``: no tests.
    figure
        The paper's figure the claim is about, as the results table names it, e.g. ``"Fig 3"``
        or ``"A9"``.
    part
        ``None`` for the notebook's main claim. A notebook that checks more than one claim
        (Figure 3 with Appendices A5, A9 and A10, say) records each further one under its own
        short name, e.g. ``part="a9"``: lower-case letters, digits and ``_`` only.

    Returns
    -------
    dict
        The record as written to JSON.

    Examples
    --------
    >>> import tempfile
    >>> record = record_claim("demo", "1 + 1 = 2", {"sum": 2}, True, [], tempfile.mkdtemp(),
    ...                       "smoke")  # doctest: +ELLIPSIS
    ### demo: ...
    >>> record["holds"]
    True
    """
    _check_labels(notebook, claim, profile, part, figure)
    holds = _check_contents(measured, holds, notes, figures)
    evidence = _evidence_records(evidence)
    record = {
        "notebook": notebook,
        **({"part": part} if part is not None else {}),
        "figure": figure,
        "claim": claim,
        "measured": _json_safe(dict(measured)),
        "holds": holds,
        "outcome": verdict_word(holds),
        "figures": [Path(figure).name for figure in _flatten(figures)],
        "profile": profile,
        "notes": notes,
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    if evidence is not None:
        record["evidence"] = [_json_safe(dict(test)) for test in evidence]
        if evidence and all(test.get("demonstration") for test in record["evidence"]):
            record["outcome"] = "demonstration"  # fixed by construction: no evidence either way
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f"{record_name(record)}.json", record, allow_nan=False)
    print(claim_summary(record))
    return record


def _check_labels(notebook: Any, claim: Any, profile: Any, part: Any, figure: Any) -> None:
    """The checks of :func:`record_claim`'s names: notebook, claim, profile, part and figure."""
    for argument, value in (("notebook", notebook), ("claim", claim), ("profile", profile)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{argument} must be a non-empty string, got {value!r}")
    if Path(notebook).name != notebook:
        raise ValueError(
            f"notebook must be a bare notebook stem such as 'fig2_toy_noise', got {notebook!r}"
        )
    if part is not None and not (
        isinstance(part, str) and part and all(c.islower() or c.isdigit() or c == "_" for c in part)
        and part.isascii()
    ):
        raise ValueError(
            f"part must be a short name of lower-case letters, digits and '_', such as 'a9', "
            f"got {part!r}"
        )
    if not isinstance(figure, str):
        raise ValueError(f"figure must be a string such as 'Fig 3', got {type(figure).__name__}")


def _check_contents(measured: Any, holds: Any, notes: Any, figures: Any) -> bool | None:
    """The checks of :func:`record_claim`'s measured numbers, verdict, notes and figures;
    returns the verdict as a Python bool (or None)."""
    if not isinstance(measured, Mapping):
        raise ValueError(
            f"measured must be a mapping {{name: value}}, got {type(measured).__name__}"
        )
    if isinstance(holds, np.bool_):
        holds = bool(holds)
    if holds is not None and not isinstance(holds, bool):
        raise ValueError(
            f"holds must be True, False or None (not testable at this profile), got {holds!r} "
            f"of type {type(holds).__name__}"
        )
    if not isinstance(notes, str):
        raise ValueError(f"notes must be a string, got {type(notes).__name__}")
    if isinstance(figures, str | os.PathLike):
        raise ValueError(
            f"figures must be a list of paths, got the single path {figures!r}: wrap it in a list"
        )
    return holds


def _evidence_records(evidence: Any) -> Any:
    """:func:`record_claim`'s ``evidence`` as a list of records (a Verdict's ``as_record()``),
    or None; anything else is refused."""
    if hasattr(evidence, "as_record"):
        evidence = evidence.as_record()
    if evidence is not None and (
        isinstance(evidence, str | Mapping) or not all(isinstance(e, Mapping) for e in evidence)
    ):
        raise ValueError(
            "evidence must be a Verdict or a list of Evidence records (Evidence.as_record()), "
            f"got {type(evidence).__name__}"
        )
    return evidence

def record_verdict(
    notebook: str,
    verdict: Any,
    measured: Mapping[str, Any],
    figures: Iterable[str | os.PathLike[str]],
    results_dir: str | os.PathLike[str],
    profile: str,
    *,
    notes: str = "",
    figure: str = "",
    part: str | None = None,
) -> dict[str, Any]:
    """:func:`record_claim` of a claim check's :class:`~morcos2018.claims.evidence.Verdict`: its
    claim, its outcome and its tests come from the verdict, so a notebook cannot pair a claim
    with another check's outcome.

    Examples
    --------
    >>> import tempfile
    >>> from morcos2018.claims.evidence import Evidence, Verdict
    >>> test = Evidence("closer", "mean distance", 0.2, "chance", 0.5, 0.01, 6, "seeds",
    ...                 holds=True)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     record = record_verdict("fig0", Verdict("A claim (Fig 0)", (test,)), {"d": 0.2}, [],
    ...                             folder, "smoke", figure="Fig 0")  # doctest: +ELLIPSIS
    ### ...
    >>> record["holds"], record["evidence"][0]["pvalue"]
    (True, 0.01)
    """
    return record_claim(
        notebook, verdict.claim, measured, verdict.holds, figures, results_dir, profile,
        notes=notes, evidence=verdict, figure=figure, part=part,
    )


def record_name(record: Mapping[str, Any]) -> str:
    """A record's name: its notebook, plus ``.<part>`` for a notebook's further claims."""
    part = record.get("part")
    return f"{record['notebook']}.{part}" if part else str(record["notebook"])


def result_files(results_dir: str | os.PathLike[str], notebook: str) -> list[Path]:
    """The claim records a notebook wrote to ``results_dir``: its main one first, then its parts."""
    folder = Path(results_dir)
    main = folder / f"{notebook}.json"
    return [main] * main.exists() + sorted(folder.glob(f"{notebook}.*.json"))


def claim_summary(record: Mapping[str, Any]) -> str:
    """Markdown summary of a record from :func:`record_claim`: claim, measured numbers, verdict."""
    lines = [
        f"### {record_name(record)}: {outcome_word(record).upper()} (profile "
        f"{record['profile']})",
        "",
        f"**Claim.** {record['claim']}",
        "",
        "| measured | value |",
        "|---|---|",
    ]
    for key, value in flatten_mapping(record["measured"]):
        lines.append(f"| {key} | {_format_value(value)} |")
    if record.get("evidence"):
        lines += ["", *evidence_table(record["evidence"])]
    if record.get("notes"):
        lines += ["", f"**Notes.** {record['notes']}"]
    return "\n".join(lines)


#: The three outcomes of a claim or test, keyed by its ``holds``. A record or test whose outcome
#: is fixed by construction says ``"demonstration"`` instead (its ``outcome`` field).
OUTCOMES = {True: "holds", False: "contradicted", None: "inconclusive"}
#: Records written before 2026-12-05 had two outcomes and "undecided": their ``holds`` False
#: meant "not shown to hold" (p > alpha or an effect below its threshold), not "contradicted".
LEGACY_OUTCOMES = {True: "holds", False: "not shown (two-outcome rule)", None: "inconclusive"}


def verdict_word(holds: bool | None) -> str:
    """``holds``, ``contradicted`` or ``inconclusive``: the outcome of ``holds`` True, False or
    None."""
    return OUTCOMES.get(holds, "inconclusive")


def outcome_word(record: Mapping[str, Any]) -> str:
    """The outcome of a claim record or of one of its tests in words: its ``outcome`` where it has
    one, else (a record written under the earlier two-outcome rule) what its ``holds`` meant then.

    Examples
    --------
    >>> outcome_word({"holds": False, "outcome": "contradicted"})
    'contradicted'
    >>> outcome_word({"holds": False})
    'not shown (two-outcome rule)'
    """
    if "outcome" in record:
        return str(record["outcome"])
    return LEGACY_OUTCOMES.get(record.get("holds"), "inconclusive")


def verdict_text(record: Mapping[str, Any]) -> str:
    """The outcome of a record in words, with the reasons of the tests that did not hold (from
    its ``evidence``), e.g. ``"inconclusive (as far apart: too few units ...)"``."""
    word = outcome_word(record)
    if record.get("holds") is True:
        return word
    reasons = []
    for test in record.get("evidence") or []:
        if test.get("holds") is not True:
            reason = test.get("reason") or outcome_word(test)
            reasons.append(f"{test.get('name', 'test')}: {reason}")
    return f"{word} ({'; '.join(reasons)})" if reasons else word


def format_number(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits for people; ``n/a`` for None, yes/no for bools.

    Examples
    --------
    >>> format_number(0.123456789), format_number(4), format_number(None), format_number(True)
    ('0.123', '4', 'n/a', 'yes')
    >>> format_number(0.00004321, digits=2)
    '4.3e-05'
    """
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return markdown_cell(str(value))


def evidence_table(evidence: Iterable[Mapping[str, Any]]) -> list[str]:
    """Markdown table of the tests behind a verdict (records of ``Evidence.as_record()``): one row
    per test with its statistic, value against its baseline, p-value, the p-value of the test
    against the claim, units, effect and outcome.

    Examples
    --------
    >>> test = {"name": "closer", "statistic": "gap", "value": 0.123456, "null": "perms",
    ...         "null_value": 0.0, "pvalue": 0.004, "contrary_pvalue": 0.99, "units": 12,
    ...         "unit": "networks", "effect": 0.12, "interval": [0.05, 0.2], "holds": True,
    ...         "outcome": "holds"}
    >>> print("\\n".join(evidence_table([test])))  # doctest: +NORMALIZE_WHITESPACE
    | test | statistic | value | baseline | p | p against | units | effect [interval] | outcome |
    |---|---|---|---|---|---|---|---|---|
    | closer | gap | 0.123 | 0 (perms) | 0.004 | 0.99 | 12 networks | 0.12 [0.05, 0.2] | holds |
    """
    lines = [
        "| test | statistic | value | baseline | p | p against | units | effect [interval] "
        "| outcome |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for test in evidence:
        baseline = markdown_cell(test.get("null") or "")
        if test.get("null_value") is not None:
            baseline = f"{format_number(test['null_value'])} ({baseline})" if baseline else (
                format_number(test["null_value"]))
        effect = "" if test.get("effect") is None else format_number(test["effect"])
        if test.get("interval"):
            low, high = test["interval"]
            effect += f" [{format_number(low)}, {format_number(high)}]"
        verdict = outcome_word(test)
        if test.get("reason"):
            verdict += f": {markdown_cell(test['reason'])}"
        units = f"{test.get('units', '')} {test.get('unit', '')}".strip()
        lines.append(
            f"| {markdown_cell(test.get('name', ''))} | "
            f"{markdown_cell(test.get('statistic', ''))} | "
            f"{format_number(test.get('value'))} | {baseline} | "
            f"{format_number(test.get('pvalue'), digits=2)} | "
            f"{format_number(test.get('contrary_pvalue'), digits=2)} | {units} | "
            f"{effect.strip()} | {verdict} |"
        )
    return lines


def evidence_text(test: Mapping[str, Any], units: bool = False) -> str:
    """One evidence test for a table cell: ``name: value vs baseline, p = ...`` (and its units)."""
    text = f"{markdown_cell(test.get('name', ''))}: {format_number(test.get('value'))}"
    if test.get("null_value") is not None:
        text += f" vs {format_number(test['null_value'])}"
    if test.get("pvalue") is not None:
        text += f", p = {format_number(test['pvalue'], digits=2)}"
    if units and test.get("units"):
        text += f" ({test['units']} {test['unit']})"
    return text


def key_numbers(record: Mapping[str, Any], limit: int = 4) -> str:
    """The few numbers a verdict rests on, for the summary table: each test's value, baseline
    and p-value if the record has ``evidence``, else its first ``limit`` measured numbers.

    Examples
    --------
    >>> key_numbers({"measured": {"layer": "conv9", "distance": {"PWCCA": 0.071234,
    ...                                                        "mean CCA": 0.40321}}})
    'distance › PWCCA 0.0712; distance › mean CCA 0.403'
    """
    if record.get("evidence"):
        return "; ".join(evidence_text(test) for test in record["evidence"][:limit])
    numbers = [(key, value) for key, value in flatten_mapping(record.get("measured") or {},
                                                               separator=" › ")
               if isinstance(value, int | float) and not isinstance(value, bool)]
    return "; ".join(f"{markdown_cell(key)} {format_number(value)}"
                     for key, value in numbers[:limit])


def markdown_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def flatten_mapping(
    mapping: Mapping[str, Any], prefix: str = "", separator: str = "."
) -> list[tuple[str, Any]]:
    """``(name, value)`` of every leaf of a nested mapping, the keys on its path joined by
    ``separator``, e.g. ``{"a": {"b": 1}}`` gives ``[("a.b", 1)]``."""
    rows = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(flatten_mapping(value, prefix=f"{name}{separator}", separator=separator))
        else:
            rows.append((name, value))
    return rows


def _flatten(items: Iterable[Any]) -> list[Any]:
    """Paths from a list that may hold lists of paths (e.g. several save_figure results)."""
    flat = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            flat.append(item)
        else:
            flat.extend(_flatten(item))
    return flat


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        shown = ", ".join(_format_value(v) for v in value[:8])
        return f"[{shown}{', ...' if len(value) > 8 else ''}]"
    return str(value)


def _json_safe(value: Any) -> Any:
    """Plain-JSON copy of ``value``: NumPy to Python, tuples to lists, NaN/inf to None."""
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    raise ValueError(
        f"measured holds a value of type {type(value).__name__} ({value!r}) that JSON cannot "
        "store: convert it to a number, string, list or mapping"
    )


def versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries a result depends on (those installed).

    Read from the installed distributions' metadata, so nothing is imported for it.
    """
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    distributions = {"cca": "pwcca", "morcos2018": "morcos2018"}  # import name: distribution
    for name in ("cca", "morcos2018", "numpy", "scipy", "tensorflow", "keras", "papermill"):
        try:
            found[name] = version(distributions.get(name, name))
        except PackageNotFoundError:
            continue
    return found

