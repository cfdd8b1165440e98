"""Measure the memory each lesson needs, for the JupyterHub image requirements in the instructor guide.

    python -m attention_course.lesson_memory      # or: make lesson-memory

Grades every answer key, solutions/NN_name.ipynb, with the grader (one kernel per lesson, one at a time,
under the grader's default limits), and records the kernel's peak resident memory (ru_maxrss) and the run
time in book/lesson_memory.json, which the guide reads. Every answer key must get full marks, or nothing
is written. Run it after adding or changing a lesson, and commit the file. Introduced for instructors.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

from .grading import Limits, answer_keys, default_solutions, grade
from .guide import MEMORY_FILE
from .syllabus import lesson_stems


def measure(root: Path, solutions: Path, limits: Limits | None = None) -> dict:
    """stem -> {"peak_rss_mb", "seconds"} for every lesson in _toc.yml; raises if an answer key fails."""
    stems = lesson_stems(root)
    keys = answer_keys(solutions)
    paths = [solutions / f"{stem}.ipynb" for stem in stems]
    measured = {}
    for stem, path in zip(stems, paths):
        [result] = grade([path], lesson=int(stem[:2]), limits=limits or Limits(), solutions=solutions)
        if result.score != keys[int(stem[:2])].points or result.peak_memory_mb is None:
            problems = "; ".join(result.problems + [r.message for r in result.results if r.status != "passed"])
            raise RuntimeError(f"{path} did not get full marks, so it was not measured: {problems}")
        measured[stem] = {"peak_rss_mb": round(result.peak_memory_mb), "seconds": round(result.seconds, 1)}
        print(f"{stem}: peak {measured[stem]['peak_rss_mb']} MB, {measured[stem]['seconds']} s", file=sys.stderr)
    return measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the course's root folder")
    args = parser.parse_args(argv)
    solutions = args.root / "solutions" if (args.root / "solutions").is_dir() else default_solutions()
    try:
        measured = measure(args.root, solutions)
    except RuntimeError as error:
        print(f"error: {error}\nNothing was written.", file=sys.stderr)
        return 1
    record = {
        "about": "Peak resident memory (ru_maxrss) of the kernel that runs each answer key, and its run time; "
                 "written by `make lesson-memory`.",
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "lessons": measured,
    }
    path = args.root / MEMORY_FILE
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
