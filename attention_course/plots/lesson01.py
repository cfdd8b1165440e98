"""Lesson 1's figures: search as lookup. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import lookup
from .common import weights_bar

__all__ = [
    "lookup_weights", "similarity_comparison", "temperature_sweep",
]

def lookup_weights(query_text: str, temperatures=(0.1, 1.0, 10.0)):
    """Soft-lookup weights of every video for one query, at several temperatures side by side."""
    query = lookup.embed_query(query_text)
    fig, axes = plt.subplots(1, len(temperatures), figsize=(2.6 * len(temperatures) + 2, 3.6), sharey=True)
    for ax, temperature in zip(np.atleast_1d(axes), temperatures):
        output, weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, temperature)
        weights_bar(ax, lookup.TITLES, weights,
                     f"temperature {temperature:g}\nreturns {output[0]:.1f} min, {output[1]:.1f} stars")
    fig.suptitle(f"Soft lookup for the query {query_text!r}", fontsize=11)
    fig.tight_layout()
    return fig


def similarity_comparison(query_text: str):
    """Dot product and cosine similarity of one query against every key, next to each other."""
    query = lookup.embed_query(query_text)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, (name, scores) in zip(axes, [("dot product", lookup.dot_scores(query, lookup.KEYS)),
                                         ("cosine similarity", lookup.cosine_similarity(query, lookup.KEYS))]):
        colours = ["#c44e52" if i == int(np.argmax(scores)) else "#8da0cb" for i in range(len(scores))]
        y = np.arange(len(scores))
        ax.barh(y, scores, color=colours)
        ax.set_yticks(y, lookup.TITLES)
        ax.invert_yaxis()
        ax.set_title(f"{name}\nbest: {lookup.TITLES[int(np.argmax(scores))]}", fontsize=10)
        ax.set_xlabel("score")
    fig.suptitle(f"Query {query_text!r}", fontsize=11)
    fig.tight_layout()
    return fig


def temperature_sweep(query_text: str, temperatures=None):
    """How each video's weight, and the entropy of all the weights, change with the temperature."""
    temperatures = np.logspace(-2, 2, 81) if temperatures is None else np.asarray(temperatures)
    query = lookup.embed_query(query_text)
    weights = np.array([lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, t)[1] for t in temperatures])  # (T, N)
    entropy = [lookup.entropy_bits(w) for w in weights]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    for i, title in enumerate(lookup.TITLES):
        left.plot(temperatures, weights[:, i], label=title, lw=2 if i == int(np.argmax(weights[0])) else 1.2)
    left.set_xscale("log")
    left.set_xlabel("temperature (log scale)")
    left.set_ylabel("weight")
    left.set_title(f"Weights for {query_text!r}", fontsize=10)
    fig.legend(*left.get_legend_handles_labels(), loc="lower center", ncol=4, fontsize=8, frameon=False)
    right.plot(temperatures, entropy, color="k")
    right.axhline(np.log2(len(lookup.TITLES)), ls="--", color="grey")
    n = len(lookup.TITLES)
    right.text(temperatures[0], np.log2(n) - 0.25, f"uniform: log2({n}) = {np.log2(n):.0f} bits", fontsize=8)
    right.set_xscale("log")
    right.set_xlabel("temperature (log scale)")
    right.set_ylabel("entropy (bits)")
    right.set_title(f"Entropy: 0 = one video, {np.log2(n):.0f} = all alike", fontsize=10)
    fig.tight_layout(rect=(0, 0.14, 1, 1))  # leave room for the legend underneath
    return fig
