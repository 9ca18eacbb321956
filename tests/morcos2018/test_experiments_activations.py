"""Activation capture: named layers, spatial averaging, batching, the on-disk activation cache."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018.activations import cached_activations, layer_activations, probe_indices
from morcos2018.config import load_profile
from morcos2018.models import build_cnn, cnn_config, load_cnn_data, train_cnn


def test_full_and_mean_readings_agree_and_batches_do_not_matter():
    model = build_cnn(width=0.125)
    x = np.random.default_rng(0).normal(size=(7, 28, 28, 1)).astype("float32")
    full = layer_activations(model, x, ["conv2", "conv11", "softmax"], batch_size=3)
    mean = layer_activations(model, x, ["conv2", "conv11", "softmax"], spatial="mean")
    assert full["conv2"].shape == (7, 28, 28, 8) and full["conv11"].shape == (7, 4, 4, 64)
    assert mean["conv2"].shape == (7, 8) and mean["softmax"].shape == (7, 10)
    np.testing.assert_allclose(mean["conv2"], full["conv2"].mean(axis=(1, 2)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(full["softmax"].sum(axis=1), 1, rtol=1e-5)
    assert (full["conv2"] >= 0).all()  # post-ReLU representation


def test_bad_layer_names_and_modes():
    model = build_cnn(width=0.125, depth=2)
    x = np.zeros((2, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match="conv9"):
        layer_activations(model, x, ["conv9"])
    with pytest.raises(ValueError, match="spatial"):
        layer_activations(model, x, ["conv1"], spatial="max")
    with pytest.raises(ValueError, match="probe size"):
        probe_indices(10, 11)


@pytest.mark.slow  # trains a network: about 10 s
def test_cached_activations_are_stored_and_reused(tmp_path, monkeypatch):
    config = cnn_config(load_profile("smoke")["images"], seed=0)
    run = train_cnn(config, cache_root=tmp_path, verbose=False)
    data = load_cnn_data(config)
    probe = data.x_train[probe_indices(len(data.x_train), 64)]
    exact = cached_activations(run, probe, ["conv3", "logits"], dtype="float32")
    compact = cached_activations(run, probe, ["conv3", "logits"])
    assert compact["conv3"].dtype == np.float16 and compact["conv3"].shape == (64, 8)
    np.testing.assert_allclose(compact["conv3"], exact["conv3"], rtol=2e-3, atol=1e-3)
    initial = cached_activations(run, probe, ["conv3"], epoch=0)
    assert not np.allclose(initial["conv3"], compact["conv3"], atol=1e-2)

    def no_model(epoch=None):
        raise AssertionError("cached activations must not load the model")

    monkeypatch.setattr(run, "load_model", no_model)
    again = cached_activations(run, probe, ["logits", "conv3"])
    np.testing.assert_array_equal(again["conv3"], compact["conv3"])
    with pytest.raises(AssertionError, match="must not load"):  # a new probe is a new entry
        cached_activations(run, probe[:32], ["conv3"])
    with pytest.raises(ValueError, match="epoch"):
        cached_activations(run, probe, ["conv3"], epoch=run.epochs + 1)


@pytest.mark.slow  # trains (make test-fast trains nothing)
def test_activations_from_a_read_only_cache_are_computed_without_storing(tmp_path, monkeypatch):
    """A shared, read-only cache of trained networks (issue 15, item 9): activations not stored
    yet are computed and returned, and nothing is written (simulated: every write is refused,
    as tests run as root, which ignores permission bits)."""
    import morcos2018.activations as activations

    config = cnn_config(load_profile("smoke")["images"], seed=0)
    run = train_cnn(config, cache_root=tmp_path, verbose=False)
    probe = load_cnn_data(config).x_train[:16]

    def refuse(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    def read_only_mount(path, data):  # issue 28: EROFS is an OSError, not a PermissionError
        raise OSError(30, "Read-only file system", str(path))

    for refusal in (refuse, read_only_mount):
        monkeypatch.setattr(activations, "atomic_write", refusal)
        values = cached_activations(run, probe, ["conv3"], dtype="float32")
        assert values["conv3"].shape == (16, 8)
        assert not list((run.path / "activations").glob("*.npz"))
    monkeypatch.undo()
    stored = cached_activations(run, probe, ["conv3"], dtype="float32")
    np.testing.assert_array_equal(stored["conv3"], values["conv3"])
