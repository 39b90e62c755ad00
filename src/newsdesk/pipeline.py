"""The stages that run on new items after they are stored, in order.

A stage is a small object with a name and one method. The stages are found by import, so
an area that is not built or whose extra is missing simply does not run (and says so once).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from newsdesk.errors import InputError
from newsdesk.model import IngestReport, Item, Skip

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)


class Stage:
    """One step of the pipeline: sees every batch of new items in arrival order."""

    name = "stage"

    def process(self, ctx: Context, items: Sequence[Item]) -> None:  # pragma: no cover - interface
        raise NotImplementedError


# (name, module, class): outlets and copies first, then enrichment, then stories.
REGISTRY: list[tuple[str, str, str]] = [
    ("outlets", "newsdesk.outlets.stage", "OutletStage"),
    ("copies", "newsdesk.dedupe", "CopyStage"),
    ("enrich", "newsdesk.nlp.stage", "EnrichStage"),
    ("stories", "newsdesk.stories.stage", "StoryStage"),
]


def load_stages(ctx: Context, names: Sequence[str] | None = None) -> list[Stage]:
    """Returns the stages to run, built for this desk's context; names restricts which."""
    stages: list[Stage] = []
    for name, module, cls_name in REGISTRY:
        if names is not None and name not in names:
            continue
        try:
            cls = getattr(importlib.import_module(module), cls_name)
        except (ImportError, AttributeError):
            LOGGER.debug("stage %s not available", name)
            continue
        stage = cls.create(ctx) if hasattr(cls, "create") else cls()
        if stage is not None:
            stages.append(stage)
    return stages


def record_batches(records: Iterable[Item | Skip], report: IngestReport, size: int,
                   progress: Callable[[int], None] | None = None) -> Iterator[list[Item]]:
    """Yields the items of `records` in lists of `size` (the last one shorter). A Skip is
    added to the report, logged once and counted as done; anything else is an InputError."""
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
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
