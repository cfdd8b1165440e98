"""Lesson 7's widget: LayerNorm against BatchNorm on a small batch. It lays out controls; the state it shows comes from a plain function."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np

from .. import normalization, plots
from ..normalization import norm_state
from .common import assemble, show

__all__ = ["norm_explorer"]


def norm_explorer(kind: str = "LayerNorm") -> w.VBox:
    """Type the features of 6 tokens (2 sentences of 3); see which numbers LayerNorm and BatchNorm normalise
    together, and their outputs. Lesson 7."""
    B, T, d_model = np.shape(normalization.NORM_EXAMPLE)
    labels = normalization.token_labels(B, T)
    example = np.reshape(normalization.NORM_EXAMPLE, (B * T, d_model))
    controls = {
        label: w.Text(value=", ".join(f"{v:g}" for v in row), description=label, continuous_update=False,
                      layout=w.Layout(width="210px"))
        for label, row in zip(labels, example)
    }
    controls["kind"] = w.ToggleButtons(options=["LayerNorm", "BatchNorm"], value=kind, description="outline")
    summary = w.HTML()
    plot = w.Output()

    def update(_change=None) -> None:
        state = norm_state({label: controls[label].value for label in labels}, controls["kind"].value)
        summary.value = state.message
        fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.1))
        plots.norm_view(axes, state.x, state.kind)
        fig.tight_layout()
        show(plot, fig)

    sentences = [w.HBox([controls[label] for label in labels[b * T:(b + 1) * T]]) for b in range(B)]
    return assemble(controls, [*sentences, controls["kind"]], summary, plot, update)
