"""Lesson 5's figures: each draws what the masking and tiny_lm modules compute."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from attention_course import masking, plots

TOKENS = list(masking.EXAMPLE_TOKENS)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_mask_ax_shows_the_mask_with_a_tick_per_allowed_cell():
    mask = masking.causal_mask(5)
    _fig, ax = plt.subplots()
    plots.mask_ax(ax, mask, TOKENS, TOKENS, "causal")
    np.testing.assert_array_equal(ax.images[0].get_array(), mask.numpy().astype(float))
    assert [t.get_text() for t in ax.texts] == ["✓"] * int(mask.sum())
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS
    assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS
    assert ax.get_title() == "causal"


def test_mask_grids_draw_one_panel_per_mask():
    masks = [masking.causal_mask(3), torch.ones(3, 3, dtype=torch.bool), torch.zeros(3, 3, dtype=torch.bool)]
    labels = ["a", "b", "c"]
    fig = plots.mask_grids([(m, labels, labels, f"mask {i}") for i, m in enumerate(masks)], "three masks")
    assert isinstance(fig, Figure)
    assert len(plots.panels(fig)) == 3
    for i, (ax, mask) in enumerate(zip(plots.panels(fig), masks)):
        np.testing.assert_array_equal(ax.images[0].get_array(), mask.numpy().astype(float))
        assert ax.get_title() == f"mask {i}"
    assert fig._suptitle.get_text() == "three masks"


def test_loss_curves_draw_raw_and_smoothed_losses_and_the_guessing_line():
    runs = {"masked": list(np.linspace(3, 1, 100)), "unmasked": list(np.linspace(3, 0.01, 100))}
    fig = plots.loss_curves(runs, vocab_size=26, window=10)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == 5  # raw and smoothed per run, and the guessing line
    np.testing.assert_allclose(lines[0].get_ydata(), runs["masked"])
    np.testing.assert_allclose(lines[1].get_ydata(), np.convolve(runs["masked"], np.ones(10) / 10, mode="valid"))
    np.testing.assert_allclose(lines[-1].get_ydata(), [np.log(26)] * 2)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["masked", "unmasked"]
    assert any("ln 26 = 3.26" in t.get_text() for t in ax.texts)


def test_loss_curves_of_short_runs_still_draw():
    fig = plots.loss_curves({"short": [2.0, 1.0, 0.5]}, window=25)
    assert len(fig.axes[0].get_lines()) == 2


def test_char_labels_make_spaces_and_line_breaks_visible():
    assert [plots.char_label(c) for c in "a \n."] == ["a", "␣", "⏎", "."]


def test_char_attention_maps_draw_each_model_over_the_characters():
    text = "ab c\n"
    w1, w2 = torch.eye(5), torch.ones(5, 5) / 5
    fig = plots.char_attention_maps([(w1, text, "one"), (w2.numpy(), text, "two")])
    assert len(plots.panels(fig)) == 2
    for ax, weights, title in zip(plots.panels(fig), (w1, w2), ("one", "two")):
        np.testing.assert_allclose(ax.images[0].get_array(), weights.numpy())
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "␣", "c", "⏎"]
        assert ax.get_title() == title


def test_masked_weights_ax_prints_allowed_weights_and_flags_empty_rows():
    mask = masking.causal_mask(5)
    mask[:, 0] = False  # row 0 has nothing left
    weights = masking.example_attention(mask)
    _fig, ax = plt.subplots()
    plots.masked_weights_ax(ax, mask, weights, TOKENS, "a title")
    texts = [t.get_text() for t in ax.texts]
    expected = [f"{weights[i, j]:.2f}" for i in range(5) for j in range(5) if mask[i, j]]
    assert texts[:len(expected)] == expected
    assert texts[len(expected):] == ["no key: all 0"]
    assert ax.get_yticklabels()[0].get_color() == plots.WARNING_TEXT_COLOUR
    assert ax.get_yticklabels()[1].get_color() != plots.WARNING_TEXT_COLOUR
    shown = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    np.testing.assert_allclose(shown[mask.numpy()], weights.numpy()[mask.numpy()])
    assert np.isnan(shown[~mask.numpy()]).all()


def test_mask_explorer_views_show_the_widget_at_each_mask():
    masks = [torch.ones(5, 5, dtype=torch.bool), masking.causal_mask(5)]
    fig = plots.mask_explorer_views([(masks[0], "no mask"), (masks[1].tolist(), "causal")])
    assert len(plots.panels(fig)) == 2
    for ax, mask, title in zip(plots.panels(fig), masks, ("no mask", "causal")):
        weights = masking.example_attention(mask)
        shown = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
        np.testing.assert_allclose(shown[mask.numpy()], weights.numpy()[mask.numpy()], rtol=1e-6)
        assert ax.get_title() == title
        assert [t.get_text() for t in ax.get_yticklabels()] == TOKENS


def test_as_bool_mask_accepts_tensors_and_lists():
    np.testing.assert_array_equal(plots.as_bool_mask(torch.eye(2)), np.eye(2, dtype=bool))
    np.testing.assert_array_equal(plots.as_bool_mask([[1, 0], [0, 1]]), np.eye(2, dtype=bool))
