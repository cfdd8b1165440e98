"""A small Sphinx extension for the book (listed in _config.yml).

- Launch buttons open the learner notebook, lessons/NN_x.ipynb, rather than the MyST source
  book/NN_x.md that Colab cannot open.
- `JUPYTERHUB_URL` in the environment adds a JupyterHub launch button, so each school can
  point the book at its own hub without editing _config.yml.
"""

from __future__ import annotations

import os
import re

LESSON_PAGE = re.compile(r"^book/(\d\d_[\w-]+)$")


def _use_hub_from_environment(app, config) -> None:
    hub = os.environ.get("JUPYTERHUB_URL", "").strip()
    if hub:
        config.html_theme_options.setdefault("launch_buttons", {})["jupyterhub_url"] = hub


def _rewrite(node, source: str, target: str) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("url"), str) and source in node["url"]:
            node["url"] = node["url"].replace(source, target)
        for child in node.values():
            _rewrite(child, source, target)
    elif isinstance(node, list):
        for child in node:
            _rewrite(child, source, target)


def _launch_learner_notebook(app, pagename, templatename, context, doctree) -> None:
    match = LESSON_PAGE.match(pagename)
    if match:
        _rewrite(context.get("header_buttons", []), f"book/{match.group(1)}.md", f"lessons/{match.group(1)}.ipynb")


def setup(app):
    app.connect("config-inited", _use_hub_from_environment)
    app.connect("html-page-context", _launch_learner_notebook, priority=900)  # after the theme adds its buttons
    return {"parallel_read_safe": True, "parallel_write_safe": True}
