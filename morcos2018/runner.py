"""The batch runner: run the paper's notebooks with papermill and collect the findings (its
command line, ``cca-reproduce``: :mod:`morcos2018.cli`).

A thin layer over papermill. Each notebook runs in its own process (``python -m papermill``)
with the notebooks folder as working directory, under one profile, and writes:

- ``<output>/<stem>.ipynb``: the executed notebook,
- ``<output>/<stem>.log``: everything the notebook printed; its progress lines (the network
  training, epoch e of E and the time left, or that it was loaded from the cache) are also
  relayed to the terminal, prefixed with the notebook's name,
- ``<output>/results/<stem>.json``: the notebook's claim check (written by
  :func:`morcos2018.report.record_claim` in its last cell),
- ``<output>/<stem>.done.json``: written last, with the fingerprint of the run's inputs;

and, per batch, an entry in ``<output>/batches.json`` (:mod:`morcos2018.batch_log`), from which
the findings give the profile's run time from an empty cache over the batches that resumed it.

A rerun skips every notebook whose ``.done.json`` matches the fingerprint of its inputs now (the
notebook's source cells, the profile's files, the package's version and source, the parameters), so
an interrupted batch resumes where it stopped and a finished one reruns in seconds. Training inside
the notebooks is cached separately (``CCA_CACHE_DIR``), so even a notebook that reruns does not
retrain what it already trained. A failing notebook does not stop the others; the exit status is 1
if any failed, and the summary names its log.

When a notebook starts, its ``.done.json`` and claim check are removed, so no verdict outlives
the run that made it: a notebook that fails on a rerun is reported as failed, never beside its old
verdict. A notebook the batch did not reach (Ctrl-C) keeps its last results, and a record whose
inputs changed since it was made (another profile file, package or notebook source) is marked
stale in the findings, with the command that reruns it (:func:`stale_notebooks`).

An override (``-p NAME=VALUE``) sets a parameter of the notebooks whose cell tagged
``parameters`` assigns ``NAME``; the others do not see it. A name no notebook of the batch takes is
an error.

Ctrl-C (SIGINT) stops the batch: running notebooks are interrupted, no new one starts, the findings
of what finished are written, and ``cca-reproduce`` exits with status 130. The notebooks that did
not finish are not marked done, so running the same command again resumes.

At the end, ``<output>/findings.md`` and ``<output>/findings.json`` collect every claim check
(:mod:`morcos2018.findings`); ``cca-reproduce --compare FILE`` then sets them beside published
findings (:mod:`morcos2018.compare`).

TensorFlow's C++ log is off in the notebooks' kernels (``TF_CPP_MIN_LOG_LEVEL=3``, which hides
the "failed call to cuInit" error of a machine without a GPU) and in a cluster's training
processes, unless ``verbose`` (``--verbose``: level 2, errors shown, as before) or the user's
environment sets ``TF_CPP_MIN_LOG_LEVEL`` (see :func:`morcos2018.sweep.tensorflow_log_level`).

Figures go to ``<output>/figures`` unless ``--figures-dir`` says otherwise: a batch never writes
the repository's ``figures/``. Publishing (``make publish``, ``scripts/publish_findings.py``)
copies a run's figures to where the README shows them (:data:`PUBLISHED_FIGURES`: ``figures/``
for the default profile, ``figures/extended/`` for the extended one) with its findings.

:func:`plan_batch` (``--plan``) lists every network the notebooks of the batch will train (config,
cache key, epochs, whether the cache holds it, estimated cost) and trains nothing
(:mod:`morcos2018.plan`). A cluster (``--cluster ADDRESS``, a running Dask scheduler, or
``--cluster local[:N]``, a ``distributed.LocalCluster`` of N worker processes) first trains the
runs of the notebooks about to run on the cluster's workers, one task per run, into the shared
cache (:mod:`morcos2018.sweep`); the notebooks then run here as always and load them. If a run
fails on the cluster, no notebook runs (:class:`~morcos2018.sweep.SweepError`; ``cca-reproduce``
exits with status 1).

The notebooks are those the installed package carries (the wheel ships the repository's
``notebooks/`` as ``morcos2018/notebooks``), or a clone's ``notebooks/`` when the package runs
from one; ``--notebooks-dir`` runs another folder of notebooks.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from morcos2018 import batch_log
from morcos2018.config import check_parameter, load_profile, profile_files
from morcos2018.files import repository_root, write_json
from morcos2018.findings import findings_markdown
from morcos2018.plan import PlannedRun, training_plan
from morcos2018.progress import PROGRESS_ENV, PROGRESS_MARK
from morcos2018.provenance import PACKAGE_DIR, files_digest, package_digest
from morcos2018.report import result_files, versions
from morcos2018.sweep import SweepError, parse_cluster, tensorflow_log_level

REPO_DIR = PACKAGE_DIR.parent
#: Where an installed package carries the notebooks (the wheel maps the repository's notebooks/
#: here, see pyproject.toml); a clone has them in ``REPO_DIR / "notebooks"``.
PACKAGED_NOTEBOOKS = PACKAGE_DIR / "notebooks"
#: Where publishing puts each published profile's figures (the README shows them).
PUBLISHED_FIGURES = {"default": "figures", "extended": "figures/extended"}


@dataclass
class NotebookRun:
    """What happened to one notebook in a batch."""

    name: str
    status: str  # "done", "skipped", "failed", "interrupted" (by Ctrl-C, running or not started)
    seconds: float = 0.0
    log: Path | None = None
    error: str = ""
    result: dict[str, Any] | None = field(default=None, repr=False)


def default_notebooks_dir() -> Path:
    """The notebooks ``cca-reproduce`` runs: those the installed package carries, else the
    ``notebooks/`` folder of the clone the package runs from."""
    if any(PACKAGED_NOTEBOOKS.glob("*.ipynb")):
        return PACKAGED_NOTEBOOKS
    clone = repository_root()
    if clone is not None:
        return clone / "notebooks"
    raise FileNotFoundError(
        f"the morcos2018 package at {PACKAGE_DIR} carries no notebooks (it was installed from a "
        "source tree without notebooks/?): reinstall it from a wheel or a clone "
        "(pip install 'morcos2018[notebooks]'), or pass --notebooks-dir with a folder of notebooks"
    )


def discover_notebooks(notebooks_dir: Path, only: Sequence[str] = ()) -> list[Path]:
    """The notebooks to run, sorted by name; ``only`` selects by stem or by a prefix of it.

    Raises
    ------
    FileNotFoundError, ValueError
        If ``notebooks_dir`` is not a folder or holds no notebook (``--notebooks-dir``).
    """
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(f"--notebooks-dir {notebooks_dir}: no such folder; pass a folder "
                                "of .ipynb notebooks, or leave it out for the package's")
    notebooks = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("_"))
    if not notebooks:
        raise ValueError(f"--notebooks-dir {notebooks_dir}: no notebooks (*.ipynb) there; pass "
                         "the folder that holds them, or leave it out for the package's")
    if not only:
        return notebooks
    chosen = [nb for nb in notebooks if any(nb.stem == o or nb.stem.startswith(o) for o in only)]
    unknown = [o for o in only if not any(nb.stem.startswith(o) for nb in notebooks)]
    if unknown:
        names = ", ".join(nb.stem for nb in notebooks)
        raise ValueError(f"--only {' '.join(unknown)}: no such notebook; choose from {names}")
    return chosen


def _source_digest(notebook: Path) -> str:
    """Hash of a notebook's cell sources, so stored outputs (and the parameters cell papermill
    injects when a notebook is executed in place) do not change its identity."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    cells = [c for c in cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    sources = [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells
    ]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def fingerprint(notebook: Path, profile: str, parameters: dict[str, Any], inputs: str) -> str:
    """Identity of a notebook run's inputs: notebook sources, parameters, and ``inputs``, the
    digest of what every notebook of the batch shares (profile files, package)."""
    parts = {
        "notebook": _source_digest(notebook),
        "shared": inputs,
        "profile": str(profile),
        "parameters": parameters,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _is_complete(notebook: Path, output: Path, digest: str) -> bool:
    marker = output / f"{notebook.stem}.done.json"
    if not marker.exists() or not (output / f"{notebook.stem}.ipynb").exists():
        return False
    if not (output / "results" / f"{notebook.stem}.json").exists():
        return False
    try:
        return json.loads(marker.read_text())["fingerprint"] == digest
    except (ValueError, KeyError):
        return False


def _notebook_parameters(notebook: Path) -> list[str]:
    """Names the cell tagged ``parameters`` of a notebook assigns (empty if it has no such cell)."""
    import papermill

    return list(papermill.inspect_notebook(str(notebook)))


def _overrides_by_notebook(
    notebooks: Sequence[Path], overrides: dict[str, Any]
) -> dict[Path, dict[str, Any]]:
    """The overrides each notebook takes; a name no notebook takes is an error naming theirs."""
    if not overrides:
        return {notebook: {} for notebook in notebooks}
    taken = {notebook: _notebook_parameters(notebook) for notebook in notebooks}
    unknown = [name for name in overrides if not any(name in names for names in taken.values())]
    if unknown:
        known = sorted({name for names in taken.values() for name in names})
        where = ", ".join(notebook.stem for notebook in notebooks)
        raise ValueError(
            f"-p {', '.join(unknown)}: no such parameter in {where}; the parameters are "
            f"{', '.join(known) or '(none: no cell tagged parameters)'}. Check the spelling, or "
            "choose notebooks that take it with --only"
        )
    for name, value in overrides.items():
        check_parameter(name, value)
    return {
        notebook: {name: value for name, value in overrides.items() if name in taken[notebook]}
        for notebook in notebooks
    }


class _Processes:
    """The papermill processes a batch has running, so that Ctrl-C can stop them all."""

    def __init__(self) -> None:
        self.interrupted = threading.Event()
        self._running: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()

    def run(
        self, command: list[str], log: IO[str], on_line: Callable[[str], Any], **options: Any
    ) -> int | None:
        """Run ``command`` to its end, its stdout and stderr copied to ``log`` and each of
        their lines passed to ``on_line``; its exit status, or ``None`` once interrupted."""
        with self._lock:
            if self.interrupted.is_set():
                return None
            process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                encoding="utf-8", errors="replace", **options,
            )
            self._running.add(process)
        copier = threading.Thread(target=_copy_lines, args=(process.stdout, log, on_line),
                                  daemon=True)
        copier.start()
        try:
            return process.wait()
        finally:
            # A kernel orphaned by a killed papermill may hold the pipe open: wait only briefly.
            copier.join(timeout=10)
            with self._lock:
                self._running.discard(process)

    def interrupt(self, grace: float = 15.0) -> None:
        """Start no more processes; send SIGINT to the running ones (papermill then stops its
        kernel) and kill any still running ``grace`` seconds later."""
        with self._lock:
            self.interrupted.set()
            running = list(self._running)
        for process in running:
            process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + grace
        for process in running:
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()


