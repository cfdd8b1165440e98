"""Turn each book/NN_*.md lesson (a MyST Markdown notebook) into two Jupyter notebooks.

    lessons/NN_*.ipynb    for learners: solutions replaced by stubs, no outputs, plain Markdown
    solutions/NN_*.ipynb  for instructors: the same with solutions between nbgrader's markers

Run `python -m attention_course.notebooks` (or `make notebooks`) to write them, and
`python -m attention_course.notebooks --check` (or `make check-notebooks`) to fail when they are stale.
The output is byte-identical from run to run. Every source is read and converted before anything is
written, so a broken source stops the run with `file:line: what is wrong` and overwrites nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat
import yaml

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
CHECK_CELL = re.compile(r"^checks\.(\w+)\((\w+)\)$")  # a check cell: one line, `checks.<check>(<function>)`
DEFAULT_POINTS = 1  # an exercise's points unless its {exercise} directive says `:points: N`
NBGRADER_SCHEMA = 3
BOOK_ONLY = "book-only"  # a cell with this tag appears in the book only (e.g. a widget's static counterpart)
LESSON_GLOB = "[0-9][0-9]_*.md"
SETUP = """\
# The lessons use the course's helper package. `make lab` installs it; on Colab or Binder, see the Setup page.
try:
    import attention_course
