"""Heads as the filters of a convolution, and the example heads lesson 6 shows. Introduced in lesson 6.

`ConvAsAttention` is a multi-head attention layer that computes a given 1-D convolution exactly: one head per
kernel offset, each head allowed to attend only to the key at its offset (a fixed positional mask), its value
projection carrying that offset's slice of the kernel, and an output projection that adds the heads up.
`sentence_heads(kind)` gives the per-head weights over lesson 3's sentence that the lesson's figures and
widget show: random heads, structured (hand-designed) heads and the convolution heads.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from . import self_attention as sa
from .attention import scaled_dot_product_attention
from .multihead import MultiHeadAttention

HEAD_KINDS = ("random heads", "structured heads", "convolution heads")


def offset_masks(T: int, offsets) -> torch.Tensor:
    """Bool (h, T, T): head n may let query t attend to key s only when s = t + offsets[n]."""
    positions = torch.arange(T)
    step = positions[None, :] - positions[:, None]  # (T, T): key s minus query t
    return torch.stack([step == offset for offset in offsets])  # (h, T, T)


class ConvAsAttention(nn.Module):
    """A multi-head attention layer equal to F.conv1d(x, weight, bias, padding=kernel_size // 2). Lesson 6.

    weight (d_out, d_in, k) with k odd, bias (d_out,) or None. Head n looks at offset n - k // 2 only. Its value
    projection W_V^(n) = weight[:, :, n]ᵀ has width d_out (heads here are d_out wide, not d_model / h), and
    W_O = [I I ... I] (d_out, k d_out) plus the bias adds the heads' outputs. Queries and keys play no part:
    every allowed row holds a single key, which takes weight 1 whatever its score. At the ends, a head whose
    offset falls outside the sequence has no key; the course's attention gives that row zero weights and a
    zero output, which is exactly the zero padding of the convolution.
    forward(x (B, T, d_in)) -> (output (B, T, d_out), weights (B, h, T, T)).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None = None):
        super().__init__()
        if weight.dim() != 3 or weight.size(-1) % 2 == 0:
            raise ValueError(f"weight must be (d_out, d_in, k) with k odd; got {tuple(weight.shape)}")
        d_out, d_in, k = weight.shape
        self.d_in, self.d_out, self.num_heads = d_in, d_out, k
        self.offsets = tuple(range(-(k // 2), k // 2 + 1))
        # W_V: the k value projections side by side, (d_in, k d_out); head n's block is weight[:, :, n]ᵀ
        self.W_V = nn.Parameter(weight.detach().permute(1, 2, 0).reshape(d_in, k * d_out).clone())
        self.W_O = nn.Parameter(torch.eye(d_out).repeat(1, k))  # (d_out, k d_out): [I I ... I] sums the heads
        self.b_O = nn.Parameter(bias.detach().clone() if bias is not None else torch.zeros(d_out))

    @classmethod
    def from_conv1d(cls, conv: nn.Conv1d) -> ConvAsAttention:
        """The attention layer of an nn.Conv1d with padding = kernel_size // 2, stride 1, no dilation or groups."""
        k = conv.kernel_size[0]
        if conv.stride != (1,) or conv.dilation != (1,) or conv.groups != 1 or conv.padding != (k // 2,):
            raise ValueError("from_conv1d needs stride 1, dilation 1, groups 1 and padding = kernel_size // 2")
        return cls(conv.weight, conv.bias)

    def forward(self, x: torch.Tensor):
        if x.dim() != 3 or x.size(-1) != self.d_in:
            raise ValueError(f"x must have shape (B, T, {self.d_in}); got {tuple(x.shape)}")
        B, T, _ = x.shape
        h = self.num_heads
        v = (x @ self.W_V).view(B, T, h, self.d_out).transpose(1, 2)  # (B, T, h d_out) -> (B, h, T, d_out)
        qk = x.new_zeros(B, h, T, 1)  # every score 0: the mask alone decides where each head looks
        heads, weights = scaled_dot_product_attention(qk, qk, v, offset_masks(T, self.offsets))  # (B, h, T, d_out)
        concat = heads.transpose(1, 2).reshape(B, T, h * self.d_out)  # (B, h, T, d_out) -> (B, T, h d_out)
        return concat @ self.W_O.T + self.b_O, weights  # (B, T, h d_out) @ (h d_out, d_out) -> (B, T, d_out)


# ---------------------------------------------------------------- the example heads of lesson 6


def sentence_tokens(text: str = sa.SENTENCE) -> list[str]:
    return sa.tokenize(text)


def _embedded(text: str, d_model: int) -> torch.Tensor:
    """Lesson 3's interpretable features (T, F), zero-padded to (1, T, d_model)."""
    x = sa.features(text)  # (T, F)
    return torch.cat([x, x.new_zeros(len(x), d_model - x.size(1))], dim=1)[None]  # (1, T, d_model)


def structured_heads(strength: float = 6.0) -> MultiHeadAttention:
    """Two heads of width F = 6 on d_model = 12 built by hand: head 0 is lesson 3's verb-subject-object rules,
    head 1 lets every token look for tokens with the same features. W_V and W_O are the identity."""
    F = len(sa.FEATURES)
    mha = MultiHeadAttention(2 * F, 2, bias=False)
    designed_q, _, _ = sa.designed_projections(strength)
    matching_q, _, _ = sa.matching_projections(strength)
    with torch.no_grad():
        for linear in (mha.W_q, mha.W_k, mha.W_v, mha.W_o):
            linear.weight.zero_()
        # nn.Linear stores (out, in) and computes x Wᵀ, so lesson 3's x @ W_Q becomes weight = W_Qᵀ
        mha.W_q.weight[:F, :F] = designed_q.T  # head 0: features 0..5 of the queries
        mha.W_q.weight[F:, :F] = matching_q.T  # head 1: features 6..11
        mha.W_k.weight[:F, :F] = torch.eye(F)
        mha.W_k.weight[F:, :F] = torch.eye(F)
        mha.W_v.weight[:F, :F] = torch.eye(F)
        mha.W_v.weight[F:, :F] = torch.eye(F)
        mha.W_o.weight.copy_(torch.eye(2 * F))
    return mha.eval()


def random_heads(seed: int = 0, d_model: int = 12, num_heads: int = 4, strength: float = 3.0) -> MultiHeadAttention:
    """An untrained (seeded) layer of 4 heads, its query and key projections scaled up so the maps show patterns."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        mha = MultiHeadAttention(d_model, num_heads, bias=False)
    with torch.no_grad():
        mha.W_q.weight.mul_(strength * math.sqrt(d_model))
        mha.W_k.weight.mul_(math.sqrt(d_model))
    return mha.eval()


def conv_heads(seed: int = 0, d_model: int = 12) -> ConvAsAttention:
    """A seeded kernel-3 convolution written as three attention heads (offsets -1, 0, +1)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        conv = nn.Conv1d(d_model, d_model, 3, padding=1)
    return ConvAsAttention.from_conv1d(conv)


def sentence_heads(kind: str, text: str = sa.SENTENCE) -> torch.Tensor:
    """The per-head weights (h, T, T) over `text` of one of HEAD_KINDS."""
    if kind not in HEAD_KINDS:
        raise ValueError(f"kind must be one of {HEAD_KINDS}; got {kind!r}")
    layer = {"random heads": random_heads, "structured heads": structured_heads, "convolution heads": conv_heads}[kind]()
    d_model = 12
    x = _embedded(text, d_model)  # (1, T, d_model)
    with torch.no_grad():
        weights = layer(x)[1] if kind == "convolution heads" else layer(x, x, x)[1]
    return weights[0]  # (1, h, T, T) -> (h, T, T)


def head_names(kind: str) -> list[str]:
    """What each head of `kind` is, for titles."""
    if kind == "convolution heads":
        return ["offset -1 (previous)", "offset 0 (itself)", "offset +1 (next)"]
    if kind == "structured heads":
        return ["verb ↔ subject/object", "same features"]
    return [f"random head {n}" for n in range(4)]


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class HeadState:
    """Everything the head widget shows: one head's weights for one query token."""

    tokens: tuple[str, ...]
    num_heads: int
    weights: np.ndarray  # (T,), all zeros when there is nothing to show
    message: str  # one plain HTML sentence: where the head looks, or what is wrong with the input


def head_state(kind: str, head: int, token: str) -> HeadState:
    """The weights of head `head` of `kind` (see HEAD_KINDS) for the query `token`. Lesson 6."""
    tokens = tuple(sentence_tokens())
    zeros = np.zeros(len(tokens))
    if kind not in HEAD_KINDS:
        return HeadState(tokens, 0, zeros, f"Pick one of: {', '.join(HEAD_KINDS)}.")
    names = head_names(kind)
    if isinstance(head, bool) or not isinstance(head, (int, np.integer)) or not 0 <= head < len(names):
        return HeadState(tokens, len(names), zeros, f"The {kind} are numbered 0 to {len(names) - 1}.")
    if token not in tokens:
        return HeadState(tokens, len(names), zeros, f"Pick one of the tokens: {', '.join(tokens)}.")
    row = sentence_heads(kind)[head, tokens.index(token)].numpy()  # (T,)
    if row.sum() < 1e-9:
        where = "has no key to attend to (its offset falls off the sentence), so this head gives it zero output"
    else:
        top = [t for t, weight in zip(tokens, row) if weight > row.max() - 1e-6]
        named = " and ".join(f"<b>{html.escape(t)}</b>" for t in top)
        where = f"attends most to {named} ({row.max():.2f}{' each' if len(top) > 1 else ''})"
    listed = ", ".join(f"{html.escape(t)} {w:.2f}" for t, w in zip(tokens, row))
    message = (f"In '{html.escape(' '.join(tokens))}', {kind[:-6]} head {head} ({html.escape(names[head])}): "
               f"<b>{html.escape(token)}</b> {where}. All its weights: {listed}.")
    return HeadState(tokens, len(names), row, message)
