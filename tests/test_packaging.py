"""Packaging: the Binder environment carries every runtime dependency the package declares, and
an installed wheel carries the notebooks and profiles ``cca-reproduce`` runs."""

import json
import os
import re
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_binder_environment_lists_every_runtime_dependency():
    """Binder builds environment.yml, then postBuild installs the package with --no-deps: a
    dependency missing from environment.yml breaks `import cca` there (issue 13: threadpoolctl)."""
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    needed = {_name(r) for r in project["dependencies"] + extras["experiments"]}
    needed |= {_name(r) for r in extras["notebooks"] if not r.startswith("cca")}
    environment = (ROOT / "environment.yml").read_text()
    listed = {_name(line.lstrip(" -")) for line in environment.splitlines() if "- " in line}
    assert "--no-deps" in (ROOT / "postBuild").read_text()
    assert needed <= listed, f"missing from environment.yml: {sorted(needed - listed)}"


def test_every_subpackage_is_listed_for_the_wheel():
    """pyproject lists the packages (so that notebooks/ can be mapped into cca.experiments): a
    subpackage added later must be listed, or the wheel would leave it out."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["cca", "cca.*"]))
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {
        "cca.experiments.notebooks": "notebooks"
    }


@pytest.mark.slow
def test_installed_wheel_runs_a_notebook_from_another_folder(tmp_path):
    """Issue 13, item 2: after `pip install`, cca-reproduce found no notebooks outside a clone.
    The wheel is built and installed offline into a fresh venv that reuses this one's
    site-packages for the dependencies; the run starts in an unrelated folder."""
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = wheels.glob("cca-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # A plain folder line: this venv's packages come after the wheel's, and their .pth files
    # (this checkout's editable cca among them) are not read.
    (Path(purelib) / "reuse_test_venv.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    located = subprocess.run([python, "-c", "import cca; print(cca.__file__)"], check=True,
                             capture_output=True, text=True, cwd=tmp_path).stdout
    assert located.startswith(purelib), f"cca imported from {located}, not the wheel"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "CCA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    completed = subprocess.run(
        [venv / "bin" / "cca-reproduce", "--profile", "smoke", "--only", "fig2"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    run = elsewhere / "runs" / "smoke"
    findings = json.loads((run / "findings.json").read_text())
    assert [f["notebook"] for f in findings["findings"]] == ["fig2_toy_noise"]
    assert (run / "figures" / "fig2_toy_noise.png").exists()
    assert not (Path(purelib) / "figures").exists()
