"""Fixtures for the browser tests: the built book served on 127.0.0.1, and headless system Chromium.

`make test-browser` builds the book first. Run by hand: `.venv/bin/pytest tests_browser`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import book_site
import pytest

PAGES = book_site.toc_pages()
LESSONS = [page for page in PAGES if book_site.is_lesson(page)]
DESKTOP = {"width": 1280, "height": 900}


def pytest_configure(config) -> None:
    if not (book_site.HTML / "index.html").exists():
        pytest.exit("No built book in _build/html: run `make test-browser` (it builds the book) or `make book`.",
                    returncode=2)
    if book_site.chromium_path() is None:
        pytest.exit(book_site.NO_CHROMIUM, returncode=2)
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.exit("The browser tests need Playwright: run them with `make test-browser`, which installs it.",
                    returncode=2)


def pytest_xdist_make_scheduler(config, log):
    """Under xdist (`make test-browser` runs two workers), every test of one page runs on one worker.

    Each worker then loads each of its pages once (see `visits`). xdist's own `--dist loadgroup` would do this,
    but its group marks are lost under pytest 9 (it renames `item._nodeid`, which pytest no longer reads).
    """
    from xdist.scheduler import LoadScopeScheduling

    class ByPage(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            page = re.search(r"\[([^\]]+)\]$", nodeid)  # test_math_renders[book/05_masking] -> book/05_masking
            return page.group(1) if page else nodeid

    return ByPage(config, log)


@pytest.fixture(scope="session")
def base_url():
    with book_site.serve() as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, book_site.chromium(playwright) as chromium:
        yield chromium


@dataclass
class Visit:
    """One page, loaded once in its own tab, with what the browser reported while loading it."""

    name: str
    url: str
    page: object
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions
    blocked: list[str] = field(default_factory=list)  # requests for anything not served by the book
    solutions_shown_at_load: list[bool] = field(default_factory=list)  # each solution's body, once settled


def open_page(browser, base_url: str, name: str) -> Visit:
    """Open one page of the book in a fresh browser context at 1280 px, and wait until it has settled."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    visit = Visit(name=name, url=f"{base_url}{name}.html", page=None)
    book_site.block_outside_requests(context, base_url, visit.blocked)
    page = context.new_page()
    page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: visit.errors.append(f"uncaught: {error}"))
    response = page.goto(visit.url)
    assert response is not None and response.ok, f"{name}: the server answered {response and response.status}"
    book_site.settle(page)
    bodies = page.locator(SOLUTION_BODY)
    visit.solutions_shown_at_load = [bodies.nth(i).is_visible() for i in range(bodies.count())]
    visit.page = page
    return visit


SOLUTION_BODY = "div.solution > section"


def open_solutions(page) -> int:
    """Open every solution that is closed (a click on an open one would close it); how many were opened."""
    solutions = page.locator("div.solution")
    opened = 0
    for i in range(solutions.count()):
        body = solutions.nth(i).locator(":scope > section")
        if not body.is_visible():
            solutions.nth(i).locator("button.toggle-button").click()
            body.wait_for(state="visible", timeout=5000)
            opened += 1
    return opened


@pytest.fixture(scope="session")
def visits(browser, base_url):
    """Each page of the book opened once at 1280 px and kept open for the tests of that page.

    A test that changes the page (opens the solutions, switches to the dark theme, narrows the window to a
    phone's) either leaves it as every other test may find it (solutions open) or restores it. What the page
    was like on arrival is kept in the Visit.
    """
    opened: dict[str, Visit] = {}

    def visit(name: str) -> Visit:
        if name not in opened:
            opened[name] = open_page(browser, base_url, name)
        return opened[name]

    yield visit
    for v in opened.values():
        v.page.context.close()
