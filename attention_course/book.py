"""A small Sphinx extension for the book (listed in _config.yml).

- Launch buttons open the learner notebook, lessons/NN_x.ipynb, rather than the MyST source
  book/NN_x.md that Colab cannot open.
- Solution code shows without nbgrader's `### BEGIN/END SOLUTION` marker lines, which matter only
  to the notebook generator and nbgrader.
- Pages carry no ipywidgets state or scripts: each widget cell is removed from the page and a static
  figure stands in for it.
- Progress bars are switched off while the book executes the lessons (attention_course.progress reads
  TQDM_DISABLE): on a static page a bar would stay frozen at 0%.
- nbclient runs the lessons without its Output-widget stand-in, which can stall a widget cell until its
  timeout (coursekit/execution.py).
- Each script is on a page once. Sphinx lists some extension scripts twice (once from its registry,
  once as the extension added it), and sphinx-thebe's inline `const THEBE_JS_URL = ...` declared twice
  is a JavaScript error on every page.
- The references page marks each entry as a list item: docutils' `role="doc-biblioentry"` is deprecated
  in ARIA and leaves its `role="list"` without items, which screen readers and axe-core object to.
- The execution cache (jupyter-cache, keyed by the cells' code) is emptied when the package changes: a page
  whose cells are unchanged but whose package code is not would otherwise be served from the cache, and
  the book, and the tests that read its runs, would show what the old package did.
- `JUPYTERHUB_URL` in the environment adds a JupyterHub launch button, so each school can
  point the book at its own hub without editing _config.yml.
- An exercise may say how many points it is worth, `:points: N` (attention_course.notebooks puts them in
  the notebooks' nbgrader metadata); the page does not show them.
- The instructor guide's tables are generated from the lessons (attention_course.guide): the directives
  `{lesson-table}`, `{lesson-details}`, `{course-plans}`, `{assignment-links}` and `{lesson-memory}`.
  `course_root` (a Sphinx config value, default: the book's folder) is where they read the lessons,
  solutions/ and the memory measurements.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective
from sphinx_exercise.directive import ExerciseDirective

from coursekit import execution

from . import guide, syllabus
from .notebooks import BEGIN, END

HUB_EXAMPLE = "https://hub.example.edu"

LESSON_PAGE = re.compile(r"^book/(\d\d_[\w-]+)$")


def _kernel_environment(app, config) -> None:
    # The kernels that run the lessons for the book inherit this process's environment.
    # A page shows a progress bar frozen at whatever it showed first: the kernels draw none. In Jupyter the
    # bars work as usual.
    os.environ["TQDM_DISABLE"] = "1"


PACKAGE = Path(__file__).resolve().parent
PACKAGE_STAMP = "attention_course.sha256"  # in the execution cache's folder: the package it ran with


def package_fingerprint() -> str:
    """A hash of every file of the package the lessons import (code and the shipped checkpoint)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".pt")):
        digest.update(str(path.relative_to(PACKAGE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cache_follows_the_package(app, config) -> None:
    cache = Path(app.outdir).parent / ".jupyter_cache"  # where myst-nb keeps it (execution_cache_path unset)
    stamp = cache / PACKAGE_STAMP
    fingerprint = package_fingerprint()
    if cache.exists() and (not stamp.exists() or stamp.read_text(encoding="utf-8") != fingerprint):
        shutil.rmtree(cache)  # every page runs again, with the package as it is now
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint, encoding="utf-8")


def _use_hub_from_environment(app, config) -> None:
    hub = os.environ.get("JUPYTERHUB_URL", "").strip()
    if hub:
        config.html_theme_options.setdefault("launch_buttons", {})["jupyterhub_url"] = hub


def _tidy_doctree(app, doctree) -> None:
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if BEGIN in text:
            kept = "\n".join(line for line in text.split("\n") if line.strip() not in (BEGIN, END))
            block.rawsource = kept
            block.children = []
            block += nodes.Text(kept)
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def _rewrite(node, source: str, target: str) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("url"), str) and node["url"].startswith("http") and source in node["url"]:
            node["url"] = node["url"].replace(source, target)
        for child in node.values():
            _rewrite(child, source, target)
    elif isinstance(node, list):
        for child in node:
            _rewrite(child, source, target)


def _launch_learner_notebook(app, pagename, templatename, context, doctree) -> None:
    match = LESSON_PAGE.match(pagename)
    if match:
        _rewrite(context.get("header_buttons", []), f"book/{match.group(1)}.md", f"lessons/{match.group(1)}.ipynb")


class ExerciseWithPoints(ExerciseDirective):
    """sphinx-exercise's {exercise}, also accepting `:points: N` (for the notebooks and the grader)."""

    option_spec: ClassVar[dict] = {**ExerciseDirective.option_spec, "points": directives.positive_int}


class _GuideDirective(SphinxDirective):
    """Renders a part of the instructor guide, generated as MyST from the lessons, where it stands."""

    has_content = False

    def generate(self, lessons: list[syllabus.Lesson], memory: dict) -> str:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        root = Path(self.config.course_root or self.env.srcdir).resolve()
        try:
            lessons = syllabus.lessons(root)
        except (syllabus.LessonMetadataError, OSError) as error:
            raise self.error(f"the instructor guide cannot read the lessons: {error}") from None
        for lesson in lessons:  # rebuild the guide when a lesson, its answer key or a measurement changes
            for path in (root / "book" / f"{lesson.stem}.md", root / "solutions" / f"{lesson.stem}.ipynb"):
                if path.exists():
                    self.env.note_dependency(str(path))
        if (root / guide.MEMORY_FILE).exists():
            self.env.note_dependency(str(root / guide.MEMORY_FILE))
        renderer = getattr(self.state, "_renderer", None)
        if renderer is None:
            raise self.error(f"{{{self.name}}} works on MyST Markdown pages only.")
        renderer.nested_render_text(self.generate(lessons, guide.read_memory(root)), self.lineno)
        return []


class LessonTable(_GuideDirective):
    def generate(self, lessons, memory):
        return guide.lesson_table(lessons, memory)


class LessonDetails(_GuideDirective):
    def generate(self, lessons, memory):
        return guide.lesson_details(lessons, memory)


class CoursePlans(_GuideDirective):
    def generate(self, lessons, memory):
        return guide.course_plans(lessons)


class AssignmentLinks(_GuideDirective):
    def generate(self, lessons, memory):
        options = self.config.html_theme_options
        hub = options.get("launch_buttons", {}).get("jupyterhub_url") or HUB_EXAMPLE
        repository = options.get("repository_url") or "https://github.com/attention-step-by-step/attention-step-by-step"
        return guide.assignment_links(lessons, hub, repository, options.get("repository_branch") or "main")


class GraderHelp(SphinxDirective):
    """The grader's --help, as a literal block, so the guide always shows its real options and defaults."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from .grade import build_parser

        text = build_parser(width=80).format_help().strip()
        block = nodes.literal_block(text, text, language="text")
        return [block]


class LessonMemory(_GuideDirective):
    def generate(self, lessons, memory):
        return guide.memory_requirements(lessons, memory)


def _one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    kept, seen = [], set()
    for script in context.get("script_files", []):
        attributes = {k: v for k, v in getattr(script, "attributes", {}).items() if k != "priority"}
        key = (script.filename or "", tuple(sorted(attributes.items())))  # None and "" both mean inline
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _citations_as_list_items(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app):
    execution.install()  # jupyter-book executes the lessons in this process, through jupyter-cache and nbclient
    app.add_config_value("course_root", "", "env")
    app.add_directive("exercise", ExerciseWithPoints, override=True)
    for name, directive in (("lesson-table", LessonTable), ("lesson-details", LessonDetails),
                            ("course-plans", CoursePlans), ("assignment-links", AssignmentLinks),
                            ("lesson-memory", LessonMemory), ("grader-help", GraderHelp)):
        app.add_directive(name, directive)
    app.connect("config-inited", _use_hub_from_environment)
    app.connect("config-inited", _kernel_environment)
    app.connect("config-inited", _cache_follows_the_package)
    app.connect("doctree-read", _tidy_doctree)
    app.connect("html-page-context", _launch_learner_notebook, priority=900)  # after the theme adds its buttons
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)  # after every extension's scripts
    app.connect("html-page-context", _citations_as_list_items)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
