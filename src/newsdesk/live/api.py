"""Feeds, watches, alerts, export and import (a service the Desk composes)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from newsdesk.errors import InputError, NewsdeskError

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.intake import IngestService
    from newsdesk.items import ItemsService
    from newsdesk.nlp.api import EntitiesService
    from newsdesk.outlets.api import OutletsService
    from newsdesk.store.protocol import Store
    from newsdesk.stories.api import StoriesService

LOGGER = logging.getLogger(__name__)


class LiveService:
    """Feed polling, watches and alerts, export and import.

    Polling stores items through the ingest service; watches read stories, entities and
    outlets through theirs (an area the desk runs without is None).
    """

    def __init__(self, ctx: Context, *, items: ItemsService, ingest: IngestService,
                 stories: StoriesService | None = None, entities: EntitiesService | None = None,
                 outlets: OutletsService | None = None):
        self.ctx = ctx
        self.setting: Callable[[str], Any] = ctx.setting
        self.item_service = items
        self.ingest_service = ingest
        self.story_service = stories
        self.entity_service = entities
        self.outlet_service = outlets

    @property
    def store(self) -> Store:
        return self.ctx.store

    # -- feeds -----------------------------------------------------------------------------
    def add_feed(self, url: str, *, title: str | None = None, fulltext: str = "auto") -> dict[str, Any]:
        """Returns the feed added (or already there: `added` False) for an http(s) URL."""
        from newsdesk.live.poll import FULLTEXT_MODES

        url = url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise InputError(f"{url}: a feed must be an http or https URL")
        if fulltext not in FULLTEXT_MODES:
            raise InputError(f"{fulltext!r}: not a full-text mode (use {', '.join(FULLTEXT_MODES)})")
        feed, added = self.store.add_feed(url, title=title, fulltext=fulltext)
        return {**feed, "added": added}

    def add_feeds_opml(self, path: str | Path, *, fulltext: str = "auto") -> list[dict[str, Any]]:
        """Returns the feeds of an OPML file, each added unless already there."""
        from newsdesk.ingest.opml import read_opml

        out = []
        for entry in read_opml(path):
            url = entry if isinstance(entry, str) else _field(entry, "url", "xml_url", "xmlUrl")
            title = None if isinstance(entry, str) else _field(entry, "title", "text")
            if url:
                out.append(self.add_feed(url, title=title, fulltext=fulltext))
        return out

    def feeds(self) -> list[dict[str, Any]]:
        """Returns every feed with its polling state (validators, last status, error, backoff)."""
        return self.store.list_feeds()

    def feed(self, ref: str) -> dict[str, Any]:
        """Returns one feed by number or URL."""
        return self.store.get_feed(str(ref))

    def remove_feed(self, ref: str) -> dict[str, Any]:
        """Returns the feed removed (its items stay)."""
        return self.store.remove_feed(str(ref))

    def set_feed_fulltext(self, ref: str, fulltext: str) -> dict[str, Any]:
        """Returns the feed after choosing when its articles are fetched in full."""
        from newsdesk.live.poll import FULLTEXT_MODES

        if fulltext not in FULLTEXT_MODES:
            raise InputError(f"{fulltext!r}: not a full-text mode (use {', '.join(FULLTEXT_MODES)})")
        return self.store.set_feed_fulltext(str(ref), fulltext)

    def poll(
        self,
        feeds: list[str] | None = None,
        *,
        force: bool = False,
        allow_private: bool | None = None,
        check: bool = True,
    ) -> Any:
        """Returns a PollReport: every due feed fetched once, new items stored, watches checked.

        Feeds backing off after errors wait for their retry time unless `force`.
        """
        from newsdesk.live.poll import Poller, PollReport

        started = time.monotonic()
        now = datetime.now(UTC)
        chosen = [self.store.get_feed(str(r)) for r in feeds] if feeds else self.store.list_feeds()
        if force:
            due, waiting = chosen, []
        else:
            due_ids = {f["id"] for f in self.store.feeds_due(now)}
            due = [f for f in chosen if f["id"] in due_ids]
            waiting = [f for f in chosen if f["id"] not in due_ids]
        poller = Poller(
            self,
            allow_private=bool(self.setting("allow_private") if allow_private is None else allow_private),
            workers=int(self.setting("poll_workers")),
            per_host=int(self.setting("poll_per_host")),
            host_delay=float(self.setting("poll_host_delay")),
        )
        report = PollReport(started=now)
        report.feeds = poller.run(due, waiting)
        if check:
            report.alerts = self.check_watches()
        report.seconds = time.monotonic() - started
        return report

    def poll_every(
        self,
        seconds: float,
        *,
        on_round: Callable[[Any], None] | None = None,
        stop: threading.Event | None = None,
        rounds: int | None = None,
        **options: Any,
    ) -> None:
        """Polls every `seconds` until stopped (Ctrl-C, `stop` set, or `rounds` done)."""
        if seconds <= 0:
            raise InputError("the polling interval must be positive")
        stop = stop or threading.Event()
        done = 0
        while not stop.is_set():
            began = time.monotonic()
            try:
                report = self.poll(**options)
            except NewsdeskError as e:  # a locked or busy store: say so and try next round
                LOGGER.error("poll round failed: %s", e)
            else:
                if on_round:
                    on_round(report)
            done += 1
            if rounds is not None and done >= rounds:
                return
            stop.wait(max(0.0, seconds - (time.monotonic() - began)))

    # -- watches and alerts ----------------------------------------------------------------
    def add_watch(
        self,
        kind: str,
        target: str,
        *,
        name: str | None = None,
        min_new_sources: int | None = None,
        webhook: str | None = None,
        secret: str | None = None,
    ) -> dict[str, Any]:
        """Returns the new watch on an entity, a search query or a story (from now on)."""
        from newsdesk.live import watches
        from newsdesk.live.webhooks import check_target

        target = watches.validate(self, kind, target)
        if webhook:
            check_target(webhook, allow_private=bool(self.setting("allow_private")))
        if secret and not webhook:
            raise InputError("a secret signs webhook deliveries: give --webhook too")
        floor = int(self.setting("alert_min_new_sources") if min_new_sources is None else min_new_sources)
        if floor < 1:
            raise InputError("min_new_sources must be at least 1")
        return self.store.add_watch(
            name=name or f"{kind}:{target}", kind=kind, target=target, min_new_sources=floor,
            webhook=webhook, secret=secret,
        )

    def watches(self) -> list[dict[str, Any]]:
        """Returns every watch (secrets left out)."""
        return [{**w, "secret": bool(w["secret"])} for w in self.store.list_watches()]

    def remove_watch(self, ref: str) -> dict[str, Any]:
        """Returns the watch removed (its past alerts stay)."""
        return self.store.remove_watch(str(ref))

    def check_watches(self) -> list[dict[str, Any]]:
        """Returns the alerts fired by items that arrived since the last check; delivers webhooks."""
        from newsdesk.live import watches
        from newsdesk.live.webhooks import deliver_pending

        fired = watches.check(self)
        deliver_pending(self)
        return fired

    def check_watches_after(self, new: int) -> list[dict[str, Any]]:
        """Returns the alerts fired after an ingest that stored `new` items (none when nothing
        new arrived or no watch exists): every way in (CLI, API, paste) checks the same way."""
        if not new or not self.watches():
            return []
        return self.check_watches()

    def alerts(self, *, watch: str | None = None, limit: int = 50, after_id: int = 0) -> list[dict[str, Any]]:
        """Returns alerts, newest first, optionally for one watch."""
        return self.store.list_alerts(watch=watch, limit=limit, after_id=after_id)

    def alerts_feed(self, fmt: str = "rss", *, watch: str | None = None, limit: int = 50,
                    link: str = "http://localhost/") -> str:
        """Returns the newest alerts as an RSS 2.0 or Atom 1.0 document."""
        from newsdesk.live.alerts import alerts_feed

        title = f"newsdesk alerts: {watch}" if watch else "newsdesk alerts"
        return alerts_feed(self.alerts(watch=watch, limit=limit), fmt=fmt, title=title, link=link)

    # -- export and import -----------------------------------------------------------------
    def export(self, out: IO[str], *, fmt: str = "jsonl", what: str = "all") -> int:
        """Returns the number of records written to `out` in jsonl, csv, rss or opml."""
        from newsdesk.live.export import export

        return export(self, out, fmt=fmt, what=what)

    def import_jsonl(self, path: str | Path) -> dict[str, int]:
        """Returns counts by record type after restoring a JSONL export into this store."""
        from newsdesk.live.export import import_jsonl

        return import_jsonl(self, path)


def _field(entry: Any, *names: str) -> Any:
    for name in names:
        value = entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)
        if value:
            return value
    return None
