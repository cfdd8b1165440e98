"""Lesson 8's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import pytest
import torch

from attention_course import checks, decoding, masking

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def shift_right(targets, start_id):
    start = torch.full_like(targets[:, :1], start_id)
    return torch.cat([start, targets[:, :-1]], dim=1)


def decoder_masks(src, tgt_in, pad_id):
    tgt_mask = masking.causal_mask(tgt_in.shape[1]) & masking.padding_mask(tgt_in, pad_id)
    return tgt_mask, masking.padding_mask(src, pad_id)


def decoder_layer(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    x = layer.norm2(x + layer.cross_attn(x, memory, memory, memory_mask)[0])
    return layer.norm3(x + layer.feed_forward(x))


def greedy_decode(model, src, steps):
    memory = model.encode(src)
    written = torch.full((src.shape[0], 1), decoding.START_ID)
    for _ in range(steps):
        logits = model.decode(written, memory)
        written = torch.cat([written, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    return written[:, 1:]


def cross_attention_position():
    return 3


SOLUTIONS = {
    "shift_right": shift_right,
    "decoder_masks": decoder_masks,
    "decoder_layer": decoder_layer,
    "greedy_decode": greedy_decode,
    "cross_attention_position": cross_attention_position,
}
NO_DATA_INPUTS = {'cross_attention_position'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def shift_by_roll(targets, start_id):
    shifted = targets.roll(1, dims=1)
    shifted[:, 0] = start_id
    return shifted


def shift_by_pad(targets, start_id):
    return torch.nn.functional.pad(targets[:, :-1], (1, 0), value=start_id)


def masks_by_hand(src, tgt_in, pad_id):
    T = tgt_in.shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()  # (T, T)
    tgt_mask = causal[None, None] & (tgt_in != pad_id)[:, None, None, :]  # (B, 1, T, T)
    return tgt_mask, (src != pad_id)[:, None, None, :]


def masks_expanded(src, tgt_in, pad_id):
    tgt_mask, memory_mask = decoder_masks(src, tgt_in, pad_id)
    return tgt_mask, memory_mask.expand(-1, 1, tgt_in.shape[1], -1)


def layer_with_helpers(layer, x, memory, tgt_mask, memory_mask):
    def sublayer(h, f, norm):
        return norm(h + f(h))

    x = sublayer(x, lambda h: layer.self_attn(h, h, h, tgt_mask)[0], layer.norm1)
    x = sublayer(x, lambda h: layer.cross_attn(h, memory, memory, memory_mask)[0], layer.norm2)
    return sublayer(x, layer.feed_forward, layer.norm3)


def greedy_with_a_list(model, src, steps):
    memory = model.encode(src)
    out = []
    written = torch.full((src.shape[0], 1), decoding.START_ID)
    for _ in range(steps):
        next_id = model(src, written)[:, -1].argmax(-1)  # re-encoding every step is slower but right
        out.append(next_id)
        written = torch.cat([written, next_id[:, None]], dim=1)
    del memory
    return torch.stack(out, dim=1)


def greedy_one_source_at_a_time(model, src, steps):
    return torch.cat([greedy_decode(model, src[b:b + 1], steps) for b in range(src.shape[0])])  # other shapes


ALTERNATIVES = [
    ("shift_right", shift_by_roll),
    ("shift_right", shift_by_pad),
    ("shift_right", lambda t, s: shift_right(t, s).tolist()),
    ("decoder_masks", masks_by_hand),
    ("decoder_masks", masks_expanded),
    ("decoder_masks", lambda s, t, p: list(decoder_masks(s, t, p))),
    ("decoder_layer", layer_with_helpers),
    ("greedy_decode", greedy_with_a_list),
    ("greedy_decode", greedy_one_source_at_a_time),
    ("cross_attention_position", lambda: torch.tensor(3).item()),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def _start(t, s):
    return torch.full_like(t[:, :1], s)


def _shift_in_place(targets, start_id):
    targets[:, 1:] = targets[:, :-1].clone()  # right values, but the caller's targets (the loss's labels) are gone
    targets[:, 0] = start_id
    return targets


def _pre_norm(layer, x, memory, tgt_mask, memory_mask):
    h = layer.norm1(x)
    x = x + layer.self_attn(h, h, h, tgt_mask)[0]
    x = x + layer.cross_attn(layer.norm2(x), memory, memory, memory_mask)[0]
    return x + layer.feed_forward(layer.norm3(x))


def _self_twice(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    x = layer.norm2(x + layer.cross_attn(x, x, x, tgt_mask)[0])
    return layer.norm3(x + layer.feed_forward(x))


def _queries_from_memory(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    x = layer.norm2(memory + layer.cross_attn(memory, x, x)[0])
    return layer.norm3(x + layer.feed_forward(x))


def _queries_from_x(layer, x, memory, tgt_mask, memory_mask):
    h = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    h = layer.norm2(h + layer.cross_attn(x, memory, memory, memory_mask)[0])  # asks with x, not with h
    return layer.norm3(h + layer.feed_forward(h))


def _no_residual(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(layer.self_attn(x, x, x, tgt_mask)[0])
    x = layer.norm2(layer.cross_attn(x, memory, memory, memory_mask)[0])
    return layer.norm3(layer.feed_forward(x))


def _unmasked(layer, x, memory, tgt_mask, memory_mask):
    return decoder_layer(layer, x, memory, None, memory_mask)


def _source_pads_read(layer, x, memory, tgt_mask, memory_mask):
    return decoder_layer(layer, x, memory, tgt_mask, None)


def _with_weights(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    out, weights = layer.cross_attn(x, memory, memory, memory_mask)
    x = layer.norm2(x + out)
    return layer.norm3(x + layer.feed_forward(x)), weights


def _half_residual(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    x = layer.norm2(layer.cross_attn(x, memory, memory, memory_mask)[0])  # this sublayer lost its residual
    return layer.norm3(x + layer.feed_forward(x))


def _no_feed_forward(layer, x, memory, tgt_mask, memory_mask):
    x = layer.norm1(x + layer.self_attn(x, x, x, tgt_mask)[0])
    return layer.norm2(x + layer.cross_attn(x, memory, memory, memory_mask)[0])


def _greedy(model, src, steps, position=-1, keep_start=False, append=True, only_newest=False):
    memory = model.encode(src)
    written = torch.full((src.shape[0], 1), decoding.START_ID)
    feed = written
    for _ in range(steps):
        next_id = model.decode(feed, memory)[:, position].argmax(-1, keepdim=True)
        written = torch.cat([written, next_id], dim=1)
        feed = next_id if only_newest else (written if append else feed)
    return written if keep_start else written[:, 1:]


def _greedy_without_keepdim(model, src, steps):
    memory = model.encode(src)
    written = torch.full((src.shape[0], 1), decoding.START_ID)
    for _ in range(steps):
        written = torch.cat([written, model.decode(written, memory)[:, -1].argmax(-1)], dim=1)  # (B,) meets (B, t)
    return written[:, 1:]


def _greedy_from_zero(model, src, steps):
    memory = model.encode(src)
    written = torch.zeros((src.shape[0], 1), dtype=torch.long)
    for _ in range(steps):
        written = torch.cat([written, model.decode(written, memory)[:, -1].argmax(-1, keepdim=True)], dim=1)
    return written[:, 1:]


def _masks(tgt, memory):
    def answer(src, tgt_in, pad_id):
        T, S = tgt_in.shape[1], src.shape[1]
        parts = {
            "causal": masking.causal_mask(T),
            "upper": torch.ones(T, T, dtype=torch.bool).triu(),
            "tgt_pad": masking.padding_mask(tgt_in, pad_id),
            "src_pad": masking.padding_mask(src, pad_id),
            "rect": torch.ones(T, S, dtype=torch.bool).tril(),
            "ones": torch.ones(1, 1, 1, S, dtype=torch.bool),
        }

        def build(names):
            mask = parts[names[0]]
            for name in names[1:]:
                mask = mask & parts[name]
            return mask

        return build(tgt), build(memory)

    return answer


WRONG = [
    # shift_right
    ("shift_right", lambda t, s: t, ["targets themselves", "very token it must predict"]),
    ("shift_right", lambda t, s: t.roll(1, dims=1), ["wrapped round", "torch.roll"]),
    ("shift_right", lambda t, s: torch.cat([t[:, 1:], _start(t, s)], dim=1), ["shifted the targets to the left"]),
    ("shift_right", lambda t, s: t[:, :-1], ["no start token in front"]),
    ("shift_right", lambda t, s: torch.cat([_start(t, s), t], dim=1), ["kept the last target token", "drop it"]),
    ("shift_right", lambda t, s: torch.cat([_start(t, 10), t[:, :-1]], dim=1),
     ["start_id = 1 (not 10)", "use the argument"]),
    ("shift_right", lambda t, s: torch.cat([torch.zeros_like(t[:, :1]), t[:, :-1]], dim=1), ["position 0 holds 0"]),
    ("shift_right", lambda t, s: t.flip(-1), ["expected"]),
    ("shift_right", lambda t, s: torch.cat([_start(t, s), t[:, 1:]], dim=1), ["over the first target", "never read"]),
    ("shift_right", lambda t, s: torch.cat([torch.full_like(t[:1], s), t[:-1]], dim=0), ["batch axis", "dim 1"]),
    ("shift_right", _shift_in_place, ["changed its input `targets` in place"]),
    # decoder_masks
    ("decoder_masks", _masks(["upper", "tgt_pad"], ["src_pad"]), ["wrong side of the diagonal", "row 0 may see"]),
    ("decoder_masks", _masks(["causal"], ["src_pad"]), ["see the target's pads"]),
    ("decoder_masks", _masks(["tgt_pad"], ["src_pad"]), ["not the future"]),
    ("decoder_masks", _masks(["causal", "tgt_pad"], ["rect", "src_pad"]), ["memory_mask is causal", "known in full"]),
    ("decoder_masks", _masks(["causal", "tgt_pad"], ["rect"]), ["memory_mask is causal"]),
    ("decoder_masks", _masks(["causal", "tgt_pad"], ["ones"]), ["hides nothing"]),
    ("decoder_masks", lambda s, t, p: decoder_masks(s, t, p)[::-1], ["swapped"]),
    ("decoder_masks", lambda s, t, p: (decoder_masks(s, t, p)[0], masking.padding_mask(t, p)),
     ["target's padding mask", "comes from src"]),
    ("decoder_masks", lambda s, t, p: (decoder_masks(s, t, p)[0], masking.causal_mask(s.shape[1]) & masking.padding_mask(s, p)),
     ["memory_mask is causal", "source needs no causal mask"]),
    ("decoder_masks", lambda s, t, p: (decoder_masks(s, t, p)[0], (s != p)[:, None, :, None]), ["along the queries"]),
    ("decoder_masks", lambda s, t, p: (decoder_masks(s, t, p)[0], (s != p)[:, :-1]),
     ["does not broadcast", "(B, 1, T_q, T_k) = (2, 1, 4, 6)", "every head"]),
    ("decoder_masks", lambda s, t, p: tuple(m.float() for m in decoder_masks(s, t, p)), ["float32", "booleans"]),
    ("decoder_masks", lambda s, t, p: (~decoder_masks(s, t, p)[0], decoder_masks(s, t, p)[1]), ["swapped in tgt_mask"]),
    ("decoder_masks", lambda s, t, p: decoder_masks(s, t, p)[0], ["return the pair"]),
    # decoder_layer
    ("decoder_layer", _pre_norm, ["pre-norm", "post-norm"]),
    ("decoder_layer", _self_twice, ["keys and values from the decoder", "memory"]),
    ("decoder_layer", _queries_from_memory, ["one row per source position", "queries of cross-attention"]),
    ("decoder_layer", _queries_from_x, ["queries come from x", "decoder state"]),
    ("decoder_layer", _no_residual, ["no residual connection"]),
    ("decoder_layer", _unmasked, ["ignores tgt_mask", "targets after it"]),
    ("decoder_layer", _source_pads_read, ["ignores memory_mask", "pads"]),
    ("decoder_layer", _with_weights, ["returned a tuple", "output only"]),
    ("decoder_layer", _no_feed_forward, ["feed-forward sublayer is missing"]),
    ("decoder_layer", lambda layer, x, m, t, mm: layer(x, m, t, mm).transpose(0, 1), ["shape (4, 2, 8)"]),
    ("decoder_layer", _half_residual, ["differs from the layer's by up to", "check each sublayer"]),
    # greedy_decode
    ("greedy_decode", lambda m, s, n: _greedy(m, s, n, position=0), ["same token", "logits[:, -1], not logits[:, 0]"]),
    ("greedy_decode", lambda m, s, n: _greedy(m, s, n, keep_start=True), ["start token too"]),
    ("greedy_decode", lambda m, s, n: _greedy(m, s, n, append=False), ["same token", "every token written so far"]),
    ("greedy_decode", lambda m, s, n: _greedy(m, s, n, only_newest=True), ["only the newest token"]),
    ("greedy_decode", _greedy_from_zero, ["first differ from greedy decoding at step"]),
    ("greedy_decode", _greedy_without_keepdim, ["one axis too few", "(B, 1) column"]),
    ("greedy_decode", lambda m, s, n: _greedy(m, s, n - 1), ["shape"]),
    # widget exercise
    ("cross_attention_position", lambda: 2, ["is the step", "not a source position"]),
    ("cross_attention_position", lambda: 4, ["counted source positions from 1"]),
    ("cross_attention_position", lambda: 1, ["digit written, not a position"]),
    ("cross_attention_position", lambda: 0.75, ["looks like a weight"]),
    ("cross_attention_position", lambda: 5, ["not the one with the largest"]),
    ("cross_attention_position", lambda: "3", ["str", "whole number"]),
]


def test_the_widget_exercise_answer_is_what_the_trained_model_shows():
    trace = decoding.generation_trace(decoding.trained_reverser().model, decoding.EXAMPLE)
    step = next(s for s in trace if s.written == "1")
    assert int(step.cross_weights.mean(dim=0)[-1].argmax()) == cross_attention_position()
    assert step.step == 2


def test_the_greedy_check_has_no_near_tie_that_rounding_could_flip():
    from attention_course.checks import lesson08

    model, cases = lesson08._greedy_cases()
    for _, src, steps in cases:
        with torch.no_grad():
            memory = model.encode(src)
            written = torch.full((src.shape[0], 1), decoding.START_ID)
            for _ in range(steps):
                logits = model.decode(written, memory)[:, -1]  # (B, vocab)
                best_two = logits.topk(2, dim=-1).values
                # another route's logits differ by float32 rounding, about 1e-6; the closest call here is 4e-3
                assert (best_two[:, 0] - best_two[:, 1]).min() > 1e-4
                written = torch.cat([written, logits.argmax(-1, keepdim=True)], dim=1)


def test_the_layer_check_uses_a_post_norm_layer_whose_norms_matter():
    from attention_course.checks import lesson08

    layer, *_ = lesson08._layer_case()
    assert not layer.norm_first and not layer.training
    assert not torch.allclose(layer.norm1.weight, torch.ones_like(layer.norm1.weight))
