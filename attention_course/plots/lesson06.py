"""Lesson 6's figures: multi-head attention. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import conv_heads
from .common import attention_matrix_ax, colour_bar, weights_bar

__all__ = [
    "head_explorer_views", "head_maps",
]

def head_maps(kinds=("random heads", "structured heads", "convolution heads")):
    """Per-head attention maps over lesson 3's sentence: one row per kind of heads, one panel per head. Lesson 6."""
    tokens = conv_heads.sentence_tokens()
    columns = max(len(conv_heads.head_names(kind)) for kind in kinds)
    fig, axes = plt.subplots(len(kinds), columns, figsize=(3.3 * columns, 3.3 * len(kinds)), squeeze=False)
    for row, kind in enumerate(kinds):
        weights = conv_heads.sentence_heads(kind).numpy()  # (h, T, T)
        names = conv_heads.head_names(kind)
        for column in range(columns):
            ax = axes[row][column]
            if column >= len(weights):
                ax.axis("off")
                continue
            label = f"{kind[:-6]} head {column}"
            title = label if names[column] == label else f"{label}\n{names[column]}"  # random heads have no name
            attention_matrix_ax(ax, weights[column], tokens, tokens, title)
            ax.set_xlabel("key" if row == len(kinds) - 1 else "", fontsize=11)
            ax.set_ylabel("query" if column == 0 else "", fontsize=11)
    fig.tight_layout()
    colour_bar(axes[0][0].images[0], axes.ravel().tolist(), "weight", fraction=0.1 / columns, shrink=0.6)
    return fig


def head_explorer_views(settings=(("structured heads", 0, "love"), ("random heads", 1, "love"),
                                  ("convolution heads", 0, "love"))):
    """The head widget at several settings (kind, head, token), side by side. Lesson 6."""
    tokens = conv_heads.sentence_tokens()
    fig, axes = plt.subplots(1, len(settings), figsize=(3.6 * len(settings), 2.9), squeeze=False)
    for ax, (kind, head, token) in zip(axes[0], settings):
        row = conv_heads.sentence_heads(kind)[head, tokens.index(token)].numpy()  # (T,)
        weights_bar(ax, tokens, row, f"{kind[:-6]} head {head}:\n{token!r} attends to")
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
        ax.set_xlabel("weight", fontsize=10)
    fig.tight_layout()
    return fig
