"""The findings report of a batch run (``findings.md``) and the README's results tables, both
generated from the claim records the notebooks wrote (:mod:`morcos2018.report`).

- :func:`findings_markdown` turns the records of a batch run into ``findings.md``: a one-screen
  summary table, then one section per notebook with its tests, numbers and figures.
- :func:`readme_results_table` is the README's table of a profile's findings, framed by
  :func:`readme_table_markers`; :func:`replace_readme_table` puts it in the README
  (``scripts/publish_findings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from morcos2018.report import (
    evidence_table,
    evidence_text,
    flatten_mapping,
    format_number,
    key_numbers,
    markdown_cell,
    record_name,
    verdict_text,
    verdict_word,
)

#: A claim is cut to this many characters in the summary table (in full in its section).
SUMMARY_CLAIM_CHARS = 140


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
        tests = [evidence_text(test, units=True) for test in finding.get("evidence") or []]
        numbers = "; ".join(tests) if tests else key_numbers(finding)
        lines.append(
            f"| {images} {label} | {markdown_cell(str(finding.get('claim', '')))} | {numbers} | "
            f"**{markdown_cell(verdict_text(finding))}** |"
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
        :func:`morcos2018.report.record_claim`) and ``figures_dir`` (the figures folder
        relative to the report, for links; optional).
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
        for key, value in flatten_mapping(finding.get("measured") or {}, separator=" › "):
            lines.append(f"| {markdown_cell(key)} | {_readable(value)} |")
        if finding.get("notes"):
            lines += ["", f"*Notes.* {finding['notes']}"]
        images = [f"![{Path(link).name}]({link})" for link in _figure_paths(finding, figures_dir)]
        if images:
            lines += ["", *images]
    return "\n".join(lines) + "\n"


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


def _figure_paths(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    pngs = [f for f in finding.get("figures") or [] if str(f).endswith(".png")]
    return [f"{figures_dir}/{f}" if figures_dir else str(f) for f in pngs]


def _figure_links(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    return [f"[{Path(path).stem}]({path})" for path in _figure_paths(finding, figures_dir)]


def _shorten(text: str, limit: int = SUMMARY_CLAIM_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return markdown_cell(text)


def _readable(value: Any) -> str:
    """A measured value for people: numbers to 3 significant digits, long lists cut."""
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            return f"({len(value)} lists of {len(value[0])} values)"
        shown = ", ".join(_readable(v) for v in value[:8])
        return f"[{shown}{f', … ({len(value)} values)' if len(value) > 8 else ''}]"
    if isinstance(value, Mapping):
        return markdown_cell(", ".join(f"{k}: {_readable(v)}" for k, v in value.items()))
    return format_number(value)
