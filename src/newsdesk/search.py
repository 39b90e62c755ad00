"""Full-text and semantic search (a service the Desk composes).

A user's query is never handed to a database as written: `newsdesk.query.parse_query()`
parses it once and the store compiles the parsed query into its own dialect, so a stray
quote or operator gives a one-line InputError or is read as a word.

    word word        both words (AND)
    "a phrase"       the words in this order
    word*            words starting with "word"
    a OR b           either
    -word, NOT word  without this word
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsdesk.errors import InputError, NotFound, NotInstalled
from newsdesk.model import Item, normalise_for_id
from newsdesk.query import MAX_QUERY_CHARS, MAX_TERMS, WORD, Query, parse_query, query_words  # noqa: F401
from newsdesk.store.search import MARK_CLOSE, MARK_OPEN, fts5_match

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.items import ItemsService
    from newsdesk.store.protocol import Store
    from newsdesk.stories.api import StoriesService

LOGGER = logging.getLogger(__name__)

MAX_LIMIT = 200
MODES = ("auto", "text", "semantic", "hybrid")
VECTORS_PER_QUERY = 64  # items a semantic query embeds before searching, at most
RRF_K = 60  # reciprocal rank fusion: score = sum of 1 / (RRF_K + rank)

_WORD = WORD
# Scripts written without spaces between words: Han, kana, hangul.
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]")


# -- query parsing (newsdesk.query parses; each store compiles to its dialect) ---------------


def to_match(query: str) -> str:
    """Returns the FTS5 expression for a user's query; InputError if nothing is left to search."""
    return fts5_match(parse_query(query))


# -- snippets -------------------------------------------------------------------------------


def marked_to_html(marked: str | None) -> str:
    """Returns HTML for a marked snippet: content escaped, matches wrapped in <mark>."""
    if not marked:
        return ""
    out, open_ = [], False
    for part in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", marked):
        if part == MARK_OPEN:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == MARK_CLOSE:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(html.escape(part, quote=True))
    if open_:
        out.append("</mark>")
    return "".join(out)


def marked_to_text(marked: str | None) -> str:
    """Returns a marked snippet as plain text."""
    return (marked or "").replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


@dataclass
class Hit:
    """One search result: the item, its rank score and highlighted snippets."""

    item: Item
    score: float
    title_marked: str | None = None
    text_marked: str | None = None
    via: str = "text"  # text, semantic or hybrid

    @property
    def title_html(self) -> str:
        return marked_to_html(self.title_marked) or html.escape(self.item.headline)

    @property
    def snippet_html(self) -> str:
        return marked_to_html(self.text_marked)

    def to_dict(self) -> dict[str, Any]:
        it = self.item
        return {
            "id": it.id,
            "title": it.title,
            "kind": it.kind,
            "source": it.source,
            "url": it.url,
            "published": it.published.isoformat() if it.published else None,
            "score": self.score,
            "via": self.via,
            "snippet": marked_to_text(self.text_marked),
            "snippet_html": self.snippet_html,
            "title_html": self.title_html,
        }


@dataclass
class SearchPage:
    """One page of hits and the cursor of the next page (None at the end)."""

    query: str
    hits: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None
    mode: str = "text"
    unindexed: int = 0  # items semantic search could not see yet (no vector stored)

    def to_dict(self) -> dict[str, Any]:
        out = {
            "query": self.query,
            "mode": self.mode,
            "hits": [h.to_dict() for h in self.hits],
            "next_cursor": self.next_cursor,
        }
        if self.unindexed:
            out["unindexed"] = self.unindexed
        return out


def encode_cursor(values: list[Any]) -> str:
    """Returns an opaque cursor for a list of sort-key values."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    """Returns the sort-key values of a cursor; InputError if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise InputError(f"cursor {cursor[:40]!r} is not valid") from None
    if not isinstance(values, list) or len(values) != size or any(
        isinstance(v, int) and not 0 <= v < 2**53 for v in values
    ):
        raise InputError(f"cursor {cursor[:40]!r} is not valid")
    return values


# -- salient terms for related items --------------------------------------------------------

_STOP_WORDS = """a about after again against all also an and any are as at be been before being but by can
    could did do does during each for from had has have he her here hers him his how i if in into
    is it its just me more most my no nor not now of off on once only or other our out over own
    said says same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom why
    will with would you your new one two year years last first week told according"""
