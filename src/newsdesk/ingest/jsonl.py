"""JSONL: one JSON object per line, in the schema of the evaluation sets (and a few aliases).

    {"id": "...", "title": "...", "text": "...", "published": "2026-02-17T10:00:00Z",
     "source": "...", "url": "...", "language": "en", "story": "..."}

`id` becomes `source_id`; fields newsdesk does not know (`story`, `stance`, `topic`...)
are kept in `item.extra`. A malformed line is skipped with its line number; the file goes on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from newsdesk.ingest.normalise import make_item
from newsdesk.model import KINDS, Item, Skip

LOGGER = logging.getLogger(__name__)

# item field -> keys accepted for it, first present wins
ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("id", "guid", "_id", "doc_id"),
    "title": ("title", "headline"),
    "text": ("text", "body", "content", "description", "summary"),
    "published": ("published", "published_at", "date", "pubDate", "datetime", "time"),
    "url": ("url", "link"),
    "source": ("source", "outlet", "site_name", "publisher"),
    "author": ("author", "byline"),
    "language": ("language", "lang"),
    "kind": ("kind",),
}
_KNOWN = frozenset(k for keys in ALIASES.values() for k in keys)


# What json.loads raises on hostile input: a syntax error (JSONDecodeError), a number too long
# to convert (ValueError), nesting too deep (RecursionError).
JSON_ERRORS = (ValueError, RecursionError)


def json_problem(e: BaseException) -> str:
    """Returns why a JSON text could not be read, in a few words."""
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} (column {e.colno})"
    if isinstance(e, RecursionError):
        return "nested too deeply"
    return "a number is too long" if "digits" in str(e) else str(e).splitlines()[0][:100]


def _text_value(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(value)
    if isinstance(value, dict):  # {"name": "Outlet"} / {"title": ...}
        for key in ("name", "title", "text", "value"):
            if isinstance(value.get(key), str):
                return value[key]
    raise TypeError(type(value).__name__)


def record_to_item(
    record: Any, *, origin: str, line: int | None, max_chars: int | None = None
) -> Item | Skip:
    """Returns the Item one JSON record describes, or the Skip saying why it is not one."""
    if not isinstance(record, dict):
        return Skip(origin, line, f"not a JSON object (a {type(record).__name__})")
    fields: dict[str, Any] = {}
    used: set[str] = set()
    for name, keys in ALIASES.items():
        for key in keys:
            if key in record and record[key] not in (None, ""):
                value = record[key]
                used.add(key)
                if name not in ("published", "source_id"):
                    try:
                        value = _text_value(value)
                    except TypeError as e:
                        return Skip(origin, line, f"field {key!r} is a {e}, not text")
                fields[name] = value
                break
    kind = fields.pop("kind", None)
    if kind not in KINDS:
        kind = None
    source_id = fields.get("source_id")
    if isinstance(source_id, (dict, list)):
        return Skip(origin, line, "field 'id' is not a string or number")
    extra = {
        k: v for k, v in record.items() if k not in used and not (k in _KNOWN and v in (None, ""))
    }
    item = make_item(
        title=fields.get("title"),
        text=fields.get("text"),
        origin=origin,
        origin_line=line,
        url=fields.get("url"),
        source=fields.get("source"),
        published=fields.get("published"),
        language=fields.get("language"),
        author=fields.get("author"),
        source_id=source_id,
        kind=kind,
        extra=extra,
        max_chars=max_chars,
    )
    if item is None:
        return Skip(origin, line, "record has no title and no text")
    return item


def read_jsonl(
    lines: Iterable[str], *, origin: str, max_chars: int | None = None
) -> Iterator[Item | Skip]:
    """Yields one Item per JSON line (blank lines ignored), or a Skip naming the bad line."""
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except JSON_ERRORS as e:
            yield Skip(origin, number, f"not valid JSON: {json_problem(e)}")
            continue
        yield record_to_item(record, origin=origin, line=number, max_chars=max_chars)


def strict_records(path: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yields (line, object) of a JSONL file, raising InputError at the first bad line.

    For files newsdesk itself reads whole (gold files, exports), where a bad line means the
    file cannot be trusted; news input goes through `read_jsonl`, which skips bad lines.
    """
    from newsdesk.errors import InputError

    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except JSON_ERRORS as e:
                    raise InputError(f"{path}:{n}: not JSON ({json_problem(e)})") from None
                if not isinstance(rec, dict):
                    raise InputError(f"{path}:{n}: not a JSON object")
                yield n, rec
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None


def looks_like_jsonl(text: str) -> bool:
    """Returns whether the first non-blank line of the text is a JSON object."""
    for line in _lines(text):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            return False
        try:
            return isinstance(json.loads(line), dict)
        except JSON_ERRORS:
            return False
    return False


def _lines(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        yield text[start:end]
        start = end + 1


def is_json_feed(data: Any) -> bool:
    """Returns whether parsed JSON is a JSON Feed (jsonfeed.org) document."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("items"), list)
        and "jsonfeed.org" in str(data.get("version", ""))
    )


def json_feed_records(feed: dict[str, Any]) -> list[Any]:
    """Returns a JSON Feed's items as records in the JSONL schema (non-objects passed as is)."""
    from newsdesk.ingest.normalise import strip_html

    records: list[Any] = []
    for entry in feed["items"]:
        if not isinstance(entry, dict):
            records.append(entry)
            continue
        authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
        author = authors[0].get("name") if authors and isinstance(authors[0], dict) else None
        text = entry.get("content_text")
        if not text and isinstance(entry.get("content_html"), str):
            text = strip_html(entry["content_html"])
        records.append({
            "id": entry.get("id"),
            "title": entry.get("title"),
            "text": text or entry.get("summary"),
            "url": entry.get("url") or entry.get("external_url"),
            "published": entry.get("date_published") or entry.get("date_modified"),
            "source": feed.get("title"),
            "author": author,
            "language": entry.get("language") or feed.get("language"),
        })
    return records
