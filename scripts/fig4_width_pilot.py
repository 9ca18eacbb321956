"""One-seed pilot of Figure 4's readings design (issue 25, item 1): training curves only.

Trains (or loads from the cache) network ``--seed`` of the given widths of a profile's Figure 4
table (``images.widths``) for the table's ``epochs``, exactly as the notebook would, and prints
per width and epoch its training loss and accuracy and its test accuracy, the first epoch whose
training accuracy reaches ``criterion_accuracy``, and the seconds it took. No representation is
read: the pilot sizes ``epochs`` (every width must reach the criterion within it) and the cost,
without seeing a distance. Its networks are networks of the run that follows (same configs).

Usage::

    python scripts/fig4_width_pilot.py --profile extended --widths 1.0
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from morcos2018 import cnn_groups
from morcos2018.config import load_profile
from morcos2018.models import family_table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="extended")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--widths", type=float, nargs="+", help="default: the widest")
    args = parser.parse_args(argv)
    profile = load_profile(args.profile)
    table = profile["images"]["widths"]
    fig4 = family_table(profile["images"], "widths")
    criterion = table.get("criterion_accuracy", 0.99)
    for width in args.widths or [max(table["multipliers"])]:
        start = time.perf_counter()
        run = cnn_groups.train_networks(fig4, [args.seed], width=width, epochs=table["epochs"])[0]
        seconds = time.perf_counter() - start
        print(f"\nwidth {width:g} (seed {args.seed}): {run.epochs} epochs in {seconds:.0f} s "
              f"({seconds / max(run.epochs, 1):.1f} s per epoch; 0 if cached)")
        for epoch, record in enumerate(run.history[1:], start=1):
            test = record.get("val_accuracy", np.nan)
            print(f"  epoch {epoch:3d}: loss {record['loss']:.4f}, accuracy "
                  f"{record['accuracy']:.3f}, test accuracy {test:.3f}")
        above = np.flatnonzero(run.metric("accuracy")[1:] >= criterion)
        print(f"  first epoch at training accuracy >= {criterion:g}: "
              f"{int(above[0]) + 1 if len(above) else 'never'}")


if __name__ == "__main__":
    main()
