"""Reading lesson notebooks: which cells a lesson holds, what its check cells printed, which cells only draw."""

from __future__ import annotations

import ast

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


def only_draws(source: str) -> bool:
    """True for a cell whose every statement is a call of plots.<name> or widgets.<name>, kept or not."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics
        return False
    return bool(body) and all(
        isinstance(node, (ast.Expr, ast.Assign)) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute) and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id in ("plots", "widgets") for node in body)


def without_figures(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the cells that only draw a figure or a widget (they define nothing, and grade
    nothing), as a learner may delete them; it must hold some."""
    kept = [cell for cell in notebook.cells if not (cell.cell_type == "code" and only_draws(cell.source))]
    assert len(kept) < len(notebook.cells), "this notebook draws nothing to leave out"
    notebook.cells = kept
    return notebook
