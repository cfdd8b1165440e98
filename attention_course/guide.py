"""The instructor guide's generated parts, as MyST Markdown, from the lessons' own metadata.

The book's Sphinx extension (attention_course.book) renders them where book/instructor_guide.md puts the
directives `{lesson-table}`, `{lesson-details}`, `{course-plans}` and `{lesson-memory}`, so the guide lists
whatever lessons _toc.yml lists, with their current exercises, points and measurements.

Introduced for instructors (the instructor guide).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import quote

from .syllabus import Lesson

MEMORY_FILE = Path("book") / "lesson_memory.json"  # written by `make lesson-memory`
WORKSHOP_SESSIONS = 3
WEEKS = 10


def read_memory(root: Path) -> dict:
    """stem -> {"peak_rss_mb": ..., "seconds": ...}, as measured by attention_course.lesson_memory."""
    path = root / MEMORY_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8")).get("lessons", {})


def _link(lesson: Lesson) -> str:
    return f"{{doc}}`{lesson.number}. {lesson.title} <{lesson.stem}>`"


def _minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _builds_on(lesson: Lesson) -> str:
    return ", ".join(str(n) for n in lesson.prerequisite_lessons) or "none"


def _memory(memory: dict, lesson: Lesson) -> str:
    measured = memory.get(lesson.stem)
    return f"{measured['peak_rss_mb']:.0f} MB" if measured else "not measured"


def lesson_table(lessons: list[Lesson], memory: dict) -> str:
    """One row per lesson: time, lessons it builds on, exercises, points, peak memory; then the totals."""
    rows = ["| Lesson | Time | Builds on lessons | Exercises | Points | Peak memory |", "|---|---|---|---|---|---|"]
    for lesson in lessons:
        time = _minutes(lesson.minutes) if lesson.minutes else lesson.time
        rows.append(f"| {_link(lesson)} | {time} | {_builds_on(lesson)} | {len(lesson.exercises)} | "
                    f"{lesson.points} | {_memory(memory, lesson)} |")
    total = sum(lesson.minutes or 0 for lesson in lessons)
    rows.append(f"| **All {len(lessons)} lessons** | **{_minutes(total)}** | | "
                f"**{sum(len(lesson.exercises) for lesson in lessons)}** | **{sum(lesson.points for lesson in lessons)}** | |")
    return "\n".join(rows) + "\n"


def lesson_details(lessons: list[Lesson], memory: dict, heading: str = "###") -> str:
    """A section per lesson: objectives, time, prerequisites, exercises with points, misconceptions, questions."""
    parts = []
    for lesson in lessons:
        exercises = "\n".join(
            f"| {exercise.number} | {{ref}}`{exercise.title} <{exercise.label}>` | `{exercise.function}` | "
            f"{exercise.points} |" if exercise.label else
            f"| {exercise.number} | {exercise.title} | `{exercise.function}` | {exercise.points} |"
            for exercise in lesson.exercises)
        misconceptions = "\n".join(f"- {item}" for item in lesson.misconceptions)
        parts.append(f"""\
{heading} Lesson {lesson.number}: {lesson.title}

**Time:** {lesson.time} **Prerequisites:** {lesson.prerequisites} **Peak memory:** {_memory(memory, lesson)}.
Open it: {_link(lesson)}, learner notebook `lessons/{lesson.stem}.ipynb`, answer key `solutions/{lesson.stem}.ipynb`.

**Learning objectives.** By the end, learners can:

{chr(10).join(f"- {objective}" for objective in lesson.objectives)}

**Exercises**, {lesson.points} points in all:

| Exercise | Title | Function graded | Points |
|---|---|---|---|
{exercises}

