"""LayerNorm and BatchNorm by hand, the residual sublayer, parameter counts and the norm-placement experiment.

Introduced in lesson 7 (the encoder). Tensors of token vectors are batch-first, (B, T, d_model).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .runtime import seeded_training
from .transformer import Encoder, EncoderLayer


def layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm: each token on its own, over its d_model features (the last axis). Lesson 7."""
    mean = x.mean(dim=-1, keepdim=True)  # (..., 1): one mean per token
    var = x.var(dim=-1, keepdim=True, unbiased=False)  # (..., 1): the population variance, as torch uses
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta  # (..., d_model)


def batch_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """BatchNorm with batch statistics: each feature on its own, over every token of every sequence. Lesson 7.

    x is (B, T, d_model); the statistics run over the axes B and T, one mean per feature.
    """
    mean = x.mean(dim=(0, 1), keepdim=True)  # (1, 1, d_model): one mean per feature
    var = x.var(dim=(0, 1), keepdim=True, unbiased=False)  # (1, 1, d_model)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta  # (B, T, d_model)


def residual_sublayer(x: torch.Tensor, sublayer: Callable, norm: Callable, dropout: Callable,
                      norm_first: bool) -> torch.Tensor:
    """One sublayer with its residual connection: post-norm (the paper) or pre-norm. Lesson 7.

    post-norm: LayerNorm(x + Dropout(sublayer(x))); pre-norm: x + Dropout(sublayer(LayerNorm(x))).
    """
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


def encoder_layer_parameter_count(d_model: int, num_heads: int, d_ff: int) -> int:
    """The parameters of one EncoderLayer, counted by hand; num_heads does not change it. Lesson 7."""
    attention = 4 * (d_model * d_model + d_model)  # W_Q, W_K, W_V, W_O, each with a bias
    feed_forward = (d_model * d_ff + d_ff) + (d_ff * d_model + d_model)  # two linear layers
    norms = 2 * (2 * d_model)  # two LayerNorms, each with gamma and beta
    return attention + feed_forward + norms


def layer_gradient_norms(norm_first: bool, num_layers: int = 24, d_model: int = 64, num_heads: int = 4,
                         seed: int = 0) -> list[float]:
    """The gradient norm of each layer's parameters at initialisation, for a regression loss. Lesson 7.

    A stack of `num_layers` EncoderLayers (no dropout) on a seeded random batch, loss = mean squared error
    against a seeded random target; returns one norm per layer, first layer first.
    """
    torch.manual_seed(seed)
    encoder = Encoder(num_layers, d_model, num_heads, 4 * d_model, dropout=0.0, norm_first=norm_first)
    x, target = torch.randn(16, 10, d_model), torch.randn(16, 10, d_model)  # (B, T, d_model)
    F.mse_loss(encoder(x), target).backward()
    return [torch.sqrt(sum((p.grad ** 2).sum() for p in layer.parameters())).item() for layer in encoder.layers]


COUNT_TASK_VOCAB, COUNT_TASK_LENGTH = 10, 12