except ModuleNotFoundError:
    raise SystemExit("This notebook needs the course's helper package, attention_course: run `make lab` in "
                     "the course folder, or follow the book's Setup page on Colab or Binder.") from None"""

ADMONITIONS = {
    "note": "Note", "tip": "Tip", "hint": "Hint", "important": "Important", "warning": "Warning",
    "caution": "Caution", "attention": "Attention", "danger": "Danger", "error": "Error", "seealso": "See also",
}


class NotebookSourceError(Exception):
    """A problem in a book/ source, reported as `path:line: message`."""


# ---------------------------------------------------------------- checking the raw source


def check_markers(path: Path, text: str) -> None:
    """Solution markers must sit inside a code cell, balanced, one pair at a time."""
    fence = None  # the backticks that opened the current code cell
    begin_line = fence_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        opening = re.match(r"^(`{3,})\{code-cell\}", stripped)
        if fence is None and opening:
            fence, fence_line = opening.group(1), number
            continue
        if fence is not None and stripped == fence:
            if begin_line is not None:
                raise NotebookSourceError(f"{path}:{begin_line}: '{BEGIN}' has no '{END}' before its code cell ends.")
            fence = None
            continue
        if stripped not in (BEGIN, END):
            continue
        if fence is None:
            raise NotebookSourceError(
                f"{path}:{number}: '{stripped}' is outside a code cell; solutions go inside ```{{code-cell}} blocks."
            )
        if stripped == BEGIN:
            if begin_line is not None:
                raise NotebookSourceError(f"{path}:{number}: a second '{BEGIN}' before the '{END}' of line {begin_line}.")
            begin_line = number
        else:
            if begin_line is None:
                raise NotebookSourceError(f"{path}:{number}: '{END}' without a '{BEGIN}' before it.")
            begin_line = None
    if fence is not None:
        raise NotebookSourceError(f"{path}:{fence_line}: this code cell, opened with {fence}, is never closed.")


def toc_files(root: Path) -> set[str]:
    """Every `file:` entry of _toc.yml, without its extension."""
    entries = set()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("file", "root"):
                    entries.add(str(Path(value).with_suffix("")))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load((root / "_toc.yml").read_text()))
    return entries


# ---------------------------------------------------------------- lowering MyST to plain Markdown


@dataclass
class Lowering:
    """Lowers one lesson's MyST Markdown to plain Markdown; holds the per-lesson numbering."""

    path: Path
    bibliography: dict[str, tuple[str, str]]  # key -> (authors, year)
    chapter: int  # lesson NN is chapter NN of the book, so its equations are (NN.1), (NN.2), ...
    equations: dict[str, str] = field(default_factory=dict)
    exercises: int = 0
    points: list[int] = field(default_factory=list)  # each exercise's points, in order
    line: int = 0  # where the current cell starts in the source, for error messages

    def error(self, message: str) -> NotebookSourceError:
        return NotebookSourceError(f"{self.path}:{self.line}: {message}")

    def number_equations(self, text: str) -> None:
        """Number labelled equations in order, so {eq} references can be lowered before or after them."""
        for match in re.finditer(r"^[`:]{3,}\{math\}[^\n]*\n(?::\w+:[^\n]*\n)*?:label:\s*(\S+)", text, re.MULTILINE):
            self.equations.setdefault(match.group(1), f"{self.chapter}.{len(self.equations) + 1}")

    def markdown(self, text: str) -> str:
        text = re.sub(r"^\(([\w-]+)\)=\s*\n", "", text, flags=re.MULTILINE)  # targets
        text = self._number_title(text)
        text = re.sub(r"^%.*\n?", "", text, flags=re.MULTILINE)  # MyST comments
        text = self._directives(text)
        text = self._roles(text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()

    def _number_title(self, text: str) -> str:
        """The book numbers the title: `# Title` -> `# NN. Title`, but never a `# comment` inside a fenced block."""
        parts = re.split(r"(^(?:`{3,}|:{3,}).*?^(?:`{3,}|:{3,})[ \t]*$)", text, flags=re.MULTILINE | re.DOTALL)
        for i in range(0, len(parts), 2):  # even parts are outside fences
            numbered = re.sub(r"^# (?!\d)", f"# {self.chapter}. ", parts[i], count=1, flags=re.MULTILINE)
            if numbered != parts[i]:
                parts[i] = numbered
                break
        return "".join(parts)

    def _directives(self, text: str) -> str:
        lines, out, i = text.split("\n"), [], 0
        while i < len(lines):
            opening = re.match(r"^(\s*)(:{3,}|`{3,})\{([\w:-]+)\}\s*(.*)$", lines[i])
            if not opening:
                out.append(lines[i])
                i += 1
                continue
            _indent, fence, name, argument = opening.groups()
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            if j == len(lines):
                raise self.error(f"the {{{name}}} directive opened with {fence} is never closed.")
            options, body = {}, lines[i + 1:j]
            while body and re.match(r"^\s*:[\w-]+:", body[0]):
                key, _, value = body.pop(0).strip()[1:].partition(":")
                options[key] = value.strip()
            out.extend(self._directive(name, argument.strip(), options, self._directives("\n".join(body))).split("\n"))
            i = j + 1
        return "\n".join(out)

    def _directive(self, name: str, argument: str, options: dict, body: str) -> str:
        if name in ("solution-start", "solution-end", "bibliography"):
            return ""
        if name == "math":
            label = options.get("label")
            tag = f" \\tag{{{self.equations[label]}}}" if label else ""
            return f"$$\n{body.strip()}{tag}\n$$"
        if name == "exercise":
            self.exercises += 1
            self.points.append(exercise_points(options, self.error))
            number = f"Exercise {self.chapter}.{self.exercises}"
            title = f"**{number}: {argument}**" if argument else f"**{number}**"
            return _quote(f"{title} ({_plural(self.points[-1], 'point')})", body)
        if name in ADMONITIONS:
            return _quote(f"**{ADMONITIONS[name]}**" + (f": {argument}" if argument else ""), body)
        if name == "admonition":
            return _quote(f"**{argument}**", body)
        if name == "figure":
            caption = body.strip()
            return f"![{options.get('alt', caption)}](../book/{argument})\n\n*{caption}*"
        raise self.error(f"the {{{name}}} directive has no plain-Markdown lowering; add one in notebooks.py.")

    def _roles(self, text: str) -> str:
        def role(match: re.Match) -> str:
            name, content = match.group(1), match.group(2)
            shown = re.match(r"^(.*?)\s*<([^>]+)>$", content, re.DOTALL)
            if name == "math":
                return f"${content}$"
            if name == "eq":
                if content not in self.equations:
                    raise self.error(f"{{eq}}`{content}` refers to no labelled equation in this lesson.")
                return f"({self.equations[content]})"
            if name in ("ref", "numref", "doc") and not shown:
                raise self.error(f"give {{{name}}}`{content}` its link text, as in {{{name}}}`the text <{content}>`.")
            if name in ("ref", "numref", "doc", "term", "download"):
                return shown.group(1) if shown else content
            if name in ("cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
                return self._citation(name, content)
            raise self.error(f"the {{{name}}} role has no plain-Markdown lowering; add one in notebooks.py.")

        # Scanning roles and inline code together, left to right, leaves code such as `{math}` alone.
        return re.sub(r"\{([\w:-]+)\}`([^`]+)`|`[^`\n]+`", lambda m: role(m) if m.group(1) else m.group(0), text)

    def _citation(self, name: str, content: str) -> str:
        parts = []
        for key in (k.strip() for k in content.split(",")):
            if key not in self.bibliography:
                raise self.error(f"the citation key {key!r} is not in book/references.bib.")
            authors, year = self.bibliography[key]
            parts.append(f"{authors} ({year})" if name.startswith("cite:t") else f"{authors}, {year}")
        return "; ".join(parts) if name.startswith("cite:t") else f"({'; '.join(parts)})"


def exercise_points(options: dict, error=NotebookSourceError) -> int:
    """An exercise's points: `:points: N` on its {exercise} directive, else DEFAULT_POINTS."""
    value = options.get("points", str(DEFAULT_POINTS)).strip()
    if not value.isdigit() or int(value) == 0:
        raise error(f"`:points: {value}` must be a whole number of points, 1 or more.")
    return int(value)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _quote(title: str, body: str) -> str:
    lines = [title, ""] + body.strip().split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def read_bibliography(path: Path) -> dict[str, tuple[str, str]]:
    """key -> ("Vaswani et al.", "2017"), enough to print author-year citations."""
    from pybtex.database import parse_string
    from pybtex.exceptions import PybtexError

    if not path.exists():
        raise NotebookSourceError(f"{path}: the bibliography is missing; citations need it.")
    try:
        database = parse_string(path.read_text(encoding="utf-8"), "bibtex")
    except PybtexError as error:
        raise NotebookSourceError(f"{path}: {error}") from None
    entries = {}
    for key, entry in database.entries.items():
        last = [" ".join(person.last_names) for person in entry.persons.get("author", [])]
        authors = last[0] if len(last) == 1 else " and ".join(last) if len(last) == 2 else f"{last[0]} et al."
        entries[key] = (authors, entry.fields.get("year", "n.d."))
    return entries


# ---------------------------------------------------------------- building the two notebooks


def _stub(source: str) -> str:
    """Replace everything between the solution markers by the nbgrader stub, at the marker's indent."""
    out, inside = [], False
    for line in source.split("\n"):
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUB)
            inside = True
        elif line.strip() == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def _banner(stem: str) -> str:
    # The same in lessons/ and solutions/, so that nbgrader's generate_assignment, which keeps it, makes a
    # learner version equal to lessons/ from solutions/.
    return (
        f"*Attention, Step by Step* · `{stem}`\n\n"
        "Run the cells from top to bottom. Where a cell says `# YOUR CODE HERE`, replace "
        "`raise NotImplementedError()` with your code, then run the check cell below it: it says "
        "✔ when you are right and, in one sentence, what is wrong when you are not. A check you have "
        "not attempted yet says so and lets the notebook go on."
    )


def build(path: Path, bibliography: dict, kind: str, shown: Path | None = None) -> str:
    """The notebook JSON for `kind` ('lessons' or 'solutions') from one book/ source.

    `shown` is the path that error messages name (the source relative to the course root).
    """
    text = path.read_text(encoding="utf-8")
    shown = shown or path
    check_markers(shown, text)
    lowering = Lowering(shown, bibliography, chapter=int(path.stem[:2]))
    lowering.number_equations(text)
    source = jupytext.reads(text, fmt="md:myst")
    starts = _cell_lines(text)
    cells, figures = [], 0
    grading = Grading(lowering)
    for index, cell in enumerate(source.cells):
        lowering.line = starts[index] if index < len(starts) else 0
        tags = list(cell.metadata.get("tags", []))
        if BOOK_ONLY in tags:
            continue
        if cell.cell_type == "markdown":
            body = lowering.markdown(cell.source)
            if body:
                cells.append(nbformat.v4.new_markdown_cell(body))
        else:
            body = _stub(cell.source) if kind == "lessons" else cell.source
            cells.append(nbformat.v4.new_code_cell(body, metadata={"tags": tags} if tags else {}))
            grading.add(cells[-1], cell.source)
            caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
            if caption:  # the book numbers and captions figures; the notebook gets the same line under the cell
                figures += 1
                caption = lowering.markdown(" ".join(caption.split()))
                cells.append(nbformat.v4.new_markdown_cell(f"*Figure {lowering.chapter}.{figures}.* {caption}"))
    after_title = 1 if cells and cells[0].cell_type == "markdown" and cells[0].source.startswith("# ") else 0
    cells[after_title:after_title] = [nbformat.v4.new_markdown_cell(_banner(path.stem)),
                                      nbformat.v4.new_code_cell(SETUP)]
    grading.finish(locked_cells_read_only=kind == "lessons")
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number:03d}"
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