_STOP = frozenset(_STOP_WORDS.split())


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def salient_terms(item: Item, df: dict[str, int], total: int, n: int = 12) -> list[str]:
    """Returns the item's n most telling terms by tf-idf (title words count thrice)."""
    tf: Counter[str] = Counter()
    for weight, text in ((3, item.title or ""), (1, item.text or "")):
        for word in _WORD.findall(_fold(text[:20000])):
            if len(word) > 2 and word not in _STOP and not word.isdigit():
                tf[word] += weight
    scored = []
    for term, count in tf.items():
        docs = df.get(term, 0)
        if docs <= 1 and total > 1:
            continue  # only this item holds it: it cannot relate two items
        scored.append((count * math.log((total + 1) / (docs + 1)), term))
    scored.sort(reverse=True)
    return [t for _, t in scored[:n]]


def candidate_terms(item: Item) -> list[str]:
    """Returns the distinct indexable words of an item, title first."""
    words = _WORD.findall(_fold(f"{item.title or ''} {(item.text or '')[:20000]}"))
    return list(dict.fromkeys(w for w in words if len(w) > 2 and w not in _STOP and not w.isdigit()))


def _member_id(member: Any) -> str:
    """Returns the item id of a story member (an id, an Item, a member record or a dict)."""
    if isinstance(member, str):
        return member
    if isinstance(member, dict):
        return str(member.get("id") or member.get("item_id"))
    inner = getattr(member, "item", None)
    return str(inner.id if inner is not None else member.id)


