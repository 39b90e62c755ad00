"""Shared fixtures: a fresh store file, the CLI runner, the shared evaluation data."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# PostgreSQL for the tests: the address of a throw-away cluster's admin database, exported by
# `eval "$(scripts/pg-test-cluster.sh start)"` (CI does it). Without it the PostgreSQL variants skip.
PG = os.environ.get("NEWSDESK_TEST_PG")
PG_SKIP = ("PostgreSQL tests need NEWSDESK_TEST_PG: start a throw-away cluster with "
           "eval \"$(scripts/pg-test-cluster.sh start)\" (CI does)")
_PG_TEMPLATE = "newsdesk_test_template"
_pg_numbers = itertools.count(1)
_pg_ready: list[bool] = []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Runs the tests of modules that set BACKENDS on each store backend named there."""
    backends = getattr(metafunc.module, "BACKENDS", None)
    if backends and "db_path" in metafunc.fixturenames:
        metafunc.parametrize("backend", list(backends), indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Returns the store backend of this test: 'sqlite' (the default) or 'postgres'."""
    name = getattr(request, "param", "sqlite")
    if name == "postgres" and not PG:
        pytest.skip(PG_SKIP)
    return name


def pg_address(database: str) -> str:
    """Returns the address of a database on the test cluster."""
    assert PG
    from urllib.parse import urlsplit

    parts = urlsplit(PG)
    return parts._replace(path="/" + database).geturl()


def pg_admin():
    import psycopg

    return psycopg.connect(PG, autocommit=True)


def pg_fresh_database() -> str:
    """Returns the address of a new, migrated, empty database on the test cluster."""
    from newsdesk.store.postgres import PostgresStore

    with pg_admin() as admin:
        if not _pg_ready:
            admin.execute(f"DROP DATABASE IF EXISTS {_PG_TEMPLATE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {_PG_TEMPLATE}")
            PostgresStore(pg_address(_PG_TEMPLATE)).close()  # migrated once, copied per test
            _pg_ready.append(True)
        name = f"newsdesk_test_{os.getpid()}_{next(_pg_numbers)}"
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {_PG_TEMPLATE}")
    return pg_address(name)


def pg_drop_database(address: str) -> None:
    from urllib.parse import urlsplit

    name = urlsplit(address).path.lstrip("/")
    with pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db_path(tmp_path: Path, backend: str):
    """Returns a fresh store: the path of a new SQLite file, or a new PostgreSQL database's address."""
    if backend == "postgres":
        address = pg_fresh_database()
        yield address
        pg_drop_database(address)
        return
    yield tmp_path / "newsdesk.db"


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
