"""``cca-reproduce --compare``: a run's findings beside published ones (issue 26, item 1)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import shutil

import pytest

from morcos2018 import cli
from morcos2018.compare import compare_findings, comparison_lines, comparison_summary

OUTCOMES = {True: "holds", False: "contradicted", None: "inconclusive"}


def record(notebook: str, holds: bool | None = True, part: str | None = None,
           value: float = 0.5, gap: float = 0.25) -> dict:
    named = {"notebook": notebook, **({"part": part} if part else {})}
    outcome = OUTCOMES[holds]
    return {**named, "claim": f"{notebook} claim", "holds": holds, "outcome": outcome,
            "measured": {"gap": gap, "per seed": [1.0, 2.0], "layer": "conv2"},
            "evidence": [{"name": "closer", "value": value, "null_value": 0.0, "pvalue": 0.01,
                          "interval": [0.4, 0.6], "units": 5, "holds": holds,
                          "outcome": outcome}]}


def findings(*records: dict) -> dict:
    return {"profile": "default", "findings": list(records)}


PUBLISHED = findings(record("fig2"), record("fig3", holds=False), record("fig3", part="a5"))


def test_identical_findings_all_reproduced_nothing_moved():
    compared = compare_findings(PUBLISHED, copy.deepcopy(PUBLISHED))
    assert compared["reproduced"] == ["fig2", "fig3", "fig3.a5"]
    assert compared["changed"] == compared["only_published"] == compared["only_rerun"] == []
    assert compared["largest"] is None
    assert all(r["compared"] == 9 for r in compared["records"])  # 6 test numbers, 3 measured
    assert comparison_summary(compared, "findings/default.json") == (
        "compare with findings/default.json: 3 of 3 outcomes reproduced; no number moved")


def test_a_flipped_outcome_is_detected_with_its_test():
    rerun = findings(record("fig2"), record("fig3", holds=None), record("fig3", part="a5"))
    compared = compare_findings(PUBLISHED, rerun)
    assert compared["changed"] == ["fig3"]
    fig3 = compared["records"][1]
    assert fig3["outcome"] == ["contradicted", "inconclusive"] and not fig3["reproduced"]
    assert fig3["tests"][0]["outcome"] == ["contradicted", "inconclusive"]
    assert not fig3["tests"][0]["reproduced"]
    summary = comparison_summary(compared, "x.json")
    assert "2 of 3 outcomes reproduced; 1 changed: fig3 (contradicted -> inconclusive)" in summary
    assert "    test 'closer': contradicted -> inconclusive" in comparison_lines(compared)


def test_a_record_of_the_two_outcome_rule_is_compared_by_what_it_meant():
    legacy = record("fig3", holds=False)
    del legacy["outcome"], legacy["evidence"][0]["outcome"]
    compared = compare_findings(findings(legacy), findings(record("fig3", holds=None)))
    assert compared["records"][0]["outcome"] == ["not shown (two-outcome rule)", "inconclusive"]


def test_a_moved_number_is_reported_with_its_size():
    rerun = findings(record("fig2", value=0.75), record("fig3", holds=False, gap=0.2),
                     record("fig3", part="a5"))
    compared = compare_findings(PUBLISHED, rerun)
    assert compared["changed"] == []
    test_move = compared["records"][0]["tests"][0]["moved"]
    assert test_move == [{"key": "value", "published": 0.5, "rerun": 0.75, "absolute": 0.25,
                          "relative": 0.5}]
    measured = compared["records"][1]["measured"]
    assert [m["key"] for m in measured] == ["gap"]
    assert measured[0]["absolute"] == pytest.approx(0.05)
    assert measured[0]["relative"] == pytest.approx(0.2)
    assert compared["largest"] == {"record": "fig2", "test": "closer", **test_move[0]}
    assert comparison_summary(compared, "x.json").endswith(
        "largest numeric change 0.25 (50%) (fig2, test 'closer' value)")


def test_records_tests_and_numbers_on_one_side_only_are_listed():
    extra = record("fig4")
    shorter = record("fig2")
    shorter["measured"]["per seed"] = [1.0]
    shorter["evidence"].append({"name": "new test", "value": 1.0, "holds": True})
    compared = compare_findings(PUBLISHED, findings(shorter, record("fig3", holds=False), extra))
    assert compared["only_published"] == ["fig3.a5"]
    assert compared["only_rerun"] == ["fig4"]
    fig2 = compared["records"][0]
    assert fig2["only_published"] == ["measured per seed[1]"]
    assert fig2["only_rerun"] == ["test 'new test'"]
    summary = comparison_summary(compared, "x.json")
    assert "1 record only in the published findings: fig3.a5" in summary
    assert "1 record only in this run: fig4" in summary


def test_a_number_moving_away_from_zero_has_no_relative_size():
    compared = compare_findings(findings(record("fig2", gap=0.0)),
                                findings(record("fig2", gap=0.1)))
    assert compared["largest"]["relative"] is None
    assert "largest numeric change 0.1 (fig2, gap)" in comparison_summary(compared, "x")


def test_findings_without_records_are_refused():
    with pytest.raises(ValueError, match="no 'findings' list"):
        compare_findings({"profile": "default"}, PUBLISHED)


# --------------------------------------------------------------------------- the command line


def run_cli(argv: list[str]) -> tuple[int, str]:
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        status = cli.main(argv)
    return status, printed.getvalue()


def test_cli_compares_an_up_to_date_run_and_writes_compare_json(tmp_path, monkeypatch):
    """With every notebook up to date the batch runs nothing and --compare only compares (the
    batch is replaced here by one that leaves the run folder's findings as they are)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "findings.json").write_text(json.dumps(
        findings(record("fig2"), record("fig3", holds=True), record("fig4"))))
    published = tmp_path / "published.json"
    published.write_text(json.dumps(PUBLISHED))
    monkeypatch.setattr(cli, "run_batch", lambda **_: [])
    status, out = run_cli(["--output", str(run), "--compare", str(published)])
    assert status == 0  # a changed outcome is information, not a failure
    first = out.splitlines()[0]
    assert first.startswith(f"compare with {published}: 1 of 2 outcomes reproduced; 1 changed: "
                            "fig3 (contradicted -> holds)")
    assert "1 record only in the published findings: fig3.a5" in first
    assert out.splitlines()[-1] == f"comparison: {run / 'compare.json'}"
    written = json.loads((run / "compare.json").read_text())
    assert written["published"] == str(published) and written["changed"] == ["fig3"]
    assert written["only_rerun"] == ["fig4"]


