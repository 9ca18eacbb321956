"""Appendix A7 investigation: PWCCA distance between untrained CNNs of one width, against width.

The default profile's Figure 4 check finds a width trend already at initialization (A7 says there
is none). This measures it beyond the profile's widths (1/32 .. 1/4) and with more filters: three
random networks per width (seeds 0-2, the default profile's architecture and 500 probe images),
mean pairwise PWCCA distance (both orders averaged, as in the Figure 4 notebook) of the last conv
layer (space-averaged) on 16, 64 and 128 random filters. Forward passes only; about 30 s on 2
cores.

Measured (2026-11-28), 16 filters: 0.665, 0.664, 0.667, 0.494, 0.378, 0.364 at widths 1/32, 1/16,
1/8, 1/4, 1/2, 1 (the first four equal the Figure 4 notebook's initialization values); 128
filters: 0.376, 0.312, 0.311 at widths 1/4, 1/2, 1. The fall stops at width 1/2.

Usage: python scripts/a7_init_width.py
"""
import time

import keras
import numpy as np

from morcos2018 import activations, analysis, cnn_groups, models, stats
from morcos2018.config import load_profile

images = load_profile("default")["images"]
probe = cnn_groups.probe_inputs(images, "train", 500, images["probe_seed"])
widths = [0.03125, 0.0625, 0.125, 0.25, 0.5, 1.0]
seeds = [0, 1, 2]
for w in widths:
    acts = []
    start = time.time()
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        model = models.build_cnn(probe.shape[1:], 10, width=w, depth=images["depth"])
        out = activations.layer_activations(model, probe, ["conv11"], spatial="mean")["conv11"]
        acts.append(np.asarray(out, dtype=np.float64))
    line = [f"width {w:<8g} channels {acts[0].shape[1]:4d}"]
    for k in (16, 64, 128):
        if k > acts[0].shape[1]:
            continue
        sub = [analysis.subsample_neurons(a, k, 0) for a in acts]
        pairs = stats.within_group(analysis.pairwise_distances(sub, "pwcca"), range(len(seeds)))
        line.append(f"{k} filters: {pairs.mean:.3f}")
    print("  ".join(line) + f"  ({time.time() - start:.0f}s)", flush=True)
