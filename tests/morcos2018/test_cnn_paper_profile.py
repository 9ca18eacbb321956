"""The paper profile's CNNs are the paper's (Section 3, Appendix A.1; issue 11): CIFAR-10, all
50,000 training images, the 11-layer architecture at the widths of Figure 4 (0.25 to 7), Adam,
batch 32, 100 epochs. Every distinct architecture the profile's notebooks would train (their
training plan) is built here, and the narrowest takes one training step on synthetic images as the
profile compiles it (no download: CIFAR-10 is not available offline), so a profile change that the
model code cannot honour fails here and not after hours on a GPU. (A step at width 7 through XLA
takes minutes on a CPU; the step's code path does not depend on the width.)
"""

from __future__ import annotations

import numpy as np
import pytest

from morcos2018.models import DATASET_SHAPES, PAPER_CHANNELS, build_cnn, conv_layer_names
from morcos2018.plan import training_plan
from morcos2018.training import make_optimizer

pytestmark = pytest.mark.slow  # builds the paper's widths up to 7 (about 1.4 GB of weights)


def _cnn_runs():
    return [run for run in training_plan("paper") if run.experiment == "cnn"]


def test_paper_cnn_runs_use_the_papers_data_and_training():
    runs = _cnn_runs()
    assert runs, "the paper profile plans no CNN"
    for run in runs:
        config = run.config
        assert config["dataset"] == "cifar10", run.label
        if config["train_subset"] is not None:  # Figure 3's dose-response: smaller arms
            assert run.notebooks == ("fig3_memorization",), run.label
            assert config["train_subset"] in (5000, 10000, 25000), run.label
        else:  # all 50,000 images
            assert config["train_subset"] is None, run.label
        assert config["depth"] == 11 and config["batch_size"] == 32, run.label
        assert config["optimizer"]["name"] == "adam", run.label
        assert config["epochs"] == 100, run.label  # at most, where a criterion stops earlier
    widths = {run.config["width"] for run in runs if "fig4_width" in run.notebooks}
    assert widths == {0.25, 0.5, 1.0, 2.0, 4.0, 7.0}
    groups = [run.config for run in runs if "fig3_memorization" in run.notebooks]
    assert {config["random_labels"] for config in groups} == {False, True}
    assert {config["width"] for config in groups} == {1.0}
    sizes = [config["train_subset"] for config in groups]
    assert {size: sizes.count(size) for size in sizes} == {None: 10, 5000: 10, 10000: 10,
                                                           25000: 10}  # 5 + 5 per arm


def test_every_paper_cnn_builds_and_the_narrowest_trains_a_step():
    architectures = sorted({(run.config["width"], run.config["depth"], run.config["dataset"],
                             bool(run.config.get("jit_compile"))) for run in _cnn_runs()})
    rng = np.random.default_rng(0)
    for position, (width, depth, dataset, jit_compile) in enumerate(architectures):
        input_shape, classes = DATASET_SHAPES[dataset]
        model = build_cnn(input_shape, classes, width=width, depth=depth)
        channels = [model.get_layer(name).output.shape[-1] for name in conv_layer_names(depth)]
        assert channels == [max(1, round(c * width)) for c in PAPER_CHANNELS], width
        if position:
            del model
            continue
        model.compile(optimizer=make_optimizer({"name": "adam", "learning_rate": 1e-3}),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      jit_compile=jit_compile)
        x = rng.random((4, *input_shape), dtype=np.float32)
        y = rng.integers(0, classes, 4)
        loss = model.train_on_batch(x, y)
        assert np.isfinite(np.asarray(loss, dtype=float)).all(), width
        del model
