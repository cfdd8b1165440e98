"""Lesson 2's figures: scaled dot-product attention. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import scaling
from .common import WEIGHTS_CMAP, cell_text_colour, colour_bar

__all__ = [
    "SCALED_COLOUR", "UNSCALED_COLOUR", "attention_heatmap", "key_weights_bar", "scaling_measurements",
    "scaling_weights",
]

UNSCALED_COLOUR, SCALED_COLOUR = "#c44e52", "#4c72b0"


def key_weights_bar(ax, weights, title: str) -> None:
    """Vertical bars, one per key numbered from 1, the largest in a darker colour. Lesson 2."""
    weights = np.asarray(weights, dtype=float)
    best = int(np.argmax(weights))
    x = np.arange(1, len(weights) + 1)
    ax.bar(x, weights, color=["#c44e52" if i == best else "#8da0cb" for i in range(len(weights))])
    ax.set_xticks([1, *range(4, len(weights) + 1, 4)] if len(weights) >= 4 else x)
    ax.set_xlim(0.4, len(weights) + 0.6)
    ax.set_ylim(0, 1)
    ax.tick_params(labelsize=10)
    ax.set_xlabel("key", fontsize=11)
    ax.set_ylabel("weight", fontsize=11)
    ax.set_title(title, fontsize=11)


def attention_heatmap(weights, query_labels, key_labels, title: str = "attention weights"):
    """The weights of several queries over the same keys as a grid, each cell labelled. Lesson 2."""
    weights = np.asarray(weights, dtype=float)
    top = max(float(weights.max()), 1e-12)  # the darkest shade is the largest weight; the labels give values
    fig, ax = plt.subplots(figsize=(0.75 * weights.shape[1] + 2.2, 0.5 * weights.shape[0] + 2.6))
    image = ax.imshow(weights, cmap=WEIGHTS_CMAP, vmin=0, vmax=top, aspect="auto")
    for (i, j), weight in np.ndenumerate(weights):
        ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize=10, color=cell_text_colour(image, weight))
    ax.set_xticks(range(weights.shape[1]), key_labels, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(weights.shape[0]), query_labels, fontsize=10)
    ax.set_xlabel("key", fontsize=10)
    ax.set_ylabel("query", fontsize=10)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    colour_bar(image, ax, "weight")
    return fig


def scaling_measurements(table, num_keys: int = 16):
    """Variance of the scores, entropy of the weights and gradient norm against d_k. Lesson 2.

    `table` is what `scaling.measure(num_keys=num_keys)` returns.
    """
    d_k = np.asarray(table["d_k"])
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    panels = [
        ("variance", "variance of the scores", "log", "Scores spread out as d_k grows"),
        ("entropy", "entropy of the weights (bits)", "linear", "Unscaled weights collapse onto one key"),
        ("gradient", "gradient at the query (median)", "log", "...and the gradient vanishes"),
    ]
    for ax, (key, ylabel, yscale, title) in zip(axes, panels):
        ax.plot(d_k, table[f"{key}_unscaled"], "o-", color=UNSCALED_COLOUR, label="unscaled: q·k")
        ax.plot(d_k, table[f"{key}_scaled"], "s-", color=SCALED_COLOUR, label="scaled: q·k / √d_k")
        ax.set_xscale("log", base=2)
        ax.set_yscale(yscale)
        ax.set_xticks(d_k, [str(d) for d in d_k])
        ax.minorticks_off()
        ax.tick_params(labelsize=11)
        ax.set_xlabel("d_k (log scale)", fontsize=12)
        ax.set_ylabel(ylabel, fontsize=12)
        ax.set_title(title, fontsize=12)
    axes[0].plot(d_k, d_k, ":", color="grey", label="y = d_k")
    top = np.log2(num_keys)
    axes[1].set_ylim(0, top * 1.13)
    axes[1].axhline(top, ls="--", color="grey")
    axes[1].text(d_k[0], top * 1.025, f"all {num_keys} keys alike: {top:.0f} bits", fontsize=11)
    axes[0].legend(fontsize=11)
    fig.tight_layout()
    return fig


def scaling_weights(d_ks=(4, 64, 1024)):
    """The widget's view at several d_k, unscaled (top row) and scaled (bottom row). Lesson 2."""
    fig, axes = plt.subplots(2, len(d_ks), figsize=(3.4 * len(d_ks), 6.2), sharey=True, squeeze=False)
    for row, scaled in enumerate((False, True)):
        for ax, d_k in zip(axes[row], d_ks):
            _, weights = scaling.example(d_k, scaled)
            label = "scaled by 1/√d_k" if scaled else "not scaled"
            key_weights_bar(ax, weights, f"d_k = {d_k}, {label}\n"
                            f"entropy {scaling.entropy_bits(weights):.2f} bits")
            if ax is not axes[row][0]:
                ax.set_ylabel("")
    fig.tight_layout()
    return fig
