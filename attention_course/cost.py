"""What attention costs, measured: time, peak memory, FLOPs, sequential steps and path length. Lesson 10.

- `median_seconds` and `time_against_length` time a function robustly (warm-up, median, one thread);
  `fit_slope` fits the exponent p of cost ~ T^p on log-log axes.
- `peak_memory_bytes` reads torch's own allocation records (torch.profiler with profile_memory=True),
  including the scratch buffers a fused kernel allocates and frees inside itself.
- `layer_flops` and `layer_memory_bytes` predict the cost of each layer type of the paper's Table 1;
  `make_layer` builds those layers, each (B, T, d_model) -> (B, T, d_model).
- `graph_depth` measures sequential steps (the longest chain of dependent operations), and
  `layers_to_reach` measures the maximum path length with gradients.
- `blocked_attention` computes exact attention one block of keys at a time, never holding the T x T matrix:
  the idea behind the fused kernels of F.scaled_dot_product_attention (FlashAttention).
"""

from __future__ import annotations

import contextlib
import copy
import html
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .attention import scaled_dot_product_attention
from .multihead import MultiHeadAttention
from .self_attention import Conv1dOverTokens
from .transformer import FeedForward

LAYER_KINDS = ("self-attention", "feed-forward", "recurrent", "convolution")
FLOAT_BYTES = 4  # float32


# ---------------------------------------------------------------- time


@contextlib.contextmanager
def threads(count: int):
    """Run the block on `count` torch threads, then restore the previous number. Lesson 10."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def median_seconds(function: Callable[[], object], repeats: int = 5, num_threads: int = 1,
                   min_sample: float = 0.002) -> float:
    """Median processor seconds of one call of function(), over `repeats` samples, after a warm-up. Lesson 10.

    Robust on a shared machine: it runs on one thread by default (a second thread often waits for a core and
    the times jump), and it reads the process's processor time (time.process_time), which, unlike a
    stopwatch, does not count the moments the operating system gives the core to another program. A function
    faster than `min_sample` seconds is called several times per sample, as timeit does, and the time divided.
    Runs under torch.no_grad().
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1; got {repeats}")
    with threads(num_threads), torch.no_grad():
        start = time.process_time()
        function()  # warm up: first-call allocations, caches; and a first estimate of the time
        calls = max(1, math.ceil(min_sample / max(time.process_time() - start, 1e-7)))
        samples = []
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(calls):
                function()
            samples.append((time.process_time() - start) / calls)
    return statistics.median(samples)


def time_against_length(make_function: Callable[[int], Callable[[], object]], lengths: Sequence[int],
                        repeats: int = 5) -> np.ndarray:
    """Median seconds of make_function(T)() for each T in `lengths`, as an array. Lesson 10."""
    return np.array([median_seconds(make_function(int(T)), repeats) for T in lengths])


