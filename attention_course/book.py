"""A small Sphinx extension for the book (listed in _config.yml).

- Launch buttons open the learner notebook, lessons/NN_x.ipynb, rather than the MyST source
  book/NN_x.md that Colab cannot open.
- Solution code shows without nbgrader's `### BEGIN/END SOLUTION` marker lines, which matter only
  to the notebook generator and nbgrader.
- Pages carry no ipywidgets state or scripts: each widget cell is removed from the page and a static
  figure stands in for it.
- Progress bars are switched off while the book executes the lessons (attention_course.progress reads
  TQDM_DISABLE): on a static page a bar would stay frozen at 0%.
- Each script is on a page once. Sphinx lists some extension scripts twice (once from its registry,
  once as the extension added it), and sphinx-thebe's inline `const THEBE_JS_URL = ...` declared twice
  is a JavaScript error on every page.
- The references page marks each entry as a list item: docutils' `role="doc-biblioentry"` is deprecated
  in ARIA and leaves its `role="list"` without items, which screen readers and axe-core object to.
- `JUPYTERHUB_URL` in the environment adds a JupyterHub launch button, so each school can
  point the book at its own hub without editing _config.yml.
"""

from __future__ import annotations

import os
import re

from docutils import nodes

from .notebooks import BEGIN, END

LESSON_PAGE = re.compile(r"^book/(\d\d_[\w-]+)$")


def _no_progress_bars(app, config) -> None:
    # A page shows a progress bar frozen at whatever it showed first; the kernels that run the lessons
    # for the book inherit this and draw none. In Jupyter the bars work as usual.
    os.environ["TQDM_DISABLE"] = "1"


def _use_hub_from_environment(app, config) -> None:
    hub = os.environ.get("JUPYTERHUB_URL", "").strip()
    if hub:
        config.html_theme_options.setdefault("launch_buttons", {})["jupyterhub_url"] = hub


def _tidy_doctree(app, doctree) -> None:
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if BEGIN in text:
            kept = "\n".join(line for line in text.split("\n") if line.strip() not in (BEGIN, END))
            block.rawsource = kept
            block.children = []
            block += nodes.Text(kept)
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    metadata.get("js_files", {}).pop("ipywidgets_state", None)


def _rewrite(node, source: str, target: str) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("url"), str) and node["url"].startswith("http") and source in node["url"]:
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


def _one_copy_of_each_script(app, pagename, templatename, context, doctree) -> None:
    kept, seen = [], set()
    for script in context.get("script_files", []):
        attributes = {k: v for k, v in getattr(script, "attributes", {}).items() if k != "priority"}
        key = (script.filename or "", tuple(sorted(attributes.items())))  # None and "" both mean inline
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _citations_as_list_items(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if isinstance(body, str) and 'role="doc-biblioentry"' in body:
        context["body"] = body.replace('role="doc-biblioentry"', 'role="listitem"')


def setup(app):
    app.connect("config-inited", _use_hub_from_environment)
    app.connect("config-inited", _no_progress_bars)
    app.connect("doctree-read", _tidy_doctree)
    app.connect("html-page-context", _launch_learner_notebook, priority=900)  # after the theme adds its buttons
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)  # after every extension's scripts
    app.connect("html-page-context", _citations_as_list_items)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
