"""Why attention divides its scores by √d_k, measured. Introduced in lesson 2.

Queries and keys with independent entries of mean 0 and variance 1 have dot products of variance d_k.
Fed to a softmax unscaled, such scores make one key take almost all the weight (the softmax
*saturates*) and the gradient that reaches the query vanishes. Dividing by √d_k brings the variance
back to 1 for every d_k. `measure` puts numbers on each step; `example` is the one seeded query and
its keys that lesson 2's widget shows.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from .attention import softmax
from .lookup import entropy_bits  # lesson 1's, for rows of weights too

D_KS = (4, 16, 64, 256, 1024)  # the widths lesson 2 measures
EXAMPLE_D_KS = (4, 8, 16, 32, 64, 128, 256, 512, 1024)  # the widths the widget offers
EXAMPLE_NUM_KEYS = 16
EXAMPLE_SEED = 1


def scale(d_k: int, scaled: bool = True) -> float:
    """The factor the scores are multiplied by: 1/√d_k, or 1 when `scaled` is False. Lesson 2."""
    return 1 / math.sqrt(d_k) if scaled else 1.0


def weight_gradient(q: np.ndarray, keys: np.ndarray, c: float) -> np.ndarray:
    """∂w/∂q for w = softmax(c · keys @ q): row i is c · w_i · (k_i − Σ_j w_j k_j). Lesson 2.

    q: (..., d_k), keys: (..., N, d_k) -> (..., N, d_k): the Jacobian of the N weights with respect to
    the d_k entries of the query. It is small when one weight is near 1 and the others near 0.
    """
    w = softmax(c * (keys @ q[..., None])[..., 0])  # (..., N, d_k) @ (..., d_k, 1) -> (..., N)
    mean_key = (w[..., None, :] @ keys)[..., 0, :]  # (..., 1, N) @ (..., N, d_k) -> (..., d_k)
    return c * w[..., None] * (keys - mean_key[..., None, :])  # (..., N, 1) * (..., N, d_k)


def measure(d_ks=D_KS, num_keys: int = 16, num_draws: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """Measure, for each d_k, what scaling by 1/√d_k changes. Lesson 2.

    For each d_k: `num_draws` random queries, each with `num_keys` random keys, all entries drawn from
    N(0, 1) with `np.random.default_rng(seed)`. Returns arrays, one entry per d_k, under the keys
    - "d_k";
    - "variance_unscaled", "variance_scaled": the variance of the scores q·k and q·k/√d_k;
    - "entropy_unscaled", "entropy_scaled": the mean entropy of the softmax weights, in bits
      (at most log2(num_keys));
    - "top_weight_unscaled", "top_weight_scaled": the mean weight of the best key;
    - "gradient_unscaled", "gradient_scaled": the median over the draws of the Frobenius norm of ∂w/∂q,
      the gradient that reaches the query through the softmax. The median is the typical query; a rare
      draw whose two best keys nearly tie keeps a sizeable gradient even when the softmax saturates.
    """
    rng = np.random.default_rng(seed)
    table: dict[str, list[float]] = {"d_k": []}
    for d_k in d_ks:
        q = rng.standard_normal((num_draws, d_k))  # (S, d_k), S draws
        keys = rng.standard_normal((num_draws, num_keys, d_k))  # (S, N, d_k)
        dots = (keys @ q[..., None])[..., 0]  # (S, N, d_k) @ (S, d_k, 1) -> (S, N)
        table["d_k"].append(d_k)
        for name, scaled in (("unscaled", False), ("scaled", True)):
            c = scale(d_k, scaled)
            weights = softmax(c * dots)  # (S, N)
            gradient = weight_gradient(q, keys, c)  # (S, N, d_k)
            table.setdefault(f"variance_{name}", []).append(float((c * dots).var()))
            table.setdefault(f"entropy_{name}", []).append(float(entropy_bits(weights).mean()))
            table.setdefault(f"top_weight_{name}", []).append(float(weights.max(axis=-1).mean()))
            table.setdefault(f"gradient_{name}", []).append(float(np.median(np.linalg.norm(gradient, axis=(-2, -1)))))
    return {name: np.array(values) for name, values in table.items()}


def format_table(table: dict[str, np.ndarray]) -> str:
    """`measure`'s result as a text table, unscaled and scaled side by side (under 80 characters wide)."""
    groups = [("variance", "variance", ".1f", ".2f"), ("entropy (bits)", "entropy", ".2f", ".2f"),
              ("top weight", "top_weight", ".2f", ".2f"), ("gradient norm", "gradient", ".2g", ".2f")]
    lines = [f"{'':>5}" + "".join(f"{title:>18}" for title, *_ in groups),
             f"{'d_k':>5}" + f"{'unscaled':>10}{'scaled':>8}" * len(groups)]
    for i, d_k in enumerate(table["d_k"]):
        cells = "".join(f"{table[key + '_unscaled'][i]:>10{unscaled}}{table[key + '_scaled'][i]:>8{scaled}}"
                        for _, key, unscaled, scaled in groups)
        lines.append(f"{d_k:>5}{cells}")
    return "\n".join(lines)


