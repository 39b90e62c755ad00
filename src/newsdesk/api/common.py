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


def page_after(
    rows: Sequence[Any], key: Callable[[Any], list[Any]], cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """Returns the rows after the cursor and the next cursor, for rows already in sort order.

    The cursor holds the sort key (and id) of the last row shown, not an offset, so a row
    arriving or leaving ahead of it does not shift the next page. `key` returns values that
    increase along the order (negate what sorts descending).
    """
    start = 0
    if cursor:
        size = len(key(rows[0])) if rows else None
        last = decode_cursor(cursor, size) if size else None
        if last is not None:
            start = len(rows)
            for i, row in enumerate(rows):
                if _after(key(row), last):
                    start = i
                    break
    chunk = list(rows[start : start + limit])
    more = start + limit < len(rows)
    return chunk, (encode_cursor(key(chunk[-1])) if more and chunk else None)


def _after(current: list[Any], last: list[Any]) -> bool:
    try:
        return current > last
    except TypeError:
        return [str(v) for v in current] > [str(v) for v in last]
