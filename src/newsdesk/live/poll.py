"""Polling feeds: conditional GET, backoff, per-host politeness, full text for snippets.

Workers fetch and parse feeds in a thread pool (network only); the calling thread stores
each feed's items as its result comes in, so a feed that breaks never stops the others
and SQLite sees one writer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from newsdesk.errors import InputError, NewsdeskError
from newsdesk.model import Item, Skip

if TYPE_CHECKING:
    from newsdesk.live.api import LiveService

LOGGER = logging.getLogger(__name__)

FULLTEXT_MODES = ("auto", "always", "never")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")

# Content types that are never a feed, whatever the body looks like.
_NOT_FEED_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip", "font/")


@dataclass
class FeedResult:
    """What polling one feed did."""

    feed_id: int
    url: str
    outcome: str  # "new" | "unchanged" | "error" | "backoff"
    status: int | None = None
    new: int = 0
    seen: int = 0
    error: str | None = None
    retry_after: str | None = None
    seconds: float = 0.0
    fulltext_fetched: int = 0
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class PollReport:
    """What one polling round did, feed by feed, and the alerts it fired."""

    feeds: list[FeedResult] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    started: datetime | None = None
    seconds: float = 0.0

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def seen(self) -> int:
        return sum(f.seen for f in self.feeds)

    def count(self, outcome: str) -> int:
        return sum(1 for f in self.feeds if f.outcome == outcome)

    def summary(self) -> str:
        """Returns one line: feeds polled, items new, unchanged, failing, alerts."""
        return (
            f"{len(self.feeds)} feed(s): {self.new} new item(s) from {self.count('new')}, "
            f"{self.count('unchanged')} unchanged, {self.count('error')} failed, "
            f"{self.count('backoff')} backing off; {len(self.alerts)} alert(s) "
            f"in {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "feeds": [f.to_dict() for f in self.feeds],
            "alerts": self.alerts,
            "new": self.new,
            "seen": self.seen,
            "seconds": round(self.seconds, 3),
        }


class HostLimits:
    """Caps concurrent requests per host and spaces the starts of requests to one host."""

    def __init__(self, per_host: int, delay: float = 0.0):
        self.per_host = max(1, per_host)
        self.delay = max(0.0, delay)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            sem = self._slots.setdefault(host, threading.Semaphore(self.per_host))
        with sem:
            if self.delay:
                with self._lock:
                    now = time.monotonic()
                    start = max(now, self._next_start.get(host, 0.0))
                    self._next_start[host] = start + self.delay
                if start > now:
                    time.sleep(start - now)
            yield


@dataclass
class _Fetched:
    """A worker's answer for one feed: the parsed items or why it failed."""

    feed: dict[str, Any]
    status: int | None = None
    items: list[Item | Skip] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    error: str | None = None
    retry_after: float | None = None
    fulltext_fetched: int = 0
    seconds: float = 0.0


