"""Lesson 6's widget: one head's weights over the sentence. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import conv_heads, plots
from ..conv_heads import head_state
from .common import assemble, one_axes_figure, show

__all__ = ["head_explorer"]


def head_explorer(kind: str = "structured heads", head: int = 0, token: str = "love") -> w.VBox:
    """Choose a kind of heads, a head and a query token; see that head's weights over the sentence. Lesson 6."""
    tokens = conv_heads.sentence_tokens()
    controls = {
        "kind": w.Dropdown(options=list(conv_heads.HEAD_KINDS), value=kind, description="heads"),
        "head": w.IntSlider(value=head, min=0, max=len(conv_heads.head_names(kind)) - 1, description="head",
                            continuous_update=False),
        "token": w.ToggleButtons(options=tokens, value=token, description="query",
                                 style={"button_width": "70px"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        controls["head"].max = len(conv_heads.head_names(controls["kind"].value)) - 1  # clamps the value too
        state = head_state(controls["kind"].value, controls["head"].value, controls["token"].value)
        summary.value = state.message
        title = f"{controls['kind'].value[:-6]} head {controls['head'].value}: {controls['token'].value!r} attends to"
        show(plot, one_axes_figure((6.0, 2.6), lambda ax: plots.weights_bar(ax, list(state.tokens), state.weights,
                                                                              title)))

    rows = [w.HBox([controls["kind"], controls["head"]]), controls["token"]]
    return assemble(controls, rows, summary, plot, update)
