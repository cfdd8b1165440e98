"""Time the grader on a generated class: 30 submissions of one lesson, correct, wrong and broken.

    python benchmarks/bench_grade.py [--lesson 6] [--jobs 2]

The class: 12 answer keys, 6 untouched learner notebooks, 6 with one wrong answer (a function that returns
None, or raises), and 6 broken ones (invalid JSON, an infinite loop, os._exit, sys.exit, megabytes of
output, a cell that rebinds a check). They are graded as an instructor would, with the grader's default
limits. The run also checks the grades: every answer key full marks, every learner notebook zero, each
wrong answer exactly one failed exercise. Target (issue: instructors): the class in at most 600 s on a
2-core machine. `run()` returns rows for benchmarks/run_all.py.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from attention_course import grading

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 600
BROKEN = {
    "loop": "while True:\n    pass",
    "os_exit": "import os\nos._exit(1)",
    "sys_exit": "import sys\nsys.exit(1)",
    "prints": "for _ in range(300):\n    print('x' * 10_000)",
    "rebinds_check": "checks.{check} = lambda f: print('✔')",
}


def make_class(folder: Path, key: grading.AnswerKey) -> dict[str, str]:
    """Write the 30 notebooks; returns file stem -> what it is ("correct", "blank", "wrong", "broken")."""
    solution = ROOT / "solutions" / f"{key.stem}.ipynb"
    kinds = {}
    for i in range(12):
        shutil.copy(solution, folder / f"correct_{i:02d}.ipynb")
        kinds[f"correct_{i:02d}"] = "correct"
    for i in range(6):
        shutil.copy(ROOT / "lessons" / f"{key.stem}.ipynb", folder / f"blank_{i:02d}.ipynb")
        kinds[f"blank_{i:02d}"] = "blank"
    for i in range(6):
        exercise = key.exercises[i % len(key.exercises)]
        nb = nbformat.read(solution, as_version=4)
        cell = next(c for c in nb.cells if f"def {exercise.function}(" in c.source)
        body = "return None" if i % 2 == 0 else "raise ValueError('shapes do not match')"
        cell.source = f"def {exercise.function}(*args, **kwargs):\n    {body}\n"
        nbformat.write(nb, folder / f"wrong_{i:02d}.ipynb")
        kinds[f"wrong_{i:02d}"] = "wrong"
    (folder / "broken_json.ipynb").write_text(solution.read_text(encoding="utf-8")[:1000], encoding="utf-8")
    kinds["broken_json"] = "broken"
    for name, code in BROKEN.items():
        nb = nbformat.read(solution, as_version=4)
        position = next(i for i, c in enumerate(nb.cells) if c.source.startswith("checks."))
        nb.cells.insert(position + 1, nbformat.v4.new_code_cell(code.format(check=key.exercises[-1].check)))
        nbformat.write(nb, folder / f"broken_{name}.ipynb")
        kinds[f"broken_{name}"] = "broken"
    return kinds


def verify(results: list[grading.SubmissionResult], kinds: dict[str, str], key: grading.AnswerKey) -> list[str]:
    """What is wrong with the grades, if anything."""
    wrong = []
    for result in results:
        kind = kinds[result.path.stem]
        failed = [r for r in result.results if r.status != "passed"]
        if kind == "correct" and result.score != key.points:
            wrong.append(f"{result.path.stem}: {result.score}/{key.points}")
        elif kind == "blank" and any(r.status != "not attempted" for r in result.results):
            wrong.append(f"{result.path.stem}: not all 'not attempted'")
        elif kind == "wrong" and (len(failed) != 1 or failed[0].status != "failed"):
            wrong.append(f"{result.path.stem}: {[(r.exercise.number, r.status) for r in failed]}")
        elif kind == "broken" and not result.problems:
            wrong.append(f"{result.path.stem}: no problem reported")
    return wrong


def run(lesson: int = 6, jobs: int = 2) -> list[dict]:
    keys = grading.answer_keys(ROOT / "solutions")
    key = keys[lesson if lesson in keys else min(keys)]
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as folder:
        kinds = make_class(Path(folder), key)
        paths = sorted(Path(folder).glob("*.ipynb"))
        start = time.perf_counter()
        try:
            results = grading.grade(paths, lesson=key.lesson, jobs=jobs)
        except grading.GradingAborted as error:  # e.g. the course's files were edited during the run
            return [{"name": f"grade 30 submissions of lesson {key.lesson:02d}", "course_s": None, "torch_s": None,
                     "ratio": None, "note": f"WRONG: grading stopped: {error}"}]
        seconds = time.perf_counter() - start
    problems = verify(results, kinds, key)
    per_notebook = statistics.median(r.seconds for r in results if r.seconds)
    verdict = "grades as expected" if not problems else "WRONG GRADES: " + "; ".join(problems)
    return [{
        "name": f"grade 30 submissions of lesson {key.lesson:02d}, {jobs} at a time",
        "course_s": round(seconds, 1), "torch_s": None, "ratio": None,
        "note": (f"12 correct, 6 blank, 6 wrong, 6 broken; median {per_notebook:.1f} s per notebook; target "
                 f"<= {TARGET_SECONDS} s ({'met' if seconds <= TARGET_SECONDS else 'MISSED'}); {verdict}"),
    }]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lesson", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for row in run(args.lesson, args.jobs):
        print(f"{row['name']}: {row['course_s']} s. {row['note']}")
        if "WRONG" in row["note"] or "MISSED" in row["note"]:
            sys.exit(1)
