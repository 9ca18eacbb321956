"""Which networks does a profile's batch train? The training plan of ``cca-reproduce --plan``.

Each notebook that trains decides its networks from the profile and its parameters (the cell tagged
``parameters``). :data:`NOTEBOOK_RUNS` repeats that decision, one function per notebook, so the runs
can be listed, costed and trained elsewhere (``cca-reproduce --cluster``, see
:mod:`morcos2018.sweep`) before the notebooks run; the notebooks then find every run in the
cache and train nothing. ``tests/morcos2018/test_sweep.py`` checks exactly this for the smoke
profile: after the plan is trained, the notebooks load every network and train none. A notebook this
module does not know (your own, in ``--notebooks-dir``) is planned as training nothing; it trains
what it needs itself when it runs.

The plan merges equal runs: configs with the same cache key (:func:`morcos2018.training.
run_key`, the config without its ``epochs``) are one run, trained to the most epochs any notebook
asks; a notebook asking fewer loads the first epochs of it.

The cost of a run is an estimate of its floating-point operations: multiply-adds of one forward pass
(the CNN's convolutions and classifier; the LSTM's gates and output layer) times 2 for a forward
pass and times 6 for a training step (forward and backward), over the training examples of every
epoch, plus the validation pass after every epoch and at epoch 0. A run trained to a criterion
(``config["until"]``) is costed at its maximum epochs. It ranks runs and sizes a sweep; the sweep
measures the time per operation as runs finish.

The time a plan will take here is estimated from the cache itself (:func:`measured_rates`): the
seconds per TFLOP at which the runs already cached trained on this machine, per experiment (CNN
or language model), from the modification times of their checkpoint files. With no cached run of
a kind, its time is unknown and the table says so.

Example
-------
>>> plan = training_plan("smoke")
>>> len(plan), sorted({run.experiment for run in plan})
(18, ['cnn', 'language_model'])
>>> lstm3 = next(run for run in plan if run.label.startswith("3-layer LSTM"))
>>> lstm3.notebooks
('fig1_lm_dynamics', 'fig6_rnn_convergence', 'figA3_A4_sequence')
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from morcos2018.cache import (
    UNREADABLE,
    CacheRefusedError,
    cache_dir,
    canonical_json,
    has_epochs,
    intact_manifest,
    run_key,
)
from morcos2018.config import load_profile
from morcos2018.data import DATASET_SHAPES, TRAIN_SIZES
from morcos2018.lm_training import lm_config
from morcos2018.models import cnn_channels, cnn_config, cnn_label, family_table

Config = dict[str, Any]

#: Images of each dataset's test set (a CNN config's ``validation_size`` of ``None``).
TEST_SIZES = {"fashion_mnist": 10_000, "cifar10": 10_000}
#: Tokens (words and ``<eos>``) of each corpus's training and validation streams, for the cost of a
#: config without ``max_train_tokens`` / ``max_valid_tokens``; approximate, for estimates only.
CORPUS_TOKENS = {"ptb": (929_589, 73_760), "wikitext2": (2_088_628, 217_646),
                 "fortunes": (526_000, 28_000)}
#: Strides of the paper's CNN blocks (as :func:`morcos2018.models.build_cnn`).
_STRIDES = (1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1)


# --------------------------------------------------------------------------- seed rules
# The rules that give each network its seed, shared by the plan below and by the notebooks, so a
# notebook and ``cca-reproduce --plan`` cannot disagree on which networks a figure trains.


def network_seeds(seeds: Sequence[int] | None, networks: int) -> list[int]:
    """The seeds of a group of networks: ``seeds`` as given, else ``0, 1, ..., networks - 1``.

    Parameters
    ----------
    seeds : sequence of int or None
        A notebook's ``seeds`` parameter.
    networks : int
        How many networks when ``seeds`` is ``None``.

    Returns
    -------
    list of int

    Examples
    --------
    >>> network_seeds(None, 3), network_seeds((5, 7), 3)
    ([0, 1, 2], [5, 7])
    """
    return list(seeds) if seeds is not None else list(range(networks))


def memorizing_seeds(profile: Mapping[str, Any], seeds: Sequence[int]) -> list[int]:
    """Figure 3's memorizing networks: the generalizing seeds offset by
    ``cnn.fig3.memorizing_seed_offset``, so no pair of the two groups shares an initialization.

    Parameters
    ----------
    profile : mapping
        A loaded profile (:func:`morcos2018.config.load_profile`).
    seeds : sequence of int
        The generalizing networks' seeds.

    Returns
    -------
    list of int

    Examples
    --------
    >>> memorizing_seeds(load_profile("smoke"), [0, 1])
    [1000, 1001]
    """
    offset = profile["cnn"]["fig3"]["memorizing_seed_offset"]
    return [seed + offset for seed in seeds]


def learning_rate_seeds(profile: Mapping[str, Any], learning_rates: Sequence[float],
                        seeds: Sequence[int]) -> dict[float, list[int]]:
    """Figure 5's seeds per learning rate: the base rate of Figure 5's table keeps ``seeds``,
    the ``i``-th rate offsets them by ``(i + 1) x cnn.fig5.seed_offset``.

    Parameters
    ----------
    profile : mapping
        A loaded profile (:func:`morcos2018.config.load_profile`).
    learning_rates : sequence of float
        The learning rates, in the notebook's order.
    seeds : sequence of int
        The seeds of the networks of one learning rate.

    Returns
    -------
    dict
        ``{learning rate: its seeds}``.

    Examples
    --------
    >>> profile = load_profile("smoke")
    >>> base = family_table(profile["images"], "learning_rates")["learning_rate"]
    >>> learning_rate_seeds(profile, [base], [0, 1])[base]
    [0, 1]
    """
    offset = profile["cnn"]["fig5"]["seed_offset"]
    base = family_table(profile["images"], "learning_rates")["learning_rate"]
    return {rate: seeds if rate == base else [seed + offset * (i + 1) for seed in seeds]
            for i, rate in enumerate(learning_rates)}


def lm_dynamics_units(model: str, seed: int, models: Sequence[str],
                      seeds: Sequence[int]) -> list[tuple[str, int]]:
    """Figure 1 b, e's networks: the panels' ``(model, seed)`` first, then every model and seed
    of the convergence runs, each once.

    Parameters
    ----------
    model, seed
        The network shown in the panels.
    models, seeds
        The convergence runs, the units of the checks.

    Returns
    -------
    list of (str, int)

    Examples
    --------
    >>> lm_dynamics_units("lstm3", 0, ["lstm3", "lstm5"], [0, 1])
    [('lstm3', 0), ('lstm3', 1), ('lstm5', 0), ('lstm5', 1)]
    """
    return list(dict.fromkeys([(model, seed), *((m, s) for m in models for s in seeds)]))


# --------------------------------------------------------------------------- per notebook
# Each function resolves the notebook's parameters exactly as its parameters and set-up cells do
# (``None`` takes the profile's value), and returns the configs its training cells pass to
# cnn_groups.train_networks (which calls cnn_config) or lm_training.train_lm.


def fig1_cnn_dynamics(profile: Mapping[str, Any], seeds: Sequence[int] | None = None,
                      epochs: int | None = None) -> list[Config]:
    """Figure 1 a, d: networks of the base ``images`` table with per-epoch checkpoints
    (``[dynamics]``: ``networks``, ``epochs``)."""
    images = profile["images"]
    seeds = network_seeds(seeds, images["dynamics"]["networks"])
    epochs = epochs or images["dynamics"]["epochs"]
    return [cnn_config(images, seed=int(seed), epochs=epochs) for seed in seeds]


def fig3_memorization(profile: Mapping[str, Any], networks: int | None = None,
                      seeds: Sequence[int] | None = None) -> list[Config]:
    """Figure 3: generalizing and memorizing groups on Figure 3's own table (``[groups]``);
    the memorizing seeds are offset by ``cnn.fig3.memorizing_seed_offset``. Then the same groups
    at each other number of training images of ``[groups] dose_response``, if the profile sets
    it (:func:`dose_response_tables`)."""
    images = profile["images"]
    groups = images["groups"]
    seeds = network_seeds(seeds, networks or groups["networks"])
    configs = []
    for table in [family_table(images, "groups"), *dose_response_tables(profile)]:
        configs += [cnn_config(table, seed=int(s), epochs=groups["epochs"]) for s in seeds]
        configs += [cnn_config(table, seed=int(s), random_labels=True,
                               epochs=groups["memorizing_epochs"])
                    for s in memorizing_seeds(profile, seeds)]
    return configs


def dose_response_tables(profile: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Figure 3's table at each number of training images of ``images.groups.dose_response``
    other than its own ``train_subset`` (issue 25, item 3), in increasing order; empty when the
    profile sets none. Every other key is Figure 3's, so equal sizes are equal cache entries
    (the extended profile's 2,000 are the default profile's Figure 3 networks).

    Examples
    --------
    >>> from morcos2018.config import load_profile
    >>> [t["train_subset"] for t in dose_response_tables(load_profile("extended"))]
    [1000, 2000]
    >>> dose_response_tables(load_profile("default"))
    []
    """
    images = profile["images"]
    own = family_table(images, "groups")
    return [{**own, "train_subset": int(n)}
            for n in sorted(set(images["groups"].get("dose_response", [])))
            if int(n) != own["train_subset"]]


