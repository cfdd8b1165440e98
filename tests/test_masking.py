"""Lesson 5's masking module: the masks themselves, masked attention against PyTorch, and leakage tests."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attention_course import masking
from attention_course import self_attention as sa
from attention_course.attention import scaled_dot_product_attention

# ---------------------------------------------------------------- causal_mask


@pytest.mark.parametrize("T", [0, 1, 5])
def test_causal_mask_is_the_lower_triangle_with_its_diagonal(T):
    mask = masking.causal_mask(T)
    assert mask.dtype == torch.bool
    assert mask.shape == (T, T)
    for i in range(T):
        for j in range(T):
            assert bool(mask[i, j]) == (j <= i)


@pytest.mark.parametrize("T", [-1, 2.5, True, "4"])
def test_causal_mask_rejects_what_is_not_a_length(T):
    with pytest.raises(ValueError, match="whole number"):
        masking.causal_mask(T)


# ---------------------------------------------------------------- padding_mask


def _random_batch(seed: int, B: int, T: int, pad_id: int, vocab: int = 12) -> torch.Tensor:
    """Token ids (B, T) without pad_id, each row then padded on the right to a random length (at least 1 real)."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(vocab, (B, T), generator=generator)
    ids[ids == pad_id] = (pad_id + 1) % vocab
    lengths = torch.randint(1, T + 1, (B,), generator=generator)
    for b in range(B):
        ids[b, lengths[b]:] = pad_id
    return ids


@pytest.mark.parametrize(("pad_id", "B", "T"), [(0, 1, 1), (3, 4, 3), (masking.PAD_ID, 2, 5)])
def test_padding_mask_is_true_for_real_tokens_with_shape_B_1_1_T(pad_id, B, T):
    tokens = _random_batch(B * 10 + T, B, T, pad_id, vocab=max(12, pad_id + 2))
    mask = masking.padding_mask(tokens, pad_id)
    assert mask.dtype == torch.bool
    assert mask.shape == (B, 1, 1, T)
    assert torch.equal(mask[:, 0, 0], tokens != pad_id)


def test_padding_mask_broadcasts_over_heads_and_queries():
    tokens = torch.tensor([[5, 6, 0, 0], [7, 8, 9, 0]])
    mask = masking.padding_mask(tokens, 0).expand(2, 3, 5, 4)  # (B, h, T_q, T_k)
    for b in range(2):
        for head in range(3):
            for i in range(5):
                assert torch.equal(mask[b, head, i], tokens[b] != 0)


def test_padding_mask_uses_the_pad_id_it_is_given():
    tokens = torch.tensor([[0, 4, 19, 19]])  # id 0 is a real token here
    assert masking.padding_mask(tokens, 19)[0, 0, 0].tolist() == [True, True, False, False]


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4)])
def test_padding_mask_wants_B_by_T_tokens(shape):
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        masking.padding_mask(torch.zeros(shape, dtype=torch.long), 0)


# ---------------------------------------------------------------- combining, empty rows, the additive form


def test_combine_masks_is_a_broadcast_logical_and():
    causal = masking.causal_mask(4)
    padding = masking.padding_mask(torch.tensor([[1, 2, 3, 0], [1, 0, 0, 0]]), 0)  # (2, 1, 1, 4)
    both = masking.combine_masks(causal, padding)
    assert both.shape == (2, 1, 4, 4)
    for b in range(2):
        for i in range(4):
            for j in range(4):
                assert bool(both[b, 0, i, j]) == (j <= i and bool(padding[b, 0, 0, j]))


def test_combine_masks_skips_none():
    causal = masking.causal_mask(3)
    assert torch.equal(masking.combine_masks(None, causal, None), causal)
    assert masking.combine_masks(None, None) is None
    assert masking.combine_masks() is None