def count_task_batch(batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the counting task: for each digit, how often it occurs in its sequence. Lesson 7.

    Returns tokens (B, T) of digits 0-9 and targets (B, T) of counts 1 to T; every token must look at all
    the others to answer, so the task needs attention.
    """
    tokens = torch.randint(0, COUNT_TASK_VOCAB, (batch_size, COUNT_TASK_LENGTH), generator=generator)
    counts = (tokens[:, :, None] == tokens[:, None, :]).sum(dim=-1)  # (B, T, 1) == (B, 1, T) -> (B, T, T) -> (B, T)
    return tokens, counts


def train_count_task(norm_first: bool, lr: float = 1e-3, steps: int = 200, num_layers: int = 6, d_model: int = 32,
                     num_heads: int = 4, batch_size: int = 32, seed: int = 0) -> list[float]:
    """Train an embedding, an Encoder and a linear read-out on the counting task; return the losses. Lesson 7.

    Adam at a constant learning rate `lr`, no warm-up, no dropout; seeded and single-threaded, so the losses
    repeat exactly on the same machine.
    """
    with seeded_training(seed):  # one thread, seeded: the same losses on every machine and every run
        return _train_count_task(norm_first, lr, steps, num_layers, d_model, num_heads, batch_size, seed)


def _train_count_task(norm_first, lr, steps, num_layers, d_model, num_heads, batch_size, seed) -> list[float]:
    embed = nn.Embedding(COUNT_TASK_VOCAB, d_model)
    encoder = Encoder(num_layers, d_model, num_heads, 4 * d_model, dropout=0.0, norm_first=norm_first)
    read_out = nn.Linear(d_model, COUNT_TASK_LENGTH + 1)  # one class per count 0 ... T
    parameters = [*embed.parameters(), *encoder.parameters(), *read_out.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        tokens, counts = count_task_batch(batch_size, generator)
        logits = read_out(encoder(embed(tokens)))  # (B, T, d_model) -> (B, T, T + 1)
        loss = F.cross_entropy(logits.flatten(0, 1), counts.flatten())  # (B·T, T + 1) against (B·T,)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def encoder_from_torch(stack: nn.TransformerEncoder) -> Encoder:
    """An Encoder with the weights of a batch-first nn.TransformerEncoder of ReLU layers. Lesson 7."""
    first = stack.layers[0]
    d_model, d_ff = first.linear1.in_features, first.linear1.out_features
    ours = Encoder(len(stack.layers), d_model, first.self_attn.num_heads, d_ff, first.dropout.p, first.norm_first)
    ours.layers = nn.ModuleList(EncoderLayer.from_torch(layer) for layer in stack.layers)
    if (stack.norm is None) != (ours.norm is None):
        raise ValueError("from_torch expects a final LayerNorm exactly when the layers are pre-norm, as torch's "
                         "own pre-norm stacks have")
    if stack.norm is not None:
        ours.norm.load_state_dict(stack.norm.state_dict())
        ours.norm.eps = stack.norm.eps
    return ours


# The small batch of lesson 7's LayerNorm-vs-BatchNorm widget: B = 2 sentences of T = 3 tokens, d_model = 4.
NORM_EXAMPLE = ((( 1.0, 2.0, 3.0, 4.0), (2.0, 4.0, 6.0, 8.0), (0.0, 1.0, 0.0, 1.0)),
                ((10.0, 0.0, 5.0, 5.0), (3.0, 3.0, 3.0, 9.0), (1.0, 2.0, 3.0, 4.0)))


def token_labels(B: int, T: int) -> list[str]:
    """'s1 t1', 's1 t2', ...: sentence and token of every row of a (B·T, d_model) view. Lesson 7."""
    return [f"s{b + 1} t{t + 1}" for b in range(B) for t in range(T)]


def norm_outputs(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    """(LayerNorm, BatchNorm) of x (B, T, d_model) with gamma = 1 and beta = 0, as nn.LayerNorm and a freshly
    made nn.BatchNorm1d in training mode compute them. Lesson 7."""
    ones, zeros = torch.ones(x.shape[-1], dtype=x.dtype), torch.zeros(x.shape[-1], dtype=x.dtype)
    return layer_norm(x, ones, zeros, eps), batch_norm(x, ones, zeros, eps)


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class NormState:
    """Everything the norm widget shows: a (B, T, d_model) batch and what LayerNorm and BatchNorm make of it."""

    x: np.ndarray  # (B, T, d_model); all zeros when the input could not be read
    layer: np.ndarray  # (B, T, d_model), LayerNorm with gamma = 1, beta = 0
    batch: np.ndarray  # (B, T, d_model), BatchNorm with batch statistics, gamma = 1, beta = 0
    kind: str  # "LayerNorm" or "BatchNorm": whose groups are outlined
    message: str  # one plain HTML sentence: what the chosen norm does, or what is wrong with the input


def _parse_token(text, label: str, d_model: int):
    """A token's features from text such as "1, 2, 3, 4"; returns (values, None) or (None, the problem)."""
    parts = str(text).replace(",", " ").split()
    try:
        values = [float(part) for part in parts]
    except ValueError:
        return None, f"Token {label}: “{html.escape(str(text))}” is not a list of numbers."
    if len(values) != d_model:
        return None, f"Token {label} needs {d_model} numbers separated by commas or spaces; it has {len(values)}."
    if not all(np.isfinite(values)):
        return None, f"Token {label} must have finite numbers only."
    return values, None


def norm_state(rows, kind: str = "LayerNorm") -> NormState:
    """LayerNorm and BatchNorm of a batch typed as one string per token ("1, 2, 3, 4"). Lesson 7.

    `rows` maps the token labels "s1 t1", ..., "s2 t3" (sentence, token) to their feature strings; a list of
    B·T strings in that order works too.
    """
    B, T, d_model = np.shape(NORM_EXAMPLE)
    labels = token_labels(B, T)
    empty = np.zeros((B, T, d_model))
    if kind not in ("LayerNorm", "BatchNorm"):
        return NormState(empty, empty, empty, "LayerNorm", "Choose LayerNorm or BatchNorm.")
    texts = [rows.get(label, "") for label in labels] if isinstance(rows, dict) else list(rows)
    if len(texts) != B * T:
        return NormState(empty, empty, empty, kind, f"Give {B * T} tokens, one string of {d_model} numbers each.")
    values = []
    for label, text in zip(labels, texts):
        token, problem = _parse_token(text, label, d_model)
        if problem:
            return NormState(empty, empty, empty, kind, problem)
        values.append(token)
    x = torch.tensor(values, dtype=torch.float64).reshape(B, T, d_model)  # (B·T, d_model) -> (B, T, d_model)
    layer, batch = norm_outputs(x)
    if kind == "LayerNorm":
        what = (f"<b>LayerNorm</b> normalises each token over its own {d_model} features: {B * T} groups of "
                f"{d_model} numbers (the outlined rows), statistics over the last axis only. Each row of its output "
                "has mean 0 and standard deviation 1.")
        flat = [labels[i] for i, row in enumerate(x.reshape(B * T, d_model)) if float(row.std()) == 0.0]
        if flat:
            what += (f" {html.escape(', '.join(flat))}: every feature equal, so the variance is 0 and LayerNorm "
                     "returns zeros (eps keeps the division finite).")
    else:
        what = (f"<b>BatchNorm</b> normalises each feature over all {B * T} tokens of both sentences: {d_model} "
                f"groups of {B * T} numbers (the outlined columns), statistics over the axes B and T. Its feature "
                f"means here are {np.round(x.mean(dim=(0, 1)).numpy(), 2).tolist()}; each column of its output has "
                "mean 0 and standard deviation 1.")
    return NormState(x.numpy(), layer.numpy(), batch.numpy(), kind, what)
