"""The generator from book/NN_*.md (MyST notebooks) to lessons/ and solutions/ (.ipynb)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from attention_course import notebooks
from attention_course.notebooks import BEGIN

REPO = Path(__file__).resolve().parents[1]

FRONT_MATTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---
"""

TOC = """\
format: jb-book
root: book/intro
chapters:
  - file: book/01_demo
"""

BIB = """\
@inproceedings{vaswani2017attention,
  title = {Attention Is All You Need},
  author = {Vaswani, Ashish and Shazeer, Noam and Parmar, Niki and Uszkoreit, Jakob},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2017}
}
"""

# A small lesson that uses every construct the generator lowers. Consecutive code cells and `+++` after a
# code cell are deliberate: they are where jupytext's cells and the source's lines can fall out of step.
BODY = """\

(demo-lesson)=
# A demo lesson

% a MyST comment that must not reach the notebooks
Attention {cite:p}`vaswani2017attention` weighs values; {cite:t}`vaswani2017attention` named it.
See {ref}`the softmax equation <eq-softmax>`, equation {eq}`eq-softmax` and equation {eq}`eq-scaled`.

```{math}
:label: eq-softmax
\\mathrm{softmax}(x)_i = \\frac{e^{x_i}}{\\sum_j e^{x_j}}
```

(scaled-section)=
## Scaled

```{math}
:label: eq-scaled
\\frac{q \\cdot k}{\\sqrt{d_k}}
```

Inline math {math}`d_k` stays math.

```python
# shapes: (B, T, d_k) -- a comment in a fenced block, not a heading
```

```{code-cell} ipython3
import numpy as np
```

```{code-cell} ipython3
:tags: [book-only]

print("a static figure, only in the book")
```

```{code-cell} ipython3
:tags: [hide-input]

SHOWN = "kept with its tag"
```

+++

:::{exercise} Write softmax
:label: ex-softmax

Implement the softmax of equation {eq}`eq-softmax`.
:::

```{code-cell} ipython3
def softmax(x):
    \"\"\"Softmax over the last axis.\"\"\"
    ### BEGIN SOLUTION
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION
```

```{solution-start} ex-softmax
:class: dropdown
```

```{code-cell} ipython3
### BEGIN SOLUTION
answer = 0.33
### END SOLUTION
print(answer)
```

```{code-cell} ipython3
class Model:
    def forward(self, x):
        if x is not None:
            ### BEGIN SOLUTION
            return x * 2
            ### END SOLUTION
        return None
```

```{solution-end}
```

```{note}
A note with **bold** text.
```

```{warning} Careful
The sum is over the last axis.
```

:::{admonition} Common misconceptions
:class: tip
"We scale by the number of words" is wrong.
:::

+++ {"tags": ["book-only"]}

A markdown cell only in the book.

+++

Done.
"""

LESSON = FRONT_MATTER + BODY
MYST_LEFTOVERS = ["```{", ":::", "{eq}", ":label:", "{cite", "{ref}", "{math}", "{note}", "(demo-lesson)=",
                  "(scaled-section)=", "solution-start", "solution-end", ":class:", "% a MyST comment"]


def make_course(root: Path, lesson: str = LESSON, name: str = "01_demo.md") -> Path:
    (root / "book").mkdir(parents=True, exist_ok=True)
    (root / "_toc.yml").write_text(TOC, encoding="utf-8")
    (root / "book" / "references.bib").write_text(BIB, encoding="utf-8")
    (root / "book" / "intro.md").write_text("# Intro\n", encoding="utf-8")
    (root / "book" / name).write_text(lesson, encoding="utf-8")
    return root


def run(root: Path, *args: str) -> int:
    return notebooks.main([*args, "--root", str(root)])


def read(root: Path, kind: str, stem: str = "01_demo") -> nbformat.NotebookNode:
    return nbformat.read(root / kind / f"{stem}.ipynb", as_version=4)


def code_sources(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


def markdown_text(nb) -> str:
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for kind in ("lessons", "solutions") if (root / kind).exists() for p in sorted((root / kind).iterdir())}


@pytest.fixture
def course(tmp_path):
    root = make_course(tmp_path)
    assert run(root) == 0
    return root


# ---------------------------------------------------------------- the two products


