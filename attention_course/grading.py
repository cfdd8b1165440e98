"""The grader's engine: run each submitted notebook in a fresh kernel, then the course's own checks on it.

`grade(paths, ...)` returns one SubmissionResult per file; `attention_course.grade` is its command line.

For each submission:
1. The file is read once, into memory; it is never written, and the kernel runs in a temporary folder
   that holds a copy.
2. Its lesson is read from its cells (the exercise functions it defines, its banner), or taken from
   `--lesson`; a notebook of another lesson is reported as such and not run.
3. Its code cells run in order with nbclient, in a new kernel started by
   `attention_course.grading_launcher` (address-space limit), with a timeout per cell and one for the
   whole notebook, and a cap on the output kept. The learner's own check cells are not run: at the place
   of each one (or after the cell that defines the exercise's function, if that comes later) the grader
   runs the exercise's check from the installed package (`attention_course.grading_in_kernel`).
4. A cell that times out is interrupted; if the kernel does not answer, or dies (os._exit, a crash), a
   new kernel runs the notebook again without that cell, up to `Limits.restarts` times.

Each exercise ends as "passed", "failed" (with the check's sentence), "not attempted" (still the stub) or
"error" (missing, timed out, crashed, not reached). The grader runs learner code: it is not a sandbox.
Introduced for instructors.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import json
import math
import os
import re
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import grading_in_kernel
from .syllabus import LESSON_STEM, graded_cells

STATUSES = ("passed", "failed", "not attempted", "error")
MAX_SUBMISSION_BYTES = 50 * 2**20
PAYLOAD_MIME = grading_in_kernel.MIME
ONLY_CHECK_CALLS = re.compile(r"^\s*checks\.\w+\(.*\)\s*$")


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
    beside_package = Path(__file__).resolve().parents[1] / "solutions"
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
    program: str  # attention_course/grading_in_kernel.py
    fingerprint: str

    @classmethod
    def read(cls, directory: Path | None = None) -> CheckSources:
        """The installed package's checks/, or another copy of that folder."""
        from . import checks

        directory = (directory or Path(checks.__file__)).resolve()
        directory = directory if directory.is_dir() else directory.parent
        modules = {f"checks.{p.stem}": (str(p), p.read_text(encoding="utf-8"))
                   for p in sorted(directory.glob("*.py")) if p.stem != "__init__"}
        program = Path(grading_in_kernel.__file__).read_text(encoding="utf-8")
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
    """A hash of the checks and of the package's modules, which the checks and the kernels import."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(checks.glob("*.py")) + sorted(package.glob("*.py")):
        try:
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(str(path).encode() + b"\0missing")
    return digest.hexdigest()


# ---------------------------------------------------------------- reading a submission


@dataclass(frozen=True)
class Cell:
    number: int  # 1-based position among all the notebook's cells, as an instructor counts them
    source: str


def read_submission(data: bytes) -> tuple[list[Cell], list[str], str | None]:
    """(code cells, markdown texts, problem): a problem is one sentence, and then there are no cells."""
    if len(data) > MAX_SUBMISSION_BYTES:
        return [], [], (f"The file is {len(data) / 2**20:.0f} MB; a notebook is not graded above "
                        f"{MAX_SUBMISSION_BYTES // 2**20} MB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [], [], "The file is not text (not UTF-8), so it is not a Jupyter notebook."
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        return [], [], (f"The file is not valid JSON ({error.msg}: line {error.lineno}, column {error.colno}); "
                        "it may have been cut short or edited by hand.")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        return [], [], "The file is JSON but not a Jupyter notebook (it has no list of cells)."
    if "worksheets" in raw:  # nbformat 3: let nbformat convert it
        try:
            raw = nbformat.reads(text, as_version=4)
        except Exception as error:  # noqa: BLE001 - any conversion failure becomes one sentence
            return [], [], f"The file is an old-format notebook that could not be read ({type(error).__name__})."
    code, markdown = [], []
    for number, cell in enumerate(raw.get("cells", []), start=1):
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        source = "".join(part for part in source if isinstance(part, str)) if isinstance(source, list) else source
        if not isinstance(source, str):
            continue
        if cell.get("cell_type") == "code":
            code.append(Cell(number, source))
        elif cell.get("cell_type") == "markdown":
            markdown.append(source)
    return code, markdown, None


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython magics turned into calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def bound_names(source: str) -> set[str]:
    """Names a cell binds at top level with def, class or =; by pattern when the cell does not parse."""
    try:
        tree = ast.parse(_python(source))
    except (SyntaxError, ValueError):
        found = re.findall(r"^(?:async\s+def|def|class)\s+(\w+)|^(\w+)\s*=", source, re.MULTILINE)
        return {a or b for a, b in found}
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _calls_check(source: str, check: str) -> bool:
    return re.search(rf"^\s*checks\.{re.escape(check)}\s*\(", source, re.MULTILINE) is not None


def _only_check_calls(source: str) -> bool:
    lines = [line for line in source.split("\n") if line.strip() and not line.strip().startswith("#")]
    return bool(lines) and all(ONLY_CHECK_CALLS.match(line) for line in lines)


def identify(cells: list[Cell], markdown: list[str], keys: dict[int, AnswerKey]) -> dict[int, int]:
    """How strongly the notebook looks like each lesson: its exercises defined or checked, its banner."""
    defined = set().union(*(bound_names(cell.source) for cell in cells)) if cells else set()
    scores = {}
    for lesson, key in keys.items():
        score = sum(1 for e in key.exercises
                    if e.function in defined or any(_calls_check(c.source, e.check) for c in cells))
        if any(f"`{key.stem}`" in text for text in markdown):
            score += 3
        scores[lesson] = score
    return scores


def best_match(scores: dict[int, int]) -> int | None:
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if not ranked or ranked[0][1] == 0 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return ranked[0][0]


TAMPERING = [
    (re.compile(r"\bsys\.modules\b"), "sys.modules"), (re.compile(r"\bmeta_path\b"), "sys.meta_path"),
    (re.compile(r"\binput_transformers"), "IPython's input transformers"),
    (re.compile(r"\bbuiltins\b"), "builtins"), (re.compile(r"\bimportlib\.reload\b"), "importlib.reload"),
    (re.compile(r"\bevents\.register\b"), "IPython's events"),
]


def tampering(cells: list[Cell]) -> list[str]:
    """Sentences for cells that change the checks or the machinery around them (for a human to read)."""
    found, trees = [], []
    for cell in cells:
        try:
            trees.append(ast.parse(_python(cell.source)))
        except (SyntaxError, ValueError):
            trees.append(None)
    watched = {"checks", "attention_course"}  # and whatever names the notebook gives them
    for tree in filter(None, trees):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                watched.update(a.asname for a in node.names if a.asname and a.name.startswith("attention_course"))
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attention_course"):
                watched.update(a.asname or a.name for a in node.names
                               if a.name == "checks" or (node.module or "").startswith("attention_course.checks"))
    for cell, tree in zip(cells, trees):
        changed = set()
        for node in ast.walk(tree) if tree else []:
            targets = []
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                changed.update({node.name} & {"checks", "attention_course"})
            elif isinstance(node, ast.Import):  # `import x as checks`; `import attention_course` is fine
                changed.update(a.asname for a in node.names if a.asname in ("checks", "attention_course"))
            elif isinstance(node, ast.ImportFrom) and node.module != "attention_course":
                changed.update(a.asname or a.name for a in node.names
                               if (a.asname or a.name) in ("checks", "attention_course"))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in ("setattr", "delattr") and node.args):
                targets = [node.args[0]]
            for target in targets:
                root = target
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in watched and not (
                        isinstance(target, ast.Name) and isinstance(node, (ast.Assign, ast.AnnAssign))
                        and target.id not in ("checks", "attention_course")):
                    changed.add(ast.unparse(target))
        for name in sorted(changed):
            found.append(f"Cell {cell.number} changes `{name}`; it has no effect on the grade, since the grader "
                         "runs the checks of the installed course package.")
        for pattern, what in TAMPERING:
            if pattern.search(cell.source):
                found.append(f"Cell {cell.number} touches {what}, which can interfere with grading; read it "
                             "before trusting this grade.")
    return found


# ---------------------------------------------------------------- what runs, in which order


@dataclass(frozen=True)
class Step:
    source: str
    cell: Cell | None = None  # a learner cell
    exercise: GradedExercise | None = None  # a check, run by the grader


def plan(cells: list[Cell], key: AnswerKey) -> list[Step]:
    """The learner's cells in order, minus their own check calls, with each exercise's check placed after
    the later of its check cell and the last cell that defines its function (the end, if neither)."""
    anchors: dict[int, list[GradedExercise]] = {}
    unanchored = []
    for exercise in key.exercises:
        places = [i for i, cell in enumerate(cells)
                  if _calls_check(cell.source, exercise.check) or exercise.function in bound_names(cell.source)]
        if places:
            anchors.setdefault(max(places), []).append(exercise)
        else:
            unanchored.append(exercise)
    steps = []
    for i, cell in enumerate(cells):
        if not _only_check_calls(cell.source) and cell.source.strip():
            steps.append(Step(cell.source, cell=cell))
        steps.extend(Step("", exercise=exercise) for exercise in anchors.get(i, []))
    steps.extend(Step("", exercise=exercise) for exercise in unanchored)
    return steps


# ---------------------------------------------------------------- running it


class _SpecManager(KernelSpecManager):
    """Gives the grader's kernel command: the course's launcher, with the memory limit."""

    def __init__(self, argv: list[str], **kwargs):
        super().__init__(**kwargs)
        self.grader_argv = argv

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        return KernelSpec(argv=self.grader_argv, display_name="attention-course grader", language="python")


class _Client(NotebookClient):
    """nbclient, keeping the grader's payloads apart and at most `output_bytes` of the learner's output."""

    def __init__(self, nb, kernel_argv: list[str], output_bytes: int, **kwargs):
        super().__init__(nb, **kwargs)
        self.kernel_argv, self.output_bytes = kernel_argv, output_bytes
        self.payloads: dict[int, list[dict]] = {}
        self.kept = self.dropped = 0
        self.errors: dict[int, tuple[str, str]] = {}
        self.exit_requested: int | None = None  # the cell that called IPython's exit(), if one did
        self.output_pollers: set[asyncio.Task] = set()
        self.on_cell_executed = self._remember_error

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        # nbclient leaves this task running after a timeout; it would then take other cells' messages.
        task = asyncio.current_task()
        self.output_pollers.add(task)
        try:
            return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        finally:
            self.output_pollers.discard(task)

    def stop_output_pollers(self) -> None:
        for task in list(self.output_pollers):
            task.cancel()

    def create_kernel_manager(self):
        self.km = AsyncKernelManager(kernel_spec_manager=_SpecManager(self.kernel_argv),
                                     kernel_name="attention-course-grader")
        return self.km

    def _remember_error(self, cell, cell_index, execute_reply) -> None:
        content = execute_reply.get("content", {})
        if content.get("status") == "error":
            self.errors[cell_index] = (content.get("ename", ""), content.get("evalue", ""))
        if any(p.get("source") == "ask_exit" and not p.get("keepkernel") for p in content.get("payload", [])):
            self.exit_requested = cell_index  # IPython's exit(): the kernel stops after this cell

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        data = content.get("data") or {}
        if msg.get("msg_type") == "display_data" and PAYLOAD_MIME in data:
            self.payloads.setdefault(cell_index, []).append(data[PAYLOAD_MIME])
            return None
        size = len(content.get("text", "")) + sum(len(line) for line in content.get("traceback", []))
        size += sum(len(value) if isinstance(value, str) else len(json.dumps(value)) for value in data.values())
        if self.kept + size > self.output_bytes:
            self.dropped += size
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)


@dataclass
class _Outcome:
    kind: str  # "done", "died", "stuck", "out of time", "no kernel"
    step: int | None = None
    detail: str = ""


class _Submission:
    """Grades one notebook: runs the plan, restarting the kernel without a cell that kills or hangs it."""

    def __init__(self, steps: list[Step], limits: Limits, sources: CheckSources, key: AnswerKey,
                 workdir: Path, env: dict):
        self.steps, self.limits, self.sources, self.key = steps, limits, sources, key
        self.workdir, self.env = workdir, env
        self.results: dict[str, ExerciseResult] = {}
        self.problems: list[str] = []
        self.errors: dict[int, tuple[str, str]] = {}  # step -> the learner cell's (ename, evalue)
        self.peak_memory_mb: float | None = None
        self.kept = self.dropped = 0  # bytes of learner output kept and dropped, over all attempts
        self.nonces: dict[int, str] = {}  # step -> the secret its check's answer must carry
        self.deadline = 0.0

    async def run(self) -> None:
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        skip: set[int] = set()
        for _attempt in range(self.limits.restarts + 1):
            outcome = await self._attempt(skip)
            if outcome.kind in ("done", "out of time", "no kernel"):
                break
            skip.add(outcome.step)
            self._report_lost_step(outcome)
        else:
            self.problems.append(f"The kernel died or hung {self.limits.restarts + 1} times; grading gave up on "
                                 "the rest of the notebook.")
            outcome = _Outcome("gave up")
        if outcome.kind == "out of time":
            where = self._where(outcome.step)
            self.problems.append(f"The notebook used up its {self.limits.notebook_timeout:g} s in all{where}; "
                                 "grading stopped there.")
        elif outcome.kind == "no kernel":
            self.problems.append(f"The kernel could not start ({outcome.detail}); if this repeats, raise "
                                 "--memory-limit.")
        if self.dropped:
            self.problems.append(f"The notebook printed {_size(self.kept + self.dropped)} of output; only the first "
                                 f"{_size(self.limits.output_bytes)} was kept, and the rest was ignored.")
        reasons = {"out of time": "the notebook ran out of time before this check",
                   "no kernel": "the kernel could not start",
                   "gave up": "the kernel kept dying before this check"}
        for exercise in self.key.exercises:
            if exercise.check not in self.results:
                reason = reasons.get(outcome.kind, "the check was not reached")
                self.results[exercise.check] = ExerciseResult(exercise, "error", f"Not checked: {reason}.")

    def _where(self, step: int | None) -> str:
        if step is None:
            return ""
        if self.steps[step].cell:
            return f", at cell {self.steps[step].cell.number}"
        return f", at the check of exercise {self.steps[step].exercise.number}"

    def _report_lost_step(self, outcome: _Outcome) -> None:
        step = self.steps[outcome.step]
        what = ("ran longer than its time limit and did not stop when interrupted" if outcome.kind == "stuck"
                else "stopped the kernel (it called exit())" if "exit()" in (step.cell.source if step.cell else "")
                else "killed the kernel")
        if step.cell:
            self.problems.append(f"Cell {step.cell.number} ({_first_line(step.cell.source)}) {what}; grading ran the "
                                 "notebook again in a new kernel without that cell.")
        else:
            exercise = step.exercise
            message = (f"Your {exercise.function} {what} while it was checked." if outcome.kind == "died" else
                       f"Your {exercise.function} ran longer than {self.limits.cell_timeout:g} s while it was "
                       "checked and could not be interrupted.")
            self.results[exercise.check] = ExerciseResult(exercise, "error", message)

    async def _attempt(self, skip: set[int]) -> _Outcome:
        cells = [nbformat.v4.new_code_cell(step.source) for step in self.steps]
        probe = len(cells)
        cells += [nbformat.v4.new_code_cell("pass"), nbformat.v4.new_code_cell(_MEMORY_PROBE)]
        memory_mb = self.limits.memory_mb or 0
        argv = [sys.executable, "-m", "attention_course.grading_launcher", "--memory-mb", str(memory_mb),
                "-f", "{connection_file}"]
        client = _Client(nbformat.v4.new_notebook(cells=cells), kernel_argv=argv,
                         output_bytes=max(0, self.limits.output_bytes - self.kept),
                         timeout=1, allow_errors=True, interrupt_on_timeout=False, shutdown_kernel="immediate",
                         extra_arguments=["--HistoryManager.hist_file=:memory:"], startup_timeout=60,
                         record_timing=False)
        try:
            # The kernel process's own stderr (not the learner's, which comes as output) goes to a log,
            # read back only when the kernel fails to start.
            with self._kernel_log() as log:
                async with client.async_setup_kernel(cwd=str(self.workdir), env=self.env, cleanup_kc=True,
                                                     stdout=log, stderr=log):
                    outcome = await self._run_steps(client, skip, probe)
                    if outcome.kind == "done":
                        self.peak_memory_mb = await self._peak_memory(client, probe + 1)
        except (DeadKernelError, RuntimeError) as error:  # RuntimeError: the kernel did not answer in time
            outcome = _Outcome("no kernel", detail=self._kernel_log_tail() or " ".join(str(error).split())[:120])
        finally:
            self.dropped += client.dropped
            self.kept += client.kept
        for index, error in client.errors.items():
            self.errors[index] = error
        self._note_cell_errors(client.errors)
        return outcome

    def _note_cell_errors(self, errors: dict[int, tuple[str, str]]) -> None:
        """Problems for learner cells that called sys.exit() or ran out of memory (the limit may be too low)."""
        for index, (ename, _) in sorted(errors.items()):
            step = self.steps[index]
            note = (f"Cell {step.cell.number} ({_first_line(step.cell.source)}) called sys.exit(); IPython stopped "
                    "that cell only, and the notebook went on.") if step.cell and ename == "SystemExit" else None
            if note and note not in self.problems:
                self.problems.append(note)
        if any("ran out of memory" in problem for problem in self.problems):
            return
        for index, (ename, evalue) in sorted(errors.items()):
            if self.steps[index].cell and (ename == "MemoryError" or any(
                    sign in evalue for sign in ("can't allocate memory", "Cannot allocate memory",
                                                "failed to map segment"))):
                limit = f"the {self.limits.memory_mb} MB limit" if self.limits.memory_mb else "no limit"
                self.problems.append(f"Cell {self.steps[index].cell.number} ran out of memory under {limit} "
                                     f"({ename}); if a correct notebook does this, raise --memory-limit.")
                return

    def _kernel_log(self):
        return (self.workdir / "kernel.log").open("ab")

    def _kernel_log_tail(self) -> str:
        try:
            lines = (self.workdir / "kernel.log").read_text(encoding="utf-8", errors="replace").strip().split("\n")
        except OSError:
            return ""
        meaningful = [line for line in lines if line.strip() and "WARNING" not in line]
        return meaningful[-1].strip()[:160] if meaningful else ""

    async def _run_steps(self, client: _Client, skip: set[int], probe: int) -> _Outcome:
        for index, step in enumerate(self.steps):
            if index in skip or (step.exercise and step.exercise.check in self.results):
                continue
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                return _Outcome("out of time", index)
            if step.exercise:
                client.nb.cells[index].source = self._check_source(step.exercise, index)
            client.timeout = max(1, math.ceil(min(self.limits.cell_timeout, remaining)))
            try:
                await client.async_execute_cell(client.nb.cells[index], index, store_history=step.cell is not None)
            except DeadKernelError:
                culprit = client.exit_requested if client.exit_requested is not None else index
                return _Outcome("died", culprit)
            except CellTimeoutError:
                client.stop_output_pollers()
                allowed = client.timeout
                if time.monotonic() >= self.deadline:
                    return _Outcome("out of time", index)
                if not await self._interrupted(client, probe):
                    return _Outcome("stuck", index)
                self._timed_out(step, allowed)
                continue
            if step.exercise:
                self._record_check(step.exercise, index, client)
        return _Outcome("done")

    async def _interrupted(self, client: _Client, probe: int) -> bool:
        """Interrupt the kernel; True if it then answers a trivial cell."""
        try:
            await client.km.interrupt_kernel()
            client.timeout = 10
            await client.async_execute_cell(client.nb.cells[probe], probe, store_history=False)
        except (CellTimeoutError, DeadKernelError):
            return False
        return True

    def _timed_out(self, step: Step, seconds: float) -> None:
        if step.cell:
            self.problems.append(f"Cell {step.cell.number} ({_first_line(step.cell.source)}) ran longer than "
                                 f"{seconds:g} s and was interrupted; the notebook went on after it.")
        else:
            self.results[step.exercise.check] = ExerciseResult(
                step.exercise, "error", f"Your {step.exercise.function} ran longer than {seconds:g} s while it "
                                        "was checked, and was interrupted.")

    def _check_source(self, exercise: GradedExercise, index: int) -> str:
        self.nonces[index] = secrets.token_hex(16)
        sources, aliases = self.sources.request(self.key.check_module)
        request = {"package": f"_attention_course_grader_{secrets.token_hex(8)}", "sources": sources,
                   "aliases": aliases, "module": self.key.check_module, "check": exercise.check,
                   "function": exercise.function, "nonce": self.nonces[index],
                   "others": [e.function for e in self.key.exercises if e.function != exercise.function]}
        program = self.sources.program
        return ("import builtins as _attention_course_builtins\n"
                f"_attention_course_builtins.exec(_attention_course_builtins.compile({program!r}, "
                "'<attention-course grader>', 'exec'), {'__builtins__': _attention_course_builtins, "
                f"'__name__': '__attention_course_grader__', 'REQUEST': {request!r}}})\n"
                "del _attention_course_builtins\n")

    def _record_check(self, exercise: GradedExercise, index: int, client: _Client) -> None:
        payloads = [p for p in client.payloads.get(index, []) if p.get("nonce") == self.nonces[index]]
        if len(payloads) != 1:
            error = client.errors.get(index)
            detail = f" ({error[0]}: {error[1][:150]})" if error else ""
            self.results[exercise.check] = ExerciseResult(
                exercise, "error", f"The grader could not run the check{detail}; the notebook may interfere with "
                                   "grading.")
            return
        payload = payloads[0]
        status = payload.get("status")
        if status == "missing":
            self.results[exercise.check] = ExerciseResult(exercise, "error", self._missing(exercise, payload))
        elif status == "not attempted":
            self.results[exercise.check] = ExerciseResult(
                exercise, "not attempted", f"{exercise.function} still raises NotImplementedError (the stub).")
        elif status in ("passed", "failed", "error"):
            message = str(payload.get("message", ""))
            if status == "passed":
                message = message.removeprefix("✔ ").strip()
            self.results[exercise.check] = ExerciseResult(exercise, status, message)
        else:
            self.results[exercise.check] = ExerciseResult(exercise, "error", "The check gave no verdict.")

    def _missing(self, exercise: GradedExercise, payload: dict) -> str:
        message = f"The notebook defines no `{exercise.function}`"
        definers = [i for i, step in enumerate(self.steps)
                    if step.cell and re.search(rf"^\s*(?:async\s+)?def\s+{re.escape(exercise.function)}\b",
                                               step.cell.source, re.MULTILINE)]
        if definers and definers[-1] in self.errors:
            ename, evalue = self.errors[definers[-1]]
            number = self.steps[definers[-1]].cell.number
            return f"{message}: cell {number}, which defines it, raised {ename} ({evalue[:120]})."
        similar = payload.get("similar") or []
        if similar:
            return f"{message}; was it renamed to `{similar[0]}`? Checks look for the name the exercise gives."
        return f"{message}; was its cell deleted or renamed?"

    async def _peak_memory(self, client: _Client, index: int) -> float | None:
        self.nonces[index] = secrets.token_hex(16)
        client.nb.cells[index].source = _MEMORY_PROBE.replace("NONCE", self.nonces[index])
        client.timeout = 10
        try:
            await client.async_execute_cell(client.nb.cells[index], index, store_history=False)
        except (CellTimeoutError, DeadKernelError):
            return None
        found = [p for p in client.payloads.get(index, []) if p.get("nonce") == self.nonces[index]]
        return float(found[0]["peak_rss_mb"]) if found else None


_MEMORY_PROBE = f"""\
import resource as _attention_course_resource
from IPython.display import display as _attention_course_display
_attention_course_display({{{PAYLOAD_MIME!r}: {{"nonce": "NONCE", "peak_rss_mb":
    _attention_course_resource.getrusage(_attention_course_resource.RUSAGE_SELF).ru_maxrss / 1024}}}}, raw=True)
del _attention_course_resource, _attention_course_display
"""


def _first_line(source: str) -> str:
    line = next((line.strip() for line in source.split("\n") if line.strip()), "")
    return f"`{line[:40]}{'...' if len(line) > 40 else ''}`"


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MB" if count >= 2**20 else f"{count / 2**10:.0f} kB"


# ---------------------------------------------------------------- grading many submissions


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
    result = SubmissionResult(path, student, None)
    try:
        data = path.read_bytes()
        stat = path.stat()
    except OSError as error:
        result.problems.append(f"The file could not be read ({error.strerror or error}).")
        return result
    cells, markdown, problem = read_submission(data)
    if lesson is not None:
        result.key = keys[lesson]
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
        submission = _Submission(plan(cells, result.key), limits, sources, result.key, workdir,
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


def grade(paths: list[Path], lesson: int | None = None, limits: Limits = Limits(), jobs: int = 1,
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

        return list(await asyncio.gather(*(one(path, name) for path, name in zip(paths, names))))

    return asyncio.run(run_all())
