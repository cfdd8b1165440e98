"""Lesson 3's widget: one token's attention over a sentence. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w

from .. import plots
from .. import self_attention as sa
from ..self_attention import token_attention_state
from .common import assemble, one_axes_figure, show

__all__ = ["token_attention_explorer"]


def token_attention_explorer(token: str = "love", weights: str = "hand-designed", strength: float = 6.0,
                             seed: int = 0) -> w.VBox:
    """Pick a token of "Hello I love you" and see its attention, with hand-designed or random weights. Lesson 3."""
    tokens = sa.tokenize(sa.SENTENCE)
    controls = {
        "token": w.ToggleButtons(options=tokens, value=token, description="token",
                                 style={"button_width": "70px"}),
        "weights": w.ToggleButtons(options=["hand-designed", "random"], value=weights, description="weights"),
        "strength": w.FloatSlider(value=strength, min=0.0, max=10.0, step=0.1, description="strength",
                                  readout_format=".1f", continuous_update=False),
        "seed": w.IntSlider(value=seed, min=0, max=9, description="random seed", continuous_update=False,
                            style={"description_width": "initial"}),
    }
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        controls["seed"].disabled = controls["weights"].value != "random"  # the seed only picks random weights
        state = token_attention_state(controls["token"].value, controls["weights"].value,
                                      controls["strength"].value, controls["seed"].value)
        summary.value = state.message
        title = f"{controls['token'].value!r} attends to ({controls['weights'].value} weights)"
        show(plot, one_axes_figure((6.0, 2.6), lambda ax: plots.weights_bar(ax, list(state.tokens), state.weights, title)))

    rows = [w.HBox([controls["token"], controls["weights"]]), w.HBox([controls["strength"], controls["seed"]])]
    return assemble(controls, rows, summary, plot, update)
