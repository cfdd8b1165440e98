"""Attention and its softmax, for numpy arrays and torch tensors."""

from __future__ import annotations

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
        shifted = x - x.amax(dim=dim, keepdim=True)
        e = shifted.exp()
        return e / e.sum(dim=dim, keepdim=True)
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore"):  # an all -inf row: -inf - -inf = nan, as in torch
        shifted = x - x.max(axis=dim, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=dim, keepdims=True)
