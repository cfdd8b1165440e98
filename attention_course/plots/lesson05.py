"""Lesson 5's figures: masking. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import masking
from .common import WEIGHTS_CMAP, cell_borders, cell_text_colour, char_label, colour_bar, mask_ax, side_by_side

__all__ = [
    "MASKED_RUN_COLOUR", "UNMASKED_RUN_COLOUR", "WARNING_TEXT_COLOUR", "as_bool_mask", "char_attention_maps",
    "loss_curves", "mask_explorer_views", "mask_grids", "masked_weights_ax",
]

MASKED_RUN_COLOUR, UNMASKED_RUN_COLOUR = "#4c72b0", "#c44e52"


WARNING_TEXT_COLOUR = "#a3303c"  # red text that keeps a 4.5:1 contrast on the grey of hidden cells


def mask_grids(panels, suptitle: str | None = None):
    """Several masks side by side; panels is a list of (mask, query_labels, key_labels, title). Lesson 5."""
    return side_by_side(panels, mask_ax, (3.6, 3.9), suptitle)


def loss_curves(runs, vocab_size: int | None = None, window: int = 25):
    """Training loss against step, one line per run (faint: every step; bold: a running mean). Lesson 5.

    `runs` maps a label to its list of losses. With `vocab_size`, a dashed line marks ln(vocab_size), the
    loss of a model that guesses every character with the same probability.
    """
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    colours = [MASKED_RUN_COLOUR, UNMASKED_RUN_COLOUR, "#55a868", "#8172b2"]
    for (label, losses), colour in zip(runs.items(), colours):
        losses = np.asarray(losses, dtype=float)
        steps = np.arange(1, len(losses) + 1)
        ax.plot(steps, losses, color=colour, alpha=0.25, linewidth=0.8)
        if len(losses) >= window:
            running = np.convolve(losses, np.ones(window) / window, mode="valid")  # mean of the last `window`
            ax.plot(steps[window - 1:], running, color=colour, linewidth=2, label=label)
        else:
            ax.plot(steps, losses, color=colour, linewidth=2, label=label)
    ax.set_yscale("log")
    if vocab_size:
        guess = np.log(vocab_size)
        ax.axhline(guess, ls="--", color="grey")
        ax.text(ax.get_xlim()[1], guess * 0.9, f"guessing: ln {vocab_size} = {guess:.2f} ", fontsize=10,
                ha="right", va="top")
        ax.set_ylim(top=guess * 1.5)
    ax.set_xlabel("training step", fontsize=11)
    ax.set_ylabel("training loss (log scale)", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.legend(fontsize=10, loc="lower left")
    ax.set_title("Next-character loss during training", fontsize=12)
    fig.tight_layout()
    return fig


def char_attention_maps(panels):
    """Attention weights over characters, one heatmap per (weights (T, T), text, title). Lesson 5."""
    def draw(ax, weights, text, title):
        weights = np.asarray(weights.detach() if hasattr(weights, "detach") else weights, dtype=float)
        ax.imshow(weights, cmap=WEIGHTS_CMAP, vmin=0, vmax=1)
        labels = [char_label(c) for c in text]
        ax.set_xticks(range(len(labels)), labels, fontsize=10)
        ax.set_yticks(range(len(labels)), labels, fontsize=10)
        ax.set_xlabel("key: the character looked at", fontsize=11)
        ax.set_ylabel("query: the position predicting the next", fontsize=11)
        ax.set_title(title, fontsize=12)

    return side_by_side(panels, draw, (4.6, 4.6), colour_label="weight")


def masked_weights_ax(ax, mask, weights, labels, title: str) -> None:
    """Attention weights under a mask: the weight in each allowed cell, hidden cells grey, and each row that
    may attend to nothing marked in red. Lesson 5."""
    mask = np.asarray(mask, dtype=bool)
    weights = np.asarray(weights.detach() if hasattr(weights, "detach") else weights, dtype=float)
    image = ax.imshow(np.where(mask, weights, np.nan), cmap=WEIGHTS_CMAP, vmin=0, vmax=1)
    hidden = np.zeros((*mask.shape, 4))
    hidden[~mask] = (0.89, 0.89, 0.89, 1.0)  # opaque grey over the hidden cells
    ax.imshow(hidden)
    for (i, j), allowed in np.ndenumerate(mask):
        if allowed:
            ax.text(j, i, f"{weights[i, j]:.2f}", ha="center", va="center", fontsize=10,
                    color=cell_text_colour(image, weights[i, j]))
    empty = [i for i in range(mask.shape[0]) if not mask[i].any()]
    for i in empty:
        ax.text((mask.shape[1] - 1) / 2, i, "no key: all 0", ha="center", va="center", fontsize=10,
                color=WARNING_TEXT_COLOUR, fontweight="bold")
    ax.set_xticks(range(mask.shape[1]), labels, rotation=45, ha="right", fontsize=10)
    ax.set_yticks(range(mask.shape[0]), labels, fontsize=10)
    for i in empty:
        ax.get_yticklabels()[i].set_color(WARNING_TEXT_COLOUR)
    cell_borders(ax, mask.shape)
    ax.set_xlabel("key", fontsize=10)
    ax.set_ylabel("query", fontsize=10)
    ax.set_title(title, fontsize=11)


def mask_explorer_views(settings):
    """The mask widget at several masks side by side; settings is a list of (mask (T, T), title). Lesson 5."""
    labels = list(masking.EXAMPLE_TOKENS)
    fig, axes = plt.subplots(1, len(settings), figsize=(3.7 * len(settings), 4.0), squeeze=False)
    for ax, (mask, title) in zip(axes[0], settings):
        mask = as_bool_mask(mask)
        weights = masking.example_attention(_as_bool_tensor(mask))
        masked_weights_ax(ax, mask, weights, labels, title)
    fig.tight_layout()
    colour_bar(axes[0][0].images[0], list(axes[0]), "weight", fraction=0.1 / len(settings), shrink=0.8)
    return fig


def as_bool_mask(mask) -> np.ndarray:
    """A mask (tensor, array or nested lists) as a numpy bool array."""
    return np.asarray(mask.detach() if hasattr(mask, "detach") else mask, dtype=bool)


def _as_bool_tensor(mask: np.ndarray):
    return torch.as_tensor(mask, dtype=torch.bool)
