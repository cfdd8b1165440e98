"""Checks for lesson 2, scaled dot-product attention."""

from __future__ import annotations

import ast
import inspect
import math
import textwrap

import numpy as np
import torch

from .. import lookup, scaling
from ..attention import softmax
from .core import CheckFailed, as_array, check, close, diagnose

__all__ = ["attention_matrix", "attention_one_query", "first_saturated_d_k", "scale_factor", "weight_gradient"]

SEARCHES = ["cat piano", "lasagna recipe", "physics"]


def _random(seed: int, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for shape in shapes]


def _attention(Q, K, V, c=None, axis=-1):
    """softmax(c · Q Kᵀ) V with c = 1/√d_k by default, softmax over `axis`: the answer and its variants."""
    c = 1 / math.sqrt(Q.shape[-1]) if c is None else c
    weights = softmax(c * (Q @ np.swapaxes(K, -1, -2)), dim=axis)  # (..., T_q, d_k) @ (..., d_k, T_k)
    return weights @ V, weights  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)


def _scale_mistakes(d_k: int, num_keys: int, d_v: int):
    """(wrong scale factor, what the learner did) for the usual ways of scaling by the wrong thing."""
    by_values = [] if d_v == d_k else [
        (1 / math.sqrt(d_v), (f"you divided by √d_v (d_v = {d_v}), the width of the values; the scale is √d_k, the "
                              "width of the query and the keys."))]
    return [
        (1.0, f"you did not scale the scores; divide them by √d_k (here √{d_k})."),
        (1 / d_k, f"you divided the scores by d_k = {d_k}; divide by its square root, √d_k."),
        (1 / math.sqrt(num_keys),
         (f"you divided by √{num_keys}, the square root of the number of keys; the scale comes from d_k, the width "
          "of the query and the keys (the last axis), not from how many keys there are.")),
        (1 / num_keys,
         (f"you divided by the number of keys, {num_keys}; the scale is 1/√d_k, with d_k the width of the query "
          "and the keys (the last axis).")),
        (math.sqrt(d_k), "you multiplied the scores by √d_k; divide by it."),
        *by_values,
    ]


def _reject_pair(got, name: str, case: str) -> None:
    if isinstance(got, (tuple, list)) and len(got) == 2:
        raise CheckFailed(
            f"Your {name} returned a pair on {case}; this exercise wants the output alone, weights @ V."
        )


@check(hint="score the query against every key, divide by √d_k (the query's width), turn the scores into weights "
            "with a stable softmax, and mix the values with them (the one-query equation).")
def attention_one_query(learner) -> str:
    """Lesson 2: attention_one_query(q, K, V) -> (d_v,), softmax(K q / √d_k) V for one query."""
    cases = [(f"the query {SEARCHES[0]!r} over the video catalogue",
              lookup.embed_query(SEARCHES[0]), lookup.KEYS, lookup.VALUES)]
    for seed, (n, d_k, d_v) in enumerate([(5, 16, 3), (10, 64, 4), (1, 8, 3)]):
        q, K, V = _random(seed, d_k, (n, d_k), (n, d_v))
        what = "a single key" if n == 1 else f"{n} keys"
        cases.append((f"a random query of width d_k = {d_k} with {what}", q, K, V))
    for case, q, K, V in cases:
        d_k, n = len(q), len(K)
        expected, weights = _attention(q[None], K, V)
        expected, weights = expected[0], weights[0]  # (1, d_v) -> (d_v,), (1, T_k) -> (T_k,)
        got = learner(q, K, V, case=case)
        _reject_pair(got, learner.name, case)
        if np.shape(got) == weights.shape and weights.shape != expected.shape and close(as_array(
                got, learner.name, case, weights.shape, "the weights"), weights):
            raise CheckFailed(f"On {case}, you returned the weights; return the output, weights @ V.")
        got = as_array(got, learner.name, case, expected.shape, "one output vector of width d_v")
        diagnose(got, learner.name, case, expected, [
            *[(_attention(q[None], K, V, c)[0][0], message) for c, message in _scale_mistakes(d_k, n, V.shape[-1])],
            (V[np.argmax(K @ q)], "you returned the value of the best key; attention blends all values by weight."),
            (V.mean(axis=0), "you returned the plain average of the values; weight each value by its weight."),
        ], scale=np.abs(V).max())  # the output is a weighted mean of the values
    return f"all {len(cases)} cases pass, d_k from 4 to 64."


