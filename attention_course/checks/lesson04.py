"""Checks for lesson 4, positional encoding."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import torch
from torch import nn

from .. import positional
from .core import CheckFailed, as_array, check

__all__ = ["dimension_wavelength", "dot_product_at_offset", "embed_with_positions", "offset_matrix",
           "sinusoidal_encoding"]

WIDGET_DIMENSION, WIDGET_D_MODEL = 10, 64  # the widget exercise: the wavelength of this dimension
WIDGET_TOLERANCE = 1.0  # positions: the step of the widget's position slider


def _match(got: np.ndarray, expected: np.ndarray, atol: float) -> bool:
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=atol)


def _name_mistake(got: np.ndarray, case: str, expected: np.ndarray, wrong_answers, atol: float) -> bool:
    """False when got is right; raises with the message of the first known mistake it matches; True otherwise."""
    if _match(got, expected, atol):
        return False
    for wrong, message in wrong_answers:
        if _match(got, np.asarray(wrong, dtype=float), atol):
            raise CheckFailed(f"On {case}, {message}")
    return True


def _number(got, name: str, case: str, what: str) -> float:
    """One float from whatever the learner returned, or a sentence saying why it is not one number."""
    if got is None:
        raise CheckFailed(f"Your {name} returned None on {case}; did you forget `return`?")
    if isinstance(got, (bool, str, bytes)):
        raise CheckFailed(f"Return a number, {what}; you returned a {type(got).__name__} on {case}.")
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    if isinstance(got, (np.ndarray, list, tuple)) and np.size(got) != 1:
        raise CheckFailed(
            f"Your {name} returned {np.shape(got)[0] if np.ndim(got) else 0} numbers on {case}; return one number, "
            f"{what}, for example with .sum()."
        )
    try:
        value = float(np.asarray(got, dtype=float).reshape(()))
    except (TypeError, ValueError):
        raise CheckFailed(f"Your {name} returned a {type(got).__name__} on {case}; return one number, {what}.") from None
    if math.isnan(value):
        raise CheckFailed(f"Your {name} returned NaN on {case}; look for 0/0 or inf - inf.")
    return value


def _angles(T: int, d: int, base: float = 10000.0, exponent=lambda i, d: 2 * i / d, start: int = 0) -> np.ndarray:
    """pos / base^exponent(i, d) for pos = start .. start+T-1 and pairs i = 0 .. d/2 - 1: (T, d/2)."""
    pos = np.arange(start, start + T, dtype=float)[:, None]  # (T, 1)
    i = np.arange(d // 2, dtype=float)[None, :]  # (1, d/2)
    return pos / base ** exponent(i, d)  # (T, 1) / (1, d/2) -> (T, d/2)


def _interleave(even: np.ndarray, odd: np.ndarray) -> np.ndarray:
    """Columns even[:, i] at 2i and odd[:, i] at 2i+1: (T, d/2) twice -> (T, d)."""
    table = np.empty((even.shape[0], 2 * even.shape[1]))
    table[:, 0::2], table[:, 1::2] = even, odd
    return table


# ---------------------------------------------------------------- exercise: give each token its position


def _embedding_cases():
    cases = []
    with torch.random.fork_rng():  # seeded without disturbing the learner's random stream
        torch.manual_seed(4)
        words = nn.Embedding(len(positional.VOCAB), 8)
        ids = torch.stack([positional.token_ids(s) for s in positional.SENTENCES])  # (2, 3)
        cases.append(("the batch ['dog bites man', 'man bites dog']", ids, words,
                      positional.sinusoidal_encoding(10, 8)))
        ids = positional.token_ids("the dog sees the cat")[None]  # (1, 5)
        cases.append(("one sentence of 5 tokens, 'the dog sees the cat' (B = 1)", ids, words,
                      positional.sinusoidal_encoding(12, 8)))
        other = nn.Embedding(20, 6)
        ids = torch.randint(0, 20, (3, 4))  # (B, T) = (3, 4)
        cases.append(("a batch of 3 random sentences of 4 tokens, d_model = 6", ids, other,
                      positional.sinusoidal_encoding(24, 6)))  # more rows than token ids, so pe[ids] runs
    return cases


def _whole_table(error: Exception, rows: int, T: int) -> str | None:
    """The sentence for adding every row of the position table to T tokens, if that is what `error` says."""
    if isinstance(error, RuntimeError) and f"({rows})" in str(error):
        return (f"you added the whole position table, {rows} rows, to {T} tokens; add only the rows of the first "
                "T positions, one per token.")
    return None


@check(hint="look up each token's embedding, then add the row of pe for its position: the first T rows, one per "
            "position, the same for every sentence (T tokens per sentence).")
def embed_with_positions(learner) -> str:
    """Lesson 4: embed_with_positions(ids, embedding, pe) -> embedding(ids) + pe[:T], shape (B, T, d_model)."""
    cases = _embedding_cases()
    for case, ids, embedding, pe in cases:
        B, T = ids.shape
        d = embedding.embedding_dim
        got = learner(ids, embedding, pe, case=case, explain=partial(_whole_table, rows=len(pe), T=T))
        shape = tuple(np.shape(got.detach() if hasattr(got, "detach") else got)) if got is not None else None
        if shape == (B, T, 2 * d):
            raise CheckFailed(
                f"On {case}, your result has shape {shape}: you concatenated. Here the encoding is added, "
                f"which keeps the width d_model = {d}."
            )
        got = as_array(got, learner.name, case, (B, T, d), "one vector per token")
        with torch.no_grad():
            tokens = embedding(ids).double().numpy()  # (B, T, d_model)
        table = pe.double().numpy()  # (max_len, d_model)
        expected = tokens + table[:T]  # (B, T, d) + (T, d) -> (B, T, d)
        wrong = [
            (tokens + table[ids.numpy()], ("you looked the encoding up by token id; the token at position t gets row "
                                           "t of pe, pe[:T], whatever the word.")),
            (tokens, "you returned the token embeddings without their positions; add pe[:T]."),
            (np.broadcast_to(table[:T], tokens.shape), ("you returned the positions alone; add them to the token "
                                                        "embeddings.")),
            (tokens + table[1:T + 1], "positions start at 0: the first token gets row 0 of pe."),
            (tokens * table[:T], "you multiplied the embeddings by the encoding; add it instead."),
            (tokens + table[T - 1::-1], "you gave the positions in reverse order; the first token gets row 0 of pe."),
        ]
        if B == 1:
            wrong.append((tokens + table[:1], ("every token got the encoding of position 0; that is pe[:B] (B = 1 "
                                               "sentence) where it should be pe[:T], one row per token.")))
        if _name_mistake(got, case, expected, wrong, atol=1e-6):
            b, t = np.unravel_index(np.abs(got - expected).max(axis=-1).argmax(), (B, T))
            raise CheckFailed(
                f"On {case}, the vector of sentence {b}, token {t} is not embedding(ids)[{b}, {t}] + pe[{t}]; "
                f"it differs by up to {np.abs(got - expected)[b, t].max():.3g}."
            , specific=False)
    return f"all {len(cases)} cases pass, one of them with B = 1."


# ---------------------------------------------------------------- exercise: the sinusoidal encoding by hand


@check(hint="columns 2i and 2i + 1 share the frequency 1/10000^(2i/d_model): the even column is the sine of "
            "position times it, the odd one the cosine, positions from 0 (the sinusoidal equation).")
def sinusoidal_encoding(learner) -> str:
    """Lesson 4: sinusoidal_encoding(num_positions, d_model) -> the paper's table (num_positions, d_model)."""
    cases = [(6, 4), (8, 8), (50, 16), (30, 64), (3, 2)]
    for T, d in cases:
        case = f"num_positions = {T}, d_model = {d}"
        got = learner(T, d, case=case)
        shape = tuple(np.shape(got.detach() if hasattr(got, "detach") else got)) if got is not None else None
        if T != d and shape == (d, T):
            raise CheckFailed(
                f"On {case}, your table has shape {shape}: the axes are transposed. One row per position, one "
                f"column per dimension: ({T}, {d})."
            )
        got = as_array(got, learner.name, case, (T, d), "one row per position, one column per dimension")
        good = _angles(T, d)
        expected = positional.sinusoidal_encoding(T, d, dtype=torch.float64).numpy()
        wrong = [
            (_interleave(np.cos(good), np.sin(good)), ("sine and cosine are swapped: the even columns (0, 2, ...) take "
                                                       "the sine, the odd columns the cosine.")),
            (_interleave(np.cos(good), np.cos(good)), "every column is a cosine; the even columns take the sine."),
            (_interleave(np.sin(good), np.sin(good)), "every column is a sine; the odd columns take the cosine."),
            (np.concatenate([np.sin(good), np.cos(good)], axis=1),
             ("you put all the sines first and all the cosines after them; the paper interleaves them: column 2i is "
              "a sine, column 2i+1 the cosine of the same angle.")),
            (_interleave(np.sin(good), np.cos(_angles(T, d, exponent=lambda i, d: (2 * i + 1) / d))),
             ("the cosine in column 2i+1 must use the same frequency as the sine in column 2i: the exponent is "
              "2i/d_model for both, where i counts pairs, not j/d_model with the column number j.")),
            (_interleave(*(f(_angles(T, d, exponent=lambda i, d: i / d)) for f in (np.sin, np.cos))),
             "your frequencies fall too slowly: the exponent is 2i/d_model, where i counts pairs of columns."),
            (_interleave(*(f(_angles(T, d, exponent=lambda i, d: 4 * i / d)) for f in (np.sin, np.cos))),
             ("your frequencies fall too fast: pair i (columns 2i and 2i+1) uses the exponent 2i/d_model, with "
              "i = j // 2 for column j.")),
            (_interleave(*(f(_angles(T, d, base=1000.0)) for f in (np.sin, np.cos))),
             "the base of the paper's formula is 10000, not 1000."),
            (_interleave(*(f(np.arange(T)[:, None] * 10000.0 ** (2 * np.arange(d // 2)[None] / d))
                           for f in (np.sin, np.cos))),
             "you multiplied pos by 10000^(2i/d_model); divide by it, so that later pairs turn more slowly."),
            (_interleave(*(f(_angles(T, d, start=1)) for f in (np.sin, np.cos))),
             "positions start at 0: row 0 is PE(0) = [0, 1, 0, 1, ...]."),
        ]
        if T == d:
            wrong.append((expected.T, "your table is transposed: row pos must be PE(pos), one column per dimension."))
        if _name_mistake(got, case, expected, wrong, atol=1e-5):
            pos, j = np.unravel_index(np.abs(got - expected).argmax(), expected.shape)
            raise CheckFailed(
                f"On {case}, PE({pos}, {j}) should be {expected[pos, j]:.4f}; yours is {got[pos, j]:.4f}."
            , specific=False)
    return f"all {len(cases)} cases pass, from d_model = 2 to 64."


# ---------------------------------------------------------------- exercise: the offset matrix M_k


def _rotation_blocks(angles: np.ndarray, transpose: bool = False) -> np.ndarray:
    """Block-diagonal (d, d) with block i = [[cos a_i, sin a_i], [-sin a_i, cos a_i]] (or its transpose)."""
    d = 2 * len(angles)
    M = np.zeros((d, d))
    for i, a in enumerate(angles):
        block = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = block.T if transpose else block
    return M


def _split_pairs(angles: np.ndarray) -> np.ndarray:
    """The rotation of pair i placed on columns i and i + d/2, as if sines came first and cosines after."""
    half = len(angles)
    M = np.zeros((2 * half, 2 * half))
    for i, a in enumerate(angles):
        M[i, i], M[i, i + half] = np.cos(a), np.sin(a)
        M[i + half, i], M[i + half, i + half] = -np.sin(a), np.cos(a)
    return M


@check(hint="M_k is block-diagonal: one 2 × 2 rotation per pair of columns, turning by k times that pair's "
            "frequency, along the diagonal of a d_model × d_model matrix (the offset-matrix equation).")
def offset_matrix(learner) -> str:
    """Lesson 4: offset_matrix(k, d_model) -> M_k (d_model, d_model) with PE(pos + k) = M_k @ PE(pos)."""
    cases = [(3, 8), (-2, 8), (5, 16), (1, 2), (7, 64), (0, 4)]
    for k, d in cases:
        case = f"k = {k}, d_model = {d}"
        got = learner(k, d, case=case)
        shape = tuple(np.shape(got.detach() if hasattr(got, "detach") else got)) if got is not None else None
        if shape == (d // 2, 2, 2):
            raise CheckFailed(
                f"On {case}, you returned the {d // 2} blocks, shape {shape}; return the whole ({d}, {d}) matrix "
                "with the blocks on its diagonal, for example torch.block_diag(*blocks)."
            )
        got = as_array(got, learner.name, case, (d, d), "the matrix M_k")
        omega = 10000.0 ** (-2 * np.arange(d // 2) / d)  # (d/2,)
        expected = positional.offset_matrix(k, d, dtype=torch.float64).numpy()
        wrong = [(np.eye(d), ("your matrix is the identity, which leaves PE(pos) where it is; block i must turn pair "
                              "i by k·ω_i."))]
        if k != 0:
            wrong += [
                (_rotation_blocks(k * omega, transpose=True),
                 (f"your M_k @ PE(pos) is PE(pos {'-' if k > 0 else '+'} {abs(k)}): the blocks turn the wrong way. "
                  "With the pair (sin, cos), the first row of block i is [cos(k·ω_i), sin(k·ω_i)] and the second "
                  "[-sin(k·ω_i), cos(k·ω_i)].")),
                (_rotation_blocks(k * 10000.0 ** (-np.arange(d // 2) / d)),
                 "your frequencies fall too slowly: ω_i = 1/10000^(2i/d_model), where i counts pairs."),
                (_split_pairs(k * omega), ("your blocks pair column i with column i + d_model/2; in this encoding "
                                           "pair i is columns 2i and 2i+1, so the blocks sit on the diagonal.")),
            ]
        if d > 2 and k != 0:
            wrong.append((_rotation_blocks(np.full(d // 2, float(k))),
                          (f"every block turns by k = {k} radians; block i must turn by k·ω_i, with its own "
                           "frequency ω_i = 1/10000^(2i/d_model).")))
        if k not in (0, 1):
            wrong.append((_rotation_blocks(omega), ("your matrix shifts by one position whatever k is: multiply "
                                                    "each angle ω_i by k.")))
        if _name_mistake(got, case, expected, wrong, atol=1e-5):
            pe = positional.encode_positions([4, 4 + k], d, dtype=torch.float64).numpy()  # (2, d)
            miss = np.abs(got @ pe[0] - pe[1]).max()  # (d, d) @ (d,) -> (d,)
            raise CheckFailed(
                f"On {case}, your M_k @ PE(4) differs from PE({4 + k}) by up to {miss:.3g}. Block i sits on "
                "columns 2i and 2i+1: [[cos(k·ω_i), sin(k·ω_i)], [-sin(k·ω_i), cos(k·ω_i)]], zero elsewhere."
            )
    return f"all {len(cases)} cases pass, including a negative offset and k = 0."


# ---------------------------------------------------------------- exercise: dot products depend on the offset only


@check(hint="each pair of columns contributes sin a sin b + cos a cos b = cos(a − b), where a − b is k times that"
            " pair's frequency; add the d_model / 2 pairs up (the dot-offset equation).")
def dot_product_at_offset(learner) -> str:
    """Lesson 4: dot_product_at_offset(k, d_model) -> PE(pos)·PE(pos + k) = sum_i cos(k·ω_i), for any pos."""
    cases = [(0, 8), (1, 8), (5, 16), (-3, 16), (40, 64), (2, 2)]
    for k, d in cases:
        case = f"k = {k}, d_model = {d}"
        got = _number(learner(k, d, case=case), learner.name, case, "the dot product")
        omega = 10000.0 ** (-2 * np.arange(d // 2) / d)  # (d/2,)
        pe = positional.encode_positions([11, 11 + k], d, dtype=torch.float64).numpy()  # (2, d)
        expected = float(pe[0] @ pe[1])  # (d,) @ (d,) -> one number, the same from any position
        if math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-5):
            continue
        wrong = [
            (float(np.sin(k * omega).sum()), ("you summed sines; each pair gives sin(a) sin(b) + cos(a) cos(b) = "
                                              "cos(a - b), so sum the cosines cos(k·ω_i).")),
            (d / 2 * math.cos(k), ("you used one frequency for every pair; pair i turns at its own ω_i = "
                                   "1/10000^(2i/d_model), so sum cos(k·ω_i) over the pairs.")),
            (float(np.cos(k * 10000.0 ** (-2 * np.arange(d) / d)).sum()),
             f"you summed {d} cosines, one per column; there is one per pair, d_model / 2 = {d // 2} of them."),
            (float(np.cos(k * 10000.0 ** (-np.arange(d // 2) / d)).sum()),
             "your frequencies fall too slowly: ω_i = 1/10000^(2i/d_model), where i counts pairs."),
            (expected / (d / 2), (f"you divided by |PE(pos)| |PE(pos + k)| = d_model / 2 = {d // 2} (a cosine "
                                  "similarity); return the dot product itself.")),
        ]
        if k != 0:
            wrong.append((d / 2, (f"you returned {d / 2:g} = |PE(pos)|², the dot product of a position with itself; "
                                  "compare PE(pos) with PE(pos + k).")))
        for value, message in wrong:
            if math.isclose(got, value, rel_tol=1e-5, abs_tol=1e-5):
                raise CheckFailed(f"On {case}, {message}")
        raise CheckFailed(f"On {case}, PE(pos)·PE(pos + {k}) is {expected:.4f}; yours is {got:.4f}.", specific=False)
    return f"all {len(cases)} cases pass; the answer never depends on pos."


# ---------------------------------------------------------------- widget exercise: read a wavelength


def _widget_wavelength() -> float:
    return float(positional.wavelengths(WIDGET_D_MODEL)[WIDGET_DIMENSION // 2])


@check(hint="your function should just return the wavelength you found, in positions, as a number.")
def dimension_wavelength(learner) -> str:
    """Lesson 4's widget exercise: the wavelength of dimension 10 when d_model = 64, in positions."""
    case = "the widget exercise"
    got = learner(case=case)
    if got is None:
        raise CheckFailed("Your dimension_wavelength returned None; did you forget `return`?")
    if isinstance(got, bool) or not isinstance(got, (int, float, np.floating, np.integer)):
        raise CheckFailed(f"Return the wavelength as a number of positions, such as 12.5; you returned a "
                          f"{type(got).__name__}.")
    if not math.isfinite(got) or got <= 0:
        raise CheckFailed(f"A wavelength is a positive number of positions; you returned {got}.")
    got = float(got)
    exact, tolerance = _widget_wavelength(), WIDGET_TOLERANCE
    if abs(got - exact) <= tolerance:
        return f"2π·10000^({WIDGET_DIMENSION}/{WIDGET_D_MODEL}) = {exact:.2f} positions; {got:g} is close enough."
    if abs(got - exact / 2) <= tolerance:
        raise CheckFailed(
            f"{got:g} positions is half a wavelength: there the sine is back at 0 but going down. Keep moving "
            "until it crosses 0 going up again."
        )
    if abs(got - exact / (2 * math.pi)) <= 0.1:
        raise CheckFailed(
            f"{got:g} is 1/ω_{WIDGET_DIMENSION // 2}, the positions per radian; one full turn is 2π radians, so the "
            f"wavelength is 2π/ω_{WIDGET_DIMENSION // 2}."
        )
    lengths = positional.wavelengths(WIDGET_D_MODEL).numpy()
    for i, length in enumerate(lengths):
        if i != WIDGET_DIMENSION // 2 and abs(got - length) <= min(tolerance, 0.5 * abs(length - exact)):
            raise CheckFailed(
                f"{got:g} is the wavelength of dimensions {2 * i} and {2 * i + 1}; set the dimension slider to "
                f"{WIDGET_DIMENSION}."
            )
    if got < exact:
        raise CheckFailed(
            f"{got:g} positions is too short: by then dimension {WIDGET_DIMENSION} has not come back to where it "
            "started at position 0 (0, rising). Move the position further."
        )
    raise CheckFailed(
        f"{got:g} positions is too long: dimension {WIDGET_DIMENSION} has come back to where it started at "
        "position 0 (0, rising) before that. Look for the first time it does."
    )
