"""The JSON API under /api: thin wrappers over Desk calls."""

from __future__ import annotations

import inspect
import re
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from newsdesk.api.auth import anonymous_mode, read_access, write_access
from newsdesk.api.common import (
    clamp_limit,
    field,
    get_desk,
    jsonable,
    library,
    page_by_anchor,
)
from newsdesk.api.errors import NotAvailable
from newsdesk.cli.common import duration, parse_time
from newsdesk.errors import InputError
from newsdesk.search import decode_cursor, encode_cursor

read = APIRouter(prefix="/api", dependencies=[Depends(read_access)])
write = APIRouter(prefix="/api", dependencies=[Depends(write_access)])

FORMATS = ("pagedump", "text", "jsonl", "feed", "html")


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Returns fn(*args, **kwargs) passing only the keyword arguments fn accepts (None dropped)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    chosen = {k: v for k, v in kwargs.items() if v is not None and (takes_any or k in params)}
    return fn(*args, **chosen)


def item_summary(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "kind": item.kind,
        "source": item.source,
        "url": item.url,
        "published": item.published.isoformat() if item.published else None,
        "language": item.language,
    }


# -- items ----------------------------------------------------------------------------------


@read.get("/items", summary="List items, newest first")
def list_items(
    request: Request,
    source: str | None = Query(None, description="Only items from this outlet."),
    kind: str | None = Query(None, description="article or headline."),
    since: str | None = Query(None, description="Published at or after (ISO time or age like 24h)."),
    until: str | None = Query(None, description="Published before."),
    limit: int | None = Query(None, description="Items per page (at most 200)."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    language: str | None = Query(None, description="Only items in this language (like de, or unknown)."),
) -> dict[str, Any]:
    """Returns a page of items and the cursor of the next page."""
    desk = get_desk(request)
    limit = clamp_limit(limit)
    after = None
    if cursor:
        key, rowid = decode_cursor(cursor, 2)
        if not isinstance(key, str) or not isinstance(rowid, int):
            raise InputError(f"cursor {cursor[:40]!r} is not valid")
        after = (key, rowid)
    rows = desk.items_page(
        limit=limit + 1, after=after, source=source, kind=kind,
        since=parse_time(since), until=parse_time(until), language=language,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [item_summary(it) for it, _, _ in rows],
        "next_cursor": encode_cursor([rows[-1][1], rows[-1][2]]) if more and rows else None,
    }


@read.get("/items/{item_id}", summary="One item with its sightings")
def get_item(request: Request, item_id: str) -> dict[str, Any]:
    """Returns an item, every input line that named it, and its story when known."""
    desk = get_desk(request)
    item = desk.item(item_id)
    out = jsonable(item)
    out["sightings"] = jsonable(desk.sightings(item.id))
    out["notes"] = desk.item_notes(item.id)
    item_story = getattr(desk, "item_story", None)
    if item_story is not None:
        out["story"] = jsonable(item_story(item.id))
    return out


@read.get("/items/{item_id}/why", summary="Why an item is in its story")
def item_why(request: Request, item_id: str) -> Any:
    """Returns the decision on arrival (score components, runner-up) and where it is now."""
    return jsonable(library(get_desk(request), "why", "membership explanations")(item_id))


@read.get("/items/{item_id}/related", summary="Items about the same thing, copies left out")
def related_items(request: Request, item_id: str, limit: int | None = Query(None)) -> dict[str, Any]:
    """Returns items related to this one by its salient terms."""
    hits = get_desk(request).related(item_id, limit=clamp_limit(limit, 10))
    return {"items": [h.to_dict() for h in hits]}


# -- stories --------------------------------------------------------------------------------


@read.get("/stories", summary="List stories, ranked as in the briefing")
def list_stories(
    request: Request,
    since: str | None = Query(None, description="Active at or after (ISO time or age like 24h)."),
    until: str | None = Query(None, description="Begun before."),
    order: str = Query("rank", description="rank (independent sources, then recency, then size) or recent."),
    min_size: int | None = Query(None, ge=1, le=1_000_000_000, description="Only stories with at least this many items."),
    limit: int | None = Query(None, description="Stories per page (at most 200)."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    """Returns a page of stories and the cursor of the next page."""
    desk = get_desk(request)
    fn = library(desk, "stories", "story listing")
    since_t, until_t = parse_time(since), parse_time(until)

    def fetch(offset: int, n: int) -> list[Any]:
        return call(fn, limit=n, offset=offset, since=since_t, until=until_t, order=order, min_size=min_size)

    chunk, nxt = page_by_anchor(fetch, lambda s: str(field(s, "id")), cursor, clamp_limit(limit))
    return {"stories": [jsonable(s) for s in chunk], "next_cursor": nxt}


@read.get("/stories/{story_id}", summary="One story")
def get_story(
    request: Request,
    story_id: str,
    items_limit: int = Query(200, ge=1, le=1000, description="Most of its items to list."),
    items_offset: int = Query(0, ge=0, le=10**9, description="Items to pass over first."),
) -> dict[str, Any]:
    """Returns a story with a page of its items (`items_total` says how many it has)."""
    desk = get_desk(request)
    story = library(desk, "story", "story detail")(story_id)
    out = jsonable(story)
    if not isinstance(out, dict):
        out = {"story": out}
    items_fn = getattr(desk, "story_items", None)
    if items_fn is not None and "items" not in out:
        members = list(items_fn(field(story, "id")))
        out["items_total"] = len(members)
        out["items"] = [item_summary(i) if hasattr(i, "kind") else jsonable(i)
                        for i in members[items_offset: items_offset + items_limit]]
    title_fn = getattr(desk, "story_title", None)
    if title_fn is not None:
        out["headline"] = jsonable(title_fn(field(story, "id")))
    return out


@read.get("/stories/{story_id}/timeline", summary="A story's timeline")
def story_timeline(request: Request, story_id: str) -> Any:
    """Returns the dated events of a story."""
    return {"timeline": jsonable(library(get_desk(request), "story_timeline", "story timelines")(story_id))}


@read.get("/stories/{story_id}/summary", summary="A story's summary with citations")
def story_summary(request: Request, story_id: str) -> Any:
    """Returns the summary of a story, each sentence citing its items."""
    return jsonable(library(get_desk(request), "story_summary", "story summaries")(story_id))


@read.get("/stories/{story_id}/entities", summary="The entities of a story with their roles")
def story_entities(request: Request, story_id: str) -> Any:
    """Returns the entities a story mentions."""
    return {"entities": jsonable(library(get_desk(request), "story_entities", "story entities")(story_id))}


@read.get("/stories/{story_id}/corrections", summary="Editors' corrections of a story")
def story_corrections(request: Request, story_id: str) -> Any:
    """Returns the merges, moves and splits touching a story, newest first."""
    fn = library(get_desk(request), "corrections", "corrections")
    return {"corrections": jsonable(fn(story_id))}


# -- entities -------------------------------------------------------------------------------


@read.get("/entities", summary="List entities")
def list_entities(
    request: Request,
    type: str | None = Query(None, description="Only entities of this type (person, org, place...)."),
    q: str | None = Query(None, description="Only entities whose name contains this."),
    since: str | None = Query(None, description="Mentioned at or after (ISO time or age like 24h)."),
    until: str | None = Query(None, description="Mentioned before."),
    limit: int | None = Query(None, description="Entities per page (at most 200)."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    """Returns a page of entities, most mentioned first, and the next cursor."""
    fn = library(get_desk(request), "entities", "entity listing")
    since_t, until_t = parse_time(since), parse_time(until)

    def fetch(offset: int, n: int) -> list[Any]:
        return call(fn, type=type, query=q, since=since_t, until=until_t, limit=n, offset=offset)

    chunk, nxt = page_by_anchor(fetch, lambda e: str(field(e, "key") or field(e, "name")), cursor, clamp_limit(limit))
    return {"entities": [jsonable(e) for e in chunk], "next_cursor": nxt}


@read.get("/entities/{name}", summary="One entity")
def get_entity(request: Request, name: str) -> Any:
    """Returns an entity with its aliases, roles, stories and items."""
    return jsonable(library(get_desk(request), "entity", "entity detail")(name))


# -- search, briefing, stats ----------------------------------------------------------------


@read.get("/search", summary="Full-text (and semantic) search over items")
def search(
    request: Request,
    q: str = Query(..., description='Words, "phrases", prefix*, a OR b, -without.'),
    source: str | None = Query(None, description="Only items from this outlet."),
    kind: str | None = Query(None, description="article or headline."),
    since: str | None = Query(None, description="Published at or after (ISO time or age like 24h)."),
    until: str | None = Query(None, description="Published before."),
    story: str | None = Query(None, description="Only items of this story."),
    entity: str | None = Query(None, description="Only items mentioning this entity."),
    mode: str = Query("auto", description="auto, text, semantic or hybrid."),
    limit: int | None = Query(None, description="Hits per page (at most 200)."),
    cursor: str | None = Query(None, description="next_cursor of the previous page."),
    language: str | None = Query(None, description="Only items in this language (like de, or unknown)."),
) -> dict[str, Any]:
    """Returns a page of hits with highlighted snippets and the next cursor."""
    mode = anonymous_mode(request, mode)
    page = get_desk(request).search(
        q, source=source, kind=kind, since=parse_time(since), until=parse_time(until),
        story=story, entity=entity, mode=mode, limit=clamp_limit(limit, 20), cursor=cursor,
        language=language,
    )
    return page.to_dict()


@read.get("/briefing", summary="The briefing: top stories with summaries")
def briefing(
    request: Request,
    since: str | None = Query(None, description="Stories active since (ISO time or age like 24h)."),
    limit: int | None = Query(None, description="Most stories."),
) -> Any:
    """Returns the briefing as the library builds it."""
    fn = library(get_desk(request), "brief", "the briefing")
    return jsonable(call(fn, since=parse_time(since), top=clamp_limit(limit, 10)))


_SPAN = re.compile(r"^(\d{1,5})([mhdw])$")


@read.get("/trending", summary="Stories whose new sources are rising")
def trending(
    request: Request,
    window: str = Query("6h", description="Window length, like 90m, 6h, 2d."),
    limit: int | None = Query(None, description="Most stories."),
) -> Any:
    """Returns stories whose new independent sources rose from the previous window to the last."""
    m = _SPAN.match(window.strip())
    if not m:
        raise InputError(f"window {window[:40]!r}: use a length like 90m, 6h or 2d")
    span = duration(window)
    fn = library(get_desk(request), "trending", "trending stories")
    return {"trending": jsonable(call(fn, window=span, top=clamp_limit(limit, 10)))}


@read.get("/stats", summary="What the store holds")
def stats(request: Request) -> Any:
    """Returns counts area by area."""
    out = jsonable(get_desk(request).stats())
    out.pop("db", None)  # the server's file path is not the reader's business
    return out


def _feed(request: Request, fmt: str) -> Response:
    fn = getattr(get_desk(request), "alerts_feed", None)
    if fn is None:
        raise NotAvailable("alert feeds are not available in this newsdesk build")
    media = "application/rss+xml" if fmt == "rss" else "application/atom+xml"
    # The link is the configured public address, never the request's Host header (a client
    # could make the feed point anywhere).
    link = str(get_desk(request).setting("public_url") or "http://localhost/")
    return Response(call(fn, fmt=fmt, link=link), media_type=media + "; charset=utf-8")


@read.get("/alerts.rss", summary="Alerts as an RSS feed", response_class=Response)
def alerts_rss(request: Request) -> Response:
    """Returns the alerts feed in RSS 2.0."""
    return _feed(request, "rss")


@read.get("/alerts.atom", summary="Alerts as an Atom feed", response_class=Response)
def alerts_atom(request: Request) -> Response:
    """Returns the alerts feed in Atom."""
    return _feed(request, "atom")


# -- writes ---------------------------------------------------------------------------------

_TEXT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A document, a page dump or JSONL, as UTF-8 text.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@write.post("/ingest", summary="Ingest a pasted document, page dump or JSONL", openapi_extra=_TEXT_BODY)
async def ingest(
    request: Request,
    fmt: str | None = Query(None, description="pagedump, text, jsonl, feed or html (default: from Content-Type, else guessed)."),
    origin: str = Query("api", description="Name recorded as where the items came from."),
) -> dict[str, Any]:
    """Returns what ingesting the request body did: new, already stored, skipped."""
    if fmt is None:
        fmt = _format_of(request.headers.get("content-type"))
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"request body is not UTF-8 text (byte {e.start})") from None
    if not text.strip():
        raise InputError("request body is empty: send the document as text")
    desk = get_desk(request)
    report = await run_in_threadpool(desk.ingest_text, text, origin=origin[:200], fmt=fmt)
    fired = await run_in_threadpool(desk.check_watches_after, report.new)
    return {"ok": True, **report.to_dict(), "ids": report.new_ids, "alerts": len(fired)}


def _format_of(content_type: str | None) -> str | None:
    try:
        from newsdesk.ingest.document import format_for_content_type
    except ImportError:
        return None
    return format_for_content_type(content_type)


class MergeBody(BaseModel):
    stories: list[str] = Field(..., min_length=2, max_length=50, description="Story ids to merge into one.")
    reason: str | None = Field(None, max_length=500, description="Why, kept with the correction.")


class SplitBody(BaseModel):
    items: list[str] = Field(..., min_length=1, max_length=1000, description="Item ids that leave to form a new story.")
    reason: str | None = Field(None, max_length=500, description="Why, kept with the correction.")


class MoveBody(BaseModel):
    story: str = Field(..., description="Story id to move the item (and its copies) to.")
    reason: str | None = Field(None, max_length=500, description="Why, kept with the correction.")


@write.post("/stories/merge", summary="Merge stories (editor)")
def merge_stories(request: Request, body: MergeBody) -> Any:
    """Returns the story the others were merged into (the oldest keeps its id)."""
    fn = library(get_desk(request), "merge_stories", "merging stories")
    kept = body.stories[0]
    for other in body.stories[1:]:
        kept = str(field(fn(kept, other, reason=body.reason), "id"))
    return {"ok": True, "story": jsonable(get_desk(request).story(kept))}


@write.post("/stories/{story_id}/split", summary="Split items out of a story (editor)")
def split_story(request: Request, story_id: str, body: SplitBody) -> Any:
    """Returns the new story formed by the items split out."""
    fn = library(get_desk(request), "split_story", "splitting stories")
    return {"ok": True, "story": jsonable(fn(story_id, body.items, reason=body.reason))}


@write.post("/items/{item_id}/move", summary="Move an item to another story (editor)")
def move_item(request: Request, item_id: str, body: MoveBody) -> Any:
    """Returns the story the item is now in."""
    fn = library(get_desk(request), "move_item", "moving items")
    return {"ok": True, "story": jsonable(fn(item_id, body.story, reason=body.reason))}
