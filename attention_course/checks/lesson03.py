"""Checks for lesson 3, self-attention."""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import self_attention as sa
from ..attention import softmax
from .core import CheckFailed, as_array, check, diagnose

__all__ = ["cross_attention", "design_projections", "equivariance_gap", "self_attention", "smallest_strength"]

TOKENS = sa.tokenize(sa.SENTENCE)  # ['Hello', 'I', 'love', 'you']
LOVE, SUBJECT, OBJECT = TOKENS.index("love"), TOKENS.index("I"), TOKENS.index("you")


def _randn(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def _pair(got, name: str, case: str, shapes: tuple[tuple[int, ...], tuple[int, ...]]):
    """The learner's (output, weights), or a sentence about what came back instead."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        what = type(got).__name__ if not isinstance(got, (tuple, list)) else f"{type(got).__name__} of {len(got)}"
        raise CheckFailed(f"Your {name} returned a {what} on {case}; return the pair (output, weights).")
    output, weights = got
    (out_shape, weights_shape) = shapes
    if out_shape != weights_shape and np.shape(output) == weights_shape and np.shape(weights) == out_shape:
        raise CheckFailed(f"On {case}, your pair looks swapped: return (output, weights), output first.")
    return output, weights


def _number(got, name: str, case: str) -> float:
    """One float from whatever the learner returned, or a sentence saying why it is not one number."""
    if got is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if isinstance(got, bool):
        raise CheckFailed(f"Return a number, such as 0.5; you returned a bool on {case}.")
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    if isinstance(got, np.ndarray) and got.size != 1:
        raise CheckFailed(
            f"Your {name} returned an array of shape {got.shape} on {case}; return one number, the largest "
            "absolute difference, for example with .abs().max().item()."
        )
    try:
        return float(np.asarray(got, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"Your {name} returned a {type(got).__name__} on {case}; return one number.") from None


# ---------------------------------------------------------------- exercise: self-attention from projections


def _self_attention_cases():
    generator = torch.Generator().manual_seed(3)
    cases = []
    # The first case is square, so mistakes such as using X as the keys run and can be named; in the next two
    # T, d_in, d_k and d_v all differ, so a scale by the wrong width cannot pass by luck.
    for T, d_in, d_k, d_v in [(3, 4, 4, 4), (5, 6, 4, 3), (7, 3, 2, 5)]:
        X = _randn(generator, T, d_in)
        W_Q, W_K, W_V = _randn(generator, d_in, d_k), _randn(generator, d_in, d_k), _randn(generator, d_in, d_v)
        widths = f"d_in = d_k = d_v = {d_in}" if d_in == d_k == d_v else f"d_in = {d_in}, d_k = {d_k}, d_v = {d_v}"
        cases.append((f"a random case with T = {T} tokens, {widths}", X, W_Q, W_K, W_V))
    designed = [m.double() for m in sa.designed_projections()]
    cases.append((f"the sentence {sa.SENTENCE!r} with the hand-designed weights", sa.features(sa.SENTENCE).double(),
                   *designed))
    return cases


@check(hint="all three roles come from X, each through its own projection matrix (the projections equation); then"
            " scaled dot-product attention, which returns (output, weights).")
def self_attention(learner) -> str:
    """Lesson 3: self_attention(X, W_Q, W_K, W_V) -> (output (T, d_v), weights (T, T))."""
    cases = _self_attention_cases()
    for case, X, W_Q, W_K, W_V in cases:
        T, d_in = X.shape
        d_k, d_v = W_Q.shape[1], W_V.shape[1]
        Q, K, V = X @ W_Q, X @ W_K, X @ W_V  # (T, d_k), (T, d_k), (T, d_v)
        scores = (Q @ K.T).numpy()  # (T, d_k) @ (d_k, T) -> (T, T)
        expected = softmax(scores / math.sqrt(d_k))
        output, weights = _pair(learner(X, W_Q, W_K, W_V, case=case), learner.name, case, ((T, d_v), (T, T)))
        weights = as_array(weights, learner.name, case, (T, T), "the weights, one row per token and one column per token")
        wrong = [
            (softmax(scores), f"you did not divide the scores by √d_k (here √{d_k}) before the softmax."),
            (softmax(scores / d_k), "you divided the scores by d_k; divide by its square root, √d_k."),
            (softmax(scores / math.sqrt(T)),
             (f"you divided by √T, with T = {T} the number of tokens; the scale is √d_k, with d_k = {d_k} the width "
              "of the keys.")),
            (softmax(scores / math.sqrt(d_in)), f"you divided by √d_in (d_in = {d_in}); the scale is √d_k, d_k = {d_k}."),
            (softmax(scores / math.sqrt(d_v)), f"you divided by √d_v (d_v = {d_v}); the scale is √d_k, d_k = {d_k}."),
            (softmax(scores.T / math.sqrt(d_k)),
             "you computed K Qᵀ instead of Q Kᵀ: row i must compare token i's query with every token's key."),
            (expected.T, "your weights are transposed: row i must hold token i's weights, and each row sum to 1."),
            (softmax(scores / math.sqrt(d_k), dim=0),
             "your columns sum to 1 but your rows do not: take the softmax over the keys, the last axis."),
        ]
        if d_in == d_k:
            wrong += [
                (softmax((Q @ X.T).numpy() / math.sqrt(d_k)),
                 "you compared the queries with X itself; the keys are a projection of their own, K = X @ W_K."),
                (softmax((X @ K.T).numpy() / math.sqrt(d_k)),
                 "you used X itself as the queries; the queries are a projection of their own, Q = X @ W_Q."),
                (softmax((X @ X.T).numpy() / math.sqrt(d_k)),
                 "you compared X with itself; queries and keys are X @ W_Q and X @ W_K."),
                (softmax(((X @ W_Q.T) @ (X @ W_K.T).T).numpy() / math.sqrt(d_k)),
                 "you multiplied by W_Q.T and W_K.T, as nn.Linear stores them; in the equations Q = X @ W_Q."),
            ]
        diagnose(weights, learner.name, case, expected, wrong)
        output = as_array(output, learner.name, case, (T, d_v), "one mixed value per token")
        wrong = [
            (V.numpy(), "your output is V itself; each token's output mixes all the values, weights @ V."),
            (expected.T @ V.numpy(), "you mixed the values with the transposed weights; use weights @ V."),
        ]
        if d_k == d_v:
            wrong.append((expected @ K.numpy(),
                          ("you mixed the keys, not the values: key and value are not the same thing. "
                           "The values are their own projection, V = X @ W_V.")))
            wrong.append((expected @ Q.numpy(), "you mixed the queries; mix the values, V = X @ W_V."))
        if d_in == d_v:
            wrong.append((expected @ X.numpy(), "you mixed X itself; mix the values, V = X @ W_V."))
        diagnose(output, learner.name, case, expected @ V.numpy(), wrong, scale=V.abs().max().item())
    return f"all {len(cases)} cases pass, including {sa.SENTENCE!r}."


# ---------------------------------------------------------------- exercise: measure permutation equivariance


def _equivariance_cases():
    generator = torch.Generator().manual_seed(4)
    X = _randn(generator, 2, 5, 4)  # (B, T, d)
    layers = {name: layer.double() for name, layer in sa.comparison_layers(4, seed=4).items()}
    # The convolution first: on an equivariant layer, comparing with the unpermuted outputs and comparing with the
    # inversely permuted ones can give the same number, so only the convolution tells those two mistakes apart.
    # A 3-cycle first too: a reversal is its own inverse, so it cannot tell perm from its inverse.
    perms = [torch.tensor([1, 2, 0, 3, 4]), torch.tensor([4, 3, 2, 1, 0])]
    return [(f"the {name} layer with perm = {perm.tolist()}", name, layers[name], X, perm)
            for name in ("convolution", "self-attention", "linear") for perm in perms]


@check(hint="permuting the tokens then applying the layer should give the layer's output permuted along the token"
            " axis (the equivariance equation); the gap is the largest absolute difference, a float.")
def equivariance_gap(learner) -> str:
    """Lesson 3: equivariance_gap(layer, X, perm) -> the largest |layer(X[:, perm]) - layer(X)[:, perm]|."""
    cases = _equivariance_cases()
    for case, name, layer, X, perm in cases:
        got = _number(learner(layer, X, perm, case=case), learner.name, case)
        if not math.isfinite(got):
            raise CheckFailed(f"Your {learner.name} returned {got} on {case}; expected a finite number.")
        expected = sa.equivariance_gap(layer, X, perm)
        with torch.no_grad():
            first, after = layer(X[:, perm]), layer(X)
            differences = {
                "unpermuted": (first - after).abs().max().item(),
                "inverse": (first - after[:, torch.argsort(perm)]).abs().max().item(),
                "mean": (first - after[:, perm]).abs().mean().item(),
                "signed": (first - after[:, perm]).max().item(),
            }
        equivariant = expected < 1e-9
        if equivariant and abs(got) < 1e-6:
            continue
        if not equivariant and math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9):
            continue
        messages = {
            "unpermuted": "you compared layer(X[:, perm]) with layer(X) itself; equivariance says the outputs move "
                          "with the tokens, so compare with layer(X)[:, perm].",
            "inverse": "you un-permuted the outputs with the inverse permutation; apply the same perm to the "
                       "outputs, layer(X)[:, perm].",
            "mean": "you returned the mean absolute difference; return the largest one, .abs().max().",
            "signed": "you returned the largest signed difference; take the absolute value first, .abs().max().",
        }
        for key, value in differences.items():
            if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-12) and not math.isclose(value, expected):
                raise CheckFailed(f"On {case}, {messages[key]}")
        if equivariant:
            raise CheckFailed(
                f"On {case}, you returned {got:.4g}, but this layer is permutation-equivariant, so the gap is 0 "
                "up to rounding: compare layer(X[:, perm]) with layer(X)[:, perm]."
            )
        raise CheckFailed(f"Your {learner.name} gave {got:.6g} on {case}; expected {expected:.6g}.", specific=False)
    return f"all {len(cases)} cases pass; only the convolution has a gap."


# ---------------------------------------------------------------- exercise: design W_Q and W_K by hand


def _matrix(value, label: str) -> np.ndarray:
    if value is None:
        raise CheckFailed(f"Your {label} is None; return two matrices, (W_Q, W_K).")
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        matrix = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(f"Your {label} is a {type(value).__name__}; it must be a matrix of numbers.") from None
    F = len(sa.FEATURES)
    if matrix.ndim != 2 or matrix.shape[0] != F:
        raise CheckFailed(
            f"Your {label} has shape {matrix.shape}; it needs one row per feature, shape ({F}, d_k), "
            f"because Q = X @ W_Q with X of shape (T, {F})."
        )
    if not np.isfinite(matrix).all():
        raise CheckFailed(f"Your {label} contains nan or inf; use finite numbers.")
    return matrix


def _love_row(weights: np.ndarray) -> str:
    return ", ".join(f"{token!r} {w:.2f}" for token, w in zip(TOKENS, weights[LOVE]))


@check(hint="return two matrices of shape (6, d_k): W_Q's 'verb' row and W_K's 'pronoun' row should point the same way.")
def design_projections(learner) -> str:
    """Lesson 3: design_projections() -> (W_Q, W_K) that make 'love' attend to 'I' and 'you'."""
    case = f"the sentence {sa.SENTENCE!r}"
    got = learner(case=case)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        what = type(got).__name__ if not isinstance(got, (tuple, list)) else f"{type(got).__name__} of {len(got)}"
        raise CheckFailed(f"Your design_projections returned a {what}; return the pair (W_Q, W_K).")
    W_Q, W_K = _matrix(got[0], "W_Q"), _matrix(got[1], "W_K")
    if W_Q.shape[1] != W_K.shape[1]:
        raise CheckFailed(
            f"Your W_Q is {W_Q.shape} but your W_K is {W_K.shape}: queries and keys must have the same width d_k "
            "to be compared by a dot product."
        )
    X = sa.features(sa.SENTENCE).double().numpy()  # (T, F)
    scores = (X @ W_Q) @ (X @ W_K).T  # (T, d_k) @ (d_k, T) -> (T, T)
    weights = softmax(scores / math.sqrt(W_Q.shape[1]))
    row = weights[LOVE]
    pair = row[SUBJECT] + row[OBJECT]
    if pair > 0.8 and min(row[SUBJECT], row[OBJECT]) >= 0.3:
        return f"'love' gives {row[SUBJECT]:.2f} to 'I' and {row[OBJECT]:.2f} to 'you'."
    if np.ptp(row) < 1e-6 and weights[SUBJECT, LOVE] > 0.5 and weights[OBJECT, LOVE] > 0.5:
        raise CheckFailed(
            f"'I' and 'you' attend to 'love', but 'love' spreads its attention evenly ({row[LOVE]:.2f} each): you "
            "swapped the roles. W_Q acts on the token that asks (the verb), W_K on the tokens it looks for (pronouns)."
        )
    if np.ptp(weights) < 1e-6:
        raise CheckFailed(
            f"Every token gives every token the same weight, {row[0]:.2f}: all your scores are equal. Are W_Q or W_K "
            "zero, or do they ignore the features 'verb' and 'pronoun'?"
        )
    if int(np.argmax(row)) == LOVE:
        raise CheckFailed(
            f"'love' gives {row[LOVE]:.2f} of its attention to itself ({_love_row(weights)}); it should attend "
            "mostly to 'I' and 'you'. Identity-like matrices make every token look for its own features."
        )
    if min(row[SUBJECT], row[OBJECT]) < 0.3 and max(row[SUBJECT], row[OBJECT]) > 0.3:
        missing = "I" if row[SUBJECT] < row[OBJECT] else "you"
        raise CheckFailed(
            f"'love' gives only {min(row[SUBJECT], row[OBJECT]):.2f} to {missing!r} ({_love_row(weights)}); "
            "it should attend to both its subject 'I' and its object 'you', at least 0.3 each."
        )
    if set(np.argsort(row)[-2:]) == {SUBJECT, OBJECT}:
        raise CheckFailed(
            f"'love' gives 'I' and 'you' the most weight, but only {pair:.2f} together ({_love_row(weights)}); "
            "it needs more than 0.8. Make the scores larger: multiply W_Q (or W_K) by a bigger number."
        )
    raise CheckFailed(
        f"'love' gives {_love_row(weights)}; it should give more than 0.8 to 'I' and 'you' together."
    )


# ---------------------------------------------------------------- widget exercise: the strength for 0.9


def _below(value: float, bound: float) -> str:
    """value, with enough decimals (3 to 7) to show that it is less than bound: 0.8999 rather than 0.900."""
    for decimals in range(3, 8):
        text = f"{value:.{decimals}f}"
        if float(text) < bound:
            return text
    return f"{value:.7f}"


def _love_share(strength: float) -> float:
    weights = sa.attention_over_sentence("hand-designed", strength)
    return float(weights[LOVE, SUBJECT] + weights[LOVE, OBJECT])


@check(hint="your function should just return the strength you read off the widget, as a number.")
def smallest_strength(learner) -> str:
    """Lesson 3's widget exercise: the smallest strength at which 'love' gives 0.9 to 'I' and 'you'."""
    case = "the widget exercise"
    got = learner(case=case)
    if got is None:
        raise CheckFailed("Your smallest_strength returned None; did you forget `return`?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
        raise CheckFailed(f"Return the strength as a number, such as 2.5; you returned a {type(got).__name__}.")
    if not math.isfinite(got) or got < 0:
        raise CheckFailed(f"The strength is a number from 0 up, as on the slider; you returned {got}.")
    share = _love_share(float(got))
    threshold = sa.strength_threshold(0.9)
    # The share is computed in float32: at the exact answer, √6·ln 9, it comes out 0.9 give or take a few ulps
    # (6e-8 each), so "less than 0.9" means less by more than rounding: 1e-6 is ~16 ulps, and the strength to
    # one decimal below the answer, 5.3, gives 0.897.
    if share < 0.9 - 1e-6:
        raise CheckFailed(
            f"At strength {got:g}, 'love' gives {_below(share, 0.9)} of its attention to 'I' and 'you'; that is less "
            "than 0.9, so raise the strength."
        )
    if got > threshold + 0.25:
        raise CheckFailed(
            f"At strength {got:g}, 'love' gives {share:.3f} to 'I' and 'you', but a smaller strength already gives "
            "0.9; lower it until the share is just above 0.9."
        )
    return f"at {got:g}, 'I' and 'you' get {share:.3f} (0.9 at √6·ln 9 = {threshold:.2f})."


# ---------------------------------------------------------------- exercise: cross-attention


def _cross_attention_cases():
    generator = torch.Generator().manual_seed(5)
    cases = []
    # Equal lengths and widths first: keys or values from the wrong sequence still run, and the numbers name the
    # mistake. Then T_q ≠ T_k, where the shape of the weights gives it away; then widths that all differ.
    for T_q, T_k, d_dec, d_enc, d_k, d_v in [(4, 4, 3, 3, 3, 3), (3, 5, 4, 4, 4, 4), (2, 6, 5, 3, 4, 2)]:
        X_dec, X_enc = _randn(generator, T_q, d_dec), _randn(generator, T_k, d_enc)
        W_Q, W_K, W_V = _randn(generator, d_dec, d_k), _randn(generator, d_enc, d_k), _randn(generator, d_enc, d_v)
        cases.append((f"a random case with T_q = {T_q} decoder tokens and T_k = {T_k} encoder tokens",
                      X_dec, X_enc, W_Q, W_K, W_V))
    matching = [m.double() for m in sa.matching_projections()]
    cases.append((f"the French {sa.FRENCH!r} attending to the English {sa.SENTENCE!r}",
                  sa.features(sa.FRENCH).double(), sa.features(sa.SENTENCE).double(), *matching))
    return cases


@check(hint="queries from the decoder's tokens, keys and values from the encoder's, each through its own "
            "projection (the cross-attention equation); then scaled dot-product attention, (output, weights).")
def cross_attention(learner) -> str:
    """Lesson 3: cross_attention(X_dec, X_enc, W_Q, W_K, W_V) -> (output (T_q, d_v), weights (T_q, T_k))."""
    cases = _cross_attention_cases()
    for case, X_dec, X_enc, W_Q, W_K, W_V in cases:
        T_q, T_k, d_k, d_v = len(X_dec), len(X_enc), W_Q.shape[1], W_V.shape[1]
        output, weights = _pair(learner(X_dec, X_enc, W_Q, W_K, W_V, case=case), learner.name, case,
                                ((T_q, d_v), (T_q, T_k)))
        shape = tuple(np.shape(weights))
        if T_q != T_k and shape == (T_q, T_q):
            raise CheckFailed(
                f"On {case}, your weights have shape {shape}: the decoder's tokens attend to each other. The keys "
                f"must come from X_enc, so the weights are (T_q, T_k) = ({T_q}, {T_k})."
            )
        if T_q != T_k and shape == (T_k, T_k):
            raise CheckFailed(
                f"On {case}, your weights have shape {shape}: the encoder attends to itself. The queries come from "
                f"X_dec and the keys from X_enc, so the weights are (T_q, T_k) = ({T_q}, {T_k})."
            )
        if T_q != T_k and shape == (T_k, T_q):
            raise CheckFailed(
                f"On {case}, your weights have shape {shape}, one row per encoder token: they are transposed, or the "
                f"queries came from X_enc. One row per decoder token (query), one column per encoder token: ({T_q}, {T_k})."
            )
        weights = as_array(weights, learner.name, case, (T_q, T_k), "one row per decoder token, one column per encoder token")
        Q, K, V = X_dec @ W_Q, X_enc @ W_K, X_enc @ W_V  # (T_q, d_k), (T_k, d_k), (T_k, d_v)
        scores = (Q @ K.T).numpy()  # (T_q, d_k) @ (d_k, T_k) -> (T_q, T_k)
        expected = softmax(scores / math.sqrt(d_k))
        wrong = [
            (softmax(scores), f"you did not divide the scores by √d_k (here √{d_k})."),
            (softmax(scores / math.sqrt(T_k)), f"you divided by √T_k (T_k = {T_k} tokens); the scale is √d_k, d_k = {d_k}."),
        ]
        for width, name in ((d_v, "d_v"), (X_dec.shape[1], "d_dec"), (X_enc.shape[1], "d_enc")):
            if width != d_k:  # the width of the values or of an input: the scale is the keys' width
                wrong.append((softmax(scores / math.sqrt(width)),
                              f"you divided by √{name} ({name} = {width}); the scale is √d_k, d_k = {d_k}."))
        if T_q == T_k:
            wrong.append((expected.T, "your weights are transposed: row i belongs to decoder token i and sums to 1."))
        if X_dec.shape == X_enc.shape:
            wrong += [
                (softmax((Q @ (X_dec @ W_K).T).numpy() / math.sqrt(d_k)),
                 "your keys come from X_dec; in cross-attention the keys (and values) come from X_enc."),
                (softmax(((X_enc @ W_Q) @ (X_dec @ W_K).T).numpy() / math.sqrt(d_k)),
                 "you swapped the sequences: the queries come from X_dec, the keys and values from X_enc."),
            ]
        diagnose(weights, learner.name, case, expected, wrong)
        output = as_array(output, learner.name, case, (T_q, d_v), "one mixed value per decoder token")
        wrong = []
        if X_dec.shape == X_enc.shape:
            wrong.append((expected @ (X_dec @ W_V).numpy(),
                          "your values come from X_dec; keys and values both come from X_enc, the encoder."))
        if d_k == d_v:
            wrong.append((expected @ K.numpy(), "you mixed the keys; mix the values, V = X_enc @ W_V."))
        diagnose(output, learner.name, case, expected @ V.numpy(), wrong, scale=V.abs().max().item())
    return f"all {len(cases)} cases pass, including T_q ≠ T_k and {sa.FRENCH!r}."