class Poller:
    """Polls a desk's feeds once; `Desk.poll` builds it from the desk's settings."""

    def __init__(
        self,
        live: LiveService,
        *,
        allow_private: bool,
        workers: int,
        per_host: int,
        host_delay: float,
        fetcher: Callable[..., Any] | None = None,
    ):
        self.live = live
        self.allow_private = allow_private
        self.workers = max(1, workers)
        self.limits = HostLimits(per_host, host_delay)
        self.max_bytes = int(live.setting("max_bytes"))
        self.max_chars = int(live.setting("max_item_chars"))
        self.timeout = float(live.setting("fetch_timeout"))
        self.snippet_chars = int(live.setting("poll_snippet_chars"))
        self.backoff = float(live.setting("poll_backoff"))
        self.backoff_max = float(live.setting("poll_backoff_max"))
        self._fetch = fetcher

    @property
    def fetch(self) -> Callable[..., Any]:
        if self._fetch is None:
            from newsdesk.ingest.fetch import fetch

            self._fetch = fetch
        return self._fetch

    # -- one round -------------------------------------------------------------------------
    def run(self, feeds: list[dict[str, Any]], skipped: list[dict[str, Any]]) -> list[FeedResult]:
        """Returns a result per feed: fetched in parallel, stored here as each comes in."""
        results = [
            FeedResult(f["id"], f["url"], "backoff", error=f["error"], retry_after=f["retry_after"])
            for f in skipped
        ]
        if not feeds:
            return results
        with ThreadPoolExecutor(max_workers=min(self.workers, len(feeds)),
                                thread_name_prefix="newsdesk-poll") as pool:
            futures = [pool.submit(self._fetch_feed, feed) for feed in feeds]
            for future in as_completed(futures):
                fetched = future.result()  # _fetch_feed never raises
                results.append(self._store(fetched))
        self._settle(sum(r.new for r in results))
        order = {f["id"]: n for n, f in enumerate([*feeds, *skipped])}
        results.sort(key=lambda r: order.get(r.feed_id, 0))
        return results

    # -- worker side: network and parsing only ---------------------------------------------
    def _fetch_feed(self, feed: dict[str, Any]) -> _Fetched:
        out = _Fetched(feed)
        started = time.monotonic()
        try:
            self._fetch_into(out)
        except NewsdeskError as e:
            out.error = str(e)
            status = _HTTP_STATUS.search(out.error)
            out.status = int(status.group(1)) if status else out.status
        except Exception as e:  # a hostile feed must not take the round down
            LOGGER.warning("feed %s: unexpected %s", feed["url"], type(e).__name__, exc_info=True)
            out.error = f"{type(e).__name__}: {e}"
        out.seconds = time.monotonic() - started
        return out

    def _fetch_into(self, out: _Fetched) -> None:
        feed = out.feed
        with self.limits.slot(feed["url"]):
            result = self.fetch(
                feed["url"], allow_private=self.allow_private, max_bytes=self.max_bytes,
                timeout=self.timeout, etag=feed["etag"], last_modified=feed["last_modified"],
            )
        out.status = int(result.status)
        headers = {k.lower(): v for k, v in dict(result.headers or {}).items()}
        if out.status == 304:
            return
        if out.status >= 400:
            out.error = f"HTTP {out.status}"
            out.retry_after = _retry_after(headers.get("retry-after"))
            return
        content = result.content or b""
        problem = not_a_feed(content, result.content_type or headers.get("content-type"))
        if problem:
            out.error = problem
            return
        title, records = parse_feed(content, origin=feed["url"], base_url=result.final_url or feed["url"],
                                    max_chars=self.max_chars)
        out.title = title
        out.etag = headers.get("etag")
        out.last_modified = headers.get("last-modified")
        mode = feed["fulltext"]
        known: set[str] = set()
        if mode != "never":  # articles already stored are not fetched again (a read, safe here)
            known = self.live.store.known_item_ids([r.id for r in records if isinstance(r, Item)])
        for record in records:
            wanted = (isinstance(record, Item) and record.id not in known
                      and self._wants_fulltext(record, mode))
            if wanted and self._add_fulltext(record):  # type: ignore[arg-type]
                out.fulltext_fetched += 1
            out.items.append(record)

    def _wants_fulltext(self, item: Item, mode: str) -> bool:
        if mode == "never" or not item.url:
            return False
        return mode == "always" or len(item.text or "") < self.snippet_chars

    def _add_fulltext(self, item: Item) -> bool:
        """Returns whether the article page gave a longer text, which then replaces the snippet."""
        try:
            with self.limits.slot(item.url or ""):
                page = self.fetch(item.url, allow_private=self.allow_private,
                                  max_bytes=self.max_bytes, timeout=self.timeout)
            if int(page.status) >= 400:
                return False
            text = extract_text(page, page.final_url or item.url, self.max_chars)
        except (NewsdeskError, LookupError) as e:
            LOGGER.info("full text of %s: %s", item.url, e)
            return False
        if text and len(text) > len(item.text or ""):
            item.text = text[: self.max_chars]
            item.extra = {**item.extra, "fulltext": True}
            return True
        return False

    # -- calling thread: the store ----------------------------------------------------------
    def _settle(self, new: int) -> None:
        """Ends the round as one ingest run (its consolidation pass, when due), whatever the feeds."""
        try:
            self.live.ingest_service.settle(new)
        except Exception:  # a pass that trips must not end the round: the items are stored
            LOGGER.exception("the consolidation pass after a poll round failed")

    def _store(self, fetched: _Fetched) -> FeedResult:
        feed = fetched.feed
        now = datetime.now(UTC)
        res = FeedResult(feed["id"], feed["url"], "unchanged", status=fetched.status,
                         seconds=round(fetched.seconds, 3), fulltext_fetched=fetched.fulltext_fetched)
        store = self.live.store
        if fetched.error is None and fetched.status != 304:
            try:
                report = self.live.ingest_service.ingest(iter(fetched.items), settle=False)
                res.new, res.seen = report.new, report.new + report.already
                res.skipped = [str(s) for s in report.skipped]
                res.outcome = "new" if report.new else "unchanged"
            except NewsdeskError as e:
                fetched.error = f"could not store items: {e}"
            except Exception as e:  # a stage that trips on hostile content must not end the round
                LOGGER.exception("feed %s: storing items failed", feed["url"])
                fetched.error = f"could not store items: {type(e).__name__}: {e}"
        if fetched.error is not None:
            fetched.error = fetched.error.removeprefix(feed["url"] + ": ")
            failures = int(feed["failures"]) + 1
            delay = min(self.backoff_max, self.backoff * 2 ** (failures - 1))
            delay = max(delay, fetched.retry_after or 0.0)
            retry = now + timedelta(seconds=delay)
            store.record_poll_error(feed["id"], error=fetched.error, status=fetched.status,
                                    retry_after=retry, when=now)
            res.outcome, res.error, res.retry_after = "error", fetched.error, retry.isoformat()
            LOGGER.warning("feed %s: %s (retry after %s)", feed["url"], fetched.error, retry)
            return res
        store.record_poll_ok(
            feed["id"], status=int(fetched.status or 0), etag=fetched.etag,
            last_modified=fetched.last_modified, title=fetched.title, new=res.new, seen=res.seen,
            when=now,
        )
        return res


