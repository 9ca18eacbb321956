"""Tests of the findings report (findings.md) and the README's results tables
(:mod:`morcos2018.findings`), on made-up records and on the committed findings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from morcos2018 import findings
from morcos2018.report import outcome_word, verdict_word

REPO = Path(__file__).resolve().parents[2]
PROFILES = [
    path.stem for path in sorted((REPO / "findings").glob("*.json")) if path.stem != "calibration"
]


def _test(name, holds, value=0.25, reason=""):
    return {"name": name, "statistic": "gap", "value": value, "null": "chance",
            "null_value": 0.5, "pvalue": 0.03125, "units": 5, "unit": "seeds", "effect": -0.25,
            "interval": [-0.3, -0.2], "holds": holds, "outcome": verdict_word(holds),
            "reason": reason}


def _record(notebook, holds, part=None, tests=None, figure=None, **extra):
    return {"notebook": notebook, **({"part": part} if part else {}),
            "figure": figure or notebook.upper(), "claim": f"Figure 9: {notebook} | claim",
            "measured": {"x": 0.123456}, "holds": holds, "outcome": verdict_word(holds),
            "figures": [f"{notebook}.png", f"{notebook}.pdf"], "profile": "default",
            "evidence": tests if tests is not None else [_test("closer", holds)], **extra}


def _report(records, **extra):
    return {"profile": "default", "finished": "2026-01-02 00:00:00 UTC", "seconds": 90.0,
            "versions": {"python": "3.11"}, "failed": [], "interrupted": [],
            "findings": records, **extra}


def _bare(row: str) -> str:
    """A table row without its image tags and link targets (what a reader reads)."""
    return re.sub(r"\]\([^)]*\)", "]", re.sub(r"<img [^>]*>", "", row))


def test_claim_title_keeps_whole_clauses_without_the_cited_figure_or_remarks():
    claim = ("Figure 3: generalizing networks converge to more similar late layers (on train "
             "data) than memorizing networks, and memorizing pairs are as far apart as "
             "memorizing-vs-generalizing pairs; Figure 3b: more")
    assert findings.claim_title(claim) == (
        "generalizing networks converge to more similar late layers than memorizing networks")
    assert findings.claim_title(claim, limit=200) == (
        "generalizing networks converge to more similar late layers than memorizing networks, "
        "and memorizing pairs are as far apart as memorizing-vs-generalizing pairs")
    # a claim that does not open with a figure keeps its first clause; a short one its next
    assert findings.claim_title("Figure 6's reference is converged: at the end, every layer "
                                "stops", limit=10) == "Figure 6's reference is converged"
    assert findings.claim_title("Appendix A3: over a sequence, CCA relates a step to the last",
                                limit=10) == "over a sequence, CCA relates a step to the last"
    assert "…" not in findings.claim_title(claim) and "..." not in findings.claim_title(claim)


def test_the_deciding_test_is_the_first_that_failed_or_could_not_decide():
    tests = [_test("a", True), _test("b", None), _test("c", False), _test("d", False)]
    assert findings.deciding_test(_record("n", False, tests=tests))["name"] == "c"
    assert findings.deciding_test(_record("n", None, tests=tests))["name"] == "b"
    assert findings.deciding_test(_record("n", True, tests=tests))["name"] == "a"
    assert findings.deciding_test(_record("n", True, tests=[])) is None


def test_tally_counts_each_outcome_in_the_records_words():
    report = _report([_record("a", True), _record("b", False), _record("c", True),
                      _record("d", None)], failed=["e"])
    assert findings.tally(report) == {"holds": 2, "contradicted": 1, "inconclusive": 1,
                                      "failed": 1}
    assert findings.tally_line(report) == (
        "**4 claims:** 2 **holds** · 1 **contradicted** · 1 **inconclusive** · 1 **failed**")
    legacy = _record("e", False)
    del legacy["outcome"]  # a record of the two-outcome rule: False meant "not shown"
    assert findings.tally(_report([legacy])) == {"not shown (two-outcome rule)": 1}


def test_readme_table_has_one_short_row_per_claim_with_its_links():
    records = [_record("fig4_width", False, figure="Fig 4",
                       tests=[_test("first", True), _test("falls", False, reason="p = 0.2")]),
               _record("fig4_width", True, part="a6", figure="Fig 4")]
    table = findings.readme_results_table(_report(records, interrupted=["fig5"]))
    lines = table.splitlines()
    assert lines[0] == findings.README_TABLE_START and lines[-1] == findings.README_TABLE_END
    assert lines[1] == "**2 claims:** 1 **holds** · 1 **contradicted** · 1 **not run**"
    assert lines[5] == (
        '| <img src="figures/fig4_width.png" width="120"> | **Fig 4** fig4_width \\| claim | '
        "**contradicted** | falls: 0.25 vs 0.5, p = 0.031 (5 seeds); "
        f"{findings.PAPER_NUMBERS['Fig 4']} | [notebook](notebooks/fig4_width.ipynb), "
        "[tests](findings/default.md#fig4_width) |")
    assert "**Fig 4 · a6**" in lines[6] and "(findings/default.md#fig4_width-a6)" in lines[6]
    assert lines[7].startswith("|  | fig5: interrupted") and "**not run**" in lines[7]
    readme = f"intro\n{findings.README_TABLE_START}\nold\n{findings.README_TABLE_END}\noutro\n"
    assert findings.replace_readme_table(readme, table) == f"intro\n{table}outro\n"
    with pytest.raises(ValueError, match="marker lines"):
        findings.replace_readme_table("no table here", table)


def test_findings_open_with_what_the_records_are_and_a_summary_of_full_claims():
    """Issue 26: the head described only the last batch, and the summary cut claims."""
    long_claim = "Figure 3: generalizing networks converge to more similar solutions " * 4
    records = [
        _record("fig2_toy_noise", True, timestamp="2026-01-01T10:00:00+00:00",
                versions={"python": "3.11"}),
        _record("fig3_memorization", False, timestamp="2026-01-01T12:30:00+00:00",
                versions={"python": "3.12"}, claim=long_claim),
        _record("fig3_memorization", True, part="a9", timestamp="2026-01-01T11:00:00+00:00",
                versions={"python": "3.11"}),
    ]
    markdown = findings.findings_markdown(_report(records, ran=["fig3_memorization"],
                                                  failed=["fig5_learning_rate"]))
    head = markdown.split("\n\n")[1]
    assert head.startswith("3 claim records from 2 notebooks of the default profile, produced "
                           "between 2026-01-01 10:00 UTC and 2026-01-01 12:30 UTC, with python "
                           "3.11 (the records that differ name their own).")
    assert "Outcomes: holds 2, contradicted 1, failed 1." in head
    assert "it ran 1 notebook (fig3_memorization), the other records are from earlier" in head
    summary = markdown.split("\n<a id=")[0]
    rows = [line for line in summary.splitlines() if line.startswith("| [")]
    assert " ".join(long_claim.split()) in rows[1] and "…" not in markdown
    assert "| fig5_learning_rate | (notebook failed" in summary
    assert not re.search(r"\d\.\d{5,}", markdown), "a number with more than 4 decimals"
    assert "produced 2026-01-01 12:30 UTC; with python 3.12)" in markdown  # its own versions
    whole = findings.findings_markdown(_report(records[:1], ran=["fig2_toy_noise"]))
    assert "after 1.5 min." in whole and "earlier" not in whole
    assert "up to date" in findings.findings_markdown(_report(records[:1], ran=[]))


def test_every_section_has_the_anchor_its_summary_links_to():
    records = [_record("figA2_toy_rnn", True), _record("figA2_toy_rnn", True, part="nonlinear")]
    markdown = findings.findings_markdown(_report(records))
    links = re.findall(r"\]\(#([^)]+)\)", markdown)
    anchors = re.findall(r'<a id="([^"]+)"></a>', markdown)
    assert links == anchors == ["figa2_toy_rnn", "figa2_toy_rnn-nonlinear"]


@pytest.mark.parametrize("profile", PROFILES)
def test_committed_readme_rows_are_short_and_link_what_exists(profile):
    """Each claim is one row under 300 characters besides its image and link targets, and links
    an existing notebook and an anchor of findings/<profile>.md; the tally matches the records."""
    from morcos2018.runner import PUBLISHED_FIGURES

    report = json.loads((REPO / "findings" / f"{profile}.json").read_text(encoding="utf-8"))
    table = findings.readme_results_table(report, PUBLISHED_FIGURES.get(profile, "figures"))
    rows = [line for line in table.splitlines() if line.startswith("| <img")]
    assert len(rows) == len(report["findings"])
    assert max(len(_bare(row)) for row in rows) <= 300
    anchors = set(re.findall(r'<a id="([^"]+)"></a>',
                             (REPO / "findings" / f"{profile}.md").read_text(encoding="utf-8")))
    for row in rows:
        notebook, section = re.findall(r"\]\(([^)]+)\)", row)
        assert (REPO / notebook).is_file(), notebook
        page, anchor = section.split("#")
        assert page == f"findings/{profile}.md" and anchor in anchors, section
    words = [outcome_word(record) for record in report["findings"]]
    tally = table.splitlines()[1]
    for word in ("holds", "contradicted", "inconclusive", "not shown (two-outcome rule)"):
        count = words.count(word)
        assert (f"{count} **{word}**" in tally) == (count > 0), (word, tally)
