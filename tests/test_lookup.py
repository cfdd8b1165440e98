"""Lesson 1's catalogue and lookups, held against torch's own functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_course import lookup

SHAPES = [(1, 1, 1), (3, 2, 1), (8, 4, 2), (16, 5, 3), (50, 8, 7)]  # (N keys, d_k, d_v)


def random_case(seed: int, n: int, d_k: int, d_v: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=d_k), rng.normal(size=(n, d_k)), rng.normal(size=(n, d_v))


def top_gap(scores: np.ndarray) -> float:
    """How far the best score leads the next: an argmax cannot flip on rounding when this is far above 1e-12."""
    return float(np.inf) if len(scores) == 1 else float(np.diff(np.sort(scores)[-2:])[0])


# ---------------------------------------------------------------- soft lookup = PyTorch's attention


@pytest.mark.parametrize(("n", "d_k", "d_v", "temperature"), [
    (1, 1, 1, 1.0),  # one key: its weight is 1 whatever the score
    (3, 2, 1, 3.0),  # d_v = 1
    (8, 4, 2, 0.05),  # sharp: scores / temperature up to ~100
    (16, 5, 3, 1.0),
    (50, 8, 7, 40.0),  # flat, and d_v differs from d_k
], ids=["one-key", "d_v-1", "sharp", "default", "flat"])
def test_soft_lookup_equals_torch_scaled_dot_product_attention(n, d_k, d_v, temperature):
    query, keys, values = random_case(0, n, d_k, d_v)
    output, weights = lookup.soft_lookup(query, keys, values, temperature)
    q = torch.from_numpy(query)[None, :]  # (1, d_k): one query
    k, v = torch.from_numpy(keys), torch.from_numpy(values)  # (N, d_k), (N, d_v)
    expected = F.scaled_dot_product_attention(q, k, v, scale=1 / temperature)  # (1, d_v)
    assert output.shape == (d_v,)
    assert weights.shape == (n,)
    # float64 along two paths (numpy, torch's kernel): a few ulps of numbers of size ~1; rtol 1e-9 is far above that
    np.testing.assert_allclose(output, expected[0].numpy(), rtol=1e-9, atol=1e-12)
    expected_weights = torch.softmax(q @ k.T / temperature, dim=-1)[0].numpy()  # (1, d_k) @ (d_k, N) -> (1, N)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("text", "temperature"), [("cat piano", 0.1), ("lasagna recipe", 1.0), ("nonsense", 10.0)])
def test_soft_lookup_on_the_catalogue_equals_torch(text, temperature):
    query = lookup.embed_query(text)  # "nonsense" is the zero query: equal scores, the plain mean of the values
    output, weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, temperature)
    expected = F.scaled_dot_product_attention(
        torch.from_numpy(query)[None, :], torch.from_numpy(lookup.KEYS), torch.from_numpy(lookup.VALUES),
        scale=1 / temperature,
    )
    np.testing.assert_allclose(output, expected[0].numpy(), rtol=1e-9)
    assert weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("n", "d_k", "d_v"), SHAPES[1:])
def test_low_temperature_approaches_hard_lookup(n, d_k, d_v):
    query, keys, values = random_case(0, n, d_k, d_v)
    assert top_gap(keys @ query) > 1e-2  # no near tie, whose limit would be a blend of the tied values
    output, weights = lookup.soft_lookup(query, keys, values, temperature=1e-4)
    np.testing.assert_allclose(output, lookup.hard_lookup(query, keys, values), atol=1e-6)
    assert weights.max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("n", "d_k", "d_v"), [SHAPES[1], SHAPES[-1]])
def test_high_temperature_approaches_the_mean_of_values(n, d_k, d_v):
    query, keys, values = random_case(0, n, d_k, d_v)
    output, weights = lookup.soft_lookup(query, keys, values, temperature=1e7)
    np.testing.assert_allclose(weights, np.full(n, 1 / n), atol=1e-5)
    np.testing.assert_allclose(output, values.mean(axis=0), atol=1e-5)


def test_entropy_grows_with_temperature_on_the_catalogue():
    query = lookup.embed_query("cat piano")
    entropies = [lookup.entropy_bits(lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, t)[1])
                 for t in np.logspace(-2, 2, 20)]
    assert np.all(np.diff(entropies) > 0)
    assert entropies[0] < 0.1 and entropies[-1] > 2.99


@pytest.mark.parametrize("temperature", [0, -1e-9])
def test_soft_lookup_rejects_non_positive_temperature(temperature):
    query, keys, values = random_case(0, 4, 3, 2)
    with pytest.raises(ValueError, match="temperature must be positive"):
        lookup.soft_lookup(query, keys, values, temperature)


def test_soft_lookup_default_temperature_is_one():
    query, keys, values = random_case(5, 6, 3, 2)
    default = lookup.soft_lookup(query, keys, values)
    explicit = lookup.soft_lookup(query, keys, values, 1.0)
    # exact: the same computation on the same numbers (dividing by 1.0 changes no bit)
    np.testing.assert_array_equal(default[0], explicit[0])
    np.testing.assert_array_equal(default[1], explicit[1])


# ---------------------------------------------------------------- hard lookup


@pytest.mark.parametrize(("n", "d_k", "d_v"), [SHAPES[0], SHAPES[2], SHAPES[-1]])
def test_hard_lookup_is_the_value_of_the_argmax(n, d_k, d_v):
    query, keys, values = random_case(0, n, d_k, d_v)
    scores = torch.from_numpy(keys) @ torch.from_numpy(query)  # (N,): torch's product, not the package's
    assert top_gap(scores.numpy()) > 1e-6  # the best key leads clearly, so both argmaxes agree on any CPU
    expected = values[int(torch.argmax(scores))]
    got = lookup.hard_lookup(query, keys, values)
    assert got.shape == (d_v,)
    np.testing.assert_array_equal(got, expected)  # exact: a row of values, copied without arithmetic


def test_hard_lookup_when_every_score_is_negative_takes_the_least_negative():
    query = np.array([-1.0, -1.0])
    keys = np.array([[3.0, 3.0], [0.1, 0.2], [1.0, 0.0]])  # scores -6, -0.3, -1
    values = np.array([[10.0], [20.0], [30.0]])
    np.testing.assert_array_equal(lookup.hard_lookup(query, keys, values), [20.0])


@pytest.mark.parametrize("text", ["cat piano", "lasagna recipe"])
def test_hard_lookup_on_the_catalogue_returns_a_catalogue_value(text):
    query = lookup.embed_query(text)
    got = lookup.hard_lookup(query, lookup.KEYS, lookup.VALUES)
    best = int(np.argmax(lookup.dot_scores(query, lookup.KEYS)))  # the same scores hard_lookup computes
    np.testing.assert_array_equal(got, lookup.VALUES[best])  # a copied row: exact


# ---------------------------------------------------------------- similarities


@pytest.mark.parametrize(("n", "d_k"), [(1, 1), (20, 16)])
def test_dot_scores_equals_torch_matmul(n, d_k):
    query, keys, _ = random_case(0, n, d_k, 1)
    expected = (torch.from_numpy(keys) @ torch.from_numpy(query)).numpy()
    np.testing.assert_allclose(lookup.dot_scores(query, keys), expected, rtol=1e-12)


@pytest.mark.parametrize(("n", "d_k"), [(1, 1), (4, 3), (20, 16)])
def test_cosine_similarity_equals_torch(n, d_k):
    query, keys, _ = random_case(0, n, d_k, 1)
    got = lookup.cosine_similarity(query, keys)
    expected = F.cosine_similarity(torch.from_numpy(query)[None, :], torch.from_numpy(keys), dim=-1).numpy()
    assert got.shape == (n,)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert np.all(np.abs(got) <= 1 + 1e-12)


@pytest.mark.parametrize("scale", [1e-3, 1e4])
def test_cosine_similarity_ignores_the_length_of_the_query(scale):
    query, keys, _ = random_case(7, 6, 4, 1)
    np.testing.assert_allclose(lookup.cosine_similarity(scale * query, keys),
                               lookup.cosine_similarity(query, keys), rtol=1e-9)


def test_cosine_similarity_of_a_zero_query_is_zero_not_nan():
    _, keys, _ = random_case(0, 5, 4, 1)
    with np.errstate(all="raise"):
        got = lookup.cosine_similarity(np.zeros(4), keys)
    np.testing.assert_array_equal(got, np.zeros(5))  # exact: every dot product is a sum of exact zeros


def test_cosine_similarity_with_a_zero_key_is_zero_there():
    query, keys, _ = random_case(0, 5, 4, 1)
    keys[2] = 0.0
    got = lookup.cosine_similarity(query, keys)
    assert np.isfinite(got).all()
    assert got[2] == 0.0  # exact: the zero key's dot product is a sum of exact zeros


def test_cosine_of_an_unknown_query_on_the_catalogue_is_zero():
    got = lookup.cosine_similarity(lookup.embed_query("zzz qqq"), lookup.KEYS)
    np.testing.assert_array_equal(got, np.zeros(len(lookup.TITLES)))


# ---------------------------------------------------------------- queries


def test_embed_query_counts_known_words():
    np.testing.assert_array_equal(lookup.embed_query("cat piano"), [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(lookup.embed_query("cat cats kitten"), [3.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(lookup.embed_query("lasagna recipe"), [0.0, 2.0, 0.0, 0.0])


def test_embed_query_ignores_case_punctuation_and_unknown_words():
    np.testing.assert_array_equal(lookup.embed_query("CAT Piano!!"), lookup.embed_query("cat piano"))
    np.testing.assert_array_equal(lookup.embed_query("the cat, on a piano, please"), lookup.embed_query("cat piano"))
    np.testing.assert_array_equal(lookup.embed_query("zebra quantum"), np.zeros(len(lookup.FEATURES)))
    np.testing.assert_array_equal(lookup.embed_query(""), np.zeros(len(lookup.FEATURES)))


def test_embed_query_has_the_key_width():
    assert lookup.embed_query("music").shape == (lookup.KEYS.shape[1],) == (len(lookup.FEATURES),)


def test_known_words():
    assert lookup.known_words("The CAT plays Bach") == ["cat", "bach"]
    assert lookup.known_words("nothing here") == []


def test_every_vocabulary_word_points_at_a_feature():
    assert set(lookup.VOCABULARY.values()) == set(lookup.FEATURES)
    for word in lookup.VOCABULARY:
        assert lookup.embed_query(word).sum() == 1.0


# ---------------------------------------------------------------- entropy


@pytest.mark.parametrize("n", [1, 100])
def test_entropy_of_one_hot_is_zero(n):
    weights = np.zeros(n)
    weights[n // 2] = 1.0
    assert lookup.entropy_bits(weights) == 0.0  # exact: the zeros are skipped, and 1 * log2(1) is 0


@pytest.mark.parametrize("n", [2, 10])
def test_entropy_of_uniform_is_log2_n(n):
    assert lookup.entropy_bits(np.full(n, 1 / n)) == pytest.approx(math.log2(n))


def test_entropy_of_uniform_over_eight_is_three_bits():
    assert lookup.entropy_bits(np.full(8, 1 / 8)) == pytest.approx(3.0)


def test_entropy_matches_torch_distributions():
    weights = torch.softmax(torch.randn(8, generator=torch.Generator().manual_seed(0), dtype=torch.float64), 0)
    expected = torch.distributions.Categorical(probs=weights).entropy().item() / math.log(2)
    assert lookup.entropy_bits(weights.numpy()) == pytest.approx(expected, rel=1e-10)


# ---------------------------------------------------------------- facts the lesson's prose relies on


def test_catalogue_shapes():
    assert lookup.KEYS.shape == (len(lookup.TITLES), len(lookup.FEATURES)) == (8, 4)
    assert lookup.VALUES.shape == (len(lookup.TITLES), len(lookup.VALUE_NAMES)) == (8, 2)
    assert len(set(lookup.TITLES)) == len(lookup.TITLES)


# In these two the best title leads the next by 0.1 or more in both scores: no rounding can change the argmax.
def test_dot_product_prefers_the_clickbait_but_cosine_finds_grandmas_lasagna():
    query = lookup.embed_query("lasagna recipe")
    by_dot = lookup.TITLES[int(np.argmax(lookup.dot_scores(query, lookup.KEYS)))]
    by_cosine = lookup.TITLES[int(np.argmax(lookup.cosine_similarity(query, lookup.KEYS)))]
    assert by_dot == "10 SHOCKING kitchen hacks!!!"
    assert by_cosine == "Grandma's lasagna"


def test_cat_piano_finds_the_cat_playing_the_piano():
    query = lookup.embed_query("cat piano")
    assert lookup.TITLES[int(np.argmax(lookup.dot_scores(query, lookup.KEYS)))] == "Cat plays the piano"
    assert lookup.TITLES[int(np.argmax(lookup.cosine_similarity(query, lookup.KEYS)))] == "Cat plays the piano"
