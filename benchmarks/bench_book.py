"""How long the whole book takes to build, from an empty Jupyter cache (every lesson executed).

It runs `jupyter-book build . --all --warningiserror --keep-going` with `--path-output` set to a temporary
folder, so the execution cache starts empty and _build/ is left alone. There is no torch counterpart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import row  # after the path is set

ROOT = Path(__file__).resolve().parents[1]


def run() -> list[dict]:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}  # the book draws inline
    with tempfile.TemporaryDirectory(prefix="book-bench-") as output:
        command = [str(jupyter_book), "build", str(ROOT), "--all", "--warningiserror", "--keep-going",
                   "--path-output", output]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        pages = len(list(Path(output, "_build", "html").rglob("*.html")))
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"the book build failed (exit {result.returncode}): {' / '.join(tail)}")
    return [row("build the book (empty cache, every lesson executed)", seconds, None,
                f"one build; {pages} HTML pages; warnings as errors")]
