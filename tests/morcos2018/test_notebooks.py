"""Every notebook under the smoke profile: run by the batch runner, then validated with nbval.

One batch run executes all notebooks with papermill into a temporary run folder: the session's
smoke batch (``smoke_batch`` in conftest.py), the README's ``cca-reproduce --profile smoke
--cluster local:2``, which first trains every network of the smoke plan on a 2-worker Dask
cluster into a temporary training cache (tests/morcos2018/test_sweep.py checks that sweep). The
notebooks then load every network and train none. Each notebook must finish and leave a well-formed
claim record; nbval then re-executes the executed notebooks and compares the outputs of cells marked
``# NBVAL_CHECK_OUTPUT`` (the deterministic ones); and every figure of the README gallery must be
produced by some notebook.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from morcos2018 import runner

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = runner.discover_notebooks(REPO / "notebooks") if (REPO / "notebooks").is_dir() else []
RECORD_KEYS = {"notebook", "claim", "measured", "holds", "figures", "profile"}


@pytest.fixture(scope="session")
def smoke_run(smoke_batch) -> dict:
    """The session's smoke batch: every notebook run by the README's sweep command."""
    if not NOTEBOOKS:
        pytest.fail("no notebooks found in notebooks/")
    return smoke_batch


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_under_smoke_profile(smoke_run, notebook):
    run = smoke_run["run"]
    log = run / f"{notebook.stem}.log"
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    failed = [ln for ln in smoke_run["sweep_out"].splitlines()
              if ln.startswith(f"  FAILED {notebook.stem}:")]
    assert (run / f"{notebook.stem}.done.json").exists(), (
        f"{notebook.stem} did not finish: {failed or smoke_run['sweep_out'][-1000:]}\n{tail}"
    )
    record = json.loads((run / "results" / f"{notebook.stem}.json").read_text())
    assert RECORD_KEYS <= record.keys()
    assert record["profile"] == "smoke"
    assert record["holds"] in (True, False, None)
    assert record["measured"], "the claim check must report measured numbers"
    for figure in record["figures"]:
        assert (smoke_run["figures"] / Path(figure).name).exists(), figure


def _images(notebook: Path) -> int:
    cells = json.loads(notebook.read_text())["cells"]
    return sum("image/png" in out.get("data", {}) for c in cells for out in c.get("outputs", []))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_carry_their_figures(smoke_run, notebook):
    """Readers see the figures in the executed notebook (batch run) and the committed one."""
    assert _images(smoke_run["run"] / notebook.name) > 0, "batch run drew no figure"
    assert _images(notebook) > 0, f"committed {notebook.name} has no figure outputs"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_a_parameters_cell_first(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert "parameters" in code[0].get("metadata", {}).get("tags", []), notebook.name
    source = "".join(code[0]["source"])
    for name in ("profile", "figures_dir", "results_dir"):
        assert re.search(rf"^{name}\s*=", source, re.M), f"{notebook.name}: no {name} parameter"
    streams = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "stream"]
    paths = [line for o in streams for line in o["text"] if re.search(r"/(root|home|tmp)/", line)]
    assert not paths, f"{notebook.name}: machine paths in outputs, e.g. {paths[0][:120]}"
    injected = [c for c in cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert not injected, f"{notebook.name}: publish without papermill's injected cell (issue 23)"
    assert re.search(r'^profile\s*=\s*"default"', source, re.M), notebook.name  # what it ran


def test_executed_notebooks_validate_with_nbval(smoke_run):
    executed = [smoke_run["run"] / f"{nb.stem}.ipynb" for nb in NOTEBOOKS]
    missing = [p.name for p in executed if not p.exists()]
    assert not missing, f"not executed: {missing}"
    (smoke_run["root"] / "pytest.ini").write_text("[pytest]\n")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "--nbval-lax",
        "--nbval-current-env",
        "-p",
        "no:cacheprovider",
        "-c",
        str(smoke_run["root"] / "pytest.ini"),
        *map(str, executed),
    ]
    env_cache = {"CCA_CACHE_DIR": str(smoke_run["cache"])}
    completed = subprocess.run(
        command,
        cwd=smoke_run["root"],
        capture_output=True,
        text=True,
        env={**_environ(), **env_cache},
    )
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]


def test_batch_run_shows_training_progress_and_cached_networks(smoke_run):
    """Issue 13, item 3: the terminal showed only `[running] fig3_memorization` for minutes. The
    smoke batch trains on the sweep's workers, whose epoch lines reach the terminal; then each
    notebook says which networks it loaded, and trains none: the sweep fed them all."""
    echoed = smoke_run["sweep_out"].splitlines()
    epoch_line = re.compile(
        r"^  worker \S+: training CNN seed \d.*: epoch 1/\d+ \[\d\d:\d\d elapsed, \S+ left\]$"
    )
    assert any(epoch_line.search(ln) for ln in echoed), "\n".join(echoed[:40])
    # Figure 4's base width reuses Figure 3's generalizing networks.
    assert any(re.match(r"  fig4_width: loaded CNN seed \d", ln) for ln in echoed), (
        "\n".join(echoed[-80:])
    )
    notebooks = {nb.stem for nb in NOTEBOOKS}
    trained = [ln for ln in echoed if (m := re.match(r"  (\w+): (\w+) ", ln))
               and m.group(1) in notebooks and m.group(2) != "loaded"]
    assert not trained, "notebooks trained what the sweep did not:\n" + "\n".join(trained)


def test_readme_gallery_figures_are_produced_by_notebooks(smoke_run):
    shown = set(re.findall(r"figures/((?:extended/)?[\w.-]+\.png)",
                           (REPO / "README.md").read_text()))  # the extended profile's too
    assert shown, "the README shows no figures"
    gallery = {Path(path).name for path in shown}
    produced = {p.name for p in smoke_run["figures"].glob("*.png")}
    assert gallery <= produced, (
        f"README shows figures no notebook makes: {sorted(gallery - produced)}"
    )
    missing = {path for path in shown if not (REPO / "figures" / path).is_file()}
    assert not missing, f"README shows figures missing from figures/: {sorted(missing)}"


def _environ() -> dict[str, str]:
    import os

    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
