"""Copy executed default-profile notebooks from a run folder over notebooks/, for committing.

The committed notebooks carry the default profile's outputs, so that readers see the figures and
claim checks on the code host. papermill injects a cell of parameters (the profile, machine-specific
paths) and records absolute input/output paths, and progress lines name the cache folder; this
drops that cell and the paths (the cache folder becomes $CCA_CACHE_DIR), so the
published notebook runs as it is in JupyterLab (its own parameters cell applies, whose profile is
the default one). The profile a notebook ran under stays in its papermill metadata.

Usage: python scripts/publish_notebooks.py [RUN_FOLDER (default runs/default)] [STEM ...]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE_SPECIFIC = ("figures_dir", "results_dir")
# TensorFlow's start-up chatter on a machine without a GPU: not output of the notebook's code.
TF_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog|[IWE]0000 .*(cudart_stub|cuda_platform"
    r"|cpu_feature_guard)|To enable the following instructions)"
)


def is_tf_noise(output: dict) -> bool:
    lines = "".join(output.get("text", [])).splitlines()
    return output.get("name") == "stderr" and bool(lines) and all(map(TF_NOISE.match, lines))


# The publishing machine's cache folder, as training's progress lines name it ("(cache <root>/runs/
# <key>)"): written as the variable that sets it, so no machine path is committed.
CACHE_PATH = re.compile(r"\(cache \S+/runs/([0-9a-f]{20})\)")


def without_cache_paths(output: dict) -> dict:
    """A stream output with the cache folder of every progress line replaced by $CCA_CACHE_DIR."""
    if output.get("output_type") != "stream":
        return output
    text = [CACHE_PATH.sub(r"(cache $CCA_CACHE_DIR/runs/\1)", line) for line in output["text"]]
    return {**output, "text": text}


def is_injected(cell: dict) -> bool:
    """Whether ``cell`` is the parameters cell papermill injected."""
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def publish(executed: Path, target: Path) -> None:
    notebook = json.loads(executed.read_text())
    papermill = notebook["metadata"].get("papermill", {})
    if papermill.get("parameters", {}).get("profile") != "default":
        raise SystemExit(f"{executed}: not a default-profile run; only those are committed")
    for name in MACHINE_SPECIFIC:
        papermill.get("parameters", {}).pop(name, None)
    papermill["input_path"] = papermill["output_path"] = target.name
    notebook["cells"] = [cell for cell in notebook["cells"] if not is_injected(cell)]
    for cell in notebook["cells"]:
        if "outputs" in cell:
            cell["outputs"] = [
                without_cache_paths(out) for out in cell["outputs"] if not is_tf_noise(out)
            ]
    target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    shown = target.relative_to(REPO) if target.is_relative_to(REPO) else target
    print(f"published {executed} -> {shown}")


def main(argv: list[str]) -> None:
    run = Path(argv[0]) if argv else REPO / "runs" / "default"
    stems = argv[1:] or [path.stem for path in sorted((REPO / "notebooks").glob("*.ipynb"))]
    for stem in stems:
        executed = run / f"{stem}.ipynb"
        if not executed.exists():
            raise SystemExit(f"{executed} does not exist: run `make reproduce` first")
        publish(executed, REPO / "notebooks" / f"{stem}.ipynb")


if __name__ == "__main__":
    main(sys.argv[1:])
