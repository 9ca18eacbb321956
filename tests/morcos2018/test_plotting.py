"""Figure layouts: Figure 3's group profile panel; Figure 6 / A8, one axes per model and measure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from morcos2018 import analysis, plotting  # noqa: E402
from morcos2018.plotting import COLOURS  # noqa: E402

EPOCHS = np.arange(5) / 2
LAYERS = {"lstm3": ["lstm1", "lstm2", "lstm3"], "lstm5": ["lstm1", "lstm2", "lstm3", "lstm4",
                                                          "lstm5"]}


def tiny_curves():
    rng = np.random.default_rng(0)
    return {
        (model, seed): {
            measure: {layer: rng.uniform(0, 1, len(EPOCHS)) for layer in layers}
            for measure in ("pwcca_distance", "mean_cca_distance", "cosine_distance")
        }
        for model, layers in LAYERS.items()
        for seed in (0, 1)
    }


def test_draws_one_line_per_seed_and_layer_in_each_model_and_measure():
    curves = tiny_curves()
    epochs = {run: EPOCHS for run in curves}
    fig = plotting.plot_convergence_curves(curves, epochs, ["pwcca_distance", "mean_cca_distance"])
    axes = np.array(fig.axes).reshape(2, 2)
    for row, model in zip(axes, LAYERS, strict=True):
        for ax, measure in zip(row, ["pwcca_distance", "mean_cca_distance"], strict=True):
            assert ax.get_title() == f"{model}: {plotting.LABELS[measure]}"
            lines = ax.get_lines()
            assert len(lines) == 2 * len(LAYERS[model])
            for line, ((seed, style), (i, layer)) in zip(
                lines,
                [(s, (i, layer)) for s in ((0, "-"), (1, "--"))
                 for i, layer in enumerate(LAYERS[model])],
                strict=True,
            ):
                np.testing.assert_array_equal(line.get_xdata(), EPOCHS)
                np.testing.assert_array_equal(line.get_ydata(), curves[model, seed][measure][layer])
                assert line.get_linestyle() == style
                assert matplotlib.colors.same_color(line.get_color(), COLOURS[i])
            legend = [text.get_text() for text in ax.get_legend().get_texts()]
            assert legend == LAYERS[model]  # the layers once, from the first seed
            assert ax.get_legend().get_title().get_text() == "seed 0 solid, seed 1 dashed"
    plt.close(fig)


def test_refuses_curves_without_the_measure_or_with_the_wrong_length():
    curves = tiny_curves()
    epochs = {run: EPOCHS for run in curves}
    with pytest.raises(ValueError, match="no curves for \\['euclidean_distance'\\]"):
        plotting.plot_convergence_curves(curves, epochs, ["euclidean_distance"])
    with pytest.raises(ValueError, match="one distance per checkpoint"):
        plotting.plot_convergence_curves(curves, {run: EPOCHS[:-1] for run in curves},
                                         ["pwcca_distance"])
    with pytest.raises(ValueError, match="epochs has no entry"):
        plotting.plot_convergence_curves(curves, {}, ["pwcca_distance"])


def test_plot_group_profile_draws_three_series_with_layer_ticks():
    d = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 3], [4, 4, 3, 0]], dtype=float)
    profile = analysis.group_profile({"conv1": d, "conv2": d / 2}, [0, 1], [2, 3])
    fig, ax = plt.subplots()
    plotting.plot_group_profile(ax, profile)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conv1", "conv2"]
    assert len(ax.containers) == 3
    assert [t.get_text() for t in ax.legend().get_texts()] == [
        "generalizing (within)", "memorizing (within)", "generalizing vs memorizing"]
    plt.close(fig)
