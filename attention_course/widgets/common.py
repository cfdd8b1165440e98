"""What every lesson's widget shares: laying out controls, a summary and a plot, and redrawing on change."""

from __future__ import annotations

import ipywidgets as w
import matplotlib.pyplot as plt
from IPython.display import display


def clear(plot: w.Output) -> None:
    """Empty what `plot` shows (when the input gives nothing to draw)."""
    with plot:
        plot.clear_output()


def show(plot: w.Output, fig) -> None:
    """Replace what `plot` shows by `fig`, then free the figure."""
    with plot:
        plot.clear_output(wait=True)
        display(fig)
    plt.close(fig)


def one_axes_figure(figsize, draw):
    """A one-axes figure drawn by `draw(ax)`."""
    fig, ax = plt.subplots(figsize=figsize)
    draw(ax)
    fig.tight_layout()
    return fig


def assemble(controls: dict, rows: list, summary: w.HTML, plot: w.Output, update) -> w.VBox:
    """Redraw on every change of a control, draw once now, and lay out: rows of controls, summary, plot.

    The box carries `.controls` and `.summary`, which the tests use to drive the widget headless.
    """
    for control in controls.values():
        control.observe(update, names="value")
    update()
    box = w.VBox([*rows, summary, plot])
    box.controls, box.summary = controls, summary
    return box
