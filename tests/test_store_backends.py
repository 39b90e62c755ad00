"""Both store backends: the interface they share, the PostgreSQL dialect, bad addresses."""

from __future__ import annotations

import inspect
import itertools

import pytest
from conftest import PG, PG_SKIP

from newsdesk.errors import InputError, StoreError
from newsdesk.query import parse_query
from newsdesk.store.postgres import PostgresStore, redact, translate, tsquery
from newsdesk.store.protocol import Store
from newsdesk.store.search import fts5_match
from newsdesk.store.sqlite import SQLiteStore

BACKENDS = ("sqlite", "postgres")


def _public(cls: type) -> dict[str, inspect.Signature]:
    return {n: inspect.signature(getattr(cls, n)) for n in dir(cls)
            if not n.startswith("_") and callable(getattr(cls, n))}


def test_both_stores_have_the_protocols_methods_with_the_same_signatures():
    wanted = _public(Store)
    assert len(wanted) > 100
    for cls in (SQLiteStore, PostgresStore):
        have = _public(cls)
        missing = set(wanted) - set(have)
        assert not missing, f"{cls.__name__} lacks {sorted(missing)}"
        extra = set(have) - set(wanted)
        assert not extra, f"{cls.__name__} adds {sorted(extra)} (list them in store.protocol.Store)"
        for name, sig in wanted.items():
            assert list(have[name].parameters) == list(sig.parameters), f"{cls.__name__}.{name}{have[name]}"


def test_a_store_of_either_backend_is_a_store(db_path):
    from newsdesk.store import open_store

    store = open_store(str(db_path))
    try:
        assert isinstance(store, Store)
        assert store.schema_version() >= 6
    finally:
        store.close()


def test_one_parsed_query_compiles_to_each_dialect():
    q = parse_query('bridge "harbour bridge" ferr* -traffic OR')
    assert fts5_match(q) == '("bridge" AND "harbour bridge" AND "ferr"*) NOT "traffic"'
    assert tsquery(q) == "('bridge' & ('harbour' <-> 'bridge') & 'ferr':*) & !'traffic'"
    assert tsquery("ferry OR bridge council") == "('ferry' | 'bridge') & 'council'"
    # Quotes and operators in a user's text never reach the database as syntax.
    assert tsquery("o'brien & (drop) | !x") == "('o' <-> 'brien') & 'drop' & 'x'"
    with pytest.raises(InputError):
        tsquery("-only")


def test_sqlite_statements_are_rewritten_for_postgresql():
    assert translate("INSERT OR IGNORE INTO copy_keys (item_id, title_key, sketch) VALUES (?, ?, ?)") == (
        "INSERT INTO copy_keys (item_id, title_key, sketch) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING")
    assert translate("INSERT OR REPLACE INTO copies (item_id, canonical_id, score, method) VALUES (?,?,?,?)") == (
        "INSERT INTO copies (item_id, canonical_id, score, method) VALUES (%s,%s,%s,%s) ON CONFLICT (item_id) "
        "DO UPDATE SET canonical_id = excluded.canonical_id, score = excluded.score, method = excluded.method")
    assert '"end"' in translate("SELECT surface, field, start, end, value FROM item_figures")
    assert "story_terms.df + excluded.df" in translate(
        "INSERT INTO story_terms (term, df) VALUES (?, ?) ON CONFLICT(term) DO UPDATE SET df = df + excluded.df")


def test_a_password_never_shows_in_messages():
    assert redact("postgresql://ed:secret@db.example:5433/desk") == "postgresql://ed:***@db.example:5433/desk"


def test_an_unreachable_address_is_one_line_and_exit_7(tmp_path):
    pytest.importorskip("psycopg", reason="the [postgres] extra (psycopg) is not installed")
    from click.testing import CliRunner

    from newsdesk.cli import main

    result = CliRunner().invoke(main, ["--db", f"postgresql://nobody@/nowhere?host={tmp_path}&port=1", "stats"])
    assert result.exit_code == 7
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot open the PostgreSQL store" in lines[0], result.output
    with pytest.raises(StoreError):
        PostgresStore("postgresql://[bad")


