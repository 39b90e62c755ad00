"""The SQLite store: schema migrations, WAL, idempotent inserts, sightings, bad files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsdesk import Desk, Item, StoreError
from newsdesk.store.sqlite import migrations, open_store

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)


def _items(n: int, source: str = "Harbor Times") -> list[Item]:
    base = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    return [
        Item(
            title=f"Ferry timetable changes on route {i}",
            text=f"The harbour ferry on route {i} will run every {10 + i} minutes from Monday.",
            source=source,
            published=base + timedelta(hours=i),
            source_id=f"rec-{i}",
            origin="fixture",
            origin_line=i + 1,
        )
        for i in range(n)
    ]


def test_fresh_store_is_migrated_to_newest_version_in_wal_mode(tmp_path):
    db_path = tmp_path / "newsdesk.db"  # SQLite's own checks (WAL, sqlite_master)
    store = open_store(db_path)
    newest = migrations()[-1][0]
    assert store.schema_version() == newest
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"items", "sightings", "items_fts"} <= tables
    store.close()
    # Opening again applies nothing and keeps the data.
    assert open_store(db_path).schema_version() == newest


def test_ingesting_the_same_items_twice_stores_nothing_new_but_records_sightings(desk):
    first = desk.ingest(_items(5))
    again = desk.ingest(_items(5))
    assert (first.new, first.already) == (5, 0)
    assert (again.new, again.already) == (0, 5)
    assert again.summary() == "0 new, 5 already stored, 0 skipped"
    assert desk.store.count_items() == 5
    item = desk.items(limit=1)[0]
    assert len(desk.sightings(item.id)) == 2


def test_duplicate_within_one_batch_is_counted_once(desk):
    items = _items(3)
    copy = Item(title=items[0].title, text=items[0].text, source="Northline Post", source_id="other-id")
    report = desk.ingest([*items, copy])
    assert (report.new, report.already) == (3, 1)
    sources = {s["source"] for s in desk.sightings(items[0].id)}
    assert sources == {"Harbor Times", "Northline Post"}
    # The id its source gave it still finds the item.
    assert desk.item("other-id").id == items[0].id


def test_published_times_round_trip_timezone_aware_and_absent_stays_absent(desk):
    cest = timezone(timedelta(hours=2))
    dated = Item(title="Council vote", text="The council voted.", published=datetime(2026, 11, 24, 9, 0, tzinfo=cest))
    undated = Item(title="Undated note", text="No date here.")
    desk.ingest([dated, undated])
    got = desk.item(dated.id).published
    assert got is not None and got.utcoffset() is not None
    assert got == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    assert desk.item(undated.id).published is None


def test_fts_index_follows_inserts(desk):
    desk.ingest(_items(3))
    assert len(desk.store.search_items("ferry", snippets=False)) == 3


def test_items_filters(desk):
    desk.ingest(_items(4) + _items(2, source="Valley Courier")[:0])
    desk.ingest([Item(title="Bridge closed", text="", kind="headline", source="Valley Courier")])
    assert len(desk.items(source="Valley Courier")) == 1
    assert len(desk.items(kind="headline")) == 1
    since = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert {i.title for i in desk.items(since=since, source="Harbor Times")} == {
        "Ferry timetable changes on route 2",
        "Ferry timetable changes on route 3",
    }


def _integrity_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return (sqlite3.IntegrityError,)
    return (sqlite3.IntegrityError, psycopg.IntegrityError)


def test_a_failing_batch_leaves_the_store_as_it_was(desk):
    desk.ingest(_items(2))
    bad = _items(4)
    bad[3].kind = "not-a-kind"  # violates the CHECK constraint inside the batch
    with pytest.raises(_integrity_errors()):
        desk.ingest(bad)
    assert desk.store.count_items() == 2


def test_not_a_store_file_is_one_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database file at all" * 100)
    with pytest.raises(StoreError, match="not a usable SQLite store"):
        Desk(path)


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    db_path = tmp_path / "newsdesk.db"  # SQLite's user_version; PostgreSQL: test_store_backends.py
    open_store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(StoreError, match="newer than this newsdesk"):
        open_store(db_path)




def test_committed_pages_reach_the_database_file_without_the_writer_checkpointing(tmp_path):
    """A thread of the store copies each commit's pages from the write-ahead log into the
    database file; the writer's own checkpoint only comes at 10,000 pages, so without that
    thread the file would stay behind the log after a small ingest. close() stops the thread."""
    import os
    import threading
    import time

    db_path = tmp_path / "newsdesk.db"
    before = set(threading.enumerate())
    desk = Desk(db_path, stages=["copies", "stories"])
    desk.ingest(_items(40))
    probe = sqlite3.connect(db_path)
    try:
        page_size = probe.execute("PRAGMA page_size").fetchone()[0]
        wanted = probe.execute("PRAGMA page_count").fetchone()[0] * page_size  # read through the log
        deadline = time.monotonic() + 20
        while os.path.getsize(db_path) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.getsize(db_path) >= wanted
    finally:
        probe.close()
    ours = [t for t in set(threading.enumerate()) - before if t.name == "newsdesk-checkpoint"]
    assert ours
    desk.close()
    assert not any(t.is_alive() for t in ours)
    reopened = Desk(db_path, stages=["copies", "stories"])
    try:
        assert len(reopened.store.held_ids([it.id for it in _items(40)])) == 40
    finally:
        reopened.close()
