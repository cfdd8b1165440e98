"""What the figures of every lesson share: colour maps, contrast, heatmaps and colour bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, to_rgb

__all__ = [
    "MASK_ALLOWED_COLOUR",
    "MASK_HIDDEN_COLOUR",
    "SIGNED_CMAP",
    "WEIGHTS_CMAP",
    "attention_matrix_ax",
    "cell_borders",
    "cell_text_colour",
    "char_label",
    "colour_bar",
    "contrast_ratio",
    "mask_ax",
    "panels",
    "relative_luminance",
    "side_by_side",
    "text_colour_on",
    "weights_bar",
]

# Heatmaps use perceptually uniform, colour-blind-safe colour maps and always carry a colour bar.
WEIGHTS_CMAP = "magma_r"  # values from 0 up (attention weights): pale cream at 0, darker = larger


SIGNED_CMAP = "berlin"  # values of either sign: light blue below 0, black at 0, light red above


def relative_luminance(colour) -> float:
    """WCAG relative luminance of a matplotlib colour, from 0 (black) to 1 (white)."""
    channels = np.array(to_rgb(colour))
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(foreground, background) -> float:
    """WCAG contrast ratio of two colours, from 1 to 21; text needs at least 4.5."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_colour_on(background) -> str:
    """Black or white, whichever has the higher contrast on `background`."""
    return "black" if contrast_ratio("black", background) >= contrast_ratio("white", background) else "white"


def cell_text_colour(image, value: float) -> str:
    """The colour for a label printed on a heatmap cell of `image` that shows `value`."""
    return text_colour_on(image.cmap(image.norm(value)))


def panels(fig) -> list:
    """The figure's plotting axes, without its colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def colour_bar(image, axes, label: str | None = None, **kwargs):
    """A slim colour bar for `image` beside `axes` (one axes or several)."""
    bar = image.axes.figure.colorbar(image, ax=axes, fraction=kwargs.pop("fraction", 0.046),
                                     pad=kwargs.pop("pad", 0.03), **kwargs)
    bar.ax.tick_params(labelsize=9)
    if label:
        bar.set_label(label, fontsize=10)
    return bar


def weights_bar(ax, titles, weights, title: str) -> None:
    """Horizontal bars, one per item, the largest in a darker colour."""
    colours = ["#c44e52" if i == int(np.argmax(weights)) else "#8da0cb" for i in range(len(weights))]
    y = np.arange(len(titles))
    ax.barh(y, weights, color=colours)
    ax.set_yticks(y, titles)
    ax.invert_yaxis()  # first video on top
    ax.set_xlim(0, 1)
    ax.set_xlabel("weight")
    ax.set_title(title, fontsize=10)
    for yi, w in zip(y, weights):
        ax.text(min(w + 0.02, 0.8), yi, f"{w:.2f}", va="center", fontsize=8)


def attention_matrix_ax(ax, weights, query_labels, key_labels, title: str, vmax: float = 1.0) -> None:
    """Attention weights (T_q, T_k) on one axes: a row per query, a column per key, each cell labelled. Lesson 3."""
    weights = np.asarray(weights, dtype=float)
    image = ax.imshow(weights, cmap=WEIGHTS_CMAP, vmin=0, vmax=vmax, aspect="equal")
    for (i, j), weight in np.ndenumerate(weights):
        ax.text(j, i, f"{weight:.2f}", ha="center", va="center", fontsize=11, color=cell_text_colour(image, weight))
    ax.set_xticks(range(weights.shape[1]), key_labels, fontsize=11)
    ax.set_yticks(range(weights.shape[0]), query_labels, fontsize=11)
    ax.set_xlabel("key (attended to)", fontsize=11)
    ax.set_ylabel("query (attending)", fontsize=11)
    ax.set_title(title, fontsize=12)


def side_by_side(panels, draw, panel_size: tuple[float, float], suptitle: str | None = None,
                 colour_label: str | None = None):
    """One axes per panel in a row, each drawn by `draw(ax, *panel)`; returns the Figure.

    With `colour_label`, the panels are heatmaps on one colour scale and share one colour bar.
    """
    width, height = panel_size
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels) + (0.6 if colour_label else 0), height),
                             squeeze=False)
    for ax, panel in zip(axes[0], panels):
        draw(ax, *panel)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    if colour_label:
        colour_bar(axes[0][0].images[0], list(axes[0]), colour_label, fraction=0.1 / len(panels), shrink=0.8)
    return fig


MASK_ALLOWED_COLOUR, MASK_HIDDEN_COLOUR = "#4c72b0", "#e3e3e3"


def cell_borders(ax, shape: tuple[int, int]) -> None:
    """White lines between the cells of a (rows, columns) grid drawn with imshow. Lesson 5's masks."""
    ax.set_xticks(np.arange(shape[1] + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(shape[0] + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)


def mask_ax(ax, mask, query_labels, key_labels, title: str) -> None:
    """A boolean mask (T_q, T_k) as a grid: blue with a tick where the query may attend, grey where not. Lesson 5."""
    mask = np.asarray(mask, dtype=bool)
    ax.imshow(mask.astype(float), cmap=ListedColormap([MASK_HIDDEN_COLOUR, MASK_ALLOWED_COLOUR]), vmin=0, vmax=1)
    for (i, j), allowed in np.ndenumerate(mask):
        if allowed:
            ax.text(j, i, "✓", ha="center", va="center", color="white", fontsize=12)
    ax.set_xticks(range(mask.shape[1]), key_labels, rotation=45, ha="right", fontsize=11)
    ax.set_yticks(range(mask.shape[0]), query_labels, fontsize=11)
    cell_borders(ax, mask.shape)
    ax.set_xlabel("key (attended to)", fontsize=11)
    ax.set_ylabel("query (attending)", fontsize=11)
    ax.set_title(title, fontsize=12)


def char_label(c: str) -> str:
    """A character as a tick label: a space and a line break get visible symbols."""
    return {" ": "␣", "\n": "⏎"}.get(c, c)
