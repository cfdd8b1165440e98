"""Lesson 6's head widget, driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from attention_course import conv_heads, plots, widgets


def test_default_shows_the_structured_head():
    box = widgets.head_explorer()
    assert set(box.controls) == {"kind", "head", "token"}
    assert "<b>love</b> attends most to <b>I</b> and <b>you</b>" in box.summary.value


def test_convolution_heads_and_the_head_range_follow_the_kind():
    box = widgets.head_explorer()
    box.controls["kind"].value = "convolution heads"
    assert box.controls["head"].max == 2
    box.controls["head"].value = 0
    box.controls["token"].value = "you"
    assert "attends most to <b>love</b> (1.00)" in box.summary.value
    box.controls["token"].value = "Hello"
    assert "no key to attend to" in box.summary.value
    box.controls["kind"].value = "random heads"
    assert box.controls["head"].max == 3
    box.controls["head"].value = 3
    box.controls["kind"].value = "structured heads"
    assert box.controls["head"].value == 1  # clamped
    assert "structured head 1" in box.summary.value


@pytest.mark.parametrize(("args", "needle"), [(("cnn", 0, "love"), "Pick one of"),
                                              (("random heads", 7, "love"), "numbered 0 to 3"),
                                              (("random heads", True, "love"), "numbered"),
                                              (("random heads", 0, "cats"), "Pick one of the tokens")])
def test_bad_input_gets_a_sentence(args, needle):
    state = conv_heads.head_state(*args)
    assert needle in state.message and not np.any(state.weights)


def test_weights_sum_to_one_for_content_heads():
    for head in range(4):
        assert abs(conv_heads.head_state("random heads", head, "I").weights.sum() - 1) < 1e-6


def test_static_figures():
    assert len(plots.panels(plots.head_maps())) == 12
    assert len(plots.head_explorer_views().axes) == 3