def test_empty_rows_marks_queries_with_no_allowed_key():
    mask = torch.tensor([[True, False], [False, False], [False, True]])
    assert masking.empty_rows(mask).tolist() == [False, True, False]
    left = masking.token_batch(side="left")
    both = masking.combine_masks(masking.causal_mask(left.shape[1]), masking.padding_mask(left, masking.PAD_ID))
    assert masking.empty_rows(both)[:, 0].tolist() == [[False] * 4, [True, False, False, False],
                                                       [True, True, False, False]]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_additive_mask_is_zero_or_minus_infinity_and_gives_the_same_weights(dtype):
    mask = masking.causal_mask(5)
    M = masking.additive_mask(mask, dtype)
    assert M.dtype == dtype
    assert torch.equal(M[mask], torch.zeros(int(mask.sum()), dtype=dtype))  # exact: zeros, filled with -inf elsewhere
    assert torch.isinf(M[~mask]).all() and (M[~mask] < 0).all()
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(5, 3, generator=generator, dtype=dtype) for _ in range(3))
    scores = q @ k.T / math.sqrt(3)  # (T, d_k) @ (d_k, T) -> (T, T)
    _, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(torch.softmax(scores + M, dim=-1), weights)


# ---------------------------------------------------------------- the two conventions


@pytest.mark.parametrize("B", [1, 5])
def test_key_padding_mask_round_trip(B):
    tokens = _random_batch(B, B, 6, 0)
    mask = masking.padding_mask(tokens, 0)
    key_padding = masking.to_key_padding_mask(mask)
    assert key_padding.shape == (B, 6)  # B = 1 keeps its batch axis
    assert torch.equal(key_padding, tokens == 0)  # True = ignore: the pads
    assert torch.equal(masking.to_key_padding_mask(mask[:, 0, 0]), key_padding)  # (B, T_k) accepted too
    assert torch.equal(masking.from_key_padding_mask(key_padding), mask)


def test_to_key_padding_mask_rejects_a_full_attention_mask():
    with pytest.raises(ValueError, match="padding mask"):
        masking.to_key_padding_mask(torch.ones(2, 1, 3, 3, dtype=torch.bool))


def test_to_mha_attn_mask_inverts():
    causal = masking.causal_mask(4)
    assert torch.equal(masking.to_mha_attn_mask(causal), torch.ones(4, 4, dtype=torch.bool).triu(1))


# ---------------------------------------------------------------- batches


def test_pad_batch_pads_right_or_left():
    sequences = [[1, 2, 3], [4], []]
    right = masking.pad_batch(sequences, 9)
    left = masking.pad_batch(sequences, 9, side="left")
    assert right.tolist() == [[1, 2, 3], [4, 9, 9], [9, 9, 9]]
    assert left.tolist() == [[1, 2, 3], [9, 9, 4], [9, 9, 9]]
    assert right.dtype == torch.long


def test_pad_batch_rejects_an_unknown_side():
    with pytest.raises(ValueError, match="side"):
        masking.pad_batch([[1]], 0, side="middle")


def test_lesson_batch_uses_a_pad_id_that_is_not_a_word():
    assert masking.VOCAB[masking.PAD_ID] == masking.PAD
    assert masking.PAD_ID == len(sa.VOCAB)  # lesson 3's ids are unchanged; 0 is still <unk>
    batch = masking.token_batch()
    lengths = [len(sa.tokenize(s)) for s in masking.SENTENCES]
    assert batch.shape == (len(lengths), max(lengths))
    assert (batch != masking.PAD_ID).sum(dim=1).tolist() == lengths
    assert masking.batch_tokens(batch)[1][-1] == masking.PAD


def test_changed_positions_compares_exactly():
    before = torch.zeros(1, 4, 2)
    after = before.clone()
    after[0, 1, 0] = 1e-30
    after[0, 3] = float("nan")
    assert masking.changed_positions(before, after) == [1, 3]
    assert masking.changed_positions(before, after, atol=1e-6) == [3]
    assert masking.changed_positions(before, before.clone()) == []


# ---------------------------------------------------------------- masked attention against PyTorch


def _qkv(seed: int, dtype: torch.dtype, B=2, h=3, T_q=6, T_k=6, d_k=4, d_v=5):
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(B, h, T_q, d_k, generator=generator, dtype=dtype),
            torch.randn(B, h, T_k, d_k, generator=generator, dtype=dtype),
            torch.randn(B, h, T_k, d_v, generator=generator, dtype=dtype))


def _mask(kind: str, seed: int, B=2, h=3, T=6) -> torch.Tensor:
    padding = masking.padding_mask(_random_batch(seed, B, T, 0), 0)  # (B, 1, 1, T)
    if kind == "causal":
        return masking.causal_mask(T)
    if kind == "padding":
        return padding
    if kind == "causal and padding":
        return masking.combine_masks(masking.causal_mask(T), padding)
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(B, h, T, T, generator=generator) > 0.4  # may leave rows empty


