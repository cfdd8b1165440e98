"""Checks for lesson 10, the cost of attention and the Transformer family."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .. import cost
from ..multihead import MultiHeadAttention
from ..self_attention import count_flops
from .core import CheckFailed, as_plain_array, check

__all__ = ["attention_flops", "crossover_length", "decoder_only_mask", "path_length"]


def _whole_number(got, name: str, case: str, what: str) -> int:
    if got is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if hasattr(got, "item") and getattr(got, "numel", lambda: getattr(got, "size", 1))() == 1:
        got = got.item()  # a one-number tensor or numpy scalar is fine
    if isinstance(got, bool) or not isinstance(got, numbers.Real) or not np.isfinite(got) or got != int(got):
        raise CheckFailed(f"Your {name} returned {got!r} on {case}; return {what}, a whole number.")
    return int(got)


# ---------------------------------------------------------------- exercise: count the FLOPs of attention


@check(hint="four projections cost 2·T·d_model² each; Q Kᵀ and A V cost 2·T²·d_model each.")
def attention_flops(learner) -> str:
    """Lesson 10: attention_flops(T, d_model) -> the FLOPs of one multi-head self-attention layer's products."""
    for T, d in ((10, 8), (100, 64), (3, 512), (1, 1)):
        case = f"T = {T}, d_model = {d}"
        got = _whole_number(learner(T, d, case=case), learner.name, case, "a count of FLOPs")
        with torch.device("meta"):  # shapes only: torch counts without computing
            layer = MultiHeadAttention(d, 1)
            expected = count_flops(layer, torch.empty(1, T, d), torch.empty(1, T, d), torch.empty(1, T, d))
        if got == expected:
            continue
        projections, scores = 8 * T * d * d, 2 * T * T * d
        wrong = [
            (expected // 2, "you counted multiply-adds; a multiply and an add are 2 FLOPs, so double every product."),
            (6 * T * d * d + 2 * scores, "you left out one projection: W_Q, W_K, W_V and W_O each cost 2·T·d_model²."),
            (2 * scores, "you counted only the T×T part; the four projections add 8·T·d_model²."),
            (projections, "you counted only the projections; Q Kᵀ and A V add 2·T²·d_model each."),
            (projections + scores, ("the T×T part has two products, Q Kᵀ (the scores) and A V (the mixing), "
                                   "each 2·T²·d_model.")),
            (8 * T * T * d + 4 * T * d * d, ("T and d_model are swapped: the projections grow with T·d_model², "
                                            "the scores and the mixing with T²·d_model.")),
        ]
        for wrong_answer, message in wrong:
            if got == wrong_answer and got != expected:
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"On {case}, you counted {got:,} FLOPs; torch's counter finds {expected:,}.", specific=False)
    return "8·T·d_model² + 4·T²·d_model, as torch's FLOP counter finds."


# ---------------------------------------------------------------- exercise: the decoder-only mask


def _mask_cases():
    return [
        ("tokens [[5, 6, 7, 0], [8, 9, 0, 0]] with pad_id 0", torch.tensor([[5, 6, 7, 0], [8, 9, 0, 0]]), 0),
        ("tokens [[4, 4, 4]] (no padding) with pad_id 0", torch.tensor([[4, 4, 4]]), 0),
        ("tokens [[1, 2, 3, 9, 9]] with pad_id 9", torch.tensor([[1, 2, 3, 9, 9]]), 9),
        ("tokens [[3]] (one token) with pad_id 0", torch.tensor([[3]]), 0),
    ]


@check(hint="combine the causal mask (T, T) with the padding mask (B, 1, 1, T) with a logical and: broadcasting "
            "gives (B, 1, T, T).")
def decoder_only_mask(learner) -> str:
    """Lesson 10: decoder_only_mask(tokens (B, T), pad_id) -> bool (B, 1, T, T): causal, pads hidden as keys."""
    for case, tokens, pad_id in _mask_cases():
        B, T = tokens.shape
        got = as_plain_array(learner(tokens, pad_id, case=case), learner.name, case, "a boolean tensor")
        if got.shape == (B, T, T):
            raise CheckFailed(f"On {case}, your mask has shape (B, T, T) = {(B, T, T)}; add the head axis, "
                              f"(B, 1, T, T) = {(B, 1, T, T)}, so that it broadcasts over the heads.")
        if got.shape != (B, 1, T, T):
            raise CheckFailed(f"On {case}, your mask has shape {got.shape}; expected (B, 1, T, T) = {(B, 1, T, T)}.")
        if got.dtype != bool:
            raise CheckFailed(f"On {case}, your mask holds {got.dtype} values; return booleans, True = may attend "
                              "(torch adds a float mask to the scores instead).")
        causal = np.tril(np.ones((T, T), dtype=bool))
        real = (tokens != pad_id).numpy()  # (B, T)
        expected = causal & real[:, None, None, :]
        if np.array_equal(got, expected):
            continue
        wrong = [
            (~expected, "True and False are swapped: True must mean may attend."),
            (np.broadcast_to(causal, expected.shape), ("the pads are not hidden: key j must be False when tokens[b, j] "
                                                      "is the pad, as in padding_mask.")),
            (np.broadcast_to(real[:, None, None, :], expected.shape), ("the future is visible: query i may attend to "
                                                                      "keys 0..i only; combine with causal_mask(T).")),
            (np.triu(np.ones((T, T), dtype=bool)) & real[:, None, None, :], ("you kept the upper triangle: query i must "
                                                                             "see the keys before it, not after it.")),
            (np.tril(np.ones((T, T), dtype=bool), -1) & real[:, None, None, :],
             "each token must see itself: keep the diagonal (tril with no offset)."),
            (causal & real[:, None, :, None], ("you hid the pads' rows (queries) instead of their columns (keys): "
                                              "the padding mask is (B, 1, 1, T), with T last.")),
        ]
        for wrong_mask, message in wrong:
            if np.array_equal(got, wrong_mask):
                raise CheckFailed(f"On {case}, {message}")
        b, _, i, j = (int(n) for n in np.argwhere(got != expected)[0])
        verdict = "may not" if expected[b, 0, i, j] else "may"
        raise CheckFailed(f"On {case}, in sequence {b} query {i} {verdict} attend to key {j} in your mask; "
                          "it should be the other way round.")
    return "causal and padding together, (B, 1, T, T), on four batches."


