"""The Transformer's encoder and decoder layers, batch-first, proven equal to torch's own.

EncoderLayer and the Encoder stack are introduced in lesson 7, DecoderLayer and the Decoder stack in
lesson 8. Masks are boolean with True = may attend (torch's layers use the opposite convention).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .multihead import MultiHeadAttention


class FeedForward(nn.Module):
    """The position-wise feed-forward network: Linear(d_model, d_ff), ReLU, dropout, Linear(d_ff, d_model).

    Introduced in lesson 7. It acts on every token on its own: (B, T, d_model) -> (B, T, d_model).
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))  # (B, T, d_model) -> (B, T, d_ff) -> back


def _check_torch_layer(layer: nn.Module) -> None:
    if not layer.self_attn.batch_first:
        raise ValueError("from_torch expects a layer made with batch_first=True, as the course's layers are")
    if layer.activation is not F.relu and not isinstance(layer.activation, nn.ReLU):
        raise ValueError(f"from_torch copies ReLU layers only; this one uses {layer.activation}")


def _copy_feed_forward(ours: FeedForward, layer: nn.Module) -> None:
    ours.linear1.load_state_dict(layer.linear1.state_dict())
    ours.linear2.load_state_dict(layer.linear2.state_dict())


def _copy_norm(ours: nn.LayerNorm, theirs: nn.LayerNorm) -> None:
    ours.load_state_dict(theirs.state_dict())
    ours.eps = theirs.eps


class EncoderLayer(nn.Module):
    """Self-attention, then feed-forward, each wrapped in a residual connection and LayerNorm. Lesson 7.

    norm_first=False is the paper's post-norm, x = LayerNorm(x + sublayer(x)); norm_first=True is the
    pre-norm most code uses today, x = x + sublayer(LayerNorm(x)). forward(x (B, T, d_model), mask=None),
    mask boolean, True = may attend, broadcastable to (B, h, T, T) (e.g. padding (B, 1, 1, T)).
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first
        self.attention_weights: torch.Tensor | None = None  # (B, h, T, T) from the last forward pass

    def _self_attention(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        out, self.attention_weights = self.self_attn(x, x, x, mask)
        return self.dropout1(out)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), mask)
            return x + self.dropout2(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self._self_attention(x, mask))
        return self.norm2(x + self.dropout2(self.feed_forward(x)))

    @classmethod
    def from_torch(cls, layer: nn.TransformerEncoderLayer) -> EncoderLayer:
        """An EncoderLayer with the weights of a batch-first nn.TransformerEncoderLayer (ReLU)."""
        _check_torch_layer(layer)
        d_model, d_ff = layer.linear1.in_features, layer.linear1.out_features
        ours = cls(d_model, layer.self_attn.num_heads, d_ff, layer.dropout.p, layer.norm_first)
        ours.self_attn = MultiHeadAttention.from_torch(layer.self_attn)
        _copy_feed_forward(ours.feed_forward, layer)
        _copy_norm(ours.norm1, layer.norm1)
        _copy_norm(ours.norm2, layer.norm2)
        return ours


class DecoderLayer(nn.Module):
    """Masked self-attention, cross-attention over the encoder's output, then feed-forward. Lesson 8.

    Each sublayer has a residual connection and LayerNorm, post-norm (the paper) or pre-norm.
    forward(x (B, T_tgt, d_model), memory (B, T_src, d_model), tgt_mask=None, memory_mask=None): tgt_mask
    broadcastable to (B, h, T_tgt, T_tgt) (causal, and padding of the target), memory_mask to
    (B, h, T_tgt, T_src) (padding of the source); True = may attend.
    """

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2, self.dropout3 = nn.Dropout(dropout), nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first
        self.self_attention_weights: torch.Tensor | None = None  # (B, h, T_tgt, T_tgt)
        self.cross_attention_weights: torch.Tensor | None = None  # (B, h, T_tgt, T_src)

    def _self_attention(self, x, mask):
        out, self.self_attention_weights = self.self_attn(x, x, x, mask)
        return self.dropout1(out)

    def _cross_attention(self, x, memory, mask):
        out, self.cross_attention_weights = self.cross_attn(x, memory, memory, mask)  # queries from the decoder
        return self.dropout2(out)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), tgt_mask)
            x = x + self._cross_attention(self.norm2(x), memory, memory_mask)
            return x + self.dropout3(self.feed_forward(self.norm3(x)))
        x = self.norm1(x + self._self_attention(x, tgt_mask))
        x = self.norm2(x + self._cross_attention(x, memory, memory_mask))
        return self.norm3(x + self.dropout3(self.feed_forward(x)))

    @classmethod
    def from_torch(cls, layer: nn.TransformerDecoderLayer) -> DecoderLayer:
        """A DecoderLayer with the weights of a batch-first nn.TransformerDecoderLayer (ReLU)."""
        _check_torch_layer(layer)
        d_model, d_ff = layer.linear1.in_features, layer.linear1.out_features
        ours = cls(d_model, layer.self_attn.num_heads, d_ff, layer.dropout.p, layer.norm_first)
        ours.self_attn = MultiHeadAttention.from_torch(layer.self_attn)
        ours.cross_attn = MultiHeadAttention.from_torch(layer.multihead_attn)
        _copy_feed_forward(ours.feed_forward, layer)
        for mine, theirs in ((ours.norm1, layer.norm1), (ours.norm2, layer.norm2), (ours.norm3, layer.norm3)):
            _copy_norm(mine, theirs)
        return ours


class Encoder(nn.Module):
    """A stack of `num_layers` EncoderLayers; pre-norm stacks end with a LayerNorm, as torch's do. Lesson 7."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, dropout, norm_first)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)
        return x if self.norm is None else self.norm(x)


class Decoder(nn.Module):
    """A stack of `num_layers` DecoderLayers over one encoder output; pre-norm ends with a LayerNorm. Lesson 8."""

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model, num_heads, d_ff, dropout, norm_first)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else None

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, memory, tgt_mask, memory_mask)
        return x if self.norm is None else self.norm(x)