def test_a_wrong_database_name_is_one_line_and_exit_7():
    if not PG:
        pytest.skip(PG_SKIP)
    from click.testing import CliRunner
    from conftest import pg_address

    from newsdesk.cli import main

    result = CliRunner().invoke(main, ["--db", pg_address("no_such_database"), "stats"])
    assert result.exit_code == 7
    assert "no_such_database" in result.output and len(result.output.strip().splitlines()) == 1


def _pg_or_skip() -> None:
    if not PG:
        pytest.skip(PG_SKIP)


def test_export_from_sqlite_import_into_postgresql_and_back_gives_the_same_export(tmp_path):
    _pg_or_skip()
    from conftest import pg_drop_database, pg_fresh_database
    from test_export import SETTINGS, build
    from test_live_server import LiveServer

    from newsdesk import Desk

    server = LiveServer()
    pg = pg_fresh_database()
    try:
        first, second, third = (tmp_path / f"{n}.jsonl" for n in ("sqlite", "postgres", "back"))
        with Desk(tmp_path / "a.db", settings=SETTINGS) as desk:
            build(desk, server)
            with first.open("w", encoding="utf-8") as fh:
                desk.export(fh, what="all")
        with Desk(pg, settings=SETTINGS) as shared:
            counts = shared.import_jsonl(first)
            assert counts["items"] > 0 and counts["watches"] == 2
            with second.open("w", encoding="utf-8") as fh:
                shared.export(fh, what="all")
            assert shared.check_watches() == []  # restored watches do not fire on old items
            shared.add_watch("query", "lantern", name="after-import")  # ids go on past restored ones
        with Desk(tmp_path / "b.db", settings=SETTINGS) as back:
            back.import_jsonl(second)
            with third.open("w", encoding="utf-8") as fh:
                back.export(fh, what="all")
        text = first.read_text(encoding="utf-8")
        assert '"type": "story"' in text and '"type": "alert"' in text
        assert second.read_text(encoding="utf-8") == text
        assert third.read_text(encoding="utf-8") == text
    finally:
        server.close()
        pg_drop_database(pg)


def _partition(memberships: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item, story in memberships.items():
        groups.setdefault(story, set()).add(item)
    return {frozenset(g) for g in groups.values()}


def _demo_items() -> list:
    from newsdesk import ingest as sources
    from newsdesk.data import demo_path
    from newsdesk.model import Item

    return [r for r in sources.read(demo_path()) if isinstance(r, Item)]


def test_a_connection_dropped_mid_batch_is_rolled_back_and_retried_once(tmp_path):
    _pg_or_skip()
    import psycopg
    from conftest import pg_drop_database, pg_fresh_database

    from newsdesk import Desk

    pg = pg_fresh_database()
    try:
        with psycopg.connect(pg, autocommit=True) as admin:
            # The server ends the writer's own session on the batch's first story decision, once.
            admin.execute("CREATE SEQUENCE kill_once")
            admin.execute(
                "CREATE FUNCTION kill_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF nextval('kill_once') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
                "RETURN NEW; END $$")
            admin.execute("CREATE TRIGGER kill_once BEFORE INSERT ON story_decisions "
                          "FOR EACH ROW EXECUTE FUNCTION kill_once()")
        items = _demo_items()
        with Desk(pg) as desk:
            report = desk.ingest(items)
            assert report.new == len(items) and not report.skipped
            assert desk.store.count_items() == len(items)
            stats = desk.store.item_stats()
            assert stats["sightings"] == len(items)  # nothing of the lost attempt stayed
            shared = _partition(desk.store.all_memberships())
        with psycopg.connect(pg, autocommit=True) as admin:
            assert admin.execute("SELECT last_value FROM kill_once").fetchone()[0] > 1  # it did drop
        with Desk(tmp_path / "one.db") as alone:
            alone.ingest(_demo_items())
            assert _partition(alone.store.all_memberships()) == shared
    finally:
        pg_drop_database(pg)


def test_a_postgresql_store_from_a_newer_version_is_refused():
    _pg_or_skip()
    import psycopg
    from conftest import pg_drop_database, pg_fresh_database

    pg = pg_fresh_database()
    try:
        PostgresStore(pg).close()
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute("INSERT INTO schema_migrations (version, name, applied) VALUES (999, 'future', 'now')")
        with pytest.raises(StoreError, match="newer than this newsdesk"):
            PostgresStore(pg)
    finally:
        pg_drop_database(pg)


_OLD_NUMBERS = itertools.count(1)


def _store_of_schema_14(backend: str, tmp_path):
    """Returns (address, execute, close) of a store written with the SQL of schema 14 only, as
    an older newsdesk left it; execute(sql, params) takes SQLite's `?` placeholders."""
    if backend == "sqlite":
        import sqlite3

        from newsdesk.store.sqlite import _split_sql, migrations

        address = str(tmp_path / "old.db")
        conn = sqlite3.connect(address, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        for version, _name, sql in migrations():
            if version <= 14:
                for statement in _split_sql(sql):
                    conn.execute(statement)
        conn.execute("PRAGMA user_version = 14")
        return address, conn.execute, conn.close
    _pg_or_skip()
    import os

    import psycopg
    from conftest import pg_address, pg_admin

    from newsdesk.store.postgres import migrations

    name = f"newsdesk_test_old_{os.getpid()}_{next(_OLD_NUMBERS)}"
    with pg_admin() as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    address = pg_address(name)
    conn = psycopg.connect(address, autocommit=True)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied TEXT NOT NULL)")
    for version, mig_name, sql in migrations():
        if version <= 14:
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, 'then')", (version, mig_name))
    return address, (lambda sql, params=(): conn.execute(sql.replace("?", "%s"), params)), conn.close



