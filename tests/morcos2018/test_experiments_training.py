"""Cached, resumable, repeatable training: cache hits, extension, resume after SIGKILL or a kill
between an epoch's files, corrupt or hand-edited entries, read-only caches, and what LSTM language
models need (fixed-order datasets, callbacks, clipnorm, learning-rate schedules)."""

from __future__ import annotations

import errno
import io
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from morcos2018 import cache, progress
from morcos2018.cache import (
    CacheCorruptionWarning,
    CorruptCacheError,
    ReadOnlyCacheError,
    canonical_json,
    run_key,
)
from morcos2018.config import load_profile
from morcos2018.models import cnn_config, family_table, train_cnn
from morcos2018.training import FitData, make_optimizer, train


def _build_dense():
    import keras

    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    hidden = keras.layers.Dropout(0.3, name="dropout")(hidden)
    hidden = keras.layers.BatchNormalization(name="bn")(hidden)
    outputs = keras.layers.Dense(3, activation="softmax", name="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(make_optimizer({"name": "adam", "learning_rate": 0.01}),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _dense_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1)
    return FitData(x, y, validation=(x[:32], y[:32]), batch_size=16)


def _no_data():
    raise AssertionError("a cache hit must not load the data")


def _same_variables(run_a, run_b, epoch=None):
    return _same_arrays(run_a.load_variables(epoch), run_b.load_variables(epoch))


def _same_arrays(a, b):
    """Same values in the same order (auto-generated names such as seed_generator_2 may differ)."""
    assert len(a) == len(b)
    return all(np.array_equal(a[i], b[j]) for i, j in zip(sorted(a), sorted(b), strict=True))


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_cache_hit_loads_without_training_or_data(tmp_path):
    config = {"experiment": "dense", "seed": 3, "epochs": 3}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    assert run.epochs == 3 and len(run.history) == 4
    assert set(run.history[0]) == {"val_loss", "val_accuracy"}  # initialization, epoch 0
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run.history[3])
    assert all(run.checkpoint_path(e).exists() for e in range(4))
    again = train(config, _build_dense, _no_data, cache_root=tmp_path)
    assert again.key == run.key and again.history == run.history
    assert _same_variables(run, again)
    fewer = train({**config, "epochs": 1}, _build_dense, _no_data, cache_root=tmp_path)
    assert fewer.epochs == 1 and _same_variables(fewer, run, epoch=1)


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_same_seed_same_weights_other_seed_differs(tmp_path):
    config = {"experiment": "dense", "seed": 5, "epochs": 2}
    first = train(config, _build_dense, _dense_data, cache_root=tmp_path / "a")
    second = train(config, _build_dense, _dense_data, cache_root=tmp_path / "b")
    other = train({**config, "seed": 6}, _build_dense, _dense_data, cache_root=tmp_path / "c")
    assert _same_variables(first, second)
    assert not _same_variables(first, other)
    model = first.load_model(0)
    assert model.get_layer("hidden").get_weights()[0].shape == (6, 16)
    assert not np.array_equal(first.load_variables(0)["00000:hidden/kernel"],
                              first.load_variables(2)["00000:hidden/kernel"])  # it trained


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_extending_a_run_equals_training_it_at_once(tmp_path):
    config = {"experiment": "dense", "seed": 1, "epochs": 4}
    at_once = train(config, _build_dense, _dense_data, cache_root=tmp_path / "once")
    train({**config, "epochs": 2}, _build_dense, _dense_data, cache_root=tmp_path / "steps")
    extended = train(config, _build_dense, _dense_data, cache_root=tmp_path / "steps")
    assert extended.history == at_once.history
    assert _same_variables(extended, at_once)


