"""OPML feed lists: the feeds they name, and ingesting each one through the guarded fetch."""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from newsdesk.errors import FetchError, InputError
from newsdesk.ingest.normalise import clean_line
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

_OPML_ROOT = re.compile(rb"<opml[\s>]", re.IGNORECASE)


class FeedRef(NamedTuple):
    """One feed an OPML list names: its title (may be None) and its URL."""

    title: str | None
    url: str


def looks_like_opml(data: bytes | str) -> bool:
    """Returns whether the start of a document is an OPML root element."""
    head = data[:4096]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    return _OPML_ROOT.search(head) is not None


def parse_opml(data: bytes | str, *, origin: str = "OPML") -> list[FeedRef]:
    """Returns the feeds (outlines with an xmlUrl, at any depth) of an OPML document."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise InputError(f"{origin}: not valid OPML ({e})") from None
    if root.tag.lower() != "opml":
        raise InputError(f"{origin}: not an OPML document (root element <{root.tag}>)")
    feeds: list[FeedRef] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        title = clean_line(outline.get("title") or outline.get("text"), 300)
        feeds.append(FeedRef(title, url))
    return feeds


def read_opml(path_or_text: str | Path | bytes) -> list[FeedRef]:
    """Returns the feeds an OPML file (a path) or document (its text or bytes) lists.

    Raises InputError when the file cannot be read or is not OPML.
    """
    if isinstance(path_or_text, bytes):
        return parse_opml(path_or_text)
    if isinstance(path_or_text, str) and path_or_text.lstrip().startswith("<"):
        return parse_opml(path_or_text)
    path = Path(path_or_text)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    return parse_opml(data, origin=str(path))


def read_opml_items(
    data: bytes,
    *,
    origin: str,
    allow_private: bool = False,
    max_bytes: int | None = None,
    max_chars: int | None = None,
) -> Iterator[Item | Skip]:
    """Yields the items of every feed an OPML document lists; a feed that fails is one Skip."""
    from newsdesk.ingest.feeds import read_feed
    from newsdesk.ingest.fetch import fetch

    try:
        feeds = parse_opml(data, origin=origin)
    except InputError as e:
        yield Skip(origin, None, str(e).removeprefix(f"{origin}: "))
        return
    if not feeds:
        yield Skip(origin, None, "OPML lists no feeds (no outline with an xmlUrl)")
        return
    for number, ref in enumerate(feeds, 1):
        try:
            result = fetch(ref.url, allow_private=allow_private, max_bytes=max_bytes)
        except FetchError as e:
            yield Skip(origin, number, f"feed {ref.title or ref.url}: {e}")
            continue
        yield from read_feed(
            result.content, origin=ref.url, base_url=result.final_url, max_chars=max_chars
        )
