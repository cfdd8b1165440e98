"""Lesson 9's figures: the date model. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .common import WEIGHTS_CMAP, char_label, colour_bar

__all__ = [
    "date_attention_ax", "date_attention_maps", "date_training",
]

def date_attention_ax(ax, weights, text: str, answer: str, title: str):
    """Cross-attention of one date translation on one axes: a row per answer character, a column per source
    character, colour = weight (averaged over heads). Returns the image, for a colour bar. Lesson 9."""
    weights = np.asarray(weights, dtype=float)  # (len(answer), T_src)
    image = ax.imshow(weights, cmap=WEIGHTS_CMAP, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(weights.shape[1]), [char_label(c) for c in text[:weights.shape[1]]], fontsize=12)
    ax.set_yticks(range(weights.shape[0]), list(answer), fontsize=12)
    ax.set_xlabel("source character (key)", fontsize=12)
    ax.set_ylabel("answer character (query)", fontsize=12)
    ax.set_title(title, fontsize=13)
    return image


def date_attention_maps(translations, layers=None):
    """Head-averaged cross-attention for several dates.Translation: a row per date, a column per decoder layer
    (by default every layer), on one colour scale with one colour bar. Lesson 9."""
    layers = list(range(translations[0].cross_weights.shape[0])) if layers is None else list(layers)
    # Narrow cells and large text: the figure is shown a page column wide, and its labels must stay readable.
    width = max(max(len(t.text) for t in translations) * 0.2, 2.6) + 1.4
    fig, axes = plt.subplots(len(translations), len(layers), squeeze=False,
                             figsize=(width * len(layers) + 0.8, 3.6 * len(translations)))
    for row, t in zip(axes, translations):
        for ax, layer in zip(row, layers):
            weights = t.cross_weights[layer].mean(dim=0)  # (h, T_out, T_src) -> (T_out, T_src)
            image = date_attention_ax(ax, weights, t.text, t.answer,
                                      f"layer {layer % len(t.cross_weights) + 1}: {t.text!r} -> {t.answer}")
    fig.tight_layout()
    colour_bar(image, axes.ravel().tolist(), "weight", fraction=0.03, shrink=0.6)
    return fig


def date_training(run):
    """The date model's training: the loss and learning rate per step, validation accuracy. Lesson 9."""
    losses = np.asarray(run.losses, dtype=float)
    steps = np.arange(1, len(losses) + 1)
    fig, (ax_loss, ax_lr, ax_acc) = plt.subplots(1, 3, figsize=(13, 3.6))
    ax_loss.plot(steps, losses, color="#4c72b0", linewidth=1.2)
    ax_loss.set_yscale("log")
    ax_loss.set_title("training loss (label-smoothed cross-entropy)", fontsize=11)
    ax_lr.plot(steps, run.learning_rates, color="#dd8452", linewidth=1.5)
    ax_lr.set_title("learning rate: warm-up, then cosine decay", fontsize=11)
    checked = sorted(run.validation)
    ax_acc.plot(checked, [100 * run.validation[s] for s in checked], "o-", color="#55a868")
    ax_acc.set_ylim(0, 100)
    ax_acc.set_title("validation exact match (%)", fontsize=11)
    for ax in (ax_loss, ax_lr, ax_acc):
        ax.set_xlabel("training step", fontsize=10)
    fig.tight_layout()
    return fig
