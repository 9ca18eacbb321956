"""The README's library quickstart runs as written, and what it claims of the results holds."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from conftest import SWEEP_SECTION, readme_section

import cca

README = Path(__file__).resolve().parents[2] / "README.md"


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


FINDINGS = README.parent / "findings"


@pytest.mark.parametrize("profile", ["default", "extended"])
def test_readme_results_table_is_generated_from_the_committed_findings(profile):
    """The README's numbers come from findings/<profile>.json (scripts/publish_findings.py):
    the default profile's table always, the extended profile's once its findings are
    committed (and its table only then)."""
    import json

    from morcos2018.findings import findings_markdown, readme_results_table, readme_table_markers
    from morcos2018.runner import PUBLISHED_FIGURES

    text = README.read_text(encoding="utf-8")
    first, last = readme_table_markers(profile)
    source = FINDINGS / f"{profile}.json"
    if profile != "default" and not source.exists():
        assert first not in text, f"the README shows a {profile} table without {source}"
        return
    findings = json.loads(source.read_text(encoding="utf-8"))
    start = text.index(first)
    end = text.index(last) + len(last) + 1
    figures = PUBLISHED_FIGURES[profile]
    assert text[start:end] == readme_results_table(findings, figures), (
        f"the README's results table differs from findings/{profile}.json: run "
        f"`python scripts/publish_findings.py runs/{profile}` after `make reproduce`"
    )
    markdown = source.with_suffix(".md").read_text(encoding="utf-8")
    assert markdown == findings_markdown(findings)
    assert findings["profile"] == profile and not findings["failed"]
    assert all(record.get("evidence") for record in findings["findings"]), (
        "every committed claim must carry its evidence"
    )
    shown = set(re.findall(rf'src="{figures}/([^"/]+)"', text[start:end]))
    assert shown and all((README.parent / figures / name).exists() for name in shown)


def test_readme_dask_example_runs_on_a_local_cluster_and_matches_in_memory():
    """Issue 14: the "More than one machine" section's code, as written (a two-process
    LocalCluster), gives the in-memory values."""
    section = README.read_text().split("### `cca` on dask arrays", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {"__name__": "__main__"}
    exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    x, y = namespace["x"].compute(), namespace["y"].compute()
    assert x.shape == (20_000, 64) and y.shape == (20_000, 48)
    assert namespace["acc"].n_samples == 20_000
    assert namespace["acc"].pwcca() == pytest.approx(cca.pwcca(x, y), abs=1e-10)


def test_readme_sweep_section_states_the_paper_plan_as_it_is():
    """The sweep section's size of the paper's sweep is what `--plan` computes (its commands
    run as written in tests/conftest.py and are checked in tests/morcos2018/test_sweep.py)."""
    from morcos2018.plan import training_plan

    section = readme_section(SWEEP_SECTION)
    match = re.search(r"train ([\d,]+) networks, about ([\d.]+) EFLOP", section)
    assert match, "the sweep section no longer states the paper plan's size"
    plan = training_plan("paper")
    assert int(match.group(1).replace(",", "")) == len(plan)
    assert float(match.group(2)) == round(sum(run.flops for run in plan) / 1e18, 1)
