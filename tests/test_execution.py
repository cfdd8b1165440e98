"""Every notebook run the course starts goes without nbclient's Output-widget stand-in (coursekit/execution.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from attention_course import book
from attention_course.grading import runner
from coursekit import execution


def new_notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_install_removes_the_stand_in_from_every_client():
    execution.install()
    execution.install()  # twice is harmless: the method is wrapped once
    client = NotebookClient(new_notebook())
    assert client.widget_registry == {}


def test_the_book_extension_and_the_grader_use_it():
    assert "execution.install()" in Path(book.__file__).read_text(encoding="utf-8")
    client = runner._Client(new_notebook(), kernel_argv=[], output_bytes=1000)
    assert client.widget_registry == {}


@pytest.mark.notebooks
def test_a_widget_cell_runs_and_keeps_its_outputs_in_the_cell():
    execution.install()
    nb = new_notebook("import ipywidgets as w\nfrom IPython.display import display\n"
                      "out = w.Output()\ndisplay(out)\nwith out:\n    print('inside the widget')")
    NotebookClient(nb, timeout=60).execute()
    outputs = nb.cells[0].outputs
    assert any(o.get("text") == "inside the widget\n" for o in outputs), outputs
