"""Lesson 10's measurements: the slope fit, FLOP and memory formulas, the memory probe, depth, path length,
and blocked attention, against torch's own counters and implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from attention_course import cost
from attention_course.attention import scaled_dot_product_attention
from attention_course.self_attention import count_flops

# ---------------------------------------------------------------- the slope fit


@pytest.mark.parametrize("power", [0.5, 3.0])  # a fraction and the largest power the lesson fits
def test_fit_slope_recovers_the_power_of_a_clean_curve(power):
    lengths = [64, 128, 256, 512, 1024]
    assert cost.fit_slope(lengths, [7e-6 * T**power for T in lengths]) == pytest.approx(power)


def test_fit_slope_is_a_least_squares_line_through_noise():
    rng = np.random.default_rng(0)
    lengths = np.array([64, 128, 256, 512, 1024, 2048, 4096])
    noisy = 1e-9 * lengths**2 * np.exp(rng.normal(0, 0.1, len(lengths)))
    assert cost.fit_slope(lengths, noisy) == pytest.approx(2, abs=0.1)


@pytest.mark.parametrize(("lengths", "costs", "needle"), [
    ([64], [1.0], "at least 2"),
    ([64, 128], [1.0], "equally long"),
    ([64, 128], [1.0, 0.0], "positive"),
    ([0, 128], [1.0, 2.0], "positive"),
    ([64, 64], [1.0, 2.0], "two different lengths"),
])
def test_fit_slope_explains_bad_input(lengths, costs, needle):
    with pytest.raises(ValueError, match=needle):
        cost.fit_slope(lengths, costs)


def _timed_slope(make_function, lengths, low, high, tries=3):
    """The fitted slope of measured times; on a shared machine a load spike can bend one curve, so a slope
    outside [low, high] is measured again (a real change of complexity fails every time)."""
    slopes = []
    for _ in range(tries):
        slopes.append(cost.fit_slope(lengths, cost.time_against_length(make_function, lengths, repeats=5)))
        if low <= slopes[-1] <= high:
            break
    return slopes


def _exp_of(T):
    x, out = torch.randn(T, 1024), torch.empty(T, 1024)
    # T x 1024 numbers: linear in T. Written into a buffer made once, because fresh memory of tens of MiB costs
    # extra per byte (the operating system clears its pages), which would bend the line at the largest T.
    return lambda: torch.exp(x, out=out)


def _square_of(T):
    x = torch.randn(T, T)
    return lambda: x @ x  # (T, T) @ (T, T): cubic in T


def test_fit_slope_of_a_linear_time_function_is_about_1():
    slopes = _timed_slope(_exp_of, [1024, 2048, 4096, 8192], 0.7, 1.35)
    assert 0.7 <= slopes[-1] <= 1.35, slopes


def test_fit_slope_of_a_cubic_time_function_is_about_3():
    slopes = _timed_slope(_square_of, [128, 192, 256, 384, 512], 2.5, 3.5)
    assert 2.5 <= slopes[-1] <= 3.5, slopes


def test_the_course_attention_takes_quadratic_time():
    """Fails if the course's attention turns linear (slope near 1) or cubic (near 3)."""
    def make(T):
        q = torch.randn(1, 1, T, 16)  # (B, h, T, d_k): small d_k, so the T x T work dominates early
        return lambda: scaled_dot_product_attention(q, q, q)

    slopes = _timed_slope(make, [256, 512, 1024, 2048], 1.6, 2.6)
    assert 1.6 <= slopes[-1] <= 2.6, slopes


def test_median_seconds_restores_threads_and_rejects_no_repeats():
    before = torch.get_num_threads()
    assert cost.median_seconds(lambda: None, repeats=3) >= 0
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"):
        cost.median_seconds(lambda: None, repeats=0)


def test_crossover_interpolates_on_log_log_axes():
    lengths = [64, 128, 256, 512]
    quadratic = [T**2 for T in lengths]
    linear = [200 * T for T in lengths]  # equal at T = 200
    assert cost.crossover(lengths, quadratic, linear) == pytest.approx(200)
    assert cost.crossover(lengths, linear, [T**3 for T in lengths]) is None
    assert cost.crossover(lengths, [1e9] * 4, linear) == 64


