"""Grading many submissions: one SubmissionResult per file, a few at a time, never stopping for a bad one.

Introduced for instructors (the grader).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from ..syllabus import LESSON_STEM
from .model import (
    AnswerKey,
    CheckSources,
    ExerciseResult,
    GradingAborted,
    Limits,
    SubmissionResult,
    answer_keys,
    default_solutions,
)
from .notebook import best_match, identify, plan, read_submission, tampering
from .runner import NotebookRun


def student_names(paths: list[Path]) -> list[str]:
    """A name per file: its stem, or its folders when the stem is a lesson's (nbgrader's layout)."""
    names = []
    for path in paths:
        name = path.stem
        if LESSON_STEM.match(name) and len(path.parts) > 1:
            name = "/".join(path.parent.parts[-2:]) if len(path.parts) > 2 else path.parent.name
        names.append(name)
    duplicated = {name for name in names if names.count(name) > 1}
    return [str(path) if name in duplicated else name for name, path in zip(names, paths)]


def kernel_environment(workdir: Path, threads: int | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBGRADER_", "JPY_"))}
    env.update(TQDM_DISABLE="1", MPLBACKEND="Agg", IPYTHONDIR=str(workdir / ".ipython"),
               PYTHONDONTWRITEBYTECODE="1")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


async def grade_submission(path: Path, student: str, keys: dict[int, AnswerKey], lesson: int | None,
                           limits: Limits, sources: CheckSources, threads: int | None = None) -> SubmissionResult:
    """Grade one file. Never raises for anything the file contains."""
    start = time.monotonic()
    result = SubmissionResult(path, student, keys[lesson] if lesson is not None else None)
    try:
        data = path.read_bytes()
        stat = path.stat()
    except OSError as error:
        result.problems.append(f"The file could not be read ({error.strerror or error}).")
        _fill(result, "error", "Not checked: the file could not be read.")
        return result
    cells, markdown, problem = read_submission(data)
    if problem:
        result.problems.append(problem)
        _fill(result, "error", "Not checked: the file is not a notebook that can be run.")
        return result
    scores = identify(cells, markdown, keys)
    found = best_match(scores)
    if lesson is None:
        if found is None:
            result.problems.append("Cannot tell which lesson this notebook is for; grade it with --lesson NN.")
            return result
        result.key = keys[found]
    elif scores.get(lesson, 0) == 0 and found is not None:
        result.problems.append(f"This notebook is lesson {found:02d} ({keys[found].stem}), not lesson {lesson:02d}; "
                               "was the wrong file submitted?")
        _fill(result, "error", f"Not checked: the notebook is lesson {found:02d}, not lesson {lesson:02d}.")
        return result
    result.problems.extend(tampering(cells))
    with tempfile.TemporaryDirectory(prefix="attention-course-grade-") as folder:
        workdir = Path(folder)
        (workdir / path.name).write_bytes(data)  # the kernel works beside a copy, never the original
        submission = NotebookRun(plan(cells, result.key), limits, sources, result.key, workdir,
                                 kernel_environment(workdir, threads))
        await submission.run()
    result.results = [submission.results[e.check] for e in result.key.exercises]
    result.problems.extend(submission.problems)
    result.peak_memory_mb = submission.peak_memory_mb
    result.seconds = time.monotonic() - start
    try:
        changed = path.read_bytes() != data or path.stat().st_mtime_ns != stat.st_mtime_ns
    except OSError:
        changed = True
    if changed:
        result.problems.append("The file changed on disk while it was being graded (the grade is for the "
                               "version read at the start).")
    return result


def _fill(result: SubmissionResult, status: str, message: str) -> None:
    if result.key:
        result.results = [ExerciseResult(e, status, message) for e in result.key.exercises]


def grade(paths: list[Path], lesson: int | None = None, limits: Limits | None = None, jobs: int = 1,
          solutions: Path | None = None, on_result=None, checks: CheckSources | None = None) -> list[SubmissionResult]:
    """Grade every file in `paths`, `jobs` at a time; call on_result(result) as each one finishes.

    `checks` are the sources of the checks to grade with (default: the installed package's).
    """
    keys = answer_keys(solutions or default_solutions())
    if not keys:
        raise GradingAborted(f"no answer keys in {solutions or default_solutions()}; run `make notebooks`.")
    if lesson is not None and lesson not in keys:
        raise GradingAborted(f"there is no lesson {lesson:02d}; the lessons are {', '.join(f'{n:02d}' for n in keys)}.")
    sources = checks or CheckSources.read()
    limits = limits or Limits()
    names = student_names(paths)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None

    async def run_all() -> list[SubmissionResult]:
        gate = asyncio.Semaphore(jobs)

        async def one(path: Path, name: str) -> SubmissionResult:
            async with gate:
                try:
                    result = await grade_submission(path, name, keys, lesson, limits, sources, threads)
                except Exception as error:  # noqa: BLE001 - a fault of the grader's: report it, go on
                    result = SubmissionResult(path, name, keys.get(lesson) if lesson else None)
                    result.problems.append(f"The grader itself failed on this notebook ({type(error).__name__}: "
                                           f"{' '.join(str(error).split())[:150]}); please report it.")
                    _fill(result, "error", "Not checked: the grader failed on this notebook.")
                if not sources.unchanged():
                    raise GradingAborted(f"the course's code ({sources.directory.parent}) changed on disk while "
                                         f"{path} was graded; a submission may have written to it. Grading "
                                         "stopped: restore the course's files before grading again.")
                if on_result:
                    on_result(result)
                return result

        tasks = [asyncio.ensure_future(one(path, name)) for path, name in zip(paths, names)]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [task for task in tasks if task.done() and not task.cancelled() and task.exception()]
        if failed:  # stop the others cleanly (their kernels are shut down), then say why
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise failed[0].exception()
        return [task.result() for task in tasks]

    return asyncio.run(run_all())
