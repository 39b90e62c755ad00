"""Queries on entities, mentions, roles, dates, figures and keyphrases (mixed into the store)."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from newsdesk.errors import NotFound
from newsdesk.model import Item
from newsdesk.nlp.base import Enrichment
from newsdesk.nlp.canonical import entity_key, fold, surname
from newsdesk.store.items import like_prefix

_TIME = "COALESCE(i.published, i.ingested)"



ENRICHED_ITEMS = "enriched_items"  # enrich_state: how many items have mentions (migration 0013)

class EntitiesStore:
    """Entity storage and queries (mixed into the store class)."""

    conn: sqlite3.Connection

    # -- writing -------------------------------------------------------------------------
    def save_enrichments(
        self, enrichments: Sequence[Enrichment], items: dict[str, Item], spread: dict[str, int] | None = None
    ) -> dict[str, list[str]]:
        """Stores what enrichment found; returns each item's canonical entity keys, most salient first.

        Runs inside the caller's transaction; `spread`, when given, receives how many items
        now name each returned entity. Each name joins the entity with its folded key,
        else (a surname alone) the one person with that surname, else the entity one of its
        aliases names (a surname only a person's, see `_person_takes`); a new full name takes
        over an earlier surname-only entity.
        """
        conn = self.conn
        keys: dict[str, list[str]] = {}
        touched: set[int] = set()
        named = {enr.item_id for enr in enrichments if enr.mentions}
        had = {r["item_id"] for r in _chunked(
            conn, "SELECT DISTINCT item_id FROM mentions WHERE item_id IN ({})", named)}
        new_items: set[str] = set()
        for enr in enrichments:
            item = items.get(enr.item_id)
            when = _iso(item.published or item.ingested) if item else None
            groups: dict[str, list] = defaultdict(list)
            for m in enr.mentions:
                groups[fold(m.name or m.text)].append(m)
            item_keys: Counter[str] = Counter()
            for key, mentions in groups.items():
                if not key:
                    continue
                label = Counter(m.label for m in mentions).most_common(1)[0][0]
                name = max((m.name or m.text for m in mentions), key=lambda n: (len(n.split()), len(n)))
                eid, _ = self._entity_for(key, name, label, any(m.field == "text" for m in mentions))
                touched.add(eid)
                new_items.add(enr.item_id)
                conn.executemany(
                    "INSERT INTO mentions (item_id, entity_id, surface, type, field, start, end, role) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    [(enr.item_id, eid, m.text, m.label, m.field, m.start, m.end, m.role) for m in mentions],
                )
                for alias, n in Counter(m.text for m in mentions).items():
                    conn.execute(
                        "INSERT INTO entity_aliases (entity_id, alias, folded, count) VALUES (?,?,?,?) "
                        "ON CONFLICT(entity_id, alias) DO UPDATE SET count = count + excluded.count",
                        (eid, alias, fold(alias), n),
                    )
                for typ, n in Counter(m.label for m in mentions).items():
                    conn.execute(
                        "INSERT INTO entity_types (entity_id, type, count) VALUES (?,?,?) "
                        "ON CONFLICT(entity_id, type) DO UPDATE SET count = count + excluded.count",
                        (eid, typ, n),
                    )
                for role in {m.role for m in mentions if m.role}:
                    conn.execute(
                        "INSERT OR IGNORE INTO entity_roles (entity_id, role, item_id) VALUES (?,?,?)",
                        (eid, role, enr.item_id),
                    )
                conn.execute(
                    "UPDATE entities SET mentions = mentions + ?, items = items + 1, "
                    "first_seen = CASE WHEN first_seen IS NULL OR first_seen > ? THEN ? ELSE first_seen END, "
                    "last_seen = CASE WHEN last_seen IS NULL OR last_seen < ? THEN ? ELSE last_seen END "
                    "WHERE id = ?",
                    (len(mentions), when, when, when, when, eid),
                )
                # Salience: mentions, and more for a name in the title.
                item_keys[f"{eid}"] += len(mentions) + (3 if any(m.field == "title" for m in mentions) else 0)
            conn.executemany(
                "INSERT INTO item_dates (item_id, surface, field, start, end, resolved, granularity, "
                "reference, reference_time) VALUES (?,?,?,?,?,?,?,?,?)",
                [(enr.item_id, d.text, d.field, d.start, d.end, d.resolved, d.granularity, d.reference,
                  d.reference_time) for d in enr.dates],
            )
            conn.executemany(
                "INSERT INTO item_figures (item_id, surface, field, start, end, value, unit, measure) "
                "VALUES (?,?,?,?,?,?,?,?)",
                [(enr.item_id, f.text, f.field, f.start, f.end, f.value, f.unit, f.measure) for f in enr.figures],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO item_keyphrases (item_id, phrase, folded, score) VALUES (?,?,?,?)",
                [(enr.item_id, p, p.casefold(), s) for p, s in enr.keyphrases],
            )
            keys[enr.item_id] = [k for k, _ in item_keys.most_common()]
        self._retype(touched)
        added = len(new_items - had)
        if added:  # the count the entity stage reads every batch, kept with the mentions
            self.set_enrich_state(ENRICHED_ITEMS, str(self.enriched_item_count() + added))
        names = {}
        for r in _chunked(conn, "SELECT id, name, type, items FROM entities WHERE id IN ({})", touched):
            names[r["id"]] = entity_key(r["type"], r["name"])
            if spread is not None:
                spread[names[r["id"]]] = r["items"]
        return {item_id: [names[int(k)] for k in ks if int(k) in names] for item_id, ks in keys.items()}

    def _entity_for(self, key: str, name: str, label: str, in_text: bool = True) -> tuple[int, str]:
        """Returns (id, name) of the entity a name joins, made if new; `in_text`: the item
        names it in its text, not only in its title."""
        conn = self.conn
        row = conn.execute("SELECT id, name, type FROM entities WHERE key = ?", (key,)).fetchone()
        one_word = " " not in key
        if row:
            words, had = len(name.split()), len(row["name"].split())
            capitals = row["name"].isupper() and len(row["name"]) > 4 and not name.isupper()
            if words > had or (words == had and capitals):
                # The longest form names it, and a dateline's capitals ("WASHINGTON") give
                # way to the name as written (an acronym's do not: CNN, NASA).
                conn.execute("UPDATE entities SET name = ? WHERE id = ?", (name, row["id"]))
            if not one_word and row["type"] == "PERSON":
                # Read twice now: a person known by the surname alone before takes it.
                self._fold_in_surname(row["id"], surname(key))
            return row["id"], row["name"]
        acronym = name.isupper() and len(name) <= 4 and label != "PERSON"
        if label in ("PERSON", "ORG") and one_word and not acronym:
            # A surname alone (sometimes typed ORG: "Trump Administration") is the one person
            # the desk knows by it; an acronym ("FBI", "GOP") is nobody's surname.
            rows = conn.execute(
                "SELECT id, name, mentions FROM entities WHERE surname = ? AND key != surname "
                "AND type = 'PERSON' ORDER BY mentions DESC LIMIT 2",
                (key,),
            ).fetchall()
            if rows and (len(rows) == 1 or rows[0]["mentions"] >= 2 * rows[1]["mentions"]) and (
                self._person_takes(rows[0]["id"], label)
            ):
                return rows[0]["id"], rows[0]["name"]
        rows = conn.execute(
            "SELECT e.id, e.name, e.key, e.type FROM entity_aliases a JOIN entities e ON e.id = a.entity_id "
            "WHERE a.folded = ? ORDER BY a.count DESC LIMIT 3",
            (key,),
        ).fetchall()
        for row in rows:
            # A one-word alias that ends another entity's name is a surname: it joins only
            # a person, as above ("Tov American" must not take every later "American").
            if one_word and row["key"].endswith(" " + key) and (
                row["type"] != "PERSON" or acronym or not self._person_takes(row["id"], label)
            ):
                continue
            return row["id"], row["name"]
        last = surname(key) if label == "PERSON" else None
        cur = conn.execute(
            "INSERT INTO entities (key, name, type, surname) VALUES (?,?,?,?)", (key, name, label, last)
        )
        eid = int(cur.lastrowid)
        if label == "PERSON" and last and last != key and in_text:
            # An earlier surname-only entity now has its full name: fold it in. A name read
            # only in a title waits for a second reading (see `_person_takes`).
            self._fold_in_surname(eid, last)
        return eid, name

    def _fold_in_surname(self, eid: int, last: str) -> None:
        """Merges the surname-only entity `last` into the person `eid`, when it is a person
        and no other person has that surname."""
        conn = self.conn
        old = conn.execute("SELECT id FROM entities WHERE key = ? AND id != ?", (last, eid)).fetchone()
        if not old:
            return
        others = conn.execute(
            "SELECT COUNT(*) FROM entities WHERE surname = ? AND key != surname AND id != ?", (last, eid)
        ).fetchone()[0]
        if not others and self._person_share(old["id"]) > 0.5:
            self._merge(old["id"], eid)

    def _person_takes(self, eid: int, label: str) -> bool:
        """Returns whether a person takes a one-word name typed `label` by its surname.

        Only a person whose full name the desk has read twice, or once in an article's
        text: a Title Case headline misread as a person ("Historic Facebook Ruling") must not
        take every later mention of Facebook. A surname read before its person was known
        joins that person when the full name is read again (`_fold_in_surname`). A name
        typed as something else joins only while the person is named as a person more often
        than as anything else, counting this mention, so each such join makes the next one
        less likely.
        """
        conn = self.conn
        full = conn.execute(
            "SELECT COALESCE(SUM(a.count), 0) FROM entity_aliases a JOIN entities e ON e.id = a.entity_id "
            "WHERE a.entity_id = ? AND a.folded = e.key",
            (eid,),
        ).fetchone()[0]
        if full < 2 and not conn.execute(
            "SELECT 1 FROM mentions WHERE entity_id = ? AND field = 'text' AND surface LIKE '% %' LIMIT 1", (eid,)
        ).fetchone():
            return False
        if label == "PERSON":
            return True
        counts = self._type_counts(eid)
        person = counts.get("PERSON", 0)
        return person > sum(counts.values()) - person + 1

    def _person_share(self, eid: int) -> float:
        """Returns the share of an entity's mentions typed as a person."""
        counts = self._type_counts(eid)
        return counts.get("PERSON", 0) / max(1, sum(counts.values()))

    def _type_counts(self, eid: int) -> dict[str, int]:
        return {r["type"]: r["count"] for r in self.conn.execute(
            "SELECT type, count FROM entity_types WHERE entity_id = ?", (eid,)).fetchall()}

    def _merge(self, old: int, new: int) -> None:
        conn = self.conn
        conn.execute("UPDATE mentions SET entity_id = ? WHERE entity_id = ?", (new, old))
        conn.execute(
            "INSERT INTO entity_aliases (entity_id, alias, folded, count) "
            "SELECT ?, alias, folded, count FROM entity_aliases WHERE entity_id = ? "
            "ON CONFLICT(entity_id, alias) DO UPDATE SET count = count + excluded.count",
            (new, old),
        )
        conn.execute(
            "INSERT INTO entity_types (entity_id, type, count) SELECT ?, type, count FROM entity_types "
            "WHERE entity_id = ? ON CONFLICT(entity_id, type) DO UPDATE SET count = count + excluded.count",
            (new, old),
        )
        conn.execute(
            "INSERT OR IGNORE INTO entity_roles (entity_id, role, item_id) "
            "SELECT ?, role, item_id FROM entity_roles WHERE entity_id = ?",
            (new, old),
        )
        row = conn.execute("SELECT mentions, items, first_seen, last_seen FROM entities WHERE id = ?", (old,)).fetchone()
        conn.execute(
            "UPDATE entities SET mentions = mentions + ?, items = items + ?, "
            "first_seen = MIN(COALESCE(first_seen, ?), COALESCE(?, first_seen)), "
            "last_seen = MAX(COALESCE(last_seen, ?), COALESCE(?, last_seen)) WHERE id = ?",
            (row["mentions"], row["items"], row["first_seen"], row["first_seen"], row["last_seen"],
             row["last_seen"], new),
        )
        for table in ("entity_aliases", "entity_types", "entity_roles"):
            conn.execute(f"DELETE FROM {table} WHERE entity_id = ?", (old,))
        conn.execute("DELETE FROM entities WHERE id = ?", (old,))

    def _retype(self, ids: Iterable[int]) -> None:
        """Sets each entity's type to the one most of its mentions carry."""
        for eid in ids:
            rows = self.conn.execute(
                "SELECT type, count FROM entity_types WHERE entity_id = ? ORDER BY count DESC, type", (eid,)
            ).fetchall()
            if rows:
                best = max(rows, key=lambda r: (r["count"], r["type"] == "PERSON"))["type"]
                self.conn.execute("UPDATE entities SET type = ? WHERE id = ?", (best, eid))

    def item_entity_keys(self, item_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """Returns each item's canonical entity keys, most salient first (mentions, and more for
        a name in the title, as when it was stored), with how many items name each."""
        found: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for r in _chunked(
            self.conn,
            "SELECT m.item_id, e.type, e.name, e.items, "
            "COUNT(*) + 3 * MAX(CASE WHEN m.field = 'title' THEN 1 ELSE 0 END) AS weight FROM mentions m "
            "JOIN entities e ON e.id = m.entity_id WHERE m.item_id IN ({}) "
            "GROUP BY m.item_id, e.id ORDER BY MIN(m.id)",
            list(item_ids),
        ):
            found[r["item_id"]].append((entity_key(r["type"], r["name"]), int(r["items"]), int(r["weight"])))
        return {
            iid: [(key, items) for key, items, _ in sorted(rows, key=lambda row: -row[2])]
            for iid, rows in found.items()
        }

    def enriched_item_count(self) -> int:
        """Returns how many items have stored mentions (a count kept as they are stored:
        counting them in `mentions` would read the whole table every batch)."""
        kept = self.enrich_state(ENRICHED_ITEMS)
        if kept is not None:
            return int(kept)
        return int(self.conn.execute("SELECT COUNT(DISTINCT item_id) FROM mentions").fetchone()[0])

    def set_enrich_state(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO enrich_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def count_without_entities(self, counts: dict[str, int]) -> None:
        """Adds to the per-language counts of items no pipeline could read."""
        for lang, n in counts.items():
            self.conn.execute(
                "INSERT INTO enrich_state (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = "
                "CAST(CAST(enrich_state.value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
                (f"without:{lang}", n),
            )

    # -- reading -------------------------------------------------------------------------
    def entity_languages(self) -> str | None:
        """Returns "entities: en, fr; none for de 15, pt 15": which languages get entities."""
        with_ = self.enrich_state("languages")
        rows = self.conn.execute(
            "SELECT substr(key, 9) AS lang, CAST(value AS INTEGER) AS n FROM enrich_state "
            "WHERE key LIKE 'without:%' AND CAST(value AS INTEGER) > 0 ORDER BY n DESC, lang"
        ).fetchall()
        if not with_ and not rows:
            return None
        line = f"entities: {with_ or 'none'}"
        if rows:
            line += "; none for " + ", ".join(f"{r['lang']} {r['n']}" for r in rows)
        return line

    def enrich_state(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM enrich_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def known_entity_names(self, limit: int = 20_000) -> dict[str, str]:
        """Returns the most mentioned entities' names (and their aliases) with their types."""
        rows = self.conn.execute(
            "SELECT e.name, e.type, a.alias FROM entities e LEFT JOIN entity_aliases a ON a.entity_id = e.id "
            "WHERE e.id IN (SELECT id FROM entities ORDER BY mentions DESC LIMIT ?)",
            (limit,),
        )
        out: dict[str, str] = {}
        for r in rows:
            out.setdefault(r["name"], r["type"])
            if r["alias"]:
                out.setdefault(r["alias"], r["type"])
        return out

    def entity_stats(self) -> dict[str, Any]:
        """Returns counts of entities and mentions, and what the entity stage last said."""
        conn = self.conn
        return {
            "entities": conn.execute("SELECT COUNT(*) FROM entities").fetchone()[0],
            "mentions": conn.execute("SELECT COUNT(*) FROM mentions").fetchone()[0],
            "enriched_items": conn.execute(
                "SELECT COUNT(*) FROM (SELECT item_id FROM mentions UNION SELECT item_id FROM item_keyphrases)"
            ).fetchone()[0],
            "entity_stage": self.enrich_state("status") or "not run yet",
            "entity_languages": self.entity_languages() or "not run yet",
        }

    def list_entities(
        self,
        *,
        types: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Returns entities by mentions (within the time range when one is given)."""
        clauses, args = [], []
        if types:
            clauses.append(f"e.type IN ({','.join('?' * len(types))})")
            args.extend(types)
        if query:
            clauses.append("(e.key LIKE ? ESCAPE '\\' OR e.name LIKE ? ESCAPE '\\')")
            args.extend(["%" + like_prefix(fold(query)), "%" + like_prefix(query)])
        if since or until:
            if since:
                clauses.append(f"{_TIME} >= ?")
                args.append(_iso(since))
            if until:
                clauses.append(f"{_TIME} < ?")
                args.append(_iso(until))
            where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
            sql = (
                "SELECT e.id, e.name, e.type, COUNT(m.id) AS mentions, COUNT(DISTINCT m.item_id) AS items, "
                f"MIN({_TIME}) AS first_seen, MAX({_TIME}) AS last_seen "
                "FROM mentions m JOIN entities e ON e.id = m.entity_id JOIN items i ON i.id = m.item_id "
                f"{where} GROUP BY e.id ORDER BY mentions DESC, items DESC, e.name LIMIT ? OFFSET ?"
            )
        else:
            where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
            sql = (
                "SELECT e.id, e.name, e.type, e.mentions, e.items, e.first_seen, e.last_seen FROM entities e "
                f"{where} ORDER BY e.mentions DESC, e.items DESC, e.name LIMIT ? OFFSET ?"
            )
        rows = self.conn.execute(sql, [*args, limit, offset]).fetchall()
        return [_entity_row(r) for r in rows]

    def find_entity(self, name: str) -> dict[str, Any]:
        """Returns the entity a name (canonical, alias, surname or key) stands for."""
        conn = self.conn
        text = name.split(":", 1)[1] if ":" in name and name.split(":", 1)[0].isupper() else name
        key = fold(text)
        cols = "id, name, type, mentions, items, first_seen, last_seen"
        row = conn.execute(f"SELECT {cols} FROM entities WHERE key = ?", (key,)).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT {cols} FROM entities WHERE id = (SELECT entity_id FROM entity_aliases WHERE folded = ? "
                "ORDER BY count DESC LIMIT 1)",
                (key,),
            ).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT {cols} FROM entities WHERE surname = ? ORDER BY mentions DESC LIMIT 1", (key,)
            ).fetchone()
        if row is None and len(key) >= 3:
            row = conn.execute(
                f"SELECT {cols} FROM entities WHERE key LIKE ? ESCAPE '\\' ORDER BY mentions DESC LIMIT 1",
                ("%" + like_prefix(key),),
            ).fetchone()
        if row is None:
            raise NotFound(f"no entity named {name!r}")
        return _entity_row(row)

    def entity_aliases(self, entity_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT alias, count FROM entity_aliases WHERE entity_id = ? ORDER BY count DESC, alias", (entity_id,)
        )
        return [dict(r) for r in rows]

    def entity_types(self, entity_id: int) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT type, count FROM entity_types WHERE entity_id = ? ORDER BY count DESC", (entity_id,)
        )
        return {r["type"]: r["count"] for r in rows}

    def entity_roles(self, entity_id: int) -> list[dict[str, Any]]:
        """Returns each role the texts give the entity, with the items that state it."""
        rows = self.conn.execute(
            "SELECT r.role, r.item_id FROM entity_roles r JOIN items i ON i.id = r.item_id "
            f"WHERE r.entity_id = ? ORDER BY {_TIME}",
            (entity_id,),
        )
        roles: dict[str, list[str]] = defaultdict(list)
        for r in rows:
            roles[r["role"]].append(r["item_id"])
        out = [{"role": role, "items": ids, "count": len(ids)} for role, ids in roles.items()]
        out.sort(key=lambda d: (-d["count"], d["role"]))
        return out

    def entity_item_ids(self, entity_id: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT m.item_id FROM mentions m JOIN items i ON i.id = m.item_id "
            f"WHERE m.entity_id = ? ORDER BY {_TIME}",
            (entity_id,),
        )
        return [r[0] for r in rows]

    def entity_timeline(self, entity_id: int, bucket: str = "day") -> list[dict[str, Any]]:
        """Returns mentions and items per day (or month) for the entity."""
        width = 7 if bucket == "month" else 10
        rows = self.conn.execute(
            f"SELECT substr({_TIME}, 1, {width}) AS period, COUNT(*) AS mentions, "
            "COUNT(DISTINCT m.item_id) AS items FROM mentions m JOIN items i ON i.id = m.item_id "
            "WHERE m.entity_id = ? GROUP BY period ORDER BY period",
            (entity_id,),
        )
        return [dict(r) for r in rows]

    def entity_cooccurring(self, entity_id: int, limit: int = 10) -> list[dict[str, Any]]:
        """Returns the entities most often named in the same items."""
        rows = self.conn.execute(
            "SELECT e.id, e.name, e.type, COUNT(DISTINCT o.item_id) AS shared FROM mentions m "
            "JOIN mentions o ON o.item_id = m.item_id AND o.entity_id != m.entity_id "
            "JOIN entities e ON e.id = o.entity_id WHERE m.entity_id = ? "
            "GROUP BY e.id ORDER BY shared DESC, e.mentions DESC LIMIT ?",
            (entity_id, limit),
        )
        return [
            {"name": r["name"], "type": r["type"], "key": entity_key(r["type"], r["name"]), "items": r["shared"]}
            for r in rows
        ]

    def entities_for_items(self, item_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Returns the entities named in these items, with mentions and items counted."""
        counts: dict[int, dict[str, Any]] = {}
        for r in _chunked(
            self.conn,
            "SELECT e.id, e.name, e.type, e.surname, COUNT(*) AS n, COUNT(DISTINCT m.item_id) AS k "
            "FROM mentions m JOIN entities e ON e.id = m.entity_id WHERE m.item_id IN ({}) GROUP BY e.id",
            item_ids,
        ):
            c = counts.setdefault(r["id"], {**_entity_row(r, with_counts=False), "mentions": 0, "items": 0,
                                             "surname": r["surname"]})
            c["mentions"] += r["n"]
            c["items"] += r["k"]
        return list(counts.values())

    def item_enrichment(self, item_id: str) -> dict[str, Any]:
        """Returns the mentions, dates, figures and keyphrases stored for one item."""
        conn = self.conn
        mentions = [
            dict(r) for r in conn.execute(
                "SELECT m.surface, m.type, m.field, m.start, m.end, m.role, e.name, e.type AS entity_type "
                "FROM mentions m JOIN entities e ON e.id = m.entity_id WHERE m.item_id = ? ORDER BY m.field DESC, m.start",
                (item_id,),
            )
        ]
        for m in mentions:
            m["key"] = entity_key(m.pop("entity_type"), m["name"])
        dates = [dict(r) for r in conn.execute(
            "SELECT surface, field, start, end, resolved, granularity, reference, reference_time "
            "FROM item_dates WHERE item_id = ? ORDER BY field DESC, start", (item_id,))]
        figures = [dict(r) for r in conn.execute(
            "SELECT surface, field, start, end, value, unit, measure FROM item_figures "
            "WHERE item_id = ? ORDER BY field DESC, start", (item_id,))]
        phrases = [dict(r) for r in conn.execute(
            "SELECT phrase, score FROM item_keyphrases WHERE item_id = ? ORDER BY score DESC, phrase", (item_id,))]
        return {"item_id": item_id, "mentions": mentions, "dates": dates, "figures": figures, "keyphrases": phrases}

    def keyphrases_for_items(self, item_ids: Sequence[str]) -> list[tuple[str, float]]:
        return [(r["phrase"], r["score"]) for r in _chunked(
            self.conn, "SELECT phrase, score FROM item_keyphrases WHERE item_id IN ({})", item_ids)]

    def keyphrase_df(self, phrases: Iterable[str]) -> tuple[dict[str, int], int]:
        """Returns (items each folded phrase occurs in, items with any keyphrase)."""
        df = {r[0]: r[1] for r in _chunked(
            self.conn, "SELECT folded, COUNT(*) FROM item_keyphrases WHERE folded IN ({}) GROUP BY folded",
            [p.casefold() for p in phrases])}
        total = self.conn.execute("SELECT COUNT(DISTINCT item_id) FROM item_keyphrases").fetchone()[0]
        return df, int(total)


def _iso(value: datetime | None) -> str | None:
    """Returns the time in UTC as ISO 8601, as items' times are stored (so they compare as text)."""
    return value.astimezone(UTC).isoformat() if value else None


def _entity_row(r: sqlite3.Row, with_counts: bool = True) -> dict[str, Any]:
    out = {"id": r["id"], "name": r["name"], "type": r["type"], "key": entity_key(r["type"], r["name"])}
    if with_counts:
        out.update({"mentions": r["mentions"], "items": r["items"], "first_seen": r["first_seen"],
                    "last_seen": r["last_seen"]})
    return out


def _chunked(conn: sqlite3.Connection, sql: str, values: Iterable[Any]) -> list[sqlite3.Row]:
    values = list(values)
    rows: list[sqlite3.Row] = []
    for start in range(0, len(values), 500):
        chunk = values[start : start + 500]
        rows.extend(conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
    return rows
