"""The book builds with warnings as errors, and the built pages show what a reader needs.

The build (tests/builds.py) is also the suite's one run of the answer key: solutions/ holds exactly the
cells it executed, and every check in it passed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from builds import BUILD_TIMEOUT_S
from executed import check_lines, lesson_code

from attention_course import syllabus

ROOT = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
LESSONS = syllabus.lessons(ROOT)
STEMS = [lesson.stem for lesson in LESSONS]


def build(root: Path) -> subprocess.CompletedProcess:
    command = [str(JUPYTER_BOOK), "build", str(root), "--warningiserror", "--keep-going", "--all"]
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run(command, check=False, cwd=root, env=env, capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S)


@pytest.fixture(scope="module")
def built_book(book_build) -> Path:
    return book_build.output


@functools.cache  # each page parsed once (half a second for a lesson); no test changes a soup
def page(html_root: Path, name: str) -> BeautifulSoup:
    return BeautifulSoup((html_root / "book" / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def test_every_toc_page_is_built(built_book):
    toc = (ROOT / "_toc.yml").read_text()
    for entry in yaml.safe_load(toc)["parts"]:
        for chapter in entry["chapters"]:
            assert (built_book / f"{chapter['file']}.html").exists(), chapter["file"]
    assert (built_book / "index.html").exists()


@pytest.mark.parametrize("lesson", STEMS)
def test_lesson_page_shows_no_raw_myst(built_book, lesson):
    text = page(built_book, lesson).find("main").get_text()
    for raw in ["{exercise}", "{solution-start}", ":::", "```{", ":label:", "{eq}", "{cite", "### BEGIN SOLUTION"]:
        assert raw not in text, f"{lesson}: raw {raw!r} shows on the page"


@pytest.mark.parametrize("lesson", STEMS)
def test_every_exercise_has_a_hidden_solution(built_book, lesson):
    soup = page(built_book, lesson)
    exercises = soup.select("div.exercise")
    solutions = soup.select("div.solution")
    assert len(exercises) >= 4, f"{lesson}: {len(exercises)} exercises"
    assert len(solutions) == len(exercises)
    for solution in solutions:
        assert "dropdown" in solution["class"], "a solution is shown without being asked for"
        assert solution.select("div.cell"), "a solution holds no code cell"


@pytest.mark.parametrize("lesson", LESSONS, ids=STEMS)
def test_every_check_passes_in_the_answer_key_once(book_build, lesson):
    lines = check_lines(book_build.notebook(lesson.stem))
    assert [check for check, _ in lines] == [exercise.check for exercise in lesson.exercises]
    failed = [(check, printed) for check, printed in lines if not printed.startswith(f"✔ {check}:")]
    assert failed == [], f"{lesson.stem}: checks that did not print one ✔ line: {failed}"


@pytest.mark.parametrize("lesson", LESSONS, ids=STEMS)
def test_the_answer_key_holds_exactly_the_cells_the_book_ran(book_build, lesson):
    ran = lesson_code(book_build.notebook(lesson.stem))
    key = lesson_code(nbformat.read(ROOT / "solutions" / f"{lesson.stem}.ipynb", as_version=4))
    assert key == ran, f"solutions/{lesson.stem}.ipynb differs from the cells the book executed; run `make notebooks`"


@pytest.mark.parametrize("lesson", STEMS)
def test_the_pages_show_no_error_or_stub(built_book, lesson):
    outputs = [o.get_text() for o in page(built_book, lesson).select("div.cell_output")]
    assert not any("not attempted yet" in o or "Traceback" in o for o in outputs)


@pytest.mark.parametrize("lesson", STEMS)
def test_figures_have_captions_and_alt_text(built_book, lesson):
    soup = page(built_book, lesson)
    figures = soup.select("main figure")
    assert figures, f"{lesson} has no figures"
    for figure in figures:
        assert figure.find("figcaption") and figure.find("figcaption").get_text(strip=True)
        for image in figure.find_all("img"):
            assert image.get("alt", "").strip(), f"an image in {lesson} has no alt text"
    for image in soup.select("main img"):
        assert (built_book / "book" / image["src"]).resolve().exists(), image["src"]


@pytest.mark.parametrize("lesson", STEMS)
def test_widgets_have_a_static_counterpart_and_no_inert_controls(built_book, lesson):
    soup = page(built_book, lesson)
    html = str(soup)
    assert "jupyter-widgets" not in html and "widget-view+json" not in html
    assert soup.select("figure[id^=fig-widget-static] img"), "the widget's static counterpart is missing"


@pytest.mark.parametrize("lesson", STEMS)
def test_launch_buttons_open_the_learner_notebook(built_book, lesson):
    links = [a.get("href", "") for a in page(built_book, lesson).select("a")]
    notebook = f"lessons/{lesson}.ipynb"
    assert any(link.startswith("https://mybinder.org/") and link.endswith(notebook) for link in links)
    assert any(link.startswith("https://colab.research.google.com/github/") and link.endswith(notebook) for link in links)
    assert any(link.endswith(f"{lesson}.ipynb") and "_sources" in link for link in links), "no .ipynb download"
    assert any(link.endswith(f"{lesson}.md") and "_sources" in link for link in links), "no .md download"


def test_citations_and_equations_resolve(built_book):
    soup = page(built_book, "01_lookup")
    assert soup.select('a[href*="references.html#id"]'), "no citation links to the references page"
    assert "Vaswani" in page(built_book, "references").get_text()
    numbered = soup.select("div.math-wrapper span.eqno, div.math span.eqno")
    assert len(numbered) >= 4, "equations are not numbered"
    assert soup.select('a[href^="#equation-"]'), "no equation references"


@pytest.mark.notebooks
def test_an_execution_error_fails_the_build(tmp_path):
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    header = (ROOT / "book" / f"{STEMS[0]}.md").read_text().split("---")[1]
    (tmp_path / "book" / "intro.md").write_text(
        f"---{header}---\n\n# Broken\n\n```{{code-cell}} ipython3\nraise ValueError('boom')\n```\n"
    )
    result = build(tmp_path)
    assert result.returncode != 0
    assert "boom" in result.stdout + result.stderr


def test_the_instructor_guide_lists_every_lesson_with_its_exercises_and_points(built_book):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    start_here = next(part for part in toc["parts"] if part["caption"] == "Start here")
    assert {"file": "book/instructor_guide"} in start_here["chapters"]
    soup = page(built_book, "instructor_guide")
    lessons = syllabus.lessons(ROOT)
    assert [lesson.stem for lesson in lessons] == sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.md"))
    summary = soup.select("main table")[0]
    for lesson in lessons:
        row = next(tr for tr in summary.select("tr") if tr.find("a", href=f"{lesson.stem}.html"))
        cells = [td.get_text(" ", strip=True) for td in row.select("td")]
        assert cells[3:5] == [str(len(lesson.exercises)), str(lesson.points)]
        heading = next(h for h in soup.select("main h3") if h.get_text().startswith(f"Lesson {lesson.number}: "))
        section = heading.find_parent("section")
        rows = [[straight(td.get_text(" ", strip=True)) for td in tr.select("td")] for tr in section.select("table tr")]
        for exercise in lesson.exercises:
            assert [exercise.number, exercise.title, exercise.function, str(exercise.points)] in rows
            link = next(a for a in section.select("a") if straight(a.get_text()) == exercise.title)
            assert link["href"].startswith(f"{lesson.stem}.html#"), exercise.label
        words = set(straight(section.get_text(" ")).split())
        for question in lesson.discussion:
            plain = [w for w in question.split() if not set(w) & set("$\\{}")]  # math is typeset on the page
            assert set(plain) <= words, question


def straight(text: str) -> str:
    """Text with the page's typographic quotes made plain again, as in the sources."""
    return text.translate(str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"}))
