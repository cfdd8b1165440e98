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
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class CheckFailed(AssertionError):
    """A wrong answer. In Jupyter it is shown as its message alone."""

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
        return run_check

    return decorate


class Learner:
    """Calls the learner's function safely and turns every kind of failure into one sentence."""

    def __init__(self, answer, name: str, hint: str):
        self.answer, self.name, self.hint = answer, name, hint

    def __call__(self, *args, case: str):
        if not callable(self.answer):
            raise CheckFailed(
                f"checks.{self.name} expects your function itself, as in checks.{self.name}({self.name}); "
                f"you passed a {type(self.answer).__name__}."
            )
        args = copy.deepcopy(args)  # the learner's code may change its inputs in place
        try:
            with np.errstate(all="ignore"):  # the check explains a nan or inf better than numpy's warning
                return self.answer(*args)
        except NotImplementedError:
            raise NotAttempted from None
        except Exception as error:  # noqa: BLE001 - any error in learner code becomes a sentence
            detail = str(error) if len(str(error)) <= 200 else str(error)[:200] + "..."
            raise CheckFailed(
                f"Your {self.name} raised {type(error).__name__} ({detail}) on {case}. Hint: {self.hint}"
            ) from None


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


def close(a, b) -> bool:
    """Equal up to rounding, whatever route the learner took: to rtol 1e-5, or within float32's rounding."""
    return a.shape == np.shape(b) and (np.allclose(a, b, rtol=1e-5, atol=1e-7) or _within_float32_rounding(a, b))


def _within_float32_rounding(a: np.ndarray, b) -> bool:
    """A float32 answer (24 bits, eps 1.2e-7) is off by a few eps of the numbers it was computed from. An entry
    that cancels to near 0 (x - mean, or embeddings plus positions) keeps the error of the large numbers
    around it, so the absolute tolerance follows the largest entry: 1e-6 of it is 8 eps, far less than any
    mistake a check names moves an entry by."""
    b = np.asarray(b, dtype=float)
    scale = float(np.abs(b).max()) if b.size and np.isfinite(b).all() else 0.0
    return np.allclose(a, b, rtol=1e-5, atol=1e-6 * scale)


def diagnose(got: np.ndarray, name: str, case: str, expected, wrong_answers) -> None:
    """Raise with the message of the first known mistake `got` matches, else a generic one."""
    if close(got, expected):
        return
    for wrong, message in wrong_answers:
        if close(got, wrong):
            raise CheckFailed(f"On {case}, {message}")
    raise CheckFailed(
        f"Your {name} gave {np.round(got, 4).tolist()} on {case}; expected {np.round(expected, 4).tolist()}."
    )