def fig4_width(profile: Mapping[str, Any], widths: Sequence[float] | None = None,
               networks: int | None = None, seeds: Sequence[int] | None = None) -> list[Config]:
    """Figure 4: the same seeds at every width multiplier of ``[widths]``, on Figure 4's own
    table (its stopping rule, if it sets one)."""
    images = profile["images"]
    table = images["widths"]
    fig4 = family_table(images, "widths")
    widths = [float(w) for w in (widths or table["multipliers"])]
    seeds = network_seeds(seeds, networks or table["networks"])
    return [cnn_config(fig4, seed=int(s), width=w, epochs=table["epochs"])
            for w in widths for s in seeds]


def fig5_learning_rate(profile: Mapping[str, Any], learning_rates: Sequence[float] | None = None,
                       networks: int | None = None,
                       seeds: Sequence[int] | None = None) -> list[Config]:
    """Figure 5: networks per learning rate on Figure 5's own table (``[learning_rates]``); the
    base rate keeps the seeds, rate ``i`` offsets them by ``(i + 1) x cnn.fig5.seed_offset``."""
    images = profile["images"]
    table = images["learning_rates"]
    fig5 = family_table(images, "learning_rates")
    learning_rates = [float(v) for v in (learning_rates or table["values"])]
    seeds = network_seeds(seeds, networks or table["networks"])
    seeds_of = learning_rate_seeds(profile, learning_rates, seeds)
    return [cnn_config(fig5, seed=int(s), learning_rate=rate, epochs=table["epochs"])
            for rate in learning_rates for s in seeds_of[rate]]


