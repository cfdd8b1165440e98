"""Checks for lesson 8, the decoder."""

from __future__ import annotations

import numpy as np
import torch

from .. import decoding
from ..masking import causal_mask as reference_causal_mask
from ..transformer import DecoderLayer
from .core import CheckFailed, as_array, as_plain_array, check, close, diagnose

__all__ = ["cross_attention_position", "decoder_layer", "decoder_masks", "greedy_decode", "shift_right"]


def _values(got, name: str, case: str) -> np.ndarray:
    return as_plain_array(got, name, case, "a tensor of numbers")


# ---------------------------------------------------------------- exercise: shift_right


def _shift_cases():
    return [
        ("targets [[4, 5, 1, 7], [9, 9, 0, 2]] with start_id = 10",
         torch.tensor([[4, 5, 1, 7], [9, 9, 0, 2]]), 10),
        ("targets [[3, 8, 6]] with start_id = 1 (not 10)", torch.tensor([[3, 8, 6]]), 1),
        ("a batch of 3 one-token targets with start_id = 10", torch.tensor([[5], [0], [2]]), 10),
    ]


@check(hint="the decoder's input is the targets moved one place right along the time axis: the start token, then "
            "every target but the last. Build a new tensor: the targets are still the labels.")
def shift_right(learner) -> str:
    """Lesson 8: shift_right(targets, start_id) -> (B, T): the start token, then targets[:, :-1]."""
    cases = _shift_cases()
    for case, targets, start_id in cases:
        B, T = targets.shape
        t = targets.numpy()
        start = np.full((B, 1), start_id)
        expected = np.concatenate([start, t[:, :-1]], axis=1)  # (B, T)
        got = _values(learner(targets, start_id, case=case), learner.name, case)
        if got.shape == (B, T + 1) and np.array_equal(got, np.concatenate([start, t], axis=1)):
            raise CheckFailed(f"On {case}, you kept the last target token, so the input is one longer than the "
                              f"targets, {got.shape} instead of {(B, T)}; drop it: nothing is predicted after it.")
        if got.shape == (B, T - 1) and T > 1 and np.array_equal(got, t[:, :-1]):
            raise CheckFailed(f"On {case}, you dropped the last token but put no start token in front; position 0 "
                              "must hold start_id, so that the decoder has something to read before the first target.")
        got = as_array(got, learner.name, case, (B, T), "the decoder's input, (B, T) like the targets")
        wrong = [
            (t, ("your input is the targets themselves: position t would read the very token it must predict. "
                "Shift them one place to the right, with the start token in front.")),
            (np.roll(t, 1, axis=1), ("the last target token wrapped round to position 0 (torch.roll); position 0 "
                                    "must hold the start token instead.")),
            (np.concatenate([t[:, 1:], start], axis=1), ("you shifted the targets to the left: position t would read "
                                                        "target t + 1, the future. Shift them to the right.")),
            (np.concatenate([np.full((B, 1), decoding.START_ID), t[:, :-1]], axis=1),
             f"position 0 holds {decoding.START_ID}, but the start_id argument is {start_id}; use the argument."),
            (np.concatenate([np.zeros((B, 1)), t[:, :-1]], axis=1),
             f"position 0 holds 0, but it must hold the start token, start_id = {start_id}."),
            (np.concatenate([start, t[:, 1:]], axis=1),
             ("you wrote the start token over the first target instead of shifting: from position 1 on, each "
              "position reads the very token it must predict, and the first target is never read. Move every "
              "target one place right.")),
        ]
        if B > 1:  # shifting along the batch axis moves whole sequences, not tokens
            wrong.append((np.concatenate([np.full((1, T), start_id), t[:-1]], axis=0),
                          ("you shifted along the batch axis (dim 0), so sentences moved, not tokens; shift along "
                          "the time axis, dim 1.")))
        diagnose(got, learner.name, case, expected, wrong)
    return f"all {len(cases)} cases pass: the start token, then every target but the last."


# ---------------------------------------------------------------- exercise: the decoder's two masks

PAD = 0


def _mask_cases():
    return [
        ("targets of 4 tokens (the second padded) over sources of 6 tokens (the first padded), pad_id = 0",
         torch.tensor([[3, 8, 2, 0, 0, 0], [5, 1, 9, 9, 4, 7]]), torch.tensor([[11, 4, 6, 2], [11, 7, 0, 0]]), 0),
        ("one target of 3 tokens over one source of 5 tokens with 2 pads, pad_id = 12",
         torch.tensor([[4, 4, 3, 12, 12]]), torch.tensor([[11, 5, 6]]), 12),
    ]


