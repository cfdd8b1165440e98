"""Lesson 4's figures: each draws what the positional module computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from attention_course import plots, positional


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize(("T", "d"), [(100, 64), (20, 8)])
def test_heatmap_shows_the_table(T, d):
    fig = plots.positional_heatmap(T, d)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), positional.sinusoidal_encoding(T, d).numpy(), atol=1e-7)
    assert ax.images[0].get_clim() == (-1, 1)
    assert f"d_model = {d}" in ax.get_title()
    assert len(fig.axes) == 2  # the image and its colour bar


@pytest.mark.parametrize("columns", [(0, 6, 12, 20), (1, 33)])
def test_columns_are_drawn_with_their_wavelengths(columns):
    fig = plots.positional_columns(columns=columns, num_positions=64, d_model=64)
    pe = positional.sinusoidal_encoding(64, 64).numpy()
    lengths = positional.wavelengths(64).numpy()
    assert len(fig.axes) == len(columns)
    for ax, j in zip(fig.axes, columns):
        dots = ax.lines[1]
        np.testing.assert_allclose(dots.get_ydata(), pe[:, j], atol=1e-7)
        np.testing.assert_allclose(dots.get_xdata(), np.arange(64))
        title = ax.get_title(loc="left")
        assert f"dimension {j}: {'sine' if j % 2 == 0 else 'cosine'} of pair {j // 2}" in title
        assert f"wavelength {lengths[j // 2]:.1f} positions" in title


def test_binary_figure_puts_the_counter_next_to_the_encoding():
    fig = plots.binary_vs_sinusoid(num_positions=32, bits=5, d_model=64, columns=10)
    left, right = fig.axes[:2]
    np.testing.assert_array_equal(left.images[0].get_array(), positional.binary_code(32, 5).numpy())
    np.testing.assert_allclose(right.images[0].get_array(), positional.sinusoidal_encoding(32, 64).numpy()[:, :10],
                               atol=1e-7)
    assert "binary" in left.get_title() and "sinusoidal" in right.get_title()


def test_similarity_figure_shows_the_offset_structure():
    fig = plots.position_similarity(num_positions=16, d_model=8, seed=0)
    sinusoidal, learned, scatter = fig.axes[:3]
    pe = positional.sinusoidal_encoding(16, 8, dtype=torch.float64).numpy()
    np.testing.assert_allclose(sinusoidal.images[0].get_array(), pe @ pe.T)
    S = np.asarray(learned.images[0].get_array())
    assert S.shape == (16, 16) and np.allclose(S, S.T)
    # every sinusoidal dot lies on the formula's curve
    dots, _, curve = scatter.lines
    formula = dict(zip(curve.get_xdata(), curve.get_ydata()))  # keyed by offsets, whole numbers: exact
    for k, value in zip(dots.get_xdata(), dots.get_ydata()):
        assert value == pytest.approx(formula[k], abs=1e-9)
    assert curve.get_ydata()[15] == pytest.approx(4.0)  # k = 0: d_model / 2


def test_similarity_figure_is_seeded_and_leaves_the_random_stream_alone():
    torch.manual_seed(5)
    expected = torch.rand(2)
    torch.manual_seed(5)
    a = plots.position_similarity(num_positions=8, d_model=4, seed=1).axes[1].images[0].get_array()
    torch.testing.assert_close(torch.rand(2), expected)
    b = plots.position_similarity(num_positions=8, d_model=4, seed=1).axes[1].images[0].get_array()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("position", "dimension", "offset"), [(0, 1, 0), (96, 63, 31)])
def test_panels_draw_the_widget_state(position, dimension, offset):
    state = positional.positional_state(position, dimension, offset)
    _fig, axes = plt.subplots(1, 3)
    plots.positional_panels(axes, state)
    curve, dots, circle = axes
    np.testing.assert_allclose(curve.lines[0].get_ydata(), state.column)
    assert curve.lines[1].get_xdata()[0] == position and curve.lines[2].get_xdata()[0] == position + offset
    np.testing.assert_allclose(dots.lines[0].get_ydata(), state.dots)
    assert f"at q = {position + offset}: {state.dots[position + offset]:.2f}" in dots.get_title()
    # on the circle, x is the cosine and y the sine of the pair
    points = {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0]) for line in circle.lines[2:]}
    assert points["PE(pos)"] == pytest.approx((state.pair_now[1], state.pair_now[0]))
    assert points["PE(pos + k)"] == pytest.approx((state.pair_shifted[1], state.pair_shifted[0]))
    assert points["M_k·PE(pos)"] == pytest.approx(points["PE(pos + k)"])
    assert f"k·ω_{dimension // 2} = {state.angle:.2f} rad" in circle.get_title()
    # the ring of M_k·PE(pos) sits on PE(pos + k) in the curve panel too
    ring = curve.lines[3]
    assert ring.get_label() == "M_k·PE(pos)"
    assert ring.get_ydata()[0] == pytest.approx(state.column[position + offset])


def test_view_is_the_three_panels_with_one_legend():
    state = positional.positional_state(10, 4, 5)
    fig = plots.positional_view(state)
    assert len(fig.axes) == 3
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["PE(pos)", "PE(pos + k)", "M_k·PE(pos)"]
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), state.dots)


def test_widget_grid_is_the_widget_at_each_setting():
    settings = [(10, 4, 5), (60, 4, 5), (10, 13, 20)]
    fig = plots.positional_widget_grid(settings)
    assert len(fig.axes) == 3 * len(settings)
    for row, (position, dimension, offset) in enumerate(settings):
        state = positional.positional_state(position, dimension, offset)
        curve, dots = fig.axes[3 * row], fig.axes[3 * row + 1]
        np.testing.assert_allclose(curve.lines[0].get_ydata(), state.column)
        np.testing.assert_allclose(dots.lines[0].get_ydata(), state.dots)
        assert curve.get_ylabel() == f"pos {position}, dim {dimension}, k {offset}"
    assert len(fig.legends) == 1  # one legend for the whole grid
    # rows 1 and 2 differ in position only: the same dot product at the same offset, printed to 2 decimals
    for ax in (fig.axes[1], fig.axes[4]):
        assert float(ax.get_title().split(": ")[1]) == pytest.approx(positional.dot_product_at_offset(5, 64), abs=0.005)


def test_figures_can_be_saved(tmp_path):
    figures = [plots.positional_heatmap(), plots.positional_columns(), plots.binary_vs_sinusoid(),
               plots.position_similarity(), plots.positional_widget_grid()]
    for fig in figures:
        path = tmp_path / "figure.png"
        fig.savefig(path)
        assert path.stat().st_size > 1000
