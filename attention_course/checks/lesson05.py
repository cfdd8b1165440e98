"""Checks for lesson 5, masking."""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import masking
from ..attention import scaled_dot_product_attention
from ..attention import softmax as reference_softmax
from .core import CheckFailed, as_array, as_plain_array, check, diagnose

__all__ = ["causal_mask", "decoder_mask", "masked_attention", "padding_mask", "to_key_padding_mask"]


def _plain(got, name: str, case: str) -> np.ndarray:
    return as_plain_array(got, name, case, "a boolean tensor")


def _require_bool(array: np.ndarray, name: str, case: str, shape: tuple[int, ...]) -> np.ndarray:
    if array.dtype != bool:
        if np.issubdtype(array.dtype, np.number) and array.shape == shape and np.isin(array, (0, 1)).all():
            raise CheckFailed(
                f"Your {name} returned {array.dtype} numbers on {case}; return booleans (dtype=torch.bool). "
                "PyTorch reads a float mask differently: it adds it to the scores, so 1 and 0 would hide nothing."
            )
        raise CheckFailed(f"Your {name} returned {array.dtype} values on {case}; return a boolean mask, True = may attend.")
    return array


def _first_difference(got: np.ndarray, expected: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(got != expected)[0])


# ---------------------------------------------------------------- exercise: the causal mask


@check(hint="True marks the keys a query may see: its own position and every earlier one, so the diagonal and "
            "everything below it, as a (T, T) boolean tensor.")
def causal_mask(learner) -> str:
    """Lesson 5: causal_mask(T) -> bool (T, T), True on and below the diagonal."""
    sizes = (4, 7, 1)  # T = 1 last: there several mistakes give the same one cell
    for T in sizes:
        case = f"T = {T}"
        mask = _plain(learner(T, case=case), learner.name, case)
        if mask.shape != (T, T):
            raise CheckFailed(
                f"Your causal_mask returned shape {mask.shape} for {case}; expected (T, T) = ({T}, {T}), one row per "
                "query and one column per key."
            )
        mask = _require_bool(mask, learner.name, case, (T, T))
        ones = np.ones((T, T), dtype=bool)
        expected = np.tril(ones)
        if np.array_equal(mask, expected):
            continue
        wrong = [
            (~expected, ("True and False are swapped: True means may attend, so the diagonal and everything below "
                         "it must be True, and the future False.")),
            (expected.T, ("row 0 may see position 1; a causal mask must hide it. You built the upper triangle "
                          "(triu, or a transposed mask): row i must allow keys 0 to i, the past, not the future.")),
            (np.tril(ones, -1), ("the diagonal is False, so row 0 may attend to nothing; a causal mask lets each "
                                 "token see itself: keep the diagonal, tril() with no offset.")),
        ]
        for wrong_mask, message in wrong:
            if np.array_equal(mask, wrong_mask):
                raise CheckFailed(f"For {case}, {message}")
        i, j = _first_difference(mask, expected)
        if mask[i, j]:
            raise CheckFailed(f"For {case}, row {i} may see position {j}; a causal mask must hide it (key {j} comes "
                              f"after query {i}).")
        raise CheckFailed(f"For {case}, row {i} may not see position {j}; a causal mask must let it (key {j} is not "
                          f"after query {i}).")
    return f"T = {', '.join(map(str, sizes))} give the lower triangle with its diagonal."


# ---------------------------------------------------------------- exercise: the padding mask


def _padding_cases():
    mixed = masking.token_batch(("Hello Bob", "I love you", "We see"))  # "Bob" is <unk>, id 0: a real token
    return [
        ("a batch of 2 sequences padded with pad_id = 0",
         torch.tensor([[5, 3, 8, 0, 0], [7, 0, 0, 0, 0]]), 0),
        (f"a batch where pad_id = {masking.PAD_ID} and id 0 is a real token (<unk>)", mixed, masking.PAD_ID),
        ("a batch of 1 sequence with pad_id = 2", torch.tensor([[4, 9, 3, 2]]), 2),
        ("a batch of 3 sequences with no padding at all", torch.tensor([[1, 2], [3, 4], [5, 6]]), 0),
    ]


