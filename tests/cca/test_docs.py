"""The documentation site (docs/, issue 27): every public name has its reference entry, and the
site builds with Sphinx with warnings as errors, the examples on its pages run and give the values
they show (Sphinx's doctest builder). The docstrings' own examples run under pytest
--doctest-modules."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cca

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# What docs/conf.py loads: Sphinx, its extensions and theme (the docs extra of cca/pyproject.toml).
DOCS_PACKAGES = ("sphinx", "numpydoc", "myst_parser", "furo")


def test_the_api_reference_documents_every_public_name():
    api = (DOCS / "api.rst").read_text()
    documented = set(re.findall(r"^\.\. auto(?:function|class|module|data):: cca\.(\w+)", api,
                                flags=re.MULTILINE))
    assert set(cca.__all__) <= documented, f"add to docs/api.rst: {set(cca.__all__) - documented}"


@pytest.mark.parametrize("builder", ["html", "doctest"])
def test_the_site_builds_without_warnings(builder, tmp_path):
    missing = [name for name in DOCS_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the docs need {', '.join(missing)}: pip install './cca[docs]'")
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / builder)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    if builder == "html":
        pages = {path.name for path in (tmp_path / "html").glob("*.html")}
        assert {"index.html", "getting-started.html", "conventions.html", "significance.html",
                "agreement.html", "api.html"} <= pages
        agreement = (tmp_path / "html" / "agreement.html").read_text()
        assert "statsmodels" in agreement and "<table" in agreement  # the README's table
