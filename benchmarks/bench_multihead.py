"""The course's MultiHeadAttention against torch.nn.MultiheadAttention, forward pass (lesson 6).

    python benchmarks/bench_multihead.py            # B=32, T=128, d_model=256, h=8, on the CPU
    python benchmarks/bench_multihead.py --repeats 50

Both run the same self-attention forward pass with the same weights, in eval mode, under torch.no_grad(), and
both return the attention weights (torch averages them over heads by default; the course returns them per head).
The median of repeated runs is reported, since a shared machine is noisy. Target (lesson 6): ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, row  # after the path is set

from attention_course.multihead import MultiHeadAttention

SIZES = {"batch": 32, "length": 128, "d_model": 256, "heads": 8}


def compare(batch: int = 32, length: int = 128, d_model: int = 256, heads: int = 8, repeats: int = 30) -> dict:
    """Median seconds of both layers' forward pass, after checking that they compute the same output."""
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(d_model, heads, batch_first=True).eval()
    ours = MultiHeadAttention.from_torch(theirs).eval()
    x = torch.randn(batch, length, d_model)  # (B, T, d_model)
    with torch.no_grad():
        torch.testing.assert_close(ours(x, x, x)[0], theirs(x, x, x)[0], atol=1e-5, rtol=1e-5)
        return median_seconds({"course": lambda: ours(x, x, x), "torch": lambda: theirs(x, x, x)}, repeats)


def run(repeats: int = 30) -> list[dict]:
    medians = compare(repeats=repeats, **SIZES)
    size = ", ".join(f"{key}={value}" for key, value in SIZES.items())
    return [row(f"multi-head attention forward ({size})", medians["course"], medians["torch"],
                f"nn.MultiheadAttention; median of {repeats}; {torch.get_num_threads()} threads; target ratio <= 1.5")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    result = run(parser.parse_args().repeats)[0]
    print(result["name"])
    print(f"course MultiHeadAttention:   {result['course_s'] * 1e3:7.2f} ms")
    print(f"torch nn.MultiheadAttention: {result['torch_s'] * 1e3:7.2f} ms")
    print(f"ratio (course / torch): {result['ratio']:.2f}")
