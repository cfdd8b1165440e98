"""Multi-head attention, batch-first, proven equal to torch.nn.MultiheadAttention. Introduced in lesson 6."""

from __future__ import annotations

import torch
from torch import nn

from .attention import scaled_dot_product_attention


class MultiHeadAttention(nn.Module):
    """h heads of width d_k = d_model / h, each with its own slice of W_Q, W_K, W_V; then W_O. Lesson 6.

    forward(query (B, T_q, d_model), key (B, T_k, d_model), value (B, T_k, d_model), mask=None)
    returns (output (B, T_q, d_model), weights (B, h, T_q, T_k)). `mask` is boolean, True = may attend,
    broadcastable to (B, h, T_q, T_k): (T_q, T_k) for a causal mask, (B, 1, 1, T_k) for padding; a 3-d
    mask (B, T_q, T_k) is taken to mean the same for every head.
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if num_heads < 1 or d_model % num_heads:
            raise ValueError(f"d_model ({d_model}) must be a positive multiple of num_heads ({num_heads})")
        self.d_model, self.num_heads, self.d_k = d_model, num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model, bias=bias)  # all h query projections side by side
        self.W_k = nn.Linear(d_model, d_model, bias=bias)
        self.W_v = nn.Linear(d_model, d_model, bias=bias)
        self.W_o = nn.Linear(d_model, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, h, T, d_k): head i gets features i*d_k ... (i+1)*d_k - 1."""
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.d_k).transpose(1, 2)  # (B, T, h, d_k) -> (B, h, T, d_k)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, h, T, d_k) -> (B, T, d_model): the heads' outputs side by side (the concatenation)."""
        B, h, T, d_k = x.shape
        return x.transpose(1, 2).reshape(B, T, h * d_k)  # (B, h, T, d_k) -> (B, T, h, d_k) -> (B, T, d_model)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None):
        if query.dim() != 3 or query.size(-1) != self.d_model:
            raise ValueError(f"query must have shape (B, T_q, {self.d_model}); got {tuple(query.shape)}")
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, T_q, T_k) -> (B, 1, T_q, T_k): the same mask for every head
        q = self.split_heads(self.W_q(query))  # (B, h, T_q, d_k)
        k = self.split_heads(self.W_k(key))  # (B, h, T_k, d_k)
        v = self.split_heads(self.W_v(value))  # (B, h, T_k, d_k)
        heads, weights = scaled_dot_product_attention(q, k, v, mask, dropout=self.dropout)  # (B, h, T_q, d_k)
        return self.W_o(self.merge_heads(heads)), weights  # (B, T_q, d_model), (B, h, T_q, T_k)

    @classmethod
    def from_torch(cls, module: nn.MultiheadAttention) -> MultiHeadAttention:
        """A MultiHeadAttention with the weights of `module`, so both compute the same function."""
        if not module._qkv_same_embed_dim or module.bias_k is not None or module.add_zero_attn:
            raise ValueError("from_torch copies only nn.MultiheadAttention with kdim = vdim = embed_dim, "
                             "no bias_k/bias_v and add_zero_attn=False")
        has_bias = module.in_proj_bias is not None
        ours = cls(module.embed_dim, module.num_heads, dropout=module.dropout, bias=has_bias)
        with torch.no_grad():
            for projection, weight in zip((ours.W_q, ours.W_k, ours.W_v), module.in_proj_weight.chunk(3)):
                projection.weight.copy_(weight)  # in_proj_weight stacks W_Q, W_K, W_V: (3 d_model, d_model)
            if has_bias:
                for projection, bias in zip((ours.W_q, ours.W_k, ours.W_v), module.in_proj_bias.chunk(3)):
                    projection.bias.copy_(bias)
            ours.W_o.weight.copy_(module.out_proj.weight)
            if has_bias:
                ours.W_o.bias.copy_(module.out_proj.bias)
        return ours.to(module.in_proj_weight.dtype)
