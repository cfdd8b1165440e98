"""What the whole suite shares: the thread policy of the processes it starts, and the two book builds.

- OMP_WAIT_POLICY=PASSIVE (attention_course.runtime.KERNEL_ENVIRONMENT) is set before torch is first
  imported, for this process and every kernel the tests start: an idle OpenMP thread sleeps instead of
  spinning, so a busy machine does not slow the suite down several times over.
- So is OMP_NUM_THREADS=1 (runtime.TEST_ENVIRONMENT): the suite runs three or more busy processes at once
  (two book builds' kernels and this one, or the grader's), more than a 2-core machine has cores, and a
  process on two threads then waits at every parallel step for a thread that has no core.
- The lessons run twice, in two book builds (tests/builds.py). A build starts in the background as soon
  as collection finds a test that asks for it (the fixtures `book_build` and `nosolutions_build`), and
  runs beside the other tests; the tests that read a build run last.
- Tests that execute notebooks or build books carry the marker `notebooks`; `make quick` leaves them out.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # = runtime.KERNEL_ENVIRONMENT; before torch is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")  # = runtime.TEST_ENVIRONMENT

import pytest  # after the environment is set
from builds import BUILDS


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if set(BUILDS) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.notebooks)
    # The tests that read a build run last, so that the rest of the suite runs while the builds do.
    items.sort(key=lambda item: bool(set(BUILDS) & set(getattr(item, "fixturenames", ()))))


def pytest_collection_finish(session):
    if session.config.option.collectonly:
        return
    wanted = {name for item in session.items for name in getattr(item, "fixturenames", ()) if name in BUILDS}
    for name in sorted(wanted):
        BUILDS[name].start()


def pytest_sessionfinish(session):
    for build in BUILDS.values():
        build.stop()


@pytest.fixture(scope="session")
def book_build():
    """The book, built with -W as `make book` builds it (tests/builds.py)."""
    BUILDS["book_build"].wait()
    return BUILDS["book_build"]


@pytest.fixture(scope="session")
def nosolutions_build():
    """The book without solutions, built as `make book-nosolutions` builds it (tests/builds.py)."""
    BUILDS["nosolutions_build"].wait()
    return BUILDS["nosolutions_build"]
