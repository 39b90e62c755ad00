"""Full-text queries over items (FTS5, BM25) and keyset pages of items."""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from newsdesk.errors import InputError
from newsdesk.query import Query, Term, parse_query

# Title matches weigh more than body matches in the BM25 ranking.
TITLE_WEIGHT = 4.0
BODY_WEIGHT = 1.0

# Marks placed around matched words by snippet(); private-use characters, never in HTML.
MARK_OPEN = "\ue000"
MARK_CLOSE = "\ue001"
ELLIPSIS = "…"
PASSAGE_CHARS = 30_000  # characters of a text a search hit's passage is chosen from

_ITEM_COLUMNS = (
    "i.id, i.title, i.text, i.url, i.source, i.published, i.ingested, i.language, i.kind, "
    "i.author, i.origin, i.origin_line, i.source_id, i.extra"
)


def _fts_term(term: Term) -> str:
    phrase = " ".join(term.words)
    return '"' + phrase.replace('"', '""') + '"' + ("*" if term.prefix else "")


def fts5_match(query: Query | str) -> str:
    """Returns the FTS5 expression of a parsed query (a string is parsed as a user's query)."""
    q = parse_query(query)
    groups = [[_fts_term(t) for t in g] for g in q.groups]
    expr = " AND ".join("(" + " OR ".join(g) + ")" if len(g) > 1 else g[0] for g in groups)
    for neg in q.negatives:
        expr = f"({expr}) NOT {_fts_term(neg)}"
    return expr


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def item_filters(
    *,
    source: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    language: str | None = None,
    ids: Sequence[str] | None = None,
    exclude: Sequence[str] | None = None,
) -> tuple[list[str], list[Any]]:
    """Returns SQL conditions on items (alias `i`) and their arguments."""
    clauses: list[str] = []
    args: list[Any] = []
    if source:
        clauses.append("i.source = ?")
        args.append(source)
    if kind:
        # Unary + keeps SQLite off the two-valued kind index: walking the time order is faster.
        clauses.append("+i.kind = ?")
        args.append(kind)
    if language:
        clauses.append("i.language = ?")
        args.append(language)
    if since:
        clauses.append("COALESCE(i.published, i.ingested) >= ?")
        args.append(_iso(since))
    if until:
        clauses.append("COALESCE(i.published, i.ingested) < ?")
        args.append(_iso(until))
    if ids is not None:
        clauses.append("i.id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(list(ids)))
    if exclude:
        clauses.append("i.id NOT IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(list(exclude)))
    return clauses, args


def _mark(text: str | None, words: Sequence[str]) -> str | None:
    """Returns text with each occurrence of the words between the match marks."""
    if not text:
        return text
    for w in words:
        text = text.replace(w, MARK_OPEN + w + MARK_CLOSE)
    return text


_TOKEN = re.compile(r"[^\W_]+")


def _matcher(q: Query) -> Any:
    """Returns a test of one lower-cased word against the query's positive terms' words."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for group in q.groups:
        for term in group:
            for n, word in enumerate(term.words):
                if term.prefix and n == len(term.words) - 1:
                    prefixes.append(word.lower())
                else:
                    exact.add(word.lower())
    exact = {_fold(w) for w in exact}
    prefixes = [_fold(p) for p in prefixes]

    def hit(word: str) -> bool:
        w = _fold(word)
        return w in exact or any(w.startswith(p) for p in prefixes)

    return hit


def _fold(word: str) -> str:
    """Returns the word lower-cased without diacritics, as the index's newsdesk_fold() has it."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def mark_all(text: str, q: Query) -> str:
    """Returns the text with every word of the query marked."""
    hit = _matcher(q)
    return _TOKEN.sub(lambda m: f"{MARK_OPEN}{m.group(0)}{MARK_CLOSE}" if hit(m.group(0).lower()) else m.group(0), text)


def best_passage(text: str, q: Query, words: int = 28) -> str:
    """Returns the window of `words` words holding the most query words, marked (as FTS5's snippet
    does, but in time linear in the text: snippet() took 15 s on a text holding a word 50,000 times)."""
    hit = _matcher(q)
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return ""
    flags = [hit(t.group(0).lower()) for t in tokens]
    best, best_n = 0, -1
    count = sum(flags[:words])
    for start in range(max(1, len(tokens) - words + 1)):
        if start:
            count += flags[start + words - 1] - flags[start - 1] if start + words - 1 < len(tokens) else -flags[start - 1]
        if count > best_n:
            best, best_n = start, count
    end = min(len(tokens), best + words)
    lo = tokens[best].start() if best else 0
    hi = tokens[end - 1].end() if end < len(tokens) else len(text)
    passage = mark_all(text[lo:hi], q)
    return (ELLIPSIS if lo else "") + passage + (ELLIPSIS if hi < len(text) else "")


def passage(text: str, q: Query, *, cut: bool = False) -> str:
    """Returns a search hit's marked passage, chosen from the first PASSAGE_CHARS characters of
    its text (`cut`: the text, read that far only, is longer)."""
    out = best_passage(text[:PASSAGE_CHARS], q)
    if (cut or len(text) > PASSAGE_CHARS) and not out.endswith(ELLIPSIS):
        out += ELLIPSIS
    return out


class SearchStore:
    """Search queries (mixed into the store class)."""

    conn: sqlite3.Connection

    def search_items(
        self,
        query: Query | str,
        *,
        limit: int = 20,
        max_rowid: int | None = None,
        snippets: bool = True,
        depth: int = 0,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Returns the best `limit` matches in rank order: dicts of rowid, id, score (and snippets).

        `query` is a parsed query (a string is parsed as a user's query); `max_rowid` leaves out items stored
        after it; `depth` > 0 ranks only the newest `depth` matches, since BM25 costs time
        for every match. Lower BM25 scores are better; ties go to the earlier arrival.
        """
        match = fts5_match(query)
        clauses, args = item_filters(**filters)
        # Without conditions on items the whole query runs in the index (a third faster).
        source = "items_fts JOIN items i ON i.rowid = items_fts.rowid" if clauses else "items_fts"
        if max_rowid is not None:
            clauses.append("items_fts.rowid <= ?")
            args.append(max_rowid)
        where = " AND ".join(["items_fts MATCH ?", *clauses])
        try:
            if depth > 0:
                # Walking matches newest first is cheap (no ranking): find the depth-th one.
                floor = self.conn.execute(
                    f"SELECT items_fts.rowid FROM {source} WHERE {where} "
                    "ORDER BY items_fts.rowid DESC LIMIT 1 OFFSET ?",
                    [match, *args, depth - 1],
                ).fetchone()
                if floor is not None:
                    where += " AND items_fts.rowid >= ?"
                    args.append(floor[0])
            rows = self.conn.execute(
                f"SELECT items_fts.rowid AS rid, bm25(items_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
                f"FROM {source} WHERE {where} ORDER BY score, rid LIMIT ?",
                [match, *args, limit],
            ).fetchall()
        except sqlite3.OperationalError as e:
            raise InputError(f"search query {match!r} not understood ({e})") from None
        ids = dict(
            self.conn.execute(
                "SELECT rowid, id FROM items WHERE rowid IN (SELECT value FROM json_each(?))",
                (json.dumps([r["rid"] for r in rows]),),
            ).fetchall()
        )
        hits = [{"rowid": r["rid"], "id": ids[r["rid"]], "score": r["score"]} for r in rows if r["rid"] in ids]
        if snippets:
            self.add_snippets(parse_query(query), hits)  # the query itself: its prefixes mark words too
        return hits

    def search_items_cjk(
        self, phrases: Sequence[str], *, limit: int = 20, max_rowid: int | None = None, **filters: Any
    ) -> list[dict[str, Any]]:
        """Returns the best matches of words in scripts without spaces (trigram index), in rank order.

        Each phrase must occur in the title or text: phrases of three characters or more
        through the trigram index, shorter ones by substring (LIKE) over that index's items.
        Hits carry rowid, id, score and snippets, as `search_items` gives them.
        """
        long_ = [p for p in phrases if len(p) >= 3]
        short = [p for p in phrases if len(p) < 3]
        clauses, args = item_filters(**filters)
        where: list[str] = []
        params: list[Any] = []
        if long_:
            where.append("items_cjk MATCH ?")
            params.append(" AND ".join('"' + p.replace('"', '""') + '"' for p in long_))
        for p in short:
            like = "%" + p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(items_cjk.title LIKE ? ESCAPE '\\' OR items_cjk.text LIKE ? ESCAPE '\\')")
            params.extend([like, like])
        if max_rowid is not None:
            where.append("items_cjk.rowid <= ?")
            params.append(max_rowid)
        where.extend(clauses)
        params.extend(args)
        score = "bm25(items_cjk, ?, ?)" if long_ else "0.0"
        score_args = [TITLE_WEIGHT, BODY_WEIGHT] if long_ else []
        sql = (
            f"SELECT items_cjk.rowid AS rid, i.id AS id, {score} AS score, "
            "highlight(items_cjk, 0, ?, ?) AS t, snippet(items_cjk, 1, ?, ?, ?, 16) AS s "
            f"FROM items_cjk JOIN items i ON i.rowid = items_cjk.rowid WHERE {' AND '.join(where) or '1'} "
            "ORDER BY score, rid LIMIT ?"
        ) if long_ else (
            "SELECT items_cjk.rowid AS rid, i.id AS id, 0.0 AS score, i.title AS t, substr(i.text, 1, 160) AS s "
            f"FROM items_cjk JOIN items i ON i.rowid = items_cjk.rowid WHERE {' AND '.join(where) or '1'} "
            "ORDER BY rid DESC LIMIT ?"
        )
        marks = [MARK_OPEN, MARK_CLOSE, MARK_OPEN, MARK_CLOSE, ELLIPSIS] if long_ else []
        try:
            rows = self.conn.execute(sql, [*score_args, *marks, *params, limit]).fetchall()
        except sqlite3.OperationalError as e:
            raise InputError(f"search query {' '.join(phrases)!r} not understood ({e})") from None
        hits = []
        for r in rows:
            title, text = r["t"], r["s"]
            if not long_:  # substring matches: mark them by hand
                title = _mark(title, short)
                text = _mark(text, short)
            hits.append({"rowid": r["rid"], "id": r["id"], "score": r["score"],
                         "title_marked": title, "text_marked": text})
        return hits

    def add_snippets(self, query: Query | str, hits: list[dict[str, Any]]) -> None:
        """Sets title_marked (whole title) and text_marked (best passage) on each hit."""
        if not hits:
            return
        q = parse_query(query)
        sql = (
            "SELECT items_fts.rowid AS rid, i.title AS t, substr(i.text, 1, ?) AS s, length(i.text) AS n "
            "FROM items_fts JOIN items i ON i.rowid = items_fts.rowid "
            "WHERE items_fts MATCH ? AND items_fts.rowid IN (SELECT value FROM json_each(?))"
        )
        rows = self.conn.execute(sql, [PASSAGE_CHARS, fts5_match(q), json.dumps([h["rowid"] for h in hits])])
        found = {}
        for r in rows:
            text = passage(r["s"], q, cut=r["n"] > PASSAGE_CHARS) if r["s"] is not None else None
            found[r["rid"]] = (mark_all(r["t"], q) if r["t"] is not None else None, text)
        for hit in hits:
            hit["title_marked"], hit["text_marked"] = found.get(hit["rowid"], (None, None))

    def snippets_for_ids(self, query: Query | str, ids: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
        """Returns {item id: (marked title, marked passage)} for the items that match."""
        rows = self.conn.execute(
            "SELECT rowid, id FROM items WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(ids)),)
        ).fetchall()
        hits = [{"rowid": r["rowid"], "id": r["id"]} for r in rows]
        try:
            self.add_snippets(query, hits)
        except sqlite3.OperationalError:
            return {}
        return {h["id"]: (h["title_marked"], h["text_marked"]) for h in hits}

    # -- vectors ----------------------------------------------------------------------------

    def items_without_vectors(self, limit: int, model: str | None = None) -> list[tuple[str, str]]:
        """Returns (id, title and start of text) of items that have no search vector yet
        (with model: none made by that backend; one of another backend counts as none)."""
        rows = self.conn.execute(
            "SELECT i.id, COALESCE(i.title, '') || char(10) || substr(i.text, 1, 1000) AS body "
            "FROM items i LEFT JOIN item_vectors v ON v.rid = i.rowid "
            "WHERE v.rid IS NULL OR (CAST(? AS TEXT) IS NOT NULL AND v.model != ?) "
            "ORDER BY i.rowid LIMIT ?",
            (model, model, limit),
        )
        return [(r["id"], r["body"]) for r in rows]

    def count_items_without_vectors(self, model: str | None = None) -> int:
        """Returns how many items have no search vector yet (with model: none of that backend)."""
        if model is None:
            sql, args = "SELECT (SELECT COUNT(*) FROM items) - (SELECT COUNT(*) FROM item_vectors)", ()
        else:
            sql = "SELECT (SELECT COUNT(*) FROM items) - (SELECT COUNT(*) FROM item_vectors WHERE model = ?)"
            args = (model,)
        return int(self.conn.execute(sql, args).fetchone()[0])

    def save_vectors(self, rows: Sequence[tuple[str, Any]], model: str = "minilm") -> None:
        """Stores unit-length vectors (numpy arrays) for items, made by backend `model`."""
        import numpy as np

        with self.transaction():  # type: ignore[attr-defined]
            rids = self._need_rids(iid for iid, _ in rows)  # type: ignore[attr-defined]
            self.conn.executemany(
                "INSERT OR REPLACE INTO item_vectors (rid, item_id, dim, vector, model) VALUES (?, ?, ?, ?, ?)",
                [(rids[iid], iid, len(vec), np.asarray(vec, dtype=np.float32).tobytes(), model)
                 for iid, vec in rows],
            )
            self._vectors_written = getattr(self, "_vectors_written", 0) + 1

    def _vector_matrix(self, model: str, dim: int) -> tuple[Any, Any, list[str]]:
        """Returns (matrix, item rowids, item ids) of every stored vector of this backend, cached
        until they change."""
        import numpy as np

        # A vector replaced in place keeps its rid: this connection's own writes are counted,
        # another writer's show in the per-backend count or the newest rid.
        stamp = (model, dim, getattr(self, "_vectors_written", 0), *self.conn.execute(
            "SELECT COUNT(*), MAX(rid) FROM item_vectors WHERE model = ?", (model,)).fetchone())
        cached = getattr(self, "_vectors_cache", None)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        rows = self.conn.execute(
            "SELECT v.rid, v.item_id, v.vector FROM item_vectors v "
            "WHERE v.model = ? AND v.dim = ? ORDER BY v.rid", (model, dim)
        ).fetchall()
        if rows:
            matrix = np.vstack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows])
            # A zero row marks an item read with nothing to embed (or in a language the backend
            # does not read): it is near nothing, and is found by text.
            has = np.abs(matrix).max(axis=1) > 0
            if not has.all():
                matrix, rows = matrix[has], [r for r, h in zip(rows, has, strict=True) if h]
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        value = (matrix, np.array([r["rid"] for r in rows], dtype=np.int64), [r["item_id"] for r in rows])
        self._vectors_cache = (stamp, value)
        return value

    def nearest_items(
        self, vector: Any, *, limit: int = 20, max_rowid: int | None = None, model: str = "minilm",
        **filters: Any,
    ) -> list[tuple[str, float]]:
        """Returns (item id, cosine similarity) of the items closest to the vector (one made by
        backend `model`), best first."""
        import numpy as np

        vector = np.asarray(vector, dtype=np.float32)
        matrix, rowids, ids = self._vector_matrix(model, len(vector))
        if not ids:
            return []
        sims = matrix @ vector
        keep = np.ones(len(ids), dtype=bool)
        if max_rowid is not None:
            keep &= rowids <= max_rowid
        clauses, args = item_filters(**filters)
        if clauses:
            allowed = {
                r[0] for r in self.conn.execute(f"SELECT i.rowid FROM items i WHERE {' AND '.join(clauses)}", args)
            }
            keep &= np.isin(rowids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
        sims = np.where(keep, sims, -np.inf)
        n = min(limit, int(keep.sum()))
        if n <= 0:
            return []
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(ids[i], float(sims[i])) for i in top]

    def term_document_counts(self, terms: Iterable[str]) -> dict[str, int]:
        """Returns how many items hold each indexed term (terms not indexed are left out)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        rows = self.conn.execute(
            "SELECT term, doc FROM items_fts_vocab WHERE term IN (SELECT value FROM json_each(?))",
            (json.dumps(terms),),
        )
        return {r["term"]: int(r["doc"]) for r in rows}

    def last_item_rowid(self) -> int:
        """Returns the arrival number of the newest stored item (0 when empty)."""
        return int(self.conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM items").fetchone()[0])

    def indexed_item_count(self) -> int:
        """Returns the number of items in the full-text index."""
        return int(self.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def items_page(
        self,
        *,
        limit: int = 50,
        after: tuple[str, int] | None = None,
        **filters: Any,
    ) -> list[tuple[Any, str, int]]:
        """Returns (item, sort key, rowid) newest first, after the (sort key, rowid) given."""
        from newsdesk.store.items import row_to_item

        clauses, args = item_filters(**filters)
        if after is not None:
            clauses.append("(COALESCE(i.published, i.ingested), i.rowid) < (?, ?)")
            args.extend([after[0], after[1]])
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = (
            f"SELECT {_ITEM_COLUMNS}, i.rowid AS rid, COALESCE(i.published, i.ingested) AS sort_key "
            f"FROM items i {where} ORDER BY sort_key DESC, i.rowid DESC LIMIT ?"
        )
        return [(row_to_item(r), r["sort_key"], r["rid"]) for r in self.conn.execute(sql, [*args, limit])]
