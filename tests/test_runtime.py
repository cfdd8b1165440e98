"""attention_course.runtime: the thread policy, held the same in the package, the Makefile and the tests."""

from __future__ import annotations

import re
from pathlib import Path

import torch

from attention_course import runtime

ROOT = Path(__file__).resolve().parents[1]


def test_seeded_training_uses_its_threads_and_seed_and_restores_the_callers():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    before = torch.get_num_threads()
    with runtime.seeded_training(7):
        assert torch.get_num_threads() == runtime.TRAINING_THREADS == 1
        inside = torch.rand(3)
    assert torch.get_num_threads() == before
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random stream went on untouched
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3))  # same generator, same seed: bitwise the same numbers


def test_the_threads_are_restored_when_training_fails():
    before = torch.get_num_threads()
    try:
        with runtime.seeded_training(0, threads=1):
            raise RuntimeError("a step failed")
    except RuntimeError:
        pass
    assert torch.get_num_threads() == before


def test_make_and_the_tests_give_kernels_the_policys_environment():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    conftest = (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    for name, value in runtime.KERNEL_ENVIRONMENT.items():
        assert re.search(rf"^export {name} \?= {value}$", makefile, re.MULTILINE), f"the Makefile does not set {name}"
    for name, value in runtime.TEST_ENVIRONMENT.items():
        assert f'os.environ.setdefault("{name}", "{value}")' in conftest, f"tests/conftest.py does not set {name}"
