"""Lesson 1's catalogue and lookups, held against torch's own functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_course import lookup

SHAPES = [(1, 1, 1), (3, 2, 1), (8, 4, 2), (16, 5, 3), (50, 8, 7)]  # (N keys, d_k, d_v)
TEMPERATURES = [0.05, 0.5, 1.0, 3.0, 40.0]


def random_case(seed: int, n: int, d_k: int, d_v: int):
    rng = np.random.default_rng(seed)
    return rng.normal(size=d_k), rng.normal(size=(n, d_k)), rng.normal(size=(n, d_v))


# ---------------------------------------------------------------- soft lookup = PyTorch's attention


@pytest.mark.parametrize("temperature", TEMPERATURES)
@pytest.mark.parametrize(("n", "d_k", "d_v"), SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_soft_lookup_equals_torch_scaled_dot_product_attention(seed, n, d_k, d_v, temperature):
    query, keys, values = random_case(seed, n, d_k, d_v)
    output, weights = lookup.soft_lookup(query, keys, values, temperature)
    q = torch.from_numpy(query)[None, :]  # (1, d_k): one query
    k, v = torch.from_numpy(keys), torch.from_numpy(values)  # (N, d_k), (N, d_v)
    expected = F.scaled_dot_product_attention(q, k, v, scale=1 / temperature)  # (1, d_v)
    assert output.shape == (d_v,)
    assert weights.shape == (n,)
    np.testing.assert_allclose(output, expected[0].numpy(), rtol=1e-9, atol=1e-12)
    expected_weights = torch.softmax(q @ k.T / temperature, dim=-1)[0].numpy()  # (1, d_k) @ (d_k, N) -> (1, N)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("text", ["cat piano", "lasagna recipe", "physics", "why onions", "nonsense"])
@pytest.mark.parametrize("temperature", [0.1, 1.0, 10.0])
def test_soft_lookup_on_the_catalogue_equals_torch(text, temperature):
    query = lookup.embed_query(text)
    output, weights = lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, temperature)
    expected = F.scaled_dot_product_attention(
        torch.from_numpy(query)[None, :], torch.from_numpy(lookup.KEYS), torch.from_numpy(lookup.VALUES),
        scale=1 / temperature,
    )
    np.testing.assert_allclose(output, expected[0].numpy(), rtol=1e-9)
    assert weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("n", "d_k", "d_v"), SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_low_temperature_approaches_hard_lookup(seed, n, d_k, d_v):
    query, keys, values = random_case(seed, n, d_k, d_v)
    scores = keys @ query
    if n > 1 and np.sort(scores)[-1] - np.sort(scores)[-2] < 1e-3:
        pytest.skip("a near tie; the limit is then a blend of the tied values")
    output, weights = lookup.soft_lookup(query, keys, values, temperature=1e-4)
    np.testing.assert_allclose(output, lookup.hard_lookup(query, keys, values), atol=1e-6)
    assert weights.max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(("n", "d_k", "d_v"), SHAPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_high_temperature_approaches_the_mean_of_values(seed, n, d_k, d_v):
    query, keys, values = random_case(seed, n, d_k, d_v)
    output, weights = lookup.soft_lookup(query, keys, values, temperature=1e7)
    np.testing.assert_allclose(weights, np.full(n, 1 / n), atol=1e-5)
    np.testing.assert_allclose(output, values.mean(axis=0), atol=1e-5)


def test_entropy_grows_with_temperature_on_the_catalogue():
    query = lookup.embed_query("cat piano")
    entropies = [lookup.entropy_bits(lookup.soft_lookup(query, lookup.KEYS, lookup.VALUES, t)[1])
                 for t in np.logspace(-2, 2, 20)]
    assert np.all(np.diff(entropies) > 0)
    assert entropies[0] < 0.1 and entropies[-1] > 2.99


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, -1e-9])
def test_soft_lookup_rejects_non_positive_temperature(temperature):
    query, keys, values = random_case(0, 4, 3, 2)
    with pytest.raises(ValueError, match="temperature must be positive"):
        lookup.soft_lookup(query, keys, values, temperature)


def test_soft_lookup_default_temperature_is_one():
    query, keys, values = random_case(5, 6, 3, 2)
    default = lookup.soft_lookup(query, keys, values)
    explicit = lookup.soft_lookup(query, keys, values, 1.0)
    np.testing.assert_array_equal(default[0], explicit[0])
    np.testing.assert_array_equal(default[1], explicit[1])


# ---------------------------------------------------------------- hard lookup


@pytest.mark.parametrize(("n", "d_k", "d_v"), SHAPES)
@pytest.mark.parametrize("seed", range(5))
def test_hard_lookup_is_the_value_of_the_argmax(seed, n, d_k, d_v):
    query, keys, values = random_case(seed, n, d_k, d_v)
    expected = values[int(torch.argmax(torch.from_numpy(keys) @ torch.from_numpy(query)))]
    got = lookup.hard_lookup(query, keys, values)
    assert got.shape == (d_v,)
    np.testing.assert_array_equal(got, expected)


def test_hard_lookup_when_every_score_is_negative_takes_the_least_negative():
    query = np.array([-1.0, -1.0])
    keys = np.array([[3.0, 3.0], [0.1, 0.2], [1.0, 0.0]])  # scores -6, -0.3, -1
    values = np.array([[10.0], [20.0], [30.0]])
    np.testing.assert_array_equal(lookup.hard_lookup(query, keys, values), [20.0])


@pytest.mark.parametrize("text", ["cat piano", "lasagna recipe", "bach cello", "physics of a purr"])
def test_hard_lookup_on_the_catalogue_returns_a_catalogue_value(text):
    query = lookup.embed_query(text)
    got = lookup.hard_lookup(query, lookup.KEYS, lookup.VALUES)
    best = int(np.argmax(lookup.dot_scores(query, lookup.KEYS)))
    np.testing.assert_array_equal(got, lookup.VALUES[best])


# ---------------------------------------------------------------- similarities


@pytest.mark.parametrize(("n", "d_k"), [(1, 1), (4, 3), (8, 4), (20, 16)])
@pytest.mark.parametrize("seed", range(4))
def test_dot_scores_equals_torch_matmul(seed, n, d_k):
    query, keys, _ = random_case(seed, n, d_k, 1)
    expected = (torch.from_numpy(keys) @ torch.from_numpy(query)).numpy()
    np.testing.assert_allclose(lookup.dot_scores(query, keys), expected, rtol=1e-12)


@pytest.mark.parametrize(("n", "d_k"), [(1, 1), (4, 3), (8, 4), (20, 16)])
@pytest.mark.parametrize("seed", range(4))
def test_cosine_similarity_equals_torch(seed, n, d_k):
    query, keys, _ = random_case(seed, n, d_k, 1)
    got = lookup.cosine_similarity(query, keys)
    expected = F.cosine_similarity(torch.from_numpy(query)[None, :], torch.from_numpy(keys), dim=-1).numpy()
    assert got.shape == (n,)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert np.all(np.abs(got) <= 1 + 1e-12)


@pytest.mark.parametrize("scale", [1e-3, 0.5, 10.0, 1e4])
def test_cosine_similarity_ignores_the_length_of_the_query(scale):
    query, keys, _ = random_case(7, 6, 4, 1)
    np.testing.assert_allclose(lookup.cosine_similarity(scale * query, keys),
                               lookup.cosine_similarity(query, keys), rtol=1e-9)


def test_cosine_similarity_of_a_zero_query_is_zero_not_nan():
    _, keys, _ = random_case(0, 5, 4, 1)
    with np.errstate(all="raise"):
        got = lookup.cosine_similarity(np.zeros(4), keys)
    np.testing.assert_array_equal(got, np.zeros(5))


def test_cosine_similarity_with_a_zero_key_is_zero_there():
    query, keys, _ = random_case(0, 5, 4, 1)
    keys[2] = 0.0
    got = lookup.cosine_similarity(query, keys)
    assert np.isfinite(got).all()
    assert got[2] == 0.0


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


@pytest.mark.parametrize("n", [1, 2, 8, 100])
def test_entropy_of_one_hot_is_zero(n):
    weights = np.zeros(n)
    weights[n // 2] = 1.0
    assert lookup.entropy_bits(weights) == 0.0


@pytest.mark.parametrize("n", [2, 4, 8, 32, 10])
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
