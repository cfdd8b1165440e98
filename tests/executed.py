"""Reading executed lesson notebooks: which cells a lesson holds, and what its check cells printed."""

from __future__ import annotations

import nbformat

from attention_course.notebooks import BOOK_ONLY, CHECK_CELL, SETUP


def lesson_code(notebook: nbformat.NotebookNode) -> list[str]:
    """The code of every cell a learner's notebook holds, in order: the book's cells without its book-only
    ones, or a generated notebook's cells without the set-up cell that the generator puts first."""
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"
            and BOOK_ONLY not in cell.metadata.get("tags", []) and cell.source != SETUP]


def printed(cell) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("output_type") == "stream")


def check_lines(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(check name, what its cell printed) for every check cell, `checks.<name>(<name>)`, in order."""
    found = []
    for cell in notebook.cells:
        match = CHECK_CELL.match(cell.source.strip()) if cell.cell_type == "code" else None
        if match:
            found.append((match.group(1), printed(cell).strip()))
    return found
