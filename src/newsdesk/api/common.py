"""What the API and reader routes share: the desk, library look-ups, JSON, cursors."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

from newsdesk.api.errors import NotAvailable
from newsdesk.errors import InputError
from newsdesk.search import decode_cursor, encode_cursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def get_desk(request: Request) -> Any:
    return request.app.state.desk


def library(desk: Any, name: str, what: str | None = None) -> Callable[..., Any]:
    """Returns desk.<name>, or raises NotAvailable naming what is missing."""
    fn = getattr(desk, name, None)
    if fn is None:
        raise NotAvailable(f"{what or name} is not available in this newsdesk build (Desk.{name} missing)")
    return fn


def has(desk: Any, name: str) -> bool:
    return getattr(desk, name, None) is not None


def jsonable(value: Any) -> Any:
    """Returns value as plain JSON data: dataclasses, times and objects with to_dict included."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "annotations"
        }
    return str(value)


def field(obj: Any, name: str, default: Any = None) -> Any:
    """Returns obj.name or obj[name] (library calls return dataclasses or dicts)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def safe_href(url: Any) -> str | None:
    """Returns the URL when it is http(s), else None (so it is never made a link)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT) -> int:
    if limit is None:
        return default
    if limit < 1:
        raise InputError(f"limit {limit}: must be at least 1")
    return min(limit, MAX_LIMIT)


def page_by_anchor(
    fetch: Callable[[int, int], Sequence[Any]],
    id_of: Callable[[Any], str],
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """Returns one page of a ranked listing and the cursor of the next page.

    `fetch(offset, n)` returns rows in rank order. The cursor holds the id of the last row
    shown (and where it was): the next page starts right after that row wherever it now
    ranks, so rows arriving or moving ahead of it do not repeat or skip rows.
    """
    if not cursor:
        rows = list(fetch(0, limit + 1))
        chunk = rows[:limit]
        more = len(rows) > limit
        return chunk, (encode_cursor([limit, id_of(chunk[-1])]) if more and chunk else None)
    position, last = decode_cursor(cursor, 2)
    if not isinstance(position, int) or position < 0 or not isinstance(last, str):
        raise InputError(f"cursor {cursor[:40]!r} is not valid")
    base = max(0, position - 2 * limit)
    rows = list(fetch(base, position - base + 3 * limit + 1))
    start = next((n + 1 for n, r in enumerate(rows) if id_of(r) == last), position - base)
    chunk = rows[start : start + limit]
    more = len(rows) > start + limit
    nxt = encode_cursor([base + start + limit, id_of(chunk[-1])]) if more and chunk else None
    return chunk, nxt
