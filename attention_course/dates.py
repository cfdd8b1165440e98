"""Lesson 9's task: translate human-written dates into ISO dates, generated here, offline, from a seed.

    "21 November 2026", "nov 21, 2026", "21/11/2026", "sat 21 nov 26", "21.11.26"  ->  "2026-11-21"

The dates run from 1969-01-01 to 2068-12-31. Two-digit years follow the rule of POSIX `strptime`'s %y:
69-99 mean 1969-1999 and 00-68 mean 2000-2068, so inside that range every string has exactly one reading.
Numeric dates are day first ("02/03/2026" is 2 March), as in most of the world. Each calendar day belongs
to one split (train, validation or test) by a hash of its ISO date, so no date string, in any format,
is ever shared between splits: the test set holds days the model never saw.

Tokens are characters. Source ids: 0 pad, 1 unknown character, then SOURCE_CHARS. Target ids: 0 pad,
1 start, 2 end, then the digits and "-". Introduced in lesson 9.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import html
import math
import random
import re
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .progress import progress_bar
from .runtime import seeded_training
from .transformer import Transformer

FIRST_DAY = dt.date(1969, 1, 1)
LAST_DAY = dt.date(2068, 12, 31)
NUM_DAYS = (LAST_DAY - FIRST_DAY).days + 1  # 36,525 days: a hundred years

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Each format is a template; {field} is filled from the date. The lesson shows one example of each.
FORMATS = (
    "{d} {Month} {yyyy}",  # 21 November 2026
    "{Month} {d}, {yyyy}",  # November 21, 2026
    "{mon} {d}, {yyyy}",  # nov 21, 2026
    "{dd}/{mm}/{yyyy}",  # 21/11/2026
    "{wkd} {d} {mon} {yy}",  # sat 21 nov 26
    "{dd}.{mm}.{yy}",  # 21.11.26
    "{Weekday}, {d} {Month} {yyyy}",  # Saturday, 21 November 2026
    "{d}-{Mon}-{yyyy}",  # 21-Nov-2026
    "{MON} {dd} {yyyy}",  # NOV 21 2026
    "the {dth} of {Month}, {yyyy}",  # the 21st of November, 2026
    "{d}.{m}.{yyyy}",  # 21.11.2026, 1.2.2026
    "{Wkd}, {Mon} {d} {yyyy}",  # Sat, Nov 21 2026
    "{d} {mon} {yy}",  # 21 nov 26
    "{yyyy}{mm}{dd}",  # 20261121
)

# Which part of the date each field spells out (the weekday is redundant and belongs to none).
FIELD_PART = {"d": "day", "dd": "day", "dth": "day", "m": "month", "mm": "month", "Month": "month",
              "mon": "month", "Mon": "month", "MON": "month", "yyyy": "year", "yy": "year"}
PARTS = ("year", "month", "day")
# Which characters of the ISO answer "YYYY-MM-DD" come from which part.
ISO_PART = ("year",) * 4 + (None,) + ("month",) * 2 + (None,) + ("day",) * 2

SPLITS = ("train", "validation", "test")

PAD, UNKNOWN = "<pad>", "<unk>"
START, END = "<s>", "</s>"
SOURCE_CHARS = tuple(" ,-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
SOURCE_VOCAB = (PAD, UNKNOWN, *SOURCE_CHARS)  # source token id i is SOURCE_VOCAB[i]
TARGET_VOCAB = (PAD, START, END, *"0123456789-")  # target token id i is TARGET_VOCAB[i]
PAD_ID, UNKNOWN_ID, START_ID, END_ID = 0, 1, 1, 2
ISO_LENGTH = 10  # "YYYY-MM-DD"
MAX_SOURCE_LENGTH = 48  # longer inputs are cut to this many characters (LONGEST_TEXT is the most a date needs)
_SOURCE_IDS = {c: i for i, c in enumerate(SOURCE_VOCAB) if i > UNKNOWN_ID}

CHECKPOINT = Path(__file__).with_name("data") / "dates_model.pt"
CHECKPOINT_COMMAND = "python -m attention_course.dates train --out attention_course/data/dates_model.pt"
# Lesson 9's whole training run (Config()), as `record` saved it: too long to run in the lesson (about two
# minutes on one core), so the lesson runs its first steps live and compares them with this record.
RUN_RECORD = Path(__file__).with_name("data") / "dates_lesson_run.pt"
RUN_RECORD_COMMAND = "python -m attention_course.dates record"


# ---------------------------------------------------------------- writing dates


def two_digit_year(yy: int) -> int:
    """The year a two-digit year means, by POSIX strptime's %y rule: 69-99 -> 1969-1999, 00-68 -> 2000-2068."""
    if not 0 <= yy <= 99:
        raise ValueError(f"a two-digit year is 0-99, got {yy}")
    return 1900 + yy if yy >= 69 else 2000 + yy


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 22 -> '22nd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fields(day: dt.date) -> dict[str, str]:
    month, weekday = MONTHS[day.month - 1], WEEKDAYS[day.weekday()]
    return {"d": str(day.day), "dd": f"{day.day:02d}", "dth": ordinal(day.day), "m": str(day.month),
            "mm": f"{day.month:02d}", "Month": month, "mon": month[:3].lower(), "Mon": month[:3],
            "MON": month[:3].upper(), "yyyy": str(day.year), "yy": f"{day.year % 100:02d}",
            "Weekday": weekday, "wkd": weekday[:3].lower(), "Wkd": weekday[:3]}


