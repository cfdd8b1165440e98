"""Masks: which keys each query may attend to. Introduced in lesson 5.

The course's convention is PyTorch's F.scaled_dot_product_attention's: a boolean mask, broadcastable
to the weights (..., T_q, T_k), **True = may attend**. A masked score becomes -inf before the softmax,
so its weight is exactly 0.

- `padding_mask(tokens, pad_id)` hides the pad tokens of a batch of sequences of different lengths.
- `causal_mask(T)` hides the future: query i may attend to keys 0, ..., i.
- `combine_masks` keeps what every mask allows.
- nn.MultiheadAttention uses the opposite convention (True = may *not* attend) for its boolean
  `key_padding_mask` and `attn_mask`; `to_key_padding_mask`, `from_key_padding_mask` and
  `to_mha_attn_mask` convert.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import self_attention as sa

# Lesson 5's batch: lesson 3's words, in sentences of different lengths, padded with a token of their own.
SENTENCES = ("Hello I love you", "We love cats", "I see")
PAD = "<pad>"
VOCAB = (*sa.VOCAB, PAD)  # lesson 3's vocabulary (id 0 is <unk>, an unknown word) plus the pad token
PAD_ID = VOCAB.index(PAD)  # the last id: id 0 is taken by <unk>, a real token


def causal_mask(T: int) -> torch.Tensor:
    """Bool (T, T), True on and below the diagonal: query i may attend to keys 0, ..., i. Introduced in lesson 5."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 0:
        raise ValueError(f"T must be a whole number from 0 up; got {T!r}")
    return torch.ones(T, T, dtype=torch.bool).tril()  # (T, T): row i has True in columns 0..i


def padding_mask(tokens: torch.Tensor, pad_id: int) -> torch.Tensor:
    """Bool (B, 1, 1, T_k), True for a real token, False for a pad. Introduced in lesson 5.

    tokens: (B, T_k) token ids. The two length-1 axes let the mask broadcast over heads and queries
    against weights (B, h, T_q, T_k): every query of sequence b may attend to its real tokens only.
    For single-head weights (B, T_q, T_k), drop the head axis: mask[:, 0] is (B, 1, T_k).
    """
    if tokens.dim() != 2:
        raise ValueError(f"tokens must be (B, T) token ids; got shape {tuple(tokens.shape)}")
    return (tokens != pad_id)[:, None, None, :]  # (B, T_k) -> (B, 1, 1, T_k)


def combine_masks(*masks: torch.Tensor | None) -> torch.Tensor | None:
    """What every mask allows (logical AND, broadcast); None masks are skipped. Introduced in lesson 5.

    causal (T, T) and padding (B, 1, 1, T) give (B, 1, T, T): query i of sequence b may attend to key j
    when j <= i and key j is a real token.
    """
    present = [m for m in masks if m is not None]
    if not present:
        return None
    combined = present[0]
    for mask in present[1:]:
        combined = combined & mask  # broadcasts, e.g. (T, T) & (B, 1, 1, T) -> (B, 1, T, T)
    return combined


def empty_rows(mask: torch.Tensor) -> torch.Tensor:
    """Bool (..., T_q): True for a query that may attend to no key at all (its softmax would be 0/0)."""
    return ~mask.any(dim=-1)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The matrix M added to the scores: 0 where the boolean mask allows, -inf where it forbids."""
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, float("-inf"))


def to_key_padding_mask(mask: torch.Tensor) -> torch.Tensor:
    """The course's padding mask (B, 1, 1, T_k) or (B, T_k), True = attend -> nn.MultiheadAttention's
    key_padding_mask (B, T_k), True = ignore. Introduced in lesson 5."""
    B, T_k = mask.shape[0], mask.shape[-1]
    if mask.numel() != B * T_k:
        raise ValueError(f"expected a padding mask (B, 1, 1, T_k) or (B, T_k); got shape {tuple(mask.shape)}")
    return ~mask.reshape(B, T_k)  # (B, 1, 1, T_k) -> (B, T_k); reshape, not squeeze, which would eat B = 1


def from_key_padding_mask(key_padding_mask: torch.Tensor) -> torch.Tensor:
    """nn.MultiheadAttention's key_padding_mask (B, T_k), True = ignore -> the course's (B, 1, 1, T_k),
    True = attend. Introduced in lesson 5."""
    return ~key_padding_mask[:, None, None, :]  # (B, T_k) -> (B, 1, 1, T_k)


def to_mha_attn_mask(mask: torch.Tensor) -> torch.Tensor:
    """A (T_q, T_k) mask, True = attend -> nn.MultiheadAttention's boolean attn_mask, True = may NOT attend."""
    return ~mask


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int, side: str = "right") -> torch.Tensor:
    """Token ids (B, T_max): each sequence filled up with pad_id to the longest one's length.

    side="right" puts the pads after the tokens (usual for training), side="left" before them (usual when
    a decoder generates for a batch, so that every sequence ends at the same position).
    """
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left'; got {side!r}")
    T = max((len(s) for s in sequences), default=0)
    batch = torch.full((len(sequences), T), pad_id, dtype=torch.long)  # (B, T_max)
    for b, sequence in enumerate(sequences):
        ids = torch.as_tensor(list(sequence), dtype=torch.long)
        if side == "right":
            batch[b, :len(ids)] = ids
        elif len(ids):
            batch[b, -len(ids):] = ids
    return batch