def not_a_feed(content: bytes, content_type: str | None) -> str | None:
    """Returns why a body is not a feed (wrong type, empty, no feed root), or None when it is one."""
    from newsdesk.ingest.feeds import looks_like_feed

    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if any(ctype.startswith(t) for t in _NOT_FEED_TYPES):
        return f"not a feed (content type {ctype})"
    if not content.strip():
        return "not a feed (empty body)"
    if not looks_like_feed(content):
        return f"not a feed (content type {ctype or 'unknown'}, no RSS or Atom root element)"
    return None


def parse_feed(
    content: bytes, *, origin: str, base_url: str | None, max_chars: int
) -> tuple[str | None, list[Item | Skip]]:
    """Returns the feed's title and its entries as items (or skips); raises InputError if unreadable."""
    from newsdesk.ingest import feeds

    feed = feeds.parse_feed(content, origin=origin, base_url=base_url, max_chars=max_chars)
    records = feed.records
    if len(records) == 1 and isinstance(records[0], Skip) and records[0].line is None:
        if not records[0].reason.startswith("feed has no entries"):
            raise InputError(records[0].reason)
        records = []
    if records and not any(isinstance(r, Item) for r in records):
        raise InputError(f"no readable entries ({records[0].reason})")
    return feed.title, records


def extract_text(page: Any, url: str, max_chars: int) -> str:
    """Returns the article text of a fetched HTML page ('' when none is found)."""
    from newsdesk.ingest.html import read_html

    document = (page.content or b"").decode(getattr(page, "charset", None) or "utf-8", "replace")
    for record in read_html(document, origin=url, url=url, max_chars=max_chars):
        if isinstance(record, Item):
            return record.text
    return ""


def _retry_after(value: str | None) -> float | None:
    """Returns the seconds a Retry-After header asks for (number or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
