"""The course's scaled_dot_product_attention against F.scaled_dot_product_attention, forward pass (lessons 2, 10).

The course's version builds the whole (T, T) matrix of weights and returns it; torch's runs a fused kernel
(on a CPU, its flash-attention kernel) that never stores it. Same inputs, same outputs (checked first).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import median_seconds, row  # after the path is set

from attention_course import cost
from attention_course.attention import scaled_dot_product_attention
from attention_course.masking import causal_mask

CASES = [  # (B, h, T, d_k, causal)
    (8, 8, 256, 64, False),
    (1, 1, 4096, 64, False),
    (8, 8, 256, 64, True),
]


def run(repeats: int = 15) -> list[dict]:
    rows = []
    for B, h, T, d_k, causal in CASES:
        torch.manual_seed(0)
        q, k, v = (torch.randn(B, h, T, d_k) for _ in range(3))  # (B, h, T, d_k)
        mask = causal_mask(T) if causal else None
        with torch.no_grad():
            ours = scaled_dot_product_attention(q, k, v, mask)[0]
            torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=causal),
                                       atol=1e-5, rtol=1e-4)
            medians = median_seconds({
                "course": lambda: scaled_dot_product_attention(q, k, v, mask),  # noqa: B023 - run in this loop
                "torch": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal),  # noqa: B023
            }, repeats)
        backend = cost.sdpa_backend(q, k, v, is_causal=causal).removeprefix("aten::")
        what = "causal " if causal else ""
        rows.append(row(f"{what}attention forward (B={B}, h={h}, T={T}, d_k={d_k})", medians["course"],
                        medians["torch"], f"torch runs {backend}; median of {repeats}; "
                        f"{torch.get_num_threads()} threads"))
    return rows
