"""Interactive widgets (ipywidgets 8). Each is a function that returns a layout.

The work happens in a plain function (such as `lookup_state`) that the tests call directly;
the widget only reads its controls, calls that function, and shows the answer. Tests drive a
widget headless by setting `widget.controls[name].value` and reading `widget.summary.value`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from . import lookup, plots


@dataclass(frozen=True)
class LookupState:
    """Everything the lookup widget shows, for one query text and temperature."""

    query: np.ndarray  # (d_k,)
    weights: np.ndarray  # (N,), all zeros when there is nothing to show
    output: np.ndarray  # (d_v,)
    message: str  # one plain HTML sentence: the answer, or what is wrong with the input


def lookup_state(query_text: str, temperature: float) -> LookupState:
    """The soft lookup for `query_text` at `temperature`, with a sentence that explains it."""
    query = lookup.embed_query(query_text)
    empty = LookupState(query, np.zeros(len(lookup.TITLES)), np.zeros(lookup.VALUES.shape[1]), "")
    if not np.isfinite(temperature) or temperature <= 0:
        return LookupState(query, empty.weights, empty.output, "The temperature must be a positive number.")
    output, weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, temperature)
    best = int(np.argmax(weights))
    words = lookup.known_words(query_text)
    if words:
        heard = f"Understood: <b>{html.escape(' '.join(words))}</b>. "
    else:
        heard = ("No word I know, so every score is 0. "
                 f"Try words such as {', '.join(sorted(set(list(lookup.VOCABULARY)[::5])))}. ")
    if np.ptp(weights) < 1e-12:
        top = f"Every video gets weight {weights[0]:.3f}"
    else:
        top = f"Top video: <b>{html.escape(lookup.TITLES[best])}</b> with weight {weights[best]:.2f}"
    message = (
        f"{heard}{top}; "
        f"the soft lookup returns {output[0]:.1f} minutes and {output[1]:.2f} stars "
        f"(entropy {lookup.entropy_bits(weights):.2f} bits)."
    )
    return LookupState(query, weights, output, message)


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
        with plot:
            plot.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6.5, 3.2))
            plots.weights_bar(ax, lookup.TITLES, state.weights, f"temperature {controls['temperature'].value:.2f}")
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([w.HBox(list(controls.values())), summary, plot])
    box.controls, box.summary = controls, summary
    return box