def _has_python_loop(function) -> bool:
    """True when the function's own source loops (for, while, a comprehension); False if unknown.

    A loop over a literal tuple or list, such as `for x in (Q, K, V)`, converts a few inputs and is
    not a loop over the queries, so it does not count.
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            return True
        if isinstance(node, (ast.For, ast.comprehension)) and not isinstance(node.iter, (ast.Tuple, ast.List)):
            return True
    return False


@check(hint="as for one query, for all queries at once: one product of Q with K turned on its last two axes (so a"
            " batch axis in front still works), the 1/√d_k scale, a softmax over the keys, then V.")
def attention_matrix(learner) -> str:
    """Lesson 2: attention_matrix(Q, K, V) -> (..., T_q, d_v), all queries at once, no Python loop."""
    cases = [(f"the {len(SEARCHES)} searches {', '.join(map(repr, SEARCHES))} over the video catalogue",
              np.stack([lookup.embed_query(text) for text in SEARCHES]), lookup.KEYS, lookup.VALUES)]
    for seed, (t_q, t_k, d_k, d_v) in enumerate([(5, 7, 16, 3), (4, 6, 6, 2), (200, 300, 64, 32)], start=10):
        Q, K, V = _random(seed, (t_q, d_k), (t_k, d_k), (t_k, d_v))
        cases.append((f"{t_q} random queries and {t_k} keys of width d_k = {d_k}", Q, K, V))
    batch = _random(20, (2, 3, 8), (2, 5, 8), (2, 5, 4))
    matrices_pass = len(cases)
    cases.append(("a batch of 2, with Q (2, 3, 8), K (2, 5, 8), V (2, 5, 4)", *batch))
    for index, (case, Q, K, V) in enumerate(cases):
        d_k, t_k = Q.shape[-1], K.shape[-2]
        expected, weights = _attention(Q, K, V)
        try:
            got = learner(Q, K, V, case=case)
        except CheckFailed as error:
            if index == matrices_pass and "ValueError" in str(error):
                if _has_python_loop(learner.answer):
                    advice = ("a loop over the rows of Q meets whole matrices once Q has a batch axis, while one "
                              "matrix product, Q @ K.swapaxes(-1, -2), works for any leading axes.")
                else:
                    advice = ("if you wrote K.T: on a 3-d array it reverses every axis, (B, T_k, d_k) -> "
                              "(d_k, T_k, B); swap only the last two with K.swapaxes(-1, -2).")
                raise CheckFailed(
                    f"Your attention_matrix works on single matrices but raised ValueError on {case}; {advice}"
                ) from None
            raise
        _reject_pair(got, learner.name, case)
        if np.shape(got) == weights.shape and weights.shape != expected.shape and close(as_array(
                got, learner.name, case, weights.shape, "the weights"), weights):
            raise CheckFailed(f"On {case}, you returned the weights; return the output, weights @ V.")
        got = as_array(got, learner.name, case, expected.shape, "one output row of width d_v per query")
        wrong = [(_attention(Q, K, V, c)[0], message) for c, message in _scale_mistakes(d_k, t_k, V.shape[-1])]
        wrong.append((_attention(Q, K, V, axis=-2)[0],
                      ("your softmax normalised each column (one key over all queries); apply it over the last "
                       "axis so that each query's row of weights sums to 1.")))
        if Q.ndim == 3:
            wrong.append((_attention(Q, K, V, axis=0)[0],
                          "your softmax ran over axis 0, the batch; apply it over the last axis (axis=-1)."))
        if K.shape[-1] == K.shape[-2]:  # only a square K lets Q @ K run without a shape error
            wrong.append((softmax(Q @ K / math.sqrt(d_k)) @ V,
                          "you multiplied Q by K; the scores are Q @ K.T, every query against every key."))
        wrong.append(((Q @ K.swapaxes(-1, -2) / math.sqrt(d_k)) @ V,
                      "you skipped the softmax: turn the scores into weights with stable_softmax before @ V."))
        diagnose(got, learner.name, case, expected, wrong, scale=np.abs(V).max())  # weighted means of the values
    if _has_python_loop(learner.answer):
        raise CheckFailed(
            "Your attention_matrix gives the right numbers but uses a Python loop; compute every query at once "
            "with one matrix product, Q @ K.swapaxes(-1, -2)."
        )
    return f"all {len(cases)} cases pass, a batch included, with no loop."


@check(hint="the factor is one over the square root of d_k, the width of the queries and keys (their last axis); "
            "it does not depend on how many queries or keys there are.")
def scale_factor(learner) -> str:
    """Lesson 2: scale_factor(Q, K) -> 1/√d_k, the number the scores Q Kᵀ are multiplied by."""
    shapes = [((3, 4), (8, 4)), ((5, 64), (12, 64)), ((7, 16), (7, 16)), ((2, 10, 32), (2, 6, 32)),
              ((1, 256), (1, 256))]
    for seed, (q_shape, k_shape) in enumerate(shapes):
        Q, K = _random(seed, q_shape, k_shape)
        case = f"Q of shape {q_shape} and K of shape {k_shape}"
        got = learner(Q, K, case=case)
        if got is None:
            raise CheckFailed(f"Your scale_factor returned None on {case}; did you forget `return`?")
        if hasattr(got, "detach"):
            got = got.detach().numpy()
        if isinstance(got, bool) or np.ndim(got) != 0 or not np.issubdtype(np.asarray(got).dtype, np.number):
            raise CheckFailed(f"Your scale_factor returned a {type(got).__name__} on {case}; return one number, "
                              "such as 0.25.")
        got = float(got)
        d_k, t_q, t_k = q_shape[-1], q_shape[-2], k_shape[-2]
        expected = 1 / math.sqrt(d_k)
        if math.isclose(got, expected, rel_tol=1e-6):
            continue
        mistakes = [
            (1 / math.sqrt(t_k), (f"you used T_k = {t_k}, the number of keys (how many words there are); d_k is "
                                  "the width of each query and key, Q.shape[-1], and does not change with the "
                                  "sentence's length.")),
            (1 / math.sqrt(t_q), (f"you used T_q = {t_q}, the number of queries; d_k is the width of each query "
                                  "and key, Q.shape[-1].")),
            (1 / t_k, f"you divided by T_k = {t_k}, the number of keys; the factor is 1/√d_k with d_k = Q.shape[-1]."),
            (1 / math.sqrt(q_shape[0]), (f"you read Q.shape[0] = {q_shape[0]}, the batch size; d_k is the last "
                                         "axis, Q.shape[-1].")),
            (1 / d_k, f"you returned 1/d_k = 1/{d_k}; the factor is 1/√d_k, one over the square root."),
            (math.sqrt(d_k), ("you returned √d_k, the number the scores are divided by; the factor that "
                              "multiplies them is its reciprocal, 1/√d_k.")),
            (1.0, "you returned 1, no scaling; the scores must be multiplied by 1/√d_k."),
            (1 / math.sqrt(Q.size), f"you used Q.size = {Q.size}, every entry of Q; d_k is the last axis only."),
        ]
        for wrong, message in mistakes:
            if math.isclose(got, wrong, rel_tol=1e-6):
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"Your scale_factor gave {got:.4g} on {case}; expected 1/√{d_k} = {expected:.4g}.", specific=False)
    return f"all {len(shapes)} cases pass; it follows d_k, not T."


def _reference_gradient(q, K, c) -> np.ndarray:
    """∂w/∂q by PyTorch's autograd, the reference the check compares with."""
    K_t = torch.tensor(K, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(
        lambda q_t: torch.softmax(c * (K_t @ q_t), dim=-1), torch.tensor(q, dtype=torch.float64))
    return jacobian.numpy()  # (N, d_k)


@check(hint="follow the weight-gradient equation: row i is c times key i's weight times (key i minus the weighted"
            " mean key), with the weights the softmax of c times the scores.")
def weight_gradient(learner) -> str:
    """Lesson 2: weight_gradient(q, K, c) -> (N, d_k), the Jacobian ∂w/∂q of w = softmax(c K q)."""
    cases = [(f"the query {SEARCHES[0]!r} over the video catalogue, c = 1/2",
              lookup.embed_query(SEARCHES[0]), lookup.KEYS, 0.5)]
    for seed, (n, d_k, scaled) in enumerate([(5, 8, True), (6, 64, True), (6, 64, False)], start=30):
        q, K = _random(seed, d_k, (n, d_k))
        c = scaling.scale(d_k, scaled)
        cases.append((f"a random query with {n} keys of width {d_k}, c = {c:.4g}", q, K, c))
    for case, q, K, c in cases:
        expected = _reference_gradient(q, K, c)
        w = softmax(c * (K @ q))
        got = learner(q, K, c, case=case)
        if np.shape(got) == expected.T.shape and expected.shape != expected.T.shape:
            raise CheckFailed(f"On {case}, your result has shape {np.shape(got)}; return one row per key, "
                              f"shape {expected.shape} (N, d_k).")
        got = as_array(got, learner.name, case, expected.shape, "one row of d_k numbers per key")
        # Row i is c w_i (k_i - w @ K): a difference of keys, so its rounding follows c times the size of the keys.
        diagnose(got, learner.name, case, expected, [
            (expected / c, "you left out the factor c; the scores are c * (K @ q), so every gradient carries c."),
            (c * w[:, None] * K, "subtract the weighted mean key, w @ K, from every key before multiplying by w."),
            (c * w[:, None] * (K - K.mean(axis=0)), "the mean key must be weighted by w: use w @ K, not K.mean(axis=0)."),
            (c * (K - w @ K), "multiply each row by its weight w_i: row i is c * w_i * (k_i - w @ K)."),
            (-expected, "your gradient has the wrong sign: a key that is pulled towards the query gains weight."),
        ], scale=abs(c) * np.abs(K).max())
    return f"all {len(cases)} cases match PyTorch's autograd."


def _first_saturated_d_k(threshold: float = 0.9) -> int:
    """The smallest d_k on the widget's slider at which, unscaled, the top key takes more than `threshold`."""
    return next(d_k for d_k in scaling.EXAMPLE_D_KS if scaling.example(d_k, scaled=False)[1].max() > threshold)


@check(hint="your function should just return the d_k you read off the widget, as a whole number such as 32.")
def first_saturated_d_k(learner) -> str:
    """Lesson 2's widget exercise: the smallest d_k at which, unscaled, the top key takes more than 0.9."""
    got = learner(case="the widget exercise")
    if got is None:
        raise CheckFailed("Your first_saturated_d_k returned None; did you forget `return`?")
    options = scaling.EXAMPLE_D_KS
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise CheckFailed(f"Return d_k as a number, such as 32; you returned a {type(got).__name__}.")
    if got not in options:
        raise CheckFailed(f"The slider offers d_k = {', '.join(map(str, options))}; you returned {got}, "
                          "which is not one of them.")
    got = int(got)
    top = scaling.example(got, scaled=False)[1].max()
    answer = _first_saturated_d_k()
    if top <= 0.9:
        raise CheckFailed(f"Without scaling, at d_k = {got} the top key takes {top:.2f}, not more than 0.9; "
                          "move the slider to the right.")
    if got != answer:
        raise CheckFailed(f"At d_k = {got} the top key takes {top:.2f}, but a smaller d_k on the slider already "
                          "gives more than 0.9; look further left.")
    scaled_top = scaling.example(got, scaled=True)[1].max()
    return f"d_k = {got}: top weight {top:.2f} unscaled, {scaled_top:.2f} scaled."
