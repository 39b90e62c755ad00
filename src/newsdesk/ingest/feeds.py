"""RSS 0.9x/1.0/2.0 and Atom feeds, read with feedparser from bytes (never from the network).

Each entry becomes an item: title, summary or content (HTML stripped), canonical link,
published (or updated) time, guid as `source_id`, the feed's title as `source`, author. An
aggregator's entry (Google News and the like) names its outlet in `<source>`: that outlet is
the source, the " - Outlet" the aggregator appends to the headline is dropped, and a summary that
only repeats the headline and the outlet is no body (the item is a headline). Nor is a summary
that lists the other outlets' reports of the same story (Google News' top stories): those are
kept with the item as `extra["coverage"]` (headline, outlet, link).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from newsdesk.ingest.normalise import (
    clean_line,
    linear_markup,
    make_item,
    strip_html,
    without_outlet,
    words,
)
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

_FEED_ROOT = re.compile(rb"<(?:rss|feed|rdf:RDF|RDF)[\s>]", re.IGNORECASE)
# An aggregator's summary that lists other outlets' reports (see `_coverage`).
MAX_SUMMARY_HTML = 100_000  # characters of a summary read for such a list
OUTLET_MAX_WORDS = 8  # words after a listed link that can be its outlet's name
MAX_COVERAGE = 20  # reports kept with the item


@dataclass
class Feed:
    """A parsed feed: its title, link, language and the entries as items or skips."""

    title: str | None
    link: str | None
    language: str | None
    records: list[Item | Skip] = field(default_factory=list)


def looks_like_feed(data: bytes | str) -> bool:
    """Returns whether the start of a document is an RSS, RDF or Atom root element."""
    head = data[:4096]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    return _FEED_ROOT.search(head) is not None


def _time(entry: Any, *names: str) -> datetime | None:
    for name in names:
        parsed = entry.get(name + "_parsed")
        if parsed:
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _entry_language(entry: Any, feed_language: str | None) -> str | None:
    """Returns the entry's own xml:lang (Atom) or dc:language, else the feed's language."""
    for key in ("content", "summary_detail", "title_detail"):
        detail = entry.get(key)
        if isinstance(detail, list):
            detail = detail[0] if detail else None
        if detail and detail.get("language"):
            return _language(detail.get("language"))
    return _language(entry.get("language")) or feed_language


def _local_time(entry: Any, language: str | None, *names: str) -> datetime | None:
    """Returns an entry time feedparser could not read ("Qua, 31 Jan 2018 ..."), via dateparser."""
    from newsdesk.nlp.dates import parse_localised

    for name in names:
        raw = entry.get(name)
        if isinstance(raw, str) and raw.strip():
            found = parse_localised(raw, language)
            if found is not None:
                return found
    return None


def _language(code: Any) -> str | None:
    code = clean_line(code, 20) if isinstance(code, str) else None
    return code.split("-")[0].split("_")[0].lower() if code else None


def _entry_text(entry: Any) -> str:
    """Returns the entry's longest body: full content if given, else the summary."""
    bodies = [c.get("value") or "" for c in entry.get("content") or []]
    bodies.append(entry.get("summary") or "")
    best = max(bodies, key=len)
    return strip_html(best)


def _entry_outlet(entry: Any) -> str | None:
    """Returns the outlet an aggregator's entry names as its own source (RSS `<source>`, Atom
    `<source><title>`, Bing News' `<News:Source>`), or None."""
    src = entry.get("source")
    title = src.get("title") if hasattr(src, "get") else None
    if not (isinstance(title, str) and title.strip()):
        title = entry.get("news_source")
    return clean_line(strip_html(title), 300) if isinstance(title, str) and title.strip() else None


