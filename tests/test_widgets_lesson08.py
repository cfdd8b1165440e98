"""Lesson 8's decoder widget: its plain state function, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest

from attention_course import checks, decoding, plots, widgets


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("step", [0, 5])  # the first step (only the start token read) and the last
def test_state_follows_the_generation_trace(step):
    state = decoding.decoder_step_state(decoding.EXAMPLE, step)
    trace = decoding.generation_trace(decoding.trained_reverser().model, decoding.EXAMPLE)
    assert state.step == step and state.written == trace[step].written
    assert state.read == trace[step].read
    assert state.self_weights.shape == (step + 1, step + 1) and state.cross_weights.shape == (step + 1, 6)
    # the same function, the same trained model and input, the same path: rtol 1e-7 is ample
    np.testing.assert_allclose(state.cross_weights, trace[step].cross_weights.mean(dim=0).numpy())
    assert state.output == "451703"
    assert f"Step {step}: the decoder has read" in state.message
    assert "451703</b>, the reverse, as it should be." in state.message


def test_the_message_names_the_source_position_the_decoder_reads():
    state = decoding.decoder_step_state("307154", 2)
    assert "writes <b>1</b>" in state.message
    assert "looks most at source position 3 (the digit 1" in state.message
    assert "&lt;s&gt; 4 5" in state.message


@pytest.mark.parametrize("source", ["12345", "1234567", "12a456", "", None, 123456])
def test_bad_source_gives_a_message(source):
    state = decoding.decoder_step_state(source, 0)
    assert state.message == "Type exactly 6 digits (0-9): the model was trained on strings of 6."
    assert state.written == ""


@pytest.mark.parametrize("step", [-1, 6, 2.5, True, "1"])
def test_bad_step_gives_a_message(step):
    state = decoding.decoder_step_state("123456", step)
    assert state.message == "The step must be a whole number from 0 to 5."


def test_source_with_spaces_around_is_accepted():
    assert decoding.decoder_step_state(" 123456 ", 0).output == "654321"


def test_explorer_builds_and_reacts_to_its_controls():
    box = widgets.decoder_explorer()
    assert isinstance(box, w.VBox) and box.summary in box.children
    assert set(box.controls) == {"source", "step"}
    assert isinstance(box.controls["step"], w.IntSlider) and box.controls["step"].max == 5
    assert box.summary.value == decoding.decoder_step_state(decoding.EXAMPLE, 0).message
    box.controls["step"].value = 2
    assert box.summary.value == decoding.decoder_step_state(decoding.EXAMPLE, 2).message
    box.controls["source"].value = "999000"
    assert "000999</b>, the reverse" in box.summary.value
    box.controls["source"].value = "12"
    assert box.summary.value.startswith("Type exactly 6 digits")
    box.controls["source"].value = "123456"
    assert box.summary.value.startswith("Step 2")


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.decoder_explorer("123456", 1)
    box.controls["step"].value = 4
    assert plt.get_fignums() == []


def test_the_widget_exercise_answer_can_be_read_off_the_widget():
    box = widgets.decoder_explorer(decoding.EXAMPLE)
    for step in range(6):
        box.controls["step"].value = step
        if "writes <b>1</b>" in box.summary.value:
            break
    position = int(box.summary.value.split("source position ")[1].split(" ")[0])
    assert checks.cross_attention_position(lambda: position).status == "passed"


def test_static_counterpart_and_loss_figures():
    fig = plots.decoder_generation_steps(decoding.EXAMPLE, steps=(0, 2, 5))
    assert len(plots.panels(fig)) == 6
    assert fig.axes[1].get_title() == "step 0: cross-attention, writes 4"
    # The cross-attention rows say which step writes which digit: the answer to the widget exercise is read
    # in the row of the step that writes 1, not in a row that reads 1.
    trace = decoding.generation_trace(decoding.trained_reverser().model, decoding.EXAMPLE)
    rows = [label.get_text() for label in fig.axes[5].get_yticklabels()]
    assert rows == [f"{s.step}: {s.written}" for s in trace]
    assert fig.axes[5].get_ylabel() == "step: digit written"
    fig = plots.reverser_loss([2.5, 1.0, 0.1])
    assert fig.axes[0].get_yscale() == "log"
    assert plots.source_labels("307") == ["0:3", "1:0", "2:7"]
