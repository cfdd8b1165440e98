"""How the exercise checks answer the wrong answers a learner would write: the table issue 15 asked for.

    python -m coursekit.check_mutants              # per lesson: mutants, rejected, with a specific message
    python -m coursekit.check_mutants --per-check  # the same per check, and each generic message

The wrong answers are the tests' own: WRONG in tests/test_checks_lessonNN.py (one mistake each, written as a
learner would write it), and one more per check whose inputs are arrays or tensors: the solution, followed
by a write into its inputs. A mutant is "rejected" when the check raises CheckFailed, and "specific" when
its sentence names the mistake rather than the fallback "gave ..., expected ..." (CheckFailed.specific).
tests/test_checks_contract.py asserts that every mutant is rejected with the words it needs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def mutants() -> list[tuple[int, str, object]]:
    """(lesson, check name, wrong answer) for every mutant the tests hold, the in-place ones included."""
    sys.path.insert(0, str(ROOT / "tests"))
    from check_helpers import writes_into_its_inputs

    from attention_course import checks

    found = []
    for number in sorted(checks.LESSONS):
        tests = importlib.import_module(f"test_checks_lesson{number:02d}")
        found += [(number, name, answer) for name, answer, _ in tests.WRONG]
        found += [(number, name, writes_into_its_inputs(solution)) for name, solution in sorted(tests.SOLUTIONS.items())
                  if name not in tests.NO_DATA_INPUTS]
    return found


def verdict(name: str, answer) -> tuple[str, str]:
    """('specific', 'generic' or 'accepted', the message): what checks.<name> does with `answer`."""
    from attention_course import checks

    with contextlib.redirect_stdout(io.StringIO()) as printed, np.errstate(all="ignore"):
        try:
            getattr(checks, name)(answer)
        except checks.CheckFailed as failure:
            return ("specific" if failure.specific else "generic"), str(failure)
    return "accepted", printed.getvalue().strip()


def table(rows: list[tuple[str, Counter]], first: str) -> str:
    lines = [f"| {first} | mutants | rejected | with a specific message |", "|---|---|---|---|"]
    for label, count in rows:
        total = sum(count.values())
        lines.append(f"| {label} | {total} | {total - count['accepted']} | {count['specific']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.check_mutants", description=__doc__.split("\n")[0])
    parser.add_argument("--per-check", action="store_true", help="one row per check, and each generic message")
    args = parser.parse_args(argv)
    by_lesson, by_check, unnamed = {}, {}, []
    for number, name, answer in mutants():
        outcome, message = verdict(name, answer)
        by_lesson.setdefault(number, Counter())[outcome] += 1
        by_check.setdefault((number, name), Counter())[outcome] += 1
        if outcome != "specific":
            unnamed.append(f"- {number}: `{name}`, {outcome}: {message}")
    total = sum(by_lesson.values(), Counter())
    rows = [(f"{number}", count) for number, count in by_lesson.items()] + [(f"all {len(by_check)} checks", total)]
    print(table(rows, "lesson"))
    if args.per_check:
        print()
        print(table([(f"{number}: `{name}`", count) for (number, name), count in by_check.items()], "check"))
        print("\nThe mutants without a specific message:\n" + "\n".join(unnamed))
    return 1 if total["accepted"] else 0


if __name__ == "__main__":
    sys.exit(main())