def test_writes_one_lesson_and_one_solution(course):
    assert sorted(snapshot(course)) == ["lessons/01_demo.ipynb", "solutions/01_demo.ipynb"]
    for kind in ("lessons", "solutions"):
        nb = read(course, kind)
        nbformat.validate(nb)
        assert nb.nbformat == 4
        assert nb.metadata.kernelspec.name == "python3"


def test_solutions_become_stubs_at_the_marker_indentation(course):
    lessons = code_sources(read(course, "lessons"))
    assert 'def softmax(x):\n    """Softmax over the last axis."""\n    # YOUR CODE HERE\n    raise NotImplementedError()' in lessons
    assert "# YOUR CODE HERE\nraise NotImplementedError()\nprint(answer)" in lessons
    assert ("class Model:\n    def forward(self, x):\n        if x is not None:\n"
            "            # YOUR CODE HERE\n            raise NotImplementedError()\n        return None") in lessons
    joined = "\n".join(lessons)
    for solution_text in ["BEGIN SOLUTION", "END SOLUTION", "np.exp(x - x.max", "answer = 0.33", "return x * 2"]:
        assert solution_text not in joined
    assert joined.count("# YOUR CODE HERE") == joined.count("raise NotImplementedError()") == 3


def test_solutions_keep_the_code_and_the_markers(course):
    solutions = code_sources(read(course, "solutions"))
    assert ('def softmax(x):\n    """Softmax over the last axis."""\n    ### BEGIN SOLUTION\n'
            "    e = np.exp(x - x.max(axis=-1, keepdims=True))\n    return e / e.sum(axis=-1, keepdims=True)\n"
            "    ### END SOLUTION") in solutions
    assert "### BEGIN SOLUTION\nanswer = 0.33\n### END SOLUTION\nprint(answer)" in solutions
    joined = "\n".join(solutions)
    assert "YOUR CODE HERE" not in joined and "NotImplementedError" not in joined


def test_lessons_and_solutions_differ_only_in_the_exercise_cells(course):
    lessons, solutions = read(course, "lessons"), read(course, "solutions")
    assert len(lessons.cells) == len(solutions.cells)
    different = [i for i, (a, b) in enumerate(zip(lessons.cells, solutions.cells)) if a.source != b.source]
    assert len(different) == 3  # the three exercise cells; the banner is the same (nbgrader keeps it)
    assert all(BEGIN in solutions.cells[i].source for i in different)


def test_no_outputs_and_no_execution_counts(course):
    for kind in ("lessons", "solutions"):
        for cell in read(course, kind).cells:
            if cell.cell_type == "code":
                assert cell.outputs == []
                assert cell.execution_count is None


def test_title_then_banner_then_setup_cell(course):
    for kind in ("lessons", "solutions"):
        cells = read(course, kind).cells
        assert cells[0].source.startswith("# 1. ")
        assert "`01_demo`" in cells[1].source and "YOUR CODE HERE" in cells[1].source
        assert "BEGIN SOLUTION" not in cells[1].source  # nbgrader would take it for a solution region
        assert cells[2].cell_type == "code" and "import attention_course" in cells[2].source


def test_cell_ids_are_stable_and_unique(course):
    ids = [cell.id for cell in read(course, "lessons").cells]
    assert ids == [f"cell-{i:03d}" for i in range(len(ids))]


def test_book_only_cells_are_dropped_and_other_tags_kept(course):
    for kind in ("lessons", "solutions"):
        nb = read(course, kind)
        text = "\n".join(cell.source for cell in nb.cells)
        assert "only in the book" not in text
        assert "a static figure" not in text
        tagged = [cell for cell in nb.cells if "SHOWN" in cell.source]
        assert len(tagged) == 1 and tagged[0].metadata["tags"] == ["hide-input"]
        assert all("book-only" not in cell.metadata.get("tags", []) for cell in nb.cells)


def test_non_lesson_book_pages_are_not_turned_into_notebooks(course):
    assert not (course / "lessons" / "intro.ipynb").exists()


# ---------------------------------------------------------------- lowering MyST to plain Markdown


