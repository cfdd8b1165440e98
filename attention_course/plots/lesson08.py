"""Lesson 8's figures: the decoder. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .. import decoding
from .common import attention_matrix_ax, colour_bar

__all__ = [
    "FRAME_COLOUR", "decoder_generation_steps", "decoder_step_axes", "reverser_loss", "source_labels",
]

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
