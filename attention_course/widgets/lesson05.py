"""Lesson 5's widget: build a mask by clicking. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import html

import ipywidgets as w
import numpy as np

from .. import masking, plots
from ..masking import mask_state
from .common import one_axes_figure, show

__all__ = ["mask_explorer"]


def mask_explorer(mask: str = "causal") -> w.VBox:
    """Click a T × T grid to build a mask and see the attention weights it gives. Lesson 5.

    `mask` is the starting mask: "causal", "all allowed" or "none allowed". Each toggle is one (query, key)
    cell, named "i,j" in `.controls`; the buttons "causal", "all allowed" and "none allowed" reset the grid.
    """
    tokens = masking.EXAMPLE_TOKENS
    T = len(tokens)
    presets = {
        "causal": np.tril(np.ones((T, T), dtype=bool)),
        "all allowed": np.ones((T, T), dtype=bool),
        "none allowed": np.zeros((T, T), dtype=bool),
    }
    if mask not in presets:
        raise ValueError(f"mask must be one of {list(presets)}; got {mask!r}")
    cells = {
        f"{i},{j}": w.ToggleButton(value=bool(presets[mask][i, j]), tooltip=f"may {tokens[i]} attend to {tokens[j]}?",
                                   layout=w.Layout(width="58px", height="30px"))
        for i in range(T) for j in range(T)
    }
    buttons = {name: w.Button(description=name, layout=w.Layout(width="110px")) for name in presets}
    controls = {**cells, **buttons}
    summary = w.HTML()
    plot = w.Output()
    holding = [False]  # True while a preset sets many cells: redraw once, not T·T times

    def current() -> np.ndarray:
        return np.array([[cells[f"{i},{j}"].value for j in range(T)] for i in range(T)], dtype=bool)

    def update(_change=None) -> None:
        if holding[0]:
            return
        for cell in cells.values():
            cell.description = "✓" if cell.value else "·"
            cell.button_style = "info" if cell.value else ""
        state = mask_state(current())
        summary.value = state.message
        title = "attention weights under this mask"
        def draw(ax) -> None:
            plots.masked_weights_ax(ax, state.mask, state.weights, list(tokens), title)
            plots.colour_bar(ax.images[0], ax, "weight")

        show(plot, one_axes_figure((4.6, 4.2), draw))

    def preset(name: str):
        def apply(_button=None) -> None:
            holding[0] = True
            try:
                for (i, j), allowed in np.ndenumerate(presets[name]):
                    cells[f"{i},{j}"].value = bool(allowed)
            finally:
                holding[0] = False
            update()
        return apply

    for cell in cells.values():
        cell.observe(update, names="value")
    for name, button in buttons.items():
        button.on_click(preset(name))
    update()
    label = w.Layout(width="58px", height="30px")
    header = [w.HTML("<b>query ↓ key →</b>", layout=w.Layout(width="110px"))]
    header += [w.HTML(f"<b>{html.escape(t)}</b>", layout=label) for t in tokens]
    rows = [w.HBox(header)]
    for i, token in enumerate(tokens):
        rows.append(w.HBox([w.HTML(f"<b>{html.escape(token)}</b>", layout=w.Layout(width="110px"))]
                           + [cells[f"{i},{j}"] for j in range(T)]))
    grid = w.VBox([*rows, w.HBox(list(buttons.values()))])
    box = w.VBox([w.HBox([grid, plot]), summary])
    box.controls, box.summary = controls, summary
    return box
