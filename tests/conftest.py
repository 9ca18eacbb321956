"""The smoke batch that tests/morcos2018/test_notebooks.py and tests/morcos2018/test_sweep.py share
(issue 14, part 4).

Every notebook runs under the smoke profile once per session, as the README's sweep commands run
it: ``--plan``, then ``--cluster local:2``, which trains the smoke plan on a 2-worker
:class:`distributed.LocalCluster` into a fresh cache (the worker training one CNN is SIGKILLed
after its first epoch) and then runs the notebooks, which find every network in that cache.
test_sweep.py checks the sweep (the killed run resumed, the notebooks trained nothing), and
test_notebooks.py the notebooks it fed. One batch serves both: training the smoke plan once more
inside the notebooks would only repeat the sweep's work, and it took as long as the sweep.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def _unmarked_tests_train_nothing(request, monkeypatch):
    """A test that trains is marked ``slow``: ``make test-fast`` (``-m "not slow"``) trains nothing
    (issue 23, item 7). Every unmarked reproduction test runs with :mod:`morcos2018.training`'s
    epoch loop, the one place where CNNs and language models take optimizer steps, replaced by
    one that fails the test. (The library's tests, under tests/cca, need no reproduction.)"""
    if request.node.get_closest_marker("slow") is None and "morcos2018" in request.node.path.parts:
        from morcos2018 import training

        def refuse(*args, **kwargs):
            raise AssertionError(
                f"{request.node.nodeid} trains a network: mark it @pytest.mark.slow "
                "(make test-fast trains nothing)")

        monkeypatch.setattr(training, "_train_epochs", refuse)
    yield


def readme_section(title: str) -> str:
    """The README's text from the heading ``title`` (e.g. ``"### The training sweep on a Dask
    cluster"``) to its end."""
    text = README.read_text()
    assert title in text, f"the README has no heading {title!r}"
    return text.split(title, 1)[1]


SWEEP_SECTION = "### The training sweep on a Dask cluster"


def readme_sweep_commands() -> list[str]:
    """The ``cca-reproduce`` lines of the first example of the README's sweep section."""
    section = readme_section(SWEEP_SECTION)
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines()
            if line.startswith("cca-reproduce")]


class _KillMidTraining(threading.Thread):
    """SIGKILLs the worker whose training process trains a CNN (without XLA) once its first epoch
    is in the cache, and notes the run, the worker's pid and the first epoch's file time."""

    def __init__(self, runs: Path) -> None:
        super().__init__(daemon=True)
        self.runs, self.done = runs, threading.Event()
        self.killed: dict[str, Any] = {}

    def run(self) -> None:
        while not self.done.is_set():
            for manifest in self.runs.glob("*/manifest.json"):
                try:
                    entry = json.loads(manifest.read_text())
                except (OSError, ValueError):
                    continue
                config = entry["config"]
                if (config["experiment"] == "cnn" and not config.get("jit_compile")
                        and 1 <= entry["epochs_done"] < config["epochs"]):
                    trainer = _holder(manifest.parent / ".lock")
                    if trainer is not None:  # the run's training process; its parent: the worker
                        first = manifest.parent / "epoch_0001.npz"
                        self.killed = {"config": config, "pid": trainer.ppid(),
                                       "first_epoch": first.stat().st_mtime_ns}
                        os.kill(trainer.ppid(), signal.SIGKILL)
                        return
            time.sleep(0.05)


def _holder(lock: Path) -> Any:
    """The process under this one (started by a worker of its LocalCluster) that has ``lock``
    open: the one training the run."""
    import psutil

    for process in psutil.Process().children(recursive=True):
        try:
            if any(Path(f.path) == lock for f in process.open_files()):
                return process
        except psutil.Error:
            continue
    return None


@pytest.fixture(scope="session")
def smoke_batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's sweep commands, as written, in a fresh folder with a fresh cache.

    Returns the commands, each one's exit status and printed output (``plan_*``, ``sweep_*``),
    what the killer thread killed (``killed``; empty if it killed nothing), and the folders: the
    cache, the run folder (``runs/smoke``: executed notebooks, logs, claim records) and the
    figures.
    """
    from morcos2018 import cli

    root = tmp_path_factory.mktemp("smoke")
    cache = root / "cache"
    plan_command, cluster_command = readme_sweep_commands()
    killer = _KillMidTraining(cache / "runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("CCA_CACHE_DIR", str(cache))
        with contextlib.redirect_stdout(io.StringIO()) as printed:
            plan_status = cli.main(shlex.split(plan_command)[1:])
        plan_out = printed.getvalue()
        killer.start()
        try:
            with contextlib.redirect_stdout(io.StringIO()) as printed:
                sweep_status = cli.main(shlex.split(cluster_command)[1:])
        finally:
            killer.done.set()
    run = root / "runs" / "smoke"
    return {"commands": (plan_command, cluster_command), "plan_status": plan_status,
            "plan_out": plan_out, "sweep_status": sweep_status, "sweep_out": printed.getvalue(),
            "killed": killer.killed, "root": root, "cache": cache, "run": run,
            "figures": run / "figures"}


def venv_with(folder: Path, versions: dict[str, str | None]) -> tuple[Path, Path]:
    """A fresh venv (no pip) in ``folder`` that sees exactly the distributions ``versions`` names,
    linked from this one (so nothing is downloaded; a version, where given, must be this venv's).
    Returns its python and its site-packages folder."""
    import subprocess
    import sys
    from importlib import metadata

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip())
    for name, version in versions.items():
        distribution = metadata.distribution(name)
        assert version in (None, distribution.version), (
            f"{name}: this venv has {distribution.version}, not {version}"
        )
        root = Path(distribution.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in distribution.files or []} - {".."}:
            if not (purelib / top).exists() and (root / top).exists():
                (purelib / top).symlink_to(root / top)
    return python, purelib


def load_script(relative_path: str):
    """A script of the repository (not a package: benchmarks/, scripts/) as a module."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_correlations(x, y, cut=1e-12, absolute=0.0):
    """Canonical correlations independent of the library: an SVD of each centered layer in
    float64, keeping singular values above ``cut`` times its largest and above ``absolute``,
    then the singular values of the product of the two bases."""
    import numpy as np

    bases = []
    for layer in (x, y):
        centered = np.asarray(layer, dtype=np.float64) - np.mean(layer, axis=0, dtype=np.float64)
        u, s, _ = np.linalg.svd(centered, full_matrices=False)
        bases.append(u[:, (s > s[0] * cut) & (s > absolute)])
    return np.linalg.svd(bases[0].T @ bases[1], compute_uv=False)


@pytest.fixture
def host_crossings(monkeypatch) -> list[int]:
    """The sizes of the arrays that cross from a device to the host (cca._array_api.to_host),
    one per crossing, in order; clear it to count one call."""
    from cca import _array_api

    sizes: list[int] = []
    original = _array_api.to_host

    def counting(array):
        host = original(array)
        sizes.append(host.size)
        return host

    monkeypatch.setattr(_array_api, "to_host", counting)
    return sizes
