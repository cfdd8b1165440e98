"""Checks for lesson 1, search as lookup."""

from __future__ import annotations

import numpy as np

from .. import lookup
from ..attention import softmax as reference_softmax
from .core import CheckFailed, as_array, check, close, diagnose

__all__ = ["cosine_similarity", "half_weight_temperature", "hard_lookup", "soft_lookup", "softmax"]


def _catalogue_cases(texts):
    return [(f"the query {text!r} (video catalogue)", lookup.embed_query(text), lookup.KEYS, lookup.VALUES)
            for text in texts]


def _random_case(seed: int, n: int, d_k: int, d_v: int):
    rng = np.random.default_rng(seed)
    return (f"a random case with {n} keys of width {d_k}",
            rng.normal(size=d_k), rng.normal(size=(n, d_k)), rng.normal(size=(n, d_v)))


def _neighbour_message(index: int, where: str, worst: int) -> str:
    """An index off by one from the best key's; it may also be the worst key's, and then the message says both."""
    if index == worst:
        return (f"you returned values[{index}], the worst match, which is also the value one {where} the best key's; "
                "take the argmax of the scores, not the argmin, and use its index as it is.")
    return f"you returned values[{index}], one {where} the best key's value; the index of the best score is already the index of its value."


@check(hint="score each key against the query with a dot product, find where the highest score is, and return the"
            " value stored there: the value, not the key or the position (the hard-lookup equation).")
def hard_lookup(learner) -> str:
    """Lesson 1: hard_lookup(query, keys, values) returns the value of the best-scoring key."""
    cases = _catalogue_cases(["cat piano", "lasagna recipe", "physics"]) + [
        _random_case(0, 6, 3, 2),
        # Every score negative: the best match is the least negative, not the largest |score|.
        ("a case where every score is negative", np.array([-1.0, -1.0]),
         np.array([[3.0, 3.0], [0.1, 0.2], [1.0, 0.0]]), np.array([[10.0], [20.0], [30.0]])),
    ]
    for case, query, keys, values in cases:
        scores = keys @ query
        best = int(np.argmax(scores))
        got = learner(query, keys, values, case=case)
        if isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool) and float(got) == best:
            raise CheckFailed(f"On {case}, you returned the index {best} of the best key; return its value, values[{best}].")
        if np.shape(got) == keys.shape[1:] and close(np.asarray(got, dtype=float), keys[best]):
            raise CheckFailed(f"On {case}, you returned the best key; the key only finds the match, return its value.")
        got = as_array(got, learner.name, case, values.shape[1:], "one value vector")
        # In every case the best score leads the next by 0.1 or more, so no rounding changes `best`; the answer
        # is a row of values, copied without arithmetic, so core.close's tight tolerance is right here.
        diagnose(got, learner.name, case, values[best], [
            *[(values[index], _neighbour_message(index, where, int(np.argmin(scores))))
              for index, where in [((best - 1) % len(values), "before"), ((best + 1) % len(values), "after")]],
            (values[np.argmax(np.abs(scores))],
             "you picked the largest |score|; a negative score is a poor match, so take the argmax of the scores themselves."),
            (values[np.argmin(scores)], "you returned the worst match; take the argmax of the scores, not the argmin."),
            (values.mean(axis=0), "you averaged all the values; a hard lookup returns exactly one of them."),
        ])
    return f"all {len(cases)} cases pass, including one where every score is negative."


@check(hint="a cosine is a dot product divided by two lengths, the query's and that key's own (the cosine "
            "equation); np.linalg.norm's axis argument decides what it measures.")
def cosine_similarity(learner) -> str:
    """Lesson 1: cosine_similarity(query, keys) -> (N,) cosines of the angles."""
    # The first query's norm is not 1, so dividing by the query's norm alone is not mistaken for plain dot products.
    cases = _catalogue_cases(["cooking science", "cat"])
    cases.append(("the query 'cat' made 10 times longer", 10 * lookup.embed_query("cat"), lookup.KEYS, None))
    cases.append(_random_case(1, 5, 3, 1))
    for case, query, keys, _ in cases:
        dots = keys @ query
        key_norms, query_norm = np.linalg.norm(keys, axis=-1), np.linalg.norm(query)
        expected = dots / (key_norms * query_norm)
        got = as_array(learner(query, keys, case=case), learner.name, case, (len(keys),), "one similarity per key")
        diagnose(got, learner.name, case, expected, [
            (dots, "you returned the plain dot products; divide each by the norms of the query and of the key."),
            (dots / key_norms, "you divided by the key norms but not by the query's norm."),
            (dots / query_norm, "you divided by the query's norm but not by each key's norm."),
            (dots / (key_norms * query_norm) ** 2, "you divided by the squared norms; use the norms themselves."),
            (dots / (np.linalg.norm(keys) * query_norm),
             ("you divided by the norm of the whole keys matrix (a norm with no axis), one number for all keys; "
              "each key needs its own length, the norm along its features (the last axis).")),
        ])
        if np.abs(got).max() > 1 + 1e-6:
            raise CheckFailed(f"On {case}, a cosine similarity came out as {np.abs(got).max():.3g}; it must lie in [-1, 1].")
    return f"all {len(cases)} cases pass, including a query made 10 times longer."


