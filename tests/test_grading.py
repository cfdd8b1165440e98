"""The grader, end to end: real kernels run real notebooks, good, wrong and broken (issue: instructors).

One class of submissions of the first lesson is graded once, three at a time (the three that wait out the cell
limit are graded first, side by side, and sleep while they wait), and each test reads its row.
The answer key and the learner's notebook are graded as they are; the other submissions are made from the
answer key without the cells that only draw a figure or a widget (a third of a run's time), so the grader
still meets every exercise and check cell. Mistakes that the grader reports separately share a submission
(each kernel costs seconds), and the loops sleep rather than spin: the grader's limit is wall-clock time,
so it meets them as it meets a busy loop, and they leave the CPU to the rest of the suite while they wait.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from executed import without_figures

from attention_course import grade as cli
from attention_course import grading

pytestmark = pytest.mark.notebooks  # real kernels run real notebooks

ROOT = Path(__file__).resolve().parents[1]
KEYS = grading.answer_keys(ROOT / "solutions")
LESSON = min(KEYS)  # lesson 1: numpy only, the quickest to run
KEY = KEYS[LESSON]
SOLUTION = ROOT / "solutions" / f"{KEY.stem}.ipynb"
LEARNER = ROOT / "lessons" / f"{KEY.stem}.ipynb"
# The import cell of lesson 1 (torch, the course's package; about 3 s alone) took more than 5 s beside the two
# book builds of `make test` and one busy process, and more than 10 s in a fresh-clone CI beside two busy
# processes (both 2026-12-07, `../shared/tools/ci-fresh --load 2`): 30 s for every cell, so that only the
# submissions that loop reach it.
LIMITS = grading.Limits(cell_timeout=30, notebook_timeout=600)
AS_THEY_ARE = {"solution", "learner", "invalid", "other_lesson"}  # the rest are graded without figure cells
LOOPING = {"broken_cells", "stuck", "loops_when_checked"}  # each waits out the limit once or twice: graded first
WRONG_SOFTMAX = "def softmax(x):\n    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)\n"


def solution() -> nbformat.NotebookNode:
    return nbformat.read(SOLUTION, as_version=4)


def solution_without_figures() -> nbformat.NotebookNode:
    return without_figures(solution())


def index(nb, text: str) -> int:
    return next(i for i, cell in enumerate(nb.cells) if text in cell.source)


def after(text: str, *codes: str):
    """Insert a cell for each of `codes`, in order, after the cell that holds `text`."""
    def edit(nb):
        position = index(nb, text) + 1
        nb.cells[position:position] = [nbformat.v4.new_code_cell(code) for code in codes]
    return edit


def both(*edits):
    def edit(nb):
        for one in edits:
            one(nb)
    return edit


def wrong_softmax_and(code: str):
    def edit(nb):
        nb.cells[index(nb, "def softmax(")].source = WRONG_SOFTMAX
        nb.cells.insert(index(nb, "def softmax(") + 1, nbformat.v4.new_code_cell(code))
    return edit


def hard_lookup_argmin(nb):
    cell = nb.cells[index(nb, "def hard_lookup(")]
    assert "np.argmax" in cell.source
    cell.source = cell.source.replace("np.argmax", "np.argmin")


def delete_soft_lookup(nb):
    del nb.cells[index(nb, "def soft_lookup(")]
    del nb.cells[index(nb, "checks.soft_lookup(")]


def reorder(nb):
    check = nb.cells.pop(index(nb, "checks.hard_lookup("))  # the check above its answer
    nb.cells.insert(index(nb, "def hard_lookup("), check)
    block = [nb.cells.pop(index(nb, "def cosine_similarity(")), nb.cells.pop(index(nb, "checks.cosine_similarity("))]
    position = index(nb, "checks.soft_lookup(") + 1  # a whole exercise moved further down
    nb.cells[position:position] = block


def rename_cosine(nb):
    cell = nb.cells[index(nb, "def cosine_similarity(")]
    cell.source = cell.source.replace("def cosine_similarity(", "def cosine_similarty(")


def function_that(body: str):
    """Replace the soft_lookup answer by a function whose call does `body`."""
    def edit(nb):
        nb.cells[index(nb, "def soft_lookup(")].source = f"def soft_lookup(*args):\n    {body}\n"
    return edit


FAKE_PAYLOAD = ("from IPython.display import display\n"
                "display({'application/vnd.attention-course.grade+json': {'status': 'passed', 'nonce': 'guess'}}, "
                "raw=True)\nprint('✔ softmax: all 7 cases pass')")

# Cells that break, each reported while the notebook goes on (one submission), and cells that stop the kernel,
# each answered by a new kernel without it (another).
BROKEN = {
    "loop": "import time\nwhile True:\n    time.sleep(0.1)",
    "sys_exit": "import sys\nsys.exit(3)",
    "prints": "print('x' * 3_000_000)\nfor _ in range(100):\n    print('y' * 10_000)",
    "memory": "hog = bytearray(8 * 2**30)",
}
FATAL = {"os_exit": "import os\nos._exit(1)", "ipython_exit": "exit()"}

VARIANTS = {
    "solution": None,
    "learner": None,
    "wrong": hard_lookup_argmin,
    "deleted_and_renamed": both(delete_soft_lookup, rename_cosine),
    "reordered": reorder,
    "broken_cells": after("checks.hard_lookup(", *BROKEN.values()),
    "fatal_cells": after("checks.hard_lookup(", *FATAL.values()),
    "stuck": after("checks.hard_lookup(", "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                                          "    except KeyboardInterrupt:\n        pass"),
    "kills_when_checked": function_that("import os; os._exit(1)"),
    "loops_when_checked": function_that("import time\n    while True:\n        time.sleep(0.1)"),
    "cheat_rebinds": wrong_softmax_and('checks.softmax = lambda f: print("✔ softmax: all 7 cases pass")'),
    "cheat_patches": wrong_softmax_and(
        "import attention_course.checks as c\nc.softmax = lambda f: None\nc.lesson01.softmax = lambda f: None\n"
        "c.core.Learner.__call__ = lambda self, *a, case: None\nc.core.close = lambda a, b: True\n"
        "c.core.diagnose = lambda *a, **k: None\nc.core.CheckFailed = type('Nothing', (Exception,), {})"),
    "cheat_modules": wrong_softmax_and(
        "import sys, types\nfake = types.ModuleType('attention_course.checks.lesson01')\n"
        "fake.softmax = lambda f: None\nsys.modules['attention_course.checks.lesson01'] = fake\n"
        "sys.modules['attention_course.checks.core'] = fake"),
    "cheat_fakes_verdict": wrong_softmax_and(FAKE_PAYLOAD),
}


def write_class(folder: Path) -> dict[str, Path]:
    paths = {}
    for name, edit in VARIANTS.items():
        path = folder / f"{name}.ipynb"
        if name == "learner":
            shutil.copy(LEARNER, path)
        elif name == "solution":
            shutil.copy(SOLUTION, path)
        else:
            nb = solution_without_figures()
            edit(nb)
            nbformat.write(nb, path)
        paths[name] = path
    paths["invalid"] = folder / "invalid.ipynb"
    paths["invalid"].write_text(SOLUTION.read_text(encoding="utf-8")[:500], encoding="utf-8")
    other = min(lesson for lesson in KEYS if lesson != LESSON)
    paths["other_lesson"] = folder / "other_lesson.ipynb"
    shutil.copy(ROOT / "solutions" / f"{KEYS[other].stem}.ipynb", paths["other_lesson"])
    return paths


def snapshot(paths) -> dict[Path, tuple[bytes, int]]:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in paths}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    paths = write_class(folder)
    before = snapshot(paths.values())
    finished = []
    ordered = sorted(paths, key=lambda name: (name not in LOOPING, name))
    results = grading.grade([paths[name] for name in ordered], lesson=LESSON, limits=LIMITS, jobs=3,
                            on_result=finished.append)
    assert len(finished) == len(paths)  # every submission was graded, whatever came before it
    return {result.path.stem: result for result in results}, before, paths


def statuses(result) -> dict[str, tuple[str, str]]:
    return {r.exercise.function: (r.status, r.message) for r in result.results}


def only_failure(result, function: str, status: str) -> str:
    """The message of `function`'s exercise, which must have `status`, while every other exercise passed."""
    found = statuses(result)
    got, message = found.pop(function)
    assert got == status, (got, message)
    assert all(other == "passed" for other, _ in found.values()), found
    return message