def fig1_lm_dynamics(profile: Mapping[str, Any], model: str | None = None,
                     seed: int | None = None, models: Sequence[str] | None = None,
                     seeds: Sequence[int] | None = None) -> list[Config]:
    """Figure 1 b, e: the panels' language model (``text.dynamics``), then the convergence
    models and seeds (``text.convergence``) that are the units of its checks."""
    settings = profile["text"]
    dynamics, convergence = settings["dynamics"], settings["convergence"]
    model = model or dynamics["model"]
    seed = dynamics["seed"] if seed is None else seed
    models = models or convergence["models"]
    seeds = convergence["seeds"] if seeds is None else seeds
    return [lm_config(settings, m, s) for m, s in lm_dynamics_units(model, seed, models, seeds)]


def fig6_rnn_convergence(profile: Mapping[str, Any], models: Sequence[str] | None = None,
                         seeds: Sequence[int] | None = None) -> list[Config]:
    """Figure 6, A1, A8: every model and seed of ``text.convergence``."""
    settings = profile["text"]
    convergence = settings["convergence"]
    models = models or convergence["models"]
    seeds = seeds or convergence["seeds"]
    arms = [settings] + ([arm_settings(settings)] if "arm_final_fraction" in convergence else [])
    return [lm_config(table, m, s) for table in arms for m in models for s in seeds]


