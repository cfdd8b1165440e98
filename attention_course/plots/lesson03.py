"""Lesson 3's figures: self-attention. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import self_attention as sa
from .common import WEIGHTS_CMAP, attention_matrix_ax, colour_bar, side_by_side, weights_bar

__all__ = [
    "attention_maps", "dependency_maps", "token_attention_grid",
]

def attention_maps(panels, suptitle: str | None = None):
    """Several attention matrices side by side; panels is a list of (weights, query_labels, key_labels, title)."""
    return side_by_side(panels, attention_matrix_ax, (4.2, 4.0), suptitle, colour_label="weight")


def dependency_maps(layers, x):
    """For each layer, which input tokens each output token depends on: |d y_i / d x_j| as a grid. Lesson 3.

    `layers` maps a name to a callable (B, T, d) -> (B, T, d) (or (output, weights)); x is (T, d).
    """
    fig, axes = plt.subplots(1, len(layers), figsize=(3.6 * len(layers) + 0.6, 3.6), squeeze=False)
    for ax, (name, layer) in zip(axes[0], layers.items()):
        strength = sa.dependency_map(layer, x).detach().numpy()  # (T, T)
        seen = int((strength > 1e-12).sum(axis=1).max())
        image = ax.imshow(strength / strength.max(), cmap=WEIGHTS_CMAP, vmin=0, vmax=1)
        ticks = range(0, len(strength), 2)
        ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=10)
        ax.set_yticks(ticks, [str(t) for t in ticks], fontsize=10)
        ax.set_xlabel("input token j", fontsize=11)
        ax.set_ylabel("output token i", fontsize=11)
        ax.set_title(f"{name}\neach output sees up to {seen} of {len(strength)} tokens", fontsize=11)
    fig.tight_layout()
    colour_bar(image, list(axes[0]), "|dy_i/dx_j|, largest = 1", fraction=0.1 / len(layers), shrink=0.8)
    return fig


def token_attention_grid(settings=(("hand-designed", 6.0, 0), ("random", 6.0, 0))):
    """The token-attention widget at several settings: one row per (weights, strength, seed), one column per token."""
    tokens = sa.tokenize(sa.SENTENCE)
    # No sharey: weights_bar turns each y axis upside down (first token on top), and a shared axis would flip back.
    fig, axes = plt.subplots(len(settings), len(tokens), figsize=(2.4 * len(tokens) + 1.2, 2.3 * len(settings) + 0.3),
                             squeeze=False)
    for row, (kind, strength, seed) in enumerate(settings):
        weights = sa.attention_over_sentence(kind, strength, seed).numpy()  # (T, T)
        label = f"random, seed {seed}" if kind == "random" else kind
        for column, token in enumerate(tokens):
            ax = axes[row][column]
            weights_bar(ax, tokens, weights[column], f"{token!r} attends to")
            ax.title.set_fontsize(12)
            ax.tick_params(labelsize=11)
            for text in ax.texts:  # the weight printed next to each bar
                text.set_fontsize(10)
            ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
            ax.set_xlabel("weight" if row == len(settings) - 1 else "", fontsize=11)
        axes[row][0].set_ylabel(f"{label}\nstrength {strength:g}", fontsize=12, fontweight="bold")
    fig.tight_layout()
    return fig