_FIELD = re.compile(r"\{(\w+)\}")


def render(day: dt.date, template: str) -> tuple[str, dict[str, tuple[int, int]]]:
    """The date written in `template`, and where its year, month and day are: {part: (start, end)}."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside the task's range, {FIRST_DAY} to {LAST_DAY}")
    values = _fields(day)
    text, spans, last = "", {}, 0
    for match in _FIELD.finditer(template):
        text += template[last:match.start()]
        value = values[match.group(1)]
        if match.group(1) in FIELD_PART:
            spans[FIELD_PART[match.group(1)]] = (len(text), len(text) + len(value))
        text += value
        last = match.end()
    return text + template[last:], spans


def iso(day: dt.date) -> str:
    """The answer: 'YYYY-MM-DD'."""
    return day.isoformat()


# "Wednesday, 27 September 2068": the longest weekday and month names with two-digit days
LONGEST_TEXT = max(len(render(dt.date(2068, 9, 26), template)[0]) for template in FORMATS)


def split_of(day: dt.date) -> str:
    """The split a calendar day belongs to, fixed by a hash of its ISO date: 80% train, 10% each other."""
    bucket = zlib.crc32(iso(day).encode()) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


@functools.cache
def days_in(split: str) -> tuple[dt.date, ...]:
    """Every calendar day of a split, in order."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    every_day = (FIRST_DAY + dt.timedelta(days=i) for i in range(NUM_DAYS))
    return tuple(day for day in every_day if split_of(day) == split)


@dataclass(frozen=True)
class Example:
    """One example: the written date, its ISO answer, its format, and where its parts are in the text."""

    text: str
    answer: str
    template: str
    spans: dict[str, tuple[int, int]] = field(hash=False, compare=False)


def example(day: dt.date, template: str) -> Example:
    """The example for one day in one format."""
    text, spans = render(day, template)
    return Example(text, iso(day), template, spans)


def sample(n: int, seed: int, split: str | None = None) -> list[Example]:
    """n examples: days drawn at random (from one split, or from all days), each in a random format."""
    rng = random.Random(seed)
    days = days_in(split) if split is not None else None
    examples = []
    for _ in range(n):
        day = rng.choice(days) if days else FIRST_DAY + dt.timedelta(days=rng.randrange(NUM_DAYS))
        examples.append(example(day, rng.choice(FORMATS)))
    return examples


def every_format(day: dt.date) -> list[Example]:
    """One day in every format."""
    return [example(day, template) for template in FORMATS]


# ---------------------------------------------------------------- characters <-> token ids


def encode_sources(texts: list[str]) -> torch.Tensor:
    """Token ids (B, T) of written dates, padded with 0; unknown characters get id 1; cut at MAX_SOURCE_LENGTH.

    An empty string becomes one unknown token, so that every source has something to attend to.
    """
    rows = [[_SOURCE_IDS.get(c, UNKNOWN_ID) for c in text[:MAX_SOURCE_LENGTH]] or [UNKNOWN_ID] for text in texts]
    ids = torch.zeros(len(rows), max(map(len, rows), default=1), dtype=torch.long)  # (B, T), 0 = pad
    for i, row in enumerate(rows):
        ids[i, :len(row)] = torch.tensor(row)
    return ids


