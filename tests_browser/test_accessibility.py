"""Accessibility of every page, checked by axe-core (WCAG 2.x A and AA, and axe's best practices).

axe-core comes from npm (tests_browser/package.json); `make test-browser` installs it. Alt text, heading
order, link names and colour contrast are among the rules. The figures' own text and colour maps are
checked where they are drawn: tests/test_plots_accessibility.py. For a full list of what axe reports,
allowed or not: `.venv/bin/python tests_browser/axe_report.py`.
"""

from __future__ import annotations

import re

import book_site
import pytest
from conftest import PAGES, open_solutions

# Violations that come from the theme (pydata-sphinx-theme, under sphinx-book-theme), each with its reason.
# They are matched by rule and element, so the same rule broken by the course's own content still fails.
KNOWN_THEME_VIOLATIONS = {
    ("label-content-name-mismatch", ".search-button__button"):
        "the theme's search button is labelled 'Search' but also shows its shortcut, 'Ctrl+K'; the label is "
        "in its template, and the button works with a screen reader",
    ("label-content-name-mismatch", ".theme-switch-button"):
        "the theme's light/dark button is labelled 'Color mode' while its icon's hidden text names the current "
        "mode; the label is in its template",
    ("region", ".sidebar-primary-item"):
        "the theme puts the book's title link in the sidebar above its <nav>, outside any landmark; the "
        "sidebar's navigation itself is a landmark",
}


def matches(node: dict, selector: str) -> bool:
    """Whether axe's element is the theme's: its CSS path names the class, or the element itself has it."""
    classes = re.search(r'^<[^>]*\bclass="([^"]*)"', node.get("html", ""))
    return selector in node["target"] or bool(classes and selector.lstrip(".") in classes.group(1).split())


def unexplained(violations: list[dict]) -> list[str]:
    """Each violated rule and element that KNOWN_THEME_VIOLATIONS does not explain."""
    found = []
    for violation in violations:
        for node in violation["nodes"]:
            if not any(rule == violation["id"] and matches(node, where) for rule, where in KNOWN_THEME_VIOLATIONS):
                found.append(f"{violation['id']} ({violation['impact']}): {node['target']}: {node['summary']}")
    return found


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_axe(visits, name):
    page = visits(name).page
    if open_solutions(page):  # check the solutions too
        page.wait_for_timeout(600)  # the theme makes code that scrolls sideways focusable 300 ms after a change
    problems = unexplained(book_site.run_axe(page))
    assert not problems, f"{name}: axe-core finds:\n" + "\n".join(problems)


# The theme is switched, and its colour transitions have ended: the theme fades some colours (the search
# button's), and a busy machine once let axe measure one halfway, at a contrast of 1.04.
THEME_SETTLED = """(theme) => document.documentElement.dataset.theme === theme &&
    document.getAnimations().every(a => !(a instanceof CSSTransition) || a.playState !== 'running')"""


@pytest.mark.parametrize("name", PAGES)
def test_dark_theme_keeps_enough_contrast(visits, name):
    page = visits(name).page
    # The reader's system turns dark: the theme (in its default "auto" mode) follows at once, as it would on
    # arrival, and the page is put back afterwards for the other tests.
    page.emulate_media(color_scheme="dark")
    try:
        page.wait_for_function(THEME_SETTLED, arg="dark", timeout=10000)
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert sum(map(int, re.findall(r"\d+", background)[:3])) < 3 * 64, f"{name}: dark theme on a {background} page"
        problems = unexplained(book_site.run_axe(page, rules=["color-contrast"]))
    finally:
        page.emulate_media(color_scheme="light")
        page.wait_for_function(THEME_SETTLED, arg="light", timeout=10000)
    assert not problems, f"{name} in the dark theme:\n" + "\n".join(problems)


def test_the_allowlist_only_covers_theme_elements():
    """A violation of a known rule on the course's own content is not excused."""
    ours = [{"id": "region", "impact": "moderate",
             "nodes": [{"target": "main .cell_output", "summary": "not in a landmark"}]}]
    theirs = [{"id": "region", "impact": "moderate",
               "nodes": [{"target": ".sidebar-primary-items__start > .sidebar-primary-item", "summary": ""}]}]
    assert unexplained(ours) and not unexplained(theirs)
