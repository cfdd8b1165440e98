"""The √d_k measurements of lesson 2: the numbers behave as the lesson says, and the gradient is autograd's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attention_course import lookup, scaling
from attention_course.attention import softmax


@pytest.fixture(scope="module")
def table():
    return scaling.measure()


# ---------------------------------------------------------------- small pieces


@pytest.mark.parametrize("d_k", [1, 64])
def test_scale(d_k):
    assert scaling.scale(d_k) == pytest.approx(1 / math.sqrt(d_k))
    assert scaling.scale(d_k, scaled=True) == pytest.approx(1 / math.sqrt(d_k))
    assert scaling.scale(d_k, scaled=False) == 1.0  # exact: the constant 1.0, no arithmetic


@pytest.mark.parametrize("n", [1, 16])
def test_entropy_bits_of_uniform_and_one_hot(n):
    assert scaling.entropy_bits(np.full(n, 1 / n)) == pytest.approx(math.log2(n))
    one_hot = np.eye(n)[0]
    assert scaling.entropy_bits(one_hot) == 0.0  # exact: a sum of exact zeros (0 log 0 is taken as 0, 1 log 1 is 0)


def test_entropy_bits_per_row():
    weights = np.random.default_rng(0).dirichlet(np.ones(6), size=(3, 4))  # (3, 4, 6)
    got = scaling.entropy_bits(weights)
    assert got.shape == (3, 4)
    expected = np.array([[-sum(p * math.log2(p) for p in w) for w in rows] for rows in weights])  # the definition
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert scaling.entropy_bits is lookup.entropy_bits  # one entropy, introduced in lesson 1


def _autograd_jacobian(q, keys, c):
    keys_t = torch.tensor(keys)
    return torch.autograd.functional.jacobian(lambda q_t: torch.softmax(c * (keys_t @ q_t), dim=-1),
                                              torch.tensor(q)).numpy()


@pytest.mark.parametrize(("n", "d_k", "scaled"), [(1, 3, True), (5, 4, False), (16, 64, True), (8, 256, False)],
                         ids=["one-key", "unscaled", "scaled", "saturated"])
def test_weight_gradient_matches_autograd(n, d_k, scaled):
    rng = np.random.default_rng(0)
    q, keys = rng.standard_normal(d_k), rng.standard_normal((n, d_k))
    c = scaling.scale(d_k, scaled)
    got = scaling.weight_gradient(q, keys, c)
    assert got.shape == (n, d_k)
    np.testing.assert_allclose(got, _autograd_jacobian(q, keys, c), rtol=1e-9, atol=1e-12)


def test_weight_gradient_works_on_a_batch_of_draws():
    rng = np.random.default_rng(5)
    q, keys = rng.standard_normal((3, 8)), rng.standard_normal((3, 6, 8))
    got = scaling.weight_gradient(q, keys, 0.5)
    assert got.shape == (3, 6, 8)
    for i in range(3):
        np.testing.assert_allclose(got[i], _autograd_jacobian(q[i], keys[i], 0.5), rtol=1e-9, atol=1e-12)


def test_weight_gradient_vanishes_when_one_key_takes_all_the_weight():
    keys = np.array([[10.0, 0.0], [0.0, 1.0], [-3.0, 2.0]])
    q = np.array([5.0, 0.0])
    assert softmax(keys @ q).max() > 0.999999
    assert np.abs(scaling.weight_gradient(q, keys, 1.0)).max() < 1e-10


def test_weight_gradient_rows_sum_to_zero():
    """The weights always sum to 1, so their gradients sum to the zero vector."""
    rng = np.random.default_rng(6)
    got = scaling.weight_gradient(rng.standard_normal(5), rng.standard_normal((7, 5)), 0.3)
    np.testing.assert_allclose(got.sum(axis=0), np.zeros(5), atol=1e-14)


# ---------------------------------------------------------------- the measurements


def test_measure_returns_one_entry_per_d_k(table):
    expected_keys = {"d_k"} | {f"{what}_{how}" for what in ("variance", "entropy", "top_weight", "gradient")
                               for how in ("unscaled", "scaled")}
    assert set(table) == expected_keys
    assert list(table["d_k"]) == list(scaling.D_KS) == [4, 16, 64, 256, 1024]
    assert all(isinstance(values, np.ndarray) and values.shape == (5,) for values in table.values())
    assert all(np.isfinite(values).all() for values in table.values())


def test_unscaled_variance_is_d_k_and_scaled_variance_is_one(table):
    np.testing.assert_allclose(table["variance_unscaled"], table["d_k"], rtol=0.1)
    np.testing.assert_allclose(table["variance_scaled"], np.ones(5), rtol=0.1)


def test_unscaled_entropy_falls_and_scaled_entropy_stays(table):
    unscaled, scaled = table["entropy_unscaled"], table["entropy_scaled"]
    assert (np.diff(unscaled) < 0).all()
    assert unscaled[-1] < 0.5
    assert (scaled <= 4 + 1e-9).all()  # log2(16)
    assert np.ptp(scaled) < 0.2
    assert (scaled > 3).all()
    assert (scaled > unscaled).all()


def test_unscaled_top_weight_approaches_one(table):
    assert (np.diff(table["top_weight_unscaled"]) > 0).all()
    assert table["top_weight_unscaled"][-1] > 0.9
    assert (table["top_weight_scaled"] < 0.4).all()


def test_unscaled_gradient_falls_toward_zero_and_scaled_stays_level(table):
    unscaled, scaled = table["gradient_unscaled"], table["gradient_scaled"]
    assert unscaled[-1] < 0.01
    assert unscaled[-1] < 0.02 * scaled[-1]
    assert (np.diff(unscaled[2:]) < 0).all()  # from d_k = 64 on, it only falls
    assert scaled.max() / scaled.min() < 1.5


def test_measure_is_deterministic_and_seeded():
    a = scaling.measure(d_ks=(8, 32), num_draws=50, seed=3)
    b = scaling.measure(d_ks=(8, 32), num_draws=50, seed=3)
    c = scaling.measure(d_ks=(8, 32), num_draws=50, seed=4)
    assert all(np.array_equal(a[key], b[key]) for key in a)  # exact: the same computation, run twice
    assert not np.array_equal(a["variance_unscaled"], c["variance_unscaled"])


@pytest.mark.parametrize("seed", [1, 2])
def test_the_conclusions_hold_for_other_seeds(seed):
    other = scaling.measure(seed=seed, num_draws=200)
    np.testing.assert_allclose(other["variance_unscaled"], other["d_k"], rtol=0.15)
    assert other["entropy_unscaled"][-1] < other["entropy_unscaled"][0] / 4
    assert other["gradient_unscaled"][-1] < 0.05 * other["gradient_scaled"][-1]


def test_format_table_lists_every_d_k_in_narrow_lines(table):
    text = scaling.format_table(table)
    lines = text.splitlines()
    assert len(lines) == 2 + len(table["d_k"])
    assert all(len(line) <= 80 for line in lines)
    for line, d_k in zip(lines[2:], table["d_k"]):
        assert line.split()[0] == str(d_k)
        assert len(line.split()) == 9
        assert float(line.split()[1]) == pytest.approx(table["variance_unscaled"][list(table["d_k"]).index(d_k)],
                                                       abs=0.05)
    assert "entropy" in lines[0] and "gradient" in lines[0]


# ---------------------------------------------------------------- the widget's example


def test_example_query_keys_grow_by_adding_entries():
    q_small, keys_small = scaling.example_query_keys(64)
    q_big, keys_big = scaling.example_query_keys(1024)
    assert q_small.shape == (64,) and keys_small.shape == (scaling.EXAMPLE_NUM_KEYS, 64)
    # exact: the same seeded draws, sliced
    np.testing.assert_array_equal(q_small, q_big[:64])
    np.testing.assert_array_equal(keys_small, keys_big[:, :64])


@pytest.mark.parametrize("d_k", [4, 64, 1024])  # the slider's ends and its default
def test_example_scaled_scores_are_the_unscaled_ones_over_sqrt_d_k(d_k):
    scores, weights = scaling.example(d_k, scaled=False)
    scaled_scores, scaled_weights = scaling.example(d_k, scaled=True)
    np.testing.assert_allclose(scaled_scores, scores / math.sqrt(d_k))
    np.testing.assert_allclose(weights, softmax(scores))
    assert weights.sum() == pytest.approx(1) and scaled_weights.sum() == pytest.approx(1)
    # the scale keeps the order of the scores; the best leads the next by 0.016 or more, so rounding cannot
    # swap them
    assert np.argmax(weights) == np.argmax(scaled_weights)


@pytest.mark.parametrize("d_k", [0, 1025])
def test_example_refuses_widths_out_of_range(d_k):
    with pytest.raises(ValueError, match="d_k must be between 1 and 1024"):
        scaling.example(d_k, scaled=True)
