"""Under nbgrader (NBGRADER_EXECUTION set), a check fails an untouched stub, so nbgrader scores it 0.

In a learner's own notebook the same check only says "not attempted yet" and lets the notebook go on.
"""

from __future__ import annotations

import pytest
from check_helpers import assert_one_sentence

from attention_course import checks
from attention_course.checks.core import NotAttemptedYet

# Every check reaches a stub through checks.core, which decides between "not attempted yet" and NotAttemptedYet;
# that each check reaches the stub, and prints nothing else, is held for every check in test_checks_contract.py
NAMES = ["softmax", "greedy_decode"]


def stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


@pytest.mark.parametrize("mode", ["autograde", "validate"])
@pytest.mark.parametrize("name", NAMES)
def test_a_stub_fails_under_nbgrader(monkeypatch, capsys, name, mode):
    monkeypatch.setenv("NBGRADER_EXECUTION", mode)
    with pytest.raises(NotAttemptedYet) as caught:
        getattr(checks, name)(stub)
    assert isinstance(caught.value, checks.CheckFailed)  # an AssertionError: nbgrader counts the test as failed
    message = assert_one_sentence_not_attempted(caught.value)
    assert message.startswith(f"{name}: not attempted yet")
    assert capsys.readouterr().out == ""


def assert_one_sentence_not_attempted(error: NotAttemptedYet) -> str:
    message = str(error)
    assert message and "\n" not in message and "Traceback" not in message
    assert error._render_traceback_() == [f"○ {message}"]
    return message


@pytest.mark.parametrize("value", ["", "0", "something-else"])
def test_other_values_leave_the_learner_behaviour(monkeypatch, capsys, value):
    monkeypatch.setenv("NBGRADER_EXECUTION", value)
    result = checks.softmax(stub)
    assert result.status == "not attempted" and "not attempted yet" in capsys.readouterr().out


def test_a_wrong_answer_still_fails_with_its_own_sentence_under_nbgrader(monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(checks.CheckFailed) as caught:
        checks.softmax(lambda x: x)
    assert not isinstance(caught.value, NotAttemptedYet)
    assert_one_sentence(caught.value)
