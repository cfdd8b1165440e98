"""Lesson 10's figures: the cost of attention. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import cost
from .common import mask_ax, side_by_side

__all__ = [
    "LAYER_COLOURS", "article_bars", "cost_panels", "cost_view", "cost_widget_grid", "loglog_ax", "mask_grid",
    "memory_timeline",
]

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
