"""Each lesson describes itself fully enough for the instructor guide; the guide's parts are built from that."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from attention_course import guide, notebooks, syllabus

ROOT = Path(__file__).resolve().parents[1]
STEMS = syllabus.lesson_stems(ROOT)
LESSONS = syllabus.lessons(ROOT)


def test_the_lessons_are_the_ones_in_the_table_of_contents():
    listed = sorted(Path(f).name for f in notebooks.toc_files(ROOT) if re.match(r"book/\d\d_", f))
    assert STEMS == listed and STEMS


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_every_lesson_has_what_the_guide_needs(lesson):
    assert lesson.title and lesson.minutes and lesson.minutes <= 180
    assert lesson.prerequisites and len(lesson.objectives) >= 3
    assert all(p < lesson.number for p in lesson.prerequisite_lessons), "a prerequisite must come earlier"
    assert lesson.misconceptions, "the 'Common misconceptions' box is missing"
    assert 2 <= len(lesson.discussion) <= 3 and all(len(q) > 20 for q in lesson.discussion)
    assert lesson.exercises and all(e.points >= 1 for e in lesson.exercises)
    assert [e.number for e in lesson.exercises] == [f"{lesson.number}.{i}" for i in range(1, len(lesson.exercises) + 1)]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.stem for lesson in LESSONS])
def test_points_agree_between_the_book_the_answer_key_and_the_checks(lesson):
    from attention_course import checks

    text = (ROOT / "book" / f"{lesson.stem}.md").read_text(encoding="utf-8")
    declared = re.findall(r"^:::\{exercise\}.*\n((?::[\w-]+:.*\n)*)", text, re.MULTILINE)
    book_points = [int(re.search(r":points: (\d+)", o).group(1)) if ":points:" in o else notebooks.DEFAULT_POINTS
                   for o in declared]
    assert [e.points for e in lesson.exercises] == book_points  # read from solutions/: the same numbers
    assert {e.check for e in lesson.exercises} == set(checks.LESSONS[lesson.number].__all__)


def test_prerequisites_name_lessons_in_the_usual_ways():
    assert syllabus._lesson_numbers("lessons 2 and 3 (masks); from lesson 4, the idea") == [2, 3, 4]
    assert syllabus._lesson_numbers("{doc}`lesson 1 <01_lookup>`; lessons 5, 6 and 7") == [1, 5, 6, 7]
    assert syllabus._lesson_numbers("lessons 2–4") == [2, 3, 4]
    assert syllabus._lesson_numbers("Python and numpy") == []


MINIMAL = """\
---
kernelspec:
  name: python3
discussion:
  - Why?
  - How?
---

# A lesson

:::{admonition} In this lesson
**Time:** about 30 minutes.
**Prerequisites:** lesson 1.

By the end you can:
- do one thing;
- do another,
  over two lines.
:::

:::{exercise} Do it
:label: ex-do
:points: 3
:::

