"""Lesson 10's figures: each draws what the cost and family modules compute."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import masking, plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_cost_panels_are_log_log_with_one_line_per_curve_and_two_guides():
    lengths = [64, 128, 256, 512]
    curves = {"self-attention": [1e-3 * (T / 64) ** 2 for T in lengths], "recurrent": [2e-3 * T / 64 for T in lengths]}
    fig = plots.cost_panels([(lengths, curves, "time", "a"), (lengths, curves, "memory", "b")])
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    solid = [line for line in ax.lines if line.get_label() in curves]
    np.testing.assert_allclose(solid[0].get_ydata(), curves["self-attention"])
    guides = [text.get_text().strip() for text in ax.texts]
    assert guides == ["slope 1", "slope 2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)


def test_the_memory_timeline_adds_up_the_allocations():
    T = 64
    matrix = T * T * 4
    events = [(0, 1000), (10, matrix), (20, matrix), (30, -matrix), (40, -matrix), (50, -1000)]
    fig = plots.memory_timeline(events, T, "t")
    ax = fig.axes[0]
    held = ax.lines[0].get_ydata()
    np.testing.assert_allclose(held * 2**20, [1000, 1000 + matrix, 1000 + 2 * matrix, 1000 + matrix, 1000, 0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("1 T×T matrix") and labels[1].startswith("2 T×T matrices")


def test_article_bars_show_both_models_for_every_sentence():
    sentences = ["i eat an apple", "we see a dog"]
    fig = plots.article_bars(sentences, [0.99, 0.01], [0.5, 0.5])
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["i eat ___ apple   (right: an)", "we see ___ dog   (right: a)"]


def test_mask_grid_lays_out_the_masks_in_rows():
    causal = masking.causal_mask(3)
    labels = ["a", "b", "c"]
    fig = plots.mask_grid([(causal, labels, labels, str(i)) for i in range(3)], columns=2)
    assert len(fig.axes) == 4
    assert not fig.axes[3].axison  # the fourth place is left empty
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), causal.numpy().astype(float))
