"""Every exercise check: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks, lookup
from attention_course.checks import lesson01

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def hard_lookup(query, keys, values):
    scores = keys @ query
    return values[np.argmax(scores)]


def cosine_similarity(query, keys):
    return (keys @ query) / (np.linalg.norm(keys, axis=-1) * np.linalg.norm(query))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def soft_lookup(query, keys, values, temperature):
    weights = softmax(keys @ query / temperature)
    return weights @ values, weights


def half_weight_temperature():
    return 0.33


SOLUTIONS = {
    "hard_lookup": hard_lookup,
    "cosine_similarity": cosine_similarity,
    "softmax": softmax,
    "soft_lookup": soft_lookup,
    "half_weight_temperature": half_weight_temperature,
}
NO_DATA_INPUTS = {'half_weight_temperature'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def hard_lookup_as_list(query, keys, values):
    return list(values[int(np.argmax(keys @ query))])


def hard_lookup_loop(query, keys, values):
    best, best_score = 0, -np.inf
    for i, key in enumerate(keys):
        score = sum(q * k for q, k in zip(query, key))
        if score > best_score:
            best, best_score = i, score
    return values[best]


def cosine_with_torch(query, keys):
    return torch.nn.functional.cosine_similarity(torch.from_numpy(query)[None], torch.from_numpy(keys), dim=-1)


def softmax_with_torch(x):
    return torch.softmax(torch.from_numpy(x), dim=-1)


def _softmax_in_place(x):
    x -= x.max(axis=-1, keepdims=True)  # overwrites the caller's scores
    np.exp(x, out=x)
    x /= x.sum(axis=-1, keepdims=True)
    return x


def soft_lookup_as_list(query, keys, values, temperature):
    weights = softmax(keys @ query / temperature)
    return [weights @ values, weights]


def _soft_lookup_mutating(query, keys, values, temperature):
    keys /= temperature  # changes the caller's keys in place
    weights = softmax(keys @ query)
    values *= weights[:, None]
    return values.sum(axis=0), weights


def softmax_float32(x):
    return torch.softmax(torch.tensor(x, dtype=torch.float32), dim=-1)  # float32: right to ~1e-7, not 1e-16


def cosine_float32(query, keys):
    q, K = torch.tensor(query, dtype=torch.float32), torch.tensor(keys, dtype=torch.float32)
    return (K @ q) / (K.norm(dim=-1) * q.norm())


def soft_lookup_float32(query, keys, values, temperature):
    q, K, V = (torch.tensor(a, dtype=torch.float32) for a in (query, keys, values))
    weights = torch.softmax(K @ q / temperature, dim=-1)
    return weights @ V, weights


def half_weight_numpy_float():
    return np.float32(0.35)


def half_weight_int_like():
    return 0.3


@pytest.mark.parametrize(("name", "answer"), [
    ("hard_lookup", hard_lookup_as_list),
    ("hard_lookup", hard_lookup_loop),
    ("cosine_similarity", cosine_with_torch),
    ("cosine_similarity", cosine_float32),
    ("softmax", softmax_with_torch),
    ("softmax", softmax_float32),
    ("soft_lookup", soft_lookup_as_list),
    ("soft_lookup", soft_lookup_float32),
    ("half_weight_temperature", half_weight_numpy_float),
    ("half_weight_temperature", half_weight_int_like),
])
def test_other_correct_solutions_pass(name, answer, capsys):
    keys, values = lookup.KEYS.copy(), lookup.VALUES.copy()
    assert CHECKS[name](answer).status == "passed"
    assert capsys.readouterr().out.startswith("✔")
    # mutating its inputs must not change the catalogue the check (and the lesson) uses afterwards
    np.testing.assert_array_equal(lookup.KEYS, keys)
    np.testing.assert_array_equal(lookup.VALUES, values)


# ---------------------------------------------------------------- realistic wrong answers


def _exp_no_max(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _no_keepdims_anywhere(x):
    e = np.exp(x - np.max(x, axis=-1))
    return e / np.sum(e, axis=-1)


def _no_keepdims_on_max(x):
    e = np.exp(x - np.max(x, axis=-1))
    return e / np.sum(e, axis=-1, keepdims=True)


def _no_keepdims_on_sum(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1)


def _over_axis_0(x):
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _whole_array(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _one_global_maximum(x):
    e = np.exp(x - x.max())  # the same maximum for every row
    return e / e.sum(axis=-1, keepdims=True)


def _total(x):
    return float(np.exp(x - x.max()).sum())


def _stable_softmax(scores):
    e = np.exp(scores - scores.max())
    return e / e.sum()


WRONG = [
    # (check, wrong answer, substrings the message must contain)
    ("hard_lookup", lambda q, K, V: V[np.argmin(K @ q)], ["argmin"]),
    ("hard_lookup", lambda q, K, V: K[np.argmax(K @ q)], ["the best key", "return its value"]),
    ("hard_lookup", lambda q, K, V: np.argmax(K @ q), ["index", "values["]),
    ("hard_lookup", lambda q, K, V: int(np.argmax(K @ q)), ["index", "values["]),
    ("hard_lookup", lambda q, K, V: V[np.argmax(np.abs(K @ q))], ["|score|", "argmax"]),
    ("hard_lookup", lambda q, K, V: V.mean(axis=0), ["averaged", "exactly one"]),
    ("hard_lookup", lambda q, K, V: V[2], ["expected"]),
    ("hard_lookup", lambda q, K, V: V[np.argmax(K @ q) - 1], ["values[7], one before the best key's value"]),
    ("hard_lookup", lambda q, K, V: V[np.argmax(K @ q) + 1], ["values[1], the worst match, which is also the value one after the best key's"]),
    ("cosine_similarity", lambda q, K: K @ q, ["plain dot products", "norms"]),
    ("cosine_similarity", lambda q, K: K @ q / np.linalg.norm(K, axis=-1), ["not by the query's norm"]),
    ("cosine_similarity", lambda q, K: K @ q / np.linalg.norm(q), ["not by each key's norm"]),
    ("cosine_similarity", lambda q, K: K @ q / (np.linalg.norm(K, axis=-1) * np.linalg.norm(q)) ** 2, ["squared"]),
    ("cosine_similarity", lambda q, K: K @ q / (np.linalg.norm(K) * np.linalg.norm(q)),
     ["norm of the whole keys matrix", "no axis", "each key needs its own length"]),
    ("cosine_similarity", lambda q, K: K @ q / np.linalg.norm(K), ["expected"]),
    ("cosine_similarity", lambda q, K: K @ q / (np.linalg.norm(K, axis=0) * np.linalg.norm(q)), ["ValueError", "Hint"]),
    ("cosine_similarity", lambda q, K: K @ q / (np.linalg.norm(K, axis=-1, keepdims=True) * np.linalg.norm(q)),
     ["shape (8, 8)", "shape (8,)"]),
    ("softmax", _exp_no_max, ["maximum", "[1000, 1001]"]),
    ("softmax", _no_keepdims_anywhere, ["keepdims"]),
    ("softmax", _no_keepdims_on_max, ["keepdims"]),
    ("softmax", _no_keepdims_on_sum, ["keepdims"]),
    ("softmax", _over_axis_0, ["columns", "last axis"]),
    ("softmax", _whole_array, ["whole array", "each row"]),
    ("softmax", _one_global_maximum, ["one maximum for the whole array", "each row's own maximum"]),
    ("softmax", _total, ["single number", "one weight per entry"]),
    ("softmax", lambda x: np.exp(x), ["never divided", "sums to 1"]),
    ("softmax", _softmax_in_place, ["changed its input `x` in place"]),
    ("soft_lookup", _soft_lookup_mutating, ["changed its input `values` in place"]),
    ("soft_lookup", lambda q, K, V, t: (_stable_softmax(K @ q * t) @ V, _stable_softmax(K @ q * t)),
     ["multiplied the scores by the temperature", "divide"]),
    ("soft_lookup", lambda q, K, V, t: (_stable_softmax(K @ q) @ V, _stable_softmax(K @ q)),
     ["ignore the temperature"]),
    ("soft_lookup", lambda q, K, V, t: (V.mean(axis=0), _stable_softmax(K @ q / t)), ["plain average"]),
    ("soft_lookup", lambda q, K, V, t: (V.mean(axis=0), np.full(len(K), 1 / len(K))), ["all equal, 1/N"]),
    ("soft_lookup", lambda q, K, V, t: (_stable_softmax(K @ q / t) @ K, _stable_softmax(K @ q / t)),
     ["shape (4,)", "shape (2,)"]),
    ("soft_lookup", lambda q, K, V, t: _stable_softmax(K @ q / t), ["return the pair (output, weights)"]),
    ("soft_lookup", lambda q, K, V, t: _stable_softmax(K @ q / t) @ V, ["return the pair (output, weights)"]),
    ("soft_lookup", lambda q, K, V, t: (_stable_softmax(K @ q / t), _stable_softmax(K @ q / t) @ V), ["swapped"]),
    ("soft_lookup", lambda q, K, V, t: (V[np.argmax(K @ q)], _stable_softmax(K @ q / t)), ["hard lookup"]),
    ("soft_lookup", lambda q, K, V, t: (K @ q / t @ V, K @ q / t), ["apply softmax"]),
    ("half_weight_temperature", lambda: 0.01, ["raise the temperature", "Cat plays the piano"]),
    ("half_weight_temperature", lambda: 0.1, ["raise the temperature"]),
    ("half_weight_temperature", lambda: 1.0, ["lower the temperature"]),
    ("half_weight_temperature", lambda: 100, ["lower the temperature"]),
    ("half_weight_temperature", lambda: "0.33", ["as a number", "str"]),
    ("half_weight_temperature", lambda: -0.33, ["positive"]),
    ("half_weight_temperature", lambda: 0, ["positive"]),
    ("half_weight_temperature", lambda: float("nan"), ["positive", "nan"]),
    ("half_weight_temperature", lambda: float("inf"), ["positive"]),
    ("half_weight_temperature", lambda: True, ["as a number", "bool"]),
    ("half_weight_temperature", lambda: [0.33], ["as a number", "list"]),
]


# ---------------------------------------------------------------- failures inside the learner's code


def _arguments_free(name, body):
    """A learner function for `name` whose body is `body()`, with the right number of parameters."""
    if name == "half_weight_temperature":
        return lambda: body()
    return lambda *args: body(*args)


def test_passing_the_result_instead_of_the_function_is_explained():
    with pytest.raises(checks.CheckFailed, match="expects your function itself"):
        checks.softmax(softmax(np.array([1.0, 2.0])))


WRONG_SHAPES = [
    ("hard_lookup", lambda q, K, V: V[np.argmax(K @ q)][:1], "(1,)", "(2,)"),
    ("hard_lookup", lambda q, K, V: V[np.argmax(K @ q)][None, :], "(1, 2)", "(2,)"),
    ("cosine_similarity", lambda q, K: (K @ q)[:-1] / np.linalg.norm(K[:-1], axis=-1) / np.linalg.norm(q), "(7,)", "(8,)"),
    ("cosine_similarity", lambda q, K: cosine_similarity(q, K)[:, None], "(8, 1)", "(8,)"),
    ("softmax", lambda x: softmax(x)[..., :-1], "(2,)", "(3,)"),
    ("softmax", lambda x: softmax(x)[None], "(1, 3)", "(3,)"),
    ("soft_lookup", lambda q, K, V, t: (soft_lookup(q, K, V, t)[0][None], soft_lookup(q, K, V, t)[1]), "(1, 2)", "(2,)"),
    ("soft_lookup", lambda q, K, V, t: (soft_lookup(q, K, V, t)[0], soft_lookup(q, K, V, t)[1][:-1]), "(7,)", "(8,)"),
]


@pytest.mark.parametrize(("name", "answer", "got", "expected"), WRONG_SHAPES)
def test_wrong_shape_names_both_shapes(name, answer, got, expected):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    message = assert_one_sentence(caught.value)
    assert f"shape {got}" in message
    assert f"shape {expected}" in message


NAN_ANSWERS = [
    ("hard_lookup", lambda q, K, V: V[np.argmax(K @ q)] * np.nan),
    ("cosine_similarity", lambda q, K: (K @ q) * np.nan),
    ("softmax", lambda x: softmax(x) * np.nan),
    ("soft_lookup", lambda q, K, V, t: (soft_lookup(q, K, V, t)[0], soft_lookup(q, K, V, t)[1] * np.nan)),
    ("soft_lookup", lambda q, K, V, t: (soft_lookup(q, K, V, t)[0] * np.nan, soft_lookup(q, K, V, t)[1])),
    ("half_weight_temperature", lambda: float("nan")),
]


@pytest.mark.parametrize(("name", "answer"), NAN_ANSWERS)
def test_nan_output_is_named(name, answer):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    message = assert_one_sentence(caught.value)
    assert "nan" in message.lower()


@pytest.mark.parametrize("name", ["hard_lookup", "cosine_similarity", "softmax"])
def test_text_instead_of_numbers_is_explained(name):
    def wordy(*args):
        return "the answer"

    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](wordy)
    message = assert_one_sentence(caught.value)
    assert "str" in message


def test_checks_keep_their_names_and_docstrings():
    for name, check in CHECKS.items():
        assert check.__name__ == name
        assert check.__doc__ and "Lesson 1" in check.__doc__ or "lesson 1" in check.__doc__


def test_half_weight_temperature_reference_gives_weight_one_half():
    t = lesson01._half_weight_temperature()
    weights = lookup.soft_lookup(lookup.embed_query("cat piano"), lookup.KEYS, lookup.VALUES, t)[1]
    assert weights.max() == pytest.approx(0.5, abs=1e-9)
    assert 0.2 < t < 0.5
