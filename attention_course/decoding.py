"""Teacher forcing and step-by-step generation on a toy task: reversing a string of digits. Lesson 8.

The decoder is trained with **teacher forcing**: its input is the target shifted right by one place, with a
start token in front (`shift_right`), and the causal mask lets every position see only the target tokens
before it, so one forward pass trains every position at once. It **generates** one token at a time
(`greedy_decode`): each step runs the decoder on what it has written so far and appends its best guess.

The toy task: the source is a string of LENGTH digits, the target is the same digits in reverse order
("307154" -> "451703"). `Reverser` is a one-layer encoder-decoder built from lesson 7's Encoder and this
lesson's Decoder; `train_reverser` trains it in a few seconds on a CPU, seeded and single-threaded.
"""

from __future__ import annotations

import functools
import html
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .masking import causal_mask
from .positional import sinusoidal_encoding
from .progress import progress_bar
from .runtime import seeded_training
from .transformer import Decoder, Encoder

DIGITS = tuple("0123456789")
START = "<s>"
VOCAB = (*DIGITS, START)  # token id i is VOCAB[i]: the digit d has id d
START_ID = VOCAB.index(START)  # 10
LENGTH = 6  # digits per source string, and so per target string
EXAMPLE = "307154"  # the lesson's example source


def shift_right(targets: torch.Tensor, start_id: int = START_ID) -> torch.Tensor:
    """The decoder's input under teacher forcing: a start token, then the targets without their last token.

    targets (B, T) -> (B, T): position t of the result holds targets[:, t - 1] (the start token at t = 0),
    so the decoder, asked at position t for targets[:, t], has seen exactly the targets before it.
    """
    start = torch.full_like(targets[:, :1], start_id)  # (B, 1)
    return torch.cat([start, targets[:, :-1]], dim=1)  # (B, 1) + (B, T - 1) -> (B, T)


def encode_digits(text: str) -> torch.Tensor:
    """Token ids (1, T) of a string of digits."""
    if not isinstance(text, str) or not text or not text.isascii() or not text.isdigit():
        raise ValueError(f"expected a string of digits 0-9, got {text!r}")
    return torch.tensor([[int(c) for c in text]])  # (1, T)


def to_text(ids) -> str:
    """The digits (and start tokens, as <s>) of a sequence of token ids."""
    return "".join(VOCAB[int(i)] for i in ids)


def random_sources(n: int, generator: torch.Generator, length: int = LENGTH) -> torch.Tensor:
    """n random digit strings, token ids (n, length)."""
    return torch.randint(10, (n, length), generator=generator)


def reverse(sources: torch.Tensor) -> torch.Tensor:
    """The targets of the toy task: each source read backwards, (B, T) -> (B, T)."""
    return sources.flip(-1)


