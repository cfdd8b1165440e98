"""Shared by the check tests (and coursekit.check_mutants): what a check's failure must look like, and the
mutant that every check whose inputs are data must reject."""

import functools

import numpy as np
import torch

from attention_course import checks


def assert_one_sentence(error: checks.CheckFailed) -> str:
    """A failure is one plain line: no traceback, shown in Jupyter as "✘ <message>". Returns the message."""
    message = str(error)
    assert message and "Traceback" not in message and "\n" not in message
    assert len(message) < 500
    assert error._render_traceback_() == [f"✘ {message}"]
    return message


def write_into(data) -> bool:
    """Change one entry of an array or tensor in place, as `x -= ...` or `x[0] = ...` would; False for others."""
    if isinstance(data, torch.Tensor) and data.numel():
        with torch.no_grad():
            flat = data.view(-1)
            flat[0] = ~flat[0] if data.dtype == torch.bool else flat[0] + 1
        return True
    if isinstance(data, np.ndarray) and data.size and data.flags.writeable:
        data.flat[0] = not data.flat[0] if data.dtype == bool else data.flat[0] + 1
        return True
    return False


def writes_into_its_inputs(solution):
    """The solution, then a write into each of its array or tensor inputs: the right result, the caller's data
    overwritten. `.wrote` lists the positions of the inputs it changed on its last call."""

    @functools.wraps(solution)  # the check names the input by the solution's parameter names
    def overwrites_its_inputs(*args):
        result = solution(*args)
        overwrites_its_inputs.wrote = [position for position, data in enumerate(args) if write_into(data)]
        return result

    overwrites_its_inputs.wrote = []
    return overwrites_its_inputs
