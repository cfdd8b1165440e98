"""What every check of every lesson promises (DESIGN.md §4), tested once for all lessons.

Each tests/test_checks_lessonNN.py holds the lesson's SOLUTIONS (check name -> a correct answer) and its
realistic wrong answers; this module takes the SOLUTIONS and holds every check to the shared contract.

Every check calls the learner's code through checks.core.Learner, which turns an error, a stub or something
not callable into a sentence the same way for all of them. So what depends on the check (its solution, its
wrong answers, its hint, how it reaches the learner's code and reads what comes back) is tested on every
check, and the kinds of error and of non-function are tested once each, on two checks.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import re
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence, writes_into_its_inputs

from attention_course import checks
from attention_course.notebooks import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]

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
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning would print in the learner's check cell
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


# ---------------------------------------------------------------- hints point to the idea, never to the code (DESIGN §8)


def solution_bodies() -> dict[str, str]:
    """check name -> the code of its exercise's solution in book/*.md (between the solution markers, followed by
    the cell `checks.<name>(...)`)."""
    bodies = {}
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        text = path.read_text(encoding="utf-8")
        for block in re.finditer(rf"^[ \t]*{re.escape(BEGIN)}[ \t]*\n(.*?)^[ \t]*{re.escape(END)}", text, re.DOTALL | re.MULTILINE):
            bodies[re.search(r"^checks\.(\w+)\(", text[block.end():], re.MULTILINE).group(1)] = textwrap.dedent(block.group(1))
    return bodies


class _Anonymous(ast.NodeTransformer):
    """Every name becomes `_`, so `values[np.argmax(scores)]` and `V[np.argmax(s)]` read the same; attributes,
    keywords and constants stay, as they carry the solution's idea (`.argmax`, `axis=-1`, `keepdims=True`)."""

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(id="_", ctx=ast.Load()), node)


def _is_trivial(node: ast.expr) -> bool:
    """`f(x)` or `a[i]` with names only: once names are gone it matches any call or index, so it says nothing."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and not node.keywords and all(isinstance(a, ast.Name) for a in node.args)
    return isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Name)


class _Inlined(ast.NodeTransformer):
    """Each name assigned once in a solution, replaced in later lines by what it was assigned, so that
    `scores = keys @ query` then `softmax(scores / t)` also reads as `softmax(keys @ query / t)`."""

    def __init__(self):
        self.values = {}

    def visit_Assign(self, node):
        node.value = self.visit(node.value)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            self.values[node.targets[0].id] = node.value
        return node

    def visit_Name(self, node):
        return copy.deepcopy(self.values[node.id]) if isinstance(node.ctx, ast.Load) and node.id in self.values else node


def solution_expressions(body: str) -> set[str]:
    """key_expressions of a solution, as written and with its intermediate names inlined."""
    return key_expressions(ast.parse(body)) | key_expressions(_Inlined().visit(ast.parse(body)))


def key_expressions(tree: ast.AST) -> set[str]:
    """The expressions of `tree` that hold a call or a subscript, without names, as comparable text. Only values
    are looked at: `return` and assignment targets drop out, and comments were never in the tree."""
    found = set()
    for node in ast.walk(_Anonymous().visit(tree)):
        if (isinstance(node, ast.expr) and not isinstance(node.ctx if hasattr(node, "ctx") else None, ast.Store)
                and not _is_trivial(node)
                and any(isinstance(inner, (ast.Call, ast.Subscript)) for inner in ast.walk(node))):
            found.add(ast.dump(node))
    return found


def code_in(text: str, longest: int = 14) -> set[str]:
    """key_expressions of every run of up to `longest` words of `text` that parses as a Python expression."""
    words = text.replace("`", " ").split()
    found = set()
    for start in range(len(words)):
        for end in range(start + 1, min(start + longest, len(words)) + 1):
            span = " ".join(words[start:end]).rstrip(".,;:")
            try:
                found |= key_expressions(ast.parse(span, mode="eval"))
            except SyntaxError:
                continue
    return found


HINTS = {name: getattr(checks, name).hint for solutions in SOLUTIONS.values() for name in solutions}
OLD_HINTS = {  # the hints issue 15 found giving the answer away: the test must catch each
    "hard_lookup": "score every key with a dot product (keys @ query), then take values[np.argmax(scores)].",
    "soft_lookup": "weights = softmax(keys @ query / temperature); output = weights @ values; return output, weights.",
    "equivariance_gap": "a = layer(X[:, perm]); b = layer(X)[:, perm]; return (a - b).abs().max().item().",
}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_a_hint_holds_none_of_the_solutions_code(name):
    solution = solution_expressions(solution_bodies()[name])
    given_away = solution & code_in(HINTS[name])
    assert not given_away, f"the hint of {name} holds its solution's code: {sorted(given_away)}"
    assert len(HINTS[name]) <= 200  # with the error and the case, the sentence stays under 500 characters


@pytest.mark.parametrize("name", sorted(OLD_HINTS))
def test_the_hints_that_gave_the_answer_away_are_caught(name):
    assert solution_expressions(solution_bodies()[name]) & code_in(OLD_HINTS[name])


def test_the_mutant_report_tells_a_named_mistake_from_the_fallback_and_from_a_pass():
    from coursekit.check_mutants import verdict

    solution = SOLUTIONS[2]["scale_factor"]
    assert verdict("scale_factor", lambda Q, K: 1)[0] == "specific"  # "no scaling"
    assert verdict("scale_factor", lambda Q, K: 0.3)[0] == "generic"  # "gave 0.3 ...; expected 1/√4 = 0.5"
    assert verdict("scale_factor", solution)[0] == "accepted"