@check(hint="True for each real token, False for each pad; then length-1 axes for the heads and the queries, so "
            "it broadcasts over (B, h, T_q, T_k) with the keys last (the padding-mask equation).")
def padding_mask(learner) -> str:
    """Lesson 5: padding_mask(tokens, pad_id) -> bool (B, 1, 1, T_k), True for a real token."""
    cases = _padding_cases()
    for case, tokens, pad_id in cases:
        B, T = tokens.shape
        real = (tokens != pad_id).numpy()  # (B, T_k)
        expected = real[:, None, None, :]  # (B, 1, 1, T_k)
        mask = _plain(learner(tokens, pad_id, case=case), learner.name, case)
        values = mask.astype(bool) if mask.dtype == bool or np.issubdtype(mask.dtype, np.number) else None
        if mask.shape != (B, 1, 1, T):
            if mask.shape in ((B, T, 1), (B, 1, T, 1)) and values is not None and np.array_equal(
                    values.reshape(B, T), real):
                raise CheckFailed(
                    f"On {case}, your mask has shape {mask.shape}: it runs along the queries. Pads are hidden as "
                    f"keys, the last axis, so return (B, 1, 1, T_k) = ({B}, 1, 1, {T}); a padded query may still "
                    "look at real tokens (nobody reads its output)."
                )
            if mask.shape == (B, 1, T, T) and values is not None and np.array_equal(
                    values, np.broadcast_to(real[:, None, :, None], (B, 1, T, T))):
                raise CheckFailed(
                    f"On {case}, your mask hides the pads' rows (as queries); it must hide their columns (as keys). "
                    f"Return (B, 1, 1, T_k) = ({B}, 1, 1, {T}), True for each real key."
                )
            if mask.shape == (B, 1, T, T) and values is not None and np.array_equal(
                    values, np.broadcast_to(expected, (B, 1, T, T))):
                raise CheckFailed(
                    f"On {case}, your values are right but expanded to {mask.shape}; return (B, 1, 1, T_k) = "
                    f"({B}, 1, 1, {T}) and let broadcasting repeat it over the queries."
                )
            if mask.shape == (B, T):
                raise CheckFailed(
                    f"On {case}, your mask has shape (B, T_k) = {mask.shape}; give it two length-1 axes, (B, 1, 1, T_k), "
                    "so that it broadcasts over heads and queries. Against weights (B, h, T_q, T_k), a (B, T_k) mask "
                    "lines up with (T_q, T_k) instead."
                )
            if mask.shape == (B, 1, T):
                raise CheckFailed(
                    f"On {case}, your mask has shape (B, 1, T_k) = {mask.shape}; against weights (B, h, T_q, T_k) it "
                    "would line up with (h, T_q, T_k). Add one more axis: (B, 1, 1, T_k)."
                )
            raise CheckFailed(
                f"Your padding_mask returned shape {mask.shape} on {case}; expected (B, 1, 1, T_k) = ({B}, 1, 1, {T})."
            )
        mask = _require_bool(mask, learner.name, case, expected.shape)
        if np.array_equal(mask, expected):
            continue
        if np.array_equal(mask, ~expected):
            raise CheckFailed(f"On {case}, True and False are swapped: True means may attend, so real tokens are True "
                              "and pads False.")
        if pad_id != 0 and np.array_equal(mask, (tokens != 0).numpy()[:, None, None, :]):
            raise CheckFailed(f"On {case}, you compared the tokens with 0; use the pad_id argument. Here the pad id is "
                              f"{pad_id}, and id 0 is a real token.")
        b, _, _, j = _first_difference(mask, expected)
        if mask[b, 0, 0, j]:
            raise CheckFailed(f"On {case}, in sequence {b}, position {j} is a pad (id {pad_id}) but your mask lets "
                              "queries see it.")
        raise CheckFailed(f"On {case}, in sequence {b}, position {j} is a real token (id {int(tokens[b, j])}) but your "
                          "mask hides it.")
    return f"all {len(cases)} cases pass, including a pad id that is not 0."


