"""Ingest (a service the Desk composes): items read from a source, stored in batches, each
batch run through the stages in arrival order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newsdesk.cores import one_blas_thread
from newsdesk.errors import StoreDisconnected
from newsdesk.model import IngestReport, Item, Skip
from newsdesk.pipeline import record_batches

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.store.protocol import Store

LOGGER = logging.getLogger(__name__)

Progress = Callable[[int], None]


class IngestService:
    """Reads sources into items and stores them through the stages."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

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

        Items are stored `batch_size` (setting `ingest_batch`) at a time, each batch in one
        transaction: a failure or a kill never leaves part of a batch behind. `outlet` names
        the source of items that carry none (page dumps, plain text). The run ends with the
        stages' end-of-run steps (`settle`) unless settle is False: a caller that ingests
        several sources as one run settles once, after the last.
        """
        from newsdesk import ingest as sources

        setting = self.ctx.setting
        allow = bool(setting("allow_private") if allow_private is None else allow_private)
        if isinstance(source, Item):
            records: Iterable[Item | Skip] = [source]
        elif isinstance(source, (str, Path)):
            records = sources.read(
                source,
                allow_private=allow,
                max_bytes=int(setting("max_bytes")),
                max_chars=int(setting("max_item_chars")),
            )
        else:
            records = source
        if outlet:
            from newsdesk.outlets.resolve import with_source

            records = with_source(records, outlet)
        size = int(batch_size if batch_size is not None else setting("ingest_batch"))
        return self.ingest_records(records, progress=progress, batch_size=max(1, size), settle=settle)

    def ingest_text(self, text: str, *, origin: str = "paste", fmt: str | None = None) -> IngestReport:
        """Returns what ingesting a pasted document (plain text, page dump or JSONL) did."""
        from newsdesk import ingest as sources

        return self.ingest_records(sources.read_text(text, origin=origin, fmt=fmt))

    def ingest_records(
        self, records: Iterable[Item | Skip], *, progress: Progress | None = None, batch_size: int = 500,
        settle: bool = True,
    ) -> IngestReport:
        """Returns what storing these records, `batch_size` at a time, did."""
        report = IngestReport()
        cluster = self.ctx.setting("cluster")
        if cluster:  # per-item stages on Dask workers, decisions here in arrival order
            from newsdesk.scaleout import ingest_on_cluster

            ingest_on_cluster(self.ctx, records, report, address=str(cluster), store_batch=self.store_batch,
                              progress=progress, batch_size=batch_size)
            if settle:
                report.settled = self.settle(report.new)
            return report
        batches = record_batches(records, report, batch_size, progress)
        upcoming = next(batches, None)
        while upcoming is not None:  # one batch read ahead, for the stages that start on it early
            batch, upcoming = upcoming, next(batches, None)
            self.store_batch(batch, report, upcoming)
            if progress:
                progress(len(batch))
        if settle:
            report.settled = self.settle(report.new)
        return report

    def settle(self, new: int) -> dict[str, int]:
        """Ends a run that stored `new` new items: each stage with a `finish` step (the story
        stage's consolidation pass) takes it, in one transaction. Returns what changed
        (consolidation: stories merged, items moved, new stories), empty when nothing ran."""
        if not new:
            return {}
        ctx, clock = self.ctx, time.perf_counter
        stages = [s for s in ctx.stages if getattr(s, "finish", None) is not None]
        done: dict[str, int] = {}
        if not stages:
            return done
        with ctx.store.transaction(), one_blas_thread():
            for stage in stages:
                start = clock()
                done.update(stage.finish(ctx, new) or {})
                ctx.add_time(stage.name, clock() - start)
        return done

    def store_batch(self, batch: list[Item], report: IngestReport, upcoming: list[Item] | None = None) -> None:
        """Stores one batch in one transaction and runs the stages on its new items;
        `upcoming`: the next batch, if known, for stages that start on it early."""
        with one_blas_thread():
            try:
                self._store_batch_once(batch, report, upcoming)
            except StoreDisconnected as e:
                # The database rolled the batch back: drop what the stages hold in memory (it
                # may include the lost batch) and store the batch once more from what is stored.
                LOGGER.warning("%s; the batch of %d items was rolled back, retrying it once", e, len(batch))
                self.ctx.drop_stages()
                self._store_batch_once(batch, report, upcoming)

    def _store_batch_once(self, batch: list[Item], report: IngestReport, upcoming: list[Item] | None) -> None:
        ctx, clock = self.ctx, time.perf_counter
        store = ctx.store
        # Stages that can read new items before they are stored (the entity models) do so
        # outside the write transaction, so other writers are not kept waiting meanwhile.
        likely_new = _likely_new(store, batch)
        if likely_new:
            start = clock()
            if ctx.setting("drop_templates"):
                drop_templates(store, likely_new)
            ctx.add_time("templates", clock() - start)
            start = clock()
            stages = ctx.stages
            ctx.add_time("load", clock() - start)
            for stage in stages:
                prepare = getattr(stage, "prepare", None)
                if prepare is not None:
                    start = clock()
                    prepare(ctx, likely_new)
                    ctx.add_time(stage.name, clock() - start)
        with store.transaction():
            start = clock()
            fresh = store.add_items(batch)
            new_items = [item for item, is_new in zip(batch, fresh, strict=True) if is_new]
            ctx.add_time("store", clock() - start)
            if new_items:
                start = clock()
                stages = ctx.stages
                ctx.add_time("load", clock() - start)
                for stage in stages:
                    start = clock()
                    stage.process(ctx, new_items)
                    look_ahead = getattr(stage, "look_ahead", None)
                    if look_ahead is not None and upcoming:
                        # The next batch's likely new items, as its own `prepare` will see them.
                        look_ahead(ctx, _likely_new(store, upcoming))
                    ctx.add_time(stage.name, clock() - start)
        report.new += len(new_items)
        report.already += len(batch) - len(new_items)
        report.new_ids.extend(item.id for item in new_items)


def _likely_new(store: Store, batch: Sequence[Item]) -> list[Item]:
    """Returns the items of a batch the store does not hold yet, the first of each id."""
    held = store.held_ids([it.id for it in batch])
    likely_new: list[Item] = []
    for it in batch:
        if it.id not in held:
            held.add(it.id)
            likely_new.append(it)  # the first of the same id is the one stored
    return likely_new


def drop_templates(store: Store, items: Sequence[Item]) -> None:
    """Drops each outlet's template lines from the text of new items (see ingest.templates).

    Each outlet's latest stored items are read once per batch; the batch's items count, in
    order, for the ones after them. An item that loses lines keeps them in its extra fields
    (`template_lines`), and a vector or entities computed beforehand on a cluster worker (from the text
    with those lines) are dropped, to be computed here again as on one machine.
    """
    from newsdesk.ingest.templates import EXTRA_KEY, TEMPLATE_LOOKBACK, Template, stored_keys

    templates: dict[str, Template] = {}
    for it in items:
        if not it.source or not it.text:
            continue
        template = templates.get(it.source)
        if template is None:
            earlier = store.latest_of_source(it.source, TEMPLATE_LOOKBACK)
            template = templates[it.source] = Template(stored_keys(t, x) for t, x in earlier)
        keys = stored_keys(it.text, it.extra)  # with what a first try of the batch dropped
        text, dropped = template.drop(it.text)
        if dropped:
            it.text = text
            it.extra = {**it.extra, EXTRA_KEY: dropped}
            it.annotations.pop("pre_vector", None)
            it.annotations.pop("pre_enrichment", None)
        template.add(keys)
