"""The widgets' plain functions, and the widgets driven headless by setting their controls."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import lookup, widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def top_title(state) -> str:
    return lookup.TITLES[int(np.argmax(state.weights))]


# ---------------------------------------------------------------- lookup_state, the widget's plain function


# the temperature scales every score alike, so it never changes the top video: two texts at each of two
@pytest.mark.parametrize(("text", "title", "temperature"), [
    ("cat piano", "Cat plays the piano", 1.0),
    ("lasagna recipe", "10 SHOCKING kitchen hacks!!!", 0.1),
    ("bach cello", "Bach: cello suite no. 1", 0.1),
    ("physics purr", "10 SHOCKING kitchen hacks!!!", 1.0),  # the dot product favours the long clickbait key
])
def test_lookup_state_names_the_top_video(text, title, temperature):
    state = lookup.lookup_state(text, temperature)
    assert top_title(state) == title
    assert f"Top video: <b>{html.escape(title)}</b>" in state.message
    assert state.weights.sum() == pytest.approx(1.0)
    assert state.weights.shape == (len(lookup.TITLES),)
    assert state.output.shape == (lookup.VALUES.shape[1],)


# each text once, across the slider (its two ends, and a cold, a middle and a hot setting between)
@pytest.mark.parametrize(("text", "temperature"), [("cat piano", 0.01), ("why onions", 0.3), ("music", 7.5),
                                                   ("", 1.0), ("cat piano", 100.0)])
def test_lookup_state_agrees_with_soft_lookup(text, temperature):
    state = lookup.lookup_state(text, temperature)
    output, weights = lookup.soft_lookup(lookup.embed_query(text), lookup.KEYS, lookup.VALUES, temperature)
    np.testing.assert_allclose(state.weights, weights)  # the same function on the same input: rtol 1e-7 is ample
    np.testing.assert_allclose(state.output, output)
    np.testing.assert_array_equal(state.query, lookup.embed_query(text))  # exact: the same function, same input
    assert f"(entropy {lookup.entropy_bits(weights):.2f} bits)" in state.message
    assert f"{output[0]:.1f} minutes" in state.message


def test_lookup_state_says_what_it_understood():
    state = lookup.lookup_state("The CAT on a Piano", 1.0)
    assert "Understood: <b>cat piano</b>" in state.message


# the cold end with ever larger scores (more matching words), where exp could overflow; the hot end once
@pytest.mark.parametrize(("text", "temperature"), [("cat piano", 0.01), ("lasagna recipe cooking food kitchen", 0.01),
                                                   ("cat cat cat cat cat cat", 0.01), ("cat cat cat cat cat cat", 100.0)])
def test_slider_extremes_give_finite_weights(text, temperature):
    state = lookup.lookup_state(text, temperature)
    assert np.isfinite(state.weights).all() and np.isfinite(state.output).all()
    assert state.weights.sum() == pytest.approx(1.0)
    assert "nan" not in state.message.lower()


def test_low_and_high_temperature_ends():
    cold, hot = lookup.lookup_state("cat piano", 0.01), lookup.lookup_state("cat piano", 100.0)
    assert cold.weights.max() > 0.99
    assert "(entropy 0.00 bits)" in cold.message or "(entropy 0.01 bits)" in cold.message
    assert np.ptp(hot.weights) < 0.01
    assert "(entropy 3.00 bits)" in hot.message


@pytest.mark.parametrize("temperature", [0, -1e-9, float("nan"), float("inf"), float("-inf")])
def test_bad_temperature_gives_a_message_not_an_exception(temperature):
    state = lookup.lookup_state("cat piano", temperature)
    assert state.message == "The temperature must be a positive number."
    np.testing.assert_array_equal(state.weights, np.zeros(len(lookup.TITLES)))  # exact: zeros, no arithmetic
    assert np.isfinite(state.output).all()


@pytest.mark.parametrize("text", ["", "   ", "zebra quantum", "123 !!!", "ünïcødé"])
def test_no_known_word_gives_uniform_weights_and_suggests_words(text):
    state = lookup.lookup_state(text, 1.0)
    np.testing.assert_allclose(state.weights, np.full(len(lookup.TITLES), 1 / len(lookup.TITLES)))
    assert "No word I know" in state.message
    assert "Try words such as" in state.message
    suggested = state.message.split("Try words such as ")[1].split(".")[0].split(", ")
    assert len(suggested) >= 3
    assert all(word in lookup.VOCABULARY for word in suggested)
    assert "Every video gets weight 0.125" in state.message
    assert "Top video" not in state.message
    assert "(entropy 3.00 bits)" in state.message


@pytest.mark.parametrize("text", [
    "<script>alert('x')</script> cat",
    "<b>cat</b> & <i>piano</i>",
    '"><img src=x onerror=alert(1)> music',
])
def test_html_in_the_query_is_not_echoed_unescaped(text):
    message = lookup.lookup_state(text, 1.0).message
    for dangerous in ["<script", "<img", "<i>", "onerror", "&amp;lt;"]:
        assert dangerous not in message
    assert message.count("<b>") == message.count("</b>")


def test_messages_are_one_line_without_traceback():
    for text, temperature in [("cat", 1.0), ("", 1.0), ("cat", -1.0), ("cat", 0.01)]:
        message = lookup.lookup_state(text, temperature).message
        assert "\n" not in message and "Traceback" not in message


# ---------------------------------------------------------------- lookup_explorer, headless


def test_explorer_builds_with_its_controls():
    box = widgets.lookup_explorer()
    assert isinstance(box, w.VBox)
    assert set(box.controls) == {"query", "temperature"}
    slider = box.controls["temperature"]
    assert isinstance(slider, w.FloatLogSlider)
    assert (slider.base, slider.min, slider.max) == (10, -2, 2)
    assert box.controls["query"].value == "cat piano"
    assert box.summary.value == lookup.lookup_state("cat piano", 1.0).message
    assert box.summary in box.children


def test_explorer_follows_the_query_and_the_temperature():
    box = widgets.lookup_explorer("cat piano", 1.0)
    assert "Cat plays the piano" in box.summary.value

    box.controls["query"].value = "bach cello"
    assert "Top video: <b>Bach: cello suite no. 1</b>" in box.summary.value
    assert box.summary.value == lookup.lookup_state("bach cello", 1.0).message

    before = box.summary.value
    box.controls["temperature"].value = 0.1
    assert box.summary.value != before
    assert box.summary.value == lookup.lookup_state("bach cello", box.controls["temperature"].value).message

    box.controls["query"].value = "lasagna recipe"
    assert "10 SHOCKING kitchen hacks!!!" in box.summary.value

    box.controls["query"].value = "qwerty"
    assert "No word I know" in box.summary.value


def test_explorer_at_the_slider_ends():
    box = widgets.lookup_explorer("cat piano", 1.0)
    slider = box.controls["temperature"]
    slider.value = 10.0 ** slider.min
    cold = box.summary.value
    assert "weight 1.00" in cold
    slider.value = 10.0 ** slider.max
    assert "(entropy 3.00 bits)" in box.summary.value
    slider.value = 10.0 ** (slider.max + 3)  # clamped by the slider, never an error
    assert slider.value == pytest.approx(10.0 ** slider.max)


@pytest.mark.parametrize(("query", "temperature"), [("physics", 0.5), ("", 3.0)])
def test_explorer_initial_values(query, temperature):
    box = widgets.lookup_explorer(query, temperature)
    assert box.controls["query"].value == query
    assert box.controls["temperature"].value == pytest.approx(temperature)
    assert box.summary.value == lookup.lookup_state(query, temperature).message


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.lookup_explorer()
    for text in ["music", "cooking", "science"]:
        box.controls["query"].value = text
    assert plt.get_fignums() == []
