"""The figures: each draws what the package computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from attention_course import lookup, plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def bar_widths(ax) -> np.ndarray:
    return np.array([patch.get_width() for patch in ax.patches])


@pytest.mark.parametrize("n", [1, 3, 8])  # one bar only, a few, the catalogue's eight
def test_weights_bar_draws_each_weight_and_marks_the_largest(n):
    weights = np.random.default_rng(0).dirichlet(np.ones(n))
    _fig, ax = plt.subplots()
    plots.weights_bar(ax, [f"item {i}" for i in range(n)], weights, "a title")
    np.testing.assert_allclose(bar_widths(ax), weights)
    colours = [to_hex(patch.get_facecolor()) for patch in ax.patches]
    best = int(np.argmax(weights))  # the same argmax of the same array as the plot's, so no tie can split them
    assert colours[best] == "#c44e52"
    assert all(c == "#8da0cb" for i, c in enumerate(colours) if i != best)
    assert ax.get_title() == "a title"
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"item {i}" for i in range(n)]
    assert ax.get_xlim() == (0, 1)


# three panels, one panel, the slider's two ends; the empty search (uniform weights) once
@pytest.mark.parametrize(("text", "temperatures"), [("cat piano", (0.1, 1.0, 10.0)), ("lasagna recipe", (1.0,)),
                                                    ("", (0.01, 100.0))])
def test_lookup_weights_shows_the_soft_lookup_at_each_temperature(text, temperatures):
    fig = plots.lookup_weights(text, temperatures)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(temperatures)
    for ax, temperature in zip(fig.axes, temperatures):
        _, weights = lookup.soft_lookup(lookup.embed_query(text), lookup.KEYS, lookup.VALUES, temperature)
        np.testing.assert_allclose(bar_widths(ax), weights)
        assert f"temperature {temperature:g}" in ax.get_title()
    assert repr(text) in fig._suptitle.get_text()


@pytest.mark.parametrize("text", ["cat piano", "music"])  # "lasagna recipe": the next test
def test_similarity_comparison_names_the_best_match_of_each(text):
    fig = plots.similarity_comparison(text)
    query = lookup.embed_query(text)
    dot_ax, cos_ax = fig.axes
    np.testing.assert_allclose(bar_widths(dot_ax), lookup.dot_scores(query, lookup.KEYS))
    np.testing.assert_allclose(bar_widths(cos_ax), lookup.cosine_similarity(query, lookup.KEYS))
    best_dot = lookup.TITLES[int(np.argmax(lookup.dot_scores(query, lookup.KEYS)))]
    best_cos = lookup.TITLES[int(np.argmax(lookup.cosine_similarity(query, lookup.KEYS)))]
    assert dot_ax.get_title().startswith("dot product") and best_dot in dot_ax.get_title()
    assert cos_ax.get_title().startswith("cosine similarity") and best_cos in cos_ax.get_title()


def test_similarity_comparison_shows_the_lesson_point():
    dot_ax, cos_ax = plots.similarity_comparison("lasagna recipe").axes
    assert "10 SHOCKING kitchen hacks!!!" in dot_ax.get_title()
    assert "Grandma's lasagna" in cos_ax.get_title()


@pytest.mark.parametrize("temperatures", [None, [0.1, 1.0, 10.0]])
def test_temperature_sweep_plots_every_video_and_the_entropy(temperatures):
    fig = plots.temperature_sweep("cat piano", temperatures)
    left, right = fig.axes
    assert len(left.get_lines()) == len(lookup.TITLES)
    xs = left.get_lines()[0].get_xdata()
    expected_x = np.logspace(-2, 2, 81) if temperatures is None else temperatures
    np.testing.assert_allclose(xs, expected_x)
    query = lookup.embed_query("cat piano")
    weights = np.array([lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, t)[1] for t in xs])
    for i, line in enumerate(left.get_lines()):
        np.testing.assert_allclose(line.get_ydata(), weights[:, i])
    stacked = np.array([line.get_ydata() for line in left.get_lines()])
    np.testing.assert_allclose(stacked.sum(axis=0), 1.0)
    entropy_line = right.get_lines()[0]
    np.testing.assert_allclose(entropy_line.get_ydata(), [lookup.entropy_bits(w) for w in weights])
    assert left.get_xscale() == right.get_xscale() == "log"


def test_figures_can_be_saved(tmp_path):
    for fig in [plots.lookup_weights("cat"), plots.similarity_comparison("cat"), plots.temperature_sweep("cat")]:
        path = tmp_path / "figure.png"
        fig.savefig(path)
        assert path.stat().st_size > 1000
