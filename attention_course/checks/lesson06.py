"""Checks for lesson 6, multi-head attention."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import conv_heads
from ..multihead import MultiHeadAttention
from .core import CheckFailed, check

__all__ = ["copy_from_torch", "merge_heads", "previous_token_head", "split_heads"]


def _tensor(got, name: str, case: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    """The learner's result as a float array of the expected shape, or one sentence saying why it is not."""
    if got is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    try:
        array = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"Your {name} returned a {type(got).__name__} on {case}; expected a tensor {what}.") from None
    if array.shape != shape:
        raise CheckFailed(f"Your {name} returned shape {array.shape} on {case}; expected {shape} = {what}.")
    return array


def _same(a: np.ndarray, b) -> bool:
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- exercise: split the heads


def _split_cases():
    generator = torch.Generator().manual_seed(6)
    base = torch.randn(3, 8, 5, generator=generator)
    return [
        ("x of shape (B, T, d_model) = (2, 5, 12) and num_heads = 3", torch.randn(2, 5, 12, generator=generator), 3),
        ("x of shape (1, 7, 8) and num_heads = 2", torch.randn(1, 7, 8, generator=generator), 2),
        ("a non-contiguous x of shape (3, 5, 8) (a transposed tensor) and num_heads = 4", base.transpose(1, 2), 4),
    ]


@check(hint="first split each token's d_model features into h blocks of d_k, giving (B, T, h, d_k), then move the"
            " head axis in front of the tokens, giving (B, h, T, d_k).")
def split_heads(learner) -> str:
    """Lesson 6: split_heads(x (B, T, d_model), num_heads) -> (B, h, T, d_k), head i gets features i*d_k..."""
    for case, x, h in _split_cases():
        B, T, d_model = x.shape
        d_k = d_model // h
        expected = x.reshape(B, T, h, d_k).transpose(1, 2).numpy()  # (B, h, T, d_k)
        got = learner(x, h, case=case)
        if hasattr(got, "shape") and tuple(got.shape) == (B, T, h, d_k):
            raise CheckFailed(f"On {case}, your result has shape (B, T, h, d_k) = {(B, T, h, d_k)}: the heads are "
                              "split but not moved in front of the tokens; add .transpose(1, 2).")
        got = _tensor(got, learner.name, case, (B, h, T, d_k), "(B, h, T, d_k)")
        if _same(got, expected):
            continue
        wrong = [
            (x.reshape(B, h, T, d_k).numpy(),
             ("you reshaped straight to (B, h, T, d_k): that cuts the numbers in memory order and scrambles tokens "
             "across heads; reshape to (B, T, h, d_k), then transpose(1, 2).")),
            (x.reshape(B, T, d_k, h).permute(0, 3, 1, 2).numpy(),
             ("you split the features on the wrong axis, so head 0 got features 0, h, 2h, ...; head i must get the "
             "block i*d_k to (i+1)*d_k - 1: reshape to (B, T, h, d_k), not (B, T, d_k, h).")),
            (x.transpose(1, 2).reshape(B, h, T, d_k).numpy(),
             ("you transposed before splitting, which mixes tokens and features; split first, (B, T, h, d_k), then "
             "transpose(1, 2).")),
            (x.reshape(B, T, h, d_k).permute(0, 2, 1, 3).reshape(B, T, h, d_k).transpose(1, 2).numpy(),
             ("the heads are in the right place but the tokens moved; transpose the token and head axes once.")),
        ]
        for wrong_answer, message in wrong:
            if _same(got, wrong_answer):
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"On {case}, your heads hold the wrong numbers: head i, token t must be "
                          "x[:, t, i*d_k:(i+1)*d_k].")
    return "every head gets its own block of d_k features, for every token, in shape (B, h, T, d_k)."


# ---------------------------------------------------------------- exercise: merge the heads


def _merge_cases():
    generator = torch.Generator().manual_seed(60)
    return [
        ("heads of shape (B, h, T, d_k) = (2, 3, 5, 4)", torch.randn(2, 3, 5, 4, generator=generator)),
        ("heads of shape (1, 2, 7, 4)", torch.randn(1, 2, 7, 4, generator=generator)),
        ("heads of shape (3, 4, 6, 2)", torch.randn(3, 4, 6, 2, generator=generator)),
    ]


