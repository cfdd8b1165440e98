"""Lesson 10's widget: what each layer costs. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt

from .. import plots
from ..cost import COST_LENGTHS, COST_WIDTHS, cost_state
from .common import assemble, show

__all__ = ["cost_explorer"]


def cost_explorer(T: int = 1024, d_model: int = 64, measure: bool = True) -> w.VBox:
    """Choose T and d_model; see the predicted FLOPs and memory of self-attention, feed-forward, recurrent and
    convolution layers, next to the time and memory measured on this machine. Lesson 10."""
    controls = {
        "T": w.SelectionSlider(options=list(COST_LENGTHS), value=T, description="T", continuous_update=False),
        "d_model": w.Dropdown(options=list(COST_WIDTHS), value=d_model, description="d_model"),
        "measure": w.Checkbox(value=measure, description="measure on this machine"),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = cost_state(controls["T"].value, controls["d_model"].value, controls["measure"].value)
        summary.value = state.message
        fig, (ax_flops, ax_memory) = plt.subplots(1, 2, figsize=(10.5, 3.9))
        plots.cost_view(ax_flops, ax_memory, state)
        fig.tight_layout()
        show(plot, fig)

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
