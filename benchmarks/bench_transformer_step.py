"""One training step of the course's Transformer against the same model built on torch's nn.Transformer.

    python benchmarks/bench_transformer_step.py

Both models have the same weights (Transformer.from_torch) and see the same batch of date-task
examples at the lesson's size (d_model 64, 4 heads, 2 + 2 layers, d_ff 256, batch 64), single-threaded
as the lesson trains. A step is forward, loss, backward and an Adam update. The two take turns, and the
median of the repeats is reported, since a shared machine is noisy. Target (lesson 9): ratio <= 1.5.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from attention_course import dates
from attention_course.transformer import TorchTransformer, Transformer


def training_step(model, optimizer, src, tgt_in, tgt):
    def step():
        loss = F.cross_entropy(model(src, tgt_in).flatten(0, 1), tgt.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def compare(repeats: int = 40, config: dates.Config | None = None) -> tuple[float, float]:
    """Median seconds per training step: (course, torch)."""
    config = config or dates.Config()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        reference = TorchTransformer(len(dates.SOURCE_VOCAB), len(dates.TARGET_VOCAB),
                                     max_len=dates.MAX_SOURCE_LENGTH + 2, **config.model_arguments())
        ours = Transformer.from_torch(reference)
        src, tgt = dates.batch(dates.sample(config.batch_size, 0, "train"))
        tgt_in = dates.shift_right(tgt)
        steps = {name: training_step(model, torch.optim.Adam(model.parameters(), lr=1e-4), src, tgt_in, tgt)
                 for name, model in (("course", ours), ("torch", reference))}
        times = {name: [] for name in steps}
        for step in steps.values():
            step()  # warm up
        for _ in range(repeats):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return statistics.median(times["course"]), statistics.median(times["torch"])


def run() -> list[dict]:
    course, reference = compare()
    return [{"name": "Transformer training step (lesson 9 size)", "course_s": course, "torch_s": reference,
             "ratio": course / reference, "note": "target <= 1.5; forward + backward + Adam, batch 64, 1 thread"}]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: course {row['course_s'] * 1e3:.1f} ms, torch {row['torch_s'] * 1e3:.1f} ms, "
              f"ratio {row['ratio']:.2f}")
