"""Lesson 10's three wirings, held against torch's own stacks with copied weights, their masks and objectives."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attention_course import family as fam
from attention_course.masking import changed_positions
from attention_course.transformer import DecoderLayer, EncoderLayer

D_MODEL, HEADS, D_FF, LAYERS, VOCAB = 16, 2, 32, 2, 11


def _tokens(seed=0):
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(1, VOCAB, (3, 7), generator=generator)  # (B, T)
    tokens[1, 5:] = fam.PAD_ID  # a shorter sequence
    tokens[2, 3:] = fam.PAD_ID
    return tokens


def _future(T):
    """torch's boolean causal mask: True = may NOT attend (the keys after the query)."""
    return torch.ones(T, T, dtype=torch.bool).triu(1)


def _torch_encoder(norm_first):
    layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True, norm_first=norm_first)
    norm = nn.LayerNorm(D_MODEL) if norm_first else None
    return nn.TransformerEncoder(layer, LAYERS, norm=norm, enable_nested_tensor=False).eval()


def _copy_encoder(ours, theirs):
    for i, layer in enumerate(theirs.layers):
        ours.layers[i] = EncoderLayer.from_torch(layer)
    if theirs.norm is not None:
        ours.norm.load_state_dict(theirs.norm.state_dict())


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_only_is_torchs_encoder_under_a_padding_mask(norm_first):
    torch.manual_seed(0)
    model = fam.EncoderOnly(VOCAB, D_MODEL, HEADS, LAYERS, D_FF, norm_first=norm_first).eval()
    theirs = _torch_encoder(norm_first)
    _copy_encoder(model.encoder, theirs)
    tokens = _tokens()
    with torch.no_grad():
        want = theirs(model.embed(tokens), src_key_padding_mask=tokens == fam.PAD_ID)  # torch: True = ignore
        got = model.hidden(tokens)
    real = tokens != fam.PAD_ID
    torch.testing.assert_close(got[real], want[real], atol=1e-5, rtol=1e-5)
    assert model(tokens).shape == (3, 7, VOCAB)


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_only_is_torchs_encoder_under_a_causal_mask(norm_first):
    torch.manual_seed(1)
    model = fam.DecoderOnly(VOCAB, D_MODEL, HEADS, LAYERS, D_FF, norm_first=norm_first).eval()
    theirs = _torch_encoder(norm_first)
    _copy_encoder(model.decoder, theirs)
    tokens = _tokens(1)
    T = tokens.shape[1]
    with torch.no_grad():
        want = theirs(model.embed(tokens), mask=_future(T),
                      src_key_padding_mask=tokens == fam.PAD_ID, is_causal=True)
        got = model.hidden(tokens)
    real = tokens != fam.PAD_ID
    torch.testing.assert_close(got[real], want[real], atol=1e-5, rtol=1e-5)


def test_encoder_decoder_is_torchs_encoder_and_decoder():
    torch.manual_seed(2)
    model = fam.EncoderDecoder(VOCAB, D_MODEL, HEADS, LAYERS, D_FF).eval()
    encoder = _torch_encoder(False)
    decoder_layer = nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True)
    decoder = nn.TransformerDecoder(decoder_layer, LAYERS).eval()
    _copy_encoder(model.encoder, encoder)
    for i, layer in enumerate(decoder.layers):
        model.decoder.layers[i] = DecoderLayer.from_torch(layer)
    src, tgt = _tokens(2), _tokens(3)[:, :5]
    with torch.no_grad():
        memory = encoder(model.embed(src), src_key_padding_mask=src == fam.PAD_ID)
        want = decoder(model.embed(tgt), memory, tgt_mask=_future(5),
                       tgt_key_padding_mask=tgt == fam.PAD_ID, memory_key_padding_mask=src == fam.PAD_ID)
        got = model.hidden(src, tgt)
    real = tgt != fam.PAD_ID
    torch.testing.assert_close(got[real], want[real], atol=1e-5, rtol=1e-5)
    assert model(src, tgt).shape == (3, 5, VOCAB)


def test_the_masks_of_the_three_wirings():
    tokens = torch.tensor([[5, 6, 7, 0]])  # one pad at the end
    encoder_only = fam.EncoderOnly.mask(tokens)
    assert encoder_only.shape == (1, 1, 1, 4) and encoder_only[0, 0, 0].tolist() == [True, True, True, False]
    decoder_only = fam.DecoderOnly.mask(tokens)[0, 0]  # (T, T)
    assert decoder_only.tolist() == [[True, False, False, False], [True, True, False, False],
                                     [True, True, True, False], [True, True, True, False]]
    assert torch.equal(fam.EncoderDecoder.target_mask(tokens), fam.DecoderOnly.mask(tokens))
    assert torch.equal(fam.EncoderDecoder.source_mask(tokens), encoder_only)


