"""Checks for lesson 7, the encoder: LayerNorm by hand, the residual sublayer, the parameter count, and the
LayerNorm-vs-BatchNorm widget."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import normalization
from ..transformer import EncoderLayer
from .core import CheckFailed, as_array, check, close, diagnose

__all__ = ["encoder_parameter_count", "layer_norm", "norm_that_mixes_sentences", "residual_sublayer"]


def _diagnose(got: np.ndarray, name: str, case: str, expected: np.ndarray, wrong_answers) -> None:
    """diagnose(), but an unknown mistake is named by its first wrong entry rather than by whole arrays."""
    if not close(got, expected):
        for wrong, message in wrong_answers:
            if close(got, wrong):
                raise CheckFailed(f"On {case}, {message}")
        index = tuple(int(i) for i in np.argwhere(~np.isclose(got, expected, rtol=1e-5, atol=1e-7))[0])
        raise CheckFailed(f"Your {name} gave {got[index]:.4f} at index {list(index)} on {case}; expected "
                          f"{expected[index]:.4f}.", specific=False)
    diagnose(got, name, case, expected, [])


# ---------------------------------------------------------------- exercise: LayerNorm by hand


def _normalise(x, dims, gamma, beta, eps, unbiased=False, eps_outside=False):
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=unbiased)
    spread = torch.sqrt(var) + eps if eps_outside else torch.sqrt(var + eps)
    return gamma * (x - mean) / spread + beta


def _layer_norm_cases():
    generator = torch.Generator().manual_seed(7)

    def randn(*shape):
        return torch.randn(*shape, generator=generator, dtype=torch.float64)

    scales = torch.tensor([0.5, 2.0, 8.0], dtype=torch.float64)[:, None]  # (T, 1): tokens of different sizes
    offsets = torch.tensor([-3.0, 0.0, 5.0], dtype=torch.float64)[:, None]
    batch = randn(2, 3, 5) * scales + offsets  # (B, T, d_model)
    tiny = randn(4, 6) * torch.tensor([1.0, 0.01, 3.0, 0.02], dtype=torch.float64)[:, None]  # (T, d_model)
    return [
        ("a batch of 2 sentences of 3 tokens, d_model = 5, eps = 1e-5", batch, 1 + randn(5), randn(5), 1e-5),
        ("4 tokens of d_model = 6, two of them with a spread near 0.01, eps = 1e-3", tiny, 1 + randn(6), randn(6),
         1e-3),
        ("3 tokens of d_model = 4 with eps = 0.5", randn(3, 4), 1 + randn(4), randn(4), 0.5),
    ]


@check(hint="normalise each token alone: mean and variance over its features (the last axis, kept), dividing by "
            "d_model, not d_model − 1, eps inside the root; then gamma and beta (the LayerNorm equation).")
def layer_norm(learner) -> str:
    """Lesson 7: layer_norm(x, gamma, beta, eps) normalises each token over its features (the last axis)."""
    cases = _layer_norm_cases()
    for case, x, gamma, beta, eps in cases:
        got = as_array(learner(x, gamma, beta, eps, case=case), learner.name, case, tuple(x.shape),
                       "x's own shape, one normalised vector per token")
        expected = normalization.layer_norm(x, gamma, beta, eps).numpy()
        last = x.dim() - 1
        one, zero = torch.ones_like(gamma), torch.zeros_like(beta)
        wrong = [
            (_normalise(x, tuple(range(last)), gamma, beta, eps),
             ("you normalised each feature over the tokens (every axis but the last), as BatchNorm does; LayerNorm "
              "normalises each token over its own features: mean and variance over dim=-1.")),
            (_normalise(x, 0, gamma, beta, eps),
             ("you normalised each feature over the first axis (across the batch), as BatchNorm does; LayerNorm "
              "normalises each token over its own features: mean and variance over dim=-1.")),
            (_normalise(x, -1, gamma, beta, eps, unbiased=True, eps_outside=True),
             ("you used the sample standard deviation (torch.std divides by d_model - 1) and added eps outside it; "
              "LayerNorm uses torch.sqrt(x.var(dim=-1, unbiased=False) + eps).")),
            (_normalise(x, tuple(range(x.dim())), gamma, beta, eps),
             "you took one mean and variance over the whole tensor; LayerNorm takes them per token, over dim=-1."),
            (_normalise(x, (-2, -1), gamma, beta, eps),
             ("you normalised over the tokens and the features together (the last two axes); for text LayerNorm "
              "works per token, over the features only: dim=-1.")),
            (_normalise(x, -1, gamma, beta, eps, unbiased=True),
             ("you used the sample variance (dividing by d_model - 1, torch.var's default); LayerNorm divides by "
              "d_model: x.var(dim=-1, unbiased=False).")),
            (_normalise(x, -1, gamma, beta, eps, eps_outside=True),
             "you added eps after the square root; it belongs inside: torch.sqrt(var + eps)."),
            (_normalise(x, -1, gamma, beta, 0.0),
             ("you left out eps; it keeps the division finite when a token's features are all equal: "
              "torch.sqrt(var + eps).")),
            (_normalise(x, -1, one, zero, eps),
             "you forgot gamma and beta: multiply the normalised x by gamma, then add beta."),
            (_normalise(x, -1, one, beta, eps), "you forgot gamma: multiply the normalised x by gamma."),
            (_normalise(x, -1, gamma, zero, eps), "you forgot beta: add beta after multiplying by gamma."),
            (_normalise(x, -1, beta, gamma, eps),
             "gamma and beta are swapped: gamma multiplies (a scale), beta is added (a shift)."),
        ]
        _diagnose(got, learner.name, case, expected, [(answer.numpy(), message) for answer, message in wrong])
    return f"all {len(cases)} cases match nn.LayerNorm: every token normalised over its features."


# ---------------------------------------------------------------- exercise: the residual sublayer


class _HalvingDropout(nn.Module):
    """A stand-in for dropout that halves its input, so the check can see where it is applied."""

    def forward(self, x):
        return 0.5 * x


def _residual_parts():
    generator = torch.Generator().manual_seed(11)
    x = torch.randn(2, 4, 6, generator=generator, dtype=torch.float64) * 2 + 1  # (B, T, d_model)
    weight = torch.randn(6, 6, generator=generator, dtype=torch.float64)  # (d_model, d_model)

    def sublayer(y):
        return torch.tanh(y @ weight + 0.5)  # (B, T, d_model) @ (d_model, d_model) -> (B, T, d_model)

    norm = nn.LayerNorm(6).double()
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(6, generator=generator, dtype=torch.float64))
        norm.bias.copy_(torch.randn(6, generator=generator, dtype=torch.float64))
    return x, sublayer, norm, _HalvingDropout()


@check(hint="post-norm normalises after the residual sum, pre-norm normalises the sublayer's input; in both, "
            "dropout acts on the sublayer's output only and x is added untouched.")
def residual_sublayer(learner) -> str:
    """Lesson 7: residual_sublayer(x, sublayer, norm, dropout, norm_first), post-norm or pre-norm."""
    x, s, n, d = _residual_parts()
    with torch.no_grad():  # the stand-in LayerNorm's parameters need no gradients here
        post, pre = n(x + d(s(x))), x + d(s(n(x)))
        for norm_first in (False, True):
            name = "pre-norm" if norm_first else "post-norm"
            case = f"norm_first={norm_first} ({name}; the check's stand-in dropout halves its input)"
            got = as_array(learner(x, s, n, d, norm_first, case=case), learner.name, case, tuple(x.shape),
                           "x's own shape, (B, T, d_model)")
            if norm_first:
                expected = pre
                wrong = [
                    (post, ("you computed post-norm, norm(x + dropout(sublayer(x))); norm_first=True asks for "
                            "pre-norm, x + dropout(sublayer(norm(x))).")),
                    (d(s(n(x))), "the residual is missing: add x to the sublayer's output."),
                    (d(x + s(n(x))), ("dropout also hits the residual path (x itself); apply it to the sublayer's "
                                      "output only, so x passes through untouched.")),
                    (x + s(n(x)), "dropout is missing: apply it to the sublayer's output before adding x."),
                    (n(x + d(s(n(x)))), ("you normalised the sum as well; in pre-norm only the sublayer's input is "
                                         "normalised and the residual path stays free of LayerNorm.")),
                    (n(x) + d(s(n(x))), ("the residual adds the normalised x; in pre-norm it carries the raw x: "
                                         "x + dropout(sublayer(norm(x))).")),
                    (x + d(s(x)), "LayerNorm is missing: pre-norm normalises the sublayer's input."),
                ]
            else:
                expected = post
                wrong = [
                    (pre, ("you computed pre-norm, x + dropout(sublayer(norm(x))); norm_first=False asks for the "
                           "paper's post-norm, norm(x + dropout(sublayer(x))).")),
                    (n(d(s(x))), "the residual is missing: add x before the LayerNorm."),
                    (n(d(x + s(x))), ("dropout also hits the residual path (x itself); apply it to the sublayer's "
                                      "output only, so x passes through untouched.")),
                    (n(x + s(x)), "dropout is missing: apply it to the sublayer's output before adding x."),
                    (x + n(d(s(x))), ("you normalised the sublayer's output and then added x; in post-norm the "
                                      "LayerNorm comes after the addition: norm(x + dropout(sublayer(x))).")),
                    (x + d(n(s(x))), ("you normalised the sublayer's output and then added x; in post-norm the "
                                      "LayerNorm comes after the addition: norm(x + dropout(sublayer(x))).")),
                    (x + d(s(x)), "LayerNorm is missing: post-norm normalises the sum, norm(x + ...)."),
                ]
            _diagnose(got, learner.name, case, expected.numpy(), [(a.numpy(), m) for a, m in wrong])
    return "post-norm (norm_first=False) and pre-norm (norm_first=True) both match."


# ---------------------------------------------------------------- exercise: counting the parameters


def _count_of(d_model: int, num_heads: int, d_ff: int) -> int:
    return sum(p.numel() for p in EncoderLayer(d_model, num_heads, d_ff).parameters())


@check(hint="attention: 4 weight matrices d_model × d_model and 4 biases; feed-forward: d_model × d_ff + d_ff and "
            "d_ff × d_model + d_model; two LayerNorms with gamma and beta.")
def encoder_parameter_count(learner) -> str:
    """Lesson 7: encoder_parameter_count(d_model, num_heads, d_ff) -> the parameters of one EncoderLayer."""
    sizes = [(512, 8, 2048), (64, 4, 100), (12, 3, 30), (8, 1, 8)]
    for d_model, h, d_ff in sizes:
        case = f"d_model = {d_model}, num_heads = {h}, d_ff = {d_ff}"
        got = float(as_array(learner(d_model, h, d_ff, case=case), learner.name, case, (), "one whole number"))
        if got != int(got):
            raise CheckFailed(f"Your encoder_parameter_count returned {got} on {case}; a count is a whole number.")
        expected = _count_of(d_model, h, d_ff)
        d = d_model
        attention, ffn_weights, ffn_biases, norms = 4 * (d * d + d), 2 * d * d_ff, d_ff + d, 4 * d
        wrong = [
            (4 * d * d + ffn_weights, ("you left out the biases and the LayerNorms: every Linear layer has a bias, "
                                       "and each LayerNorm has gamma and beta.")),
            (4 * d * d + ffn_weights + norms, ("you left out the biases: each of the 6 Linear layers (W_Q, W_K, W_V, "
                                               "W_O and the feed-forward's two) has one.")),
            (attention + ffn_weights + ffn_biases, ("you left out the two LayerNorms, each with gamma and beta "
                                                    "(2 · d_model parameters).")),
            (attention + ffn_weights + ffn_biases + norms // 2,
             ("you counted d_model parameters per LayerNorm or only one LayerNorm; there are two, each with gamma "
              "and beta: 4 · d_model in all.")),
            (3 * (d * d + d) + ffn_weights + ffn_biases + norms,
             "you left out W_O, the output projection after the heads are concatenated (d_model² + d_model)."),
            (h * 3 * (d * d + d) + (d * d + d) + ffn_weights + ffn_biases + norms,
             ("you gave every head full-width projections; each head's W_Q has d_model/h columns, so together the "
              "heads have d_model² weights per projection whatever h is.")),
            (attention + 8 * d * d + 5 * d + norms,
             "you assumed d_ff = 4 · d_model; use the d_ff argument."),
            (6 * expected, "you counted a stack of 6 layers; the question asks for one layer."),
            (attention + ffn_weights + 2 * d + norms,
             "the feed-forward's first bias has d_ff entries (one per hidden unit), not d_model."),
        ]
        if got == expected:
            continue
        for answer, message in wrong:
            if got == answer and answer != expected:
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"Your encoder_parameter_count gave {int(got):,} on {case}; the layer has {expected:,}.", specific=False)
    return (f"{len(sizes)} sizes match the module; the paper's base layer has {_count_of(512, 8, 2048):,} "
            "parameters, whatever num_heads is.")


# ---------------------------------------------------------------- widget exercise: which norm mixes sentences


def _norm_name(answer) -> str:
    text = str(answer).strip().lower().replace(" ", "").replace("_", "").replace("-", "")
    text = text.removeprefix("nn.").removesuffix("1d").removesuffix("2d")
    return text.removesuffix("normalisation").removesuffix("normalization").removesuffix("norm")


@check(hint="return a string: 'LayerNorm' or 'BatchNorm'.")
def norm_that_mixes_sentences(learner) -> str:
    """Lesson 7's widget exercise: the norm whose output for sentence 1 changes when only sentence 2 changes."""
    case = "the widget's question"
    answer = learner(case=case)
    if answer is None:
        raise CheckFailed("Your norm_that_mixes_sentences returned None; did you forget `return`?")
    if not isinstance(answer, str):
        raise CheckFailed(f"Your norm_that_mixes_sentences returned a value of type {type(answer).__name__}; return "
                          "the name as a string, 'LayerNorm' or 'BatchNorm'.")
    name = _norm_name(answer)
    if name == "layer":
        raise CheckFailed("LayerNorm takes its mean and variance from one token's own features, so sentence 2 cannot "
                          "reach sentence 1 through it; look at which outlines in the widget span both sentences.")
    if name in ("both", "layerandbatch", "batchandlayer", "all"):
        raise CheckFailed("Only one of the two does: edit a token of sentence 2 and compare sentence 1's rows in "
                          "the LayerNorm panel and in the BatchNorm panel.")
    if name in ("neither", "none", "nothing", ""):
        raise CheckFailed("One of them does: edit a token of sentence 2 and watch sentence 1's rows in the "
                          "BatchNorm panel.")
    if name != "batch":
        raise CheckFailed(f"Your answer {answer!r} is neither 'LayerNorm' nor 'BatchNorm'; return one of the two.")
    x = torch.tensor(normalization.NORM_EXAMPLE, dtype=torch.float64)  # (B, T, d_model)
    changed = x.clone()
    changed[1] *= 10  # sentence 2 ten times larger
    layer_before, batch_before = normalization.norm_outputs(x)
    layer_after, batch_after = normalization.norm_outputs(changed)
    moved = float((batch_after[0] - batch_before[0]).abs().max())
    still = float((layer_after[0] - layer_before[0]).abs().max())
    if not np.isclose(still, 0.0):  # pragma: no cover - LayerNorm is per token
        raise CheckFailed("Internal error: LayerNorm mixed sentences.")
    return (f"BatchNorm. Making sentence 2 ten times larger moves sentence 1's BatchNorm output by up to {moved:.2f}; "
            "its LayerNorm output does not move at all.")