def test_cli_refuses_a_compare_file_that_is_not_findings_before_running(tmp_path, monkeypatch,
                                                                       capsys):
    monkeypatch.setattr(cli, "run_batch", lambda **_: pytest.fail("the batch must not run"))
    (tmp_path / "notes.json").write_text('{"a": 1}')
    assert cli.main(["--compare", str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli.main(["--compare", str(tmp_path / "notes.json")]) == 2
    assert "no 'findings' list" in capsys.readouterr().err


# --------------------------------------------------------------------------- a real run


@pytest.mark.slow
def test_compare_a_smoke_run_with_itself_and_with_a_changed_copy(smoke_batch, tmp_path,
                                                                 monkeypatch):
    """The smoke batch's findings, compared with a copy of themselves (all reproduced), then with
    a copy where one outcome is flipped and one number changed (both found)."""
    run = smoke_batch["run"]
    report = json.loads((run / "findings.json").read_text())
    assert report["findings"], smoke_batch["sweep_out"][-2000:]
    same = tmp_path / "same.json"
    shutil.copy(run / "findings.json", same)
    changed = copy.deepcopy(report)
    first = changed["findings"][0]
    first["holds"] = {True: False, False: True, None: True}[first["holds"]]
    first["outcome"] = {True: "holds", False: "contradicted"}[first["holds"]]
    test = next(t for t in first["evidence"] if isinstance(t.get("value"), float))
    test["value"] += 0.5
    edited = tmp_path / "changed.json"
    edited.write_text(json.dumps(changed))
    monkeypatch.chdir(smoke_batch["root"])
    monkeypatch.setenv("CCA_CACHE_DIR", str(smoke_batch["cache"]))
    base = ["--profile", "smoke", "--output", str(run), "--compare"]

    status, out = run_cli([*base, str(same)])
    count = len(report["findings"])
    assert status == 0, out[-2000:]
    # Every notebook is up to date, so it only compares, unless the package's source changed since
    # the smoke batch ran (another edit in a shared checkout): then they rerun, and reproduce.
    assert f"{count} of {count} outcomes reproduced; no number moved" in out

    status, out = run_cli([*base, str(edited)])
    name = first["notebook"] + (f".{first['part']}" if first.get("part") else "")
    assert status == 0
    summary = next(line for line in out.splitlines() if line.startswith("compare with"))
    assert f"{count - 1} of {count} outcomes reproduced; 1 changed: {name}" in summary
    assert "largest numeric change 0.5 " in summary and f"test {test['name']!r} value" in summary
    assert json.loads((run / "compare.json").read_text())["changed"] == [name]
