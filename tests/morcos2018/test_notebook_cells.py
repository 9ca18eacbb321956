"""The notebook is the paper, the package is the method: every notebook reads as narrative plus
short calls. Each code cell is short, the cell tagged ``parameters`` comes first and alone, and no
notebook writes its own seed rule (those live in :mod:`morcos2018.plan` and the package)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
MAX_LINES = 20
#: ``seed`` (or ``seeds``, ``seed_offset``...) next to ``+`` or ``*``: arithmetic that makes seeds.
#: ``*`` as unpacking (``*key``) is not next to a seed name.
SEED_ARITHMETIC = re.compile(r"\bseeds?\w*\s*[+*]\s*\w|\w\s*[+*]\s*seeds?\w*")
#: How many seeds there are is a count, not a seed rule (``range(len(seeds))`` indexes networks).
SEED_COUNT = re.compile(r"len\(\s*seeds?\s*\)")


def is_seed_rule(line: str) -> bool:
    """A line of code that computes seeds: arithmetic on a seed, or a ``range(`` of seeds."""
    code = SEED_COUNT.sub("n", line.split("#")[0])
    return bool(SEED_ARITHMETIC.search(code)) or ("range(" in code and "seed" in code)


def code_cells(notebook: Path) -> list[dict]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 9


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_code_cell_is_longer_than_a_few_lines(notebook):
    long = {i: len(source(cell).splitlines()) for i, cell in enumerate(code_cells(notebook))
            if len(source(cell).splitlines()) > MAX_LINES}
    assert not long, (f"{notebook.name}: code cells {long} (index: lines) exceed {MAX_LINES} "
                      "lines; move the logic into the package and call it")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_and_it_comes_first(notebook):
    cells = code_cells(notebook)
    tagged = [i for i, cell in enumerate(cells)
              if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert tagged == [0], f"{notebook.name}: cells tagged 'parameters': {tagged}; want [0]"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_seed_arithmetic_outside_the_parameters_cell(notebook):
    found = [line.strip() for cell in code_cells(notebook)[1:]
             for line in source(cell).splitlines()
             if is_seed_rule(line)]
    assert not found, (f"{notebook.name} computes seeds itself: {found}; use the rules of "
                       "morcos2018.plan (or the package) so the plan and the notebook agree")


@pytest.mark.parametrize("line", [
    "memorizing_seeds = [seed + settings['memorizing_seed_offset'] for seed in seeds]",
    "seeds = list(seeds) if seeds is not None else list(range(networks))",
    "[seed + settings['seed_offset'] * (i + 1) for seed in seeds]",
    "seeds = range(seed, seed + setup['seeds'])",
])
def test_the_seed_pattern_finds_seed_rules(line):
    assert is_seed_rule(line)


@pytest.mark.parametrize("line", [
    "seeds = plan.network_seeds(seeds, networks)",
    "other = lm_training.train_lm(lm_training.lm_config(settings, *key))",
    "print(f'{model} seed {seed}: validation perplexity')",
    "units = plan.lm_dynamics_units(model, seed, models, seeds)",
    "memorizing = list(range(len(seeds), 2 * len(seeds)))",
])
def test_the_seed_pattern_spares_plain_uses(line):
    assert not is_seed_rule(line)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_a_notebook_run_by_hand_cannot_overwrite_the_published_figures(notebook):
    """Run outside the batch runner (JupyterLab, Binder), a notebook writes under
    runs/<profile>/ (morcos2018.files.notebook_outputs), never into figures/ or findings/."""
    cells = code_cells(notebook)
    parameters = source(cells[0])
    assert re.search(r"^figures_dir = None\b", parameters, re.M), parameters
    assert re.search(r"^results_dir = None\b", parameters, re.M), parameters
    assert "figures_dir, results_dir = notebook_outputs(profile, figures_dir, results_dir)" in (
        source(cells[1]))
    assert not any("../figures" in source(cell) or "../findings" in source(cell)
                   for cell in cells)
