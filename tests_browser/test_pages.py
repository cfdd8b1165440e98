"""Every page of the table of contents, as a reader's browser draws it.

Pages come from _toc.yml, so a new lesson is checked as soon as it is listed there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin

import book_site
import pytest
from bs4 import BeautifulSoup
from conftest import DESKTOP, LESSONS, PAGES, open_solutions

# Console errors a page may show, each with the reason it is allowed. None is expected: MathJax ships with
# the book, no script is loaded from a CDN, and attention_course.book removes the duplicated script that
# sphinx-thebe's configuration used to cause ("Identifier 'THEBE_JS_URL' has already been declared").
KNOWN_CONSOLE_ERRORS: dict[str, str] = {}

# Requests for anything that is not part of the book, each with the reason it is allowed. None is expected:
# the book must read offline. (Links to Binder, Colab and GitHub are followed only when clicked.)
KNOWN_OUTSIDE_REQUESTS: dict[str, str] = {}

RAW_MYST = ["{exercise}", "{solution", ":::", "```", ":label:", "{eq}", "{cite", "{ref}", "{doc}", "{term}",
            "{numref}", "{glue", "{math}", "{figure}", "{code-cell}", "### BEGIN SOLUTION", "### END SOLUTION",
            "$$", "\\begin{", "\\(", "\\["]
WIDGET_REPR = re.compile(r"\b(?:IntSlider|FloatSlider|FloatLogSlider|SelectionSlider|Dropdown|VBox|HBox|Box|"
                         r"interactive|Output|Text|Textarea|Button|ToggleButtons|Checkbox|RadioButtons|Tab)\(")
WIDGET_CONTROLS = (".jupyter-widgets, .widget-area, .lm-Widget, .p-Widget, .widget-slider, .widget-dropdown, "
                   "input[type=range], script[type*='jupyter-widget']")


def allowed(message: str, known: dict[str, str]) -> bool:
    return any(pattern in message for pattern in known)


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_javascript_errors(visits, name):
    errors = [e for e in visits(name).errors if not allowed(e, KNOWN_CONSOLE_ERRORS)]
    assert not errors, f"{name}: the console shows errors: {errors}"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_nothing_from_outside_the_book(visits, name):
    outside = [url for url in visits(name).blocked if not allowed(url, KNOWN_OUTSIDE_REQUESTS)]
    assert not outside, f"{name}: the page asks for files the book does not serve: {outside}"


@pytest.mark.parametrize("name", PAGES)
def test_title_navigation_and_previous_next_links(visits, base_url, name):
    visit = visits(name)
    info = visit.page.evaluate("""() => {
        const headings = [...document.querySelectorAll('main h1')].filter(h => h.checkVisibility());
        const heading = headings[0];
        const clean = node => { const c = node.cloneNode(true); c.querySelectorAll('.headerlink').forEach(a => a.remove());
                                return c.textContent.replace(/\\s+/g, ' ').trim(); };
        const href = selector => { const a = document.querySelector(selector); return a ? a.href : null; };
        const nav = [...document.querySelectorAll('nav.bd-docs-nav a.reference')];
        return {
            title: document.title, h1: heading ? clean(heading) : null, h1Count: headings.length,
            nav: nav.map(a => a.href.split('#')[0]),
            current: nav.filter(a => a.parentElement.classList.contains('current')).map(a => a.href.split('#')[0]),
            previous: href('.prev-next-area a.left-prev'), next: href('.prev-next-area a.right-next'),
        };
    }""")
    book_title = book_site.config()["title"]
    assert info["h1Count"] == 1 and info["h1"], f"{name}: a page needs exactly one h1 title"
    assert info["title"] == f"{info['h1']} — {book_title}", f"{name}: the window title is {info['title']!r}"
    expected_nav = {f"{base_url}{page}.html" for page in PAGES}
    assert set(info["nav"]) == expected_nav, f"{name}: the sidebar does not list exactly the pages of _toc.yml"
    assert info["current"] == [visit.url], f"{name}: the sidebar marks {info['current']} as the current page"
    i = PAGES.index(name)
    expected_previous = f"{base_url}{PAGES[i - 1]}.html" if i > 0 else None
    expected_next = f"{base_url}{PAGES[i + 1]}.html" if i + 1 < len(PAGES) else None
    assert info["previous"] == expected_previous, f"{name}: 'previous' goes to {info['previous']}"
    assert info["next"] == expected_next, f"{name}: 'next' goes to {info['next']}"


def test_next_links_walk_through_the_whole_book(base_url, visits):
    """A reader who starts at the welcome page and keeps following 'next' sees every page, in order.

    Each page's 'next' link is read from the page as served (the browser's own rendering of each page and
    of its link is checked by test_title_navigation_and_previous_next_links).
    """
    request = visits(PAGES[0]).page.request
    seen = [f"{base_url}{PAGES[0]}.html"]
    while True:
        response = request.get(seen[-1])
        assert response.ok, f"{seen[-1]}: the server answered {response.status}"
        link = BeautifulSoup(response.text(), "html.parser").select_one(".prev-next-area a.right-next")
        if link is None:
            break
        seen.append(urljoin(seen[-1], link["href"]).split("#")[0])
        assert len(seen) <= len(PAGES), "the 'next' links go round in a circle"
    assert seen == [f"{base_url}{p}.html" for p in PAGES]


_fetched: dict[str, str] = {}


@pytest.mark.parametrize("name", PAGES)
def test_internal_links_reach_a_page_and_an_anchor(visits, base_url, name):
    page = visits(name).page
    links = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    broken = []
    for link in sorted({link for link in links if link.startswith(base_url)}):
        address, fragment = urldefrag(link)
        if address not in _fetched:
            response = page.request.get(address)
            _fetched[address] = response.text() if response.ok else ""
        html = _fetched[address]
        if not html:
            broken.append(f"{link} (no such file)")
        elif fragment and address.endswith(".html") and f'id="{unquote(fragment)}"' not in html:
            broken.append(f"{link} (no such anchor)")
    assert not broken, f"{name}: broken links: {broken}"


@pytest.mark.parametrize("name", PAGES)
def test_no_raw_myst_or_latex_shows(visits, name):
    text = visits(name).page.evaluate("""() => {
        const main = document.querySelector('main').cloneNode(true);
        main.querySelectorAll('pre, code, .highlight, mjx-container, script, style').forEach(e => e.remove());
        return main.textContent;
    }""")
    shown = [raw for raw in RAW_MYST if raw in text]
    assert not shown, f"{name}: raw source shows on the page: {shown}"


@pytest.mark.parametrize("name", PAGES)
def test_every_exercise_has_a_solution_hidden_until_clicked(visits, name):
    visit = visits(name)
    page = visit.page
    exercises = page.evaluate("() => [...document.querySelectorAll('div.exercise')].map(e => e.id)")
    targets = page.evaluate("""() => [...document.querySelectorAll('div.solution')].map(s => {
        const a = s.querySelector('.admonition-title a[href^="#"]'); return a ? a.getAttribute('href').slice(1) : null; })""")
    if book_site.is_lesson(name):
        assert exercises, f"{name}: a lesson without exercises"
    assert sorted(targets, key=str) == sorted(exercises), f"{name}: exercises {exercises}, solutions for {targets}"
    shown = [target for target, visible in zip(targets, visit.solutions_shown_at_load) if visible]
    assert len(visit.solutions_shown_at_load) == len(targets) and not shown, \
        f"{name}: the solutions to {shown} show before they are asked for"
    open_solutions(page)  # a click on each shows it (waits until it is visible)
    solutions = page.locator("div.solution")
    for i in range(solutions.count()):
        body = solutions.nth(i).locator(":scope > section")
        assert body.locator("div.cell pre").first.is_visible(), f"{name}: the solution to {targets[i]} has no code"


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_has_a_caption_and_every_image_alt_text(visits, name):
    info = visits(name).page.evaluate("""() => ({
        figures: [...document.querySelectorAll('main figure')].map(f => ({
            id: f.id, caption: (f.querySelector('figcaption') || {innerText: ''}).innerText.trim(),
            images: f.querySelectorAll('img').length })),
        images: [...document.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'), alt: i.getAttribute('alt')})),
    })""")
    for figure in info["figures"]:
        assert figure["caption"], f"{name}: figure {figure['id']!r} has no caption"
        assert figure["images"], f"{name}: figure {figure['id']!r} holds no image"
    for image in info["images"]:
        alt = (image["alt"] or "").strip()
        assert alt, f"{name}: the image {image['src']} has no alt text"
        assert not re.search(r"\.(png|svg|jpe?g|gif)$", alt, re.IGNORECASE), f"{name}: alt is a file name: {alt}"
    if book_site.is_lesson(name):
        assert info["figures"], f"{name}: a lesson without figures"


@pytest.mark.parametrize("name", PAGES)
def test_no_image_is_broken(visits, name):
    images = visits(name).page.evaluate(
        "() => [...document.images].map(i => ({src: i.getAttribute('src'), width: i.naturalWidth}))")
    broken = [image["src"] for image in images if not image["width"]]
    assert not broken, f"{name}: images that do not load: {broken}"


@pytest.mark.parametrize("name", PAGES)
def test_no_code_cell_shows_an_error_or_a_warning(visits, name):
    outputs = visits(name).page.evaluate("""() => [...document.querySelectorAll('.cell_output .output')].map(o => ({
        kind: o.className, text: o.innerText }))""")
    for output in outputs:
        assert "Traceback (most recent call last)" not in output["text"], f"{name}: a cell shows a traceback"
        assert not re.search(r"\b(traceback|error|stderr)\b", output["kind"]), \
            f"{name}: a cell shows {output['kind']!r} output: {output['text'][:300]}"


@pytest.mark.parametrize("name", LESSONS)
def test_widget_shows_as_a_static_figure_without_inert_controls(visits, name):
    page = visits(name).page
    statics = page.locator("figure[id^='fig-widget-static']")
    assert statics.count(), f"{name}: the widget's static counterpart is missing"
    column = page.evaluate("() => document.querySelector('main article').getBoundingClientRect().width")
    for i in range(statics.count()):
        image = statics.nth(i).locator("img").first
        image.scroll_into_view_if_needed()
        assert image.is_visible(), f"{name}: the widget's static figure is not visible"
        assert image.bounding_box()["width"] >= 0.6 * column, f"{name}: the widget's static figure is drawn small"
    assert page.locator(WIDGET_CONTROLS).count() == 0, f"{name}: inert widget controls show on the page"
    outputs = page.evaluate("() => [...document.querySelectorAll('.cell_output')].map(o => o.innerText)")
    reprs = [text[:120] for text in outputs if WIDGET_REPR.search(text) or "Loading widget" in text]
    assert not reprs, f"{name}: a widget shows as text: {reprs}"


def expected_launch_links(name: str) -> dict[str, str]:
    """Binder and Colab links for a lesson, from _config.yml: they open the learner notebook lessons/NN.ipynb."""
    config = book_site.config()
    repository = config["repository"]["url"].rstrip("/").removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    buttons = config["launch_buttons"]
    notebook = f"lessons/{Path(name).name}.ipynb"
    interface = "lab/tree" if buttons.get("notebook_interface") == "jupyterlab" else "tree"
    return {
        "Binder": f"{buttons['binderhub_url'].rstrip('/')}/v2/gh/{repository}/{branch}?urlpath={interface}/{notebook}",
        "Colab": f"{buttons['colab_url'].rstrip('/')}/github/{repository}/blob/{branch}/{notebook}",
    }


@pytest.mark.parametrize("name", LESSONS)
def test_launch_buttons_open_the_learner_notebook(visits, name):
    page = visits(name).page
    assert (book_site.ROOT / "lessons" / f"{Path(name).name}.ipynb").exists(), f"{name}: no learner notebook"
    page.locator(".dropdown-launch-buttons button.dropdown-toggle").click()
    for label, href in expected_launch_links(name).items():
        link = page.locator(f".dropdown-launch-buttons a[href='{href}']")
        assert link.count() == 1, f"{name}: no {label} button going to {href}"
        assert link.is_visible() and label in link.inner_text(), f"{name}: the {label} button does not show"
    page.keyboard.press("Escape")


@pytest.mark.parametrize("name", LESSONS)
def test_download_button_gives_the_notebook(visits, name):
    page = visits(name).page
    page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
    link = page.locator(".dropdown-download-buttons a.btn-download-notebook-button")
    assert link.is_visible(), f"{name}: no .ipynb download button"
    href = link.evaluate("a => a.href")
    assert href.endswith(f"{Path(name).name}.ipynb")
    response = page.request.get(href)
    assert response.ok, f"{name}: the .ipynb download answers {response.status}"
    notebook = json.loads(response.text())
    assert notebook["nbformat"] == 4 and notebook["cells"], f"{name}: the download is not a notebook"
    page.keyboard.press("Escape")


@pytest.mark.parametrize("name", PAGES)
def test_math_renders(visits, name):
    page = visits(name).page
    info = page.evaluate("""() => ({
        sources: document.querySelectorAll('main .math').length,
        rendered: document.querySelectorAll('main mjx-container').length,
        version: window.MathJax ? window.MathJax.version : null,
        errors: [...document.querySelectorAll('mjx-merror')].map(e => e.getAttribute('data-mjx-error') || e.textContent),
        leaked: [...document.querySelectorAll('main mjx-assistive-mml')].map(e => e.textContent).filter(t => t.includes('\\\\')),
        wide: [...document.querySelectorAll('main mjx-container[display=true]')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.querySelector('mjx-assistive-mml').textContent.slice(0, 60)),
    })""")
    if not info["sources"]:
        return
    assert info["version"] and info["version"].startswith("3."), f"{name}: MathJax did not load"
    assert info["rendered"] >= info["sources"], f"{name}: {info['sources']} formulas, {info['rendered']} rendered"
    assert not info["errors"], f"{name}: MathJax could not typeset: {info['errors']}"
    assert not info["leaked"], f"{name}: TeX commands show inside formulas: {info['leaked']}"
    assert not info["wide"], f"{name}: display equations wider than the page column: {info['wide']}"


PHONE_LAYOUT = """() => {
    const width = document.documentElement.clientWidth;
    const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
    const wide = [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > width + 1 && !scrolls(e))
        .map(e => e.tagName.toLowerCase() + ': ' + (e.innerText || '').slice(0, 50));
    const small = [...document.querySelectorAll('main figure img')]
        .filter(i => i.getBoundingClientRect().width < Math.min(i.naturalWidth, 560) - 1)
        .map(i => i.closest('figure').id + ': ' + Math.round(i.getBoundingClientRect().width) + ' px');
    return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5), small: small};
}"""


@pytest.mark.parametrize("name", PAGES)
def test_page_fits_a_phone_and_its_figures_stay_legible(visits, name):
    page = visits(name).page
    page.set_viewport_size({"width": 390, "height": 900})
    try:
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        info = page.evaluate(PHONE_LAYOUT)
    finally:
        page.set_viewport_size(DESKTOP)
    assert info["scroll"] <= info["width"], f"{name}: at 390 px the page scrolls sideways because of {info['wide']}"
    assert not info["small"], f"{name}: on a phone these figures shrink too far to read: {info['small']}"

