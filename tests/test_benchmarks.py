"""The benchmark runner (benchmarks/run_all.py): discovery, the row protocol, failures, the tables.

The benchmarks themselves are not run here: they are measurements, not tests (`make bench`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))
spec = importlib.util.spec_from_file_location("run_all", BENCHMARKS / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)
import common  # benchmarks/ is on the path only now


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from common import row\n\n" + body)
    return path


def test_every_benchmark_module_follows_the_protocol():
    names = [path.stem for path in run_all.discover()]
    assert {"bench_attention", "bench_multihead", "bench_book", "bench_lessons"} <= set(names)
    assert names == sorted(names)
    for path in run_all.discover():
        module = run_all._load(path)
        assert callable(module.run), path.name


def test_discover_finds_new_modules_in_order_and_filters(tmp_path):
    for name in ("bench_zeta", "bench_alpha", "helper"):
        _write(tmp_path, name, "def run():\n    return [row('x', 1.0)]\n")
    assert [p.stem for p in run_all.discover(folder=tmp_path)] == ["bench_alpha", "bench_zeta"]
    assert [p.stem for p in run_all.discover("zeta", folder=tmp_path)] == ["bench_zeta"]


def test_a_good_module_gives_its_rows_with_the_ratio(tmp_path):
    path = _write(tmp_path, "bench_good", "def run():\n    return [row('fast', 2.0, 1.0, 'n'), row('alone', 3.0)]\n")
    rows, ok = run_all.run_module(path)
    assert ok
    assert rows[0] == {"name": "fast", "course_s": 2.0, "torch_s": 1.0, "ratio": 2.0, "note": "n"}
    assert rows[1]["ratio"] is None and rows[1]["torch_s"] is None


@pytest.mark.parametrize(("body", "needle"), [
    ("def run():\n    raise RuntimeError('no kernel')\n", "RuntimeError: no kernel"),
    ("def run():\n    return []\n", "non-empty list"),
    ("def run():\n    return [{'name': 'x'}]\n", "exactly the keys"),
    ("def run():\n    return [dict(row('x', 1.0), course_s='fast')]\n", "number of seconds or None"),
    ("def run():\n    return [dict(row('x', 1.0), course_s=float('nan'))]\n", "number of seconds or None"),
    ("x = 1\n", "AttributeError"),
])
def test_a_failing_module_becomes_a_row_that_says_why(tmp_path, body, needle):
    rows, ok = run_all.run_module(_write(tmp_path, "bench_bad", body))
    assert not ok and len(rows) == 1
    assert rows[0]["name"] == "bench_bad" and rows[0]["note"].startswith("FAILED") and needle in rows[0]["note"]


def test_tables_show_every_row():
    rows = [common.row("attention forward", 0.0123, 0.005, "flash"), common.row("build the book", 250.0)]
    text = run_all.text_table(rows)
    assert "12.30 ms" in text and "5.00 ms" in text and "2.46" in text and "250.0 s" in text
    markdown = run_all.markdown_table(rows).splitlines()
    assert markdown[0].startswith("| benchmark |") and len(markdown) == 4
    assert "| build the book | 250.0 s | - | - |" in markdown[3]


def test_main_writes_json_and_markdown(tmp_path, monkeypatch, capsys):
    _write(tmp_path, "bench_one", "def run():\n    return [row('one', 0.5, 0.25)]\n")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(run_all, "discover", lambda only=None: [tmp_path / "bench_one.py"])
    code = run_all.main(["--json", str(tmp_path / "r.json"), "--markdown", str(tmp_path / "r.md")])
    assert code == 0
    assert json.loads((tmp_path / "r.json").read_text())["rows"][0]["ratio"] == 2.0
    assert "| one | 500.00 ms | 250.00 ms | 2.00 |" in (tmp_path / "r.md").read_text()
    assert "CPU cores" in capsys.readouterr().out


def test_bench_repeats_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("BENCH_REPEATS", raising=False)
    assert common.repeats(3) == 3
    monkeypatch.setenv("BENCH_REPEATS", "1")
    assert common.repeats(3) == 1
    monkeypatch.setenv("BENCH_REPEATS", "zero")
    with pytest.raises(ValueError, match="BENCH_REPEATS"):
        common.repeats(3)
