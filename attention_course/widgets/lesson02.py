"""Lesson 2's widget: why scale by 1/√d_k. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import plots, scaling
from ..scaling import scaling_state
from .common import assemble, one_axes_figure, show

__all__ = ["scaling_explorer"]


def scaling_explorer(d_k: int = 64, scaled: bool = False) -> w.VBox:
    """Move d_k and switch the 1/√d_k scale on and off; see the weights of 16 keys and their entropy. Lesson 2."""
    controls = {
        "d_k": w.SelectionSlider(options=list(scaling.EXAMPLE_D_KS), value=d_k, description="d_k",
                                 continuous_update=False),
        "scaled": w.Checkbox(value=scaled, description="scale by 1/√d_k", indent=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = scaling_state(controls["d_k"].value, controls["scaled"].value)
        summary.value = state.message
        label = "scaled by 1/√d_k" if state.scaled else "not scaled"
        title = f"d_k = {state.d_k}, {label}: entropy {state.entropy:.2f} bits"
        show(plot, one_axes_figure((6.5, 3), lambda ax: plots.key_weights_bar(ax, state.weights, title)))

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
