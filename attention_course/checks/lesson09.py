"""Checks for lesson 9, the whole Transformer trained on dates."""

from __future__ import annotations

import numbers
from functools import partial

import torch
from torch import nn

from .. import dates
from ..positional import sinusoidal_encoding
from ..transformer import parameter_count as reference_count
from .core import CheckFailed, as_array, check, diagnose
from .lesson04 import _whole_table
from .lesson08 import _token_without_time_axis

__all__ = ["century_rule", "embed", "exact_match", "greedy_translate", "parameter_count"]


# ---------------------------------------------------------------- exercise: the embedding layer


def _embed_cases():
    cases = []
    for case, vocab, d_model, tokens in [
        ("a batch of 2 sequences of 5 tokens, d_model = 8", 12, 8, [[3, 1, 4, 1, 5], [9, 2, 6, 5, 3]]),
        ("1 sequence of 3 tokens, d_model = 16, a table of 20 positions", 7, 16, [[6, 0, 2]]),
    ]:
        with torch.random.fork_rng():
            torch.manual_seed(vocab)
            table = nn.Embedding(vocab, d_model)
        cases.append((case, torch.tensor(tokens), table, sinusoidal_encoding(20, d_model)))
    return cases


@check(hint="the embedding equation without its dropout: each token's embedding times √d_model (the width of the "
            "table's vectors), plus the positional rows of the first T positions.")
def embed(learner) -> str:
    """Lesson 9: embed(tokens, table, positions) -> (B, T, d_model) = table(tokens) * sqrt(d_model) + PE[:T]."""
    cases = _embed_cases()
    for case, tokens, table, positions in cases:
        B, T = tokens.shape
        d = table.embedding_dim
        with torch.no_grad():
            got = as_array(learner(tokens, table, positions, case=case,
                                   explain=partial(_whole_table, rows=len(positions), T=T)),
                           learner.name, case, (B, T, d),
                           "the input vectors, (B, T, d_model)")
            E, P = table(tokens).numpy(), positions[:T].numpy()  # (B, T, d), (T, d)
        wrong = [
            (E + P, ("you added the positions to the raw embeddings; multiply the embeddings by sqrt(d_model) "
                     "first, as the paper does.")),
            (E * d + P, (f"you multiplied by d_model = {d}; the paper multiplies by its square root, "
                         f"sqrt({d}) = {d ** 0.5:.2f}.")),
            (E / d ** 0.5 + P, "you divided the embeddings by sqrt(d_model); multiply them by it."),
            ((E + P) * d ** 0.5, ("you scaled the positions too; only the token embeddings are multiplied by "
                                  "sqrt(d_model), the positions are added as they are.")),
            (E * d ** 0.5, "you left out the positions; add positions[:T], one row per position."),
            (E * table.num_embeddings ** 0.5 + P, (f"you multiplied by the square root of the vocabulary size, "
                                                   f"{table.num_embeddings}; the factor is sqrt(d_model), d_model = "
                                                   f"{d}, the width of each embedding.")),
            (E * T ** 0.5 + P, (f"you multiplied by the square root of the sequence length, T = {T}; the factor is "
                                f"sqrt(d_model), d_model = {d}.")),
            (E * d ** 0.5 + positions[1:T + 1].numpy(), ("your positions start at 1: the first token gets row 0 of "
                                                          "the positions, positions[:T].")),
        ]
        diagnose(got, learner.name, case, E * d ** 0.5 + P, wrong)
    return f"all {len(cases)} cases pass: embeddings times sqrt(d_model), plus one position row per token."


# ---------------------------------------------------------------- exercise: counting parameters


def _count_cases():
    return [
        ("vocab 50, d_model 16, d_ff 64, 2 layers, untied", 50, 16, 64, 2, False),
        ("vocab 100, d_model 32, d_ff 128, 3 layers, tied", 100, 32, 128, 3, True),
        ("the paper's base model: vocab 37,000, d_model 512, d_ff 2048, 6 layers, tied", 37000, 512, 2048, 6, True),
    ]


