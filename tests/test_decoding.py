"""Lesson 8's toy task: shift_right, the Reverser, training with teacher forcing and greedy generation."""

from __future__ import annotations

import pytest
import torch

from attention_course import decoding, masking


@pytest.fixture(scope="module")
def run():
    return decoding.trained_reverser()


@pytest.mark.parametrize(("B", "T", "start"), [(1, 1, 10), (3, 6, 1)])  # one token only; another start id
def test_shift_right_puts_the_start_token_first_and_drops_the_last(B, T, start):
    targets = torch.randint(10, (B, T), generator=torch.Generator().manual_seed(T))
    shifted = decoding.shift_right(targets, start)
    assert shifted.shape == (B, T) and shifted.dtype == targets.dtype
    assert (shifted[:, 0] == start).all()
    assert torch.equal(shifted[:, 1:], targets[:, :-1])


def test_shift_right_defaults_to_the_start_id():
    assert decoding.shift_right(torch.tensor([[4, 5, 1]])).tolist() == [[decoding.START_ID, 4, 5]]


def test_vocabulary_and_text_round_trip():
    assert decoding.VOCAB[decoding.START_ID] == decoding.START and len(decoding.VOCAB) == 11
    ids = decoding.encode_digits("307154")
    assert ids.shape == (1, 6) and ids.tolist() == [[3, 0, 7, 1, 5, 4]]
    assert decoding.to_text(ids[0]) == "307154"
    assert decoding.to_text(decoding.reverse(ids)[0]) == "451703"


@pytest.mark.parametrize("bad", ["", "12a", "１２", None, 123])
def test_encode_digits_refuses_what_is_not_digits(bad):
    with pytest.raises(ValueError, match="digits"):
        decoding.encode_digits(bad)


def test_reverser_shapes_and_causality():
    torch.manual_seed(0)
    model = decoding.Reverser().eval()
    src = decoding.random_sources(2, torch.Generator().manual_seed(0))
    tgt_in = decoding.shift_right(decoding.reverse(src))
    with torch.no_grad():
        logits = model(src, tgt_in)
        assert logits.shape == (2, 6, len(decoding.VOCAB))
        changed = tgt_in.clone()
        changed[:, 3] = (changed[:, 3] + 1) % 10
        after = model(src, changed)
    # bit for bit, which is exact here: a hidden key's weight is exp(-inf) = 0 and both passes have the same shapes
    assert masking.changed_positions(logits[0], after[0], atol=0.0) == [3, 4, 5]


def test_training_is_seeded_and_learns(run):
    again = decoding.train_reverser(steps=20, progress=False)
    once_more = decoding.train_reverser(steps=20, progress=False)
    assert again.losses == once_more.losses  # exact: seeded and single-threaded, the same path in one process
    assert len(run.losses) == 300 and run.final_loss < 0.05 < run.losses[0]
    assert not run.model.training
    assert decoding.trained_reverser() is run  # trained once, then reused


def test_training_leaves_the_callers_random_numbers_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    decoding.train_reverser(steps=2, progress=False)
    assert torch.equal(torch.rand(3), expected)  # exact: the same generator state gives the same draws


def test_greedy_decode_reverses_new_strings(run):
    src = decoding.random_sources(200, torch.Generator().manual_seed(99))
    out = decoding.greedy_decode(run.model, src)
    assert out.shape == src.shape
    assert (out == decoding.reverse(src)).all(dim=1).float().mean() > 0.95


def test_teacher_forced_pass_equals_step_by_step_generation():
    torch.manual_seed(0)
    model = decoding.Reverser().eval()
    src = decoding.random_sources(4, torch.Generator().manual_seed(0))
    tokens = decoding.greedy_decode(model, src, steps=5)
    with torch.no_grad():
        parallel = model(src, decoding.shift_right(tokens))  # (B, 5, vocab)
    # generation ran the decoder on other lengths, so its logits differ from these by float32 rounding (~1e-6);
    # that can flip an argmax only on a near tie, and the two best logits here are 7e-3 apart or more
    best_two = parallel.topk(2, dim=-1).values  # (B, 5, 2)
    assert (best_two[..., 0] - best_two[..., 1]).min() > 1e-4
    assert torch.equal(parallel.argmax(-1), tokens)  # each position predicts what generation wrote


def test_greedy_decode_runs_any_number_of_steps():
    torch.manual_seed(0)
    model = decoding.Reverser().eval()
    src = decoding.random_sources(3, torch.Generator().manual_seed(1), length=4)
    assert decoding.greedy_decode(model, src, steps=9).shape == (3, 9)


def test_generation_trace_matches_greedy_decode(run):
    trace = decoding.generation_trace(run.model, decoding.EXAMPLE)
    assert "".join(s.written for s in trace) == decoding.to_text(
        decoding.greedy_decode(run.model, decoding.encode_digits(decoding.EXAMPLE))[0])
    for t, s in enumerate(trace):
        assert s.step == t and len(s.read) == t + 1 and s.read[0] == decoding.START
        assert s.self_weights.shape == (2, t + 1, t + 1) and s.cross_weights.shape == (2, t + 1, 6)
        torch.testing.assert_close(s.cross_weights.sum(-1), torch.ones(2, t + 1))
        assert 0 < s.probability <= 1
    # the rows of earlier steps do not change as the decoder writes more
    torch.testing.assert_close(trace[5].cross_weights[:, :3], trace[2].cross_weights, atol=1e-5, rtol=1e-5)
