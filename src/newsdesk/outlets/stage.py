"""The outlet stage: resolves each new item's outlet and what counts as its source.

It runs before the story stage and leaves `source_key` in each item's annotations; the
story stage counts independent sources by it. A store that holds items from before outlets
were resolved is brought up to date on the first batch (items resolved, stories recounted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from newsdesk.model import Item
from newsdesk.outlets.resolve import Resolver, backfill, iso, recount
from newsdesk.pipeline import Stage

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)


class OutletStage(Stage):
    name = "outlets"

    def __init__(self) -> None:
        self.resolver: Resolver | None = None

    def process(self, desk: Context, items: Sequence[Item]) -> None:
        store = desk.store
        if self.resolver is None:
            self.resolver = Resolver(store)
            if store.has_unresolved_items():
                n = backfill(store, self.resolver, skip={it.id for it in items})
                if n:
                    LOGGER.info("resolved the outlets of %d stored items; recounting stories", n)
                    recount(store)
        else:
            self.resolver.fresh()
        rows = []
        for item in items:
            row, key = self.resolver.item_row(item.id, item.source, item.url, item.origin, iso(item.ingested))
            rows.append(row)
            item.annotations["source_key"] = key
        store.add_item_outlets(rows)