def _count_mistakes(vocab, d, d_ff, layers, tied) -> list[tuple[int, str]]:
    right = reference_count(vocab, d, d_ff, layers, tied)
    biases = layers * (4 * d + d_ff + d) + layers * (8 * d + d_ff + d) + vocab
    return [
        (right - biases, ("you left out the biases: every linear layer has one (4 in each attention, 2 in each "
                          "feed-forward) and so does the output layer.")),
        (right - layers * (2 + 3) * 2 * d, ("you left out the LayerNorms: each has a gain and a bias of d_model "
                                            "numbers, 2 per encoder layer and 3 per decoder layer.")),
        (right - layers * (4 * d * d + 4 * d + 2 * d), ("your decoder layer has the encoder layer's parts only; "
                                                        "it also has cross-attention and a third LayerNorm.")),
        (right - vocab, "you left out the output layer's bias, one number per vocabulary token."),
        (right + 2 * vocab * d if tied else right - 2 * vocab * d,
         ("you counted the embedding matrices the wrong way: tied means one matrix shared by the source, the "
          "target and the output layer; untied means three.")),
        (right - 2 * layers * (d_ff * d + d),
         "your feed-forward has one linear layer; it has two, d_model -> d_ff and d_ff -> d_model."),
    ]


@check(hint="per encoder layer: 4 (d² + d) for attention, 2 d d_ff + d_ff + d for the feed-forward, 2·2d for "
            "LayerNorms; a decoder layer has a second attention and a third LayerNorm; then the embeddings.")
def parameter_count(learner) -> str:
    """Lesson 9: parameter_count(vocab, d_model, d_ff, num_layers, tied) -> int, the Transformer's size."""
    cases = _count_cases()
    for case, vocab, d, d_ff, layers, tied in cases:
        got = learner(vocab, d, d_ff, layers, tied, case=case)
        if hasattr(got, "item") and getattr(got, "ndim", 1) == 0:
            got = got.item()
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise CheckFailed(f"Your parameter_count returned a {type(got).__name__} on {case}; return a number.")
        expected = reference_count(vocab, d, d_ff, layers, tied)
        if got == expected:
            continue
        for wrong, message in _count_mistakes(vocab, d, d_ff, layers, tied):
            if got == wrong:
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"On {case}, you counted {got:,} parameters; the model has {expected:,}, "
                          f"{expected - got:+,} more than yours.", specific=False)
    base = reference_count(37000, 512, 2048, 6, True)
    return f"all {len(cases)} cases pass; the base model has {base:,} parameters."


# ---------------------------------------------------------------- exercise: greedy translation


_TRANSLATE_TEXTS = ["21 November 2026", "sat 21 nov 26", "3.4.1999", "the 1st of May, 2001", "NOV 30 2068"]


@check(hint="encode the sources once; from the start token, decode all written so far (with the sources, to hide "
            "their pads) and append the last position's most likely token; then turn ids into text.")
def greedy_translate(learner) -> str:
    """Lesson 9: greedy_translate(model, texts) -> list of ISO strings, one greedy decode per batch."""
    model = dates.pretrained()
    case = f"the shipped date model and the batch {_TRANSLATE_TEXTS}"
    with torch.no_grad():
        got = learner(model, list(_TRANSLATE_TEXTS), case=case, explain=_token_without_time_axis)
    expected = dates.translate_with(model, _TRANSLATE_TEXTS)
    if isinstance(got, torch.Tensor):
        raise CheckFailed("You returned a tensor of token ids; turn each row into text with dates.decode_target.")
    if isinstance(got, str) or not isinstance(got, (list, tuple)):
        raise CheckFailed(f"Your greedy_translate returned a {type(got).__name__}; return a list of strings, one "
                          "per input text.")
    if len(got) != len(expected):
        raise CheckFailed(f"You returned {len(got)} answers for {len(expected)} texts; return one per text.")
    if list(got) == expected:
        return f"{len(expected)} dates translated as the course's decoder does, e.g. {expected[0]!r}."
    src = dates.encode_sources(_TRANSLATE_TEXTS)
    with torch.no_grad():
        memory = model.encode(src)
        first = model.decode(torch.full((len(src), 1), dates.START_ID), memory, src)[:, -1].argmax(-1)
    if all(isinstance(g, str) and len(set(g)) == 1 and g[0] == dates.TARGET_VOCAB[int(f)]
           for g, f in zip(got, first) if g):
        raise CheckFailed("Every character of your answers is the same, the one predicted right after the start "
                          "token: take the prediction at the last position, logits[:, -1], and feed back every "
                          "token written so far.")
    i = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
    raise CheckFailed(f"For {_TRANSLATE_TEXTS[i]!r} you answered {got[i]!r}, greedy decoding gives {expected[i]!r}: "
                      "at each step append the argmax at the last position, stop at the end token, and pass src "
                      "to model.decode so that it can hide the source's padding.", specific=False)