@np.errstate(all="ignore")  # the mistakes overflow and divide by 0 on purpose; the learner sees no warning
def _softmax_mistakes(x: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """What the usual wrong softmaxes give on x, each with the sentence that names it."""
    wrong = [(reference_softmax(x.reshape(-1)).reshape(x.shape), "you divided by the sum over the whole array; normalise each row on its own (axis=-1, keepdims=True).")]
    for unnormalised in (np.exp(x), np.exp(x - x.max(axis=-1, keepdims=True))):
        wrong.append((unnormalised, "you exponentiated but never divided: divide by each row's sum so it sums to 1."))
    if x.ndim == 2:
        column_softmax = reference_softmax(x, dim=0)
        wrong.append((column_softmax, "your columns sum to 1 but your rows do not: normalise over the last axis (axis=-1)."))
    if x.ndim == 2 and x.shape[0] == x.shape[1]:  # only a square matrix lets the missing keepdims broadcast
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        wrong.append((e / e.sum(axis=-1), "your rows do not sum to 1: without keepdims=True the row sums broadcast along the wrong axis."))
        e = np.exp(x - x.max(axis=-1))  # the row maxima without keepdims=True: row i meets row j's maximum
        wrong.append((e / e.sum(axis=-1, keepdims=True), "without keepdims=True, x.max(axis=-1) broadcasts along the wrong axis, so each row has another row's maximum subtracted."))
        wrong.append((e / e.sum(axis=-1), "without keepdims=True, the row maxima and the row sums broadcast along the wrong axis; use keepdims=True in both."))
    return wrong


@check(hint="each row on its own: subtract that row's largest entry, exponentiate, divide by that row's total; a "
            "reduction over the last axis must keep the axis to line up with its row.")
def softmax(learner) -> str:
    """Lesson 1: softmax(x) over the last axis, numerically stable, for any number of dimensions."""
    rng = np.random.default_rng(2)
    cases = [
        ("x = [1, 2, 3]", np.array([1.0, 2.0, 3.0])),
        ("x = [1000, 1001]", np.array([1000.0, 1001.0])),
        ("x = [-1000, -1001]", np.array([-1000.0, -1001.0])),
        ("x = [-inf, 0, 0]", np.array([-np.inf, 0.0, 0.0])),
        ("a 4 x 4 matrix (softmax of each row)", rng.normal(size=(4, 4)) * 3),
        ("a 3 x 5 matrix (softmax of each row)", rng.normal(size=(3, 5)) * 3),
        # Rows of very different scale: one maximum for the whole array (x - x.max()) underflows the second row.
        # It comes after the matrices, on which a missing keepdims gets its own message.
        ("x = [[1000, 1001], [-5, 5]]", np.array([[1000.0, 1001.0], [-5.0, 5.0]])),
        ("a 2 x 3 x 4 array", rng.normal(size=(2, 3, 4))),
    ]
    for case, x in cases:
        got = learner(x, case=case)
        if isinstance(got, (int, float, np.number)):
            raise CheckFailed(f"Your softmax returned a single number on {case}; it must return one weight per entry.")
        try:
            raw = np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=float) if got is not None else None
        except (TypeError, ValueError):
            raw = None  # not numbers at all; _as_array below says so
        if raw is not None and raw.shape == x.shape and not np.isfinite(raw).all():
            if x.ndim > 1 and _nan_rows(raw) == _nan_rows(_global_shift_softmax(x)):
                raise CheckFailed(
                    f"Your softmax returned nan on {case}: you subtracted one maximum for the whole array "
                    f"({x.max():g}), so in a row far below it every exp underflows to 0, and 0/0 is nan. Subtract "
                    "each row's own maximum."
                )
            raise CheckFailed(
                f"Your softmax returned nan or inf on {case}: exp overflows to inf for large inputs and "
                "underflows to 0 (then 0/0) for very negative ones. Subtract each row's maximum before exp; "
                "the result is mathematically the same."
            )
        got = as_array(got, learner.name, case, x.shape, "one weight per entry")
        expected = reference_softmax(x)
        diagnose(got, learner.name, case, expected, _softmax_mistakes(x))
        row_sums = got.sum(axis=-1)
        if not np.allclose(row_sums, 1):
            raise CheckFailed(f"On {case}, a row of your weights sums to {row_sums.flat[0]:.4g}; softmax rows must sum to 1.")
    return f"all {len(cases)} cases pass, including [1000, 1001], rows of very different scale, -inf and 3-d input."


