"""How long each lesson takes to execute from top to bottom, kernel start included (target: 90 s; lesson 9, 180 s).

Each notebook in solutions/ (every exercise solved, so every cell does its full work) is executed with nbclient
in this environment's Python kernel, from solutions/ as working directory, BENCH_REPEATS times (default 3); the
median is reported. There is no torch counterpart.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbclient
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import repeats, row  # after the path is set

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0
LONGER_TARGETS_S = {"09_encoder_decoder": 180.0}  # lesson 9 trains the whole model in its own cells


def execute_seconds(path: Path) -> float:
    """Seconds to start a kernel and run every cell of the notebook at `path` (an error fails loudly)."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up chatter; cell errors still raise
    return time.perf_counter() - start


def run() -> list[dict]:
    count = repeats(3)
    rows = []
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        times = [execute_seconds(path) for _ in range(count)]
        median = statistics.median(times)
        target = LONGER_TARGETS_S.get(path.stem, TARGET_S)
        verdict = "within" if median <= target else "OVER"
        rows.append(row(f"execute lesson {path.stem}", median, None,
                        f"median of {count} (min {min(times):.1f} s, max {max(times):.1f} s); {verdict} the "
                        f"{target:.0f} s target"))
    return rows
