"""A profile's groups of CNNs, the probe images they are read on, and their activations.

Which networks does a CNN figure compare, and on which datapoints? Figures 1, 3, 4 and 5 of
Morcos et al. (2018) (Section 3; Appendices A7, A10) each train a group of the paper's CNN
(:mod:`morcos2018.models`) that differ only in seed, labels, width or learning rate, and read
every network's layers on one fixed set of probe images. This module does that for a profile's
``images`` table, so the notebooks do not repeat it:

- :func:`train_networks`: one CNN per seed, trained or loaded through
  :func:`morcos2018.models.train_cnn` and its cache;
- :func:`probe_inputs`: a fixed probe set from the training subset (Figure 3) or the test set
  (Appendix A10);
- :func:`probe_labels`: their labels, true or the memorizing group's relabelling;
- :func:`network_activations`: ``{layer: [one array per network]}`` on that probe, conv layers
  averaged over space, cached next to each network (:func:`morcos2018.activations.
  cached_activations`). These are the input of :mod:`morcos2018.analysis`;
- :func:`dose_response_arms`: Figure 3's two groups at several numbers of training images, read
  on probes of equal size (issue 25, item 3).

Keras and TensorFlow are imported only when a network is trained or read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from morcos2018 import analysis
from morcos2018.activations import cached_activations, probe_indices
from morcos2018.claims import learning_rate, memorization
from morcos2018.data import TRAIN_SIZES
from morcos2018.models import cnn_config, load_cnn_data, train_cnn
from morcos2018.training import TrainedRun


def train_networks(
    images: Mapping[str, Any],
    seeds: Sequence[int],
    *,
    random_labels: bool = False,
    width: float | None = None,
    learning_rate: float | None = None,
    epochs: int | None = None,
) -> list[TrainedRun]:
    """Train (or load from the cache) one CNN per seed, all else as the profile says.

    Parameters
    ----------
    images
        A profile's ``images`` table (``load_profile(name)["images"]``).
    seeds
        One network per seed.
    random_labels, width, learning_rate, epochs
        Overrides of :func:`morcos2018.models.cnn_config`. Networks with equal configs
        (e.g. the generalizing group of Figure 3 and the base width of Figure 4) are trained once;
        asking for more epochs of a cached network extends it.

    Returns
    -------
    list of TrainedRun
        One per seed, in the order of ``seeds``.
    """
    if isinstance(seeds, int) or not len(seeds):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    return [
        train_cnn(cnn_config(images, seed=int(seed), random_labels=random_labels, width=width,
                             learning_rate=learning_rate, epochs=epochs))
        for seed in seeds
    ]


def probe_inputs(
    images: Mapping[str, Any], split: str = "train", size: int | None = None, seed: int = 0
) -> np.ndarray:
    """A fixed probe set of images, from the training subset or the test set.

    The training probe is drawn from the profile's training subset, which generalizing and
    memorizing networks share (only their labels differ), so it is training data for both
    (Figure 3); the test probe is drawn from the test set (Appendix A10).

    Parameters
    ----------
    images
        A profile's ``images`` table.
    split
        ``"train"`` or ``"test"``.
    size
        Number of datapoints; default the table's ``probe_size``.
    seed
        Seed of the draw (the table's ``probe_seed`` is a good choice).

    Returns
    -------
    ndarray, shape (size, height, width, channels)
    """
    return _probe(images, split, size, seed, random_labels=False)[0]


def probe_labels(
    images: Mapping[str, Any],
    split: str = "train",
    size: int | None = None,
    seed: int = 0,
    *,
    random_labels: bool = False,
) -> np.ndarray:
    """The labels of :func:`probe_inputs`' images (same arguments), as a network was trained on
    them: the true classes, or with ``random_labels`` the memorizing group's shared relabelling
    (training split only; test images keep their true classes).

    Figure 3's control uses them to measure how much of a layer lies along its class means
    (:func:`morcos2018.claims.memorization.class_mean_share`).
    """
    return _probe(images, split, size, seed, random_labels=random_labels)[1]


def _probe(
    images: Mapping[str, Any], split: str, size: int | None, seed: int, *, random_labels: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The probe's images and labels: one draw of row indices serves both."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    data = load_cnn_data(cnn_config(images, seed=0, random_labels=random_labels))
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    rows = probe_indices(len(x), int(size or images["probe_size"]), seed)
    return x[rows], y[rows]


def network_activations(
    runs: Sequence[TrainedRun],
    x: np.ndarray,
    layers: Sequence[str],
    *,
    epoch: int | Sequence[int] | None = None,
    probe_name: str = "probe",
) -> dict[str, list[np.ndarray]]:
    """Layers of several networks on the probe ``x``: ``{layer: [one array per network]}``.

    Conv layers are averaged over space (the paper's Figure 3); activations are cached next to
    each network (float32) and returned as float64.

    Parameters
    ----------
    runs
        Trained networks (:func:`train_networks`).
    x
        Probe inputs (:func:`probe_inputs`).
    layers
        Layer names, e.g. ``["conv1", ..., "conv11", "logits", "softmax"]``.
    epoch
        Checkpoint to read (0 is the initialization), or one per network; default each
        network's last.
    probe_name
        Label of the probe in the cache file names.
    """
    epochs = list(epoch) if isinstance(epoch, Sequence) else [epoch] * len(runs)
    if len(epochs) != len(runs):
        raise ValueError(f"epoch must be one checkpoint or one per network ({len(runs)}); "
                         f"found {len(epochs)}")
    per_run = [
        cached_activations(run, x, list(layers), epoch=None if e is None else int(e),
                           probe_name=probe_name, spatial="mean", dtype="float32")
        for run, e in zip(runs, epochs, strict=True)
    ]
    return {layer: [acts[layer].astype(np.float64) for acts in per_run] for layer in layers}


def figure5_readings(runs: Sequence[TrainedRun],
                     table: Mapping[str, Any]) -> tuple[dict[str, list[int]], list[bool] | None]:
    """The checkpoints at which Figure 5 reads its networks, per reading.

    Each network's last epoch (``{"last epoch": ...}``, the default profile's design) unless
    Figure 5's table (``images.learning_rates``) sets ``equal_loss`` and ``fixed_epochs``: then
    the two arms of :data:`morcos2018.claims.learning_rate.ARMS_RULE` (issue 25, item 2),
    ``{"equal training loss": ..., "fixed epochs": ...}``.

    Returns
    -------
    readings : dict
        ``{reading: one epoch per network}``.
    reached : list of bool or None
        Per network, whether its training loss reached ``equal_loss`` (None without the arms).
    """
    if "equal_loss" not in table and "fixed_epochs" not in table:
        return {"last epoch": [run.epochs for run in runs]}, None
    if "equal_loss" not in table or "fixed_epochs" not in table:
        raise ValueError("images.learning_rates must set both equal_loss and fixed_epochs (the "
                         "two arms of Figure 5) or neither")
    arms = [learning_rate.arm_epochs(run.metric("loss")[1:], table["equal_loss"],
                                     table["fixed_epochs"]) for run in runs]
    return ({arm: [each[arm] for each in arms] for arm in ("equal training loss", "fixed epochs")},
            [each["reached"] for each in arms])


def figure4_readings(runs: Sequence[TrainedRun], table: Mapping[str, Any]
                     ) -> tuple[dict[str, list[int]], list[bool]] | None:
    """Figure 4's two readings of networks trained for a fixed budget
    (:data:`morcos2018.claims.width.READINGS_RULE`), if Figure 4's table (``images.widths``)
    sets ``criterion_accuracy`` and ``heldout_probe`` (None if it sets neither):
    ``"fixed epochs"`` (each network's last epoch) and ``"training accuracy criterion"`` (the
    first epoch whose training accuracy is at least ``criterion_accuracy``, else the last), and
    per network whether it reached it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> run = SimpleNamespace(epochs=3, metric=lambda name: np.array([np.nan, 0.5, 0.995, 1.0]))
    >>> figure4_readings([run], {"criterion_accuracy": 0.99, "heldout_probe": 100})
    ({'fixed epochs': [3], 'training accuracy criterion': [2]}, [True])
    >>> figure4_readings([run], {}) is None
    True
    """
    keys = {"criterion_accuracy", "heldout_probe"}
    if not keys & set(table):
        return None
    if not keys <= set(table):
        raise ValueError("images.widths must set both criterion_accuracy and heldout_probe (Figure "
                         "4's two readings on the held-out scale) or neither")
    criterion_accuracy = float(table["criterion_accuracy"])
    reached, criterion = [], []
    for run in runs:
        above = np.flatnonzero(run.metric("accuracy")[1:] >= criterion_accuracy)
        reached.append(bool(len(above)))
        criterion.append(int(above[0] + 1) if len(above) else run.epochs)
    return ({"fixed epochs": [run.epochs for run in runs],
             "training accuracy criterion": criterion}, reached)


def stage_distances(runs: Sequence[TrainedRun], probe: np.ndarray, layer: str,
                    stages: Mapping[str, Sequence[int]], *, filters: int, filter_seed: int,
                    distance: Any, probe_name: str) -> dict[str, np.ndarray]:
    """Figure 4: per stage (a reading, or the initialization), the pairwise distances of
    ``filters`` random channels of ``layer`` (:func:`morcos2018.analysis.subsample_neurons`,
    the same channels at every stage), each network read at its epoch of that stage.

    Returns
    -------
    dict
        ``{stage: (networks, networks) distances}``.
    """
    result = {}
    for stage, epochs in stages.items():
        acts = network_activations(runs, probe, [layer], epoch=list(epochs),
                                   probe_name=probe_name)[layer]
        acts = [analysis.subsample_neurons(a, min(filters, a.shape[1]), filter_seed)
                for a in acts]
        result[stage] = analysis.pairwise_distances(acts, distance)
    return result


def figure5_read(runs: Sequence[TrainedRun], probe: np.ndarray, layer: str,
                 readings: Mapping[str, Sequence[int]], *, n_clusters: int, linkage: str,
                 probe_name: str) -> dict[str, dict[str, Any]]:
    """Figure 5 at each reading of :func:`figure5_readings`: the layer's pairwise PWCCA
    distances, their hierarchical clustering and each network's metrics at its read epoch.

    Returns
    -------
    dict
        ``{reading: {"epochs", "neurons", "distances", "linkage", "order", "clusters",
        "test_accuracy", "train_accuracy", "loss"}}`` (arrays over networks).
    """
    result = {}
    for reading, epochs in readings.items():
        acts = network_activations(runs, probe, [layer], epoch=list(epochs),
                                   probe_name=probe_name)[layer]
        distances = analysis.pairwise_distances(acts, "pwcca_distance")
        tree, order, clusters = analysis.cluster_networks(distances, n_clusters, method=linkage)
        at = [run.history[int(e)] for run, e in zip(runs, epochs, strict=True)]
        result[reading] = {
            "epochs": np.array(epochs), "neurons": acts[0].shape[1], "distances": distances,
            "linkage": tree, "order": order, "clusters": clusters,
            **{name: np.array([record[key] for record in at]) for name, key in (
                ("test_accuracy", "val_accuracy"), ("train_accuracy", "accuracy"),
                ("loss", "loss"))}}
    return result


def training_images(table: Mapping[str, Any]) -> int:
    """The number of training images a table's networks train on: its ``train_subset``, or the
    whole training set for 0 (the paper profile's 50,000 CIFAR-10 images).

    Examples
    --------
    >>> training_images({"dataset": "cifar10", "train_subset": 0})
    50000
    >>> training_images({"dataset": "fashion_mnist", "train_subset": 2000})
    2000
    """
    return int(table["train_subset"]) or TRAIN_SIZES[str(table["dataset"])]


def dose_response_arms(
    tables: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    memorizing_seeds: Sequence[int],
    layers: Sequence[str],
    *,
    epochs: int,
    memorizing_epochs: int,
    probe_seed: int = 0,
) -> dict[int, dict[str, Any]]:
    """Figure 3 at several numbers of training images (issue 25, item 3), one arm per table.

    Each arm trains (or loads) the generalizing networks of ``seeds`` and the memorizing ones of
    ``memorizing_seeds`` on its table's ``train_subset`` images, and reads ``layers`` on a probe
    of its own training images. Every arm's probe has the same size, the smallest arm's number of
    images (at most the tables' ``probe_size``), so that the arms differ only in what the
    networks were trained on, not in how many datapoints the distances see.

    Parameters
    ----------
    tables
        Figure 3's table (:func:`morcos2018.models.family_table` of ``"groups"``) at each
        number of training images (:func:`morcos2018.plan.dose_response_tables`, plus Figure
        3's own).
    seeds, memorizing_seeds
        The two groups' seeds (the same in every arm).
    layers
        Layers to compare (the claim's late layers).
    epochs, memorizing_epochs
        The most epochs of each group (``images.groups``).
    probe_seed
        Seed of each arm's probe draw.

    Returns
    -------
    dict
        ``{n: arm}`` in increasing ``n``; ``arm["distances"]``: ``{layer: (networks, networks)
        PWCCA distance matrix}``, generalizing networks first; ``arm["class_share"]``:
        ``{"generalizing": share, "memorizing": share}``, the share of the layers' variance along
        each network's own labels' class means (:func:`morcos2018.claims.memorization.
        class_mean_share`), mean over ``layers`` and networks; ``arm["probe_size"]``,
        ``arm["epochs"]`` and ``arm["train_accuracy"]`` per network.
    """
    if not tables:
        raise ValueError("tables must name at least one Figure 3 table (one per size).")
    sizes = [training_images(table) for table in tables]
    if min(sizes) < 1 or len(set(sizes)) != len(sizes):
        raise ValueError(f"each table needs its own positive train_subset; found {sizes}.")
    probe_size = min(min(sizes), *(int(table["probe_size"]) for table in tables))
    distance = analysis.distance_function("pwcca_distance")
    arms = {}
    for table in sorted(tables, key=training_images):
        n = training_images(table)
        runs = (train_networks(table, seeds, epochs=epochs)
                + train_networks(table, memorizing_seeds, random_labels=True,
                                 epochs=memorizing_epochs))
        x, true_labels = _probe(table, "train", probe_size, probe_seed, random_labels=False)
        activations = network_activations(runs, x, layers, probe_name=f"train{probe_size}")
        labels = {False: true_labels,
                  True: probe_labels(table, "train", probe_size, probe_seed, random_labels=True)}
        groups = {"generalizing": range(len(seeds)),
                  "memorizing": range(len(seeds), len(runs))}
        arms[n] = {
            "distances": analysis.layerwise_distances(activations, distance),
            "class_share": {
                group: float(np.mean([
                    memorization.class_mean_share(activations[layer][i],
                                                  labels[group == "memorizing"])
                    for layer in layers for i in members]))
                for group, members in groups.items()},
            "probe_size": probe_size,
            "epochs": [run.epochs for run in runs],
            "train_accuracy": [run.history[-1]["accuracy"] for run in runs],
        }
    return arms