class SearchService:
    """Search over items: full text with filters, semantic and hybrid, related items."""

    def __init__(self, ctx: Context, items: ItemsService, stories: StoriesService | None = None):
        self.ctx = ctx
        self.item_service = items
        self.story_service = stories

    @property
    def store(self) -> Store:
        return self.ctx.store

    def search(
        self,
        query: str,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        story: str | None = None,
        entity: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        mode: str = "auto",
        language: str | None = None,
    ) -> SearchPage:
        """Returns a page of items matching the query, best first, with highlighted snippets.

        mode: "text" (BM25), "semantic" (vectors of `embed_backend`), "hybrid" (both,
        fused by rank), or "auto" (hybrid when an embedding backend was chosen explicitly and
        the vectors are indexed, else text).
        """
        if mode not in MODES:
            raise InputError(f"search mode {mode!r} unknown (use one of {', '.join(MODES)})")
        limit = max(1, min(int(limit), MAX_LIMIT))
        match = parse_query(query)
        filters: dict[str, Any] = {"source": source, "kind": kind, "since": since, "until": until,
                                   "language": language.strip().lower() if language else None}
        if story:
            filters["ids"] = self._search_story_ids(story)
        if entity:
            ids = self._search_entity_ids(entity)
            if ids is None:
                # A name the entity data does not know: the filter means "mentions this name".
                match = match.and_phrase(entity)
            else:
                filters["ids"] = [i for i in ids if i in set(filters["ids"])] if "ids" in filters else ids
        if _NO_SPACES.search(query) and mode in ("auto", "text"):
            return self._search_no_spaces(query, filters, limit, cursor)
        if mode == "auto":
            mode = "hybrid" if self._semantic_ready() else "text"
        if mode in ("semantic", "hybrid"):
            return self._semantic_search(query, match, filters, limit, cursor, mode)
        # The cursor holds the last hit's position and rowid, and the newest rowid when the
        # first page was served: later arrivals never push into the pages that follow, and
        # the next page starts after that very item even if scores have drifted since.
        position, last, snapshot = 0, None, None
        if cursor:
            position, last, snapshot = decode_cursor(cursor, 3)
            if not all(isinstance(v, int) and v >= 0 for v in (position, last, snapshot)):
                raise InputError(f"cursor {cursor[:40]!r} is not valid")
        else:
            snapshot = self.store.last_item_rowid()
        want = position + 2 * limit + 1 if cursor else limit + 1
        rows = self.store.search_items(
            match, limit=want, max_rowid=snapshot, snippets=False, depth=self._search_depth(), **filters
        )
        start = position
        if last is not None:
            start = next((n + 1 for n, r in enumerate(rows) if r["rowid"] == last), position)
        chunk = rows[start : start + limit]
        self.store.add_snippets(match, chunk)
        page = SearchPage(query=query, hits=self._hits(chunk), mode="text")
        if len(rows) > start + limit and chunk:
            page.next_cursor = encode_cursor([start + limit, chunk[-1]["rowid"], snapshot])
        return page

    def _search_no_spaces(self, query: str, filters: dict[str, Any], limit: int, cursor: str | None) -> SearchPage:
        """Returns a page of items holding every word of a query in a script without spaces.

        Words of Chinese, Japanese or Korean are found inside runs of characters through the
        trigram index; every word of the query must occur (operators are read as words).
        """
        phrases = [w for w in query_words(query) if w]
        if not phrases:
            raise InputError(f"search query {query!r} has no words to search for")
        position, snapshot = 0, None
        if cursor:
            position, snapshot = decode_cursor(cursor, 2)
            if not all(isinstance(v, int) and v >= 0 for v in (position, snapshot)):
                raise InputError(f"cursor {cursor[:40]!r} is not valid")
        else:
            snapshot = self.store.last_item_rowid()
        rows = self.store.search_items_cjk(phrases, limit=position + limit + 1, max_rowid=snapshot, **filters)
        chunk = rows[position: position + limit]
        page = SearchPage(query=query, hits=self._hits(chunk), mode="text")
        if len(rows) > position + limit and chunk:
            page.next_cursor = encode_cursor([position + limit, snapshot])
        return page

    def _search_depth(self) -> int:
        return max(0, int(self.ctx.setting("search_depth") or 0))

    def _hits(self, rows: list[dict[str, Any]], via: str = "text") -> list[Hit]:
        items = {it.id: it for it in self.store.items_by_ids([r["id"] for r in rows])}
        return [
            Hit(items[r["id"]], r["score"], r.get("title_marked"), r.get("text_marked"), via)
            for r in rows
            if r["id"] in items
        ]

    def _search_story_ids(self, story: str) -> list[str]:
        fn = self.story_service.story_items if self.story_service is not None else None
        if fn is None:
            raise NotInstalled("searching within a story", "stories")
        return [_member_id(m) for m in fn(story)]

    def _search_entity_ids(self, name: str) -> list[str] | None:
        """Returns ids of the items linked to the entity, or None when it is not a known entity."""
        find = getattr(self.store, "find_entity", None)
        item_ids = getattr(self.store, "entity_item_ids", None)
        if find is None or item_ids is None:
            return None
        try:
            entity = find(name)
        except NotFound:
            return None
        return list(item_ids(entity["id"]))

    # -- related items ---------------------------------------------------------------------

    def related(self, item_id: str, *, limit: int = 10) -> list[Hit]:
        """Returns items about the same thing as this one (by its salient terms), not its copies."""
        item = self.item_service.item(item_id)
        limit = max(1, min(int(limit), MAX_LIMIT))
        df = self.store.term_document_counts(candidate_terms(item))
        total = self.store.last_item_rowid()  # close to the item count, without counting
        terms = salient_terms(item, df, total)
        # Terms in more than 5% of items relate everything to everything (and cost most).
        rare = [t for t in terms if df.get(t, 0) <= max(20, 0.05 * total)]
        terms = (rare if len(rare) >= 3 else terms)[:8]
        if not terms:
            return []
        match = Query.any_of(terms)
        exclude = [item.id, *self._search_copy_ids(item.id)]
        rows = self.store.search_items(
            match, limit=limit * 3 + 5, exclude=exclude, snippets=False, depth=self._search_depth()
        )
        title_key = normalise_for_id(item.title) if item.title else None
        text_key = normalise_for_id(item.text[:2000]) if item.text else None
        hits = []
        seen = {title_key} if title_key else set()
        for hit in self._hits(rows, via="related"):
            other = hit.item
            key = normalise_for_id(other.title) if other.title else None
            if key and key in seen:
                continue  # a copy of this item or of a hit shown (same headline)
            if text_key and other.text and normalise_for_id(other.text[:2000]) == text_key:
                continue
            if key:
                seen.add(key)
            hits.append(hit)
            if len(hits) >= limit:
                break
        return hits

    def _search_copy_ids(self, item_id: str) -> list[str]:
        """Returns the item's copy group (its canonical item and every copy), itself left out."""
        copy_of = getattr(self.store, "copy_of", None)
        copies_of = getattr(self.store, "copies_of", None)
        if copy_of is None or copies_of is None:
            return []
        link = copy_of(item_id)
        canonical = link["canonical_id"] if link else item_id
        return [i for i in [canonical, *copies_of(canonical)] if i != item_id]

    # -- semantic --------------------------------------------------------------------------

    def _semantic_ready(self) -> bool:
        """Returns whether auto mode should go hybrid: vectors on, the extra installed, and
        no more items waiting for a vector than one query embeds."""
        from newsdesk.nlp.embed import backend_for, chosen_explicitly

        settings = self.ctx.settings
        # Vectors are on by default, but `auto` keeps the query language's exact meaning (a
        # phrase, -without, filters by words) unless a backend was chosen on purpose.
        if not chosen_explicitly(settings) or backend_for(settings) == "none":
            return False
        try:
            embedder = self._search_embedder()
        except NotInstalled:
            return False
        return self.store.count_items_without_vectors(embedder.name) <= VECTORS_PER_QUERY

    def _search_embedder(self) -> Any:
        """Returns the embedder of the desk's backend (`embed_backend`); NotInstalled when it
        is `none` or its model is missing."""
        embedder = self.ctx.embedder()
        if embedder is None:
            raise NotInstalled("semantic search (embed_backend is 'none')", "embed")
        return embedder

    def index_vectors(self, *, batch: int = 256, limit: int | None = None,
                      progress: Any = None) -> int:
        """Returns how many items got a search vector now (those stored without one, or with
        one of another backend). progress(done, total) is called after each batch."""
        import numpy as np

        embedder = self._search_embedder()
        total = self.store.count_items_without_vectors(embedder.name)
        if limit is not None:
            total = min(total, limit)
        done = 0
        while limit is None or done < limit:
            want = batch if limit is None else min(batch, limit - done)
            todo = self.store.items_without_vectors(want, embedder.name)
            if not todo:
                break
            # Each item is embedded as the story stage embeds it (encode_items: its title and
            # lead, the title weighed by the backend's title share). An item in a language the
            # backend's model was not trained on gets a zero row (it is found by text), so it is
            # indexed once and not read again.
            stored = {it.id: it for it in self.store.items_by_ids([iid for iid, _ in todo])}
            found = [iid for iid, _ in todo if iid in stored]
            vectors = np.zeros((len(todo), embedder.dim), dtype=np.float32)
            if found:
                at = {iid: k for k, (iid, _) in enumerate(todo)}
                vectors[[at[iid] for iid in found]] = embedder.encode_items([stored[iid] for iid in found])
            self.store.save_vectors([(iid, vec) for (iid, _), vec in zip(todo, vectors, strict=True)],
                                    model=embedder.name)
            done += len(todo)
            if progress is not None:
                progress(done, max(total, done))
        if done:
            LOGGER.info("indexed %d item vectors for semantic search", done)
        return done

    def _semantic_search(
        self, query: str, match: Query, filters: dict[str, Any], limit: int, cursor: str | None, mode: str
    ) -> SearchPage:
        """Returns hits by vector similarity, or fused with BM25 ranks (reciprocal rank fusion)."""
        embedder = self._search_embedder()
        # A query embeds a bounded number of items stored since the last one; a large
        # backlog is indexed by `newsdesk search --index-vectors` rather than in a request.
        self.index_vectors(limit=VECTORS_PER_QUERY)
        position, last, snapshot = 0, None, None
        if cursor:
            position, last, snapshot = decode_cursor(cursor, 3)
            if not all(isinstance(v, int) and v >= 0 for v in (position, snapshot)) or not isinstance(last, str):
                raise InputError(f"cursor {cursor[:40]!r} is not valid")
        else:
            snapshot = self.store.last_item_rowid()
        want = max(position + 2 * limit + 1, 50)
        vector = embedder.encode([query])[0]
        sem = (self.store.nearest_items(vector, limit=want, max_rowid=snapshot, model=embedder.name, **filters)
               if vector.any() else [])  # a query of unknown symbols only: text ranks alone
        scores: dict[str, float] = {}
        for rank, (iid, sim) in enumerate(sem):
            scores[iid] = sim if mode == "semantic" else 1.0 / (RRF_K + rank)
        if mode == "hybrid":
            for rank, row in enumerate(
                self.store.search_items(
                    match, limit=want, max_rowid=snapshot, snippets=False, depth=self._search_depth(), **filters
                )
            ):
                scores[row["id"]] = scores.get(row["id"], 0.0) + 1.0 / (RRF_K + rank)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        start = position
        if last is not None:
            start = next((n + 1 for n, (iid, _) in enumerate(ranked) if iid == last), position)
        chunk = ranked[start : start + limit]
        rows = [{"id": iid, "score": score} for iid, score in chunk]
        page = SearchPage(query=query, hits=self._hits(rows, via=mode), mode=mode)
        marked = self.store.snippets_for_ids(match, [iid for iid, _ in chunk])
        for hit in page.hits:
            hit.title_marked, hit.text_marked = marked.get(hit.item.id, (None, None))
        if len(ranked) > start + limit and chunk:
            page.next_cursor = encode_cursor([start + limit, chunk[-1][0], snapshot])
        page.unindexed = self.store.count_items_without_vectors(embedder.name)
        return page
