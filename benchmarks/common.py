"""What the benchmark modules share: interleaved median timing and the row format of run_all.py.

Every benchmarks/bench_*.py defines `run() -> list[dict]`, one dict per figure, with exactly the keys
ROW_KEYS: name (str), course_s (seconds, float or None), torch_s (seconds, float or None), ratio (course_s /
torch_s, or None), note (str). `row()` builds one. run_all.py puts this folder on sys.path, so a benchmark
module can `from common import median_seconds, row`.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

ROW_KEYS = ("name", "course_s", "torch_s", "ratio", "note")


def row(name: str, course_s: float | None, torch_s: float | None = None, note: str = "") -> dict:
    """One row of the table; the ratio is course / torch when both times are known."""
    ratio = course_s / torch_s if course_s is not None and torch_s else None
    return {"name": name, "course_s": course_s, "torch_s": torch_s, "ratio": ratio, "note": note}


def median_seconds(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall-clock seconds of each function. They take turns, so that all see the same machine load."""
    for function in functions.values():
        function()  # warm up: allocations, thread pool, caches
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def repeats(default: int) -> int:
    """How many times to repeat a slow measurement: BENCH_REPEATS in the environment, else `default`."""
    value = os.environ.get("BENCH_REPEATS", "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"BENCH_REPEATS must be a whole number from 1 up; got {value!r}")
    return int(value)
