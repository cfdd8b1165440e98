"""Lesson 5's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks, masking

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def padding_mask(tokens, pad_id):
    return (tokens != pad_id)[:, None, None, :]


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril()


def masked_attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights


def to_key_padding_mask(mask):
    return ~mask[:, 0, 0]


def decoder_mask():
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    mask[:, 4] = False
    return mask


SOLUTIONS = {
    "padding_mask": padding_mask,
    "causal_mask": causal_mask,
    "masked_attention": masked_attention,
    "to_key_padding_mask": to_key_padding_mask,
    "decoder_mask": decoder_mask,
}
NO_DATA_INPUTS = {'causal_mask', 'decoder_mask'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def causal_by_comparison(T):
    positions = torch.arange(T)
    return positions[None, :] <= positions[:, None]  # (1, T) <= (T, 1) -> (T, T): key j <= query i


def causal_in_numpy(T):
    return np.tril(np.ones((T, T), dtype=bool))


def padding_by_unsqueeze(tokens, pad_id):
    return tokens.ne(pad_id).unsqueeze(1).unsqueeze(2)


def padding_by_reshape(tokens, pad_id):
    B, T = tokens.shape
    return (tokens != pad_id).reshape(B, 1, 1, T)


def masked_attention_with_where(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
    scores = torch.where(mask, scores, torch.tensor(float("-inf"), dtype=scores.dtype))
    weights = torch.nan_to_num(torch.softmax(scores, dim=-1), nan=0.0)  # an empty row: NaN -> 0
    return weights @ v, weights


def masked_attention_renormalised(q, k, v, mask):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) * mask
    total = weights.sum(dim=-1, keepdim=True)
    weights = torch.where(total > 0, weights / total.clamp_min(1e-300), torch.zeros_like(weights))
    return weights @ v, weights


def masked_attention_with_torch(q, k, v, mask):
    output = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return output, masked_attention(q, k, v, mask)[1]


def masked_attention_float32(q, k, v, mask):
    return masked_attention(q.float(), k.float(), v.float(), mask)  # float32: right to ~1e-7, not 1e-16


def key_padding_by_reshape(mask):
    return mask.reshape(mask.shape[0], mask.shape[-1]).logical_not()


def key_padding_by_squeeze(mask):
    return ~mask.squeeze(2).squeeze(1)


ALTERNATIVES = [
    ("causal_mask", causal_by_comparison),
    ("causal_mask", causal_in_numpy),
    ("causal_mask", lambda T: torch.tril(torch.ones(T, T)).bool()),
    ("padding_mask", padding_by_unsqueeze),
    ("padding_mask", padding_by_reshape),
    ("masked_attention", masked_attention_with_where),
    ("masked_attention", masked_attention_renormalised),
    ("masked_attention", masked_attention_with_torch),
    ("masked_attention", masked_attention_float32),
    ("to_key_padding_mask", key_padding_by_reshape),
    ("to_key_padding_mask", key_padding_by_squeeze),
    ("decoder_mask", lambda: decoder_mask().tolist()),
    ("decoder_mask", lambda: decoder_mask().int().numpy()),
    ("decoder_mask", lambda: [[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 1, 0]]),
    ("decoder_mask", lambda: masking.combine_masks(masking.causal_mask(5),
                                                   torch.tensor([True, True, True, True, False]))),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def _attention(q, k, v, mask, fill=float("-inf"), scale=True, fix_empty=True):
    scores = q @ k.transpose(-2, -1)
    if scale:
        scores = scores / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores.masked_fill(~mask, fill), dim=-1)
    if fix_empty:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return weights @ v, weights


def _after_softmax(q, k, v, mask):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) * mask
    return weights @ v, weights


def _renormalised_with_nan(q, k, v, mask):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1) * mask
    weights = weights / weights.sum(dim=-1, keepdim=True)  # 0/0 in an empty row
    return weights @ v, weights


def _decoder(rows):
    return lambda: torch.tensor(rows, dtype=torch.bool)


CAUSAL_5 = torch.ones(5, 5, dtype=torch.bool).tril()

WRONG = [
    # causal mask
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).triu(), ["row 0 may see position 1", "upper triangle"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril().T, ["row 0 may see position 1"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril(-1), ["diagonal is False", "see itself"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).triu(1), ["swapped", "True means may attend"]),
    ("causal_mask", lambda T: ~torch.ones(T, T, dtype=torch.bool).tril(), ["swapped"]),
    ("causal_mask", lambda T: torch.ones(T, T).tril(), ["float32", "booleans", "adds it to the scores"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.long).tril(), ["int64", "booleans"]),
    ("causal_mask", lambda T: torch.ones(1, T, T, dtype=torch.bool).tril(), ["shape (1, 4, 4)", "(T, T) = (4, 4)"]),
    ("causal_mask", lambda T: torch.ones(T, dtype=torch.bool), ["shape (4,)", "(4, 4)"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril(1), ["row 0 may see position 1; a causal mask must hide it (key 1 comes after query 0)"]),
    ("causal_mask", lambda T: torch.ones(T, T, dtype=torch.bool).tril() & torch.ones(T, T, dtype=torch.bool).triu(-1),
     ["row 2 may not see position 0", "must let it"]),
    # padding mask
    ("padding_mask", lambda t, p: (t == p)[:, None, None, :], ["swapped", "real tokens are True"]),
    ("padding_mask", lambda t, p: t != p, ["(B, T_k) = (2, 5)", "two length-1 axes", "lines up with (T_q, T_k)"]),
    ("padding_mask", lambda t, p: (t != p)[:, None, :], ["(B, 1, T_k) = (2, 1, 5)", "(h, T_q, T_k)"]),
    ("padding_mask", lambda t, p: (t != p)[:, None, :, None], ["runs along the queries", "as keys"]),
    ("padding_mask", lambda t, p: (t != p)[:, :, None], ["runs along the queries"]),
    ("padding_mask", lambda t, p: (t != p)[:, None, :, None] & torch.ones(1, 1, 1, t.shape[1], dtype=torch.bool),
     ["hides the pads' rows", "columns"]),
    ("padding_mask", lambda t, p: (t != p)[:, None, None, :].expand(t.shape[0], 1, t.shape[1], t.shape[1]),
     ["values are right but expanded", "broadcasting"]),
    ("padding_mask", lambda t, p: (t != 0)[:, None, None, :], ["compared the tokens with 0", "pad_id argument"]),
    ("padding_mask", lambda t, p: (t != p)[:, None, None, :].float(), ["float32", "booleans"]),
    ("padding_mask", lambda t, p: (t > p)[:, None, None, :], ["real token", "hides it"]),
    ("padding_mask", lambda t, p: (t != p)[None, None, :, :], ["shape (1, 1, 2, 5)", "(2, 1, 1, 5)"]),
    # masked attention
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m, fill=0.0), ["set the hidden scores to 0", "-inf"]),
    ("masked_attention", _after_softmax, ["after the softmax without renormalising", "sum to 1"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, ~m), ["inverted", "~mask"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m, fix_empty=False),
     ["row 1 may attend to no key", "NaN", "zero weights"]),
    ("masked_attention", _renormalised_with_nan, ["row 1 may attend to no key", "NaN"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m, fill=-1e9, fix_empty=False),
     ["equal weights over the hidden keys", "large negative number"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, torch.ones_like(m)), ["ignore the mask"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m, scale=False), ["√d_k"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m)[::-1], ["shape"]),
    ("masked_attention", lambda q, k, v, m: _attention(q, k, v, m)[1], ["return the pair"]),
    ("masked_attention", lambda q, k, v, m: (torch.zeros_like(_attention(q, k, v, m)[0]), _attention(q, k, v, m)[1]),
     ["output is all zeros"]),
    # nn.MultiheadAttention's convention
    ("to_key_padding_mask", lambda m: m[:, 0, 0], ["kept True = may attend", "invert"]),
    ("to_key_padding_mask", lambda m: ~m.squeeze(), ["squeeze() removed the batch axis", "B = 1"]),
    ("to_key_padding_mask", lambda m: ~m, ["keeps the shape (3, 1, 1, 4)", "(B, T_k) = (3, 4)"]),
    ("to_key_padding_mask", lambda m: 1 - m[:, 0, 0].int(), ["int32", "booleans"]),
    ("to_key_padding_mask", lambda m: (~m[:, 0, 0]).float(), ["float32", "adds a float key_padding_mask"]),
    ("to_key_padding_mask", lambda m: ~m[:, 0, 0].T, ["shape (4, 3)", "(B, T_k) = (3, 4)"]),
    # widget exercise
    ("decoder_mask", lambda: CAUSAL_5, ["Row 4 ('<pad>') may see key 4, the pad"]),
    ("decoder_mask", _decoder([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 0]]),
     ["Row 4 (the pad) may attend to nothing", "NaN", "column only"]),
    ("decoder_mask", lambda: decoder_mask().T, ["transposed"]),
    ("decoder_mask", _decoder([[1, 1, 1, 1, 0]] * 5), ["Row 0 ('Hello') may see key 1 ('I'), which comes after it"]),
    ("decoder_mask", _decoder([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]),
     ["Row 4 ('<pad>') may not see key 3 ('you')", "let it"]),
    ("decoder_mask", lambda: torch.ones(4, 4, dtype=torch.bool).tril(), ["shape (4, 4)", "5 × 5"]),
    ("decoder_mask", lambda: decoder_mask().float() * 2, ["True/False (or 1/0) only"]),
    ("decoder_mask", lambda: "causal", ["str", "boolean tensor"]),
]


def test_the_transposed_causal_mask_message_names_the_cell():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.causal_mask(lambda T: torch.ones(T, T, dtype=torch.bool).triu())
    assert str(caught.value).startswith("For T = 4, row 0 may see position 1; a causal mask must hide it.")


def test_a_mistake_only_in_some_cases_is_caught_on_that_case():
    def right_until_the_pad_is_not_zero(tokens, pad_id):
        return (tokens != 0)[:, None, None, :]  # right whenever pad_id is 0

    with pytest.raises(checks.CheckFailed) as caught:
        checks.padding_mask(right_until_the_pad_is_not_zero)
    assert f"pad_id = {masking.PAD_ID}" in str(caught.value)

    def forgets_empty_rows_only(q, k, v, mask):
        return _attention(q, k, v, mask, fix_empty=False)

    with pytest.raises(checks.CheckFailed) as caught:
        checks.masked_attention(forgets_empty_rows_only)
    assert str(caught.value).startswith("On a mask whose row 1 hides every key")


def test_the_widget_exercise_reports_a_weight_on_success():
    result = checks.decoder_mask(decoder_mask)
    weights = masking.example_attention(decoder_mask())
    assert f"'love' gives {weights[2, 1]:.2f} to 'I'" in result.message


# ---------------------------------------------------------------- failures inside the learner's code


def _with_arguments(name, body):
    if name == "decoder_mask":
        return lambda: body()
    return lambda *args: body(*args)


def test_nan_outputs_are_named():
    def nan_output(q, k, v, mask):
        output, weights = masked_attention(q, k, v, mask)
        return output * np.nan, weights

    with pytest.raises(checks.CheckFailed) as caught:
        checks.masked_attention(nan_output)
    assert "NaN" in assert_one_sentence(caught.value)


def test_the_learner_cannot_change_the_checks_inputs():
    def changes_its_input(tokens, pad_id):
        tokens[:] = pad_id  # in place: the check passes copies
        return (tokens != pad_id)[:, None, None, :]

    with pytest.raises(checks.CheckFailed):
        checks.padding_mask(changes_its_input)
    assert checks.padding_mask(padding_mask).status == "passed"