@pytest.mark.parametrize(("kind", "dtype"), [
    ("causal", torch.float64), ("padding", torch.float64), ("causal and padding", torch.float64),
    ("random", torch.float64), ("causal and padding", torch.float32), ("random", torch.float32),
], ids=["causal", "padding", "causal-and-padding", "random", "causal-and-padding-float32", "random-float32"])
def test_masked_attention_equals_torch_scaled_dot_product_attention(kind, dtype):
    seed = 5  # its random mask leaves a row empty (asserted below), so that path is held against torch too
    q, k, v = _qkv(seed, dtype)
    mask = _mask(kind, seed)
    ours, weights = scaled_dot_product_attention(q, k, v, mask)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, theirs)  # the default tolerance of each dtype: ~1e-5 (float32), ~1e-7 (float64)
    hidden = ~mask.expand(weights.shape)
    assert (weights[hidden] == 0).all()  # exactly 0, not just small
    allowed_rows = mask.expand(weights.shape).any(dim=-1)
    sums = weights.sum(dim=-1)
    torch.testing.assert_close(sums[allowed_rows], torch.ones_like(sums[allowed_rows]))
    assert (sums[~allowed_rows] == 0).all()  # exact: filled with 0
    assert kind != "random" or not allowed_rows.all()


def test_the_causal_mask_equals_torch_is_causal():
    q, k, v = _qkv(7, torch.float64)
    ours, _ = scaled_dot_product_attention(q, k, v, masking.causal_mask(q.shape[-2]))
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def _multihead_by_hand(mha: nn.MultiheadAttention, x: torch.Tensor, mask: torch.Tensor):
    """nn.MultiheadAttention's computation written out with the course's attention and a True = attend mask."""
    B, T, d_model = x.shape
    h = mha.num_heads
    W_q, W_k, W_v = mha.in_proj_weight.chunk(3)  # each (d_model, d_model), as nn.Linear stores them
    b_q, b_k, b_v = mha.in_proj_bias.chunk(3)

    def heads(y):  # (B, T, d_model) -> (B, h, T, d_model / h)
        return y.reshape(B, T, h, d_model // h).transpose(1, 2)

    q, k, v = heads(x @ W_q.T + b_q), heads(x @ W_k.T + b_k), heads(x @ W_v.T + b_v)
    out, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, h, T, d_model / h), (B, h, T, T)
    out = out.transpose(1, 2).reshape(B, T, d_model)  # (B, h, T, d/h) -> (B, T, h, d/h) -> (B, T, d_model)
    return mha.out_proj(out), weights.mean(dim=1)  # nn.MultiheadAttention averages the heads' weights


@pytest.mark.parametrize("num_heads", [1, 2])
def test_converted_masks_give_nn_multihead_attention_the_same_answer(num_heads):
    seed = 0
    torch.manual_seed(seed)
    B, T, d_model = 3, 5, 8
    mha = nn.MultiheadAttention(d_model, num_heads, batch_first=True).double().eval()
    x = torch.randn(B, T, d_model, dtype=torch.float64)
    tokens = _random_batch(seed, B, T, 0)
    padding = masking.padding_mask(tokens, 0)  # (B, 1, 1, T), True = attend
    causal = masking.causal_mask(T)
    with torch.no_grad():
        theirs, their_weights = mha(x, x, x, key_padding_mask=masking.to_key_padding_mask(padding),
                                    attn_mask=masking.to_mha_attn_mask(causal))
        ours, our_weights = _multihead_by_hand(mha, x, masking.combine_masks(causal, padding))
        torch.testing.assert_close(ours, theirs)
        torch.testing.assert_close(our_weights, their_weights)
        # padding alone, through key_padding_mask only
        theirs, _ = mha(x, x, x, key_padding_mask=masking.to_key_padding_mask(padding))
        torch.testing.assert_close(_multihead_by_hand(mha, x, padding)[0], theirs)


def test_an_unconverted_mask_gives_nn_multihead_attention_the_opposite_answer():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(4, 1, batch_first=True).eval()
    x = torch.randn(2, 3, 4)
    padding = masking.padding_mask(torch.tensor([[1, 2, 3], [1, 2, 0]]), 0)
    with torch.no_grad():
        _, weights = mha(x, x, x, key_padding_mask=padding[:, 0, 0])  # True = attend, read as True = ignore
    assert torch.isnan(weights[0]).all()  # the first sentence has no pad: every key ignored
    # only the pad is looked at; exact: one allowed key gets exp(0) / exp(0) = 1, the others exp(-inf) = 0
    assert torch.equal(weights[1], torch.tensor([[0.0, 0.0, 1.0]] * 3))


