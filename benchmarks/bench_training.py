"""Training throughput of the CNN on this machine, and the default profile's CNN training time.

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/bench_training.py [--profile default] [--examples 512]
        [--repeats 2] [--determinism] [--parallel 2]

For every width multiplier the profile's CNN set uses, it times ``fit`` and ``evaluate`` in
examples per second (after a warm-up that traces the graph; best of ``--repeats`` epochs) on two
paths side by side: the model compiled as before, and compiled through XLA
(``jit_compile=True``, the profiles' ``images.jit_compile``), and prints their ratio. Then it
estimates the profile's total CNN training time from an empty cache on both paths: for each
distinct run (equal configs are one cache entry), ``epochs x (train_subset / train rate +
validation_size / eval rate)``. ``--determinism`` also times the base width with
``tf.config.experimental.enable_op_determinism()`` and without it, in alternating fresh processes
(it cannot be switched off), and prints the ratio. ``--parallel N`` times the base width through
XLA in one fresh process alone, then in N fresh processes at once, and prints the ratio of the
summed training rate to the single one: what training N networks at once (``make reproduce``'s
``TRAIN=local:N``) gains on this machine. Numbers depend on what else runs on the CPU: the load
average is printed alongside.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from morcos2018.config import load_profile
from morcos2018.data import DATASET_SHAPES
from morcos2018.models import build_cnn
from morcos2018.plan import training_plan
from morcos2018.training import make_optimizer


def throughput(dataset: str, width: float, depth: int, batch_size: int, examples: int,
               learning_rate: float = 1e-3, jit_compile: bool = False,
               repeats: int = 1) -> tuple[float, float]:
    """(training, evaluation) examples per second of the CNN on random inputs: the best of
    ``repeats`` timed epochs (the least disturbed by other jobs on the machine)."""

    import keras

    keras.utils.set_random_seed(0)  # op determinism refuses unseeded random ops
    shape, classes = DATASET_SHAPES[dataset]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(examples, *shape)).astype("float32")
    y = rng.integers(classes, size=examples).astype("int32")
    model = build_cnn(shape, classes, width=width, depth=depth)
    model.compile(make_optimizer({"name": "adam", "learning_rate": learning_rate}),
                  "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit_compile)
    model.fit(x[: 4 * batch_size], y[: 4 * batch_size], batch_size=batch_size, verbose=0)
    model.evaluate(x[:256], y[:256], batch_size=256, verbose=0)
    train_rate = eval_rate = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=batch_size, verbose=0)
        train_rate = max(train_rate, examples / (time.perf_counter() - start))
        start = time.perf_counter()
        model.evaluate(x, y, batch_size=256, verbose=0)
        eval_rate = max(eval_rate, examples / (time.perf_counter() - start))
    return train_rate, eval_rate


def distinct_runs(profile: str) -> dict[str, dict]:
    """The profile's CNN runs, one per cache key, with the most epochs asked of it: the
    notebooks' own plan (:func:`morcos2018.plan.training_plan`)."""
    return {run.key: run.config for run in training_plan(profile) if run.experiment == "cnn"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--examples", type=int, default=512, help="examples per timed epoch")
    parser.add_argument("--repeats", type=int, default=2,
                        help="timed epochs per width and path; the best counts")
    parser.add_argument("--determinism", action="store_true",
                        help="also time the base width with op determinism (fresh process)")
    parser.add_argument("--parallel", type=int, default=0, metavar="N",
                        help="also time N trainings at once against one (fresh processes)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--deterministic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    images = load_profile(args.profile)["images"]
    if args.child:  # one determinism measurement, in its own process
        if args.deterministic:
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        print(json.dumps(throughput(*json.loads(args.child))))
        return

    runs = distinct_runs(args.profile)
    widths = sorted({config["width"] for config in runs.values()})
    print(f"profile {args.profile!r}: {len(runs)} distinct CNN runs, widths {widths}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rates: dict[bool, dict[float, tuple[float, float]]] = {False: {}, True: {}}
    for width in widths:
        for jit_compile in (False, True):  # side by side, so both see the same load
            rates[jit_compile][width] = throughput(
                images["dataset"], width, images["depth"], images["batch_size"], args.examples,
                jit_compile=jit_compile, repeats=args.repeats)
        (plain, plain_eval), (xla, xla_eval) = rates[False][width], rates[True][width]
        print(f"  width {width:<7g} train {plain:8.1f} ex/s, XLA {xla:8.1f} ex/s "
              f"(x{xla / plain:.2f})   evaluate {plain_eval:8.1f}, XLA {xla_eval:8.1f} ex/s",
              flush=True)
    totals = {path: _training_time(runs, lambda config, r=path_rates: r[config["width"]])
              for path, path_rates in rates.items()}
    configured = _training_time(
        runs, lambda config: rates[bool(config.get("jit_compile"))][config["width"]])
    epochs = sum(config["epochs"] for config in runs.values())
    xla_runs = sum(bool(config.get("jit_compile")) for config in runs.values())
    print(f"estimated CNN training from an empty cache ({epochs} network-epochs at most; runs "
          f"with a training-accuracy criterion stop earlier): {totals[False] / 60:.1f} min as "
          f"compiled before, {totals[True] / 60:.1f} min with XLA "
          f"(x{totals[False] / totals[True]:.2f}); as this profile has it ({xla_runs} of "
          f"{len(runs)} runs through XLA): {configured / 60:.1f} min")
    if args.determinism:
        base = [images["dataset"], images["width"], images["depth"], images["batch_size"],
                args.examples]
        ratios = []
        for _ in range(2):  # alternate fresh processes, so both see the same load
            plain = _child_rate(args.profile, base, deterministic=False)
            deterministic = _child_rate(args.profile, base, deterministic=True)
            ratios.append(deterministic / plain)
            print(f"  width {images['width']:g} train: op determinism {deterministic:.1f} ex/s, "
                  f"without {plain:.1f} ex/s (ratio {ratios[-1]:.2f})", flush=True)
        print(f"op determinism costs a factor {1 / np.mean(ratios):.2f} in training speed")
    if args.parallel > 1:
        base = [images["dataset"], images["width"], images["depth"], images["batch_size"],
                args.examples, 1e-3, True, args.repeats]
        alone = _child_rate(args.profile, base, deterministic=False)
        together = _child_rates(args.profile, base, args.parallel)
        print(f"  width {images['width']:g} train through XLA: one process {alone:.1f} ex/s; "
              f"{args.parallel} at once {' + '.join(f'{r:.1f}' for r in together)} = "
              f"{sum(together):.1f} ex/s")
        print(f"{args.parallel} trainings at once: x{sum(together) / alone:.2f} the examples per "
              "second of one")


def _training_time(runs: dict[str, dict], rates) -> float:
    """Seconds to train every run, validation included; ``rates(config)`` gives a run's
    (training, evaluation) examples per second."""
    total = 0.0
    for config in runs.values():
        train_rate, eval_rate = rates(config)
        train_size = config["train_subset"] or 50000
        validation = config["validation_size"] or 10000
        total += validation / eval_rate + config["epochs"] * (
            train_size / train_rate + validation / eval_rate)
    return total


def _child_rates(profile: str, base: list, count: int) -> list[float]:
    """Training rates of ``count`` measurements run at the same time, each in its own process."""
    command = [sys.executable, __file__, "--profile", profile, "--child", json.dumps(base)]
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
                for _ in range(count)]
    outputs = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise SystemExit("a timing process failed")
    return [json.loads(out.strip().splitlines()[-1])[0] for out in outputs]


def _child_rate(profile: str, base: list, deterministic: bool) -> float:
    command = [sys.executable, __file__, "--profile", profile, "--child", json.dumps(base)]
    if deterministic:
        command.append("--deterministic")
    child = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])[0]


if __name__ == "__main__":
    main()
