"""Lesson 7's LayerNorm-vs-BatchNorm widget: its plain state function, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from attention_course import normalization, plots, widgets

LABELS = normalization.token_labels(2, 3)
EXAMPLE = np.array(normalization.NORM_EXAMPLE)  # (B, T, d_model) = (2, 3, 4)


def _rows(x):
    return {label: ", ".join(f"{v:g}" for v in row) for label, row in zip(LABELS, np.reshape(x, (6, 4)))}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- norm_state, the widget's plain function


def test_state_outputs_equal_torch():
    x = np.round(np.random.default_rng(0).normal(size=(2, 3, 4)) * 5, 2)
    state = normalization.norm_state(_rows(x), "LayerNorm")
    np.testing.assert_allclose(state.x, x)  # parsed back from "%g" text, which keeps every digit of these
    t = torch.tensor(x)
    # float64 by other routes than torch's: rounding near 1e-16, atol 1e-9 leaves room and still sees any mistake
    np.testing.assert_allclose(state.layer, torch.nn.functional.layer_norm(t, (4,)).numpy(), atol=1e-9)
    batch = torch.nn.BatchNorm1d(4).double().train()(t.transpose(1, 2)).transpose(1, 2)  # (B, d, T) -> (B, T, d)
    np.testing.assert_allclose(state.batch, batch.detach().numpy(), atol=1e-9)


def test_layer_norm_message_names_its_axis():
    state = normalization.norm_state(_rows(EXAMPLE), "LayerNorm")
    assert state.kind == "LayerNorm"
    assert "each token over its own 4 features: 6 groups of 4 numbers" in state.message
    assert "last axis" in state.message


def test_batch_norm_message_names_its_axes_and_the_means():
    state = normalization.norm_state(_rows(EXAMPLE), "BatchNorm")
    assert "each feature over all 6 tokens of both sentences: 4 groups of 6 numbers" in state.message
    assert str(np.round(EXAMPLE.mean(axis=(0, 1)), 2).tolist()) in state.message


def test_changing_sentence_2_changes_only_batchnorm_for_sentence_1():
    before = normalization.norm_state(_rows(EXAMPLE), "BatchNorm")
    x = EXAMPLE.copy()
    x[1] = x[1] * 3 + 1
    after = normalization.norm_state(_rows(x), "BatchNorm")
    # sentence 1's LayerNorm rows, computed beside other rows: equal up to float64 rounding (atol 1e-12), while
    # BatchNorm moves them by more than 0.1
    np.testing.assert_allclose(after.layer[0], before.layer[0], atol=1e-12)
    assert np.abs(after.batch[0] - before.batch[0]).max() > 0.1


def test_a_constant_token_is_explained():
    rows = _rows(EXAMPLE)
    rows["s1 t2"] = "5 5 5 5"
    state = normalization.norm_state(rows, "LayerNorm")
    assert "s1 t2: every feature equal" in state.message
    np.testing.assert_allclose(state.layer[0, 1], np.zeros(4), atol=1e-9)


def test_a_list_of_strings_works_too():
    rows = list(_rows(EXAMPLE).values())
    np.testing.assert_allclose(normalization.norm_state(rows).x, EXAMPLE)


@pytest.mark.parametrize(("text", "needle"), [
    ("1, 2, 3", "Token s2 t1 needs 4 numbers separated by commas or spaces; it has 3."),
    ("1, two, 3, 4", "is not a list of numbers"),
    ("1 2 3 nan", "finite numbers only"),
    ("", "it has 0"),
    ("<b>x</b>", "&lt;b&gt;"),
])
def test_bad_input_gets_a_sentence_and_no_exception(text, needle):
    rows = _rows(EXAMPLE)
    rows["s2 t1"] = text
    state = normalization.norm_state(rows, "BatchNorm")
    assert needle in state.message
    assert (state.x == 0).all() and (state.layer == 0).all() and (state.batch == 0).all()  # exact: zeros, no arithmetic


def test_wrong_kind_and_wrong_count_are_explained():
    assert normalization.norm_state(_rows(EXAMPLE), "GroupNorm").message == "Choose LayerNorm or BatchNorm."
    assert "Give 6 tokens" in normalization.norm_state(["1 2 3 4"] * 5).message


# ---------------------------------------------------------------- the widget, driven headless


def test_the_widget_starts_on_the_example_and_follows_its_controls():
    box = widgets.norm_explorer("LayerNorm")
    assert set(box.controls) == {*LABELS, "kind"}
    assert box.controls["s1 t1"].value == "1, 2, 3, 4"
    assert "<b>LayerNorm</b>" in box.summary.value
    box.controls["kind"].value = "BatchNorm"
    assert "<b>BatchNorm</b>" in box.summary.value
    box.controls["s1 t1"].value = "100, 0, 0, 0"
    assert "[19.33," in box.summary.value  # the first feature's mean over the 6 tokens: (100+2+0+10+3+1)/6
    box.controls["s2 t3"].value = "oops"
    assert "Token s2 t3" in box.summary.value and "not a list of numbers" in box.summary.value


def test_the_widget_can_start_on_batchnorm():
    box = widgets.norm_explorer("BatchNorm")
    assert box.controls["kind"].value == "BatchNorm" and "<b>BatchNorm</b>" in box.summary.value


# ---------------------------------------------------------------- the figures behind it


def test_norm_view_outlines_rows_or_columns():
    for kind, count in (("LayerNorm", 6), ("BatchNorm", 4)):
        _fig, axes = plt.subplots(1, 3)
        plots.norm_view(axes, EXAMPLE, kind)
        assert len(axes[0].patches) == count  # one outline per group
        assert len(axes[1].patches) == 6 and len(axes[2].patches) == 4
        assert [t.get_text() for t in axes[0].get_yticklabels()] == LABELS


def test_the_static_grid_and_the_placement_figure():
    fig = plots.norm_widget_grid([(EXAMPLE, "LayerNorm", "a"), (EXAMPLE * 2, "BatchNorm", "b")])
    assert len(plots.panels(fig)) == 6 and fig.axes[0].get_ylabel() == "a"
    fig = plots.norm_placement([1, 2, 3], [3, 2, 1], [2.0, 1.0], [2.0, 0.5], 1e-3)
    assert len(fig.axes) == 2 and "no warm-up" in fig.axes[1].get_title()
    assert len(fig.axes[1].lines) == 2  # no plateau unless one is given
    fig = plots.norm_placement([1, 2, 3], [3, 2, 1], [2.0, 1.0], [2.0, 0.5], 1e-3, plateau=1.5)
    assert len(fig.axes[1].lines) == 3 and list(fig.axes[1].lines[-1].get_ydata()) == [1.5, 1.5]
