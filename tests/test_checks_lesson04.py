"""Lesson 4's checks: the solution passes, a stub is "not attempted", realistic wrong answers fail clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_helpers import assert_one_sentence

from attention_course import checks, positional
from attention_course.checks import lesson04

# ---------------------------------------------------------------- correct solutions, as a learner writes them


def sinusoidal_encoding(num_positions, d_model):
    position = torch.arange(num_positions, dtype=torch.float64)[:, None]
    omega = 1 / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(num_positions, d_model)
    pe[:, 0::2] = torch.sin(position * omega)
    pe[:, 1::2] = torch.cos(position * omega)
    return pe


def embed_with_positions(ids, embedding, pe):
    return embedding(ids) + pe[:ids.shape[1]]


def offset_matrix(k, d_model):
    angles = k / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    blocks = [torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]]) for a in angles.tolist()]
    return torch.block_diag(*blocks)


def dot_product_at_offset(k, d_model):
    omega = 1 / 10000 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.cos(k * omega).sum().item()


def dimension_wavelength():
    return 26.5


SOLUTIONS = {
    "sinusoidal_encoding": sinusoidal_encoding,
    "embed_with_positions": embed_with_positions,
    "offset_matrix": offset_matrix,
    "dot_product_at_offset": dot_product_at_offset,
    "dimension_wavelength": dimension_wavelength,
}
NO_DATA_INPUTS = {'dimension_wavelength', 'dot_product_at_offset', 'offset_matrix', 'sinusoidal_encoding'}  # no array or tensor to write into: numbers, text, modules
CHECKS = {name: getattr(checks, name) for name in SOLUTIONS}


# ---------------------------------------------------------------- solutions written differently still pass


def sinusoidal_float32_exp_log(num_positions, d_model):
    """The Annotated Transformer's way, entirely in float32."""
    pe = torch.zeros(num_positions, d_model)
    position = torch.arange(0, num_positions).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * -(math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def sinusoidal_numpy_loops(num_positions, d_model):
    table = np.zeros((num_positions, d_model))
    for pos in range(num_positions):
        for i in range(0, d_model, 2):  # i is the column of the sine here, so the exponent is i / d_model
            table[pos, i] = np.sin(pos / 10000 ** (i / d_model))
            table[pos, i + 1] = np.cos(pos / 10000 ** (i / d_model))
    return table


def sinusoidal_as_lists(num_positions, d_model):
    return sinusoidal_encoding(num_positions, d_model).tolist()


def embed_with_weight_indexing(ids, embedding, pe):
    x = embedding.weight[ids]  # (B, T, d_model)
    return x + pe[torch.arange(ids.shape[-1])]


def embed_with_unsqueeze(ids, embedding, pe):
    return embedding(ids) + pe[:ids.size(1)].unsqueeze(0)


def offset_matrix_filled_in_place(k, d_model):
    M = np.zeros((d_model, d_model))
    for i in range(d_model // 2):
        a = k * 10000 ** (-2 * i / d_model)
        M[2 * i, 2 * i], M[2 * i, 2 * i + 1] = np.cos(a), np.sin(a)
        M[2 * i + 1, 2 * i], M[2 * i + 1, 2 * i + 1] = -np.sin(a), np.cos(a)
    return M


def offset_matrix_float32(k, d_model):
    angles = k * positional.frequencies(d_model).float()
    return torch.block_diag(*[torch.stack([torch.stack([a.cos(), a.sin()]), torch.stack([-a.sin(), a.cos()])])
                              for a in angles])


def dot_product_from_two_rows(k, d_model):
    pe = positional.encode_positions([100, 100 + k], d_model)
    return pe[0] @ pe[1]  # a 0-d tensor is one number


def dot_product_in_python(k, d_model):
    return sum(math.cos(k / 10000 ** (2 * i / d_model)) for i in range(d_model // 2))


ALTERNATIVES = [
    ("sinusoidal_encoding", sinusoidal_float32_exp_log),
    ("sinusoidal_encoding", sinusoidal_numpy_loops),
    ("sinusoidal_encoding", sinusoidal_as_lists),
    ("sinusoidal_encoding", positional.sinusoidal_encoding),
    ("embed_with_positions", embed_with_weight_indexing),
    ("embed_with_positions", embed_with_unsqueeze),
    ("embed_with_positions", lambda ids, e, pe: positional.SinusoidalPositionalEncoding(
        e.embedding_dim, max_len=len(pe))(e(ids))),
    ("offset_matrix", offset_matrix_filled_in_place),
    ("offset_matrix", offset_matrix_float32),
    ("offset_matrix", positional.offset_matrix),
    ("dot_product_at_offset", dot_product_from_two_rows),
    ("dot_product_at_offset", dot_product_in_python),
    ("dot_product_at_offset", lambda k, d: np.float32(positional.dot_product_at_offset(k, d))),
    ("dimension_wavelength", lambda: 26),
    ("dimension_wavelength", lambda: 27),
    ("dimension_wavelength", lambda: np.float64(2 * math.pi * 10000 ** (10 / 64))),
    ("dimension_wavelength", lambda: torch.tensor(26.0).item()),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_other_correct_solutions_pass(name, answer):
    assert CHECKS[name](answer).status == "passed"


# ---------------------------------------------------------------- realistic wrong answers


def table(num_positions, d_model, even=torch.sin, odd=torch.cos, base=10000.0, exponent=lambda i, d: 2 * i / d,
          start=0, odd_exponent=None):
    """The encoding with one ingredient changed, to build wrong answers."""
    position = torch.arange(start, start + num_positions, dtype=torch.float64)[:, None]
    i = torch.arange(d_model // 2, dtype=torch.float64)
    pe = torch.zeros(num_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = even(position / base ** exponent(i, d_model))
    odd_exponent = odd_exponent or exponent
    pe[:, 1::2] = odd(position / base ** odd_exponent(i, d_model))
    return pe


def blog_loop(num_positions, d_model):
    """A loop over even columns i that also writes 2 * i in the exponent: the frequencies fall twice as fast."""
    pe = torch.zeros(num_positions, d_model)
    for pos in range(num_positions):
        for i in range(0, d_model, 2):
            pe[pos, i] = math.sin(pos / 10000 ** (2 * i / d_model))
            pe[pos, i + 1] = math.cos(pos / 10000 ** (2 * i / d_model))
    return pe


def halves(num_positions, d_model):
    angles = torch.arange(num_positions)[:, None] / 10000 ** (torch.arange(0, d_model, 2) / d_model)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def blocks(k, d_model, angle=None, transpose=False):
    """A block-diagonal matrix of 2 x 2 rotations, with a chosen angle per pair, to build wrong answers."""
    omega = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    angles = k * omega if angle is None else angle(k, omega)
    result = []
    for a in angles.tolist():
        block = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)
        result.append(block.T if transpose else block)
    return torch.block_diag(*result)


def split_pairs(k, d_model):
    half = d_model // 2
    M = torch.zeros(d_model, d_model, dtype=torch.float64)
    for i in range(half):
        a = k * 10000 ** (-2 * i / d_model)
        M[i, i], M[i, i + half] = math.cos(a), math.sin(a)
        M[i + half, i], M[i + half, i + half] = -math.sin(a), math.cos(a)
    return M


def omega(d_model, exponent=lambda i, d: 2 * i / d, count=None):
    i = torch.arange(count or d_model // 2, dtype=torch.float64)
    return 10000.0 ** (-exponent(i, d_model))


WRONG = [
    # the sinusoidal encoding
    ("sinusoidal_encoding", lambda T, d: table(T, d, even=torch.cos, odd=torch.sin), ["swapped", "even columns"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, even=torch.cos), ["every column is a cosine"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, odd=torch.sin), ["every column is a sine"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, exponent=lambda i, d: i / d), ["fall too slowly", "2i/d_model"]),
    ("sinusoidal_encoding", blog_loop, ["fall too fast", "i = j // 2"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, odd_exponent=lambda i, d: (2 * i + 1) / d),
     ["same frequency as the sine", "not j/d_model"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, base=1000.0), ["10000, not 1000"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, exponent=lambda i, d: -2 * i / d), ["multiplied pos", "divide"]),
    ("sinusoidal_encoding", lambda T, d: table(T, d, start=1), ["positions start at 0", "[0, 1, 0, 1"]),
    ("sinusoidal_encoding", halves, ["all the sines first", "interleaves"]),
    ("sinusoidal_encoding", lambda T, d: sinusoidal_encoding(T, d).T, ["shape (4, 6)", "transposed", "(6, 4)"]),
    ("sinusoidal_encoding", lambda T, d: sinusoidal_encoding(T, d)[:, :d - 1], ["shape (6, 3)", "expected shape (6, 4)"]),
    ("sinusoidal_encoding", lambda T, d: sinusoidal_encoding(T, d) + 0.01, ["PE(", "should be", "yours is"]),
    # embedding with positions
    ("embed_with_positions", lambda ids, e, pe: e(ids) + pe[ids], ["by token id", "pe[:T]"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids), ["without their positions"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) * 0 + pe[:ids.shape[1]], ["positions alone"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) + pe[1:ids.shape[1] + 1], ["positions start at 0"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) * pe[:ids.shape[1]], ["multiplied"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) + pe[:ids.shape[1]].flip(0), ["reverse order"]),
    ("embed_with_positions", lambda ids, e, pe: torch.cat([e(ids), pe[:ids.shape[1]].expand(len(ids), -1, -1)], -1),
     ["concatenated", "shape (2, 3, 16)"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) + pe[:len(ids)], ["RuntimeError", "Hint"]),
    ("embed_with_positions", lambda ids, e, pe: e(ids) + pe, ["whole position table, 10 rows", "first T positions"]),
    ("embed_with_positions", lambda ids, e, pe: (e(ids) + pe[:ids.shape[1]])[0], ["shape (3, 8)", "(2, 3, 8)"]),
    # the offset matrix
    ("offset_matrix", lambda k, d: blocks(k, d, transpose=True), ["PE(pos - 3)", "wrong way"]),
    ("offset_matrix", lambda k, d: torch.eye(d), ["identity"]),
    ("offset_matrix", lambda k, d: blocks(k, d, angle=lambda k, w: torch.full_like(w, float(k))),
     ["every block turns by k = 3 radians", "k·ω_i"]),
    ("offset_matrix", lambda k, d: blocks(k, d, angle=lambda k, w: w), ["one position whatever k is"]),
    ("offset_matrix", lambda k, d: blocks(k, d, angle=lambda k, w: k * omega(d, lambda i, d: i / d)),
     ["fall too slowly"]),
    ("offset_matrix", split_pairs, ["i + d_model/2", "columns 2i and 2i+1"]),
    ("offset_matrix", lambda k, d: torch.stack([blocks(k, 2 * (i + 1))[-2:, -2:] for i in range(d // 2)]),
     ["the 4 blocks", "shape (4, 2, 2)", "torch.block_diag"]),
    ("offset_matrix", lambda k, d: blocks(k, d) + 0.1 * torch.eye(d), ["M_k @ PE(4) differs from PE(7)"]),
    ("offset_matrix", lambda k, d: blocks(k, d)[:, :d - 1], ["shape (8, 7)", "(8, 8)"]),
    # the dot product at an offset
    ("dot_product_at_offset", lambda k, d: torch.sin(k * omega(d)).sum().item(), ["summed sines", "cos(k·ω_i)"]),
    ("dot_product_at_offset", lambda k, d: d / 2 * math.cos(k), ["one frequency for every pair"]),
    ("dot_product_at_offset", lambda k, d: torch.cos(k * omega(d, count=d)).sum().item(),
     ["summed 8 cosines", "d_model / 2 = 4"]),
    ("dot_product_at_offset", lambda k, d: torch.cos(k * omega(d, lambda i, d: i / d)).sum().item(),
     ["fall too slowly"]),
    ("dot_product_at_offset", lambda k, d: torch.cos(k * omega(d)).mean().item(), ["cosine similarity"]),
    ("dot_product_at_offset", lambda k, d: d / 2, ["|PE(pos)|²", "PE(pos + k)"]),
    ("dot_product_at_offset", lambda k, d: torch.cos(k * omega(d)), ["returned 4 numbers", "one number", ".sum()"]),
    ("dot_product_at_offset", lambda k, d: torch.cos(k * omega(d)).sum().item() + 1, ["is 4.0000; yours is 5.0000"]),
    ("dot_product_at_offset", lambda k, d: "4", ["str", "Return a number"]),
    # the widget exercise
    ("dimension_wavelength", lambda: 13.25, ["half a wavelength"]),
    ("dimension_wavelength", lambda: 4.22, ["1/ω_5", "2π/ω_5"]),
    ("dimension_wavelength", lambda: 19.9, ["wavelength of dimensions 8 and 9", "dimension slider to 10"]),
    ("dimension_wavelength", lambda: 6.28, ["wavelength of dimensions 0 and 1"]),
    ("dimension_wavelength", lambda: 24, ["too short", "Move the position further"]),
    ("dimension_wavelength", lambda: 30, ["too long"]),
    ("dimension_wavelength", lambda: -3, ["positive number"]),
    ("dimension_wavelength", lambda: float("nan"), ["positive number", "nan"]),
    ("dimension_wavelength", lambda: "26.5", ["as a number", "str"]),
    ("dimension_wavelength", lambda: True, ["as a number", "bool"]),
]


def test_adding_position_zero_to_every_token_is_named_on_the_single_sentence():
    """pe[:B] runs only when B = 1, where it gives every token the code of position 0."""
    def first_rows_by_batch(ids, e, pe):
        if len(ids) != 1:
            return embed_with_positions(ids, e, pe)
        return e(ids) + pe[:len(ids)]

    with pytest.raises(checks.CheckFailed) as caught:
        checks.embed_with_positions(first_rows_by_batch)
    message = assert_one_sentence(caught.value)
    assert "every token got the encoding of position 0" in message
    assert "(B = 1" in message


def test_a_transposed_square_table_is_named():
    def transposed_when_square(T, d):
        pe = sinusoidal_encoding(T, d)
        return pe.T if T == d else pe

    with pytest.raises(checks.CheckFailed) as caught:
        checks.sinusoidal_encoding(transposed_when_square)
    message = assert_one_sentence(caught.value)
    assert "num_positions = 8, d_model = 8" in message
    assert "transposed" in message


def test_an_offset_matrix_wrong_only_for_negative_k_is_caught():
    def ignores_the_sign(k, d):
        return offset_matrix(abs(k), d)

    with pytest.raises(checks.CheckFailed) as caught:
        checks.offset_matrix(ignores_the_sign)
    message = assert_one_sentence(caught.value)
    assert "k = -2" in message
    assert "your M_k @ PE(pos) is PE(pos + 2): the blocks turn the wrong way" in message


def test_a_wrong_dot_product_only_at_negative_offsets_is_caught():
    with pytest.raises(checks.CheckFailed) as caught:
        checks.dot_product_at_offset(lambda k, d: dot_product_at_offset(k, d) if k >= 0 else 0.0)
    assert "k = -3" in assert_one_sentence(caught.value)


def test_the_widget_tolerance_is_one_position_around_the_exact_wavelength():
    exact = 2 * math.pi * 10000 ** (10 / 64)
    assert lesson04._widget_wavelength() == pytest.approx(exact)
    assert checks.dimension_wavelength(lambda: exact + 0.99).status == "passed"
    assert checks.dimension_wavelength(lambda: exact - 0.99).status == "passed"
    for outside in (exact + 1.01, exact - 1.01):
        with pytest.raises(checks.CheckFailed):
            checks.dimension_wavelength(lambda outside=outside: outside)


# ---------------------------------------------------------------- failures inside the learner's code


def _with_arguments(name, body):
    if name == "dimension_wavelength":
        return lambda: body()
    return lambda *args: body(*args)


NAN_ANSWERS = [
    ("sinusoidal_encoding", lambda T, d: sinusoidal_encoding(T, d) * np.nan),
    ("embed_with_positions", lambda ids, e, pe: embed_with_positions(ids, e, pe) * np.nan),
    ("offset_matrix", lambda k, d: offset_matrix(k, d) * np.nan),
    ("dot_product_at_offset", lambda k, d: float("nan")),
]


@pytest.mark.parametrize(("name", "answer"), NAN_ANSWERS)
def test_nan_is_named(name, answer):
    with pytest.raises(checks.CheckFailed) as caught:
        CHECKS[name](answer)
    assert "nan" in assert_one_sentence(caught.value).lower()


def test_checks_leave_the_learners_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.embed_with_positions(embed_with_positions)
    torch.testing.assert_close(torch.rand(3), expected)


def test_checks_keep_their_names_and_docstrings():
    for name, check in CHECKS.items():
        assert check.__name__ == name
        assert "lesson 4" in check.__doc__.lower()
