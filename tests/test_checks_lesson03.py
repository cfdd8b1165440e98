"""Lesson 3's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks
from attention_course import self_attention as sa
from attention_course.attention import scaled_dot_product_attention

F_ = len(sa.FEATURES)
VERB, PRONOUN, NOUN = (sa.FEATURES.index(f) for f in ("verb", "pronoun", "noun"))
FIRST, SECOND = sa.FEATURES.index("1st person"), sa.FEATURES.index("2nd person")

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def self_attention(X, W_Q, W_K, W_V):
    return scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V)


def equivariance_gap(layer, X, perm):
    with torch.no_grad():
        return (layer(X[:, perm]) - layer(X)[:, perm]).abs().max().item()


def design_projections():
    W_Q = torch.zeros(F_, F_)
    W_Q[VERB, PRONOUN] = 6.0
    return W_Q, torch.eye(F_)


def smallest_strength():
    return 5.4


def cross_attention(X_dec, X_enc, W_Q, W_K, W_V):
    return scaled_dot_product_attention(X_dec @ W_Q, X_enc @ W_K, X_enc @ W_V)


SOLUTIONS = {
    "self_attention": self_attention,
    "equivariance_gap": equivariance_gap,
    "design_projections": design_projections,
    "smallest_strength": smallest_strength,
    "cross_attention": cross_attention,
}
NO_DATA_INPUTS = {'design_projections', 'smallest_strength'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def _softmax_attention(Q, K, V):
    weights = torch.softmax(Q @ K.T / math.sqrt(K.shape[-1]), dim=-1)  # (T_q, d_k) @ (d_k, T_k) -> (T_q, T_k)
    return weights @ V, weights


def self_attention_by_hand(X, W_Q, W_K, W_V):
    return _softmax_attention(X @ W_Q, X @ W_K, X @ W_V)


def self_attention_in_numpy(X, W_Q, W_K, W_V):
    X, W_Q, W_K, W_V = (np.asarray(m) for m in (X, W_Q, W_K, W_V))
    scores = (X @ W_Q) @ (X @ W_K).T / np.sqrt(W_K.shape[1])
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return [weights @ (X @ W_V), weights]


def self_attention_with_torch(X, W_Q, W_K, W_V):
    output = torch.nn.functional.scaled_dot_product_attention(X @ W_Q, X @ W_K, X @ W_V)
    return output, torch.softmax((X @ W_Q) @ (X @ W_K).T / math.sqrt(W_Q.shape[1]), dim=-1)


def equivariance_gap_as_tensor(layer, X, perm):
    return (layer(X[:, perm]) - layer(X)[:, perm]).abs().max()  # still attached to the graph: fine


def equivariance_gap_with_index_select(layer, X, perm):
    perm = torch.as_tensor(perm)
    with torch.no_grad():
        a = layer(torch.index_select(X, 1, perm))
        b = torch.index_select(layer(X), 1, perm)
    return float(torch.max(torch.abs(a - b)))


def design_in_numpy():
    W_Q = np.zeros((F_, 2))
    W_Q[VERB, 0] = 4.0
    W_K = np.zeros((F_, 2))
    W_K[PRONOUN, 0] = 2.0
    return W_Q, W_K


def design_as_lists():
    W_Q = [[0.0] * F_ for _ in range(F_)]
    W_Q[VERB][PRONOUN] = 10.0
    return W_Q, np.eye(F_).tolist()


def design_by_person():
    W_Q = torch.zeros(F_, F_)
    W_Q[VERB, FIRST] = W_Q[VERB, SECOND] = 8.0  # subject and object found by their person instead
    return W_Q, torch.eye(F_)


def cross_attention_by_hand(X_dec, X_enc, W_Q, W_K, W_V):
    return _softmax_attention(X_dec @ W_Q, X_enc @ W_K, X_enc @ W_V)


def in_float32(answer):
    """The same answer computed in float32, as code that builds its tensors with torch.tensor(...) does."""
    return lambda *matrices: answer(*(m.float() for m in matrices))


ALTERNATIVES = [
    ("self_attention", self_attention_by_hand),
    ("self_attention", self_attention_in_numpy),
    ("self_attention", self_attention_with_torch),
    ("equivariance_gap", equivariance_gap_as_tensor),
    ("equivariance_gap", equivariance_gap_with_index_select),
    ("design_projections", design_in_numpy),
    ("design_projections", design_as_lists),
    ("design_projections", design_by_person),
    ("smallest_strength", lambda: 5.5),
    ("smallest_strength", lambda: np.float32(5.4)),
    ("smallest_strength", lambda: sa.strength_threshold(0.9)),  # the exact answer, whose float32 share rounds below 0.9
    ("smallest_strength", lambda: math.sqrt(6) * math.log(9)),
    ("smallest_strength", lambda: np.float32(math.sqrt(6) * math.log(9))),
    ("self_attention", in_float32(self_attention)),
    ("cross_attention", cross_attention_by_hand),
    ("cross_attention", in_float32(cross_attention_by_hand)),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def attention(Q, K, V, scale=None, dim=-1):
    """Attention with a chosen scale and softmax axis, to build wrong answers."""
    scores = Q @ K.T  # (T_q, d_k) @ (d_k, T_k) -> (T_q, T_k)
    scale = 1 / math.sqrt(K.shape[-1]) if scale is None else scale
    weights = torch.softmax(scores * scale, dim=dim)
    return weights @ V, weights


def _projections_design(entries, d_k=F_):
    W_Q = torch.zeros(F_, d_k)
    for (a, b), value in entries.items():
        W_Q[a, b] = value
    return lambda: (W_Q, torch.eye(F_)[:, :d_k])


WRONG = [
    # self-attention
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X @ v, scale=1.0), ["√d_k"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X @ v, scale=1 / k.shape[1]),
     ["divided the scores by d_k", "square root"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X @ v, scale=1 / math.sqrt(len(X))),
     ["√T", "number of tokens", "width of the keys"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X, X @ v), ["X itself", "K = X @ W_K"]),
    ("self_attention", lambda X, q, k, v: attention(X, X @ k, X @ v), ["X itself as the queries"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X @ k), ["key and value are not the same", "W_V"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X), ["mixed X itself", "W_V"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q.T, X @ k.T, X @ v.T), ["W_Q.T", "nn.Linear"]),
    ("self_attention", lambda X, q, k, v: attention(X @ k, X @ q, X @ v), ["K Qᵀ"]),
    ("self_attention", lambda X, q, k, v: attention(X @ q, X @ k, X @ v, dim=0), ["columns sum to 1", "last axis"]),
    ("self_attention", lambda X, q, k, v: (self_attention(X, q, k, v)[0], self_attention(X, q, k, v)[1].T),
     ["transposed"]),
    ("self_attention", lambda X, q, k, v: (X @ v, self_attention(X, q, k, v)[1]), ["V itself", "weights @ V"]),
    ("self_attention", lambda X, q, k, v: self_attention(X, q, k, v)[0], ["return the pair (output, weights)"]),
    ("self_attention", lambda X, q, k, v: self_attention(X, q, k, v)[::-1], ["swapped"]),
    # equivariance gap
    ("equivariance_gap", lambda f, X, p: (f(X[:, p]) - f(X)).abs().max().item(),
     ["layer(X) itself", "layer(X)[:, perm]"]),
    ("equivariance_gap", lambda f, X, p: (f(X[:, p]) - f(X)[:, torch.argsort(p)]).abs().max().item(),
     ["inverse permutation"]),
    ("equivariance_gap", lambda f, X, p: (f(X[:, p]) - f(X)[:, p]).abs().mean().item(), ["mean absolute difference"]),
    ("equivariance_gap", lambda f, X, p: (f(X[:, p]) - f(X)[:, p]).max().item(), ["signed", ".abs()"]),
    ("equivariance_gap", lambda f, X, p: (f(X[:, p]) - f(X)[:, p]).abs(), ["one number", "shape (2, 5, 4)"]),
    ("equivariance_gap", lambda f, X, p: (f(X[p]) - f(X)[p]).abs().max().item(), ["IndexError", "Hint"]),
    ("equivariance_gap", lambda f, X, p: 0.0, ["expected"]),
    ("equivariance_gap", lambda f, X, p: 1.0, ["gave 1", "expected 1.12"]),
    # design
    ("design_projections", lambda: (torch.eye(F_), torch.eye(F_)), ["to itself", "0.33", "Identity"]),
    ("design_projections", lambda: (torch.zeros(F_, F_), torch.zeros(F_, F_)), ["same weight, 0.25", "zero"]),
    ("design_projections", _projections_design({(PRONOUN, VERB): 6.0}), ["swapped the roles", "W_Q acts on"]),
    ("design_projections", lambda: design_projections()[::-1], ["swapped the roles"]),
    ("design_projections", _projections_design({(VERB, PRONOUN): 1.0}), ["only 0.60 together", "multiply W_Q"]),
    ("design_projections", _projections_design({(VERB, FIRST): 6.0}), ["only 0.07 to 'you'", "both"]),
    ("design_projections", _projections_design({(VERB, VERB): 6.0}), ["0.79 of its attention to itself"]),
    ("design_projections", _projections_design({(VERB, NOUN): 6.0}), ["same weight", "'verb' and 'pronoun'"]),
    ("design_projections", lambda: (torch.eye(5), torch.eye(5)), ["shape (5, 5)", "(6, d_k)"]),
    ("design_projections", lambda: (torch.eye(F_), torch.eye(F_)[:, :3]), ["(6, 6)", "(6, 3)", "same width d_k"]),
    ("design_projections", lambda: (torch.eye(F_)[:, :3].T, torch.eye(F_)[:, :3].T), ["shape (3, 6)", "one row per feature"]),
    ("design_projections", lambda: (*design_projections(), torch.eye(F_)), ["tuple of 3", "(W_Q, W_K)"]),
    ("design_projections", lambda: design_projections()[0], ["Tensor", "(W_Q, W_K)"]),
    ("design_projections", lambda: (design_projections()[0] * np.nan, torch.eye(F_)), ["nan"]),
    ("design_projections", lambda: ("W_Q", "W_K"), ["str", "matrix of numbers"]),
    # widget exercise
    ("smallest_strength", lambda: 5.0, ["raise the strength", "0.885"]),
    ("smallest_strength", lambda: 5.3, ["0.897", "raise"]),
    ("smallest_strength", lambda: 5.38, ["gives 0.8999 of", "raise"]),  # √6·ln 9 = 5.3821 rounded down
    ("smallest_strength", lambda: 6.0, ["lower it", "0.921"]),
    ("smallest_strength", lambda: 10, ["lower it"]),
    ("smallest_strength", lambda: 0, ["raise", "0.500"]),
    ("smallest_strength", lambda: -1.0, ["from 0 up"]),
    ("smallest_strength", lambda: float("nan"), ["from 0 up", "nan"]),
    ("smallest_strength", lambda: "5.4", ["as a number", "str"]),
    ("smallest_strength", lambda: True, ["as a number", "bool"]),
    # cross-attention
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, d @ k, e @ v), ["keys come from X_dec"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, d @ k, d @ v), ["keys come from X_dec"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, e @ k, d @ v), ["values come from X_dec"]),
    ("cross_attention", lambda d, e, q, k, v: attention(e @ q, d @ k, d @ v), ["swapped the sequences"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, e @ k, e @ v, scale=1.0), ["√d_k"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, e @ k, e @ k), ["mixed the keys"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, e @ k, e @ v, scale=1 / math.sqrt(v.shape[1])),
     ["√d_v (d_v = 2)", "the scale is √d_k"]),
    ("cross_attention", lambda d, e, q, k, v: attention(d @ q, e @ k, e @ v, scale=1 / math.sqrt(d.shape[1])),
     ["√d_dec (d_dec = 5)"]),
    ("cross_attention", lambda d, e, q, k, v: (cross_attention(d, e, q, k, v)[0], cross_attention(d, e, q, k, v)[1].T),
     ["transposed"]),
    ("cross_attention", lambda d, e, q, k, v: cross_attention(d, e, q, k, v)[::-1], ["swapped"]),
    ("cross_attention", lambda d, e, q, k, v: cross_attention(d, e, q, k, v)[1], ["return the pair"]),
]


def test_cross_attention_shape_messages_when_the_lengths_differ():
    """Answers right on the equal-length case but wrong when T_q ≠ T_k are caught by the shape of the weights."""
    def keys_from_decoder_when_lengths_differ(d, e, q, k, v):
        if len(d) == len(e):
            return cross_attention(d, e, q, k, v)
        return attention(d @ q, d @ k, d @ v)

    def encoder_self_attention_when_lengths_differ(d, e, q, k, v):
        if len(d) == len(e):
            return cross_attention(d, e, q, k, v)
        return attention(e @ q, e @ k, e @ v)

    def transposed_when_lengths_differ(d, e, q, k, v):
        output, weights = cross_attention(d, e, q, k, v)
        return output, (weights if len(d) == len(e) else weights.T)

    for answer, needles in [
        (keys_from_decoder_when_lengths_differ, ["shape (3, 3)", "decoder's tokens attend to each other", "(3, 5)"]),
        (encoder_self_attention_when_lengths_differ, ["shape (5, 5)", "encoder attends to itself"]),
        (transposed_when_lengths_differ, ["shape (5, 3)", "transposed", "(3, 5)"]),
    ]:
        with pytest.raises(checks.CheckFailed) as caught:
            checks.cross_attention(answer)
        message = assert_one_sentence(caught.value)
        for needle in needles:
            assert needle in message, f"{needle!r} not in {message!r}"


def test_a_nonzero_gap_on_an_equivariant_layer_is_explained():
    def right_only_on_the_convolution(layer, X, perm):
        gap = equivariance_gap(layer, X, perm)
        return gap if gap > 1e-9 else 0.5  # a made-up slip, to reach the message for equivariant layers

    with pytest.raises(checks.CheckFailed) as caught:
        checks.equivariance_gap(right_only_on_the_convolution)
    message = assert_one_sentence(caught.value)
    assert "self-attention layer" in message
    assert "permutation-equivariant, so the gap is 0" in message


def test_design_failure_reports_the_actual_weights():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.design_projections(lambda: (torch.eye(F_), torch.eye(F_)))
    message = str(caught.value)
    for token in ("'Hello' 0.22", "'I' 0.22", "'love' 0.33", "'you' 0.22"):
        assert token in message


def test_self_attention_wrong_shape_names_both_shapes():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.self_attention(lambda X, q, k, v: (self_attention(X, q, k, v)[0][None], self_attention(X, q, k, v)[1]))
    message = assert_one_sentence(caught.value)
    assert "shape (1, 3, 4)" in message and "shape (3, 4)" in message


# ---------------------------------------------------------------- failures inside the learner's code


def _with_arguments(name, body):
    if name in ("design_projections", "smallest_strength"):
        return lambda: body()
    return lambda *args: body(*args)


NAN_ANSWERS = [
    ("self_attention", lambda X, q, k, v: (self_attention(X, q, k, v)[0], self_attention(X, q, k, v)[1] * np.nan)),
    ("self_attention", lambda X, q, k, v: (self_attention(X, q, k, v)[0] * np.nan, self_attention(X, q, k, v)[1])),
    ("cross_attention", lambda d, e, q, k, v: (cross_attention(d, e, q, k, v)[0], cross_attention(d, e, q, k, v)[1] * np.nan)),
    ("equivariance_gap", lambda f, X, p: float("nan")),
]


@pytest.mark.parametrize(("name", "answer"), NAN_ANSWERS)
def test_nan_is_named(name, answer):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    message = assert_one_sentence(caught.value)
    assert "nan" in message.lower()


def test_checks_keep_their_names_and_docstrings():
    for name, check in CHECKS.items():
        assert check.__name__ == name
        assert "lesson 3" in check.__doc__.lower()
