"""Grade learners' notebooks: run each one in a fresh kernel and check every exercise with the course's checks.

    python -m attention_course.grade SUBMISSION.ipynb ... [--lesson NN] [--timeout S] [--format table|csv|json]
    make grade SUBMISSIONS="submitted/*.ipynb" [LESSON=06] [FORMAT=csv]

A SUBMISSION may also be a folder: every .ipynb under it is graded (nbgrader's submitted/STUDENT/ASSIGNMENT/
layout works as it is). Each exercise is "passed", "failed" (with the check's sentence), "not attempted"
or "error"; points come from the answer key, solutions/NN_name.ipynb (nbgrader's `points`). The report has
one row per student and exercise, then the totals; problems with a notebook as a whole (a cell that timed
out or killed the kernel, a wrong lesson, invalid JSON, ...) are listed under the totals.

The grader runs the learners' code with your rights. It is not a sandbox: for code you do not trust, run it
in a container or on a JupyterHub with one isolated server per user. See the book's instructor guide.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from .grading import STATUSES, GradingAborted, Limits, SubmissionResult, grade

FORMATS = ("table", "csv", "json")


def find_notebooks(arguments: list[str]) -> tuple[list[Path], list[Path]]:
    """(notebooks, arguments that are neither): folders are searched for .ipynb files, checkpoints skipped."""
    found, missing = [], []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            found.append(path)
        else:
            missing.append(path)
    return list(dict.fromkeys(found)), missing


# ---------------------------------------------------------------- the report


def rows(results: list[SubmissionResult]) -> list[dict]:
    """One row per student and exercise; a submission with no exercises graded gets one row of its own."""
    table = []
    for result in results:
        lesson = f"{result.key.lesson:02d}" if result.key else ""
        for item in result.results:
            table.append({"student": result.student, "lesson": lesson, "exercise": item.exercise.number,
                          "function": item.exercise.function, "status": item.status, "points": item.score,
                          "max_points": item.exercise.points, "message": item.message})
        if not result.results:
            table.append({"student": result.student, "lesson": lesson, "exercise": "", "function": "",
                          "status": "error", "points": 0, "max_points": 0,
                          "message": result.problems[0] if result.problems else "Not graded."})
    return table


def totals(results: list[SubmissionResult]) -> list[dict]:
    out = []
    for result in results:
        counts = {status: sum(1 for r in result.results if r.status == status) for status in STATUSES}
        out.append({"student": result.student, "file": str(result.path),
                    "lesson": f"{result.key.lesson:02d}" if result.key else "", "points": result.score,
                    "max_points": result.max_score, **{status.replace(" ", "_"): n for status, n in counts.items()},
                    "seconds": round(result.seconds, 1),
                    "peak_memory_mb": round(result.peak_memory_mb) if result.peak_memory_mb else None,
                    "problems": result.problems})
    return out


def as_table(results: list[SubmissionResult]) -> str:
    lines = []
    body = rows(results)
    headers = ["student", "lesson", "exercise", "status", "points", "message"]
    cells = [[row["student"], row["lesson"], f"{row['exercise']} {row['function']}".strip(), row["status"],
              f"{row['points']}/{row['max_points']}", row["message"]] for row in body]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers[:-1])]
    lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths + [0])).rstrip())
    for c in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(c, widths + [0])).rstrip())
    lines.append("")
    lines.append("Totals")
    summary = totals(results)
    name_width = max([len("student")] + [len(t["student"]) for t in summary])
    lines.append(f"{'student'.ljust(name_width)}  lesson  points  passed  failed  not attempted  error  seconds")
    for t in summary:
        lines.append(f"{t['student'].ljust(name_width)}  {t['lesson']:>6}  {t['points']:>3}/{t['max_points']:<3} "
                     f"{t['passed']:>6}  {t['failed']:>6}  {t['not_attempted']:>13}  {t['error']:>5}  {t['seconds']:>7}")
    problems = [(t["student"], p) for t in summary for p in t["problems"]]
    if problems:
        lines.append("")
        lines.append("Problems")
        lines.extend(f"{student}: {problem}" for student, problem in problems)
    return "\n".join(lines) + "\n"


def as_csv(results: list[SubmissionResult]) -> str:
    """The exercise rows, then one row per student with exercise "total" (its message: the problems)."""
    buffer = io.StringIO()
    fields = ["student", "lesson", "exercise", "function", "status", "points", "max_points", "message"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(results))
    for t in totals(results):
        writer.writerow({"student": t["student"], "lesson": t["lesson"], "exercise": "total", "function": "",
                         "status": "", "points": t["points"], "max_points": t["max_points"],
                         "message": " ".join(t["problems"])})
    return buffer.getvalue()


def as_json(results: list[SubmissionResult]) -> str:
    return json.dumps({"rows": rows(results), "totals": totals(results)}, indent=2, ensure_ascii=False) + "\n"


RENDER = {"table": as_table, "csv": as_csv, "json": as_json}


# ---------------------------------------------------------------- the command line


def build_parser(width: int | None = None) -> argparse.ArgumentParser:
    """The command line; `width` fixes the help's line width (else the terminal's)."""
    def formatter(prog: str) -> argparse.HelpFormatter:
        return argparse.HelpFormatter(prog, width=width) if width else argparse.HelpFormatter(prog)

    parser = argparse.ArgumentParser(prog="python -m attention_course.grade", description=__doc__.split("\n")[0],
                                     formatter_class=formatter)
    parser.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks, to grade")
    parser.add_argument("--lesson", type=int, metavar="NN", help="the lesson they answer (default: read from each notebook)")
    parser.add_argument("--timeout", type=float, default=Limits.cell_timeout, metavar="S",
                        help=f"seconds per cell (default {Limits.cell_timeout:g})")
    parser.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout, metavar="S",
                        help=f"seconds per notebook in all (default {Limits.notebook_timeout:g})")
    parser.add_argument("--memory-limit", type=int, default=Limits.memory_mb, metavar="MB",
                        help=f"address-space limit of each kernel in MB, 0 for none (default {Limits.memory_mb})")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks graded at once (default 1)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table (default), csv, or json: one row per student and exercise, then totals")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report here instead of printing it")
    parser.add_argument("--solutions", type=Path, default=None, metavar="DIR",
                        help="the answer keys' folder (default: the course's solutions/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.notebook_timeout <= 0 or args.jobs < 1 or (args.memory_limit or 0) < 0:
        parser.error("--timeout and --notebook-timeout must be positive, --jobs at least 1, --memory-limit 0 or more")

    paths, missing = find_notebooks(args.submissions)
    for path in missing:
        print(f"warning: {path} does not exist; skipped.", file=sys.stderr)
    if not paths:
        print("error: no notebooks to grade.", file=sys.stderr)
        return 2
    limits = Limits(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout,
                    memory_mb=args.memory_limit or None)

    def progress(result: SubmissionResult) -> None:
        print(f"graded {result.path}: {result.score}/{result.max_score} points in {result.seconds:.1f} s",
              file=sys.stderr, flush=True)

    try:
        results = grade(paths, lesson=args.lesson, limits=limits, jobs=args.jobs, solutions=args.solutions,
                        on_result=progress)
    except GradingAborted as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: no report was written.", file=sys.stderr)
        return 130
    report = RENDER[args.format](results)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
