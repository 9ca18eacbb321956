"""The training sweep on a real Dask cluster (issue 14, parts 2 and 4): LocalClusters of two worker
processes.

- The README's commands, as written: ``--plan``, then ``--cluster local:2`` on the smoke profile,
  whose worker training one run is killed (SIGKILL) after its first epoch (the session's smoke
  batch, ``smoke_batch`` in conftest.py, which tests/morcos2018/test_notebooks.py validates too).
  The sweep ends with every run complete, the killed one resumed on a worker (its first epoch not
  rewritten), and the notebooks then train nothing: the plan is complete. The resumed CNN and a
  language model equal runs trained here bitwise. Asked again, the plan trains nothing and starts no
  cluster.
- Two workers racing on one run: one trains it, the other waits for the run's lock and loads it.
- Workers whose training code differs from the client's are refused.
- Quiet runs (issue 26, item 2; no training, not slow): TensorFlow's log level in the local
  cluster's workers and the training processes, and its preamble kept off the worker's stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex

import numpy as np
import pytest

from morcos2018 import cli, runner, sweep
from morcos2018.cache import run_key
from morcos2018.lm_training import train_lm
from morcos2018.models import cnn_config, train_cnn
from morcos2018.plan import training_plan

slow = pytest.mark.slow  # trains networks on worker processes


def _same_weights(a, b) -> bool:
    assert a.epochs == b.epochs and a.history == b.history
    for epoch in range(a.epochs + 1):
        va, vb = a.load_variables(epoch), b.load_variables(epoch)
        if not all(np.array_equal(va[i], vb[j]) for i, j in zip(sorted(va), sorted(vb),
                                                                strict=True)):
            return False
    return True


@slow
def test_readme_sweep_survives_a_killed_worker_and_the_notebooks_then_train_nothing(
        smoke_batch, tmp_path, monkeypatch, capsys):
    plan_command, cluster_command = smoke_batch["commands"]
    assert cluster_command == "cca-reproduce --profile smoke --cluster local:2"
    cache = smoke_batch["cache"]
    plan = training_plan("smoke")

    assert smoke_batch["plan_status"] == 0, smoke_batch["plan_out"][-3000:]
    assert "18 runs (0 cached, 0 partial, 18 to train)" in smoke_batch["plan_out"]
    out = smoke_batch["sweep_out"]
    assert smoke_batch["sweep_status"] == 0, out[-3000:]

    # The killed run moved to a worker that resumed it from its first epoch.
    killed = smoke_batch["killed"]
    assert killed, "no worker was killed mid-training"
    config = killed["config"]
    label = next(run.label for run in plan if run.key == run_key(config))
    assert re.search(rf"starts again {re.escape(label)}, from epoch 1", out), out[-3000:]
    first_epoch = cache / "runs" / run_key(config) / "epoch_0001.npz"
    assert first_epoch.stat().st_mtime_ns == killed["first_epoch"]
    assert "[sweep] 18 runs trained, 0 failed, 0 were in the cache" in out

    # The plan is complete: every notebook loaded its networks and trained none.
    notebooks = {path.stem for path in (runner.REPO_DIR / "notebooks").glob("*.ipynb")}
    progress = [m.groups() for m in re.finditer(r"^  (\w+): (\w+) ", out, re.M)
                if m.group(1) in notebooks]
    assert {name for name, _ in progress} == {name for run in plan for name in run.notebooks}
    assert {word for _, word in progress} == {"loaded"}, out[-3000:]
    assert {path.name for path in (cache / "runs").iterdir()} == {run.key for run in plan}
    assert "9 ran, 0 up to date, 0 failed" in out

    # Planned again, everything is cached: nothing is trained, no cluster is started.
    monkeypatch.setenv("CCA_CACHE_DIR", str(cache))
    assert cli.main(shlex.split(plan_command)[1:]) == 0
    assert "18 runs (18 cached, 0 partial, 0 to train)" in capsys.readouterr().out
    again = sweep.run_plan(plan, "tcp://127.0.0.1:1", echo=lambda _: None)  # nothing listens
    assert len(again.cached) == 18 and not again.finished

    # Bitwise equal to runs trained here: the resumed CNN and a language model.
    assert _same_weights(train_cnn(config, cache_root=cache, verbose=False),
                         train_cnn(config, cache_root=tmp_path / "here", verbose=False))
    lstm = next(run.config for run in plan if run.label.startswith("3-layer LSTM"))
    assert _same_weights(train_lm(lstm, cache_root=cache, verbose=False),
                         train_lm(lstm, cache_root=tmp_path / "here", verbose=False))


def _tiny_cnn() -> dict:
    """A CNN that trains in a second or two: 2 blocks, 64 images, 2 epochs."""
    images = {"dataset": "fashion_mnist", "train_subset": 64, "width": 0.0625, "depth": 2,
              "learning_rate": 1e-3, "batch_size": 32, "epochs": 2, "validation_size": 64}
    return cnn_config(images, seed=0)


@slow
def test_two_workers_racing_on_one_run_train_it_once_and_foreign_code_is_refused(
        tmp_path, monkeypatch):
    from distributed import LocalCluster

    config, root = _tiny_cnn(), tmp_path / "cache"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, \
            sweep.connect(cluster.scheduler_address) as client:
        workers = sorted(client.scheduler_info()["workers"])
        futures = [client.submit(sweep.train_run, config, str(root), workers=[w], pure=False)
                   for w in workers]
        results = client.gather(futures)
        loser = next(r for r in results if not r["trained"])
        assert sorted(r["trained"] for r in results) == [False, True]
        assert loser["cached_epochs"] < config["epochs"]  # it found the run unfinished, waited
        assert not loser["resumed"] and {r["epochs"] for r in results} == {2}

        # The nanny's MALLOC_TRIM_THRESHOLD_ made TensorFlow 2-2.5x slower: not for training
        worker_env = client.run(lambda: dict(__import__("os").environ))
        training_env = client.run(sweep._training_environment)
        assert all("MALLOC_TRIM_THRESHOLD_" in env for env in worker_env.values())
        assert not any("MALLOC_TRIM_THRESHOLD_" in env for env in training_env.values())

        monkeypatch.setattr(sweep, "TRAINING_MODULES", ("training",))  # the client's code differs
        with pytest.raises(sweep.SweepError, match="another version of cca's training code"):
            sweep.check_workers(client, print)
    entry = root / "runs" / run_key(config)
    assert sorted(p.name for p in entry.iterdir()) == [
        ".lock", "config.json", "epoch_0000.npz", "epoch_0001.npz", "epoch_0002.npz",
        "manifest.json", "optimizer_0002.npz"]
    assert json.loads((entry / "manifest.json").read_text())["epochs_done"] == 2


# --------------------------------------------------------------------------- quiet runs

PREAMBLE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1796409018.714889    4422 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n",
]


def test_tensorflow_log_level_is_quiet_unless_verbose_and_the_users_wins(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert (sweep.tensorflow_log_level(), sweep.tensorflow_log_level(verbose=True)) == ("3", "2")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    assert (sweep.tensorflow_log_level(), sweep.tensorflow_log_level(verbose=True)) == ("1", "1")


def test_the_training_process_gets_the_level_unless_the_worker_sets_its_own(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert sweep._training_environment("3")["TF_CPP_MIN_LOG_LEVEL"] == "3"
    assert "TF_CPP_MIN_LOG_LEVEL" not in sweep._training_environment()  # verbose: as before
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert sweep._training_environment("3")["TF_CPP_MIN_LOG_LEVEL"] == "0"


@pytest.mark.parametrize(("verbose", "level"), [(False, "3"), (True, "2")])
def test_the_local_cluster_workers_get_the_level(monkeypatch, verbose, level):
    import distributed

    made = {}

    @contextlib.contextmanager
    def local_cluster(**options):
        made.update(options)
        yield "cluster"

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    monkeypatch.setattr(distributed, "Client", lambda cluster: contextlib.nullcontext(cluster))
    with sweep.connect("local:1", verbose=verbose) as client:
        assert client == "cluster"
    assert made["env"] == {"TF_CPP_MIN_LOG_LEVEL": level}


@pytest.mark.parametrize(("log_level", "shown"), [("3", False), (None, True), ("0", True)])
def test_tensorflow_preamble_stays_off_the_workers_stderr_when_quiet(monkeypatch, tmp_path,
                                                                      log_level, shown):
    """The training process (faked: it prints the preamble, a progress line and a warning)."""
    started = {}

    class Training:
        returncode = 0

        def __init__(self, command, **options):
            started["env"] = options["env"]
            self.stdout = [*PREAMBLE, f"{sweep.PROGRESS_MARK}training x\n", "a warning\n"]

        def __enter__(self):
            return self

        def __exit__(self, *_):
            return False

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(sweep.subprocess, "Popen", Training)
    with contextlib.redirect_stderr(io.StringIO()) as stderr:
        result = sweep.train_run(_tiny_cnn(), str(tmp_path), log_level=log_level)
    assert result["trained"]
    assert started["env"].get("TF_CPP_MIN_LOG_LEVEL") == log_level
    assert stderr.getvalue() == "".join(PREAMBLE * shown) + "a warning\n"