# ---------------------------------------------------------------- exercise: masked attention


def _masked_attention_cases():
    generator = torch.Generator().manual_seed(5)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    random_mask = torch.tensor([[True, False, True, False, False],
                                [False, True, True, True, False],
                                [True, True, False, False, True]])
    padding = masking.padding_mask(torch.tensor([[3, 1, 4, 0, 0], [2, 7, 1, 8, 0]]), 0)[:, 0]  # (B, 1, T_k)
    empty_row = torch.tensor([[True, True, False, False], [False, False, False, False],
                              [False, True, True, True]])
    return [
        ("a random mask with T_q = 3 queries and T_k = 5 keys", randn(3, 4), randn(5, 4), randn(5, 2), random_mask),
        ("a causal mask on a batch of 2 sequences of 4 tokens", randn(2, 4, 3), randn(2, 4, 3), randn(2, 4, 3),
         masking.causal_mask(4)),
        ("a padding mask (B, 1, T_k) on a batch of 2", randn(2, 3, 4), randn(2, 5, 4), randn(2, 5, 3), padding),
        ("a mask whose row 1 hides every key", randn(3, 4), randn(4, 4), randn(4, 3), empty_row),
    ]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True)


def _plain_softmax(scores: torch.Tensor) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return reference_softmax(scores.numpy())


@check(hint="hide a key by setting its scaled score to −∞ before the softmax, not after, and give a query that "
            "may see no key zero weights, not NaN (the masked-weight and empty-row equations).")
