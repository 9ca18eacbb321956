"""The paper's CNN: layer names, shapes, strides, width and depth options; CNN run configs."""

from __future__ import annotations

import pytest

from morcos2018.cache import run_key
from morcos2018.config import load_profile
from morcos2018.models import (
    PAPER_CHANNELS,
    build_cnn,
    cnn_channels,
    cnn_config,
    conv_layer_names,
)


def test_paper_architecture_on_cifar_shape():
    model = build_cnn((32, 32, 3), 10, width=1.0)
    convs = [model.get_layer(f"conv{i}_conv") for i in range(1, 12)]
    assert [layer.filters for layer in convs] == list(PAPER_CHANNELS)
    assert [layer.strides[0] for layer in convs] == [1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1]
    assert all(layer.kernel_size == (3, 3) for layer in convs)
    assert model.get_layer("conv1").output.shape == (None, 32, 32, 64)
    assert model.get_layer("conv11").output.shape == (None, 4, 4, 512)
    assert model.get_layer("logits").output.shape == (None, 10)
    assert model.get_layer("softmax").output.shape == (None, 10)
    for name in conv_layer_names():
        assert model.get_layer(f"{name}_bn") is not None


def test_width_and_depth_options():
    model = build_cnn((28, 28, 1), width=0.25, depth=5)
    channels = [model.get_layer(name).output.shape[-1] for name in conv_layer_names(5)]
    assert channels == [16, 16, 32, 32, 32]
    assert model.get_layer("conv3").output.shape[1:3] == (14, 14)
    assert "conv6" not in [layer.name for layer in model.layers]
    assert cnn_channels(0.001)[0] == 1  # never zero channels
    assert cnn_channels(1.0, depth=13)[-2:] == [512, 512]


def test_bad_arguments():
    with pytest.raises(ValueError, match="width"):
        build_cnn(width=0)
    with pytest.raises(ValueError, match="depth"):
        build_cnn(depth=0)
    with pytest.raises(ValueError, match="input_shape"):
        build_cnn((28, 28))


@pytest.mark.parametrize("profile", ["smoke", "default", "extended", "paper"])
def test_profiles_give_configs(profile):
    images = load_profile(profile)["images"]
    generalizing = cnn_config(images, seed=0)
    memorizing = cnn_config(images, seed=0, random_labels=True)
    assert memorizing["random_labels"] and not generalizing["random_labels"]
    assert run_key(generalizing) != run_key(memorizing)
    assert run_key(cnn_config(images, seed=0)) == run_key(generalizing)
    assert run_key(cnn_config(images, seed=1)) != run_key(generalizing)
    wide = cnn_config(images, seed=0, width=2 * images["width"])
    assert wide["width"] == 2 * images["width"]
    for table in ("groups", "widths", "learning_rates", "dynamics"):
        assert table in images, f"{profile}/images.toml lacks [{table}]"


def test_cnn_config_reports_missing_keys():
    with pytest.raises(ValueError, match="images.toml"):
        cnn_config({"dataset": "fashion_mnist"}, seed=0)