@pytest.mark.slow  # trains (make test-fast trains nothing)
def test_a_run_stops_at_its_criterion_and_is_then_complete_for_any_longer_request(tmp_path):
    """``config["until"]`` stops training at the first epoch whose metric meets it (Figure 3's
    networks are trained to a training-accuracy criterion); asking for more epochs later loads
    the stopped run instead of training on, and the stop is what an uninterrupted run gives."""
    plain = {"experiment": "dense", "seed": 1, "epochs": 8}
    accuracy = train(plain, _build_dense, _dense_data, cache_root=tmp_path / "plain").metric(
        "accuracy")
    target = float(accuracy[3])  # reached at epoch 3 at the latest
    first = int(np.argmax(accuracy[1:] >= target)) + 1
    config = {**plain, "until": {"metric": "accuracy", "at_least": target}}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path / "until")
    assert run.epochs == first and run.metric("accuracy")[-1] >= target
    assert np.all(run.metric("accuracy")[1:-1] < target)
    longer = train({**config, "epochs": 50}, _build_dense, _no_data,
                   cache_root=tmp_path / "until")
    assert longer.epochs == first and longer.history == run.history
    assert _same_variables(longer, run)
    unreachable = {**plain, "epochs": 2, "until": {"metric": "accuracy", "at_least": 2.0}}
    assert train(unreachable, _build_dense, _dense_data, cache_root=tmp_path / "u").epochs == 2
    with pytest.raises(ValueError, match="stopping criterion"):
        train({**plain, "until": {"metric": "accuracy"}}, _build_dense, _dense_data,
              cache_root=tmp_path / "bad")


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_corrupt_checkpoint_is_detected_and_retrained(tmp_path):
    config = {"experiment": "dense", "seed": 2, "epochs": 2}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    reference = run.load_variables()
    checkpoint = run.checkpoint_path(1)
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0xFF
    checkpoint.write_bytes(bytes(data))
    with pytest.raises(CorruptCacheError, match="checksum"):
        run.load_model(1)
    with pytest.warns(CacheCorruptionWarning, match="retraining"):
        retrained = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    assert _same_arrays(reference, retrained.load_variables())


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.slow  # trains networks: 5-20 s on a busy 2-core CPU
def test_a_damaged_late_checkpoint_is_retrained_from_the_last_good_epoch(tmp_path, monkeypatch):
    """Issue 28: only what is provably corrupt is retrained, from the latest kept optimizer state
    whose checkpoint and every earlier one verify; the result is the uninterrupted run's."""
    monkeypatch.setattr(cache, "ANCHOR_EVERY", 2)
    config = {"experiment": "dense", "seed": 4, "epochs": 7}
    reference = train(config, _build_dense, _dense_data, cache_root=tmp_path / "clean")
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path / "damaged")
    assert sorted(p.name for p in run.path.glob("optimizer*")) == [
        "optimizer_0002.npz", "optimizer_0004.npz", "optimizer_0006.npz", "optimizer_0007.npz"]
    activations = run.path / "activations"
    activations.mkdir()
    for name in ("epoch_0003-probe-mean-float32-x.npz", "epoch_0006-probe-mean-float32-x.npz"):
        (activations / name).write_bytes(b"stands for stored activations")
    kept = {epoch: run.checkpoint_path(epoch).stat().st_mtime_ns for epoch in range(5)}

    _flip_byte(run.checkpoint_path(5))
    with pytest.warns(CacheCorruptionWarning,
                      match=r"epoch_0005.npz damaged .* resumes from epoch 4 \(retraining "
                            r"epochs 5-7\)"):
        resumed = train(config, _build_dense, _dense_data, cache_root=tmp_path / "damaged")
    assert {e: run.checkpoint_path(e).stat().st_mtime_ns for e in range(5)} == kept
    assert sorted(p.name for p in activations.iterdir()) == ["epoch_0003-probe-mean-float32-x.npz"]
    assert resumed.history == reference.history
    for epoch in range(config["epochs"] + 1):
        assert _same_variables(resumed, reference, epoch)

    # A damaged anchor as well: back to the one before it.
    _flip_byte(run.checkpoint_path(6))
    _flip_byte(run.path / "optimizer_0004.npz")
    with pytest.warns(CacheCorruptionWarning, match=r"resumes from epoch 2 \(retraining"):
        resumed = train(config, _build_dense, _dense_data, cache_root=tmp_path / "damaged")
    for epoch in range(config["epochs"] + 1):
        assert _same_variables(resumed, reference, epoch)

    # Only an anchor damaged: the run is complete; the anchor is dropped, nothing retrained.
    _flip_byte(run.path / "optimizer_0002.npz")
    with pytest.warns(CacheCorruptionWarning, match="nothing to retrain"):
        loaded = train(config, _build_dense, _no_data, cache_root=tmp_path / "damaged")
    assert _same_variables(loaded, reference)
    assert not (run.path / "optimizer_0002.npz").exists()

    # Damage before the first anchor: nothing to resume from, the whole entry is retrained.
    _flip_byte(run.checkpoint_path(1))
    with pytest.warns(CacheCorruptionWarning, match="retraining it"):
        again = train(config, _build_dense, _dense_data, cache_root=tmp_path / "damaged")
    assert _same_variables(again, reference)


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_partial_manifest_is_detected_and_retrained(tmp_path):
    config = {"experiment": "dense", "seed": 2, "epochs": 1}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    reference = run.load_variables()
    manifest = run.path / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:40])
    with pytest.warns(CacheCorruptionWarning):
        again = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    assert json.loads(manifest.read_text())["epochs_done"] == 1
    assert _same_arrays(reference, again.load_variables())


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_what_language_models_need(tmp_path):
    """Fixed-order tf.data input, callbacks seeing true epochs, clipnorm, an LR schedule."""
    import keras
    import tensorflow as tf

    schedule = {"class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.05, "decay_steps": 3, "decay_rate": 0.5}}

    def build():
        inputs = keras.Input((4, 2), batch_size=4)
        hidden = keras.layers.LSTM(5, stateful=True, return_sequences=True, name="lstm1")(inputs)
        outputs = keras.layers.Dense(1, name="out")(hidden)
        model = keras.Model(inputs, outputs)
        model.compile(make_optimizer({"name": "sgd", "learning_rate": schedule, "clipnorm": 0.5}),
                      "mse")
        return model

    class ResetStates(keras.callbacks.Callback):
        epochs_seen: list[int] = []

        def on_epoch_begin(self, epoch, logs=None):
            ResetStates.epochs_seen.append(epoch)
            self.model.get_layer("lstm1").reset_states()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4, 2)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices((x, x[..., :1] * 2)).batch(4)
    config = {"experiment": "lstm-toy", "seed": 0, "epochs": 3}
    at_once = train(config, build, FitData(dataset, validation=dataset),
                    callbacks=[ResetStates()], cache_root=tmp_path / "once")
    assert ResetStates.epochs_seen == [0, 1, 2]
    train({**config, "epochs": 1}, build, FitData(dataset), callbacks=[ResetStates()],
          cache_root=tmp_path / "steps")
    resumed = train(config, build, FitData(dataset, validation=dataset),
                    callbacks=[ResetStates()], cache_root=tmp_path / "steps")
    assert ResetStates.epochs_seen[-2:] == [1, 2]
    assert _same_variables(at_once, resumed)
    losses = at_once.metric("loss")
    assert np.isnan(losses[0]) and np.all(np.isfinite(losses[1:]))
    optimizer_state = np.load(at_once.path / "optimizer_0003.npz")
    iterations = [optimizer_state[k] for k in optimizer_state.files if "iteration" in k]
    assert int(iterations[0]) == 3 * 4  # schedule position restored with the optimizer


