"""The built book as a browser sees it: its pages in table-of-contents order, a local server, Chromium.

Shared by the browser tests (conftest.py) and the screenshot script (screenshots.py).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
NO_CHROMIUM = ("make test-browser needs Chromium: install it (`apt-get install chromium`) or point CHROMIUM "
               "at a Chromium or Chrome binary, e.g. `make test-browser CHROMIUM=/usr/bin/google-chrome`")


def config() -> dict:
    """The book's _config.yml."""
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_pages() -> list[str]:
    """Every page of the book, root first, in the order of _toc.yml (the order of the previous/next links)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]

    def walk(entries) -> None:
        for entry in entries or ():
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [str(Path(page).with_suffix("")) for page in pages]


def is_lesson(page: str) -> bool:
    """Lessons are the numbered pages, book/NN_name."""
    name = Path(page).name
    return Path(page).parent.name == "book" and name[:2].isdigit() and name[2:3] == "_"


def chromium_path() -> str | None:
    """The Chromium binary to drive: $CHROMIUM, else `chromium` on the PATH; None when there is none."""
    wanted = os.environ.get("CHROMIUM", "").strip()
    if wanted:
        return shutil.which(wanted) or None
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # http.server logs every request; the tests need none
        pass


@contextmanager
def serve(directory: Path = HTML) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 at a free port, in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium(playwright) -> Iterator[object]:
    """Headless system Chromium through Playwright (no browser download)."""
    path = chromium_path()
    if path is None:
        raise SystemExit(NO_CHROMIUM)
    browser = playwright.chromium.launch(executable_path=path, headless=True)
    try:
        yield browser
    finally:
        browser.close()


def block_outside_requests(context, base_url: str, blocked: list[str]) -> None:
    """Let the page load only from the local server; note every other request in `blocked` and abort it."""

    def handle(route) -> None:
        url = route.request.url
        if url.startswith((base_url, "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)


WAIT_FOR_PAGE = """async () => {
    // Lazy images load only near the viewport: load them all, then wait for each to decode or fail.
    const images = Array.from(document.images);
    images.forEach(image => { image.loading = "eager"; });
    await Promise.all(images.map(image => image.decode().catch(() => null)));
    // MathJax typesets after the page loads; wait until it has finished.
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
        await window.MathJax.startup.promise;
    }
    return true;
}"""


def settle(page) -> None:
    """Wait until every image has loaded (or failed) and MathJax has typeset the page."""
    page.wait_for_function("() => document.readyState === 'complete'")
    page.wait_for_function("() => !document.querySelector('script[src*=\"mathjax\"]') || "
                           "(window.MathJax && window.MathJax.startup && window.MathJax.startup.promise)")
    page.evaluate(WAIT_FOR_PAGE)


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def run_axe(page, rules: list[str] | None = None) -> list[dict]:
    """axe-core's violations on the page as it is now: one dict per rule, with the elements that break it.

    Every rule of AXE_TAGS, or only the named `rules` (each run alone costs less than the whole set).
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    run_only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": AXE_TAGS}
    return page.evaluate("""async (runOnly) => {
        const results = await axe.run(document, {runOnly: runOnly, resultTypes: ['violations']});
        return results.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: n.failureSummary}))}));
    }""", run_only)
