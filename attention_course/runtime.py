"""How the course's code uses the CPU: the thread policy, and seeded training runs.

The thread policy (the figures behind it are in benchmarks/README.md, "Threads"):
- Training loops run on ONE torch thread (`seeded_training`). The course's models are tiny: a second
  thread buys little on a quiet machine, and on a busy one (a laptop with a browser open, a shared CI
  runner) OpenMP's threads spin while they wait for each other and steal the time their partner needs,
  which made lesson 9's training several times slower. One thread also makes a run's sums the same on a
  2-core and a 16-core machine, so a learner sees the book's numbers.
- Everything else keeps torch's default: the lessons' other cells are short, and lesson 10's
  measurements choose their thread count themselves (`cost.threads`).
- The kernels that `make` and the tests start (the book's, JupyterLab's, the grader's) get
  OMP_WAIT_POLICY=PASSIVE in their environment, so that an idle OpenMP thread sleeps instead of spinning.
  It must be set before torch is imported, which is why the package cannot set it for a learner's own
  Jupyter: `make lab` does.
- The test suite's processes and kernels also get OMP_NUM_THREADS=1: `make test` runs two book builds beside
  its own tests, three or more busy processes on what may be two cores, so a second thread per process
  would only wait for a core.

Introduced for the test suite's issue (any machine, quiet or loaded); the training loops of lessons 5, 7,
8, 9 and 10 use it.
"""

from __future__ import annotations

import contextlib

import torch

TRAINING_THREADS = 1  # see the module's docstring
KERNEL_ENVIRONMENT = {"OMP_WAIT_POLICY": "PASSIVE"}  # for kernels that make and the tests start
TEST_ENVIRONMENT = {**KERNEL_ENVIRONMENT, "OMP_NUM_THREADS": "1"}  # for the test suite and what it starts


@contextlib.contextmanager
def seeded_training(seed: int, threads: int = TRAINING_THREADS):
    """Run the block on `threads` torch threads with torch's random numbers seeded with `seed`.

    The caller's thread count and random state are restored afterwards, so training a model in a lesson
    does not change the numbers of the cells after it.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng():  # seeded without disturbing the caller's random numbers
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(previous)
