"""The findings report of a batch run (``findings.md``) and the README's results tables, both
generated from the claim records the notebooks wrote (:mod:`morcos2018.report`).

- :func:`findings_markdown` turns the records of a batch run into ``findings.md``: what the
  records are (how many, from which notebooks, when, with which versions), a summary table, then
  one section per record, under its :func:`record_anchor`, with its tests, numbers and figures.
- :func:`readme_results_table` is the README's results of a profile: the :func:`tally` of
  outcomes and one short row per claim (:func:`claim_title`, the outcome, the
  :func:`deciding_test`, links), framed by :func:`readme_table_markers`;
  :func:`replace_readme_table` puts it in the README (``scripts/publish_findings.py``).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from morcos2018.batch_log import time_text
from morcos2018.report import (
    evidence_table,
    evidence_text,
    flatten_mapping,
    format_number,
    key_numbers,
    markdown_cell,
    outcome_word,
    record_name,
)

#: A claim's short title (:func:`claim_title`) stops adding clauses past this many characters.
TITLE_CHARS = 110

#: The paper's own number for a claim, by the record's figure label, where the paper states one
#: (/work/shared/PAPER.md, the table of the paper's figures: Figure 4b, "test accuracy vs
#: distance, r = -0.96"). The paper states no other outcome as a number.
PAPER_NUMBERS = {"Fig 4": "paper: accuracy vs distance r = -0.96"}

#: The README's thumbnails' width in pixels.
THUMBNAIL_WIDTH = 120

README_TABLE_START = "<!-- results table: generated from findings/default.json, do not edit -->"
README_TABLE_END = "<!-- end of results table -->"

_OUTCOMES = ("holds", "contradicted", "inconclusive", "demonstration",
             "not shown (two-outcome rule)")


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


def record_anchor(record: Mapping[str, Any]) -> str:
    """The HTML anchor of a record's section in ``findings.md``: its :func:`record_name`,
    lower case, a part after a hyphen.

    Examples
    --------
    >>> record_anchor({"notebook": "figA2_toy_rnn", "part": "nonlinear"})
    'figa2_toy_rnn-nonlinear'
    """
    return re.sub(r"[^a-z0-9_-]", "-", record_name(record).lower())


def claim_title(claim: str, limit: int = TITLE_CHARS) -> str:
    """A claim's short title: its first part (up to ``"; "``) without the figure it cites and
    without parenthetical remarks, cut after the last whole clause (``", "`` or ``": "``) that
    ends within ``limit`` characters; a first clause is kept whole, and a first clause shorter
    than 30 characters keeps the next one.

    Examples
    --------
    >>> claim_title("Figure 2: mean CCA is sensitive to noise, PWCCA is robust (on toys), and "
    ...             "SVCCA lies in between", limit=60)
    'mean CCA is sensitive to noise, PWCCA is robust'
    """
    clauses = _clauses(_outside_parentheses(" ".join(claim.split()).split("; ")[0]))
    cited = r"(Figure|Appendix|Fig\.?) [\w ,-]{1,12}:"
    if len(clauses) > 1 and re.fullmatch(cited, clauses[0].strip()):
        clauses = clauses[1:]
    title = clauses[0]
    for clause in clauses[1:]:
        if len(title) + len(clause) > limit and len(title) >= 30:
            break
        title += clause
    return title.rstrip(",:; ")


def deciding_test(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The test of a record's ``evidence`` that decides its outcome: the first test with the
    record's outcome (contradicted or inconclusive) where it does not hold, else the first; None
    for a record without evidence."""
    tests = list(record.get("evidence") or [])
    holds = record.get("holds")
    if holds is not True:
        deciding = [t for t in tests if t.get("holds") is holds]
        if deciding:
            return deciding[0]
    return tests[0] if tests else None


def tally(report: Mapping[str, Any]) -> dict[str, int]:
    """How many of a run's claims hold, are contradicted, are inconclusive, failed or were not
    run, in the words of :func:`morcos2018.report.outcome_word` (outcomes without a claim left
    out).

    Examples
    --------
    >>> tally({"findings": [{"holds": True}, {"holds": None}, {"holds": True}], "failed": ["x"]})
    {'holds': 2, 'inconclusive': 1, 'failed': 1}
    """
    counts = Counter(outcome_word(record) for record in report["findings"])
    counts["failed"] = len(report.get("failed") or [])
    counts["not run"] = len(report.get("interrupted") or [])
    return {word: counts[word] for word in (*_OUTCOMES, "failed", "not run") if counts[word]}