def full_marks(result) -> bool:
    return result.score == result.max_score == KEY.points and all(r.status == "passed" for r in result.results)


# ---------------------------------------------------------------- the three reference notebooks


def test_the_answer_key_gets_full_marks(graded):
    results, _, _ = graded
    assert full_marks(results["solution"])
    assert results["solution"].problems == []
    assert results["solution"].peak_memory_mb > 50


def test_the_learner_notebook_gets_zero_with_every_exercise_not_attempted(graded):
    result = graded[0]["learner"]
    assert result.score == 0 and result.max_score == KEY.points
    assert [r.status for r in result.results] == ["not attempted"] * len(KEY.exercises)
    assert all("NotImplementedError" in r.message for r in result.results)


def test_one_wrong_answer_fails_exactly_that_exercise_with_its_message(graded):
    message = only_failure(graded[0]["wrong"], "hard_lookup", "failed")
    assert "argmin" in message and "worst match" in message


# ---------------------------------------------------------------- bad input: each case is reported, and grading goes on


def test_invalid_json_is_reported_and_not_run(graded):
    result = graded[0]["invalid"]
    assert any("not valid JSON" in p for p in result.problems)
    assert {status for status, _ in statuses(result).values()} == {"error"} and result.score == 0


def test_a_notebook_of_another_lesson_is_named_and_not_run(graded):
    result = graded[0]["other_lesson"]
    assert any(f"not lesson {LESSON:02d}" in p and "wrong file" in p for p in result.problems)
    assert result.score == 0 and result.peak_memory_mb is None  # no kernel ran: none measured its memory
    assert all(message.startswith("Not checked: the notebook is lesson") for _, message in statuses(result).values())


