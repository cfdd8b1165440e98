"""Shared by the check tests: what a check's failure must look like."""

from attention_course import checks


def assert_one_sentence(error: checks.CheckFailed) -> str:
    """A failure is one plain line: no traceback, shown in Jupyter as "✘ <message>". Returns the message."""
    message = str(error)
    assert message and "Traceback" not in message and "\n" not in message
    assert len(message) < 500
    assert error._render_traceback_() == [f"✘ {message}"]
    return message
