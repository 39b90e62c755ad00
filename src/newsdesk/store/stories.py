"""Copies and stories: membership, clustering state, decisions, redirects, corrections."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from newsdesk.errors import NotFound
from newsdesk.store.items import like_prefix

_STORY_COLS = "seq, id, created, updated, first_time, last_time, size, copies, sources, title, status"
_DECISION_COLS = ("item_id, story_id, action, score, threshold, components, runner_up, runner_score, "
                  "runner_components, decided")


def iso_from_epoch(t: float | None) -> str | None:
    """Returns epoch seconds as ISO 8601 in UTC (text that sorts by time)."""
    if t is None or math.isnan(t) or math.isinf(t):
        return None
    return datetime.fromtimestamp(t, UTC).isoformat()


def epoch(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


class StoriesStore:
    """Queries of the copies and stories areas (mixed into the store class)."""

    conn: sqlite3.Connection

    # -- meta and term statistics ---------------------------------------------------------
    def story_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM story_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_story_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO story_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value),
        )

    def term_counts(self) -> tuple[dict[str, int], int]:
        """Returns the online document frequencies and the number of documents counted."""
        df = dict(self.conn.execute("SELECT term, df FROM story_terms").fetchall())
        return df, int(self.story_meta("documents") or 0)

    def term_df(self, terms: Sequence[str]) -> dict[str, int]:
        """Returns the online document frequencies of these terms (those counted)."""
        out: dict[str, int] = {}
        for start in range(0, len(terms), 500):
            chunk = list(terms[start:start + 500])
            out.update(self.conn.execute(
                f"SELECT term, df FROM story_terms WHERE term IN ({','.join('?' * len(chunk))})", chunk).fetchall())
        return out

    def term_documents(self) -> int:
        """Returns the number of documents the online frequencies counted."""
        return int(self.story_meta("documents") or 0)

    def add_term_counts(self, n: int, counts: dict[str, int]) -> None:
        """Adds a batch's document frequencies to the stored ones."""
        if not n:
            return
        self.conn.executemany(
            "INSERT INTO story_terms (term, df) VALUES (?, ?) "
            "ON CONFLICT(term) DO UPDATE SET df = df + excluded.df", list(counts.items()),
        )
        self.set_story_meta("documents", str(int(self.story_meta("documents") or 0) + n))

    # -- copies ----------------------------------------------------------------------------
    def copy_candidates_by_title(self, key: str) -> str | None:
        """Returns the canonical item stored under a normalised short text, if any."""
        row = self.conn.execute(
            "SELECT item_id FROM copy_keys WHERE title_key = ? ORDER BY rowid LIMIT 1", (key,)
        ).fetchone()
        return row[0] if row else None

    def add_copy_keys(self, rows: Sequence[tuple[str, str | None, bytes | None]]) -> None:
        rids = self._need_rids(r[0] for r in rows)  # type: ignore[attr-defined]
        self.conn.executemany(
            "INSERT OR IGNORE INTO copy_keys (rid, item_id, title_key, sketch) VALUES (?, ?, ?, ?)",
            [(rids[r[0]], *r) for r in rows],
        )

    def copy_sketches(self, limit: int) -> list[tuple[str, bytes]]:
        """Returns (item id, sketch) of the most recent canonical items with a sketch."""
        rows = self.conn.execute(
            "SELECT item_id, sketch FROM copy_keys WHERE sketch IS NOT NULL ORDER BY rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1]) for r in reversed(rows)]

    def copy_candidates_by_bands(self, bands: Sequence[tuple[int, int, bytes]]) -> list[str]:
        """Returns the items whose stored sketch holds any of these bands, each given as
        (byte offset, length, bytes); migration 0012 indexes the bands the copy stage uses."""
        if not bands:
            return []
        sql = " UNION ".join(
            f"SELECT item_id FROM copy_keys WHERE sketch IS NOT NULL AND substr(sketch, {int(o) + 1}, {int(n)}) = ?"
            for o, n, _ in bands)
        return [r[0] for r in self.conn.execute(sql, [b for _, _, b in bands]).fetchall()]

    def add_copies(self, rows: Sequence[tuple[str, str, float, str]]) -> None:
        """Records (item, canonical, score, method) copy links."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO copies (item_id, canonical_id, score, method) VALUES (?, ?, ?, ?)", rows
        )

    def copy_of(self, item_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT canonical_id, score, method FROM copies WHERE item_id = ?", (item_id,)
        ).fetchone()
        return dict(row) if row else None

    def copies_of(self, item_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT item_id FROM copies WHERE canonical_id = ? ORDER BY rowid", (item_id,))]

    def copy_map(self) -> dict[str, str]:
        """Returns every copy link: item id -> canonical id."""
        return dict(self.conn.execute("SELECT item_id, canonical_id FROM copies").fetchall())

    # -- stories: clustering state --------------------------------------------------------
    def story_generation(self) -> int:
        return int(self.story_meta("generation") or 0)

    def bump_story_generation(self) -> int:
        gen = self.story_generation() + 1
        self.set_story_meta("generation", str(gen))
        return gen

    def next_story_seq(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM stories").fetchone()[0])

    def story_exists(self, story_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM stories WHERE id = ?", (story_id,)).fetchone() is not None

    def story_states(self, *, since: str | None = None, until: str | None = None,
                     ids: Iterable[str] | None = None,
                     long_only: bool = False) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Returns (row, state) of active stories, by last time window or by ids; `long_only`:
        only the stories of mostly full articles (they stay findable longer)."""
        if ids is not None:
            ids = list(ids)
            rows = []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows += self.conn.execute(
                    f"SELECT seq, id, first_time, last_time, size, copies, title, state FROM stories "
                    f"WHERE status = 'active' AND id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        else:
            clauses, args = ["status = 'active'"], []
            if long_only:
                clauses.append("long_lived = 1")
            if since:
                clauses.append("last_time >= ?")
                args.append(since)
            if until:
                clauses.append("last_time < ?")
                args.append(until)
            rows = self.conn.execute(
                "SELECT seq, id, first_time, last_time, size, copies, title, state FROM stories WHERE "
                + " AND ".join(clauses) + " ORDER BY seq", args).fetchall()
        out = []
        for r in rows:
            row = {"seq": r["seq"], "id": r["id"], "first": epoch(r["first_time"]),
                   "last": epoch(r["last_time"]), "size": r["size"], "copies": r["copies"],
                   "title": r["title"]}
            out.append((row, json.loads(r["state"]) if r["state"] else {}))
        return out

    def latest_story_time(self) -> str | None:
        return self.conn.execute("SELECT MAX(last_time) FROM stories WHERE status = 'active'").fetchone()[0]

    def save_stories(self, rows: Sequence[dict[str, Any]]) -> None:
        """Inserts or updates stories from dicts with seq, id, times, counts, title, state."""
        now = datetime.now(UTC).isoformat()
        self.conn.executemany(
            "INSERT INTO stories (seq, id, created, updated, first_time, last_time, size, copies, "
            "sources, title, status, state, long_lived) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET updated = excluded.updated, first_time = excluded.first_time, "
            "last_time = excluded.last_time, size = excluded.size, copies = excluded.copies, "
            "sources = excluded.sources, title = excluded.title, status = excluded.status, "
            "state = excluded.state, long_lived = excluded.long_lived",
            [(r["seq"], r["id"], now, now, r["first_time"], r["last_time"], r["size"], r["copies"],
              r["sources"], r["title"], r.get("status", "active"), json.dumps(r["state"]),
              _long_lived(r["state"]))
             for r in rows],
        )

    def add_members(self, rows: Sequence[tuple[str, str, str | None, str | None, str, int]]) -> None:
        """Records (item, story, time, copy_of, how, pinned) memberships."""
        rids = self._need_rids(r[0] for r in rows)  # type: ignore[attr-defined]
        self.conn.executemany(
            "INSERT OR REPLACE INTO story_members (rid, item_id, story_id, time, copy_of, how, pinned) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [(rids[r[0]], *r) for r in rows],
        )

    def add_decisions(self, rows: Sequence[tuple]) -> None:
        """Records decisions: (item, story, action, score, threshold, components, runner-up...,
        decided, crowding)."""
        rids = self._need_rids(r[0] for r in rows)  # type: ignore[attr-defined]
        self.conn.executemany(
            "INSERT OR REPLACE INTO story_decisions (rid, item_id, story_id, action, score, threshold, "
            "components, runner_up, runner_score, runner_components, decided, crowding) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", [(rids[r[0]], *r) for r in rows],
        )

    def member_story(self, item_id: str) -> str | None:
        """Returns the story an item is in now, or None."""
        row = self.conn.execute(
            "SELECT story_id FROM story_members WHERE rid = (SELECT rowid FROM items WHERE id = ?)",
            (item_id,)).fetchone()
        return row[0] if row else None

    def member_stories(self, item_ids: Iterable[str]) -> dict[str, str]:
        ids = list(item_ids)
        out: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            out.update(self.conn.execute(
                "SELECT item_id, story_id FROM story_members WHERE rid IN "
                f"(SELECT rowid FROM items WHERE id IN ({','.join('?' * len(chunk))}))",
                chunk).fetchall())
        return out

    def latest_members(self, limit: int) -> list[dict[str, Any]]:
        """Returns (item_id, story_id, pinned, crowding) of the latest canonical members, newest
        first; crowding: how much its story decision raised its join threshold (None: not at all)."""
        return [dict(r) for r in self.conn.execute(
            "SELECT m.item_id, m.story_id, m.pinned, d.crowding FROM story_members m "
            "LEFT JOIN story_decisions d ON d.rid = m.rid WHERE m.copy_of IS NULL "
            "ORDER BY m.rowid DESC LIMIT ?", (limit,))]

    def all_memberships(self) -> dict[str, str]:
        """Returns item id -> story id for every member."""
        return dict(self.conn.execute("SELECT item_id, story_id FROM story_members").fetchall())

    # -- stories: reading -----------------------------------------------------------------
    def resolve_story(self, story_id: str) -> str:
        """Returns the current id of a story, following merge redirects; NotFound if unknown."""
        seen = set()
        sid = story_id
        while True:
            row = self.conn.execute("SELECT new_id FROM story_redirects WHERE old_id = ?", (sid,)).fetchone()
            if row is None or row[0] in seen:
                break
            seen.add(sid)
            sid = row[0]
        if self.story_exists(sid):
            return sid
        if len(story_id) >= 5:
            rows = self.conn.execute(
                "SELECT id FROM stories WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (like_prefix(story_id),)
            ).fetchall()
            if len(rows) == 1:
                return self.resolve_story(rows[0][0])
        raise NotFound(f"no story {story_id!r}")

    def story_row(self, story_id: str) -> dict[str, Any]:
        row = self.conn.execute(f"SELECT {_STORY_COLS} FROM stories WHERE id = ?", (story_id,)).fetchone()
        if row is None:
            raise NotFound(f"no story {story_id!r}")
        return dict(row)

    def list_stories(self, *, limit: int = 50, offset: int = 0, since: str | None = None,
                     until: str | None = None, min_size: int = 1, order: str = "rank") -> list[dict[str, Any]]:
        """Returns active story rows: ranked by independent sources, then recency, then size, or
        newest first."""
        clauses, args = ["status = 'active'", "size >= ?"], [min_size]
        if since:
            clauses.append("last_time >= ?")
            args.append(since)
        if until:
            clauses.append("first_time < ?")
            args.append(until)
        # Stories read at the same moment (one page dump, one feed round) and told by as many
        # sources: the larger first.
        order_by = "sources DESC, last_time DESC, size DESC, seq DESC" if order == "rank" else "last_time DESC, seq DESC"
        sql = (f"SELECT {_STORY_COLS} FROM stories WHERE {' AND '.join(clauses)} "
               f"ORDER BY {order_by} LIMIT ? OFFSET ?")
        return [dict(r) for r in self.conn.execute(sql, [*args, limit, offset])]

    def story_member_rows(self, story_id: str) -> list[dict[str, Any]]:
        """Returns (item_id, time, copy_of, how, pinned) of a story's members, by time."""
        return [dict(r) for r in self.conn.execute(
            "SELECT item_id, time, copy_of, how, pinned FROM story_members WHERE story_id = ? "
            "ORDER BY time, rowid", (story_id,))]

    def story_latest_members(self, story_id: str, n: int) -> list[str]:
        """Returns the ids of a story's latest `n` members that are not copies, by time (the
        order of `story_member_rows`), without reading the rest of a large story."""
        rows = self.conn.execute(
            "SELECT item_id FROM story_members WHERE story_id = ? AND copy_of IS NULL "
            "ORDER BY time DESC, rowid DESC LIMIT ?", (story_id, n)).fetchall()
        return [r["item_id"] for r in reversed(rows)]

    def decision_row(self, item_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            f"SELECT {_DECISION_COLS} FROM story_decisions WHERE rid = (SELECT rowid FROM items WHERE id = ?)",
            (item_id,)).fetchone()
        return dict(row) if row else None

    def story_stats(self) -> dict[str, Any]:
        """Returns counts of stories, copies, redirects and corrections."""
        c = self.conn
        return {
            "stories": c.execute("SELECT COUNT(*) FROM stories WHERE status = 'active'").fetchone()[0],
            "copies": c.execute("SELECT COUNT(*) FROM copies").fetchone()[0],
            "story_redirects": c.execute("SELECT COUNT(*) FROM story_redirects").fetchone()[0],
            "story_corrections": c.execute("SELECT COUNT(*) FROM story_corrections").fetchone()[0],
        }

    # -- merges, moves, corrections -------------------------------------------------------
    def redirect_story(self, old_id: str, new_id: str) -> None:
        """Points old_id (and whatever pointed to it) at new_id; marks old_id merged."""
        now = datetime.now(UTC).isoformat()
        c = self.conn
        c.execute("UPDATE story_redirects SET new_id = ? WHERE new_id = ?", (new_id, old_id))
        c.execute("INSERT OR REPLACE INTO story_redirects (old_id, new_id, at) VALUES (?, ?, ?)",
                  (old_id, new_id, now))
        c.execute("UPDATE story_members SET story_id = ? WHERE story_id = ?", (new_id, old_id))
        c.execute("UPDATE stories SET status = 'merged', size = 0, copies = 0, sources = 0, "
                  "updated = ?, state = NULL WHERE id = ?", (now, old_id))
        c.execute("UPDATE OR IGNORE story_blocks SET b = ? WHERE b = ?", (new_id, old_id))
        c.execute("UPDATE OR IGNORE story_blocks SET a = ? WHERE a = ? AND kind = 'stories'", (new_id, old_id))
        c.execute("DELETE FROM story_blocks WHERE kind = 'stories' AND a = b")

    def redirect_target(self, old_id: str) -> str | None:
        row = self.conn.execute("SELECT new_id FROM story_redirects WHERE old_id = ?", (old_id,)).fetchone()
        return row[0] if row else None

    def set_member(self, item_id: str, story_id: str, how: str, pinned: bool) -> None:
        self.conn.execute("UPDATE story_members SET story_id = ?, how = ?, pinned = ? "
                          "WHERE rid = (SELECT rowid FROM items WHERE id = ?)",
                          (story_id, how, int(pinned), item_id))

    def set_story_status(self, story_id: str, status: str) -> None:
        self.conn.execute("UPDATE stories SET status = ?, updated = ? WHERE id = ?",
                          (status, datetime.now(UTC).isoformat(), story_id))

    def add_block(self, a: str, b: str, kind: str) -> None:
        if kind == "stories" and a > b:
            a, b = b, a
        self.conn.execute("INSERT OR IGNORE INTO story_blocks (a, b, kind) VALUES (?, ?, ?)", (a, b, kind))

    def remove_block(self, a: str, b: str) -> None:
        lo, hi = sorted((a, b))
        self.conn.execute("DELETE FROM story_blocks WHERE kind = 'stories' AND a = ? AND b = ?", (lo, hi))

    def blocked_stories(self, story_id: str) -> set[str]:
        """Returns the stories an editor kept apart from this one (splits and moves)."""
        c = self.conn
        out = {r[0] for r in c.execute("SELECT b FROM story_blocks WHERE kind = 'stories' AND a = ?", (story_id,))}
        out |= {r[0] for r in c.execute("SELECT a FROM story_blocks WHERE kind = 'stories' AND b = ?", (story_id,))}
        out |= {r[0] for r in c.execute(
            "SELECT b.b FROM story_blocks b JOIN items i ON i.id = b.a JOIN story_members m ON m.rid = i.rowid "
            "WHERE b.kind = 'item' AND m.story_id = ?", (story_id,))}
        return out

    def item_blocks(self, item_id: str) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT b FROM story_blocks WHERE kind = 'item' AND a = ?", (item_id,))}

    def add_correction(self, action: str, story_id: str, other_id: str | None,
                       items: Sequence[str], reason: str | None) -> int:
        cur = self.conn.execute(
            "INSERT INTO story_corrections (at, action, story_id, other_id, items, reason) VALUES (?,?,?,?,?,?)",
            (datetime.now(UTC).isoformat(), action, story_id, other_id, json.dumps(list(items)), reason),
        )
        return int(cur.lastrowid or 0)

    def correction_rows(self, story_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        if story_id:
            rows = self.conn.execute(
                "SELECT * FROM story_corrections WHERE story_id = ? OR other_id = ? ORDER BY id DESC LIMIT ?",
                (story_id, story_id, limit))
        else:
            rows = self.conn.execute("SELECT * FROM story_corrections ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def source_item_map(self, origin: str | None = None) -> dict[str, str]:
        """Returns source id -> item id for every sighting (read from one origin if given)."""
        if origin is None:
            rows = self.conn.execute(
                "SELECT source_id, item_id FROM sightings WHERE source_id IS NOT NULL ORDER BY id")
        else:
            rows = self.conn.execute(
                "SELECT source_id, item_id FROM sightings WHERE origin = ? AND source_id IS NOT NULL "
                "ORDER BY id", (origin,))
        return dict(rows.fetchall())

    def story_member_summary(self, story_id: str) -> dict[str, Any]:
        """Returns size, copies, independent sources, time span and fallback title of a story."""
        c = self.conn
        size, copies, first, last = c.execute(
            "SELECT COUNT(*), COUNT(copy_of), MIN(time), MAX(time) FROM story_members WHERE story_id = ?",
            (story_id,)).fetchone()
        # Independent sources as the outlet stage keys them (store/outlets.py), else outlet names.
        from newsdesk.store.outlets import SOURCE_KEY

        srcs, unattributed = [], 0
        for key in c.execute(
                f"SELECT CASE WHEN io.item_id IS NULL THEN i.source ELSE {SOURCE_KEY} END "
                "FROM story_members m JOIN items i ON i.rowid = m.rid "
                "LEFT JOIN item_outlets io ON io.item_id = m.item_id LEFT JOIN outlets o ON o.id = io.outlet_id "
                "WHERE m.story_id = ? AND m.copy_of IS NULL ORDER BY m.time, m.rowid", (story_id,)):
            if key[0] is None:
                unattributed += 1
            elif key[0] not in srcs:
                srcs.append(key[0])
        head = c.execute(
            "SELECT i.title, i.text, m.time FROM story_members m JOIN items i ON i.rowid = m.rid "
            "WHERE m.story_id = ? AND m.copy_of IS NULL "
            "ORDER BY COALESCE(TRIM(i.title), '') = '', m.time, m.rowid LIMIT 1", (story_id,)).fetchone()
        title, titled = "", False
        if head is not None:  # the earliest headline, else the earliest lead (cut by the caller)
            titled = bool((head["title"] or "").strip())
            title = " ".join(head["title"].split()) if titled else (head["text"] or "")[:2000]
        return {"size": size, "copies": copies, "first": epoch(first), "last": epoch(last),
                "sources": srcs, "unattributed": unattributed, "title": title, "titled": titled,
                "title_time": epoch(head["time"]) if head is not None else None}


def _long_lived(state: dict[str, Any] | None) -> int:
    """Returns 1 for a story of mostly full articles (findable by articles for the longer
    window), else 0; the story stage's own rule, kept in a column so that a start can load
    those stories alone."""
    if not state:
        return 0
    return int(int(state.get("articles") or 0) * 2 > int(state.get("n") or 0))
