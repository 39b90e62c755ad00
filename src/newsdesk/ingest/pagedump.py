"""Page dumps: an article body followed by the other headlines listed on the same page.

The headline block is found by its shape, not by blank lines: reading up from the end,
a run of short lines without sentence punctuation, each starting with a capital, mostly in
Title Case. The article above it becomes one item, each headline line a `headline` item.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from newsdesk.ingest.normalise import is_boilerplate, looks_like_title, make_item, title_case_ratio
from newsdesk.ingest.text import split_title
from newsdesk.model import HEADLINE, Item, Skip

LOGGER = logging.getLogger(__name__)

MIN_HEADLINES = 3  # fewer short lines at the end are more likely a sign-off than a list
MIN_UNTITLED_RUN = 5  # a run in sentence case must be longer to count
TITLE_CASE = 0.6  # mean share of capitalised significant words for a Title Case run


@dataclass
class PageDump:
    """A document split into its article (body and first line number) and headline lines."""

    body: str
    body_line: int | None
    headlines: list[tuple[int, str]] = field(default_factory=list)


_BULLET = re.compile(r"^(?:[-*•·▪►–—]|\d{1,2}[.)])\s+")
# Section labels that sit among the headlines of a page; part of the block, not headlines.
_LABEL = re.compile(
    r"^(?:more (?:news|stories|headlines|top stories|from .{1,40})|(?:top|latest|related|popular|"
    r"trending|recommended|featured|other) (?:news|stories|headlines|articles)|most (?:read|popular|"
    r"viewed|shared)|trending(?: now)?|latest|top stories|headlines|in other news|you may also like|"
    r"recommended(?: for you)?|what to read next|read next|editor'?s picks)[:.]?$",
    re.IGNORECASE,
)
_FOOTER = re.compile(r"^(?:©|\(c\)\s|copyright\b|all rights reserved)", re.IGNORECASE)


def _unbullet(line: str) -> str:
    return _BULLET.sub("", line, count=1).strip()


def _headline_shaped(line: str) -> bool:
    if not looks_like_title(line, max_words=25, max_chars=200):
        return False
    first = line.lstrip("\"'‘“(")[:1]
    if not (first.isupper() or first.isdigit()):
        return False
    return _FOOTER.match(line) is None


def split(text: str) -> PageDump | None:
    """Returns the document split into article and headline block, or None if it has no block."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    run: list[tuple[int, str]] = []
    end = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = _unbullet(lines[index].strip())
        if not line or is_boilerplate(line):
            continue
        if not run and _FOOTER.match(line):  # a page footer below the list
            continue
        if _LABEL.match(line):
            end = index
            continue
        if not _headline_shaped(line):
            break
        run.append((index + 1, line))
        end = index
    run.reverse()
    if len(run) < MIN_HEADLINES:
        return None
    titled = sum(title_case_ratio(h) for _, h in run) / len(run) >= TITLE_CASE
    if not titled and len(run) < MIN_UNTITLED_RUN:
        return None
    body_lines = lines[:end]
    first_body = next((i + 1 for i, ln in enumerate(body_lines) if ln.strip()), None)
    return PageDump(body="\n".join(body_lines).strip(), body_line=first_body, headlines=run)


def is_page_dump(text: str) -> bool:
    """Returns whether the text ends in a block of headlines."""
    return split(text) is not None


def read_page_dump(
    text: str,
    *,
    origin: str,
    max_chars: int | None = None,
    extra: dict | None = None,
) -> Iterator[Item | Skip]:
    """Yields the article of a page dump (if it has a body) and one headline item per listed line."""
    dump = split(text)
    if dump is None:
        from newsdesk.ingest.text import read_plain

        yield from read_plain(text, origin=origin, max_chars=max_chars, extra=extra)
        return
    from newsdesk.nlp.language import detect_language

    # One page, one language: the body says it more surely than any short headline.
    language = detect_language(text)
    if dump.body:
        title, body = split_title(dump.body)
        item = make_item(
            title=title, text=body, origin=origin, origin_line=dump.body_line,
            max_chars=max_chars, extra=extra, language=language,
        )
        if item is not None:
            yield item
    for line_no, headline in dump.headlines:
        item = make_item(
            title=headline, text="", origin=origin, origin_line=line_no, kind=HEADLINE,
            max_chars=max_chars, extra=extra, language=language,
        )
        if item is not None:
            yield item
