"""Every widget exercise can be answered without the live widget (DESIGN.md §4): the book and Colab show none,
so the exercise names the plain function behind the widget and shows one call, and that call runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = re.compile(r"^:::\{exercise\}(?P<title>[^\n]*)\n(?P<body>.*?)^:::$", re.DOTALL | re.MULTILINE)
IMPORT = re.compile(r"^(?:from attention_course import [^\n]+|import (?:numpy|torch)[^\n]*)$", re.MULTILINE)


def widget_exercises() -> list[tuple[str, str, str]]:
    """(lesson, exercise title, exercise text) for every exercise that asks the learner to use a widget."""
    found = []
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.md")):
        for match in EXERCISE.finditer(path.read_text(encoding="utf-8")):
            if "widget" in match.group("body"):
                found.append((path.stem, match.group("title").strip(), match.group("body")))
    return found


def lesson_namespace(stem: str) -> dict:
    """What the lesson's import cell defines: `widgets`, `masking`, `sa`, ..."""
    namespace: dict = {}
    exec("\n".join(IMPORT.findall((ROOT / "book" / f"{stem}.md").read_text(encoding="utf-8"))), namespace)  # noqa: S102
    return namespace


def calls_of_the_package(text: str, namespace: dict) -> list[str]:
    """The code spans of `text` that call a function of a module the lesson imported, e.g. masking.mask_state(...)."""
    calls = []
    for span in re.findall(r"`([^`\n]+)`", text):
        try:
            tree = ast.parse(span, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in namespace
                    and not any(isinstance(name, ast.Name) and name.id not in namespace for name in ast.walk(tree))):
                calls.append(span)
                break
    return calls


def test_every_lesson_with_a_widget_has_a_widget_exercise():
    assert {stem for stem, _, _ in widget_exercises()} == {path.stem for path in (ROOT / "book").glob("[0-9][0-9]_*.md")}


@pytest.mark.parametrize(("stem", "title", "text"), widget_exercises(), ids=[stem for stem, _, _ in widget_exercises()])
def test_a_widget_exercise_shows_a_call_of_the_function_behind_the_widget(stem, title, text):
    namespace = lesson_namespace(stem)
    calls = calls_of_the_package(text, namespace)
    assert calls, f"{stem}, {title!r}: no call of a package function that answers without the widget"
    for call in calls:
        eval(call, namespace)
