"""Lesson 4's positional encodings: the paper's sinusoids, the rotation that shifts them, and learned positions.

Introduced in lesson 4. Self-attention treats a sentence as a set (lesson 3), so each token gets a
vector that depends on its position only, added to its embedding. The Transformer's encoding is

    PE(pos, 2i)   = sin(pos * omega_i)
    PE(pos, 2i+1) = cos(pos * omega_i),   omega_i = 1 / base^(2i / d_model),  base = 10000

so columns 2i and 2i+1 form pair i, a point on the unit circle that turns by omega_i radians per position.
Shifting every position by k therefore turns pair i by k * omega_i: PE(pos + k) = M_k PE(pos), with M_k
block-diagonal (one 2 x 2 rotation per pair) and the same for every pos.

Angles are computed in float64 and the result cast to the requested dtype, so that far positions
(pos * omega_i large) keep their accuracy. The sines and cosines come from numpy, whose results are the
same bit for bit from run to run (torch's own can differ in the last bit between runs).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .self_attention import tokenize as split_words

BASE = 10000.0  # the paper's constant: the slowest pair has wavelength just under 2*pi*BASE positions

# Lesson 4's two sentences: the same words, so only their order says who bites whom.
SENTENCES = ("dog bites man", "man bites dog")
UNKNOWN = "<unk>"
VOCAB = (UNKNOWN, "dog", "bites", "man", "the", "cat", "sees")  # token id i is VOCAB[i]; 0 for unknown words


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of `text` (letters only)."""
    return [word.lower() for word in split_words(text)]  # lesson 3's splitter


def token_ids(text_or_tokens: str | Sequence[str]) -> torch.Tensor:
    """Token ids (T,) in VOCAB for a sentence or a list of tokens; 0 for a word not in VOCAB."""
    tokens = tokenize(text_or_tokens) if isinstance(text_or_tokens, str) else [t.lower() for t in text_or_tokens]
    return torch.tensor([VOCAB.index(t) if t in VOCAB else 0 for t in tokens], dtype=torch.long)


# ---------------------------------------------------------------- the sinusoidal encoding


def _size(value, name: str, minimum: int) -> int:
    """A whole number >= minimum, or an error that says what was wrong."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _even_width(d_model) -> int:
    d_model = _size(d_model, "d_model", 2)
    if d_model % 2:
        raise ValueError(
            f"d_model must be even: the sinusoidal encoding fills its columns in (sin, cos) pairs; got {d_model}"
        )
    return d_model


def _base(base) -> float:
    if isinstance(base, bool) or not isinstance(base, numbers.Real) or not math.isfinite(base) or base <= 1:
        raise ValueError(f"base must be a finite number greater than 1, got {base!r}")
    return float(base)


def frequencies(d_model: int, base: float = BASE) -> torch.Tensor:
    """omega_i = 1 / base^(2i / d_model) for i = 0 .. d_model/2 - 1, in float64: pair i's angle per position.

    Introduced in lesson 4. omega_0 = 1 radian per position; each later pair turns more slowly.
    """
    d_model, base = _even_width(d_model), _base(base)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)  # 2i = 0, 2, 4, ..., d_model - 2
    return torch.from_numpy(base ** (-two_i / d_model))  # (d_model/2,)


def wavelengths(d_model: int, base: float = BASE) -> torch.Tensor:
    """2*pi / omega_i: after how many positions pair i comes back to where it started. Introduced in lesson 4."""
    return 2 * math.pi / frequencies(d_model, base)


def encode_positions(positions, d_model: int, base: float = BASE, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The sinusoidal encoding of any positions: a tensor (..., d_model) for positions of shape (...).

    Introduced in lesson 4. Positions may be any real numbers, however large, for example
    encode_positions(10**6, 512); sinusoidal_encoding(T, d) is encode_positions(range(T), d).
    """
    omega = frequencies(d_model, base).numpy()  # (d_model/2,), checks d_model and base
    positions = torch.as_tensor(positions, dtype=torch.float64).numpy()
    if not np.isfinite(positions).all():
        raise ValueError("positions must be finite numbers")
    angles = positions[..., None] * omega  # (..., 1) * (d_model/2,) -> (..., d_model/2): pos * omega_i
    pe = np.empty((*positions.shape, 2 * len(omega)))  # (..., d_model), float64
    pe[..., 0::2] = np.sin(angles)  # even columns 2i: sine of pair i
    pe[..., 1::2] = np.cos(angles)  # odd columns 2i+1: cosine of pair i
    return torch.from_numpy(pe).to(dtype)


