"""PostgreSQL store: a shared desk for many processes (psycopg 3, psycopg_pool).

Chosen by the store address (`--db postgresql://user@host/db`, `NEWSDESK_DB`). The class
is assembled from the same area mixins as the SQLite store, so both have the same public
methods (see `store.protocol.Store`). The mixins speak SQLite's dialect; `translate()`
rewrites each statement once into PostgreSQL's (placeholders, `INSERT OR IGNORE/REPLACE`,
quoted reserved words, json_each), and the methods that need PostgreSQL's own features are
overridden here: full-text search with tsvector/GIN (a parsed `Query` compiled to tsquery),
editors' merges, and restored ids.

Writers are serialised by one transaction-level advisory lock taken at the start of every
write transaction (the role `BEGIN IMMEDIATE` plays in SQLite): several ingest processes on
one database decide stories one batch at a time, each batch seeing the stories the previous
one stored. Readers take no lock, so they never block writers (MVCC).

Migrations are numbered per backend: `store/migrations_pg/NNNN_name.sql`, applied in order
under an advisory lock and recorded in `schema_migrations`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from newsdesk.errors import NotInstalled, StoreBusy, StoreDisconnected, StoreError
from newsdesk.query import Query, Term, parse_query
from newsdesk.store.search import (
    BODY_WEIGHT,
    ELLIPSIS,
    TITLE_WEIGHT,
    _mark,
    item_filters,
    mark_all,
    passage,
)
from newsdesk.store.sqlite import migrations as sqlite_migrations

LOGGER = logging.getLogger(__name__)

WRITE_LOCK = 0x6E657773  # advisory lock key of write transactions ("news")
MIGRATE_LOCK = 0x6E657774  # advisory lock key of migrations
POOL_SIZE = 32

# Primary keys, for INSERT OR REPLACE (PostgreSQL needs the conflict target named).
_KEYS = {
    "copies": ("item_id",), "story_members": ("item_id",), "story_decisions": ("item_id",),
    "story_redirects": ("old_id",), "item_vectors": ("item_id",), "watches": ("id",),
    "watch_stories": ("watch_id", "story"), "alerts": ("id",), "feeds": ("id",),
    "story_titles": ("story_id",), "story_meta": ("key",), "story_terms": ("term",),
    "item_notes": ("item_id", "stage"), "item_outlets": ("item_id",), "outlet_attrs": ("outlet_id", "name"),
    "outlet_aliases": ("alias",),
}
# Tables whose new rows' ids callers read back (SQLite's cursor.lastrowid).
_RETURNING_ID = {"entities", "feeds", "watches", "alerts", "story_corrections", "deliveries", "outlets"}


def is_address(db: str) -> bool:
    """Returns whether a store address names a PostgreSQL database."""
    return db.startswith(("postgresql://", "postgres://"))


def redact(address: str) -> str:
    """Returns the address without its password, for messages."""
    try:
        parts = urlsplit(address)
    except ValueError:
        return "postgresql://…"
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def migrations() -> list[tuple[int, str, str]]:
    """Returns (version, name, sql) for every PostgreSQL migration shipped, in order."""
    return sqlite_migrations("migrations_pg")


# -- dialect ---------------------------------------------------------------------------------

_INSERT = re.compile(r"^\s*INSERT\s+(OR\s+(IGNORE|REPLACE)\s+)?INTO\s+(\w+)\s*(\(([^)]*)\))?", re.DOTALL)
_END = re.compile(r"(?<=[\s,.(])end(?=[\s,)])")
_SELF_ADD = re.compile(r"\b(\w+) = \1 \+ excluded\.")
_DERIVED = re.compile(r"FROM \((SELECT [^()]*)\)(?=\s*($|\)|WHERE|GROUP|ORDER|LIMIT))")


@lru_cache(maxsize=1024)
def translate(sql: str, returning: bool = False) -> str:
    """Returns the PostgreSQL form of a statement written for SQLite."""
    if "UPDATE OR IGNORE" in sql:
        raise StoreError("UPDATE OR IGNORE has no PostgreSQL form; override the method")
    s = sql.replace("%", "%%").replace("?", "%s")
    s = s.replace("json_each(%s)", "json_array_elements_text(%s::json) AS je(value)")
    s = s.replace("+i.kind", "i.kind").replace("char(10)", "chr(10)")
    # SQLite's two-argument MIN/MAX (entity merges), not the aggregates.
    s = s.replace("= MIN(COALESCE(first_seen", "= LEAST(COALESCE(first_seen")
    s = s.replace("= MAX(COALESCE(last_seen", "= GREATEST(COALESCE(last_seen")
    s = s.replace(" LIKE ", " ILIKE ")
    s = _END.sub('"end"', s)
    s = _DERIVED.sub(r"FROM (\1) AS derived", s)
    m = _INSERT.match(s)
    if m:
        table = m.group(3)
        if "ON CONFLICT" in s:
            s = _SELF_ADD.sub(lambda mm: f"{mm.group(1)} = {table}.{mm.group(1)} + excluded.", s)
        mode = m.group(2)
        if mode:
            s = s.replace(m.group(1), "", 1)
            if mode == "IGNORE":
                s = s.rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
            else:
                keys = _KEYS.get(table)
                if keys is None:
                    raise StoreError(f"INSERT OR REPLACE into {table}: no key known")
                cols = [c.strip() for c in (m.group(5) or "").split(",") if c.strip()]
                rest = [c for c in cols if c not in keys]
                action = ("DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in rest)) if rest else "DO NOTHING"
                s = s.rstrip().rstrip(";") + f" ON CONFLICT ({', '.join(keys)}) {action}"
        if returning and table in _RETURNING_ID and "RETURNING" not in s:
            s += " RETURNING id"
    return s


class Row:
    """A result row read by name or position, like sqlite3.Row (dict(row) works)."""

    __slots__ = ("_index", "_values")

    def __init__(self, index: dict[str, int], values: Sequence[Any]):
        self._index = index
        self._values = values

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values, strict=False))!r})"


def _row_factory(cursor: Any) -> Any:
    desc = cursor.description or []
    index = {c.name: n for n, c in enumerate(desc)}

    def make(values: Sequence[Any]) -> Row:
        return Row(index, values)

    return make


class Cursor:
    """The result of one statement: rows, and the id of an inserted row (lastrowid)."""

    def __init__(self, cur: Any, lastrowid: int | None = None):
        self._cur = cur
        self.lastrowid = lastrowid
        self.rowcount = cur.rowcount if cur is not None else 0

    def fetchone(self) -> Row | None:
        return self._cur.fetchone() if self._cur is not None and self._cur.description else None

    def fetchall(self) -> list[Row]:
        return self._cur.fetchall() if self._cur is not None and self._cur.description else []

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


class Connection:
    """A psycopg connection that takes the SQLite-dialect statements of the area mixins."""

    def __init__(self, raw: Any, path: str = "store"):
        self.raw = raw
        self.path = path

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def _run(self, fn: Any) -> Any:
        import psycopg

        try:
            return fn()
        except psycopg.errors.LockNotAvailable:
            raise StoreBusy(f"{self.path}: store busy, retry (another writer held it too long)") from None
        except psycopg.OperationalError as e:
            if self.raw.closed or self.raw.broken:
                raise StoreDisconnected(f"database connection lost ({_first_line(e)})") from None
            raise StoreError(f"database error ({_first_line(e)})") from None

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> Cursor:
        is_insert = sql.lstrip().startswith("INSERT")
        statement = translate(sql, is_insert)

        def go() -> Cursor:
            cur = self.raw.execute(statement, _params(args) or [])
            lastrowid = None
            if is_insert and "RETURNING id" in statement and cur.description:
                row = cur.fetchone()
                lastrowid = int(row[0]) if row else None
            return Cursor(cur, lastrowid)

        return self._run(go)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Cursor:
        rows = [_params(r) for r in rows]
        if not rows:
            return Cursor(None)
        statement = translate(sql)

        def go() -> Cursor:
            with self.raw.cursor() as cur:
                cur.executemany(statement, rows)
            return Cursor(None)

        return self._run(go)


def _params(args: Sequence[Any] | None) -> list[Any] | None:
    if args is None:
        return None
    # SQLite stores booleans as 0/1 in INTEGER columns; PostgreSQL wants them as integers too.
    return [int(a) if isinstance(a, bool) else a for a in args]


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


# -- search: a parsed query as tsquery -------------------------------------------------------


def _ts_term(term: Term) -> str:
    words = [f"'{w.lower()}'" for w in term.words]
    if term.prefix:
        words[-1] += ":*"
    return words[0] if len(words) == 1 else "(" + " <-> ".join(words) + ")"


def tsquery(query: Query | str) -> str:
    """Returns the to_tsquery text of a parsed query (a string is parsed as a user's query)."""
    q = parse_query(query)
    groups = ["(" + " | ".join(_ts_term(t) for t in g) + ")" if len(g) > 1 else _ts_term(g[0]) for g in q.groups]
    expr = " & ".join(groups)
    for neg in q.negatives:
        expr = f"({expr}) & !{_ts_term(neg)}"
    return expr


# Characters of scripts written without spaces (Han, kana, hangul), as in migration 0009.
_CJK_CLASS = "[⺀-鿿가-힯豈-﫿ｦ-ﾟ]"

# ts_rank weights {D, C, B, A}: title words (A) weigh four times body words (B), as in BM25 there.
_RANK = "ts_rank('{0.1, 0.2, 0.25, 1.0}', i.search, to_tsquery('simple', newsdesk_fold(?)), 1)"


class PostgresOverrides:
    """The methods whose SQL has no translation: full-text search, merges, restored ids."""

    conn: Connection

    def search_items(self, query: Query | str, *, limit: int = 20, max_rowid: int | None = None,
                     snippets: bool = True, depth: int = 0, **filters: Any) -> list[dict[str, Any]]:
        """Returns the best `limit` matches in rank order: dicts of rowid, id, score (and snippets).

        Lower scores are better (minus the tsvector rank); ties go to the earlier arrival.
        """
        tsq = tsquery(query)
        clauses, args = item_filters(**filters)
        clauses = ["i.search @@ to_tsquery('simple', newsdesk_fold(?))", *clauses]
        args = [tsq, *args]
        if max_rowid is not None:
            clauses.append("i.rowid <= ?")
            args.append(max_rowid)
        where = " AND ".join(clauses)
        if depth > 0:
            floor = self.conn.execute(
                f"SELECT i.rowid FROM items i WHERE {where} ORDER BY i.rowid DESC LIMIT 1 OFFSET ?",
                [*args, depth - 1]).fetchone()
            if floor is not None:
                where += " AND i.rowid >= ?"
                args.append(floor[0])
        rows = self.conn.execute(
            f"SELECT i.rowid AS rid, i.id, -{_RANK} AS score FROM items i WHERE {where} "
            "ORDER BY score, rid LIMIT ?", [tsq, *args, limit]).fetchall()
        hits = [{"rowid": int(r["rid"]), "id": r["id"], "score": float(r["score"])} for r in rows]
        if snippets:
            self.add_snippets(query, hits)
        return hits

    def add_snippets(self, query: Query | str, hits: list[dict[str, Any]]) -> None:
        """Sets title_marked (whole title) and text_marked (best passage) on each hit.

        Marked here rather than by ts_headline, whose parser drops anything that looks like
        an HTML tag: the text is kept as stored, and the views escape it.
        """
        if not hits:
            return
        q = parse_query(query)
        rows = self.conn.execute("SELECT rowid, title, text FROM items WHERE rowid = ANY(?)",
                                 [[int(h["rowid"]) for h in hits]])
        found = {int(r["rowid"]): (r["title"], r["text"]) for r in rows}
        for hit in hits:
            title, text = found.get(int(hit["rowid"]), (None, None))
            hit["title_marked"] = mark_all(title, q) if title is not None else None
            hit["text_marked"] = passage(text, q) if text is not None else None

    def search_items_cjk(
        self, phrases: Sequence[str], *, limit: int = 20, max_rowid: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Returns the items holding every phrase of a script without spaces, best first.

        Each phrase must occur in the title or text (substring match; served by the pg_trgm
        index `items_cjk` where the extension is installed). Titles holding a phrase rank
        first, as title words weigh more in the word ranking; ties go to the newest arrival.
        Hits carry rowid, id, score and snippets, as `search_items` gives them.
        """
        phrases = [p for p in phrases if p]
        if not phrases:
            return []
        clauses, args = item_filters(**filters)
        # The same condition as the partial index's, so the planner may use it.
        where = [f"(COALESCE(i.title, '') || i.text) ~ '{_CJK_CLASS}'"]
        params: list[Any] = []
        score_parts: list[str] = []
        score_args: list[Any] = []
        for p in phrases:
            like = "%" + p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(COALESCE(i.title, '') || chr(10) || i.text) LIKE ? ESCAPE '\\'")
            params.append(like)
            score_parts.append(f"(CASE WHEN strpos(COALESCE(i.title, ''), ?) > 0 THEN {-TITLE_WEIGHT} "
                               f"ELSE {-BODY_WEIGHT} END)")
            score_args.append(p)
        if max_rowid is not None:
            where.append("i.rowid <= ?")
            params.append(max_rowid)
        where.extend(clauses)
        params.extend(args)
        sql = (f"SELECT i.rowid AS rid, i.id, i.title, i.text, {' + '.join(score_parts)} AS score "
               f"FROM items i WHERE {' AND '.join(where)} ORDER BY score, rid DESC LIMIT ?")
        conn = self.conn  # LIKE, not the ILIKE translate() makes of it: these scripts have no case
        statement = translate(sql).replace(" ILIKE ", " LIKE ")
        rows = conn._run(lambda: conn.raw.execute(statement, [*score_args, *params, limit]).fetchall())
        hits = []
        for r in rows:
            text = r["text"] or ""
            at = min((k for k in (text.find(p) for p in phrases) if k >= 0), default=0)
            lo = max(0, at - 40)
            passage = (ELLIPSIS if lo else "") + text[lo:lo + 160] + (ELLIPSIS if lo + 160 < len(text) else "")
            hits.append({"rowid": int(r["rid"]), "id": r["id"], "score": float(r["score"]),
                         "title_marked": _mark(r["title"], phrases), "text_marked": _mark(passage, phrases)})
        return hits

    def snippets_for_ids(self, query: Query | str, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """Returns {item id: (marked title, marked passage)} for the items that match."""
        rows = self.conn.execute("SELECT rowid, id FROM items WHERE id = ANY(?)", [list(ids)]).fetchall()
        hits = [{"rowid": int(r["rowid"]), "id": r["id"]} for r in rows]
        self.add_snippets(query, hits)
        return {h["id"]: (h["title_marked"], h["text_marked"]) for h in hits}

    def term_document_counts(self, terms: Any) -> dict[str, int]:
        """Returns how many items hold each indexed term (terms no item holds are left out)."""
        terms = [t for t in dict.fromkeys(terms) if re.fullmatch(r"[^\W_]+", t)]
        if not terms:
            return {}
        rows = self.conn.execute(
            "SELECT t, (SELECT COUNT(*) FROM items "
            "WHERE search @@ to_tsquery('simple', quote_literal(newsdesk_fold(t)))) "
            "FROM unnest(?::text[]) AS t", [terms])
        return {r[0]: int(r[1]) for r in rows if r[1]}

    def query_items_after(self, query: Query | str, after: int, upto: int) -> list[str]:
        """Returns ids of items in (after, upto] that match a query (a user's text or parsed)."""
        tsq = tsquery(query)
        rows = self.conn.execute(
            "SELECT id FROM items WHERE search @@ to_tsquery('simple', newsdesk_fold(?)) AND rowid > ? AND rowid <= ? "
            "ORDER BY rowid", [tsq, after, upto])
        return [r[0] for r in rows]

    def entity_item_ids(self, entity_id: int) -> list[str]:
        """Returns the ids of the items naming the entity, by time."""
        rows = self.conn.execute(
            "SELECT i.id FROM items i WHERE i.id IN (SELECT item_id FROM mentions WHERE entity_id = ?) "
            "ORDER BY COALESCE(i.published, i.ingested), i.rowid", (entity_id,))
        return [r[0] for r in rows]

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
        # UPDATE OR IGNORE: a block that would become a duplicate is dropped instead.
        c.execute("DELETE FROM story_blocks o WHERE o.b = ? AND EXISTS (SELECT 1 FROM story_blocks n "
                  "WHERE n.a = o.a AND n.b = ? AND n.kind = o.kind)", (old_id, new_id))
        c.execute("UPDATE story_blocks SET b = ? WHERE b = ?", (new_id, old_id))
        c.execute("DELETE FROM story_blocks o WHERE o.a = ? AND o.kind = 'stories' AND EXISTS "
                  "(SELECT 1 FROM story_blocks n WHERE n.a = ? AND n.b = o.b AND n.kind = o.kind)",
                  (old_id, new_id))
        c.execute("UPDATE story_blocks SET a = ? WHERE a = ? AND kind = 'stories'", (new_id, old_id))
        c.execute("DELETE FROM story_blocks WHERE kind = 'stories' AND a = b")

    def save_vectors(self, rows: Sequence[tuple[str, Any]], model: str = "minilm") -> None:
        """Stores unit-length vectors (numpy arrays) for items, made by backend `model`.

        Each row carries the item's arrival rowid, as in the SQLite store; this connection's
        writes are counted, so its cached vector matrix is read again.
        """
        import numpy as np

        with self.transaction():  # type: ignore[attr-defined]
            rids = self._need_rids(iid for iid, _ in rows)  # type: ignore[attr-defined]
            self.conn.executemany(
                "INSERT INTO item_vectors (rid, item_id, dim, vector, model) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (item_id) DO UPDATE SET dim = excluded.dim, vector = excluded.vector, "
                "model = excluded.model, rowid = DEFAULT",
                [(rids[iid], iid, len(vec), np.asarray(vec, dtype=np.float32).tobytes(), model)
                 for iid, vec in rows],
            )
            self._vectors_written = getattr(self, "_vectors_written", 0) + 1

    def blindspot_rows(self, attr: str, *, since: str | None, min_sources: int,
                       limit: int = 100_000) -> list[tuple[str, str, str | None]]:
        """Returns (story, source key, attribute value of its earliest member) of active stories.

        As the SQLite form, which takes the bare column from the row of MIN(m.time): here
        the first value in time order of each group.
        """
        from newsdesk.store.outlets import SOURCE_KEY

        clauses, args = ["s.status = 'active'", "s.sources >= ?"], [min_sources]
        if since:
            clauses.append("s.last_time >= ?")
            args.append(since)
        sql = (f"SELECT m.story_id, COALESCE({SOURCE_KEY}, 'x:' || m.item_id) AS skey, "
               "(array_agg(a.value ORDER BY m.time, m.rowid))[1] AS value "
               "FROM stories s JOIN story_members m ON m.story_id = s.id AND m.copy_of IS NULL "
               "LEFT JOIN item_outlets io ON io.item_id = m.item_id "
               "LEFT JOIN outlets o ON o.id = io.outlet_id "
               "LEFT JOIN outlet_attrs a ON a.outlet_id = io.outlet_id AND a.name = ? "
               f"WHERE {' AND '.join(clauses)} GROUP BY m.story_id, skey LIMIT ?")
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql, [attr, *args, limit])]

    def set_story_sources(self, rows: Sequence[tuple[str, list[str], int]]) -> None:
        """Stores recounted (story, source keys, members without a key) in rows and state."""
        import json

        now = datetime.now(UTC).isoformat()
        self.conn.executemany(
            "UPDATE stories SET updated = CASE WHEN sources != ? THEN ? ELSE updated END, sources = ?, "
            "state = CASE WHEN state IS NULL THEN NULL ELSE "
            "(state::jsonb || jsonb_build_object('sources', ?::jsonb, 'unattributed', ?::int))::text END "
            "WHERE id = ?",
            [(len(keys) + none, now, len(keys) + none, json.dumps(keys[:500]), none, sid)
             for sid, keys, none in rows])

    def _advance_ids(self, table: str) -> None:
        """Moves a table's id sequence past ids restored as exported."""
        self.conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT MAX(id) FROM {table}), 1))")

    def restore_feed(self, data: dict[str, Any]) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            super().restore_feed(data)  # type: ignore[misc]
            self._advance_ids("feeds")

    def restore_watch(self, data: dict[str, Any], stories: Any) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            super().restore_watch(data, stories)  # type: ignore[misc]
            self._advance_ids("watches")

    def restore_alert(self, alert: dict[str, Any]) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            super().restore_alert(alert)  # type: ignore[misc]
            self._advance_ids("alerts")


