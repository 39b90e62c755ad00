"""Library calls on stories (a service the Desk composes): listing, detail, explanation, corrections.

    stories(limit=50, offset=0, since=None, until=None, min_size=1, order="rank") -> list[Story]
    story(story_id) -> Story                      follows merge redirects
    story_items(story_id) -> list[StoryMember]    members by time, copy info on each
    item_story(item_id) -> Story | None           the story an item is in now
    why(item_id) -> Decision                      score, components, runner-up
    merge_stories(a, b, reason=None) -> Story     the kept (older) story
    move_item(item_id, story_id, reason=None) -> Story   the story it moved to
    split_story(story_id, item_ids, reason=None) -> Story  the new story
    corrections(story_id=None, limit=100) -> list[Correction]

Stories, members, decisions and corrections are dataclasses in `newsdesk.stories.types`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsdesk.errors import Conflict, InputError, NotFound
from newsdesk.store.items import from_iso, to_iso
from newsdesk.stories.types import Correction, Decision, Story, StoryMember

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.items import ItemsService
    from newsdesk.store.protocol import Store


def _story(row: dict[str, Any], merged_into: str | None = None) -> Story:
    return Story(
        id=row["id"], title=row["title"] or "", size=row["size"], copies=row["copies"],
        sources=row["sources"], first_time=from_iso(row["first_time"]),
        last_time=from_iso(row["last_time"]), created=from_iso(row["created"]),  # type: ignore[arg-type]
        updated=from_iso(row["updated"]), status=row["status"], merged_into=merged_into,  # type: ignore[arg-type]
    )


class StoriesService:
    """Story listing, detail, explanation and editor corrections."""

    def __init__(self, ctx: Context, items: ItemsService):
        self.ctx = ctx
        self.item_service = items

    @property
    def store(self) -> Store:
        return self.ctx.store

    # -- reading --------------------------------------------------------------------------
    def stories(self, limit: int = 50, offset: int = 0, since: datetime | None = None,
                until: datetime | None = None, min_size: int = 1, order: str = "rank") -> list[Story]:
        """Returns active stories: order 'rank' (independent sources, then recency, then size) or 'recent'."""
        if order not in ("rank", "recent"):
            raise InputError(f"order {order!r}: use 'rank' or 'recent'")
        rows = self.store.list_stories(limit=limit, offset=offset, since=to_iso(since),
                                       until=to_iso(until), min_size=min_size, order=order)
        return [_story(r) for r in rows]

    def story(self, story_id: str) -> Story:
        """Returns a story by id (or unique prefix), following merge redirects."""
        return _story(self.store.story_row(self.store.resolve_story(story_id)))

    def story_items(self, story_id: str) -> list[StoryMember]:
        """Returns a story's members by time; copies carry copy_of, canonicals list their copies."""
        sid = self.store.resolve_story(story_id)
        rows = self.store.story_member_rows(sid)
        items = {it.id: it for it in self.store.items_by_ids([r["item_id"] for r in rows])}
        members = [
            StoryMember(item=items[r["item_id"]], story_id=sid, how=r["how"], copy_of=r["copy_of"],
                        pinned=bool(r["pinned"]))
            for r in rows if r["item_id"] in items
        ]
        by_id = {m.item.id: m for m in members}
        for m in members:
            if m.copy_of and m.copy_of in by_id:
                by_id[m.copy_of].copies.append(m.item.id)
        return members

    def item_story(self, item_id: str) -> Story | None:
        """Returns the story an item is in now, or None when it is in none."""
        item = self.item_service.item(item_id)
        sid = self.store.member_story(item.id)
        return self.story(sid) if sid else None

    def why(self, item_id: str) -> Decision:
        """Returns why an item is in its story: the decision on arrival and where it is now."""
        item = self.item_service.item(item_id)
        row = self.store.decision_row(item.id)
        if row is None:
            raise NotFound(f"item {item.id} has no story decision (was the stories stage off?)")
        return Decision(
            item_id=item.id, story_id=row["story_id"], current_story=self.store.member_story(item.id),
            action=row["action"], score=row["score"], threshold=row["threshold"],
            components=json.loads(row["components"] or "{}"), runner_up=row["runner_up"],
            runner_score=row["runner_score"], runner_components=json.loads(row["runner_components"] or "{}"),
            decided=from_iso(row["decided"]),  # type: ignore[arg-type]
        )

    def corrections(self, story_id: str | None = None, limit: int = 100) -> list[Correction]:
        """Returns corrections, newest first (only those touching story_id if given): editors'
        merges, moves and splits, and the splits the story stage made itself (their reason
        starts with "automatic")."""
        sid = self.store.resolve_story(story_id) if story_id else None
        return [
            Correction(id=r["id"], at=from_iso(r["at"]), action=r["action"],  # type: ignore[arg-type]
                       story_id=r["story_id"], other_id=r["other_id"],
                       items=json.loads(r["items"] or "[]"), reason=r["reason"])
            for r in self.store.correction_rows(sid, limit)
        ]

    # -- corrections ----------------------------------------------------------------------
    def merge_stories(self, a: str, b: str, reason: str | None = None) -> Story:
        """Merges two stories into the older one (the other id redirects); returns the kept story."""
        from newsdesk.stories import edits

        store = self.store
        sa, sb = store.resolve_story(a), store.resolve_story(b)
        if sa == sb:
            raise Conflict(f"{a} and {b} are already one story ({sa})")
        with store.transaction():
            keep = edits.merge(self.ctx, sa, sb)
            store.add_correction("merge", keep, sb if keep == sa else sa, [], reason)
            edits.finish(self.ctx)
        return self.story(keep)

    def consolidate(self) -> dict[str, int]:
        """Clusters the active window again (average link) and applies the differences as
        automatic merges and moves; returns counts (items read, merged, moved, new)."""
        from newsdesk.stories import edits

        with self.store.transaction():
            return edits.stage_for(self.ctx).consolidate(self.ctx)

    def move_item(self, item_id: str, story_id: str, reason: str | None = None) -> Story:
        """Moves an item (and its copies) to another story, for good; returns that story."""
        from newsdesk.stories import edits

        store = self.store
        item = self.item_service.item(item_id)
        target = store.resolve_story(story_id)
        current = store.member_story(item.id)
        if current == target:
            raise Conflict(f"item {item.id} is already in story {target}")
        with store.transaction():
            moved = edits.move(self.ctx, [item.id], current, target, how="moved")
            if current:
                store.add_block(item.id, current, "item")
            store.add_correction("move", target, current, moved, reason)
            edits.finish(self.ctx)
        return self.story(target)

    def split_story(self, story_id: str, item_ids: Sequence[str], reason: str | None = None) -> Story:
        """Moves items (and their copies) out of a story into a new one kept apart; returns it."""
        from newsdesk.stories import edits

        store = self.store
        sid = store.resolve_story(story_id)
        if not item_ids:
            raise InputError("split needs at least one item")
        ids = [self.item_service.item(i).id for i in item_ids]
        outside = [i for i in ids if store.member_story(i) != sid]
        if outside:
            raise Conflict(f"item {outside[0]} is not in story {sid}")
        members = {r["item_id"] for r in store.story_member_rows(sid)}
        group = set(ids) | {c for i in ids for c in store.copies_of(i) if c in members}
        if members <= group:
            raise Conflict(f"splitting these items would leave story {sid} empty")
        with store.transaction():
            new = edits.new_story(self.ctx, ids[0])
            moved = edits.move(self.ctx, ids, sid, new, how="split")
            store.add_block(sid, new, "stories")
            store.add_correction("split", sid, new, moved, reason)
            edits.finish(self.ctx)
        return self.story(new)
