"""The figures the lessons and widgets draw. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import lookup

# Heatmaps use perceptually uniform, colour-blind-safe colour maps and always carry a colour bar.
WEIGHTS_CMAP = "magma_r"  # values from 0 up (attention weights): pale cream at 0, darker = larger
SIGNED_CMAP = "berlin"  # values of either sign: light blue below 0, black at 0, light red above


def relative_luminance(colour) -> float:
    """WCAG relative luminance of a matplotlib colour, from 0 (black) to 1 (white)."""
    from matplotlib.colors import to_rgb

    channels = np.array(to_rgb(colour))
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(foreground, background) -> float:
    """WCAG contrast ratio of two colours, from 1 to 21; text needs at least 4.5."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_on(background) -> str:
    """Black or white, whichever has the higher contrast on `background`."""
    return "black" if contrast_ratio("black", background) >= contrast_ratio("white", background) else "white"


def cell_text_colour(image, value: float) -> str:
    """The colour for a label printed on a heatmap cell of `image` that shows `value`."""
    return text_colour_on(image.cmap(image.norm(value)))


def panels(fig) -> list:
    """The figure's plotting axes, without its colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colour_bar(image, axes, label: str | None = None, **kwargs):
    """A slim colour bar for `image` beside `axes` (one axes or several)."""
    bar = image.axes.figure.colorbar(image, ax=axes, fraction=kwargs.pop("fraction", 0.046),
                                     pad=kwargs.pop("pad", 0.03), **kwargs)
    bar.ax.tick_params(labelsize=9)
    if label:
        bar.set_label(label, fontsize=10)
    return bar


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
    image = ax.imshow(weights, cmap=WEIGHTS_CMAP, vmin=0, vmax=vmax, aspect="equal")
    for (i, j), weight in np.ndenumerate(weights):
        ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize=11, color=cell_text_colour(image, weight))
    ax.set_xticks(range(weights.shape[1]), key_labels, fontsize=11)
    ax.set_yticks(range(weights.shape[0]), query_labels, fontsize=11)
    ax.set_xlabel("key (attended to)", fontsize=11)
    ax.set_ylabel("query (attending)", fontsize=11)
    ax.set_title(title, fontsize=12)


def side_by_side(panels, draw, panel_size: tuple[float, float], suptitle: str | None = None,
                 colour_label: str | None = None):
    """One axes per panel in a row, each drawn by `draw(ax, *panel)`; returns the Figure.

    With `colour_label`, the panels are heatmaps on one colour scale and share one colour bar.
    """
    width, height = panel_size
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels) + (0.6 if colour_label else 0), height),
                             squeeze=False)
    for ax, panel in zip(axes[0], panels):
        draw(ax, *panel)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    if colour_label:
        colour_bar(axes[0][0].images[0], list(axes[0]), colour_label, fraction=0.1 / len(panels), shrink=0.8)
    return fig


def attention_maps(panels, suptitle: str | None = None):
    """Several attention matrices side by side; panels is a list of (weights, query_labels, key_labels, title)."""
    return side_by_side(panels, attention_matrix_ax, (4.2, 4.0), suptitle, colour_label="weight")


def dependency_maps(layers, x):
    """For each layer, which input tokens each output token depends on: |d y_i / d x_j| as a grid. Lesson 3.

    `layers` maps a name to a callable (B, T, d) -> (B, T, d) (or (output, weights)); x is (T, d).
    """
    from . import self_attention as sa  # here, not at the top: plots.py is shared

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


# ---------------------------------------------------------------- lesson 4: positional encoding

POSITION_COLOUR, SHIFTED_COLOUR = "#4c72b0", "#c44e52"  # PE(pos) and PE(pos + k) in lesson 4's figures


def positional_heatmap(num_positions: int = 100, d_model: int = 64):
    """The sinusoidal encoding as an image: one row per position, one column per dimension. Lesson 4."""
    from . import positional  # here, not at the top: plots.py is shared

    pe = positional.sinusoidal_encoding(num_positions, d_model).numpy()  # (T, d_model)
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    image = ax.imshow(pe, cmap=SIGNED_CMAP, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    ax.set_xlabel("dimension j (even j: sine, odd j: cosine)", fontsize=11)
    ax.set_ylabel("position pos", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.set_title(f"PE(pos, j) for positions 0 to {num_positions - 1}, d_model = {d_model}", fontsize=12)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.set_label("value", fontsize=11)
    fig.tight_layout()
    return fig


def positional_columns(columns=(0, 6, 12, 20), num_positions: int = 128, d_model: int = 64):
    """A few columns of the encoding as curves over the positions, each titled with its wavelength. Lesson 4.

    Dots mark the whole positions, where the encoding is used; the thin line is the sinusoid between them.
    """
    from . import positional

    pe = positional.sinusoidal_encoding(num_positions, d_model).numpy()  # (T, d_model)
    lengths = positional.wavelengths(d_model).numpy()  # (d_model/2,)
    fine = np.linspace(0, num_positions - 1, 20 * num_positions)
    smooth = positional.encode_positions(fine, d_model).numpy()  # (20T, d_model)
    fig, axes = plt.subplots(len(columns), 1, figsize=(8.5, 1.55 * len(columns) + 0.7), sharex=True, squeeze=False)
    for ax, j in zip(axes[:, 0], columns):
        ax.plot(fine, smooth[:, j], color=POSITION_COLOUR, lw=1, alpha=0.6)
        ax.plot(np.arange(num_positions), pe[:, j], "o", color=POSITION_COLOUR, ms=2.8)
        kind = "sine" if j % 2 == 0 else "cosine"
        ax.set_title(f"dimension {j}: {kind} of pair {j // 2}, wavelength {lengths[j // 2]:.1f} positions",
                     fontsize=11, loc="left")
        ax.set_ylim(-1.2, 1.2)
        ax.set_yticks([-1, 0, 1])
        ax.tick_params(labelsize=10)
    axes[-1, 0].set_xlabel("position pos", fontsize=11)
    fig.tight_layout()
    return fig


def binary_vs_sinusoid(num_positions: int = 64, bits: int = 6, d_model: int = 64, columns: int = 16):
    """Binary counting next to the first columns of the sinusoidal encoding, one row per position. Lesson 4."""
    from . import positional

    code = positional.binary_code(num_positions, bits).numpy()  # (T, bits), least significant bit first
    pe = positional.sinusoidal_encoding(num_positions, d_model).numpy()[:, :columns]  # (T, columns)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 5.2), gridspec_kw={"width_ratios": [bits, columns]})
    left.imshow(code, cmap="Greys", vmin=0, vmax=1.6, aspect="auto", interpolation="nearest")
    left.set_xticks(range(bits), [str(b) for b in range(bits)])
    left.set_xlabel("bit b (flips every 2^b)", fontsize=11)
    left.set_ylabel("position pos", fontsize=11)
    left.set_title("binary counter: 0 or 1", fontsize=12)
    image = right.imshow(pe, cmap=SIGNED_CMAP, vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    right.set_xticks(range(0, columns, 2), [str(j) for j in range(0, columns, 2)])
    right.set_xlabel("dimension j", fontsize=11)
    right.set_title(f"sinusoidal encoding (d_model = {d_model}): from -1 to 1", fontsize=12)
    for ax in (left, right):
        ax.tick_params(labelsize=10)
    fig.colorbar(image, ax=right)
    fig.tight_layout()
    return fig


def position_similarity(num_positions: int = 64, d_model: int = 64, seed: int = 0):
    """PE(p)·PE(q) for every pair of positions: sinusoidal, learned (untrained), and both against q - p. Lesson 4."""
    import torch

    from . import positional

    sinusoidal = positional.sinusoidal_encoding(num_positions, d_model, dtype=torch.float64)  # (T, d_model)
    with torch.random.fork_rng():  # seeded without disturbing the caller's random stream
        torch.manual_seed(seed)
        learned = positional.LearnedPositionalEmbedding(num_positions, d_model).embedding.weight.detach().double()
    fig = plt.figure(figsize=(9, 8.6))
    grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, :])]
    offsets = np.subtract.outer(np.arange(num_positions), np.arange(num_positions)).T  # [p, q] -> q - p
    for ax, table, name, colour in ((axes[0], sinusoidal, "sinusoidal", POSITION_COLOUR),
                                    (axes[1], learned, "learned, before training", "#999999")):
        similarity = (table @ table.T).numpy()  # (T, d_model) @ (d_model, T) -> (T, T)
        top = np.abs(similarity).max()
        image = ax.imshow(similarity, cmap=SIGNED_CMAP, vmin=-top, vmax=top, interpolation="nearest")
        colour_bar(image, ax, "PE(p)·PE(q)")
        ax.set_xlabel("position q", fontsize=12)
        ax.set_ylabel("position p", fontsize=12)
        ax.set_title(f"{name}: PE(p)·PE(q)", fontsize=13)
        ax.tick_params(labelsize=11)
        axes[2].plot(offsets.ravel(), similarity.ravel(), ".", color=colour, ms=3, alpha=0.6, label=name, zorder=2)
    k = np.arange(-(num_positions - 1), num_positions)
    axes[2].plot(k, [positional.dot_product_at_offset(int(o), d_model) for o in k], color="black", lw=0.8,
                 label="formula: Σ cos(k·ω_i)", zorder=3)
    axes[2].set_xlabel("offset k = q - p", fontsize=12)
    axes[2].set_ylabel("PE(p)·PE(q)", fontsize=12)
    axes[2].set_title("every pair (p, q) against its offset", fontsize=13)
    axes[2].tick_params(labelsize=11)
    axes[2].legend(fontsize=11, markerscale=4, loc="upper left")
    fig.tight_layout()
    return fig


def positional_panels(axes, state) -> None:
    """The positional widget's three panels for one state (widgets.positional_state). Lesson 4.

    Left, the chosen dimension over the positions; middle, PE(pos)·PE(q) for every q; right, the pair that
    holds the chosen dimension on the unit circle, turned by M_k. The same markers in all three: PE(pos) blue,
    PE(pos + k) red, M_k·PE(pos) a black ring. positional_legend explains them once per figure.
    """
    curve, dots, circle = axes
    pos, k, j, i = state.position, state.offset, state.dimension, state.dimension // 2
    positions = np.arange(len(state.column))
    now = {"color": POSITION_COLOUR, "ms": 9, "label": "PE(pos)"}
    shifted = {"color": SHIFTED_COLOUR, "ms": 8, "label": "PE(pos + k)"}
    rotated = {"mfc": "none", "mec": "black", "ms": 16, "mew": 1.5, "label": "M_k·PE(pos)"}
    curve.plot(positions, state.column, color="#999999", lw=1)
    curve.plot(pos, state.column[pos], "o", **now)
    curve.plot(pos + k, state.column[pos + k], "s", **shifted)
    curve.plot(pos + k, state.pair_rotated[j % 2], "o", **rotated)  # dimension j of M_k·PE(pos)
    curve.set_ylim(-1.3, 1.3)
    curve.set_xlabel("position", fontsize=12)
    curve.set_title(f"dimension {j} ({'sine' if j % 2 == 0 else 'cosine'} of pair {i})", fontsize=12)
    dots.plot(positions, state.dots, color="#999999", lw=1)
    dots.plot(pos, state.dots[pos], "o", **now)
    dots.plot(pos + k, state.dots[pos + k], "s", **shifted)
    dots.set_xlabel("position q", fontsize=12)
    dots.set_title(f"PE({pos})·PE(q); at q = {pos + k}: {state.dots[pos + k]:.2f}", fontsize=12)
    theta = np.linspace(0, 2 * np.pi, 200)
    circle.plot(np.cos(theta), np.sin(theta), color="#cccccc", lw=1)
    start = np.arctan2(state.pair_now[0], state.pair_now[1])  # the pair is (sin, cos): angle from the cos axis
    arc = start + np.linspace(0, min(state.angle, 2 * np.pi), 60)
    circle.plot(0.8 * np.cos(arc[:-1]), 0.8 * np.sin(arc[:-1]), color="black", lw=1)
    circle.annotate("", xy=(0.8 * np.cos(arc[-1]), 0.8 * np.sin(arc[-1])),
                    xytext=(0.8 * np.cos(arc[-3]), 0.8 * np.sin(arc[-3])),
                    arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1})  # the direction M_k turns
    circle.plot(state.pair_now[1], state.pair_now[0], "o", **now)
    circle.plot(state.pair_shifted[1], state.pair_shifted[0], "s", **shifted)
    circle.plot(state.pair_rotated[1], state.pair_rotated[0], "o", **rotated)
    circle.set_aspect("equal")
    circle.set_xlim(-1.3, 1.3)
    circle.set_ylim(-1.3, 1.3)
    circle.set_xticks([-1, 0, 1])
    circle.set_yticks([-1, 0, 1])
    circle.set_xlabel(f"dimension {2 * i + 1} (cos)", fontsize=12)
    circle.set_ylabel(f"dimension {2 * i} (sin)", fontsize=12)
    circle.set_title(f"pair {i} turned by k·ω_{i} = {state.angle:.2f} rad", fontsize=12)
    for ax in (curve, dots):
        ax.set_xticks(range(0, len(positions), 40))
    for ax in axes:
        ax.tick_params(labelsize=11)


def positional_legend(fig, axes, where: str = "lower center") -> None:
    """One legend for the markers of positional_panels, outside the panels."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc=where, ncol=len(labels), fontsize=12, frameon=False)