def fit_slope(lengths: Sequence[float], costs: Sequence[float]) -> float:
    """The exponent p of cost ~ c T^p: the slope of the least-squares line through (log T, log cost). Lesson 10."""
    x, y = np.asarray(lengths, dtype=float), np.asarray(costs, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"fit_slope needs two equally long lists of at least 2 numbers; got {x.shape} and {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0) or not np.all(np.isfinite(y)):
        raise ValueError("fit_slope needs positive lengths and costs: a log-log line cannot pass through 0")
    if np.ptp(x) == 0:
        raise ValueError("fit_slope needs at least two different lengths")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def crossover(lengths: Sequence[float], rising: Sequence[float], other: Sequence[float]) -> float | None:
    """The length at which `rising` first overtakes `other`, interpolated on log-log axes; None if never. Lesson 10.

    Both are costs measured at the same `lengths`. If `rising` is already above at the first length, that
    first length is returned.
    """
    x = np.log(np.asarray(lengths, dtype=float))
    gap = np.log(np.asarray(rising, dtype=float)) - np.log(np.asarray(other, dtype=float))  # > 0: rising is above
    for i in range(len(x)):
        if gap[i] >= 0:
            if i == 0:
                return float(lengths[0])
            share = gap[i - 1] / (gap[i - 1] - gap[i])  # where the straight line between the points crosses 0
            return float(np.exp(x[i - 1] + share * (x[i] - x[i - 1])))
    return None


# ---------------------------------------------------------------- memory


@contextlib.contextmanager
def _quiet_stderr():
    """Silence the profiler's two lines of start/stop chatter, which its C++ side writes straight to file
    descriptor 2 (Jupyter would show them under the cell)."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def allocation_events(function: Callable[[], object]) -> list[tuple[int, int]]:
    """Every allocation (+bytes) and free (-bytes) torch made on the CPU while function() ran, in time order.

    Introduced in lesson 10. They come from torch.profiler with profile_memory=True, which records each call of
    torch's CPU allocator, including buffers that a kernel allocates and frees inside itself.
    """
    from torch.profiler import ProfilerActivity, profile

    with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        function()
    events = [(e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    return [(start, nbytes) for start, nbytes in sorted(events)]


def peak_memory_bytes(function: Callable[[], object]) -> int:
    """The most memory torch held at any moment during function(), beyond what it held before. Lesson 10.

    Runs under torch.no_grad(), as inference does: nothing is kept for a backward pass.
    """
    with torch.no_grad():
        function()  # warm up, so that one-off allocations (thread pools, caches) are not counted
        events = allocation_events(function)
    held = peak = 0
    for _, nbytes in events:
        held += nbytes
        peak = max(peak, held)
    return peak


def sdpa_backend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, **kwargs) -> str:
    """The name of the kernel F.scaled_dot_product_attention runs for these inputs on this machine. Lesson 10.

    It is read from the profiler's record of the operations that ran, for example
    'aten::_scaled_dot_product_flash_attention_for_cpu' or 'aten::_scaled_dot_product_attention_math'.
    """
    from torch.nn import functional as F
    from torch.profiler import ProfilerActivity, profile

    with torch.no_grad(), _quiet_stderr(), profile(activities=[ProfilerActivity.CPU]) as prof:
        F.scaled_dot_product_attention(q, k, v, **kwargs)
    names = [e.name for e in prof.events() if e.name.startswith("aten::_scaled_dot_product")
             or e.name.startswith("aten::_efficient_attention") or e.name.startswith("aten::_flash_attention")]
    return names[0] if names else "aten::scaled_dot_product_attention (no separate kernel recorded)"


# ---------------------------------------------------------------- the layers of the paper's Table 1


class SelfAttentionLayer(nn.Module):
    """The course's MultiHeadAttention as a layer x -> output (queries, keys, values all x). Lesson 10."""

    def __init__(self, d_model: int, num_heads: int = 1, causal: bool = False):
        super().__init__()
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.causal = causal

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril() if self.causal else None  # (T, T)
        return self.attention(x, x, x, mask)[0]  # (B, T, d_model)


class RecurrentLayer(nn.Module):
    """torch's nn.RNN (tanh), batch-first, returning the hidden state at every position. Lesson 10."""

    def __init__(self, d_model: int):
        super().__init__()
        self.rnn = nn.RNN(d_model, d_model, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]  # (B, T, d_model): h_t for every t


def make_layer(kind: str, d_model: int, num_heads: int = 1, kernel_size: int = 3, seed: int = 0) -> nn.Module:
    """A layer of the given kind, (B, T, d_model) -> (B, T, d_model), seeded, in eval mode. Lesson 10.

    kind: 'self-attention' (the course's MultiHeadAttention), 'feed-forward' (d_ff = 4 d_model), 'recurrent'
    (nn.RNN) or 'convolution' (nn.Conv1d over the tokens, zero padding).
    """
    builders = {
        "self-attention": lambda: SelfAttentionLayer(d_model, num_heads),
        "feed-forward": lambda: FeedForward(d_model, 4 * d_model, dropout=0.0),
        "recurrent": lambda: RecurrentLayer(d_model),
        "convolution": lambda: Conv1dOverTokens(d_model, d_model, kernel_size),
    }
    if kind not in builders:
        raise ValueError(f"kind must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    with torch.random.fork_rng():  # seeded without disturbing the caller's random stream
        torch.manual_seed(seed)
        return builders[kind]().eval()


def attention_flops(T: int, d_model: int) -> int:
    """FLOPs of one multi-head self-attention layer's matrix products (a multiply-add is 2). Lesson 10.

    Projections W_Q, W_K, W_V, W_O: 4 x 2 T d_model^2; scores Q K^T: 2 T^2 d_model; mixing A V: 2 T^2 d_model
    (summed over the heads, h d_k = d_model, so the count does not depend on h).
    """
    return 8 * T * d_model**2 + 4 * T**2 * d_model


def layer_flops(kind: str, T: int, d_model: int, kernel_size: int = 3) -> int:
    """FLOPs of one layer's matrix products and convolutions, for one sequence of T tokens. Lesson 10."""
    formulas = {
        "self-attention": lambda: attention_flops(T, d_model),
        "feed-forward": lambda: 2 * 2 * T * d_model * (4 * d_model),  # two products with the d_ff = 4 d_model layer
        "recurrent": lambda: 2 * 2 * T * d_model**2,  # every step: x_t W_ih and h_{t-1} W_hh
        "convolution": lambda: 2 * kernel_size * T * d_model**2,  # one d_model x d_model product per kernel offset
    }
    if kind not in formulas:
        raise ValueError(f"kind must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    return int(formulas[kind]())


def layer_memory_bytes(kind: str, T: int, d_model: int, num_heads: int = 1) -> int:
    """Predicted peak memory of one forward pass (float32, no gradients), from the tensors it must hold. Lesson 10.

    self-attention (the course's): Q, K, V and the heads' output, 4 T d_model, plus the scores and the weights,
    which exist together while the softmax runs: 2 h T^2. feed-forward: the hidden layer before and after the
    ReLU, 2 x 4 T d_model. recurrent and convolution: their output, T d_model (copies and workspaces come on
    top, a small multiple of T d_model).
    """
    floats = {
        "self-attention": 4 * T * d_model + 2 * num_heads * T * T,
        "feed-forward": 2 * 4 * T * d_model,
        "recurrent": T * d_model,
        "convolution": T * d_model,
    }
    if kind not in floats:
        raise ValueError(f"kind must be one of {', '.join(LAYER_KINDS)}; got {kind!r}")
    return FLOAT_BYTES * floats[kind]


# ---------------------------------------------------------------- sequential steps and path length


def graph_depth(output: torch.Tensor) -> int:
    """The longest chain of operations in output's autograd graph, each waiting for the one before. Lesson 10.

    Operations on one chain cannot run at the same time, whatever the number of cores: this is the number of
    sequential steps. output must have been computed from a tensor with requires_grad=True.
    """
    if output.grad_fn is None:
        raise ValueError("output has no autograd graph: compute it from an input with requires_grad=True")
    depth: dict = {}
    stack = [(output.grad_fn, False)]
    while stack:  # an explicit stack, not recursion: a recurrent graph is thousands of nodes deep
        node, children_done = stack.pop()
        if node in depth:
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if children_done:
            depth[node] = 1 + max((depth[child] for child in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if child not in depth)
    return depth[output.grad_fn]


def reaches(layers: Sequence[Callable], x: torch.Tensor, source: int = 0, target: int = -1) -> bool:
    """Whether the output of the stack `layers` at position `target` depends on the input at `source`. Lesson 10.

    x is (1, T, d). It depends when the gradient of that output with respect to that input is not all zero.
    """
    x = x.detach().clone().requires_grad_(True)
    y = x
    for layer in layers:
        y = layer(y)
    (gradient,) = torch.autograd.grad(y[0, target].sum(), x, allow_unused=True)
    return gradient is not None and bool(gradient[0, source].abs().sum() > 0)


def layers_to_reach(layers: Sequence[Callable], x: torch.Tensor, source: int = 0, target: int = -1) -> int | None:
    """The fewest layers of the stack after which the output at `target` depends on the input at `source`.

    Introduced in lesson 10: the maximum path length of the paper's Table 1, in layers, measured with gradients.
    None if the whole stack is not enough.
    """
    for n in range(1, len(layers) + 1):
        if reaches(layers[:n], x, source, target):
            return n
    return None


def dependence_on_first(layer: Callable, x: torch.Tensor) -> float:
    """How strongly the last output of `layer` depends on the first input: ||d y_{T-1} / d x_0||. Lesson 10.

    The Frobenius norm of the d_out x d_in Jacobian block, x of shape (1, T, d), computed in float64 on a copy
    of the layer. Along a long path this norm is a product of many factors, and fades.
    """
    layer = copy.deepcopy(layer).double()  # float64: a fading dependence stays visible down to 1e-300
    x = x.detach().double()

    def last_output(first: torch.Tensor) -> torch.Tensor:
        return layer(torch.cat([first[None, None], x[:, 1:]], dim=1))[0, -1]  # (d_out,)

    jacobian = torch.autograd.functional.jacobian(last_output, x[0, 0])  # (d_out, d_in)
    return float(jacobian.norm())


# ---------------------------------------------------------------- attention without the T x T matrix


def blocked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, block_size: int = 128) -> torch.Tensor:
    """softmax(q k^T / sqrt(d_k)) v, one block of keys at a time, with a running softmax. Lesson 10.

    q (..., T_q, d_k), k (..., T_k, d_k), v (..., T_k, d_v). The largest intermediate is (..., T_q, block_size),
    never (..., T_q, T_k). Per query it keeps the largest score so far m, the denominator so far (the sum of
    exp(score - m)) and the numerator so far (the sum of exp(score - m) v); when a block raises m, both are
    rescaled by exp(m_old - m_new). At the end, numerator / denominator is exactly the softmax-weighted average.
    """
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1; got {block_size}")
    scale = 1 / math.sqrt(q.size(-1))
    m = torch.full(q.shape[:-1] + (1,), float("-inf"), dtype=q.dtype)  # (..., T_q, 1): largest score so far
    denominator = torch.zeros(q.shape[:-1] + (1,), dtype=q.dtype)  # (..., T_q, 1)
    numerator = torch.zeros(q.shape[:-1] + v.shape[-1:], dtype=q.dtype)  # (..., T_q, d_v)
    for start in range(0, k.size(-2), block_size):
        k_block = k[..., start:start + block_size, :]  # (..., b, d_k)
        v_block = v[..., start:start + block_size, :]  # (..., b, d_v)
        scores = q @ k_block.transpose(-2, -1) * scale  # (..., T_q, d_k) @ (..., d_k, b) -> (..., T_q, b)
        m_new = torch.maximum(m, scores.amax(dim=-1, keepdim=True))  # (..., T_q, 1)
        p = torch.exp(scores - m_new)  # (..., T_q, b): this block's weights, not yet normalised
        rescale = torch.exp(m - m_new)  # (..., T_q, 1): the old sums, re-expressed under the new maximum
        denominator = denominator * rescale + p.sum(dim=-1, keepdim=True)
        numerator = numerator * rescale + p @ v_block  # (..., T_q, b) @ (..., b, d_v) -> (..., T_q, d_v)
        m = m_new
    return numerator / denominator


def naive_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The course's scaled_dot_product_attention, output only: it builds the whole T_q x T_k matrix. Lesson 10."""
    return scaled_dot_product_attention(q, k, v)[0]


# ---------------------------------------------------------------- the state behind this lesson's widget

COST_LENGTHS = tuple(2**i for i in range(4, 13))  # 16 ... 4096


COST_WIDTHS = (32, 64, 128, 256, 512)


@dataclass(frozen=True)
class CostState:
    """Everything the cost widget shows for one length T and width d_model. Lesson 10."""

    T: int
    d_model: int
    flops: dict  # layer kind -> predicted FLOPs of one forward pass ({} when the input was not valid)
    memory: dict  # layer kind -> predicted peak bytes
    seconds: dict  # layer kind -> measured median seconds on this machine ({} when not measured)
    measured_bytes: dict  # layer kind -> measured peak bytes
    message: str  # one plain HTML paragraph and table, or what is wrong with the input


_COST_MEASUREMENTS: dict = {}  # (kind, T, d_model) -> (seconds, bytes): a setting is measured once per session


def _cost_measurement(kind: str, T: int, d_model: int) -> tuple[float, int]:
    """(median seconds, peak bytes) of one forward pass of a `kind` layer on this machine, remembered."""
    key = (kind, T, d_model)
    if key not in _COST_MEASUREMENTS:
        layer = make_layer(kind, d_model)
        x = torch.randn(1, T, d_model, generator=torch.Generator().manual_seed(0))  # (B, T, d_model)
        repeats = 3 if layer_flops(kind, T, d_model) < 2e9 else 1  # big settings take a second a run
        _COST_MEASUREMENTS[key] = (median_seconds(lambda: layer(x), repeats=repeats),
                                   peak_memory_bytes(lambda: layer(x)))
    return _COST_MEASUREMENTS[key]


def _size_text(nbytes: float) -> str:
    return f"{nbytes / 2**20:.3g} MiB" if nbytes >= 2**20 else f"{nbytes / 2**10:.3g} KiB"


def cost_state(T, d_model, measure: bool = True) -> CostState:
    """Predicted FLOPs and memory of each layer kind at (T, d_model), and, if `measure`, what this machine measures
    (one thread, batch 1, float32). Lesson 10."""
    def bad(message: str) -> CostState:
        return CostState(0, 0, {}, {}, {}, {}, message)

    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= COST_LENGTHS[-1]:
        return bad(f"T must be a whole number from 1 to {COST_LENGTHS[-1]}; got {html.escape(repr(T))}.")
    if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or not 1 <= d_model <= 1024:
        return bad(f"d_model must be a whole number from 1 to 1024; got {html.escape(repr(d_model))}.")
    T, d_model = int(T), int(d_model)
    flops = {kind: layer_flops(kind, T, d_model) for kind in LAYER_KINDS}
    memory = {kind: layer_memory_bytes(kind, T, d_model) for kind in LAYER_KINDS}
    seconds, measured = {}, {}
    if measure:
        for kind in LAYER_KINDS:
            seconds[kind], measured[kind] = _cost_measurement(kind, T, d_model)
    rows = []
    for kind in LAYER_KINDS:
        cells = [kind, f"{flops[kind] / 1e9:.3g}", _size_text(memory[kind])]
        if measure:
            cells += [_size_text(measured[kind]), f"{seconds[kind] * 1e3:.3g} ms"]
        rows.append("<tr>" + "".join(f"<td style='padding:0 10px'>{cell}</td>" for cell in cells) + "</tr>")
    header = ["layer", "GFLOPs", "memory, predicted"] + (["memory, measured", "time, measured"] if measure else [])
    heaviest = max(flops, key=flops.get)
    message = (f"<b>T = {T}, d_model = {d_model}</b>: one forward pass of each layer, batch 1, float32"
               f"{', measured on this machine on one thread' if measure else ''}. Most FLOPs: <b>{heaviest}</b>."
               "<table><tr>" + "".join(f"<th style='padding:0 10px'>{h}</th>" for h in header) + "</tr>"
               + "".join(rows) + "</table>")
    return CostState(T, d_model, flops, memory, seconds, measured, message)