def test_only_the_encoder_sees_the_future():
    torch.manual_seed(3)
    tokens = torch.tensor([[4, 5, 6, 7, 8]])
    later = tokens.clone()
    later[0, -1] = 9
    # changed_positions compares bit for bit, which is exact here: a hidden key's weight is exp(-inf) = 0, and both
    # passes have the same shapes, so an output the change must not reach does not move at all
    for wiring, expected in ((fam.EncoderOnly, [0, 1, 2, 3, 4]), (fam.DecoderOnly, [4])):
        model = wiring(VOCAB, D_MODEL, HEADS, LAYERS, D_FF).eval()
        with torch.no_grad():
            assert changed_positions(model.hidden(tokens), model.hidden(later)) == expected
    model = fam.EncoderDecoder(VOCAB, D_MODEL, HEADS, LAYERS, D_FF).eval()
    with torch.no_grad():
        assert changed_positions(model.hidden(tokens, tokens), model.hidden(later, tokens)) == [0, 1, 2, 3, 4]
        assert changed_positions(model.hidden(tokens, tokens), model.hidden(tokens, later)) == [4]


def test_too_long_a_sequence_is_named():
    model = fam.EncoderOnly(VOCAB, D_MODEL, HEADS, 1, D_FF, max_len=4)
    with pytest.raises(ValueError, match="up to 4 tokens"):
        model(torch.ones(1, 5, dtype=torch.long))


# ---------------------------------------------------------------- objectives


def test_masked_lm_hides_real_tokens_and_scores_only_them():
    tokens = _tokens()
    inputs, targets = fam.masked_lm_batch(tokens, mask_id=99, generator=torch.Generator().manual_seed(0), rate=0.3)
    hidden = targets != fam.IGNORE
    assert hidden.any(dim=1).all()  # at least one per sequence
    assert (inputs[hidden] == 99).all() and torch.equal(targets[hidden], tokens[hidden])
    assert torch.equal(inputs[~hidden], tokens[~hidden])
    assert not hidden[tokens == fam.PAD_ID].any()


def test_next_token_targets_are_the_inputs_shifted_left():
    tokens = torch.tensor([[5, 6, 7, 0]])
    inputs, targets = fam.next_token_batch(tokens, start_id=2)
    assert inputs.tolist() == [[2, 5, 6, 7]]
    assert targets.tolist() == [[5, 6, 7, fam.IGNORE]]


WORDS = ["Thank", "you", "for", "inviting", "me", "to", "your", "party", "last", "week"]  # T5's example


def test_span_corruption_is_t5s_example():
    words = WORDS
    inputs, targets = fam.span_corruption(words, [(2, 4), (8, 9)])
    assert " ".join(inputs) == "Thank you <X> me to your party <Y> week"
    assert " ".join(targets) == "<X> for inviting <Y> last <Z>"
    assert fam.span_corruption(["a", "b"], []) == (["a", "b"], ["<X>"])


@pytest.mark.parametrize("spans", [[(3, 2)], [(0, 2), (1, 3)], [(0, 11)], [(0, 1), (2, 3), (4, 5), (6, 7)]])
def test_span_corruption_rejects_bad_spans(spans):
    with pytest.raises(ValueError, match="spans"):
        fam.span_corruption(WORDS, spans)


def test_the_toy_language():
    assert len(fam.SENTENCES) == 4 * 4 * 12
    assert "i eat an apple" in fam.SENTENCES and "we draw a kite" in fam.SENTENCES
    assert fam.decode(fam.encode(["i eat an apple"])[0]) == "i eat an apple"


def test_bidirectional_context_finds_the_article_and_causal_context_cannot():
    # 100 steps suffice: every probability is then at least 0.03 from 0.5 (0.3 for the encoder), far from a
    # rounding that could flip an article; the accuracies are counts over 192 sentences, exact fractions
    encoder_only = fam.train_toy("encoder-only", steps=100, progress=False)
    decoder_only = fam.train_toy("decoder-only", steps=100, progress=False)
    assert fam.article_accuracy(encoder_only) == 1.0
    assert fam.article_accuracy(decoder_only) == 0.5  # the same guess before every noun: right half the time
    probabilities = fam.article_probabilities(decoder_only, ["i eat an apple", "i eat a dog"])
    # the same prefix "i eat" in two rows of a batch: equal up to rounding, since the rows can take other SIMD
    # paths (6e-8 apart on AVX-512); atol 1e-6, far below the 0.03 between any prefix's probability and 0.5
    torch.testing.assert_close(probabilities[0], probabilities[1], rtol=0, atol=1e-6)
    assert fam.generate(decoder_only, "i eat").split()[:2] == ["i", "eat"]
    with pytest.raises(ValueError, match="left to right"):
        fam.generate(encoder_only, "i eat")


def test_toy_training_is_seeded():
    first = fam.train_toy("decoder-only", steps=5, progress=False).losses
    # exact: the same seed, the same single thread and the same path in one process give the same numbers
    assert first == fam.train_toy("decoder-only", steps=5, progress=False).losses
    with pytest.raises(ValueError, match="encoder-only, decoder-only"):
        fam.train_toy("encoder-decoder")
