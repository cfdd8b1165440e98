"""conv_heads (lesson 6): a multi-head attention layer equal to a 1-D convolution, and the example heads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attention_course import conv_heads
from attention_course import self_attention as sa


# kernel 3 with and without a bias, a one-token input (every neighbour is padding), kernel 5, kernel 1 (one head)
@pytest.mark.parametrize(("d_in", "d_out", "k", "T", "bias"), [(4, 5, 3, 8, True), (4, 5, 3, 8, False),
                                                            (6, 6, 3, 1, True), (3, 7, 5, 9, False),
                                                            (2, 2, 1, 4, True)])
def test_equals_conv1d(d_in, d_out, k, T, bias):
    torch.manual_seed(0)
    conv = nn.Conv1d(d_in, d_out, k, padding=k // 2, bias=bias)
    x = torch.randn(3, T, d_in)
    layer = conv_heads.ConvAsAttention.from_conv1d(conv)
    y, weights = layer(x)
    reference = F.conv1d(x.transpose(1, 2), conv.weight, conv.bias, padding=k // 2).transpose(1, 2)
    torch.testing.assert_close(y, reference, atol=1e-5, rtol=1e-5)
    assert weights.shape == (3, k, T, T) and layer.num_heads == k


def test_each_head_looks_at_its_offset_and_the_ends_are_empty():
    T = 6
    masks = conv_heads.offset_masks(T, (-1, 0, 1))
    assert masks.shape == (3, T, T)
    assert torch.equal(masks[1], torch.eye(T, dtype=torch.bool))
    assert not masks[0, 0].any() and not masks[2, T - 1].any()
    assert masks[0, 3, 2] and masks[2, 3, 4]


def test_rejects_what_it_cannot_copy():
    with pytest.raises(ValueError, match="odd"):
        conv_heads.ConvAsAttention(torch.randn(2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        conv_heads.ConvAsAttention.from_conv1d(nn.Conv1d(2, 2, 3))
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        conv_heads.ConvAsAttention(torch.randn(3, 2, 3))(torch.randn(1, 4, 5))


@pytest.mark.parametrize("kind", conv_heads.HEAD_KINDS)
def test_sentence_heads_are_distributions_and_deterministic(kind):
    weights = conv_heads.sentence_heads(kind)
    assert weights.shape == (len(conv_heads.head_names(kind)), 4, 4)
    sums = weights.sum(-1)
    assert torch.all((sums - 1).abs() < 1e-5) or kind == "convolution heads"
    # exact: the same function on the same input in one process
    torch.testing.assert_close(weights, conv_heads.sentence_heads(kind), atol=0, rtol=0)


def test_structured_head_0_is_lesson_3s_attention():
    torch.testing.assert_close(conv_heads.sentence_heads("structured heads")[0], sa.attention_over_sentence(),
                               atol=1e-6, rtol=1e-6)


def test_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        conv_heads.sentence_heads("cnn")
