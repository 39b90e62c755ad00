"""Writers of every kind at once on one PostgreSQL store: `poll`, `serve --workers 2` taking POST
/api/ingest, and a CLI `ingest`, while a client reads. Plus the one-line exit 7 of a store or a
scheduler that cannot be reached, from the real entry point."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import PG, PG_SKIP, pg_drop_database, pg_fresh_database
from test_api import TOKEN
from test_api_server import Server
from test_live_server import LiveServer, rss

from newsdesk import Desk

EXE = str(Path(sys.executable).with_name("newsdesk"))
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# Six invented events, each with its own words, so that which story an item joins does not depend
# on the order the writers' batches reach the store.
TOPICS = [
    ("Korvath", "glacier", ["meltwater", "crevasse", "icefield", "moraine", "glaciologist", "calving"]),
    ("Benlow", "tramway", ["tramline", "ticket inspector", "depot", "timetable", "overhead wire", "carriage"]),
    ("Ostrava Bay", "oyster farm", ["oyster beds", "shellfish", "hatchery", "brine", "spat", "trawler"]),
    ("Quellin", "orchestra", ["symphony", "violinist", "baton", "rehearsal", "concert hall", "cellist"]),
    ("Marrowdale", "wildfire", ["firebreak", "embers", "evacuation", "smoke plume", "water bomber", "scrubland"]),
    ("Tessaly", "chess olympiad", ["grandmaster", "opening", "endgame", "tiebreak", "rook sacrifice", "arbiter"]),
]
PER_SOURCE = 4  # items per topic from each writer


def article(topic: int, n: int, writer: str) -> dict[str, str]:
    """Returns one invented report: title, text, url, published."""
    place, thing, words = TOPICS[topic]
    w = words[n % len(words):] + words[:n % len(words)]
    text = (f"{place} {thing}: {w[0]}, {w[1]} and {w[2]}. "
            f"The {thing} of {place} again: {w[3]}, {w[4]}, {w[5]}. "
            f"{place} {w[0]} {w[3]} {thing}.")
    return {"title": f"{place} {thing} {w[0]} {w[1]}", "text": text,
            "url": f"https://{writer}.example/{topic}/{n}",
            "published": (START + timedelta(minutes=7 * n + topic)).isoformat()}


def inputs(writer: str) -> list[dict[str, str]]:
    return [article(t, n, writer) for n in range(PER_SOURCE) for t in range(len(TOPICS))]


def _partition(memberships: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item, story in memberships.items():
        groups.setdefault(story, set()).add(item)
    return {frozenset(g) for g in groups.values()}


class Reading:
    """A client thread reading the API in a loop (items, search, stats) until stopped."""

    def __init__(self, url: str):
        self.url = url
        self.answers: list[tuple[int, int | None]] = []  # (status, items in /api/stats or None)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            n = 0
            while not self._stop.is_set():
                path = ["/api/items?limit=5", "/api/search?q=glacier", "/api/stories?limit=5", "/api/stats"][n % 4]
                n += 1
                try:
                    resp = client.get(path)
                except httpx.HTTPError as e:
                    self.failures.append(f"{path}: {e!r}")
                    continue
                count = resp.json().get("items") if path == "/api/stats" and resp.status_code == 200 else None
                self.answers.append((resp.status_code, count if isinstance(count, int) else None))

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=120)


def test_poll_serve_and_ingest_at_once_store_each_item_once_and_stories_match_one_writer(tmp_path, monkeypatch):
    if not PG:
        pytest.skip(PG_SKIP)
    # Entities off: the entity model would load in every process (slow, and not the point here);
    # small batches, so that the writers' transactions interleave.
    monkeypatch.setenv("NEWSDESK_ENRICH", "0")
    monkeypatch.setenv("NEWSDESK_INGEST_BATCH", "3")
    feed_items, file_items, api_items = inputs("feed"), inputs("file"), inputs("api")
    total = len(feed_items) + len(file_items) + len(api_items)

    feeds = LiveServer()
    feed_url = feeds.add("/wire.xml", body=rss("Wire", [
        {"title": it["title"], "text": it["text"], "guid": it["url"], "link": it["url"]} for it in feed_items]),
        ctype="application/rss+xml")
    jsonl = tmp_path / "file.jsonl"
    jsonl.write_text("".join(json.dumps(it) + "\n" for it in file_items), encoding="utf-8")
    address = pg_fresh_database()
    server = None
    try:
        added = subprocess.run([EXE, "--db", address, "feeds", "add", "--fulltext", "never", feed_url],
                               check=False, capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
        server = Server(address, workers=2)
        reading = Reading(server.url)
        posted: list[dict] = []

        def post() -> None:
            with httpx.Client(base_url=server.url, timeout=120,
                              headers={"Authorization": f"Bearer {TOKEN}"}) as client:
                for k in range(0, len(api_items), 4):
                    body = "".join(json.dumps(it) + "\n" for it in api_items[k:k + 4])
                    resp = client.post("/api/ingest", content=body, params={"fmt": "jsonl"})
                    posted.append({"status": resp.status_code, **resp.json()})

        writers = [subprocess.Popen([EXE, "--db", address, "poll", "--allow-private", "--no-check"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                   subprocess.Popen([EXE, "--db", address, "ingest", "--no-progress", str(jsonl)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
        poster = threading.Thread(target=post)
        poster.start()
        outs = [p.communicate(timeout=300) for p in writers]
        poster.join(timeout=300)
        reading.stop()
        assert [p.returncode for p in writers] == [0, 0], [o[1][-2000:] for o in outs]
        assert len(posted) == len(api_items) // 4 and all(p["status"] == 200 for p in posted), posted
        assert sum(p["new"] for p in posted) == len(api_items)

        # Readers were answered all along, and saw the store grow while the writers wrote.
        assert not reading.failures, reading.failures[:3]
        assert reading.answers and all(status == 200 for status, _ in reading.answers)
        seen = [c for _, c in reading.answers if c is not None]
        assert any(0 < c < total for c in seen), sorted(set(seen))

        with Desk(address) as shared:
            stats = shared.store.item_stats()
            ids = list(shared.store.iter_item_rows())
            stored = shared.store.items_by_ids(ids)
            memberships = shared.store.all_memberships()
        assert stats["items"] == total and stats["sightings"] == total  # none lost, none twice
        assert len(ids) == len(set(ids)) == total
        urls = sorted(it.url for it in stored)
        assert urls == sorted(it["url"] for it in feed_items + file_items + api_items)
        assert set(memberships) == set(ids)  # each item in exactly one story

        # One writer given the same items (in another order) decides the same stories.
        by_id = {it.id: it for it in stored}
        with Desk(tmp_path / "one.db", settings={"enrich": False}) as alone:
            alone.ingest([by_id[i] for i in sorted(ids)], batch_size=500)
            single = alone.store.all_memberships()
        assert _partition(memberships) == _partition(single)
        assert len(_partition(memberships)) == len(TOPICS)
    finally:
        if server is not None:
            server.stop()
        feeds.close()
        pg_drop_database(address)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _one_line_exit_7(args: list[str]) -> str:
    env = {**os.environ, "NEWSDESK_ENRICH": "0"}
    done = subprocess.run([EXE, *args], check=False, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 7, (done.stdout, done.stderr)
    lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_an_unreachable_postgresql_address_from_the_real_cli_is_one_line_exit_7(tmp_path):
    pytest.importorskip("psycopg", reason="the [postgres] extra (psycopg) is not installed")
    address = f"postgresql://nobody@127.0.0.1:{_free_port()}/desk?connect_timeout=3"
    line = _one_line_exit_7(["--db", address, "stats"])
    assert "PostgreSQL" in line
    doc = tmp_path / "a.jsonl"
    doc.write_text(json.dumps(article(0, 0, "x")) + "\n", encoding="utf-8")
    _one_line_exit_7(["--db", address, "ingest", "--no-progress", str(doc)])


def test_a_wrong_postgresql_database_from_the_real_cli_is_one_line_exit_7():
    if not PG:
        pytest.skip(PG_SKIP)
    from conftest import pg_address

    line = _one_line_exit_7(["--db", pg_address("no_such_database_here"), "stats"])
    assert "no_such_database_here" in line


def test_a_scheduler_that_is_down_from_the_real_cli_is_one_line_exit_7(tmp_path):
    pytest.importorskip("distributed", reason="the [cluster] extra (dask.distributed) is not installed")
    doc = tmp_path / "a.jsonl"
    doc.write_text(json.dumps(article(0, 0, "x")) + "\n", encoding="utf-8")
    line = _one_line_exit_7(["--db", str(tmp_path / "d.db"), "ingest", "--no-progress",
                             "--cluster", f"tcp://127.0.0.1:{_free_port()}", str(doc)])
    assert "scheduler" in line
    if (tmp_path / "d.db").exists():
        with Desk(tmp_path / "d.db", stages=[]) as desk:
            assert desk.stats()["items"] == 0  # nothing stored on the way out
