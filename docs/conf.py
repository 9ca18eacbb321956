"""Sphinx configuration of the documentation of ``cca`` (distribution ``pwcca``).

Build it with ``make docs`` from the repository root (HTML in docs/_build/html, warnings as errors,
the pages' examples run), or ``sphinx-build -W --keep-going docs docs/_build/html``. The pages
document the source tree beside them: the repository root comes first on ``sys.path``.
"""

import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "pwcca"
author = "The pwcca authors"
copyright = "the pwcca authors, Apache-2.0"
try:
    release = metadata.version("pwcca")
except metadata.PackageNotFoundError:  # built from a checkout without installing the library
    release = "unknown"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

# Docstrings are numpydoc style. Their class attributes are listed in each docstring's Attributes
# section, so numpydoc does not add member tables of its own (they would repeat them).
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections give the types

# Only the pages' ``.. doctest::`` blocks run in `make docs`; the docstrings' examples run in
# `make test` (pytest --doctest-modules over cca/), so they are not run twice.
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np\nimport cca"

html_theme = "furo"
html_title = f"pwcca {release}"
