"""The paper's CNN (Section 3, Figures 1, 3, 4, 5) in the Keras functional API, and its training.

Architecture (Morcos et al. 2018, Appendix A.1): 11 convolutional layers, 3x3 kernels,
channels ``64, 64, 128, 128, 128, 256, 256, 256, 512, 512, 512`` times a width multiplier, strides
``1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1``, each followed by batch normalization and a ReLU. The classifier
head, not described in the paper, is ours: global average pooling, a dense layer to the classes
(``logits``) and a softmax (``softmax``).

Layer names, for reading activations by name:

- ``conv1`` .. ``conv{depth}``: the **post-ReLU** output of each block (conv -> BN -> ReLU); this is
  the representation the experiments compare (averaged over space, as in Figure 3). The conv and
  BN outputs are ``conv{i}_conv`` and ``conv{i}_bn``.
- ``pool`` (global average pool of the last block), ``logits``, ``softmax``.

``depth`` keeps the first ``depth`` blocks of the list (``depth > 11`` appends stride-1 blocks of
the last width). Batch normalization uses momentum 0.9 (Keras's 0.99 lags on the few hundred steps
of our small-data profiles). No device is pinned: it runs on a GPU when TensorFlow sees one.

:func:`cnn_config` turns a profile's ``images`` table into a run config and :func:`train_cnn`
trains (or loads from the cache) the network it describes, through
:func:`morcos2018.training.train`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from morcos2018.data import DATASET_SHAPES, TRAIN_SIZES, ImageData, load_images
from morcos2018.training import FitData, TrainedRun, make_optimizer, train

PAPER_CHANNELS = (64, 64, 128, 128, 128, 256, 256, 256, 512, 512, 512)
PAPER_STRIDES = (1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1)
BN_MOMENTUM = 0.9


def conv_layer_names(depth: int = 11) -> list[str]:
    """Names of the compared (post-ReLU) conv representations: ``["conv1", ..., "conv<depth>"]``."""
    return [f"conv{i}" for i in range(1, depth + 1)]


def cnn_channels(width: float = 1.0, depth: int = 11) -> list[int]:
    """Channels of each block: the paper's list times ``width`` (rounded, at least 1)."""
    channels = list(PAPER_CHANNELS[:depth]) + [PAPER_CHANNELS[-1]] * max(0, depth - 11)
    return [max(1, round(c * width)) for c in channels]


def build_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 10,
    *,
    width: float = 1.0,
    depth: int = 11,
) -> Any:
    """The paper's CNN (uncompiled), with named layers.

    Parameters
    ----------
    input_shape
        ``(h, w, c)``: ``(28, 28, 1)`` for Fashion-MNIST, ``(32, 32, 3)`` for CIFAR-10.
    num_classes
        Outputs of the softmax.
    width
        Multiplier of every block's channels (the paper's Figure 4 uses 0.25 .. 7).
    depth
        Number of conv blocks (11 in the paper).

    Returns
    -------
    keras.Model
        Input ``(None, *input_shape)``, output the softmax probabilities.

    Examples
    --------
    >>> model = build_cnn(width=0.25)
    >>> model.get_layer("conv11").output.shape
    (None, 4, 4, 128)
    """
    import keras
    from keras import layers

    if not (isinstance(depth, int) and depth >= 1):
        raise ValueError(f"depth must be an int >= 1 (the paper uses 11); got {depth!r}")
    if not width > 0:
        raise ValueError(f"width must be a positive multiplier (e.g. 0.25 or 1); got {width!r}")
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}")
    strides = list(PAPER_STRIDES[:depth]) + [1] * max(0, depth - 11)
    inputs = keras.Input(input_shape, name="images")
    hidden = inputs
    for i, (channels, stride) in enumerate(zip(cnn_channels(width, depth), strides, strict=True)):
        name = f"conv{i + 1}"
        hidden = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False,
                               name=f"{name}_conv")(hidden)
        hidden = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(hidden)
        hidden = layers.ReLU(name=name)(hidden)
    hidden = layers.GlobalAveragePooling2D(name="pool")(hidden)
    logits = layers.Dense(num_classes, name="logits")(hidden)
    outputs = layers.Softmax(name="softmax")(logits)
    return keras.Model(inputs, outputs, name=f"cnn_w{width:g}_d{depth}")


