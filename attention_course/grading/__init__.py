"""The grader: run each submitted notebook in a fresh kernel, then the course's own checks on it.

`grade(paths, ...)` returns one SubmissionResult per file; `attention_course.grade` is its command line.

For each submission:
1. The file is read once, into memory; it is never written, and the kernel runs in a temporary folder
   that holds a copy.
2. Its lesson is read from its cells (the exercise functions it defines, its banner), or taken from
   `--lesson`; a notebook of another lesson is reported as such and not run.
3. Its code cells run in order with nbclient, in a new kernel started by
   `attention_course.grading.launcher` (address-space limit), with a timeout per cell and one for the
   whole notebook, and a cap on the output kept. The learner's own check cells are not run: at the place
   of each one (or after the cell that defines the exercise's function, if that comes later) the grader
   runs the exercise's check from the installed package (`attention_course.grading.in_kernel`).
4. A cell that times out is interrupted; if the kernel does not answer, or dies (os._exit, a crash), a
   new kernel runs the notebook again without that cell, up to `Limits.restarts` times.

Each exercise ends as "passed", "failed" (with the check's sentence), "not attempted" (still the stub) or
"error" (missing, timed out, crashed, not reached). The grader runs learner code: it is not a sandbox.
Modules: `model` (answer keys, limits, results, the checks' sources), `notebook` (reading a submission,
finding its lesson, planning where each check runs), `runner` (running the plan in kernels), `grader`
(grading many files), `launcher` (the kernel under a memory limit), `in_kernel` (one check, in the kernel).
Introduced for instructors.
"""

from .grader import grade, grade_submission, kernel_environment, student_names
from .model import (
    STATUSES,
    AnswerKey,
    CheckSources,
    ExerciseResult,
    GradedExercise,
    GradingAborted,
    Limits,
    SubmissionResult,
    answer_keys,
    default_solutions,
)
from .notebook import Cell, Step, best_match, bound_names, identify, plan, read_submission, tampering

__all__ = ["STATUSES", "AnswerKey", "Cell", "CheckSources", "ExerciseResult", "GradedExercise", "GradingAborted",
           "Limits", "Step", "SubmissionResult", "answer_keys", "best_match", "bound_names", "default_solutions",
           "grade", "grade_submission", "identify", "kernel_environment", "plan", "read_submission",
           "student_names", "tampering"]
