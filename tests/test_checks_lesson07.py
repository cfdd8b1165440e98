"""Lesson 7's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attention_course import checks, normalization

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=False)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def residual_sublayer(x, sublayer, norm, dropout, norm_first):
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


def encoder_parameter_count(d_model, num_heads, d_ff):
    return 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + d_model + 4 * d_model


SOLUTIONS = {
    "layer_norm": layer_norm,
    "residual_sublayer": residual_sublayer,
    "encoder_parameter_count": encoder_parameter_count,
    "norm_that_mixes_sentences": lambda: "BatchNorm",
}
NO_DATA_INPUTS = {'encoder_parameter_count', 'norm_that_mixes_sentences'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def layer_norm_with_torch(x, gamma, beta, eps):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], gamma, beta, eps)


def layer_norm_in_numpy(x, gamma, beta, eps):
    x, gamma, beta = x.numpy(), gamma.numpy(), beta.numpy()
    centred = x - x.mean(axis=-1, keepdims=True)
    return gamma * centred / np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + eps) + beta


def layer_norm_with_rsqrt(x, gamma, beta, eps):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
    return (x - mean) * torch.rsqrt(var + eps) * gamma + beta


def layer_norm_in_float32(x, gamma, beta, eps):
    x, gamma, beta = x.float(), gamma.float(), beta.float()  # the cases are float64; float32 rounding must pass
    mean = x.mean(dim=-1, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(((x - mean) ** 2).mean(dim=-1, keepdim=True) + eps) + beta


def count_with_modules(d_model, num_heads, d_ff):
    from attention_course.transformer import EncoderLayer

    return sum(p.numel() for p in EncoderLayer(d_model, num_heads, d_ff).parameters())


ALTERNATIVES = [
    ("layer_norm", layer_norm_with_torch),
    ("layer_norm", layer_norm_in_numpy),
    ("layer_norm", layer_norm_with_rsqrt),
    ("layer_norm", layer_norm_in_float32),
    ("layer_norm", normalization.layer_norm),
    ("residual_sublayer", normalization.residual_sublayer),
    ("residual_sublayer", lambda x, s, n, d, f: x + d(s(n(x))) if f else n(d(s(x)) + x)),
    ("encoder_parameter_count", count_with_modules),
    ("encoder_parameter_count", lambda d, h, f: float(encoder_parameter_count(d, h, f))),
    ("encoder_parameter_count", lambda d, h, f: np.int64(encoder_parameter_count(d, h, f))),
    ("norm_that_mixes_sentences", lambda: "batchnorm"),
    ("norm_that_mixes_sentences", lambda: "nn.BatchNorm1d"),
    ("norm_that_mixes_sentences", lambda: " Batch norm "),
    ("norm_that_mixes_sentences", lambda: "batch normalisation"),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def _norm(dims, unbiased=False, eps_outside=False, affine="both", use_eps=True):
    def wrong(x, gamma, beta, eps):
        axes = dims(x) if callable(dims) else dims
        mean = x.mean(dim=axes, keepdim=True)
        var = x.var(dim=axes, keepdim=True, unbiased=unbiased)
        e = eps if use_eps else 0.0
        spread = torch.sqrt(var) + e if eps_outside else torch.sqrt(var + e)
        normalised = (x - mean) / spread
        if affine == "both":
            return gamma * normalised + beta
        if affine == "none":
            return normalised
        if affine == "no gamma":
            return normalised + beta
        if affine == "no beta":
            return gamma * normalised
        return beta * normalised + gamma  # swapped
    return wrong


def _residual(post, pre):
    return lambda x, s, n, d, norm_first: pre(x, s, n, d) if norm_first else post(x, s, n, d)


def _correct_post(x, s, n, d):
    return n(x + d(s(x)))


def _correct_pre(x, s, n, d):
    return x + d(s(n(x)))


def _count(attention=True, biases=True, norms=2, w_o=True, heads_full=False, assume_4d=False, b1_d=False):
    def wrong(d, h, d_ff):
        if assume_4d:
            d_ff = 4 * d
        projections = 4 if w_o else 3
        total = projections * d * d + (projections * d if biases else 0)
        if heads_full:
            total = h * 3 * (d * d + d) + d * d + d
        total += 2 * d * d_ff
        if biases:
            total += (d if b1_d else d_ff) + d
        return total + norms * 2 * d if attention else total
    return wrong


WRONG = [
    # LayerNorm by hand
    ("layer_norm", _norm(lambda x: tuple(range(x.dim() - 1))), ["each feature over the tokens", "as BatchNorm does",
                                                                 "dim=-1"]),
    ("layer_norm", _norm(0), ["over the first axis (across the batch)", "BatchNorm"]),
    ("layer_norm", _norm(lambda x: tuple(range(x.dim()))), ["whole tensor", "per token"]),
    ("layer_norm", _norm((-2, -1)), ["tokens and the features together", "features only"]),
    ("layer_norm", _norm(-1, unbiased=True), ["sample variance", "unbiased=False"]),
    ("layer_norm", lambda x, g, b, e: g * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + e) + b,
     ["sample standard deviation", "unbiased=False"]),
    ("layer_norm", _norm(-1, eps_outside=True), ["eps after the square root", "inside"]),
    ("layer_norm", _norm(-1, use_eps=False), ["left out eps", "sqrt(var + eps)"]),
    ("layer_norm", _norm(-1, affine="none"), ["forgot gamma and beta"]),
    ("layer_norm", _norm(-1, affine="no gamma"), ["forgot gamma"]),
    ("layer_norm", _norm(-1, affine="no beta"), ["forgot beta"]),
    ("layer_norm", _norm(-1, affine="swapped"), ["gamma and beta are swapped"]),
    ("layer_norm", lambda x, g, b, e: (x - x.mean(-1, keepdim=True)) * g + b, ["Your layer_norm gave", "at index"]),
    ("layer_norm", lambda x, g, b, e: _norm(-1)(x, g, b, e)[..., :-1], ["shape", "x's own shape"]),
    # the residual sublayer
    ("residual_sublayer", _residual(_correct_pre, _correct_pre), ["you computed pre-norm", "norm_first=False",
                                                                  "post-norm"]),
    ("residual_sublayer", _residual(_correct_post, _correct_post), ["you computed post-norm", "norm_first=True"]),
    ("residual_sublayer", _residual(_correct_pre, _correct_post), ["norm_first=False", "you computed pre-norm"]),
    ("residual_sublayer", _residual(lambda x, s, n, d: n(d(s(x))), _correct_pre), ["residual is missing"]),
    ("residual_sublayer", _residual(_correct_post, lambda x, s, n, d: d(s(n(x)))), ["residual is missing"]),
    ("residual_sublayer", _residual(lambda x, s, n, d: n(d(x + s(x))), _correct_pre),
     ["dropout also hits the residual path", "x passes through untouched"]),
    ("residual_sublayer", _residual(_correct_post, lambda x, s, n, d: d(x + s(n(x)))),
     ["dropout also hits the residual path"]),
    ("residual_sublayer", _residual(lambda x, s, n, d: n(x + s(x)), _correct_pre), ["dropout is missing"]),
    ("residual_sublayer", _residual(lambda x, s, n, d: x + n(d(s(x))), _correct_pre),
     ["normalised the sublayer's output and then added x", "after the addition"]),
    ("residual_sublayer", _residual(_correct_post, lambda x, s, n, d: n(x + d(s(n(x))))),
     ["normalised the sum as well"]),
    ("residual_sublayer", _residual(_correct_post, lambda x, s, n, d: n(x) + d(s(n(x)))),
     ["residual adds the normalised x", "raw x"]),
    ("residual_sublayer", _residual(lambda x, s, n, d: x + d(s(x)), _correct_pre), ["LayerNorm is missing"]),
    ("residual_sublayer", lambda x, s, n, d, f: s(x), ["Your residual_sublayer gave", "at index"]),
    # the parameter count
    ("encoder_parameter_count", _count(biases=False), ["left out the biases", "6 Linear layers"]),
    ("encoder_parameter_count", _count(biases=False, attention=False), ["left out the biases and the LayerNorms"]),
    ("encoder_parameter_count", _count(norms=0), ["left out the two LayerNorms"]),
    ("encoder_parameter_count", _count(norms=1), ["only one LayerNorm", "4 · d_model"]),
    ("encoder_parameter_count", _count(w_o=False), ["left out W_O"]),
    ("encoder_parameter_count", _count(heads_full=True), ["every head full-width projections", "whatever h is"]),
    ("encoder_parameter_count", _count(assume_4d=True), ["assumed d_ff = 4 · d_model", "d_ff argument"]),
    ("encoder_parameter_count", _count(b1_d=True), ["first bias has d_ff entries"]),
    ("encoder_parameter_count", lambda d, h, f: encoder_parameter_count(d, h, f) + 0.5, ["whole number"]),
    ("encoder_parameter_count", lambda d, h, f: 6 * encoder_parameter_count(d, h, f), ["stack of 6 layers", "one layer"]),
    ("encoder_parameter_count", lambda d, h, f: [encoder_parameter_count(d, h, f)], ["shape (1,)", "one whole number"]),
    ("encoder_parameter_count", lambda d, h, f: encoder_parameter_count(d, h, f) - 1, ["the layer has 3,152,384"]),
    # the widget exercise
    ("norm_that_mixes_sentences", lambda: "LayerNorm", ["LayerNorm takes its mean and variance from one token"]),
    ("norm_that_mixes_sentences", lambda: "layer norm", ["LayerNorm takes its mean and variance from one token"]),
    ("norm_that_mixes_sentences", lambda: "both", ["Only one of the two does"]),
    ("norm_that_mixes_sentences", lambda: "neither", ["One of them does", "BatchNorm panel"]),
    ("norm_that_mixes_sentences", lambda: "GroupNorm", ["neither 'LayerNorm' nor 'BatchNorm'"]),
    ("norm_that_mixes_sentences", lambda: 2, ["of type int", "as a string"]),
]


def test_an_unknown_mistake_is_named_by_its_first_wrong_entry():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.layer_norm(lambda x, g, b, e: layer_norm(x, g, b, e) + 0.01)
    assert str(caught.value).startswith("Your layer_norm gave") and "at index [0, 0, 0]" in str(caught.value)


def test_the_hard_coded_d_ff_passes_the_base_case_but_not_the_others():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.encoder_parameter_count(_count(assume_4d=True))
    assert str(caught.value).startswith("On d_model = 64, num_heads = 4, d_ff = 100")


def test_the_widget_exercise_reports_how_far_batchnorm_moved():
    x = torch.tensor(normalization.NORM_EXAMPLE, dtype=torch.float64)
    changed = x.clone()
    changed[1] *= 10
    moved = (normalization.norm_outputs(changed)[1][0] - normalization.norm_outputs(x)[1][0]).abs().max()
    result = checks.norm_that_mixes_sentences(lambda: "BatchNorm")
    assert f"up to {moved:.2f}" in result.message


def test_the_residual_check_does_not_need_gradients_from_the_learner():
    def detached(x, sublayer, norm, dropout, norm_first):
        return residual_sublayer(x, sublayer, norm, dropout, norm_first).detach().numpy()

    assert checks.residual_sublayer(detached).status == "passed"
