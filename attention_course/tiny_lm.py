"""A tiny next-character model, trained with and without the causal mask. Introduced in lesson 5.

The model is as small as a language model gets: a character embedding plus a learned position
embedding, one self-attention layer (lesson 3's `SelfAttention`) and a linear head that scores the
next character. `causal=True` gives the attention layer lesson 5's causal mask; `causal=False` lets
every position see the whole window, including the character it is asked to predict, so the model
can "cheat". Training is seeded, single-threaded and takes a few seconds on a CPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .masking import causal_mask
from .progress import progress_bar
from .runtime import seeded_training
from .self_attention import SelfAttention

# A short rhyme written for this course: small enough to learn in seconds, regular enough to continue.
TEXT = """one little owl sat up in a tree,
two little owls sat down by the sea.
three little owls sang a song for me,
four little owls went home for tea.
five little owls flew over the hill,
six little owls sat quiet and still.
seven little owls saw the moon rise high,
eight little owls said good night, good bye.
"""
CHARS = tuple(sorted(set(TEXT)))  # the vocabulary: every character of the rhyme
BLOCK_SIZE = 32  # the longest context the model reads, in characters


def encode(text: str) -> torch.Tensor:
    """Character ids (T,) of `text`; every character must occur in the rhyme."""
    unknown = sorted(set(text) - set(CHARS))
    if unknown:
        raise ValueError(f"the model knows only the rhyme's characters; {unknown} are not among them")
    return torch.tensor([CHARS.index(c) for c in text], dtype=torch.long)


def decode(ids) -> str:
    """The text of character ids."""
    return "".join(CHARS[int(i)] for i in ids)


class TinyLM(nn.Module):
    """Embeddings + learned positions + one self-attention layer + a linear head. Introduced in lesson 5.

    forward(ids) with ids (B, T), T <= block_size, returns (logits (B, T, vocab_size), weights (B, T, T)):
    logits[:, t] scores the character that follows position t.
    """

    def __init__(self, vocab_size: int = len(CHARS), block_size: int = BLOCK_SIZE, d_model: int = 32,
                 causal: bool = True):
        super().__init__()
        self.block_size, self.causal = block_size, causal
        self.token = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(block_size, d_model)  # a learned vector per position
        self.attention = SelfAttention(d_model, d_model, d_model)  # lesson 3's layer
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids: torch.Tensor):
        T = ids.shape[-1]  # ids: (B, T) character ids
        if T > self.block_size:
            raise ValueError(f"reads at most {self.block_size} characters; got {T}")
        # (B, T, d_model) + (T, d_model): a character's vector plus its position's
        x = self.token(ids) + self.position(torch.arange(T))
        mask = causal_mask(T) if self.causal else None  # (T, T), or no mask at all
        mixed, weights = self.attention(x, mask)  # (B, T, d_model), (B, T, T)
        return self.head(mixed), weights  # (B, T, vocab_size), (B, T, T)


@dataclass
class TrainingRun:
    """What `train` returns: the trained model, its loss at every step, and how long it took."""

    model: TinyLM
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False  # True when the time budget ran out before the last step

    @property
    def final_loss(self) -> float:
        """The mean loss of the last 50 steps: one batch's loss is noisy."""
        tail = self.losses[-50:]
        return sum(tail) / len(tail)


def batches(data: torch.Tensor, block_size: int, batch_size: int, seed: int):
    """Endless (inputs, targets) pairs, each (batch_size, block_size), in an order fixed by `seed`.

    targets are the inputs shifted by one character: targets[:, t] is the character after inputs[:, t].
    """
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(block_size)  # (T,)
    while True:
        starts = torch.randint(len(data) - block_size, (batch_size, 1), generator=generator)  # (B, 1)
        index = starts + offsets  # (B, 1) + (T,) -> (B, T)
        yield data[index], data[index + 1]


