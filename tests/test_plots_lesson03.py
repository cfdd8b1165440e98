"""Lesson 3's figures: each draws what the self_attention module computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from attention_course import plots
from attention_course import self_attention as sa

TOKENS = sa.tokenize(sa.SENTENCE)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def bar_widths(ax) -> np.ndarray:
    return np.array([patch.get_width() for patch in ax.patches])


@pytest.mark.parametrize(("T_q", "T_k"), [(4, 4), (1, 5)])
def test_attention_matrix_ax_shows_every_weight(T_q, T_k):
    weights = np.random.default_rng(T_q).dirichlet(np.ones(T_k), size=T_q)
    _fig, ax = plt.subplots()
    rows, columns = [f"q{i}" for i in range(T_q)], [f"k{j}" for j in range(T_k)]
    plots.attention_matrix_ax(ax, weights, rows, columns, "a title")
    np.testing.assert_allclose(ax.images[0].get_array(), weights)
    assert [t.get_text() for t in ax.texts] == [f"{w:.2f}" for w in weights.flat]
    assert [t.get_text() for t in ax.get_xticklabels()] == columns
    assert [t.get_text() for t in ax.get_yticklabels()] == rows
    assert ax.get_title() == "a title"


def test_attention_maps_accept_tensors_and_draw_one_panel_each():
    designed = sa.attention_over_sentence("hand-designed")
    random_ = sa.attention_over_sentence("random", seed=0)
    fig = plots.attention_maps([(designed, TOKENS, TOKENS, "designed"), (random_, TOKENS, TOKENS, "random")], "both")
    assert isinstance(fig, Figure)
    assert len(plots.panels(fig)) == 2
    for ax, weights, title in zip(plots.panels(fig), (designed, random_), ("designed", "random")):
        np.testing.assert_allclose(ax.images[0].get_array(), weights.numpy())
        assert ax.get_title() == title
    assert fig._suptitle.get_text() == "both"


def test_attention_maps_of_cross_attention_keep_their_labels():
    french = sa.tokenize(sa.FRENCH)
    _, weights = sa.cross_attention(sa.features(french), sa.features(sa.SENTENCE), *sa.matching_projections())
    (ax,) = plots.panels(plots.attention_maps([(weights, french, TOKENS, "cross")]))
    assert ax.images[0].get_array().shape == (3, 4)
    assert [t.get_text() for t in ax.get_yticklabels()] == french
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS


@pytest.mark.parametrize("kernel_size", [5])  # not the default 3, so the title must follow the argument
def test_dependency_maps_show_what_each_layer_sees(kernel_size):
    layers = sa.comparison_layers(4, kernel_size=kernel_size)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    fig = plots.dependency_maps(layers, x)
    assert len(plots.panels(fig)) == 3
    for ax, name in zip(plots.panels(fig), layers):
        image = np.asarray(ax.images[0].get_array())
        assert image.shape == (8, 8)
        assert image.max() == pytest.approx(1.0)  # scaled to the largest dependence
        strength = sa.dependency_map(layers[name], x)
        np.testing.assert_allclose(image, (strength / strength.max()).numpy(), rtol=1e-6)
        assert ax.get_title().startswith(name)
    titles = [ax.get_title() for ax in plots.panels(fig)]
    assert "sees up to 1 of 8 tokens" in titles[0]
    assert f"sees up to {kernel_size} of 8 tokens" in titles[1]
    assert "sees up to 8 of 8 tokens" in titles[2]


@pytest.mark.parametrize("settings", [
    [("hand-designed", 6.0, 0), ("random", 6.0, 0)],
    [("hand-designed", 0.0, 0), ("random", 2.0, 3), ("hand-designed", 9.0, 0)],
], ids=["default", "three-rows"])
def test_token_attention_grid_is_the_widget_at_each_setting(settings):
    fig = plots.token_attention_grid(settings)
    assert len(fig.axes) == len(settings) * len(TOKENS)
    for row, (kind, strength, seed) in enumerate(settings):
        # the very computation the plot makes, so even a tie (0.25 each at strength 0) has the same argmax
        weights = sa.attention_over_sentence(kind, strength, seed).numpy()
        for column, token in enumerate(TOKENS):
            ax = fig.axes[row * len(TOKENS) + column]
            np.testing.assert_allclose(bar_widths(ax), weights[column])
            assert ax.get_title() == f"{token!r} attends to"
            assert f"strength {strength:g}" in fig.axes[row * len(TOKENS)].get_ylabel()
            assert ax.yaxis_inverted(), "the first token must be on top"
            assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS
            colours = [to_hex(patch.get_facecolor()) for patch in ax.patches]
            assert colours[int(np.argmax(weights[column]))] == "#c44e52"


def test_figures_can_be_saved(tmp_path):
    layers = sa.comparison_layers(4)
    figures = [plots.token_attention_grid(), plots.dependency_maps(layers, torch.randn(6, 4)),
               plots.attention_maps([(sa.attention_over_sentence(), TOKENS, TOKENS, "t")])]
    for fig in figures:
        path = tmp_path / "figure.png"
        fig.savefig(path)
        assert path.stat().st_size > 1000
