"""Full-page screenshots of the built book, for a person to look at: `make screenshots`.

Every page of _toc.yml at 1280 px (a laptop) and 390 px (a phone) wide, in the light theme and, with
--dark, also in the dark one. The PNGs go to _build/screenshots/ (not committed).

    .venv/bin/python tests_browser/screenshots.py [--dark] [--only 04_positional] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import book_site

WIDTHS = {"desktop": 1280, "phone": 390}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=book_site.ROOT / "_build" / "screenshots")
    parser.add_argument("--dark", action="store_true", help="also take every page in the dark theme")
    parser.add_argument("--only", default="", help="only the pages whose name contains this text")
    args = parser.parse_args(argv)
    if not (book_site.HTML / "index.html").exists():
        print("No built book in _build/html: run `make book` first.", file=sys.stderr)
        return 1
    if book_site.chromium_path() is None:
        print(book_site.NO_CHROMIUM, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    pages = [p for p in book_site.toc_pages() if args.only in p]
    schemes = ["light", "dark"] if args.dark else ["light"]
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright, book_site.chromium(playwright) as browser, \
            book_site.serve() as base_url:
        for scheme in schemes:
            for label, width in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme,
                                              device_scale_factor=1, is_mobile=label == "phone")
                book_site.block_outside_requests(context, base_url, [])
                page = context.new_page()
                for name in pages:
                    page.goto(f"{base_url}{name}.html")
                    book_site.settle(page)
                    suffix = "" if scheme == "light" else "-dark"
                    target = args.out / f"{Path(name).name}-{width}{suffix}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target.relative_to(book_site.ROOT) if target.is_relative_to(book_site.ROOT) else target)
                context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
