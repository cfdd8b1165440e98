"""attention_course.book: the Sphinx extension that tidies lesson pages (the built pages are tested in test_book.py)."""

from __future__ import annotations

from types import SimpleNamespace

from docutils import nodes
from docutils.utils import new_document

from attention_course import book


def test_jupyterhub_button_comes_from_the_environment(monkeypatch):
    config = SimpleNamespace(html_theme_options={"launch_buttons": {"jupyterhub_url": ""}})
    monkeypatch.setenv("JUPYTERHUB_URL", "https://hub.school.test")
    book._use_hub_from_environment(None, config)
    assert config.html_theme_options["launch_buttons"]["jupyterhub_url"] == "https://hub.school.test"


def test_no_jupyterhub_button_without_the_environment(monkeypatch):
    config = SimpleNamespace(html_theme_options={"launch_buttons": {"jupyterhub_url": ""}})
    monkeypatch.delenv("JUPYTERHUB_URL", raising=False)
    book._use_hub_from_environment(None, config)
    assert config.html_theme_options["launch_buttons"]["jupyterhub_url"] == ""


def test_launch_buttons_point_at_the_learner_notebook_and_downloads_stay():
    launch = "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/01_lookup.md"
    download = "../_sources/book/01_lookup.md"
    context = {"header_buttons": [{"type": "group", "buttons": [{"url": launch}]}, {"url": download}]}
    book._launch_learner_notebook(None, "book/01_lookup", "page.html", context, None)
    assert context["header_buttons"][0]["buttons"][0]["url"].endswith("lab/tree/lessons/01_lookup.ipynb")
    assert context["header_buttons"][1]["url"] == download


def test_front_matter_pages_are_left_alone():
    launch = "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/setup.md"
    context = {"header_buttons": [{"url": launch}]}
    book._launch_learner_notebook(None, "book/setup", "page.html", context, None)
    assert context["header_buttons"][0]["url"] == launch


def test_solution_markers_are_removed_from_code_and_widget_state_dropped():
    document = new_document("test")
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    document += nodes.literal_block(source, source)
    js_files = {"ipywidgets_state": (None, {}), "other": ("x.js", {})}
    env = SimpleNamespace(docname="book/01_lookup", nb_metadata={"book/01_lookup": {"js_files": js_files}})
    book._tidy_doctree(SimpleNamespace(env=env), document)
    code = document.children[0].astext()
    assert "SOLUTION" not in code and "return 1" in code
    assert list(js_files) == ["other"]


def test_each_script_is_on_a_page_once():
    from sphinx.builders.html._assets import _JavaScript

    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [_JavaScript("doctools.js"), _JavaScript(None, body=thebe), _JavaScript("", body=thebe),
               _JavaScript("doctools.js"), _JavaScript("sphinx-thebe.js", **{"async": "async"})]
    context = {"script_files": scripts}
    book._one_copy_of_each_script(None, "book/01_lookup", "page.html", context, None)
    assert [(s.filename or "", s.attributes.get("body")) for s in context["script_files"]] == [
        ("doctools.js", None), ("", thebe), ("sphinx-thebe.js", None)]


def test_citations_become_list_items():
    context = {"body": '<div role="list" class="citation-list"><div class="citation" role="doc-biblioentry">'}
    book._citations_as_list_items(None, "book/references", "page.html", context, None)
    assert 'role="doc-biblioentry"' not in context["body"] and 'role="listitem"' in context["body"]
    untouched = {"body": "<p>no citations</p>"}
    book._citations_as_list_items(None, "book/intro", "page.html", untouched, None)
    assert untouched["body"] == "<p>no citations</p>"


def test_the_execution_cache_is_emptied_when_the_package_changes(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path / "html"))
    cache = tmp_path / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("runs of the old package")
    (cache / book.PACKAGE_STAMP).write_text("the old package's fingerprint")
    book._cache_follows_the_package(app, None)
    assert not (cache / "global.db").exists()
    assert (cache / book.PACKAGE_STAMP).read_text() == book.package_fingerprint()
    (cache / "global.db").write_text("runs of this package")
    book._cache_follows_the_package(app, None)
    assert (cache / "global.db").exists(), "an unchanged package must keep its cache"
