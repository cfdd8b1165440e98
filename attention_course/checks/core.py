"""The machinery every check shares: calling the learner's code safely, and one-sentence failures.

Every check takes the learner's function (or answer) and either
- prints "✔ <name>: ..." when every case passes,
- prints "○ <name>: not attempted yet ..." while the function still raises NotImplementedError,
  so the learner notebooks run clean from top to bottom, or
- raises CheckFailed, whose notebook display is that one sentence, not a traceback.

Under nbgrader (`nbgrader autograde` or `validate`, which set NBGRADER_EXECUTION) a stub fails instead,
with NotAttemptedYet, so that nbgrader scores it 0 as the course's grader does.

Checks are plain functions that return a CheckResult, so the grader can use them too.
"""

from __future__ import annotations

import copy
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class CheckFailed(AssertionError):
    """A wrong answer. In Jupyter it is shown as its message alone.

    `specific` is False for the fallback "gave ..., expected ..." message, which names no mistake; the
    report of the checks' mutants (coursekit.check_mutants) counts the others as specific.
    """

    def __init__(self, message: str, specific: bool = True):
        super().__init__(message)
        self.specific = specific

    def _render_traceback_(self):  # IPython's hook for a custom error display
        return [f"✘ {self}"]


class NotAttempted(Exception):
    pass


class NotAttemptedYet(CheckFailed):
    """A stub, while nbgrader grades or validates: there it must fail the check cell, so it scores 0."""

    def _render_traceback_(self):
        return [f"○ {self}"]


def nbgrader_is_grading() -> bool:
    """True inside `nbgrader autograde` or `nbgrader validate`, which set NBGRADER_EXECUTION."""
    return os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "passed" or "not attempted"
    message: str

    def _ipython_display_(self) -> None:  # the message is printed already; keep the cell's Out[] empty
        pass


def check(hint: str):
    """Turn a function that raises CheckFailed on a wrong answer into a check.

    `hint` is added when the learner's code itself raises an error.
    """

    def decorate(body: Callable[[Callable], str]):
        name = body.__name__

        def run_check(answer) -> CheckResult:
            try:
                success = body(Learner(answer, name, hint))
            except NotAttempted:
                message = (
                    f"○ {name}: not attempted yet. Replace `raise NotImplementedError()` "
                    "with your code, run that cell, then run this one again."
                )
                if nbgrader_is_grading():
                    raise NotAttemptedYet(message[2:]) from None
                print(message)
                return CheckResult(name, "not attempted", message)
            message = f"✔ {name}: {success}"
            print(message)
            return CheckResult(name, "passed", message)

        run_check.__name__ = run_check.__qualname__ = name
        run_check.__module__, run_check.__doc__ = body.__module__, body.__doc__  # e.g. checks.lesson01
        run_check.hint = hint  # read by the test that hints hold none of the solution's code
        return run_check

    return decorate