def test_bad_configs_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        train({"epochs": 1}, _build_dense, _dense_data, cache_root=tmp_path)
    with pytest.raises(ValueError, match="epochs"):
        train({"seed": 0, "epochs": -1}, _build_dense, _dense_data, cache_root=tmp_path)
    with pytest.raises(ValueError, match="JSON"):
        canonical_json({"seed": 0, "x": object()})
    with pytest.raises(ValueError, match="name"):
        make_optimizer({"learning_rate": 0.1})
    assert run_key({"a": 1, "b": [1, 2]}) == run_key({"b": [1, 2], "a": 1})


_CHILD = """
import json, sys
from morcos2018.models import train_cnn
train_cnn(json.loads(sys.argv[1]), cache_root=sys.argv[2], verbose=False)
"""


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_resume_after_sigkill_gives_the_uninterrupted_weights(tmp_path):
    """Figure 3's table: trained through XLA, to a criterion; resuming is still bitwise."""
    images = family_table(load_profile("smoke")["images"], "groups")
    config = cnn_config(images, seed=0, epochs=5)
    assert config["jit_compile"] and config["until"]
    killed_root = tmp_path / "killed"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, json.dumps(config), str(killed_root)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = killed_root / "runs" / run_key(config) / "manifest.json"
    deadline = time.monotonic() + 240
    done = 0
    while done < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            done = json.loads(manifest.read_text())["epochs_done"]
        except (OSError, ValueError):
            pass
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert 2 <= done < config["epochs"], "the child must die mid-training"
    first_epoch = manifest.parent / "epoch_0001.npz"
    kept = first_epoch.stat().st_mtime_ns

    resumed = train_cnn(config, cache_root=killed_root, verbose=False)
    assert first_epoch.stat().st_mtime_ns == kept  # resumed, not retrained from scratch
    uninterrupted = train_cnn(config, cache_root=tmp_path / "clean", verbose=False)
    assert resumed.history == uninterrupted.history
    for epoch in range(config["epochs"] + 1):
        assert _same_variables(resumed, uninterrupted, epoch)


