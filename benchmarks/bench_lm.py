"""Training throughput of the default-profile LSTM language models on this machine.

Measures tokens/s of stateful truncated-BPTT training (the path of
:func:`morcos2018.lm_training.train_lm`) for each model of the profile's ``text.toml``, side
by side in one run, and from it estimates the training time of the whole RNN set of the profile
(every model x seed of ``[convergence]``, from an empty cache, validation passes included).

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/bench_lm.py [--profile default]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from morcos2018 import lm_training, text
from morcos2018.config import load_profile


def tokens_per_second(settings: dict, model: str, batches: int) -> float:
    """Training tokens/s of one model of the profile, after a warm-up of 5 batches (the model,
    optimizer and callbacks of :func:`morcos2018.lm_training.train_lm`: dropout and the
    learning-rate schedule included where the profile has them)."""
    config = lm_training.lm_config(settings, model, seed=0)
    corpus = lm_training.corpus_from_config(config["corpus"])
    batch_size, seq_len = config["training"]["batch_size"], config["training"]["seq_len"]
    x, y = text.stateful_windows(corpus.train, batch_size, seq_len)
    batches = min(batches, len(x) // batch_size - 5)
    network = lm_training.training_model(config)
    callbacks = lm_training.training_callbacks(config)
    warm = 5 * batch_size
    network.fit(x[:warm], y[:warm], batch_size=batch_size, shuffle=False, verbose=0,
                callbacks=callbacks)
    count = batches * batch_size
    start = time.perf_counter()
    network.fit(x[warm:warm + count], y[warm:warm + count], batch_size=batch_size, shuffle=False,
                verbose=0, callbacks=callbacks)
    return count * seq_len / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--batches", type=int, default=40, help="timed batches per model")
    args = parser.parse_args()
    settings = load_profile(args.profile)["text"]
    convergence = settings["convergence"]
    corpus = lm_training.corpus_from_config(settings["corpus"])
    print(f"profile {args.profile}: {len(corpus.train):,} training + {len(corpus.valid):,} "
          f"validation tokens, vocabulary {len(corpus.vocabulary)}")
    speeds = {}
    for model in convergence["models"]:
        speeds[model] = tokens_per_second(settings, model, args.batches)
        print(f"{model}: {speeds[model]:,.0f} training tokens/s")
    first = convergence["models"][0]
    for model in convergence["models"][1:]:
        print(f"{model} / {first} time per token: {speeds[first] / speeds[model]:.2f}x")
    total = 0.0
    for model in convergence["models"]:
        config = lm_training.lm_config(settings, model, 0)
        checkpoints = config["epochs"]  # the cache counts checkpoints, several per pass
        passes = checkpoints / config["training"].get("checkpoints_per_epoch", 1)
        # a validation pass, at every checkpoint, costs about a third of a training pass per
        # token (forward only)
        per_run = (passes * len(corpus.train) + checkpoints * len(corpus.valid) / 3) / speeds[model]
        total += per_run * len(convergence["seeds"])
        print(f"{model}: {passes:g} epochs ({checkpoints} checkpoints), about "
              f"{per_run / 60:.1f} min per seed")
    print(f"estimated training time of the RNN set ({len(convergence['models'])} models x "
          f"{len(convergence['seeds'])} seeds): {total / 60:.1f} min "
          f"(load average now: {np.round(os.getloadavg(), 1).tolist()})")


if __name__ == "__main__":
    main()
