"""The store runs out of room in the middle of an ingest: one line, exit 7, nothing lost.

The `newsdesk ingest` command runs in a child process, limited in one of two ways (no root
needed, real files, a real SQLite):
- "pages": every SQLite connection of the child gets `PRAGMA max_page_count` a few dozen
  pages above the store's size, so SQLite answers SQLITE_FULL ("database or disk is full"),
  as on a full disk;
- "bytes": the child's file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) lies a little above
  the store's size, so the kernel refuses the write that crosses it (SQLite: disk I/O error).
The batches committed before the failure stay, whole, and the ingest resumes once there is room.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from newsdesk import Desk

BATCH = 20
ROOM = 150_000  # bytes (or ROOM // 4096 pages) the store may grow by before the ingest fails

# The CLI in the child, each SQLite connection capped at argv[1] pages.
_CAPPED_CLI = """
import sqlite3, sys
pages, connect = int(sys.argv[1]), sqlite3.connect
def capped(*args, **kwargs):
    conn = connect(*args, **kwargs)
    conn.execute(f"PRAGMA max_page_count = {pages}")
    return conn
sqlite3.connect = capped
from newsdesk.cli import main
sys.argv = ["newsdesk", *sys.argv[2:]]
main()
"""


def _write(path: Path, start: int, n: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for k in range(start, start + n):
            words = " ".join(f"word{(k * 7 + j) % 997}" for j in range(120))
            out.write(json.dumps({"id": f"item-{k}", "title": f"Harbour report number {k} on ferry {k % 13}",
                                  "text": f"The ferry {k % 13} crossing was delayed. {words}",
                                  "published": f"2026-03-{1 + k % 28:02d}T10:00:00+00:00",
                                  "source": f"Outlet {k % 5}"}) + "\n")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NEWSDESK_DB", None)
    env.update({"NEWSDESK_ENRICH": "0", "NEWSDESK_INGEST_BATCH": str(BATCH), "NEWSDESK_ENRICH_WORKERS": "1"})
    return env


def _ingest(db: Path, source: Path, limit: int | None = None, pages: int | None = None) -> subprocess.CompletedProcess:
    args = ["--db", str(db), "ingest", "--no-progress", str(source)]
    cmd = ([sys.executable, "-c", _CAPPED_CLI, str(pages), *args] if pages is not None
           else [str(Path(sys.executable).parent / "newsdesk"), *args])

    def cap() -> None:  # in the child: writes past `limit` bytes fail instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(cmd, check=False, env=_env(), capture_output=True, text=True, timeout=600,
                          preexec_fn=cap if limit is not None else None)


def _rows(db: Path) -> tuple[dict, dict]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        items = {r[0]: r[1:] for r in conn.execute("SELECT id, title, text, published FROM items")}
        members = dict(conn.execute("SELECT item_id, story_id FROM story_members").fetchall())
    finally:
        conn.close()
    return items, members


@pytest.mark.parametrize("how", ["pages", "bytes"])
def test_store_full_mid_ingest_is_one_line_exit_7_and_keeps_what_was_stored(tmp_path: Path, how: str) -> None:
    db = tmp_path / "store.db"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    _write(first, 0, 60)
    _write(second, 60, 3000)
    done = _ingest(db, first)
    assert done.returncode == 0, done.stderr[-2000:]
    before, before_members = _rows(db)
    assert len(before) == 60 and set(before_members) == set(before)

    if how == "pages":
        full = _ingest(db, second, pages=db.stat().st_size // 4096 + ROOM // 4096)
    else:
        full = _ingest(db, second, limit=db.stat().st_size + ROOM)
    assert full.returncode == 7, (full.returncode, full.stderr[-3000:])
    err = full.stderr.strip()
    assert "Traceback" not in full.stderr and "Traceback" not in full.stdout
    assert len(err.splitlines()) == 1, err
    reason = "database or disk is full" if how == "pages" else "disk I/O error"
    assert err.startswith("error: ") and reason in err, err

    after, after_members = _rows(db)
    assert {k: after[k] for k in before} == before  # everything stored before is intact
    added = len(after) - len(before)
    assert 0 < added < 3000, added  # it failed mid-ingest: some batches went in, not all
    assert added % BATCH == 0, added  # whole batches only
    assert set(after_members) == set(after)  # every stored item has its story

    # Readable, and writable again once there is room: the ingest resumes and completes.
    with Desk(db, settings={"enrich": False}) as desk:
        assert desk.store.item_stats()["items"] == len(after)
    again = _ingest(db, second)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(_rows(db)[0]) == 3060
