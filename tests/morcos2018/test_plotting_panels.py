"""The figure panels the notebooks call: what each draws, in which order, with which labels."""

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from morcos2018 import analysis, plotting  # noqa: E402
from morcos2018.plotting import COLOURS  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_coefficients_by_epoch_draws_the_shown_epochs_over_coefficient_index():
    fig, ax = plt.subplots()
    rho = [np.array([0.9, 0.4, 0.1]), np.array([1.0, 0.8, 0.5]), np.ones(3)]
    plotting.plot_coefficients_by_epoch(ax, rho, [0, 2], "1a")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["epoch 0", "epoch 2"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[1].get_ydata(), rho[2])
    assert ax.get_title() == "1a" and ax.get_legend() is not None


def test_direction_stability_shows_mean_and_std_over_networks():
    fig, ax = plt.subplots()
    tracked = [{"top": np.array([0.2, 0.0]), "bottom": np.array([0.8, 0.9])},
               {"top": np.array([0.4, 0.0]), "bottom": np.array([0.6, 0.7])}]
    plotting.plot_direction_stability(ax, tracked, 5, 0, 1)
    top = ax.containers[0]
    np.testing.assert_allclose(top.lines[0].get_ydata(), [0.3, 0.0])
    assert "over 2 networks" in ax.get_title()
    assert len([line for line in ax.get_lines() if line.get_linestyle() == ":"]) == 2


def test_accuracy_over_training_starts_training_at_epoch_1_and_test_at_epoch_0():
    fig, ax = plt.subplots()
    plotting.plot_accuracy_over_training(ax, [[0.5, 0.7], [0.7, 0.9]], [[0.1, 0.4, 0.6]] * 2)
    train, test = ax.containers
    np.testing.assert_array_equal(train.lines[0].get_xdata(), [1, 2])
    np.testing.assert_allclose(train.lines[0].get_ydata(), [0.6, 0.8])
    np.testing.assert_array_equal(test.lines[0].get_xdata(), [0, 1, 2])


def test_width_distances_label_each_stage_on_a_log2_axis():
    fig, ax = plt.subplots()
    values = [SimpleNamespace(mean=0.5, std=0.1), SimpleNamespace(mean=0.3, std=0.05)]
    plotting.plot_width_distances(ax, [0.5, 1.0], {"trained": values, "initialization": values},
                                  "PWCCA distance", "4a",
                                  labels={"initialization": "initialization (appendix A7)"})
    assert ax.get_xscale() == "log"
    assert ax.get_legend_handles_labels()[1] == ["trained", "initialization (appendix A7)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.5", "1"]
    assert ax.get_legend() is None  # the notebook places the legend


def test_accuracy_against_distance_colours_widths_and_marks_their_means():
    fig, ax = plt.subplots()
    width_of = np.array([1.0, 1.0, 2.0, 2.0])
    plotting.plot_accuracy_against_distance(ax, [1.0, 2.0], width_of, np.array([.4, .5, .2, .3]),
                                            np.array([.6, .5, .8, .9]), [0.45, 0.25], -0.87)
    points = ax.collections
    assert len(points) == 3
    np.testing.assert_allclose(points[2].get_offsets(), [[0.45, 0.55], [0.25, 0.85]])
    assert matplotlib.colors.to_hex(points[1].get_facecolor()[0]) == COLOURS[1].lower()
    assert ax.get_title() == "Figure 4b: r = -0.87 over networks"


def test_learning_rate_clusters_order_the_matrix_by_the_dendrogram():
    d = np.array([[0, 0.9, 0.1, 0.9], [0.9, 0, 0.9, 0.1], [0.1, 0.9, 0, 0.9],
                  [0.9, 0.1, 0.9, 0]])
    linkage, order, clusters = analysis.cluster_networks(d, 2)
    rates = np.array([0.1, 0.01, 0.1, 0.01])
    fig = plotting.plot_learning_rate_clusters(linkage, d, order, rates, clusters,
                                               np.array([.5, .6, .7, .8]), [0.1, 0.01])
    matrix = fig.axes[1].get_images()[0].get_array()
    np.testing.assert_array_equal(matrix, d[np.ix_(order, order)])
    assert fig.get_size_inches().tolist() == [12, 5]
    assert fig.axes[2].get_legend_handles_labels()[1] == ["lr 0.1", "lr 0.01"]


def _sequence_curves():
    band = {"steps": [0, 2], "chance_low": [0.7, 0.7], "chance_high": [0.9, 0.9]}
    plain = {layer: {m: np.array([0.6, 0.4, 0.2, 0.0]) for m in ("pwcca_distance",
                                                                  "cosine_distance")}
             for layer in ("lstm1", "lstm2")}
    bands = {layer: {m: band for m in ("pwcca_distance", "cosine_distance")}
             for layer in ("lstm1", "lstm2")}
    return plain, bands


def test_steps_to_last_draws_one_panel_per_measure_one_band_and_curve_per_layer():
    plain, bands = _sequence_curves()
    fig = plotting.plot_steps_to_last(plain, bands, ["lstm1", "lstm2"],
                                      ["pwcca_distance", "cosine_distance"])
    assert [ax.get_title() for ax in fig.axes] == ["PWCCA distance", "cosine distance"]
    for ax in fig.axes:
        assert len(ax.collections) == 2 and len(ax.get_lines()) == 2


def test_repeated_input_draws_a_row_per_start_and_a_column_per_layer():
    plain, bands = _sequence_curves()
    repeated = {start: {layer: np.array([0.6, 0.5, 0.3, 0.0]) for layer in ("lstm1", "lstm2")}
                for start in (0, 1)}
    fig = plotting.plot_repeated_input(plain, bands, repeated, ["lstm1", "lstm2"], 2)
    assert [ax.get_title() for ax in fig.axes] == [
        "lstm1, repeat from step 0", "lstm2, repeat from step 0",
        "lstm1, repeat from step 1", "lstm2, repeat from step 1"]
    assert fig.axes[2].get_ylabel() == "PWCCA to last step"
    assert fig.axes[3].get_xlabel() == "step j"