class _Killed(BaseException):
    """Stands for SIGKILL: nothing of the run's process runs after it."""


@pytest.mark.slow  # trains networks: 5-15 s on a busy 2-core CPU
def test_kill_between_optimizer_and_manifest_write_resumes_from_the_manifest(tmp_path, monkeypatch):
    """Issue 15, item 10: the kill lands after epoch 3's checkpoint and optimizer files are written
    and before the manifest that records them, so the manifest still says 2 epochs."""
    config = {"experiment": "dense", "seed": 4, "epochs": 4}
    uninterrupted = train(config, _build_dense, _dense_data, cache_root=tmp_path / "clean")
    write = cache.atomic_write

    def killed_at_third_manifest(path, data):
        if path.name == cache.MANIFEST and json.loads(data)["epochs_done"] == 3:
            raise _Killed
        write(path, data)

    monkeypatch.setattr(cache, "atomic_write", killed_at_third_manifest)
    with pytest.raises(_Killed):
        train(config, _build_dense, _dense_data, cache_root=tmp_path / "killed")
    monkeypatch.undo()
    folder = tmp_path / "killed" / "runs" / run_key(config)
    assert json.loads((folder / "manifest.json").read_text())["epochs_done"] == 2
    assert (folder / "epoch_0003.npz").exists()
    kept = {e: (folder / f"epoch_{e:04d}.npz").stat().st_mtime_ns for e in range(3)}

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheCorruptionWarning)
        resumed = train(config, _build_dense, _dense_data, cache_root=tmp_path / "killed")
    assert {e: resumed.checkpoint_path(e).stat().st_mtime_ns for e in range(3)} == kept
    assert resumed.history == uninterrupted.history
    for epoch in range(config["epochs"] + 1):
        assert _same_variables(resumed, uninterrupted, epoch)
    assert sorted(p.name for p in folder.glob("optimizer*")) == ["optimizer_0004.npz"]


