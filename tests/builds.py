"""The test suite's two executions of the lessons, each a book build that runs in the background.

Every lesson's code runs twice in `make test`, and no more:
- the book (book/*.md, with the solutions: every cell that solutions/ holds), built as `make book` builds
  it, into _build/ (so a developer's earlier `make book` leaves an execution cache that makes it quick,
  and `make test-browser` afterwards finds the book built);
- the book without solutions (the stubs: every cell that lessons/ holds), built as
  `make book-nosolutions` builds it, into _build/nosolutions/ and _build/html-nosolutions/.
tests/test_book.py and tests/test_nosolutions.py read the pages and the executed notebooks of these
builds; they also prove that the notebooks in solutions/ and lessons/ hold exactly the cells that ran.

conftest.py starts a build as soon as collection finds a test that needs it, so that both builds run
beside the rest of the suite; a test that reads one waits for it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from attention_course import nosolutions

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The longest a build may take. In a fresh-clone `make test` on a 2-core machine beside another busy process
# (2026-12-07) the book's lessons executed in 1,112 s in all, 614 s of it one stalled kernel (lesson 4), and
# the book without solutions in 971 s. Twice that, so a busier machine still finishes.
BUILD_TIMEOUT_S = 2400


@dataclass
class Build:
    """A `jupyter-book build` (or a command that runs one) in the background, with its output kept."""

    name: str
    command: list[str]
    output: Path  # the folder of the built HTML
    source: Path  # the book's folder that was built: <source>/book/NN_*.md
    cache: Path  # the build's execution cache (jupyter-cache), which holds every executed notebook
    stamp: Path | None = None  # touched after a successful build, as the Makefile's target touches it
    log: Path = field(init=False)
    _process: subprocess.Popen | None = field(default=None, init=False)
    _started: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self):
        self.log = ROOT / "_build" / f"test-{self.name}.log"

    def start(self) -> None:
        with self._lock:
            if self._process is not None:
                return
            env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "w", encoding="utf-8") as log:  # the child keeps its own copy of the handle
                # A session of its own: signals meant for the tests' process group (the grader's interrupts,
                # a Ctrl-C) never reach the build's kernels.
                self._process = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=log,
                                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                 start_new_session=True)
            self._started = time.monotonic()

    def wait(self) -> str:
        """The build's output, once it has finished; a failed or overlong build fails the caller."""
        self.start()
        try:
            self._process.wait(timeout=max(1.0, BUILD_TIMEOUT_S - (time.monotonic() - self._started)))
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"the {self.name} build took longer than {BUILD_TIMEOUT_S} s; see {self.log}") from None
        text = self.log.read_text(encoding="utf-8", errors="replace")
        assert self._process.returncode == 0, f"the {self.name} build failed (see {self.log}):\n{text[-6000:]}"
        if self.stamp:
            self.stamp.touch()
        return text

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)  # the build and the kernels it started
            self._process.wait()

    def notebook(self, stem: str) -> nbformat.NotebookNode:
        """The executed notebook of book/<stem>.md, as this build ran it, outputs and all.

        From the execution cache, the one record of a run: a build that found a page in its cache writes
        that page's notebook to jupyter_execute/ without outputs.
        """
        import jupytext  # here, not at the top: conftest imports this module in every `make quick` process
        from jupyter_cache import get_cache

        notebook = jupytext.read(self.source / "book" / f"{stem}.md")
        try:
            _, executed = get_cache(self.cache).merge_match_into_notebook(notebook)
        except KeyError:
            raise AssertionError(f"the {self.name} build's cache holds no run of {stem}'s current code") from None
        return executed


NOSOLUTIONS_WORK = ROOT / nosolutions.WORK  # the command's default folders

BOOK = Build(
    "book",
    [str(BIN / "jupyter-book"), "build", str(ROOT), "--warningiserror", "--keep-going", "--all"],
    output=ROOT / "_build" / "html", source=ROOT, cache=ROOT / "_build" / ".jupyter_cache",
    stamp=ROOT / "_build" / "html" / ".built")  # the Makefile's BOOK_STAMP: `make test-browser` reuses this build

NOSOLUTIONS = Build(
    "nosolutions",
    [str(BIN / "python"), "-m", "attention_course.nosolutions", "--root", str(ROOT)],
    output=ROOT / nosolutions.OUTPUT, source=NOSOLUTIONS_WORK / "source",
    cache=NOSOLUTIONS_WORK / "_build" / ".jupyter_cache")

BUILDS = {"book_build": BOOK, "nosolutions_build": NOSOLUTIONS}  # fixture name -> its build
