"""Lesson 4's positional widget: its plain state function, and the widget driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from attention_course import positional, widgets

N, D = positional.POSITIONAL_NUM_POSITIONS, positional.POSITIONAL_D_MODEL


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def table() -> np.ndarray:
    return positional.sinusoidal_encoding(N, D, dtype=torch.float64).numpy()


# ---------------------------------------------------------------- positional_state, the widget's plain function


@pytest.mark.parametrize(("position", "dimension", "offset"), [(0, 0, 0), (10, 4, 5), (96, 63, 31), (0, 1, 127)],
                         ids=["origin", "default", "slider-ends", "largest-offset"])
def test_state_shows_the_encoding_its_dot_products_and_M_k(position, dimension, offset):
    state = positional.positional_state(position, dimension, offset)
    pe = table()
    i = dimension // 2
    np.testing.assert_allclose(state.column, pe[:, dimension])
    np.testing.assert_allclose(state.dots, pe @ pe[position])
    np.testing.assert_allclose(state.pair_now, pe[position, 2 * i:2 * i + 2])
    np.testing.assert_allclose(state.pair_shifted, pe[position + offset, 2 * i:2 * i + 2])
    np.testing.assert_allclose(state.pair_rotated, state.pair_shifted, atol=1e-12)  # M_k turns pos onto pos + k
    assert state.angle == pytest.approx(offset * positional.frequencies(D)[i].item())
    assert state.error < 1e-12
    assert (state.position, state.dimension, state.offset) == (position, dimension, offset)


def test_message_names_the_numbers_the_panels_show():
    state = positional.positional_state(10, 4, 5)
    pe = table()
    assert "Position <b>10</b>, dimension <b>4</b> (sine of pair 2" in state.message
    assert f"ω_2 = {positional.frequencies(D)[2].item():.4f} rad per position" in state.message
    assert f"PE(10, 4) = {pe[10, 4]:.3f}" in state.message
    assert f"PE(10)·PE(15) = <b>{pe[10] @ pe[15]:.2f}</b>, which depends on k alone" in state.message
    assert f"M_5 turns pair 2 by k·ω_2 = {5 * positional.frequencies(D)[2].item():.3f} rad" in state.message
    assert "in all 64 dimensions" in state.message
    assert "cosine of pair 6" in positional.positional_state(10, 13, 20).message


@pytest.mark.parametrize("offset", [0, 30])
def test_the_dot_product_at_an_offset_is_the_same_at_every_position(offset):
    values = np.array([positional.positional_state(p, 0, offset).dots[p + offset] for p in (0, 11, 40, 96)])
    # four float64 sums of 64 products each, in different rows: equal up to a few ulps of ~32, not bit for bit
    assert np.ptp(values) < 1e-10
    np.testing.assert_allclose(values, positional.dot_product_at_offset(offset, D), rtol=1e-10)


def test_the_widget_exercise_can_be_solved_from_the_widget():
    """Dimension 10 starts at 0 rising; it is back at 0 rising between positions 26 and 27."""
    assert positional.positional_state(0, 10, 0).column[0] == 0  # exact: sin 0
    # PE(26, 10) and PE(27, 10) are -0.12 and 0.12: their signs cannot flip on rounding
    assert "PE(26, 10) = -0." in positional.positional_state(26, 10, 0).message
    assert "PE(27, 10) = 0." in positional.positional_state(27, 10, 0).message
    column = positional.positional_state(0, 10, 0).column
    rising = [p for p in range(1, 40) if column[p - 1] < 0 <= column[p]]
    assert rising == [27]


@pytest.mark.parametrize(("args", "message"), [
    ((128, 0, 0), "The position must be a whole number from 0 to 127."),
    ((1.5, 0, 0), "The position must be a whole number from 0 to 127."),
    ((True, 0, 0), "The position must be a whole number from 0 to 127."),
    ((0, 64, 0), "The dimension must be a whole number from 0 to 63."),
    ((0, None, 0), "The dimension must be a whole number from 0 to 63."),
    ((0, 0, -1), "The offset k must be a whole number from 0 up."),
    ((0, 0, 2.0), "The offset k must be a whole number from 0 up."),
    ((100, 0, 28), "pos + k = 128 is beyond the 128 positions shown; keep it at most 127."),
])
def test_bad_input_gives_a_message_not_an_exception(args, message):
    state = positional.positional_state(*args)
    assert state.message == message
    np.testing.assert_array_equal(state.column, np.zeros(N))
    np.testing.assert_array_equal(state.dots, np.zeros(N))


def test_numpy_integers_are_accepted():
    state = positional.positional_state(np.int64(3), np.int32(2), np.int64(4))
    assert state.message.startswith("Position <b>3</b>")


def test_messages_are_one_line_with_balanced_tags():
    for args in [(0, 0, 0), (96, 63, 31), (-1, 0, 0), (100, 0, 28)]:
        message = positional.positional_state(*args).message
        assert "\n" not in message and "Traceback" not in message
        assert message.count("<b>") == message.count("</b>")


# ---------------------------------------------------------------- positional_explorer, headless


def test_explorer_builds_with_its_controls():
    box = widgets.positional_explorer()
    assert isinstance(box, w.VBox)
    assert set(box.controls) == {"position", "dimension", "offset"}
    position, dimension, offset = (box.controls[name] for name in ("position", "dimension", "offset"))
    assert (position.min, position.max, position.value) == (0, 96, 10)
    assert (dimension.min, dimension.max, dimension.value) == (0, 63, 4)
    assert (offset.min, offset.max, offset.value) == (0, 31, 5)
    assert position.max + offset.max == N - 1  # every setting of the sliders is valid
    assert box.summary.value == positional.positional_state(10, 4, 5).message
    assert box.summary in box.children


def test_explorer_follows_every_control():
    box = widgets.positional_explorer(10, 4, 5)
    box.controls["position"].value = 60
    assert box.summary.value == positional.positional_state(60, 4, 5).message
    box.controls["dimension"].value = 13
    assert "cosine of pair 6" in box.summary.value
    box.controls["offset"].value = 20
    assert box.summary.value == positional.positional_state(60, 13, 20).message
    assert "PE(60)·PE(80)" in box.summary.value


def test_explorer_at_the_slider_ends():
    box = widgets.positional_explorer()
    for name in ("position", "dimension", "offset"):
        slider = box.controls[name]
        slider.value = slider.max
        assert "must be" not in box.summary.value
        slider.value = slider.max + 50  # clamped by the slider, never an error
        assert slider.value == slider.max
        slider.value = slider.min
        assert "must be" not in box.summary.value
    assert box.summary.value == positional.positional_state(0, 0, 0).message


@pytest.mark.parametrize(("position", "dimension", "offset"), [(0, 0, 0), (50, 33, 12)])
def test_explorer_initial_values(position, dimension, offset):
    box = widgets.positional_explorer(position, dimension, offset)
    assert [box.controls[n].value for n in ("position", "dimension", "offset")] == [position, dimension, offset]
    assert box.summary.value == positional.positional_state(position, dimension, offset).message


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.positional_explorer()
    for value in (0, 30, 96):
        box.controls["position"].value = value
    box.controls["offset"].value = 0
    assert plt.get_fignums() == []
