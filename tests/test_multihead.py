"""MultiHeadAttention (lesson 6) against torch.nn.MultiheadAttention, with weights copied by from_torch."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from attention_course.multihead import MultiHeadAttention

# d_model, h, T_q, T_k: self-attention with T_k != d_k (a scale by the length shows), cross-attention with more
# keys than queries, and with fewer keys than queries and an odd d_k = 10 (the causal mask is then rectangular)
SIZES = [(16, 4, 6, 6), (16, 4, 5, 9), (30, 3, 7, 2)]


def _pair(d_model, h, seed, bias=True):
    torch.manual_seed(seed)
    theirs = nn.MultiheadAttention(d_model, h, bias=bias, batch_first=True).eval()
    if bias:
        with torch.no_grad():
            theirs.in_proj_bias.normal_()
            theirs.out_proj.bias.normal_()
    return theirs, MultiHeadAttention.from_torch(theirs).eval()


def _masks(B, T_q, T_k, kind):
    real = torch.arange(T_k)[None, :] < torch.tensor([T_k, max(T_k - 1, 1), 1][:B])[:, None]  # (B, T_k)
    causal = torch.ones(T_q, T_k, dtype=torch.bool).tril()
    if kind == "none":
        return {}, None
    if kind == "padding":
        return {"key_padding_mask": ~real}, real[:, None, None, :]
    if kind == "causal":
        return {"attn_mask": ~causal}, causal
    return {"key_padding_mask": ~real, "attn_mask": ~causal}, real[:, None, None, :] & causal


# every mask kind at every size, with biases; without biases (from_torch's other path) once per size
CASES = [(*size, kind, True) for size in SIZES for kind in ("none", "padding", "causal", "both")]
CASES += [(*size, "both", False) for size in SIZES]


@pytest.mark.parametrize(("d_model", "h", "T_q", "T_k", "kind", "bias"), CASES)
def test_equals_torch(d_model, h, T_q, T_k, kind, bias):
    theirs, ours = _pair(d_model, h, 0, bias)
    B = 3
    query = torch.randn(B, T_q, d_model)
    kv = query if T_q == T_k else torch.randn(B, T_k, d_model)
    kwargs, mask = _masks(B, T_q, T_k, kind)
    with torch.no_grad():
        out_t, w_t = theirs(query, kv, kv, average_attn_weights=False, **kwargs)
        out_o, w_o = ours(query, kv, kv, mask)
    assert w_o.shape == (B, h, T_q, T_k)
    torch.testing.assert_close(out_o, out_t, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w_o, w_t, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("d_model", "h", "T_q", "T_k"), SIZES[:2])  # self- and cross-attention
def test_gradients_equal_torch(d_model, h, T_q, T_k):
    theirs, ours = _pair(d_model, h, 0)
    query = torch.randn(2, T_q, d_model)
    kv = torch.randn(2, T_k, d_model)
    q1, kv1 = query.clone().requires_grad_(), kv.clone().requires_grad_()
    q2, kv2 = query.clone().requires_grad_(), kv.clone().requires_grad_()
    theirs(q1, kv1, kv1)[0].pow(2).sum().backward()
    ours(q2, kv2, kv2)[0].pow(2).sum().backward()
    torch.testing.assert_close(q2.grad, q1.grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(kv2.grad, kv1.grad, atol=1e-5, rtol=1e-4)
    W_Q_grad = theirs.in_proj_weight.grad.chunk(3)[0]
    torch.testing.assert_close(ours.W_q.weight.grad, W_Q_grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours.W_o.weight.grad, theirs.out_proj.weight.grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(("d_model", "h"), [(12, 3), (512, 8)])
def test_parameter_count_equals_torch_and_formula(d_model, h):
    theirs = nn.MultiheadAttention(d_model, h)
    count = sum(p.numel() for p in MultiHeadAttention(d_model, h).parameters())
    assert count == sum(p.numel() for p in theirs.parameters()) == 4 * d_model**2 + 4 * d_model


@pytest.mark.parametrize(("B", "T", "d_model", "h"), [(2, 5, 12, 3), (1, 1, 8, 8), (3, 4, 8, 1)])
def test_split_merge_round_trip(B, T, d_model, h):
    layer = MultiHeadAttention(d_model, h)
    x = torch.randn(B, T, d_model)
    heads = layer.split_heads(x)
    assert heads.shape == (B, h, T, d_model // h)
    # exact: splitting and merging only move numbers, no arithmetic
    torch.testing.assert_close(heads[:, 1 % h, 0], x[:, 0, (1 % h) * (d_model // h):((1 % h) + 1) * (d_model // h)],
                               atol=0, rtol=0)
    torch.testing.assert_close(layer.merge_heads(heads), x, atol=0, rtol=0)


def _wrong_forward(layer, x, mistake):
    """The layer's forward with one classic mistake, to show the torch comparison would catch it."""
    B, T, d = x.shape
    h, d_k = layer.num_heads, layer.d_k

    def split(y):
        if mistake == "wrong axis":
            return y.view(B, T, d_k, h).permute(0, 3, 1, 2)
        if mistake == "no transpose":
            return y.reshape(B, h, T, d_k)
        return y.view(B, T, h, d_k).transpose(1, 2)

    q, k, v = split(layer.W_q(x)), split(layer.W_k(x)), split(layer.W_v(x))
    scale = math.sqrt(d if mistake == "d_model scale" else d_k)
    weights = torch.softmax(q @ k.transpose(-2, -1) / scale, dim=-1)
    heads = weights @ v  # (B, h, T, d_k)
    if mistake == "merge order":
        merged = heads.transpose(2, 3).reshape(B, T, d)
    else:
        merged = heads.transpose(1, 2).reshape(B, T, d)
    return layer.W_o(merged)


@pytest.mark.parametrize("mistake", ["wrong axis", "no transpose", "d_model scale", "merge order"])
def test_the_torch_comparison_catches_classic_mistakes(mistake):
    theirs, ours = _pair(16, 4, 0)
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        want = theirs(x, x, x)[0]
        assert torch.allclose(_wrong_forward(ours, x, "none"), want, atol=1e-5)
        assert not torch.allclose(_wrong_forward(ours, x, mistake), want, atol=1e-3)


def test_clear_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        MultiHeadAttention(10, 3)
    layer = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\(B, T_q, 8\)"):
        layer(torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 8))
    with pytest.raises(ValueError, match="kdim"):
        MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))


def test_dropout_is_off_in_eval_and_on_in_training():
    torch.manual_seed(0)
    layer = MultiHeadAttention(16, 4, dropout=0.5)
    x = torch.randn(2, 5, 16)
    layer.eval()
    # exact: the same call on the same input in one process; only dropout could make the two differ
    torch.testing.assert_close(layer(x, x, x)[0], layer(x, x, x)[0], atol=0, rtol=0)
    layer.train()
    assert not torch.allclose(layer(x, x, x)[0], layer(x, x, x)[0])