def encode_targets(answers: list[str]) -> torch.Tensor:
    """Token ids (B, ISO_LENGTH + 1) of the answers, each followed by the end token."""
    return torch.tensor([[TARGET_VOCAB.index(c) for c in answer] + [END_ID] for answer in answers])


def decode_target(ids) -> str:
    """The text of generated target ids, up to the first end token (pad and start tokens dropped)."""
    text = []
    for i in ids:
        if int(i) == END_ID:
            break
        if int(i) > END_ID:
            text.append(TARGET_VOCAB[int(i)])
    return "".join(text)


def shift_right(targets: torch.Tensor) -> torch.Tensor:
    """The decoder's input for teacher forcing: the start token, then the targets without their last token."""
    start = torch.full_like(targets[:, :1], START_ID)  # (B, 1)
    return torch.cat([start, targets[:, :-1]], dim=1)  # (B, T)


# ---------------------------------------------------------------- the model, and translating with it


@dataclass(frozen=True)
class Config:
    """The size of the date model and how it is trained. The defaults are the lesson's."""

    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 256
    dropout: float = 0.0
    steps: int = 1500
    batch_size: int = 64
    peak_lr: float = 5e-3
    warmup: int = 200
    label_smoothing: float = 0.1
    seed: int = 0

    def model_arguments(self) -> dict:
        return {"d_model": self.d_model, "num_heads": self.num_heads, "num_layers": self.num_layers,
                "d_ff": self.d_ff, "dropout": self.dropout}


def new_model(config: Config = Config()) -> Transformer:
    """An untrained date model: the package's Transformer over the date task's two vocabularies."""
    return Transformer(len(SOURCE_VOCAB), len(TARGET_VOCAB), max_len=MAX_SOURCE_LENGTH + 2,
                       **config.model_arguments())


@torch.no_grad()
def greedy_decode(model: Transformer, src: torch.Tensor, max_steps: int = ISO_LENGTH + 1) -> torch.Tensor:
    """Generated target ids (B, max_steps): one token per step, the most likely next one, start token dropped.

    The encoder runs once; each step runs the decoder on everything written so far.
    """
    was_training = model.training
    model.eval()
    memory = model.encode(src)  # (B, T_src, d_model)
    written = torch.full((src.shape[0], 1), START_ID)  # (B, 1)
    for _ in range(max_steps):
        logits = model.decode(written, memory, src)  # (B, t + 1, vocab)
        next_id = logits[:, -1].argmax(dim=-1, keepdim=True)  # (B, 1)
        written = torch.cat([written, next_id], dim=1)  # (B, t + 2)
        if (written == END_ID).any(dim=1).all():
            break
    model.train(was_training)
    return written[:, 1:]


def translate_with(model: Transformer, texts: list[str], batch_size: int = 500) -> list[str]:
    """The model's answer for each written date (greedy decoding), in batches."""
    answers = []
    for start in range(0, len(texts), batch_size):
        generated = greedy_decode(model, encode_sources(texts[start:start + batch_size]))
        answers += [decode_target(row) for row in generated]
    return answers


def exact_match(predictions: list[str], answers: list[str]) -> float:
    """The share of predictions that equal their answer exactly, character for character."""
    if len(predictions) != len(answers):
        raise ValueError(f"{len(predictions)} predictions for {len(answers)} answers")
    if not answers:
        raise ValueError("no answers to compare with")
    return sum(p == a for p, a in zip(predictions, answers)) / len(answers)


def wrong_parts(prediction: str, answer: str) -> list[str]:
    """Which parts of an ISO answer a prediction gets wrong: a sublist of PARTS, e.g. ["year"]."""
    padded = prediction.ljust(ISO_LENGTH)[:ISO_LENGTH]
    wrong = {part for part, p, a in zip(ISO_PART, padded, answer) if part and p != a}
    return [part for part in PARTS if part in wrong]


MISTAKE_KINDS = ("century", "reordered", "from the input", "other")  # mistake_kind's answers, checked in this order


