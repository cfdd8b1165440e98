"""Build the book with every exercise solution removed, for courses that publish it while exercises are due.

    python -m attention_course.nosolutions      # or: make book-nosolutions

Copies the book's sources into _build/nosolutions/source with each solution dropdown removed and each
solution replaced by the learner's stub (as in lessons/), builds that copy with warnings as errors, and
puts the HTML in _build/html-nosolutions. The check cells are executed too, so they say "not attempted
yet". Before it reports success it searches every file of the build for the solutions' code, and fails if
any is found. Introduced for instructors.

This build is also the test suite's one execution of the learners' code (tests/test_nosolutions.py): its
executed notebooks hold every cell of lessons/. The tests run this same command, so each reuses the other's
execution cache.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from .notebooks import BEGIN, END, _stub

SOLUTION_BLOCK = re.compile(r"^(`{3,}|:{3,})\{solution(?:-start|-end)?\}[^\n]*\n.*?^\1[ \t]*$\n?", re.DOTALL | re.MULTILINE)
OUTPUT = Path("_build") / "html-nosolutions"
WORK = Path("_build") / "nosolutions"


def without_solutions(text: str) -> str:
    """A book page with its solution directives removed and every solution replaced by the stub."""
    return _stub(SOLUTION_BLOCK.sub("", text))


def solution_bodies(root: Path) -> dict[str, list[str]]:
    """page -> the code between each pair of solution markers in book/*.md, one string per solution."""
    bodies = {}
    for path in sorted((root / "book").glob("*.md")):
        found = re.findall(rf"^[ \t]*{re.escape(BEGIN)}[ \t]*\n(.*?)^[ \t]*{re.escape(END)}", path.read_text(
            encoding="utf-8"), re.DOTALL | re.MULTILINE)
        if found:
            bodies[path.stem] = found
    return bodies


def telltale_lines(root: Path) -> set[str]:
    """Solution lines that appear nowhere else in the book's sources: finding one in a build is a leak."""
    elsewhere = set()
    for path in sorted((root / "book").glob("*.md")):
        for line in without_solutions(path.read_text(encoding="utf-8")).split("\n"):
            elsewhere.add(" ".join(line.split()))
    lines = set()
    for bodies in solution_bodies(root).values():
        for body in bodies:
            for line in body.split("\n"):
                line = " ".join(line.split())
                if len(line) >= 12 and not line.startswith("#") and line not in elsewhere:
                    lines.add(line)
    return lines


def leaks(html: Path, root: Path) -> list[str]:
    """Where solution code appears in a built book: "file: line" for each telltale line or whole solution."""
    telltales = telltale_lines(root)
    elsewhere = " ".join(" ".join(without_solutions(p.read_text(encoding="utf-8")).split())
                         for p in sorted((root / "book").glob("*.md")))
    whole = [body for bodies in solution_bodies(root).values() for body in (" ".join(b.split()) for b in bodies)
             if len(body) >= 12 and body not in elsewhere]
    found = []
    for path in sorted(p for p in html.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images and fonts
        flat = " ".join(_unescape(text).split())
        for line in sorted(telltales):
            if line in flat:
                found.append(f"{path.relative_to(html)}: {line}")
        for body in whole:
            if body in flat:
                found.append(f"{path.relative_to(html)}: {body[:60]}...")
    return found


def _unescape(text: str) -> str:
    """HTML text without its tags and entities, so that highlighted code reads as code again."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", text))


def prepare(root: Path, work: Path) -> Path:
    """The book's sources, without solutions, in work/source; returns that folder."""
    source = work / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(root / "book", source / "book")
    for page in (source / "book").glob("*.md"):
        page.write_text(without_solutions(page.read_text(encoding="utf-8")), encoding="utf-8")
    shutil.copy(root / "_toc.yml", source / "_toc.yml")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["course_root"] = str(root.resolve())
    (source / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return source


def build(root: Path, output: Path, work: Path = WORK) -> int:
    """Build the book without solutions into `output`, working in `work`; 0 on success, as a command's status."""
    root = root.resolve()
    work = work if work.is_absolute() else root / work
    source = prepare(root, work)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    command = [str(jupyter_book), "build", str(source), "--path-output", str(work), "--all", "--warningiserror",
               "--keep-going"]
    result = subprocess.run(command, cwd=root, env=env, check=False)
    if result.returncode != 0:
        print("error: the book without solutions did not build; see the messages above.", file=sys.stderr)
        return result.returncode
    output = output if output.is_absolute() else root / output
    if output.exists():
        shutil.rmtree(output)
    shutil.move(str(work / "_build" / "html"), str(output))
    found = leaks(output, root)
    if found:
        print("error: solution code appears in the build:\n  " + "\n  ".join(found[:20]), file=sys.stderr)
        return 1
    print(f"The book without solutions is built. Open {output / 'index.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the course's root folder")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where the HTML goes (default {OUTPUT})")
    parser.add_argument("--work", type=Path, default=WORK,
                        help=f"where the sources, execution cache and executed notebooks go (default {WORK})")
    args = parser.parse_args(argv)
    return build(args.root, args.output, args.work)


if __name__ == "__main__":
    sys.exit(main())