# ---------------------------------------------------------------- exercise: exact match


def _match_cases():
    return [
        ("3 predictions, 2 right", ["2026-11-21", "2026-11-12", "1999-01-01"],
         ["2026-11-21", "2026-11-21", "1999-01-01"]),
        ("4 predictions, each one character off but one", ["2026-11-21", "2026-11-2", "2026-11-211", "2026-11-22"],
         ["2026-11-21"] * 4),
        ("2 predictions with stray spaces", [" 2026-11-21", "2026-11-21 "], ["2026-11-21", "2026-11-21"]),
        ("2 predictions in the other order", ["1999-01-01", "2026-11-21"], ["2026-11-21", "1999-01-01"]),
    ]


def _characters_right(predictions, answers) -> float:
    pairs = [(p[i], a[i]) for p, a in zip(predictions, answers) for i in range(min(len(p), len(a)))]
    return sum(x == y for x, y in pairs) / sum(len(a) for a in answers)


@check(hint="the fraction of predictions that equal their answer exactly: the number of exact matches divided by "
            "the number of answers, between 0 and 1.")
def exact_match(learner) -> str:
    """Lesson 9: exact_match(predictions, answers) -> the share of predictions equal to their answer."""
    cases = _match_cases()
    for case, predictions, answers in cases:
        got = as_array(learner(list(predictions), list(answers), case=case), learner.name, case, (),
                       "one number, the share of exact matches")
        right = sum(p == a for p, a in zip(predictions, answers))
        wrong = [
            (right, f"you returned the number of matches, {right}; divide by the number of answers."),
            (100 * right / len(answers), "you returned a percentage; return a share between 0 and 1."),
            (_characters_right(predictions, answers),
             "you counted matching characters; a date is right only if every character is."),
            (sum(p.strip() == a for p, a in zip(predictions, answers)) / len(answers),
             "you stripped spaces before comparing; an exact match is character for character, spaces included."),
            (sum(a.startswith(p) or p.startswith(a) for p, a in zip(predictions, answers)) / len(answers),
             "you accepted a prediction that is the start of its answer or the other way round; it must be equal."),
            (len(set(predictions) & set(answers)) / len(answers),
             "you compared the sets of strings; compare each prediction with the answer at the same position."),
        ]
        diagnose(got, learner.name, case, right / len(answers), wrong)
    return f"all {len(cases)} cases pass: a prediction counts only when it equals its answer exactly."


# ---------------------------------------------------------------- widget exercise: the two-digit-year rule


@check(hint="return two strings, such as ('2068-12-31', '1969-01-01').")
def century_rule(learner) -> str:
    """Lesson 9's widget exercise: the model's answers for 31.12.68 and 01.01.69."""
    case = "the inputs 31.12.68 and 01.01.69"
    got = learner(case=case)
    expected = tuple(dates.translate(["31.12.68", "01.01.69"]))
    if got is None:
        raise CheckFailed("Your century_rule returned None; return the two answers, e.g. return ('...', '...').")
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(isinstance(g, str) for g in got):
        raise CheckFailed("Return two strings, the widget's answer for 31.12.68 and then for 01.01.69.")
    got = tuple(g.strip() for g in got)
    if got == expected:
        return f"{expected[0]} and {expected[1]}: one day apart, and a century flips between them."
    if got == expected[::-1]:
        raise CheckFailed("You swapped the two answers; first 31.12.68, then 01.01.69.")
    if got[0].startswith("1968") or got[1].startswith("2069"):
        raise CheckFailed("Two-digit years 00-68 mean 2000-2068 and 69-99 mean 1969-1999 here; type both dates "
                          "into the widget and copy what it answers.")
    if any("-" not in g for g in got):
        raise CheckFailed("Copy the answers as the widget writes them, in ISO form YYYY-MM-DD.")
    raise CheckFailed(f"The widget does not answer {got}; type 31.12.68, then 01.01.69, and copy its answers.")
