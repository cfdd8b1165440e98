"""Every heatmap can be read: a perceptually uniform, colour-blind-safe colour map, a colour bar, and cell
labels with enough contrast (WCAG's 4.5:1) against the cell they sit on."""

from __future__ import annotations

import ast
import functools
import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from attention_course import decoding, masking, normalization, plots
from attention_course import self_attention as sa

TOKENS = ["Hello", "I", "love", "you"]
UNIFORM_MAPS = {"viridis", "cividis", "magma", "inferno", "plasma", "berlin", "managua", "vanimo"}


def _weights(seed: int = 0, shape=(4, 4)) -> np.ndarray:
    return torch.softmax(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * 2, -1).numpy()


def _norm_example() -> np.ndarray:
    return np.asarray(normalization.NORM_EXAMPLE, dtype=float)


def _date_translation():
    from attention_course import dates

    return dates.Translation("21.11.26", "2026-11-21", torch.softmax(torch.randn(2, 4, 10, 8), -1))


# Every figure in plots/ that draws a heatmap (imshow), with example arguments. Axes-level helpers are
# reached through the figures that use them (named in the second element).
HEATMAPS = {
    "attention_heatmap": (lambda: plots.attention_heatmap(_weights(0, (3, 6)), list("abc"), list("uvwxyz")), ()),
    "attention_maps": (lambda: plots.attention_maps([(_weights(1), TOKENS, TOKENS, "a"),
                                                     (_weights(2), TOKENS, TOKENS, "b")]),
                       ("attention_matrix_ax", "side_by_side")),
    "dependency_maps": (lambda: plots.dependency_maps(sa.comparison_layers(4), torch.randn(6, 4)), ()),
    "positional_heatmap": (lambda: plots.positional_heatmap(20, 16), ()),
    "binary_vs_sinusoid": (lambda: plots.binary_vs_sinusoid(16, 4, 16, 8), ()),
    "position_similarity": (lambda: plots.position_similarity(16, 8), ()),
    "mask_grids": (lambda: plots.mask_grids([(masking.causal_mask(4), TOKENS, TOKENS, "causal")]), ("mask_ax",)),
    "char_attention_maps": (lambda: plots.char_attention_maps([(_weights(3, (5, 5)), "ab c\n", "x")]), ()),
    "mask_explorer_views": (lambda: plots.mask_explorer_views([(masking.causal_mask(5), "causal"),
                                                               (torch.zeros(5, 5, dtype=torch.bool), "none")]),
                            ("masked_weights_ax",)),
    "head_maps": (lambda: plots.head_maps(), ()),
    "norm_widget_grid": (lambda: plots.norm_widget_grid([(_norm_example(), "LayerNorm", "a"),
                                                         (_norm_example() * 10, "BatchNorm", "b")]),
                         ("norm_groups_ax", "norm_view")),
    "date_attention_maps": (lambda: plots.date_attention_maps([_date_translation()]), ("date_attention_ax",)),
    "decoder_generation_steps": (lambda: plots.decoder_generation_steps(decoding.EXAMPLE, steps=(0, 3)),
                                 ("decoder_step_axes",)),
}


PICTURES = {"mask_grids"}  # true/false grids with a legend in the caption, not a scale of values


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@functools.cache
def heatmap(name: str):
    """The figure HEATMAPS[name] draws, drawn once for both tests that read it (closed: only read, not shown)."""
    fig = HEATMAPS[name][0]()
    plt.close(fig)
    return fig


def functions_that_draw_heatmaps() -> set[str]:
    tree = ast.parse(inspect.getsource(plots))
    found = set()
    for node in tree.body:  # top-level functions; a nested drawing function counts for the one around it
        if isinstance(node, ast.FunctionDef):
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)]
            if any(c.func.attr == "imshow" for c in calls):
                found.add(node.name)
    return found


def test_every_heatmap_in_plots_is_checked_here():
    covered = set(HEATMAPS) | {helper for _, helpers in HEATMAPS.values() for helper in helpers}
    missing = functions_that_draw_heatmaps() - covered
    assert not missing, f"add these heatmaps to HEATMAPS in this test: {sorted(missing)}"


def is_categorical(image) -> bool:
    """Masks and bit patterns (two values at most) and RGBA overlays are pictures, not scales of values."""
    data = np.ma.filled(np.asarray(image.get_array(), dtype=float), np.nan)
    return data.ndim == 3 or len(np.unique(data[~np.isnan(data)])) <= 2


def cell_background(ax, x: float, y: float):
    """The colour drawn under the point (x, y) of `ax`: the topmost image that covers it, or white."""
    for image in reversed(ax.images):
        data = np.asarray(image.get_array())
        i, j = round(y), round(x)
        if not (0 <= i < data.shape[0] and 0 <= j < data.shape[1]):
            continue
        if data.ndim == 3:
            if data[i, j, -1] > 0:
                return tuple(data[i, j, :3])
            continue
        value = np.ma.filled(np.asarray(image.get_array(), dtype=float), np.nan)[i, j]
        if not np.isnan(value):
            return image.cmap(image.norm(value))
    return (1.0, 1.0, 1.0)


@pytest.mark.parametrize("name", sorted(HEATMAPS))
def test_heatmaps_use_a_uniform_colour_map_with_a_colour_bar(name):
    fig = heatmap(name)
    scales = [image for ax in plots.panels(fig) for image in ax.images if not is_categorical(image)]
    assert scales or name in PICTURES, f"{name} draws no heatmap"
    for image in scales:
        base = image.cmap.name.removesuffix("_r")
        assert base in UNIFORM_MAPS, f"{name} uses the colour map {image.cmap.name!r}"
        assert image.colorbar is not None or any(
            other.colorbar is not None and other.cmap.name == image.cmap.name
            and (other.norm.vmin, other.norm.vmax) == (image.norm.vmin, image.norm.vmax)
            for ax in plots.panels(fig) for other in ax.images
        ), f"{name}: a heatmap has no colour bar"


@pytest.mark.parametrize("name", sorted(HEATMAPS))
def test_labels_on_heatmap_cells_have_enough_contrast(name):
    fig = heatmap(name)
    for ax in plots.panels(fig):
        if not ax.images:
            continue
        for text in ax.texts:
            if not text.get_text().strip():
                continue
            x, y = text.get_position()
            background = cell_background(ax, x, y)
            ratio = plots.contrast_ratio(text.get_color(), background)
            assert ratio >= 4.5, f"{name}: {text.get_text()!r} has a contrast of {ratio:.2f} on its cell"


@pytest.mark.parametrize(("background", "expected"), [("white", "black"), ("black", "white"), ("#fcfdbf", "black"),
                                                      ("#000004", "white"), ("#3b0f70", "white")])
def test_text_colour_on_picks_the_readable_one(background, expected):
    assert plots.text_colour_on(background) == expected
    assert plots.contrast_ratio(expected, background) >= 4.5


def test_contrast_ratio_matches_wcag():
    assert plots.contrast_ratio("black", "white") == pytest.approx(21.0)
    assert plots.contrast_ratio("white", "white") == pytest.approx(1.0)
    assert plots.contrast_ratio("#767676", "white") == pytest.approx(4.54, abs=0.01)  # the classic AA grey


def test_the_old_colours_would_fail():
    """The checks can fail: black on the darkest red of the old norm grid, white on a pale cell."""
    assert plots.contrast_ratio("black", "#b40426") < 4.5
    assert plots.contrast_ratio("white", plt.get_cmap(plots.WEIGHTS_CMAP)(0.1)) < 4.5