def sinusoidal_encoding(num_positions: int, d_model: int, base: float = BASE,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The paper's positional encoding, a tensor (num_positions, d_model): row pos is PE(pos).

    Introduced in lesson 4. PE(pos, 2i) = sin(pos / base^(2i/d_model)) and
    PE(pos, 2i+1) = cos(pos / base^(2i/d_model)), with base = 10000 as in Vaswani et al. (2017).
    d_model must be even (the columns come in sin/cos pairs); num_positions at least 1.
    """
    num_positions = _size(num_positions, "num_positions", 1)
    return encode_positions(torch.arange(num_positions), d_model, base, dtype)  # (T, d_model)


def offset_matrix(k: float, d_model: int, base: float = BASE, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """M_k (d_model, d_model), with PE(pos + k) = M_k @ PE(pos) for every pos. Introduced in lesson 4.

    Block-diagonal: block i acts on the pair (sin, cos) of columns 2i, 2i+1 and turns it by k * omega_i,
        [[ cos(k w_i), sin(k w_i)],
         [-sin(k w_i), cos(k w_i)]]
    by sin(a + b) = sin a cos b + cos a sin b and cos(a + b) = cos a cos b - sin a sin b.
    It does not depend on pos; M_{-k} is its transpose (and its inverse), and M_j M_k = M_{j+k}.
    For rows of a table, PE[pos + k] = PE[pos] @ M_k.T.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(k):
        raise ValueError(f"the offset k must be a finite number, got {k!r}")
    angles = float(k) * frequencies(d_model, base).numpy()  # (d_model/2,): how far each pair turns
    M = np.zeros((2 * len(angles), 2 * len(angles)))  # (d_model, d_model)
    for i, (c, s) in enumerate(zip(np.cos(angles), np.sin(angles))):
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]  # block i, on columns 2i and 2i+1
    return torch.from_numpy(M).to(dtype)


def dot_product_at_offset(k: float, d_model: int, base: float = BASE) -> float:
    """PE(pos) . PE(pos + k) = sum_i cos(k * omega_i), the same for every pos. Introduced in lesson 4.

    Each pair contributes sin(a) sin(b) + cos(a) cos(b) = cos(a - b), and a - b = -k * omega_i.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not math.isfinite(k):
        raise ValueError(f"the offset k must be a finite number, got {k!r}")
    return float(np.cos(float(k) * frequencies(d_model, base).numpy()).sum())


def binary_code(num_positions: int, bits: int) -> torch.Tensor:
    """The positions 0 .. num_positions - 1 in binary, a 0/1 tensor (num_positions, bits), least significant bit first.

    Introduced in lesson 4, for the binary-counter analogy: column b flips every 2^b positions, so the
    first columns change fastest, as the first pairs of the sinusoidal encoding do. Positions beyond
    2^bits - 1 wrap around, as a counter with that many bits does.
    """
    num_positions, bits = _size(num_positions, "num_positions", 1), _size(bits, "bits", 1)
    n = torch.arange(num_positions)[:, None]  # (T, 1)
    return ((n >> torch.arange(bits)) & 1).to(torch.float32)  # (T, 1) >> (bits,) -> (T, bits)


# ---------------------------------------------------------------- as layers: added to the token embeddings


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the sinusoidal encoding to token embeddings x (B, T, d_model); nothing to learn. Introduced in lesson 4.

    A table for max_len positions is kept as a buffer (not a parameter, and not saved in the state dict);
    longer inputs are encoded on the fly, because the formula is defined for every position. As in the
    paper, dropout (default 0) is applied to the sum.
    """

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0, base: float = BASE):
        super().__init__()
        self.d_model, self.base = _even_width(d_model), _base(base)
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model, base), persistent=False)  # (max_len, d)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[-2]
        if x.shape[-1] != self.d_model:
            raise ValueError(f"expected token vectors of width d_model = {self.d_model}, got {x.shape[-1]}")
        pe = self.pe[:T] if T <= len(self.pe) else sinusoidal_encoding(T, self.d_model, self.base)  # (T, d_model)
        return self.dropout(x + pe.to(x.dtype))  # (B, T, d_model) + (T, d_model) -> (B, T, d_model)


