"""Feeds, watches, alerts and webhook deliveries: the tables of the live area."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from newsdesk.errors import Conflict, InputError, NotFound
from newsdesk.query import Query

FEED_FIELDS = (
    "id", "url", "title", "added", "fulltext", "etag", "last_modified", "last_polled", "last_ok",
    "last_status", "last_new", "items_seen", "failures", "error", "retry_after",
)
WATCH_FIELDS = (
    "id", "name", "kind", "target", "min_new_sources", "webhook", "secret", "created", "checked_rowid",
)
ALERT_FIELDS = (
    "id", "watch_id", "watch", "story", "item_id", "reason", "title", "url", "sources", "items",
    "created", "item_ingested",
)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FeedsStore:
    """Queries on feeds, watches, alerts and deliveries (mixed into the store class)."""

    conn: sqlite3.Connection

    # -- feeds -----------------------------------------------------------------------------
    def add_feed(self, url: str, *, title: str | None = None, fulltext: str = "auto") -> tuple[dict, bool]:
        """Returns the feed row for url and whether it was added now (False: already there)."""
        with self.transaction():  # type: ignore[attr-defined]
            row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (url,)).fetchone()
            if row is not None:
                return dict(row), False
            cur = self.conn.execute(
                "INSERT INTO feeds (url, title, added, fulltext) VALUES (?, ?, ?, ?)",
                (url, title, _now(), fulltext),
            )
            return self.get_feed(str(cur.lastrowid)), True

    def restore_feed(self, data: dict[str, Any]) -> None:
        """Stores a feed exactly as exported (every field, id included when free)."""
        fields = [f for f in FEED_FIELDS if f in data]
        marks = ",".join("?" * len(fields))
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                f"INSERT OR REPLACE INTO feeds ({','.join(fields)}) VALUES ({marks})",
                [data[f] for f in fields],
            )

    def get_feed(self, ref: str) -> dict[str, Any]:
        """Returns the feed with this number or URL."""
        row = None
        if ref.isdigit():
            row = self.conn.execute("SELECT * FROM feeds WHERE id = ?", (int(ref),)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM feeds WHERE url = ?", (ref,)).fetchone()
        if row is None:
            raise NotFound(f"no feed {ref!r}")
        return dict(row)

    def list_feeds(self) -> list[dict[str, Any]]:
        """Returns every feed in the order they were added."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM feeds ORDER BY id")]

    def remove_feed(self, ref: str) -> dict[str, Any]:
        """Returns the feed removed."""
        feed = self.get_feed(ref)
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("DELETE FROM feeds WHERE id = ?", (feed["id"],))
        return feed

    def set_feed_fulltext(self, ref: str, fulltext: str) -> dict[str, Any]:
        """Returns the feed after setting when its articles are fetched in full."""
        feed = self.get_feed(ref)
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("UPDATE feeds SET fulltext = ? WHERE id = ?", (fulltext, feed["id"]))
        return self.get_feed(str(feed["id"]))

    def feeds_due(self, now: datetime) -> list[dict[str, Any]]:
        """Returns the feeds not backing off at this time."""
        rows = self.conn.execute(
            "SELECT * FROM feeds WHERE retry_after IS NULL OR retry_after <= ? ORDER BY id",
            (now.astimezone(UTC).isoformat(),),
        )
        return [dict(r) for r in rows]

    def record_poll_ok(
        self, feed_id: int, *, status: int, etag: str | None, last_modified: str | None,
        title: str | None, new: int, seen: int, when: datetime,
    ) -> None:
        """Stores a poll that worked: validators, counts, and no error or backoff."""
        stamp = when.astimezone(UTC).isoformat()
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                "UPDATE feeds SET etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified), "
                "title = COALESCE(title, ?), last_polled = ?, last_ok = ?, last_status = ?, last_new = ?, "
                "items_seen = items_seen + ?, failures = 0, error = NULL, retry_after = NULL WHERE id = ?",
                (etag, last_modified, title, stamp, stamp, status, new, seen, feed_id),
            )

    def record_poll_error(
        self, feed_id: int, *, error: str, status: int | None, retry_after: datetime, when: datetime
    ) -> int:
        """Stores a failed poll and when to try again; returns the consecutive failures."""
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                "UPDATE feeds SET last_polled = ?, last_status = ?, last_new = 0, failures = failures + 1, "
                "error = ?, retry_after = ? WHERE id = ?",
                (when.astimezone(UTC).isoformat(), status, error[:500],
                 retry_after.astimezone(UTC).isoformat(), feed_id),
            )
            row = self.conn.execute("SELECT failures FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        return int(row[0]) if row else 0

    # -- watches ---------------------------------------------------------------------------
    def add_watch(
        self, *, name: str, kind: str, target: str, min_new_sources: int = 2,
        webhook: str | None = None, secret: str | None = None, checked_rowid: int | None = None,
    ) -> dict[str, Any]:
        """Returns the new watch; it looks at items that arrive from now on."""
        with self.transaction():  # type: ignore[attr-defined]
            if self.conn.execute("SELECT 1 FROM watches WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"a watch named {name!r} already exists")
            start = self.max_item_rowid() if checked_rowid is None else checked_rowid
            cur = self.conn.execute(
                "INSERT INTO watches (name, kind, target, min_new_sources, webhook, secret, created, "
                "checked_rowid) VALUES (?,?,?,?,?,?,?,?)",
                (name, kind, target, min_new_sources, webhook, secret, _now(), start),
            )
        return self.get_watch(str(cur.lastrowid))

    def restore_watch(self, data: dict[str, Any], stories: Iterable[dict[str, Any]]) -> None:
        """Stores a watch as exported, with the stories it has alerted on, checked up to now."""
        fields = [f for f in WATCH_FIELDS if f in data and f != "checked_rowid"]
        values = [data[f] for f in fields]
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                f"INSERT OR REPLACE INTO watches ({','.join(fields)}, checked_rowid) "
                f"VALUES ({','.join('?' * len(fields))}, ?)",
                [*values, self.max_item_rowid()],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO watch_stories (watch_id, story, sources, items, alerted) "
                "VALUES (?,?,?,?,?)",
                [(data["id"], s["story"], s["sources"], s["items"], s["alerted"]) for s in stories],
            )

    def get_watch(self, ref: str) -> dict[str, Any]:
        """Returns the watch with this number or name."""
        row = None
        if ref.isdigit():
            row = self.conn.execute("SELECT * FROM watches WHERE id = ?", (int(ref),)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM watches WHERE name = ?", (ref,)).fetchone()
        if row is None:
            raise NotFound(f"no watch {ref!r}")
        return dict(row)

    def list_watches(self) -> list[dict[str, Any]]:
        """Returns every watch in the order they were added."""
        return [dict(r) for r in self.conn.execute("SELECT * FROM watches ORDER BY id")]

    def remove_watch(self, ref: str) -> dict[str, Any]:
        """Returns the watch removed (its alerts stay, without the link)."""
        watch = self.get_watch(ref)
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("DELETE FROM watches WHERE id = ?", (watch["id"],))
        return watch

    def max_item_rowid(self) -> int:
        """Returns the arrival number of the newest item (0 when empty)."""
        return int(self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM items").fetchone()[0])

    def items_after(self, after: int, upto: int) -> list[tuple[int, str]]:
        """Returns (arrival number, id) of the items that arrived in (after, upto], in order."""
        rows = self.conn.execute(
            "SELECT rowid, id FROM items WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (after, upto)
        )
        return [(int(r[0]), r[1]) for r in rows]

    def query_items_after(self, query: Query | str, after: int, upto: int) -> list[str]:
        """Returns ids of items in (after, upto] that match a query (a user's text or parsed)."""
        from newsdesk.store.search import fts5_match

        match = fts5_match(query)
        try:
            rows = self.conn.execute(
                "SELECT i.id FROM items_fts f JOIN items i ON i.rowid = f.rowid "
                "WHERE items_fts MATCH ? AND f.rowid > ? AND f.rowid <= ? ORDER BY f.rowid",
                (match, after, upto),
            ).fetchall()
        except sqlite3.OperationalError as e:
            raise InputError(f"{query!r}: not a valid search query ({e})") from None
        return [r[0] for r in rows]

    def set_watch_checked(self, watch_id: int, rowid: int) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("UPDATE watches SET checked_rowid = ? WHERE id = ?", (rowid, watch_id))

    def watch_story(self, watch_id: int, story: str) -> dict[str, Any] | None:
        """Returns what a story looked like when this watch last alerted on it, or None."""
        row = self.conn.execute(
            "SELECT * FROM watch_stories WHERE watch_id = ? AND story = ?", (watch_id, story)
        ).fetchone()
        return dict(row) if row else None

    def watch_stories(self, watch_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT story, sources, items, alerted FROM watch_stories WHERE watch_id = ? ORDER BY story",
            (watch_id,),
        )
        return [dict(r) for r in rows]

    # -- alerts and deliveries -------------------------------------------------------------
    def add_alert(self, alert: dict[str, Any], webhook: str | None) -> int:
        """Stores an alert (and a pending delivery when the watch has a webhook); returns its id."""
        fields = [f for f in ALERT_FIELDS if f != "id"]
        with self.transaction():  # type: ignore[attr-defined]
            cur = self.conn.execute(
                f"INSERT INTO alerts ({','.join(fields)}) VALUES ({','.join('?' * len(fields))})",
                [alert.get(f) for f in fields],
            )
            alert_id = int(cur.lastrowid or 0)
            self.conn.execute(
                "INSERT INTO watch_stories (watch_id, story, sources, items, alerted) VALUES (?,?,?,?,?) "
                "ON CONFLICT (watch_id, story) DO UPDATE SET sources = excluded.sources, "
                "items = excluded.items, alerted = excluded.alerted",
                (alert["watch_id"], alert["story"], alert["sources"], alert["items"], alert["created"]),
            )
            if webhook:
                self.conn.execute(
                    "INSERT INTO deliveries (alert_id, target, status, updated) VALUES (?,?,?,?)",
                    (alert_id, webhook, "pending", _now()),
                )
        return alert_id

    def restore_alert(self, alert: dict[str, Any]) -> None:
        """Stores an alert as exported (no delivery is queued)."""
        fields = [f for f in ALERT_FIELDS if f in alert]
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                f"INSERT OR REPLACE INTO alerts ({','.join(fields)}) VALUES ({','.join('?' * len(fields))})",
                [alert[f] for f in fields],
            )

    def list_alerts(
        self, *, watch: str | None = None, after_id: int = 0, limit: int = 50, oldest_first: bool = False
    ) -> list[dict[str, Any]]:
        """Returns alerts, newest first unless oldest_first, optionally for one watch."""
        clauses, args = ["id > ?"], [after_id]
        if watch is not None:
            clauses.append("watch_id = ?")
            args.append(self.get_watch(watch)["id"])
        order = "ASC" if oldest_first else "DESC"
        rows = self.conn.execute(
            f"SELECT * FROM alerts WHERE {' AND '.join(clauses)} ORDER BY id {order} LIMIT ?",
            [*args, limit],
        )
        return [dict(r) for r in rows]

    def iter_alerts(self) -> Iterator[dict[str, Any]]:
        for row in self.conn.execute("SELECT * FROM alerts ORDER BY id"):
            yield dict(row)

    def deliveries_due(self, max_attempts: int) -> list[dict[str, Any]]:
        """Returns deliveries not yet sent with attempts left, with their alert and watch secret."""
        rows = self.conn.execute(
            "SELECT d.id, d.alert_id, d.target, d.attempts, w.secret FROM deliveries d "
            "JOIN alerts a ON a.id = d.alert_id LEFT JOIN watches w ON w.id = a.watch_id "
            "WHERE d.status != 'sent' AND d.attempts < ? ORDER BY d.id",
            (max_attempts,),
        )
        return [dict(r) for r in rows]

    def get_alert(self, alert_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise NotFound(f"no alert {alert_id}")
        return dict(row)

    def record_delivery(self, delivery_id: int, *, sent: bool, attempts: int, error: str | None) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                "UPDATE deliveries SET status = ?, attempts = attempts + ?, error = ?, updated = ? "
                "WHERE id = ?",
                ("sent" if sent else "failed", attempts, error, _now(), delivery_id),
            )

    def list_deliveries(self, alert_id: int | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM deliveries", []
        if alert_id is not None:
            sql, args = sql + " WHERE alert_id = ?", [alert_id]
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def known_item_ids(self, ids: list[str]) -> set[str]:
        """Returns which of these item ids are stored."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(f"SELECT id FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found.update(r[0] for r in rows)
        return found

    # -- export and import -----------------------------------------------------------------
    def iter_item_rows(self) -> Iterator[str]:
        """Yields item ids in arrival order."""
        for row in self.conn.execute("SELECT id FROM items ORDER BY rowid"):
            yield row[0]

    def sightings_for(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Returns the sightings of these items, grouped by item id, oldest first."""
        out: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = self.conn.execute(
                "SELECT item_id, origin, line, source_id, source, seen FROM sightings WHERE item_rid IN "
                f"(SELECT rowid FROM items WHERE id IN ({','.join('?' * len(chunk))})) ORDER BY id",
                chunk,
            )
            for r in rows:
                d = dict(r)
                out.setdefault(d.pop("item_id"), []).append(d)
        return out

    def replace_sightings(self, item_id: str, sightings: list[dict[str, Any]]) -> None:
        """Replaces an item's sightings with those of an export (import restores them exactly)."""
        with self.transaction():  # type: ignore[attr-defined]
            rid = self._need_rids([item_id])[item_id]  # type: ignore[attr-defined]
            self.conn.execute("DELETE FROM sightings WHERE item_rid = ?", (rid,))
            self.conn.executemany(
                "INSERT INTO sightings (item_rid, item_id, origin, line, source_id, source, seen) "
                "VALUES (?,?,?,?,?,?,?)",
                [(rid, item_id, s.get("origin"), s.get("line"), s.get("source_id"), s.get("source"),
                  s.get("seen")) for s in sightings],
            )

    def restore_correction_time(self, at: str) -> None:
        """Gives the newest editor correction the time it was first made (import replays them).

        The stories area records corrections at the current time; an import puts back the
        original time so that exporting the restored store gives the same file.
        """
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                "UPDATE story_corrections SET at = ? WHERE id = (SELECT MAX(id) FROM story_corrections)",
                (at,),
            )

    def live_stats(self) -> dict[str, Any]:
        """Returns counts of feeds (and failing ones), watches and alerts."""
        one = self.conn.execute
        return {
            "feeds": one("SELECT COUNT(*) FROM feeds").fetchone()[0],
            "feeds_failing": one("SELECT COUNT(*) FROM feeds WHERE error IS NOT NULL").fetchone()[0],
            "watches": one("SELECT COUNT(*) FROM watches").fetchone()[0],
            "alerts": one("SELECT COUNT(*) FROM alerts").fetchone()[0],
        }