@check(hint="undo split_heads in reverse: tokens back in front of the heads, (B, T, h, d_k), then each token's h "
            "blocks joined into h·d_k features; after moving axes, reshape rather than view.")
def merge_heads(learner) -> str:
    """Lesson 6: merge_heads(x (B, h, T, d_k)) -> (B, T, h*d_k), the heads side by side for every token."""
    for case, x in _merge_cases():
        B, h, T, d_k = x.shape
        expected = x.transpose(1, 2).reshape(B, T, h * d_k).numpy()
        got = learner(x, case=case)
        if hasattr(got, "shape") and tuple(got.shape) == (B, T, d_k):
            raise CheckFailed(f"On {case}, your result has shape (B, T, d_k) = {(B, T, d_k)}: the heads were added "
                              "or averaged; concatenate them instead, to (B, T, h*d_k).")
        got = _tensor(got, learner.name, case, (B, T, h * d_k), "(B, T, h*d_k)")
        if _same(got, expected):
            continue
        wrong = [
            (x.reshape(B, T, h * d_k).numpy(),
             ("you reshaped without moving the heads back behind the tokens, which scrambles tokens; "
             "transpose(1, 2) first, then reshape.")),
            (x.permute(0, 2, 3, 1).reshape(B, T, h * d_k).numpy(),
             ("the heads' features are interleaved (column 1 belongs to head 1); head 0's d_k features must be the "
             "first d_k columns: transpose(1, 2), not permute(0, 2, 3, 1).")),
            (x.transpose(2, 3).reshape(B, T, h * d_k).numpy(),
             ("you swapped T and d_k instead of h and T; transpose(1, 2) puts the tokens before the heads.")),
        ]
        for wrong_answer, message in wrong:
            if _same(got, wrong_answer):
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"On {case}, token t's row must be head 0's output, then head 1's, ... side by side.")
    return "every token gets its h heads' outputs side by side, head 0 first, in shape (B, T, h*d_k)."


# ---------------------------------------------------------------- exercise: copy nn.MultiheadAttention's weights


def _torch_layer(d_model: int, num_heads: int, seed: int, bias: bool = True) -> nn.MultiheadAttention:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        theirs = nn.MultiheadAttention(d_model, num_heads, bias=bias, batch_first=True)
        if bias:  # torch starts the biases at 0, and a missed copy would go unseen
            with torch.no_grad():
                theirs.in_proj_bias.normal_()
                theirs.out_proj.bias.normal_()
    return theirs.eval()


@check(hint="in_proj_weight stacks W_Q, W_K, W_V in that order, each in nn.Linear's (out, in) layout: split it in"
            " three and copy each, and out_proj, into your layer without tracking gradients.")