class PostgresBase:
    """Connections from a pool (one per thread), write transactions, migrations."""

    path: str

    def __init__(self, address: str, *, busy_timeout: float = 30.0):
        try:
            import psycopg  # noqa: F401
            import psycopg_pool  # noqa: F401
        except ImportError:
            raise NotInstalled("a PostgreSQL store", "postgres") from None
        self.address = address
        self.path = redact(address)
        self.busy_timeout = float(busy_timeout)
        self._local = threading.local()
        self._lock = threading.RLock()
        self._pool: Any = None
        self._pool_gen = 0
        self._check_reachable()
        self.migrate()

    def _check_reachable(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.address, connect_timeout=10, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, ValueError) as e:
            raise StoreError(f"{self.path}: cannot open the PostgreSQL store ({_first_line(e)})") from None

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from psycopg_pool import ConnectionPool

                self._pool = ConnectionPool(
                    self.address, min_size=1, max_size=POOL_SIZE, open=True, timeout=60,
                    kwargs={"autocommit": True, "row_factory": _row_factory}, name="newsdesk",
                )
                self._pool_gen += 1
            return self._pool

    @property
    def conn(self) -> Connection:
        """Returns this thread's connection, taken from the pool on first use."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.raw.closed or getattr(self._local, "gen", None) != self._pool_gen:
            pool = self._get_pool()
            try:
                raw = pool.getconn()
            except Exception as e:  # noqa: BLE001 - pool timeout, server gone
                raise StoreError(f"{self.path}: no database connection ({_first_line(e)})") from None
            conn = Connection(raw, self.path)
            self._local.conn = conn
            self._local.gen = self._pool_gen
        return conn

    def _drop_conn(self) -> None:
        conn: Connection | None = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None and self._pool is not None and getattr(self._local, "gen", None) == self._pool_gen:
            try:
                self._pool.putconn(conn.raw)
            except Exception:  # noqa: BLE001 - a connection the pool no longer knows
                conn.raw.close()

    def close(self) -> None:
        """Returns the connections and closes the pool (a later query opens a new one)."""
        self._drop_conn()
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Runs the block in one write transaction, writers one at a time (nested calls join)."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        with self._lock:
            conn.execute("BEGIN")
            try:
                # A writer waits `busy_timeout` for the others (the lock and any row), then StoreBusy.
                conn.execute("SELECT set_config('lock_timeout', ?, true)",
                             (f"{max(1, round(self.busy_timeout * 1000))}ms",))
                conn.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
                yield conn
            except BaseException:
                if conn.raw.closed or conn.raw.broken:
                    self._drop_conn()
                else:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    def schema_version(self) -> int:
        row = self.conn.execute(
            "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL THEN 0 "
            "ELSE (SELECT COALESCE(MAX(version), 0) FROM schema_migrations) END").fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Applies the migrations this database lacks; returns the schema version reached."""
        conn = self.conn
        shipped = migrations()
        newest = shipped[-1][0] if shipped else 0
        conn.execute("SELECT pg_advisory_lock(?)", (MIGRATE_LOCK,))
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                         "name TEXT NOT NULL, applied TEXT NOT NULL)")
            current = self.schema_version()
            if current > newest:
                raise StoreError(
                    f"{self.path}: schema version {current} is newer than this newsdesk ({newest}); upgrade newsdesk")
            for version, name, sql in shipped:
                if version <= current:
                    continue
                LOGGER.info("migrating %s to %04d_%s", self.path, version, name)
                try:
                    with conn.raw.transaction():
                        conn.raw.execute(sql)
                        conn.raw.execute("INSERT INTO schema_migrations (version, name, applied) VALUES (%s, %s, %s)",
                                         (version, name, datetime.now(UTC).isoformat()))
                except Exception as e:  # noqa: BLE001 - any failure of a migration is one message
                    raise StoreError(f"{self.path}: migration {version:04d}_{name} failed ({_first_line(e)})") from None
        finally:
            conn.execute("SELECT pg_advisory_unlock(?)", (MIGRATE_LOCK,))
        return self.schema_version()


def _build() -> type:
    from newsdesk.store.sqlite import _mixins

    return type("PostgresStore", (PostgresOverrides, *_mixins(), PostgresBase),
                {"__doc__": "The PostgreSQL store: one database shared by many processes."})


PostgresStore = _build()


def open_store(address: str, *, busy_timeout: float = 30.0) -> Any:
    """Returns the PostgreSQL store at this address, migrated as needed; a writer waits up to
    `busy_timeout` seconds for another, then StoreBusy."""
    return PostgresStore(address, busy_timeout=busy_timeout)


__all__ = ["PostgresStore", "is_address", "open_store", "redact", "translate", "tsquery"]