def token_batch(sentences: Sequence[str] = SENTENCES, side: str = "right") -> torch.Tensor:
    """Lesson 5's batch: each sentence tokenised with lesson 3's vocabulary and padded with PAD_ID; (B, T_max)."""
    return pad_batch([sa.token_ids(sa.tokenize(s)).tolist() for s in sentences], PAD_ID, side)


def batch_tokens(batch: torch.Tensor) -> list[list[str]]:
    """The words of a token batch (B, T), pads shown as PAD: for printing."""
    return [[VOCAB[int(i)] for i in row] for row in batch]


def changed_positions(before: torch.Tensor, after: torch.Tensor, atol: float = 0.0) -> list[int]:
    """The positions t whose output changed: before and after are (T, d) or (1, T, d) layer outputs.

    atol=0 asks for bit-for-bit equality: a masked key's weight is exactly 0, so the outputs it must not
    reach do not change at all.
    """
    before, after = before.reshape(-1, before.shape[-1]), after.reshape(-1, after.shape[-1])  # (T, d)
    differs = (before - after).abs().amax(dim=-1) > atol  # (T,)
    differs |= torch.isnan(before).any(dim=-1) != torch.isnan(after).any(dim=-1)
    return differs.nonzero().flatten().tolist()


# ---------------------------------------------------------------- the mask widget's example

EXAMPLE_TOKENS = ("Hello", "I", "love", "you", PAD)  # lesson 3's sentence plus one pad: the mask widget's example


def example_attention(mask: torch.Tensor | None = None) -> torch.Tensor:
    """Lesson 3's hand-designed self-attention over EXAMPLE_TOKENS under a (T, T) mask: its weights (T, T).

    The pad has no features, so it is a key like any other until a mask hides it. A row with no allowed
    key gets zero weights, as in the course's scaled_dot_product_attention.
    """
    W_Q, W_K, W_V = sa.designed_projections(6.0)  # each (F, F)
    return sa.self_attention(sa.features(list(EXAMPLE_TOKENS)), W_Q, W_K, W_V, mask)[1]  # (T, T)


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class MaskState:
    """Everything the mask widget shows: a (T, T) mask over lesson 5's example and the weights it gives."""

    tokens: tuple[str, ...]
    mask: np.ndarray  # (T, T) bool, True = may attend; all False when the input was not a mask
    weights: np.ndarray  # (T, T); a row with no allowed key is all zeros
    empty_rows: tuple[int, ...]  # the queries that may attend to nothing
    message: str  # one plain HTML sentence: what the mask does, or what is wrong with the input


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def mask_state(mask) -> MaskState:
    """Lesson 3's hand-designed attention over "Hello I love you <pad>" under `mask`, with a sentence about it.

    `mask` is a (T, T) grid of True/False (or 1/0), True = may attend, as a tensor, an array or nested lists.
    """
    tokens = EXAMPLE_TOKENS
    T = len(tokens)
    zeros = np.zeros((T, T))
    try:
        array = np.asarray(mask.detach().cpu() if hasattr(mask, "detach") else mask)
    except (TypeError, ValueError):
        array = np.zeros(0)
    valid = array.shape == (T, T) and (array.dtype == bool or (
        np.issubdtype(array.dtype, np.number) and np.isin(array, (0, 1)).all()))
    if not valid:
        return MaskState(tokens, zeros.astype(bool), zeros, (),
                         f"The mask must be a {T} × {T} grid of True/False (1/0), one row per query.")
    array = array.astype(bool)
    weights = example_attention(torch.as_tensor(array)).numpy()  # (T, T)
    empty = tuple(i for i in range(T) if not array[i].any())
    if len(empty) == T:
        what = "No query may attend to anything: every row's weights would be NaN; the package gives them zeros."
    elif empty:
        rows = _listed([f"{i} (<b>{html.escape(tokens[i])}</b>)" for i in empty])
        if len(empty) == 1:
            what = f"Row {rows} may attend to nothing: its weights would be NaN; the package gives it zeros."
        else:
            what = f"Rows {rows} may attend to nothing: their weights would be NaN; the package gives them zeros."
    elif array.all():
        what = "Every query may attend to every key (no mask). Every row of weights sums to 1."
    elif np.array_equal(array, np.tril(np.ones((T, T), dtype=bool))):
        what = ("This is the causal mask: each token sees itself and the tokens before it. "
                "Every row of weights sums to 1.")
    else:
        what = "Every query may attend to at least one key, so every row of weights sums to 1."
    hidden = int((~array).sum())
    if hidden == 1:
        what += f" 1 of {T * T} cells is hidden; its weight is exactly 0."
    elif hidden:
        what += f" {hidden} of {T * T} cells are hidden; their weights are exactly 0."
    return MaskState(tokens, array, weights, empty, what)
