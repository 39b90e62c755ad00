"""kill -9 during an ingest, then resume: the store equals an uninterrupted run.

A small size here (100 items, two kills); `make crash` runs 20,000 items and ten kills.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _crash_module():
    spec = importlib.util.spec_from_file_location("newsdesk_crash_bench", ROOT / "benchmarks" / "crash.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kill_minus_nine_then_resume_equals_a_clean_run(shared_data, tmp_path: Path) -> None:
    crash = _crash_module()
    source = tmp_path / "input.jsonl"
    assert crash.write_input(source, 100) == 100
    clean, crashed = tmp_path / "clean.db", tmp_path / "crashed.db"
    seconds = crash.clean_run(clean, source, batch=20)
    points = crash.crashed_run(crashed, source, batch=20, kills=2, span=seconds, seed=7)
    assert any(p["killed"] for p in points), points
    result = crash.compare(crash.snapshot(clean), crash.snapshot(crashed))
    assert result["items"]["clean"] == 100
    assert result["mentions"]["clean"] > 0
    assert all(part["equal"] for part in result.values()), result