def positional_view(state):
    """The positional widget's figure for one state: its three panels and their legend. Lesson 4."""
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 4.0), gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
    positional_panels(axes, state)
    positional_legend(fig, axes, "lower center")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def positional_widget_grid(settings=((10, 4, 5), (60, 4, 5), (10, 13, 20))):
    """The positional widget at several (position, dimension, offset) settings, one row each. Lesson 4."""
    from . import widgets  # the widget's own state function, so the figure is the widget's view

    fig, axes = plt.subplots(len(settings), 3, figsize=(10.5, 3.4 * len(settings) + 0.5), squeeze=False,
                             gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
    for row, (position, dimension, offset) in enumerate(settings):
        state = widgets.positional_state(position, dimension, offset)
        positional_panels(axes[row], state)
        axes[row][0].set_ylabel(f"pos {position}, dim {dimension}, k {offset}", fontsize=12, fontweight="bold")
    positional_legend(fig, axes[0], "upper center")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig


# ---------------------------------------------------------------- lesson 5: masking

MASK_ALLOWED_COLOUR, MASK_HIDDEN_COLOUR = "#4c72b0", "#e3e3e3"
MASKED_RUN_COLOUR, UNMASKED_RUN_COLOUR = "#4c72b0", "#c44e52"
WARNING_TEXT_COLOUR = "#a3303c"  # red text that keeps a 4.5:1 contrast on the grey of hidden cells


def mask_ax(ax, mask, query_labels, key_labels, title: str) -> None:
    """A boolean mask (T_q, T_k) as a grid: blue with a tick where the query may attend, grey where not. Lesson 5."""
    from matplotlib.colors import ListedColormap  # here, not at the top: plots.py is shared

    mask = np.asarray(mask, dtype=bool)
    ax.imshow(mask.astype(float), cmap=ListedColormap([MASK_HIDDEN_COLOUR, MASK_ALLOWED_COLOUR]), vmin=0, vmax=1)
    for (i, j), allowed in np.ndenumerate(mask):
        if allowed:
            ax.text(j, i, "✓", ha="center", va="center", color="white", fontsize=12)
    ax.set_xticks(range(mask.shape[1]), key_labels, rotation=45, ha="right", fontsize=11)
    ax.set_yticks(range(mask.shape[0]), query_labels, fontsize=11)
    ax.set_xticks(np.arange(mask.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(mask.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("key (attended to)", fontsize=11)
    ax.set_ylabel("query (attending)", fontsize=11)
    ax.set_title(title, fontsize=12)


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


def char_label(c: str) -> str:
    """A character as a tick label: a space and a line break get visible symbols."""
    return {" ": "␣", "\n": "⏎"}.get(c, c)


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
    ax.set_xticks(np.arange(mask.shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(mask.shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("key", fontsize=10)
    ax.set_ylabel("query", fontsize=10)
    ax.set_title(title, fontsize=11)


def mask_explorer_views(settings):
    """The mask widget at several masks side by side; settings is a list of (mask (T, T), title). Lesson 5."""
    from . import masking  # here, not at the top: plots.py is shared

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
    import torch  # here, not at the top: plots.py is shared

    return torch.as_tensor(mask, dtype=torch.bool)


# ---------------------------------------------------------------- lesson 6: multi-head attention


def head_maps(kinds=("random heads", "structured heads", "convolution heads")):
    """Per-head attention maps over lesson 3's sentence: one row per kind of heads, one panel per head. Lesson 6."""
    from . import conv_heads  # here, not at the top: plots.py is shared

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
    from . import conv_heads

    tokens = conv_heads.sentence_tokens()
    fig, axes = plt.subplots(1, len(settings), figsize=(3.6 * len(settings), 2.9), squeeze=False)
    for ax, (kind, head, token) in zip(axes[0], settings):
        row = conv_heads.sentence_heads(kind)[head, tokens.index(token)].numpy()  # (T,)
        weights_bar(ax, tokens, row, f"{kind[:-6]} head {head}:\n{token!r} attends to")
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
        ax.set_xlabel("weight", fontsize=10)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lesson 7: LayerNorm vs BatchNorm, norm placement


def norm_groups_ax(ax, values, kind: str | None, labels, title: str) -> None:
    """A (B·T, d_model) grid of numbers; `kind` "LayerNorm" outlines each row, "BatchNorm" each column. Lesson 7."""
    from matplotlib.patches import Rectangle

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
    import torch

    from . import normalization

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


# ---------------------------------------------------------------- lesson 8: the decoder


FRAME_COLOUR = "#0072b2"  # the row that writes: a blue that the weights' colour map never uses


def source_labels(source: str) -> list[str]:
    """Tick labels for a source string: position, then the digit, as "0:3". Lesson 8."""
    return [f"{i}:{c}" for i, c in enumerate(source)]


def decoder_step_axes(ax_self, ax_cross, source: str, step: int, read, written: str, self_weights,
                      cross_weights) -> None:
    """One generation step of the decoder on two axes: masked self-attention over what it has read, and
    cross-attention over the source; the newest query's row (the one that writes) is framed in blue. The
    cross-attention rows are labelled by the step and the digit written there, which is what a reader looks up
    (a row labelled by the token it reads was misread as the step that writes it). Lesson 8."""
    from matplotlib.patches import Rectangle  # here, not at the top: plots.py is shared

    read = list(read)
    steps = [f"{i}: {digit}" for i, digit in enumerate([*read[1:], written])]  # row i writes read[i + 1]
    attention_matrix_ax(ax_self, self_weights, read, read, f"step {step}: masked self-attention")
    ax_self.set_ylabel("query (the token it reads)", fontsize=11)
    attention_matrix_ax(ax_cross, cross_weights, steps, source_labels(source),
                        f"step {step}: cross-attention, writes {written}")
    ax_cross.set_ylabel("step: digit written", fontsize=11)
    ax_cross.set_xlabel("source position:digit (memory)", fontsize=11)
    for ax, width in ((ax_self, len(read)), (ax_cross, len(source))):
        ax.add_patch(Rectangle((-0.5, len(read) - 1.5), width, 1, fill=False, edgecolor=FRAME_COLOUR, linewidth=2.5))
        ax.set_xlim(-0.5, len(source) - 0.5)  # the same width at every step: the keys still to come stay empty
        ax.set_ylim(len(source) - 0.5, -0.5)  # the same height at every step: the rows still to come stay empty


def decoder_generation_steps(source: str | None = None, steps=(0, 2, 5)):
    """The decoder widget at several steps, one row per step: self-attention left, cross-attention right. Lesson 8."""
    from . import decoding  # here, not at the top: plots.py is shared

    source = decoding.EXAMPLE if source is None else source
    trace = decoding.generation_trace(decoding.trained_reverser().model, source)
    fig, axes = plt.subplots(len(steps), 2, figsize=(8.6, 4.0 * len(steps)), squeeze=False)
    for row, t in enumerate(steps):
        s = trace[t]
        decoder_step_axes(axes[row, 0], axes[row, 1], source, t, s.read, s.written,
                          s.self_weights.mean(dim=0).numpy(), s.cross_weights.mean(dim=0).numpy())
    fig.tight_layout()
    colour_bar(axes[0][0].images[0], axes.ravel().tolist(), "weight (mean over heads)", fraction=0.05, shrink=0.5)
    return fig


def reverser_loss(losses):
    """The toy reverser's training loss against step, log scale, with the loss of guessing. Lesson 8."""
    from . import decoding

    losses = np.asarray(losses, dtype=float)
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    ax.plot(np.arange(1, len(losses) + 1), losses, color="#4c72b0", linewidth=1.5)
    guess = np.log(len(decoding.VOCAB))
    ax.axhline(guess, ls="--", color="grey")
    ax.text(len(losses), guess * 0.8, f"guessing among {len(decoding.VOCAB)} tokens: ln {len(decoding.VOCAB)} "
            f"= {guess:.2f} ", fontsize=10, ha="right", va="top")
    ax.set_yscale("log")
    ax.set_xlabel("training step (one batch of 64 strings, all positions at once)", fontsize=11)
    ax.set_ylabel("cross-entropy (log scale)", fontsize=11)
    ax.set_title("Teacher forcing on the reversal task", fontsize=12)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- lesson 9: the date model


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


# ---------------------------------------------------------------- lesson 10: the cost of attention

LAYER_COLOURS = {"self-attention": "#c44e52", "feed-forward": "#8172b2", "recurrent": "#4c72b0",
                 "convolution": "#55a868"}
_OTHER_COLOURS = ("#4c72b0", "#c44e52", "#55a868", "#8172b2", "#dd8452", "#937860")


def loglog_ax(ax, lengths, curves: dict, ylabel: str, title: str, guides=(1, 2)) -> None:
    """Costs against T on log-log axes, one line per curve, with dashed guide lines of slope 1 and 2. Lesson 10.

    curves maps a label to its values at `lengths`. On log-log axes c T^p is a straight line of slope p; each guide
    starts at the smallest first value, so a curve parallel to it grows like T^p.
    """
    lengths = np.asarray(lengths, dtype=float)
    for i, (label, values) in enumerate(curves.items()):
        colour = LAYER_COLOURS.get(label, _OTHER_COLOURS[i % len(_OTHER_COLOURS)])
        ax.plot(lengths, values, "o-", color=colour, label=label, linewidth=2, markersize=5)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    start = 0.4 * min(np.asarray(values, dtype=float)[0] for values in curves.values())  # a little below the data
    low = min(low, start)
    for power, style in zip(guides, (":", "--", "-.")):
        guide = start * (lengths / lengths[0]) ** power
        ax.plot(lengths, guide, style, color="grey", linewidth=1)
        inside = np.nonzero(guide <= high)[0][-1]  # label the guide where it leaves the plot, or at its end
        ax.text(lengths[inside], guide[inside], f"slope {power} ", color="grey", fontsize=9, va="top", ha="right")
    ax.set_ylim(low, high)
    ax.set_xticks(lengths, [f"{int(T)}" for T in lengths], fontsize=9)
    ax.minorticks_off()
    ax.set_xlabel("sequence length T (log scale)", fontsize=11)
    ax.set_ylabel(ylabel, fontsize=11)
    ax.set_title(title, fontsize=12)
    ax.legend(fontsize=9, loc="upper left")
    ax.grid(alpha=0.3)


def cost_panels(panels, panel_size=(5.4, 4.0)):
    """Log-log cost panels side by side; panels is a list of (lengths, curves, ylabel, title). Lesson 10."""
    return side_by_side(panels, loglog_ax, panel_size)


def memory_timeline(events, T: int, title: str):
    """Memory torch holds during one forward pass, allocation by allocation, with one and two T x T matrices
    marked. events: (time in ns, +bytes or -bytes) in time order, as cost.allocation_events returns. Lesson 10."""
    times = np.array([t for t, _ in events], dtype=float)
    held = np.cumsum([nbytes for _, nbytes in events]) / 2**20  # MiB
    times = (times - times[0]) / 1e6  # ms since the first allocation
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    ax.step(times, held, where="post", color="#4c72b0", linewidth=2)
    matrix = T * T * 4 / 2**20
    for count, style in ((1, ":"), (2, "--")):
        ax.axhline(count * matrix, ls=style, color="#c44e52", linewidth=1.2,
                   label=f"{count} T×T matri{'ces' if count > 1 else 'x'} ({count * matrix:.0f} MiB)")
    ax.set_ylim(0, 2.35 * matrix)
    ax.legend(fontsize=10, loc="lower center")  # the middle of the plot, low down, is empty
    ax.set_xlabel("time during the forward pass (ms)", fontsize=11)
    ax.set_ylabel("memory held (MiB)", fontsize=11)
    ax.set_title(title, fontsize=12)
    fig.tight_layout()
    return fig


def article_bars(sentences, encoder_only, decoder_only):
    """Each model's probability of "an" in every sentence's gap, encoder-only against decoder-only. Lesson 10."""
    labels = [" ".join(s.split()[:2] + ["___"] + s.split()[3:]) for s in sentences]
    right = ["an" if s.split()[2] == "an" else "a" for s in sentences]
    y = np.arange(len(sentences))
    fig, ax = plt.subplots(figsize=(8.0, 0.42 * len(sentences) + 1.2))
    ax.barh(y - 0.2, encoder_only, height=0.4, color="#4c72b0", label="encoder-only (sees both sides)")
    ax.barh(y + 0.2, decoder_only, height=0.4, color="#c44e52", label="decoder-only (sees the left side)")
    ax.axvline(0.5, color="grey", ls=":", linewidth=1)
    ax.set_yticks(y, [f"{label}   (right: {answer})" for label, answer in zip(labels, right)], fontsize=10)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel('probability of "an" rather than "a" in the gap', fontsize=11)
    ax.legend(fontsize=9, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def mask_grid(panels, columns: int = 2, panel_size=(4.2, 4.0)):
    """Masks in a grid of `columns` per row; panels is a list of (mask, query_labels, key_labels, title). Lesson 10."""
    rows = -(-len(panels) // columns)  # ceiling
    fig, axes = plt.subplots(rows, columns, figsize=(panel_size[0] * columns, panel_size[1] * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        mask_ax(ax, *panel)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def cost_view(ax_flops, ax_memory, state, lengths=None) -> None:
    """The cost widget on two axes: predicted FLOPs and memory of each layer kind against T at the state's
    d_model, the state's T marked, and the memory measured on this machine as crosses. Lesson 10."""
    from . import cost

    lengths = np.array(lengths if lengths is not None else [2**i for i in range(4, 13)])
    for kind in cost.LAYER_KINDS:
        colour = LAYER_COLOURS[kind]
        flops = [cost.layer_flops(kind, int(T), state.d_model) for T in lengths]
        memory = [cost.layer_memory_bytes(kind, int(T), state.d_model) / 2**20 for T in lengths]
        ax_flops.plot(lengths, flops, "-", color=colour, label=kind, linewidth=2)
        ax_memory.plot(lengths, memory, "-", color=colour, label=f"{kind}, predicted", linewidth=2)
        if state.flops:
            ax_flops.plot([state.T], [state.flops[kind]], "o", color=colour, markersize=8)
            ax_memory.plot([state.T], [state.memory[kind] / 2**20], "o", color=colour, markersize=8)
        if state.measured_bytes:
            ax_memory.plot([state.T], [state.measured_bytes[kind] / 2**20], "x", color=colour, markersize=11,
                           markeredgewidth=2.5)
    for ax, ylabel, title in ((ax_flops, "FLOPs per layer (log)", "compute"),
                              (ax_memory, "peak memory, MiB (log)", "memory: line predicted, × measured")):
        ax.axvline(state.T, color="grey", ls=":", linewidth=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(lengths, [str(int(T)) for T in lengths], fontsize=9)
        ax.minorticks_off()
        ax.set_xlabel("sequence length T", fontsize=11)
        ax.set_ylabel(ylabel, fontsize=11)
        ax.set_title(f"{title}, d_model = {state.d_model}", fontsize=11)
        ax.grid(alpha=0.3)
    ax_flops.legend(fontsize=9, loc="upper left")


def cost_widget_grid(states):
    """The cost widget at several settings, one row of (FLOPs, memory) per state. Lesson 10."""
    fig, axes = plt.subplots(len(states), 2, figsize=(10.5, 3.9 * len(states)), squeeze=False)
    for (ax_flops, ax_memory), state in zip(axes, states):
        cost_view(ax_flops, ax_memory, state)
        ax_flops.set_title(f"T = {state.T}, d_model = {state.d_model}: compute", fontsize=11)
    fig.tight_layout()
    return fig
