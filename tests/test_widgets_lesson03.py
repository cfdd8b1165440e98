"""Lesson 3's token-attention widget: its plain state function, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import self_attention as sa
from attention_course import widgets

TOKENS = tuple(sa.tokenize(sa.SENTENCE))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- token_attention_state, the widget's plain function


@pytest.mark.parametrize(("token", "kind", "strength", "seed"), [
    ("love", "hand-designed", 6.0, 0),  # the widget's default
    ("Hello", "hand-designed", 0.0, 0),  # the slider's lower end: uniform
    ("I", "random", 10.0, 3),  # the upper end, another seed
    ("you", "random", 1.0, 0),
])
def test_state_is_the_row_of_the_attention_matrix(token, kind, strength, seed):
    state = sa.token_attention_state(token, kind, strength, seed)
    expected = sa.attention_over_sentence(kind, strength, seed).numpy()[TOKENS.index(token)]
    np.testing.assert_allclose(state.weights, expected)
    assert state.tokens == TOKENS
    assert state.weights.sum() == pytest.approx(1.0)
    # the same numbers as the widget's (the same function on the same input), so the same digits
    listed = ", ".join(f"{t} {weight:.2f}" for t, weight in zip(TOKENS, expected))
    assert f"All its weights: {listed}" in state.message
    assert f"at strength {strength:.1f}" in state.message


@pytest.mark.parametrize(("token", "top"), [("Hello", "you"), ("I", "love"), ("you", "love")])
def test_hand_designed_state_names_where_each_token_looks(token, top):
    state = sa.token_attention_state(token, "hand-designed", 6.0)
    assert f"<b>{token}</b> attends most to <b>{top}</b> (0.79)" in state.message
    assert "hand-designed weights" in state.message


def test_love_names_both_pronouns_and_their_share():
    state = sa.token_attention_state("love", "hand-designed", 6.0)
    assert "attends most to <b>I</b> and <b>you</b> (0.46 each)" in state.message
    assert "'I' and 'you' together get 0.921" in state.message


# 0.89694 and 0.90066: far from where the third decimal would round the other way
@pytest.mark.parametrize(("strength", "share"), [(5.3, "0.897"), (5.4, "0.901"), (0.0, "0.500")])
def test_the_share_has_enough_digits_for_the_widget_exercise(strength, share):
    state = sa.token_attention_state("love", "hand-designed", strength)
    assert f"together get {share}" in state.message


@pytest.mark.parametrize("kind", ["hand-designed", "random"])
def test_strength_zero_spreads_attention_evenly(kind):
    state = sa.token_attention_state("I", kind, 0.0, 4)
    np.testing.assert_allclose(state.weights, np.full(4, 0.25))
    assert "spreads its attention evenly, 0.25 to every token" in state.message
    assert "attends most" not in state.message


def test_random_weights_name_their_seed_and_change_with_it():
    a, b = sa.token_attention_state("love", "random", 6.0, 0), sa.token_attention_state("love", "random", 6.0, 1)
    assert "random weights (seed 0)" in a.message and "random weights (seed 1)" in b.message
    assert not np.allclose(a.weights, b.weights)
    again = sa.token_attention_state("love", "random", 6.0, 0)
    np.testing.assert_array_equal(a.weights, again.weights)  # exact: the same seeded computation, run twice


def test_the_seed_does_not_change_the_hand_designed_weights():
    a, b = sa.token_attention_state("love", "hand-designed", 6.0, 0), sa.token_attention_state(
        "love", "hand-designed", 6.0, 7)
    np.testing.assert_array_equal(a.weights, b.weights)  # exact: the seed is not used, so the same computation


@pytest.mark.parametrize(("args", "message"), [
    (("hate",), "Pick one of the tokens: Hello, I, love, you."),
    (("<b>love</b>",), "Pick one of the tokens: Hello, I, love, you."),
    (("love", "learned"), "The weights are either 'hand-designed' or 'random'."),
    (("love", "hand-designed", -1.0), "The strength must be a number from 0 up."),
    (("love", "hand-designed", float("nan")), "The strength must be a number from 0 up."),
    (("love", "hand-designed", "6"), "The strength must be a number from 0 up."),
    (("love", "hand-designed", True), "The strength must be a number from 0 up."),
    (("love", "random", 6.0, -1), "The seed must be a whole number from 0 up."),
    (("love", "random", 6.0, 1.5), "The seed must be a whole number from 0 up."),
])
def test_bad_input_gives_a_message_not_an_exception(args, message):
    state = sa.token_attention_state(*args)
    assert state.message == message
    np.testing.assert_array_equal(state.weights, np.zeros(len(TOKENS)))


def test_messages_are_one_line_with_balanced_tags():
    for args in [("love",), ("Hello", "random", 3.3, 2), ("I", "hand-designed", 0.0), ("x",)]:
        message = sa.token_attention_state(*args).message
        assert "\n" not in message and "Traceback" not in message
        assert message.count("<b>") == message.count("</b>")


# ---------------------------------------------------------------- token_attention_explorer, headless


def test_explorer_builds_with_its_controls():
    box = widgets.token_attention_explorer()
    assert isinstance(box, w.VBox)
    assert set(box.controls) == {"token", "weights", "strength", "seed"}
    assert tuple(box.controls["token"].options) == TOKENS
    assert box.controls["token"].value == "love"
    assert tuple(box.controls["weights"].options) == ("hand-designed", "random")
    slider = box.controls["strength"]
    assert (slider.min, slider.max, slider.step, slider.value) == (0.0, 10.0, 0.1, 6.0)
    assert box.controls["seed"].disabled  # only random weights have a seed
    assert box.summary.value == sa.token_attention_state("love", "hand-designed", 6.0, 0).message
    assert box.summary in box.children


def test_explorer_follows_every_control():
    box = widgets.token_attention_explorer("love", "hand-designed", 6.0)
    box.controls["token"].value = "Hello"
    assert "attends most to <b>you</b>" in box.summary.value
    box.controls["weights"].value = "random"
    assert not box.controls["seed"].disabled
    assert box.summary.value == sa.token_attention_state("Hello", "random", 6.0, 0).message
    box.controls["seed"].value = 4
    assert box.summary.value == sa.token_attention_state("Hello", "random", 6.0, 4).message
    box.controls["strength"].value = 0.0
    assert "spreads its attention evenly" in box.summary.value
    box.controls["weights"].value = "hand-designed"
    assert box.controls["seed"].disabled
    box.controls["strength"].value = 5.4
    box.controls["token"].value = "love"
    assert "together get 0.901" in box.summary.value


def test_explorer_at_the_slider_ends():
    box = widgets.token_attention_explorer()
    slider = box.controls["strength"]
    slider.value = slider.min
    assert "evenly" in box.summary.value
    slider.value = slider.max
    assert "together get 0.98" in box.summary.value
    slider.value = slider.max + 5  # clamped by the slider, never an error
    assert slider.value == pytest.approx(slider.max)
    box.controls["seed"].value = 99
    assert box.controls["seed"].value == box.controls["seed"].max


@pytest.mark.parametrize(("token", "kind", "strength", "seed"), [("I", "random", 2.5, 3), ("you", "hand-designed", 0.0, 0)])
def test_explorer_initial_values(token, kind, strength, seed):
    box = widgets.token_attention_explorer(token, kind, strength, seed)
    assert (box.controls["token"].value, box.controls["weights"].value) == (token, kind)
    assert box.controls["strength"].value == pytest.approx(strength)
    assert box.summary.value == sa.token_attention_state(token, kind, strength, seed).message


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.token_attention_explorer()
    for token in TOKENS:
        box.controls["token"].value = token
    box.controls["weights"].value = "random"
    assert plt.get_fignums() == []
