"""The figures the lessons and widgets draw. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import lookup


def weights_bar(ax, titles, weights, title: str) -> None:
    """Horizontal bars, one per item, the largest in a darker colour."""
    colours = ["#c44e52" if i == int(np.argmax(weights)) else "#8da0cb" for i in range(len(weights))]
    y = np.arange(len(titles))
    ax.barh(y, weights, color=colours)
    ax.set_yticks(y, titles)
    ax.invert_yaxis()  # first video on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("weight")
    ax.set_title(title, fontsize=10)
    for yi, w in zip(y, weights):
        ax.text(min(w + 0.02, 0.8), yi, f"{w:.2f}", va="center", fontsize=8)


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


# ---------------------------------------------------------------- lesson 2: scaled dot-product attention

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
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=top, aspect="auto")
    for (i, j), weight in np.ndenumerate(weights):
        ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize=10,
                color="white" if weight > 0.6 * top else "black")
    ax.set_xticks(range(weights.shape[1]), key_labels, rotation=30, ha="right", fontsize=10)
    ax.set_yticks(range(weights.shape[0]), query_labels, fontsize=10)
    ax.set_xlabel("key", fontsize=10)
    ax.set_ylabel("query", fontsize=10)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
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
    from . import scaling  # here, not at the top: plots.py is shared and imported by scaling's users

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


# ---------------------------------------------------------------- lesson 3: self-attention


def attention_matrix_ax(ax, weights, query_labels, key_labels, title: str, vmax: float = 1.0) -> None:
    """Attention weights (T_q, T_k) on one axes: a row per query, a column per key, each cell labelled. Lesson 3."""
    weights = np.asarray(weights, dtype=float)
    ax.imshow(weights, cmap="Blues", vmin=0, vmax=vmax, aspect="equal")
    for (i, j), weight in np.ndenumerate(weights):
        ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize=11,
                color="white" if weight > 0.6 * vmax else "black")
    ax.set_xticks(range(weights.shape[1]), key_labels, fontsize=11)
    ax.set_yticks(range(weights.shape[0]), query_labels, fontsize=11)
    ax.set_xlabel("key (attended to)", fontsize=11)
    ax.set_ylabel("query (attending)", fontsize=11)
    ax.set_title(title, fontsize=12)


def attention_maps(panels, suptitle: str | None = None):
    """Several attention matrices side by side; panels is a list of (weights, query_labels, key_labels, title)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.0), squeeze=False)
    for ax, (weights, query_labels, key_labels, title) in zip(axes[0], panels):
        attention_matrix_ax(ax, weights, query_labels, key_labels, title)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def dependency_maps(layers, x):
    """For each layer, which input tokens each output token depends on: |d y_i / d x_j| as a grid. Lesson 3.

    `layers` maps a name to a callable (B, T, d) -> (B, T, d) (or (output, weights)); x is (T, d).
    """
    from . import self_attention as sa  # here, not at the top: plots.py is shared

    fig, axes = plt.subplots(1, len(layers), figsize=(3.1 * len(layers), 3.5), squeeze=False)
    for ax, (name, layer) in zip(axes[0], layers.items()):
        strength = sa.dependency_map(layer, x).detach().numpy()  # (T, T)
        seen = int((strength > 1e-12).sum(axis=1).max())
        ax.imshow(strength / strength.max(), cmap="Greys", vmin=0, vmax=1)
        ticks = range(0, len(strength), 2)
        ax.set_xticks(ticks, [str(t) for t in ticks], fontsize=10)
        ax.set_yticks(ticks, [str(t) for t in ticks], fontsize=10)
        ax.set_xlabel("input token j", fontsize=11)
        ax.set_ylabel("output token i", fontsize=11)
        ax.set_title(f"{name}\neach output sees up to {seen} of {len(strength)} tokens", fontsize=11)
    fig.tight_layout()
    return fig


def token_attention_grid(settings=(("hand-designed", 6.0, 0), ("random", 6.0, 0))):
    """The token-attention widget at several settings: one row per (weights, strength, seed), one column per token."""
    from . import self_attention as sa

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
