"""Items and sightings: insert idempotently, read back, count."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from newsdesk.errors import NotFound, StoreError
from newsdesk.model import Item

_COLUMNS = (
    "id, title, text, url, source, published, ingested, language, kind, author, "
    "origin, origin_line, source_id, extra"
)


def to_iso(value: datetime | None) -> str | None:
    """Returns the time in UTC as ISO 8601, so stored times sort as text."""
    return value.astimezone(UTC).isoformat() if value is not None else None


def like_prefix(text: str) -> str:
    """Returns a LIKE pattern (with ESCAPE '\\') matching strings that start with text."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def row_to_item(row: sqlite3.Row) -> Item:
    """Returns the Item a row of `items` holds."""
    return Item(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        published=from_iso(row["published"]),
        ingested=from_iso(row["ingested"]),
        language=row["language"],
        kind=row["kind"],
        author=row["author"],
        origin=row["origin"],
        origin_line=row["origin_line"],
        source_id=row["source_id"],
        extra=json.loads(row["extra"]) if row["extra"] else {},
    )


class ItemsStore:
    """Queries on items and sightings (mixed into the store class)."""

    conn: sqlite3.Connection

    def add_items(self, items: Sequence[Item]) -> list[bool]:
        """Stores items not yet held and a sighting for every one; returns which were new.

        Runs inside the caller's transaction when there is one.
        """
        if not items:
            return []
        conn = self.conn
        now = datetime.now(UTC).isoformat()
        held = self.held_ids([it.id for it in items])
        fresh: list[bool] = []
        rows = []
        for it in items:
            if it.ingested is None:
                it.ingested = datetime.fromisoformat(now)
            is_new = it.id not in held
            fresh.append(is_new)
            if is_new:
                held.add(it.id)
                rows.append(
                    (
                        it.id, it.title, it.text or "", it.url, it.source, to_iso(it.published),
                        to_iso(it.ingested), it.language, it.kind, it.author, it.origin,
                        it.origin_line, it.source_id,
                        json.dumps(it.extra, ensure_ascii=False) if it.extra else None,
                    )
                )
        conn.executemany(f"INSERT INTO items ({_COLUMNS}) VALUES ({','.join('?' * 14)})", rows)
        rids = self._rids_of([it.id for it in items])
        conn.executemany(
            "INSERT INTO sightings (item_rid, item_id, origin, line, source_id, source, seen) "
            "VALUES (?,?,?,?,?,?,?)",
            [(rids[it.id], it.id, it.origin, it.origin_line, it.source_id, it.source, now) for it in items],
        )
        return fresh

    def _rids_of(self, ids: Iterable[str]) -> dict[str, int]:
        """Returns item id -> arrival rowid for every stored item among these ids.

        The per-item tables are keyed by arrival rowid (migration 0015), so that their rows
        append; a lookup by item id goes through the one index on items.id."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            out.update(self.conn.execute(
                f"SELECT id, rowid FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk).fetchall())
        return out

    def _need_rids(self, ids: Iterable[str]) -> dict[str, int]:
        """Returns _rids_of(ids); StoreError naming the first id the store does not hold."""
        ids = list(ids)
        rids = self._rids_of(ids)
        for item_id in ids:
            if item_id not in rids:
                raise StoreError(f"the store refused a write (item {item_id!r} is not stored)")
        return rids

    def held_ids(self, ids: Sequence[str]) -> set[str]:
        """Returns which of these item ids the store holds."""
        held: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            held.update(r[0] for r in self.conn.execute(f"SELECT id FROM items WHERE id IN ({marks})", chunk))
        return held

    def latest_of_source(self, source: str, limit: int) -> list[tuple[str, str | None]]:
        """Returns (text, extra JSON) of the source's latest stored items, oldest first."""
        rows = self.conn.execute(
            "SELECT text, extra FROM items WHERE source = ? ORDER BY rowid DESC LIMIT ?", (source, limit)
        ).fetchall()
        return [(r[0], r[1]) for r in reversed(rows)]

    def add_item_notes(self, stage: str, notes: dict[str, str]) -> None:
        """Records, per item id, what a stage could not do for it (inside the caller's transaction)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO item_notes (item_id, stage, note) VALUES (?,?,?)",
            [(item_id, stage, note) for item_id, note in notes.items()],
        )

    def item_notes(self, item_id: str) -> dict[str, str]:
        """Returns stage -> what that stage could not do for this item."""
        rows = self.conn.execute(
            "SELECT stage, note FROM item_notes WHERE item_id = ? ORDER BY stage", (item_id,)
        )
        return {r["stage"]: r["note"] for r in rows}

    def get_item(self, item_id: str) -> Item:
        """Returns the item with this id (or a unique id prefix of 6+ characters)."""
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None and len(item_id) >= 6:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM items WHERE id LIKE ? ESCAPE '\\' LIMIT 2",
                (like_prefix(item_id),)
            ).fetchall()
            row = rows[0] if len(rows) == 1 else None
        if row is None:
            row = self.conn.execute(
                f"SELECT {_COLUMNS} FROM items WHERE id = (SELECT item_id FROM sightings WHERE source_id = ? LIMIT 1)",
                (item_id,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no item {item_id!r}")
        return row_to_item(row)

    def items_by_ids(self, ids: Iterable[str]) -> list[Item]:
        """Returns the items with these ids, in the order given (unknown ids left out)."""
        ids = list(ids)
        found: dict[str, Item] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT {_COLUMNS} FROM items WHERE id IN ({marks})", chunk):
                found[row["id"]] = row_to_item(row)
        return [found[i] for i in ids if i in found]

    def list_items(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        newest_first: bool = True,
        language: str | None = None,
    ) -> list[Item]:
        """Returns items matching the filters, by publication (else arrival) time."""
        where, args = _filters(source=source, kind=kind, since=since, until=until, language=language)
        order = "DESC" if newest_first else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM items {where} "
            f"ORDER BY COALESCE(published, ingested) {order}, rowid {order} LIMIT ? OFFSET ?"
        )
        return [row_to_item(r) for r in self.conn.execute(sql, [*args, limit, offset])]

    def count_items(self, **filters: Any) -> int:
        where, args = _filters(**filters)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM items {where}", args).fetchone()[0])

    def sightings(self, item_id: str) -> list[dict[str, Any]]:
        """Returns every sighting of an item, oldest first."""
        rows = self.conn.execute(
            "SELECT origin, line, source_id, source, seen FROM sightings "
            "WHERE item_rid = (SELECT rowid FROM items WHERE id = ?) ORDER BY id",
            (item_id,),
        )
        return [dict(r) for r in rows]

    def item_stats(self) -> dict[str, Any]:
        """Returns counts of items by kind and source, sightings, and the time range."""
        conn = self.conn
        by_kind = dict(conn.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind").fetchall())
        sources = conn.execute(
            "SELECT COALESCE(source, '(unknown)') s, COUNT(*) n FROM items GROUP BY s ORDER BY n DESC, s"
        ).fetchall()
        first, last = conn.execute("SELECT MIN(published), MAX(published) FROM items").fetchone()
        return {
            "items": sum(by_kind.values()),
            "articles": by_kind.get("article", 0),
            "headlines": by_kind.get("headline", 0),
            "sightings": conn.execute("SELECT COUNT(*) FROM sightings").fetchone()[0],
            "sources": {r[0]: r[1] for r in sources},
            "languages": dict(conn.execute(
                "SELECT COALESCE(language, 'unknown') l, COUNT(*) n FROM items GROUP BY l ORDER BY n DESC, l"
            ).fetchall()),
            "first_published": first,
            "last_published": last,
        }


def _filters(
    *,
    source: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str | None = None,
) -> tuple[str, list[Any]]:
    clauses, args = [], []
    if language:
        clauses.append("language = ?")
        args.append(language)
    if source:
        clauses.append("source = ?")
        args.append(source)
    if kind:
        clauses.append("kind = ?")
        args.append(kind)
    if since:
        clauses.append("COALESCE(published, ingested) >= ?")
        args.append(to_iso(since))
    if until:
        clauses.append("COALESCE(published, ingested) < ?")
        args.append(to_iso(until))
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", args