def tally_line(report: Mapping[str, Any]) -> str:
    """The tally of a run's outcomes in one line, e.g. ``**20 claims:** 10 **holds** · ...``."""
    counts = tally(report)
    claims = len(report["findings"])
    parts = [f"{count} **{word}**" for word, count in counts.items()]
    return f"**{claims} claim{'s' if claims != 1 else ''}:** {' · '.join(parts)}"


def readme_results_table(report: Mapping[str, Any], figures_dir: str = "figures") -> str:
    """The README's results of a profile, generated from a run's findings (``findings.json``).

    The :func:`tally_line`, the run time from an empty cache where the findings measured it
    (:func:`morcos2018.batch_log.time_text`), then one short row per claim record: a thumbnail
    of its figure, the figure label and the claim's :func:`claim_title`, the outcome, the
    :func:`deciding_test` (value vs baseline, p-value, units) with the paper's own number where
    it states one (:data:`PAPER_NUMBERS`), and links to the notebook and to the record's section
    of ``findings/<profile>.md``, which has every test. Notebooks that failed or were
    interrupted get a row saying so. The block is framed by the profile's
    :func:`readme_table_markers`, so a script can replace it and a test can compare it.
    """
    profile = Path(str(report.get("profile", "default"))).name
    start, end = readme_table_markers(profile)
    lines = [start, tally_line(report), ""]
    if report.get("timing"):
        lines += [time_text(report["timing"]), ""]
    lines += [
        "| figure | the paper's claim | outcome | the deciding test: ours vs baseline | more |",
        "|---|---|---|---|---|",
    ]
    shared = Counter(record.get("figure") for record in report["findings"])
    for record in report["findings"]:
        lines.append(_readme_row(record, profile, figures_dir, shared[record.get("figure")] > 1))
    for name in report.get("failed", []):
        lines.append(f"|  | {name}: the notebook failed in this run | **failed** |  |  |")
    for name in report.get("interrupted", []):
        lines.append(f"|  | {name}: interrupted before it finished | **not run** |  |  |")
    lines.append(end)
    return "\n".join(lines) + "\n"


def _readme_row(record: Mapping[str, Any], profile: str, figures_dir: str, shared: bool) -> str:
    pngs = [str(name) for name in record.get("figures") or [] if str(name).endswith(".png")]
    image = f'<img src="{figures_dir}/{pngs[0]}" width="{THUMBNAIL_WIDTH}">' if pngs else ""
    label = str(record.get("figure") or record_name(record))
    if shared and record.get("part"):
        label += f" · {record['part']}"
    test = deciding_test(record)
    number = evidence_text(test, units=True) if test else key_numbers(record, limit=1)
    if record.get("figure") in PAPER_NUMBERS:
        number += f"; {PAPER_NUMBERS[record['figure']]}"
    notebook = record["notebook"]
    links = (f"[notebook](notebooks/{notebook}.ipynb), "
             f"[tests](findings/{profile}.md#{record_anchor(record)})")
    return (f"| {image} | **{markdown_cell(label)}** "
            f"{markdown_cell(claim_title(str(record.get('claim', ''))))} | "
            f"**{outcome_word(record)}** | {number} | {links} |")


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

    It opens with what the records are (:func:`run_description`) and a summary table (record,
    claim in full, key numbers to 3 significant digits, verdict, figure link), then gives one
    section per record under an explicit anchor (:func:`record_anchor`): its claim, its tests
    as a table (when the record has ``evidence``), the measured numbers, notes and figures.

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
    findings = report["findings"]
    lines = [
        f"# Findings ({report['profile']} profile)",
        "",
        run_description(report),
        "",
        "| record | claim | key numbers | verdict | figure |",
        "|---|---|---|---|---|",
    ]
    for finding in findings:
        pictures = _figure_links(finding, figures_dir)
        lines.append(
            f"| [{record_name(finding)}](#{record_anchor(finding)}) | "
            f"{markdown_cell(str(finding.get('claim', '')))} | {key_numbers(finding)} | "
            f"**{outcome_word(finding)}**{' (stale)' if finding.get('stale') else ''} | "
            f"{pictures[0] if pictures else ''} |"
        )
    for name in report.get("failed", []):
        lines.append(f"| {name} | (notebook failed: see its log, {name}.log) |  | failed |  |")
    for name in report.get("interrupted", []):
        lines.append(
            f"| {name} | (interrupted before it finished: rerun to resume) |  | not run |  |"
        )
    common = _common_versions(findings)
    for finding in findings:
        lines += _record_section(finding, figures_dir, common)
    return "\n".join(lines) + "\n"


