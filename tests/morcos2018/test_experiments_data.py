"""Image data: the offline Fashion-MNIST loader, subsets and the shared random-label permutation."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from morcos2018 import data
from morcos2018.data import (
    DatasetUnavailableError,
    load_images,
    load_raw,
    permuted_labels,
    read_idx,
)

pytestmark = pytest.mark.skipif(
    not data.FASHION_MNIST_DIR.exists(),
    reason="Debian package dataset-fashion-mnist not installed (make data)",
)


def test_full_dataset_shapes_and_labels():
    x_train, y_train, x_test, y_test = load_raw("fashion_mnist")
    assert x_train.shape == (60000, 28, 28, 1) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28, 1)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert np.bincount(y_train).tolist() == [6000] * 10  # Fashion-MNIST is balanced
    assert x_train.max() == 255 and x_train.min() == 0


def test_subset_is_balanced_standardised_and_fixed():
    first = load_images(train_subset=500, subset_seed=3)
    again = load_images(train_subset=500, subset_seed=3)
    other = load_images(train_subset=500, subset_seed=4)
    assert first.x_train.shape == (500, 28, 28, 1) and first.x_train.dtype == np.float32
    assert np.bincount(first.y_train).tolist() == [50] * 10
    np.testing.assert_array_equal(first.train_index, again.train_index)
    assert not np.array_equal(first.train_index, other.train_index)
    assert abs(first.x_test.mean()) < 0.05 and abs(first.x_test.std() - 1) < 0.05
    _, y_full, _, _ = load_raw("fashion_mnist")
    np.testing.assert_array_equal(first.y_train, y_full[first.train_index])


def test_random_labels_are_one_permutation_shared_by_a_group():
    true = load_images(train_subset=1000)
    net_a = load_images(train_subset=1000, random_labels=True, label_seed=7)
    net_b = load_images(train_subset=1000, random_labels=True, label_seed=7)
    other_group = load_images(train_subset=1000, random_labels=True, label_seed=8)
    np.testing.assert_array_equal(net_a.y_train, net_b.y_train)  # same labels for the group
    np.testing.assert_array_equal(net_a.x_train, true.x_train)  # same images
    assert not np.array_equal(net_a.y_train, other_group.y_train)
    assert np.bincount(net_a.y_train).tolist() == np.bincount(true.y_train).tolist()
    agreement = np.mean(net_a.y_train == true.y_train)
    assert agreement < 0.2  # unrelated to the images: about 1 in 10 by chance
    np.testing.assert_array_equal(net_a.y_test, true.y_test)  # test labels stay true


def test_permuted_labels_is_a_permutation():
    labels = np.repeat(np.arange(10), 5)
    shuffled = permuted_labels(labels, seed=0)
    assert sorted(shuffled.tolist()) == labels.tolist()
    assert not np.array_equal(shuffled, labels)


def test_read_idx_round_trip_and_bad_header(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte.gz"
    header = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.tobytes()))
    np.testing.assert_array_equal(read_idx(path), array)
    bad = tmp_path / "bad-idx1-ubyte"
    bad.write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an idx file"):
        read_idx(bad)


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_images("mnist")
    with pytest.raises(ValueError, match="train_subset"):
        load_images(train_subset=0)


def test_offline_without_package_names_package_and_download(monkeypatch, tmp_path):
    import keras

    def offline():
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(data, "FASHION_MNIST_DIR", tmp_path / "absent")
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DatasetUnavailableError) as error:
        load_raw("fashion_mnist")
    message = str(error.value)
    assert "dataset-fashion-mnist" in message
    assert "keras.datasets.fashion_mnist.load_data()" in message
    assert "name resolution" in message
