"""Lesson 9's date widget: its plain state function under any input, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import dates, plots, widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_a_date_is_translated_with_its_attention():
    state = dates.date_state("sat 21 nov 26", 2)
    assert state.answer == "2026-11-21"
    assert state.weights.shape == (10, len("sat 21 nov 26"))
    np.testing.assert_allclose(state.weights.sum(axis=1), np.ones(10), atol=1e-5)
    assert "sat 21 nov 26</b> &rarr; <b>2026-11-21</b>." in state.message
    assert "not a real date" not in state.message and "never seen" not in state.message


def test_the_layer_choice_shows_that_layer():
    first, second = dates.date_state("21.11.2026", 1), dates.date_state("21.11.2026", 2)
    assert first.answer == second.answer and not np.allclose(first.weights, second.weights)


@pytest.mark.parametrize("text", ["", "   ", None, 42])
def test_nothing_to_translate_asks_for_a_date(text):
    state = dates.date_state(text, 2)
    assert state.answer == "" and state.weights.shape == (0, 0)
    assert "Type a date" in state.message


def test_an_unknown_character_is_named_and_still_answered():
    state = dates.date_state("21 novembre 2026 é", 2)
    assert "never seen &#x27;é&#x27;" in state.message and "unknown token" in state.message
    assert state.answer and state.weights.shape[0] == len(state.answer)


def test_a_very_long_input_is_cut_and_still_answered():
    state = dates.date_state("21 November 2026 " * 12, 2)
    assert len(state.text) == dates.MAX_SOURCE_LENGTH
    assert f"Only the first {dates.MAX_SOURCE_LENGTH} of its 204 characters" in state.message
    assert state.answer


def test_a_text_without_digits_gets_a_best_guess_and_a_warning():
    state = dates.date_state("hello world", 2)
    assert "cannot be a date" in state.message and "best guess" in state.message
    assert state.weights.shape == (len(state.answer), len("hello world"))


def test_an_impossible_date_is_flagged():
    state = dates.date_state("31 February 2026", 2)
    assert state.answer == "2026-02-31"
    assert "not a real date" in state.message and "calendar" in state.message


def test_markup_in_the_input_is_escaped():
    state = dates.date_state("<b>1.2.2003</b>", 2)
    assert "<b><b>" not in state.message and "&lt;b&gt;" in state.message


@pytest.mark.parametrize("layer", [0, 3, 1.5, True, "2"])
def test_a_bad_layer_is_explained(layer):
    state = dates.date_state("21.11.26", layer)
    assert "layer must be a whole number from 1 to 2" in state.message and state.answer == ""


def test_the_widget_redraws_when_the_text_changes():
    box = widgets.date_explorer("21.11.26")
    assert "2026-11-21" in box.summary.value
    box.controls["text"].value = "01.01.69"
    assert "1969-01-01" in box.summary.value
    box.controls["layer"].value = 1
    assert "1969-01-01" in box.summary.value
    box.controls["text"].value = ""
    assert "Type a date" in box.summary.value
    box.controls["text"].value = "ü" * 300
    assert "Only the first" in box.summary.value and "never seen" in box.summary.value


def test_the_static_figure_has_a_row_per_input_and_a_column_per_layer_with_one_colourbar():
    model = dates.pretrained()
    translations = [dates.translate_with_attention(model, t) for t in ("31.12.68", "1.2.2003")]
    fig = plots.date_attention_maps(translations)
    maps = [ax for ax in fig.axes if ax.get_images()]
    assert len(maps) == 4 and len(fig.axes) == 5  # 2 inputs x 2 layers, one shared colourbar
    assert [ax.get_title() for ax in maps[:2]] == ["layer 1: '31.12.68' -> 2068-12-31", "layer 2: '31.12.68' -> 2068-12-31"]
    assert [t.get_text() for t in maps[0].get_yticklabels()] == list("2068-12-31")
    assert np.allclose(maps[3].get_images()[0].get_array(), translations[1].cross_weights[1].mean(dim=0))
    one_layer = plots.date_attention_maps(translations, layers=[-1])
    assert [ax.get_title() for ax in one_layer.axes if ax.get_images()][1] == "layer 2: '1.2.2003' -> 2003-02-01"


def test_the_training_figure_has_three_panels():
    run = dates.train(dates.Config(steps=4, warmup=2), progress=False, eval_every=2,
                      held_out=dates.sample(5, seed=1, split="validation"))  # a real run, as short as can be
    fig = plots.date_training(run)
    assert len(fig.axes) == 3
    assert len(fig.axes[2].lines[0].get_xdata()) == 2  # validation at steps 2 and 4