```{code-cell} ipython3
checks.do_it(do_it)
```
"""


def write_lesson(tmp_path: Path, text: str) -> Path:
    (tmp_path / "book").mkdir(exist_ok=True)
    (tmp_path / "book" / "02_demo.md").write_text(text, encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/02_demo\n",
                                       encoding="utf-8")
    return tmp_path


def test_a_minimal_lesson_is_read(tmp_path):
    [lesson] = syllabus.lessons(write_lesson(tmp_path, MINIMAL))
    assert (lesson.number, lesson.title, lesson.minutes, lesson.prerequisite_lessons) == (2, "A lesson", 30, (1,))
    assert lesson.objectives == ("do one thing;", "do another, over two lines.")
    assert lesson.discussion == ("Why?", "How?") and lesson.misconceptions == ()
    [exercise] = lesson.exercises
    assert (exercise.number, exercise.label, exercise.title, exercise.check, exercise.points) == \
        ("2.1", "ex-do", "Do it", "do_it", 3)


@pytest.mark.parametrize(("time", "minutes"), [("about 45 minutes to read", 45), ("about 2 hours to read", 120),
                                                ("about 1 hour", 60), ("a while", None)])
def test_the_time_line_is_read_in_minutes_or_hours(tmp_path, time, minutes):
    text = MINIMAL.replace("about 30 minutes.", time)
    [lesson] = syllabus.lessons(write_lesson(tmp_path, text))
    assert lesson.minutes == minutes


@pytest.mark.parametrize(("change", "needle"), [
    (("**Time:** about 30 minutes.\n", ""), "no `**Time:** ...` line"),
    (("**Prerequisites:** lesson 1.\n", ""), "no `**Prerequisites:** ...` line"),
    (("By the end you can:", "Goals:"), "no list after 'By the end you can:'"),
    ((":::{admonition} In this lesson", ":::{note}"), "no `:::{admonition} In this lesson` box"),
    (("  - How?\n", ""), "two or three questions"),
    (("discussion:\n  - Why?\n  - How?\n", ""), "two or three questions"),
    (("checks.do_it(do_it)", "print(1)"), "no check cell"),
    ((":points: 3", ":points: none"), "whole number"),
])
def test_a_lesson_missing_something_is_named_with_its_file(tmp_path, change, needle):
    root = write_lesson(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(syllabus.LessonMetadataError) as caught:
        syllabus.lessons(root)
    assert str(caught.value).startswith("book/02_demo.md:") and needle in str(caught.value)


# ---------------------------------------------------------------- the guide's generated parts


def test_the_table_lists_every_lesson_with_its_exercises_points_and_memory():
    memory = guide.read_memory(ROOT)
    table = guide.lesson_table(LESSONS, memory)
    for lesson in LESSONS:
        row = next(line for line in table.split("\n") if f"<{lesson.stem}>`" in line)
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[3:5] == [str(len(lesson.exercises)), str(lesson.points)]
        assert cells[5] == f"{memory[lesson.stem]['peak_rss_mb']} MB"
    assert f"**{sum(lesson.points for lesson in LESSONS)}**" in table.split("\n")[-2]


def test_every_lesson_is_measured_for_memory():
    record = json.loads((ROOT / guide.MEMORY_FILE).read_text(encoding="utf-8"))
    missing = [stem for stem in STEMS if stem not in record["lessons"]]
    assert not missing, f"not measured: {missing}; run `make lesson-memory` and commit book/lesson_memory.json"
    assert all(50 < figures["peak_rss_mb"] < 8000 for figures in record["lessons"].values())


def test_details_give_each_lessons_exercises_and_questions():
    text = guide.lesson_details(LESSONS, {})
    for lesson in LESSONS:
        section = text.split(f"### Lesson {lesson.number}: ")[1].split("### Lesson ")[0]
        for exercise in lesson.exercises:
            assert f"| {exercise.number} | {{ref}}`{exercise.title} <{exercise.label}>` | `{exercise.function}` | " \
                   f"{exercise.points} |" in section
        assert all(question in section for question in lesson.discussion)
        assert all(objective in section for objective in lesson.objectives)
        assert lesson.time in section and "not measured" in section


def test_the_workshop_covers_every_lesson_once_in_order_and_balances_time():
    sessions = guide.workshop_sessions(LESSONS)
    assert len(sessions) == min(3, len(LESSONS))
    assert [lesson for session in sessions for lesson in session] == LESSONS
    longest = max(sum(lesson.minutes for lesson in session) for session in sessions)
    assert longest <= sum(lesson.minutes for lesson in LESSONS) / 3 + max(lesson.minutes for lesson in LESSONS)


def test_the_weekly_plan_has_ten_weeks_with_every_lesson():
    plan = guide.course_plans(LESSONS).split("10 weekly lessons")[1]
    weeks = [line for line in plan.split("\n") if re.match(r"\| \d+ \|", line)]
    assert len(weeks) == 10
    assert all(f"<{lesson.stem}>`" in weeks[lesson.number - 1] for lesson in LESSONS if lesson.number <= 10)


def test_nbgitpuller_links_open_the_learner_notebook():
    link = guide.nbgitpuller_link("https://hub.example.edu/", "https://github.com/o/course", "main",
                                  "lessons/01_lookup.ipynb")
    assert link == ("https://hub.example.edu/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2Fo%2Fcourse"
                    "&branch=main&urlpath=lab%2Ftree%2Fcourse%2Flessons%2F01_lookup.ipynb")


def test_memory_requirements_come_from_the_measurements():
    memory = {LESSONS[0].stem: {"peak_rss_mb": 700, "seconds": 5.0}}
    text = guide.memory_requirements(LESSONS, memory)
    assert "| 700 MB | 5 s |" in text and "at least 1280 MB" in text  # 1.5 x 700, up to a multiple of 256
    assert text.count("not measured yet") == len(LESSONS) - 1


def test_exercise_labels_are_unique_across_the_book():
    labels = [exercise.label for lesson in LESSONS for exercise in lesson.exercises]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    assert not repeated, f"exercise labels used twice (Sphinx links only one): {repeated}"
