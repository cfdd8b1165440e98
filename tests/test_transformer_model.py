"""Lesson 9's whole Transformer: equal to one built on torch.nn.Transformer, masks that leak nothing, counts."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attention_course.transformer import TorchTransformer, Transformer, count_parameters, parameter_count

SIZES = [(2, 7, 5, 32, 4, 2, 64), (3, 4, 9, 16, 2, 1, 48), (1, 1, 3, 24, 3, 3, 32)]  # B, T_src, T_tgt, d, h, L, d_ff


def _tokens(seed, B, T, vocab, pad_first_rows=True):
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, vocab, (B, T), generator=generator)  # (B, T), no pads yet
    if pad_first_rows and T > 1:
        tokens[0, -(T // 2):] = 0  # the first row ends in pads
    return tokens


def _pair(norm_first, d, h, L, d_ff, seed=0, dropout=0.0):
    torch.manual_seed(seed)
    reference = TorchTransformer(23, 17, d, h, L, d_ff, dropout, norm_first=norm_first)
    return Transformer.from_torch(reference), reference


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize(("B", "T_src", "T_tgt", "d", "h", "L", "d_ff"), SIZES)
def test_equals_the_model_built_on_nn_transformer(norm_first, B, T_src, T_tgt, d, h, L, d_ff):
    seed = 0
    ours, reference = _pair(norm_first, d, h, L, d_ff, seed)
    src, tgt = _tokens(seed, B, T_src, 23), _tokens(seed + 7, B, T_tgt, 17, pad_first_rows=False)
    ours.eval(), reference.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(src, tgt), reference(src, tgt), atol=2e-5, rtol=1e-4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_a_training_step_gives_the_same_gradients(norm_first):
    ours, reference = _pair(norm_first, 32, 4, 2, 64)
    src, tgt = _tokens(3, 4, 8, 23), _tokens(4, 4, 6, 17, pad_first_rows=False)
    targets = _tokens(5, 4, 6, 17, pad_first_rows=False)
    for model in (ours, reference):
        nn.functional.cross_entropy(model(src, tgt).flatten(0, 1), targets.flatten()).backward()
    torch.testing.assert_close(ours.src_embed.weight.grad, reference.src_embed.weight.grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours.encoder.layers[0].self_attn.W_q.weight.grad,
                               reference.transformer.encoder.layers[0].self_attn.in_proj_weight.grad[:32],
                               atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours.decoder.layers[1].cross_attn.W_o.weight.grad,
                               reference.transformer.decoder.layers[1].multihead_attn.out_proj.weight.grad,
                               atol=1e-5, rtol=1e-4)


def _model(seed=0, norm_first=False):
    torch.manual_seed(seed)
    return Transformer(23, 17, 32, 4, 2, 64, dropout=0.0, norm_first=norm_first).eval()


@pytest.mark.parametrize("norm_first", [False, True])
def test_changing_future_target_tokens_changes_no_earlier_output(norm_first):
    t = 2  # positions on both sides of it
    model = _model(1, norm_first)
    src, tgt = _tokens(1, 3, 7, 23), _tokens(2, 3, 6, 17, pad_first_rows=False)
    changed = tgt.clone()
    changed[:, t + 1:] = (changed[:, t + 1:] + 5) % 16 + 1  # other real tokens after position t
    with torch.no_grad():
        before, after = model(src, tgt), model(src, changed)
    # exact: a hidden key's weight is exp(-inf) = 0, and both passes have the same shapes and path
    torch.testing.assert_close(before[:, :t + 1], after[:, :t + 1], atol=0, rtol=0)
    assert not torch.allclose(before[:, t + 1:], after[:, t + 1:])  # the test can see a change


@pytest.mark.parametrize("norm_first", [False, True])
def test_what_sits_at_padded_source_positions_changes_nothing(norm_first):
    model = _model(2, norm_first)
    src, tgt = _tokens(3, 2, 6, 23), _tokens(4, 2, 5, 17, pad_first_rows=False)
    with torch.no_grad():
        before = model(src, tgt)
        longer = model(torch.cat([src, torch.zeros(2, 4, dtype=torch.long)], dim=1), tgt)  # 4 more pads
        model.src_embed.weight[0] += 3.0  # a different vector for the pad token
        moved = model(src, tgt)
    torch.testing.assert_close(before, longer, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(before, moved, atol=1e-6, rtol=1e-5)
    model.src_embed.weight.data[src[1, 0]] += 3.0  # a real token's vector does matter: the test can fail
    with torch.no_grad():
        assert not torch.allclose(before, model(src, tgt))


def test_masks_have_the_documented_shapes_and_values():
    model = _model()
    src = torch.tensor([[5, 6, 0], [7, 0, 0]])
    tgt = torch.tensor([[1, 3, 0, 0]])
    assert model.source_mask(src).shape == (2, 1, 1, 3)
    assert model.source_mask(src)[1, 0, 0].tolist() == [True, False, False]
    target = model.target_mask(tgt)[0, 0]  # (T, T)
    assert target.tolist() == [[True, False, False, False], [True, True, False, False],
                               [True, True, False, False], [True, True, False, False]]


def test_embeddings_start_at_the_positions_scale():
    model = Transformer(1000, 1000, 64, 4, 1, 128)
    scaled = model.src_embed.weight * 64 ** 0.5
    assert 0.9 < scaled.std().item() < 1.1
    assert model.positions.shape == (512, 64)


def test_shared_and_tied_embeddings_are_one_matrix():
    model = Transformer(40, 40, 16, 2, 1, 32, share_embeddings=True, tie_output=True)
    assert model.src_embed is model.tgt_embed and model.out.weight is model.tgt_embed.weight
    assert count_parameters(model) == parameter_count(40, 16, 32, 1, tied=True)
    with pytest.raises(ValueError, match="one vocabulary"):
        Transformer(40, 30, 16, 2, 1, 32, share_embeddings=True)


def test_too_long_a_sequence_is_refused_with_a_message():
    model = Transformer(10, 10, 16, 2, 1, 32, max_len=8)
    with pytest.raises(ValueError, match="longer than max_len = 8"):
        model(torch.ones(1, 9, dtype=torch.long), torch.ones(1, 3, dtype=torch.long))


@pytest.mark.parametrize(("vocab", "d", "d_ff", "L", "h", "tied"),
                         [(50, 16, 64, 2, 4, False), (100, 32, 128, 3, 2, True)])
def test_the_formula_counts_what_the_model_has(vocab, d, d_ff, L, h, tied):
    model = Transformer(vocab, vocab, d, h, L, d_ff, share_embeddings=tied, tie_output=tied)
    assert count_parameters(model) == parameter_count(vocab, d, d_ff, L, tied)


def test_the_base_model_has_the_counts_the_lesson_quotes():
    assert parameter_count(37000, 512, 2048, 6, tied=True) == 63_119_496
    assert parameter_count(37000, 512, 2048, 6, tied=False) == 101_007_496


def test_each_layer_of_the_base_model_matches_nn_transformer_exactly():
    ours = Transformer(100, 100, 512, 8, 1, 2048)
    theirs = nn.Transformer(512, 8, 1, 1, 2048, batch_first=True)
    assert count_parameters(ours.encoder.layers[0]) == count_parameters(theirs.encoder.layers[0]) == 3_152_384
    assert count_parameters(ours.decoder.layers[0]) == count_parameters(theirs.decoder.layers[0]) == 4_204_032