# ---------------------------------------------------------------- FLOPs and memory, predicted and measured


@pytest.mark.parametrize("kind", cost.LAYER_KINDS)
@pytest.mark.parametrize(("T", "d_model"), [(16, 8), (7, 12)])  # T above and below d_model: no term can hide
def test_layer_flops_match_torchs_flop_counter(kind, T, d_model):
    layer = cost.make_layer(kind, d_model)
    assert cost.layer_flops(kind, T, d_model) == count_flops(layer, torch.randn(1, T, d_model))


@pytest.mark.parametrize(("T", "d_model"), [(10, 8), (3, 512)])
def test_attention_flops_is_the_layer_count(T, d_model):
    assert cost.attention_flops(T, d_model) == count_flops(cost.make_layer("self-attention", d_model, num_heads=4),
                                                           torch.randn(1, T, d_model))


def test_unknown_layer_kinds_are_named():
    for function in (cost.make_layer, lambda kind, *a: cost.layer_flops(kind, 4, 8),
                     lambda kind, *a: cost.layer_memory_bytes(kind, 4, 8)):
        with pytest.raises(ValueError, match="self-attention, feed-forward, recurrent, convolution"):
            function("lstm", 8)


def test_peak_memory_sees_what_is_alive_at_once():
    one = 1_000_000 * 4  # bytes of a million float32

    def two_at_once():
        a, b = torch.ones(1_000_000), torch.ones(1_000_000)
        return a + b

    def one_after_another():
        for _ in range(3):
            torch.ones(1_000_000)

    assert 3 * one <= cost.peak_memory_bytes(two_at_once) < 3.1 * one  # a, b and their sum
    assert one <= cost.peak_memory_bytes(one_after_another) < 1.1 * one
    assert cost.peak_memory_bytes(lambda: None) == 0


def test_peak_memory_is_measured_without_gradients():
    x = torch.randn(100, 100, requires_grad=True)
    assert cost.peak_memory_bytes(lambda: (x @ x).exp()) < 3 * 100 * 100 * 4  # nothing kept for backward


# attention at two lengths (its T x T part grows fourfold per doubling), with 4 heads (4 matrices), the FFN
@pytest.mark.parametrize(("kind", "num_heads", "T"), [("self-attention", 1, 128), ("self-attention", 1, 512),
                                                      ("self-attention", 4, 512), ("feed-forward", 1, 512)])
def test_the_memory_formula_is_what_torch_allocates(kind, num_heads, T):
    layer = cost.make_layer(kind, 32, num_heads=num_heads)
    x = torch.randn(1, T, 32)
    measured = cost.peak_memory_bytes(lambda: layer(x))
    assert measured == pytest.approx(cost.layer_memory_bytes(kind, T, 32, num_heads), rel=0.02)


@pytest.mark.parametrize("kind", ["recurrent", "convolution"])
def test_linear_layers_need_a_small_multiple_of_their_output(kind):
    layer = cost.make_layer(kind, 32)
    for T in (256, 1024):
        x = torch.randn(1, T, 32)
        measured = cost.peak_memory_bytes(lambda: layer(x))  # noqa: B023 - called before x changes
        assert cost.layer_memory_bytes(kind, T, 32) <= measured <= 6 * cost.layer_memory_bytes(kind, T, 32)


def test_the_fused_kernel_never_holds_the_whole_matrix():
    T = 2048
    q = torch.randn(1, 1, T, 32)
    naive = cost.peak_memory_bytes(lambda: cost.naive_attention(q, q, q))
    fused = cost.peak_memory_bytes(lambda: F.scaled_dot_product_attention(q, q, q))
    assert naive >= 2 * T * T * 4  # the scores and the weights
    assert fused < T * T * 4 / 8
    assert cost.sdpa_backend(q, q, q).startswith("aten::")


# ---------------------------------------------------------------- sequential steps and path length


def _depth(kind, T, d_model=8):
    x = torch.randn(1, T, d_model, requires_grad=True)
    return cost.graph_depth(cost.make_layer(kind, d_model)(x))


def test_only_the_recurrent_layer_has_a_chain_that_grows_with_length():
    for kind in ("self-attention", "feed-forward", "convolution"):
        assert _depth(kind, 8) == _depth(kind, 64)
    short, long = _depth("recurrent", 8), _depth("recurrent", 64)
    assert long - short >= 64 - 8  # at least one more operation in the chain per extra step