def run_description(report: Mapping[str, Any]) -> str:
    """What a run's records are, for the head of ``findings.md``: how many, from how many
    notebooks, the outcomes, when they were produced and with which versions (from the records
    themselves, which may come from several batches), then the last batch's time and notebooks.
    """
    findings = report["findings"]
    notebooks = len({str(f.get("notebook")) for f in findings})
    text = (f"{len(findings)} claim record{'s' if len(findings) != 1 else ''} from {notebooks} "
            f"notebook{'s' if notebooks != 1 else ''} of the {report['profile']} profile")
    stamps = sorted(str(f["timestamp"]) for f in findings if f.get("timestamp"))
    if stamps:
        first, last = _when(stamps[0]), _when(stamps[-1])
        text += f", produced {first}" if first == last else f", produced between {first} and {last}"
    common = _common_versions(findings) or dict(report.get("versions") or {})
    if common:
        text += f", with {_versions_text(common)}"
        if any(f.get("versions") and f["versions"] != common for f in findings):
            text += " (the records that differ name their own)"
    counts = tally(report)
    text += ". Outcomes: " + ", ".join(f"{word} {count}" for word, count in counts.items()) + "."
    timing = f" {time_text(report['timing'])}" if report.get("timing") else ""
    return f"{text} {_last_batch(report)}{timing} Each claim is stated in full in its section."


def _last_batch(report: Mapping[str, Any]) -> str:
    """The last batch's finishing time, duration and notebooks (after ``cca-reproduce --only``
    it ran only some of them; the others' records are from earlier batches)."""
    ran = report.get("ran")
    when = f"The last batch finished {report['finished']} after {report['seconds'] / 60:.1f} min"
    if ran is None or set(ran) >= {str(f.get("notebook")) for f in report["findings"]}:
        return f"{when}."
    if not ran:
        return f"{when}: every notebook was up to date, so every record is from earlier batches."
    return (f"{when}; it ran {len(ran)} notebook{'s' if len(ran) != 1 else ''} "
            f"({', '.join(ran)}), the other records are from earlier batches.")


def _record_section(finding: Mapping[str, Any], figures_dir: str | None,
                    common: Mapping[str, str]) -> list[str]:
    name = record_name(finding)
    lines = ["", f'<a id="{record_anchor(finding)}"></a>', "", f"## {name}", ""]
    provenance = [f"notebook `{finding.get('notebook')}`"]
    if finding.get("figure"):
        provenance.insert(0, f"the paper's {finding['figure']}")
    if finding.get("timestamp"):
        provenance.append(f"produced {_when(str(finding['timestamp']))}")
    if finding.get("versions") and finding["versions"] != common:
        provenance.append(f"with {_versions_text(finding['versions'])}")
    lines += [f"**Outcome: {outcome_word(finding)}** ({'; '.join(provenance)})", ""]
    if finding.get("stale"):
        lines += [f"**Stale.** This record's inputs changed since it was made: {finding['stale']}.",
                  ""]
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
    return lines


def _common_versions(findings: list[Mapping[str, Any]]) -> dict[str, str]:
    """The versions most records were produced with (empty when no record names any)."""
    seen = Counter(tuple(f["versions"].items()) for f in findings if f.get("versions"))
    return dict(seen.most_common(1)[0][0]) if seen else {}


def _versions_text(versions: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def _when(timestamp: str) -> str:
    """An ISO timestamp to the minute, in UTC (as written when it is not ISO)."""
    try:
        moment = _dt.datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _clauses(text: str) -> list[str]:
    """``text`` cut after each ``", "`` and ``": "``, every piece keeping its separator."""
    pieces = re.split(r"(?<=[,:]) ", text)
    return [piece + " " for piece in pieces[:-1]] + pieces[-1:]


def _outside_parentheses(text: str) -> str:
    """``text`` without its parenthetical remarks (nested ones included)."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\s*\([^()]*\)", "", text)
    return text


def _figure_paths(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    pngs = [f for f in finding.get("figures") or [] if str(f).endswith(".png")]
    return [f"{figures_dir}/{f}" if figures_dir else str(f) for f in pngs]


def _figure_links(finding: Mapping[str, Any], figures_dir: str | None) -> list[str]:
    return [f"[{Path(path).stem}]({path})" for path in _figure_paths(finding, figures_dir)]


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
