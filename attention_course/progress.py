"""Progress bars for the lessons' training loops (tqdm.auto: a widget in Jupyter, text in a terminal)."""

from __future__ import annotations

import os

from tqdm.auto import tqdm


def progress_bar(iterable, desc: str, enabled: bool = True) -> tqdm:
    """A tqdm bar over `iterable`, off when `enabled` is False or TQDM_DISABLE is set.

    tqdm's notebook bar ignores TQDM_DISABLE, so it is read here. The book sets it while it executes
    the lessons (attention_course.book), because a static page would show a bar frozen at 0%.
    """
    disabled = not enabled or os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")
    return tqdm(iterable, desc=desc, mininterval=0.5, disable=disabled)