@pytest.mark.parametrize("kind", ["lessons", "solutions"])
def test_no_myst_syntax_is_left(course, kind):
    text = markdown_text(read(course, kind))
    for leftover in MYST_LEFTOVERS:
        assert leftover not in text, leftover
    assert not re.search(r"\{[\w:-]+\}`", text), "a MyST role is left"
    assert not re.search(r"^\([\w-]+\)=", text, re.MULTILINE), "a MyST target is left"


def test_equations_are_numbered_and_referenced(course):
    text = markdown_text(read(course, "lessons"))
    tags = re.findall(r"\\tag\{([\d.]+)\}", text)
    assert len(tags) == 2 and tags[0] != tags[1]
    first, second = tags
    assert f"$$\n\\mathrm{{softmax}}(x)_i = \\frac{{e^{{x_i}}}}{{\\sum_j e^{{x_j}}}} \\tag{{{first}}}\n$$" in text
    assert f"\\frac{{q \\cdot k}}{{\\sqrt{{d_k}}}} \\tag{{{second}}}\n$$" in text
    assert f"equation ({first}) and equation ({second})" in text
    assert f"Implement the softmax of equation ({first})." in text
    assert "Inline math $d_k$ stays math." in text


def test_citations_become_author_year(course):
    text = markdown_text(read(course, "lessons"))
    assert "Attention (Vaswani et al., 2017) weighs values; Vaswani et al. (2017) named it." in text


def test_references_keep_their_text(course):
    text = markdown_text(read(course, "lessons"))
    assert re.search(r"See the softmax equation, equation \([\d.]+\)", text)


def test_targets_and_comments_are_removed(course):
    text = markdown_text(read(course, "lessons"))
    assert re.search(r"^# (\d+\. )?A demo lesson$", text, re.MULTILINE)
    assert "## Scaled" in text
    assert "MyST comment" not in text
    assert "```python\n# shapes: (B, T, d_k) -- a comment in a fenced block, not a heading\n```" in text
    assert len(re.findall(r"^# ", text, re.MULTILINE)) == 2  # the title and the comment; nothing else became a title


def test_directives_become_quoted_blocks(course):
    text = markdown_text(read(course, "lessons"))
    assert re.search(r"> \*\*Exercise( [\d.]+)?: Write softmax\*\* \(1 point\)\n>\n> Implement the softmax", text)
    assert "> **Note**\n>\n> A note with **bold** text." in text
    assert "> **Warning**: Careful\n>\n> The sum is over the last axis." in text
    assert '> **Common misconceptions**\n>\n> "We scale by the number of words" is wrong.' in text


# ---------------------------------------------------------------- determinism and --check


def test_second_run_is_byte_identical(course):
    first = snapshot(course)
    assert run(course) == 0
    assert snapshot(course) == first
    assert notebooks.generate(course) == notebooks.generate(course)


def test_output_does_not_depend_on_the_root_path(tmp_path):
    a = make_course(tmp_path / "a")
    b = make_course(tmp_path / "elsewhere" / "b")
    assert run(a) == 0 and run(b) == 0
    assert snapshot(a) == snapshot(b)


def test_check_passes_when_fresh(course, capsys):
    assert run(course, "--check") == 0
    assert "stale" not in capsys.readouterr().err


def test_check_fails_when_a_lesson_is_stale_and_writes_nothing(course, capsys):
    path = course / "lessons" / "01_demo.ipynb"
    path.write_text(path.read_text(encoding="utf-8").replace("YOUR CODE HERE", "YOUR CODE"), encoding="utf-8")
    before = snapshot(course)
    assert run(course, "--check") == 1
    assert "lessons/01_demo.ipynb" in capsys.readouterr().err
    assert snapshot(course) == before


def test_check_fails_when_the_source_changed(course):
    source = course / "book" / "01_demo.md"
    source.write_text(source.read_text(encoding="utf-8").replace("Done.", "Done, really."), encoding="utf-8")
    assert run(course, "--check") == 1
    assert run(course) == 0
    assert run(course, "--check") == 0


@pytest.mark.parametrize("kind", ["lessons", "solutions"])
def test_check_fails_when_a_notebook_is_missing(course, kind, capsys):
    (course / kind / "01_demo.ipynb").unlink()
    assert run(course, "--check") == 1
    assert f"{kind}/01_demo.ipynb" in capsys.readouterr().err
    assert run(course) == 0
    assert run(course, "--check") == 0