def _as_mask(got, name: str, case: str, which: str, shape: tuple[int, ...]) -> np.ndarray:
    """The learner's mask broadcast to `shape`, (B, 1, T_q, T_k), or a sentence saying why it is not one."""
    array = _values(got, name, case)
    if array.dtype != bool:
        if np.isin(array, (0, 1)).all():
            raise CheckFailed(f"Your {which} holds {array.dtype} numbers on {case}; return booleans (torch.bool), "
                              "True = may attend: PyTorch adds a float mask to the scores, so 1 and 0 would hide nothing.")
        raise CheckFailed(f"Your {which} holds {array.dtype} values on {case}; return a boolean mask, True = may attend.")
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise CheckFailed(f"Your {which} has shape {array.shape} on {case}, which does not broadcast to the weights' "
                          f"(B, 1, T_q, T_k) = {shape}; the 1 stands for every head.") from None


def _name_memory_mistake(memory_mask, src, tgt_in, pad, case: str) -> None:
    """The memory masks of the wrong shape that a learner writes, each named: a causal one over the source
    (source x source), the source's pads along the queries, or the target's padding instead of the source's."""
    (B, S), T = src.shape, tgt_in.shape[1]
    got = np.asarray(memory_mask.detach() if hasattr(memory_mask, "detach") else memory_mask)
    if got.dtype != bool or got.ndim < 2 or T == S:
        return
    src_real = (src != pad).numpy()
    if got.shape[-2:] == (S, S) and not np.triu(got, 1).any():
        raise CheckFailed(f"On {case}, your memory_mask is causal, {S} × {S} over the source: the source needs no "
                          "causal mask. The encoder has read all of it before the decoder starts, so every target "
                          "position may read every real source token; hide only the source's pads, "
                          "(B, 1, 1, T_src).")
    if got.shape[-2:] == (S, 1) and np.array_equal(got.reshape(B, S), src_real):
        raise CheckFailed(f"On {case}, your memory_mask puts the source's pads along the queries, shape "
                          f"{got.shape}; the source tokens are the keys of cross-attention, the last axis: "
                          "(B, 1, 1, T_src).")
    if got.shape[-1] == T and np.array_equal(got.reshape(B, T), (tgt_in != pad).numpy()):
        raise CheckFailed(f"On {case}, your memory_mask is the target's padding mask; cross-attention reads the "
                          "source, so its mask comes from src: True for each real source token.")


@check(hint="the target's mask is causal and hides the target's pads; the source's mask hides only the source's "
            "pads: the encoder has read all of it (the decoder-masks equation).")