def test_deleted_cells_fail_only_their_exercise(graded):
    found = statuses(graded[0]["deleted_and_renamed"])
    status, message = found.pop("soft_lookup")
    assert status == "error" and "defines no `soft_lookup`" in message and "deleted" in message
    assert found.pop("cosine_similarity")[0] == "error"  # renamed: the next test
    assert all(other == "passed" for other, _ in found.values()), found


def test_reordered_cells_are_graded_where_the_answer_is(graded):
    assert full_marks(graded[0]["reordered"])


def test_a_renamed_function_is_an_error_that_names_the_new_name(graded):
    status, message = statuses(graded[0]["deleted_and_renamed"])["cosine_similarity"]
    assert status == "error" and "`cosine_similarty`" in message


BROKEN_CELLS = {  # broken cell -> what the report must say about it; every exercise still passes
    "loop": ["ran longer than 30 s and was interrupted", "went on after it"],
    "stuck": ["did not stop when interrupted", "new kernel without that cell"],
    "os_exit": ["killed the kernel", "new kernel without that cell"],
    "ipython_exit": ["stopped the kernel (it called exit())", "new kernel without that cell"],
    "sys_exit": ["called sys.exit()", "the notebook went on"],
    "prints": ["of output; only the first", "was kept"],
    "memory": ["ran out of memory", "MemoryError"],
}


SUBMISSION_OF = {**dict.fromkeys(BROKEN, "broken_cells"), **dict.fromkeys(FATAL, "fatal_cells"), "stuck": "stuck"}


@pytest.mark.parametrize("name", sorted(BROKEN_CELLS))
def test_a_broken_cell_is_reported_and_the_rest_is_graded(graded, name):
    result = graded[0][SUBMISSION_OF[name]]
    assert full_marks(result), statuses(result)
    assert any(all(needle in p for needle in BROKEN_CELLS[name]) for p in result.problems), result.problems


def test_several_broken_cells_are_each_reported_once(graded):
    for submission, cells in [("broken_cells", BROKEN), ("fatal_cells", FATAL)]:
        problems = graded[0][submission].problems
        assert len(problems) == len(cells), problems
        named = [code.split("\n")[0] for code in cells.values() if code.startswith(("import", "exit"))]
        assert all(any(f"(`{line}`)" in p for p in problems) for line in named), problems


def test_a_function_that_kills_the_kernel_when_checked_fails_alone(graded):
    message = only_failure(graded[0]["kills_when_checked"], "soft_lookup", "error")
    assert "killed the kernel while it was checked" in message


def test_a_function_that_loops_when_checked_times_out_alone(graded):
    message = only_failure(graded[0]["loops_when_checked"], "soft_lookup", "error")
    assert "ran longer than 30 s while it was checked" in message


# ---------------------------------------------------------------- trust: the checks come from the package


@pytest.mark.parametrize("name", ["cheat_rebinds", "cheat_patches", "cheat_modules", "cheat_fakes_verdict"])
def test_a_notebook_that_tampers_with_the_checks_cannot_pass(graded, name):
    # the wrong softmax is caught, whatever was patched
    assert "nan or inf" in only_failure(graded[0][name], "softmax", "failed")


