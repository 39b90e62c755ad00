"""Library calls on items (a service the Desk composes): one item, listings, sightings, notes.

    item(item_id) -> Item                 by id, id prefix, or the id its source gave it
    items(source=, kind=, since=, until=, limit=, offset=, language=) -> list[Item]
    items_page(limit=, after=, **filters) -> list[(Item, key, position)]   keyset pages
    items_by_ids(ids) -> list[Item]
    sightings(item_id) -> list[dict]      every input line that named it
    item_notes(item_id) -> list[str]      what the desk could not read or do for it
    stats() -> dict                       what the store holds, area by area
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsdesk.model import Item

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.store.protocol import Store


class ItemsService:
    """Items as stored: by id, listed, paged, with where they were seen."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    @property
    def store(self) -> Store:
        return self.ctx.store

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

    def items_page(self, *, limit: int = 50, after: tuple[str, int] | None = None,
                   **filters: Any) -> list[tuple[Any, str, int]]:
        """Returns up to `limit` (item, key, position) rows, newest first, after a row's
        (key, position) when given: pages that stay put while items arrive."""
        return self.store.items_page(limit=limit, after=after, **filters)

    def items_by_ids(self, ids: Iterable[str]) -> list[Item]:
        """Returns the stored items of these ids (unknown ids left out)."""
        return self.store.items_by_ids(ids)

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

    def store_path(self) -> str:
        """Returns where the store is: its file, or its database address."""
        return self.store.path

    def stats(self) -> dict[str, Any]:
        """Returns what the store holds, area by area."""
        out: dict[str, Any] = {"db": self.store.path, "schema_version": self.store.schema_version()}
        out.update(self.store.item_stats())
        for name in ("story_stats", "entity_stats", "live_stats", "outlet_stats"):
            fn = getattr(self.store, name, None)
            if fn is not None:
                out.update(fn())
        return out


class SessionsService:
    """The web reader's sign-in sessions, kept in the store so every worker sees them."""

    def __init__(self, ctx: Context):
        self.ctx = ctx

    def add_session(self, session_id: str, lifetime: timedelta) -> None:
        """Records a new sign-in session that lasts `lifetime`."""
        self.ctx.store.add_session(session_id, lifetime)

    def end_session(self, session_id: str) -> None:
        """Deletes a session (signing out)."""
        self.ctx.store.end_session(session_id)

    def session_active(self, session_id: str) -> bool:
        """Returns whether a session exists and has not expired."""
        return self.ctx.store.session_active(session_id)
