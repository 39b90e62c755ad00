"""HTML article pages, read with trafilatura: title, main text, author, date, site name."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from newsdesk.ingest.normalise import clean_line, make_item, parse_time, strip_html, without_outlet
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

_HTML_START = re.compile(r"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                         re.IGNORECASE | re.DOTALL)
_LANG = re.compile(r"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_TITLE_OPEN = re.compile(r"<title[^<>]*>", re.IGNORECASE)
MIN_WORDS = 10  # less than this is navigation or a caption, not an article
_DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def looks_like_html(text: str) -> bool:
    """Returns whether a document starts like an HTML page."""
    return _HTML_START.match(text[:4096]) is not None


_META_DATE_KEYS = (
    "article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dc.date", "date",
)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def meta_published(document: str) -> str | None:
    """Returns the publication time the page declares in its meta tags or JSON-LD, if any.

    Declared times keep their hour and offset, which date guessing from the URL loses.
    """
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.fromstring(document[:500_000])
    except (etree.ParserError, ValueError):
        return None
    found: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = (meta.get("content") or "").strip()
        if key in _META_DATE_KEYS and content and key not in found:
            found[key] = content
    for key in _META_DATE_KEYS:
        if key in found and parse_time(found[key]) is not None:
            return found[key]
    match = _JSONLD_DATE.search(document[:500_000])
    if match and parse_time(match.group(1)) is not None:
        return match.group(1)
    return None


def _page_url(fetched: str | None, declared: str | None) -> str | None:
    """Returns the page's own canonical URL when it is on the host it was fetched from.

    A page may declare any canonical address; one on another host could claim another
    outlet's article id, so then the address it was fetched from wins.
    """
    if not fetched:
        return declared
    if declared:
        try:
            same = urlsplit(declared).hostname == urlsplit(fetched).hostname
        except ValueError:
            same = False
        if same:
            return declared
    return fetched


def _page_title(document: str) -> str | None:
    """Returns the markup inside the page's first <title>, or None.

    Found with one search for the tag and one for its end: a pattern that looked for the end
    from every '<title' read a page of 28,000 unclosed '<title>' tags for half a minute.
    """
    head = document[:200_000]
    opened = _TITLE_OPEN.search(head)
    if opened is None:
        return None
    end = head.lower().find("</title", opened.end())
    return head[opened.end():end] if end >= 0 else None


def _drop_title_line(title: str | None, text: str) -> str:
    """Returns the text without a first line that only repeats the title."""
    if not title:
        return text
    first, _, rest = text.partition("\n")
    return rest.lstrip("\n") if first.strip().casefold() == title.strip().casefold() else text


def read_html(
    document: str,
    *,
    origin: str,
    url: str | None = None,
    max_chars: int | None = None,
) -> Iterator[Item | Skip]:
    """Yields the one article an HTML page holds, or a Skip when no article text is found."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            document, url=url, with_metadata=True, favor_recall=True,
            include_comments=False, include_tables=False, date_extraction_params=_DATE_PARAMS,
        )
    except Exception as e:  # noqa: BLE001 - a page that breaks the extractor is one Skip
        yield Skip(origin, None, f"HTML page could not be read ({type(e).__name__}: {e})"[:300])
        return
    if doc is None or len((getattr(doc, "text", None) or "").split()) < MIN_WORDS:
        title = _page_title(document)
        if title and strip_html(title).strip():
            page_title = clean_line(strip_html(title))
            yield Skip(origin, None, f"no article text found in HTML page {page_title!r:.80}")
        else:
            yield Skip(origin, None, "no article text found in HTML page")
        return
    # A page's title often ends with its site's name ("Headline - Outlet"): the name goes.
    title = without_outlet(clean_line(doc.title), doc.sitename)
    text = _drop_title_line(title, doc.text or "")
    lang = _LANG.search(document[:4096])
    source = doc.sitename or (urlsplit(url).hostname if url else None)
    page_url = _page_url(url, doc.url)
    item = make_item(
        title=title,
        text=text,
        origin=origin,
        url=page_url,
        source=source,
        published=meta_published(document) or doc.date,
        author=doc.author,
        language=lang.group(1).lower() if lang else None,
        kind=None,
        max_chars=max_chars,
    )
    if item is None:
        yield Skip(origin, None, "no article text found in HTML page")
        return
    yield item
