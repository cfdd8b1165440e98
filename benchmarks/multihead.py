"""Time the course's MultiHeadAttention against torch.nn.MultiheadAttention, and print the ratio.

    python benchmarks/multihead.py            # B=32, T=128, d_model=256, h=8, on the CPU

Both run the same self-attention forward pass with the same weights, in eval mode, and both return the
attention weights (torch averages them over heads by default; the course returns them per head). The
median of repeated runs is reported, since a shared machine is noisy. Target (lesson 6): ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from attention_course.multihead import MultiHeadAttention


def median_seconds(functions: dict, repeats: int) -> dict:
    """Median time of each function; the functions take turns, so both see the same machine load."""
    for function in functions.values():
        function()  # warm up: allocations, thread pool
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def compare(batch: int = 32, length: int = 128, d_model: int = 256, heads: int = 8, repeats: int = 30) -> float:
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(d_model, heads, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(theirs).eval()
    x = torch.randn(batch, length, d_model)  # (B, T, d_model)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, x, x)[0], theirs(x, x, x)[0], atol=1e-5, rtol=1e-5)
        medians = median_seconds({"ours": lambda: ours(x, x, x), "theirs": lambda: theirs(x, x, x)}, repeats)
    t_ours, t_theirs = medians["ours"], medians["theirs"]
    print(f"B={batch} T={length} d_model={d_model} h={heads}, {torch.get_num_threads()} threads, "
          f"median of {repeats} runs")
    print(f"course MultiHeadAttention: {t_ours * 1e3:7.2f} ms")
    print(f"torch nn.MultiheadAttention: {t_theirs * 1e3:5.2f} ms")
    print(f"ratio (course / torch): {t_ours / t_theirs:.2f}")
    return t_ours / t_theirs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    compare(repeats=parser.parse_args().repeats)