def masked_attention(learner) -> str:
    """Lesson 5: masked_attention(q, k, v, mask) -> (output, weights); a row with no allowed key gets zeros."""
    cases = _masked_attention_cases()
    for case, q, k, v, mask in cases:
        d_k = q.shape[-1]
        expected_output, expected = scaled_dot_product_attention(q, k, v, mask)
        expected_output, expected = expected_output.numpy(), expected.numpy()
        got = learner(q, k, v, mask, case=case)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"Your masked_attention returned a {type(got).__name__} on {case}; return the pair "
                              "(output, weights).")
        output, weights = got
        try:
            raw = np.asarray(weights.detach() if hasattr(weights, "detach") else weights, dtype=float)
        except (TypeError, ValueError):
            raw = None  # not numbers at all; as_array below says so
        scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
        full = mask.expand(expected.shape).numpy()  # (..., T_q, T_k)
        empty = ~full.any(axis=-1)  # (..., T_q)
        if raw is not None and raw.shape == expected.shape and np.isnan(raw).any():
            nan_rows = np.isnan(raw).any(axis=-1)
            inverted = _plain_softmax(scores.masked_fill(mask, float("-inf")))
            if _same(raw, inverted):
                raise CheckFailed(f"On {case}, your mask is inverted: True means may attend, so fill the scores "
                                  "where the mask is False (~mask) with -inf.")
            if np.array_equal(nan_rows, empty):
                row = int(np.argwhere(empty)[0][-1])
                raise CheckFailed(
                    f"On {case}, row {row} may attend to no key, and your weights there are NaN: a softmax over nothing "
                    "but -inf is 0/0. Give such rows zero weights (and so a zero output), as the course's "
                    "scaled_dot_product_attention does."
                )
        weights = as_array(weights, learner.name, case, expected.shape, "the weights, one row per query")
        hidden = scores.masked_fill(~mask, float("-inf"))
        wrong = [
            (_plain_softmax(scores.masked_fill(~mask, 0.0)),
             ("you set the hidden scores to 0, but e^0 = 1: hidden keys keep their weight. Set them to -inf "
              "(float('-inf')), whose exponential is exactly 0.")),
            (_plain_softmax(scores) * full,
             ("you hid the keys after the softmax without renormalising, so the rows no longer sum to 1. Set the "
              "hidden scores to -inf before the softmax.")),
            (_plain_softmax(scores), "your weights ignore the mask: hidden keys must get weight 0."),
            (np.nan_to_num(_plain_softmax(scores.masked_fill(mask, float("-inf")))),
             ("your mask is inverted: True means may attend, so fill the scores where the mask is False (~mask) "
              "with -inf.")),
            (np.nan_to_num(_plain_softmax(hidden * math.sqrt(d_k))),
             f"you did not divide the scores by √d_k (here √{d_k})."),
            (_plain_softmax(scores.masked_fill(~mask, -1e9)),
             ("a row that may attend to no key gets equal weights over the hidden keys: a large negative number "
              "instead of -inf spreads it evenly. Give such a row zero weights instead.")),
        ]
        if scores.shape[-1] == scores.shape[-2]:
            wrong.append((np.nan_to_num(_plain_softmax(scores.masked_fill(~mask.transpose(-2, -1), float("-inf")))),
                          "your mask is transposed: row i of the mask belongs to query i, column j to key j."))
        diagnose(weights, learner.name, case, expected, wrong)
        output = as_array(output, learner.name, case, expected_output.shape, "one mixed value per query")
        wrong = [(np.zeros_like(expected_output), "your output is all zeros; mix the values, weights @ v.")]
        if expected.shape[-1] == expected.shape[-2]:
            wrong.append((np.swapaxes(expected, -1, -2) @ v.numpy(),
                          "you mixed the values with the transposed weights; use weights @ v."))
        diagnose(output, learner.name, case, expected_output, wrong, scale=v.abs().max().item())
    return f"all {len(cases)} cases pass, including an empty row."


# ---------------------------------------------------------------- exercise: nn.MultiheadAttention's convention


def _key_padding_cases():
    return [
        ("lesson 5's batch of 3 sentences", masking.padding_mask(masking.token_batch(), masking.PAD_ID)),
        ("a batch of 1 sequence (B = 1)", masking.padding_mask(torch.tensor([[4, 9, 3, 0, 0]]), 0)),
        ("a batch of 2 sequences, one without pads", masking.padding_mask(torch.tensor([[1, 2, 3, 4, 5, 6],
                                                                                        [1, 2, 0, 0, 0, 0]]), 0)),
    ]


@check(hint="nn.MultiheadAttention wants (B, T_k) with True = ignore, the opposite of the course's mask: drop the"
            " two length-1 axes by indexing (squeeze drops B = 1 too), and invert.")