def example_query_keys(d_k: int, seed: int = EXAMPLE_SEED, num_keys: int = EXAMPLE_NUM_KEYS):
    """One seeded query (d_k,) and its keys (num_keys, d_k): the vectors lesson 2's widget shows.

    They are the first d_k entries of vectors of width 1024, so a wider d_k adds entries to the same
    vectors rather than drawing new ones.
    """
    largest = max(EXAMPLE_D_KS)
    if not 1 <= d_k <= largest:
        raise ValueError(f"d_k must be between 1 and {largest}; got {d_k}")
    rng = np.random.default_rng(seed)
    q = rng.standard_normal(largest)  # (1024,)
    keys = rng.standard_normal((num_keys, largest))  # (N, 1024)
    return q[:d_k], keys[:, :d_k]


def example(d_k: int, scaled: bool, seed: int = EXAMPLE_SEED, num_keys: int = EXAMPLE_NUM_KEYS):
    """Scores (N,) and softmax weights (N,) of `example_query_keys(d_k)`, scaled by 1/√d_k or not. Lesson 2."""
    q, keys = example_query_keys(d_k, seed, num_keys)
    scores = scale(d_k, scaled) * (keys @ q)  # (N, d_k) @ (d_k,) -> (N,)
    return scores, softmax(scores)


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class ScalingState:
    """Everything the scaling widget shows, for one d_k with or without the 1/√d_k scale."""

    d_k: int
    scaled: bool
    scores: np.ndarray  # (N,) the scores fed to the softmax
    weights: np.ndarray  # (N,), all zeros when there is nothing to show
    entropy: float  # bits
    message: str  # one plain HTML sentence: what the weights do, or what is wrong with the input


def scaling_state(d_k: int, scaled: bool) -> ScalingState:
    """One seeded query against 16 seeded keys of width d_k, scaled or not, with a sentence about it."""
    n = EXAMPLE_NUM_KEYS
    largest = max(EXAMPLE_D_KS)
    if isinstance(d_k, bool) or not isinstance(d_k, (int, np.integer)) or not 1 <= d_k <= largest:
        zeros = np.zeros(n)
        return ScalingState(0, bool(scaled), zeros, zeros, 0.0,
                            f"d_k must be a whole number from 1 to {largest}; got {html.escape(repr(d_k))}.")
    d_k, scaled = int(d_k), bool(scaled)
    scores, weights = example(d_k, scaled)
    entropy = float(entropy_bits(weights))
    best = int(np.argmax(weights))
    how = "scaled by 1/√d_k" if scaled else "<b>not</b> scaled"
    typical = "1" if scaled else f"√d_k = {np.sqrt(d_k):.1f}"
    message = (
        f"d_k = {d_k}, {how}: the {n} scores have standard deviation {scores.std():.2f} "
        f"({typical} on average). Key {best + 1} takes weight <b>{weights[best]:.2f}</b>; "
        f"the entropy is <b>{entropy:.2f} bits</b> (at most {np.log2(n):.0f}, when all keys weigh alike)."
    )
    return ScalingState(d_k, scaled, scores, weights, entropy, message)
