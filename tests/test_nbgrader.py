"""The answer keys work with the real nbgrader (a test dependency: requirements-test.txt, installed by make test).

In a temporary nbgrader course, `nbgrader generate_assignment` on solutions/NN.ipynb must release exactly
lessons/NN.ipynb, and `nbgrader autograde` must give every exercise the points the course's grader gives.
The answer key is submitted whole; the blank and the wrong submission without the cells that only draw a
figure or a widget (a third of a run's time, and no points), as a learner may delete them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from executed import without_figures

from attention_course import grading

pytestmark = pytest.mark.notebooks  # real kernels run real notebooks

ROOT = Path(__file__).resolve().parents[1]
KEYS = grading.answer_keys(ROOT / "solutions")
KEY = KEYS[min(KEYS)]  # lesson 1, the quickest to run
ASSIGNMENT = "lesson"
BIN = Path(sys.executable).parent


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    env.pop("NBGRADER_EXECUTION", None)
    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def wrong_answer(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The answer key with the first exercise's solution changed to a realistic mistake."""
    cell = next(c for c in nb.cells if c.source.startswith(f"def {KEY.exercises[0].function}("))
    assert "np.argmax" in cell.source
    cell.source = cell.source.replace("np.argmax", "np.argmin")
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    if not (BIN / "nbgrader").exists():  # a clear failure, not a skip
        pytest.fail("nbgrader is missing: it is a test dependency; run `make test`, which installs "
                    "requirements-test.txt.", pytrace=False)
    course = tmp_path_factory.mktemp("nbgrader_course")
    (course / "nbgrader_config.py").write_text(
        "from coursekit import execution\nexecution.install()  # no stall on a widget cell (coursekit/execution.py)\n"
        "c = get_config()\nc.CourseDirectory.course_id = 'attention'\nc.Execute.timeout = 120\n", encoding="utf-8")
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / f"{KEY.stem}.ipynb", course / "source" / ASSIGNMENT)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    submissions = {
        "key": nbformat.read(ROOT / "solutions" / f"{KEY.stem}.ipynb", as_version=4),
        "blank": without_figures(nbformat.read(ROOT / "lessons" / f"{KEY.stem}.ipynb", as_version=4)),
        "wrong": without_figures(wrong_answer(nbformat.read(ROOT / "solutions" / f"{KEY.stem}.ipynb", as_version=4))),
    }
    for student, nb in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{KEY.stem}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, "--force")
    return course


def comparable(cell) -> tuple:
    metadata = {k: v for k, v in cell.metadata.items()}
    if "nbgrader" in metadata:  # nbgrader adds its own bookkeeping to the cells it manages
        metadata["nbgrader"] = {k: v for k, v in metadata["nbgrader"].items() if k not in ("checksum", "cell_type")}
    return cell.cell_type, cell.get("id"), cell.source, metadata


def test_generate_assignment_releases_the_learner_notebook(course):
    released = nbformat.read(course / "release" / ASSIGNMENT / f"{KEY.stem}.ipynb", as_version=4)
    ours = nbformat.read(ROOT / "lessons" / f"{KEY.stem}.ipynb", as_version=4)
    assert len(released.cells) == len(ours.cells)
    for theirs, mine in zip(released.cells, ours.cells):
        assert comparable(theirs) == comparable(mine)
    assert released.metadata.kernelspec == ours.metadata.kernelspec


def nbgrader_points(course: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook  # here, not at the top: its imports cost 1.4 s in every `make quick` process

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", course_id="attention") as gradebook:
        notebook = gradebook.find_submission_notebook(KEY.stem, ASSIGNMENT, student)
        return {grade.name: grade.score for grade in notebook.grades}


# The points the course's grader gives these submissions, exercise by exercise: tests/test_grading.py grades the
# same three notebooks (the answer key, the learner's notebook, and the key with the first exercise's argmax
# made argmin) and asserts exactly these. Written out here rather than graded a second time.
COURSE_GRADER_POINTS = {
    "key": {e.grade_id: float(e.points) for e in KEY.exercises},
    "blank": {e.grade_id: 0.0 for e in KEY.exercises},
    "wrong": {e.grade_id: 0.0 if e is KEY.exercises[0] else float(e.points) for e in KEY.exercises},
}


@pytest.mark.parametrize("student", ["key", "blank", "wrong"])
def test_autograde_gives_the_same_points_as_the_course_grader(course, student):
    theirs = nbgrader_points(course, student)
    ours = COURSE_GRADER_POINTS[student]
    assert set(ours) <= set(theirs)
    assert {grade_id: theirs[grade_id] for grade_id in ours} == ours
    expected = {"key": KEY.points, "blank": 0, "wrong": KEY.points - KEY.exercises[0].points}[student]
    assert sum(theirs[grade_id] for grade_id in ours) == expected
