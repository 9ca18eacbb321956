"""Claims and findings: what every notebook of the reproduction ends with (its figures:
:mod:`morcos2018.plotting`).

- :func:`record_claim` states the paper's claim a notebook checks, the numbers it measured and
  whether the claim holds, as ``<results_dir>/<notebook>.json``, and prints a Markdown summary.
- :func:`findings_markdown` turns the records of a batch run into ``findings.md``: a one-screen
  summary table, then one section per notebook with its tests, numbers and figures.

This module needs matplotlib but never TensorFlow.
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
        ``True`` or ``False`` if the claim was tested, ``None`` when it cannot be tested at this
        profile (say why in ``notes``).
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
    if hasattr(evidence, "as_record"):
        evidence = evidence.as_record()
    if evidence is not None and (
        isinstance(evidence, str | Mapping) or not all(isinstance(e, Mapping) for e in evidence)
    ):
        raise ValueError(
            "evidence must be a Verdict or a list of Evidence records (Evidence.as_record()), "
            f"got {type(evidence).__name__}"
        )
    record = {
        "notebook": notebook,
        **({"part": part} if part is not None else {}),
        "figure": figure,
        "claim": claim,
        "measured": _json_safe(dict(measured)),
        "holds": holds,
        "figures": [Path(figure).name for figure in _flatten(figures)],
        "profile": profile,
        "notes": notes,
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    if evidence is not None:
        record["evidence"] = [_json_safe(dict(test)) for test in evidence]
    folder = Path(results_dir)
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / f"{record_name(record)}.json", record, allow_nan=False)
    print(claim_summary(record))
    return record


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
    verdict = {True: "HOLDS", False: "DOES NOT HOLD", None: "UNDECIDED"}
    lines = [
        f"### {record_name(record)}: {verdict[record['holds']]} (profile {record['profile']})",
        "",
        f"**Claim.** {record['claim']}",
        "",
        "| measured | value |",
        "|---|---|",
    ]
    for key, value in _flatten_mapping(record["measured"]):
        lines.append(f"| {key} | {_format_value(value)} |")
    if record.get("evidence"):
        lines += ["", *evidence_table(record["evidence"])]
    if record.get("notes"):
        lines += ["", f"**Notes.** {record['notes']}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- findings report

#: A claim is cut to this many characters in the summary table (in full in its section).
SUMMARY_CLAIM_CHARS = 140


def verdict_word(holds: bool | None) -> str:
    """``holds``, ``does not hold`` or ``undecided`` (a None verdict: too few data to decide)."""
    return {True: "holds", False: "does not hold"}.get(holds, "undecided")


def verdict_text(record: Mapping[str, Any]) -> str:
    """The verdict of a record in words, with the reasons of the tests that failed or could not
    decide (from its ``evidence``), e.g. ``"undecided (as far apart: fewer than 4 networks per
    group)"``."""
    word = verdict_word(record.get("holds"))
    if record.get("holds") is True:
        return word
    reasons = []
    for test in record.get("evidence") or []:
        if test.get("holds") is not True:
            reason = test.get("reason") or verdict_word(test.get("holds"))
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
    return _cell(str(value))


