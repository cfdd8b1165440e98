"""Every accessibility violation axe-core finds in the built book, allowed or not, solutions opened.

    .venv/bin/python tests_browser/axe_report.py [--dark] [--only 04_positional] [--verbose]

Prints one line per page and rule with the number of elements, then the totals. The browser tests
(test_accessibility.py) fail on any violation that is not on their list of known theme issues.
"""

from __future__ import annotations

import argparse
import collections
import sys

import book_site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dark", action="store_true", help="check the dark theme instead of the light one")
    parser.add_argument("--only", default="", help="only the pages whose name contains this text")
    parser.add_argument("--verbose", action="store_true", help="list the elements, not only how many")
    args = parser.parse_args(argv)
    if book_site.chromium_path() is None:
        print(book_site.NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    rules: collections.Counter = collections.Counter()
    nodes: collections.Counter = collections.Counter()
    with sync_playwright() as playwright, book_site.chromium(playwright) as browser, \
            book_site.serve() as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      color_scheme="dark" if args.dark else "light")
        book_site.block_outside_requests(context, base_url, [])
        page = context.new_page()
        for name in (p for p in book_site.toc_pages() if args.only in p):
            page.goto(f"{base_url}{name}.html")
            book_site.settle(page)
            for button in page.locator("div.solution button.toggle-button").all():  # the solutions too
                button.click()
            page.wait_for_timeout(300)
            for violation in book_site.run_axe(page):
                rules[violation["id"]] += 1
                nodes[violation["id"]] += len(violation["nodes"])
                print(f"{name:32} {violation['id']:28} {violation['impact']:9} {len(violation['nodes']):4} elements")
                if args.verbose:
                    for node in violation["nodes"]:
                        print(f"    {node['target']}: {node['html'][:150]}")
    print(f"\n{sum(rules.values())} violations (rule x page), {sum(nodes.values())} elements")
    for rule, count in rules.most_common():
        print(f"  {rule:28} on {count:2} pages, {nodes[rule]:4} elements")
    return 0


if __name__ == "__main__":
    sys.exit(main())
