"""Lesson 9's claim, measured: training time until the date model reads 99% of 2,000 held-out dates.

    python benchmarks/bench_dates.py

Runs the lesson's own training (dates.train with dates.Config(), the configuration lesson 9 uses) and
measures exact match on the lesson's 2,000 test dates every 100 steps. The time reported is training
wall time only (the evaluations are not counted), to the first evaluation at or above 99%.
Target (lesson 9): at most 120 s on a 2-core CPU. There is no torch counterpart to compare with.
"""

from __future__ import annotations

from attention_course import dates

TARGET = 0.99


def measure(every: int = 100) -> tuple[dates.TrainingRun, int | None]:
    """The lesson's training run, evaluated every `every` steps, and the first step at or above TARGET."""
    test = dates.sample(2000, seed=9, split="test")  # the lesson's test set
    run = dates.train(dates.Config(), progress=False, eval_every=every, held_out=test)
    reached = next((step for step, accuracy in sorted(run.validation.items()) if accuracy >= TARGET), None)
    return run, reached


def run() -> list[dict]:
    training, reached = measure()
    final = training.validation[max(training.validation)]
    done = f"final exact match {final:.2%} after {len(training.losses)} steps, {training.seconds:.0f} s"
    if reached is None:
        note = f"never reached {TARGET:.0%}; {done}"
    else:
        note = f"{TARGET:.0%} first at step {reached}; {done}; target <= 120 s"
    return [{"name": "date model: training time to 99% exact match",
             "course_s": None if reached is None else training.seconds_at[reached],
             "torch_s": None, "ratio": None, "note": note}]


if __name__ == "__main__":
    for row in run():
        seconds = "-" if row["course_s"] is None else f"{row['course_s']:.1f} s"
        print(f"{row['name']}: {seconds} ({row['note']})")
