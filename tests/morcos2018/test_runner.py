"""The batch runner and its command line on tiny notebooks: outputs, resume, failure isolation,
findings report, stale verdicts, parameter checks, Ctrl-C."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from morcos2018 import batch_log, cli, runner

slow = pytest.mark.slow  # runs notebooks (a few seconds each)

NOTEBOOK_CODE = """\
import json, os, time
from pathlib import Path
if os.path.exists({hang_flag!r}):
    time.sleep(120)
{body}
Path(results_dir).mkdir(parents=True, exist_ok=True)
record = {{"notebook": {name!r}, "claim": "x is {name}", "measured": {{"x": scale * 2.0}},
          "holds": {holds},
          "outcome": {{True: "holds", False: "contradicted"}}.get({holds}, "inconclusive"),
          "figures": [], "profile": profile}}
(Path(results_dir) / "{name}.json").write_text(json.dumps(record))
print("finished", {name!r})
"""


def write_notebook(
    folder: Path,
    name: str,
    body: str = "",
    holds: str = "True",
    hang_flag: str = "/nonexistent",
    extra_parameters: str = "",
) -> Path:
    parameters = nbformat.v4.new_code_cell(
        'profile = "default"\nfigures_dir = "../figures"\nresults_dir = "../results"\nscale = 1.0'
        + extra_parameters
    )
    parameters.metadata["tags"] = ["parameters"]
    code = NOTEBOOK_CODE.format(name=name, body=body, holds=holds, hang_flag=hang_flag)
    notebook = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(code)])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> dict[str, Path]:
    monkeypatch.setattr(runner, "package_digest", lambda: "package under test")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    profile = tmp_path / "tiny"
    profile.mkdir()
    (profile / "profile.toml").write_text('extends = "smoke"\n')  # a valid profile (issue 28)
    return {"notebooks": notebooks, "profile": profile, "output": tmp_path / "run"}


def batch(ws: dict[str, Path], **kwargs) -> list[runner.NotebookRun]:
    return runner.run_batch(
        profile=str(ws["profile"]),
        output=ws["output"],
        notebooks_dir=ws["notebooks"],
        echo=lambda *_: None,
        **kwargs,
    )


def statuses(runs: list[runner.NotebookRun]) -> dict[str, str]:
    return {r.name: r.status for r in runs}


@slow
def test_batch_writes_notebooks_logs_results_and_findings(workspace):
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta", holds="False")
    runs = batch(workspace, overrides={"scale": 3.0})
    assert statuses(runs) == {"alpha": "done", "beta": "done"}
    out = workspace["output"]
    executed = nbformat.read(out / "alpha.ipynb", as_version=4)
    assert any("scale = 3.0" in c.source for c in executed.cells)
    assert "finished" in (out / "alpha.log").read_text()
    findings = json.loads((out / "findings.json").read_text())
    measured = {f["notebook"]: f["measured"]["x"] for f in findings["findings"]}
    assert measured == {"alpha": 6.0, "beta": 6.0}
    markdown = (out / "findings.md").read_text()
    assert "| [alpha](#alpha) | x is alpha | x 6 | **holds** |" in markdown
    assert "| [beta](#beta) | x is beta | x 6 | **contradicted** |" in markdown


@slow
def test_rerun_skips_finished_work_and_reruns_what_changed(workspace):
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta")
    batch(workspace)
    assert statuses(batch(workspace)) == {"alpha": "skipped", "beta": "skipped"}
    write_notebook(workspace["notebooks"], "beta", body="y = 1")
    assert statuses(batch(workspace)) == {"alpha": "skipped", "beta": "done"}
    assert statuses(batch(workspace, overrides={"scale": 2.0})) == {"alpha": "done", "beta": "done"}


@slow
def test_outputs_stored_in_a_notebook_do_not_change_its_identity(workspace):
    path = write_notebook(workspace["notebooks"], "alpha")
    batch(workspace)
    executed = (workspace["output"] / "alpha.ipynb").read_text()
    path.write_text(executed)  # committing the executed notebook back, injected parameters and all
    assert statuses(batch(workspace)) == {"alpha": "skipped"}


@slow
def test_a_failing_notebook_does_not_stop_the_others(workspace, capsys):
    write_notebook(workspace["notebooks"], "alpha", body="raise RuntimeError('boom in alpha')")
    write_notebook(workspace["notebooks"], "beta")
    code = cli.main(
        [
            "--profile",
            str(workspace["profile"]),
            "--output",
            str(workspace["output"]),
            "--notebooks-dir",
            str(workspace["notebooks"]),
        ]
    )
    assert code == 1
    printed = capsys.readouterr().out
    assert "FAILED alpha" in printed and "boom in alpha" in printed
    assert str(workspace["output"] / "alpha.log") in printed
    assert (workspace["output"] / "beta.done.json").exists()
    assert not (workspace["output"] / "alpha.done.json").exists()
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    assert findings["failed"] == ["alpha"]


@slow
def test_killed_batch_resumes_without_redoing_finished_notebooks(workspace, tmp_path, monkeypatch):
    monkeypatch.undo()  # the killed batch runs in a child process, with the real package digest
    flag = tmp_path / "hang"
    flag.touch()
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta", hang_flag=str(flag))
    command = [
        sys.executable,
        "-m",
        "morcos2018.cli",
        "--profile",
        str(workspace["profile"]),
        "--output",
        str(workspace["output"]),
        "--notebooks-dir",
        str(workspace["notebooks"]),
    ]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while not (workspace["output"] / "alpha.done.json").exists():
        assert time.monotonic() < deadline, "alpha never finished"
        time.sleep(0.5)
    time.sleep(3)  # beta is now hanging inside its kernel
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    flag.unlink()
    assert statuses(batch(workspace)) == {"alpha": "skipped", "beta": "done"}


def test_bad_arguments_give_a_clear_message(workspace, capsys):
    write_notebook(workspace["notebooks"], "alpha")
    base = ["--output", str(workspace["output"]), "--notebooks-dir", str(workspace["notebooks"])]
    assert cli.main(["--profile", "no-such-profile", *base]) == 2
    assert "profile 'no-such-profile' not found" in capsys.readouterr().err
    assert cli.main(["--profile", str(workspace["profile"]), "--only", "gamma", *base]) == 2
    assert "--only gamma: no such notebook; choose from alpha" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["-p", "not a pair", *base])


@slow
def test_list_and_only(workspace, capsys):
    write_notebook(workspace["notebooks"], "fig2_toy")
    write_notebook(workspace["notebooks"], "fig3_memo")
    assert cli.main(["--list", "--notebooks-dir", str(workspace["notebooks"])]) == 0
    assert capsys.readouterr().out.split() == ["fig2_toy", "fig3_memo"]
    assert statuses(batch(workspace, only=["fig3"])) == {"fig3_memo": "done"}


def cli_arguments(ws: dict[str, Path]) -> list[str]:
    return [
        "--profile",
        str(ws["profile"]),
        "--output",
        str(ws["output"]),
        "--notebooks-dir",
        str(ws["notebooks"]),
    ]


@slow
def test_a_failed_rerun_reports_no_old_verdict(workspace):
    """Issue 15, item 8: alpha held, then failed on a rerun; its old verdicts must not show,
    its further claims (record_claim's ``part``) included."""
    part = (
        "Path(results_dir).mkdir(parents=True, exist_ok=True)\n"
        "(Path(results_dir) / 'alpha.extra.json').write_text(json.dumps("
        "{'notebook': 'alpha', 'part': 'extra', 'claim': 'more', 'measured': {}, 'holds': True,"
        " 'figures': [], 'profile': profile}))"
    )
    write_notebook(workspace["notebooks"], "alpha", body=part)
    assert statuses(batch(workspace)) == {"alpha": "done"}
    out = workspace["output"]
    findings = json.loads((out / "findings.json").read_text())["findings"]
    names = [(f["notebook"], f.get("part")) for f in findings]
    assert names == [("alpha", None), ("alpha", "extra")]
    write_notebook(workspace["notebooks"], "alpha", body="raise RuntimeError('now broken')")
    assert statuses(batch(workspace)) == {"alpha": "failed"}
    assert not (out / "results" / "alpha.json").exists()
    assert not (out / "results" / "alpha.extra.json").exists()
    findings = json.loads((out / "findings.json").read_text())
    assert findings["failed"] == ["alpha"] and findings["findings"] == []
    rows = [ln for ln in (out / "findings.md").read_text().splitlines() if "| alpha |" in ln]
    assert rows == ["| alpha | (notebook failed: see its log, alpha.log) |  | failed |  |"]


def test_an_unknown_parameter_is_an_error_naming_the_parameters(workspace, capsys):
    """Issue 15, item 12: a typo in -p stops the batch before any notebook runs."""
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta", extra_parameters="\noffset = 0")
    code = cli.main(["-p", "scale_typo=2", "-p", "offset=1", *cli_arguments(workspace)])
    assert code == 2
    error = capsys.readouterr().err
    assert "-p scale_typo: no such parameter in alpha, beta" in error
    assert "the parameters are figures_dir, offset, profile, results_dir, scale" in error
    assert not (workspace["output"] / "alpha.log").exists()


@slow
def test_a_parameter_reaches_only_the_notebooks_that_take_it(workspace):
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta", extra_parameters="\noffset = 0")
    assert statuses(batch(workspace)) == {"alpha": "done", "beta": "done"}
    runs = batch(workspace, overrides={"offset": 1})
    assert statuses(runs) == {"alpha": "skipped", "beta": "done"}
    executed = nbformat.read(workspace["output"] / "beta.ipynb", as_version=4)
    assert any("offset = 1" in c.source for c in executed.cells)


@pytest.mark.parametrize("timeout", ["-5", "0", "soon", "inf"])
def test_timeout_must_be_a_positive_number(workspace, capsys, timeout):
    """Issue 15, item 12: --timeout -5 was accepted."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--timeout", timeout, *cli_arguments(workspace)])
    assert exit_.value.code == 2
    assert "--timeout: expects a positive number of seconds" in capsys.readouterr().err


@slow
def test_ctrl_c_stops_cleanly_reports_what_finished_and_resumes(workspace, tmp_path, monkeypatch):
    """Issue 15, item 12: SIGINT to the batch's process group (Ctrl-C in a terminal) while beta
    runs; gamma has not started."""
    monkeypatch.undo()  # the interrupted batch runs in a child process, with the real digest
    flag = tmp_path / "hang"
    flag.touch()
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta", hang_flag=str(flag))
    write_notebook(workspace["notebooks"], "gamma")
    command = [sys.executable, "-m", "morcos2018.cli", *cli_arguments(workspace)]
    # A shell without job control starts background jobs with SIGINT ignored, and a Python that
    # inherits SIG_IGN never raises KeyboardInterrupt: give the batch Ctrl-C's usual handling.
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    beta_log = workspace["output"] / "beta.log"
    deadline = time.monotonic() + 90
    while not (beta_log.exists() and "Executing Cell 2" in beta_log.read_text()):
        assert time.monotonic() < deadline and process.poll() is None, "beta never started"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    interrupted_at = time.monotonic()
    # Longer than the notebook's 120 s hang: a failed stop shows in the message, not as a timeout.
    out, err = process.communicate(timeout=180)
    stopped_after = time.monotonic() - interrupted_at
    assert process.returncode == 130, (
        f"exit {process.returncode} after {stopped_after:.0f} s\n{out}{err}"
    )
    assert "Traceback" not in err, err
    assert "INTERRUPTED: beta, gamma did not finish; finished: alpha." in out
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    assert findings["failed"] == [] and findings["interrupted"] == ["beta", "gamma"]
    assert [f["notebook"] for f in findings["findings"]] == ["alpha"]
    assert "| beta | (interrupted before it finished: rerun to resume) |  | not run |" in (
        workspace["output"] / "findings.md"
    ).read_text()
    assert not (workspace["output"] / "beta.done.json").exists()
    flag.unlink()
    assert statuses(batch(workspace)) == {"alpha": "skipped", "beta": "done", "gamma": "done"}


PROGRESS_BODY = """\
from morcos2018.progress import epoch_progress, report_progress
with epoch_progress("training net seed 0", "epoch", 3, 1) as bar:
    for _ in range(2):
        bar.update(1)
report_progress("loaded net seed 1: 3 epochs, trained earlier")
print("an ordinary line")
"""


@slow
def test_progress_lines_of_a_notebook_reach_the_terminal(workspace):
    """Issue 13, item 3: a batch run showed only `[running] name` for minutes. The notebook's
    training progress (epoch e of E, time left; loaded from the cache) is relayed, prefixed
    with its name; its other output stays in the log."""
    write_notebook(workspace["notebooks"], "alpha", body=PROGRESS_BODY)
    echoed: list[str] = []
    runs = runner.run_batch(profile=str(workspace["profile"]), output=workspace["output"],
                            notebooks_dir=workspace["notebooks"], echo=echoed.append)
    assert statuses(runs) == {"alpha": "done"}
    progress = [line for line in echoed if line.startswith("  alpha: ")]
    assert [line.split(" [")[0] for line in progress] == [
        "  alpha: training net seed 0: epoch 1/3",
        "  alpha: training net seed 0: epoch 2/3",
        "  alpha: training net seed 0: epoch 3/3",
        "  alpha: loaded net seed 1: 3 epochs, trained earlier",
    ]
    assert " left]" in progress[1]
    assert not any("ordinary" in line for line in echoed)
    assert "an ordinary line" in (workspace["output"] / "alpha.log").read_text()


def test_a_missing_optional_module_is_one_line_naming_the_extra(tmp_path, monkeypatch, capsys):
    """Issue 26, item 4: --cluster without the dask extra printed a ModuleNotFoundError
    traceback."""
    assert "morcos2018[notebooks]" in cli.missing_module_message("papermill")
    assert "morcos2018[dask]" in cli.missing_module_message("distributed.deploy")
    assert "not installed" in cli.missing_module_message("something_else")
    monkeypatch.setenv("CCA_CACHE_DIR", str(tmp_path / "cache"))  # empty: the plan has runs
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    status = cli.main(["--profile", "smoke", "--only", "fig1_cnn", "--cluster", "local:1",
                          "--output", str(tmp_path / "run")])
    error = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(error) == 1, error
    assert "morcos2018[dask]" in error[0]


def test_an_unwritable_output_is_one_line(tmp_path, monkeypatch, capsys):
    """Issue 26, item 4: a read-only output folder gave OSError's traceback (simulated: the tests
    may run as root, whom permissions do not stop)."""

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "run"))

    monkeypatch.setattr(cli, "run_batch", read_only)
    assert cli.main(["--profile", "smoke", "--output", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "Read-only file system" in error[0] and "--output" in error[0]


def test_help_names_every_shipped_profile(capsys):
    """Issue 26, item 6: --help omitted the extended profile."""
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for profile in ("smoke", "default", "extended", "paper"):
        assert profile in shown


def test_kernels_run_with_tensorflow_log_off_unless_verbose(monkeypatch, tmp_path):
    """Issue 26, item 2: TensorFlow's C++ log (oneDNN, CUDA notices, cuInit errors) is off in the
    kernels; --verbose shows its errors, as before; the user's own level wins."""
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert runner.kernel_environment()["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert runner.kernel_environment(verbose=True)["TF_CPP_MIN_LOG_LEVEL"] == "2"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert runner.kernel_environment()["TF_CPP_MIN_LOG_LEVEL"] == "0"
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")

    given = []
    monkeypatch.setattr(runner._Processes, "run",
                        lambda self, command, log, on_line, env: given.append(env) or 0)
    notebook = write_notebook(tmp_path, "alpha")
    for verbose in (False, True):
        assert runner.run_notebook(notebook, tmp_path, {}, verbose=verbose) == (True, "")
    assert [env["TF_CPP_MIN_LOG_LEVEL"] for env in given] == ["3", "2"]


def test_verbose_reaches_the_batch(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "run_batch", lambda **options: calls.append(options) or [])
    assert cli.main([]) == 0 and cli.main(["--verbose"]) == 0
    assert [call["verbose"] for call in calls] == [False, True]


def test_a_batch_never_writes_the_published_figures(tmp_path, monkeypatch):
    """Issue 26: from a clone, the default profile's batch wrote figures/ directly; now only
    publishing does (scripts/publish_findings.py copies a run's figures there)."""
    repository = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repository)
    output, figures = runner._batch_folders("default", tmp_path / "run", None)
    assert figures == tmp_path / "run" / "figures" and figures.is_dir()
    assert not figures.resolve().is_relative_to(repository / "figures")


