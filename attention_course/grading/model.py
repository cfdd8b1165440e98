"""What the grader grades against, and what it reports: answer keys, limits, results, the checks' sources.

Introduced for instructors (the grader).
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..syllabus import LESSON_STEM, graded_cells
from . import in_kernel

STATUSES = ("passed", "failed", "not attempted", "error")
PACKAGE = Path(__file__).resolve().parents[1]  # attention_course/


class GradingAborted(Exception):
    """Grading cannot go on safely (for example, the installed checks changed while grading)."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times in seconds; None or 0 means no memory limit."""

    cell_timeout: float = 120.0
    notebook_timeout: float = 600.0
    output_bytes: int = 2_000_000  # output kept per notebook; the rest is dropped (and reported)
    memory_mb: int | None = 4096  # address space of the kernel process (RLIMIT_AS)
    restarts: int = 3  # new kernels after a kernel dies or hangs, per submission


@dataclass(frozen=True)
class GradedExercise:
    number: str  # "6.1"
    check: str  # the check's name in attention_course.checks
    function: str  # the learner's function that the check receives
    points: int
    grade_id: str


@dataclass(frozen=True)
class AnswerKey:
    """What the answer key solutions/NN_name.ipynb grades: its test cells, with nbgrader's points."""

    lesson: int
    stem: str
    exercises: tuple[GradedExercise, ...]

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)

    @property
    def check_module(self) -> str:
        return f"lesson{self.lesson:02d}"


@dataclass
class ExerciseResult:
    exercise: GradedExercise
    status: str  # one of STATUSES
    message: str = ""

    @property
    def score(self) -> int:
        return self.exercise.points if self.status == "passed" else 0


@dataclass
class SubmissionResult:
    path: Path
    student: str
    key: AnswerKey | None
    results: list[ExerciseResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the notebook as a whole, one sentence each
    seconds: float = 0.0
    peak_memory_mb: float | None = None  # the kernel's peak resident memory, when it lived to the end

    @property
    def score(self) -> int:
        return sum(result.score for result in self.results)

    @property
    def max_score(self) -> int:
        return self.key.points if self.key else 0


# ---------------------------------------------------------------- the answer keys and the checks


def default_solutions() -> Path:
    """solutions/ of the course this package belongs to, else ./solutions."""
    beside_package = PACKAGE.parent / "solutions"
    return beside_package if beside_package.is_dir() else Path("solutions")


def answer_keys(solutions: Path) -> dict[int, AnswerKey]:
    """Lesson number -> AnswerKey, for every solutions/NN_name.ipynb."""
    keys = {}
    for path in sorted(solutions.glob("[0-9][0-9]_*.ipynb")):
        if not LESSON_STEM.match(path.stem):
            continue
        lesson = int(path.stem[:2])
        graded = graded_cells(nbformat.read(path, as_version=4))
        exercises = tuple(GradedExercise(f"{lesson}.{i}", check, function, points, grade_id)
                          for i, (check, function, points, grade_id) in enumerate(graded, start=1))
        keys[lesson] = AnswerKey(lesson, path.stem, exercises)
    return keys


@dataclass(frozen=True)
class CheckSources:
    """The checks' source text, and the in-kernel program that runs them, read before any learner code
    runs; and a fingerprint of the whole package, to notice a submission that writes to it."""

    directory: Path  # checks/
    modules: dict  # "checks.core" -> (path, source)
    program: str  # attention_course/grading/in_kernel.py
    fingerprint: str

    @classmethod
    def read(cls, directory: Path | None = None) -> CheckSources:
        """The installed package's checks/, or another copy of that folder."""
        directory = (directory or PACKAGE / "checks").resolve()
        directory = directory if directory.is_dir() else directory.parent
        modules = {f"checks.{p.stem}": (str(p), p.read_text(encoding="utf-8"))
                   for p in sorted(directory.glob("*.py")) if p.stem != "__init__"}
        program = Path(in_kernel.__file__).read_text(encoding="utf-8")
        return cls(directory, modules, program, _fingerprint(directory))

    def unchanged(self) -> bool:
        return _fingerprint(self.directory) == self.fingerprint

    def request(self, module: str) -> tuple[dict, list[str]]:
        """The sources `checks.<module>` needs (itself and what it imports from checks/), and the other
        modules of the package it imports (e.g. `multihead` for `from ..multihead import ...`)."""
        needed, aliases, queue = {}, set(), [f"checks.{module}"]
        while queue:
            name = queue.pop()
            if name in needed or name not in self.modules:
                continue
            needed[name] = self.modules[name]
            for node in ast.walk(ast.parse(needed[name][1])):
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    queue.extend(f"checks.{n}" for n in ([node.module] if node.module else
                                                          [alias.name for alias in node.names]))
                elif isinstance(node, ast.ImportFrom) and node.level == 2:
                    aliases.update([node.module.split(".")[0]] if node.module else
                                   [alias.name for alias in node.names])
        return needed, sorted(aliases - {"checks"})


def _fingerprint(checks: Path) -> str:
    """A hash of the checks and of every module of the package, which the checks and the kernels import."""
    digest = hashlib.sha256()
    for path in sorted(checks.glob("*.py")) + sorted(PACKAGE.rglob("*.py")):
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(str(path).encode() + b"\0missing")
    return digest.hexdigest()
