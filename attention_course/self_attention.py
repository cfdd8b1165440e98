"""Lesson 3's self-attention: tokens and their features, learned projections, self- and cross-attention.

Introduced in lesson 3. A sentence becomes tokens, the tokens become vectors (rows of X), and
queries, keys and values are three different projections of those same rows:
Q = X W_Q, K = X W_K, V = X W_V. Cross-attention takes its queries from one sequence and its keys
and values from another.

Matrices follow the equations: W_Q has shape (d_in, d_k) and Q = X @ W_Q. An nn.Linear stores the
transpose, `weight` of shape (d_k, d_in), because it computes x @ weight.T.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .attention import scaled_dot_product_attention

SENTENCE = "Hello I love you"
OTHER_SENTENCE = "We love cats"  # lesson 3's second sentence, for fast weights
FRENCH = "je t'aime"  # the queries of lesson 3's cross-attention; its keys and values come from SENTENCE

# Each word's interpretable features: what kind of word it is, and its grammatical person.
FEATURES = ("greeting", "pronoun", "noun", "verb", "1st person", "2nd person")
_LEXICON = {
    "hello": ("greeting",), "hi": ("greeting",), "bonjour": ("greeting",),
    "i": ("pronoun", "1st person"), "me": ("pronoun", "1st person"), "we": ("pronoun", "1st person"),
    "je": ("pronoun", "1st person"),
    "you": ("pronoun", "2nd person"), "t'": ("pronoun", "2nd person"), "tu": ("pronoun", "2nd person"),
    "they": ("pronoun",), "them": ("pronoun",),
    "cats": ("noun",), "music": ("noun",),
    "love": ("verb",), "like": ("verb",), "see": ("verb",), "aime": ("verb",),
}
UNKNOWN = "<unk>"
VOCAB = (UNKNOWN, *_LEXICON)  # token id i is VOCAB[i]; id 0 is any word not in the lexicon
FEATURE_TABLE = torch.tensor([[float(f in _LEXICON.get(word, ())) for f in FEATURES] for word in VOCAB])  # (V, F)


def tokenize(text: str) -> list[str]:
    """Split text into word tokens, keeping their spelling; an elided French word keeps its apostrophe (t')."""
    return re.findall(r"[^\W\d_]+'?", text)


def token_ids(tokens: Sequence[str]) -> torch.Tensor:
    """Token ids (T,) from tokens: each word's index in VOCAB, ignoring case; 0 for an unknown word."""
    return torch.tensor([VOCAB.index(t.lower()) if t.lower() in VOCAB else 0 for t in tokens], dtype=torch.long)


def features(text_or_tokens: str | Sequence[str]) -> torch.Tensor:
    """The interpretable embedding X (T, F) of a sentence: one row per token, one column per FEATURES entry."""
    tokens = tokenize(text_or_tokens) if isinstance(text_or_tokens, str) else list(text_or_tokens)
    return FEATURE_TABLE[token_ids(tokens)]  # (T,) ids -> (T, F) rows of the table


def feature_embedding() -> nn.Embedding:
    """An nn.Embedding whose rows are FEATURE_TABLE, frozen: an embedding designed by hand, not learned."""
    return nn.Embedding.from_pretrained(FEATURE_TABLE.clone(), freeze=True)


# ---------------------------------------------------------------- attention from projection matrices


def self_attention(x: torch.Tensor, W_Q: torch.Tensor, W_K: torch.Tensor, W_V: torch.Tensor, mask=None):
    """Self-attention of x (..., T, d_in) with projections W_Q, W_K (d_in, d_k) and W_V (d_in, d_v).

    Introduced in lesson 3. Queries, keys and values all come from x, through different matrices.
    Returns (output (..., T, d_v), weights (..., T, T)).
    """
    return cross_attention(x, x, W_Q, W_K, W_V, mask)


def cross_attention(x: torch.Tensor, memory: torch.Tensor, W_Q: torch.Tensor, W_K: torch.Tensor,
                    W_V: torch.Tensor, mask=None):
    """Cross-attention: queries from x (..., T_q, d_in), keys and values from memory (..., T_k, d_memory).

    Introduced in lesson 3; the decoder of lesson 8 uses it with the encoder's output as memory.
    W_Q is (d_in, d_k), W_K is (d_memory, d_k), W_V is (d_memory, d_v).
    Returns (output (..., T_q, d_v), weights (..., T_q, T_k)).
    """
    q = x @ W_Q  # (..., T_q, d_in) @ (d_in, d_k) -> (..., T_q, d_k)
    k = memory @ W_K  # (..., T_k, d_memory) @ (d_memory, d_k) -> (..., T_k, d_k)
    v = memory @ W_V  # (..., T_k, d_memory) @ (d_memory, d_v) -> (..., T_k, d_v)
    return scaled_dot_product_attention(q, k, v, mask)


# ---------------------------------------------------------------- the same as modules with learned weights


class CrossAttention(nn.Module):
    """Single-head attention with learned W_Q, W_K, W_V; queries from x, keys and values from memory.

    Introduced in lesson 3. forward(x, memory, mask=None) with x (B, T_q, d_in) and memory
    (B, T_k, d_memory) returns (output (B, T_q, d_v), weights (B, T_q, T_k)).
    """

    def __init__(self, d_in: int, d_memory: int, d_k: int, d_v: int, bias: bool = False):
        super().__init__()
        self.W_Q = nn.Linear(d_in, d_k, bias=bias)  # .weight is (d_k, d_in): the transpose of the equation's W_Q
        self.W_K = nn.Linear(d_memory, d_k, bias=bias)
        self.W_V = nn.Linear(d_memory, d_v, bias=bias)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None):
        q = self.W_Q(x)  # (B, T_q, d_in) -> (B, T_q, d_k)
        k = self.W_K(memory)  # (B, T_k, d_memory) -> (B, T_k, d_k)
        v = self.W_V(memory)  # (B, T_k, d_memory) -> (B, T_k, d_v)
        return scaled_dot_product_attention(q, k, v, mask)

    def matrices(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_Q, W_K, W_V) as in the equations, (d_in, d_k) and so on: the transposes of the layers' weights."""
        return self.W_Q.weight.T, self.W_K.weight.T, self.W_V.weight.T

    def load_matrices(self, W_Q: torch.Tensor, W_K: torch.Tensor, W_V: torch.Tensor) -> CrossAttention:
        """Copy projection matrices written as in the equations into the layers (without biases)."""
        with torch.no_grad():
            for layer, matrix in ((self.W_Q, W_Q), (self.W_K, W_K), (self.W_V, W_V)):
                matrix = torch.as_tensor(matrix, dtype=layer.weight.dtype)
                if matrix.T.shape != layer.weight.shape:
                    raise ValueError(f"expected a matrix of shape {tuple(layer.weight.T.shape)}, "
                                     f"got {tuple(matrix.shape)}")
                layer.weight.copy_(matrix.T)  # nn.Linear keeps (d_out, d_in)
                if layer.bias is not None:
                    layer.bias.zero_()
        return self

    @classmethod
    def from_matrices(cls, W_Q, W_K, W_V) -> CrossAttention:
        """A CrossAttention whose projections are the given (d_in, d_k), (d_memory, d_k), (d_memory, d_v) matrices."""
        W_Q, W_K, W_V = (torch.as_tensor(m, dtype=torch.float32) for m in (W_Q, W_K, W_V))
        return cls(W_Q.shape[0], W_K.shape[0], W_Q.shape[1], W_V.shape[1]).load_matrices(W_Q, W_K, W_V)


