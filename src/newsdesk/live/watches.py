"""Watches: rules on an entity, a search query, a story or blindspots, checked against new items.

A blindspot watch names an outlet attribute (such as lean): it fires when a story that new
items joined is a blindspot by that attribute (see newsdesk.outlets.coverage).

An alert fires once per story, not once per copy or member: the first matching item of a
story fires it, and the story fires again only when it has gained `min_new_sources` more
independent sources since the last alert. Without the story stage each item is its own story.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newsdesk.errors import InputError, NewsdeskError, NotFound

if TYPE_CHECKING:
    from newsdesk.live.api import LiveService

LOGGER = logging.getLogger(__name__)

KINDS = ("entity", "query", "story", "blindspot")


class _Stories:
    """Story keys and shapes for one check, cached (many watches ask about the same items)."""

    def __init__(self, live: LiveService):
        self.live = live
        self._keys: dict[str, str] = {}
        self._shapes: dict[str, dict[str, Any]] = {}

    def key(self, item_id: str) -> str:
        """Returns the story id an item belongs to, or 'item:<id>' when it has none."""
        if item_id not in self._keys:
            story_id = None
            finder = self.live.story_service.item_story if self.live.story_service else None
            if finder is not None:
                try:
                    story = finder(item_id)
                except NotFound:
                    story = None
                story_id = _story_id(story)
            self._keys[item_id] = story_id or f"item:{item_id}"
        return self._keys[item_id]

    def shape(self, key: str) -> dict[str, Any]:
        """Returns a story's title, url, item count and independent source count."""
        if key not in self._shapes:
            self._shapes[key] = self._shape(key)
        return self._shapes[key]

    def _shape(self, key: str) -> dict[str, Any]:
        if key.startswith("item:"):
            item = self.live.item_service.item(key[5:])
            return {"title": item.headline, "url": item.url, "items": 1, "sources": 1}
        story = self.live.story_service.story(key)
        members = _members(self.live, story)
        sources = _get(story, "sources")
        if not isinstance(sources, int):  # a story without its own count: distinct outlets
            sources = len({(m.source or m.id).casefold() for m in members})
        title = _get(story, "title") or (members[0].headline if members else None)
        url = next((m.url for m in members if m.url), None)
        return {"title": title, "url": url, "items": _get(story, "size") or len(members),
                "sources": sources}


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _story_id(story: Any) -> str | None:
    if story is None:
        return None
    if isinstance(story, str):
        return story
    value = _get(story, "id")
    return str(value) if value is not None else None


def _members(live: LiveService, story: Any) -> list[Any]:
    """Returns a story's member items, oldest first."""
    lister = live.story_service.story_items if live.story_service else None
    if lister is None:
        return []
    return [getattr(m, "item", m) for m in lister(_story_id(story))]


def validate(live: LiveService, kind: str, target: str) -> str:
    """Returns the target a watch of this kind will use; raises if it cannot work."""
    target = (target or "").strip()
    if kind not in KINDS:
        raise InputError(f"{kind!r}: not a watch kind (use {', '.join(KINDS)})")
    if not target:
        raise InputError(f"a {kind} watch needs a target")
    if kind == "query":
        live.store.query_items_after(target, 0, 0)  # raises InputError on bad syntax
    elif kind == "story":
        story = live.story_service.story(target)  # raises NotFound
        return _story_id(story) or target
    elif kind == "blindspot":
        return live.outlet_service.check_attribute(target) or target  # raises InputError
    return target


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _entity_items(live: LiveService, name: str, after: int, upto: int) -> list[str]:
    """Returns ids of items in (after, upto] that mention an entity or contain its name.

    Mentions come from the entity stage (aliases and canonical names resolved there); the
    name as typed is also matched as a phrase, so a watch works without the [nlp] extra.
    """
    store = live.store
    matched = set(store.query_items_after(_phrase(name), after, upto))
    finder = getattr(store, "find_entity", None)
    if finder is not None:
        try:
            entity = finder(name)
        except NotFound:
            entity = None
        if entity is not None:
            matched.update(store.entity_item_ids(entity["id"]))
    return [i for _, i in store.items_after(after, upto) if i in matched]


def matching_items(live: LiveService, watch: dict[str, Any], after: int, upto: int,
                   stories: _Stories) -> list[str]:
    """Returns ids of items in (after, upto] that a watch matches, in arrival order."""
    store = live.store
    if watch["kind"] == "query":
        return store.query_items_after(watch["target"], after, upto)
    if watch["kind"] == "entity":
        return _entity_items(live, watch["target"], after, upto)
    if watch["kind"] == "blindspot":
        arrived = [i for _, i in store.items_after(after, upto)]
        touched = {stories.key(i) for i in arrived}
        blind = {b["story"] for b in live.outlet_service.blindspots(watch["target"], limit=100_000)
                 if b["story"] in touched}
        return [i for i in arrived if stories.key(i) in blind]
    target = watch["target"]
    try:  # a story merged into another since the watch was set is followed to it
        target = _story_id(live.story_service.story(target)) or target
    except NotFound:
        pass
    return [i for _, i in store.items_after(after, upto) if stories.key(i) == target]


def check(live: LiveService) -> list[dict[str, Any]]:
    """Returns the alerts fired by items that arrived since each watch last looked."""
    store = live.store
    upto = store.max_item_rowid()
    stories = _Stories(live)
    fired: list[dict[str, Any]] = []
    for watch in store.list_watches():
        after = int(watch["checked_rowid"])
        if after >= upto:
            continue
        try:
            fired += _check_one(live, watch, after, upto, stories)
        except NewsdeskError as e:  # one broken watch never stops the others
            LOGGER.warning("watch %s: %s", watch["name"], e)
        except Exception:
            LOGGER.exception("watch %s: check failed", watch["name"])
    return fired


def _check_one(live: LiveService, watch: dict[str, Any], after: int, upto: int,
               stories: _Stories) -> list[dict[str, Any]]:
    store = live.store
    by_story: dict[str, list[str]] = {}
    for item_id in matching_items(live, watch, after, upto, stories):
        by_story.setdefault(stories.key(item_id), []).append(item_id)
    fired = []
    with store.transaction():
        for key, item_ids in by_story.items():
            shape = stories.shape(key)
            before = store.watch_story(watch["id"], key)
            if before is None:
                reason = "new"
            elif shape["sources"] - before["sources"] >= max(1, watch["min_new_sources"]):
                reason = "update"
            else:
                continue
            latest = live.item_service.item(item_ids[-1])
            alert = {
                "watch_id": watch["id"], "watch": watch["name"], "story": key,
                "item_id": latest.id, "reason": reason, "title": shape["title"],
                "url": shape["url"] or latest.url, "sources": shape["sources"],
                "items": shape["items"], "created": datetime.now(UTC).isoformat(),
                "item_ingested": latest.ingested.isoformat() if latest.ingested else None,
            }
            alert["id"] = store.add_alert(alert, watch["webhook"])
            fired.append(alert)
        store.set_watch_checked(watch["id"], upto)
    return fired