def copy_from_torch(learner) -> str:
    """Lesson 6: copy_from_torch(mha) -> a MultiHeadAttention computing what the nn.MultiheadAttention computes."""
    for d_model, num_heads, seed in ((8, 2, 0), (12, 3, 1)):
        case = f"an nn.MultiheadAttention with d_model = {d_model} and {num_heads} heads"
        theirs = _torch_layer(d_model, num_heads, seed)
        ours = learner(theirs, case=case)
        if ours is None:
            raise CheckFailed(f"Your copy_from_torch returned None on {case}; did you forget `return`?")
        if isinstance(ours, nn.MultiheadAttention):
            raise CheckFailed(f"Your copy_from_torch returned the torch layer itself on {case}; build and return the "
                              "course's MultiHeadAttention with its weights.")
        if not isinstance(ours, MultiHeadAttention):
            raise CheckFailed(f"Your copy_from_torch returned a {type(ours).__name__} on {case}; return a "
                              "MultiHeadAttention(d_model, num_heads) with the copied weights.")
        if (ours.d_model, ours.num_heads) != (d_model, num_heads):
            raise CheckFailed(f"On {case}, your layer has d_model = {ours.d_model} and {ours.num_heads} heads; use "
                              "mha.embed_dim and mha.num_heads.")
        W_Q, W_K, W_V = theirs.in_proj_weight.detach().chunk(3)
        b_Q, b_K, b_V = theirs.in_proj_bias.detach().chunk(3)
        expected = {"W_q": (W_Q, b_Q), "W_k": (W_K, b_K), "W_v": (W_V, b_V),
                    "W_o": (theirs.out_proj.weight.detach(), theirs.out_proj.bias.detach())}
        for name, (weight, bias) in expected.items():
            linear = getattr(ours, name)
            got = linear.weight.detach().numpy()
            if not _same(got, weight):
                others = {other: w for other, (w, _) in expected.items() if other != name}
                swapped = [other for other, w in others.items() if _same(got, w)]
                if swapped:
                    raise CheckFailed(f"On {case}, your {name} holds the weights of {swapped[0]}: in_proj_weight stacks "
                                      "W_Q, W_K, W_V in that order (and W_o comes from out_proj).")
                if _same(got, weight.T):
                    raise CheckFailed(f"On {case}, your {name}.weight is transposed: nn.Linear and in_proj_weight both "
                                      "store (out, in), so copy without .T.")
                raise CheckFailed(f"On {case}, your {name}.weight was not copied from the torch layer.")
            if linear.bias is None or not _same(linear.bias.detach().numpy(), bias):
                raise CheckFailed(f"On {case}, your {name}.bias was not copied: copy in_proj_bias.chunk(3) and "
                                  "out_proj.bias too.")
        generator = torch.Generator().manual_seed(seed)
        query, memory = torch.randn(2, 3, d_model, generator=generator), torch.randn(2, 5, d_model, generator=generator)
        with torch.no_grad():
            got, _ = ours(query, memory, memory)
            want, _ = theirs(query, memory, memory)
        if not torch.allclose(got, want, atol=1e-5):
            raise CheckFailed(f"On {case}, your layer's weights match but its output does not; return the layer you "
                              "copied into.")
    return "your copy computes what nn.MultiheadAttention computes, for two sizes, in cross-attention."


# ---------------------------------------------------------------- widget exercise: the previous-token head


@check(hint="return a pair, such as return 'random heads', 3.")
def previous_token_head(learner) -> str:
    """Lesson 6: previous_token_head() -> (kind, head) of the head that puts all weight on the token before."""
    case = "the head explorer's heads"
    got = learner(case=case)
    if got is None:
        raise CheckFailed("Your previous_token_head returned None; did you forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise CheckFailed(f"Your previous_token_head returned {got!r}; return a pair (kind, head), such as "
                          "('random heads', 3).")
    kind, head = got
    kinds = {k: k for k in conv_heads.HEAD_KINDS} | {k.split()[0]: k for k in conv_heads.HEAD_KINDS}
    if not isinstance(kind, str) or kind.strip().lower() not in kinds:
        raise CheckFailed(f"The kind {kind!r} is not one of the widget's: {', '.join(conv_heads.HEAD_KINDS)}.")
    kind = kinds[kind.strip().lower()]
    names = conv_heads.head_names(kind)
    if isinstance(head, bool) or not isinstance(head, (int, np.integer)) or not 0 <= head < len(names):
        raise CheckFailed(f"The {kind} are numbered 0 to {len(names) - 1}; you gave head {head!r}.")
    weights = conv_heads.sentence_heads(kind)  # (h, T, T)
    tokens = conv_heads.sentence_tokens()
    row = weights[head, 2]  # 'love'
    if kind != "convolution heads":
        raise CheckFailed(f"In the {kind}, head {head} gives 'love' weight {row[1]:.2f} on 'I', the token before it, "
                          "not all of it; those weights depend on content: look among the heads with a fixed offset.")
    if head == 1:
        raise CheckFailed("Convolution head 1 makes every token attend to itself (offset 0); you want offset -1.")
    if head == 2:
        raise CheckFailed("Convolution head 2 makes every token attend to the next token (offset +1); you want the "
                          "token before.")
    return (f"convolution head {head} gives '{tokens[2]}' weight {row[1]:.2f} on '{tokens[1]}', the token before it, "
            "whatever the words.")