class Reverser(nn.Module):
    """A one-layer encoder-decoder for the reversal task. Lesson 8.

    Embeddings plus the sinusoidal positions of lesson 4, lesson 7's Encoder, this lesson's Decoder and a
    linear layer that scores the next token. forward(src (B, T_src), tgt_in (B, T_tgt)) -> logits
    (B, T_tgt, vocab): logits[:, t] scores target token t, having read tgt_in[:, :t + 1].
    """

    def __init__(self, d_model: int = 32, num_heads: int = 2, d_ff: int = 128, max_len: int = 16):
        super().__init__()
        self.src_embed = nn.Embedding(len(VOCAB), d_model)
        self.tgt_embed = nn.Embedding(len(VOCAB), d_model)
        self.register_buffer("positions", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.encoder = Encoder(1, d_model, num_heads, d_ff, dropout=0.0)
        self.decoder = Decoder(1, d_model, num_heads, d_ff, dropout=0.0)
        self.out = nn.Linear(d_model, len(VOCAB))

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """The encoder's output, the memory (B, T_src, d_model): computed once per source."""
        x = self.src_embed(src) + self.positions[:src.shape[1]]  # (B, T_src, d_model) + (T_src, d_model)
        return self.encoder(x)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """Logits (B, T_tgt, vocab) for every position of tgt_in, under the causal mask."""
        T = tgt_in.shape[1]
        y = self.tgt_embed(tgt_in) + self.positions[:T]  # (B, T_tgt, d_model)
        return self.out(self.decoder(y, memory, tgt_mask=causal_mask(T)))

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(tgt_in, self.encode(src))

    @property
    def decoder_layer(self):
        """The decoder's one layer, which keeps its last attention weights for plotting."""
        return self.decoder.layers[0]


@dataclass
class ReverserRun:
    """What `train_reverser` returns: the trained model (in eval mode), its loss at every step, the time."""

    model: Reverser
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def final_loss(self) -> float:
        """The mean loss of the last 20 steps."""
        tail = self.losses[-20:]
        return sum(tail) / len(tail)


def train_reverser(steps: int = 300, seed: int = 0, batch_size: int = 64, lr: float = 3e-3,
                   progress: bool = True) -> ReverserRun:
    """Train a Reverser with teacher forcing: one forward pass per batch trains every target position.

    Seeded and single-threaded, so a run gives the same losses every time on the same machine.
    """

    with seeded_training(seed):  # one thread, seeded: the same losses on every machine and every run
        generator = torch.Generator().manual_seed(seed)
        model = Reverser()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        run = ReverserRun(model)
        start = time.perf_counter()
        for _ in progress_bar(range(steps), "teacher forcing", progress):
            src = random_sources(batch_size, generator)  # (B, T)
            tgt = reverse(src)  # (B, T)
            logits = model(src, shift_right(tgt))  # (B, T, vocab): all positions in one pass
            # (B, T, vocab) -> (B·T, vocab): one prediction per target position
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.losses.append(loss.item())
        run.seconds = time.perf_counter() - start
    model.eval()
    return run


@functools.lru_cache(maxsize=1)
def trained_reverser() -> ReverserRun:
    """The lesson's trained Reverser (trained once per session, then reused by the widget and the checks)."""
    return train_reverser()


@torch.no_grad()
def greedy_decode(model: Reverser, src: torch.Tensor, steps: int | None = None) -> torch.Tensor:
    """Generate one token at a time: each step runs the decoder on the start token and every token written
    so far, and appends the most likely next token. Returns the generated ids (B, steps), start token not
    included. The encoder runs once; its output is the memory every step searches."""
    steps = src.shape[1] if steps is None else steps
    memory = model.encode(src)  # (B, T_src, d_model)
    written = torch.full((src.shape[0], 1), START_ID)  # (B, 1): the start token
    for _ in range(steps):
        logits = model.decode(written, memory)  # (B, t + 1, vocab)
        next_id = logits[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1): the last position's prediction
        written = torch.cat([written, next_id], dim=1)  # (B, t + 2)
    return written[:, 1:]


@dataclass(frozen=True)
class GenerationStep:
    """One step of greedy generation for one source: what the decoder read, wrote, and looked at."""

    step: int
    read: tuple[str, ...]  # the decoder's input so far: <s> and the tokens written before this step
    written: str  # the token written at this step
    probability: float  # the model's probability for it
    self_weights: torch.Tensor  # (h, t + 1, t + 1): masked self-attention over `read`
    cross_weights: torch.Tensor  # (h, t + 1, T_src): cross-attention over the source


@torch.no_grad()
def generation_trace(model: Reverser, source: str) -> list[GenerationStep]:
    """Greedy generation for one digit string, step by step, with the decoder's attention at each step."""
    src = encode_digits(source)  # (1, T_src)
    memory = model.encode(src)
    layer = model.decoder_layer
    written = [START_ID]
    trace = []
    for t in range(src.shape[1]):
        logits = model.decode(torch.tensor([written]), memory)  # (1, t + 1, vocab)
        probabilities = logits[0, -1].softmax(dim=-1)  # (vocab,)
        next_id = int(probabilities.argmax())
        trace.append(GenerationStep(t, tuple(VOCAB[i] for i in written), VOCAB[next_id],
                                    float(probabilities[next_id]), layer.self_attention_weights[0].clone(),
                                    layer.cross_attention_weights[0].clone()))
        written.append(next_id)
    return trace


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class DecoderStepState:
    """Everything the decoder widget shows: one step of greedy generation by the trained reverser."""

    source: str
    step: int
    read: tuple[str, ...]  # the decoder's input at this step: <s> and the tokens written before it
    written: str  # the token it writes at this step ("" when the input was not valid)
    self_weights: np.ndarray  # (t + 1, t + 1), averaged over heads
    cross_weights: np.ndarray  # (t + 1, T_src), averaged over heads
    output: str  # everything generated after the last step
    message: str  # one plain HTML sentence: what the decoder does at this step, or what is wrong


def decoder_step_state(source: str, step: int) -> DecoderStepState:
    """Step `step` of the trained reverser generating the reverse of `source`, with a sentence about it."""
    n = LENGTH
    source = source.strip() if isinstance(source, str) else source
    if not isinstance(source, str) or len(source) != n or not source.isascii() or not source.isdigit():
        return DecoderStepState(str(source), 0, (), "", np.zeros((0, 0)), np.zeros((0, 0)), "",
                                f"Type exactly {n} digits (0-9): the model was trained on strings of {n}.")
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step < n:
        return DecoderStepState(source, 0, (), "", np.zeros((0, 0)), np.zeros((0, 0)), "",
                                f"The step must be a whole number from 0 to {n - 1}.")
    trace = generation_trace(trained_reverser().model, source)
    s = trace[int(step)]
    cross = s.cross_weights.mean(dim=0).numpy()  # (h, t + 1, T_src) -> (t + 1, T_src)
    looked = int(cross[-1].argmax())
    output = "".join(x.written for x in trace)
    verdict = "the reverse, as it should be" if output == source[::-1] else f"not the reverse, {source[::-1]}"
    read = " ".join(html.escape(token) for token in s.read)
    message = (
        f"Step {s.step}: the decoder has read <b>{read}</b> and writes <b>{s.written}</b> "
        f"(probability {s.probability:.2f}). Its newest query looks most at source position {looked} "
        f"(the digit {source[looked]}, weight {cross[-1, looked]:.2f}). After all {n} steps it has written "
        f"<b>{output}</b>, {verdict}."
    )
    return DecoderStepState(source, s.step, s.read, s.written, s.self_weights.mean(dim=0).numpy(), cross, output,
                            message)