# ---------------------------------------------------------------- a row with nothing to attend to


def test_a_plain_softmax_over_a_fully_masked_row_is_nan():
    allowed = torch.tensor([[True, False], [False, False]])
    scores = torch.tensor([[1.0, 2.0], [0.5, 0.1]]).masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    assert torch.isnan(weights[1]).all()
    assert not torch.isnan(weights[0]).any()


def test_the_course_gives_an_empty_row_zero_weights_zero_output_and_finite_gradients():
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 3, generator=generator, requires_grad=True) for _ in range(3))
    mask = masking.causal_mask(4).repeat(2, 1, 1)
    mask[:, 1] = False  # query 1 may attend to nothing
    mask[1, :, 0] = False  # in the second sequence key 0 is hidden too, so query 0 is empty as well
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    empty = masking.empty_rows(mask)
    assert empty.tolist() == [[False, True, False, False], [True, True, False, False]]
    assert (weights[empty] == 0).all()
    assert (output[empty] == 0).all()
    assert not torch.isnan(output).any()
    output.sum().backward()
    for tensor in (q, k, v):
        assert torch.isfinite(tensor.grad).all()


def test_torch_functions_differ_on_an_empty_row_in_this_version():
    # Lesson 5 prints this: F.scaled_dot_product_attention gives zeros, nn.MultiheadAttention gives NaN.
    torch.manual_seed(0)
    x = torch.randn(1, 3, 4)
    mask = torch.tensor([[True, False, False], [False, False, False], [True, True, True]])
    by_sdpa = F.scaled_dot_product_attention(x, x, x, attn_mask=mask)
    assert (by_sdpa[0, 1] == 0).all()
    mha = nn.MultiheadAttention(4, 1, batch_first=True)
    with torch.no_grad():
        by_mha, _ = mha(x, x, x, attn_mask=masking.to_mha_attn_mask(mask))
    assert torch.isnan(by_mha[0, 1]).all()
    assert not torch.isnan(by_mha[0, 0]).any()


# ---------------------------------------------------------------- leakage tests


def _layer(seed: int, d: int = 6) -> sa.SelfAttention:
    torch.manual_seed(seed)
    return sa.SelfAttention(d, d, d).double()


# The leakage tests compare bit for bit, and rightly: an output a change must not reach is computed by the same
# arithmetic on the same numbers, because the changed key's weight is exactly 0 (exp(-inf)) and 0 times its
# value is 0. Any rounding difference there would be a leak.
def _outputs_that_move(layer, x: torch.Tensor, t: int, mask) -> list[int]:
    changed = x.clone()
    changed[0, t] += 1.0
    with torch.no_grad():
        return masking.changed_positions(layer(x, mask)[0], layer(changed, mask)[0])


