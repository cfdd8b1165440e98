"""Attention and its softmax, for numpy arrays and torch tensors."""

from __future__ import annotations

import math

import numpy as np
import torch


def softmax(x, dim: int = -1):
    """Numerically stable softmax along `dim`; works on numpy arrays and torch tensors.

    Introduced in lesson 1. Subtracting the row maximum changes nothing mathematically
    (softmax(x) = softmax(x - c)) but keeps exp() from overflowing: exp(1000) is inf.
    Entries equal to -inf get weight exactly 0; a row that is all -inf has no valid entry,
    and gives NaN, as torch.softmax does (lesson 5 shows how to avoid such rows).
    """
    if isinstance(x, torch.Tensor):
        return torch.softmax(x, dim=dim)  # the same max-shifted formula, fused into one kernel
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):  # an all -inf row: -inf - -inf = nan, as in torch
        shifted = x - x.max(axis=dim, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=dim, keepdims=True)


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None,
                                 dropout=None):
    """softmax(q kᵀ / √d_k) v, returning (output, weights). Introduced in lesson 2.

    q: (..., T_q, d_k), k: (..., T_k, d_k), v: (..., T_k, d_v); leading dimensions (batch, heads) broadcast.
    mask: boolean, broadcastable to (..., T_q, T_k), True = may attend (as in F.scaled_dot_product_attention).
    Returns output (..., T_q, d_v) and weights (..., T_q, T_k). A query that may attend to nothing gets
    all-zero weights and a zero output, as torch's own function gives (lesson 5 shows why not NaN).
    dropout: optional callable (such as an nn.Dropout) applied to the weights before they mix the values,
    as in the paper; the weights returned are those before dropout. Added in lesson 6.
    """
    if q.size(-1) != k.size(-1):
        raise ValueError(f"q and k must share their last dimension d_k; got q {tuple(q.shape)} and k {tuple(k.shape)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"k and v must have the same number of positions T_k; got k {tuple(k.shape)} and v {tuple(v.shape)}")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (..., T_q, d_k) @ (..., d_k, T_k) -> (..., T_q, T_k)
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(f"mask must be boolean (True = may attend); got dtype {mask.dtype}")
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = softmax(scores, dim=-1)  # (..., T_q, T_k)
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)  # rows with no allowed key: 0, not NaN
    mixing = weights if dropout is None else dropout(weights)
    return mixing @ v, weights  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
