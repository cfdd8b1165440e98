"""Lesson 9's widget: the date model. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import dates, plots
from ..dates import date_state
from .common import assemble, clear, one_axes_figure, show

__all__ = ["date_explorer"]


def date_explorer(text: str = "sat 21 nov 26", layer: int = 2) -> w.VBox:
    """Type a date; see the shipped model's ISO translation and its cross-attention over your text. Lesson 9."""
    controls = {
        "text": w.Text(value=text, description="date", continuous_update=False,
                       layout=w.Layout(width="420px")),
        "layer": w.Dropdown(options=[(f"decoder layer {i}", i) for i in
                                     range(1, len(dates.pretrained().decoder.layers) + 1)],
                            value=layer, description="attention of"),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = date_state(controls["text"].value, controls["layer"].value)
        summary.value = state.message
        if not state.answer:
            clear(plot)
            return
        def draw(ax) -> None:
            title = f"cross-attention, decoder layer {controls['layer'].value}"
            image = plots.date_attention_ax(ax, state.weights, state.text, state.answer, title)
            plots.colour_bar(image, ax, "weight")

        show(plot, one_axes_figure((0.25 * len(state.text) + 2.6, 3.6), draw))

    return assemble(controls, [w.HBox(list(controls.values()))], summary, plot, update)
