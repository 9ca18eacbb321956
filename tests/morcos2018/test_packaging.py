"""Packaging of the reproduction (morcos2018, the root project): the Binder environment carries
every runtime dependency either project declares, and an installed wheel carries the notebooks and
profiles ``cca-reproduce`` runs. The library's own wheel: tests/cca/test_cca_packaging.py."""

import json
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import venv_with
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LIBRARY = tomllib.loads((ROOT / "cca" / "pyproject.toml").read_text())
LOCAL = {"pwcca", "morcos2018"}  # the two projects of this repository


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def _declared(*extras: str) -> list[Requirement]:
    """The requirements of both projects and of their ``extras`` (where a project has that extra),
    the projects themselves (pwcca[...], morcos2018[...]) left out."""
    found = []
    for project in (PYPROJECT["project"], LIBRARY["project"]):
        found += project["dependencies"]
        for extra in extras:
            found += project["optional-dependencies"].get(extra, [])
    return [Requirement(r) for r in found if Requirement(r).name not in LOCAL]


def _locked() -> dict[str, str]:
    """``{normalized name: version}`` of requirements.lock."""
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith(("#", " ")):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version.split(";")[0].strip()
    return pins


def test_binder_environment_lists_every_runtime_dependency():
    """Binder builds environment.yml, then postBuild installs the package with --no-deps: a
    dependency missing from environment.yml breaks `import cca` there (issue 13: threadpoolctl).
    environment.yml lists packages itself or installs requirements.lock. The dask extra counts
    too: the README's dask example should run on Binder (issue 14)."""
    needed = {canonicalize_name(r.name) for r in _declared("experiments", "notebooks", "dask")}
    environment = (ROOT / "environment.yml").read_text()
    entries = [line.strip().removeprefix("- ").strip() for line in environment.splitlines()
               if line.strip().startswith("- ")]
    listed = {canonicalize_name(_name(entry)) for entry in entries if not entry.startswith("-r")}
    if "-r requirements.lock" in entries:
        listed |= set(_locked())
    assert "--no-deps" in (ROOT / "postBuild").read_text()
    assert needed <= listed, f"missing from environment.yml: {sorted(needed - listed)}"


def test_lock_pins_every_declared_dependency_within_its_range():
    """Issue 13, item 5: `make` and Binder install requirements.lock; it must pin every
    dependency pyproject.toml declares (test extra included) at a version its range allows.
    After changing pyproject.toml, `make lock` regenerates it."""
    pins = _locked()
    assert "uv pip compile requirements.in" in (ROOT / "requirements.lock").read_text()
    inputs = (ROOT / "requirements.in").read_text()
    assert "-e ./cca[dask,peers]" in inputs and "-e .[test]" in inputs
    for requirement in _declared("experiments", "notebooks", "dask", "peers", "test"):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is declared in pyproject.toml but not locked: make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement}: make lock"
        )
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements.lock" in makefile and "install --quiet -r $(LOCK)" in makefile
    assert "-e ./cca -e ." in makefile and "-e ./cca -e ." in (ROOT / "postBuild").read_text()


def test_every_subpackage_is_listed_for_the_wheel():
    """pyproject lists the packages (so that notebooks/ can be mapped into morcos2018): a
    subpackage added later must be listed, or the wheel would leave it out."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["morcos2018", "morcos2018.*"]))
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {
        "morcos2018.notebooks": "notebooks"
    }


@pytest.mark.slow
def test_installed_wheel_runs_a_notebook_from_another_folder(tmp_path):
    """Issue 13, item 2: after `pip install`, cca-reproduce found no notebooks outside a clone.
    The wheel is built and installed offline into a fresh venv that reuses this one's
    site-packages for the dependencies; the run starts in an unrelated folder."""
    source = _project_copy(tmp_path / "source")  # so the build leaves no build/ in the checkout
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    for project in (source / "cca", source):
        subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                        str(project)], check=True, capture_output=True, cwd=tmp_path)
    wheel = [*wheels.glob("pwcca-*.whl"), *wheels.glob("morcos2018-*.whl")]
    assert len(wheel) == 2, f"expected the library's and the reproduction's wheel: {wheel}"
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
                    *map(str, wheel)], check=True, capture_output=True)
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


@pytest.mark.slow
def test_emulated_binder_install_imports_cca_and_runs_a_notebook(tmp_path):
    """Issue 13, item 1: Binder installs the lock (environment.yml), then runs postBuild. The
    emulation gives a fresh venv exactly the locked distributions, at the locked versions (linked
    from this venv, so nothing is downloaded; cca itself is not among them), runs postBuild there
    in a copy of the project, and then imports cca and runs the smoke Figure 2 notebook."""
    venv = tmp_path / "binder"
    python, _ = venv_with(venv, _locked())
    (venv / "bin" / "pip").write_text(  # Binder's pip, acting on this environment
        f"#!/bin/sh\nexec {sys.executable} -m pip --disable-pip-version-check -q "
        f"--python {python} \"$@\"\n"
    )
    (venv / "bin" / "pip").chmod(0o755)
    project = _project_copy(tmp_path / "project")
    env = {**os.environ, "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
           "CCA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    subprocess.run(["bash", "postBuild"], cwd=project, env=env, check=True, capture_output=True)
    located = subprocess.run([python, "-c", "import cca; print(cca.__file__)"], cwd=tmp_path,
                             env=env, check=True, capture_output=True, text=True).stdout
    assert located.startswith(str(project)), f"cca imported from {located}"
    completed = subprocess.run(
        [venv / "bin" / "cca-reproduce", "--profile", "smoke", "--only", "fig2"],
        cwd=project, env=env, capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    findings = json.loads((project / "runs" / "smoke" / "findings.json").read_text())
    assert [f["notebook"] for f in findings["findings"]] == ["fig2_toy_noise"]


def _project_copy(target: Path) -> Path:
    """A copy of what the two projects build from: the library (cca/), the reproduction
    (morcos2018/, notebooks/), the root project files and postBuild."""
    for folder in ("cca", "morcos2018", "notebooks"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    for name in ("pyproject.toml", "README.md", "postBuild"):
        shutil.copy2(ROOT / name, target / name)
    return target