def cnn_config(
    images: Mapping[str, Any],
    *,
    seed: int,
    random_labels: bool = False,
    width: float | None = None,
    learning_rate: float | None = None,
    epochs: int | None = None,
) -> dict[str, Any]:
    """The run config of one CNN from a profile's ``images`` table.

    Parameters
    ----------
    images
        ``load_profile(name)["images"]``: uses ``dataset``, ``train_subset``, ``subset_seed``,
        ``label_seed``, ``width``, ``depth``, ``optimizer``, ``learning_rate``, ``batch_size``,
        ``epochs``, ``validation_size`` and, if present and not 1, ``learning_rate_decay``: the
        learning rate is multiplied by it after every epoch (not in the paper, which keeps Adam
        at 1e-3; our small-data profiles use it so that training settles at ~0 loss).
        ``train_accuracy``, if set, stops each network at the first epoch whose training accuracy
        (Keras's mean over the epoch) reaches it (``config["until"]``; ``epochs`` is then the
        most it trains); 0 sets no criterion (a family table that trains every network for
        ``epochs`` although the base table sets one). ``jit_compile = true`` trains through XLA
        (``keras.Model.compile(jit_compile=True)``): 2-3x the images per second of a narrow CNN
        on a CPU (``benchmarks/bench_training.py``), and it runs on a GPU the same way; XLA
        rounds differently, so it is part of the run's identity.
    seed
        Seed of this network (initialization and data order).
    random_labels
        Train on the group's fixed random relabelling (memorization, Figure 3).
    width, learning_rate, epochs
        Override the table's values (Figure 4 widths, Figure 5 learning rates, longer dynamics).

    Returns
    -------
    dict
        JSON-able config for :func:`train_cnn`; its hash is the cache key.
    """
    missing = {"dataset", "train_subset", "width", "depth", "learning_rate", "batch_size",
               "epochs"} - set(images)
    if missing:
        raise ValueError(f"images table lacks {sorted(missing)}: check the profile's images.toml")
    rate = float(images["learning_rate"] if learning_rate is None else learning_rate)
    decay = float(images.get("learning_rate_decay", 1.0))
    if decay != 1.0:  # per-epoch staircase decay, so that training settles at ~0 training loss
        train_size = images["train_subset"] or TRAIN_SIZES[images["dataset"]]
        rate = {"class_name": "ExponentialDecay", "config": {
            "initial_learning_rate": rate, "decay_rate": decay, "staircase": True,
            "decay_steps": math.ceil(train_size / int(images["batch_size"]))}}
    config = {
        "experiment": "cnn",
        "dataset": images["dataset"],
        "train_subset": images["train_subset"] or None,
        "subset_seed": images.get("subset_seed", 0),
        "random_labels": bool(random_labels),
        "label_seed": images.get("label_seed", 0) if random_labels else None,
        "width": float(images["width"] if width is None else width),
        "depth": int(images["depth"]),
        "optimizer": {"name": images.get("optimizer", "adam"), "learning_rate": rate},
        "batch_size": int(images["batch_size"]),
        "validation_size": images.get("validation_size") or None,
        "epochs": int(images["epochs"] if epochs is None else epochs),
        "seed": int(seed),
    }
    if images.get("jit_compile", False):  # XLA: other rounding, so another cache entry
        config["jit_compile"] = True
    if images.get("train_accuracy"):  # trained to a criterion; "epochs" is then the most
        config["until"] = {"metric": "accuracy", "at_least": float(images["train_accuracy"])}
    return config


