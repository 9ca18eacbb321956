"""The README's library quickstart runs as written, and what it claims of the results holds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import cca

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart() -> str:
    section = README.read_text().split("## The `cca` library", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no Python example in the README's library section"
    return match.group(1)


def test_readme_quickstart_runs_and_streaming_matches():
    namespace: dict = {}
    exec(compile(quickstart(), str(README), "exec"), namespace)  # noqa: S102
    x, y, acc = namespace["x"], namespace["y"], namespace["acc"]
    assert acc.pwcca() == pytest.approx(cca.pwcca(x, y), abs=1e-8)
    assert namespace["top"].shape == (len(x), 10)
    assert 0.0 <= cca.pwcca_distance(x, y) <= 1.0
    assert np.isfinite(cca.linear_cka(x, y, debiased=True))
