"""Running notebooks with nbclient without a ten-minute stall on a widget cell.

nbclient stands in for a browser's Output widget: each output a widget captures while its cell runs (the
lessons' widgets draw their first figure that way) is sent back to the kernel on the shell socket. That send
is synchronous (jupyter_client's Session.send shadows the asyncio socket), and it happens while another
coroutine awaits the cell's execute reply on the same socket. A synchronous send drains the socket's
wake-up signal, so a reply that has just arrived is noticed only when the cell timeout expires: in
`make test` a lesson 4 or lesson 7 widget cell stood still for 600 s, the kernel idle, the reply waiting.

Nothing here needs the stand-in: a widget cell never appears on a book page, and neither the grader nor
nbgrader reads a widget's state. Without it, a widget's outputs simply stay in the cell's outputs.
"""

from __future__ import annotations

from nbclient import NotebookClient


def without_output_widget_stand_in(client: NotebookClient) -> None:
    """Stop `client` from answering Output widgets over the shell socket (nbclient sets this up in __init__)."""
    client.widget_registry = {}


def install() -> None:
    """Every NotebookClient made in this process from now on, for clients that other tools create.

    Called by the book's Sphinx extension (jupyter-book executes through jupyter-cache) and from an
    nbgrader_config.py; the course's grader calls without_output_widget_stand_in in its own client.
    """
    init = NotebookClient.__init__
    if getattr(init, "without_output_widget_stand_in", False):
        return

    def __init__(self, *args, **kwargs) -> None:
        init(self, *args, **kwargs)
        without_output_widget_stand_in(self)

    __init__.without_output_widget_stand_in = True
    NotebookClient.__init__ = __init__
