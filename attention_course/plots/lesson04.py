"""Lesson 4's figures: positional encoding. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import positional
from .common import SIGNED_CMAP, colour_bar

__all__ = [
    "POSITION_COLOUR", "SHIFTED_COLOUR", "binary_vs_sinusoid", "position_similarity", "positional_columns",
    "positional_heatmap", "positional_legend", "positional_panels", "positional_view", "positional_widget_grid",
]

POSITION_COLOUR, SHIFTED_COLOUR = "#4c72b0", "#c44e52"  # PE(pos) and PE(pos + k) in lesson 4's figures


def positional_heatmap(num_positions: int = 100, d_model: int = 64):
    """The sinusoidal encoding as an image: one row per position, one column per dimension. Lesson 4."""
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
    """The positional widget's three panels for one state (positional.positional_state). Lesson 4.

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
    fig, axes = plt.subplots(len(settings), 3, figsize=(10.5, 3.4 * len(settings) + 0.5), squeeze=False,
                             gridspec_kw={"width_ratios": [1.2, 1.2, 1]})
    for row, (position, dimension, offset) in enumerate(settings):
        state = positional.positional_state(position, dimension, offset)
        positional_panels(axes[row], state)
        axes[row][0].set_ylabel(f"pos {position}, dim {dimension}, k {offset}", fontsize=12, fontweight="bold")
    positional_legend(fig, axes[0], "upper center")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    return fig
