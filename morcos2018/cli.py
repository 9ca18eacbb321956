"""The command line of ``cca-reproduce`` (also ``python -m morcos2018.cli``): its options, their
checks and its exit status, over the batch runner :mod:`morcos2018.runner`.

``cca-reproduce --profile NAME`` runs the notebooks under a profile and writes the findings (see
:func:`morcos2018.runner.run_batch`); ``--only`` picks notebooks, ``-p NAME=VALUE`` sets a
parameter of the notebooks that take it, ``--list`` names the notebooks and ``--plan`` lists the
networks they will train, training nothing (:mod:`morcos2018.plan`). ``--cluster ADDRESS`` (a
running Dask scheduler) or ``--cluster local[:N]`` first trains those networks on the cluster's
workers (:mod:`morcos2018.sweep`). ``--compare FILE`` sets the run's findings beside published
ones (e.g. ``findings/default.json``) once the batch is done, and writes ``<run>/compare.json``
(:mod:`morcos2018.compare`); with every notebook up to date it only compares. ``--verbose`` shows
TensorFlow's C++ log, which batch runs keep off.

Exit status: 0 if every notebook finished, 1 if one failed (or a run failed on the cluster, or
``--cluster`` is not a scheduler), 2 for bad arguments (an unknown or invalid profile, notebook or
parameter, a missing optional module, a ``--notebooks-dir`` without notebooks, an output folder
that cannot be written, a ``--compare`` file that is not findings) or a file that cannot be
written (after the batch's summary), 130 if interrupted (Ctrl-C). Each error is one line on
stderr. What ``--compare`` finds does not change the exit status: a comparison is information, not
a failure.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from morcos2018.cache import cache_dir
from morcos2018.compare import compare_findings, comparison_lines, comparison_summary
from morcos2018.config import available_profiles
from morcos2018.files import write_json
from morcos2018.plan import format_plan, plan_records
from morcos2018.runner import (
    NotebookRun,
    default_notebooks_dir,
    discover_notebooks,
    os_error_line,
    plan_batch,
    run_batch,
    run_folder,
)
from morcos2018.sweep import SweepError

#: Errors of a folder that cannot take the run's outputs (not writable, read-only, full).
UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC)
#: The extra of morcos2018 that installs each optional module the runner imports.
EXTRAS = {"papermill": "notebooks", "nbformat": "notebooks", "ipykernel": "notebooks",
          "distributed": "dask", "dask": "dask"}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``cca-reproduce``.

    Exit status: 0 if every notebook finished, 1 if one failed, 2 for bad arguments, 130 if
    interrupted (Ctrl-C).
    """
    args = argument_parser().parse_args(argv)
    try:
        if args.list:
            for notebook in discover_notebooks(args.notebooks_dir or default_notebooks_dir()):
                print(notebook.stem)
            return 0
        if args.plan:
            _print_plan(args)
            return 0
        published = read_findings(args.compare) if args.compare else None
        runs = _run(args)
        if published is not None:
            _compare(args, published)
    except ModuleNotFoundError as error:
        print(f"cca-reproduce: {missing_module_message(error.name)}", file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as error:
        print(f"cca-reproduce: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"cca-reproduce: {os_error_message(error)}", file=sys.stderr)
        return 2
    except SweepError as error:
        print(f"cca-reproduce: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cca-reproduce: interrupted", file=sys.stderr)
        return 130
    if any(r.status == "interrupted" for r in runs):
        return 130
    return 1 if any(r.status == "failed" for r in runs) else 0


def argument_parser() -> argparse.ArgumentParser:
    """The options of ``cca-reproduce`` (what ``--help`` shows)."""
    parser = argparse.ArgumentParser(
        prog="cca-reproduce",
        description="Run the reproduction notebooks with papermill and write a findings report.",
    )
    parser.add_argument(
        "--profile", default="default",
        help=f"{', '.join(available_profiles())} (see the README), or a folder of profile files",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        default=(),
        metavar="NOTEBOOK",
        help="run these notebooks (stems or prefixes, e.g. fig3 fig6)",
    )
    parser.add_argument("--output", type=Path, help="run folder (default runs/<profile>)")
    parser.add_argument("--figures-dir", type=Path, help="where the notebooks save figures")
    parser.add_argument("--notebooks-dir", type=Path, help="folder of notebooks to run")
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        type=_parse_override,
        default=[],
        metavar="NAME=VALUE",
        help="override a notebook parameter (JSON value)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="notebooks run at once")
    parser.add_argument("--force", action="store_true", help="rerun even up-to-date notebooks")
    parser.add_argument(
        "--timeout", type=_positive_seconds, help="per-cell timeout in seconds (default: none)"
    )
    parser.add_argument("--list", action="store_true", help="list the notebooks and exit")
    parser.add_argument(
        "--plan", nargs="?", const="table", choices=("table", "json"),
        help="list the networks the notebooks will train (config, cache key, epochs, cost) and "
        "exit, training nothing; 'json' for every config",
    )
    parser.add_argument(
        "--cluster", metavar="ADDRESS",
        help="train the networks on a Dask cluster first: a scheduler address "
        "(tcp://host:8786) or local[:N] (N local worker processes); the cache (CCA_CACHE_DIR) "
        "must be a folder every worker sees at the same path",
    )
    parser.add_argument(
        "--compare", type=Path, metavar="FINDINGS",
        help="after the run, compare its findings with published ones (e.g. "
        "findings/default.json): which outcomes reproduced, how far each number moved; writes "
        "<output>/compare.json; does not change the exit status",
    )
    parser.add_argument(
        "--verbose", action="store_true",
        help="show TensorFlow's C++ log (oneDNN, CUDA notices and errors), off otherwise",
    )
    return parser


def read_findings(path: Path) -> dict[str, Any]:
    """The findings report at ``path`` (a ``findings.json``), or a ``ValueError`` or
    ``FileNotFoundError`` saying what is wrong with it."""
    if not path.is_file():
        raise FileNotFoundError(f"--compare {path}: no such file; pass a findings.json, e.g. "
                                "findings/default.json")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"--compare {path}: not JSON ({error})") from error
    if not isinstance(report, dict) or not isinstance(report.get("findings"), list):
        raise ValueError(f"--compare {path}: no 'findings' list of claim records; pass a "
                         "findings.json that cca-reproduce wrote")
    return report


def _compare(args: argparse.Namespace, published: dict[str, Any]) -> None:
    """Compare the run's findings with ``published``; print the result, write compare.json."""
    folder = run_folder(args.profile, args.output)
    comparison = compare_findings(published, read_findings(folder / "findings.json"))
    write_json(folder / "compare.json",
               {"published": str(args.compare), "run": str(folder / "findings.json"),
                **comparison}, default=str)
    print(comparison_summary(comparison, str(args.compare)))
    print("\n".join([*comparison_lines(comparison), f"comparison: {folder / 'compare.json'}"]))


def _print_plan(args: argparse.Namespace) -> None:
    records = plan_records(plan_batch(args.profile, args.only, args.notebooks_dir,
                                      dict(args.parameter)))
    if args.plan == "json":
        print(json.dumps(records, indent=1))
    else:
        print(format_plan(records, str(args.profile), cache_dir()))


def _run(args: argparse.Namespace) -> list[NotebookRun]:
    return run_batch(
        profile=args.profile,
        only=args.only,
        output=args.output,
        figures_dir=args.figures_dir,
        notebooks_dir=args.notebooks_dir,
        overrides=dict(args.parameter),
        jobs=args.jobs,
        force=args.force,
        timeout=args.timeout,
        cluster=args.cluster,
        verbose=args.verbose,
    )


def _parse_override(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"-p expects NAME=VALUE (e.g. -p seeds=3), got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(
            f"expects a positive number of seconds (e.g. --timeout 3600), got {text!r}; "
            "leave it out for no timeout"
        )
    return seconds


def os_error_message(error: OSError) -> str:
    """One line for an ``OSError`` of a batch: the path and the reason, and what to do when a
    folder cannot take the run's outputs."""
    if error.errno in UNWRITABLE:
        return (f"cannot write {error.filename or 'the output'} ({error.strerror}); pass "
                "--output (and --figures-dir) a folder you can write, or free some space")
    return f"{os_error_line(error)}; check that path and run the same command again"


def missing_module_message(module: str | None) -> str:
    """One line saying what to install for a missing ``module``."""
    top = (module or "").split(".")[0]
    if top in EXTRAS:
        extra = EXTRAS[top]
        use = "--cluster" if extra == "dask" else "running notebooks"
        return (f"{use} needs {top}, which is not installed: pip install "
                f"'morcos2018[{extra}]' (from a clone: pip install ./cca '.[{extra}]')")
    return (f"the module {top or 'a dependency'} is not installed: reinstall the reproduction "
            "with its dependencies (from a clone: pip install ./cca '.[notebooks]')")


if __name__ == "__main__":
    sys.exit(main())