# ---------------------------------------------------------------- exercise: measure a path length


def _stacks():
    def layers(kind, n, **kwargs):
        return [cost.make_layer(kind, 4, seed=i, **kwargs) for i in range(n)]

    causal = [cost.SelfAttentionLayer(4, causal=True) for _ in range(3)]
    return [
        ("a stack of 3 self-attention layers, T = 6", layers("self-attention", 3), 6, 1),
        ("a stack of 6 convolutions of kernel 3, T = 6", layers("convolution", 6), 6, 5),
        ("a stack of 4 convolutions of kernel 5, T = 7", layers("convolution", 4, kernel_size=5), 7, 3),
        ("a stack of 3 causal self-attention layers, T = 5", causal, 5, 1),
        ("a stack of 3 convolutions of kernel 3, T = 8 (too few layers)", layers("convolution", 3), 8, None),
        ("a stack of 3 feed-forward layers, T = 4", layers("feed-forward", 3), 4, None),
    ]


@check(hint="for n = 1, 2, ... run an input that requires gradients through the first n layers, backpropagate "
            "from the last position's output, and test the gradient at position 0; return the first such n.")
def path_length(learner) -> str:
    """Lesson 10: path_length(layers, x) -> the fewest layers after which output T-1 depends on input 0, or None."""
    generator = torch.Generator().manual_seed(10)
    for case, layers, T, expected in _stacks():
        x = torch.randn(1, T, 4, generator=generator)
        got = learner(layers, x, case=case)
        if got is not None:
            got = _whole_number(got, learner.name, case, "a number of layers (or None)")
        if got == expected:
            continue
        if expected is None:
            if got == len(layers):
                raise CheckFailed(f"On {case}, you returned {got}, the whole stack, but even then the last output does "
                                  "not depend on input 0; return None when no number of layers is enough.")
            raise CheckFailed(f"On {case}, you returned {got}, but no number of these layers lets output T-1 depend "
                              "on input 0; return None.")
        if got == len(layers):
            raise CheckFailed(f"On {case}, you returned {got}, the number of layers in the stack; return the fewest, "
                              f"n, for which layers[:n] already makes output T-1 depend on input 0 (here {expected}).")
        if got == expected - 1:
            raise CheckFailed(f"On {case}, you returned {got}: count the layers from 1 (layers[:n] has n layers).")
        if got == 1 and expected > 1:
            raise CheckFailed(f"On {case}, you returned 1, but one convolution of kernel 3 or 5 reaches only its "
                              "neighbours: take the gradient of the output at the last position only, y[0, -1], and "
                              "look at the input at position 0 only, x.grad[0, 0], and at whether it is non-zero "
                              "(a gradient of zeros is still a tensor).")
        if got is None:
            raise CheckFailed(f"On {case}, you returned None, but {expected} layer(s) are enough; look at the output at "
                              "position T-1 and the input at position 0 (not the other way round).")
        raise CheckFailed(f"On {case}, you returned {got}; the output at position T-1 first depends on the input at "
                          f"position 0 after {expected} layer(s).")
    return "1 layer for attention, ⌈(T-1)/(k//2)⌉ for kernel k, None if never."


# ---------------------------------------------------------------- widget exercise: where attention overtakes


@check(hint="return one of the widget's lengths, such as return 1024.")
def crossover_length(learner) -> str:
    """Lesson 10's widget exercise: at d_model = 256, the smallest T at which self-attention's FLOPs reach the FFN's."""
    case = "the widget at d_model = 256"
    got = _whole_number(learner(case=case), learner.name, case, "a length T")
    d = 256
    attention, ffn = cost.layer_flops("self-attention", got, d), cost.layer_flops("feed-forward", got, d)
    if got == 2 * d:
        return f"at T = {got} = 2·d_model both need {attention / 1e9:.2f} GFLOPs; beyond, attention costs more."
    if got == d:
        raise CheckFailed(f"At T = {got} (= d_model), self-attention needs {attention / 1e9:.2f} GFLOPs and the "
                          f"feed-forward layer {ffn / 1e9:.2f}: attention is still cheaper; move T further right.")
    if got == 6 * d:
        raise CheckFailed(f"T = {got} = 6·d_model is where attention's T×T part overtakes the projections and the "
                          "feed-forward layer together; the widget compares the whole attention layer with the "
                          "feed-forward layer alone, which happens sooner.")
    if got <= 0:
        raise CheckFailed(f"A length must be positive; you gave {got}.")
    if attention < ffn:
        raise CheckFailed(f"At T = {got}, self-attention needs {attention / 1e9:.3g} GFLOPs and the feed-forward "
                          f"layer {ffn / 1e9:.3g}: attention is still cheaper; move T further right.")
    raise CheckFailed(f"At T = {got}, self-attention already costs more ({attention / 1e9:.3g} against "
                      f"{ffn / 1e9:.3g} GFLOPs); a smaller length on the slider is the first where it reaches the "
                      "feed-forward layer.")
