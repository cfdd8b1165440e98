"""Lesson 2's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks, lookup, scaling
from attention_course.checks import lesson02

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention_one_query(q, K, V):
    return softmax(K @ q / np.sqrt(q.shape[-1])) @ V


def attention_matrix(Q, K, V):
    return softmax(Q @ K.swapaxes(-1, -2) / np.sqrt(Q.shape[-1])) @ V


def scale_factor(Q, K):
    return 1 / np.sqrt(Q.shape[-1])


def weight_gradient(q, K, c):
    w = softmax(c * (K @ q))
    return c * w[:, None] * (K - w @ K)


def first_saturated_d_k():
    return 256


SOLUTIONS = {
    "attention_one_query": attention_one_query,
    "attention_matrix": attention_matrix,
    "scale_factor": scale_factor,
    "weight_gradient": weight_gradient,
    "first_saturated_d_k": first_saturated_d_k,
}
NO_DATA_INPUTS = {'first_saturated_d_k'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def one_query_with_torch(q, K, V):
    weights = torch.softmax(torch.from_numpy(K @ q) / math.sqrt(len(q)), dim=-1)
    return weights @ torch.from_numpy(V)


def one_query_with_a_loop(q, K, V):
    scores = [sum(qj * kj for qj, kj in zip(q, key)) / math.sqrt(len(q)) for key in K]
    weights = softmax(np.array(scores))
    return sum(w * v for w, v in zip(weights, V))


def one_query_via_the_lookup(q, K, V):
    return lookup.soft_lookup(q, K, V, temperature=math.sqrt(K.shape[-1]))[0]


def matrix_with_einsum(Q, K, V):
    scores = np.einsum("...qd,...kd->...qk", Q, K) / math.sqrt(Q.shape[-1])
    return np.einsum("...qk,...kv->...qv", softmax(scores), V)


def matrix_with_torch(Q, K, V):
    return torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(x) for x in (Q, K, V)))


def matrix_with_the_package(Q, K, V):
    from attention_course.attention import scaled_dot_product_attention

    return scaled_dot_product_attention(*(torch.from_numpy(x) for x in (Q, K, V)))[0]


def matrix_with_transpose(Q, K, V):
    scores = Q @ np.transpose(K, (*range(K.ndim - 2), K.ndim - 1, K.ndim - 2)) * Q.shape[-1] ** -0.5
    return softmax(scores) @ V


def one_query_float32(q, K, V):
    q, K, V = (torch.tensor(a, dtype=torch.float32) for a in (q, K, V))  # float32: right to ~1e-7, not 1e-16
    return torch.softmax(K @ q / math.sqrt(len(q)), dim=-1) @ V


def matrix_float32(Q, K, V):
    """The usual torch code: float32, whose 300-term sums are off by ~1e-7 where an output is near 0."""
    return torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(x, dtype=torch.float32) for x in (Q, K, V)))


def gradient_float32(q, K, c):
    q, K = torch.tensor(q, dtype=torch.float32), torch.tensor(K, dtype=torch.float32)
    w = torch.softmax(c * (K @ q), dim=-1)
    return c * w[:, None] * (K - w @ K)  # near saturation the difference cancels: ~1e-7 of |K|, not of the result


def scale_from_k(Q, K):
    return K.shape[-1] ** -0.5


def scale_as_tensor(Q, K):
    return torch.tensor(1 / math.sqrt(Q.shape[-1]))


def gradient_with_autograd(q, K, c):
    return torch.autograd.functional.jacobian(
        lambda q_t: torch.softmax(c * (torch.from_numpy(K) @ q_t), dim=-1), torch.from_numpy(q))


def gradient_with_jacobian(q, K, c):
    w = softmax(c * (K @ q))
    jacobian = np.diag(w) - np.outer(w, w)  # ∂w/∂z
    return c * jacobian @ K


@pytest.mark.parametrize(("name", "answer"), [
    ("attention_one_query", one_query_with_torch),
    ("attention_one_query", one_query_with_a_loop),  # a loop is fine for one query
    ("attention_one_query", one_query_via_the_lookup),
    ("attention_one_query", one_query_float32),
    ("attention_matrix", matrix_with_einsum),
    ("attention_matrix", matrix_with_torch),
    ("attention_matrix", matrix_with_the_package),
    ("attention_matrix", matrix_with_transpose),
    ("attention_matrix", matrix_float32),
    ("scale_factor", scale_from_k),
    ("scale_factor", scale_as_tensor),
    ("scale_factor", lambda Q, K: np.float32(1 / np.sqrt(Q.shape[-1]))),
    ("weight_gradient", gradient_with_autograd),
    ("weight_gradient", gradient_with_jacobian),
    ("weight_gradient", gradient_float32),
    ("first_saturated_d_k", lambda: 256.0),
    ("first_saturated_d_k", lambda: np.int64(256)),
])
def test_other_correct_solutions_pass(name, answer, capsys):
    keys, values = lookup.KEYS.copy(), lookup.VALUES.copy()
    assert CHECKS[name](answer).status == "passed"
    assert capsys.readouterr().out.startswith("✔")
    np.testing.assert_array_equal(lookup.KEYS, keys)
    np.testing.assert_array_equal(lookup.VALUES, values)


# ---------------------------------------------------------------- realistic wrong answers


def _one(q, K, V, c):
    return softmax(c * (K @ q)) @ V


def _matrix(Q, K, V, c, axis=-1):
    return softmax(c * (Q @ K.swapaxes(-1, -2)), axis=axis) @ V


def matrix_loop_over_queries(Q, K, V):
    d_k = Q.shape[-1]
    rows = [softmax(np.einsum("...d,...kd->...k", Q[..., i, :], K) / math.sqrt(d_k))[..., None, :] @ V
            for i in range(Q.shape[-2])]  # each (..., 1, d_v)
    return np.concatenate(rows, axis=-2)


def matrix_for_loop(Q, K, V):
    out = np.zeros(Q.shape[:-1] + V.shape[-1:])
    for i in range(Q.shape[-2]):
        scores = np.einsum("...d,...kd->...k", Q[..., i, :], K) / math.sqrt(Q.shape[-1])
        out[..., i, :] = np.einsum("...k,...kv->...v", softmax(scores), V)
    return out


def matrix_loop_2d_only(Q, K, V):
    return np.stack([softmax(K @ q / math.sqrt(len(q))) @ V for q in Q])


WRONG = [
    # (check, wrong answer, substrings the message must contain)
    ("attention_one_query", lambda q, K, V: _one(q, K, V, 1.0), ["did not scale", "√d_k"]),
    ("attention_one_query", lambda q, K, V: _one(q, K, V, 1 / len(q)), ["divided the scores by d_k", "square root"]),
    ("attention_one_query", lambda q, K, V: _one(q, K, V, 1 / math.sqrt(len(K))),
     ["number of keys", "width of the query"]),
    ("attention_one_query", lambda q, K, V: _one(q, K, V, 1 / len(K)), ["number of keys", "1/√d_k"]),
    ("attention_one_query", lambda q, K, V: _one(q, K, V, math.sqrt(len(q))), ["multiplied", "divide"]),
    ("attention_one_query", lambda q, K, V: softmax(K @ q / math.sqrt(len(q))), ["returned the weights", "@ V"]),
    ("attention_one_query", lambda q, K, V: (_one(q, K, V, len(q) ** -0.5), softmax(K @ q)), ["pair", "output alone"]),
    ("attention_one_query", lambda q, K, V: V[np.argmax(K @ q)], ["best key", "blends"]),
    ("attention_one_query", lambda q, K, V: V.mean(axis=0), ["plain average"]),
    ("attention_one_query", lambda q, K, V: softmax(K @ q / math.sqrt(len(q))) @ K, ["shape (4,)", "shape (2,)"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, 1.0), ["did not scale"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, 1 / Q.shape[-1]), ["divided the scores by d_k"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, 1 / math.sqrt(K.shape[-2])), ["number of keys"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, 1 / K.shape[-2]), ["number of keys"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, 1 / math.sqrt(V.shape[-1])), ["√d_v", "width of the values"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, Q.shape[-1] ** -0.5, axis=-2),
     ["each column", "last axis"]),
    ("attention_matrix", lambda Q, K, V: _matrix(Q, K, V, Q.shape[-1] ** -0.5, axis=0),
     ["each column", "last axis"]),
    ("attention_matrix", lambda Q, K, V: softmax(Q @ K.T / math.sqrt(Q.shape[-1])) @ V,
     ["works on single matrices", "K.T", "K.swapaxes(-1, -2)"]),
    ("attention_matrix", lambda Q, K, V: softmax(Q @ K / math.sqrt(Q.shape[-1])) @ V, ["ValueError", "Hint"]),
    ("attention_matrix", lambda Q, K, V: softmax(Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1])),
     ["returned the weights", "@ V"]),
    ("attention_matrix", lambda Q, K, V: (attention_matrix(Q, K, V), None), ["pair"]),
    ("attention_matrix", lambda Q, K, V: Q @ K.swapaxes(-1, -2) / math.sqrt(Q.shape[-1]) @ V, ["skipped the softmax"]),
    ("attention_matrix", matrix_for_loop, ["right numbers", "Python loop"]),
    ("attention_matrix", matrix_loop_over_queries, ["right numbers", "Python loop"]),
    ("attention_matrix", matrix_loop_2d_only, ["works on single matrices", "loop over the rows of Q"]),
    ("scale_factor", lambda Q, K: 1 / math.sqrt(K.shape[0]), ["T_k = 8", "number of keys", "Q.shape[-1]"]),
    ("scale_factor", lambda Q, K: 1 / math.sqrt(K.shape[-2]), ["number of keys", "sentence's length"]),
    ("scale_factor", lambda Q, K: 1 / math.sqrt(Q.shape[-2]), ["T_q = 3", "number of queries"]),
    ("scale_factor", lambda Q, K: 1 / math.sqrt(Q.shape[0]), ["T_q = 3"]),  # right for 2-d, the batch case catches it
    ("scale_factor", lambda Q, K: 1 / K.shape[-2], ["divided by T_k"]),
    ("scale_factor", lambda Q, K: 1 / Q.shape[-1], ["1/d_k", "square root"]),
    ("scale_factor", lambda Q, K: math.sqrt(Q.shape[-1]), ["√d_k", "reciprocal"]),
    ("scale_factor", lambda Q, K: 1, ["no scaling"]),
    ("scale_factor", lambda Q, K: 1 / math.sqrt(Q.size), ["Q.size"]),
    ("scale_factor", lambda Q, K: 0.3, ["expected 1/√4 = 0.5"]),
    ("scale_factor", lambda Q, K: np.full(Q.shape[-2], 1 / math.sqrt(Q.shape[-1])), ["ndarray", "one number"]),
    ("scale_factor", lambda Q, K: "1/sqrt(d_k)", ["str", "one number"]),
    ("weight_gradient", lambda q, K, c: weight_gradient(q, K, c) / c, ["left out the factor c"]),
    ("weight_gradient", lambda q, K, c: c * softmax(c * (K @ q))[:, None] * K, ["weighted mean key", "w @ K"]),
    ("weight_gradient", lambda q, K, c: c * softmax(c * (K @ q))[:, None] * (K - K.mean(axis=0)),
     ["weighted by w", "K.mean"]),
    ("weight_gradient", lambda q, K, c: c * (K - softmax(c * (K @ q)) @ K), ["multiply each row by its weight"]),
    ("weight_gradient", lambda q, K, c: -weight_gradient(q, K, c), ["wrong sign"]),
    ("weight_gradient", lambda q, K, c: weight_gradient(q, K, c).T, ["shape (4, 8)", "one row per key"]),
    ("weight_gradient", lambda q, K, c: softmax(c * (K @ q)), ["shape (8,)", "shape (8, 4)"]),
    ("first_saturated_d_k", lambda: 1024, ["smaller d_k", "further left"]),
    ("first_saturated_d_k", lambda: 512, ["further left"]),
    ("first_saturated_d_k", lambda: 128, ["not more than 0.9", "to the right"]),
    ("first_saturated_d_k", lambda: 4, ["to the right"]),
    ("first_saturated_d_k", lambda: 100, ["slider offers", "not one of them"]),
    ("first_saturated_d_k", lambda: "256", ["as a number", "str"]),
    ("first_saturated_d_k", lambda: True, ["as a number", "bool"]),
    ("first_saturated_d_k", lambda: [256], ["as a number", "list"]),
    ("first_saturated_d_k", lambda: float("nan"), ["not one of them"]),
]


def test_a_loop_for_one_query_is_not_a_mistake():
    """Only attention_matrix asks for no loop; the one-query exercise may loop over the keys."""
    assert checks.attention_one_query(one_query_with_a_loop).status == "passed"
    assert not lesson02._has_python_loop(attention_matrix)
    assert lesson02._has_python_loop(matrix_for_loop)
    assert lesson02._has_python_loop(matrix_loop_over_queries)
    assert not lesson02._has_python_loop(print)  # no source: assume no loop


def test_saturation_answer_is_computed_from_the_widget_data():
    answer = lesson02._first_saturated_d_k()
    assert answer == 256
    tops = {d_k: scaling.example(d_k, scaled=False)[1].max() for d_k in scaling.EXAMPLE_D_KS}
    assert tops[answer] > 0.9
    assert all(top <= 0.9 for d_k, top in tops.items() if d_k < answer)
    assert lesson02._first_saturated_d_k(threshold=0.5) == 128


# ---------------------------------------------------------------- failures inside the learner's code


def _arguments_free(name, body):
    if name == "first_saturated_d_k":
        return lambda: body()
    return lambda *args: body(*args)


NAN_ANSWERS = [
    ("attention_one_query", lambda q, K, V: attention_one_query(q, K, V) * np.nan),
    ("attention_matrix", lambda Q, K, V: attention_matrix(Q, K, V) * np.nan),
    ("weight_gradient", lambda q, K, c: weight_gradient(q, K, c) * np.nan),
]


@pytest.mark.parametrize(("name", "answer"), NAN_ANSWERS)
def test_nan_output_is_named(name, answer):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    assert "nan" in assert_one_sentence(caught.value).lower()


WRONG_SHAPES = [
    ("attention_one_query", lambda q, K, V: attention_one_query(q, K, V)[None], "(1, 2)", "(2,)"),
    ("attention_matrix", lambda Q, K, V: attention_matrix(Q, K, V)[..., :1], "(3, 1)", "(3, 2)"),
    ("attention_matrix", lambda Q, K, V: attention_matrix(Q, K, V).swapaxes(-1, -2), "(2, 3)", "(3, 2)"),
    ("weight_gradient", lambda q, K, c: weight_gradient(q, K, c)[:-1], "(7, 4)", "(8, 4)"),
]


@pytest.mark.parametrize(("name", "answer", "got", "expected"), WRONG_SHAPES)
def test_wrong_shape_names_both_shapes(name, answer, got, expected):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    message = assert_one_sentence(caught.value)
    assert f"shape {got}" in message
    assert f"shape {expected}" in message


def test_checks_keep_their_names_and_docstrings():
    for name, check in CHECKS.items():
        assert check.__name__ == name
        assert "lesson 2" in check.__doc__.lower()
