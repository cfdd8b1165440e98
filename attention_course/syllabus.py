"""What each lesson says about itself, read from its source, for the instructor guide and the grader.

A lesson is a `book/NN_name.md` listed in `_toc.yml`. Its metadata comes from the lesson itself, so the
guide never goes stale:

- title: the first `# ` heading;
- time, prerequisites and objectives: the opening `:::{admonition} In this lesson` box
  (`**Time:** ...`, `**Prerequisites:** ...`, then a list after "By the end you can:");
- misconceptions: the bullets of the `:::{admonition} Common misconceptions` box;
- exercises: the `{exercise}` directives, each with the check cell `checks.<name>(<name>)` after it;
- points: nbgrader's `points` in the answer key `solutions/NN_name.ipynb` (written by
  `attention_course.notebooks` from `:points: N` on the exercise, else DEFAULT_POINTS);
- discussion questions: the `discussion:` list (two or three strings) in the front matter.

Introduced for instructors (the grader and the instructor guide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

from .notebooks import CHECK_CELL, LESSON_GLOB, exercise_points, toc_files

LESSON_STEM = re.compile(r"^(\d\d)_[\w-]+$")


class LessonMetadataError(Exception):
    """A lesson lacks something the instructor guide needs, reported as `path:line: message`."""


@dataclass(frozen=True)
class Exercise:
    number: str  # "6.1": lesson 6's first exercise, as the book numbers it
    label: str  # the {exercise} label, e.g. "ex-split-heads"
    title: str
    check: str  # the check's name in attention_course.checks
    function: str  # the learner's function (or answer) that the check cell passes to it
    points: int


@dataclass(frozen=True)
class Lesson:
    number: int
    stem: str  # "06_multi_head"
    title: str
    time: str  # as the lesson says it, e.g. "about 90 minutes to read, run and solve."
    minutes: int | None
    prerequisites: str  # MyST text
    prerequisite_lessons: tuple[int, ...]
    objectives: tuple[str, ...]  # MyST text, one per objective
    misconceptions: tuple[str, ...]  # MyST text, one per bullet of the box
    discussion: tuple[str, ...]
    exercises: tuple[Exercise, ...]

    @property
    def points(self) -> int:
        return sum(exercise.points for exercise in self.exercises)


def lesson_stems(root: Path) -> list[str]:
    """The lessons listed in _toc.yml, in lesson order: ["01_lookup", "02_scaled_dot_product", ...]."""
    listed = {Path(entry).name for entry in toc_files(root) if entry.startswith("book/")}
    present = {path.stem for path in (root / "book").glob(LESSON_GLOB)}
    return sorted(stem for stem in listed & present if LESSON_STEM.match(stem))


def lessons(root: Path, solutions: Path | None = None) -> list[Lesson]:
    """Every lesson of the course at `root`; points from `solutions` (default: root/solutions)."""
    return [read_lesson(root, stem, solutions) for stem in lesson_stems(root)]


def read_lesson(root: Path, stem: str, solutions: Path | None = None) -> Lesson:
    path = root / "book" / f"{stem}.md"
    text = path.read_text(encoding="utf-8")
    shown = path.relative_to(root) if path.is_relative_to(root) else path

    def error(line: int, message: str) -> LessonMetadataError:
        return LessonMetadataError(f"{shown}:{line}: {message}")

    number = int(stem[:2])
    front, body_start = _front_matter(text, error)
    title = re.search(r"^# (.+)$", text[body_start:], re.MULTILINE)
    if not title:
        raise error(1, "the lesson has no `# Title` heading.")

    box, box_line = _admonition(text, "In this lesson")
    if box is None:
        raise error(1, "the lesson has no `:::{admonition} In this lesson` box (time, prerequisites, objectives).")
    time_match = re.search(r"^\*\*Time:\*\*\s*(.+)$", box, re.MULTILINE)
    if not time_match:
        raise error(box_line, "the 'In this lesson' box has no `**Time:** ...` line.")
    minutes = _minutes(time_match.group(1))
    prerequisites = _paragraph_after(box, "**Prerequisites:**")
    if prerequisites is None:
        raise error(box_line, "the 'In this lesson' box has no `**Prerequisites:** ...` line.")
    objectives = _bullets(box.split("By the end you can:", 1)[1]) if "By the end you can:" in box else []
    if not objectives:
        raise error(box_line, "the 'In this lesson' box has no list after 'By the end you can:'.")

    misconceptions_box, _ = _admonition(text, "Common misconceptions")
    misconceptions = _bullets(misconceptions_box) if misconceptions_box else []

    discussion = front.get("discussion")
    if (not isinstance(discussion, list) or not 2 <= len(discussion) <= 3
            or not all(isinstance(q, str) and q.strip() for q in discussion)):
        raise error(1, "the front matter needs `discussion:`, a list of two or three questions for class.")

    exercises = _exercises(text, number, error)
    points = _points(solutions or root / "solutions", stem)
    if points is not None:
        exercises = [_with_points(exercise, points, error) for exercise in exercises]
    return Lesson(
        number=number, stem=stem, title=title.group(1).strip(), time=time_match.group(1).strip(),
        minutes=minutes, prerequisites=prerequisites,
        prerequisite_lessons=tuple(sorted({n for n in _lesson_numbers(prerequisites) if n != number})),
        objectives=tuple(objectives), misconceptions=tuple(misconceptions),
        discussion=tuple(" ".join(q.split()) for q in discussion), exercises=tuple(exercises),
    )


def graded_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str, int, str]]:
    """(check, function, points, grade_id) of each nbgrader test cell of an answer key, in order."""
    graded = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        match = CHECK_CELL.match(cell.get("source", "").strip())
        if cell.get("cell_type") == "code" and meta.get("grade") and match:
            graded.append((match.group(1), match.group(2), int(meta.get("points", 0)), meta.get("grade_id", "")))
    return graded


# ---------------------------------------------------------------- reading the source


def _front_matter(text: str, error) -> tuple[dict, int]:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    if not match:
        raise error(1, "the lesson has no front matter (copy the header of book/01_lookup.md).")
    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as problem:
        raise error(1, f"the front matter is not valid YAML ({problem}).") from None
    return front, match.end()


def _admonition(text: str, title: str) -> tuple[str | None, int]:
    """The body of the first `:::{admonition} <title>` box (options removed) and its line number."""
    match = re.search(rf"^(:{{3,}})\{{admonition\}}\s*{re.escape(title)}\s*\n(.*?)^\1\s*$", text, re.DOTALL | re.MULTILINE)
    if not match:
        return None, 0
    body = re.sub(r"^:[\w-]+:.*\n", "", match.group(2), flags=re.MULTILINE)
    return body, text[: match.start()].count("\n") + 1


def _minutes(time: str) -> int | None:
    """The minutes in "about 90 minutes ..." or "about 2 hours ..."; None if the line gives neither."""
    found = re.search(r"(\d+)\s*(min|hour)", time)
    if not found:
        return None
    return int(found.group(1)) * (60 if found.group(2) == "hour" else 1)


def _paragraph_after(box: str, marker: str) -> str | None:
    """The text after `marker` up to the next blank line or bold-labelled line, joined into one line."""
    start = box.find(marker)
    if start < 0:
        return None
    lines = box[start + len(marker):].split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        if not line.strip() or line.startswith("**"):
            break
        kept.append(line)
    return " ".join(part.strip() for part in kept).strip()


def _bullets(text: str) -> list[str]:
    """The items of the first bulleted list in `text`, each joined into one line."""
    items: list[str] = []
    for line in text.split("\n"):
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith(" ") and line.strip():
            items[-1] += " " + line.strip()
        elif items and not line.strip():
            continue
        elif items:
            break
    return items


def _lesson_numbers(text: str) -> list[int]:
    """The lesson numbers a prerequisites sentence names: "lessons 2 and 3", "lesson 5", ..."""
    numbers = []
    for match in re.finditer(r"\blessons?\s+(\d+(?:\s*(?:,|and|&|to|-|–)\s*\d+)*)", text, re.IGNORECASE):
        found = [int(n) for n in re.findall(r"\d+", match.group(1))]
        if re.search(r"\d\s*(?:to|-|–)\s*\d", match.group(1)) and len(found) == 2:
            found = list(range(found[0], found[1] + 1))
        numbers.extend(found)
    return numbers


def _exercises(text: str, number: int, error) -> list[Exercise]:
    directives = list(re.finditer(r"^(:{3,}|`{3,})\{exercise\}[ \t]*(.*)\n((?:[ \t]*:[\w-]+:.*\n)*)", text, re.MULTILINE))
    exercises = []
    for index, match in enumerate(directives):
        line = text[: match.start()].count("\n") + 1
        options = dict(re.findall(r"^\s*:([\w-]+):[ \t]*(.*)$", match.group(3), re.MULTILINE))
        end = directives[index + 1].start() if index + 1 < len(directives) else len(text)
        check = re.search(r"^```\{code-cell\}[^\n]*\n(checks\.\w+\(\w+\))\n```", text[match.end():end], re.MULTILINE)
        if not check:
            raise error(line, "this exercise has no check cell `checks.<name>(<name>)` before the next exercise.")
        names = CHECK_CELL.match(check.group(1))

        def point_error(message: str, line=line) -> LessonMetadataError:
            return error(line, message)

        exercises.append(Exercise(
            number=f"{number}.{index + 1}", label=options.get("label", ""), title=match.group(2).strip(),
            check=names.group(1), function=names.group(2), points=exercise_points(options, point_error),
        ))
    if not exercises:
        raise error(1, "the lesson has no {exercise} directives.")
    return exercises


def _points(solutions: Path, stem: str) -> dict[str, int] | None:
    path = solutions / f"{stem}.ipynb"
    if not path.exists():
        return None
    return {check: points for check, _, points, _ in graded_cells(nbformat.read(path, as_version=4))}


def _with_points(exercise: Exercise, points: dict[str, int], error) -> Exercise:
    if exercise.check not in points:
        raise error(1, f"solutions/ has no graded check cell for checks.{exercise.check}; run `make notebooks`.")
    return Exercise(**{**exercise.__dict__, "points": points[exercise.check]})
