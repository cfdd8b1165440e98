"""Lesson 8's widget: the decoder, step by step. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt

from .. import decoding, plots
from ..decoding import decoder_step_state
from .common import assemble, clear, show

__all__ = ["decoder_explorer"]


def decoder_explorer(source: str | None = None, step: int = 0) -> w.VBox:
    """Type 6 digits and move the step slider; see the decoder's masked self-attention and cross-attention
    at each step of generating their reverse. Lesson 8."""
    source = decoding.EXAMPLE if source is None else source
    controls = {
        "source": w.Text(value=source, description="source", continuous_update=False),
        "step": w.IntSlider(value=step, min=0, max=decoding.LENGTH - 1, description="step", continuous_update=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = decoder_step_state(controls["source"].value, controls["step"].value)
        summary.value = state.message
        if not state.written:
            clear(plot)
            return
        fig, (ax_self, ax_cross) = plt.subplots(1, 2, figsize=(8.6, 4.2))
        plots.decoder_step_axes(ax_self, ax_cross, state.source, state.step, state.read, state.written,
                                state.self_weights, state.cross_weights)
        fig.tight_layout()
        plots.colour_bar(ax_self.images[0], [ax_self, ax_cross], "weight (mean over heads)", shrink=0.8)
        show(plot, fig)

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