def _copy_lines(stream: IO[str], log: IO[str], on_line: Callable[[str], Any]) -> None:
    try:
        for line in stream:
            log.write(line)
            log.flush()
            on_line(line)
    except ValueError:  # the log was closed: the notebook ended, an orphaned kernel writes on
        return


def progress_relay(name: str, echo: Callable[[str], Any]) -> Callable[[str], None]:
    """A line handler that echoes the progress lines of a notebook's output, as
    ``  <name>: <message>``, and nothing else (see :data:`morcos2018.progress.PROGRESS_MARK`)."""

    def relay(line: str) -> None:
        _, mark, message = line.partition(PROGRESS_MARK)
        if mark and message.strip():
            echo(f"  {name}: {message.strip()}")

    return relay


def run_notebook(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    timeout: float | None = None,
    processes: _Processes | None = None,
    echo: Callable[[str], Any] | None = None,
    verbose: bool = False,
) -> tuple[bool, str]:
    """Execute one notebook with papermill in a child process; return (succeeded, error line).

    ``processes`` is the batch's set of running processes, through which Ctrl-C stops them.
    Everything the notebook prints goes to its log; ``echo`` gets its progress lines (which
    network trains, epoch e of E, time left; which was loaded from the cache). The kernel's
    environment is :func:`kernel_environment`.
    """
    executed = output / f"{notebook.stem}.ipynb"
    log = output / f"{notebook.stem}.log"
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(executed),
        "--cwd",
        str(notebook.parent),
        "-y",
        json.dumps(parameters),
        "--log-output",
        "--no-progress-bar",
        "--kernel",
        "python3",
    ]
    if timeout is not None:
        command += ["--execution-timeout", str(math.ceil(timeout))]
    relay = progress_relay(notebook.stem, echo or (lambda _: None))
    with log.open("w", encoding="utf-8") as handle:
        status = (processes or _Processes()).run(command, handle, relay,
                                                 env=kernel_environment(verbose))
    if status is None:
        return False, "interrupted before it started"
    if status == 0:
        return True, ""
    if executed.exists() and executed.stat().st_size == 0:
        executed.unlink()  # papermill could not write it (a full disk): leave no empty notebook
    lines = [
        ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()
    ]
    errors = [ln for ln in lines if "Error" in ln or "Exception" in ln]
    return False, (errors or lines or ["papermill failed with no output"])[-1][:300]