class Learner:
    """Calls the learner's function safely and turns every kind of failure into one sentence."""

    def __init__(self, answer, name: str, hint: str):
        self.answer, self.name, self.hint = answer, name, hint

    def __call__(self, *args, case: str, explain: Callable[[Exception], str | None] | None = None):
        """The learner's answer on `args`. `explain` may turn an error the learner's code raised into the
        sentence that names its mistake; otherwise the error is named, with the check's hint."""
        if not callable(self.answer):
            raise CheckFailed(
                f"checks.{self.name} expects your function itself, as in checks.{self.name}({self.name}); "
                f"you passed a {type(self.answer).__name__}."
            )
        given = copy.deepcopy(args)  # the learner's own copies: `args` stay as they were, to compare with
        try:
            with np.errstate(all="ignore"):  # the check explains a nan or inf better than numpy's warning
                result = self.answer(*given)
        except NotImplementedError:
            raise NotAttempted from None
        except Exception as error:  # noqa: BLE001 - any error in learner code becomes a sentence
            sentence = explain(error) if explain else None
            if sentence:
                raise CheckFailed(f"On {case}, {sentence}") from None
            detail = str(error) if len(str(error)) <= 200 else str(error)[:200] + "..."
            raise CheckFailed(
                f"Your {self.name} raised {type(error).__name__} ({detail}) on {case}. Hint: {self.hint}"
            ) from None
        self._refuse_changed_inputs(args, given, case)
        return result

    def _refuse_changed_inputs(self, before: tuple, after: tuple, case: str) -> None:
        """An answer that writes into its inputs (`x -= x.max()`, `targets[:, 0] = start`) is wrong even when
        what it returns is right: the caller still holds those arrays, and a training loop reuses them (the
        targets are also the loss's labels). Only arrays and tensors are compared; a module is not data."""
        for position, (old, new) in enumerate(zip(before, after)):
            old_values, new_values = _values(old), _values(new)
            if old_values is None or _same(old_values, new_values):
                continue
            raise CheckFailed(
                f"Your {self.name} changed its input `{self._parameter(position)}` in place on {case}; the caller "
                "still needs it unchanged. Compute a new array or tensor instead of writing into the input "
                "(an in-place operator such as -=, an assignment to a slice, or a method ending in _)."
            )

    def _parameter(self, position: int) -> str:
        try:
            parameters = list(inspect.signature(self.answer).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        if position < len(parameters) and parameters[position].kind in (
                inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            return parameters[position].name
        return f"argument {position + 1}"


def _values(x) -> np.ndarray | None:
    """The numbers of an array or tensor argument, or None for anything else."""
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor, without importing torch here
        return x.detach().cpu().numpy()
    return x if isinstance(x, np.ndarray) else None


def _same(old: np.ndarray, new) -> bool:
    """Bit for bit the same: an input left alone keeps every value, so == is right here (a nan stays a nan)."""
    new = _values(new)
    if new is None or old.shape != new.shape or old.dtype != new.dtype:
        return False
    return bool(np.array_equal(old, new, equal_nan=old.dtype.kind in "fc"))


def as_array(result, name: str, case: str, shape: tuple[int, ...], what: str) -> np.ndarray:
    """Convert a returned value to a float array, or explain why it is the wrong kind of thing."""
    if result is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if hasattr(result, "detach"):  # a torch tensor is fine too
        result = result.detach().cpu().numpy()
    try:
        array = np.asarray(result, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"Your {name} returned a {type(result).__name__} on {case}; expected {what}, an array of numbers."
        ) from None
    if array.shape != shape:
        raise CheckFailed(
            f"Your {name} returned shape {array.shape} on {case}; expected shape {shape} ({what})."
        )
    if np.isnan(array).any():
        raise CheckFailed(f"Your {name} returned NaN on {case}; look for 0/0 or inf - inf.")
    return array


def as_plain_array(result, name: str, case: str, what: str) -> np.ndarray:
    """The learner's result as a numpy array of its own dtype (a boolean mask stays boolean), or a
    sentence saying why it is not one; `what` says what to return instead, e.g. "a boolean tensor"."""
    if result is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if hasattr(result, "detach"):
        result = result.detach().cpu().numpy()
    try:
        array = np.asarray(result)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biuf":  # not booleans or numbers: strings, objects, ...
        raise CheckFailed(f"Your {name} returned a {type(result).__name__} on {case}; return {what}.")
    return array


def close(a, b, scale: float | None = None) -> bool:
    """Equal up to rounding, whatever route the learner took (float32, torch, a loop, another summation order).

    A float32 answer (24 bits, eps 1.2e-7) is off by a few eps of the largest number it was computed from, also
    in entries that cancel to near 0 (x - mean, embeddings plus positions). So the absolute tolerance follows
    `scale`, by default the largest |b|; pass the size of the inputs when the result cancels. 1e-6 of it is
    8 eps, and every mistake a check names moves some entry by far more (eps inside or outside LayerNorm's
    square root included, which lesson 7 tests with eps = 0.5).
    """
    b = np.asarray(b, dtype=float)
    if np.shape(a) != b.shape:
        return False
    if scale is None:
        scale = float(np.abs(b).max()) if b.size and np.isfinite(b).all() else 0.0
    return bool(np.allclose(a, b, rtol=1e-5, atol=max(1e-7, 1e-6 * scale)))


def diagnose(got: np.ndarray, name: str, case: str, expected, wrong_answers, scale: float | None = None) -> None:
    """Raise with the message of the first known mistake `got` matches, else a generic one (see `close` for
    `scale`). The generic one shows at most a few numbers: a whole (B, T, d) tensor would bury the sentence."""
    if close(got, expected, scale):
        return
    for wrong, message in wrong_answers:
        if close(got, wrong, scale):
            raise CheckFailed(f"On {case}, {message}")
    raise CheckFailed(f"Your {name} gave {_few(got)} on {case}; expected {_few(expected)}.", specific=False)


def _few(values, limit: int = 8) -> str:
    """Up to `limit` numbers, rounded, with an ellipsis when there are more (messages stay one short line)."""
    flat = np.round(np.asarray(values, dtype=float), 4).reshape(-1).tolist()
    shown = ", ".join(f"{v:g}" for v in flat[:limit])
    return f"[{shown}{', ...' if len(flat) > limit else ''}]" if np.ndim(values) else shown