def mistake_kind(example: Example, prediction: str, part: str) -> str:
    """How a prediction gets one part ("year", "month" or "day") wrong: one of MISTAKE_KINDS. Defined in lesson 9."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    positions = [position for position, p in enumerate(ISO_PART) if p == part]
    padded = prediction.ljust(ISO_LENGTH)[:ISO_LENGTH]
    written = "".join(padded[position] for position in positions)
    right = "".join(example.answer[position] for position in positions)
    if written == right:
        raise ValueError(f"the {part} of {prediction!r} is right: {right}")
    if part == "year" and written[2:] == right[2:]:
        return "century"  # only the first two digits wrong: for a two-digit year, the task's rule
    if sorted(written) == sorted(right):
        return "reordered"  # the right digits, in another order
    if all(c.isdigit() and c in example.text for c in written):
        return "from the input"  # digits the written date holds, copied to the wrong place
    return "other"


def accuracy(model: Transformer, examples: list[Example]) -> float:
    """Exact-match accuracy of the model's greedy translations."""
    return exact_match(translate_with(model, [e.text for e in examples]), [e.answer for e in examples])


@dataclass(frozen=True)
class Translation:
    """One written date, the model's answer, and where the decoder looked while writing it."""

    text: str
    answer: str
    cross_weights: torch.Tensor  # (num_layers, h, len(answer), T_src): row t is the query that wrote answer[t]

    def looked_at(self, layer: int = -1) -> torch.Tensor:
        """(len(answer),): for each answer character, the source position with the most head-averaged weight."""
        return self.cross_weights[layer].mean(dim=0).argmax(dim=-1)  # (h, T_out, T_src) -> (T_out,)


@torch.no_grad()
def cross_attention(model: Transformer, texts: list[str], answers: list[str]) -> torch.Tensor:
    """Cross-attention weights (num_layers, B, h, T_out, T_src) of the decoder writing `answers` (all of one
    length T_out) for `texts`, by teacher forcing: row t is the query that wrote answer[t]."""
    src = encode_sources(texts)  # (B, T_src)
    targets = torch.tensor([[TARGET_VOCAB.index(c) for c in answer] for answer in answers])  # (B, T_out)
    model.decode(shift_right(targets), model.encode(src), src)
    return torch.stack([layer.cross_attention_weights for layer in model.decoder.layers])


@torch.no_grad()
def translate_with_attention(model: Transformer, text: str) -> Translation:
    """Translate one written date, then read the cross-attention weights of every decoder layer.

    Teacher forcing on the model's own answer gives the same rows as generation did, in one pass.
    """
    src = encode_sources([text])  # (1, T_src)
    answer = decode_target(greedy_decode(model, src)[0])
    if not answer:
        return Translation(text, "", torch.zeros(len(model.decoder.layers), 1, 0, src.shape[1]))
    weights = cross_attention(model, [text], [answer])[:, 0]  # (num_layers, h, len(answer), T_src)
    return Translation(text, answer, weights)


ALIGNMENT_GROUPS = ("century", "year", "month", "day")  # answer digits 0-1, 2-3, 5-6 and 8-9
# the answer's digit positions, and the group each belongs to
_DIGIT_POSITIONS = [position for position, part in enumerate(ISO_PART) if part is not None]
_DIGIT_GROUPS = ["century" if position < 2 else ISO_PART[position] for position in _DIGIT_POSITIONS]


def _digit_weights(model: Transformer, examples: list[Example], layer: int) -> tuple[list[Example], torch.Tensor]:
    """The correctly translated examples, and the head-averaged cross-attention (B, 8, T_src) of `layer` for
    their answers' 8 digits: all translated in one batch, then read in one teacher-forced pass."""
    answers = translate_with(model, [e.text for e in examples])
    correct = [e for e, answer in zip(examples, answers) if answer == e.answer]
    if not correct:
        return correct, torch.zeros(0, len(_DIGIT_POSITIONS), 1)
    weights = cross_attention(model, [e.text for e in correct], [e.answer for e in correct])[layer]  # (B, h, 10, T_src)
    return correct, weights.mean(dim=1)[:, _DIGIT_POSITIONS]  # (B, h, 10, T_src) -> (B, 10, T_src) -> (B, 8, T_src)


