"""The Transformer's encoder and decoder layers, batch-first, proven equal to torch's own, and the whole model.

EncoderLayer and the Encoder stack are introduced in lesson 7, DecoderLayer and the Decoder stack in
lesson 8, the whole Transformer in lesson 9. Masks are boolean with True = may attend (torch's layers use
the opposite convention).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .masking import causal_mask, padding_mask
from .multihead import MultiHeadAttention
from .positional import sinusoidal_encoding


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


class Transformer(nn.Module):
    """The whole encoder-decoder of Vaswani et al. (2017): embeddings, positions, both stacks, output. Lesson 9.

    forward(src (B, T_src), tgt (B, T_tgt)) -> logits (B, T_tgt, tgt_vocab), for token ids; `tgt` is the
    decoder's input (the target shifted right, a start token first), and logits[:, t] scores target token
    t. The padding masks (token id `pad_id`, 0 by default) and the causal mask are built here.
    Embeddings are multiplied by sqrt(d_model) before the sinusoidal positions are added, as in the paper;
    they start with entries of size 1/sqrt(d_model), so that both terms start at the same scale.
    share_embeddings=True uses one embedding table for source and target (one shared vocabulary);
    tie_output=True makes the output projection reuse the target embedding's weights. The paper does both.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 512, num_heads: int = 8,
                 num_layers: int = 6, d_ff: int = 2048, dropout: float = 0.1, *, pad_id: int = 0,
                 max_len: int = 512, norm_first: bool = False, share_embeddings: bool = False,
                 tie_output: bool = False):
        super().__init__()
        if share_embeddings and src_vocab != tgt_vocab:
            raise ValueError(f"shared embeddings need one vocabulary; got {src_vocab} and {tgt_vocab} tokens")
        self.d_model, self.pad_id, self.max_len = d_model, pad_id, max_len
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = self.src_embed if share_embeddings else nn.Embedding(tgt_vocab, d_model)
        for table in (self.src_embed, self.tgt_embed):
            # entries of size 1/sqrt(d_model), so that times sqrt(d_model) they are of size 1, like the positions'
            nn.init.normal_(table.weight, std=d_model ** -0.5)
        self.register_buffer("positions", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.encoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.decoder = Decoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.out = nn.Linear(d_model, tgt_vocab)
        if tie_output:
            self.out.weight = self.tgt_embed.weight  # (tgt_vocab, d_model): one matrix, two uses

    def embed(self, tokens: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
        """Token ids (B, T) -> vectors (B, T, d_model): embedding * sqrt(d_model) + position, then dropout."""
        T = tokens.shape[1]
        if T > self.max_len:
            raise ValueError(f"sequences of {T} tokens are longer than max_len = {self.max_len}")
        x = table(tokens) * self.d_model ** 0.5  # (B, T, d_model)
        return self.dropout(x + self.positions[:T])  # (B, T, d_model) + (T, d_model)

    def source_mask(self, src: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, T_src): True for the source's real tokens, which every query may attend to."""
        return padding_mask(src, self.pad_id)

    def target_mask(self, tgt: torch.Tensor) -> torch.Tensor:
        """(B, 1, T_tgt, T_tgt): position t may attend to real target tokens at positions 0..t."""
        return causal_mask(tgt.shape[1]).to(tgt.device) & padding_mask(tgt, self.pad_id)  # (T, T) & (B, 1, 1, T)

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """The memory (B, T_src, d_model): the encoder's output, computed once per source."""
        return self.encoder(self.embed(src, self.src_embed), self.source_mask(src))

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        """Logits (B, T_tgt, tgt_vocab) for the decoder input `tgt`, reading `memory` (masked by `src`'s pads)."""
        y = self.decoder(self.embed(tgt, self.tgt_embed), memory, self.target_mask(tgt), self.source_mask(src))
        return self.out(y)  # (B, T_tgt, d_model) -> (B, T_tgt, tgt_vocab)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt, self.encode(src), src)

    @classmethod
    def from_torch(cls, reference: TorchTransformer) -> Transformer:
        """A Transformer with the weights of a TorchTransformer, layer by layer, so both compute the same."""
        core = reference.transformer
        first = core.encoder.layers[0]
        ours = cls(reference.src_embed.num_embeddings, reference.out.out_features, first.linear1.in_features,
                   first.self_attn.num_heads, len(core.encoder.layers), first.linear1.out_features,
                   first.dropout.p, pad_id=reference.pad_id, max_len=reference.positions.shape[0],
                   norm_first=first.norm_first)
        ours.src_embed.load_state_dict(reference.src_embed.state_dict())
        ours.tgt_embed.load_state_dict(reference.tgt_embed.state_dict())
        ours.out.load_state_dict(reference.out.state_dict())
        ours.encoder.layers = nn.ModuleList(EncoderLayer.from_torch(layer) for layer in core.encoder.layers)
        ours.decoder.layers = nn.ModuleList(DecoderLayer.from_torch(layer) for layer in core.decoder.layers)
        for mine, theirs in ((ours.encoder, core.encoder), (ours.decoder, core.decoder)):
            if mine.norm is not None:
                _copy_norm(mine.norm, theirs.norm)
        return ours


class TorchTransformer(nn.Module):
    """The same model as Transformer, built on torch's nn.Transformer: the reference for tests and benchmarks.

    Introduced in lesson 9. nn.Transformer ends both stacks with an extra LayerNorm even in post-norm mode;
    the paper's post-norm layers already end with one, so for norm_first=False those two are left out.
    Its masks use torch's convention, True = may NOT attend, built here from the same token ids.
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d_model: int = 512, num_heads: int = 8,
                 num_layers: int = 6, d_ff: int = 2048, dropout: float = 0.1, *, pad_id: int = 0,
                 max_len: int = 512, norm_first: bool = False):
        super().__init__()
        self.d_model, self.pad_id = d_model, pad_id
        self.src_embed, self.tgt_embed = nn.Embedding(src_vocab, d_model), nn.Embedding(tgt_vocab, d_model)
        self.register_buffer("positions", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, dropout, batch_first=True,
                                           norm_first=norm_first)
        encoder = nn.TransformerEncoder(layer, num_layers, nn.LayerNorm(d_model) if norm_first else None,
                                        enable_nested_tensor=False)  # the plain path, as in training
        self.transformer = nn.Transformer(d_model, num_heads, num_layers, num_layers, d_ff, dropout,
                                          custom_encoder=encoder, batch_first=True, norm_first=norm_first)
        if not norm_first:
            self.transformer.decoder.norm = None
        self.out = nn.Linear(d_model, tgt_vocab)

    def embed(self, tokens: torch.Tensor, table: nn.Embedding) -> torch.Tensor:
        return self.dropout(table(tokens) * self.d_model ** 0.5 + self.positions[:tokens.shape[1]])

    def forward(self, src: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        T = tgt.shape[1]
        future = ~causal_mask(T).to(tgt.device)  # (T, T): True where torch must NOT attend
        y = self.transformer(self.embed(src, self.src_embed), self.embed(tgt, self.tgt_embed), tgt_mask=future,
                             src_key_padding_mask=src == self.pad_id, tgt_key_padding_mask=tgt == self.pad_id,
                             memory_key_padding_mask=src == self.pad_id, tgt_is_causal=True)
        return self.out(y)  # (B, T_tgt, tgt_vocab)


def count_parameters(module: nn.Module) -> int:
    """The number of trainable numbers in `module`; a tied or shared matrix counts once. Lesson 9."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)  # parameters() skips repeats


def parameter_count(vocab: int, d_model: int, d_ff: int, num_layers: int, tied: bool = True) -> int:
    """The parameters of a Transformer over one shared vocabulary of `vocab` tokens, by formula. Lesson 9.

    tied=True: one embedding matrix for source, target and output weights (the paper's choice);
    tied=False: three separate matrices. The number of heads does not matter: h heads of width d_model/h
    have the same projections as one head of width d_model.
    """
    attention = 4 * (d_model * d_model + d_model)  # W_Q, W_K, W_V, W_O, each with a bias
    feed_forward = (d_model * d_ff + d_ff) + (d_ff * d_model + d_model)  # two linear layers
    norm = 2 * d_model  # LayerNorm's gain and bias
    encoder_layer = attention + feed_forward + 2 * norm
    decoder_layer = 2 * attention + feed_forward + 3 * norm  # self-attention and cross-attention
    embeddings = (1 if tied else 3) * vocab * d_model + vocab  # + the output layer's bias
    return num_layers * (encoder_layer + decoder_layer) + embeddings
