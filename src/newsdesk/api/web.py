"""The web reader: server-rendered pages (Jinja2, autoescaped), a little CSS, no script needed."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from newsdesk.api.app import HERE
from newsdesk.api.auth import COOKIE, SESSION_LIFETIME, Auth, anonymous_mode
from newsdesk.api.chart import coverage_svg
from newsdesk.api.common import field, get_desk, has, page_by_anchor, safe_href
from newsdesk.api.coverage import coverage_context
from newsdesk.api.routes import FORMATS, call
from newsdesk.cli.common import parse_time
from newsdesk.errors import InputError, NewsdeskError, NotFound

LOGGER = logging.getLogger(__name__)

RIVER_SIZE = 30
ENTITY_ITEMS = 500  # items read for an entity's page and chart
MAX_TITLE = 300


def _when(value: Any, fmt: str = "%d %b %Y %H:%M") -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime(fmt) if isinstance(value, datetime) else ""


def _clip(value: Any, n: int = MAX_TITLE) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True
    env.filters["href"] = safe_href
    env.filters["when"] = _when
    env.filters["clip"] = _clip
    env.filters["q"] = lambda v: quote(str(v), safe="")
    env.globals["field"] = field
    return templates


def _auth(request: Request) -> Auth:
    return request.app.state.auth


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Returns a reader page; read access is checked first."""
    auth = _auth(request)
    auth.check_read(request, allow_cookie=True)
    signed_in = auth.cookie_ok(request) or auth.bearer_ok(request)
    context.update(signed_in=signed_in, csrf=auth.csrf_value() if signed_in else "", path=request.url.path)
    return request.app.state.templates.TemplateResponse(request, template, context, status_code=status)


def _check_form_write(request: Request, csrf: str | None) -> None:
    auth = _auth(request)
    auth.check_write(request, allow_cookie=True)
    auth.check_csrf(csrf)


