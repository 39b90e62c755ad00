"""Desk: the facade that wires the store and the pipeline; the one entry for every view."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from newsdesk import config
from newsdesk.errors import InputError, StoreDisconnected
from newsdesk.live.api import LiveAPI
from newsdesk.model import IngestReport, Item, Skip
from newsdesk.nlp.api import EntitiesAPI
from newsdesk.outlets.api import OutletsAPI
from newsdesk.pipeline import Stage, load_stages
from newsdesk.search import SearchAPI
from newsdesk.store import open_store
from newsdesk.stories.api import StoriesAPI
from newsdesk.stories.brief import BriefAPI

LOGGER = logging.getLogger(__name__)

Progress = Callable[[int], None]


class Desk(StoriesAPI, BriefAPI, EntitiesAPI, SearchAPI, LiveAPI, OutletsAPI):
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
        self.settings = dict(settings or {})
        self.db = str(db if db is not None else config.get("db"))
        self.store = open_store(self.db, busy_timeout=float(self.setting("busy_timeout")))
        self._stage_names = list(stages) if stages is not None else None
        self._stages: list[Stage] | None = None
        # Where ingest time went, seconds by part: "store", "load" (stages and their models),
        # one entry per stage, and parts a stage reports itself (the story stage's "vectors").
        self.timings: dict[str, float] = {}

    # -- settings and lifecycle ------------------------------------------------------------
    def setting(self, name: str) -> Any:
        """Returns a setting for this desk: given to the constructor, else env, else default."""
        return config.get(name, self.settings.get(name))

    @property
    def stages(self) -> list[Stage]:
        if self._stages is None:
            self._stages = load_stages(self, self._stage_names)
        return self._stages

    def close(self) -> None:
        for stage in self._stages or []:
            closer = getattr(stage, "close", None)
            if closer:
                closer()
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest ----------------------------------------------------------------------------
    def ingest(
        self,
        source: str | Path | Item | Iterable[Item | Skip],
        *,
        allow_private: bool | None = None,
        progress: Progress | None = None,
        batch_size: int | None = None,
        outlet: str | None = None,
    ) -> IngestReport:
        """Returns what ingesting a path, URL, '-', one item or an iterable of items did.

        Items are stored `batch_size` (setting `ingest_batch`) at a time, each batch in one
        transaction: a failure or a kill never leaves part of a batch behind. `outlet` names
        the source of items that carry none (page dumps, plain text).
        """
        from newsdesk import ingest as sources

        allow = bool(self.setting("allow_private") if allow_private is None else allow_private)
        if isinstance(source, Item):
            records: Iterable[Item | Skip] = [source]
        elif isinstance(source, (str, Path)):
            records = sources.read(
                source,
                allow_private=allow,
                max_bytes=int(self.setting("max_bytes")),
                max_chars=int(self.setting("max_item_chars")),
            )
        else:
            records = source
        if outlet:
            from newsdesk.outlets.resolve import with_source

            records = with_source(records, outlet)
        size = int(batch_size if batch_size is not None else self.setting("ingest_batch"))
        return self._ingest_records(records, progress=progress, batch_size=max(1, size))

    def ingest_text(self, text: str, *, origin: str = "paste", fmt: str | None = None) -> IngestReport:
        """Returns what ingesting a pasted document (plain text, page dump or JSONL) did."""
        from newsdesk import ingest as sources

        return self._ingest_records(sources.read_text(text, origin=origin, fmt=fmt))

    def _ingest_records(
        self, records: Iterable[Item | Skip], *, progress: Progress | None = None, batch_size: int = 500
    ) -> IngestReport:
        report = IngestReport()
        cluster = self.setting("cluster")
        if cluster:  # per-item stages on Dask workers, decisions here in arrival order
            from newsdesk.scaleout import ingest_on_cluster

            return ingest_on_cluster(self, records, report, address=str(cluster), store_batch=self._store_batch,
                                     progress=progress, batch_size=batch_size)
        batch: list[Item] = []
        for record in records:
            if isinstance(record, Skip):
                report.skipped.append(record)
                LOGGER.warning("skipped %s", record)
                if progress:
                    progress(1)
                continue
            if not isinstance(record, Item):
                raise InputError(f"not an item: {record!r:.80}")
            batch.append(record)
            if len(batch) >= batch_size:
                self._store_batch(batch, report)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            self._store_batch(batch, report)
            if progress:
                progress(len(batch))
        return report

    def _store_batch(self, batch: list[Item], report: IngestReport) -> None:
        try:
            self._store_batch_once(batch, report)
        except StoreDisconnected as e:
            # The database rolled the batch back: drop what the stages hold in memory (it
            # may include the lost batch) and store the batch once more from what is stored.
            LOGGER.warning("%s; the batch of %d items was rolled back, retrying it once", e, len(batch))
            for stage in self._stages or []:
                closer = getattr(stage, "close", None)
                if closer:
                    closer()
            self._stages = None
            self._store_batch_once(batch, report)

    def _store_batch_once(self, batch: list[Item], report: IngestReport) -> None:
        clock = time.perf_counter
        # Stages that can read new items before they are stored (the entity models) do so
        # outside the write transaction, so other writers are not kept waiting meanwhile.
        held = self.store.held_ids([it.id for it in batch])
        likely_new: list[Item] = []
        for it in batch:
            if it.id not in held:
                held.add(it.id)
                likely_new.append(it)  # the first of the same id is the one stored
        if likely_new:
            start = clock()
            stages = self.stages
            self.add_time("load", clock() - start)
            for stage in stages:
                prepare = getattr(stage, "prepare", None)
                if prepare is not None:
                    start = clock()
                    prepare(self, likely_new)
                    self.add_time(stage.name, clock() - start)
        with self.store.transaction():
            start = clock()
            fresh = self.store.add_items(batch)
            new_items = [item for item, is_new in zip(batch, fresh, strict=True) if is_new]
            self.add_time("store", clock() - start)
            if new_items:
                start = clock()
                stages = self.stages
                self.add_time("load", clock() - start)
                for stage in stages:
                    start = clock()
                    stage.process(self, new_items)
                    self.add_time(stage.name, clock() - start)
        report.new += len(new_items)
        report.already += len(batch) - len(new_items)
        report.new_ids.extend(item.id for item in new_items)

    def add_time(self, part: str, seconds: float) -> None:
        """Counts seconds of ingest time against a part (see `timings`)."""
        self.timings[part] = self.timings.get(part, 0.0) + seconds

    # -- items -----------------------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        """Returns one item by id, id prefix, or the id its source gave it."""
        return self.store.get_item(item_id)

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
        return self.store.list_items(
            source=source, kind=kind, since=since, until=until, limit=limit, offset=offset, language=language
        )

    def sightings(self, item_id: str) -> list[dict[str, Any]]:
        """Returns every input line that named this item."""
        return self.store.sightings(self.item(item_id).id)

    def item_notes(self, item_id: str) -> list[str]:
        """Returns what the desk could not read or do for an item (dropped time, skipped stage)."""
        item = self.item(item_id)
        from newsdesk.ingest.normalise import NOTES

        kept = item.extra.get(NOTES)
        notes = [str(n) for n in kept] if isinstance(kept, list) else []
        return notes + list(self.store.item_notes(item.id).values())

    def stats(self) -> dict[str, Any]:
        """Returns what the store holds, area by area."""
        out: dict[str, Any] = {"db": self.store.path, "schema_version": self.store.schema_version()}
        out.update(self.store.item_stats())
        for name in ("story_stats", "entity_stats", "live_stats", "outlet_stats"):
            fn = getattr(self.store, name, None)
            if fn is not None:
                out.update(fn())
        return out