def test_publishing_copies_a_runs_figures(tmp_path):
    from conftest import load_script

    publish = load_script("scripts/publish_findings.py")
    run_figures, target = tmp_path / "run" / "figures", tmp_path / "figures"
    run_figures.mkdir(parents=True)
    for name in ("fig2.png", "fig2.pdf", "notes.txt"):
        (run_figures / name).write_text(name)
    assert publish.copy_figures(run_figures, target) == 2
    assert sorted(p.name for p in target.iterdir()) == ["fig2.pdf", "fig2.png"]
    assert publish.copy_figures(target, target) == 0  # already where it belongs


def test_publishing_one_notebook_can_keep_the_committed_records_of_the_others(tmp_path,
                                                                             monkeypatch):
    from conftest import load_script

    publish = load_script("scripts/publish_findings.py")
    monkeypatch.setattr(publish, "REPO", tmp_path)
    (tmp_path / "findings").mkdir()
    committed = {"profile": "extended", "findings": [
        {"notebook": "fig3", "part": None, "holds": False},
        {"notebook": "fig4", "part": None, "holds": False},
        {"notebook": "fig4", "part": "a6", "holds": True}]}
    (tmp_path / "findings" / "extended.json").write_text(json.dumps(committed))
    run = {"profile": "runs/extended", "findings": [
        {"notebook": "fig3", "part": None, "holds": True},
        {"notebook": "fig3", "part": "dose", "holds": None}]}
    merged = publish.with_committed_others(run)
    assert [(r["notebook"], r["part"], r["holds"]) for r in merged["findings"]] == [
        ("fig3", None, True), ("fig3", "dose", None), ("fig4", None, False), ("fig4", "a6", True)]
    later = {"profile": "runs/extended", "findings": [{"notebook": "fig4", "part": None,
                                                       "holds": True}]}
    merged = publish.with_committed_others(later)  # in notebook order, not the run's first
    assert [(r["notebook"], r["part"], r["holds"]) for r in merged["findings"]] == [
        ("fig3", None, False), ("fig4", None, True)]
    (tmp_path / "findings" / "extended.json").unlink()
    with pytest.raises(SystemExit, match="nothing to keep"):
        publish.with_committed_others(run)