class LearnedPositionalEmbedding(nn.Module):
    """Adds a learned vector per position, row t of an nn.Embedding(max_len, d_model), to x (B, T, d_model).

    Introduced in lesson 4: the alternative to the sinusoids, used by BERT and GPT-2. It costs
    max_len * d_model parameters and knows positions 0 .. max_len - 1 only.
    """

    def __init__(self, max_len: int, d_model: int):
        super().__init__()
        self.max_len, self.d_model = _size(max_len, "max_len", 1), _size(d_model, "d_model", 1)
        self.embedding = nn.Embedding(self.max_len, self.d_model)  # one learnable row per position

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[-2]
        if T > self.max_len:
            raise ValueError(f"learned positions 0 to {self.max_len - 1} only, but the input has {T} tokens")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"expected token vectors of width d_model = {self.d_model}, got {x.shape[-1]}")
        positions = torch.arange(T, device=x.device)  # (T,): 0, 1, ..., T-1, whatever the tokens are
        return x + self.embedding(positions)  # (B, T, d_model) + (T, d_model) -> (B, T, d_model)


# ---------------------------------------------------------------- the state behind lesson 4's widget

POSITIONAL_NUM_POSITIONS, POSITIONAL_D_MODEL = 128, 64  # what the positional widget shows


@dataclass(frozen=True)
class PositionalState:
    """Everything lesson 4's positional widget shows, for one position, dimension and offset k."""

    position: int
    dimension: int
    offset: int
    column: np.ndarray  # (N,) the chosen dimension at positions 0 .. N-1
    dots: np.ndarray  # (N,) PE(position)·PE(q) for q = 0 .. N-1
    pair_now: np.ndarray  # (2,) the chosen dimension's pair (sin, cos) at the position
    pair_shifted: np.ndarray  # (2,) the same pair at position + offset
    pair_rotated: np.ndarray  # (2,) the same pair of M_k·PE(position)
    angle: float  # k·ω_i, how far M_k turns the pair (radians)
    error: float  # the largest |M_k·PE(pos) - PE(pos + k)| over all dimensions
    message: str  # one plain HTML sentence: what the panels show, or what is wrong with the input


def _whole(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def positional_state(position: int, dimension: int, offset: int, num_positions: int = POSITIONAL_NUM_POSITIONS,
                     d_model: int = POSITIONAL_D_MODEL) -> PositionalState:
    """The sinusoidal encoding (num_positions, d_model) seen from one position, one dimension and one offset k."""
    def empty(message: str) -> PositionalState:
        zeros = np.zeros(num_positions)
        return PositionalState(0, 0, 0, zeros, zeros, np.zeros(2), np.zeros(2), np.zeros(2), 0.0, 0.0, message)

    last = num_positions - 1
    if not _whole(position) or not 0 <= position <= last:
        return empty(f"The position must be a whole number from 0 to {last}.")
    if not _whole(dimension) or not 0 <= dimension < d_model:
        return empty(f"The dimension must be a whole number from 0 to {d_model - 1}.")
    if not _whole(offset) or offset < 0:
        return empty("The offset k must be a whole number from 0 up.")
    if position + offset > last:
        return empty(f"pos + k = {position + offset} is beyond the {num_positions} positions shown; "
                     f"keep it at most {last}.")
    position, dimension, offset = int(position), int(dimension), int(offset)
    pe = sinusoidal_encoding(num_positions, d_model, dtype=torch.float64)  # (N, d_model)
    M = offset_matrix(offset, d_model, dtype=torch.float64)  # (d_model, d_model)
    rotated = M @ pe[position]  # (d_model, d_model) @ (d_model,) -> (d_model,)
    shifted = pe[position + offset]  # (d_model,)
    dots = (pe @ pe[position]).numpy()  # (N, d_model) @ (d_model,) -> (N,)
    i = dimension // 2
    pair = slice(2 * i, 2 * i + 2)
    omega = float(frequencies(d_model)[i])
    error = float((rotated - shifted).abs().max())
    kind = "sine" if dimension % 2 == 0 else "cosine"
    message = (
        f"Position <b>{position}</b>, dimension <b>{dimension}</b> ({kind} of pair {i}, which turns by "
        f"ω_{i} = {omega:.4f} rad per position): PE({position}, {dimension}) = {float(pe[position, dimension]):.3f}. "
        f"Offset <b>k = {offset}</b>: PE({position})·PE({position + offset}) = <b>{dots[position + offset]:.2f}</b>, "
        f"which depends on k alone. M_{offset} turns pair {i} by k·ω_{i} = {offset * omega:.3f} rad, and "
        f"M_{offset}·PE({position}) equals PE({position + offset}) to within {error:.0e} in all {d_model} dimensions."
    )
    return PositionalState(position, dimension, offset, pe[:, dimension].numpy(), dots, pe[position, pair].numpy(),
                           shifted[pair].numpy(), rotated[pair].numpy(), offset * omega, error, message)