def _nan_rows(weights: np.ndarray) -> list[bool]:
    return np.isnan(weights).any(axis=-1).reshape(-1).tolist()


def _global_shift_softmax(x: np.ndarray) -> np.ndarray:
    """The softmax that subtracts one maximum for the whole array, as a learner might write it."""
    with np.errstate(all="ignore"):
        e = np.exp(x - x.max())
        return e / e.sum(axis=-1, keepdims=True)


@check(hint="the weights are the softmax of the scores divided by the temperature, and the output mixes the "
            "values with those weights (the soft-lookup equation); return both, output first.")
def soft_lookup(learner) -> str:
    """Lesson 1: soft_lookup(query, keys, values, temperature) -> (output, weights)."""
    cases = []
    for text, temperature in [("cat piano", 1.0), ("cooking science", 0.1), ("music", 10.0)]:
        case, q, k, v = _catalogue_cases([text])[0]
        cases.append((f"{case} at temperature {temperature}", q, k, v, temperature))
    case, q, k, v = _random_case(3, 5, 3, 4)
    cases.append((case + " at temperature 0.5", q, k, v, 0.5))
    for case, query, keys, values, temperature in cases:
        got = learner(query, keys, values, temperature, case=case)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise CheckFailed(f"Your soft_lookup returned a {type(got).__name__} on {case}; return the pair (output, weights).")
        output, weights = got
        if np.shape(output) == (len(keys),) and np.shape(weights) == values.shape[1:] and len(keys) != values.shape[1]:
            raise CheckFailed(f"On {case}, your pair looks swapped: return (output, weights), output first.")
        weights = as_array(weights, learner.name, case, (len(keys),), "the weights, one per key")
        scores = keys @ query
        expected_weights = reference_softmax(scores / temperature)
        diagnose(weights, learner.name, case, expected_weights, [
            (reference_softmax(scores * temperature), "you multiplied the scores by the temperature; divide by it."),
            (reference_softmax(scores), "your weights ignore the temperature; divide the scores by it before the softmax."),
            (scores / temperature, "your weights are the raw scores; apply softmax so they are positive and sum to 1."),
            (np.full(len(keys), 1 / len(keys)), ("your weights are all equal, 1/N, whatever the scores; they must come "
                                                "from the scores, through the softmax.")),
        ])
        output = as_array(output, learner.name, case, values.shape[1:], "one blended value vector")
        diagnose(output, learner.name, case, expected_weights @ values, [
            (values.mean(axis=0), "your output is the plain average of the values; weight each value by its weight."),
            (values[np.argmax(scores)], "your output is the hard lookup; blend all values by their weights."),
        ], scale=np.abs(values).max())  # the output is a weighted mean of the values
    return f"all {len(cases)} cases pass, at temperatures from 0.1 to 10."


def _half_weight_temperature() -> float:
    """The temperature at which the top video's weight for 'cat piano' falls to one half."""
    query = lookup.embed_query("cat piano")
    low, high = 1e-3, 1e3
    for _ in range(100):  # bisection on a log scale; the top weight falls as the temperature rises
        mid = np.sqrt(low * high)
        top = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, mid)[1].max()
        low, high = (mid, high) if top > 0.5 else (low, mid)
    return float(np.sqrt(low * high))


@check(hint="your function should just return the temperature you read off the widget, as a number.")
def half_weight_temperature(learner) -> str:
    """Lesson 1's widget exercise: the temperature where the top weight for 'cat piano' is one half."""
    case = "the widget exercise"
    got = learner(case=case)
    if got is None:
        raise CheckFailed("Your half_weight_temperature returned None; did you forget `return`?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
        raise CheckFailed(f"Return the temperature as a number, such as 0.5; you returned a {type(got).__name__}.")
    if not np.isfinite(got) or got <= 0:
        raise CheckFailed(f"A temperature must be a positive number; you returned {got}.")
    query = lookup.embed_query("cat piano")
    weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, float(got))[1]
    top_title = lookup.TITLES[int(np.argmax(weights))]
    if weights.max() > 0.55:
        raise CheckFailed(
            f"At temperature {got:g} the top video, {top_title!r}, still gets weight {weights.max():.2f}; raise the temperature."
        )
    if weights.max() < 0.45:
        raise CheckFailed(
            f"At temperature {got:g} the top video gets only weight {weights.max():.2f}; lower the temperature."
        )
    return f"at {got:g} the top video gets weight {weights.max():.2f} (exactly one half at {_half_weight_temperature():.3f})."