def decoder_masks(learner) -> str:
    """Lesson 8: decoder_masks(src, tgt_in, pad_id) -> (tgt_mask, memory_mask), True = may attend."""
    cases = _mask_cases()
    for case, src, tgt_in, pad in cases:
        (B, S), T = src.shape, tgt_in.shape[1]
        got = learner(src, tgt_in, pad, case=case)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"Your decoder_masks returned a {type(got).__name__} on {case}; return the pair "
                              "(tgt_mask, memory_mask).")
        src_real = (src != pad).numpy()[:, None, None, :]  # (B, 1, 1, S)
        tgt_real = (tgt_in != pad).numpy()[:, None, None, :]  # (B, 1, 1, T)
        causal = np.tril(np.ones((T, T), dtype=bool))
        tgt_expected = np.broadcast_to(causal & tgt_real, (B, 1, T, T))
        memory_expected = np.broadcast_to(src_real, (B, 1, T, S))
        shapes = [np.shape(g.detach() if hasattr(g, "detach") else g) for g in got]
        if shapes[0][-2:] == (T, S) or shapes[1][-2:] == (T, T) or shapes[0][-1:] == (S,):
            raise CheckFailed(f"On {case}, the masks look swapped: return (tgt_mask, memory_mask), the target's "
                              "self-attention mask first, the source mask for cross-attention second.")
        _name_memory_mistake(got[1], src, tgt_in, pad, case)
        tgt_mask = _as_mask(got[0], learner.name, case, "tgt_mask", (B, 1, T, T))
        memory_mask = _as_mask(got[1], learner.name, case, "memory_mask", (B, 1, T, S))
        if not np.array_equal(tgt_mask, tgt_expected):
            upper = np.triu(np.ones((T, T), dtype=bool))
            if np.array_equal(tgt_mask, np.broadcast_to(upper & tgt_real, tgt_mask.shape)) or np.array_equal(
                    tgt_mask, np.broadcast_to(upper, tgt_mask.shape)):
                raise CheckFailed(f"On {case}, your tgt_mask is on the wrong side of the diagonal: row 0 may see "
                                  "target position 1. Keep the lower triangle (tril): the past, not the future.")
            if np.array_equal(tgt_mask, np.broadcast_to(causal, tgt_mask.shape)):
                raise CheckFailed(f"On {case}, your tgt_mask is causal but lets queries see the target's pads; "
                                  "combine it with the target's padding mask.")
            if np.array_equal(tgt_mask, np.broadcast_to(tgt_real, tgt_mask.shape)):
                raise CheckFailed(f"On {case}, your tgt_mask hides the pads but not the future: row 0 may see "
                                  "target position 1. Combine the padding mask with the causal mask.")
            if np.array_equal(tgt_mask, ~tgt_expected):
                raise CheckFailed(f"On {case}, True and False are swapped in tgt_mask: True means may attend.")
            raise CheckFailed(f"On {case}, your tgt_mask is not causal_mask(T_tgt) & the target's padding mask.")
        if not np.array_equal(memory_mask, memory_expected):
            rectangle = np.tril(np.ones((T, S), dtype=bool))
            if np.array_equal(memory_mask, np.broadcast_to(rectangle & src_real, memory_mask.shape)) or np.array_equal(
                    memory_mask, np.broadcast_to(rectangle, memory_mask.shape)):
                raise CheckFailed(f"On {case}, your memory_mask is causal, but the source is known in full before the "
                                  "decoder starts: hide only the source's pads, so every target position may read "
                                  "every real source token.")
            if np.array_equal(memory_mask, np.ones_like(memory_mask)):
                raise CheckFailed(f"On {case}, your memory_mask hides nothing; the decoder would read the source's pads.")
            if np.array_equal(memory_mask, ~memory_expected):
                raise CheckFailed(f"On {case}, True and False are swapped in memory_mask: True means may attend.")
            raise CheckFailed(f"On {case}, your memory_mask must be the source's padding mask, True for each real "
                              "source token, (B, 1, 1, T_src).")
    return "the target causal and padded, the source padded only."


# ---------------------------------------------------------------- exercise: a decoder layer by hand


def _layer_case():
    with torch.random.fork_rng():
        torch.manual_seed(8)
        layer = DecoderLayer(d_model=8, num_heads=2, d_ff=32, dropout=0.0).double().eval()
        with torch.no_grad():  # LayerNorm starts at gamma = 1, beta = 0; other values catch a missing norm
            for norm in (layer.norm1, layer.norm2, layer.norm3):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.uniform_(-0.5, 0.5)
        x = torch.randn(2, 4, 8, dtype=torch.float64)  # (B, T_tgt, d_model)
        memory = torch.randn(2, 5, 8, dtype=torch.float64)  # (B, T_src, d_model)
    tgt_mask = reference_causal_mask(4)  # (T_tgt, T_tgt)
    memory_mask = torch.tensor([[True, True, True, False, False], [True] * 5])[:, None, None, :]  # (B, 1, 1, T_src)
    return layer, x, memory, tgt_mask, memory_mask


