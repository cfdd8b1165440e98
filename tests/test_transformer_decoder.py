"""Lesson 8's DecoderLayer and Decoder against torch.nn.TransformerDecoderLayer / TransformerDecoder."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attention_course import masking
from attention_course.transformer import Decoder, DecoderLayer


def _inputs(seed, B, T_tgt, T_src, d_model):
    generator = torch.Generator().manual_seed(seed)
    y = torch.randn(B, T_tgt, d_model, generator=generator)
    memory = torch.randn(B, T_src, d_model, generator=generator)
    lengths = torch.randint(1, T_src + 1, (B,), generator=generator)
    lengths[0] = T_src  # at least one unpadded source
    src_real = (torch.arange(T_src)[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, T_src)
    return y, memory, src_real


def _torch_masks(T_tgt, src_real):
    return {"tgt_mask": masking.to_mha_attn_mask(masking.causal_mask(T_tgt)),
            "memory_key_padding_mask": masking.to_key_padding_mask(src_real)}


SIZES = [(2, 5, 7, 16, 4, 64), (3, 4, 3, 8, 2, 32), (1, 1, 6, 12, 3, 48)]  # B, T_tgt, T_src, d_model, h, d_ff


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize(("B", "T_tgt", "T_src", "d_model", "h", "d_ff"), SIZES)
def test_layer_equals_torch_in_eval_mode(norm_first, B, T_tgt, T_src, d_model, h, d_ff):
    seed = 0
    torch.manual_seed(seed)
    theirs = nn.TransformerDecoderLayer(d_model, h, d_ff, dropout=0.1, batch_first=True,
                                        norm_first=norm_first).eval()
    ours = DecoderLayer.from_torch(theirs).eval()
    y, memory, src_real = _inputs(seed, B, T_tgt, T_src, d_model)
    with torch.no_grad():
        expected = theirs(y, memory, **_torch_masks(T_tgt, src_real))
        got = ours(y, memory, tgt_mask=masking.causal_mask(T_tgt), memory_mask=src_real)
    assert got.shape == (B, T_tgt, d_model)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert ours.norm_first == norm_first


@pytest.mark.parametrize("norm_first", [False, True])
def test_from_torch_copies_every_layer_norm(norm_first):
    # torch's LayerNorms start at weight 1, bias 0: give each of the three its own weights and eps, so a norm
    # left uncopied changes the output
    torch.manual_seed(5)
    theirs = nn.TransformerDecoderLayer(16, 4, 32, batch_first=True, norm_first=norm_first).eval()
    for i, norm in enumerate((theirs.norm1, theirs.norm2, theirs.norm3)):
        nn.init.uniform_(norm.weight, 0.5, 1.5)
        nn.init.uniform_(norm.bias, -0.5, 0.5)
        norm.eps = 10.0 ** -(i + 2)  # 1e-2, 1e-3, 1e-4: large enough to move the output
    ours = DecoderLayer.from_torch(theirs).eval()
    for mine, their_norm in zip((ours.norm1, ours.norm2, ours.norm3), (theirs.norm1, theirs.norm2, theirs.norm3)):
        assert mine.eps == their_norm.eps
        torch.testing.assert_close(mine.weight, their_norm.weight, atol=0, rtol=0)  # exact: copied
    y, memory, src_real = _inputs(5, 2, 5, 6, 16)
    with torch.no_grad():
        expected = theirs(y, memory, **_torch_masks(5, src_real))
        got = ours(y, memory, tgt_mask=masking.causal_mask(5), memory_mask=src_real)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_layer_with_target_padding_equals_torch(norm_first):
    torch.manual_seed(4)
    theirs = nn.TransformerDecoderLayer(16, 4, 32, batch_first=True, norm_first=norm_first).eval()
    ours = DecoderLayer.from_torch(theirs).eval()
    y, memory, src_real = _inputs(4, 2, 5, 6, 16)
    tgt_real = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.bool)[:, None, None, :]
    with torch.no_grad():
        expected = theirs(y, memory, tgt_key_padding_mask=masking.to_key_padding_mask(tgt_real),
                          **_torch_masks(5, src_real))
        got = ours(y, memory, tgt_mask=masking.causal_mask(5) & tgt_real, memory_mask=src_real)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_stack_equals_torch(norm_first):
    num_layers = 3
    torch.manual_seed(num_layers)
    layer = nn.TransformerDecoderLayer(16, 2, 64, batch_first=True, norm_first=norm_first)
    theirs = nn.TransformerDecoder(layer, num_layers, norm=nn.LayerNorm(16) if norm_first else None).eval()
    ours = Decoder(num_layers, 16, 2, 64, norm_first=norm_first).eval()
    for mine, their_layer in zip(ours.layers, theirs.layers):
        copied = DecoderLayer.from_torch(their_layer)
        mine.load_state_dict(copied.state_dict())
    if norm_first:
        ours.norm.load_state_dict(theirs.norm.state_dict())
    y, memory, src_real = _inputs(7, 2, 4, 9, 16)
    with torch.no_grad():
        expected = theirs(y, memory, **_torch_masks(4, src_real))
        got = ours(y, memory, tgt_mask=masking.causal_mask(4), memory_mask=src_real)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_parameter_counts_equal_torch():
    theirs = nn.TransformerDecoderLayer(32, 4, 128, batch_first=True)
    ours = DecoderLayer.from_torch(theirs)
    count = sum(p.numel() for p in ours.parameters())
    assert count == sum(p.numel() for p in theirs.parameters())
    d, d_ff = 32, 128
    assert count == 2 * 4 * (d * d + d) + (d * d_ff + d_ff) + (d_ff * d + d) + 3 * 2 * d


def test_attention_weights_are_kept_with_their_shapes():
    layer = DecoderLayer(8, 2, 16, dropout=0.0).eval()
    y, memory, src_real = _inputs(0, 2, 3, 5, 8)
    layer(y, memory, masking.causal_mask(3), src_real)
    assert layer.self_attention_weights.shape == (2, 2, 3, 3)
    assert layer.cross_attention_weights.shape == (2, 2, 3, 5)
    assert (layer.self_attention_weights.triu(1) == 0).all()  # exact: a hidden key's weight is exp(-inf) = 0
    padded = ~src_real[:, 0, 0]  # (B, T_src)
    assert (layer.cross_attention_weights.permute(0, 3, 1, 2)[padded] == 0).all()


@pytest.mark.parametrize("norm_first", [False, True])
def test_leakage_changing_target_t_changes_nothing_before_t(norm_first):
    t = 2  # positions on both sides of it
    torch.manual_seed(t)
    layer = Decoder(2, 8, 2, 16, dropout=0.0, norm_first=norm_first).eval()
    y, memory, src_real = _inputs(t, 1, 5, 4, 8)
    changed = y.clone()
    changed[0, t] += torch.randn(8)
    with torch.no_grad():
        before = layer(y, memory, masking.causal_mask(5), src_real)
        after = layer(changed, memory, masking.causal_mask(5), src_real)
    # bit for bit, which is exact here: a hidden key's weight is exp(-inf) = 0 and both passes have the same shapes
    assert masking.changed_positions(before, after) == list(range(t, 5))


def test_changing_a_source_pad_changes_nothing_but_a_real_source_token_changes_everything():
    layer = DecoderLayer(8, 2, 16, dropout=0.0).eval()
    y, memory, _ = _inputs(3, 1, 4, 5, 8)
    src_real = torch.tensor([True, True, True, False, False])[None, None, None, :]
    with torch.no_grad():
        before = layer(y, memory, masking.causal_mask(4), src_real)
        pad_changed, real_changed = memory.clone(), memory.clone()
        pad_changed[0, 4] += 5.0
        real_changed[0, 1] += 5.0
        assert masking.changed_positions(before, layer(y, pad_changed, masking.causal_mask(4), src_real)) == []
        assert masking.changed_positions(before, layer(y, real_changed, masking.causal_mask(4), src_real)) == [0, 1, 2, 3]


@pytest.mark.parametrize("norm_first", [False, True])
def test_parallel_equals_sequential(norm_first):
    torch.manual_seed(11)
    decoder = Decoder(2, 16, 4, 32, dropout=0.0, norm_first=norm_first).eval()
    y, memory, src_real = _inputs(11, 2, 6, 5, 16)
    with torch.no_grad():
        parallel = decoder(y, memory, masking.causal_mask(6), src_real)
        for t in range(6):
            prefix = decoder(y[:, :t + 1], memory, masking.causal_mask(t + 1), src_real)  # (B, t + 1, d)
            torch.testing.assert_close(prefix[:, -1], parallel[:, t], atol=1e-5, rtol=1e-5)


def test_train_mode_dropout_changes_the_output():
    torch.manual_seed(0)
    layer = DecoderLayer(16, 2, 32, dropout=0.5).train()
    y, memory, _ = _inputs(0, 2, 4, 5, 16)
    first, second = layer(y, memory), layer(y, memory)
    assert not torch.allclose(first, second)
    layer.eval()
    torch.testing.assert_close(layer(y, memory), layer(y, memory), atol=0, rtol=0)  # exact: the same call, no dropout


def test_from_torch_refuses_what_it_cannot_copy():
    with pytest.raises(ValueError, match="batch_first"):
        DecoderLayer.from_torch(nn.TransformerDecoderLayer(8, 2, 16, batch_first=False))
    with pytest.raises(ValueError, match="ReLU"):
        DecoderLayer.from_torch(nn.TransformerDecoderLayer(8, 2, 16, batch_first=True, activation="gelu"))