@pytest.mark.slow  # trains networks: 5-15 s on a busy 2-core CPU
def test_manifest_lowered_by_hand_is_not_resumed_with_a_later_optimizer(tmp_path):
    """Issue 15, item 11: epochs_done edited from 3 to 1 left epoch 3's optimizer state in place;
    resuming from epoch 1 with it would give other weights than a clean run."""
    config = {"experiment": "dense", "seed": 6, "epochs": 3}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    reference = run.load_variables()
    manifest_path = run.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["epochs_done"] = 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.warns(CacheCorruptionWarning, match="optimizer state is .*optimizer_0003"):
        again = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    assert _same_arrays(reference, again.load_variables())


@pytest.mark.slow  # trains networks: 5-15 s on a busy 2-core CPU
def test_format_1_entries_are_read_and_resumed(tmp_path):
    """Entries written before optimizer files carried their epoch (one optimizer.npz) still work."""
    config = {"experiment": "dense", "seed": 8, "epochs": 2}
    uninterrupted = train(config, _build_dense, _dense_data, cache_root=tmp_path / "clean")
    run = train({**config, "epochs": 1}, _build_dense, _dense_data, cache_root=tmp_path / "old")
    manifest = json.loads((run.path / "manifest.json").read_text())
    manifest["format"] = 1
    del manifest["checksum"]  # format 1 (and format 2 before issue 28) wrote none
    manifest["files"]["optimizer.npz"] = manifest["files"].pop("optimizer_0001.npz")
    (run.path / "optimizer_0001.npz").rename(run.path / "optimizer.npz")
    (run.path / "manifest.json").write_text(json.dumps(manifest))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheCorruptionWarning)
        hit = train({**config, "epochs": 1}, _build_dense, _no_data, cache_root=tmp_path / "old")
        resumed = train(config, _build_dense, _dense_data, cache_root=tmp_path / "old")
    assert _same_variables(hit, run)
    assert _same_variables(resumed, uninterrupted)
    assert sorted(p.name for p in run.path.glob("optimizer*")) == ["optimizer_0002.npz"]


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(folder)`` makes ``folder`` and everything in it read-only (chmod a-w).

    The tests run as root, which ignores permission bits; then every write under the folder is
    also made to fail with EACCES as the kernel would fail it for another user: ``os.open`` and
    ``open`` with a writing mode, ``os.mkdir`` (EEXIST for what exists), ``os.replace``,
    ``os.rename``, ``os.unlink``, ``os.remove``, ``os.rmdir``.
    """
    changed: list[tuple[Path, int]] = []

    def make(folder: Path) -> None:
        for path in [folder, *folder.rglob("*")]:
            changed.append((path, path.stat().st_mode))
            path.chmod(path.stat().st_mode & ~0o222)
        if os.access(folder, os.W_OK):
            _refuse_writes_under(folder.resolve(), monkeypatch)

    yield make
    monkeypatch.undo()
    for path, mode in reversed(changed):
        path.chmod(mode)


def _refuse_writes_under(root: Path, monkeypatch) -> None:
    def inside(path) -> bool:
        return isinstance(path, str | os.PathLike) and Path(os.fsdecode(path)).resolve(
        ).is_relative_to(root)

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))

    def guarded(function, writes=lambda *args, **kwargs: True):
        def call(path, *args, **kwargs):
            if inside(path) and writes(*args, **kwargs):
                refuse(path)
            return function(path, *args, **kwargs)
        return call

    def writing_flags(flags, *args, **kwargs):
        return flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND)

    def writing_mode(mode="r", *args, **kwargs):
        return bool(set(mode) & set("wax+"))

    monkeypatch.setattr(os, "open", guarded(os.open, writing_flags))
    guarded_open = guarded(io.open, writing_mode)
    monkeypatch.setattr(io, "open", guarded_open)  # pathlib's Path.open
    monkeypatch.setattr("builtins.open", guarded_open)
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        if inside(path):
            if Path(os.fsdecode(path)).exists():
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(path))
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    for name in ("replace", "rename", "unlink", "remove", "rmdir"):
        monkeypatch.setattr(os, name, guarded(getattr(os, name)))


@pytest.mark.slow  # trains a network: 3-10 s on a busy 2-core CPU
def test_read_only_cache_serves_its_runs_and_refuses_training_clearly(tmp_path, read_only):
    """Issue 15, item 9: a shared cache of trained networks that this user cannot write."""
    config = {"experiment": "dense", "seed": 7, "epochs": 2}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    read_only(tmp_path)
    hit = train(config, _build_dense, _no_data, cache_root=tmp_path)
    assert hit.history == run.history and _same_variables(hit, run)
    assert _same_variables(hit, train({**config, "epochs": 1}, _build_dense, _no_data,
                                      cache_root=tmp_path), epoch=1)
    for longer_or_new in ({**config, "epochs": 3}, {**config, "seed": 9}):
        with pytest.raises(ReadOnlyCacheError, match="not writable") as error:
            train(longer_or_new, _build_dense, _no_data, cache_root=tmp_path)
        assert "Set CCA_CACHE_DIR (or pass cache_root) to a writable folder" in str(error.value)


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_progress_names_the_network_counts_epochs_and_says_loaded(tmp_path, monkeypatch, capfd):
    """Issue 13, item 3: training shows which network trains, epoch e of E and the time left;
    a resumed run says where it resumes, and a cached one says it was loaded, not trained."""
    monkeypatch.setenv(progress.PROGRESS_ENV, "lines")
    config = {"experiment": "dense", "seed": 3, "epochs": 2}
    train({**config, "epochs": 1}, _build_dense, _dense_data, cache_root=tmp_path, label="net A")
    train(config, _build_dense, _dense_data, cache_root=tmp_path, label="net A")
    train(config, _build_dense, _no_data, cache_root=tmp_path, label="net A")
    lines = [line.removeprefix(progress.PROGRESS_MARK).split(" [")[0]
             for line in capfd.readouterr().err.splitlines()
             if line.startswith(progress.PROGRESS_MARK)]
    assert lines == [
        "training net A: epoch 0/1",
        "training net A: epoch 1/1",
        "resuming net A from the cache at epoch 1/2",
        "training net A: epoch 1/2",
        "training net A: epoch 2/2",
        f"loaded net A: 2 epochs, trained earlier (cache {tmp_path}/runs/{run_key(config)})",
    ]


@pytest.mark.slow  # trains a tiny network: a few seconds
def test_entries_it_must_not_touch_are_refused_not_wiped(tmp_path, monkeypatch):
    """issue 28: an entry in a newer cache format, or with a file that cannot be read, is refused
    with a message naming it and what to do; nothing is deleted."""
    from morcos2018.cache import CacheRefusedError

    config = {"experiment": "dense", "seed": 9, "epochs": 1}
    run = train(config, _build_dense, _dense_data, cache_root=tmp_path)
    before = sorted((p.name, p.stat().st_size) for p in run.path.iterdir())
    manifest_path = run.path / "manifest.json"
    original = manifest_path.read_text()
    manifest_path.write_text(json.dumps({**json.loads(original), "format": 99}))
    with pytest.raises(CacheRefusedError, match="format 99 by a newer version.*nothing was"):
        train(config, _build_dense, _no_data, cache_root=tmp_path)
    assert sorted((p.name, p.stat().st_size) for p in run.path.iterdir()
                  if p.name != "manifest.json") == [f for f in before if f[0] != "manifest.json"]
    manifest_path.write_text(original)
    checkpoint = run.path / "epoch_0001.npz"
    real_read_bytes = Path.read_bytes

    def unreadable(path):
        if path == checkpoint:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(CacheRefusedError, match="epoch_0001.npz cannot be read"):
        train(config, _build_dense, _no_data, cache_root=tmp_path)
    monkeypatch.undo()
    assert sorted((p.name, p.stat().st_size) for p in run.path.iterdir()) == before
    again = train(config, _build_dense, _no_data, cache_root=tmp_path)  # intact: a cache hit
    assert _same_variables(again, run)