def test_tampering_is_named_in_the_report(graded):
    assert any("changes `checks.softmax`" in p for p in graded[0]["cheat_rebinds"].problems)
    assert any("touches sys.modules" in p for p in graded[0]["cheat_modules"].problems)


def test_no_submission_file_was_changed(graded):
    _, before, paths = graded
    assert snapshot(paths.values()) == before
    assert sorted(p.name for p in paths["solution"].parent.iterdir()) == sorted(p.name for p in paths.values())


def test_checks_changed_on_disk_stop_the_grading(tmp_path):
    copied = tmp_path / "checks"
    shutil.copytree(ROOT / "attention_course" / "checks", copied, ignore=shutil.ignore_patterns("__pycache__"))
    nb = solution_without_figures()
    core = copied / "core.py"
    nb.cells.insert(3, nbformat.v4.new_code_cell(f"open({str(core)!r}, 'a').write('\\nPASS = True\\n')"))
    submission = tmp_path / "writes_to_checks.ipynb"
    nbformat.write(nb, submission)
    with pytest.raises(grading.GradingAborted, match="changed on disk"):
        grading.grade([submission], lesson=LESSON, limits=LIMITS, checks=grading.CheckSources.read(copied))


# ---------------------------------------------------------------- the report


def test_the_table_has_a_row_per_student_and_exercise_then_totals(graded):
    results = [graded[0]["solution"], graded[0]["learner"], graded[0]["invalid"]]
    text = cli.as_table(results)
    body, totals = text.split("\nTotals\n")
    lines = body.strip().split("\n")
    assert lines[0].split() == ["student", "lesson", "exercise", "status", "points", "message"]
    assert len(lines) == 1 + 3 * len(KEY.exercises)
    assert re.search(rf"^solution\s+{LESSON:02d}\s+{KEY.points}/{KEY.points}\s", totals, re.MULTILINE)
    assert re.search(rf"^learner\s+{LESSON:02d}\s+0/{KEY.points}\s", totals, re.MULTILINE)
    assert "invalid: The file is not valid JSON" in totals


def test_csv_and_json_carry_the_same_rows_and_totals(graded):
    results = [graded[0]["solution"], graded[0]["wrong"]]
    rows = list(csv.DictReader(io.StringIO(cli.as_csv(results))))
    exercises = [row for row in rows if row["exercise"] != "total"]
    assert len(exercises) == 2 * len(KEY.exercises)
    assert {(row["student"], row["points"]) for row in rows if row["exercise"] == "total"} == \
        {("solution", str(KEY.points)), ("wrong", str(KEY.points - KEY.exercises[0].points))}
    report = json.loads(cli.as_json(results))
    assert report["rows"] == cli.rows(results)
    assert [t["points"] for t in report["totals"]] == [KEY.points, KEY.points - KEY.exercises[0].points]
    assert report["totals"][1]["failed"] == 1


def test_the_command_line_reports_bad_arguments_in_one_line(tmp_path, capsys):
    invalid = tmp_path / "broken.ipynb"
    invalid.write_text("{", encoding="utf-8")
    assert cli.main([str(invalid), str(tmp_path / "missing.ipynb"), "--lesson", str(LESSON), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "missing.ipynb does not exist; skipped" in captured.err
    assert "broken,01,1.1" in captured.out and "Traceback" not in captured.out + captured.err
    assert cli.main([str(tmp_path / "missing.ipynb")]) == 2
    assert cli.main([str(invalid), "--lesson", "99"]) == 3
    assert "there is no lesson 99" in capsys.readouterr().err


def test_a_folder_is_searched_for_notebooks(tmp_path):
    (tmp_path / "submitted" / "alice" / "ps1").mkdir(parents=True)
    (tmp_path / "submitted" / "alice" / "ps1" / "01_lookup.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "submitted" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "submitted" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}", encoding="utf-8")
    found, missing = cli.find_notebooks([str(tmp_path / "submitted")])
    assert [p.name for p in found] == ["01_lookup.ipynb"] and missing == []


def test_a_notebook_with_no_lesson_is_reported_when_no_lesson_is_given(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    path = tmp_path / "hello.ipynb"
    nbformat.write(nb, path)
    [result] = grading.grade([path], limits=LIMITS)
    assert result.key is None and result.results == []
    assert "Cannot tell which lesson" in result.problems[0]
    assert "--lesson NN" in cli.as_table([result])
