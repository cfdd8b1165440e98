"""`make book-nosolutions`: the book with every solution removed, not hidden; no solution text in its build.

The build (tests/builds.py) is also the suite's one run of the learners' notebooks: lessons/ holds exactly
the cells it executed, and every check in it said "not attempted yet".
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from executed import check_lines, lesson_code

from attention_course import nosolutions, syllabus
from attention_course.notebooks import BEGIN, END

ROOT = Path(__file__).resolve().parents[1]
LESSONS = syllabus.lessons(ROOT)

PAGE = """\
:::{exercise} Double it
:label: ex-double
:::

```{solution-start} ex-double
:class: dropdown
```

```{code-cell} ipython3
def double(x):
    ### BEGIN SOLUTION
    return x * 2  # the secret
    ### END SOLUTION
```

```{solution-end}
```

```{code-cell} ipython3
checks.double(double)
```
"""


def test_a_page_loses_its_solution_and_keeps_the_stub():
    page = nosolutions.without_solutions(PAGE)
    assert "solution-start" not in page and "solution-end" not in page and ":class: dropdown" not in page
    assert "the secret" not in page and BEGIN not in page and END not in page
    assert "def double(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()" in page
    assert ":::{exercise} Double it" in page and "checks.double(double)" in page


def test_every_exercise_has_a_solution_body_to_look_for():
    bodies = nosolutions.solution_bodies(ROOT)
    for lesson in LESSONS:
        assert len(bodies[lesson.stem]) == len(lesson.exercises), lesson.stem
    assert len(nosolutions.telltale_lines(ROOT)) >= len(LESSONS) * 3


def test_the_leak_search_finds_a_planted_solution(tmp_path):
    line = min(nosolutions.telltale_lines(ROOT))
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "book" / "clean.html").write_text("<p>nothing here</p>", encoding="utf-8")
    assert nosolutions.leaks(html, ROOT) == []
    escaped = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    (html / "book" / "leaky.html").write_text(f"<pre><span>{escaped}</span></pre>", encoding="utf-8")
    found = nosolutions.leaks(html, ROOT)
    assert found and found[0].startswith("book/leaky.html: ")


@pytest.fixture(scope="module")
def built(nosolutions_build) -> Path:
    return nosolutions_build.output


def test_no_solution_text_appears_anywhere_in_the_build(built):
    assert nosolutions.leaks(built, ROOT) == []
    sources = list((built / "_sources").rglob("*"))
    assert any(p.suffix == ".ipynb" for p in sources) and any(p.name.endswith(".md") for p in sources)


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_each_lesson_keeps_its_exercises_with_stubs_and_no_solutions(built, lesson):
    soup = BeautifulSoup((built / "book" / f"{lesson.stem}.html").read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select("div.exercise")) == len(lesson.exercises)
    assert soup.select("div.solution") == []
    text = soup.find("main").get_text()
    assert text.count("raise NotImplementedError()") >= len(lesson.exercises)
    outputs = " ".join(o.get_text() for o in soup.select("div.cell_output"))
    assert outputs.count("not attempted yet") == len(lesson.exercises)


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_stub_is_not_attempted_yet_and_nothing_else(nosolutions_build, lesson):
    lines = check_lines(nosolutions_build.notebook(lesson.stem))
    assert [check for check, _ in lines] == [exercise.check for exercise in lesson.exercises]
    wrong = [(check, text) for check, text in lines
             if not (text.startswith(f"○ {check}: not attempted yet") and text.count("\n") == 0)]
    assert wrong == [], f"{lesson.stem}: check cells that did not say 'not attempted yet', alone: {wrong}"


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_the_learner_notebook_holds_exactly_the_cells_the_build_ran(nosolutions_build, lesson):
    ran = lesson_code(nosolutions_build.notebook(lesson.stem))
    learner = lesson_code(nbformat.read(ROOT / "lessons" / f"{lesson.stem}.ipynb", as_version=4))
    assert learner == ran, f"lessons/{lesson.stem}.ipynb differs from the cells that ran; run `make notebooks`"


def test_the_rest_of_the_book_is_there(built):
    for page in ("index.html", "book/instructor_guide.html", "book/glossary.html"):
        assert (built / page).exists(), page
    guide = (built / "book" / "instructor_guide.html").read_text(encoding="utf-8")
    assert all(f"{lesson.stem}.html" in guide for lesson in LESSONS)


def test_the_search_finds_solutions_in_the_ordinary_book_sources(tmp_path):
    # The same search, pointed at the book with its solutions, must find them: it is able to fail.
    html = tmp_path / "html" / "_sources" / "book"
    html.mkdir(parents=True)
    shutil.copy(ROOT / "book" / f"{LESSONS[0].stem}.md", html / f"{LESSONS[0].stem}.md.txt")
    found = nosolutions.leaks(tmp_path / "html", ROOT)
    assert len({re.sub(r"^[^:]+: ", "", f) for f in found}) >= len(LESSONS[0].exercises)
