"""The library publishes and installs alone (issue 23): its wheel (distribution ``pwcca``, import
``cca``) holds the library's modules and nothing of the reproduction, declares only NumPy, SciPy and
threadpoolctl (dask and the peers optional), installs no console script, and imports and computes
in a fresh environment that has nothing else."""

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from conftest import venv_with

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "cca"
RUNTIME = ("numpy", "scipy", "threadpoolctl")


def test_the_library_project_declares_only_numpy_scipy_threadpoolctl():
    project = tomllib.loads((LIBRARY / "pyproject.toml").read_text())["project"]
    assert project["name"] == "pwcca"
    assert sorted(dependency.split(">")[0] for dependency in project["dependencies"]) == list(
        RUNTIME
    )
    assert "scripts" not in project and "entry-points" not in project
    assert set(project["optional-dependencies"]) == {"dask", "peers", "docs", "array-api"}


@pytest.fixture(scope="module")
def library_wheel(tmp_path_factory) -> Path:
    tmp_path = tmp_path_factory.mktemp("library")
    source = tmp_path / "cca"  # a copy, so the build leaves no build/ in the checkout
    shutil.copytree(LIBRARY, source, ignore=shutil.ignore_patterns(
        "__pycache__", "*.egg-info", "build"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "wheel", "--no-deps",
         "--no-build-isolation", "-w", str(tmp_path / "wheels"), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "wheels").glob("pwcca-*.whl")
    return wheel


def test_the_wheel_holds_the_library_only(library_wheel):
    """The modules and the py.typed marker (PEP 561); the license in its metadata."""
    names = zipfile.ZipFile(library_wheel).namelist()
    modules = sorted(name for name in names if not name.startswith("pwcca-"))
    assert modules == sorted([f"cca/{path.name}" for path in LIBRARY.glob("*.py")]
                             + ["cca/py.typed"])
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert not any(name.endswith("entry_points.txt") for name in names)
    requires = [line for line in zipfile.ZipFile(library_wheel).read(
        next(name for name in names if name.endswith("METADATA"))).decode().splitlines()
        if line.startswith("Requires-Dist:")]
    unconditional = [re.split("[<>=]", line.split()[1])[0] for line in requires
                     if "extra ==" not in line]
    assert sorted(unconditional) == sorted(RUNTIME)


@pytest.mark.slow
def test_the_wheel_installs_and_computes_without_anything_else(library_wheel, tmp_path):
    """A fresh venv that sees only NumPy, SciPy and threadpoolctl (linked from this one, so
    nothing is downloaded): the wheel installs, ``import cca`` computes PWCCA, loads no
    deep-learning framework, and no ``cca-reproduce`` appears."""
    venv = tmp_path / "venv"
    python, _ = venv_with(venv, dict.fromkeys(RUNTIME))
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--python",
         str(python), "install", "--no-deps", "--no-index", str(library_wheel)],
        check=True, capture_output=True,
    )
    program = (
        "import sys, numpy as np, cca\n"
        "x = np.random.default_rng(0).normal(size=(500, 6))\n"
        "print(round(cca.pwcca(x, x[:, :3] @ np.ones((3, 2))), 6))\n"
        "loaded = ('tensorflow', 'keras', 'torch', 'morcos2018')\n"
        "print(sorted(m for m in loaded if m in sys.modules))"
    )
    result = subprocess.run([python, "-c", program], check=True, capture_output=True, text=True,
                            cwd=tmp_path).stdout.splitlines()
    assert result == ["1.0", "[]"]
    assert not (venv / "bin" / "cca-reproduce").exists()
    imported = subprocess.run([python, "-c", "import morcos2018"], capture_output=True,
                              cwd=tmp_path)
    assert imported.returncode != 0  # the reproduction is not part of the library
