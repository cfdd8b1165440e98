"""Lesson 7's figures: LayerNorm against BatchNorm, and where the norm goes. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .. import normalization
from .common import SIGNED_CMAP, cell_text_colour, colour_bar

__all__ = [
    "norm_groups_ax", "norm_placement", "norm_view", "norm_widget_grid",
]

def norm_groups_ax(ax, values, kind: str | None, labels, title: str) -> None:
    """A (B·T, d_model) grid of numbers; `kind` "LayerNorm" outlines each row, "BatchNorm" each column. Lesson 7."""
    values = np.asarray(values, dtype=float)
    rows, columns = values.shape
    limit = max(float(np.abs(values).max()), 1e-9)
    image = ax.imshow(values, cmap=SIGNED_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=9, color=cell_text_colour(image, value))
    colours = plt.get_cmap("tab10").colors
    groups = range(rows) if kind == "LayerNorm" else range(columns) if kind == "BatchNorm" else ()
    for g in groups:
        if kind == "LayerNorm":
            box = Rectangle((-0.45, g - 0.45), columns - 0.1, 0.9)
        else:
            box = Rectangle((g - 0.45, -0.45), 0.9, rows - 0.1)
        box.set(fill=False, linewidth=2.2, edgecolor=colours[g % len(colours)])
        ax.add_patch(box)
    ax.set_xticks(range(columns), [f"f{j + 1}" for j in range(columns)])
    ax.set_yticks(range(rows), labels)
    ax.set_title(title, fontsize=10)
    colour_bar(image, ax, ticks=[-limit, 0, limit], format="%.1f")  # each panel has its own scale


def norm_view(axes, x, kind: str) -> None:
    """Three panels for x (B, T, d_model): the input with `kind`'s groups outlined, then LayerNorm's and
    BatchNorm's outputs with their own groups outlined. Lesson 7."""
    x = torch.as_tensor(np.asarray(x, dtype=float))
    B, T, d_model = x.shape
    layer, batch = normalization.norm_outputs(x)
    labels = normalization.token_labels(B, T)
    groups = "each token (row)" if kind == "LayerNorm" else "each feature (column)"
    norm_groups_ax(axes[0], x.reshape(B * T, d_model), kind, labels, f"input: {kind} normalises\n{groups}")
    norm_groups_ax(axes[1], layer.reshape(B * T, d_model), "LayerNorm", labels, "LayerNorm output:\nrows mean 0, std 1")
    norm_groups_ax(axes[2], batch.reshape(B * T, d_model), "BatchNorm", labels,
                   "BatchNorm output:\ncolumns mean 0, std 1")
    for ax in axes[1:]:
        ax.set_yticklabels([])


def norm_widget_grid(settings):
    """The LayerNorm-vs-BatchNorm widget at several settings, one row of three panels each. Lesson 7.

    `settings` is a sequence of (x (B, T, d_model), kind, label); the label goes to the left of the row.
    """
    fig, axes = plt.subplots(len(settings), 3, figsize=(10.5, 3.1 * len(settings)), squeeze=False)
    for row, (x, kind, label) in zip(axes, settings):
        norm_view(row, x, kind)
        row[0].set_ylabel(label, fontsize=10)
    fig.tight_layout()
    return fig


def norm_placement(post_gradients, pre_gradients, post_losses, pre_losses, lr: float, plateau: float | None = None):
    """Left: each layer's gradient norm at initialisation; right: training loss, post-norm vs pre-norm. Lesson 7.

    `plateau`, if given, is drawn on the right as a dashed line: the loss of a guess that ignores the input.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    layers = np.arange(1, len(post_gradients) + 1)
    left.plot(layers, post_gradients, "o-", label="post-norm (the paper)")
    left.plot(layers, pre_gradients, "s-", label="pre-norm")
    left.set_xlabel("layer (1 = nearest the input)")
    left.set_ylabel("gradient norm of the layer's weights")
    left.set_title("at initialisation")
    left.legend()
    steps = np.arange(1, len(post_losses) + 1)
    right.plot(steps, post_losses, label="post-norm (the paper)")
    right.plot(steps, pre_losses, label="pre-norm")
    if plateau is not None:
        right.axhline(plateau, ls="--", color="grey", label="plateau: counts guessed from their frequencies")
    right.set_xlabel("training step")
    right.set_ylabel("cross-entropy loss")
    right.set_title(f"training with Adam, lr = {lr:g}, no warm-up")
    right.legend()
    fig.tight_layout()
    return fig