def test_graph_depth_needs_a_graph():
    with pytest.raises(ValueError, match="requires_grad"):
        cost.graph_depth(torch.ones(3))
    x = torch.ones(3, requires_grad=True)
    assert cost.graph_depth(x.exp().sin()) == 3  # exp, sin, and the leaf's accumulator


# kernel 3; kernel 5 where (T - 1) / 2 is whole, and where it rounds up
@pytest.mark.parametrize(("T", "kernel_size", "expected"), [(8, 3, 7), (9, 5, 4), (10, 5, 5)])
def test_a_stack_of_convolutions_needs_about_T_over_k_layers(T, kernel_size, expected):
    layers = [cost.make_layer("convolution", 4, kernel_size=kernel_size, seed=i) for i in range(T)]
    assert cost.layers_to_reach(layers, torch.randn(1, T, 4)) == expected == math.ceil((T - 1) / (kernel_size // 2))


def test_attention_and_a_recurrent_layer_reach_in_one_layer_and_a_linear_one_never():
    x = torch.randn(1, 12, 8)
    assert cost.layers_to_reach([cost.make_layer("self-attention", 8)] * 3, x) == 1
    assert cost.layers_to_reach([cost.make_layer("recurrent", 8)] * 3, x) == 1
    assert cost.layers_to_reach([cost.make_layer("feed-forward", 8)] * 3, x) is None
    causal = cost.SelfAttentionLayer(8, causal=True)
    assert cost.layers_to_reach([causal] * 3, x) == 1
    assert cost.layers_to_reach([causal] * 3, x, source=-1, target=0) is None  # the future never reaches the past


def test_a_recurrent_layers_dependence_fades_along_its_path():
    torch.manual_seed(0)
    rnn, attention = cost.make_layer("recurrent", 16), cost.make_layer("self-attention", 16)
    near = cost.dependence_on_first(rnn, torch.randn(1, 2, 16))
    far = cost.dependence_on_first(rnn, torch.randn(1, 32, 16))
    assert far < 1e-3 * near
    assert cost.dependence_on_first(attention, torch.randn(1, 32, 16)) > 1e-2 * \
        cost.dependence_on_first(attention, torch.randn(1, 2, 16))


# ---------------------------------------------------------------- attention one block at a time


# one key per block, blocks of 7 with a shorter last one (37 keys), one block holding every key
@pytest.mark.parametrize("block_size", [1, 7, 64])
def test_blocked_attention_is_exact(block_size):
    generator = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 100, 16, generator=generator, dtype=torch.float64)  # (B, h, T_q, d_k)
    k = torch.randn(2, 3, 37, 16, generator=generator, dtype=torch.float64)  # (B, h, T_k, d_k)
    v = torch.randn(2, 3, 37, 5, generator=generator, dtype=torch.float64)  # (B, h, T_k, d_v)
    got = cost.blocked_attention(q, k, v, block_size)
    # "exact" as mathematics: other summation orders, so float64 rounding (1e-16) under the default float64
    # tolerance (rtol 1e-7, atol 1e-7)
    torch.testing.assert_close(got, F.scaled_dot_product_attention(q, k, v))
    torch.testing.assert_close(got, scaled_dot_product_attention(q, k, v)[0])


def test_blocked_attention_is_stable_when_a_later_block_has_far_larger_scores():
    q = torch.tensor([[1.0, 0.0]]) * 40  # (T_q, d_k)
    k = torch.tensor([[0.0, 1.0], [0.0, 1.0], [30.0, 0.0], [31.0, 0.0]])  # scores 0, 0, ~850, ~880
    v = torch.arange(8.0).reshape(4, 2)
    got = cost.blocked_attention(q, k, v, block_size=2)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, F.scaled_dot_product_attention(q[None], k[None], v[None])[0])


def test_blocked_attention_holds_less_than_the_whole_matrix():
    T = 2048
    q = torch.randn(1, 1, T, 32)
    assert cost.peak_memory_bytes(lambda: cost.blocked_attention(q, q, q, 128)) < T * T * 4 / 2
    with pytest.raises(ValueError, match="block_size"):
        cost.blocked_attention(q, q, q, 0)