def _variants(layer, x, m, tgt_mask, memory_mask):
    """What a layer computes when wired right, and the realistic ways of wiring it wrong."""
    sa = lambda h, mask=tgt_mask: layer.self_attn(h, h, h, mask)[0]
    ca = lambda h, mask=memory_mask: layer.cross_attn(h, m, m, mask)[0]
    ff, n1, n2, n3 = layer.feed_forward, layer.norm1, layer.norm2, layer.norm3

    def post(h, first=sa, second=ca):
        h = n1(h + first(h))
        h = n2(h + second(h))
        return n3(h + ff(h))

    right = post(x)
    h = x + sa(n1(x))
    h = h + ca(n2(h))
    pre = h + ff(n3(h))
    h = n1(sa(x))
    h = n2(ca(h))
    no_residual = n3(ff(h))
    wrong = [
        (post(x, second=lambda h: layer.cross_attn(h, h, h, tgt_mask)[0]),
         ("the cross-attention takes its keys and values from the decoder; they must come from memory, the "
         "encoder's output: cross_attn(h, memory, memory, memory_mask).")),
        (post(x, first=lambda h: sa(h, None)),
         "the self-attention ignores tgt_mask, so each target position reads the targets after it; pass tgt_mask."),
        (post(x, second=lambda h: ca(h, None)),
         "the cross-attention ignores memory_mask, so the decoder reads the source's pads; pass memory_mask."),
        (post(x, second=lambda h: ca(x)),
         ("the cross-attention's queries come from x, the layer's input; they must come from the decoder state "
          "after the self-attention sublayer, so that each position asks the source with what it has read of "
          "the target.")),
        (pre, ("you normalised before each sublayer (pre-norm); this layer is post-norm, as in the paper: "
              "h = norm(h + sublayer(h)).")),
        (no_residual, "there is no residual connection: add each sublayer's input to its output before the norm."),
        (post(x, first=ca, second=sa), ("the sublayers are in the wrong order: masked self-attention first, then "
                                       "cross-attention, then feed-forward.")),
        (n2(n1(x + sa(x)) + ca(n1(x + sa(x)))), ("the feed-forward sublayer is missing: after cross-attention comes "
                                                "norm3(h + feed_forward(h)).")),
    ]
    return right, wrong


@check(hint="three sublayers, each Norm(h + Sublayer(h)): masked self-attention, cross-attention asking with the "
            "decoder state and reading memory, feed-forward; attention returns (output, weights).")
def decoder_layer(learner) -> str:
    """Lesson 8: decoder_layer(layer, x, memory, tgt_mask, memory_mask), the post-norm layer wired by hand."""
    layer, x, memory, tgt_mask, memory_mask = _layer_case()
    case = "a DecoderLayer with d_model = 8, 2 heads, 4 target and 5 source positions (3 of them padded)"
    with torch.no_grad():
        right, wrong = _variants(layer, x, memory, tgt_mask, memory_mask)
        got = learner(layer, x, memory, tgt_mask, memory_mask, case=case)
    if isinstance(got, tuple) and got and hasattr(got[0], "shape"):
        raise CheckFailed(f"Your decoder_layer returned a tuple on {case}; return the layer's output only, "
                          "(B, T_tgt, d_model). Did you keep the attention weights with [0]?")
    values = _values(got, learner.name, case)
    if values.shape == (2, 5, 8):
        raise CheckFailed(f"On {case}, your output has one row per source position, (B, T_src, d_model) = (2, 5, 8): "
                          "the queries of cross-attention come from the decoder, the keys and values from memory.")
    got = as_array(values, learner.name, case, (2, 4, 8), "(B, T_tgt, d_model)")
    for wrong_output, message in wrong:
        if not close(got, right.numpy()) and close(got, wrong_output.numpy()):
            raise CheckFailed(f"On {case}, {message}")
    if not close(got, right.numpy()):
        gap = float(np.abs(got - right.numpy()).max())
        raise CheckFailed(f"On {case}, your output differs from the layer's by up to {gap:.3g}; check each sublayer: "
                          "h = norm(h + sublayer(h)), self-attention with tgt_mask, cross-attention with queries from "
                          "h and keys and values from memory (memory_mask), then feed-forward.")
    return "three sublayers, each as norm(h + sublayer(h)), masks in place."


# ---------------------------------------------------------------- exercise: greedy generation


def _token_without_time_axis(error: Exception) -> str | None:
    """The sentence for the usual generation bug: argmax drops the last axis, so the new token is (B,), and
    joining it to the (B, t) tokens written so far fails. None for any other error."""
    if isinstance(error, RuntimeError) and "same number of dimensions" in str(error):
        return ("the token you took at a step has one axis too few to join the tokens written so far: argmax "
                "drops the axis it reduces, so keep it, giving one new token per sequence as a (B, 1) column.")
    return None


def _untrained_reverser() -> decoding.Reverser:
    with torch.random.fork_rng():
        torch.manual_seed(3)
        return decoding.Reverser().eval()


def _greedy_cases():
    """The untrained model and its sources. A learner's loop may run other shapes than the reference (one source
    at a time, the whole model each step), so its logits differ by float32 rounding; the tests hold these cases
    to have no near tie between the two best logits, which that rounding could flip."""
    generator = torch.Generator().manual_seed(8)
    return _untrained_reverser(), [
        ("an untrained Reverser, 2 sources of 6 digits, 6 steps", decoding.random_sources(2, generator), 6),
        ("an untrained Reverser, 3 sources of 4 digits, 7 steps", decoding.random_sources(3, generator, 4), 7),
    ]


