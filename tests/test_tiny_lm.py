"""Lesson 5's tiny next-character model: its data, its masks, short training runs and generation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from attention_course import masking, tiny_lm

V = len(tiny_lm.CHARS)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny matrices, as in tiny_lm.train: one thread is as fast. With two, on a busy machine, each of the
    hundreds of small forward passes below can wait on a spinning partner thread (40 greedy steps took 10 s
    instead of 0.04 s here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained():
    """Both models after a short run: enough for the unmasked one to start copying."""
    return {causal: tiny_lm.train(causal, steps=250, progress=False) for causal in (True, False)}


# ---------------------------------------------------------------- the text


def test_vocabulary_is_every_character_of_the_rhyme_once():
    assert list(tiny_lm.CHARS) == sorted(set(tiny_lm.TEXT))
    assert "\n" in tiny_lm.CHARS and " " in tiny_lm.CHARS
    assert len(tiny_lm.TEXT) > 4 * tiny_lm.BLOCK_SIZE


def test_encode_and_decode_round_trip():
    ids = tiny_lm.encode(tiny_lm.TEXT)
    assert ids.dtype == torch.long and ids.shape == (len(tiny_lm.TEXT),)
    assert int(ids.min()) >= 0 and int(ids.max()) < V
    assert tiny_lm.decode(ids) == tiny_lm.TEXT
    assert tiny_lm.decode(ids.tolist()) == tiny_lm.TEXT


def test_encode_names_unknown_characters():
    with pytest.raises(ValueError, match=r"\['Z', 'z'\]"):
        tiny_lm.encode("Zebra quiz")


def test_batches_are_shifted_by_one_and_fixed_by_the_seed():
    data = tiny_lm.encode(tiny_lm.TEXT)
    first = next(tiny_lm.batches(data, 8, 5, seed=3))
    again = next(tiny_lm.batches(data, 8, 5, seed=3))
    other = next(tiny_lm.batches(data, 8, 5, seed=4))
    inputs, targets = first
    assert inputs.shape == targets.shape == (5, 8)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # each target is the next input
    assert torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])
    assert not torch.equal(first[0], other[0])


# ---------------------------------------------------------------- the model


@pytest.mark.parametrize(("B", "T", "causal"), [(1, 1, True), (3, 7, False), (2, tiny_lm.BLOCK_SIZE, True)])
def test_model_shapes(B, T, causal):
    torch.manual_seed(0)
    model = tiny_lm.TinyLM(causal=causal)
    logits, weights = model(torch.randint(V, (B, T)))
    assert logits.shape == (B, T, V)
    assert weights.shape == (B, T, T)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(B, T))
    if causal:
        assert torch.equal(weights.triu(1), torch.zeros(B, T, T))  # nothing above the diagonal: exp(-inf) is 0


def test_model_refuses_a_window_longer_than_its_block():
    model = tiny_lm.TinyLM()
    with pytest.raises(ValueError, match="at most 32"):
        model(torch.zeros(1, tiny_lm.BLOCK_SIZE + 1, dtype=torch.long))


def _moved(model, window: torch.Tensor, t: int) -> list[int]:
    """The positions whose logits change at all when character t changes: bit for bit, as in test_masking,
    since under the mask the changed character reaches an earlier position only with a weight of exactly 0."""
    changed = window.clone()
    changed[0, t] = (changed[0, t] + 1) % V
    with torch.no_grad():
        return masking.changed_positions(model(window)[0], model(changed)[0])


def test_the_masked_model_never_reads_ahead():
    torch.manual_seed(0)
    model = tiny_lm.TinyLM(causal=True)
    window = torch.randint(V, (1, 20), generator=torch.Generator().manual_seed(0))
    for t in range(20):
        moved = _moved(model, window, t)
        assert all(position >= t for position in moved)
        assert t in moved


def test_the_unmasked_model_reads_ahead():
    torch.manual_seed(0)
    model = tiny_lm.TinyLM(causal=False)
    window = tiny_lm.encode(tiny_lm.TEXT[:20])[None]
    assert any(position < 10 for position in _moved(model, window, 10))


# ---------------------------------------------------------------- training


def test_without_the_mask_the_training_loss_falls_far_lower(trained):
    masked, unmasked = trained[True], trained[False]
    assert len(masked.losses) == len(unmasked.losses) == 250
    assert not masked.stopped_early and not unmasked.stopped_early
    assert masked.losses[-1] < masked.losses[0]  # both learn something
    assert unmasked.final_loss < 0.5 * masked.final_loss  # but the unmasked one "learns" much more
    assert unmasked.final_loss < 0.3


def test_training_is_deterministic_and_seeded():
    a = tiny_lm.train(True, steps=30, seed=5, progress=False)
    b = tiny_lm.train(True, steps=30, seed=5, progress=False)
    c = tiny_lm.train(True, steps=30, seed=6, progress=False)
    assert a.losses == b.losses  # exact: the same seeded run, one thread, in the same process
    assert a.losses != c.losses
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)


def test_training_leaves_the_callers_random_numbers_and_threads_alone():
    torch.set_num_threads(2)  # not train's one thread, so that a run that forgot to restore it is caught
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    tiny_lm.train(False, steps=5, progress=False)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    torch.set_num_threads(1)


def test_training_stops_at_its_time_budget(monkeypatch):
    # A clock that moves 0.1 s per reading, so the budget runs out after a known number of steps on any machine
    readings = iter(range(1_000_000))
    monkeypatch.setattr(tiny_lm.time, "perf_counter", lambda: next(readings) * 0.1)
    run = tiny_lm.train(True, steps=100_000, max_seconds=0.45, progress=False)
    assert run.stopped_early
    assert len(run.losses) == 5  # the clock read 0.1 s later after each step: 0.5 s > 0.45 s after the fifth
    assert run.seconds == pytest.approx(0.6)  # and once more at the end


def test_final_loss_is_the_mean_of_the_last_fifty_steps():
    run = tiny_lm.TrainingRun(model=tiny_lm.TinyLM(), losses=[10.0] * 10 + [1.0] * 50)
    assert run.final_loss == pytest.approx(1.0)
    assert tiny_lm.TrainingRun(model=tiny_lm.TinyLM(), losses=[2.0, 4.0]).final_loss == pytest.approx(3.0)


# ---------------------------------------------------------------- generation and the two losses


def test_generation_is_deterministic_and_extends_the_prompt(trained):
    model = trained[True].model
    text = tiny_lm.generate(model, "one", 40)  # longer than a block: the context is cropped
    assert text.startswith("one") and len(text) == 43
    assert set(text) <= set(tiny_lm.CHARS)
    assert tiny_lm.generate(model, "one", 40) == text  # exact: the same computation, run twice


def test_generation_needs_a_prompt_of_known_characters(trained):
    with pytest.raises(ValueError, match="at least one character"):
        tiny_lm.generate(trained[True].model, "", 5)
    with pytest.raises(ValueError, match="rhyme's characters"):
        tiny_lm.generate(trained[True].model, "Owl", 5)


def _one_pass_predictions(model, text: str, prompt_length: int) -> str:
    """Every next-character prediction made in one parallel pass over text[:-1] (teacher forcing)."""
    with torch.no_grad():
        logits, _ = model(tiny_lm.encode(text[:-1])[None])  # (1, T, V)
    return tiny_lm.decode(logits[0, prompt_length - 1:].argmax(dim=-1))


def _logits_both_ways(model, text: str, prompt_length: int):
    """The logits of each prediction after the prompt: one forward pass per character written, as generate
    makes them, and all from one parallel pass over text[:-1]. Both (len(text) - prompt_length, V)."""
    ids = tiny_lm.encode(text)
    with torch.no_grad():
        one_at_a_time = torch.stack([model(ids[None, :t])[0][0, -1] for t in range(prompt_length, len(ids))])
        parallel = model(ids[None, :-1])[0][0, prompt_length - 1:]
    return one_at_a_time, parallel


def test_under_the_mask_writing_one_at_a_time_equals_one_parallel_pass(trained):
    model = trained[True].model
    text = tiny_lm.generate(model, "one li", 20)  # 26 characters: within one block
    one_at_a_time, parallel = _logits_both_ways(model, text, 6)
    # Not bit for bit: a longer window changes the shapes of the float32 products, so their sums run in another
    # order. Logits of size ~10 then differ by a few ulps (~1e-6); atol 1e-4 is ~100 times that.
    torch.testing.assert_close(parallel, one_at_a_time, rtol=0, atol=1e-4)
    # The parallel pass picks the characters that were written, wherever its best two do not tie within rounding.
    best_two = parallel.topk(2, dim=-1).values
    clear = (best_two[:, 0] - best_two[:, 1] > 1e-3).tolist()
    picked = _one_pass_predictions(model, text, 6)
    assert sum(clear) >= 15
    assert all(p == c for p, c, ok in zip(picked, text[6:], clear) if ok)


def test_without_the_mask_writing_one_at_a_time_differs_from_the_parallel_pass(trained):
    model = trained[False].model
    text = tiny_lm.generate(model, "one li", 20)
    one_at_a_time, parallel = _logits_both_ways(model, text, 6)
    assert (parallel - one_at_a_time).abs().max() > 1  # the parallel pass sees the next character: far apart
    assert _one_pass_predictions(model, text, 6) != text[6:]  # many characters differ, not one near tie


def test_window_loss_is_the_training_loss_over_whole_windows(trained):
    model = trained[True].model
    data = tiny_lm.encode(tiny_lm.TEXT)
    T = tiny_lm.BLOCK_SIZE
    windows = torch.stack([data[s:s + T] for s in range(0, len(data) - T, T)])  # (W, T)
    targets = torch.stack([data[s + 1:s + T + 1] for s in range(0, len(data) - T, T)])
    with torch.no_grad():
        logits, _ = model(windows)
    expected = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).item()
    assert tiny_lm.window_loss(model) == pytest.approx(expected, rel=1e-6)


def test_with_the_mask_hiding_the_future_changes_no_loss(trained):
    # The same predictions with and without the future in view: equal for the masked model, which never used
    # the future (rel 1e-5: other shapes, so other float32 summation orders), far apart for the unmasked one.
    text = tiny_lm.TEXT
    masked, unmasked = trained[True].model, trained[False].model
    assert tiny_lm.past_only_loss(masked, text) == pytest.approx(tiny_lm.window_loss(masked, text), rel=1e-5)
    assert tiny_lm.past_only_loss(unmasked, text) > 3 * tiny_lm.window_loss(unmasked, text)


def past_only_loss_one_by_one(model, text):
    """The reference for past_only_loss: one forward pass per prediction of window_loss, on its past alone."""
    data, T = tiny_lm.encode(text), model.block_size
    losses = []
    with torch.no_grad():
        for start in range(0, len(data) - T, T):
            for t in range(T):
                logits, _ = model(data[start:start + t + 1][None])  # (1, t + 1, vocab_size)
                losses.append(F.cross_entropy(logits[0, -1:], data[start + t + 1:start + t + 2]))
    return torch.stack(losses).mean().item()


@pytest.mark.parametrize("length", [tiny_lm.BLOCK_SIZE + 1, len(tiny_lm.TEXT)])
def test_past_only_loss_in_a_batch_equals_one_pass_per_prediction(trained, length):
    # rel 1e-5: the batch sums the same few hundred float32 losses in another order and shape; the lesson
    # prints 3 decimals. The short text holds one window.
    text = tiny_lm.TEXT[:length]
    for model in (trained[True].model, trained[False].model):
        assert tiny_lm.past_only_loss(model, text) == pytest.approx(past_only_loss_one_by_one(model, text), rel=1e-5)


def test_the_unmasked_model_learns_to_look_one_character_ahead(trained):
    snippet = tiny_lm.TEXT[:16]
    masked = tiny_lm.attention_weights(trained[True].model, snippet)
    unmasked = tiny_lm.attention_weights(trained[False].model, snippet)
    assert masked.shape == unmasked.shape == (16, 16)
    assert (masked.diagonal(1) == 0).all()  # exact: exp(-inf) is 0
    assert unmasked.diagonal(1).mean() > 0.5
