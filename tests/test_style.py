"""The packages, the tests (browser tests too) and the benchmarks pass ruff with the settings in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    folders = ["attention_course", "coursekit", "tests", "benchmarks", "tests_browser"]
    result = subprocess.run([str(ruff), "check", *folders], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
