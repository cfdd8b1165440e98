"""One family, three wirings of the same layers: encoder-only, decoder-only, encoder-decoder. Lesson 10.

- `EncoderOnly` (BERT): lesson 7's Encoder with a padding mask only, so every token sees the whole sentence,
  both sides; trained to fill in masked tokens (`masked_lm_batch`).
- `DecoderOnly` (GPT): the same Encoder stack under a causal mask, and no cross-attention, so each token
  sees only the tokens before it; trained to predict the next token (`next_token_batch`).
- `EncoderDecoder` (the paper, T5): lesson 7's Encoder and lesson 8's Decoder joined by cross-attention;
  trained to map an input sequence to an output sequence (T5: `span_corruption`, then any text-to-text task).

Each model embeds tokens (times sqrt(d_model)) and adds lesson 4's sinusoidal positions; masks are boolean,
True = may attend. The real BERT, GPT and T5 differ in details (learned or relative positions, GELU, where the
LayerNorm sits, sizes); the wiring and the masks are theirs.

A toy language shows what the two single-stack wirings learn: sentences "subject verb article noun", where the
article ("a" or "an") depends on the noun that comes after it (`SENTENCES`, `train_toy`, `article_accuracy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product

import torch
import torch.nn.functional as F
from torch import nn

from .masking import causal_mask, padding_mask
from .positional import sinusoidal_encoding
from .progress import progress_bar
from .runtime import seeded_training
from .transformer import Decoder, Encoder

PAD_ID = 0  # the pad token of every model here
IGNORE = -100  # the target of a position that is not scored (F.cross_entropy's ignore_index)


class _Embedding(nn.Module):
    """Token embeddings times sqrt(d_model), plus the sinusoidal positions of lesson 4."""

    def __init__(self, vocab_size: int, d_model: int, max_len: int):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
        self.register_buffer("positions", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.shape[1] > self.positions.shape[0]:
            raise ValueError(f"sequences of up to {self.positions.shape[0]} tokens; got {tokens.shape[1]}")
        return self.tokens(tokens) * self.scale + self.positions[:tokens.shape[1]]  # (B, T, d_model)


class EncoderOnly(nn.Module):
    """BERT's wiring: an Encoder stack, bidirectional (padding mask only), a head that scores every token.

    Introduced in lesson 10. forward(tokens (B, T)) -> logits (B, T, vocab_size); hidden(tokens) gives the
    encoder's output (B, T, d_model).
    """

    def __init__(self, vocab_size: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 256, dropout: float = 0.0, max_len: int = 64, norm_first: bool = False):
        super().__init__()
        self.embed = _Embedding(vocab_size, d_model, max_len)
        self.encoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.head = nn.Linear(d_model, vocab_size)

    @staticmethod
    def mask(tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, T): every query may attend to every real token, before and after it."""
        return padding_mask(tokens, PAD_ID)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encoder(self.embed(tokens), self.mask(tokens))  # (B, T, d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(tokens))  # (B, T, vocab_size)


