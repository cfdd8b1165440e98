"""The grader's parts that need no kernel: reading files, finding the lesson, planning, flagging tampering."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from attention_course import grading
from attention_course.grading import AnswerKey, Cell, GradedExercise

ROOT = Path(__file__).resolve().parents[1]
KEYS = grading.answer_keys(ROOT / "solutions")


def key(*functions: str, lesson: int = 1, stem: str = "01_demo") -> AnswerKey:
    return AnswerKey(lesson, stem, tuple(GradedExercise(f"{lesson}.{i}", name, name, 1, f"check-{name}")
                                         for i, name in enumerate(functions, start=1)))


def cells(*sources: str) -> list[Cell]:
    return [Cell(number, source) for number, source in enumerate(sources, start=1)]


# ---------------------------------------------------------------- the answer keys


def test_every_lesson_has_an_answer_key_with_its_checks_and_points():
    from attention_course import checks

    assert sorted(KEYS) == sorted(checks.LESSONS)
    for lesson, answer in KEYS.items():
        assert answer.exercises, lesson
        assert {e.check for e in answer.exercises} == set(checks.LESSONS[lesson].__all__)
        assert all(e.points >= 1 and e.grade_id == f"check-{e.check}" for e in answer.exercises)
        assert [e.number for e in answer.exercises] == [f"{lesson}.{i}" for i in range(1, len(answer.exercises) + 1)]


def test_the_check_sources_name_what_a_lesson_module_imports():
    sources = grading.CheckSources.read()
    needed, aliases = sources.request("lesson06")
    assert set(needed) == {"checks.lesson06", "checks.core"}
    assert {"conv_heads", "multihead"} <= set(aliases) and "checks" not in aliases
    assert all(Path(path).exists() and text for path, text in needed.values())
    assert sources.unchanged()


# ---------------------------------------------------------------- reading a submission


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "not valid JSON"),
    (b'{"cells": [', "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not text"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b'{"metadata": {}}', "not a Jupyter notebook"),
    (b'{"cells": "nope"}', "not a Jupyter notebook"),
])
def test_a_file_that_is_not_a_notebook_is_one_sentence(data, needle):
    code, markdown, problem = grading.read_submission(data)
    assert code == [] and markdown == []
    assert needle in problem and "\n" not in problem and "Traceback" not in problem


def test_a_notebook_with_odd_cells_is_still_read():
    raw = {"cells": [{"cell_type": "code", "source": ["x = 1\n", "y = 2"]}, "not a cell",
                     {"cell_type": "code", "source": 42}, {"cell_type": "markdown", "source": "# Title"},
                     {"cell_type": "raw", "source": "ignored"}, {"cell_type": "code"}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    code, markdown, problem = grading.read_submission(json.dumps(raw).encode())
    assert problem is None
    assert code == [Cell(1, "x = 1\ny = 2"), Cell(6, "")]
    assert markdown == ["# Title"]


def test_an_oversized_file_is_refused_without_parsing(monkeypatch):
    monkeypatch.setattr(grading.notebook, "MAX_SUBMISSION_BYTES", 10)
    _, _, problem = grading.read_submission(b'{"cells": []}' + b" " * 20)
    assert "not graded above" in problem


# ---------------------------------------------------------------- which lesson is it?


@pytest.mark.parametrize("lesson", sorted(KEYS))
def test_each_answer_key_and_learner_notebook_is_recognised(lesson):
    for folder in ("solutions", "lessons"):
        notebook = ROOT / folder / f"{KEYS[lesson].stem}.ipynb"
        code, markdown, _ = grading.read_submission(notebook.read_bytes())
        assert grading.best_match(grading.identify(code, markdown, KEYS)) == lesson


def test_an_unrelated_notebook_is_no_lesson():
    code, markdown, _ = grading.read_submission(json.dumps(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('hello')")])).encode())
    assert grading.best_match(grading.identify(code, markdown, KEYS)) is None


# ---------------------------------------------------------------- the plan: where each check runs


def sources_of(steps):
    return [step.source if step.cell else f"CHECK {step.exercise.function}" for step in steps]


def test_checks_replace_the_learners_check_cells():
    steps = grading.plan(cells("import x", "def f(): return 1", "checks.f(f)", "def g(): return 2", "checks.g(g)",
                               "print('after')"), key("f", "g"))
    assert sources_of(steps) == ["import x", "def f(): return 1", "CHECK f", "def g(): return 2", "CHECK g",
                                 "print('after')"]


def test_a_check_runs_after_the_later_of_its_check_cell_and_its_definition():
    moved = grading.plan(cells("checks.f(f)", "x = 1", "def f(): return 1", "y = 2"), key("f"))
    assert sources_of(moved) == ["x = 1", "def f(): return 1", "CHECK f", "y = 2"]
    redefined = grading.plan(cells("def f(): pass", "checks.f(f)", "def f(): return 3"), key("f"))
    assert sources_of(redefined) == ["def f(): pass", "def f(): return 3", "CHECK f"]


def test_an_exercise_with_no_cells_is_checked_at_the_end():
    steps = grading.plan(cells("x = 1", "def f(): return 1", "checks.f(f)"), key("f", "gone"))
    assert sources_of(steps) == ["x = 1", "def f(): return 1", "CHECK f", "CHECK gone"]


def test_a_check_cell_with_more_code_is_kept_and_empty_cells_are_dropped():
    steps = grading.plan(cells("", "def f(): return 1", "checks.f(f)\nprint('more')"), key("f"))
    assert sources_of(steps) == ["def f(): return 1", "checks.f(f)\nprint('more')", "CHECK f"]


def test_bound_names_reads_magics_and_broken_cells():
    assert grading.bound_names("%matplotlib inline\ndef f(x):\n    return x\nA, B = 1, 2\nclass C: pass") == \
        {"f", "A", "B", "C"}
    assert grading.bound_names("def f(x):\n    return (\n") == {"f"}  # a SyntaxError: found by pattern
    assert grading.bound_names("from m import f\nf(3)") == set()  # an import is not the learner's answer


# ---------------------------------------------------------------- tampering is named, for a human to read


@pytest.mark.parametrize(("source", "needle"), [
    ("checks.softmax = lambda f: None", "changes `checks.softmax`"),
    ("import attention_course.checks as c\nc.lesson01.softmax = print", "changes `c.lesson01.softmax`"),
    ("from attention_course.checks import core\ncore.close = max", "changes `core.close`"),
    ("setattr(checks, 'softmax', print)", "changes `checks`"),
    ("import fake as checks", "changes `checks`"),
    ("def checks(): pass", "changes `checks`"),
    ("import sys\nsys.modules['attention_course.checks'] = None", "touches sys.modules"),
    ("get_ipython().input_transformers_post.append(f)", "input transformers"),
    ("import builtins\nbuiltins.print = len", "touches builtins"),
])
def test_tampering_is_reported(source, needle):
    found = grading.tampering(cells("x = 1", source))
    assert any(needle in sentence and sentence.startswith("Cell 2 ") for sentence in found), found


def test_ordinary_lesson_code_is_not_reported():
    for folder in ("lessons", "solutions"):
        notebook = ROOT / folder / f"{KEYS[1].stem}.ipynb"
        code, _, _ = grading.read_submission(notebook.read_bytes())
        assert grading.tampering(code) == []


# ---------------------------------------------------------------- names and the kernel's environment


def test_student_names_come_from_files_or_nbgrader_folders():
    paths = [Path("class/alice.ipynb"), Path("submitted/bob/ps1/06_multi_head.ipynb"),
             Path("a/carol.ipynb"), Path("b/carol.ipynb")]
    assert grading.student_names(paths) == ["alice", "bob/ps1", "a/carol.ipynb", "b/carol.ipynb"]


def test_the_kernel_environment_drops_nbgrader_and_limits_threads(tmp_path, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    env = grading.kernel_environment(tmp_path, threads=1)
    assert "NBGRADER_EXECUTION" not in env
    assert env["OMP_NUM_THREADS"] == "1" and env["TQDM_DISABLE"] == "1"
    assert env["IPYTHONDIR"].startswith(str(tmp_path))


def test_a_fault_of_the_graders_is_reported_and_grading_goes_on(tmp_path, monkeypatch):
    async def broken(path, student, *args, **kwargs):
        if path.name == "first.ipynb":
            raise RuntimeError("an unexpected state")
        return grading.SubmissionResult(path, student, KEYS[1])

    monkeypatch.setattr(grading.grader, "grade_submission", broken)
    paths = [tmp_path / "first.ipynb", tmp_path / "second.ipynb"]
    first, second = grading.grade(paths, lesson=1)
    assert "grader itself failed" in first.problems[0] and "RuntimeError" in first.problems[0]
    assert {r.status for r in first.results} == {"error"} and second.problems == []
