"""attention_course.progress: the training loops' bars, which the book switches off."""

from attention_course.progress import progress_bar


def test_the_bar_counts_every_step_when_enabled(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    bar = progress_bar(range(5), "steps")
    assert not bar.disable
    assert list(bar) == [0, 1, 2, 3, 4]


def test_the_bar_is_off_when_asked_or_when_tqdm_disable_is_set(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert progress_bar(range(3), "steps", enabled=False).disable
    monkeypatch.setenv("TQDM_DISABLE", "1")
    bar = progress_bar(range(3), "steps")
    assert bar.disable and list(bar) == [0, 1, 2]
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert not progress_bar(range(3), "steps").disable
