"""Pilot for issue 12: does one language model converge under a proposed training recipe?

Trains one model and seed of a profile's ``text.toml`` (by default the ``default`` profile with
the proposed section below merged over it) into its own cache, then prints, per checkpoint, the
learning rate the cosine schedule reached there, the validation perplexity, and each layer's PWCCA
distance to the previous checkpoint on the profile's Figure 6 probe
(:func:`morcos2018.claims.convergence.adjacent_distances`); at the end the verdict of
:func:`morcos2018.claims.convergence.reference_settled` (has every layer stopped moving?).
Use it to size the default profile's LSTM training before switching the profile over: the last
checkpoints' distances must fall well below Figure 6's threshold (0.1) and the 5-layer model's
validation perplexity must not rise at the end (overfitting its reference away).

Proposed ``[training]``, ``[models]`` and ``[convergence]`` of the default profile (not applied;
the keys not named here keep the profile's values)::

    [training]
    epochs = 10                     # passes over the 120k training tokens
    checkpoints_per_epoch = 2       # 20 checkpoints; references: the last 3 (the final 1.5 epochs)
    data_phase = "random_offset"    # each pass from its own offset: no phase saw-tooth
    schedule = { name = "cosine", final_fraction = 0.02 }  # Adam 3e-3 annealed to 6e-5

    [models.lstm3]
    dropout = 0.2

    [models.lstm5]
    dropout = 0.2                   # the 5-layer models overfit after epoch 3 without it

    [convergence]
    seeds = [0, 1, 2]               # 3 seeds per depth: by_depth tests decide (1/216 at best)

    [sequence]
    n_sequences = 2500              # A3/A4: room below the chance level (PWCCA chance 0.60 at 600)

Budget of this proposal (to measure with this script and ``benchmarks/bench_lm.py``): 6 runs x
10 passes = 60 passes against today's 4 x 6 = 24, about 2.5 times today's LSTM training (23 min
for the LSTM notebooks on an idle 2-core CPU, training most of it); if that breaks the default
reproduction's 90 minutes, the LSTM set moves to a larger named profile (issue 12, part 5).

Usage::

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python scripts/lm_convergence_pilot.py \\
        --model lstm5 --seed 0 --cache-dir /tmp/lm-pilot [--set training.epochs=4 ...]

``--set`` takes a dotted key of the ``text`` table and a TOML value (``models.lstm3.dropout=0.3``,
``training.schedule={name="cosine",final_fraction=0.05}``); ``--no-proposed`` uses the profile as
it is. The cache is ``--cache-dir`` (never the shared default cache), so a pilot trains nothing
the notebooks read.

Measured once, on a tiny setting, to prove the script runs (2026-11-29, a 2-core CPU shared with
CNN training): the proposal on a 5-layer model of width 32, 20k training and 5k validation tokens,
4 passes (``--model lstm5 --set corpus.max_train_tokens=20000 --set
corpus.max_valid_tokens=5000 --set training.epochs=4 --set models.lstm5.width=32 --set
convergence.probe_windows=60``), 0.9 min of training::

    ckpt  epoch        lr  val ppl    lstm1   lstm2   lstm3   lstm4   lstm5
       1   0.50  2.89e-03    176.2    0.066   0.212   0.444   0.492   0.549
       2   1.00  2.57e-03    109.4    0.028   0.101   0.166   0.238   0.204
       4   2.00  1.53e-03     98.9    0.011   0.040   0.064   0.059   0.057
       6   3.00  4.91e-04     98.8    0.001   0.023   0.035   0.036   0.031
       8   4.00  6.00e-05     97.1    0.000   0.000   0.000   0.000   0.000

(unigram perplexity 105.1; no overfitting with dropout 0.2). Read with care: an annealed
learning rate makes the last moves vanish whatever the model has learned, so "settled" must be
read next to the validation perplexity's plateau, and Figure 6's sensitivity to the reference
should include references before the learning rate has fallen (e.g. ``references=(-1, -3, -5)``
with 2 checkpoints per epoch), not only the last checkpoints, which the schedule makes alike.
"""

from __future__ import annotations

import argparse
import copy
import time
import tomllib
from typing import Any

import numpy as np

from morcos2018 import lm_probes, lm_training
from morcos2018.claims import convergence
from morcos2018.config import load_profile


def proposed_settings() -> dict[str, Any]:
    """The proposed tables of this module's docstring, parsed (so the text and the run agree)."""
    block = __doc__.split("(not applied;", 1)[1].split("::", 1)[1].split("Budget of", 1)[0]
    return tomllib.loads("\n".join(line[4:] for line in block.splitlines()))


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in, table by table (values replace, tables merge)."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and "name" not in value:
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def dotted(assignment: str) -> dict[str, Any]:
    """``"a.b=1"`` -> ``{"a": {"b": 1}}``, the value read as TOML."""
    key, _, value = assignment.partition("=")
    if not key or not value:
        raise SystemExit(f"--set needs KEY=VALUE (a dotted key of the text table); got "
                         f"{assignment!r}")
    parsed = tomllib.loads(f"value = {value}")["value"]
    for part in reversed(key.split(".")):
        parsed = {part: parsed}
    return parsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--no-proposed", action="store_true",
                        help="use the profile as it is, without the proposed section")
    parser.add_argument("--model", default="lstm3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default="/tmp/cca-lm-pilot")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    settings = load_profile(args.profile)["text"]
    if not args.no_proposed:
        settings = merged(settings, proposed_settings())
    for assignment in args.set:
        settings = merged(settings, dotted(assignment))
    config = lm_training.lm_config(settings, args.model, args.seed)
    print("config:", {key: config[key] for key in ("model", "training", "epochs")})

    start = time.perf_counter()
    run = lm_training.train_lm(config, cache_root=args.cache_dir)
    trained = time.perf_counter() - start
    corpus = lm_training.corpus_from_config(config["corpus"])
    probe_settings = settings["convergence"]
    probe = lm_probes.probe_windows(corpus.valid, probe_settings["probe_windows"],
                                    probe_settings["probe_length"], seed=0)
    representations = lm_probes.probe_representations(run, probe,
                                                      probe_settings["probe_context"])
    moves = convergence.adjacent_distances(representations, "pwcca")

    schedule = config["training"].get("schedule")
    base = float(config["training"]["optimizer"]["learning_rate"])
    epochs = lm_training.checkpoint_epochs(run)
    perplexity = lm_training.validation_perplexity(run)
    layers = list(moves)
    print(f"\n{args.model} seed {args.seed}: trained in {trained / 60:.1f} min; unigram "
          f"perplexity {corpus.unigram_perplexity():.1f}; probe "
          f"{representations[layers[0]][0].shape[0]} positions")
    print(f"{'ckpt':>4} {'epoch':>6} {'lr':>9} {'val ppl':>8}  "
          + " ".join(f"{layer:>7}" for layer in layers) + "   (PWCCA to previous checkpoint)")
    for index in range(run.epochs + 1):
        rate = base if schedule is None else lm_training.annealed_learning_rate(
            base, index / schedule["checkpoints"], schedule.get("final_fraction", 0.0))
        steps = " ".join(
            f"{moves[layer][index - 1]:7.3f}" if index else f"{'':>7}" for layer in layers)
        print(f"{index:4d} {epochs[index]:6.2f} {rate:9.2e} {perplexity[index]:8.1f}  {steps}")
    print()
    print(convergence.reference_settled([moves]).summary())
    final = {layer: float(np.round(series[-1], 3)) for layer, series in moves.items()}
    print("last checkpoint-to-checkpoint PWCCA distance per layer:", final)


if __name__ == "__main__":
    main()
