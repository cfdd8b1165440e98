"""Lesson 2's scaling widget: its plain state function, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import scaling, widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- scaling_state, the widget's plain function


@pytest.mark.parametrize(("d_k", "scaled"), [(4, False), (4, True), (64, False), (1024, False), (1024, True)])
def test_state_shows_the_example_weights_and_their_entropy(d_k, scaled):
    state = scaling.scaling_state(d_k, scaled)
    scores, weights = scaling.example(d_k, scaled)
    np.testing.assert_array_equal(state.scores, scores)  # exact: the widget calls this very function
    np.testing.assert_array_equal(state.weights, weights)
    assert state.entropy == pytest.approx(scaling.entropy_bits(weights))
    assert (state.d_k, state.scaled) == (d_k, scaled)
    best = int(np.argmax(weights))
    assert f"d_k = {d_k}," in state.message
    assert f"Key {best + 1} takes weight <b>{weights[best]:.2f}</b>" in state.message
    assert f"<b>{state.entropy:.2f} bits</b>" in state.message
    assert f"standard deviation {scores.std():.2f}" in state.message
    assert ("scaled by 1/√d_k" in state.message) == scaled
    assert ("<b>not</b> scaled" in state.message) == (not scaled)


def test_state_shows_saturation_without_the_scale_and_none_with_it():
    unscaled, scaled = scaling.scaling_state(1024, False), scaling.scaling_state(1024, True)
    assert unscaled.weights.max() > 0.99
    assert unscaled.entropy < 0.1
    assert scaled.weights.max() < 0.5
    assert scaled.entropy > 3
    assert np.argmax(unscaled.weights) == np.argmax(scaled.weights)  # the best score leads by 6.5: no near tie


def test_scaled_scores_have_a_spread_near_one_at_every_d_k():
    scaled = [scaling.scaling_state(d_k, True) for d_k in scaling.EXAMPLE_D_KS]
    unscaled = [scaling.scaling_state(d_k, False) for d_k in scaling.EXAMPLE_D_KS]
    assert all(0.3 < state.scores.std() < 2 for state in scaled)  # 16 scores: a noisy estimate of 1
    assert unscaled[-1].scores.std() > 10 * max(state.scores.std() for state in scaled)
    assert all("(1 on average)" in state.message for state in scaled)
    assert all(f"(√d_k = {np.sqrt(state.d_k):.1f} on average)" in state.message for state in unscaled)


@pytest.mark.parametrize("numpy_int", [np.int32(64)])
def test_numpy_integers_are_accepted(numpy_int):
    assert scaling.scaling_state(numpy_int, True).message == scaling.scaling_state(64, True).message


@pytest.mark.parametrize("d_k", [0, 1025, 64.0, "64", True, float("nan")])
def test_bad_d_k_gives_a_message_not_an_exception(d_k):
    state = scaling.scaling_state(d_k, False)
    assert state.message.startswith("d_k must be a whole number from 1 to 1024")
    np.testing.assert_array_equal(state.weights, np.zeros(scaling.EXAMPLE_NUM_KEYS))  # exact: the zeros it returns
    assert state.entropy == 0.0


def test_bad_input_is_escaped_in_the_message():
    message = scaling.scaling_state("<script>alert(1)</script>", True).message
    assert "<script" not in message
    assert "&lt;script&gt;" in message


def test_messages_are_one_line_without_traceback():
    for d_k, scaled in [(4, False), (1024, True), (0, True), ("x", False)]:
        message = scaling.scaling_state(d_k, scaled).message
        assert "\n" not in message and "Traceback" not in message


# ---------------------------------------------------------------- scaling_explorer, headless


def test_explorer_builds_with_its_controls():
    box = widgets.scaling_explorer()
    assert isinstance(box, w.VBox)
    assert set(box.controls) == {"d_k", "scaled"}
    slider, toggle = box.controls["d_k"], box.controls["scaled"]
    assert isinstance(slider, w.SelectionSlider)
    assert tuple(slider.options) == scaling.EXAMPLE_D_KS
    assert slider.value == 64
    assert isinstance(toggle, (w.Checkbox, w.ToggleButton))
    assert toggle.value is False
    assert "1/√d_k" in toggle.description
    assert box.summary in box.children
    assert box.summary.value == scaling.scaling_state(64, False).message


def test_explorer_follows_the_slider_and_the_toggle():
    box = widgets.scaling_explorer(d_k=4, scaled=False)
    assert box.summary.value == scaling.scaling_state(4, False).message
    for d_k in scaling.EXAMPLE_D_KS:
        box.controls["d_k"].value = d_k
        assert box.summary.value == scaling.scaling_state(d_k, False).message
    box.controls["scaled"].value = True
    assert box.summary.value == scaling.scaling_state(1024, True).message
    box.controls["d_k"].value = 16
    assert box.summary.value == scaling.scaling_state(16, True).message
    box.controls["scaled"].value = False
    assert "<b>not</b> scaled" in box.summary.value


def test_slider_refuses_a_value_it_does_not_offer():
    box = widgets.scaling_explorer()
    before = box.summary.value
    with pytest.raises(Exception):  # a traitlets error, raised by the control itself  # noqa: B017
        box.controls["d_k"].value = 100
    assert box.summary.value == before


@pytest.mark.parametrize(("d_k", "scaled"), [(4, True), (1024, False)])
def test_explorer_initial_values(d_k, scaled):
    box = widgets.scaling_explorer(d_k=d_k, scaled=scaled)
    assert box.controls["d_k"].value == d_k
    assert box.controls["scaled"].value is scaled
    assert box.summary.value == scaling.scaling_state(d_k, scaled).message


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.scaling_explorer()
    for d_k in (4, 256, 1024):
        box.controls["d_k"].value = d_k
    box.controls["scaled"].value = True
    assert plt.get_fignums() == []
