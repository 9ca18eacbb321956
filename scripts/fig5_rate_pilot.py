"""One-seed pilot of Figure 5's two-arm design (issue 25, item 2): training curves only.

Trains (or loads from the cache) the first network of each learning rate of a profile's Figure 5
table (``images.learning_rates``; seeds by :func:`morcos2018.plan.learning_rate_seeds`) for the
table's ``epochs``, exactly as the notebook would, and prints per rate and epoch its training
loss and accuracy, then the seconds each network took. No representation is read: the pilot sizes
the arms' levels (``equal_loss``: a training loss every rate reaches; ``fixed_epochs``; and
``epochs``, the most any network needs) without seeing a distance. The pilot's networks are the
first networks of the run that follows (same configs, same cache entries).

Usage::

    python scripts/fig5_rate_pilot.py --profile extended
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from morcos2018 import cnn_groups, plan
from morcos2018.config import load_profile
from morcos2018.models import family_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="extended")
    parser.add_argument("--seed", type=int, default=0, help="the network of each rate to train")
    parser.add_argument("--rates", type=float, nargs="*",
                        help="train only these of the table's rates (e.g. to split over workers)")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    table = profile["images"]["learning_rates"]
    fig5 = family_table(profile["images"], "learning_rates")
    rates = [float(rate) for rate in table["values"]]
    seeds_of = plan.learning_rate_seeds(profile, rates, [args.seed])
    rates = [rate for rate in rates if not args.rates or rate in args.rates]
    curves, seconds = {}, {}
    for rate in rates:
        start = time.perf_counter()
        run = cnn_groups.train_networks(fig5, seeds_of[rate], learning_rate=rate,
                                        epochs=table["epochs"])[0]
        seconds[rate] = time.perf_counter() - start
        curves[rate] = run
        print(f"lr {rate:g} (seed {seeds_of[rate][0]}): {run.epochs} epochs in "
              f"{seconds[rate]:.0f} s (0 if cached)", flush=True)
    print("\nepoch  " + "  ".join(f"{rate:>17g}" for rate in rates))
    for epoch in range(1, table["epochs"] + 1):
        cells = []
        for rate in rates:
            record = curves[rate].history[epoch] if epoch <= curves[rate].epochs else {}
            cells.append(f"{record.get('loss', np.nan):8.4f} {record.get('accuracy', np.nan):.3f}"
                         .rjust(17))
        print(f"{epoch:5d}  " + "  ".join(cells))
    print("\n(loss accuracy) per epoch: Keras's training means over the epoch")
    for rate in rates:
        loss = curves[rate].metric("loss")[1:]
        print(f"lr {rate:g}: lowest loss {np.nanmin(loss):.4f} at epoch "
              f"{int(np.nanargmin(loss)) + 1}; final test accuracy "
              f"{curves[rate].history[-1].get('val_accuracy', np.nan):.3f}")


if __name__ == "__main__":
    main()
