"""Run every benchmarks/bench_*.py and print one table: the course's performance claims, measured.

    python benchmarks/run_all.py                       # everything (make bench)
    python benchmarks/run_all.py --only attention      # the modules whose name contains "attention"
    python benchmarks/run_all.py --json out.json --markdown out.md
    BENCH_REPEATS=1 python benchmarks/run_all.py       # slow measurements (lessons) once instead of 3 times

Each bench_*.py module defines `run() -> list[dict]`, rows with the keys name, course_s, torch_s, ratio, note
(see common.py). Modules run in alphabetical order; a module that fails gives a row saying why, the others
still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import ROW_KEYS, row  # after the path is set


def discover(only: str | None = None, folder: Path = HERE) -> list[Path]:
    """The benchmark modules of `folder`, sorted by name; `only` keeps those whose name contains it."""
    return [path for path in sorted(folder.glob("bench_*.py")) if not only or only in path.stem]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"benchmarks_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check_rows(rows, path: Path) -> list[dict]:
    if not isinstance(rows, list) or not rows:
        raise TypeError(f"{path.name}: run() must return a non-empty list of rows; got {type(rows).__name__}")
    for r in rows:
        if not isinstance(r, dict) or set(r) != set(ROW_KEYS):
            raise TypeError(f"{path.name}: each row must be a dict with exactly the keys {', '.join(ROW_KEYS)}; "
                            f"got {r!r}")
        for key in ("course_s", "torch_s", "ratio"):
            value = r[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value)):
                raise TypeError(f"{path.name}: {key} must be a number of seconds or None; got {value!r}")
    return rows


def run_module(path: Path) -> tuple[list[dict], bool]:
    """(rows, ok): the module's rows, or one row saying why it failed."""
    start = time.perf_counter()
    try:
        rows = _check_rows(_load(path).run(), path)
    except Exception as error:  # noqa: BLE001 - one failing benchmark must not hide the others
        return [row(path.stem, None, None, f"FAILED: {type(error).__name__}: {error}")], False
    print(f"  {path.name}: {len(rows)} row(s) in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    return rows, True


def machine() -> str:
    """One line about where the figures come from."""
    return (f"{datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} CPU cores, torch "
            f"{torch.__version__} ({torch.get_num_threads()} threads), Python {platform.python_version()}, "
            f"{'CUDA' if torch.cuda.is_available() else 'no GPU'}")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.1f} s"


def _cells(r: dict) -> list[str]:
    ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
    return [r["name"], _seconds(r["course_s"]), _seconds(r["torch_s"]), ratio, r["note"]]


HEADER = ["benchmark", "course", "torch", "course/torch", "note"]


def text_table(rows: list[dict]) -> str:
    lines = [HEADER] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                             for i, (cell, width) in enumerate(zip(line[:4], widths))) + "  " + line[4])
        if n == 0:
            out.append("-" * (sum(widths) + 8 + len(HEADER[4])))
    return "\n".join(out)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _cells(r)) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="run only the modules whose name contains this text")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--markdown", type=Path, help="also write the table to this Markdown file")
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and stop")
    args = parser.parse_args(argv)
    paths = discover(args.only)
    if args.list or not paths:
        print("\n".join(path.name for path in paths) or f"no benchmark module matches {args.only!r}")
        return 0 if paths else 1
    print(f"running {len(paths)} benchmark module(s): {', '.join(p.stem for p in paths)}", file=sys.stderr)
    rows, ok = [], True
    for path in paths:
        module_rows, module_ok = run_module(path)
        rows += module_rows
        ok &= module_ok
    where = machine()
    print(f"\n{where}\n")
    print(text_table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": where, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(f"Measured {where}.\n\n{markdown_table(rows)}\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
