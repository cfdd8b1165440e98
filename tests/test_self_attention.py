"""Lesson 3's self_attention module, held against torch's own attention and nn.MultiheadAttention."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from attention_course import self_attention as sa
from attention_course.attention import scaled_dot_product_attention


def randn(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def random_perm(seed: int, n: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- tokens and features


@pytest.mark.parametrize(("text", "tokens"), [
    ("Hello I love you", ["Hello", "I", "love", "you"]),
    ("Hello, I love you!", ["Hello", "I", "love", "you"]),
    ("je t'aime", ["je", "t'", "aime"]),
    ("  We   love\ncats ", ["We", "love", "cats"]),
    ("", []),
    ("123 !!", []),
])
def test_tokenize(text, tokens):
    assert sa.tokenize(text) == tokens


def test_token_ids_ignore_case_and_map_unknown_words_to_zero():
    ids = sa.token_ids(["Hello", "HELLO", "hello", "zebra"])
    assert ids.dtype == torch.long
    assert ids.tolist() == [sa.VOCAB.index("hello")] * 3 + [0]
    assert sa.VOCAB[0] == sa.UNKNOWN


def test_vocabulary_has_no_duplicates_and_covers_the_lesson_sentences():
    assert len(set(sa.VOCAB)) == len(sa.VOCAB)
    for text in (sa.SENTENCE, sa.OTHER_SENTENCE, sa.FRENCH):
        assert (sa.token_ids(sa.tokenize(text)) > 0).all(), text


def test_features_of_the_sentence():
    X = sa.features(sa.SENTENCE)
    assert X.shape == (4, len(sa.FEATURES))
    on = {token: {f for f, v in zip(sa.FEATURES, row) if v == 1} for token, row in zip(sa.tokenize(sa.SENTENCE), X)}
    assert on == {"Hello": {"greeting"}, "I": {"pronoun", "1st person"}, "love": {"verb"},
                  "you": {"pronoun", "2nd person"}}
    assert set(X.unique().tolist()) <= {0.0, 1.0}


def test_features_accept_tokens_or_text_and_unknown_words_are_zero():
    # exact here and below: features are rows looked up in the feature table, copied without arithmetic
    assert torch.equal(sa.features(sa.SENTENCE), sa.features(sa.tokenize(sa.SENTENCE)))
    assert torch.equal(sa.features(["zebra"]), torch.zeros(1, len(sa.FEATURES)))
    assert sa.features("").shape == (0, len(sa.FEATURES))


def test_feature_embedding_is_the_frozen_feature_table():
    embedding = sa.feature_embedding()
    ids = sa.token_ids(sa.tokenize(sa.SENTENCE))
    assert torch.equal(embedding(ids), sa.features(sa.SENTENCE))
    assert not embedding.weight.requires_grad
    embedding.weight.data.zero_()  # a copy: the module's table cannot change the package's
    assert sa.FEATURE_TABLE.abs().sum() > 0


# ---------------------------------------------------------------- self- and cross-attention from matrices


@pytest.mark.parametrize(("batch", "T", "d_in", "d_k", "d_v"), [
    ((), 1, 1, 1, 1),  # every size 1
    ((3,), 5, 6, 4, 3),  # a batch; d_in, d_k, d_v all differ
    ((2, 2), 7, 3, 2, 5),  # two leading dimensions; d_v > d_in > d_k
    ((), 16, 8, 4, 8),  # no batch, a longer sequence
], ids=["sizes-1", "batch", "two-leading-dims", "no-batch"])
def test_self_attention_equals_torch(batch, T, d_in, d_k, d_v):
    seed = 0
    x = randn(seed, *batch, T, d_in)
    W_Q, W_K, W_V = randn(seed + 10, d_in, d_k), randn(seed + 20, d_in, d_k), randn(seed + 30, d_in, d_v)
    output, weights = sa.self_attention(x, W_Q, W_K, W_V)
    expected = F.scaled_dot_product_attention(x @ W_Q, x @ W_K, x @ W_V)
    assert output.shape == (*batch, T, d_v)
    assert weights.shape == (*batch, T, T)
    torch.testing.assert_close(output, expected, rtol=1e-10, atol=1e-12)
    expected_weights = torch.softmax((x @ W_Q) @ (x @ W_K).transpose(-2, -1) / math.sqrt(d_k), dim=-1)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("T_q", "T_k", "d_in", "d_memory", "d_k", "d_v"),
                         [(3, 5, 4, 6, 2, 3), (1, 7, 2, 2, 2, 2), (6, 2, 5, 3, 4, 1)],
                         ids=["T_q<T_k", "one-query", "T_q>T_k-d_v-1"])
def test_cross_attention_equals_torch(T_q, T_k, d_in, d_memory, d_k, d_v):
    seed = 0
    x, memory = randn(seed, 2, T_q, d_in), randn(seed + 1, 2, T_k, d_memory)
    W_Q, W_K, W_V = randn(seed + 2, d_in, d_k), randn(seed + 3, d_memory, d_k), randn(seed + 4, d_memory, d_v)
    output, weights = sa.cross_attention(x, memory, W_Q, W_K, W_V)
    assert output.shape == (2, T_q, d_v)
    assert weights.shape == (2, T_q, T_k)
    torch.testing.assert_close(output, F.scaled_dot_product_attention(x @ W_Q, memory @ W_K, memory @ W_V),
                               rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, T_q, dtype=torch.float64))


def test_self_attention_is_cross_attention_with_itself():
    x = randn(0, 5, 4)
    W_Q, W_K, W_V = randn(1, 4, 3), randn(2, 4, 3), randn(3, 4, 2)
    for a, b in zip(sa.self_attention(x, W_Q, W_K, W_V), sa.cross_attention(x, x, W_Q, W_K, W_V)):
        assert torch.equal(a, b)  # exact: self_attention is that very call


def test_a_mask_is_passed_through():
    x, memory = randn(0, 3, 4), randn(1, 5, 4)
    W_Q, W_K, W_V = randn(2, 4, 4), randn(3, 4, 4), randn(4, 4, 2)
    mask = torch.rand(3, 5, generator=torch.Generator().manual_seed(5)) > 0.4
    mask[:, 0] = True  # every query may attend somewhere
    output, weights = sa.cross_attention(x, memory, W_Q, W_K, W_V, mask)
    expected = F.scaled_dot_product_attention(x @ W_Q, memory @ W_K, memory @ W_V, attn_mask=mask)
    torch.testing.assert_close(output, expected, rtol=1e-10, atol=1e-12)
    assert (weights[~mask] == 0).all()


# ---------------------------------------------------------------- the modules: against torch and nn.MultiheadAttention


@pytest.mark.parametrize(("B", "T", "d_in", "d_k", "d_v", "bias"), [
    (1, 4, 8, 4, 4, False), (3, 7, 5, 2, 6, False), (3, 7, 5, 2, 6, True), (2, 1, 3, 3, 3, True),
], ids=["B-1", "widths-differ", "widths-differ-bias", "T-1-bias"])
def test_self_attention_module_equals_torch(B, T, d_in, d_k, d_v, bias):
    seed = 0
    torch.manual_seed(seed)
    layer = sa.SelfAttention(d_in, d_k, d_v, bias=bias).double()
    x = randn(seed, B, T, d_in)
    output, weights = layer(x)
    expected = F.scaled_dot_product_attention(layer.W_Q(x), layer.W_K(x), layer.W_V(x))
    assert output.shape == (B, T, d_v) and weights.shape == (B, T, T)
    torch.testing.assert_close(output, expected, rtol=1e-10, atol=1e-12)
    if not bias:  # without biases the module is exactly the equation with its matrices
        torch.testing.assert_close(output, sa.self_attention(x, *layer.matrices())[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("B", "T", "d_model", "bias"), [(1, 4, 8, False), (3, 9, 6, True), (2, 1, 4, False),
                                                         (2, 5, 1, True)],
                         ids=["B-1", "bias", "T-1", "d_model-1-bias"])
def test_self_attention_module_equals_multihead_attention_with_one_head(B, T, d_model, bias):
    seed = 0
    torch.manual_seed(seed)
    ours = sa.SelfAttention(d_model, d_model, d_model, bias=bias).double()
    theirs = nn.MultiheadAttention(d_model, num_heads=1, bias=bias, batch_first=True).double()
    with torch.no_grad():
        # in_proj_weight stacks W_Q, W_K and W_V, each in nn.Linear's (d_out, d_in) layout
        theirs.in_proj_weight.copy_(torch.cat([ours.W_Q.weight, ours.W_K.weight, ours.W_V.weight]))
        if bias:
            theirs.in_proj_bias.copy_(torch.cat([ours.W_Q.bias, ours.W_K.bias, ours.W_V.bias]))
            theirs.out_proj.bias.zero_()
        theirs.out_proj.weight.copy_(torch.eye(d_model))  # no output projection: lesson 6 adds W_O
    theirs.eval()
    x = randn(seed + 7, B, T, d_model)
    output, weights = ours(x)
    expected, expected_weights = theirs(x, x, x, need_weights=True)
    torch.testing.assert_close(output, expected, rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(("T_q", "T_k", "d_model", "d_memory"), [(3, 5, 4, 6), (6, 2, 8, 3), (1, 4, 2, 2)],
                         ids=["wider-memory", "narrower-memory", "same-width"])
def test_cross_attention_module_equals_multihead_attention_with_kdim(T_q, T_k, d_model, d_memory):
    seed = 0
    torch.manual_seed(seed)
    ours = sa.CrossAttention(d_model, d_memory, d_model, d_model).double()
    theirs = nn.MultiheadAttention(d_model, num_heads=1, bias=False, batch_first=True,
                                   kdim=d_memory, vdim=d_memory).double()
    with torch.no_grad():
        if theirs._qkv_same_embed_dim:  # d_memory == d_model: the three matrices are stacked
            theirs.in_proj_weight.copy_(torch.cat([ours.W_Q.weight, ours.W_K.weight, ours.W_V.weight]))
        else:
            theirs.q_proj_weight.copy_(ours.W_Q.weight)
            theirs.k_proj_weight.copy_(ours.W_K.weight)
            theirs.v_proj_weight.copy_(ours.W_V.weight)
        theirs.out_proj.weight.copy_(torch.eye(d_model))
    x, memory = randn(seed, 2, T_q, d_model), randn(seed + 1, 2, T_k, d_memory)
    output, weights = ours(x, memory)
    expected, expected_weights = theirs(x, memory, memory, need_weights=True)
    assert output.shape == (2, T_q, d_model) and weights.shape == (2, T_q, T_k)
    torch.testing.assert_close(output, expected, rtol=1e-9, atol=1e-11)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(("T_q", "T_k"), [(3, 5), (5, 3), (1, 9)])
def test_cross_attention_module_shapes(T_q, T_k):
    torch.manual_seed(0)
    layer = sa.CrossAttention(d_in=6, d_memory=8, d_k=4, d_v=5)
    output, weights = layer(torch.randn(2, T_q, 6), torch.randn(2, T_k, 8))
    assert output.shape == (2, T_q, 5)
    assert weights.shape == (2, T_q, T_k)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, T_q))


def test_self_attention_is_a_cross_attention_with_memory_x():
    torch.manual_seed(0)
    layer = sa.SelfAttention(4, 3, 2)
    assert isinstance(layer, sa.CrossAttention)
    x = torch.randn(2, 5, 4)
    for a, b in zip(layer(x), sa.CrossAttention.forward(layer, x, x)):
        assert torch.equal(a, b)  # exact: SelfAttention.forward is that very call


def test_modules_say_where_they_were_introduced():
    for thing in (sa.SelfAttention, sa.CrossAttention, sa.self_attention, sa.cross_attention, sa.equivariance_gap):
        assert "lesson 3" in thing.__doc__.lower()


def test_matrices_round_trip_and_from_matrices():
    W_Q, W_K, W_V = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 2)
    layer = sa.SelfAttention.from_matrices(W_Q, W_K, W_V)
    assert isinstance(layer, sa.SelfAttention)
    for got, expected in zip(layer.matrices(), (W_Q, W_K, W_V)):
        assert torch.equal(got, expected)  # exact: copied in and transposed back, no arithmetic
    assert layer.W_Q.weight.shape == (3, 5)  # nn.Linear's layout, the transpose
    x = torch.randn(1, 4, 5)
    torch.testing.assert_close(layer(x)[0], sa.self_attention(x, W_Q, W_K, W_V)[0])
    cross = sa.CrossAttention.from_matrices(torch.randn(4, 3), torch.randn(6, 3), torch.randn(6, 2))
    assert (cross.W_Q.in_features, cross.W_K.in_features, cross.W_V.out_features) == (4, 6, 2)


def test_load_matrices_rejects_a_wrong_shape_and_zeroes_biases():
    layer = sa.SelfAttention(4, 3, 2, bias=True)
    with pytest.raises(ValueError, match=r"expected a matrix of shape \(4, 3\)"):
        layer.load_matrices(torch.randn(3, 4), torch.randn(4, 3), torch.randn(4, 2))
    layer.load_matrices(torch.randn(4, 3), torch.randn(4, 3), torch.randn(4, 2))
    assert all((linear.bias == 0).all() for linear in (layer.W_Q, layer.W_K, layer.W_V))


# ---------------------------------------------------------------- permutation equivariance


@pytest.mark.parametrize(("seed", "T", "B"), [(0, 2, 1), (1, 6, 3), (2, 11, 1)],
                         ids=["one-swap", "batch", "longer"])
def test_self_attention_is_permutation_equivariant(seed, T, B):
    torch.manual_seed(seed)
    layer = sa.SelfAttention(5, 4, 3).double()
    x = randn(seed, B, T, 5)
    perm = random_perm(seed, T)
    output, weights = layer(x)
    permuted_output, permuted_weights = layer(x[:, perm])
    torch.testing.assert_close(permuted_output, output[:, perm], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(permuted_weights, weights[:, perm][:, :, perm], rtol=1e-10, atol=1e-12)  # P A Pᵀ
    assert sa.equivariance_gap(layer, x, perm) < 1e-12


@pytest.mark.parametrize(("T_q", "T_k"), [(3, 5), (4, 2)])
def test_cross_attention_ignores_the_order_of_the_memory_and_follows_the_order_of_the_queries(T_q, T_k):
    seed = 0
    torch.manual_seed(seed)
    layer = sa.CrossAttention(4, 6, 3, 2).double()
    x, memory = randn(seed, 2, T_q, 4), randn(seed + 1, 2, T_k, 6)
    output, weights = layer(x, memory)
    memory_perm, query_perm = random_perm(seed, T_k), random_perm(seed + 1, T_q)
    reordered_memory, reordered_weights = layer(x, memory[:, memory_perm])
    torch.testing.assert_close(reordered_memory, output, rtol=1e-10, atol=1e-12)  # invariant to the memory's order
    torch.testing.assert_close(reordered_weights, weights[:, :, memory_perm], rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(layer(x[:, query_perm], memory)[0], output[:, query_perm], rtol=1e-10, atol=1e-12)


def test_equivariance_gap_of_the_comparison_layers():
    seed = 0
    layers = {name: layer.double() for name, layer in sa.comparison_layers(6, seed=seed).items()}
    x = randn(seed, 2, 7, 6)
    for perm in (random_perm(seed, 7), torch.tensor([1, 2, 0, 3, 4, 5, 6]), torch.arange(7).flip(0)):
        assert sa.equivariance_gap(layers["linear"], x, perm) < 1e-12
        assert sa.equivariance_gap(layers["self-attention"], x, perm) < 1e-12
        assert sa.equivariance_gap(layers["convolution"], x, perm) > 1e-3
    # the identity changes nothing; exact: both sides are the same computation on the same numbers
    assert sa.equivariance_gap(layers["convolution"], x, torch.arange(7)) == 0.0


def test_equivariance_gap_matches_its_definition_and_accepts_tuples():
    torch.manual_seed(0)
    conv = sa.Conv1dOverTokens(3, 3).double()
    x, perm = randn(1, 1, 5, 3), [2, 0, 1, 4, 3]
    with torch.no_grad():
        expected = (conv(x[:, perm]) - conv(x)[:, perm]).abs().max().item()
    # exact: the definition, computed the same way on the same numbers
    assert sa.equivariance_gap(conv, x, perm) == expected
    assert sa.equivariance_gap(lambda t: (conv(t), None), x, perm) == expected


# ---------------------------------------------------------------- attention, a linear layer and a convolution


def test_conv1d_over_tokens_equals_torch_conv1d():
    torch.manual_seed(0)
    layer = sa.Conv1dOverTokens(4, 5, kernel_size=3).double()
    x = randn(0, 2, 7, 4)
    expected = F.conv1d(x.transpose(1, 2), layer.conv.weight, layer.conv.bias, padding=1).transpose(1, 2)
    assert layer(x).shape == (2, 7, 5)
    torch.testing.assert_close(layer(x), expected)


def test_comparison_layers_are_seeded_and_leave_the_global_generator_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = sa.comparison_layers(8, seed=1), sa.comparison_layers(8, seed=1)
    assert torch.equal(torch.random.get_rng_state(), before)
    for name in a:
        for p, q in zip(a[name].parameters(), b[name].parameters()):
            assert torch.equal(p, q)  # exact: the same seeded draws
    c = sa.comparison_layers(8, seed=2)
    assert not torch.equal(a["linear"].weight, c["linear"].weight)
    x = torch.randn(2, 5, 8)
    for layer in a.values():
        assert isinstance(layer(x), torch.Tensor) and layer(x).shape == (2, 5, 8)


@pytest.mark.parametrize(("d", "kernel_size"), [(2, 3), (16, 5)])
def test_parameter_counts(d, kernel_size):
    layers = sa.comparison_layers(d, kernel_size=kernel_size)
    assert sa.parameter_count(layers["linear"]) == d * d + d
    assert sa.parameter_count(layers["convolution"]) == kernel_size * d * d + d
    assert sa.parameter_count(layers["self-attention"]) == 3 * d * d
    assert sa.parameter_count(sa.SelfAttention(d, 3, 5)) == d * (2 * 3 + 5)


@pytest.mark.parametrize(("kernel_size", "T"), [(1, 6), (3, 9), (5, 6)])
def test_dependency_map_shows_what_each_layer_can_see(kernel_size, T):
    layers = sa.comparison_layers(4, kernel_size=kernel_size, seed=0)
    x = torch.randn(T, 4, generator=torch.Generator().manual_seed(1))
    offsets = torch.arange(T)[:, None] - torch.arange(T)[None, :]  # i - j
    # what a layer cannot see has a Jacobian block of exact zeros; what it sees, a norm far above 1e-9
    seen = {name: sa.dependency_map(layer, x) > 1e-9 for name, layer in layers.items()}
    assert torch.equal(seen["linear"], offsets == 0)
    assert torch.equal(seen["convolution"], offsets.abs() <= kernel_size // 2)
    assert seen["self-attention"].all()


def test_dependency_map_equals_finite_differences():
    layer = sa.comparison_layers(3, seed=0)["self-attention"].double()
    x = randn(0, 4, 3)  # (T, d)
    strength = sa.dependency_map(layer, x)
    assert strength.shape == (4, 4)
    eps = 1e-6
    for j in range(4):
        columns = []
        for feature in range(3):
            bumped = x.clone()
            bumped[j, feature] += eps
            with torch.no_grad():
                columns.append((layer(bumped[None]) - layer(x[None]))[0] / eps)  # (T, d_out): d y / d x[j, feature]
        block_norms = torch.stack(columns, dim=-1).pow(2).sum(dim=(1, 2)).sqrt()  # (T, d_out, d_in) -> (T,)
        torch.testing.assert_close(block_norms, strength[:, j], rtol=1e-4, atol=1e-6)
    assert torch.equal(sa.dependency_map(layer, x), sa.dependency_map(layer, x[None]))  # exact: reshaped to the same


@pytest.mark.parametrize(("T", "d_in", "d_k", "d_v"), [(1, 64, 64, 64), (16, 8, 4, 6), (1024, 5, 3, 3)])
def test_count_flops_agrees_with_the_formula(T, d_in, d_k, d_v):
    layer = sa.SelfAttention(d_in, d_k, d_v).to("meta")
    x = torch.empty(1, T, d_in, device="meta")
    assert sa.count_flops(layer, x) == sa.attention_flops_by_hand(T, d_in, d_k, d_v)


@pytest.mark.parametrize("T", [16, 4096])
def test_linear_and_convolution_flops_grow_linearly_and_attention_quadratically(T):
    d = 32
    layers = {name: copy.deepcopy(m).to("meta") for name, m in sa.comparison_layers(d).items()}
    flops = {name: sa.count_flops(m, torch.empty(1, T, d, device="meta")) for name, m in layers.items()}
    assert flops["linear"] == 2 * T * d * d
    assert flops["convolution"] == 2 * T * 3 * d * d
    assert flops["self-attention"] == 2 * T * d * 3 * d + 2 * T * T * 2 * d


def test_count_flops_on_real_tensors_too():
    layer = nn.Linear(4, 3)
    assert sa.count_flops(layer, torch.randn(5, 4)) == 2 * 5 * 4 * 3


# ---------------------------------------------------------------- hand-designed and random projections


def test_designed_projections_make_love_attend_to_its_subject_and_object():
    weights = sa.attention_over_sentence("hand-designed", 6.0)
    tokens = sa.tokenize(sa.SENTENCE)
    love, i, you, hello = (tokens.index(t) for t in ("love", "I", "you", "Hello"))
    assert weights[love, i] + weights[love, you] > 0.9
    assert weights[love, i] == pytest.approx(weights[love, you])
    assert weights[i].argmax() == love and weights[you].argmax() == love
    assert weights[hello].argmax() == you


def test_designed_rules_table():
    W_Q, W_K, W_V = sa.designed_projections(2.0)
    assert torch.equal(W_K, torch.eye(len(sa.FEATURES))) and torch.equal(W_V, torch.eye(len(sa.FEATURES)))
    # exact: products and sums of 0, 1 and 2 are whole numbers, which floats hold exactly
    rules = {(sa.FEATURES[a], sa.FEATURES[b]) for a, b in (W_Q @ W_K.T).nonzero().tolist()}
    assert rules == {("verb", "pronoun"), ("verb", "noun"), ("pronoun", "verb"), ("noun", "verb"),
                     ("greeting", "2nd person")}
    assert set((W_Q @ W_K.T).unique().tolist()) == {0.0, 2.0}


def test_strength_zero_gives_uniform_attention():
    for kind in ("hand-designed", "random"):
        torch.testing.assert_close(sa.attention_over_sentence(kind, 0.0), torch.full((4, 4), 0.25))


@pytest.mark.parametrize("share", [0.6, 0.99])
def test_strength_threshold_gives_the_share_exactly(share):
    strength = sa.strength_threshold(share)
    weights = sa.attention_over_sentence("hand-designed", strength).double()
    assert (weights[2, 1] + weights[2, 3]).item() == pytest.approx(share, abs=1e-6)
    assert sa.strength_threshold(0.9) == pytest.approx(math.sqrt(6) * math.log(9))


def test_random_projections_are_seeded_and_as_large_as_the_designed_ones():
    seed = 0
    a, b = sa.random_projections(seed, 6.0), sa.random_projections(seed, 6.0)
    for p, q in zip(a, b):
        assert torch.equal(p, q)  # exact: the same seeded draws, scaled the same way
    assert not torch.equal(a[0], sa.random_projections(seed + 1, 6.0)[0])
    designed = sa.designed_projections(6.0)
    assert a[0].norm().item() == pytest.approx(designed[0].norm().item(), rel=1e-5)
    assert a[1].norm().item() == pytest.approx(designed[1].norm().item(), rel=1e-5)
    assert torch.equal(a[2], torch.eye(len(sa.FEATURES)))


def test_attention_over_sentence_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="hand-designed"):
        sa.attention_over_sentence("learned")


def test_matching_projections_align_french_with_english():
    W_Q, W_K, W_V = sa.matching_projections(6.0)
    _, weights = sa.cross_attention(sa.features(sa.FRENCH), sa.features(sa.SENTENCE), W_Q, W_K, W_V)
    english = sa.tokenize(sa.SENTENCE)
    picked = [english[i] for i in weights.argmax(dim=-1).tolist()]
    assert picked == ["I", "you", "love"]  # je, t', aime
    assert (weights.max(dim=-1).values > 0.75).all()


def test_output_only_returns_the_output():
    torch.manual_seed(0)
    inner = sa.SelfAttention(4, 4, 4)
    x = torch.randn(1, 3, 4)
    assert torch.equal(sa.OutputOnly(inner)(x), inner(x)[0])  # exact: the same call, its output passed on
    assert sa.parameter_count(sa.OutputOnly(inner)) == sa.parameter_count(inner)


def test_package_attention_is_lesson_2s():
    x = randn(0, 4, 3)
    W = torch.eye(3, dtype=torch.float64)
    output, weights = sa.self_attention(x, W, W, W)
    expected_output, expected_weights = scaled_dot_product_attention(x, x, x)
    # exact: x @ I adds exact zeros to x, so lesson 2's function gets the same numbers
    assert torch.equal(output, expected_output) and torch.equal(weights, expected_weights)
