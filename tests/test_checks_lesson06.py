"""Lesson 6's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import pytest
import torch

from attention_course import checks
from attention_course.multihead import MultiHeadAttention

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def split_heads(x, num_heads):
    B, T, d_model = x.shape
    return x.reshape(B, T, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x):
    B, h, T, d_k = x.shape
    return x.transpose(1, 2).reshape(B, T, h * d_k)


def copy_from_torch(mha):
    ours = MultiHeadAttention(mha.embed_dim, mha.num_heads)
    with torch.no_grad():
        for linear, weight, bias in zip((ours.W_q, ours.W_k, ours.W_v), mha.in_proj_weight.chunk(3),
                                        mha.in_proj_bias.chunk(3)):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
        ours.W_o.weight.copy_(mha.out_proj.weight)
        ours.W_o.bias.copy_(mha.out_proj.bias)
    return ours


def previous_token_head():
    return "convolution heads", 0


SOLUTIONS = {
    "split_heads": split_heads,
    "merge_heads": merge_heads,
    "copy_from_torch": copy_from_torch,
    "previous_token_head": previous_token_head,
}
NO_DATA_INPUTS = {'copy_from_torch', 'previous_token_head'}  # no array or tensor to write into: numbers, text, modules

# ---------------------------------------------------------------- realistic wrong answers


def _copy(order=(0, 1, 2), transpose=False, biases=True, out=True):
    def answer(mha):
        ours = MultiHeadAttention(mha.embed_dim, mha.num_heads)
        weights, bias = mha.in_proj_weight.chunk(3), mha.in_proj_bias.chunk(3)
        with torch.no_grad():
            for linear, n in zip((ours.W_q, ours.W_k, ours.W_v), order):
                linear.weight.copy_(weights[n].T if transpose else weights[n])
                if biases:
                    linear.bias.copy_(bias[n])
            if out:
                ours.W_o.weight.copy_(mha.out_proj.weight)
                ours.W_o.bias.copy_(mha.out_proj.bias)
        return ours
    return answer


def _split_view(x, h):
    B, T, d = x.shape
    return x.view(B, T, h, d // h).transpose(1, 2)


WRONG = [
    # split_heads
    ("split_heads", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h), ["reshaped straight to", "scrambles tokens"]),
    ("split_heads", lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2),
     ["wrong axis", "features 0, h, 2h"]),
    ("split_heads", lambda x, h: x.transpose(1, 2).reshape(x.shape[0], h, x.shape[1], x.shape[2] // h),
     ["transposed before splitting"]),
    ("split_heads", lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h), ["(B, T, h, d_k)", "transpose(1, 2)"]),
    ("split_heads", lambda x, h: split_heads(x, 2), ["shape"]),
    # merge_heads
    ("merge_heads", lambda x: x.reshape(x.shape[0], x.shape[2], -1), ["without moving the heads back"]),
    ("merge_heads", lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1), ["interleaved"]),
    ("merge_heads", lambda x: x.transpose(2, 3).reshape(x.shape[0], x.shape[2], -1), ["swapped T and d_k"]),
    ("merge_heads", lambda x: x.transpose(1, 2).view(x.shape[0], x.shape[2], -1), ["RuntimeError", "reshape"]),
    ("merge_heads", lambda x: x.mean(dim=1), ["averaged", "concatenate"]),
    # copy_from_torch
    ("copy_from_torch", _copy(order=(1, 0, 2)), ["W_q holds the weights of W_k", "W_Q, W_K, W_V in that order"]),
    ("copy_from_torch", _copy(transpose=True), ["transposed", "without .T"]),
    ("copy_from_torch", _copy(biases=False), ["bias was not copied"]),
    ("copy_from_torch", _copy(out=False), ["W_o.weight was not copied"]),
    ("copy_from_torch", lambda mha: mha, ["torch layer itself"]),
    ("copy_from_torch", lambda mha: MultiHeadAttention(mha.embed_dim, 1), ["1 heads", "mha.num_heads"]),
    # previous_token_head
    ("previous_token_head", lambda: ("convolution heads", 2), ["next token"]),
    ("previous_token_head", lambda: ("convolution heads", 1), ["itself"]),
    ("previous_token_head", lambda: ("structured heads", 0), ["depend on content", "fixed offset"]),
    ("previous_token_head", lambda: ("random heads", 1), ["depend on content"]),
    ("previous_token_head", lambda: ("convolution heads", 3), ["numbered 0 to 2"]),
    ("previous_token_head", lambda: 0, ["return a pair"]),
    ("previous_token_head", lambda: ("conv", 0), ["not one of the widget's"]),
]


def test_view_is_fine_for_splitting_even_on_a_transposed_input():
    assert checks.split_heads(_split_view).status == "passed"  # splitting one axis never needs a copy


def test_short_kind_names_are_accepted():
    assert checks.previous_token_head(lambda: ("convolution", 0)).status == "passed"
    assert checks.previous_token_head(lambda: ["Convolution heads", 0]).status == "passed"


def test_other_correct_solutions_pass():
    assert checks.split_heads(lambda x, h: x.unflatten(-1, (h, -1)).permute(0, 2, 1, 3)).status == "passed"
    assert checks.merge_heads(lambda x: x.permute(0, 2, 1, 3).flatten(2)).status == "passed"
    assert checks.merge_heads(lambda x: torch.cat(list(x.unbind(1)), dim=-1)).status == "passed"
    assert checks.copy_from_torch(MultiHeadAttention.from_torch).status == "passed"


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_the_solution_passes_twice(name):
    assert getattr(checks, name)(SOLUTIONS[name]).status == "passed"
    assert getattr(checks, name)(SOLUTIONS[name]).status == "passed"
