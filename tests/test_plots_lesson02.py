"""Lesson 2's figures: each draws what the package computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from attention_course import lookup, plots, scaling


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def bar_heights(ax) -> np.ndarray:
    return np.array([patch.get_height() for patch in ax.patches])


@pytest.mark.parametrize("n", [1, 16])
def test_key_weights_bar_draws_each_weight_and_marks_the_largest(n):
    weights = np.random.default_rng(0).dirichlet(np.ones(n))
    _fig, ax = plt.subplots()
    plots.key_weights_bar(ax, weights, "a title")
    np.testing.assert_allclose(bar_heights(ax), weights)
    colours = [to_hex(patch.get_facecolor()) for patch in ax.patches]
    best = int(np.argmax(weights))  # the argmax of the very array the plot was given: the same bar
    assert colours[best] == "#c44e52"
    assert all(c == "#8da0cb" for i, c in enumerate(colours) if i != best)
    assert ax.get_ylim() == (0, 1)
    assert ax.get_title() == "a title"
    assert ax.get_xlabel() == "key"


def test_attention_heatmap_shows_every_weight_with_its_labels():
    rng = np.random.default_rng(3)
    weights = rng.dirichlet(np.ones(8), size=3)  # (3, 8)
    queries = ["cat piano", "lasagna recipe", "physics"]
    fig = plots.attention_heatmap(weights, queries, lookup.TITLES, "my title")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.texts] == [f"{x:.2f}" for x in weights.ravel()]
    assert [t.get_text() for t in ax.get_yticklabels()] == queries
    assert [t.get_text() for t in ax.get_xticklabels()] == list(lookup.TITLES)
    assert ax.get_title() == "my title"


@pytest.fixture(scope="module")
def table():
    return scaling.measure(num_draws=100)


def test_scaling_measurements_plots_the_table(table):
    fig = plots.scaling_measurements(table)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    for ax, key in zip(fig.axes, ["variance", "entropy", "gradient"]):
        lines = {line.get_label(): line for line in ax.get_lines()}
        unscaled, scaled = lines["unscaled: q·k"], lines["scaled: q·k / √d_k"]
        np.testing.assert_allclose(unscaled.get_xdata(), table["d_k"])
        np.testing.assert_allclose(unscaled.get_ydata(), table[f"{key}_unscaled"])
        np.testing.assert_allclose(scaled.get_ydata(), table[f"{key}_scaled"])
        assert ax.get_xscale() == "log"
        assert ax.get_title()
    assert fig.axes[0].get_yscale() == "log" and fig.axes[2].get_yscale() == "log"
    assert fig.axes[1].get_ylim()[1] > 4  # room above the 4-bit line
    assert any("4 bits" in t.get_text() for t in fig.axes[1].texts)


def test_scaling_measurements_uses_the_number_of_keys_given():
    fig = plots.scaling_measurements(scaling.measure(d_ks=(4, 16), num_keys=8, num_draws=20), num_keys=8)
    assert any("all 8 keys alike: 3 bits" in t.get_text() for t in fig.axes[1].texts)


@pytest.mark.parametrize("d_ks", [(4, 64, 1024), (16,)])
def test_scaling_weights_shows_the_widget_view_at_each_setting(d_ks):
    fig = plots.scaling_weights(d_ks)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * len(d_ks)
    for index, ax in enumerate(fig.axes):
        row, column = divmod(index, len(d_ks))
        scaled, d_k = bool(row), d_ks[column]
        _, weights = scaling.example(d_k, scaled)
        np.testing.assert_allclose(bar_heights(ax), weights)
        title = ax.get_title()
        assert f"d_k = {d_k}," in title
        assert ("scaled by 1/√d_k" in title) == scaled
        assert f"entropy {scaling.entropy_bits(weights):.2f} bits" in title
