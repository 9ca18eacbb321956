"""Image data for the CNN experiments: Fashion-MNIST (offline) and CIFAR-10 (the paper's, online).

Sources, in order:

- ``fashion_mnist``: the Debian package ``dataset-fashion-mnist`` (idx files under
  ``/usr/share/datasets/fashion-mnist``, parsed here with NumPy and gzip); if it is not installed,
  Keras's own download (``keras.datasets.fashion_mnist``).
- ``cifar10``: Keras's download (``keras.datasets.cifar10``), the paper's dataset (Section 3).

Offline without the Debian package, loading fails with a :class:`DatasetUnavailableError` naming
the package to install and the download that failed.

Images are returned as float32 ``(n, h, w, c)``, scaled to [0, 1] and standardised per channel with
the mean and standard deviation of the full training set; labels are int32 in ``0..9``.

Memorization (Section 3, Figure 3) trains networks on *randomly permuted labels*: one fixed random
relabelling of the training set, shared by every network of a group. :func:`load_images` with
``random_labels=True`` applies the permutation drawn from ``label_seed`` (part of the config), so
the same ``label_seed`` gives every network the same random labels. Test labels stay true.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DATASETS = ("fashion_mnist", "cifar10")
#: Image shape ``(h, w, c)`` and number of classes of each dataset, known without loading it.
DATASET_SHAPES = {"fashion_mnist": ((28, 28, 1), 10), "cifar10": ((32, 32, 3), 10)}
#: Number of training images of each dataset.
TRAIN_SIZES = {"fashion_mnist": 60000, "cifar10": 50000}
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetUnavailableError(RuntimeError):
    """A dataset is neither installed locally nor downloadable."""


@dataclass(frozen=True)
class ImageData:
    """Training and test images and labels of one dataset, ready for a network.

    Attributes
    ----------
    name
        ``"fashion_mnist"`` or ``"cifar10"``.
    x_train, x_test
        float32 ``(n, h, w, c)``, standardised per channel with training-set statistics.
    y_train, y_test
        int32 labels in ``0..num_classes-1``; ``y_train`` permuted when ``random_labels``.
    train_index
        Indices of ``x_train`` in the full training set (the subset taken, in order).
    random_labels
        Whether ``y_train`` holds the fixed random relabelling.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    random_labels: bool
    num_classes: int = 10

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one image, ``(h, w, c)``."""
        return tuple(self.x_train.shape[1:])


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (the MNIST format), gzip-compressed or not, into a NumPy array.

    Parameters
    ----------
    path
        An ``*-idx?-ubyte`` or ``*-idx?-ubyte.gz`` file.

    Returns
    -------
    numpy.ndarray
        Shape from the file's header, dtype from its type code (uint8 for images and labels).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        raw = stream.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file (header bytes {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    body = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape}, file holds {body.size} values")
    return body.reshape(shape).astype(dtype.newbyteorder("="))


def load_raw(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Full dataset as stored: uint8 images ``(n, h, w, c)`` and int32 labels, train then test.

    Parameters
    ----------
    name
        ``"fashion_mnist"`` or ``"cifar10"``.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}; got {name!r}")
    installed = all((FASHION_MNIST_DIR / f).exists() for f in _IDX_FILES.values())
    if name == "fashion_mnist" and installed:
        arrays = {key: read_idx(FASHION_MNIST_DIR / f) for key, f in _IDX_FILES.items()}
        x_train, y_train, x_test, y_test = (arrays[k] for k in _IDX_FILES)
    else:
        x_train, y_train, x_test, y_test = _keras_download(name)
    if x_train.ndim == 3:
        x_train, x_test = x_train[..., None], x_test[..., None]
    return (x_train, y_train.reshape(-1).astype(np.int32),
            x_test, y_test.reshape(-1).astype(np.int32))


def _keras_download(name: str) -> tuple[np.ndarray, ...]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # offline: urllib, SSL, HTTP errors all mean "cannot download"
        debian = (
            f"the Debian package 'dataset-fashion-mnist' (files under {FASHION_MNIST_DIR}) is "
            "not installed and "
            if name == "fashion_mnist"
            else ""
        )
        raise DatasetUnavailableError(
            f"cannot load {name!r}: {debian}the download keras.datasets.{name}.load_data() "
            f"failed ({type(error).__name__}: {error}). Install the package "
            "(sudo apt-get install dataset-fashion-mnist, or `make data`) or go online."
        ) from error
    return x_train, y_train, x_test, y_test


def permuted_labels(labels: np.ndarray, seed: int) -> np.ndarray:
    """One fixed random relabelling: the labels shuffled among the datapoints by ``seed``.

    The class balance is kept and the label of each datapoint becomes unrelated to its image
    (the memorization setting of Section 3, after Zhang et al. 2017). Same seed, same labels.

    Examples
    --------
    >>> labels = np.arange(10)
    >>> bool((permuted_labels(labels, 1) == permuted_labels(labels, 1)).all())
    True
    >>> sorted(permuted_labels(labels, 1)) == list(labels)
    True
    """
    return labels[np.random.default_rng(seed).permutation(len(labels))]


def load_images(
    name: str = "fashion_mnist",
    *,
    train_subset: int | None = None,
    subset_seed: int = 0,
    random_labels: bool = False,
    label_seed: int = 0,
) -> ImageData:
    """Load a dataset, optionally a fixed training subset, optionally with random labels.

    Parameters
    ----------
    name
        ``"fashion_mnist"`` (offline) or ``"cifar10"`` (the paper's; downloaded by Keras).
    train_subset
        Number of training images to keep (a class-balanced random subset drawn from
        ``subset_seed``), or ``None`` for all. Test data is always complete.
    subset_seed
        Seed of the subset, the same for every network of an experiment.
    random_labels
        Replace the training labels by :func:`permuted_labels` of them (after taking the subset).
    label_seed
        Seed of that permutation: one per group, so every network of a group sees the same labels.

    Returns
    -------
    ImageData

    Examples
    --------
    >>> data = load_images("fashion_mnist", train_subset=100)
    >>> data.x_train.shape, sorted(set(data.y_train.tolist()))
    ((100, 28, 28, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    x_train, y_train, x_test, y_test = load_raw(name)
    if train_subset is not None:
        if isinstance(train_subset, bool) or not isinstance(train_subset, int) or not (
            0 < train_subset <= len(y_train)
        ):
            raise ValueError(
                f"train_subset must be an int in 1..{len(y_train)} or None (all); "
                f"got {train_subset!r}"
            )
        index = _balanced_subset(y_train, train_subset, subset_seed)
    else:
        index = np.arange(len(y_train))
    mean, std = _channel_statistics(x_train)
    labels = y_train[index]
    if random_labels:
        labels = permuted_labels(labels, label_seed)
    return ImageData(
        name=name,
        x_train=_standardise(x_train[index], mean, std),
        y_train=labels,
        x_test=_standardise(x_test, mean, std),
        y_test=y_test,
        train_index=index,
        random_labels=random_labels,
    )


def _balanced_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of ``size`` datapoints, as equal per class as possible, in random order."""
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    counts = np.full(len(classes), size // len(classes))
    counts[: size % len(classes)] += 1
    chosen = np.concatenate([idx[:k] for idx, k in zip(per_class, counts, strict=True)])
    return rng.permutation(chosen)


def _channel_statistics(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 images scaled to [0, 1] (exact, small)."""
    levels = np.arange(256) / 255.0
    means, stds = [], []
    for channel in range(images.shape[-1]):
        counts = np.bincount(images[..., channel].ravel(), minlength=256)
        mean = counts @ levels / counts.sum()
        means.append(mean)
        stds.append(np.sqrt(counts @ (levels - mean) ** 2 / counts.sum()))
    return np.array(means), np.array(stds)


def _standardise(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((images / np.float32(255.0) - mean.astype(np.float32)) / std.astype(np.float32)).astype(
        np.float32
    )
