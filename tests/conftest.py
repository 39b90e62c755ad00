"""Shared fixtures: a fresh store file, the CLI runner, the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Returns the path of a fresh (not yet created) SQLite store file."""
    return tmp_path / "newsdesk.db"


@pytest.fixture
def desk(db_path: Path):
    """Returns a Desk over a fresh store file; closed after the test."""
    from newsdesk import Desk

    d = Desk(db_path)
    yield d
    d.close()


@pytest.fixture
def cli(db_path: Path):
    """Returns a function running the real `newsdesk` entry point on the fresh store."""
    from newsdesk.cli import main

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(main, ["--db", str(db_path), *args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def shared_data() -> Path:
    """Returns ../shared/data, or skips: a user's clone has no shared evaluation sets."""
    if not DATA.is_dir():
        pytest.skip(f"shared evaluation data not found at {DATA} (present in CI only)")
    return DATA
