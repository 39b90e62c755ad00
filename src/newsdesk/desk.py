"""Desk: the facade that composes the store, the stages and the services; the one entry for
every view (the CLI, the HTTP API, the web reader) and for library users.

The Desk holds no logic of its own: it builds a `DeskContext` (store, settings, stages,
timings) and one service per area, each given that context in its constructor, and forwards
each public call to its service. Stages and services never import the Desk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Self

from newsdesk import config
from newsdesk.context import DeskContext
from newsdesk.intake import IngestService, Progress
from newsdesk.items import ItemsService, SessionsService
from newsdesk.live.api import LiveService
from newsdesk.nlp.api import EntitiesService
from newsdesk.nlp.entities import refuse_in_worker_start
from newsdesk.outlets.api import OutletsService
from newsdesk.search import SearchService
from newsdesk.store import open_store
from newsdesk.stories.api import StoriesService
from newsdesk.stories.brief import BriefService

if TYPE_CHECKING:
    from newsdesk.model import IngestReport, Item, Skip
    from newsdesk.pipeline import Stage
    from newsdesk.search import Hit, SearchPage
    from newsdesk.store.protocol import Store
    from newsdesk.stories.brief import Brief
    from newsdesk.stories.label import StoryTitle
    from newsdesk.stories.summarize import Summary
    from newsdesk.stories.timeline import TimelineEntry
    from newsdesk.stories.trending import Trend
    from newsdesk.stories.types import Correction, Decision, Story, StoryMember


class Desk:
    """A news desk over one store: ingest items, read them back as items and stories.

    >>> desk = Desk("newsdesk.db")
    >>> desk.ingest("feed.xml").summary()
    '12 new, 0 already stored, 0 skipped'
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        stages: Iterable[str] | None = None,
        settings: dict[str, Any] | None = None,
    ):
        refuse_in_worker_start()
        self.settings = dict(settings or {})
        self.db = str(db if db is not None else config.get("db"))
        store = open_store(self.db, busy_timeout=float(config.get("busy_timeout", self.settings.get("busy_timeout"))))
        self.ctx = DeskContext(store, self.db, self.settings, list(stages) if stages is not None else None)
        ctx = self.ctx
        self.items_service = ItemsService(ctx)
        self.sessions_service = SessionsService(ctx)
        self.ingest_service = IngestService(ctx)
        self.stories_service = StoriesService(ctx, self.items_service)
        self.entities_service = EntitiesService(ctx, self.items_service, self.stories_service)
        self.outlets_service = OutletsService(ctx)
        self.briefs_service = BriefService(ctx, self.stories_service, self.entities_service, self.outlets_service)
        self.search_service = SearchService(ctx, self.items_service, self.stories_service)
        self.live_service = LiveService(
            ctx, items=self.items_service, ingest=self.ingest_service, stories=self.stories_service,
            entities=self.entities_service, outlets=self.outlets_service,
        )

    # -- context and lifecycle -------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The store (for library users and tests; views call the services instead)."""
        return self.ctx.store

    @property
    def timings(self) -> dict[str, float]:
        """Where ingest time went, seconds by part (see DeskContext.timings)."""
        return self.ctx.timings

    @property
    def stages(self) -> list[Stage]:
        """The stages new items run through, loaded on first use."""
        return self.ctx.stages

    def setting(self, name: str) -> Any:
        """Returns a setting for this desk: given to the constructor, else env, else default."""
        return self.ctx.setting(name)

    def add_time(self, part: str, seconds: float) -> None:
        """Counts seconds of ingest time against a part (see `timings`)."""
        self.ctx.add_time(part, seconds)

    def close(self) -> None:
        self.ctx.drop_stages()
        self.ctx.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ItemsService --------------------------------------------------------
    def item(self, item_id: str) -> Item:
        """Returns one item by id, id prefix, or the id its source gave it."""
        return self.items_service.item(item_id)

    def items(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        language: str | None = None,
    ) -> list[Item]:
        """Returns items, newest first, filtered by source, kind, time and language."""
        return self.items_service.items(
            source=source,
            kind=kind,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
            language=language,
        )

    def items_page(
        self, *, limit: int = 50, after: tuple[str, int] | None = None, **filters: Any
    ) -> list[tuple[Any, str, int]]:
        """Returns up to `limit` (item, key, position) rows, newest first, after a row's (key,
        position) when given: pages that stay put while items arrive.
        """
        return self.items_service.items_page(limit=limit, after=after, **filters)

    def items_by_ids(self, ids: Iterable[str]) -> list[Item]:
        """Returns the stored items of these ids (unknown ids left out)."""
        return self.items_service.items_by_ids(ids)

    def sightings(self, item_id: str) -> list[dict[str, Any]]:
        """Returns every input line that named this item."""
        return self.items_service.sightings(item_id)

    def item_notes(self, item_id: str) -> list[str]:
        """Returns what the desk could not read or do for an item (dropped time, skipped stage)."""
        return self.items_service.item_notes(item_id)

    def store_path(self) -> str:
        """Returns where the store is: its file, or its database address."""
        return self.items_service.store_path()

    def stats(self) -> dict[str, Any]:
        """Returns what the store holds, area by area."""
        return self.items_service.stats()

    # -- SessionsService -----------------------------------------------------
    def add_session(self, session_id: str, lifetime: timedelta) -> None:
        """Records a new sign-in session that lasts `lifetime`."""
        return self.sessions_service.add_session(session_id, lifetime)

    def end_session(self, session_id: str) -> None:
        """Deletes a session (signing out)."""
        return self.sessions_service.end_session(session_id)

    def session_active(self, session_id: str) -> bool:
        """Returns whether a session exists and has not expired."""
        return self.sessions_service.session_active(session_id)

    # -- IngestService -------------------------------------------------------
    def ingest(
        self,
        source: str | Path | Item | Iterable[Item | Skip],
        *,
        allow_private: bool | None = None,
        progress: Progress | None = None,
        batch_size: int | None = None,
        outlet: str | None = None,
        settle: bool = True,
    ) -> IngestReport:
        """Returns what ingesting a path, URL, '-', one item or an iterable of items did.

        A run that stored at least 10 new items ends with a consolidation pass (when passes
        are on); settle=False leaves that to a later `settle(new)`, for several sources
        ingested as one run."""
        return self.ingest_service.ingest(
            source,
            allow_private=allow_private,
            progress=progress,
            batch_size=batch_size,
            outlet=outlet,
            settle=settle,
        )

    def settle(self, new: int) -> dict[str, int]:
        """Ends a run of `ingest(..., settle=False)` calls that stored `new` new items in all."""
        return self.ingest_service.settle(new)

    def ingest_text(
        self, text: str, *, origin: str = "paste", fmt: str | None = None
    ) -> IngestReport:
        """Returns what ingesting a pasted document (plain text, page dump or JSONL) did."""
        return self.ingest_service.ingest_text(text, origin=origin, fmt=fmt)

    # -- StoriesService ------------------------------------------------------
    def stories(
        self,
        limit: int = 50,
        offset: int = 0,
        since: datetime | None = None,
        until: datetime | None = None,
        min_size: int = 1,
        order: str = "rank",
    ) -> list[Story]:
        """Returns active stories: order 'rank' (independent sources, then recency, then size) or 'recent'."""
        return self.stories_service.stories(limit, offset, since, until, min_size, order)

    def story(self, story_id: str) -> Story:
        """Returns a story by id (or unique prefix), following merge redirects."""
        return self.stories_service.story(story_id)

    def story_items(self, story_id: str) -> list[StoryMember]:
        """Returns a story's members by time; copies carry copy_of, canonicals list their copies."""
        return self.stories_service.story_items(story_id)

    def item_story(self, item_id: str) -> Story | None:
        """Returns the story an item is in now, or None when it is in none."""
        return self.stories_service.item_story(item_id)

    def why(self, item_id: str) -> Decision:
        """Returns why an item is in its story: the decision on arrival and where it is now."""
        return self.stories_service.why(item_id)

    def corrections(self, story_id: str | None = None, limit: int = 100) -> list[Correction]:
        """Returns corrections, newest first (only those touching story_id if given): editors'
        merges, moves and splits, and the splits the story stage made itself (their reason starts
        with "automatic").
        """
        return self.stories_service.corrections(story_id, limit)

    def merge_stories(self, a: str, b: str, reason: str | None = None) -> Story:
        """Merges two stories into the older one (the other id redirects); returns the kept story."""
        return self.stories_service.merge_stories(a, b, reason)

    def consolidate(self) -> dict[str, int]:
        """Clusters the active window again (average link) and applies the differences as automatic
        merges and moves; returns counts (items read, merged, moved, new).
        """
        return self.stories_service.consolidate()

    def move_item(self, item_id: str, story_id: str, reason: str | None = None) -> Story:
        """Moves an item (and its copies) to another story, for good; returns that story."""
        return self.stories_service.move_item(item_id, story_id, reason)

    def split_story(
        self, story_id: str, item_ids: Sequence[str], reason: str | None = None
    ) -> Story:
        """Moves items (and their copies) out of a story into a new one kept apart; returns it."""
        return self.stories_service.split_story(story_id, item_ids, reason)

    # -- BriefService --------------------------------------------------------
    def brief_version(self) -> tuple[int, int]:
        """Returns what moves whenever a briefing could change: the newest item stored and the
        stories' generation (bumped by every story write and editor's correction).
        """
        return self.briefs_service.brief_version()

    def story_title(self, story_id: str) -> StoryTitle:
        """Returns the story's title as listed: its earliest headline (else its earliest lead, cut
        at a word), kept by the story stage.
        """
        return self.briefs_service.story_title(story_id)

    def story_summary(self, story_id: str, since: datetime | None = None) -> Summary:
        """Returns the story's cited summary; with since, only what it added after that time."""
        return self.briefs_service.story_summary(story_id, since)

    def story_timeline(self, story_id: str) -> list[TimelineEntry]:
        """Returns the story's members by time, copies folded, with the new facts each brought."""
        return self.briefs_service.story_timeline(story_id)

    def brief(
        self, since: datetime | None = None, top: int = 10, now: datetime | None = None
    ) -> Brief:
        """Returns the top stories active since `since`, ranked by sources, growth and recency."""
        return self.briefs_service.brief(since, top, now)

    def trending(
        self,
        window: timedelta = timedelta(hours=6),
        now: datetime | None = None,
        top: int = 10,
        min_sources: int = 2,
    ) -> list[Trend]:
        """Returns stories whose new independent sources rose from the previous window to the last."""
        return self.briefs_service.trending(window, now, top, min_sources)

    # -- EntitiesService -----------------------------------------------------
    def entities(
        self,
        *,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        query: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Returns the most mentioned entities, optionally of one type and within a time range."""
        return self.entities_service.entities(
            type=type, since=since, until=until, query=query, limit=limit, offset=offset
        )

    def entity(self, name: str, *, related: int = 10) -> dict[str, Any]:
        """Returns one entity by name, alias, surname or key, with all that is known of it."""
        return self.entities_service.entity(name, related=related)

    def item_entities(self, item_id: str) -> dict[str, Any]:
        """Returns the mentions, dates, figures and keyphrases stored for an item."""
        return self.entities_service.item_entities(item_id)

    def story_entities(
        self, story_id: str, *, limit: int = 20, type: str | None = None
    ) -> list[dict[str, Any]]:
        """Returns a story's main entities: most items first, surnames joined to full names."""
        return self.entities_service.story_entities(story_id, limit=limit, type=type)

    def story_keyphrases(self, story_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Returns a story's keyphrases: item phrases summed, weighted by rarity in the store."""
        return self.entities_service.story_keyphrases(story_id, limit=limit)

    # -- SearchService -------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        source: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        story: str | None = None,
        entity: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
        mode: str = "auto",
        language: str | None = None,
    ) -> SearchPage:
        """Returns a page of items matching the query, best first, with highlighted snippets."""
        return self.search_service.search(
            query,
            source=source,
            kind=kind,
            since=since,
            until=until,
            story=story,
            entity=entity,
            limit=limit,
            cursor=cursor,
            mode=mode,
            language=language,
        )

    def related(self, item_id: str, *, limit: int = 10) -> list[Hit]:
        """Returns items about the same thing as this one (by its salient terms), not its copies."""
        return self.search_service.related(item_id, limit=limit)

    def _search_embedder(self) -> Any:
        """Returns the embedder of the desk's backend (`embed_backend`); NotInstalled when it is
        `none` or its model is missing.
        """
        return self.search_service._search_embedder()

    def index_vectors(
        self, *, batch: int = 256, limit: int | None = None, progress: Any = None
    ) -> int:
        """Returns how many items got a search vector now (those stored without one, or with one of
        another backend).
        """
        return self.search_service.index_vectors(batch=batch, limit=limit, progress=progress)

    # -- LiveService ---------------------------------------------------------
    def add_feed(
        self, url: str, *, title: str | None = None, fulltext: str = "auto"
    ) -> dict[str, Any]:
        """Returns the feed added (or already there: `added` False) for an http(s) URL."""
        return self.live_service.add_feed(url, title=title, fulltext=fulltext)

    def add_feeds_opml(self, path: str | Path, *, fulltext: str = "auto") -> list[dict[str, Any]]:
        """Returns the feeds of an OPML file, each added unless already there."""
        return self.live_service.add_feeds_opml(path, fulltext=fulltext)

    def feeds(self) -> list[dict[str, Any]]:
        """Returns every feed with its polling state (validators, last status, error, backoff)."""
        return self.live_service.feeds()

    def feed(self, ref: str) -> dict[str, Any]:
        """Returns one feed by number or URL."""
        return self.live_service.feed(ref)

    def remove_feed(self, ref: str) -> dict[str, Any]:
        """Returns the feed removed (its items stay)."""
        return self.live_service.remove_feed(ref)

    def set_feed_fulltext(self, ref: str, fulltext: str) -> dict[str, Any]:
        """Returns the feed after choosing when its articles are fetched in full."""
        return self.live_service.set_feed_fulltext(ref, fulltext)

    def poll(
        self,
        feeds: list[str] | None = None,
        *,
        force: bool = False,
        allow_private: bool | None = None,
        check: bool = True,
    ) -> Any:
        """Returns a PollReport: every due feed fetched once, new items stored, watches checked."""
        return self.live_service.poll(feeds, force=force, allow_private=allow_private, check=check)

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
        return self.live_service.poll_every(
            seconds, on_round=on_round, stop=stop, rounds=rounds, **options
        )

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
        return self.live_service.add_watch(
            kind, target, name=name, min_new_sources=min_new_sources, webhook=webhook, secret=secret
        )

    def watches(self) -> list[dict[str, Any]]:
        """Returns every watch (secrets left out)."""
        return self.live_service.watches()

    def remove_watch(self, ref: str) -> dict[str, Any]:
        """Returns the watch removed (its past alerts stay)."""
        return self.live_service.remove_watch(ref)

    def check_watches(self) -> list[dict[str, Any]]:
        """Returns the alerts fired by items that arrived since the last check; delivers webhooks."""
        return self.live_service.check_watches()

    def check_watches_after(self, new: int) -> list[dict[str, Any]]:
        """Returns the alerts fired after an ingest that stored `new` items (none when nothing new
        arrived or no watch exists): every way in (CLI, API, paste) checks the same way.
        """
        return self.live_service.check_watches_after(new)

    def alerts(
        self, *, watch: str | None = None, limit: int = 50, after_id: int = 0
    ) -> list[dict[str, Any]]:
        """Returns alerts, newest first, optionally for one watch."""
        return self.live_service.alerts(watch=watch, limit=limit, after_id=after_id)

    def alerts_feed(
        self,
        fmt: str = "rss",
        *,
        watch: str | None = None,
        limit: int = 50,
        link: str = "http://localhost/",
    ) -> str:
        """Returns the newest alerts as an RSS 2.0 or Atom 1.0 document."""
        return self.live_service.alerts_feed(fmt, watch=watch, limit=limit, link=link)

    def export(self, out: IO[str], *, fmt: str = "jsonl", what: str = "all") -> int:
        """Returns the number of records written to `out` in jsonl, csv, rss or opml."""
        return self.live_service.export(out, fmt=fmt, what=what)

    def import_jsonl(self, path: str | Path) -> dict[str, int]:
        """Returns counts by record type after restoring a JSONL export into this store."""
        return self.live_service.import_jsonl(path)

    # -- OutletsService ------------------------------------------------------
    def outlets(self) -> list[dict[str, Any]]:
        """Returns every outlet, most items first: items, stories, first/last seen, domains,
        attributes.
        """
        return self.outlets_service.outlets()

    def outlet_inputs(self) -> list[dict[str, Any]]:
        """Returns the inputs (page dumps, pastes) whose items name no outlet, each one source."""
        return self.outlets_service.outlet_inputs()

    def resolve_outlets(self) -> int:
        """Returns how many stored items got their outlet now (items stored before outlets existed)."""
        return self.outlets_service.resolve_outlets()

    def import_outlets(self, path: str | Path) -> dict[str, Any]:
        """Returns what importing an outlets file did: added, updated, kept for later, problems."""
        return self.outlets_service.import_outlets(path)

    def import_outlet_rows(
        self, rows: list[Any], problems: list[str] | None = None, where: str = "outlets"
    ) -> dict[str, Any]:
        """Returns what importing outlet rows (files.OutletRow) did; problems name where:line."""
        return self.outlets_service.import_outlet_rows(rows, problems, where)

    def export_outlets(self, out: IO[str], fmt: str = "csv") -> int:
        """Returns the number of outlets written to `out` as CSV or JSONL (the import format)."""
        return self.outlets_service.export_outlets(out, fmt)

    def outlet_attribute_names(self) -> list[str]:
        """Returns the outlet attributes some outlet has (from imported outlet files)."""
        return self.outlets_service.outlet_attribute_names()

    def coverage(self, story_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Returns who covered a story: outlets by attribute value, first report, time to 2/5/10
        sources.
        """
        return self.outlets_service.coverage(story_id, by=by)

    def blindspots(
        self,
        by: str,
        *,
        since: datetime | None = None,
        min_sources: int | None = None,
        share: float | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Returns stories where one value of an attribute holds at most `share` of the sources."""
        return self.outlets_service.blindspots(
            by, since=since, min_sources=min_sources, share=share, limit=limit
        )
