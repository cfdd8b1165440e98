"""What every check of every lesson promises (DESIGN.md §4), tested once for all lessons.

Each tests/test_checks_lessonNN.py holds the lesson's SOLUTIONS (check name -> a correct answer) and its
realistic wrong answers; this module takes the SOLUTIONS and holds every check to the shared contract.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks

SOLUTIONS = {number: importlib.import_module(f"test_checks_lesson{number:02d}").SOLUTIONS for number in checks.LESSONS}
CASES = [(number, name) for number, solutions in SOLUTIONS.items() for name in sorted(solutions)]


@pytest.mark.parametrize("number", sorted(checks.LESSONS))
def test_every_check_of_the_lesson_is_exported_and_has_a_solution(number):
    module = checks.LESSONS[number]
    defined = {
        name for name, obj in vars(module).items()
        if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__
        and not isinstance(obj, type)
    }
    assert defined == set(SOLUTIONS[number]) == set(module.__all__)
    assert all(getattr(checks, name) is getattr(module, name) for name in defined)  # callable as checks.<name>


@pytest.mark.parametrize(("number", "name"), CASES)
def test_the_solution_passes(number, name, capsys):
    result = getattr(checks, name)(SOLUTIONS[number][name])
    assert isinstance(result, checks.CheckResult)
    assert (result.status, result.name) == ("passed", name)
    out = capsys.readouterr().out
    assert out.startswith("✔") and name in out and result.message in out


@pytest.mark.parametrize(("number", "name"), CASES)
def test_a_stub_is_not_attempted_and_does_not_raise(number, name, capsys):
    def stub(*args):
        # YOUR CODE HERE
        raise NotImplementedError()

    result = getattr(checks, name)(stub)
    assert result.status == "not attempted"
    out = capsys.readouterr().out
    assert "not attempted yet" in out and "✔" not in out


WRONG = [(number, *wrong) for number in checks.LESSONS
         for wrong in importlib.import_module(f"test_checks_lesson{number:02d}").WRONG]


@pytest.mark.parametrize(("number", "name"), CASES)
def test_at_least_three_realistic_wrong_answers_per_check(number, name):
    assert sum(1 for lesson, check, _, _ in WRONG if (lesson, check) == (number, name)) >= 3


@pytest.mark.parametrize(("number", "name", "answer", "needles"), WRONG,
                         ids=[f"{name}-{i}" for i, (_, name, _, _) in enumerate(WRONG)])
def test_a_wrong_answer_fails_with_the_sentence_a_learner_needs(number, name, answer, needles, capsys):
    with np.errstate(all="ignore"), pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(answer)
    message = assert_one_sentence(caught.value)
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"
    assert "✔" not in capsys.readouterr().out


def test_a_failure_is_an_assertion_error():
    assert issubclass(checks.CheckFailed, AssertionError)  # nbval and graders count it as a failed cell


@pytest.mark.parametrize(("number", "name"), CASES)
@pytest.mark.parametrize("error", [ZeroDivisionError("division by zero"), KeyError("k"),
                                   TypeError("unsupported operand"), IndexError("index 9 is out of bounds")])
def test_an_error_in_the_learners_code_is_named_with_a_hint(number, name, error):
    def broken(*args):
        raise error

    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(broken)
    message = assert_one_sentence(caught.value)
    assert type(error).__name__ in message and "Hint:" in message
    assert caught.value.__suppress_context__  # no chained traceback behind the sentence


@pytest.mark.parametrize(("number", "name"), CASES)
def test_returning_none_is_explained(number, name):
    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(lambda *args: None)
    message = assert_one_sentence(caught.value)
    assert "return" in message or "None" in message


@pytest.mark.parametrize(("number", "name"), CASES)
@pytest.mark.parametrize("not_a_function", [3.0, "answer", None, torch.eye(2)])
def test_passing_something_not_callable_is_explained(number, name, not_a_function):
    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(not_a_function)
    message = assert_one_sentence(caught.value)
    assert "expects your function itself" in message and f"checks.{name}({name})" in message
