"""nbval runs every cell of lessons/ and solutions/. This hook also reads what each check cell printed:
in solutions/ every check must pass, and in lessons/ every check must say "not attempted yet".

The notebooks run in the lessons' fast mode (ATTENTION_COURSE_FAST=1, see attention_course.dates): nbval
checks that every cell runs, not how well lesson 9's model learns. The book build runs them in full.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHECK_CALL = re.compile(r"^checks\.\w+\(", re.MULTILINE)
EXPECTED = {"solutions": "✔", "lessons": "not attempted yet"}
FAST_ENV = "ATTENTION_COURSE_FAST"  # attention_course.dates.FAST_ENV; read by the kernels nbval starts
os.environ.setdefault(FAST_ENV, "1")


def _printed(outputs) -> str:
    return "".join(out.get("text", "") for out in outputs or [] if out.get("output_type") == "stream")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    cell = getattr(item, "cell", None)
    folder = Path(str(item.path)).parent.name
    if cell is not None and folder in EXPECTED and CHECK_CALL.search(cell.source):
        printed = _printed(getattr(item, "test_outputs", None))
        assert EXPECTED[folder] in printed, (
            f"{item.path.name}: the check cell `{cell.source.strip()}` printed {printed.strip()!r}; "
            f"in {folder}/ it should print {EXPECTED[folder]!r}."
        )
    return result