def kernel_environment(verbose: bool = False) -> dict[str, str]:
    """The environment of a notebook's papermill process and kernel: this one's, with
    TensorFlow's C++ log off (:func:`morcos2018.sweep.tensorflow_log_level`; ``verbose``: its
    errors shown), unbuffered output, inline figures and progress as marked lines."""
    # The kernel draws inline, so the executed notebook carries its figures (as in JupyterLab);
    # a user's MPLBACKEND (e.g. a GUI backend) must not leak into a batch run.
    # Training in the kernel writes its progress as marked lines (progress.PROGRESS_ENV).
    return {**os.environ, "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": tensorflow_log_level(verbose),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline", PROGRESS_ENV: "lines"}


def stale_notebooks(output: Path, notebooks_dir: Path, profile: str,
                    ran: Iterable[str] = ()) -> dict[str, str]:
    """The notebooks whose claim checks in ``output`` no longer match their inputs, with why.

    A record left by an earlier batch is stale when its notebook's sources, the profile's files
    or the package changed since (its ``.done.json`` fingerprint, recomputed with the
    parameters it ran with, differs), when it has no done marker, or when its notebook is gone.
    The notebooks of ``ran`` (this batch's) are current by construction and not checked.
    """
    shared = package_digest() + ":" + files_digest(profile_files(profile))
    names = _result_notebooks(output) - set(ran)
    stale = {}
    for name in sorted(names):
        notebook = notebooks_dir / f"{name}.ipynb"
        rerun = f"rerun it: cca-reproduce --profile {profile} --only {name}"
        try:
            done = json.loads((output / f"{name}.done.json").read_text(encoding="utf-8"))
            if not notebook.exists():
                stale[name] = f"its notebook is no longer in {notebooks_dir}"
            elif fingerprint(notebook, profile, done["parameters"], shared) != done["fingerprint"]:
                stale[name] = ("its notebook, the profile's files or the package changed since it "
                               f"ran; {rerun}")
        except (OSError, ValueError, KeyError, TypeError):
            stale[name] = f"no record of the inputs it ran with ({name}.done.json); {rerun}"
    return stale


def _result_notebooks(output: Path) -> set[str]:
    names = set()
    for result_file in (output / "results").glob("*.json"):
        try:
            record = json.loads(result_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("notebook"):
            names.add(str(record["notebook"]))
    return names


def write_findings(
    output: Path,
    runs: list[NotebookRun],
    profile: str,
    seconds: float,
    figures_dir: Path | None = None,
    stale: Mapping[str, str] | None = None,
) -> Path:
    """Collect every notebook's claim check into ``findings.json`` and ``findings.md``.

    A notebook of ``runs`` that failed or was interrupted is listed as such, and no claim check
    of it is reported (one left by an earlier run would be a stale verdict). A record of a
    notebook in ``stale`` (:func:`stale_notebooks`) is kept but marked, with the reason, under
    ``stale``. ``findings.md`` links the figures in ``figures_dir`` (see
    :func:`morcos2018.findings.findings_markdown`).
    """
    failed = [r.name for r in runs if r.status == "failed"]
    interrupted = [r.name for r in runs if r.status == "interrupted"]
    # A notebook that started forgot its results (_Batch.execute); one not reached kept them.
    unfinished = set(failed)
    results = []
    for result_file in sorted((output / "results").glob("*.json")):
        try:
            record = json.loads(result_file.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("notebook") not in unfinished:
            if (stale or {}).get(str(record.get("notebook"))):
                record["stale"] = stale[str(record["notebook"])]
            results.append(record)
    # A notebook's main claim first, then its further claims (record_claim's ``part``).
    results.sort(key=lambda r: (str(r.get("notebook")), "part" in r, str(r.get("part"))))
    report = {
        "profile": profile,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "seconds": round(seconds, 1),
        "ran": [r.name for r in runs if r.status == "done"],  # what ``seconds`` timed
        "versions": versions(),
        "failed": failed,
        "interrupted": interrupted,
        "findings": results,
    }
    if figures_dir is not None:
        report["figures_dir"] = Path(os.path.relpath(figures_dir, output)).as_posix()
    timing = batch_log.empty_cache_time(batch_log.logged_batches(output))
    if timing is not None and timing["profile"] == profile:
        report["timing"] = timing
    write_json(output / "findings.json", report, default=str)
    (output / "findings.md").write_text(findings_markdown(report), encoding="utf-8")
    return output / "findings.md"


def run_batch(
    profile: str = "default",
    only: Sequence[str] = (),
    output: Path | None = None,
    figures_dir: Path | None = None,
    notebooks_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
    jobs: int = 1,
    force: bool = False,
    timeout: float | None = None,
    echo: Callable[[str], Any] = print,
    cluster: str | None = None,
    verbose: bool = False,
) -> list[NotebookRun]:
    """Run notebooks under a profile; see the module docstring for what it writes.

    ``verbose`` shows TensorFlow's C++ log (its errors) in the notebooks' logs and the
    cluster's output, which is off otherwise.

    Ctrl-C stops the batch and returns normally, after writing the findings: the notebooks that
    did not finish have status ``"interrupted"``. With ``cluster`` (a scheduler address or
    ``local[:N]``), the networks of the notebooks about to run are first trained on that cluster;
    Ctrl-C during that sweep raises ``KeyboardInterrupt``.

    Raises
    ------
    morcos2018.sweep.SweepError
        If the cluster cannot be used or a run failed on it (no notebook has run then).
    """
    _check_batch(profile, jobs, timeout, cluster)
    notebooks = discover_notebooks(notebooks_dir or default_notebooks_dir(), only)
    overrides_of = _overrides_by_notebook(notebooks, overrides or {})
    output, figures_dir = _batch_folders(profile, output, figures_dir)
    batch = _Batch(output, len(notebooks), timeout, echo, verbose)
    pending = batch.sort_out(notebooks, profile, overrides_of, figures_dir, force)
    with batch_log.logged(output, str(profile), [nb.stem for nb in notebooks], cluster,
                          *_networks_cached(profile, notebooks, overrides_of)) as entry:
        if cluster is not None and pending:
            began = time.monotonic()
            try:
                _train_on_cluster(cluster, profile, [p.notebook.stem for p in pending],
                                  {p.notebook.stem: overrides_of[p.notebook] for p in pending},
                                  echo, verbose)
            finally:  # an interrupted sweep's time counts too
                entry["training_seconds"] = time.monotonic() - began
        batch.run(pending, jobs)
        for status in ("failed", "interrupted"):
            entry[status] = [r.name for r in batch.runs if r.status == status]
        entry["ran"] = [r.name for r in batch.runs if r.status == "done"]
    seconds = time.monotonic() - batch.started
    try:
        stale = stale_notebooks(output, notebooks_dir or default_notebooks_dir(), str(profile),
                                [run.name for run in batch.runs
                                 if run.status in ("done", "skipped")])
        report = write_findings(output, batch.runs, str(profile), seconds, figures_dir, stale)
    except OSError as error:
        echo(_summary(batch.runs, f"NOT WRITTEN ({os_error_line(error)})", seconds))
        raise
    echo(_summary(batch.runs, report, time.monotonic() - batch.started, stale))
    return batch.runs


def _networks_cached(profile: str, notebooks: Sequence[Path],
                     overrides_of: dict[Path, dict[str, Any]]) -> tuple[int, int]:
    """The networks the batch's notebooks train, and how many of them the cache holds complete
    (for the batch log: a batch that finds none cached starts from an empty cache)."""
    plan = training_plan(profile, [nb.stem for nb in notebooks],
                         {nb.stem: overrides_of[nb] for nb in notebooks})
    return len(plan), sum(run.cached_epochs() >= run.epochs for run in plan)


def os_error_line(error: OSError) -> str:
    """One line for an ``OSError``: the file it concerns and the system's reason."""
    where = f"{error.filename}: " if error.filename is not None else ""
    return f"{where}{error.strerror or error}"


def _check_batch(profile: str, jobs: int, timeout: float | None, cluster: str | None) -> None:
    """Fail before anything is done on a bad profile name (with the list of profiles), number of
    jobs, timeout or ``local:N`` cluster."""
    load_profile(profile)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout}")
    if cluster is not None:
        parse_cluster(cluster)


def run_folder(profile: str, output: Path | None = None) -> Path:
    """A batch's run folder: ``output``, or ``runs/<profile's name>``, absolute."""
    return (output or Path("runs") / Path(str(profile)).name).resolve()


def _batch_folders(profile: str, output: Path | None, figures_dir: Path | None
                   ) -> tuple[Path, Path]:
    """The batch's run folder (with its ``results/``) and figures folder, created; see the module
    docstring for the defaults."""
    output = run_folder(profile, output)
    if figures_dir is None:
        figures_dir = output / "figures"
    for folder, option in ((output / "results", "--output"), (figures_dir, "--figures-dir")):
        writable_folder(folder, option)
    return output, figures_dir


def writable_folder(folder: Path, option: str) -> None:
    """Create ``folder`` and check that a file can be written there, before any notebook runs;
    a ``ValueError`` naming the folder and ``option`` otherwise."""
    probe = folder / f".write-check-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"{option} {folder}: cannot write there ({error.strerror or error}); "
                         f"pass {option} a folder you can write") from error


class _Pending(NamedTuple):
    """A notebook the batch runs: its parameters and the fingerprint of its inputs."""

    notebook: Path
    parameters: dict[str, Any]
    digest: str


class _Batch:
    """The notebooks of one batch: which are up to date, running the others ``jobs`` at a time,
    and what happened to each (:attr:`runs`, in the order they finished)."""

    def __init__(self, output: Path, total: int, timeout: float | None,
                 echo: Callable[[str], Any], verbose: bool = False) -> None:
        self.output, self.total, self.timeout, self.echo = output, total, timeout, echo
        self.verbose = verbose
        self.started = time.monotonic()
        self.runs: list[NotebookRun] = []
        self.processes = _Processes()

    def sort_out(self, notebooks: Sequence[Path], profile: str,
                 overrides_of: dict[Path, dict[str, Any]], figures_dir: Path,
                 force: bool) -> list[_Pending]:
        """Skip the notebooks that are up to date and return the others, to run."""
        shared_parameters = {
            "profile": str(profile),
            "figures_dir": str(figures_dir.resolve()),
            "results_dir": str((self.output / "results").resolve()),
        }
        shared = package_digest() + ":" + files_digest(profile_files(profile))
        pending = []
        for notebook in notebooks:
            parameters = {**shared_parameters, **overrides_of[notebook]}
            digest = fingerprint(notebook, profile, parameters, shared)
            if not force and _is_complete(notebook, self.output, digest):
                self.runs.append(NotebookRun(notebook.stem, "skipped",
                                             log=self.output / f"{notebook.stem}.log"))
                self.echo(f"[{len(self.runs)}/{self.total}] {notebook.stem}: up to date, skipped")
            else:
                pending.append(_Pending(notebook, parameters, digest))
        return pending

    def run(self, pending: list[_Pending], jobs: int) -> None:
        """Run the pending notebooks; Ctrl-C stops them and marks the unfinished interrupted."""
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(self.execute, item) for item in pending]
            try:
                for future in futures:
                    future.result()
            except KeyboardInterrupt:
                self.echo("Interrupted: stopping the running notebooks and starting no new one")
                self.processes.interrupt()
                pool.shutdown(cancel_futures=True)
        finished = {run.name for run in self.runs}
        self.runs.extend(NotebookRun(item.notebook.stem, "interrupted") for item in pending
                         if item.notebook.stem not in finished)

    def execute(self, item: _Pending) -> None:
        """Run one notebook (unless the batch was interrupted), mark it done if it succeeded."""
        notebook, parameters, digest = item
        if self.processes.interrupted.is_set():
            return
        self.echo(f"[running] {notebook.stem} (elapsed {self._elapsed()})")
        began = time.monotonic()
        try:
            # Only now: a notebook the batch does not reach keeps its last results.
            _forget_result(notebook, self.output)
            ok, error = run_notebook(notebook, self.output, parameters, self.timeout,
                                     self.processes, self.echo, self.verbose)
            seconds = time.monotonic() - began
            if ok:
                write_json(
                    self.output / f"{notebook.stem}.done.json",
                    {"fingerprint": digest, "seconds": round(seconds, 1),
                     "parameters": parameters},
                    default=str,
                )
        except OSError as failure:  # the run folder filled up or went away
            ok, error, seconds = False, os_error_line(failure), time.monotonic() - began
        interrupted = self.processes.interrupted.is_set()
        status = "done" if ok else "interrupted" if interrupted else "failed"
        self.runs.append(NotebookRun(notebook.stem, status, seconds,
                                     self.output / f"{notebook.stem}.log",
                                     error if status == "failed" else ""))
        verdict = f"FAILED ({error})" if status == "failed" else status
        self.echo(f"[{len(self.runs)}/{self.total}] {notebook.stem}: {verdict} in "
                  f"{_clock(seconds)} (elapsed {self._elapsed()})")

    def _elapsed(self) -> str:
        return _clock(time.monotonic() - self.started)