class DecoderOnly(nn.Module):
    """GPT's wiring: the same stack of self-attention layers under a causal mask; no encoder, no cross-attention.

    Introduced in lesson 10. Its layers are lesson 7's EncoderLayer (self-attention and feed-forward): what makes
    it a "decoder" is the causal mask. Pre-norm by default, as in GPT-2. forward(tokens (B, T)) -> logits
    (B, T, vocab_size), where logits[:, t] scores the token after position t.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 256, dropout: float = 0.0, max_len: int = 64, norm_first: bool = True):
        super().__init__()
        self.embed = _Embedding(vocab_size, d_model, max_len)
        self.decoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.head = nn.Linear(d_model, vocab_size)

    @staticmethod
    def mask(tokens: torch.Tensor) -> torch.Tensor:
        """(B, 1, T, T): query i may attend to the real tokens at positions 0..i."""
        return causal_mask(tokens.shape[1]) & padding_mask(tokens, PAD_ID)  # (T, T) & (B, 1, 1, T)

    def hidden(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.embed(tokens), self.mask(tokens))  # (B, T, d_model)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(tokens))  # (B, T, vocab_size)


class EncoderDecoder(nn.Module):
    """The paper's and T5's wiring: an Encoder reads the source, a Decoder writes the target. Lesson 10.

    forward(src (B, T_src), tgt_in (B, T_tgt)) -> logits (B, T_tgt, vocab_size). The source mask hides source
    pads (bidirectional); the target mask is causal and hides target pads; cross-attention may read every real
    source token.
    """

    def __init__(self, vocab_size: int, d_model: int = 64, num_heads: int = 4, num_layers: int = 2,
                 d_ff: int = 256, dropout: float = 0.0, max_len: int = 64, norm_first: bool = False):
        super().__init__()
        self.embed = _Embedding(vocab_size, d_model, max_len)  # shared by source and target, as in T5
        self.encoder = Encoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.decoder = Decoder(num_layers, d_model, num_heads, d_ff, dropout, norm_first)
        self.head = nn.Linear(d_model, vocab_size)

    @staticmethod
    def source_mask(src: torch.Tensor) -> torch.Tensor:
        """(B, 1, 1, T_src): the encoder's self-attention and the decoder's cross-attention hide source pads."""
        return padding_mask(src, PAD_ID)

    @staticmethod
    def target_mask(tgt_in: torch.Tensor) -> torch.Tensor:
        """(B, 1, T_tgt, T_tgt): causal, and hiding target pads."""
        return causal_mask(tgt_in.shape[1]) & padding_mask(tgt_in, PAD_ID)

    def hidden(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        src_mask = self.source_mask(src)
        memory = self.encoder(self.embed(src), src_mask)  # (B, T_src, d_model)
        return self.decoder(self.embed(tgt_in), memory, self.target_mask(tgt_in), src_mask)  # (B, T_tgt, d_model)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(src, tgt_in))  # (B, T_tgt, vocab_size)


# ---------------------------------------------------------------- what each is trained to do


def masked_lm_batch(tokens: torch.Tensor, mask_id: int, generator: torch.Generator, rate: float = 0.15):
    """BERT's objective: hide some real tokens behind mask_id; the targets are the hidden tokens. Lesson 10.

    tokens (B, T) -> (inputs (B, T), targets (B, T)); targets are IGNORE except where a token was hidden, so only
    those positions are scored. Each sequence hides at least one token. (BERT also leaves some chosen tokens
    unchanged or swaps them for random ones; this keeps only the main idea.)
    """
    real = tokens != PAD_ID  # (B, T)
    chosen = (torch.rand(tokens.shape, generator=generator) < rate) & real
    noise = torch.rand(tokens.shape, generator=generator).masked_fill(~real, -1.0)  # (B, T): a random real position
    chosen[torch.arange(tokens.shape[0]), noise.argmax(dim=1)] = True  # at least one per sequence
    chosen &= real
    inputs = tokens.masked_fill(chosen, mask_id)
    targets = tokens.masked_fill(~chosen, IGNORE)
    return inputs, targets


def next_token_batch(tokens: torch.Tensor, start_id: int):
    """GPT's objective: read a start token and the tokens so far, predict the next one at every position.

    Introduced in lesson 10. tokens (B, T) -> (inputs (B, T), targets (B, T)): inputs are the tokens shifted right
    behind start_id (lesson 8's shift), targets the tokens themselves, pads IGNOREd.
    """
    start = torch.full_like(tokens[:, :1], start_id)  # (B, 1)
    inputs = torch.cat([start, tokens[:, :-1]], dim=1)  # (B, T)
    return inputs, tokens.masked_fill(tokens == PAD_ID, IGNORE)


SENTINELS = ("<X>", "<Y>", "<Z>", "<W>")


def span_corruption(words: list[str], spans: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
    """T5's pre-training objective: drop spans of words, each replaced by a sentinel; the target lists them.

    Introduced in lesson 10. spans are (start, end) word positions, end excluded, in order and not overlapping.
    ("Thank you for inviting me to your party last week", spans (2, 4) and (8, 9)) ->
    input  "Thank you <X> me to your party <Y> week", target "<X> for inviting <Y> last <Z>".
    """
    if len(spans) >= len(SENTINELS):
        raise ValueError(f"at most {len(SENTINELS) - 1} spans; got {len(spans)}")
    previous_end = 0
    for start, end in spans:
        if not previous_end <= start < end <= len(words):
            raise ValueError(f"spans must be in order, non-empty, not overlapping and inside the {len(words)} words; "
                             f"got {spans}")
        previous_end = end
    inputs, targets, position = [], [], 0
    for sentinel, (start, end) in zip(SENTINELS, spans):
        inputs += words[position:start] + [sentinel]
        targets += [sentinel] + words[start:end]
        position = end
    inputs += words[position:]
    targets.append(SENTINELS[len(spans)])  # the final sentinel says: no more spans
    return inputs, targets


# ---------------------------------------------------------------- a toy language where the right context matters

SUBJECTS = ("i", "you", "we", "they")
VERBS = ("eat", "see", "want", "draw")
VOWEL_NOUNS = ("apple", "egg", "owl", "orange", "ant", "igloo")
CONSONANT_NOUNS = ("banana", "dog", "cake", "pear", "cat", "kite")
SPECIALS = ("<pad>", "<mask>", "<s>")
VOCAB = (*SPECIALS, *SUBJECTS, *VERBS, "a", "an", *VOWEL_NOUNS, *CONSONANT_NOUNS)  # token id i is VOCAB[i]
MASK_ID, START_ID = VOCAB.index("<mask>"), VOCAB.index("<s>")
ARTICLE_POSITION = 2  # "subject verb ARTICLE noun"


def article(noun: str) -> str:
    """'an' before a noun that starts with a vowel, 'a' before the others."""
    return "an" if noun in VOWEL_NOUNS else "a"


SENTENCES = tuple(f"{s} {v} {article(n)} {n}" for s, v, n in product(SUBJECTS, VERBS, VOWEL_NOUNS + CONSONANT_NOUNS))


def encode(sentences) -> torch.Tensor:
    """Token ids (B, T) of sentences of the toy language, padded with PAD_ID."""
    rows = [[VOCAB.index(word) for word in sentence.split()] for sentence in sentences]
    T = max(len(row) for row in rows)
    return torch.tensor([row + [PAD_ID] * (T - len(row)) for row in rows])


def decode(ids) -> str:
    """The words of a sequence of token ids, pads left out."""
    return " ".join(VOCAB[int(i)] for i in ids if int(i) != PAD_ID)


@dataclass
class ToyRun:
    """What `train_toy` returns: the trained model (eval mode) and its loss at every step."""

    kind: str
    model: nn.Module
    losses: list[float] = field(default_factory=list)


TOY_KINDS = ("encoder-only", "decoder-only")


def train_toy(kind: str, steps: int = 300, seed: int = 0, batch_size: int = 64, lr: float = 3e-3,
              progress: bool = True) -> ToyRun:
    """Train a small EncoderOnly (masked tokens) or DecoderOnly (next token) on the toy language. Lesson 10.

    Seeded and single-threaded, so a run gives the same losses every time on the same machine.
    """
    if kind not in TOY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(TOY_KINDS)}; got {kind!r}")
    with seeded_training(seed):  # one thread, seeded: the same losses on every machine and every run
        generator = torch.Generator().manual_seed(seed)
        wiring = EncoderOnly if kind == "encoder-only" else DecoderOnly
        model = wiring(len(VOCAB), d_model=32, num_heads=2, num_layers=2, d_ff=64, max_len=8)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        corpus = encode(SENTENCES)  # (N, 4)
        run = ToyRun(kind, model)
        for _ in progress_bar(range(steps), f"training {kind}", progress):
            batch = corpus[torch.randint(len(corpus), (batch_size,), generator=generator)]  # (B, 4)
            if kind == "encoder-only":
                inputs, targets = masked_lm_batch(batch, MASK_ID, generator)
            else:
                inputs, targets = next_token_batch(batch, START_ID)
            logits = model(inputs)  # (B, T, vocab)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.losses.append(loss.item())
    model.eval()
    return run


@torch.no_grad()
def article_probabilities(run: ToyRun, sentences=SENTENCES) -> torch.Tensor:
    """The model's probability of 'an' rather than 'a' in each "subject verb ___ noun" sentence: (N,). Lesson 10.

    The encoder-only model reads "subject verb <mask> noun", both sides of the gap. The decoder-only model reads
    "<s> subject verb" and predicts the next token: the noun has not come yet. (The article in `sentences` is
    never shown to either.)
    """
    words = [sentence.split() for sentence in sentences]
    if run.kind == "encoder-only":
        tokens = encode([f"{s} {v} <mask> {n}" for s, v, _, n in words])  # (N, 4)
        logits = run.model(tokens)[:, ARTICLE_POSITION]  # (N, vocab)
    else:
        tokens = encode([f"<s> {s} {v}" for s, v, _, _ in words])  # (N, 3)
        logits = run.model(tokens)[:, -1]  # (N, vocab): the prediction for the token after the verb
    a, an = logits[:, VOCAB.index("a")], logits[:, VOCAB.index("an")]
    return torch.sigmoid(an - a)  # (N,): the softmax over the two articles


def article_accuracy(run: ToyRun, sentences=SENTENCES) -> float:
    """The share of sentences whose article the model gets right (its more likely article). Lesson 10."""
    p_an = article_probabilities(run, sentences)  # (N,)
    answers = torch.tensor([sentence.split()[ARTICLE_POSITION] == "an" for sentence in sentences])
    return float(((p_an > 0.5) == answers).float().mean())


@torch.no_grad()
def generate(run: ToyRun, prefix: str, max_tokens: int = 4) -> str:
    """Greedy continuation of `prefix` by the decoder-only toy model, one token per pass. Lesson 10."""
    if run.kind != "decoder-only":
        raise ValueError("only the decoder-only model generates left to right")
    ids = [START_ID] + [VOCAB.index(word) for word in prefix.split()]
    while len(ids) - 1 < max_tokens:
        logits = run.model(torch.tensor([ids]))[0, -1]  # (vocab,)
        ids.append(int(logits.argmax()))
    return decode(ids[1:])
