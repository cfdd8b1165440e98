"""Lesson 5's mask widget: its plain state function, and the widget driven headless by clicking its grid."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as w
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from attention_course import masking, widgets

TOKENS = masking.EXAMPLE_TOKENS
T = len(TOKENS)
CAUSAL = np.tril(np.ones((T, T), dtype=bool))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- mask_state, the widget's plain function


@pytest.mark.parametrize("mask", [CAUSAL, np.ones((T, T), dtype=bool), np.random.default_rng(0).random((T, T)) > 0.5],
                         ids=["causal", "all-allowed", "random"])
def test_state_weights_are_the_example_attention_under_the_mask(mask):
    state = masking.mask_state(mask)
    expected = masking.example_attention(torch.as_tensor(mask)).numpy()
    np.testing.assert_allclose(state.weights, expected)
    np.testing.assert_array_equal(state.mask, mask)
    assert state.tokens == TOKENS
    assert (state.weights[~mask] == 0).all()  # exact: exp(-inf) is 0


def test_the_causal_mask_is_recognised():
    state = masking.mask_state(CAUSAL)
    assert state.message.startswith("This is the causal mask")
    assert "10 of 25 cells are hidden; their weights are exactly 0." in state.message
    assert state.empty_rows == ()
    np.testing.assert_allclose(state.weights.sum(axis=-1), np.ones(T), rtol=1e-6)


def test_no_mask_says_so():
    state = masking.mask_state(np.ones((T, T), dtype=bool))
    assert state.message == "Every query may attend to every key (no mask). Every row of weights sums to 1."


def test_one_hidden_cell_is_singular():
    mask = np.ones((T, T), dtype=bool)
    mask[2, 3] = False
    assert "1 of 25 cells is hidden; its weight is exactly 0." in masking.mask_state(mask).message


@pytest.mark.parametrize(("rows", "needle"), [
    ((2,), "Row 2 (<b>love</b>) may attend to nothing: its weights would be NaN; the package gives it zeros."),
    ((0, 4), "Rows 0 (<b>Hello</b>) and 4 (<b>&lt;pad&gt;</b>) may attend to nothing: their weights would be NaN"),
    ((0, 1, 3), "Rows 0 (<b>Hello</b>), 1 (<b>I</b>) and 3 (<b>you</b>) may attend to nothing"),
])
def test_rows_with_nothing_to_attend_to_are_flagged_in_words(rows, needle):
    mask = CAUSAL.copy()
    mask[list(rows)] = False
    state = masking.mask_state(mask)
    assert state.empty_rows == rows
    assert needle in state.message
    assert (state.weights[list(rows)] == 0).all()
    assert not np.isnan(state.weights).any()


def test_every_row_empty():
    state = masking.mask_state(np.zeros((T, T), dtype=bool))
    assert state.empty_rows == tuple(range(T))
    assert state.message.startswith("No query may attend to anything")
    assert (state.weights == 0).all()


@pytest.mark.parametrize("as_type", [lambda m: torch.as_tensor(m), lambda m: m.astype(int).tolist(),
                                     lambda m: m.tolist(), lambda m: m.astype(float)])
def test_state_accepts_tensors_lists_and_ones_and_zeros(as_type):
    state = masking.mask_state(as_type(CAUSAL))
    assert state.message == masking.mask_state(CAUSAL).message
    np.testing.assert_array_equal(state.mask, CAUSAL)


@pytest.mark.parametrize("bad", [np.ones((4, 4), dtype=bool), "causal", None, np.full((T, T), 2),
                                 [[True] * T] * (T - 1) + [[True] * (T - 1)], np.full((T, T), np.nan)],
                         ids=["4x4", "text", "None", "twos", "ragged", "nan"])
def test_bad_input_gives_a_message_not_an_exception(bad):
    state = masking.mask_state(bad)
    assert state.message == "The mask must be a 5 × 5 grid of True/False (1/0), one row per query."
    assert (state.weights == 0).all() and state.empty_rows == ()


def test_messages_are_one_line_with_balanced_tags():
    for mask in (CAUSAL, np.zeros((T, T)), np.eye(T), "x"):
        message = masking.mask_state(mask).message
        assert "\n" not in message and "Traceback" not in message
        assert message.count("<b>") == message.count("</b>")


# ---------------------------------------------------------------- mask_explorer, headless


def _grid(box) -> np.ndarray:
    return np.array([[box.controls[f"{i},{j}"].value for j in range(T)] for i in range(T)])


def test_explorer_builds_with_a_toggle_per_cell_and_three_presets():
    box = widgets.mask_explorer()
    assert isinstance(box, w.VBox)
    cells = {f"{i},{j}" for i in range(T) for j in range(T)}
    assert set(box.controls) == cells | {"causal", "all allowed", "none allowed"}
    assert all(isinstance(box.controls[name], w.ToggleButton) for name in cells)
    assert all(isinstance(box.controls[name], w.Button) for name in ("causal", "all allowed", "none allowed"))
    np.testing.assert_array_equal(_grid(box), CAUSAL)
    assert box.summary.value == masking.mask_state(CAUSAL).message
    assert box.summary in box.children


def test_clicking_a_cell_changes_the_mask_and_the_summary():
    box = widgets.mask_explorer("causal")
    box.controls["0,0"].value = False  # "Hello" may no longer look at itself: row 0 is empty
    assert "Row 0 (<b>Hello</b>) may attend to nothing" in box.summary.value
    assert box.controls["0,0"].description == "·"
    box.controls["0,3"].value = True  # now it may look at "you"
    assert "may attend to nothing" not in box.summary.value
    assert box.controls["0,3"].description == "✓"
    expected = CAUSAL.copy()
    expected[0, 0], expected[0, 3] = False, True
    assert box.summary.value == masking.mask_state(expected).message


def test_building_the_decoder_mask_by_clicking():
    box = widgets.mask_explorer("causal")
    box.controls["4,4"].value = False  # hide the pad from the only query that could see it
    expected = CAUSAL.copy()
    expected[:, 4] = False
    np.testing.assert_array_equal(_grid(box), expected)
    assert "may attend to nothing" not in box.summary.value
    assert checks_pass(_grid(box))


def checks_pass(mask) -> bool:
    from attention_course import checks

    return checks.decoder_mask(lambda: mask).status == "passed"


@pytest.mark.parametrize(("button", "expected", "needle"), [
    ("all allowed", np.ones((T, T), dtype=bool), "no mask"),
    ("none allowed", np.zeros((T, T), dtype=bool), "No query may attend to anything"),
    ("causal", CAUSAL, "This is the causal mask"),
])
def test_preset_buttons_reset_the_grid(button, expected, needle):
    box = widgets.mask_explorer("causal")
    box.controls["2,4"].value = True
    box.controls["3,0"].value = False
    box.controls[button].click()
    np.testing.assert_array_equal(_grid(box), expected)
    assert needle in box.summary.value
    for i in range(T):
        for j in range(T):
            assert box.controls[f"{i},{j}"].description == ("✓" if expected[i, j] else "·")


@pytest.mark.parametrize(("start", "expected"), [("all allowed", np.ones((T, T), dtype=bool)),
                                                 ("none allowed", np.zeros((T, T), dtype=bool))])
def test_explorer_starting_masks(start, expected):
    box = widgets.mask_explorer(start)
    np.testing.assert_array_equal(_grid(box), expected)
    assert box.summary.value == masking.mask_state(expected).message


def test_explorer_rejects_an_unknown_starting_mask():
    with pytest.raises(ValueError, match="causal"):
        widgets.mask_explorer("diagonal")


def test_explorer_leaves_no_open_figures():
    plt.close("all")
    box = widgets.mask_explorer()
    box.controls["1,1"].value = False
    box.controls["none allowed"].click()
    box.controls["all allowed"].click()
    assert plt.get_fignums() == []
