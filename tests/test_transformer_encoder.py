"""The encoder side of attention_course.transformer (lesson 7) against torch's own layers, with copied weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attention_course import normalization
from attention_course.transformer import Encoder, EncoderLayer, FeedForward

SIZES = [(16, 4, 64), (12, 1, 12)]  # (d_model, num_heads, d_ff): the usual shape, and one head with d_ff = d_model


def _batch(seed, d_model, lengths):
    """A seeded batch (B, T, d_model), torch's padding mask (True = ignore) and ours (B, 1, 1, T, True = attend)."""
    generator = torch.Generator().manual_seed(seed)
    T = max(lengths)
    x = torch.randn(len(lengths), T, d_model, generator=generator)
    is_pad = torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]  # (B, T)
    return x, is_pad, ~is_pad[:, None, None, :]


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize(("d_model", "num_heads", "d_ff"), SIZES)
def test_encoder_layer_equals_torch_with_padding(norm_first, d_model, num_heads, d_ff):
    seed = 0
    torch.manual_seed(seed)
    theirs = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, dropout=0.1, batch_first=True,
                                        norm_first=norm_first).eval()
    ours = EncoderLayer.from_torch(theirs).eval()
    x, is_pad, mask = _batch(seed, d_model, [7, 5, 2])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, mask), theirs(x, src_key_padding_mask=is_pad), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-5)  # no mask at all


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_equals_torch_with_gradients_on(norm_first):
    """With autograd on, torch takes its plain (not fast) path; the outputs and input gradients still agree."""
    torch.manual_seed(3)
    theirs = nn.TransformerEncoderLayer(16, 4, 64, batch_first=True, norm_first=norm_first).eval()
    ours = EncoderLayer.from_torch(theirs).eval()
    x, is_pad, mask = _batch(3, 16, [6, 3])
    x_ours, x_theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ours, out_theirs = ours(x_ours, mask), theirs(x_theirs, src_key_padding_mask=is_pad)
    torch.testing.assert_close(out_ours, out_theirs, atol=1e-5, rtol=1e-5)
    (out_ours ** 2).sum().backward()
    (out_theirs ** 2).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_theirs.grad, atol=1e-4, rtol=1e-4)


def test_from_torch_keeps_settings_and_records_attention_weights():
    theirs = nn.TransformerEncoderLayer(16, 4, 40, dropout=0.2, batch_first=True, norm_first=True, layer_norm_eps=1e-6)
    ours = EncoderLayer.from_torch(theirs)
    assert ours.norm_first and ours.self_attn.num_heads == 4
    assert ours.feed_forward.linear1.out_features == 40 and ours.dropout1.p == 0.2
    assert ours.norm1.eps == ours.norm2.eps == 1e-6
    x, _, mask = _batch(0, 16, [5, 3])
    ours.eval()(x, mask)
    weights = ours.attention_weights  # (B, h, T, T)
    assert weights.shape == (2, 4, 5, 5)
    assert (weights[1, :, :, 3:] == 0).all()  # the pads of sentence 1 get no weight: exp(-inf) is exactly 0
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 5))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_equals_torch(norm_first):
    num_layers, seed = 3, 0
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(16, 4, 64, batch_first=True, norm_first=norm_first)
    theirs = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(16) if norm_first else None,
                                   enable_nested_tensor=False).eval()
    ours = normalization.encoder_from_torch(theirs).eval()
    assert isinstance(ours, Encoder) and len(ours.layers) == num_layers
    x, is_pad, mask = _batch(seed, 16, [6, 6, 1])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, mask), theirs(x, src_key_padding_mask=is_pad), atol=1e-5, rtol=1e-5)


def test_encoder_from_torch_refuses_a_stack_whose_final_norm_does_not_fit():
    layer = nn.TransformerEncoderLayer(16, 4, 64, batch_first=True, norm_first=True)
    with pytest.raises(ValueError, match="final LayerNorm"):
        normalization.encoder_from_torch(nn.TransformerEncoder(layer, 2, enable_nested_tensor=False))


@pytest.mark.parametrize(("d_model", "num_heads", "d_ff", "norm_first"), [(24, 3, 96, False), (12, 1, 12, True),
                                                                        (512, 8, 2048, True)])