def test_check_fails_before_the_first_generation(tmp_path):
    assert run(make_course(tmp_path), "--check") == 1
    assert not (tmp_path / "lessons").exists()


def test_orphan_notebooks_are_stale_and_removed(course, capsys):
    orphan = course / "solutions" / "99_gone.ipynb"
    orphan.write_text("{}", encoding="utf-8")
    assert run(course, "--check") == 1
    assert "99_gone" in capsys.readouterr().err
    assert run(course) == 0
    assert not orphan.exists()
    assert run(course, "--check") == 0


# ---------------------------------------------------------------- bad sources fail clearly and write nothing


def lesson_line(text: str, needle: str) -> int:
    """The 1-based line of `needle` in the lesson source."""
    return text[: text.index(needle)].count("\n") + 1


def with_solution_cell(code: str) -> str:
    return LESSON.replace("Done.", "Done.\n\n```{code-cell} ipython3\n" + code + "\n```\n")


def with_markdown(markdown: str) -> str:
    return LESSON.replace("Done.", "Done.\n\n+++\n\n" + markdown + "\n")


BAD = {
    # name: (source, needle whose line must be reported, or a (first, last) pair of needles for a range, message text)
    "begin without end": (with_solution_cell("x = 1\n### BEGIN SOLUTION\ny = 2"), "### BEGIN SOLUTION\ny = 2", "has no"),
    "end without begin": (with_solution_cell("x = 1\n### END SOLUTION\ny = 2"), "### END SOLUTION\ny = 2", "without a"),
    "two begins": (with_solution_cell("### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION"),
                   "### BEGIN SOLUTION\ny = 2", "a second"),
    "marker in markdown": (with_markdown("Some prose.\n\n### BEGIN SOLUTION\n\nMore prose."), "### BEGIN SOLUTION\n\nMore",
                           "outside a code cell"),
    "unknown directive": (with_markdown("First line.\n\n```{sidebar} Aside\nText.\n```"),
                          ("First line.", "```{sidebar}"), "{sidebar} directive"),
    "unknown colon directive": (with_markdown("First line.\n\n:::{margin}\nText.\n:::"),
                                ("First line.", ":::{margin}"), "{margin} directive"),
    "unknown role": (with_markdown("First line.\n\nA {abbr}`MLP (multi-layer perceptron)` here."),
                     ("First line.", "A {abbr}"), "{abbr} role"),
    "unknown citation": (with_markdown("First line.\n\nAs shown {cite:p}`nobody2099`."),
                         ("First line.", "As shown {cite:p}"), "'nobody2099'"),
    "unknown equation": (with_markdown("First line.\n\nBy {eq}`eq-missing`."), ("First line.", "By {eq}"), "eq-missing"),
    "unclosed directive": (with_markdown("First line.\n\n```{note}\nNever closed."), ("First line.", "```{note}\nNever"),
                           "never closed"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_source_fails_with_file_and_line_and_writes_nothing(tmp_path, capsys, name):
    source, needle, words = BAD[name]
    root = make_course(tmp_path)
    assert run(root) == 0
    for kind in ("lessons", "solutions"):  # a sentinel, so "unchanged" means something
        path = root / kind / "01_demo.ipynb"
        path.write_bytes(path.read_bytes() + b"\n")
    before = snapshot(root)
    capsys.readouterr()

    (root / "book" / "01_demo.md").write_text(source, encoding="utf-8")
    assert run(root) == 1
    err = capsys.readouterr().err
    assert "Nothing was written" in err
    assert words in err
    assert "Traceback" not in err
    match = re.search(r"book/01_demo\.md:(\d+): ", err)
    assert match, err
    line = int(match.group(1))
    if isinstance(needle, tuple):  # somewhere from the start of the offending cell to the offending line
        assert lesson_line(source, needle[0]) <= line <= lesson_line(source, needle[1]), (line, err)
    else:
        assert line == lesson_line(source, needle), (line, err)
    assert snapshot(root) == before
    assert run(root, "--check") == 1


def test_lesson_missing_from_the_toc(tmp_path, capsys):
    root = make_course(tmp_path)
    assert run(root) == 0
    before = snapshot(root)
    (root / "book" / "02_unlisted.md").write_text(FRONT_MATTER + "\n# Not in the toc\n", encoding="utf-8")
    assert run(root) == 1
    err = capsys.readouterr().err
    assert "book/02_unlisted.md:1:" in err
    assert "_toc.yml" in err and "book/02_unlisted" in err
    assert snapshot(root) == before
    assert not (root / "lessons" / "02_unlisted.ipynb").exists()


def test_a_broken_second_lesson_stops_the_first_being_written(tmp_path, capsys):
    root = make_course(tmp_path)
    (root / "_toc.yml").write_text(TOC + "  - file: book/02_broken\n", encoding="utf-8")
    (root / "book" / "02_broken.md").write_text(FRONT_MATTER + "\n# Broken\n\nSee {cite:p}`missing`.\n", encoding="utf-8")
    assert run(root) == 1
    assert "book/02_broken.md:" in capsys.readouterr().err
    assert not (root / "lessons").exists() and not (root / "solutions").exists()


@pytest.mark.parametrize("broken", ["missing toc", "bad toc yaml", "missing bib", "bad bib"])
def test_broken_course_files_give_a_message_not_a_traceback(tmp_path, capsys, broken):
    root = make_course(tmp_path)
    if broken == "missing toc":
        (root / "_toc.yml").unlink()
    elif broken == "bad toc yaml":
        (root / "_toc.yml").write_text("chapters: [unclosed\n", encoding="utf-8")
    elif broken == "missing bib":
        (root / "book" / "references.bib").unlink()
    else:
        (root / "book" / "references.bib").write_text("@article{broken,\n  title = {no end\n", encoding="utf-8")
    assert run(root) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Nothing was written" in err
    assert not (root / "lessons").exists()


# ---------------------------------------------------------------- the real repository


def test_repository_notebooks_match_book_sources():
    """What `make check-notebooks` checks: lessons/ and solutions/ are what book/ generates."""
    if not sorted((REPO / "book").glob(notebooks.LESSON_GLOB)):
        pytest.skip("book/ has no lessons yet")
    outputs = notebooks.generate(REPO)
    assert outputs
    for path, content in outputs.items():
        assert path.exists(), f"{path.relative_to(REPO)} is missing; run `make notebooks`"
        assert path.read_text(encoding="utf-8") == content, f"{path.relative_to(REPO)} is stale; run `make notebooks`"
    assert notebooks.stale(REPO, outputs) == []


def test_repository_lessons_have_no_solutions_or_myst():
    lessons = sorted((REPO / "lessons").glob("*.ipynb"))
    if not lessons:
        pytest.skip("lessons/ is empty")
    for path in lessons:
        nb = nbformat.read(path, as_version=4)
        assert "### BEGIN SOLUTION" not in "\n".join(code_sources(nb)), path.name
        text = markdown_text(nb)
        for leftover in ["```{", ":::", "{eq}", ":label:", "{cite", "{ref}"]:
            assert leftover not in text, (path.name, leftover)


# ---------------------------------------------------------------- nbgrader's metadata and the points

GRADED = LESSON.replace("Done.", """Done.

:::{exercise} Double it
:label: ex-double
:points: 3

Write `double(x)`.
:::

```{code-cell} ipython3
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
```

```{code-cell} ipython3
checks.double(double)
```

:::{exercise} Halve it
:label: ex-halve

Write `halve(x)`.
:::

```{code-cell} ipython3
def halve(x):
    ### BEGIN SOLUTION
    return x / 2
    ### END SOLUTION
```

```{code-cell} ipython3
checks.halve(halve)
```
""")


def nbgrader_cells(nb) -> list[tuple[str, dict]]:
    return [(cell.source, cell.metadata["nbgrader"]) for cell in nb.cells if "nbgrader" in cell.metadata]


@pytest.fixture
def graded_course(tmp_path):
    root = make_course(tmp_path, GRADED)
    assert run(root) == 0
    return root


def test_check_cells_are_nbgrader_test_cells_with_the_exercise_points(graded_course):
    for kind in ("lessons", "solutions"):
        tests = {source: meta for source, meta in nbgrader_cells(read(graded_course, kind)) if meta["grade"]}
        assert tests == {
            "checks.double(double)": {"grade": True, "grade_id": "check-double", "locked": True, "points": 3,
                                      "schema_version": 3, "solution": False, "task": False},
            "checks.halve(halve)": {"grade": True, "grade_id": "check-halve", "locked": True,
                                    "points": notebooks.DEFAULT_POINTS, "schema_version": 3, "solution": False,
                                    "task": False},
        }


def test_solution_cells_are_nbgrader_solution_cells(graded_course):
    solutions = [(source, meta) for source, meta in nbgrader_cells(read(graded_course, "solutions"))
                 if meta["solution"]]
    assert all(BEGIN in source and not meta["grade"] and not meta["locked"] for source, meta in solutions)
    ids = [meta["grade_id"] for _, meta in solutions]
    # the demo's three unchecked solution cells come before `double`: they are numbered after it
    assert ids == ["answer-double-1", "answer-double-2", "answer-double-3", "answer-double", "answer-halve"]


def test_lessons_lock_their_test_cells_as_nbgrader_would(graded_course):
    lessons = read(graded_course, "lessons")
    for cell in lessons.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta["grade"]:
            assert (cell.metadata["editable"], cell.metadata["deletable"]) == (False, False)
        elif meta:
            assert cell.metadata["deletable"] is False and "editable" not in cell.metadata
    assert all("editable" not in cell.metadata for cell in read(graded_course, "solutions").cells)


def test_the_exercise_heading_gives_its_points(graded_course):
    text = markdown_text(read(graded_course, "lessons"))
    assert "**Exercise 1.2: Double it** (3 points)" in text
    assert "**Exercise 1.3: Halve it** (1 point)" in text


@pytest.mark.parametrize("points", ["0", "two", "-1"])
def test_points_must_be_a_positive_whole_number(tmp_path, capsys, points):
    root = make_course(tmp_path, GRADED.replace(":points: 3", f":points: {points}"))
    assert run(root) == 1
    err = capsys.readouterr().err
    # the line of the markdown cell that holds the exercise
    assert re.search(r"book/01_demo\.md:\d+: `:points: [^`]+` must be a whole number", err)


def test_a_check_called_twice_is_refused(tmp_path, capsys):
    root = make_course(tmp_path, GRADED.replace("checks.halve(halve)", "checks.double(double)"))
    assert run(root) == 1
    assert "checks.double is called a second time" in capsys.readouterr().err


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads) of a code cell; IPython's %magic and !shell lines are skipped."""
    code = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith(("%", "!")))
    bound, read = set(), set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return bound, read