@dataclass
class Grading:
    """Marks a lesson's graded cells with nbgrader's metadata, so nbgrader can use the notebooks as they are.

    A cell with solution markers is an nbgrader solution cell; a check cell, `checks.<name>(<name>)`, is an
    autograder test cell worth the points of the exercise before it (`:points: N` on the {exercise}
    directive, else DEFAULT_POINTS). A check raises on a wrong answer, and also on a stub when nbgrader runs
    it (NBGRADER_EXECUTION is set), so nbgrader gives the points exactly when the check passes.
    """

    lowering: Lowering
    solutions: list = field(default_factory=list)  # solution cells, each with the check that follows it
    checks: dict = field(default_factory=dict)  # check name -> its cell
    graded_exercises: int = 0  # exercises whose check cell has been seen

    def add(self, cell, source: str) -> None:
        if BEGIN in source:
            self.solutions.append([cell, None])
            return
        match = CHECK_CELL.match(source.strip())
        if not match:
            return
        name = match.group(1)
        if name in self.checks:
            raise self.lowering.error(f"checks.{name} is called a second time; each check cell grades one exercise.")
        exercises = self.lowering.exercises
        if exercises == self.graded_exercises:
            points = DEFAULT_POINTS  # a check with no {exercise} of its own
        else:
            points = self.lowering.points[exercises - 1]
            self.graded_exercises = exercises
        self.checks[name] = cell
        for pending in self.solutions:
            pending[1] = pending[1] or name
        cell.metadata["nbgrader"] = _nbgrader(grade_id=f"check-{name}", grade=True, locked=True, points=points)

    def finish(self, locked_cells_read_only: bool) -> None:
        for number, (cell, check) in enumerate(self.solutions, start=1):
            same = [c for c, other in self.solutions if other == check] if check else [cell]
            if not check:
                grade_id = f"answer-{number}"
            elif cell is same[-1]:
                grade_id = f"answer-{check}"  # the solution cell just before its check
            else:
                grade_id = f"answer-{check}-{same.index(cell) + 1}"
            cell.metadata["nbgrader"] = _nbgrader(grade_id=grade_id, solution=True)
        if locked_cells_read_only:  # as nbgrader's generate_assignment leaves them
            for cell, _check in self.solutions:
                cell.metadata["deletable"] = False
            for cell in self.checks.values():
                cell.metadata.update(deletable=False, editable=False)