def arm_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The ``text`` table of Figure 6's arm whose learning rate does not vanish (issue 25, item
    4): the profile's, with the cosine schedule ending at ``convergence.arm_final_fraction`` of
    the rate instead of the profile's ``final_fraction`` (1 is a constant rate).

    Examples
    --------
    >>> from morcos2018.config import load_profile
    >>> text = load_profile("default")["text"]
    >>> text["training"]["schedule"]["final_fraction"]
    0.02
    >>> arm_settings({**text, "convergence": {**text["convergence"], "arm_final_fraction": 0.5}}
    ...              )["training"]["schedule"]
    {'name': 'cosine', 'final_fraction': 0.5}
    """
    fraction = settings["convergence"].get("arm_final_fraction")
    if fraction is None:
        raise ValueError("text.convergence sets no arm_final_fraction: the profile has no arm "
                         "of Figure 6 with a learning rate that does not vanish")
    training = settings["training"]
    schedule = {**training.get("schedule", {"name": "cosine"}), "final_fraction": float(fraction)}
    return {**settings, "training": {**training, "schedule": schedule}}


def figA3_A4_sequence(profile: Mapping[str, Any], model: str | None = None,
                      seed: int | None = None) -> list[Config]:
    """Appendix A3, A4: one language model (``text.sequence``)."""
    settings = profile["text"]
    sequence = settings["sequence"]
    model = model or sequence["model"]
    seed = sequence["seed"] if seed is None else seed
    return [lm_config(settings, model, seed)]


#: The notebooks that train, by stem, and the function that lists their runs. The toy notebooks
#: (Figure 2, A2) train nothing.
NOTEBOOK_RUNS: dict[str, Callable[..., list[Config]]] = {
    "fig1_cnn_dynamics": fig1_cnn_dynamics,
    "fig1_lm_dynamics": fig1_lm_dynamics,
    "fig3_memorization": fig3_memorization,
    "fig4_width": fig4_width,
    "fig5_learning_rate": fig5_learning_rate,
    "fig6_rnn_convergence": fig6_rnn_convergence,
    "figA3_A4_sequence": figA3_A4_sequence,
}


def notebook_configs(notebook: str, profile: Mapping[str, Any],
                     parameters: Mapping[str, Any] | None = None) -> list[Config]:
    """The configs a notebook trains under a loaded profile and its parameters (``-p``
    overrides; the batch's ``profile``, ``figures_dir`` and such are ignored); empty for a
    notebook that trains nothing or that this module does not know."""
    runs = NOTEBOOK_RUNS.get(notebook)
    if runs is None:
        return []
    taken = inspect.signature(runs).parameters
    return runs(profile, **{name: value for name, value in (parameters or {}).items()
                            if name in taken and name != "profile"})


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlannedRun:
    """One network of the plan: its config (with the most epochs asked of it) and who asks."""

    config: Config
    notebooks: tuple[str, ...]

    @property
    def key(self) -> str:
        """The run's cache key (:func:`morcos2018.cache.run_key`)."""
        return run_key(self.config)

    @property
    def epochs(self) -> int:
        return int(self.config["epochs"])

    @property
    def experiment(self) -> str:
        return str(self.config["experiment"])

    @property
    def label(self) -> str:
        """How the run is named in progress and in the plan's table."""
        if self.experiment == "cnn":
            return cnn_label(self.config)
        model = self.config["model"]
        return f"{model['layers']}-layer LSTM seed {self.config['seed']} (width {model['width']})"

    @property
    def flops(self) -> float:
        """Estimated floating-point operations of training it from scratch (module docstring)."""
        return training_flops(self.config)

    def cached_epochs(self, cache_root: str | Path | None = None) -> int:
        """Epochs of this run intact in the cache (0 if none); read-only, takes no lock. A run
        stopped at its criterion counts as all its epochs."""
        try:
            manifest = intact_manifest(cache_dir(cache_root) / "runs" / self.key)
        except (*UNREADABLE, CacheRefusedError):
            return 0
        return self.epochs if has_epochs(manifest, self.epochs) else manifest["epochs_done"]


def training_plan(
    profile: str | Path | Mapping[str, Any],
    notebooks: Iterable[str] | None = None,
    parameters: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[PlannedRun]:
    """Every distinct network the notebooks train under a profile, most costly first.

    Parameters
    ----------
    profile
        A profile name or folder (:func:`morcos2018.config.load_profile`), or a loaded one.
    notebooks
        Notebook stems; default every notebook of :data:`NOTEBOOK_RUNS`.
    parameters
        ``{stem: {name: value}}``, the parameter overrides each notebook gets (``-p``).

    Returns
    -------
    list of PlannedRun
        One per cache key, with the most epochs any notebook asks and the notebooks asking.
    """
    loaded = profile if isinstance(profile, Mapping) else load_profile(profile)
    merged: dict[str, tuple[Config, list[str]]] = {}
    for notebook in NOTEBOOK_RUNS if notebooks is None else notebooks:
        for config in notebook_configs(notebook, loaded, (parameters or {}).get(notebook)):
            config = json.loads(canonical_json(config))
            key = run_key(config)
            known, askers = merged.setdefault(key, (config, []))
            if config["epochs"] > known["epochs"]:
                merged[key] = (config, askers)
            if notebook not in askers:
                askers.append(notebook)
    runs = [PlannedRun(config, tuple(askers)) for config, askers in merged.values()]
    return sorted(runs, key=lambda run: -run.flops)


def training_flops(config: Mapping[str, Any]) -> float:
    """Estimated floating-point operations of training a CNN or language-model config from
    scratch, validation passes included (see the module docstring).

    Examples
    --------
    The paper's CNN (width 1) on all of CIFAR-10 for 100 epochs, validated on the whole test
    set after every epoch:

    >>> from morcos2018.models import cnn_config
    >>> images = {"dataset": "cifar10", "train_subset": 0, "width": 1.0, "depth": 11,
    ...           "learning_rate": 1e-3, "batch_size": 32, "epochs": 100, "validation_size": 0}
    >>> f"{training_flops(cnn_config(images, seed=0)) / 1e15:.1f} PFLOP"
    '10.3 PFLOP'
    """
    epochs = int(config["epochs"])
    if config["experiment"] == "cnn":
        macs = _cnn_macs(config)
        train = config["train_subset"] or TRAIN_SIZES[config["dataset"]]
        validation = config["validation_size"] or TEST_SIZES[config["dataset"]]
        return 2 * macs * validation + epochs * (6 * macs * train + 2 * macs * validation)
    corpus, model = config["corpus"], config["model"]
    known_train, known_valid = CORPUS_TOKENS.get(corpus["name"], (0, 0))
    train = corpus.get("max_train_tokens") or known_train
    validation = corpus.get("max_valid_tokens") or known_valid
    macs = _lstm_macs(int(corpus["vocab_size"]), int(model["layers"]), int(model["width"]),
                      model.get("embedding_dim"))
    per_epoch = int(config["training"].get("checkpoints_per_epoch", 1))
    return 2 * macs * validation + epochs * (6 * macs * train / per_epoch + 2 * macs * validation)


def _cnn_macs(config: Mapping[str, Any]) -> float:
    """Multiply-adds of one image through the CNN (3x3 convolutions, 'same' padding, and the
    classifier)."""
    (height, width, channels), classes = DATASET_SHAPES[config["dataset"]]
    depth = int(config["depth"])
    strides = list(_STRIDES[:depth]) + [1] * max(0, depth - len(_STRIDES))
    macs = 0.0
    for out_channels, stride in zip(cnn_channels(config["width"], depth), strides, strict=True):
        height, width = math.ceil(height / stride), math.ceil(width / stride)
        macs += height * width * 9 * channels * out_channels
        channels = out_channels
    return macs + channels * classes


def _lstm_macs(vocab: int, layers: int, width: int, embedding: int | None) -> float:
    """Multiply-adds of one token through the LSTM stack (four gates per layer) and the output
    layer."""
    inputs = [embedding or width] + [width] * (layers - 1)
    return sum(4 * width * (size + width) for size in inputs) + width * vocab


# --------------------------------------------------------------------------- the time it takes


def measured_rates(cache_root: str | Path | None = None) -> dict[str, tuple[float, int]]:
    """Seconds per TFLOP at which the cached runs trained, per experiment: ``{experiment:
    (seconds per TFLOP, runs timed)}``.

    A run's time is the span between the modification times of its first and last checkpoint
    files (``epoch_*.npz``; written as training goes, so the span covers the epochs between them,
    the first epoch's compilation included, but not loading the data); its operations are
    :func:`training_flops` times the share of its epochs in that span. The rate of an experiment
    is its runs' total time over their total TFLOP: what training took here, as those runs were
    trained (on as many workers at once as they were). Runs whose files were copied (a span under
    a tenth of a second per epoch) are left out.

    Examples
    --------
    >>> measured_rates("/nonexistent")
    {}
    """
    totals: dict[str, list[float]] = {}
    for entry in sorted((cache_dir(cache_root) / "runs").glob("*/manifest.json")):
        try:
            config = json.loads(entry.read_text(encoding="utf-8"))["config"]
            times = sorted(path.stat().st_mtime for path in entry.parent.glob("epoch_*.npz"))
            epochs = int(config["epochs"])
            flops = training_flops(config)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        spanned = len(times) - 1
        if spanned < 1 or epochs < 1 or times[-1] - times[0] < 0.1 * spanned:
            continue
        seconds_and_flops = totals.setdefault(str(config["experiment"]), [0.0, 0.0, 0])
        seconds_and_flops[0] += times[-1] - times[0]
        seconds_and_flops[1] += flops * min(1.0, spanned / epochs) / 1e12
        seconds_and_flops[2] += 1
    return {kind: (seconds / tflop, int(runs)) for kind, (seconds, tflop, runs) in totals.items()
            if tflop > 0}


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


# --------------------------------------------------------------------------- the table


def plan_records(plan: Sequence[PlannedRun],
                 cache_root: str | Path | None = None) -> list[dict[str, Any]]:
    """The plan as JSON-able records (``cca-reproduce --plan json``): key, label, epochs,
    epochs in the cache, status (``cached``, ``partial`` or ``to train``), estimated TFLOP
    left to train, estimated seconds left at this machine's measured rate
    (:func:`measured_rates`; ``None`` where no run of the kind is cached), notebooks and
    config."""
    rates = measured_rates(cache_root)
    records = []
    for run in plan:
        cached = run.cached_epochs(cache_root)
        status = "cached" if cached >= run.epochs else "partial" if cached else "to train"
        left = run.flops * (1 - cached / run.epochs) if run.epochs else 0.0
        rate = rates.get(run.experiment)
        seconds = 0.0 if not left else None if rate is None else left / 1e12 * rate[0]
        records.append({"key": run.key, "label": run.label, "epochs": run.epochs,
                        "cached_epochs": cached, "status": status,
                        "tflop_left": round(left / 1e12, 4),
                        "seconds_left": None if seconds is None else round(seconds, 1),
                        "notebooks": list(run.notebooks), "config": run.config})
    return records


def format_plan(records: Sequence[Mapping[str, Any]], profile: str, cache: Path) -> str:
    """The plan as a table for people (``cca-reproduce --plan``)."""
    counts = {status: sum(r["status"] == status for r in records)
              for status in ("cached", "partial", "to train")}
    left = sum(r["tflop_left"] for r in records)
    seconds = [r.get("seconds_left") for r in records]
    known = sum(s for s in seconds if s is not None)
    unknown = sum(s is None for s in seconds)
    time_text = (f"~{_clock(known)} on one worker at the rate the cached runs trained here"
                 + (f" ({unknown} runs of a kind not yet timed: more)" if unknown else ""))
    lines = [
        f"training plan of profile {profile}: {len(records)} runs ({counts['cached']} cached, "
        f"{counts['partial']} partial, {counts['to train']} to train), ~{left:.3g} TFLOP to "
        f"train, {time_text}; cache {cache}",
        f"{'key':20}  {'epochs':>6}  {'status':13}  {'~TFLOP':>8}  {'~time':>12}  run; notebooks",
    ]
    for r in records:
        status = r["status"] if r["status"] != "partial" else f"partial {r['cached_epochs']}"
        lines.append(f"{r['key']:20}  {r['epochs']:>6}  {status:13}  {r['tflop_left']:>8.3g}  "
                     f"{_clock(r.get('seconds_left')):>12}  {r['label']}; "
                     f"{', '.join(r['notebooks'])}")
    return "\n".join(lines)