def install(app: FastAPI) -> None:
    """Adds the reader's pages to the app."""
    app.state.templates = _templates()
    app.state.story_views = ViewCache()
    opts: dict[str, Any] = {"response_class": HTMLResponse, "include_in_schema": False}

    @app.get("/", **opts)
    def river(request: Request, cursor: str | None = None) -> Response:
        desk = get_desk(request)
        if not has(desk, "stories"):
            items = desk.items(limit=RIVER_SIZE)
            return render(request, "river.html", stories=None, items=items, note="Stories are not available in this build; showing the latest items.")
        def fetch(offset: int, n: int) -> list[Any]:
            return call(desk.stories, limit=n, offset=offset, order="rank")

        page, nxt = page_by_anchor(fetch, lambda st: str(field(st, "id")), cursor or None, RIVER_SIZE)
        # The story's stored title: the same one its page and the API list show.
        titles = {field(st, "id"): field(st, "title") or field(st, "id") for st in page}
        return render(request, "river.html", stories=page, titles=titles, items=None, next_cursor=nxt, note=None)

    @app.get("/brief", **opts)
    def brief_page(request: Request, since: str = "") -> Response:
        desk = get_desk(request)
        if not has(desk, "brief"):
            raise NotFound("the briefing is not available in this build")
        # The briefing summarises ten stories; it is kept until an item arrives or an editor acts.
        key = ("brief", since, *desk.brief_version())
        brief = request.app.state.story_views.get(key)
        if brief is None:
            brief = desk.brief(since=parse_time(since or None))
            request.app.state.story_views.put(key, brief)
        cites = {field(st, "story_id"): _citations(field(st, "summary")) for st in field(brief, "stories") or []}
        return render(request, "brief.html", brief=brief, since=since, cites=cites)

    @app.get("/story/{story_id}", **opts)
    def story_page(request: Request, story_id: str, by: str = "", page: int = 1) -> Response:
        desk = get_desk(request)
        if not has(desk, "story"):
            raise NotFound("stories are not available in this build")
        story = desk.story(story_id)
        sid = field(story, "id", story_id)
        # A story changes only when its members change, and then its `updated` time moves:
        # the derived views (summary, timeline, entities) are kept until then.
        key = (sid, str(field(story, "updated")), field(story, "size"))
        context = request.app.state.story_views.get(key)
        if context is None:
            context = _story_context(desk, story, sid)
            request.app.state.story_views.put(key, context)
        # A story of thousands of members is shown STORY_PAGE members at a time.
        members = context["members"]
        pages = max(1, -(-len(members) // STORY_PAGE))
        if not 1 <= page <= pages:
            raise InputError(f"page {page}: this story has {pages} page(s) of items")
        start = (page - 1) * STORY_PAGE
        return render(request, "story.html", **{
            **context, "page_members": members[start: start + STORY_PAGE], "page": page, "pages": pages,
            "first_shown": start + 1 if members else 0, "last_shown": min(start + STORY_PAGE, len(members)),
            **coverage_context(desk, sid, by or None),
        })

    @app.get("/blindspots", **opts)
    def blindspots_page(request: Request, by: str = "", since: str = "") -> Response:
        desk = get_desk(request)
        attrs = desk.outlet_attribute_names() if has(desk, "blindspots") else []
        if not by and attrs:
            preferred = str(desk.setting("blindspot_attribute") or "")
            by = preferred if preferred in attrs else attrs[0]
        spots = desk.blindspots(by, since=parse_time(since or None)) if attrs else []
        return render(request, "blindspots.html", spots=spots, by=by, since=since, attributes=attrs,
                      share=float(desk.setting("blindspot_share")),
                      min_sources=int(desk.setting("blindspot_min_sources")))

    @app.get("/item/{item_id}", **opts)
    def item_page(request: Request, item_id: str) -> Response:
        desk = get_desk(request)
        item = desk.item(item_id)
        story = desk.item_story(item.id) if has(desk, "item_story") else None
        story_id = field(story, "id") if story is not None else None
        return render(
            request, "item.html", item=item, related=desk.related(item.id, limit=8),
            story_id=story_id, sightings=desk.sightings(item.id),
        )

    @app.get("/entity/{name}", **opts)
    def entity_page(request: Request, name: str) -> Response:
        desk = get_desk(request)
        entity = None
        if has(desk, "entity"):
            try:
                entity = desk.entity(name)
            except NotFound:
                entity = None
        if entity is not None:
            ids = list(field(entity, "item_ids") or [])[:ENTITY_ITEMS]
            items = sorted(desk.items_by_ids(ids), key=_item_time, reverse=True)
        else:
            words = any(c.isalnum() for c in name)
            items = [h.item for h in desk.search(f'"{name}"', limit=30, mode="text").hits] if words else []
        chart = coverage_svg([_item_time(i) for i in items])
        return render(request, "entity.html", name=name, entity=entity, items=items[:30], chart=chart)

    @app.get("/search", **opts)
    def search_page(
        request: Request,
        q: str = "",
        source: str = "",
        kind: str = "",
        since: str = "",
        until: str = "",
        story: str = "",
        entity: str = "",
        cursor: str = "",
    ) -> Response:
        desk = get_desk(request)
        form = {"q": q, "source": source, "kind": kind, "since": since, "until": until, "story": story, "entity": entity}
        page, error = None, None
        if q.strip():
            try:
                page = desk.search(
                    q, source=source or None, kind=kind or None, since=parse_time(since or None),
                    until=parse_time(until or None), story=story or None, entity=entity or None,
                    cursor=cursor or None, limit=20, mode=anonymous_mode(request, "auto"),
                )
            except InputError as e:
                error = str(e)
        status = 400 if error else 200
        return render(request, "search.html", status=status, form=form, page=page, error=error)

    @app.get("/paste", **opts)
    def paste_form(request: Request) -> Response:
        return render(request, "paste.html", report=None, error=None, formats=FORMATS)

    @app.post("/paste", **opts)
    def paste(
        request: Request,
        text: str = Form(""),
        fmt: str = Form(""),
        origin: str = Form("paste"),
        csrf: str = Form(""),
    ) -> Response:
        _check_form_write(request, csrf)
        desk = get_desk(request)
        error = report = None
        if not text.strip():
            error = "nothing to ingest: paste a page dump, an article or JSONL"
        else:
            try:
                report = desk.ingest_text(text, origin=(origin or "paste")[:200], fmt=fmt or None)
                desk.check_watches_after(report.new)
            except NewsdeskError as e:
                error = str(e)
        items = desk.items_by_ids(report.new_ids) if report else []
        return render(request, "paste.html", status=400 if error else 200, report=report, items=items,
                      error=error, formats=FORMATS)

    @app.get("/signin", **opts)
    def signin_form(request: Request) -> Response:
        return request.app.state.templates.TemplateResponse(
            request, "signin.html", {"error": None, "signed_in": _auth(request).cookie_ok(request), "csrf": ""}
        )

    @app.post("/signin", **opts)
    def signin(request: Request, token: str = Form("")) -> Response:
        auth = _auth(request)
        if not auth.token_ok(token):
            message = "no token is configured on this server" if not auth.token else "wrong token"
            return request.app.state.templates.TemplateResponse(
                request, "signin.html", {"error": message, "signed_in": False, "csrf": ""}, status_code=401
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE, auth.new_session(request), httponly=True, samesite="strict",
            secure=request.url.scheme == "https", max_age=int(SESSION_LIFETIME.total_seconds()),
        )
        return response

    @app.post("/signout", **opts)
    def signout(request: Request) -> Response:
        _auth(request).end_session(request)
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.post("/story/{story_id}/merge", **opts)
    def merge_form(request: Request, story_id: str, other: str = Form(...), csrf: str = Form("")) -> Response:
        _check_form_write(request, csrf)
        desk = get_desk(request)
        result = desk.merge_stories(story_id, other.strip())
        return RedirectResponse(f"/story/{quote(str(field(result, 'id', story_id)), safe='')}", status_code=303)

    @app.post("/story/{story_id}/split", **opts)
    def split_form(
        request: Request, story_id: str, items: Annotated[list[str], Form()], csrf: str = Form("")
    ) -> Response:
        _check_form_write(request, csrf)
        result = get_desk(request).split_story(story_id, items)
        return RedirectResponse(f"/story/{quote(str(field(result, 'id', story_id)), safe='')}", status_code=303)

    @app.post("/item/{item_id}/move", **opts)
    def move_form(request: Request, item_id: str, story: str = Form(""), csrf: str = Form("")) -> Response:
        _check_form_write(request, csrf)
        if not story.strip():
            raise InputError("give the id of the story to move the item to")
        result = get_desk(request).move_item(item_id, story.strip())
        return RedirectResponse(f"/story/{quote(str(field(result, 'id', story)), safe='')}", status_code=303)


class ViewCache:
    """A small thread-safe LRU of computed page parts."""

    def __init__(self, size: int = 256):
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


STORY_PAGE = 100  # members listed per page of a story


def _story_context(desk: Any, story: Any, sid: str) -> dict[str, Any]:
    """Returns what the story page shows: members, chart, title, cited summary, timeline, entities."""
    members = list(desk.story_items(sid)) if has(desk, "story_items") else []
    items = [getattr(m, "item", m) for m in members]
    summary = _optional(desk, "story_summary", sid)
    return {
        "cited": _citations(summary),
        "by_id": {i.id: i for i in items},
        "story": story,
        "title": _story_title(getattr(desk, "story_title", None), story),
        "members": members,
        "items": items,
        "chart": coverage_svg([i.published or i.ingested for i in items]),
        "summary": summary,
        "timeline": _optional(desk, "story_timeline", sid),
        "entities": _optional(desk, "story_entities", sid),
        "sources": sorted({i.source for i in items if i.source}),
    }


def _citations(summary: Any) -> dict[str, int]:
    """Returns {item id: citation number} in the order the summary first cites each item."""
    cited: dict[str, int] = {}
    for sentence in field(summary, "sentences") or []:
        for iid in field(sentence, "item_ids") or []:
            cited.setdefault(iid, len(cited) + 1)
    return cited


def _item_time(item: Any) -> datetime:
    return item.published or item.ingested or datetime.min.replace(tzinfo=UTC)


def _story_title(title_fn: Any, story: Any) -> str:
    if title_fn is not None:
        try:
            title = title_fn(field(story, "id"))
            if title:
                return str(field(title, "title", title))
        except NewsdeskError:
            pass
    return str(field(story, "title") or field(story, "id"))


def _optional(desk: Any, name: str, *args: Any) -> Any:
    """Returns desk.name(*args), or None when the call is missing or has nothing to give."""
    fn = getattr(desk, name, None)
    if fn is None:
        return None
    try:
        return fn(*args)
    except NewsdeskError as e:
        LOGGER.info("%s unavailable: %s", name, e)
        return None