def test_parameter_counts_equal_torch_and_the_formula(d_model, num_heads, d_ff, norm_first):
    def count(module):
        return sum(p.numel() for p in module.parameters())

    ours = EncoderLayer(d_model, num_heads, d_ff, norm_first=norm_first)
    theirs = nn.TransformerEncoderLayer(d_model, num_heads, d_ff, batch_first=True, norm_first=norm_first)
    assert count(ours) == count(theirs) == normalization.encoder_layer_parameter_count(d_model, num_heads, d_ff)
    stack = Encoder(3, d_model, num_heads, d_ff, norm_first=norm_first)
    assert count(stack) == 3 * count(ours) + (2 * d_model if norm_first else 0)


def test_the_base_layer_has_the_expected_count():
    assert normalization.encoder_layer_parameter_count(512, 8, 2048) == 3_152_384
    assert normalization.encoder_layer_parameter_count(512, 1, 2048) == 3_152_384  # heads change nothing


@pytest.mark.parametrize("norm_first", [False, True])
def test_train_mode_dropout_changes_the_output_and_eval_mode_does_not(norm_first):
    layer = EncoderLayer(16, 4, 64, dropout=0.3, norm_first=norm_first)
    x, _, mask = _batch(0, 16, [5, 5])
    layer.train()
    torch.manual_seed(0)
    assert not torch.allclose(layer(x, mask), layer(x, mask))
    layer.eval()
    torch.testing.assert_close(layer(x, mask), layer(x, mask), atol=0, rtol=0)  # exact: the same call, no dropout


def test_without_dropout_train_and_eval_agree():
    layer = EncoderLayer(16, 4, 64, dropout=0.0)
    x, _, mask = _batch(1, 16, [4, 2])
    torch.testing.assert_close(layer.train()(x, mask), layer.eval()(x, mask))


@pytest.mark.parametrize(("B", "T", "d_model", "d_ff"), [(2, 5, 8, 32), (1, 1, 4, 16)])
def test_feed_forward_shapes_and_positionwise(B, T, d_model, d_ff):
    torch.manual_seed(0)
    ffn = FeedForward(d_model, d_ff, dropout=0.1).eval()
    x = torch.randn(B, T, d_model)
    out = ffn(x)
    assert out.shape == (B, T, d_model)
    one_by_one = torch.stack([torch.stack([ffn(x[b, t][None, None])[0, 0] for t in range(T)]) for b in range(B)])
    # one token at a time and by matmul are other kernels than the batched Linear: float32 ulps; the default
    # float32 tolerance (rtol 1.3e-6, atol 1e-5) is far below what mixing tokens would move
    torch.testing.assert_close(out, one_by_one)
    expected = torch.relu(x @ ffn.linear1.weight.T + ffn.linear1.bias) @ ffn.linear2.weight.T + ffn.linear2.bias
    torch.testing.assert_close(out, expected)


def test_from_torch_refuses_gelu_layers():
    layer = nn.TransformerEncoderLayer(16, 4, 64, batch_first=True, activation="gelu")
    with pytest.raises(ValueError, match="ReLU"):
        EncoderLayer.from_torch(layer)


def test_from_torch_accepts_relu_given_as_a_module():
    layer = nn.TransformerEncoderLayer(16, 4, 64, batch_first=True, activation=nn.ReLU()).eval()
    ours = EncoderLayer.from_torch(layer).eval()
    x = torch.randn(2, 3, 16)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), layer(x), atol=1e-5, rtol=1e-5)


def test_from_torch_refuses_sequence_first_layers():
    layer = nn.TransformerEncoderLayer(16, 4, 64, batch_first=False)
    with pytest.raises(ValueError, match="batch_first"):
        EncoderLayer.from_torch(layer)


def test_a_padded_token_changes_no_real_output():
    torch.manual_seed(0)
    encoder = Encoder(2, 16, 4, 64, dropout=0.0).eval()
    x, _, mask = _batch(0, 16, [5, 3])
    changed = x.clone()
    changed[1, 3:] = 100.0  # only the pads of sentence 1
    with torch.no_grad():
        torch.testing.assert_close(encoder(x, mask)[1, :3], encoder(changed, mask)[1, :3])
