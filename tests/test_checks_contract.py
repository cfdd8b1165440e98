"""What every check of every lesson promises (DESIGN.md §4), tested once for all lessons.

Each tests/test_checks_lessonNN.py holds the lesson's SOLUTIONS (check name -> a correct answer) and its
realistic wrong answers; this module takes the SOLUTIONS and holds every check to the shared contract.

Every check calls the learner's code through checks.core.Learner, which turns an error, a stub or something
not callable into a sentence the same way for all of them. So what depends on the check (its solution, its
wrong answers, its hint, how it reaches the learner's code and reads what comes back) is tested on every
check, and the kinds of error and of non-function are tested once each, on two checks.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence, writes_into_its_inputs

from attention_course import checks

TESTS = {number: importlib.import_module(f"test_checks_lesson{number:02d}") for number in checks.LESSONS}
SOLUTIONS = {number: tests.SOLUTIONS for number, tests in TESTS.items()}
NO_DATA_INPUTS = {number: tests.NO_DATA_INPUTS for number, tests in TESTS.items()}  # checks with nothing to write into
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


def stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize(("number", "name"), CASES)
def test_a_stub_is_not_attempted_and_does_not_raise(number, name, capsys):
    result = getattr(checks, name)(stub)
    assert result.status == "not attempted"
    out = capsys.readouterr().out
    assert out == result.message + "\n" and "not attempted yet" in out  # that one line, nothing else


WRONG = [(number, *wrong) for number in checks.LESSONS
         for wrong in TESTS[number].WRONG]


def test_at_least_three_realistic_wrong_answers_per_check():
    counts = {case: sum(1 for lesson, check, _, _ in WRONG if (lesson, check) == case) for case in CASES}
    assert all(count >= 3 for count in counts.values()), {case: n for case, n in counts.items() if n < 3}


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


def _error_is_named(name, error):
    def broken(*args):
        raise error

    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(broken)
    message = assert_one_sentence(caught.value)
    assert type(error).__name__ in message and "Hint:" in message
    assert caught.value.__suppress_context__  # no chained traceback behind the sentence
    return message


@pytest.mark.parametrize(("number", "name"), CASES)
def test_an_error_in_the_learners_code_is_named_with_a_hint(number, name):
    message = _error_is_named(name, ZeroDivisionError("division by zero"))
    assert message.startswith(f"Your {name} raised ZeroDivisionError (division by zero) on ")  # on which case
    assert len(message.split("Hint: ")[1]) > 20  # the check's own hint


ERRORS = [KeyError("k"), TypeError("unsupported operand"), IndexError("index 9 is out of bounds"),
          RuntimeError("shape mismatch: " + "a very long message from deep inside torch " * 20)]


@pytest.mark.parametrize("name", ["softmax", "split_heads"])
@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_every_kind_of_error_is_named_in_one_short_sentence(name, error):
    message = _error_is_named(name, error)
    assert str(error)[:100] in message  # the error's own words, cut short if long (assert_one_sentence: < 500)


@pytest.mark.parametrize(("number", "name"), CASES)
def test_returning_none_is_explained(number, name):
    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(lambda *args: None)
    message = assert_one_sentence(caught.value)
    assert "return" in message or "None" in message


def _not_callable_is_explained(name, not_a_function):
    with pytest.raises(checks.CheckFailed) as caught:
        getattr(checks, name)(not_a_function)
    message = assert_one_sentence(caught.value)
    assert "expects your function itself" in message and f"checks.{name}({name})" in message


@pytest.mark.parametrize(("number", "name"), CASES)
def test_passing_something_not_callable_is_explained(number, name):
    _not_callable_is_explained(name, None)  # e.g. checks.softmax(softmax(x)) where softmax forgot `return`


@pytest.mark.parametrize("name", ["softmax", "split_heads"])
@pytest.mark.parametrize("not_a_function", [3.0, "answer", torch.eye(2)], ids=["float", "str", "tensor"])
def test_every_kind_of_non_function_is_explained(name, not_a_function):
    _not_callable_is_explained(name, not_a_function)



@pytest.mark.parametrize(("number", "name"), CASES)
def test_an_answer_that_writes_into_its_inputs_is_rejected(number, name):
    """The right result, but the caller's arrays overwritten: rejected by every check whose inputs are data,
    naming the input; the check's own data (the lesson's catalogue, say) is left as it was."""
    solution = SOLUTIONS[number][name]
    answer = writes_into_its_inputs(solution)
    no_data = name in NO_DATA_INPUTS[number]
    try:
        getattr(checks, name)(answer)
    except checks.CheckFailed as failure:
        message = assert_one_sentence(failure)
        parameter = list(inspect.signature(solution).parameters)[answer.wrote[0]]
        assert f"changed its input `{parameter}` in place" in message
        assert not no_data
    else:
        assert no_data and not answer.wrote, f"{name} accepted an answer that wrote into its inputs"
    assert getattr(checks, name)(solution).status == "passed"  # the check's own data is intact
