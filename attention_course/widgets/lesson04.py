"""Lesson 4's widget: the positional encoding at work. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import plots
from ..positional import POSITIONAL_D_MODEL, POSITIONAL_NUM_POSITIONS, positional_state
from .common import assemble, show

__all__ = ["positional_explorer"]


def positional_explorer(position: int = 10, dimension: int = 4, offset: int = 5) -> w.VBox:
    """Move the position, the dimension and the offset k; see the encoding, its dot products and M_k. Lesson 4."""
    last = POSITIONAL_NUM_POSITIONS - 1
    max_offset = 31
    controls = {
        "position": w.IntSlider(value=position, min=0, max=last - max_offset, description="position",
                                continuous_update=False),
        "dimension": w.IntSlider(value=dimension, min=0, max=POSITIONAL_D_MODEL - 1, description="dimension",
                                 continuous_update=False),
        "offset": w.IntSlider(value=offset, min=0, max=max_offset, description="offset k",
                              continuous_update=False),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = positional_state(controls["position"].value, controls["dimension"].value, controls["offset"].value)
        summary.value = state.message
        show(plot, plots.positional_view(state))

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