@check(hint="from the start token, run the decoder on all written so far and take the last position's most likely"
            " token as a (B, 1) column, to join along the time axis; return the tokens after the start.")
def greedy_decode(learner) -> str:
    """Lesson 8: greedy_decode(model, src, steps) -> (B, steps), generated one token at a time."""
    model, cases = _greedy_cases()
    for case, src, steps in cases:
        B = src.shape[0]
        expected = decoding.greedy_decode(model, src, steps).numpy()
        with torch.no_grad():
            got = _values(learner(model, src, steps, case=case, explain=_token_without_time_axis), learner.name, case)
            memory = model.encode(src)
            start = torch.full((B, 1), decoding.START_ID)
            first_only = model.decode(start, memory)[:, -1].argmax(-1).numpy()
        if got.shape == (B, steps + 1) and np.array_equal(got[:, 0], np.full(B, decoding.START_ID)):
            raise CheckFailed(f"On {case}, you returned the start token too, {got.shape}; return the {steps} "
                              f"generated tokens only, (B, steps) = {(B, steps)}.")
        got = as_array(got, learner.name, case, (B, steps), "the generated token ids, (B, steps)")
        if close(got, expected):
            continue
        if close(got, np.repeat(first_only[:, None], steps, axis=1)):
            raise CheckFailed(f"On {case}, every step wrote the same token, the one predicted right after the start "
                              "token: read the prediction at the last position, logits[:, -1], not logits[:, 0], and "
                              "feed back the start token and every token written so far.")
        last_only = []
        with torch.no_grad():
            token = start
            for _ in range(steps):
                token = model.decode(token, memory)[:, -1].argmax(-1, keepdim=True)
                last_only.append(token)
            last_only = torch.cat(last_only, 1).numpy()
        if close(got, last_only):
            raise CheckFailed(f"On {case}, each step fed the decoder only the newest token; feed it the start token "
                              "and every token written so far.")
        step = int(np.argwhere((got != expected).any(axis=0))[0, 0])
        raise CheckFailed(f"On {case}, your tokens first differ from greedy decoding at step {step}: take the most "
                          "likely token (argmax) at the last position, given the start token and the tokens so far.")
    return "one token per step, each the last position's argmax."


# ---------------------------------------------------------------- widget exercise: read the cross-attention


def _position_truth() -> tuple[int, int]:
    """(step, source position) at which the trained Reverser, given EXAMPLE, writes the digit 1 and looks most."""
    trace = decoding.generation_trace(decoding.trained_reverser().model, decoding.EXAMPLE)
    step = next(s for s in trace if s.written == "1")
    return step.step, int(step.cross_weights.mean(dim=0)[-1].argmax())


@check(hint="return one whole number, the position, such as `return 0`.")
def cross_attention_position(learner) -> str:
    """Lesson 8's widget exercise: the source position the cross-attention weighs most when writing the 1."""
    case = f"the source {decoding.EXAMPLE!r}"
    got = learner(case=case)
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer)):
        if isinstance(got, (float, np.floating)) and 0 < got < 1:
            raise CheckFailed(f"You returned {got}, which looks like a weight; return the source position (a whole "
                              "number counted from 0) that gets the largest weight.")
        raise CheckFailed(f"Your cross_attention_position returned a {type(got).__name__}; return a whole number, "
                          "the source position counted from 0.")
    got = int(got)
    step, position = _position_truth()  # after the type checks: it needs the trained reverser
    if got == position:
        digit = decoding.EXAMPLE[position]
        return f"position {position}, the {digit} that step {step} copies."
    if got == position + 1:
        raise CheckFailed("You counted source positions from 1; count from 0, as the widget's labels do.")
    if got == step:
        raise CheckFailed(f"{got} is the step at which the 1 is written (the decoder's position), not a source "
                          "position; read the cross-attention row of that step.")
    if got == 1:
        raise CheckFailed("1 is the digit written, not a position; return the source position with the largest "
                          "cross-attention weight at that step.")
    raise CheckFailed(f"Source position {got} is not the one with the largest cross-attention weight when the 1 is "
                      "written; move the step slider until the decoder writes 1, then read the newest row.")
