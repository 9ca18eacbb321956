"""A profile's group of CNNs, its probe images and their cached activations (cnn_groups)."""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018 import cnn_groups


@pytest.mark.slow
def test_networks_probe_and_activations_on_a_tiny_cnn(tmp_path, monkeypatch):
    monkeypatch.setenv("CCA_CACHE_DIR", str(tmp_path))
    images = {"dataset": "fashion_mnist", "train_subset": 64, "width": 0.0625, "depth": 3,
              "learning_rate": 1e-3, "batch_size": 32, "epochs": 1, "validation_size": 32,
              "probe_size": 40}
    runs = cnn_groups.train_networks(images, [0, 1])
    assert cnn_groups.train_networks(images, [1])[0].key == runs[1].key  # cache hit, same run
    probe = cnn_groups.probe_inputs(images, "train", seed=3)
    assert probe.shape == (40, 28, 28, 1)
    assert cnn_groups.probe_inputs(images, "test", 10).shape == (10, 28, 28, 1)
    acts = cnn_groups.network_activations(runs, probe, ["conv3", "softmax"], epoch=0)
    assert [a.shape for a in acts["conv3"]] == [(40, 8), (40, 8)]
    assert np.allclose(acts["softmax"][0].sum(axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="seeds"):
        cnn_groups.train_networks(images, [])


def test_probe_labels_are_the_probe_images_labels():
    """probe_labels names the classes of probe_inputs' rows: the true ones, or the memorizing
    group's relabelling of the same images (test images keep their true classes)."""
    from morcos2018.models import cnn_config, load_cnn_data

    images = {"dataset": "fashion_mnist", "train_subset": 200, "width": 0.0625, "depth": 3,
              "learning_rate": 1e-3, "batch_size": 32, "epochs": 1, "validation_size": 32,
              "probe_size": 50, "label_seed": 1}
    data = load_cnn_data(cnn_config(images, seed=0))
    probe = cnn_groups.probe_inputs(images, "train", seed=3)
    rows = [int(np.flatnonzero((data.x_train == image).all(axis=(1, 2, 3)))[0]) for image in probe]
    assert np.array_equal(cnn_groups.probe_labels(images, "train", seed=3), data.y_train[rows])
    relabelled = cnn_groups.probe_labels(images, "train", seed=3, random_labels=True)
    assert relabelled.shape == (50,) and (relabelled != data.y_train[rows]).mean() > 0.5
    assert np.array_equal(cnn_groups.probe_labels(images, "test", 20, random_labels=True),
                          cnn_groups.probe_labels(images, "test", 20))
    with pytest.raises(ValueError, match="split"):
        cnn_groups.probe_labels(images, "valid")


def test_figure5_readings_are_the_last_epoch_unless_the_table_sets_both_arms():
    from types import SimpleNamespace

    def run(losses):
        history = [{}] + [{"loss": value} for value in losses]
        return SimpleNamespace(epochs=len(losses),
                               metric=lambda name: np.array([r.get(name, np.nan)
                                                             for r in history]))
    runs = [run([2.0, 0.5, 0.05, 0.04]), run([2.0, 1.0, 0.9, 0.8])]
    assert cnn_groups.figure5_readings(runs, {}) == ({"last epoch": [4, 4]}, None)
    readings, reached = cnn_groups.figure5_readings(runs, {"equal_loss": 0.1, "fixed_epochs": 2})
    assert readings == {"equal training loss": [3, 4], "fixed epochs": [2, 2]}
    assert reached == [True, False]
    with pytest.raises(ValueError, match="both equal_loss and fixed_epochs"):
        cnn_groups.figure5_readings(runs, {"equal_loss": 0.1})