#: Keys of the ``images`` table a figure family's own table (e.g. ``[groups]``) may override.
FAMILY_OVERRIDES = ("train_subset", "subset_seed", "width", "learning_rate",
                    "learning_rate_decay", "train_accuracy", "validation_size", "probe_size",
                    "jit_compile")


def family_table(images: Mapping[str, Any], family: str) -> dict[str, Any]:
    """A profile's ``images`` table as one figure family sees it: its own table's overrides of
    :data:`FAMILY_OVERRIDES` applied (e.g. Figure 3's ``[groups]`` trains on more images, to a
    training-accuracy criterion, without the decay).

    Examples
    --------
    >>> images = {"train_subset": 1000, "probe_size": 500, "groups": {"train_subset": 5000}}
    >>> table = family_table(images, "groups")
    >>> table["train_subset"], table["probe_size"]
    (5000, 500)
    """
    if family not in images:
        raise ValueError(f"the images table has no [{family}] table; it has "
                         f"{sorted(k for k, v in images.items() if isinstance(v, Mapping))}")
    overrides = {key: value for key, value in images[family].items() if key in FAMILY_OVERRIDES}
    return {**images, **overrides}


def load_cnn_data(config: Mapping[str, Any]) -> ImageData:
    """The data a CNN config trains on (subset and labels as the config says)."""
    return load_images(
        config["dataset"],
        train_subset=config["train_subset"],
        subset_seed=config["subset_seed"],
        random_labels=config["random_labels"],
        label_seed=config["label_seed"] or 0,
    )


def train_cnn(
    config: Mapping[str, Any],
    *,
    cache_root: str | Path | None = None,
    verbose: bool | None = None,
) -> TrainedRun:
    """Train (or load from the cache) the CNN a :func:`cnn_config` describes.

    Loss: sparse categorical cross-entropy on the softmax; metric: accuracy. Validation: the first
    ``validation_size`` test images (all if ``None``), evaluated after every epoch into the
    history as ``val_loss`` / ``val_accuracy``.

    Returns
    -------
    TrainedRun
        Checkpoints at every epoch, epoch 0 being the initialization.
    """
    if config.get("dataset") not in DATASET_SHAPES:
        raise ValueError(f"config['dataset'] must be one of {sorted(DATASET_SHAPES)}; "
                         f"got {config.get('dataset')!r}. Build configs with cnn_config().")
    input_shape, num_classes = DATASET_SHAPES[config["dataset"]]

    def build() -> Any:
        model = build_cnn(input_shape, num_classes, width=config["width"], depth=config["depth"])
        model.compile(
            optimizer=make_optimizer(config["optimizer"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=bool(config.get("jit_compile", False)),
        )
        return model

    def data() -> FitData:
        images = load_cnn_data(config)
        size = config["validation_size"] or len(images.y_test)
        return FitData(
            images.x_train,
            images.y_train,
            validation=(images.x_test[:size], images.y_test[:size]),
            batch_size=config["batch_size"],
        )

    return train(config, build, data, cache_root=cache_root, verbose=verbose,
                 label=cnn_label(config))


def cnn_label(config: Mapping[str, Any]) -> str:
    """How progress messages name the CNN of a :func:`cnn_config`.

    Examples
    --------
    >>> cnn_label({"seed": 3, "width": 0.125, "random_labels": True,
    ...            "optimizer": {"name": "adam", "learning_rate": 0.001}})
    'CNN seed 3 (width 0.125, random labels, adam 0.001)'
    """
    rate = config["optimizer"]["learning_rate"]
    if isinstance(rate, Mapping):  # a schedule: name its start
        rate = rate["config"]["initial_learning_rate"]
    labels = "random labels" if config["random_labels"] else "true labels"
    return (f"CNN seed {config['seed']} (width {config['width']:g}, {labels}, "
            f"{config['optimizer']['name']} {rate:g})")
