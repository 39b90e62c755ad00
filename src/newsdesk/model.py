"""Plain data: the things newsdesk stores and shows.

An `Item` is one piece of news as it arrived (an article or a bare headline).
A `Sighting` records each time an input named an item, so every input line can be
traced even when its content was already stored. `Skip` is the typed reason an
input record was not turned into an item.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ARTICLE = "article"
HEADLINE = "headline"
KINDS = (ARTICLE, HEADLINE)


@dataclass
class Item:
    """One article or headline, normalised, with where it came from."""

    title: str | None
    text: str = ""
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    language: str | None = None
    kind: str = ARTICLE
    author: str | None = None
    origin: str | None = None  # file path or URL it was read from
    origin_line: int | None = None  # line (or record number) within origin
    source_id: str | None = None  # the id its source gave it (JSONL id, feed guid)
    ingested: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    # Passed from one pipeline stage to the next within a batch (entities, vector); not stored.
    annotations: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.id:  # a new item (a stored one comes with its id, and whole characters)
            for name in ("title", "text", "url", "source", "author", "language", "source_id"):
                setattr(self, name, whole_chars(getattr(self, name)))
            self.id = item_id(self.url, self.title, self.text)

    @property
    def headline(self) -> str:
        """Returns the best one-line label: the title, else the start of the text."""
        if self.title:
            return self.title
        return (self.text or "").split("\n", 1)[0][:200]

    @property
    def body(self) -> str:
        """Returns title and text joined, the content the pipeline reads."""
        if self.title and self.text:
            return f"{self.title}\n{self.text}"
        return self.title or self.text or ""


@dataclass
class Skip:
    """An input record that produced no item, and why."""

    origin: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line is not None else self.origin
        return f"{where}: {self.reason}"


@dataclass
class Sighting:
    """One time an input named an item."""

    item_id: str
    origin: str | None
    line: int | None
    source_id: str | None
    source: str | None
    seen: datetime | None = None


@dataclass
class IngestReport:
    """What one ingest call did: counts and the skipped records."""

    new: int = 0
    already: int = 0
    skipped: list[Skip] = field(default_factory=list)
    new_ids: list[str] = field(default_factory=list)
    # What the consolidation pass that ended the run changed (items read, merged, moved, new).
    settled: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.new + self.already + len(self.skipped)

    def summary(self) -> str:
        return f"{self.new} new, {self.already} already stored, {len(self.skipped)} skipped"

    def settled_summary(self) -> str:
        """Returns what the run's closing consolidation pass changed, or '' when nothing."""
        done = self.settled
        parts = [(done.get("merged", 0), "story merged", "stories merged"),
                 (done.get("moved", 0), "item moved", "items moved"),
                 (done.get("new", 0), "story split off", "stories split off")]
        said = [f"{n} {one if n == 1 else many}" for n, one, many in parts if n]
        return f"consolidation: {', '.join(said)}" if said else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "new": self.new,
            "already": self.already,
            "skipped": [str(s) for s in self.skipped],
        }
        if self.settled:
            out["consolidation"] = dict(self.settled)
        return out


_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
# Half of a UTF-16 pair on its own: JSON may spell one ("\\ud83d"), no UTF-8 text holds one, and
# the database refuses to store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def whole_chars(value: Any) -> Any:
    """Returns a string with each lone surrogate replaced by U+FFFD; anything else as it is."""
    if isinstance(value, str) and _SURROGATE.search(value):
        return _SURROGATE.sub("\ufffd", value)
    return value


def normalise_for_id(text: str | None) -> str:
    """Returns text folded for identity: NFKC, lower case, punctuation and spacing removed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _PUNCT.sub(" ", text)
    return _WS.sub(" ", text).strip()


def item_id(url: str | None, title: str | None, text: str | None) -> str:
    """Returns the content-derived id: from the canonical URL, else title and text."""
    if url:
        key = "url:" + url
    else:
        key = "txt:" + normalise_for_id(title) + "\x1f" + normalise_for_id(text)
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).hexdigest()
