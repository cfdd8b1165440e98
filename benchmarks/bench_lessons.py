"""How long each lesson takes to execute from top to bottom, kernel start included (target: 90 s each).

Each notebook in solutions/ (every exercise solved, so every cell does its full work) is executed with nbclient
in this environment's Python kernel, from solutions/ as working directory, BENCH_REPEATS times (default 3); the
median is reported, with the slowest single cell (from nbclient's timing metadata), which is what the cell
timeouts are sized from. There is no torch counterpart.

On its own it also measures beside busy processes, as on a shared runner or a learner's busy laptop:

    python benchmarks/bench_lessons.py                   # quiet
    python benchmarks/bench_lessons.py --load 2          # beside two `while True: pass` processes
    python benchmarks/bench_lessons.py --only 09 --repeats 1
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbclient
import nbformat

from coursekit import execution

execution.install()  # else a widget cell may stand still until its timeout (coursekit/execution.py)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import repeats, row  # after the path is set

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0


def execute(path: Path) -> tuple[float, float]:
    """(seconds to start a kernel and run every cell of the notebook at `path`, seconds of its slowest cell)."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=True,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute(stderr=subprocess.DEVNULL)  # the kernel's start-up chatter; cell errors still raise
    total = time.perf_counter() - start
    return total, max((_cell_seconds(cell) for cell in notebook.cells if cell.cell_type == "code"), default=0.0)


def _cell_seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    begin, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (begin and end):
        return 0.0
    return (dt.datetime.fromisoformat(end.rstrip("Z")) - dt.datetime.fromisoformat(begin.rstrip("Z"))).total_seconds()


def measure(paths: list[Path], count: int) -> list[tuple[str, list[float], float]]:
    """(lesson, its total times, its slowest cell over every run) for each notebook."""
    found = []
    for path in paths:
        runs = [execute(path) for _ in range(count)]
        found.append((path.stem, [total for total, _ in runs], max(cell for _, cell in runs)))
    return found


def lessons(only: str = "") -> list[Path]:
    return [p for p in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")) if p.stem.startswith(only)]


def run() -> list[dict]:
    count = repeats(3)
    rows = []
    for stem, times, slowest in measure(lessons(), count):
        median = statistics.median(times)
        verdict = "within" if median <= TARGET_S else "OVER"
        rows.append(row(f"execute lesson {stem}", median, None,
                        f"median of {count} (min {min(times):.1f} s, max {max(times):.1f} s; slowest cell "
                        f"{slowest:.1f} s); {verdict} the {TARGET_S:.0f} s target"))
    return rows


@contextlib.contextmanager
def busy(count: int):
    """`count` processes that keep a core busy each, for as long as the block runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--load", type=int, default=0, help="busy processes to run beside the lessons")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each lesson (the median is shown)")
    parser.add_argument("--only", default="", help="lessons whose name starts with this, e.g. 09")
    args = parser.parse_args(argv)
    with busy(args.load):
        found = measure(lessons(args.only), args.repeats)
    print(f"| lesson | median s ({args.repeats} runs, beside {args.load} busy) | min–max s | slowest cell s |")
    print("|---|---|---|---|")
    for stem, times, slowest in found:
        print(f"| {stem} | {statistics.median(times):.1f} | {min(times):.1f}–{max(times):.1f} | {slowest:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