def evidence_table(evidence: Iterable[Mapping[str, Any]]) -> list[str]:
    """Markdown table of the tests behind a verdict (records of ``Evidence.as_record()``): one row
    per test with its statistic, value against its baseline, p-value, units, effect and verdict.

    Examples
    --------
    >>> test = {"name": "closer", "statistic": "gap", "value": 0.123456, "null": "perms",
    ...         "null_value": 0.0, "p_value": 0.004, "units": 12, "unit": "networks",
    ...         "effect": 0.12, "interval": [0.05, 0.2], "holds": True}
    >>> print("\\n".join(evidence_table([test])))  # doctest: +NORMALIZE_WHITESPACE
    | test | statistic | value | baseline | p | units | effect [interval] | verdict |
    |---|---|---|---|---|---|---|---|
    | closer | gap | 0.123 | 0 (perms) | 0.004 | 12 networks | 0.12 [0.05, 0.2] | holds |
    """
    lines = [
        "| test | statistic | value | baseline | p | units | effect [interval] | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for test in evidence:
        baseline = _cell(test.get("null") or "")
        if test.get("null_value") is not None:
            baseline = f"{format_number(test['null_value'])} ({baseline})" if baseline else (
                format_number(test["null_value"]))
        effect = "" if test.get("effect") is None else format_number(test["effect"])
        if test.get("interval"):
            low, high = test["interval"]
            effect += f" [{format_number(low)}, {format_number(high)}]"
        verdict = {True: "holds", False: "does not hold"}.get(test.get("holds"), "undecided")
        if test.get("reason"):
            verdict += f": {_cell(test['reason'])}"
        units = f"{test.get('units', '')} {test.get('unit', '')}".strip()
        lines.append(
            f"| {_cell(test.get('name', ''))} | {_cell(test.get('statistic', ''))} | "
            f"{format_number(test.get('value'))} | {baseline} | "
            f"{format_number(test.get('p_value'), digits=2)} | {units} | {effect.strip()} | "
            f"{verdict} |"
        )
    return lines


def _test_text(test: Mapping[str, Any], units: bool = False) -> str:
    """One evidence test for a table cell: ``name: value vs baseline, p = ...`` (and its units)."""
    text = f"{_cell(test.get('name', ''))}: {format_number(test.get('value'))}"
    if test.get("null_value") is not None:
        text += f" vs {format_number(test['null_value'])}"
    if test.get("p_value") is not None:
        text += f", p = {format_number(test['p_value'], digits=2)}"
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
        return "; ".join(_test_text(test) for test in record["evidence"][:limit])
    numbers = [(key, value) for key, value in _flatten_mapping(record.get("measured") or {},
                                                               separator=" › ")
               if isinstance(value, int | float) and not isinstance(value, bool)]
    return "; ".join(f"{_cell(key)} {format_number(value)}" for key, value in numbers[:limit])


README_TABLE_START = "<!-- results table: generated from findings/default.json, do not edit -->"
README_TABLE_END = "<!-- end of results table -->"


def readme_table_markers(profile: str = "default") -> tuple[str, str]:
    """The lines that frame a profile's results table in the README: :data:`README_TABLE_START`
    and :data:`README_TABLE_END` for the default profile, the profile's name in both otherwise.

    Examples
    --------
    >>> readme_table_markers("extended")[1]
    '<!-- end of results table (extended) -->'
    """
    if profile == "default":
        return README_TABLE_START, README_TABLE_END
    return (f"<!-- results table ({profile}): generated from findings/{profile}.json, do not "
            "edit -->", f"<!-- end of results table ({profile}) -->")


def readme_results_table(report: Mapping[str, Any], figures_dir: str = "figures") -> str:
    """The README's results table, generated from a run's findings (``findings.json``).

    One row per claim record: the paper's figure with its thumbnails, the claim as the check
    states it, each test's value against its baseline with its p-value and units, and the
    verdict with the reasons of any test that failed or could not decide. Notebooks that failed
    or were interrupted get a row saying so. The rows are framed by the report's profile's
    :func:`readme_table_markers`, so a script can replace them and a test can compare them.
    """
    start, end = readme_table_markers(Path(str(report.get("profile", "default"))).name)
    lines = [
        start,
        "| figure | the paper's claim, as tested | our run: each test, value vs baseline "
        "| verdict |",
        "|---|---|---|---|",
    ]
    for finding in report["findings"]:
        images = " ".join(
            f'<img src="{figures_dir}/{name}" width="300">'
            for name in dict.fromkeys(finding.get("figures") or [])
            if str(name).endswith(".png")
        )
        label = finding.get("figure") or record_name(finding)
        tests = [_test_text(test, units=True) for test in finding.get("evidence") or []]
        numbers = "; ".join(tests) if tests else key_numbers(finding)
        lines.append(
            f"| {images} {label} | {_cell(str(finding.get('claim', '')))} | {numbers} | "
            f"**{_cell(verdict_text(finding))}** |"
        )
    for name in report.get("failed", []):
        lines.append(f"| {name} | (the notebook failed in this run) |  | **failed** |")
    for name in report.get("interrupted", []):
        lines.append(f"| {name} | (interrupted before it finished) |  | **not run** |")
    lines.append(end)
    return "\n".join(lines) + "\n"


def replace_readme_table(readme: str, table: str, profile: str = "default") -> str:
    """``readme`` with the block between the profile's table markers replaced by ``table``."""
    first, last = readme_table_markers(profile)
    start, end = readme.find(first), readme.find(last)
    if start < 0 or end < start:
        raise ValueError(
            f"the README has no results table framed by {first!r} and {last!r}: add the two "
            "marker lines where the table goes"
        )
    return readme[:start] + table + readme[end + len(last) + 1:]


def _batch(report: Mapping[str, Any]) -> str:
    """What the run's time covers, when the last batch ran only some of the notebooks (the
    others' records are from earlier batches, e.g. after ``cca-reproduce --only``)."""
    ran = report.get("ran")
    if ran is None or set(ran) >= {str(f.get("notebook")) for f in report["findings"]}:
        return ""
    if not ran:
        return " (every notebook was up to date; their records are from earlier runs)"
    return (f" for {len(ran)} notebook{'s' if len(ran) != 1 else ''} ({', '.join(ran)}); "
            "the other records are from earlier runs")


def findings_markdown(report: Mapping[str, Any]) -> str:
    """The findings report of a batch run as Markdown.

    It opens with a summary table (notebook, claim, key numbers to 3 significant digits,
    verdict, figure link), then gives one section per notebook: its claim, its tests as a table
    (when the record has ``evidence``), the measured numbers, notes and figures.

    Parameters
    ----------
    report
        What ``findings.json`` holds: ``profile``, ``finished``, ``seconds``, ``ran`` (the
        notebooks the timed batch ran; optional), ``versions``,
        ``failed`` and ``interrupted`` (notebook names), ``findings`` (the records of
        :func:`record_claim`) and ``figures_dir`` (the figures folder relative to the report,
        for links; optional).
    """
    figures_dir = report.get("figures_dir")
    versions = ", ".join(f"{k} {v}" for k, v in report.get("versions", {}).items())
    findings = report["findings"]
    lines = [
        f"# Findings ({report['profile']} profile)",
        "",
        f"Run finished {report['finished']} in {report['seconds'] / 60:.1f} min{_batch(report)}; "
        f"{versions}.",
        "",
        "| notebook | claim | key numbers | verdict | figure |",
        "|---|---|---|---|---|",
    ]
    for finding in findings:
        name = record_name(finding)
        anchor = name.lower().replace(".", "")
        pictures = _figure_links(finding, figures_dir)
        lines.append(
            f"| [{name}](#{anchor}) | {_shorten(str(finding.get('claim', '')))} | "
            f"{key_numbers(finding)} | **{verdict_word(finding.get('holds'))}** | "
            f"{pictures[0] if pictures else ''} |"
        )
    for name in report.get("failed", []):
        lines.append(f"| {name} | (notebook failed: see its log, {name}.log) |  | failed |  |")
    for name in report.get("interrupted", []):
        lines.append(
            f"| {name} | (interrupted before it finished: rerun to resume) |  | not run |  |"
        )
    for finding in findings:
        lines += ["", f"## {record_name(finding)}", ""]
        lines += [f"**Verdict: {verdict_word(finding.get('holds'))}**", ""]
        lines += [f"**Claim.** {str(finding.get('claim', '')).strip()}", ""]
        if finding.get("evidence"):
            lines += ["**Tests.**", "", *evidence_table(finding["evidence"]), ""]
        lines += ["| measured | value |", "|---|---|"]
        for key, value in _flatten_mapping(finding.get("measured") or {}, separator=" › "):
            lines.append(f"| {_cell(key)} | {_readable(value)} |")
        if finding.get("notes"):
            lines += ["", f"*Notes.* {finding['notes']}"]
        images = [f"![{Path(link).name}]({link})" for link in _figure_paths(finding, figures_dir)]
        if images:
            lines += ["", *images]
    return "\n".join(lines) + "\n"


def _figure_paths(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    pngs = [f for f in finding.get("figures") or [] if str(f).endswith(".png")]
    return [f"{figures_dir}/{f}" if figures_dir else str(f) for f in pngs]


def _figure_links(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    return [f"[{Path(path).stem}]({path})" for path in _figure_paths(finding, figures_dir)]


def _shorten(text: str, limit: int = SUMMARY_CLAIM_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return _cell(text)


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _readable(value: Any) -> str:
    """A measured value for people: numbers to 3 significant digits, long lists cut."""
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            return f"({len(value)} lists of {len(value[0])} values)"
        shown = ", ".join(_readable(v) for v in value[:8])
        return f"[{shown}{f', … ({len(value)} values)' if len(value) > 8 else ''}]"
    if isinstance(value, Mapping):
        return _cell(", ".join(f"{k}: {_readable(v)}" for k, v in value.items()))
    return format_number(value)


def _flatten(items: Iterable[Any]) -> list[Any]:
    """Paths from a list that may hold lists of paths (e.g. several save_figure results)."""
    flat = []
    for item in items:
        if isinstance(item, str | os.PathLike):
            flat.append(item)
        else:
            flat.extend(_flatten(item))
    return flat


def _flatten_mapping(
    mapping: Mapping[str, Any], prefix: str = "", separator: str = "."
) -> list[tuple[str, Any]]:
    rows = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows.extend(_flatten_mapping(value, prefix=f"{name}{separator}", separator=separator))
        else:
            rows.append((name, value))
    return rows


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