@pytest.mark.parametrize(("seed", "T"), [(0, 1), (1, 9)])
def test_under_a_causal_mask_changing_token_t_changes_nothing_before_t(seed, T):
    layer = _layer(seed)
    x = torch.randn(1, T, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    for t in range(T):
        moved = _outputs_that_move(layer, x, t, masking.causal_mask(T))
        assert all(position >= t for position in moved)  # bit for bit: weight exactly 0
        assert t in moved  # and the token's own output does depend on it


def test_the_causal_leakage_test_holds_for_every_head_of_a_batch():
    generator = torch.Generator().manual_seed(0)
    B, h, T, d = 2, 3, 7, 4
    q, k, v = (torch.randn(B, h, T, d, generator=generator, dtype=torch.float64) for _ in range(3))
    before, _ = scaled_dot_product_attention(q, k, v, masking.causal_mask(T))
    for t in range(T):
        k2, v2 = k.clone(), v.clone()
        k2[..., t, :] += 1.0
        v2[..., t, :] -= 1.0  # change key and value t in every head of every sequence
        after, _ = scaled_dot_product_attention(q, k2, v2, masking.causal_mask(T))
        assert torch.equal(before[..., :t, :], after[..., :t, :]), f"changing position {t} moved an earlier output"
        assert not torch.equal(before[..., t:, :], after[..., t:, :])


@pytest.mark.parametrize(("name", "wrong_mask"), [
    ("no mask", None),
    ("transposed", masking.causal_mask(6).T),
    ("inverted", ~masking.causal_mask(6)),
    ("all allowed", torch.ones(6, 6, dtype=torch.bool)),
])
def test_the_leakage_test_catches_a_wrong_mask(name, wrong_mask):
    layer = _layer(0)
    x = torch.randn(1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    leaks = [t for t in range(1, 6) if any(p < t for p in _outputs_that_move(layer, x, t, wrong_mask))]
    assert leaks, f"a {name} mask should leak the future"


@pytest.mark.parametrize("seed", [0, 1])
def test_changing_pad_tokens_changes_no_real_output(seed):
    torch.manual_seed(seed)
    B, T, vocab, pad = 4, 7, 15, 0
    embedding = nn.Embedding(vocab, 6).double()
    layer = _layer(seed)
    tokens = _random_batch(seed, B, T, pad, vocab)
    is_pad = tokens == pad
    mask = masking.padding_mask(tokens, pad)[:, 0]  # (B, 1, T): single head
    generator = torch.Generator().manual_seed(100 + seed)
    filled = tokens.clone()
    filled[is_pad] = torch.randint(vocab, (int(is_pad.sum()),), generator=generator)
    with torch.no_grad():
        before, _ = layer(embedding(tokens), mask)
        after, _ = layer(embedding(filled), mask)
        causal_before, _ = layer(embedding(tokens), masking.combine_masks(masking.causal_mask(T), mask))
        causal_after, _ = layer(embedding(filled), masking.combine_masks(masking.causal_mask(T), mask))
    assert is_pad.any()
    assert torch.equal(before[~is_pad], after[~is_pad])  # bit for bit, as in the leakage tests above
    assert torch.equal(causal_before[~is_pad], causal_after[~is_pad])


def test_pads_leak_without_a_mask_or_with_the_queries_masked_instead():
    torch.manual_seed(0)
    embedding = nn.Embedding(10, 6).double()
    layer = _layer(0)
    tokens = torch.tensor([[1, 2, 3, 0, 0]])
    filled = torch.tensor([[1, 2, 3, 7, 8]])
    real = tokens != 0
    queries_masked = real[:, :, None]  # (B, T, 1): hides pad queries, not pad keys
    for mask in (None, queries_masked):
        with torch.no_grad():
            before, _ = layer(embedding(tokens), mask)
            after, _ = layer(embedding(filled), mask)
        assert not torch.equal(before[real], after[real])


# ---------------------------------------------------------------- the widget's example


def test_example_attention_under_masks():
    T = len(masking.EXAMPLE_TOKENS)
    free = masking.example_attention()
    torch.testing.assert_close(free.sum(dim=-1), torch.ones(T))
    assert (free[:, -1] > 0).all()  # unmasked, the pad is a key like any other
    causal = masking.example_attention(masking.causal_mask(T))
    assert torch.equal(causal.triu(1), torch.zeros(T, T))  # exact: exp(-inf) is 0
    hidden_hello = masking.causal_mask(T)
    hidden_hello[:, 0] = False
    weights = masking.example_attention(hidden_hello)
    assert (weights[0] == 0).all()
    torch.testing.assert_close(weights[1:].sum(dim=-1), torch.ones(T - 1))


def test_minus_1e9_in_16_bit_floats_is_what_lesson_5_says():
    """masked_fill refuses -1e9 in float16; a float32 additive mask of -1e9 becomes -inf when cast, and its empty
    row NaN; torch.finfo(dtype).min fits, and spreads an empty row evenly. A torch upgrade that changes any of
    this would make the lesson's sentence wrong."""
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], dtype=torch.float16)
    mask = torch.tensor([[True, False, True], [False, False, False]])  # row 1 may attend to nothing
    with pytest.raises(RuntimeError, match="overflow"):
        scores.masked_fill(~mask, -1e9)
    additive = torch.zeros(mask.shape).masked_fill(~mask, -1e9).half()
    assert torch.isinf(additive[0, 1]) and torch.isnan(torch.softmax((scores + additive).float(), -1)[1]).all()
    fits = torch.softmax(scores.masked_fill(~mask, torch.finfo(scores.dtype).min).float(), -1)
    assert fits[0, 1] == 0 and torch.allclose(fits[1], torch.full((3,), 1 / 3))