def train(causal: bool, steps: int = 1500, seed: int = 0, max_seconds: float = 120.0, progress: bool = True,
          text: str = TEXT, block_size: int = BLOCK_SIZE, batch_size: int = 32, d_model: int = 32,
          lr: float = 1e-2) -> TrainingRun:
    """Train a TinyLM to predict the next character of `text`, with or without the causal mask.

    Seeded and single-threaded, so a run gives the same losses every time on the same machine. Adam with a
    cosine-decaying learning rate; stops early (and says so) if `max_seconds` run out. The default is a guard
    against a stuck machine, far above the 4 s that lesson 5's 1,500 steps take: a run cut short by a busy
    machine would print other numbers than the book.
    """

    with seeded_training(seed):  # one thread, seeded: the same losses on every machine and every run
        model = TinyLM(len(CHARS), block_size, d_model, causal)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        run = TrainingRun(model)
        data = encode(text)
        start = time.perf_counter()
        label = "with the causal mask" if causal else "without a mask"
        bar = progress_bar(range(steps), label, progress)
        for _, (inputs, targets) in zip(bar, batches(data, block_size, batch_size, seed)):
            logits, _ = model(inputs)  # (B, T, vocab_size)
            # (B, T, vocab) -> (B·T, vocab): one prediction per position of every window
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            run.losses.append(loss.item())
            if len(run.losses) % 100 == 0:
                bar.set_postfix(loss=f"{run.final_loss:.3f}", refresh=False)
            if time.perf_counter() - start > max_seconds:
                run.stopped_early = len(run.losses) < steps
                break
        bar.close()
        run.seconds = time.perf_counter() - start
    model.eval()
    return run


@torch.no_grad()
def generate(model: TinyLM, prompt: str, num_chars: int) -> str:
    """Greedy generation: append the most likely next character, one at a time, `num_chars` times.

    The model sees only what has been written so far (the last block_size characters of it): the future
    does not exist yet. Returns the prompt followed by the new characters.
    """
    ids = encode(prompt).tolist()
    if not ids:
        raise ValueError("the prompt needs at least one character")
    for _ in range(num_chars):
        context = torch.tensor(ids[-model.block_size:])[None]  # (1, T)
        logits, _ = model(context)  # (1, T, vocab_size)
        ids.append(int(logits[0, -1].argmax()))  # the prediction made at the last position
    return decode(ids)


@torch.no_grad()
def window_loss(model: TinyLM, text: str = TEXT) -> float:
    """Mean next-character loss with whole windows in view, as in training: position t of a window
    predicts character t + 1, and (without a mask) may see it."""
    data = encode(text)
    T = model.block_size
    starts = torch.arange(0, len(data) - T, T)  # non-overlapping windows
    index = starts[:, None] + torch.arange(T)  # (W, 1) + (T,) -> (W, T)
    logits, _ = model(data[index])  # (W, T, vocab_size)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), data[index + 1].reshape(-1)).item()


@torch.no_grad()
def past_only_loss(model: TinyLM, text: str = TEXT) -> float:
    """window_loss's predictions, each made with only the past in view, as in generation: position t of a window
    predicts character t + 1 from the window's first t + 1 characters, the later ones cut off. The characters
    and their pasts are window_loss's own, so the two losses differ only by what the future lets the model see."""
    data = encode(text)
    T = model.block_size
    starts = torch.arange(0, len(data) - T, T)  # window_loss's windows
    losses = []
    for t in range(T):  # one pass per position, every window at once
        index = starts[:, None] + torch.arange(t + 1)  # (W, 1) + (t + 1,) -> (W, t + 1): each window up to t
        logits, _ = model(data[index])  # (W, t + 1, vocab_size)
        losses.append(F.cross_entropy(logits[:, -1], data[starts + t + 1], reduction="sum"))
    return (torch.stack(losses).sum() / (len(starts) * T)).item()


@torch.no_grad()
def attention_weights(model: TinyLM, text: str) -> torch.Tensor:
    """The model's attention weights (T, T) over a piece of text: row t is where position t looks."""
    return model(encode(text)[None])[1][0]  # (1, T, T) -> (T, T)
