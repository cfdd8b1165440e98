"""Lesson 10's cost widget, driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest

from attention_course import cost, plots, widgets


def test_default_shows_every_layer_with_predictions_and_measurements():
    box = widgets.cost_explorer(T=64, d_model=32)
    assert set(box.controls) == {"T", "d_model", "measure"}
    for kind in cost.LAYER_KINDS:
        assert kind in box.summary.value
    assert "memory, measured" in box.summary.value and "T = 64, d_model = 32" in box.summary.value


def test_moving_the_controls_updates_the_numbers():
    box = widgets.cost_explorer(T=64, d_model=32, measure=False)
    assert "memory, measured" not in box.summary.value
    box.controls["d_model"].value = 256
    box.controls["T"].value = 1024
    assert "T = 1024, d_model = 256" in box.summary.value
    assert "Most FLOPs: <b>self-attention</b>" in box.summary.value  # past T = 2 d_model, attention is heaviest
    box.controls["T"].value = 256
    assert "Most FLOPs: <b>feed-forward</b>" in box.summary.value


def test_the_state_holds_the_formulas_and_measurements():
    state = cost.cost_state(128, 32)
    assert state.flops == {kind: cost.layer_flops(kind, 128, 32) for kind in cost.LAYER_KINDS}
    assert state.memory["self-attention"] == cost.layer_memory_bytes("self-attention", 128, 32)
    assert set(state.seconds) == set(state.measured_bytes) == set(cost.LAYER_KINDS)
    assert all(seconds > 0 for seconds in state.seconds.values())
    # the attention layer allocates what the formula says; the linear layers a small multiple of their output
    assert state.measured_bytes["self-attention"] == pytest.approx(state.memory["self-attention"], rel=0.02)
    assert state.memory["recurrent"] <= state.measured_bytes["recurrent"] <= 6 * state.memory["recurrent"]


@pytest.mark.parametrize(("T", "d_model", "needle"), [(0, 64, "T must be"), (5000, 64, "T must be"),
                                                      (True, 64, "T must be"), ("64", 64, "T must be"),
                                                      (64, 0, "d_model must be"), (64, 2.5, "d_model must be")])
def test_bad_input_gets_a_sentence(T, d_model, needle):
    state = cost.cost_state(T, d_model)
    assert needle in state.message and not state.flops


def test_static_figure():
    states = [cost.cost_state(64, 32), cost.cost_state(256, 32, measure=False)]
    assert len(plots.cost_widget_grid(states).axes) == 4