class _CoverageList(HTMLParser):
    """Reads a summary that lists reports: `<li><a href=URL>Headline</a> Outlet</li>`, ..."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[dict[str, Any]] = []  # per <li>: links (text, href) and the text outside them
        self.outside: list[str] = []  # text outside every <li>
        self._href: str | None = None
        self._link: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.entries.append({"links": [], "rest": []})
        elif tag == "a" and self.entries:
            self._href, self._link = dict(attrs).get("href"), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None and self.entries:
            self.entries[-1]["links"].append((" ".join("".join(self._link).split()), self._href))
            self._href, self._link = None, None

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link.append(data)
        elif self.entries:
            self.entries[-1]["rest"].append(data)
        else:
            self.outside.append(data)


def _coverage(summary: str, title: str | None) -> list[dict[str, str]] | None:
    """Returns the other reports an aggregator's summary lists (Google News' top stories: a list
    of links to each outlet's headline on the same story), or None when the summary is prose.

    A summary is such a list when it has two or more list entries, each a link followed by at
    most a name (the outlet), with no words outside the entries. The entry's own headline and
    links without an outlet ("View full coverage") are left out of what is returned.
    """
    if "<li" not in summary.lower():
        return None
    reader = _CoverageList()
    try:
        reader.feed(linear_markup(summary[:MAX_SUMMARY_HTML]))
        reader.close()
    except (ValueError, AssertionError):  # malformed markup: read as prose
        return None
    entries = reader.entries
    if len(entries) < 2 or words(" ".join(reader.outside)):
        return None
    own = set(words((title or "").casefold()))
    out: list[dict[str, str]] = []
    for entry in entries:
        rest = " ".join(" ".join(entry["rest"]).split())
        if len(entry["links"]) != 1 or len(words(rest)) > OUTLET_MAX_WORDS:
            return None
        headline, href = entry["links"][0]
        said = set(words(headline.casefold()))
        if not said or said == own or not rest:  # its own headline, or a link to the aggregator's page
            continue
        report = {"title": clean_line(headline, 300) or "", "source": clean_line(rest, 300) or ""}
        if href and href.startswith(("http://", "https://")):
            report["url"] = href[:2000]
        out.append(report)
        if len(out) >= MAX_COVERAGE:
            break
    return out


def _only_headline(text: str, title: str | None, outlet: str) -> bool:
    """Returns whether an aggregator's summary says nothing but the headline and the outlet."""
    said = set(words(text.casefold()))
    return bool(said) and said <= set(words(f"{title or ''} {outlet}".casefold()))


def parse_feed(
    data: bytes, *, origin: str, base_url: str | None = None, max_chars: int | None = None
) -> Feed:
    """Returns the feed in the bytes with one Item (or Skip) per entry; a Skip alone if broken."""
    import io

    import feedparser

    # A stream, never bytes or str: feedparser would treat those as a path or URL to open.
    # No base URL is given to feedparser, which would resolve guids like "item-4" against it;
    # only entry links are made absolute, below.
    parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False)
    meta = parsed.get("feed", {})
    feed = Feed(
        title=clean_line(strip_html(meta.get("title")), 300) if meta.get("title") else None,
        link=meta.get("link"),
        language=_language(meta.get("language")),
    )
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            reason = str(parsed.get("bozo_exception") or "unknown error").splitlines()[0][:200]
            feed.records.append(Skip(origin, None, f"not a readable feed ({reason})"))
        elif not parsed.get("version"):
            feed.records.append(Skip(origin, None, "not an RSS or Atom feed"))
        else:
            feed.records.append(Skip(origin, None, "feed has no entries"))
        return feed
    if parsed.get("bozo"):
        LOGGER.info("%s: feed is not well formed, read leniently (%s)", origin, parsed.get("bozo_exception"))
    for number, entry in enumerate(entries, 1):
        title = strip_html(entry.get("title")) if entry.get("title") else None
        text = _entry_text(entry)
        # An aggregator's entry names its outlet: that is the item's source (each outlet counts
        # once among a story's independent sources), its title loses the " - Outlet" the
        # aggregator appended, and a summary that only repeats the headline is no body.
        outlet = _entry_outlet(entry)
        extra: dict[str, Any] = {}
        if outlet:
            title = without_outlet(title, outlet)
            if feed.title:
                extra["via"] = feed.title
            # A summary listing the other outlets' reports of the story is not this report's
            # body: the item is its headline, the list is kept beside it.
            coverage = _coverage(entry.get("summary") or "", title)
            if coverage is not None:
                text = ""
                if coverage:
                    extra["coverage"] = coverage
            elif _only_headline(text, title, outlet):
                text = ""
        language = _entry_language(entry, feed.language)
        names = ("published", "updated", "created")
        published = _time(entry, *names) or _local_time(entry, language, *names)
        item = make_item(
            title=title,
            text=text,
            origin=origin,
            origin_line=number,
            url=urljoin(base_url, entry["link"]) if base_url and entry.get("link") else entry.get("link"),
            source=outlet or feed.title,
            published=published,
            language=language,
            author=entry.get("author"),
            source_id=entry.get("id") or entry.get("guid"),
            max_chars=max_chars,
            extra=extra or None,
        )
        if item is None:
            feed.records.append(Skip(origin, number, "feed entry has no title and no text"))
        else:
            feed.records.append(item)
    return feed


def read_feed(
    data: bytes, *, origin: str, base_url: str | None = None, max_chars: int | None = None
) -> Iterator[Item | Skip]:
    """Yields the items of an RSS or Atom document (a Skip when the feed is broken or empty)."""
    yield from parse_feed(data, origin=origin, base_url=base_url, max_chars=max_chars).records