**Misconceptions it targets** (from the lesson's box, where "above" means in the lesson):

{misconceptions or "- (none listed)"}

**Discussion questions:**

{chr(10).join(f"{i}. {question}" for i, question in enumerate(lesson.discussion, start=1))}
""")
    return "\n".join(parts)


def workshop_sessions(lessons: list[Lesson], sessions: int = WORKSHOP_SESSIONS) -> list[list[Lesson]]:
    """The lessons in order, cut into `sessions` runs whose longest is as short as possible."""
    sessions = min(sessions, len(lessons))
    best: tuple[int, list[list[Lesson]]] | None = None

    def split(start: int, left: int, chosen: list[list[Lesson]]) -> None:
        nonlocal best
        if left == 1:
            plan = [*chosen, lessons[start:]]
            longest = max(sum(lesson.minutes or 60 for lesson in group) for group in plan)
            if best is None or longest < best[0]:
                best = (longest, plan)
            return
        for end in range(start + 1, len(lessons) - left + 2):
            split(end, left - 1, [*chosen, lessons[start:end]])

    if sessions:
        split(0, sessions, [])
    return best[1] if best else []


def course_plans(lessons: list[Lesson]) -> str:
    """A three-session workshop and a ten-week course, from the lessons' times and order."""
    lines = [(f"**A {WORKSHOP_SESSIONS}-session workshop.** The lessons in order, cut into {WORKSHOP_SESSIONS} "
              "sessions of about the same length (the lessons' own time estimates):"), "",
             "| Session | Lessons | Time in the lessons |", "|---|---|---|"]
    for number, group in enumerate(workshop_sessions(lessons), start=1):
        minutes = sum(lesson.minutes or 0 for lesson in group)
        names = ", ".join(_link(lesson) for lesson in group)
        lines.append(f"| {number} | {names} | {_minutes(minutes)} |")
    lines += ["", f"**{WEEKS} weekly lessons.** One lesson a week, assigned the week before and discussed in class:",
              "", "| Week | Lesson | Exercises due | Points |", "|---|---|---|---|"]
    for week in range(1, WEEKS + 1):
        if week <= len(lessons):
            lesson = lessons[week - 1]
            lines.append(f"| {week} | {_link(lesson)} | {len(lesson.exercises)} | {lesson.points} |")
        else:
            lines.append(f"| {week} | review and project: extend the model of the last lesson | | |")
    return "\n".join(lines) + "\n"


def nbgitpuller_link(hub: str, repository: str, branch: str, path: str) -> str:
    """A link that clones (or updates) `repository` into the user's server on `hub` and opens `path`."""
    name = repository.rstrip("/").split("/")[-1]
    target = quote(f"lab/tree/{name}/{path}", safe="")
    return (f"{hub.rstrip('/')}/hub/user-redirect/git-pull?repo={quote(repository, safe='')}"
            f"&branch={quote(branch, safe='')}&urlpath={target}")


def assignment_links(lessons: list[Lesson], hub: str, repository: str, branch: str) -> str:
    rows = ["| Lesson | nbgitpuller link |", "|---|---|"]
    for lesson in lessons:
        link = nbgitpuller_link(hub, repository, branch, f"lessons/{lesson.stem}.ipynb")
        rows.append(f"| {_link(lesson)} | [open `lessons/{lesson.stem}.ipynb` on the hub]({link}) |")
    return "\n".join(rows) + "\n"


def memory_requirements(lessons: list[Lesson], memory: dict) -> str:
    """The measured peak memory per lesson and what a JupyterHub user's server should be given."""
    measured = [(lesson, memory[lesson.stem]) for lesson in lessons if lesson.stem in memory]
    missing = [lesson for lesson in lessons if lesson.stem not in memory]
    lines = ["| Lesson | Peak memory of its kernel | Time to run it |", "|---|---|---|"]
    for lesson, figures in measured:
        lines.append(f"| {_link(lesson)} | {figures['peak_rss_mb']:.0f} MB | {figures['seconds']:.0f} s |")
    for lesson in missing:
        lines.append(f"| {_link(lesson)} | not measured yet: run `make lesson-memory` | |")
    if measured:
        lesson, figures = max(measured, key=lambda item: item[1]["peak_rss_mb"])
        peak = figures["peak_rss_mb"]
        guarantee = 256 * math.ceil(peak * 1.5 / 256)  # room for the Jupyter server and a second kernel
        lines += ["", (f"The largest is lesson {lesson.number}, at {peak:.0f} MB. Give each user at least "
                       f"{guarantee} MB (`singleuser.memory.guarantee: {guarantee}M`): the peak plus half again "
                       "for the Jupyter server and a second kernel, for a learner who opens two lessons.")]
    return "\n".join(lines) + "\n"