def _nbgrader(grade_id: str, grade: bool = False, solution: bool = False, locked: bool = False,
              points: int | None = None) -> dict:
    metadata = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": NBGRADER_SCHEMA,
                "solution": solution, "task": False}
    if points is not None:
        metadata["points"] = points
    return metadata


def _cell_lines(text: str) -> list[int]:
    """First source line of each jupytext cell: code cells at their fence, markdown cells at their first text.

    Like jupytext, a stretch of blank lines (between two code cells, or before a `+++`) makes no cell.
    """
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":
        start = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0) + 1
    starts, fence, markdown = [], None, None  # markdown: first non-blank line of the markdown cell being read
    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        opening = re.match(r"^(`{3,})\{code-cell\}", stripped)
        if fence is None and opening:
            starts.extend([markdown, number] if markdown else [number])
            fence, markdown = opening.group(1), None
        elif fence is not None:
            if stripped == fence:
                fence = None
        elif stripped.startswith("+++"):
            if markdown:
                starts.append(markdown)
            markdown = None
        elif stripped and markdown is None:
            markdown = number
    if markdown:
        starts.append(markdown)
    return starts


def generate(root: Path) -> dict[Path, str]:
    """Every output file and its content, or NotebookSourceError before anything is written."""
    listed = toc_files(root)
    bibliography = read_bibliography(root / "book" / "references.bib")
    outputs = {}
    for path in sorted((root / "book").glob(LESSON_GLOB)):
        relative = path.relative_to(root)
        if str(relative.with_suffix("")) not in listed:
            raise NotebookSourceError(f"{relative}:1: this lesson is not in _toc.yml; add `- file: {relative.with_suffix('')}`.")
        for kind in ("lessons", "solutions"):
            outputs[root / kind / f"{path.stem}.ipynb"] = build(path, bibliography, kind, shown=relative)
    return outputs


def stale(root: Path, outputs: dict[Path, str]) -> list[Path]:
    """Generated files that differ from what is on disk, plus notebooks with no source any more."""
    wrong = [p for p, content in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != content]
    orphans = [p for kind in ("lessons", "solutions") for p in sorted((root / kind).glob("*.ipynb")) if p not in outputs]
    return wrong + orphans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if lessons/ or solutions/ are stale; write nothing")
    parser.add_argument("--root", type=Path, default=Path("."), help="the course's root folder")
    args = parser.parse_args(argv)
    try:
        outputs = generate(args.root)
    except (NotebookSourceError, OSError, yaml.YAMLError) as error:
        print(f"error: {error}\nNothing was written.", file=sys.stderr)
        return 1
    out_of_date = stale(args.root, outputs)
    if args.check:
        for path in out_of_date:
            print(f"stale: {path} (run `make notebooks`)", file=sys.stderr)
        return 1 if out_of_date else 0
    for path, content in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(content, encoding="utf-8")
            temporary.replace(path)  # atomic: a reader never sees half a notebook
    for path in out_of_date:
        if path not in outputs:
            path.unlink()
    print(f"wrote {len(outputs)} notebooks to lessons/ and solutions/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
