"""Outlets, their aliases and attributes, each item's outlet, and coverage reads."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

# What counts as one independent source, per story member: the owner when known, else the
# outlet, else the input an outlet-less item came from; NULL when nothing is known.
SOURCE_KEY = (
    "CASE WHEN o.owner IS NOT NULL THEN 'w:' || o.owner "
    "WHEN io.outlet_id IS NOT NULL THEN 'o:' || io.outlet_id "
    "WHEN io.input IS NOT NULL THEN 'i:' || io.input END"
)


class OutletsStore:
    """Queries of the outlets area (mixed into the store class)."""

    conn: sqlite3.Connection

    # -- resolution ------------------------------------------------------------------------
    def outlet_index(self) -> tuple[dict[str, int | None], dict[int, tuple[str, str, str | None]]]:
        """Returns alias -> outlet id (None: shared domain), and id -> (key, name, owner)."""
        aliases = {r[0]: r[1] for r in self.conn.execute("SELECT alias, outlet_id FROM outlet_aliases")}
        outlets = {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute("SELECT id, key, name, owner FROM outlets")}
        return aliases, outlets

    def add_outlet(self, key: str, name: str) -> int:
        """Returns the id of the outlet with this key, created when new."""
        c = self.conn
        c.execute("INSERT OR IGNORE INTO outlets (key, name, created) VALUES (?, ?, ?)",
                  (key, name, datetime.now(UTC).isoformat()))
        return int(c.execute("SELECT id FROM outlets WHERE key = ?", (key,)).fetchone()[0])

    def rename_outlet(self, outlet_id: int, name: str) -> None:
        self.conn.execute("UPDATE outlets SET name = ? WHERE id = ?", (name, outlet_id))

    def set_outlet_alias(self, alias: str, outlet_id: int | None, surface: str) -> None:
        """Points an alias at an outlet (None marks a domain that several outlets write from)."""
        self.conn.execute(
            "INSERT INTO outlet_aliases (alias, outlet_id, surface) VALUES (?, ?, ?) "
            "ON CONFLICT(alias) DO UPDATE SET outlet_id = excluded.outlet_id", (alias, outlet_id, surface))

    def add_item_outlets(self, rows: Sequence[tuple[str, int | None, str | None]]) -> None:
        """Records (item id, outlet id, input) for items."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO item_outlets (item_id, outlet_id, input) VALUES (?, ?, ?)", rows)

    def unresolved_items(self, limit: int = 5000) -> list[dict[str, Any]]:
        """Returns items that have no outlet row yet (stored before outlets were resolved)."""
        rows = self.conn.execute(
            "SELECT i.id, i.source, i.url, i.origin, i.ingested FROM items i "
            "WHERE NOT EXISTS (SELECT 1 FROM item_outlets io WHERE io.item_id = i.id) "
            "ORDER BY i.rowid LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    def has_unresolved_items(self) -> bool:
        a = self.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        b = self.conn.execute("SELECT COUNT(*) FROM item_outlets").fetchone()[0]
        return a > b

    # -- attributes ------------------------------------------------------------------------
    def set_outlet_attrs(self, outlet_id: int, attrs: dict[str, str], owner: str | None) -> None:
        """Sets attributes of an outlet (names given replace their old values) and its owner key."""
        c = self.conn
        c.executemany("INSERT OR REPLACE INTO outlet_attrs (outlet_id, name, value) VALUES (?, ?, ?)",
                      [(outlet_id, k, v) for k, v in attrs.items()])
        if "owner" in attrs:
            c.execute("UPDATE outlets SET owner = ? WHERE id = ?", (owner, outlet_id))

    def outlet_attribute_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM outlet_attrs ORDER BY name")]

    def outlet_attribute_values(self, name: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT value FROM outlet_attrs WHERE name = ? ORDER BY value", (name,))]

    # -- listing ---------------------------------------------------------------------------
    def outlet_rows(self) -> list[dict[str, Any]]:
        """Returns every outlet with items, stories, first and last seen, aliases, attributes."""
        c = self.conn
        stats = {r[0]: dict(r) for r in c.execute(
            "SELECT io.outlet_id AS id, COUNT(*) AS items, COUNT(DISTINCT m.story_id) AS stories, "
            "MIN(COALESCE(i.published, i.ingested)) AS first_seen, "
            "MAX(COALESCE(i.published, i.ingested)) AS last_seen "
            "FROM item_outlets io JOIN items i ON i.id = io.item_id "
            "LEFT JOIN story_members m ON m.rid = i.rowid "
            "WHERE io.outlet_id IS NOT NULL GROUP BY io.outlet_id")}
        aliases: dict[int, list[tuple[str, str]]] = {}
        for alias, oid, surface in c.execute(
                "SELECT alias, outlet_id, surface FROM outlet_aliases WHERE outlet_id IS NOT NULL ORDER BY alias"):
            aliases.setdefault(oid, []).append((alias, surface))
        attrs: dict[int, dict[str, str]] = {}
        for oid, name, value in c.execute("SELECT outlet_id, name, value FROM outlet_attrs ORDER BY name"):
            attrs.setdefault(oid, {})[name] = value
        out = []
        for oid, key, name in c.execute("SELECT id, key, name FROM outlets ORDER BY id"):
            s = stats.get(oid, {})
            out.append({
                "id": oid, "key": key, "name": name, "items": s.get("items", 0),
                "stories": s.get("stories", 0), "first_seen": s.get("first_seen"),
                "last_seen": s.get("last_seen"),
                "domains": [a.split(":", 1)[1] for a, _ in aliases.get(oid, []) if a.startswith("domain:")],
                "aliases": sorted({surface for a, surface in aliases.get(oid, []) if a.startswith(("name:", "as:"))}),
                "attributes": attrs.get(oid, {}),
            })
        return out

    def outlet_inputs(self) -> list[dict[str, Any]]:
        """Returns the inputs whose items name no outlet, with their item counts."""
        return [dict(r) for r in self.conn.execute(
            "SELECT input, COUNT(*) AS items FROM item_outlets WHERE outlet_id IS NULL AND input IS NOT NULL "
            "GROUP BY input ORDER BY input")]

    # -- coverage --------------------------------------------------------------------------
    def story_coverage_rows(self, story_id: str, attr: str | None) -> list[dict[str, Any]]:
        """Returns a story's members by time with outlet, input, source key and attribute value."""
        rows = self.conn.execute(
            f"SELECT m.item_id, m.time, i.published IS NOT NULL AS dated, m.copy_of, io.outlet_id, "
            f"o.name AS outlet, io.input, {SOURCE_KEY} AS skey, a.value AS value "
            "FROM story_members m JOIN items i ON i.rowid = m.rid "
            "LEFT JOIN item_outlets io ON io.item_id = m.item_id "
            "LEFT JOIN outlets o ON o.id = io.outlet_id "
            "LEFT JOIN outlet_attrs a ON a.outlet_id = io.outlet_id AND a.name = ? "
            "WHERE m.story_id = ? ORDER BY m.time, m.rowid", (attr or "", story_id))
        return [dict(r) for r in rows]

    def blindspot_rows(self, attr: str, *, since: str | None, min_sources: int,
                       limit: int = 100_000) -> list[tuple[str, str, str | None]]:
        """Returns (story, source key, attribute value of its earliest member) of active stories.

        Only stories with at least `min_sources` independent sources (and active since `since`)
        are read; copies are left out; a member with no source key is its own source.
        """
        clauses, args = ["s.status = 'active'", "s.sources >= ?"], [min_sources]
        if since:
            clauses.append("s.last_time >= ?")
            args.append(since)
        # MIN(m.time) makes the bare column a.value come from the earliest member (SQLite).
        sql = (f"SELECT m.story_id, COALESCE({SOURCE_KEY}, 'x:' || m.item_id) AS skey, a.value, MIN(m.time) "
               "FROM stories s JOIN story_members m ON m.story_id = s.id AND m.copy_of IS NULL "
               "LEFT JOIN item_outlets io ON io.item_id = m.item_id "
               "LEFT JOIN outlets o ON o.id = io.outlet_id "
               "LEFT JOIN outlet_attrs a ON a.outlet_id = io.outlet_id AND a.name = ? "
               f"WHERE {' AND '.join(clauses)} GROUP BY m.story_id, skey LIMIT ?")
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql, [attr, *args, limit])]

    def story_heads(self, story_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Returns story id -> title, first and last time, size, for active stories among the ids."""
        out: dict[str, dict[str, Any]] = {}
        ids = list(story_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            # By the id index: a status test in SQL would lead the planner to scan the active stories.
            for r in self.conn.execute(
                    "SELECT id, title, first_time, last_time, size, status FROM stories "
                    f"WHERE id IN ({','.join('?' * len(chunk))})", chunk):
                if r["status"] == "active":
                    out[r["id"]] = {k: r[k] for k in ("title", "first_time", "last_time", "size")}
        return out

    def story_source_keys(self, story_ids: Iterable[str] | None = None) -> dict[str, tuple[list[str], int]]:
        """Returns story -> (distinct source keys of canonical members, members with none)."""
        sql = (f"SELECT m.story_id, {SOURCE_KEY} AS skey, COUNT(*) FROM story_members m "
               "JOIN stories s ON s.id = m.story_id AND s.status = 'active' "
               "LEFT JOIN item_outlets io ON io.item_id = m.item_id "
               "LEFT JOIN outlets o ON o.id = io.outlet_id WHERE m.copy_of IS NULL ")
        out: dict[str, tuple[list[str], int]] = {}
        if story_ids is None:
            chunks: list[list[str] | None] = [None]
        else:
            ids = list(story_ids)
            chunks = [ids[i:i + 500] for i in range(0, len(ids), 500)]
        for chunk in chunks:
            if chunk is None:
                rows = self.conn.execute(sql + "GROUP BY m.story_id, skey ORDER BY MIN(m.time)")
            else:
                rows = self.conn.execute(
                    sql + f"AND m.story_id IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY m.story_id, skey ORDER BY MIN(m.time)", chunk)
            for sid, key, n in rows:
                keys, none = out.get(sid, ([], 0))
                if key is None:
                    none += n
                else:
                    keys.append(key)
                out[sid] = (keys, none)
        return out

    def set_story_sources(self, rows: Sequence[tuple[str, list[str], int]]) -> None:
        """Stores recounted (story, source keys, members without a key) in rows and state."""
        # A changed count moves `updated`, so views cached by it are recomputed.
        now = datetime.now(UTC).isoformat()
        self.conn.executemany(
            "UPDATE stories SET updated = CASE WHEN sources != ?1 THEN ?5 ELSE updated END, sources = ?1, "
            "state = CASE WHEN state IS NULL THEN NULL ELSE "
            "json_set(state, '$.sources', json(?2), '$.unattributed', ?3) END WHERE id = ?4",
            [(len(keys) + none, json.dumps(keys[:500]), none, sid, now) for sid, keys, none in rows])

    def outlet_stats(self) -> dict[str, Any]:
        c = self.conn
        return {
            "outlets": c.execute("SELECT COUNT(*) FROM outlets").fetchone()[0],
            "outlets_with_attributes": c.execute(
                "SELECT COUNT(DISTINCT outlet_id) FROM outlet_attrs").fetchone()[0],
        }