class SelfAttention(CrossAttention):
    """Single-head self-attention with learned W_Q, W_K, W_V (nn.Linear). Introduced in lesson 3.

    forward(x, mask=None) with x (B, T, d_in) returns (output (B, T, d_v), weights (B, T, T)).
    It is cross-attention of a sequence with itself: the same x gives the queries, keys and values,
    each through its own projection.
    """

    def __init__(self, d_in: int, d_k: int, d_v: int, bias: bool = False):
        super().__init__(d_in, d_in, d_k, d_v, bias=bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None):
        return super().forward(x, x, mask)

    @classmethod
    def from_matrices(cls, W_Q, W_K, W_V) -> SelfAttention:
        """A SelfAttention whose projections are the given (d_in, d_k), (d_in, d_k), (d_in, d_v) matrices."""
        W_Q, W_K, W_V = (torch.as_tensor(m, dtype=torch.float32) for m in (W_Q, W_K, W_V))
        return cls(W_Q.shape[0], W_Q.shape[1], W_V.shape[1]).load_matrices(W_Q, W_K, W_V)


# ---------------------------------------------------------------- weights designed by hand, and random ones


def _feature(name: str) -> int:
    return FEATURES.index(name)


def designed_projections(strength: float = 6.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hand-designed (W_Q, W_K, W_V), each (F, F), for sentences embedded by `features`.

    Keys and values are the features themselves (W_K = W_V = identity). Row a of W_Q says what a token
    with feature a looks for, so that W_Q @ W_K.T is a table "feature a looks for feature b":
    verbs look for pronouns and nouns (their subject and object), pronouns and nouns look for verbs,
    and a greeting looks for the person it greets (2nd person). `strength` scales every rule:
    0 gives uniform attention, larger values sharper attention.
    """
    F = len(FEATURES)
    rules = torch.zeros(F, F)  # (F, F): rules[a, b] = 1 when a token with feature a looks for feature b
    for asks, wants in [("verb", "pronoun"), ("verb", "noun"), ("pronoun", "verb"), ("noun", "verb"),
                        ("greeting", "2nd person")]:
        rules[_feature(asks), _feature(wants)] = 1.0
    return strength * rules, torch.eye(F), torch.eye(F)


def matching_projections(strength: float = 6.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(W_Q, W_K, W_V) = (strength * I, I, I): every query looks for keys with the same features.

    Used in lesson 3 for cross-attention from French to English tokens, which share their features.
    """
    F = len(FEATURES)
    return strength * torch.eye(F), torch.eye(F), torch.eye(F)


def random_projections(seed: int, strength: float = 6.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random (W_Q, W_K) with the same overall size as the hand-designed ones, and W_V = identity.

    The entries are normal, scaled so that each matrix has the Frobenius norm of its designed
    counterpart; `seed` picks the draw. They stand for an untrained layer: patterns, but no meaning.
    """
    designed_q, designed_k, _ = designed_projections(strength)
    generator = torch.Generator().manual_seed(int(seed))
    F = len(FEATURES)
    W_Q, W_K = torch.randn(F, F, generator=generator), torch.randn(F, F, generator=generator)
    W_Q = W_Q * designed_q.norm() / W_Q.norm()
    W_K = W_K * designed_k.norm() / W_K.norm()
    return W_Q, W_K, torch.eye(F)


def attention_over_sentence(weights_kind: str = "hand-designed", strength: float = 6.0, seed: int = 0,
                            text: str = SENTENCE) -> torch.Tensor:
    """The (T, T) self-attention weights of `text` (embedded by `features`) under designed or random projections."""
    if weights_kind == "hand-designed":
        W_Q, W_K, W_V = designed_projections(strength)
    elif weights_kind == "random":
        W_Q, W_K, W_V = random_projections(seed, strength)
    else:
        raise ValueError(f"weights_kind must be 'hand-designed' or 'random', got {weights_kind!r}")
    return self_attention(features(text), W_Q, W_K, W_V)[1]


# ---------------------------------------------------------------- attention, a linear layer and a convolution


class Conv1dOverTokens(nn.Module):
    """A 1-D convolution along the tokens of x (B, T, d_in): each output sees a window of kernel_size tokens.

    Introduced in lesson 3, to compare with attention. nn.Conv1d wants (B, channels, T), hence the transposes.
    """

    def __init__(self, d_in: int, d_out: int, kernel_size: int = 3):
        super().__init__()
        self.conv = nn.Conv1d(d_in, d_out, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.transpose(1, 2))  # (B, T, d_in) -> (B, d_in, T) -> (B, d_out, T)
        return y.transpose(1, 2)  # (B, d_out, T) -> (B, T, d_out)


class OutputOnly(nn.Module):
    """Wraps a layer that returns (output, weights) so that it returns the output alone, like other layers."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)[0]


def comparison_layers(d_model: int, kernel_size: int = 3, seed: int = 0) -> dict[str, nn.Module]:
    """A linear layer, a 1-D convolution and a self-attention layer, each (B, T, d_model) -> (B, T, d_model).

    Introduced in lesson 3. The self-attention layer is wrapped in OutputOnly, so all three return a tensor.
    """
    with torch.random.fork_rng():  # seeded without disturbing the caller's random stream
        torch.manual_seed(seed)
        return {
            "linear": nn.Linear(d_model, d_model),
            "convolution": Conv1dOverTokens(d_model, d_model, kernel_size),
            "self-attention": OutputOnly(SelfAttention(d_model, d_model, d_model)),
        }


def _output(result):
    """A layer's output tensor, whether the layer returns it alone or as (output, weights)."""
    return result[0] if isinstance(result, tuple) else result


def dependency_map(layer: Callable, x: torch.Tensor) -> torch.Tensor:
    """How much each output token depends on each input token: the (T, T) norms of the Jacobian blocks.

    x is (T, d_in), or (1, T, d_in). Entry (i, j) is the Frobenius norm of d y_i / d x_j; it is exactly 0
    when output i cannot see input j.
    """
    x = x.reshape(1, *x.shape[-2:]).detach()  # (1, T, d_in)
    jacobian = torch.autograd.functional.jacobian(lambda inp: _output(layer(inp)), x)  # (1, T, d_out, 1, T, d_in)
    return jacobian[0, :, :, 0].pow(2).sum(dim=(1, 3)).sqrt()  # (T, d_out, T, d_in) -> (T, T)


def equivariance_gap(layer: Callable, x: torch.Tensor, perm) -> float:
    """The largest |layer(x[:, perm]) - layer(x)[:, perm]|: 0 for a permutation-equivariant layer.

    Introduced in lesson 3. x is (B, T, d_in); perm is a permutation of range(T); layer may return its
    output alone or (output, weights).
    """
    perm = torch.as_tensor(perm, dtype=torch.long)
    with torch.no_grad():
        permuted_first = _output(layer(x[:, perm]))  # permute the tokens, then apply the layer
        permuted_after = _output(layer(x))[:, perm]  # apply the layer, then permute its outputs
    return float((permuted_first - permuted_after).abs().max())


def count_flops(function: Callable, *args) -> int:
    """Floating-point operations of the matrix products and convolutions in function(*args), counted by torch.

    A multiply-add counts as 2. Works on tensors on the 'meta' device, which have shapes but no data,
    so a cost can be counted for lengths too long to run.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        function(*args)
    return int(counter.get_total_flops())


def attention_flops_by_hand(T: int, d_in: int, d_k: int, d_v: int) -> int:
    """FLOPs of single-head self-attention's matrix products, written out: projections, scores, mixing."""
    projections = 2 * T * d_in * (2 * d_k + d_v)  # X @ W_Q, X @ W_K, X @ W_V
    scores = 2 * T * T * d_k  # (T, d_k) @ (d_k, T)
    mixing = 2 * T * T * d_v  # (T, T) @ (T, d_v)
    return projections + scores + mixing


def parameter_count(module: nn.Module) -> int:
    """How many numbers a module learns."""
    return sum(p.numel() for p in module.parameters())


def strength_threshold(share: float = 0.9) -> float:
    """The smallest strength at which 'love' in SENTENCE gives `share` of its attention to 'I' and 'you'.

    With the designed weights, 'I' and 'you' score strength / sqrt(d_k) and 'Hello' and 'love' score 0,
    so their share is e^a / (e^a + 1) with a = strength / sqrt(d_k); it reaches `share` at
    a = ln(share / (1 - share)).
    """
    return math.sqrt(len(FEATURES)) * math.log(share / (1 - share))


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class TokenAttentionState:
    """Everything the token-attention widget shows: one token's self-attention weights over the sentence."""

    tokens: tuple[str, ...]
    weights: np.ndarray  # (T,), all zeros when there is nothing to show
    message: str  # one plain HTML sentence: where the token looks, or what is wrong with the input


def token_attention_state(token: str, weights: str = "hand-designed", strength: float = 6.0,
                          seed: int = 0) -> TokenAttentionState:
    """The attention of `token` over lesson 3's sentence, under hand-designed or random (seeded) projections."""
    tokens = tuple(tokenize(SENTENCE))
    zeros = np.zeros(len(tokens))
    if token not in tokens:
        return TokenAttentionState(tokens, zeros, f"Pick one of the tokens: {', '.join(tokens)}.")
    if weights not in ("hand-designed", "random"):
        return TokenAttentionState(tokens, zeros, "The weights are either 'hand-designed' or 'random'.")
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.number)) or not (
            np.isfinite(strength) and strength >= 0):
        return TokenAttentionState(tokens, zeros, "The strength must be a number from 0 up.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        return TokenAttentionState(tokens, zeros, "The seed must be a whole number from 0 up.")
    row = attention_over_sentence(weights, float(strength), int(seed)).numpy()[tokens.index(token)]  # (T,)
    which = "hand-designed weights" if weights == "hand-designed" else f"random weights (seed {seed})"
    top = [t for t, weight in zip(tokens, row) if weight > row.max() - 1e-6]  # ties are named together
    if np.ptp(row) < 1e-9:
        where = f"<b>{html.escape(token)}</b> spreads its attention evenly, {row[0]:.2f} to every token"
    else:
        named = " and ".join(f"<b>{html.escape(t)}</b>" for t in top)
        where = f"<b>{html.escape(token)}</b> attends most to {named} ({row.max():.2f}{' each' if len(top) > 1 else ''})"
    listed = ", ".join(f"{html.escape(t)} {w:.2f}" for t, w in zip(tokens, row))
    pair = row[tokens.index("I")] + row[tokens.index("you")]
    message = (f"With the {which} at strength {float(strength):.1f}, {where}. All its weights: {listed}; "
               f"'I' and 'you' together get {pair:.3f}.")
    return TokenAttentionState(tokens, row, message)
