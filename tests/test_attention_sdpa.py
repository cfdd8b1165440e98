"""attention.scaled_dot_product_attention against torch.nn.functional.scaled_dot_product_attention."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from attention_course.attention import scaled_dot_product_attention

# (q shape, k shape, v shape), each a path the others do not take
SHAPES = [
    ((3, 8), (7, 8), (7, 2)),  # no batch, T_q != T_k, d_v != d_k
    ((1, 4), (1, 4), (1, 4)),  # T = 1
    ((2, 5, 8), (2, 7, 8), (2, 7, 3)),  # a batch
    ((2, 4, 5, 16), (2, 4, 7, 16), (2, 4, 7, 3)),  # batch and heads
    ((3, 2, 1, 32), (3, 2, 9, 32), (3, 2, 9, 64)),  # one query, d_v > d_k
    ((2, 4, 5, 8), (1, 4, 7, 8), (1, 4, 7, 3)),  # keys and values broadcast over the batch
    ((2, 1, 6, 8), (2, 3, 6, 8), (2, 3, 6, 5)),  # queries broadcast over the heads
]
SHAPE_IDS = ["no-batch", "T-1", "batch", "heads", "one-query", "broadcast-kv", "broadcast-q"]
# Against torch's kernel, which sums in its own order: float32 results of size ~1 differ by a few ulps (1e-7),
# float64 ones by a few 1e-16; each tolerance is ~10-1000 times that, and far below any real mistake.
TOLERANCE = {torch.float32: {"rtol": 1e-5, "atol": 1e-6}, torch.float64: {"rtol": 1e-10, "atol": 1e-12}}


def tensors(shapes, seed: int, dtype=torch.float64, requires_grad: bool = False):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator, dtype=dtype).requires_grad_(requires_grad) for shape in shapes]


def reference_weights(q, k, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def random_mask(shape, seed: int, keep_every_row: bool = True):
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(seed)) > 0.4
    if keep_every_row:
        mask[..., 0] = True  # every query may attend to at least one key
    return mask


# ---------------------------------------------------------------- without a mask


CASES = [(shapes, torch.float64) for shapes in SHAPES] + [(SHAPES[3], torch.float32), (SHAPES[5], torch.float32)]


@pytest.mark.parametrize(("shapes", "dtype"), CASES,
                         ids=[*SHAPE_IDS, "heads-float32", "broadcast-kv-float32"])
def test_output_equals_torch(shapes, dtype):
    q, k, v = tensors(shapes, 0, dtype)
    output, weights = scaled_dot_product_attention(q, k, v)
    expected = F.scaled_dot_product_attention(q, k, v)
    assert output.shape == expected.shape
    assert output.dtype == weights.dtype == dtype
    assert torch.allclose(output, expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("shapes", SHAPES, ids=SHAPE_IDS)
def test_weights_are_the_softmax_of_the_scaled_scores(shapes):
    q, k, v = tensors(shapes, 0)
    _, weights = scaled_dot_product_attention(q, k, v)
    t_q, t_k = shapes[0][-2], shapes[1][-2]
    assert weights.shape[-2:] == (t_q, t_k)
    assert torch.allclose(weights, reference_weights(q, k), rtol=1e-10, atol=1e-12)
    assert torch.allclose(weights.sum(dim=-1), torch.ones((), dtype=torch.float64), atol=1e-12)
    assert (weights >= 0).all()


@pytest.mark.parametrize("shapes", SHAPES, ids=SHAPE_IDS)
def test_output_has_one_row_of_width_d_v_per_query(shapes):
    q, k, v = tensors(shapes, 0)
    output, weights = scaled_dot_product_attention(q, k, v)
    assert output.shape[-2:] == (shapes[0][-2], shapes[2][-1])
    assert torch.allclose(output, weights @ v, atol=1e-12)


def test_scale_is_one_over_sqrt_d_k_not_the_sequence_length():
    q, k, v = tensors([(4, 9), (12, 9), (12, 2)], 3)  # d_k = 9, T_k = 12
    output, _ = scaled_dot_product_attention(q, k, v)
    assert torch.allclose(output, F.scaled_dot_product_attention(q, k, v, scale=1 / 3), atol=1e-12)
    assert not torch.allclose(output, F.scaled_dot_product_attention(q, k, v, scale=1 / math.sqrt(12)), atol=1e-6)


def test_large_scores_do_not_overflow():
    q, k, v = tensors([(3, 4), (5, 4), (5, 2)], 4)
    output, weights = scaled_dot_product_attention(q * 1e4, k * 1e4, v)
    assert torch.isfinite(output).all() and torch.isfinite(weights).all()
    assert torch.allclose(output, F.scaled_dot_product_attention(q * 1e4, k * 1e4, v), atol=1e-10)


def test_inputs_are_not_modified():
    q, k, v = tensors([(2, 3, 4), (2, 5, 4), (2, 5, 6)], 5)
    mask = random_mask((2, 3, 5), 5)
    before = [t.clone() for t in (q, k, v, mask)]
    scaled_dot_product_attention(q, k, v, mask)
    assert all(torch.equal(a, b) for a, b in zip((q, k, v, mask), before))  # exact: untouched inputs keep every bit


# ---------------------------------------------------------------- with a mask


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_random_full_mask_equals_torch(dtype):
    q, k, v = tensors([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], 0, dtype)
    mask = random_mask((2, 4, 5, 7), 0)
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.allclose(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), **TOLERANCE[dtype])
    assert torch.allclose(weights, reference_weights(q, k, mask).to(dtype), **TOLERANCE[dtype])
    assert (weights[~mask] == 0).all()  # exact: exp(-inf) is 0
    assert torch.allclose(weights.sum(dim=-1), torch.ones((), dtype=dtype), **TOLERANCE[dtype])


@pytest.mark.parametrize("mask_shape", [(7,), (1, 7), (2, 1, 1, 7), (5, 7), (2, 1, 5, 7), (1, 4, 5, 7), (4, 1, 7)])
def test_broadcast_masks_equal_torch(mask_shape):
    q, k, v = tensors([(2, 4, 5, 8), (2, 4, 7, 8), (2, 4, 7, 3)], 0)
    mask = random_mask(mask_shape, 10)
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    assert output.shape == (2, 4, 5, 3)
    assert weights.shape == (2, 4, 5, 7)
    # F.scaled_dot_product_attention refuses a 1-d mask on some of its paths; give it the same mask as (T_q, T_k)
    torch_mask = mask if mask.dim() >= 2 else mask.expand(5, 7)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=torch_mask)
    assert torch.allclose(output, expected, rtol=1e-10, atol=1e-12)
    assert (weights[~mask.expand(2, 4, 5, 7)] == 0).all()


@pytest.mark.parametrize(("T", "dtype"), [(1, torch.float64), (9, torch.float64), (4, torch.float32)])
def test_causal_mask_equals_torch_is_causal(T, dtype):
    q, k, v = tensors([(2, 3, T, 8), (2, 3, T, 8), (2, 3, T, 4)], T, dtype)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    output, weights = scaled_dot_product_attention(q, k, v, causal)
    assert torch.allclose(output, F.scaled_dot_product_attention(q, k, v, is_causal=True), **TOLERANCE[dtype])
    assert torch.allclose(output, F.scaled_dot_product_attention(q, k, v, attn_mask=causal), **TOLERANCE[dtype])
    assert (weights.triu(diagonal=1) == 0).all()
    assert torch.allclose(weights[..., 0, 0], torch.ones((), dtype=dtype))  # the first query sees only itself


def test_causal_mask_with_fewer_queries_than_keys():
    q, k, v = tensors([(5, 8), (7, 8), (7, 3)], 6)
    mask = torch.ones(5, 7, dtype=torch.bool).tril()
    output, _ = scaled_dot_product_attention(q, k, v, mask)
    assert torch.allclose(output, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), atol=1e-12)


def test_all_true_mask_changes_nothing():
    q, k, v = tensors([(2, 5, 8), (2, 6, 8), (2, 6, 3)], 7)
    unmasked = scaled_dot_product_attention(q, k, v)
    masked = scaled_dot_product_attention(q, k, v, torch.ones(5, 6, dtype=torch.bool))
    # exact: a mask that hides nothing fills nothing, so both calls do the same arithmetic on the same numbers
    assert all(torch.equal(a, b) for a, b in zip(unmasked, masked))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fully_masked_row_gives_zero_weights_and_output_like_torch(dtype):
    q, k, v = tensors([(2, 4, 8), (2, 6, 8), (2, 6, 3)], 8, dtype)
    mask = random_mask((2, 4, 6), 8)
    mask[0, 2] = False  # query 2 of the first sequence may attend to nothing
    mask[1, :] = False  # the whole second sequence may attend to nothing
    output, weights = scaled_dot_product_attention(q, k, v, mask)
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert not torch.isnan(output).any() and not torch.isnan(weights).any()
    # exact: an empty row's weights are filled with 0, and 0 times any value is 0
    assert (weights[0, 2] == 0).all() and (output[0, 2] == 0).all()
    assert (weights[1] == 0).all() and (output[1] == 0).all()
    assert torch.allclose(output, expected, **TOLERANCE[dtype])
    rows_with_a_key = mask.any(dim=-1)
    assert torch.allclose(weights.sum(dim=-1)[rows_with_a_key], torch.ones((), dtype=dtype), **TOLERANCE[dtype])


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("shapes", [SHAPES[0], SHAPES[2], SHAPES[3], SHAPES[5]],
                         ids=["no-batch", "batch", "heads", "broadcast-kv"])
def test_gradients_match_torch(shapes, masked):
    seed = 0
    ours_in = tensors(shapes, seed, requires_grad=True)
    theirs_in = [t.detach().clone().requires_grad_(True) for t in ours_in]
    mask = random_mask(shapes[0][:-1] + (shapes[1][-2],), seed) if masked else None
    upstream = torch.randn(F.scaled_dot_product_attention(*theirs_in).shape,
                           generator=torch.Generator().manual_seed(seed + 100), dtype=torch.float64)
    ours, _ = scaled_dot_product_attention(*ours_in, mask)
    theirs = F.scaled_dot_product_attention(*theirs_in, attn_mask=mask)
    grads_ours = torch.autograd.grad((ours * upstream).sum(), ours_in)
    grads_theirs = torch.autograd.grad((theirs * upstream).sum(), theirs_in)
    for name, a, b in zip("qkv", grads_ours, grads_theirs):
        assert a.shape == b.shape, name
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12), name


def test_gradients_are_finite_with_a_fully_masked_row():
    q, k, v = tensors([(3, 4), (5, 4), (5, 2)], 9, requires_grad=True)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    output, _ = scaled_dot_product_attention(q, k, v, mask)
    output.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
    assert (q.grad[1] == 0).all()  # a query that sees nothing learns nothing; exact, through the fill with 0


# ---------------------------------------------------------------- clear errors


def test_mismatched_d_k_is_explained():
    q, k, v = tensors([(3, 8), (5, 6), (5, 2)], 0)
    with pytest.raises(ValueError, match=r"d_k.*\(3, 8\).*\(5, 6\)"):
        scaled_dot_product_attention(q, k, v)


def test_mismatched_t_k_is_explained():
    q, k, v = tensors([(3, 8), (5, 8), (4, 2)], 0)
    with pytest.raises(ValueError, match=r"T_k.*\(5, 8\).*\(4, 2\)"):
        scaled_dot_product_attention(q, k, v)


@pytest.mark.parametrize("mask", [
    torch.ones(3, 5),
    torch.ones(3, 5, dtype=torch.int64),
    torch.zeros(3, 5, dtype=torch.uint8),
    torch.full((3, 5), float("-inf")),
])
def test_non_boolean_mask_is_refused(mask):
    q, k, v = tensors([(3, 8), (5, 8), (5, 2)], 0)
    with pytest.raises(TypeError, match="boolean.*True = may attend"):
        scaled_dot_product_attention(q, k, v, mask)
