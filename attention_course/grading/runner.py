"""Running one submission's plan in kernels: nbclient, the limits, and a new kernel after a fatal cell.

Introduced for instructors (the grader).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from coursekit.execution import without_output_widget_stand_in

from . import in_kernel
from .model import AnswerKey, CheckSources, ExerciseResult, GradedExercise, Limits
from .notebook import Step

PAYLOAD_MIME = in_kernel.MIME


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
        without_output_widget_stand_in(self)  # else a widget cell can wait out its timeout (coursekit/execution.py)

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
    kind: str  # "done", "died", "stuck", "out of time", "no kernel", "gave up"
    step: int | None = None
    detail: str = ""


class NotebookRun:
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
        argv = [sys.executable, "-m", "attention_course.grading.launcher", "--memory-mb", str(memory_mb),
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
            client.stop_output_pollers()
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
