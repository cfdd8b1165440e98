"""Lesson 10's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import torch

from attention_course import checks, cost
from attention_course.masking import causal_mask, padding_mask

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def attention_flops(T, d_model):
    projections = 4 * 2 * T * d_model * d_model  # W_Q, W_K, W_V, W_O
    scores = 2 * T * T * d_model  # Q K^T
    mixing = 2 * T * T * d_model  # A V
    return projections + scores + mixing


def decoder_only_mask(tokens, pad_id):
    return causal_mask(tokens.shape[1]) & padding_mask(tokens, pad_id)


def path_length(layers, x):
    for n in range(1, len(layers) + 1):
        x_in = x.clone().requires_grad_(True)
        y = x_in
        for layer in layers[:n]:
            y = layer(y)
        y[0, -1].sum().backward()
        if x_in.grad[0, 0].abs().sum() > 0:
            return n
    return None


def crossover_length():
    return 512


SOLUTIONS = {
    "attention_flops": attention_flops,
    "decoder_only_mask": decoder_only_mask,
    "path_length": path_length,
    "crossover_length": crossover_length,
}
NO_DATA_INPUTS = {'attention_flops', 'crossover_length'}  # no array or tensor to write into: numbers, text, modules

# ---------------------------------------------------------------- realistic wrong answers


def _path(output="last", source="first", offset=0, grad_test="nonzero", none_value=None):
    def answer(layers, x):
        for n in range(1, len(layers) + 1):
            x_in = x.clone().requires_grad_(True)
            y = x_in
            for layer in layers[:n]:
                y = layer(y)
            (y[0, -1] if output == "last" else y[0, 0] if output == "first" else y).sum().backward()
            gradient = x_in.grad[0, 0] if source == "first" else x_in.grad[0, -1] if source == "last" else x_in.grad
            if grad_test == "exists" or gradient.abs().sum() > 0:
                return n + offset
        return len(layers) if none_value == "length" else None
    return answer


WRONG = [
    # attention_flops
    ("attention_flops", lambda T, d: 4 * T * d * d + 2 * T * T * d, ["multiply-adds", "2 FLOPs"]),
    ("attention_flops", lambda T, d: 6 * T * d * d + 4 * T * T * d, ["left out one projection", "W_O"]),
    ("attention_flops", lambda T, d: 4 * T * T * d, ["only the T×T part"]),
    ("attention_flops", lambda T, d: 8 * T * d * d, ["only the projections"]),
    ("attention_flops", lambda T, d: 8 * T * d * d + 2 * T * T * d, ["two products", "A V"]),
    ("attention_flops", lambda T, d: 8 * T * T * d + 4 * T * d * d, ["swapped"]),
    ("attention_flops", lambda T, d: 8 * T * d * d + 4 * T * T * d + 1, ["torch's counter finds"]),
    ("attention_flops", lambda T, d: "many", ["whole number"]),
    # decoder_only_mask
    ("decoder_only_mask", lambda tokens, pad: ~decoder_only_mask(tokens, pad), ["swapped"]),
    ("decoder_only_mask", lambda tokens, pad: causal_mask(tokens.shape[1]).expand(tokens.shape[0], 1, -1, -1),
     ["pads are not hidden"]),
    ("decoder_only_mask", lambda tokens, pad: padding_mask(tokens, pad).expand(-1, -1, tokens.shape[1], -1),
     ["future is visible"]),
    ("decoder_only_mask", lambda tokens, pad: torch.ones(tokens.shape[1], tokens.shape[1], dtype=torch.bool).triu()
     & padding_mask(tokens, pad), ["upper triangle"]),
    ("decoder_only_mask", lambda tokens, pad: torch.ones(tokens.shape[1], tokens.shape[1], dtype=torch.bool).tril(-1)
     & padding_mask(tokens, pad), ["see itself", "diagonal"]),
    ("decoder_only_mask", lambda tokens, pad: causal_mask(tokens.shape[1]) & (tokens != pad)[:, None, :, None],
     ["rows (queries)", "(B, 1, 1, T)"]),
    ("decoder_only_mask", lambda tokens, pad: decoder_only_mask(tokens, pad)[:, 0], ["head axis"]),
    ("decoder_only_mask", lambda tokens, pad: decoder_only_mask(tokens, pad).float(), ["booleans"]),
    ("decoder_only_mask", lambda tokens, pad: causal_mask(tokens.shape[1]), ["shape"]),
    # path_length
    ("path_length", _path(output="all"), ["last position only", "x.grad[0, 0]"]),
    ("path_length", _path(source="all"), ["position 0 only"]),
    ("path_length", _path(offset=-1), ["count the layers from 1"]),
    ("path_length", _path(grad_test="exists"), ["gradient of zeros is still a tensor"]),
    ("path_length", _path(none_value="length"), ["return None"]),
    ("path_length", _path(output="first", source="last"), ["not the other way round"]),
    ("path_length", lambda layers, x: len(layers), ["number of layers in the stack", "the fewest"]),
    # crossover_length (widget)
    ("crossover_length", lambda: 256, ["still cheaper"]),
    ("crossover_length", lambda: 1536, ["6·d_model", "feed-forward layer alone"]),
    ("crossover_length", lambda: 1024, ["already costs more"]),
    ("crossover_length", lambda: 128, ["still cheaper"]),
    ("crossover_length", lambda: 0, ["positive"]),
    ("crossover_length", lambda: "512 tokens", ["whole number"]),
]


def test_other_correct_solutions_pass():
    assert checks.attention_flops(lambda T, d: 8.0 * T * d**2 + 4.0 * T**2 * d).status == "passed"  # floats are fine
    assert checks.attention_flops(lambda T, d: cost.attention_flops(T, d)).status == "passed"
    assert checks.decoder_only_mask(lambda tokens, pad: (causal_mask(tokens.shape[1])[None, None]
                                                         & (tokens != pad)[:, None, None, :])).status == "passed"
    assert checks.path_length(cost.layers_to_reach).status == "passed"
    assert checks.crossover_length(lambda: torch.tensor(512)).status == "passed"


def test_the_solution_passes_twice():
    for name, solution in SOLUTIONS.items():
        assert getattr(checks, name)(solution).status == "passed"
        assert getattr(checks, name)(solution).status == "passed"
