"""Lesson 4's positional module, held against independent numpy and torch versions of the paper's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from attention_course import positional
from attention_course import self_attention as sa

SIZES = [(1, 2), (7, 6), (100, 64), (20, 512)]  # (T, d): the smallest table, d not a power of 2, long, wide


def numpy_reference(num_positions: int, d_model: int) -> np.ndarray:
    """The paper's formula written out element by element, in plain Python floats."""
    table = np.zeros((num_positions, d_model))
    for pos in range(num_positions):
        for i in range(d_model // 2):
            angle = pos / 10000 ** (2 * i / d_model)
            table[pos, 2 * i] = math.sin(angle)
            table[pos, 2 * i + 1] = math.cos(angle)
    return table


def annotated_transformer_reference(num_positions: int, d_model: int, dtype=torch.float32) -> torch.Tensor:
    """The formula as the Annotated Transformer writes it, with exp and log, coded independently here."""
    pe = torch.zeros(num_positions, d_model, dtype=dtype)
    position = torch.arange(0, num_positions, dtype=dtype).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=dtype) * -(math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


# ---------------------------------------------------------------- the sinusoidal encoding


@pytest.mark.parametrize(("T", "d"), SIZES)
def test_matches_the_formula_written_out(T, d):
    expected = numpy_reference(T, d)
    np.testing.assert_allclose(positional.sinusoidal_encoding(T, d, dtype=torch.float64).numpy(), expected,
                               atol=1e-12)
    np.testing.assert_allclose(positional.sinusoidal_encoding(T, d).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(("T", "d"), SIZES)
def test_matches_the_exp_log_form_of_the_annotated_transformer(T, d):
    ours = positional.sinusoidal_encoding(T, d, dtype=torch.float64)
    torch.testing.assert_close(ours, annotated_transformer_reference(T, d, torch.float64), atol=1e-10, rtol=0)
    # In float32 their angles lose digits as pos grows; ours are computed in float64, hence the looser tolerance.
    torch.testing.assert_close(positional.sinusoidal_encoding(T, d), annotated_transformer_reference(T, d),
                               atol=5e-5, rtol=0)


@pytest.mark.parametrize(("T", "d"), SIZES)
def test_shape_dtype_and_range(T, d):
    pe = positional.sinusoidal_encoding(T, d)
    assert pe.shape == (T, d)
    assert pe.dtype == torch.float32
    assert positional.sinusoidal_encoding(T, d, dtype=torch.float64).dtype == torch.float64
    assert pe.min() >= -1 and pe.max() <= 1
    torch.testing.assert_close(pe.norm(dim=1), torch.full((T,), math.sqrt(d / 2)))  # sin² + cos² = 1 per pair


@pytest.mark.parametrize("d", [2, 512])
def test_position_zero_is_sine_zero_and_cosine_one(d):
    pe = positional.sinusoidal_encoding(3, d)
    assert pe[0, 0] == 0 and pe[0, 1] == 1  # exact: every angle at position 0 is 0, and sin 0 = 0, cos 0 = 1
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0] * (d // 2)))


def test_even_columns_are_sines_and_odd_columns_cosines_of_the_same_angle():
    pe = positional.sinusoidal_encoding(40, 16, dtype=torch.float64)
    torch.testing.assert_close(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, torch.ones(40, 8, dtype=torch.float64))
    torch.testing.assert_close(pe[:, 0], torch.sin(torch.arange(40, dtype=torch.float64)))  # ω_0 = 1
    torch.testing.assert_close(pe[:, 1], torch.cos(torch.arange(40, dtype=torch.float64)))


def test_rows_are_all_different():
    pe = positional.sinusoidal_encoding(2000, 64, dtype=torch.float64)
    distances = torch.cdist(pe, pe) + torch.eye(2000, dtype=torch.float64) * 1e9
    assert distances.min() > 0.1


@pytest.mark.parametrize("d", [2, 512])
def test_frequencies_and_wavelengths(d):
    omega = positional.frequencies(d)
    assert omega.shape == (d // 2,) and omega.dtype == torch.float64
    assert omega[0] == 1  # exact: base ** -0.0 is 1
    assert (omega[1:] < omega[:-1]).all()
    assert omega[-1].item() == pytest.approx(10000 ** (-(d - 2) / d))
    torch.testing.assert_close(positional.wavelengths(d), 2 * math.pi / omega)
    assert positional.wavelengths(d)[0].item() == pytest.approx(2 * math.pi)
    assert positional.frequencies(d, base=100.0)[-1].item() == pytest.approx(100 ** (-(d - 2) / d))


def test_encode_positions_agrees_with_the_table_and_keeps_the_shape():
    table = positional.sinusoidal_encoding(30, 16)
    torch.testing.assert_close(positional.encode_positions(torch.arange(30), 16), table)
    torch.testing.assert_close(positional.encode_positions(7, 16), table[7])
    grid = positional.encode_positions(torch.tensor([[1, 2, 3], [4, 5, 6]]), 16)
    assert grid.shape == (2, 3, 16)
    torch.testing.assert_close(grid[1, 2], table[6])
    torch.testing.assert_close(positional.encode_positions([3, 1], 16), table[[3, 1]])


@pytest.mark.parametrize("position", [1e3, 1e12])
def test_far_positions_are_finite_and_accurate(position):
    code = positional.encode_positions(position, 512, dtype=torch.float64)
    assert torch.isfinite(code).all()
    assert code.norm().item() == pytest.approx(16.0)
    omega = 10000 ** (-np.arange(0, 512, 2) / 512)
    np.testing.assert_allclose(code[0::2].numpy(), np.sin(position * omega), atol=1e-6 * max(1.0, position / 1e9))


def test_a_non_integer_position_is_the_formula_in_between():
    halfway = positional.encode_positions(2.5, 8, dtype=torch.float64)
    omega = positional.frequencies(8)
    torch.testing.assert_close(halfway[0::2], torch.sin(2.5 * omega))


@pytest.mark.parametrize(("args", "message"), [
    ((4, 7), "d_model must be even"),
    ((4, 0), "d_model must be at least 2"),
    ((4, 8.0), "d_model must be a whole number"),
    ((4, True), "d_model must be a whole number"),
    ((0, 8), "num_positions must be at least 1"),
    ((2.5, 8), "num_positions must be a whole number"),
    (("5", 8), "num_positions must be a whole number"),
])
def test_bad_sizes_give_a_clear_error(args, message):
    error = TypeError if "whole number" in message else ValueError
    with pytest.raises(error, match=message):
        positional.sinusoidal_encoding(*args)


@pytest.mark.parametrize("base", [1.0, float("nan"), "10000", True])
def test_bad_base_gives_a_clear_error(base):
    with pytest.raises(ValueError, match="base must be a finite number greater than 1"):
        positional.sinusoidal_encoding(4, 8, base=base)


@pytest.mark.parametrize("positions", [float("nan"), [1.0, float("inf")]])
def test_non_finite_positions_give_a_clear_error(positions):
    with pytest.raises(ValueError, match="positions must be finite"):
        positional.encode_positions(positions, 8)


# ---------------------------------------------------------------- M_k: moving k positions on is a linear map


@pytest.mark.parametrize(("k", "d"), [(-7, 8), (0, 64), (1, 2), (33, 512), (100, 64)])
def test_offset_matrix_moves_every_position_by_k(k, d):
    positions = torch.arange(0, 300, dtype=torch.float64)
    pe = positional.encode_positions(positions, d, dtype=torch.float64)  # (P, d)
    moved = positional.encode_positions(positions + k, d, dtype=torch.float64)  # (P, d)
    M = positional.offset_matrix(k, d, dtype=torch.float64)  # (d, d)
    torch.testing.assert_close(pe @ M.T, moved, atol=1e-10, rtol=0)  # rows: PE(pos)ᵀ M_kᵀ = PE(pos + k)ᵀ
    torch.testing.assert_close(M @ pe[17], moved[17], atol=1e-10, rtol=0)  # one column vector


@pytest.mark.parametrize("k", [1, -4])
def test_offset_matrix_in_float32_is_close_on_the_lesson_table(k):
    pe = positional.sinusoidal_encoding(200, 64)  # float32, as the lesson uses it
    M = positional.offset_matrix(k, 64)
    assert M.dtype == torch.float32
    start, stop = max(0, -k), 200 - max(0, k)
    torch.testing.assert_close(pe[start:stop] @ M.T, pe[start + k:stop + k], atol=1e-5, rtol=0)


@pytest.mark.parametrize("d", [2, 16])
def test_offset_matrix_is_block_diagonal_with_rotations(d):
    k = 3
    M = positional.offset_matrix(k, d, dtype=torch.float64)
    omega = positional.frequencies(d)
    mask = torch.block_diag(*[torch.ones(2, 2, dtype=torch.float64)] * (d // 2))
    assert (M[mask == 0] == 0).all()  # exact: never written, left at 0
    for i in range(d // 2):
        a = k * omega[i]
        expected = torch.stack([torch.stack([a.cos(), a.sin()]), torch.stack([-a.sin(), a.cos()])])
        torch.testing.assert_close(M[2 * i:2 * i + 2, 2 * i:2 * i + 2], expected)


@pytest.mark.parametrize(("j", "k"), [(-2, 7), (10, -10)])
def test_offset_matrices_are_rotations_that_compose(j, k):
    d = 32

    def M(n):
        return positional.offset_matrix(n, d, dtype=torch.float64)

    identity = torch.eye(d, dtype=torch.float64)
    torch.testing.assert_close(M(k).T @ M(k), identity)
    torch.testing.assert_close(M(-k), M(k).T)
    torch.testing.assert_close(M(j) @ M(k), M(j + k))
    torch.testing.assert_close(M(0), identity)


def test_offset_matrix_accepts_a_fractional_offset():
    half = positional.offset_matrix(0.5, 8, dtype=torch.float64)
    torch.testing.assert_close(half @ half, positional.offset_matrix(1, 8, dtype=torch.float64))


@pytest.mark.parametrize("k", [float("nan"), "3", True])
def test_offset_matrix_rejects_a_bad_offset(k):
    with pytest.raises(ValueError, match="offset k must be a finite number"):
        positional.offset_matrix(k, 8)
    with pytest.raises(ValueError, match="offset k must be a finite number"):
        positional.dot_product_at_offset(k, 8)


def test_offset_matrix_rejects_an_odd_width():
    with pytest.raises(ValueError, match="d_model must be even"):
        positional.offset_matrix(1, 5)


def test_rotated_queries_and_keys_give_scores_that_depend_on_the_offset_only():
    """Turning q by M_p and k by M_q (rotary embeddings) gives q M_{q-p} k, as lesson 4 shows."""
    generator = torch.Generator().manual_seed(0)
    d = 16
    q, k = torch.randn(d, generator=generator, dtype=torch.float64), torch.randn(d, generator=generator,
                                                                                    dtype=torch.float64)

    def score(p, r):
        return (positional.offset_matrix(p, d, dtype=torch.float64) @ q) @ (
            positional.offset_matrix(r, d, dtype=torch.float64) @ k)

    for offset in (-3, 0, 4):
        scores = [score(p, p + offset).item() for p in (0, 7, 123)]
        assert max(scores) - min(scores) < 1e-10
        assert scores[0] == pytest.approx((q @ positional.offset_matrix(offset, d, dtype=torch.float64) @ k).item())


# ---------------------------------------------------------------- dot products depend on the offset only


@pytest.mark.parametrize("d", [2, 512])
def test_dot_products_depend_only_on_the_offset(d):
    T = 80
    pe = positional.sinusoidal_encoding(T, d, dtype=torch.float64)
    S = pe @ pe.T  # (T, T)
    for k in range(-(T - 1), T):
        diagonal = S.diagonal(k)
        assert (diagonal.max() - diagonal.min()).item() < 1e-10
        assert diagonal[0].item() == pytest.approx(positional.dot_product_at_offset(k, d), abs=1e-10)


@pytest.mark.parametrize(("k", "d"), [(0, 8), (3, 2), (40, 64)])
def test_dot_product_formula_is_symmetric_and_peaks_at_zero(k, d):
    value = positional.dot_product_at_offset(k, d)
    assert value == pytest.approx(positional.dot_product_at_offset(-k, d))
    assert value <= d / 2 + 1e-12
    assert positional.dot_product_at_offset(0, d) == pytest.approx(d / 2)
    assert value == pytest.approx(sum(math.cos(k / 10000 ** (2 * i / d)) for i in range(d // 2)))


# ---------------------------------------------------------------- the binary counter


@pytest.mark.parametrize(("T", "bits"), [(40, 6), (5, 1)])  # (5, 1) wraps around
def test_binary_code_counts_least_significant_bit_first(T, bits):
    code = positional.binary_code(T, bits)
    assert code.shape == (T, bits) and code.dtype == torch.float32
    for n in range(T):
        expected = [int(c) for c in reversed(format(n % 2 ** bits, f"0{bits}b"))]
        assert code[n].tolist() == expected


def test_binary_columns_flip_every_power_of_two():
    code = positional.binary_code(64, 6)
    flips = (code[1:] != code[:-1]).sum(dim=0)
    assert flips.tolist() == [63, 31, 15, 7, 3, 1]


@pytest.mark.parametrize("args", [(0, 3), (3, 0), (2.0, 3), (3, True)])
def test_binary_code_rejects_bad_sizes(args):
    with pytest.raises((TypeError, ValueError), match="must be"):
        positional.binary_code(*args)


# ---------------------------------------------------------------- the layers


@pytest.mark.parametrize(("B", "T", "d"), [(1, 1, 2), (2, 3, 8), (3, 16, 16)])  # T = 16 fills the table
def test_sinusoidal_layer_adds_the_table(B, T, d):
    x = torch.randn(B, T, d, generator=torch.Generator().manual_seed(0))
    layer = positional.SinusoidalPositionalEncoding(d, max_len=16)
    torch.testing.assert_close(layer(x), x + positional.sinusoidal_encoding(T, d))
    assert sum(p.numel() for p in layer.parameters()) == 0
    assert "pe" not in layer.state_dict()  # a buffer derived from the formula, not saved


def test_sinusoidal_layer_encodes_inputs_longer_than_its_table():
    layer = positional.SinusoidalPositionalEncoding(8, max_len=4)
    x = torch.zeros(2, 10, 8)
    torch.testing.assert_close(layer(x), positional.sinusoidal_encoding(10, 8).expand(2, 10, 8))


def test_sinusoidal_layer_keeps_the_input_dtype_and_applies_dropout_in_training_only():
    layer = positional.SinusoidalPositionalEncoding(8, dropout=0.5)
    x = torch.zeros(1, 6, 8, dtype=torch.float64)
    layer.eval()
    out = layer(x)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out[0], positional.sinusoidal_encoding(6, 8).double())
    layer.train()
    torch.manual_seed(0)
    dropped = layer(x)
    assert (dropped == 0).any() and not torch.equal(dropped, out)


def test_sinusoidal_layer_checks_the_width():
    with pytest.raises(ValueError, match="width d_model = 8"):
        positional.SinusoidalPositionalEncoding(8)(torch.zeros(1, 3, 6))
    with pytest.raises(ValueError, match="d_model must be even"):
        positional.SinusoidalPositionalEncoding(7)


@pytest.mark.parametrize(("B", "T"), [(1, 1), (3, 8)])  # T = 8 uses every row
def test_learned_layer_adds_one_row_per_position(B, T):
    torch.manual_seed(0)
    layer = positional.LearnedPositionalEmbedding(max_len=8, d_model=4)
    x = torch.randn(B, T, 4)
    torch.testing.assert_close(layer(x), x + layer.embedding.weight[:T])
    assert sum(p.numel() for p in layer.parameters()) == 8 * 4


def test_learned_layer_trains_only_the_rows_it_used():
    layer = positional.LearnedPositionalEmbedding(max_len=10, d_model=4)
    layer(torch.zeros(2, 6, 4)).sum().backward()
    grad = layer.embedding.weight.grad
    assert (grad[:6] != 0).all() and (grad[6:] == 0).all()


def test_learned_layer_refuses_positions_it_never_learned():
    layer = positional.LearnedPositionalEmbedding(max_len=16, d_model=8)
    with pytest.raises(ValueError, match="learned positions 0 to 15 only, but the input has 20 tokens"):
        layer(torch.zeros(1, 20, 8))
    with pytest.raises(ValueError, match="width d_model = 8"):
        layer(torch.zeros(1, 4, 5))
    with pytest.raises(ValueError, match="max_len must be at least 1"):
        positional.LearnedPositionalEmbedding(0, 8)


# ---------------------------------------------------------------- the lesson's sentences: order is lost, then restored


def test_vocabulary_and_token_ids():
    assert positional.VOCAB[0] == positional.UNKNOWN
    assert len(set(positional.VOCAB)) == len(positional.VOCAB)
    first, second = positional.SENTENCES
    assert positional.token_ids(first).tolist() == positional.token_ids(second).flip(0).tolist()
    assert positional.token_ids("Dog BITES man!").tolist() == positional.token_ids(first).tolist()
    assert positional.token_ids(["dog", "zebra"]).tolist() == [positional.VOCAB.index("dog"), 0]
    assert positional.token_ids("").shape == (0,)
    assert positional.tokenize("Man bites dog.") == ["man", "bites", "dog"]


def test_without_positions_each_word_gets_the_same_output_in_both_sentences():
    torch.manual_seed(0)
    d_model = 8
    embedding = torch.nn.Embedding(len(positional.VOCAB), d_model)
    layer = sa.SelfAttention(d_model, 4, 4)
    ids = torch.stack([positional.token_ids(s) for s in positional.SENTENCES])  # (2, 3)
    words = [positional.tokenize(s) for s in positional.SENTENCES]
    with torch.no_grad():
        plain, _ = layer(embedding(ids))  # (2, 3, 4)
        placed, _ = layer(positional.SinusoidalPositionalEncoding(d_model)(embedding(ids)))
    for i, word in enumerate(words[0]):
        j = words[1].index(word)
        torch.testing.assert_close(plain[0, i], plain[1, j])  # the same output wherever the word stands
        assert (placed[0, i] - placed[1, j]).abs().max() > 1e-3  # with positions, it depends on where