def alignment_by_part(model: Transformer, examples: list[Example], layer: int = -1) -> dict[str, float]:
    """For each group of answer digits (ALIGNMENT_GROUPS, then "all"), the share whose strongest cross-attention
    (averaged over heads, in `layer`) falls inside the source span of the date part they come from: year digits
    on the year, month digits on the month (a name or digits), day digits on the day. Only correctly
    translated examples count; a group with no digits to count gets 0.

    All examples are translated in one batch, then read in one teacher-forced pass (translate_with_attention
    does the same for one date)."""
    correct, weights = _digit_weights(model, examples, layer)  # (B, 8, T_src)
    if not correct:
        return dict.fromkeys((*ALIGNMENT_GROUPS, "all"), 0.0)
    looked = weights.argmax(dim=-1)  # (B, 8): the source position each answer digit looks at hardest
    spans = torch.tensor([[e.spans[ISO_PART[p]] for p in _DIGIT_POSITIONS] for e in correct])  # (B, 8, 2)
    inside = (spans[..., 0] <= looked) & (looked < spans[..., 1])  # (B, 8): the digit looks at its own part
    hits = inside.sum(dim=0).tolist()  # (8,): how many examples each digit gets right, counted exactly
    share = {group: sum(h for h, g in zip(hits, _DIGIT_GROUPS) if g == group) / (len(correct) * _DIGIT_GROUPS.count(group))
             for group in ALIGNMENT_GROUPS}
    return share | {"all": sum(hits) / (len(correct) * len(_DIGIT_GROUPS))}


def focus(model: Transformer, examples: list[Example], layer: int = -1) -> dict[str, float]:
    """How sharply `layer`'s cross-attention points at the digit each answer digit copies. Defined in lesson 9."""
    # Over the answer digits of the correctly translated examples, head-averaged weights: "peak" is the mean of
    # each digit's largest weight, "on its digit" the share whose largest weight is on that same digit.
    correct, weights = _digit_weights(model, examples, layer)  # (B, 8, T_src)
    if not correct:
        return {"peak": 0.0, "on its digit": 0.0}
    peak, looked = weights.max(dim=-1)  # (B, 8) each
    seen = encode_sources([e.text for e in correct]).gather(1, looked)  # (B, T_src) -> (B, 8): the ids looked at
    written = torch.tensor([[_SOURCE_IDS[e.answer[p]] for p in _DIGIT_POSITIONS] for e in correct])  # (B, 8)
    return {"peak": peak.mean().item(), "on its digit": (seen == written).float().mean().item()}


def alignment(model: Transformer, examples: list[Example], layer: int = -1) -> float:
    """The share of all answer digits that look hardest at their own source span (see alignment_by_part)."""
    return alignment_by_part(model, examples, layer)["all"]


def learning_rate(step: int, config: Config) -> float:
    """Linear warm-up to peak_lr over `warmup` steps, then cosine decay to 0 at the last step."""
    if step < config.warmup:
        return config.peak_lr * (step + 1) / config.warmup
    progress = (step - config.warmup) / max(1, config.steps - config.warmup)
    return config.peak_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


@dataclass
class TrainingRun:
    """What `train` returns: the model (in eval mode), the loss and learning rate of every step, held-out
    accuracy at each evaluation {step: accuracy}, and the training wall time in seconds (evaluations
    excluded), in all and at each evaluation."""

    model: Transformer
    config: Config
    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    validation: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0
    seconds_at: dict[int, float] = field(default_factory=dict)  # training seconds elapsed at each evaluation
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)  # weights at each evaluation

    def model_at(self, step: int) -> Transformer:
        """The model as it was at an evaluation step (a key of `validation`), in eval mode."""
        if step not in self.snapshots:
            raise KeyError(f"no snapshot at step {step}; the run kept steps {sorted(self.snapshots)}")
        model = new_model(self.config)
        model.load_state_dict(self.snapshots[step])
        return model.eval()


