"""Cached, resumable, repeatable training: cache hits, extension, resume after SIGKILL,
corrupt entries, and what LSTM language models need (fixed-order datasets, callbacks, clipnorm,
learning-rate schedules)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cca.experiments.config import load_profile
from cca.experiments.models import cnn_config, train_cnn
from cca.experiments.training import (
    CacheCorruptionWarning,
    CorruptCacheError,
    FitData,
    canonical_json,
    make_optimizer,
    run_key,
    train,
)


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

    def no_data():
        raise AssertionError("a cache hit must not load the data")

    again = train(config, _build_dense, no_data, cache_root=tmp_path)
    assert again.key == run.key and again.history == run.history
    assert _same_variables(run, again)
    fewer = train({**config, "epochs": 1}, _build_dense, no_data, cache_root=tmp_path)
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
    optimizer_state = np.load(at_once.path / "optimizer.npz")
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
from cca.experiments.models import train_cnn
train_cnn(json.loads(sys.argv[1]), cache_root=sys.argv[2], verbose=False)
"""


@pytest.mark.slow  # trains networks: 5-25 s on a busy 2-core CPU
def test_resume_after_sigkill_gives_the_uninterrupted_weights(tmp_path):
    images = load_profile("smoke")["images"]
    config = cnn_config(images, seed=0, epochs=5)
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
