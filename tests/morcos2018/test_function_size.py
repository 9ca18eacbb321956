"""One concern per function (issue 23, part 6): no function of either package has more than 60
lines of code. Docstrings do not count: a public function's numpy-style docstring (parameters,
examples) is documentation, and shortening it would help no reader."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOST_LINES = 60


def code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0]
    has_docstring = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                     and isinstance(first.value.value, str))
    start = first.end_lineno + 1 if has_docstring and len(function.body) > 1 else first.lineno
    return function.end_lineno - start + 1


def test_no_function_has_more_than_60_lines_of_code():
    long = []
    for package in ("cca", "morcos2018", "scripts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if code_lines(node) > MOST_LINES:
                        long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
                                    f"({code_lines(node)} lines)")
    assert not long, "split these into named steps:\n" + "\n".join(long)
