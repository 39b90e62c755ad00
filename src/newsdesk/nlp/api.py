"""Library calls on entities (a service the Desk composes).

    entities(type=None, since=None, until=None, query=None, limit=50) -> list[dict]
    entity(name) -> dict            aliases, types, roles, stories, timeline, named with
    item_entities(item_id) -> dict  mentions, dates, figures and keyphrases of one item
    story_entities(story_id, limit=20) -> list[dict]   a story's main entities, with roles
    story_keyphrases(story_id, limit=10) -> list[dict]
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from newsdesk.nlp.base import expand_type
from newsdesk.nlp.canonical import entity_key, fold

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.items import ItemsService
    from newsdesk.store.protocol import Store
    from newsdesk.stories.api import StoriesService


class EntitiesService:
    """Entity listing and detail."""

    def __init__(self, ctx: Context, items: ItemsService, stories: StoriesService):
        self.ctx = ctx
        self.item_service = items
        self.story_service = stories

    @property
    def store(self) -> Store:
        return self.ctx.store

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
        return self.store.list_entities(
            types=expand_type(type), since=since, until=until, query=query, limit=limit, offset=offset
        )

    def entity(self, name: str, *, related: int = 10) -> dict[str, Any]:
        """Returns one entity by name, alias, surname or key, with all that is known of it."""
        store = self.store
        ent = store.find_entity(name)
        eid = ent["id"]
        item_ids = store.entity_item_ids(eid)
        out = dict(ent)
        out["aliases"] = store.entity_aliases(eid)
        out["types"] = store.entity_types(eid)
        out["roles"] = store.entity_roles(eid)
        out["timeline"] = store.entity_timeline(eid)
        out["named_with"] = store.entity_cooccurring(eid, related)
        out["stories"] = self._stories_of(item_ids)
        out["item_ids"] = item_ids
        return out

    def _stories_of(self, item_ids: list[str]) -> list[dict[str, Any]]:
        lookup = getattr(self.store, "member_stories", None)
        if lookup is None:
            return []
        counts = Counter(lookup(item_ids).values())
        out = []
        for sid, n in counts.most_common():
            title = None
            try:
                title = self.story_service.story(sid).title
            except Exception:  # noqa: BLE001 - a story view that is missing shows no title
                title = None
            out.append({"story_id": sid, "items": n, "title": title})
        return out

    def item_entities(self, item_id: str) -> dict[str, Any]:
        """Returns the mentions, dates, figures and keyphrases stored for an item."""
        item = self.item_service.item(item_id)
        return self.store.item_enrichment(item.id)

    def _story_item_ids(self, story_id: str) -> list[str]:
        members = self.story_service.story_items(story_id)
        return [m.item.id for m in members]

    def story_entities(self, story_id: str, *, limit: int = 20, type: str | None = None) -> list[dict[str, Any]]:
        """Returns a story's main entities: most items first, surnames joined to full names."""
        ids = self._story_item_ids(story_id)
        rows = self.store.entities_for_items(ids)
        # Within a story a surname alone is the person of the story with that full name.
        people = {}
        for r in rows:
            if r["type"] == "PERSON" and " " in r["name"]:
                people.setdefault(fold(r["name"]).rsplit(" ", 1)[-1], []).append(r)
        merged: dict[int, dict[str, Any]] = {r["id"]: r for r in rows}
        for r in rows:
            key = fold(r["name"])
            if " " not in key and key in people and len(people[key]) == 1:
                full = people[key][0]
                if full["id"] != r["id"]:
                    full["mentions"] += r["mentions"]
                    full["items"] += r["items"]
                    merged.pop(r["id"], None)
        wanted = expand_type(type)
        picked = sorted(
            (r for r in merged.values() if wanted is None or r["type"] in wanted),
            key=lambda r: (-r["items"], -r["mentions"], r["name"]),
        )[:limit]
        members = set(ids)
        out = []
        for r in picked:
            # The role the story's own items give the entity, if any.
            roles = [x for x in self.store.entity_roles(r["id"]) if members & set(x["items"])]
            out.append({"name": r["name"], "type": r["type"], "key": entity_key(r["type"], r["name"]),
                        "mentions": r["mentions"], "items": r["items"],
                        "role": roles[0]["role"] if roles else None})
        return out

    def story_keyphrases(self, story_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """Returns a story's keyphrases: item phrases summed, weighted by rarity in the store."""
        from newsdesk.nlp.keyphrases import story_rank

        ids = self._story_item_ids(story_id)
        per_item = self.store.keyphrases_for_items(ids)
        df, total = self.store.keyphrase_df({p for p, _ in per_item})
        return [{"phrase": p, "score": s} for p, s in story_rank(per_item, df, total, limit)]