def to_key_padding_mask(learner) -> str:
    """Lesson 5: to_key_padding_mask(mask) turns a (B, 1, 1, T_k) True = attend mask into (B, T_k) True = ignore."""
    cases = _key_padding_cases()
    for case, mask in cases:
        B, T = mask.shape[0], mask.shape[-1]
        expected = (~mask).reshape(B, T).numpy()  # (B, T_k), True = ignore
        got = _plain(learner(mask, case=case), learner.name, case)
        if got.shape != (B, T):
            if B == 1 and got.shape == (T,):
                raise CheckFailed(
                    f"On {case}, your mask has shape {got.shape}: squeeze() removed the batch axis too, because B = 1. "
                    "Drop only the two length-1 axes, with mask[:, 0, 0] or mask.reshape(B, T_k)."
                )
            if got.shape == mask.shape:
                raise CheckFailed(
                    f"On {case}, your mask keeps the shape {got.shape}; nn.MultiheadAttention wants key_padding_mask "
                    f"of shape (B, T_k) = ({B}, {T}): drop the two length-1 axes, mask[:, 0, 0]."
                )
            raise CheckFailed(
                f"Your to_key_padding_mask returned shape {got.shape} on {case}; expected (B, T_k) = ({B}, {T})."
            )
        if got.dtype != bool:
            if np.issubdtype(got.dtype, np.number) and np.isin(got, (0, 1)).all():
                raise CheckFailed(
                    f"Your to_key_padding_mask returned {got.dtype} numbers on {case}; return booleans. "
                    "nn.MultiheadAttention adds a float key_padding_mask to the scores instead of hiding keys."
                )
            raise CheckFailed(f"Your to_key_padding_mask returned {got.dtype} values on {case}; return booleans.")
        if np.array_equal(got, expected):
            continue
        if np.array_equal(got, ~expected):
            raise CheckFailed(
                f"On {case}, you kept True = may attend. nn.MultiheadAttention's key_padding_mask means True = "
                "ignore, so invert the mask with ~."
            )
        b, j = _first_difference(got, expected)
        what = "a pad" if expected[b, j] else "a real token"
        raise CheckFailed(f"On {case}, in sequence {b}, key {j} is {what}, but your mask says {bool(got[b, j])}.")
    return f"all {len(cases)} cases pass, including B = 1."


# ---------------------------------------------------------------- widget exercise: the decoder's mask


@check(hint="return a 5 × 5 grid of True/False, True = may attend; read it off the widget (or its state function)"
            " with the causal and the padding mask both on.")
def decoder_mask(learner) -> str:
    """Lesson 5's widget exercise: the causal mask over "Hello I love you <pad>" that also hides the pad as a key."""
    case = "the widget exercise"
    tokens = masking.EXAMPLE_TOKENS
    T = len(tokens)
    got = _plain(learner(case=case), learner.name, case)
    if got.shape != (T, T):
        raise CheckFailed(f"Your decoder_mask returned shape {got.shape}; return a {T} × {T} grid, one row per query "
                          f"({', '.join(tokens)}) and one column per key.")
    if got.dtype != bool and not (np.issubdtype(got.dtype, np.number) and np.isin(got, (0, 1)).all()):
        raise CheckFailed("Your decoder_mask must hold True/False (or 1/0) only, True = may attend.")
    mask = got.astype(bool)
    pad = tokens.index(masking.PAD)
    expected = np.tril(np.ones((T, T), dtype=bool))
    expected[:, pad] = False
    if np.array_equal(mask, expected):
        weights = masking.example_attention(torch.as_tensor(mask))
        love = tokens.index("love")
        return f"causal, pad hidden; 'love' gives {weights[love, tokens.index('I')]:.2f} to 'I'."
    pad_row_hidden = expected.copy()  # under the causal mask only the pad's own row could see the pad
    pad_row_hidden[pad] = False
    if np.array_equal(mask, pad_row_hidden):
        raise CheckFailed(
            f"Row {pad} (the pad) may attend to nothing, so its weights would be NaN in a plain softmax. Hide the pad's "
            "column only: no token may look at the pad, but the pad's own row may look at the real tokens before it "
            "(nobody reads its output)."
        )
    if np.array_equal(mask, expected.T):
        raise CheckFailed("Your mask is transposed: row i is the query, column j the key it may look at.")
    i, j = _first_difference(mask, expected)
    if mask[i, j] and j > i:
        raise CheckFailed(f"Row {i} ({tokens[i]!r}) may see key {j} ({tokens[j]!r}), which comes after it; a causal "
                          "mask must hide it.")
    if mask[i, j]:
        raise CheckFailed(f"Row {i} ({tokens[i]!r}) may see key {j}, the pad; the decoder's mask must hide the pad "
                          "from every query.")
    raise CheckFailed(f"Row {i} ({tokens[i]!r}) may not see key {j} ({tokens[j]!r}), which is neither after it nor "
                      "a pad; let it.")
