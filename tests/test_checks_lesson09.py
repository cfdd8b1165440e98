"""Lesson 9's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import pytest
import torch

from attention_course import checks, dates

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def embed(tokens, table, positions):
    d_model = table.embedding_dim
    return table(tokens) * d_model ** 0.5 + positions[:tokens.shape[1]]


def parameter_count(vocab, d_model, d_ff, num_layers, tied):
    attention = 4 * (d_model * d_model + d_model)
    feed_forward = 2 * d_model * d_ff + d_ff + d_model
    encoder = attention + feed_forward + 2 * 2 * d_model
    decoder = 2 * attention + feed_forward + 3 * 2 * d_model
    tables = 1 if tied else 3
    return num_layers * (encoder + decoder) + tables * vocab * d_model + vocab


def greedy_translate(model, texts):
    src = dates.encode_sources(texts)
    memory = model.encode(src)
    written = torch.full((len(texts), 1), dates.START_ID)
    for _ in range(dates.ISO_LENGTH + 1):
        next_id = model.decode(written, memory, src)[:, -1].argmax(dim=-1, keepdim=True)
        written = torch.cat([written, next_id], dim=1)
    return [dates.decode_target(row[1:]) for row in written]


def exact_match(predictions, answers):
    return sum(p == a for p, a in zip(predictions, answers)) / len(answers)


def century_rule():
    return "2068-12-31", "1969-01-01"


SOLUTIONS = {
    "embed": embed,
    "parameter_count": parameter_count,
    "greedy_translate": greedy_translate,
    "exact_match": exact_match,
    "century_rule": century_rule,
}
NO_DATA_INPUTS = {'century_rule', 'exact_match', 'greedy_translate', 'parameter_count'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def translate_one_by_one(model, texts):
    return [greedy_translate(model, [text])[0] for text in texts]


def embed_with_math(tokens, table, positions):
    import math

    return table.weight[tokens] * math.sqrt(table.weight.shape[1]) + positions[:tokens.shape[1]]


def embed_with_a_float32_root(tokens, table, positions):
    root = torch.tensor(float(table.embedding_dim)).sqrt()  # rounded to float32, not Python's float64 root
    return table(tokens) * root + positions[:tokens.shape[1]]


ALTERNATIVES = [
    ("embed", embed_with_math),
    ("embed", embed_with_a_float32_root),
    ("parameter_count", lambda *a: float(parameter_count(*a))),
    ("parameter_count", lambda *a: torch.tensor(parameter_count(*a))),
    ("greedy_translate", translate_one_by_one),
    ("greedy_translate", lambda m, t: tuple(greedy_translate(m, t))),
    ("exact_match", lambda p, a: torch.tensor([x == y for x, y in zip(p, a)]).float().mean()),
    ("century_rule", lambda: ["2068-12-31 ", "1969-01-01"]),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def _greedy(model, texts, position=-1, with_src=True, keepdim=True):
    src = dates.encode_sources(texts)
    memory = model.encode(src)
    written = torch.full((len(texts), 1), dates.START_ID)
    for _ in range(dates.ISO_LENGTH + 1):
        mask_source = src if with_src else torch.ones_like(src)  # no pads: every source position is read
        next_id = model.decode(written, memory, mask_source)[:, position].argmax(dim=-1, keepdim=keepdim)
        written = torch.cat([written, next_id], dim=1)
    return [dates.decode_target(row[1:]) for row in written]


def _count(**change):
    def answer(vocab, d, d_ff, layers, tied):
        parts = {"bias": 1, "norm": 1, "cross": 1, "out_bias": 1, "tables": 1 if tied else 3, "ff": 2}
        parts.update(change)
        linear = d * d + parts["bias"] * d
        attention = 4 * linear
        ff = d * d_ff + parts["bias"] * d_ff + (parts["ff"] - 1) * (d_ff * d + parts["bias"] * d)
        norm = parts["norm"] * 2 * d
        encoder = attention + ff + 2 * norm
        decoder = (1 + parts["cross"]) * attention + ff + (2 + parts["cross"]) * norm
        return layers * (encoder + decoder) + parts["tables"] * vocab * d + parts["out_bias"] * parts["bias"] * vocab
    return answer


WRONG = [
    # embed
    ("embed", lambda t, table, p: table(t) + p[:t.shape[1]], ["multiply the embeddings by sqrt(d_model)"]),
    ("embed", lambda t, table, p: table(t) * table.embedding_dim + p[:t.shape[1]], ["square root"]),
    ("embed", lambda t, table, p: table(t) / table.embedding_dim ** 0.5 + p[:t.shape[1]], ["divided"]),
    ("embed", lambda t, table, p: (table(t) + p[:t.shape[1]]) * table.embedding_dim ** 0.5,
     ["scaled the positions too"]),
    ("embed", lambda t, table, p: table(t) * table.embedding_dim ** 0.5, ["left out the positions"]),
    ("embed", lambda t, table, p: table(t) * table.num_embeddings ** 0.5 + p[:t.shape[1]], ["vocabulary size"]),
    ("embed", lambda t, table, p: table(t) * t.shape[1] ** 0.5 + p[:t.shape[1]], ["sequence length"]),
    ("embed", lambda t, table, p: table(t) * table.embedding_dim ** 0.5 + p[1:t.shape[1] + 1], ["start at 1"]),
    ("embed", lambda t, table, p: table(t) * table.embedding_dim ** 0.5 + p, ["whole position table, 20 rows"]),
    ("embed", lambda t, table, p: torch.cat([table(t), p[:t.shape[1]].expand(t.shape[0], -1, -1)], -1),
     ["shape"]),
    # parameter_count
    ("parameter_count", _count(bias=0), ["left out the biases"]),
    ("parameter_count", _count(norm=0), ["left out the LayerNorms"]),
    ("parameter_count", _count(cross=0), ["cross-attention"]),
    ("parameter_count", _count(out_bias=0), ["output layer's bias"]),
    ("parameter_count", _count(tables=3), ["tied means one matrix"]),
    ("parameter_count", _count(ff=1), ["feed-forward has one linear layer"]),
    ("parameter_count", lambda v, d, f, n, t: 65_000_000, ["you counted 65,000,000"]),
    ("parameter_count", lambda v, d, f, n, t: "63M", ["str", "return a number"]),
    # greedy_translate
    ("greedy_translate", lambda m, t: _greedy(m, t, position=0), ["is the same", "logits[:, -1]"]),
    ("greedy_translate", lambda m, t: _greedy(m, t, keepdim=False), ["one axis too few", "(B, 1) column"]),
    ("greedy_translate", lambda m, t: dates.greedy_decode(m, dates.encode_sources(t)), ["tensor of token ids"]),
    ("greedy_translate", lambda m, t: "; ".join(greedy_translate(m, t)), ["str", "list of strings"]),
    ("greedy_translate", lambda m, t: greedy_translate(m, t)[:1], ["1 answers for 5 texts"]),
    ("greedy_translate", lambda m, t: [a[:7] for a in greedy_translate(m, t)], ["greedy decoding gives"]),
    # exact_match
    ("exact_match", lambda p, a: sum(x == y for x, y in zip(p, a)), ["number of matches"]),
    ("exact_match", lambda p, a: 100 * exact_match(p, a), ["percentage"]),
    ("exact_match", lambda p, a: sum(x.strip() == y for x, y in zip(p, a)) / len(a), ["stripped spaces"]),
    ("exact_match", lambda p, a: sum(y.startswith(x) or x.startswith(y) for x, y in zip(p, a)) / len(a),
     ["start of its answer"]),
    ("exact_match", lambda p, a: len(set(p) & set(a)) / len(a), ["sets of strings"]),
    ("exact_match", lambda p, a: [x == y for x, y in zip(p, a)], ["shape"]),
    # century_rule
    ("century_rule", lambda: ("1969-01-01", "2068-12-31"), ["swapped"]),
    ("century_rule", lambda: ("1968-12-31", "1969-01-01"), ["00-68 mean 2000-2068"]),
    ("century_rule", lambda: ("2068-12-31", "2069-01-01"), ["00-68 mean 2000-2068"]),
    ("century_rule", lambda: ("20681231", "19690101"), ["ISO form"]),
    ("century_rule", lambda: "2068-12-31", ["two strings"]),
]


def test_the_widget_exercise_answer_is_what_the_shipped_model_says():
    assert dates.translate(["31.12.68", "01.01.69"]) == list(century_rule())


def test_the_translations_the_checks_compare_have_no_near_tie():
    """greedy_translate and century_rule compare strings decoded by argmax; a learner's route (one text at a time,
    another batch) changes the logits by float32 rounding, about 1e-6, which must not flip a character."""
    from attention_course.checks import lesson09

    model = dates.pretrained()
    texts = [*lesson09._TRANSLATE_TEXTS, "31.12.68", "01.01.69"]
    src = dates.encode_sources(texts)
    with torch.no_grad():
        memory = model.encode(src)
        written = torch.full((len(texts), 1), dates.START_ID)
        for _ in range(dates.ISO_LENGTH + 1):
            logits = model.decode(written, memory, src)[:, -1]  # (B, vocab)
            best_two = logits.topk(2, dim=-1).values
            assert (best_two[:, 0] - best_two[:, 1]).min() > 1e-3  # the closest call is 4.8 apart
            written = torch.cat([written, logits.argmax(-1, keepdim=True)], dim=1)


def test_the_base_model_count_is_the_one_the_lesson_quotes():
    assert parameter_count(37000, 512, 2048, 6, True) == 63_119_496