@slow
def test_a_record_whose_inputs_changed_since_is_marked_stale(workspace, capsys):
    """issue 28: run alpha and beta, change the profile, rerun only alpha: beta's verdict is kept
    but marked stale with the command that reruns it, and publishing refuses it."""
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta")
    batch(workspace)
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    assert not any(f.get("stale") for f in findings["findings"])
    (workspace["profile"] / "toys.toml").write_text("[fig2]\nrepeats = 2\n")
    messages: list[str] = []
    runs = runner.run_batch(profile=str(workspace["profile"]), output=workspace["output"],
                            notebooks_dir=workspace["notebooks"], only=["alpha"],
                            echo=messages.append)
    assert statuses(runs) == {"alpha": "done"}
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    stale = {f["notebook"]: f.get("stale") for f in findings["findings"]}
    assert stale["alpha"] is None and "--only beta" in stale["beta"]
    assert "**contradicted**" not in (workspace["output"] / "findings.md").read_text()
    assert "| **holds** (stale) |" in (workspace["output"] / "findings.md").read_text()
    assert any("STALE beta" in message for message in messages)
    publish = subprocess.run(
        [sys.executable, str(Path(__file__).resolve().parents[2] / "scripts" /
                             "publish_findings.py"), str(workspace["output"])],
        capture_output=True, text=True)
    assert publish.returncode != 0 and "stale records" in publish.stderr
    batch(workspace, only=["beta"])  # rerun: current again
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    assert not any(f.get("stale") for f in findings["findings"])