@pytest.mark.parametrize("path", sorted((REPO / "book").glob(notebooks.LESSON_GLOB)), ids=lambda p: p.stem)
def test_no_later_cell_reads_a_name_that_only_a_book_only_cell_set(path):
    # The tests run the book and the book without solutions, and take them as runs of solutions/ and
    # lessons/, which lack the book-only cells (the widgets' static figures). That holds while no cell
    # after a book-only cell reads a name that the book-only cell set and no notebook cell set again.
    from_book_only = {}  # name -> the book-only cell's first line
    for cell in jupytext.reads(path.read_text(encoding="utf-8"), fmt="md:myst").cells:
        if cell.cell_type != "code":
            continue
        bound, read = _names(cell.source)
        if notebooks.BOOK_ONLY in cell.metadata.get("tags", []):
            from_book_only.update(dict.fromkeys(bound, cell.source.split("\n")[0]))
            continue
        leaked = {name: from_book_only[name] for name in read - bound if name in from_book_only}
        assert not leaked, f"{path.name}: a cell reads {sorted(leaked)}, set only in the book-only cell {leaked}"
        for name in bound:
            from_book_only.pop(name, None)


def test_the_setup_cell_imports_the_package_or_says_how_to_get_it(tmp_path):
    ok = subprocess.run([sys.executable, "-c", notebooks.SETUP], cwd=tmp_path, capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 0, ok.stderr
    # Without the package (a Python that cannot see it), the cell stops with its message, not a traceback.
    missing = subprocess.run([sys.executable, "-I", "-S", "-c", notebooks.SETUP], cwd=tmp_path, capture_output=True,
                             text=True, check=False)
    assert missing.returncode != 0 and "make lab" in missing.stderr and "Traceback" not in missing.stderr
