"""Lesson 1's widget: search as lookup. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import lookup, plots
from ..lookup import lookup_state
from .common import assemble, one_axes_figure, show

__all__ = ["lookup_explorer"]


def lookup_explorer(query: str = "cat piano", temperature: float = 1.0) -> w.VBox:
    """Type a search and move the temperature; see each video's weight and the blended result. Lesson 1."""
    controls = {
        "query": w.Text(value=query, description="search", continuous_update=False),
        "temperature": w.FloatLogSlider(value=temperature, base=10, min=-2, max=2, step=0.05,
                                        description="temperature", readout_format=".2f",
                                        continuous_update=False, style={"description_width": "initial"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = lookup_state(controls["query"].value, controls["temperature"].value)
        summary.value = state.message
        title = f"temperature {controls['temperature'].value:.2f}"
        show(plot, one_axes_figure((6.5, 3.2), lambda ax: plots.weights_bar(ax, lookup.TITLES, state.weights, title)))

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