def plan_batch(
    profile: str = "default",
    only: Sequence[str] = (),
    notebooks_dir: Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[PlannedRun]:
    """The training plan of a batch: every network its notebooks train, nothing trained."""
    loaded = load_profile(profile)
    notebooks = discover_notebooks(notebooks_dir or default_notebooks_dir(), only)
    overrides_of = _overrides_by_notebook(notebooks, overrides or {})
    return training_plan(loaded, [nb.stem for nb in notebooks],
                         {nb.stem: overrides_of[nb] for nb in notebooks})


def _train_on_cluster(cluster: str, profile: str, notebooks: list[str],
                      parameters: dict[str, dict[str, Any]], echo: Callable[[str], Any],
                      verbose: bool = False) -> None:
    from morcos2018.sweep import run_plan

    plan = training_plan(profile, notebooks, parameters)
    if not plan:
        return
    report = run_plan(plan, cluster, echo=echo, verbose=verbose)
    if report.failed:
        lines = [f"{len(report.failed)} of {len(plan)} runs failed on the cluster; no notebook "
                 "ran. Fix the cause and run the same command again (finished runs are cached), "
                 "or run without --cluster to train them here:"]
        labels = {run.key: run.label for run in plan}
        lines += [f"  {labels[key]} ({key}): {error}" for key, error in report.failed.items()]
        raise SweepError("\n".join(lines))


def _forget_result(notebook: Path, output: Path) -> None:
    """Remove a notebook's done marker and claim check, so that only its rerun can report."""
    (output / f"{notebook.stem}.done.json").unlink(missing_ok=True)
    for result in result_files(output / "results", notebook.stem):
        result.unlink(missing_ok=True)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _summary(runs: list[NotebookRun], report: Path | str, seconds: float,
             stale: Mapping[str, str] | None = None) -> str:
    names = {s: [r.name for r in runs if r.status == s]
             for s in ("done", "skipped", "failed", "interrupted")}
    lines = [
        f"{len(names['done'])} ran, {len(names['skipped'])} up to date, "
        f"{len(names['failed'])} failed in {_clock(seconds)}; findings: {report}"
    ]
    lines += [
        f"  FAILED {r.name}: {r.error}\n    log: {r.log}" for r in runs if r.status == "failed"
    ]
    lines += [f"  STALE {name}: {reason}" for name, reason in (stale or {}).items()]
    if names["interrupted"]:
        finished = names["done"] + names["skipped"]
        lines += [
            f"  INTERRUPTED: {', '.join(names['interrupted'])} did not finish; finished: "
            f"{', '.join(finished) or 'none'}. Run the same command again to resume "
            "(finished notebooks are skipped)."
        ]
    return "\n".join(lines)
