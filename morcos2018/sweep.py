"""How is a profile's training plan trained on a Dask cluster? ``cca-reproduce --cluster``.

:func:`train_plan` submits one task per run of the plan (:mod:`morcos2018.plan`) that the
cache does not already hold, most costly first, to the workers of a ``distributed`` cluster: a
running scheduler (``--cluster tcp://host:8786``; dask-jobqueue on Slurm, dask-kubernetes, dask-cuda
start one) or a :class:`distributed.LocalCluster` on this machine (``--cluster local`` or
``local:N``). Each task is :func:`train_run`, which trains through
:func:`morcos2018.training.train`, so it writes the same cache entry, checkpoint by checkpoint,
that the notebook would: the notebooks then load every network.

The cache is shared through the filesystem: ``CCA_CACHE_DIR`` on the client must name a folder that
every worker sees at the same path (NFS, Lustre, GPFS, BeeGFS; not an object store), with working
``flock`` locks (NFSv4, NFSv3 with ``lockd``, Lustre mounted ``-o flock``).

What happens when things go wrong
---------------------------------
- **A worker dies** (killed, out of memory, its machine lost): the scheduler gives its task to
  another worker (up to ``distributed.scheduler.allowed-failures`` times, 3 by default), and
  :func:`train_run` resumes the run from its last complete epoch in the cache; only the epoch in
  progress is lost. Resuming is bitwise: the weights equal those of an uninterrupted run.
- **Two workers race on one run** (the same run submitted twice, or a worker thought dead that
  still trains): the first to take the run's lock (``flock`` on ``<run>/.lock``) trains; the other
  waits for the lock, then finds the run complete and loads it (or resumes it, if it needs more
  epochs). Every file is written atomically and the manifest last, so a reader without the lock
  sees the last complete epoch or nothing; files are never written by two processes at once. A lock
  held by a dead process is released by the kernel (on NFS, when the server notices the client is
  gone).
- **A task raises** (data missing on a worker, a bug): it is retried once, then reported with its
  error; the notebooks do not run, so a laptop never starts training what the cluster could not.

Each run trains in a Python process of its own that the task starts (``python -m
morcos2018.sweep``), as a run here does. Built inside the worker's process, a run was not
repeatable: ``tests/morcos2018/test_sweep.py`` found other initial weights, from the eighth layer
on, than the same run got in a fresh process (Keras draws initializer seeds from process-wide
generators, which the worker process shares with its own threads; which of them advanced is not
pinned down). The process frees the run's memory, a GPU's too, when it ends, and it ends when its
worker dies, releasing the run's lock. A worker trains one run at a time
(:data:`_ONE_RUN_AT_A_TIME`); start workers with one thread each (``--nthreads 1``; ``local`` does).

GPUs
----
Nothing here pins a device: TensorFlow takes the GPUs a worker process sees. Run one worker per GPU,
each seeing its own: dask-cuda's ``LocalCUDACluster`` or ``dask cuda worker`` set
``CUDA_VISIBLE_DEVICES`` per worker, or start workers by hand with ``CUDA_VISIBLE_DEVICES=i dask
worker ... --nthreads 1``.

Quiet runs
----------
TensorFlow's C++ log (oneDNN notices, "Could not find cuda drivers", "failed call to cuInit" on a
machine without a GPU) is off in the processes of a batch (:func:`tensorflow_log_level`): the
local cluster's workers and each run's training process get ``TF_CPP_MIN_LOG_LEVEL=3``, and the
lines TensorFlow writes before its log level applies (absl's "All log messages before
absl::InitializeLog() is called ..." and the INFO lines after it) are not copied to the worker's
stderr (:func:`tensorflow_preamble`). ``cca-reproduce --verbose`` keeps them; a
``TF_CPP_MIN_LOG_LEVEL`` of the user's (the client's, or a remote worker's own) wins.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from morcos2018.cache import cache_dir
from morcos2018.plan import PlannedRun
from morcos2018.progress import PROGRESS_ENV, PROGRESS_MARK

#: Held by a worker process while it trains a run: one run at a time per process.
_ONE_RUN_AT_A_TIME = threading.Lock()
#: Modules whose code decides what a run trains to; a worker must run the client's.
TRAINING_MODULES = ("training", "models", "data", "lm_training", "lm_model", "text")
#: ``TF_CPP_MIN_LOG_LEVEL`` of a quiet batch (its errors hidden too) and of a ``--verbose`` one
#: (its errors shown, as before ``--verbose`` existed).
QUIET_TF_LOG_LEVEL, VERBOSE_TF_LOG_LEVEL = "3", "2"
#: What TensorFlow (2.16 on) writes through absl before its log level applies, which no
#: environment variable silences: absl's notice, then INFO lines such as
#: ``I0000 00:00:1796409018.714575    4422 port.cc:153] oneDNN custom operations are on ...``.
_PREAMBLE = re.compile(r"WARNING: All log messages before absl::InitializeLog\(\)|"
                       r"I\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] ")


class SweepError(RuntimeError):
    """The cluster could not be used, or runs of the plan failed on it."""


@dataclass
class SweepReport:
    """What a sweep did: runs found in the cache, trained (or resumed) and failed."""

    cached: list[str] = field(default_factory=list)
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def trained(self) -> list[str]:
        """Keys of the runs some task of this sweep trained (not just loaded)."""
        return [key for key, result in self.finished.items() if result["trained"]]


# --------------------------------------------------------------------------- the cluster


def parse_cluster(spec: str) -> tuple[str, int | None]:
    """``("local", workers)`` for ``local`` / ``local:N`` (``None``: the default count), else
    ``("address", None)``.

    Examples
    --------
    >>> parse_cluster("local:3"), parse_cluster("tcp://10.0.0.5:8786")
    (('local', 3), ('address', None))
    """
    name, _, count = spec.partition(":")
    if name != "local":
        return "address", None
    if not count:
        return "local", None
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"--cluster {spec}: expected local:N with N >= 1 workers (e.g. local:2)")
    return "local", int(count)


def default_local_workers() -> int:
    """Workers of ``--cluster local``: one per 4 CPU cores (TensorFlow spreads each run over
    several), at least 2."""
    return max(2, (os.cpu_count() or 1) // 4)


def tensorflow_log_level(verbose: bool = False) -> str:
    """``TF_CPP_MIN_LOG_LEVEL`` for the processes a batch starts: the user's own, if set; else
    :data:`QUIET_TF_LOG_LEVEL` (3: nothing) or, ``verbose``, :data:`VERBOSE_TF_LOG_LEVEL` (2:
    errors).

    Examples
    --------
    >>> tensorflow_log_level() == os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    True
    """
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") or (
        VERBOSE_TF_LOG_LEVEL if verbose else QUIET_TF_LOG_LEVEL)


def tensorflow_preamble(line: str) -> bool:
    """Whether ``line`` is one TensorFlow writes before its log level applies (absl's notice
    or an INFO line in absl's format), which a quiet run does not show.

    Examples
    --------
    >>> tensorflow_preamble("WARNING: All log messages before absl::InitializeLog() is called "
    ...                     "are written to STDERR")
    True
    >>> tensorflow_preamble("I0000 00:00:1796409018.714889    4422 cudart_stub.cc:31] Could not "
    ...                     "find cuda drivers on your machine, GPU will not be used.")
    True
    >>> tensorflow_preamble("Traceback (most recent call last):")
    False
    """
    return _PREAMBLE.match(line) is not None


@contextlib.contextmanager
def connect(spec: str, timeout: float = 30.0, verbose: bool = False) -> Iterator[Any]:
    """A :class:`distributed.Client` of a running scheduler (an address) or of a new
    :class:`distributed.LocalCluster` (``local[:N]``: N worker processes of one thread, with
    :func:`tensorflow_log_level`), closed (and the local cluster stopped) on exit."""
    from distributed import Client, LocalCluster

    kind, workers = parse_cluster(spec)
    if kind == "address":
        probe_scheduler(spec)
        try:
            client = Client(spec, timeout=timeout)
        except (OSError, TimeoutError) as error:
            raise SweepError(f"--cluster {spec}: no scheduler answered ({error}); start one "
                             "(dask scheduler) or use --cluster local") from error
        with client:
            yield client
        return
    with LocalCluster(n_workers=workers or default_local_workers(), threads_per_worker=1,
                      processes=True,
                      env={"TF_CPP_MIN_LOG_LEVEL": tensorflow_log_level(verbose)}) as cluster, \
            Client(cluster) as client:
        yield client


#: Seconds :func:`probe_scheduler` waits to connect, then again for the scheduler's first bytes.
PROBE_SECONDS = 4.0
#: The largest first message (bytes) a Dask scheduler's handshake can plausibly announce.
_HANDSHAKE_BYTES = 1 << 24


def probe_scheduler(spec: str, seconds: float = PROBE_SECONDS) -> None:
    """Raise :class:`SweepError` within ``2 x seconds`` unless a Dask scheduler listens at the
    TCP address ``spec``.

    ``distributed``'s client waits for the scheduler's handshake without a timeout, so a port
    that accepts and never answers (a stuck process, ``python -m http.server``) hung the run, and
    an HTTP server's reply was read as the length of a message (a ``MemoryError``). A scheduler
    sends its handshake as soon as it accepts a connection: the first 8 bytes are the length of
    that message. Other protocols (``tls://``, ``ucx://``) are left to ``distributed``.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(spec)
        if scheme != "tcp":
            return
        host, port = parse_host_port(location)
    except ValueError as error:
        raise SweepError(f"--cluster {spec}: not a scheduler address ({error}); pass "
                         "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786) or local[:N]") from error
    try:
        with socket.create_connection((host, port), timeout=seconds) as connection:
            first = _receive(connection, 8)
    except TimeoutError as error:
        raise SweepError(f"--cluster {spec}: nothing answered within {seconds:g} s (a firewall, "
                         "or a service that is not a Dask scheduler); check the address and "
                         "port of the scheduler (dask scheduler prints it)") from error
    except OSError as error:
        raise SweepError(f"--cluster {spec}: no scheduler answered ({error.strerror or error}); "
                         "start one (dask scheduler) or use --cluster local") from error
    if len(first) < 8 or not 0 < int.from_bytes(first, "little") < _HANDSHAKE_BYTES:
        raise SweepError(f"--cluster {spec}: the service there is not a Dask scheduler (it "
                         f"answered {bytes(first[:16])!r}); pass the scheduler's address "
                         "(tcp://HOST:8786 by default)")


def _receive(connection: socket.socket, size: int) -> bytes:
    """Up to ``size`` bytes, fewer if the peer closes first (the socket's timeout applies)."""
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def training_code_digest() -> str:
    """Version and source hash of the modules that decide what a run trains to."""
    import hashlib

    from morcos2018.provenance import package_version

    digest = hashlib.sha256(package_version().encode())
    folder = Path(__file__).parent
    for name in TRAINING_MODULES:
        digest.update((folder / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]


def check_workers(client: Any, echo: Callable[[str], Any]) -> None:
    """Refuse workers that train with other code than this client (their runs would enter the
    cache under the same keys); say so when workers have several threads."""
    ours = training_code_digest()
    theirs = client.run(training_code_digest)
    if not theirs:
        raise SweepError("the cluster has no workers: start some (dask worker ADDRESS)")
    different = sorted(worker for worker, digest in theirs.items() if digest != ours)
    if different:
        raise SweepError(
            f"workers {', '.join(different)} run another version of cca's training code than this "
            "client: install the same cca on every worker (same version and sources), so that a "
            "cache key means the same network everywhere"
        )
    threads = {name: info["nthreads"] for name, info in
               client.scheduler_info(n_workers=-1)["workers"].items()}
    if any(count > 1 for count in threads.values()):
        echo("[sweep] workers with several threads train one run at a time each; start them with "
             "--nthreads 1")


# --------------------------------------------------------------------------- the task


def train_run(config: Mapping[str, Any], cache_root: str, topic: str | None = None,
              log_level: str | None = None) -> dict[str, Any]:
    """Train (or resume, or load) one run of the plan into ``cache_root``: the task a worker
    runs. The training itself runs in a new Python process (``python -m
    morcos2018.sweep``), as a local run does, and its progress lines go to the client under
    ``topic`` (a Dask event). Its other lines go to the worker's stderr, but for TensorFlow's
    preamble (:func:`tensorflow_preamble`) when ``log_level`` (TensorFlow's in that process,
    unless the worker sets its own; ``None``: the worker's) hides INFO lines.

    Returns
    -------
    dict
        ``key``, ``epochs`` (in the cache now), ``cached_epochs`` (before), ``trained`` (this
        task trained epochs), ``resumed`` (from a partial entry), ``seconds``, ``worker``.

    Raises
    ------
    RuntimeError
        If the training process failed; its last lines say why.
    """
    run = PlannedRun(dict(config), ())
    worker = _worker_name()
    with _ONE_RUN_AT_A_TIME:
        began = time.monotonic()
        before = run.cached_epochs(cache_root)
        _emit(topic, {"event": "start", "key": run.key, "worker": worker,
                      "cached_epochs": before})
        messages: list[str] = []
        env = _training_environment(log_level)
        quiet = log_level is not None and env.get("TF_CPP_MIN_LOG_LEVEL", "0") != "0"
        output: list[str] = []
        command = [sys.executable, "-m", "morcos2018.sweep", json.dumps(run.config),
                   cache_root]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env) as child:
            for line in child.stdout:
                _, mark, message = line.partition(PROGRESS_MARK)
                if mark and message.strip():
                    messages.append(message.strip())
                    _emit(topic, {"event": "line", "key": run.key, "worker": worker,
                                  "line": message.strip()})
                else:
                    output.append(line)
                    if not (quiet and tensorflow_preamble(line)):
                        sys.stderr.write(line)
        if child.returncode != 0:
            raise RuntimeError(f"training {run.label} ({run.key}) failed on worker {worker} "
                               f"(exit status {child.returncode}):\n{''.join(output[-20:])}")
    return {"key": run.key, "epochs": run.cached_epochs(cache_root), "cached_epochs": before,
            "trained": any(m.startswith("training ") for m in messages),
            "resumed": any(m.startswith("resuming ") for m in messages),
            "seconds": time.monotonic() - began, "worker": worker}


#: Variables a Dask nanny sets for its worker that the training process must not inherit.
#: ``MALLOC_TRIM_THRESHOLD_=65536`` (distributed's default, to return memory to the system) made
#: every TensorFlow training 2-2.5x slower here: a Figure 3 epoch took 11 s instead of 4.2-5.6 s
#: in a process of its own on an idle 2-core CPU.
_NOT_INHERITED = ("MALLOC_TRIM_THRESHOLD_",)


def _training_environment(log_level: str | None = None) -> dict[str, str]:
    """The environment of a run's training process: the worker's, as a process started here
    would have it (without :data:`_NOT_INHERITED`), with progress reported line by line and
    ``TF_CPP_MIN_LOG_LEVEL`` ``log_level`` unless the worker sets its own."""
    env = {name: value for name, value in os.environ.items() if name not in _NOT_INHERITED}
    if log_level is not None:
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", log_level)
    return {**env, PROGRESS_ENV: "lines"}


def _train_here(config: dict[str, Any], cache_root: str) -> None:
    """What the training process of :func:`train_run` does: train the run (CNN or language
    model) as the notebooks would."""
    if config["experiment"] == "cnn":
        from morcos2018.models import train_cnn

        train_cnn(config, cache_root=cache_root, verbose=False)
    else:
        from morcos2018.lm_training import train_lm

        train_lm(config, cache_root=cache_root, verbose=False)


def _exit_with_parent() -> None:
    """End this process as soon as its parent (the worker) is gone, so that a killed worker's
    run stops, and releases its lock, with it."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return "local"


def _emit(topic: str | None, message: dict[str, Any]) -> None:
    if topic is None:
        return
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_worker

        get_worker().log_event(topic, message)


# --------------------------------------------------------------------------- the sweep


def train_plan(
    plan: Sequence[PlannedRun],
    client: Any,
    cache_root: str | Path | None = None,
    echo: Callable[[str], Any] = print,
    retries: int = 1,
    log_level: str | None = None,
) -> SweepReport:
    """Train every run of ``plan`` that the cache lacks on the workers of ``client``.

    Runs complete in the cache are not submitted. Progress (runs done, running and left, the
    time left, and each worker's epoch lines) goes to ``echo``. Ctrl-C cancels what has not
    started; a run a worker is training goes on to its end there (it is cached all the same).
    ``log_level`` is TensorFlow's in the training processes (:func:`train_run`; ``None``: the
    workers' own).

    Raises
    ------
    SweepError
        If the workers run other training code than this client.
    """
    root = str(cache_dir(cache_root).resolve())
    started = time.monotonic()
    report, pending = _in_cache(plan, root)
    echo(f"[sweep] {len(plan)} runs: {len(report.cached)} in the cache {root}, "
         f"{len(pending)} to train on {client.scheduler.address}")
    if not pending:
        return report
    check_workers(client, echo)
    from distributed import as_completed

    progress = _Progress(pending, len(report.cached), echo)
    topic = f"cca-sweep-{uuid.uuid4().hex[:12]}"
    client.subscribe_topic(topic, progress.event)
    futures = {
        client.submit(train_run, run.config, root, topic, log_level,
                      key=f"cca-train-{run.key}-{topic[-8:]}", priority=len(pending) - rank,
                      retries=retries, pure=False): run
        for rank, (run, _) in enumerate(pending)
    }
    try:
        for future in as_completed(futures):
            run = futures[future]
            try:
                report.finished[run.key] = future.result()
            except Exception as error:  # noqa: BLE001 - any task error is reported, not raised
                report.failed[run.key] = f"{type(error).__name__}: {error}"
            progress.finish(run.key, report.failed.get(run.key))
    except KeyboardInterrupt:
        client.cancel(list(futures))
        raise
    finally:
        client.unsubscribe_topic(topic)
        report.seconds = time.monotonic() - started
    meanwhile = len(report.finished) - len(report.trained)
    echo(f"[sweep] {len(report.trained)} runs trained, {len(report.failed)} failed, "
         f"{len(report.cached)} were in the cache"
         + (f", {meanwhile} trained meanwhile by others" if meanwhile else "")
         + f", in {_clock(report.seconds)}")
    return report


def run_plan(
    plan: Sequence[PlannedRun],
    cluster: str,
    cache_root: str | Path | None = None,
    echo: Callable[[str], Any] = print,
    verbose: bool = False,
) -> SweepReport:
    """:func:`train_plan` on the cluster ``cluster`` names (:func:`connect`), which is
    contacted only if the cache lacks a run of the plan. Unless ``verbose``, TensorFlow's log is
    off in the workers' training processes (see "Quiet runs" above)."""
    root = cache_dir(cache_root).resolve()
    report, pending = _in_cache(plan, str(root))
    if not pending:
        echo(f"[sweep] all {len(plan)} runs are in the cache {root}: nothing to train")
        return report
    with connect(cluster, verbose=verbose) as client:
        return train_plan(plan, client, root, echo,
                          log_level=None if verbose else tensorflow_log_level())


def _in_cache(plan: Sequence[PlannedRun], root: str
              ) -> tuple[SweepReport, list[tuple[PlannedRun, int]]]:
    """A report listing the runs complete in the cache, and the others with their cached
    epochs."""
    report, pending = SweepReport(), []
    for run in plan:
        cached = run.cached_epochs(root)
        if cached >= run.epochs:
            report.cached.append(run.key)
        else:
            pending.append((run, cached))
    return report, pending


class _Progress:
    """Runs done, running and left, and the time left: the trained operations per second so
    far (runs finished in this sweep) applied to the operations left (a running run counts half
    of what it had left)."""

    def __init__(self, pending: Sequence[tuple[PlannedRun, int]], cached: int,
                 echo: Callable[[str], Any]) -> None:
        self.runs = {run.key: run for run, _ in pending}
        self.left = {run.key: run.flops * (1 - done / run.epochs) for run, done in pending}
        self.total = len(pending) + cached
        self.done = cached
        self.running: dict[str, str] = {}
        self.trained_flops = 0.0
        self.started = time.monotonic()
        self.echo = echo
        self.lock = threading.Lock()

    def event(self, event: tuple[float, Mapping[str, Any]]) -> None:
        _, message = event
        key = message["key"]
        with self.lock:
            if message["event"] == "start":
                again = "again " if key in self.running else ""
                self.running[key] = str(message["worker"])
                cached = message["cached_epochs"]
                run = self.runs[key]
                self.left[key] = run.flops * (1 - cached / run.epochs)
                resume = f", from epoch {cached}" if cached else ""
                self.echo(f"[sweep] worker {message['worker']} starts {again}"
                          f"{self.runs[key].label}{resume} ({self.status()})")
            else:
                self.echo(f"  worker {message['worker']}: {message['line']}")

    def finish(self, key: str, error: str | None) -> None:
        with self.lock:
            self.running.pop(key, None)
            self.done += 1
            flops = self.left.pop(key)
            if error is None:
                self.trained_flops += flops
            outcome = f"FAILED ({error})" if error else "done"
            self.echo(f"[sweep] {self.runs[key].label}: {outcome} ({self.status()})")

    def status(self) -> str:
        elapsed = time.monotonic() - self.started
        running = len(self.running)
        left = self.total - self.done - running
        text = f"{self.done}/{self.total} runs done, {running} running, {left} left"
        if not self.left:
            return text
        if not self.trained_flops:
            return text + ", time left: after the first run"
        remaining = sum(flops * (0.5 if key in self.running else 1.0)
                        for key, flops in self.left.items())
        return text + f", ~{_clock(remaining * elapsed / self.trained_flops)} left"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


if __name__ == "__main__":  # the training process of train_run: CONFIG_JSON CACHE_ROOT
    _exit_with_parent()
    _train_here(json.loads(sys.argv[1]), sys.argv[2])
