"""Commit a run's findings: findings/<profile>.json and .md, its figures, the README's results.

The README's numbers must come from the committed findings, never be typed by hand. This copies
the run's figures (``<run>/figures/``, where a batch writes them) to the repository's figures/,
or figures/extended/ for the extended profile: publishing is the only writer of those folders.
It copies ``<run>/findings.json`` to ``findings/<profile>.json`` (its figure links pointing at
those folders), writes the matching
``findings/<profile>.md`` and, for those two profiles, regenerates the README's results of that
profile from it (the tally and one row per claim). ``tests/morcos2018/test_readme.py`` fails
when the README, the two files and each other disagree.

Usage: python scripts/publish_findings.py [RUN_FOLDER (default runs/default)] [--keep-others]
       python scripts/publish_findings.py --rerender PROFILE

``--keep-others`` keeps the committed records of notebooks the run folder has no record of (each
with its own date, versions and outcome words), for a profile republished one notebook at a time
whose other networks are not at hand (the extended profile's Figure 4, 2026-12-05).

``--rerender`` regenerates ``findings/<profile>.md`` and the README's results of that profile from
the committed ``findings/<profile>.json`` alone (no run): after a change of how records are
rendered, e.g. the outcome words, for a profile whose networks are not at hand to rerun.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from morcos2018.findings import findings_markdown, readme_results_table, replace_readme_table
from morcos2018.runner import PUBLISHED_FIGURES

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    if argv[:1] == ["--rerender"]:
        if len(argv) != 2:
            raise SystemExit("usage: publish_findings.py --rerender PROFILE")
        rerender(argv[1])
        return
    keep_others = "--keep-others" in argv
    argv = [arg for arg in argv if arg != "--keep-others"]
    run = Path(argv[0]) if argv else REPO / "runs" / "default"
    source = run / "findings.json"
    if not source.exists():
        raise SystemExit(f"{source} does not exist: run `make reproduce` first")
    findings = json.loads(source.read_text(encoding="utf-8"))
    if keep_others:
        findings = with_committed_others(findings)
    if findings.get("failed") or findings.get("interrupted"):
        print(f"warning: {source} lists failed or interrupted notebooks: "
              f"{findings.get('failed')} {findings.get('interrupted')}")
    stale = {str(f.get("notebook")): f["stale"] for f in findings["findings"] if f.get("stale")}
    if stale:
        raise SystemExit("not published: stale records (their inputs changed since they ran):\n"
                         + "\n".join(f"  {name}: {why}" for name, why in stale.items()))
    profile = Path(str(findings["profile"])).name
    figures = PUBLISHED_FIGURES.get(profile, "figures")
    copied = copy_figures(run / str(findings.get("figures_dir", "figures")), REPO / figures)
    if copied:
        print(f"copied {copied} figure files to {figures}/")
    findings["figures_dir"] = f"../{figures}"
    folder = REPO / "findings"
    folder.mkdir(exist_ok=True)
    (folder / f"{profile}.json").write_text(json.dumps(findings, indent=2) + "\n", encoding="utf-8")
    (folder / f"{profile}.md").write_text(findings_markdown(findings), encoding="utf-8")
    print(f"wrote findings/{profile}.json and findings/{profile}.md")
    if profile in PUBLISHED_FIGURES:
        readme = REPO / "README.md"
        table = readme_results_table(findings, figures)
        readme.write_text(replace_readme_table(readme.read_text(), table, profile))
        print(f"regenerated the README's results table of the {profile} profile")


def rerender(profile: str) -> None:
    """findings/<profile>.md and the README's results of ``profile`` from its committed JSON."""
    source = REPO / "findings" / f"{profile}.json"
    if not source.exists():
        raise SystemExit(f"{source} does not exist: publish a run of that profile first")
    findings = json.loads(source.read_text(encoding="utf-8"))
    (REPO / "findings" / f"{profile}.md").write_text(findings_markdown(findings), encoding="utf-8")
    print(f"rewrote findings/{profile}.md from findings/{profile}.json")
    if profile in PUBLISHED_FIGURES:
        readme = REPO / "README.md"
        table = readme_results_table(findings, PUBLISHED_FIGURES[profile])
        readme.write_text(replace_readme_table(readme.read_text(), table, profile))
        print(f"regenerated the README's results table of the {profile} profile")


def with_committed_others(findings: dict) -> dict:
    """``findings`` plus the committed records (findings/<profile>.json) of every notebook it has
    no record of, ordered by notebook name (as a full run orders them: fig1..fig6, then the
    appendix notebooks), each notebook's records in their own order."""
    profile = Path(str(findings["profile"])).name
    committed = REPO / "findings" / f"{profile}.json"
    if not committed.exists():
        raise SystemExit(f"--keep-others: {committed} does not exist; nothing to keep")
    ran = {record["notebook"] for record in findings["findings"]}
    kept = [record for record in json.loads(committed.read_text(encoding="utf-8"))["findings"]
            if record["notebook"] not in ran]
    print(f"kept {len(kept)} committed records of "
          f"{sorted({record['notebook'] for record in kept})}")
    merged = sorted([*findings["findings"], *kept], key=lambda record: record["notebook"])
    return {**findings, "findings": merged}


def copy_figures(source: Path, target: Path) -> int:
    """Copy the figure files (png, pdf) of a run's figures folder to ``target``; how many."""
    if not source.is_dir() or source.resolve() == target.resolve():
        return 0
    target.mkdir(parents=True, exist_ok=True)
    files = [path for path in sorted(source.iterdir()) if path.suffix in (".png", ".pdf")]
    for path in files:
        shutil.copy2(path, target / path.name)
    return len(files)


if __name__ == "__main__":
    main(sys.argv[1:])
