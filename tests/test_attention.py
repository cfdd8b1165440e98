"""attention.softmax against torch.softmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attention_course.attention import softmax

# (shape, dim): 1-d with a negative and a positive dim, softmax over the last, the first and a middle axis, 4-d,
# and a single entry
SHAPES_AND_DIMS = [
    ((5,), -1),
    ((5,), 0),
    ((3, 7), -1),
    ((3, 7), 0),
    ((2, 3, 4), 1),
    ((2, 4, 6, 8), -2),
    ((1, 1), -1),
]
IDS = [f"{'x'.join(map(str, shape))}-dim{dim}" for shape, dim in SHAPES_AND_DIMS]


@pytest.mark.parametrize(("shape", "dim"), SHAPES_AND_DIMS, ids=IDS)
def test_tensor_matches_torch_softmax(shape, dim):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 5
    got = softmax(x, dim=dim)
    assert isinstance(got, torch.Tensor)
    assert got.shape == x.shape
    assert torch.allclose(got, torch.softmax(x, dim=dim), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("shape", "dim"), SHAPES_AND_DIMS, ids=IDS)
def test_numpy_matches_torch_softmax_of_same_data(shape, dim):
    x = np.random.default_rng(0).normal(size=shape) * 5
    got = softmax(x, dim=dim)
    assert isinstance(got, np.ndarray)
    assert got.shape == x.shape
    expected = torch.softmax(torch.from_numpy(x), dim=dim).numpy()
    # float64, numpy's exp and sum against torch's kernel: a few ulps; rtol 1e-10 is ~10^6 ulps yet catches any slip
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_numpy_accepts_lists():
    np.testing.assert_allclose(softmax([1.0, 2.0, 3.0]), torch.softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 0).numpy())


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("shape", [(6,), (2, 3, 5)])
def test_rows_sum_to_one_and_are_positive(kind, shape):
    rng = np.random.default_rng(0)
    data = rng.normal(size=shape) * 20
    x = torch.from_numpy(data) if kind == "torch" else data
    weights = np.asarray(softmax(x))
    np.testing.assert_allclose(weights.sum(axis=-1), np.ones(shape[:-1]), rtol=1e-12)
    assert (weights >= 0).all() and (weights <= 1).all()


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_large_inputs_do_not_overflow(kind):
    data = np.array([1000.0, 1001.0])
    x = torch.tensor(data) if kind == "torch" else data
    got = np.asarray(softmax(x))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [0.2689, 0.7311], atol=1e-4)
    np.testing.assert_allclose(got, [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-12)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_very_negative_inputs_do_not_underflow(kind):
    data = np.array([[-1000.0, -1001.0, -1002.0], [-1e6, -1e6, -1e6]])
    x = torch.tensor(data) if kind == "torch" else data
    got = np.asarray(softmax(x))
    expected = torch.softmax(torch.tensor(data), dim=-1).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got[1], [1 / 3] * 3, rtol=1e-12)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_minus_infinity_gets_weight_exactly_zero(kind):
    data = np.array([[-np.inf, 0.0, 0.0], [1.0, -np.inf, 2.0], [-np.inf, -np.inf, 5.0]])
    x = torch.tensor(data) if kind == "torch" else data
    got = np.asarray(softmax(x))
    # exact by construction: exp(-inf) is 0, and a row with one finite entry is exp(0) / exp(0) = 1
    assert got[0, 0] == 0.0 and got[1, 1] == 0.0
    assert got[2, 0] == 0.0 and got[2, 1] == 0.0 and got[2, 2] == 1.0
    np.testing.assert_allclose(got[0], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(got, torch.softmax(torch.tensor(data), dim=-1).numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_row_of_all_minus_infinity_gives_nan_like_torch(kind):
    data = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, 2.0]])
    x = torch.tensor(data) if kind == "torch" else data
    with np.errstate(all="raise"):  # the numpy path must not warn or raise on this row either
        got = np.asarray(softmax(x))
    reference = torch.softmax(torch.tensor(data), dim=-1).numpy()
    assert np.isnan(reference[0]).all()  # the behaviour we copy
    assert np.isnan(got[0]).all()
    np.testing.assert_allclose(got[1], reference[1], rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tensor_dtype_is_preserved(dtype):
    x = torch.randn(3, 4, generator=torch.Generator().manual_seed(0)).to(dtype)
    got = softmax(x)
    assert got.dtype == dtype
    assert torch.allclose(got, torch.softmax(x, dim=-1), atol=1e-6 if dtype == torch.float32 else 1e-12)


def test_input_is_not_modified():
    x_t = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    x_n = x_t.numpy().astype(float)
    before_t, before_n = x_t.clone(), x_n.copy()
    softmax(x_t)
    softmax(x_n)
    assert torch.equal(x_t, before_t)  # exact: an untouched input keeps every bit
    np.testing.assert_array_equal(x_n, before_n)


def test_gradient_matches_torch_softmax():
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64, requires_grad=True)
    y = torch.randn(4, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    (grad_ours,) = torch.autograd.grad((softmax(x) * y).sum(), x)
    (grad_torch,) = torch.autograd.grad((torch.softmax(x, dim=-1) * y).sum(), x)
    assert torch.allclose(grad_ours, grad_torch, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shift", [-50.0, 3.0, 700.0])
def test_shift_invariance(shift):
    x = np.random.default_rng(0).normal(size=(3, 4))
    np.testing.assert_allclose(softmax(x + shift), softmax(x), rtol=1e-10, atol=1e-15)