@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_of_schema_14_gets_arrival_keys_with_every_row_kept(backend, tmp_path):
    """Migration 0015 gives the per-item tables the item's arrival rowid (SQLite keys them by
    it); a store written by the schema before it reads back the same after the upgrade."""
    import numpy as np

    from newsdesk.store import open_store

    address, execute, close = _store_of_schema_14(backend, tmp_path)
    now = "2026-11-24T08:00:00+00:00"
    ids = ["c" * 16, "a" * 16, "b" * 16]  # arrival order differs from id order
    try:
        for k, iid in enumerate(ids):
            execute("INSERT INTO items (id, title, text, ingested, kind) VALUES (?, ?, '', ?, 'headline')",
                    (iid, f"Harbour ferry route {k} changes", now))
        for iid in reversed(ids):  # per-item rows written out of arrival order
            execute("INSERT INTO sightings (item_id, origin, line, source_id, source, seen) "
                    "VALUES (?, 'feed', 1, ?, 'Harbor Times', ?)", (iid, "src-" + iid[0], now))
            execute("INSERT INTO copy_keys (item_id, title_key) VALUES (?, ?)", (iid, "key " + iid[0]))
            execute("INSERT INTO story_members (item_id, story_id, time, how) VALUES (?, 'st1', ?, 'joined')",
                    (iid, now))
            execute("INSERT INTO story_decisions (item_id, story_id, action, score, decided) "
                    "VALUES (?, 'st1', 'joined', 0.5, ?)", (iid, now))
            vec = np.zeros(4, dtype=np.float32)
            vec["abc".index(iid[0])] = 1.0
            execute("INSERT INTO item_vectors (item_id, dim, vector, model) VALUES (?, 4, ?, 'static')",
                    (iid, vec.tobytes()))
    finally:
        close()

    store = open_store(address)
    try:
        assert store.schema_version() >= 15
        for iid in ids:
            assert store.member_story(iid) == "st1"
            assert store.decision_row(iid)["score"] == 0.5
            assert "rid" not in store.decision_row(iid)
            assert [s["source_id"] for s in store.sightings(iid)] == ["src-" + iid[0]]
            assert store.copy_candidates_by_title("key " + iid[0]) == iid
        rows = store.conn.execute("SELECT rid, item_id FROM story_members ORDER BY rid").fetchall()
        assert [r[1] for r in rows] == ids  # the arrival rowid, not the id or the write order
        probe = np.zeros(4, dtype=np.float32)
        probe[1] = 1.0
        assert store.nearest_items(probe, limit=1, model="static")[0][0] == "b" * 16
        assert store.member_stories(ids) == {iid: "st1" for iid in ids}
        # A write for an item the store does not hold is refused, as the foreign key did before.
        with pytest.raises(StoreError, match="not stored"):
            store.add_members([("d" * 16, "st1", now, None, "joined", 0)])
    finally:
        store.close()
        if backend == "postgres":
            from conftest import pg_drop_database

            pg_drop_database(address)