def batch(examples: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    """Source ids (B, T_src) and target ids (B, ISO_LENGTH + 1) of a list of examples."""
    return encode_sources([e.text for e in examples]), encode_targets([e.answer for e in examples])


def train(config: Config = Config(), progress: bool = True, eval_every: int = 0,
          held_out: list[Example] | None = None, stop_after: int | None = None) -> TrainingRun:
    """Train a date model from scratch with teacher forcing, on freshly drawn training examples each step.

    Seeded, on one thread (runtime.seeded_training), so a run gives the same numbers every time.
    With eval_every > 0, greedy exact match on `held_out` (by default 500 validation examples) is measured
    that often and recorded in `validation`; its time is not counted in `seconds`.
    stop_after=n runs only the first n steps of `config`'s run: the same data and learning rates.
    """
    with seeded_training(config.seed):  # one thread, seeded: the same numbers on every machine and run
        model = new_model(config)
        optimizer = torch.optim.Adam(model.parameters(), lr=config.peak_lr, betas=(0.9, 0.98), eps=1e-9)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate(s, config) / config.peak_lr)
        steps = config.steps if stop_after is None else min(stop_after, config.steps)
        # the first examples of the whole run's draw: sample() draws them one after another from the seed
        train_examples = sample(steps * config.batch_size, config.seed, "train")
        if eval_every and held_out is None:
            held_out = sample(500, config.seed + 1, "validation")
        run = TrainingRun(model, config)
        elapsed = 0.0
        for step in progress_bar(range(steps), "training", progress):
            start = time.perf_counter()
            model.train()
            src, tgt = batch(train_examples[step * config.batch_size:(step + 1) * config.batch_size])
            logits = model(src, shift_right(tgt))  # (B, T_tgt, vocab): every position at once
            loss = F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), label_smoothing=config.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.learning_rates.append(schedule.get_last_lr()[0])
            schedule.step()
            run.losses.append(loss.item())
            elapsed += time.perf_counter() - start
            if eval_every and ((step + 1) % eval_every == 0 or step + 1 == steps):
                run.validation[step + 1] = accuracy(model, held_out)
                run.seconds_at[step + 1] = elapsed
                run.snapshots[step + 1] = {k: v.clone() for k, v in model.state_dict().items()}
        run.seconds = elapsed
    model.eval()
    return run


# ---------------------------------------------------------------- the shipped checkpoint


def save(run: TrainingRun, path: Path) -> None:
    """Save a trained model's weights and configuration."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": run.config.__dict__, "state_dict": run.model.state_dict()}, path)


def load(path: Path = CHECKPOINT) -> Transformer:
    """A date model with the weights saved at `path`, in eval mode."""
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}; train one with: {CHECKPOINT_COMMAND}")
    saved = torch.load(path, weights_only=True)
    model = new_model(Config(**saved["config"]))
    model.load_state_dict(saved["state_dict"])
    return model.eval()


def save_run(run: TrainingRun, path: Path = RUN_RECORD, snapshots: int = 1) -> None:
    """Save a training run's record: its curves, final weights and the weights of its first `snapshots` evaluations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {step: run.snapshots[step] for step in sorted(run.snapshots)[:snapshots]}
    torch.save({"config": run.config.__dict__, "state_dict": run.model.state_dict(), "losses": run.losses,
                "learning_rates": run.learning_rates, "validation": run.validation, "seconds": run.seconds,
                "seconds_at": run.seconds_at, "snapshots": kept}, path)


def load_run(path: Path = RUN_RECORD) -> TrainingRun:
    """A training run as save_run saved it, its model in eval mode."""
    if not path.exists():
        raise FileNotFoundError(f"no training record at {path}; make one with: {RUN_RECORD_COMMAND}")
    saved = torch.load(path, weights_only=True)
    config = Config(**saved["config"])
    model = new_model(config)
    model.load_state_dict(saved["state_dict"])
    return TrainingRun(model.eval(), config, saved["losses"], saved["learning_rates"], saved["validation"],
                       saved["seconds"], saved["seconds_at"], saved["snapshots"])


@functools.lru_cache(maxsize=1)
def lesson_run() -> TrainingRun:
    """Lesson 9's whole training run, loaded once per session from the shipped record."""
    return load_run()


@functools.lru_cache(maxsize=1)
def pretrained() -> Transformer:
    """The shipped checkpoint, loaded once per session."""
    return load()


