"""Packaging: the Binder environment carries every runtime dependency the package declares."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_binder_environment_lists_every_runtime_dependency():
    """Binder builds environment.yml, then postBuild installs the package with --no-deps: a
    dependency missing from environment.yml breaks `import cca` there (issue 13: threadpoolctl)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    needed = {_name(r) for r in project["dependencies"] + extras["experiments"]}
    needed |= {_name(r) for r in extras["notebooks"] if not r.startswith("cca")}
    environment = (ROOT / "environment.yml").read_text()
    listed = {_name(line.lstrip(" -")) for line in environment.splitlines() if "- " in line}
    assert "--no-deps" in (ROOT / "postBuild").read_text()
    assert needed <= listed, f"missing from environment.yml: {sorted(needed - listed)}"
