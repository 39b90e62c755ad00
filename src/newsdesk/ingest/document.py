"""One document of any supported kind: pick its reader by declared format, file type or shape."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from newsdesk.errors import InputError
from newsdesk.ingest import feeds, html, jsonl, opml, pagedump, text
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

FORMATS = ("jsonl", "pagedump", "text", "feed", "html", "opml")
_FORMAT_ALIASES = {
    "json": "jsonl", "ndjson": "jsonl", "jsonl": "jsonl",
    "pagedump": "pagedump", "page-dump": "pagedump", "page_dump": "pagedump", "dump": "pagedump",
    "text": "text", "txt": "text", "plain": "text",
    "feed": "feed", "rss": "feed", "atom": "feed", "rdf": "feed",
    "html": "html", "htm": "html", "page": "html",
    "opml": "opml",
}
# file suffix -> format; None means "sniff the content" (text may be a page dump, XML a feed or OPML)
SUFFIXES: dict[str, str | None] = {
    ".txt": None, ".text": None,
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".xml": None, ".rss": "feed", ".atom": "feed", ".rdf": "feed",
    ".opml": "opml",
    ".html": "html", ".htm": "html", ".xhtml": "html",
}
_CONTENT_TYPES = {
    "application/rss+xml": "feed", "application/atom+xml": "feed", "application/rdf+xml": "feed",
    "application/feed+xml": "feed",
    "text/html": "html", "application/xhtml+xml": "html",
    "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/json": "jsonl",
    "application/x-jsonlines": "jsonl",
    "text/x-opml": "opml", "application/opml+xml": "opml", "text/x-opml+xml": "opml",
}


_XML_ENCODING = re.compile(r"^(\ufeff?\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")


def format_name(fmt: str | None) -> str | None:
    """Returns the canonical format name for a user's spelling; raises InputError if unknown."""
    if fmt is None or fmt == "" or fmt == "auto":
        return None
    name = _FORMAT_ALIASES.get(fmt.strip().lower())
    if name is None:
        raise InputError(f"unknown format {fmt!r} (use one of: {', '.join(FORMATS)})")
    return name


def format_for_content_type(content_type: str | None) -> str | None:
    """Returns the format a Content-Type names, or None when the content must be sniffed."""
    return _CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())


def sniff(document: str | bytes) -> str:
    """Returns the format a document's shape suggests."""
    head = document[:4096]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    start = head.lstrip("\ufeff \t\r\n")
    if start.startswith("<"):
        if opml.looks_like_opml(head):
            return "opml"
        if feeds.looks_like_feed(head):
            return "feed"
        if html.looks_like_html(head):
            return "html"
        return "feed" if start.startswith("<?xml") else "html"
    if start.startswith("[") and start[1:].lstrip().startswith(("{", "]")):
        return "jsonl"
    if start.startswith("{"):
        body = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
        if jsonl.looks_like_jsonl(body) or _is_json_object(body):
            return "jsonl"
    return "text"


def _is_json_object(body: str) -> bool:
    try:
        return isinstance(json.loads(body), dict)
    except jsonl.JSON_ERRORS:
        return False


def _json_array(body: str, origin: str, max_chars: int | None) -> Iterator[Item | Skip]:
    """Yields the items of a JSON document: a list of records, one record, or a JSON Feed."""
    try:
        data = json.loads(body)
    except jsonl.JSON_ERRORS as e:
        yield Skip(origin, getattr(e, "lineno", None), f"not valid JSON ({jsonl.json_problem(e)})")
        return
    if jsonl.is_json_feed(data):
        records = jsonl.json_feed_records(data)
    else:
        records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, 1):
        yield jsonl.record_to_item(record, origin=origin, line=number, max_chars=max_chars)


def read_document(
    data: bytes | str,
    *,
    origin: str,
    fmt: str | None = None,
    url: str | None = None,
    charset: str | None = None,
    allow_private: bool = False,
    max_bytes: int | None = None,
    max_chars: int | None = None,
) -> Iterator[Item | Skip]:
    """Yields the items of one document, read as `fmt` or as its shape suggests."""
    fmt = format_name(fmt)
    if isinstance(data, bytes):
        if text.is_binary(data):
            yield Skip(origin, None, "binary file, not text")
            return
        blank = not data.strip(b" \t\r\n\x0b\x0c")
    else:
        blank = not data.strip()
    if blank:
        yield Skip(origin, None, "empty document")
        return
    fmt = fmt or sniff(data)
    if fmt in ("feed", "opml"):
        # XML carries its own encoding declaration: the XML readers decode the bytes.
        if isinstance(data, bytes):
            raw = data
        else:  # text already decoded: its declaration must not name another encoding
            raw = _XML_ENCODING.sub(r"\1\2utf-8\2", data, count=1).encode("utf-8")
        if fmt == "feed":
            yield from feeds.read_feed(raw, origin=origin, base_url=url, max_chars=max_chars)
        else:
            yield from opml.read_opml_items(
                raw, origin=origin, allow_private=allow_private, max_bytes=max_bytes,
                max_chars=max_chars,
            )
        return
    extra: dict | None = None
    if isinstance(data, bytes):
        decoded = _decode(data, charset)
        if isinstance(decoded, str):
            yield Skip(origin, None, decoded)
            return
        body = decoded.text
        if decoded.note:
            LOGGER.warning("%s: %s", origin, decoded.note)
            extra = {"encoding": decoded.encoding}
    else:
        body = data
    if fmt == "html":
        records = html.read_html(body, origin=origin, url=url, max_chars=max_chars)
    elif fmt == "jsonl":
        stripped = body.lstrip()
        if stripped.startswith("[") or (
            not jsonl.looks_like_jsonl(stripped) and _is_json_object(stripped)
        ):
            records = _json_array(body, origin, max_chars)
        else:
            records = jsonl.read_jsonl(body.splitlines(), origin=origin, max_chars=max_chars)
    elif fmt == "pagedump" or (fmt == "text" and pagedump.is_page_dump(body)):
        records = pagedump.read_page_dump(body, origin=origin, max_chars=max_chars)
    else:
        records = text.read_plain(body, origin=origin, max_chars=max_chars)
    for record in records:
        if extra and isinstance(record, Item):
            record.extra.update(extra)
        yield record


def _decode(data: bytes, charset: str | None) -> text.Decoded | str:
    if charset:
        try:
            return text.Decoded(data.decode(charset), charset)
        except (LookupError, UnicodeDecodeError):
            LOGGER.info("declared charset %s does not decode; guessing", charset)
    return text.decode(data)


def format_for_path(path: Path) -> tuple[bool, str | None]:
    """Returns (supported, format) for a file name; format None means sniff the content."""
    suffix = path.suffix.lower()
    if suffix in SUFFIXES:
        return True, SUFFIXES[suffix]
    return False, None
