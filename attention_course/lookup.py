"""Lesson 1's search box: a small video catalogue, and hard and soft lookups over it.

Introduced in lesson 1. Keys describe each video by four features; values are what a
lookup hands back. A query is a vector in the same feature space as the keys.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np

from .attention import softmax

FEATURES = ("cats", "cooking", "music", "science")

# title: (key = how much the video is about each feature, value = (minutes, stars out of 5))
_CATALOGUE = {
    "Cat plays the piano": ((0.9, 0.0, 0.8, 0.0), (3.0, 4.8)),
    "Grandma's lasagna": ((0.0, 1.0, 0.0, 0.0), (18.0, 4.6)),
    "Lasagna for cats (they hated it)": ((0.7, 0.6, 0.0, 0.0), (6.0, 3.9)),
    "The physics of a purr": ((0.6, 0.0, 0.0, 0.9), (12.0, 4.4)),
    "Bach: cello suite no. 1": ((0.0, 0.0, 1.0, 0.0), (25.0, 4.9)),
    "Why onions make you cry": ((0.0, 0.6, 0.0, 0.8), (9.0, 4.3)),
    "Lo-fi beats to study to": ((0.0, 0.0, 0.7, 0.3), (60.0, 4.1)),
    "10 SHOCKING kitchen hacks!!!": ((0.8, 1.2, 0.8, 0.8), (14.0, 2.1)),
}
TITLES = tuple(_CATALOGUE)
KEYS = np.array([key for key, _ in _CATALOGUE.values()])  # (N, d_k) = (8, 4)
VALUES = np.array([value for _, value in _CATALOGUE.values()])  # (N, d_v) = (8, 2)
VALUE_NAMES = ("minutes", "stars")

# Words a query understands, and the feature each one points at.
VOCABULARY = {
    **dict.fromkeys(["cat", "cats", "kitten", "kittens", "purr", "meow"], "cats"),
    **dict.fromkeys(["cook", "cooking", "recipe", "recipes", "food", "kitchen", "lasagna", "onion", "onions"], "cooking"),
    **dict.fromkeys(["music", "piano", "song", "songs", "cello", "bach", "beats", "lofi"], "music"),
    **dict.fromkeys(["science", "physics", "chemistry", "biology", "why", "study"], "science"),
}


def embed_query(text: str) -> np.ndarray:
    """Turn search text into a query vector (d_k,): one unit per known word, added up.

    Unknown words are ignored, so text with no known word gives the zero vector.
    """
    query = np.zeros(len(FEATURES))
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in VOCABULARY:
            query[FEATURES.index(VOCABULARY[word])] += 1.0
    return query


def known_words(text: str) -> list[str]:
    """The words of `text` that `embed_query` understands."""
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w in VOCABULARY]


def dot_scores(query: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Similarity of one query (d_k,) with every key (N, d_k) by dot product -> (N,)."""
    return keys @ query  # (N, d_k) @ (d_k,) -> (N,)


def cosine_similarity(query: np.ndarray, keys: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Cosine of the angle between the query (d_k,) and every key (N, d_k) -> (N,).

    Introduced in lesson 1. A zero vector has no direction; its similarity is 0.
    """
    norms = np.linalg.norm(keys, axis=-1) * np.linalg.norm(query)  # (N,)
    return dot_scores(query, keys) / np.maximum(norms, eps)


def hard_lookup(query: np.ndarray, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The value (d_v,) of the single best-matching key: argmax of the dot products. Lesson 1."""
    return values[np.argmax(dot_scores(query, keys))]


def soft_lookup(query, keys, values, temperature: float = 1.0):
    """Softmax-weighted average of all values. Lesson 1.

    Returns (output (d_v,), weights (N,)). weights = softmax(scores / temperature):
    a small temperature approaches the hard lookup, a large one the plain average.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    weights = softmax(dot_scores(query, keys) / temperature)  # (N,)
    return weights @ values, weights  # (N,) @ (N, d_v) -> (d_v,)


def entropy_bits(weights: np.ndarray) -> np.ndarray:
    """Entropy in bits of each row of weights (..., N) -> (...): 0 for one-hot, log2(N) for uniform. Lesson 1;
    lesson 2 reuses it for whole tables of weights."""
    w = np.asarray(weights, dtype=float)
    terms = np.where(w > 0, -w * np.log2(np.where(w > 0, w, 1.0)), 0.0)  # 0 log 0 = 0
    return terms.sum(axis=-1)


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class LookupState:
    """Everything the lookup widget shows, for one query text and temperature."""

    query: np.ndarray  # (d_k,)
    weights: np.ndarray  # (N,), all zeros when there is nothing to show
    output: np.ndarray  # (d_v,)
    message: str  # one plain HTML sentence: the answer, or what is wrong with the input


def lookup_state(query_text: str, temperature: float) -> LookupState:
    """The soft lookup for `query_text` at `temperature`, with a sentence that explains it."""
    query = embed_query(query_text)
    empty = LookupState(query, np.zeros(len(TITLES)), np.zeros(VALUES.shape[1]), "")
    if not np.isfinite(temperature) or temperature <= 0:
        return LookupState(query, empty.weights, empty.output, "The temperature must be a positive number.")
    output, weights = soft_lookup(query, KEYS, VALUES, temperature)
    best = int(np.argmax(weights))
    words = known_words(query_text)
    if words:
        heard = f"Understood: <b>{html.escape(' '.join(words))}</b>. "
    else:
        heard = ("No word I know, so every score is 0. "
                 f"Try words such as {', '.join(sorted(set(list(VOCABULARY)[::5])))}. ")
    if np.ptp(weights) < 1e-12:
        top = f"Every video gets weight {weights[0]:.3f}"
    else:
        top = f"Top video: <b>{html.escape(TITLES[best])}</b> with weight {weights[best]:.2f}"
    message = (
        f"{heard}{top}; "
        f"the soft lookup returns {output[0]:.1f} minutes and {output[1]:.2f} stars "
        f"(entropy {entropy_bits(weights):.2f} bits)."
    )
    return LookupState(query, weights, output, message)