def translate(texts: list[str]) -> list[str]:
    """ISO dates for written dates, by the shipped model: translate(["21 nov 2026"]) == ["2026-11-21"].

    Any strings are accepted: unknown characters are read as <unk>, long strings are cut at
    MAX_SOURCE_LENGTH characters, and a string that is not a date still gets the model's best guess.
    """
    if isinstance(texts, str):
        raise TypeError("translate takes a list of strings; for one date, write translate([text])")
    texts = list(texts)
    if not all(isinstance(t, str) for t in texts):
        raise TypeError("translate takes a list of strings")
    return translate_with(pretrained(), texts) if texts else []


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attention_course.dates", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    trainer = commands.add_parser("train", help="train the date model and save its checkpoint")
    trainer.add_argument("--out", type=Path, default=CHECKPOINT)
    trainer.add_argument("--steps", type=int, default=4000)
    trainer.add_argument("--seed", type=int, default=0)
    recorder = commands.add_parser("record", help="train lesson 9's run (Config()) and save its record")
    recorder.add_argument("--out", type=Path, default=RUN_RECORD)
    recorder.add_argument("--stop-after", type=int, default=None, help="only the run's first N steps (a check)")
    evaluate = commands.add_parser("evaluate", help="exact-match accuracy of a checkpoint on test dates")
    evaluate.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    evaluate.add_argument("--n", type=int, default=5000)
    evaluate.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.command == "train":
        run = train(Config(steps=args.steps, seed=args.seed), eval_every=500)
        save(run, args.out)
        print(f"trained {args.steps} steps in {run.seconds:.0f} s; validation accuracy {run.validation}; "
              f"saved {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    elif args.command == "record":
        run = train(Config(), eval_every=250, stop_after=args.stop_after)
        save_run(run, args.out)
        print(f"{len(run.losses)} steps in {run.seconds:.0f} s; validation accuracy {run.validation}; "
              f"saved {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    else:
        examples = sample(args.n, args.seed, "test")  # days no training run ever draws
        print(f"exact match on {args.n} test dates (seed {args.seed}): {accuracy(load(args.checkpoint), examples):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ---------------------------------------------------------------- the state behind this lesson's widget

@dataclass(frozen=True)
class DateState:
    """Everything the date widget shows: the shipped model's answer and where it looked."""

    text: str  # the characters the model reads (cut at MAX_SOURCE_LENGTH)
    answer: str  # "" when there is nothing to translate
    weights: np.ndarray  # (len(answer), len(text)): cross-attention of one decoder layer, averaged over heads
    message: str  # plain HTML: the answer and any warning about the input or the answer


def _is_real_date(answer: str) -> bool:
    try:
        return len(answer) == 10 and dt.date.fromisoformat(answer) is not None
    except ValueError:
        return False


def date_state(text, layer: int = 2) -> DateState:
    """The shipped date model's translation of `text`, with the cross-attention of decoder layer `layer`
    (counted from 1) and a sentence about the input. Never raises for a string. Lesson 9."""
    empty = np.zeros((0, 0))
    if not isinstance(text, str) or not text.strip():
        return DateState("", "", empty, "Type a date, such as <b>sat 21 nov 26</b> or <b>21.11.2026</b>.")
    model = pretrained()
    layers = len(model.decoder.layers)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 1 <= layer <= layers:
        return DateState(text, "", empty, f"The layer must be a whole number from 1 to {layers}.")
    notes = []
    if len(text) > MAX_SOURCE_LENGTH:
        notes.append(f"Only the first {MAX_SOURCE_LENGTH} of its {len(text)} characters are read; the "
                     f"longest date the model was trained on has {LONGEST_TEXT}.")
        text = text[:MAX_SOURCE_LENGTH]
    unknown = sorted(set(text) - set(SOURCE_CHARS))
    if unknown:
        shown = ", ".join(html.escape(repr(c)) for c in unknown)
        notes.append(f"The model has never seen {shown}; it reads each as an unknown token.")
    if not any(c.isdigit() for c in text):
        notes.append("There is no digit in this text, so it cannot be a date; the answer is the model's best "
                     "guess, because a translation model always writes something.")
    translation = translate_with_attention(model, text)
    answer = translation.answer
    if not _is_real_date(answer):
        notes.append(f"<b>{html.escape(answer) or 'nothing'}</b> is not a real date: the model maps characters "
                     "to characters, it does not know the calendar.")
    weights = translation.cross_weights[layer - 1].mean(dim=0).numpy()  # (h, T_out, T_src) -> (T_out, T_src)
    message = f"<b>{html.escape(text)}</b> &rarr; <b>{html.escape(answer)}</b>. " + " ".join(notes)
    return DateState(text, answer, weights, message)