@slow
def test_an_interrupted_forced_rerun_keeps_the_results_it_did_not_reach(workspace, monkeypatch):
    """issue 28: Ctrl-C during a forced rerun; the notebooks not reached keep their last good
    records (current: their inputs did not change)."""
    write_notebook(workspace["notebooks"], "alpha")
    write_notebook(workspace["notebooks"], "beta")
    batch(workspace)
    real_execute = runner._Batch.execute

    def interrupt_after_alpha(self, item):
        if item.notebook.stem == "beta":
            self.processes.interrupted.set()
        return real_execute(self, item)

    monkeypatch.setattr(runner._Batch, "execute", interrupt_after_alpha)
    runs = batch(workspace, force=True)
    assert statuses(runs) == {"alpha": "done", "beta": "interrupted"}
    findings = json.loads((workspace["output"] / "findings.json").read_text())
    assert {f["notebook"] for f in findings["findings"]} == {"alpha", "beta"}
    assert not any(f.get("stale") for f in findings["findings"])


@slow
def test_a_batch_logs_itself_and_its_findings_carry_the_time(workspace, monkeypatch):
    """issue 25, item 5: the run time of a profile from an empty cache, from its batch log."""
    write_notebook(workspace["notebooks"], "alpha")
    monkeypatch.setattr(runner, "_networks_cached", lambda *_: (3, 0))
    batch(workspace)
    monkeypatch.setattr(runner, "_networks_cached", lambda *_: (3, 3))
    batch(workspace)  # up to date: logged, not counted
    out = workspace["output"]
    first, second = json.loads((out / batch_log.BATCHES).read_text())
    assert first["ran"] == ["alpha"] and second["ran"] == [] and second["cached_at_start"] == 3
    timing = json.loads((out / "findings.json").read_text())["timing"]
    assert timing["batches"] == 1 and timing["seconds"] == first["seconds"]
    assert "Measured run time from an empty cache" in (out / "findings.md").read_text()
