"""Resolving items to outlets, and recounting stories' independent sources.

An item's outlet comes from its source name, else its URL's registered domain (fold.py).
Names and domains seen together become aliases of one outlet, so "Reuters" with a link on
reuters.com, and later a bare reuters.com link, resolve to the same outlet. A new name met
with a domain that already belongs to an outlet joins it only when that outlet has no name
yet or the folded name is the domain's own label; otherwise it is a new outlet and the
domain, now written by two outlets (an aggregator, a shared platform), resolves no more.

An independent source is the owner when the outlet has a known `owner`, else the outlet,
else the input an outlet-less item came from (one page dump, one paste); copies never count.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from newsdesk.outlets.fold import (
    domain_label,
    fold_name,
    input_key,
    name_as_domain,
    registered_domain,
)

LOGGER = logging.getLogger(__name__)

VERSION_KEY = "outlets_version"  # bumped in story_meta when owners change: resolvers reload


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class Resolver:
    """Resolves (source name, URL) to an outlet id, creating outlets and aliases as needed."""

    def __init__(self, store: Any):
        self.store = store
        self.version: str | None = None
        self.reload()

    def reload(self) -> None:
        self.aliases, self.outlets = self.store.outlet_index()
        self.version = self.store.story_meta(VERSION_KEY)

    def fresh(self) -> None:
        """Reloads when an import changed outlets since this resolver loaded them."""
        if self.store.story_meta(VERSION_KEY) != self.version:
            self.reload()

    def _new(self, key: str, name: str) -> int:
        oid = self.store.add_outlet(key, name)
        self.outlets[oid] = (key, name, self.outlets.get(oid, (key, name, None))[2])
        return oid

    def _alias(self, alias: str, oid: int | None, surface: str) -> None:
        self.store.set_outlet_alias(alias, oid, surface)
        self.aliases[alias] = oid

    def resolve(self, source: str | None, url: str | None) -> int | None:
        """Returns the outlet id of an item's source name and URL (None when neither names one)."""
        source = (source or "").strip()[:200]
        domain = registered_domain(url) if url else None
        as_domain = name_as_domain(source)
        if as_domain:  # a source name that is a web address names the outlet by its domain
            source, domain = "", as_domain
        key = fold_name(source) if source else ""
        if key:
            oid = self._by_name(key, source, domain)
            if "as:" + source not in self.aliases:  # every spelling is kept as an alias
                self._alias("as:" + source, oid, source)
            return oid
        if domain:
            return self._by_domain(domain)
        return None

    def _by_name(self, key: str, surface: str, domain: str | None) -> int:
        alias = "name:" + key
        oid = self.aliases.get(alias)
        dalias = "domain:" + domain if domain else None
        downer = self.aliases.get(dalias) if dalias else None
        if oid is None:
            if downer is not None and (self._unnamed(downer) or domain_label(domain or "") == key.replace(" ", "")):
                oid = downer
                if self._unnamed(downer):
                    self.store.rename_outlet(oid, surface)
                    k, _, owner = self.outlets[oid]
                    self.outlets[oid] = (k, surface, owner)
            else:
                existing = self.store.add_outlet(key, surface)  # the key may exist (a file row)
                oid = existing
                self.outlets.setdefault(oid, (key, surface, None))
            self._alias(alias, oid, surface)
        if dalias is not None:
            if dalias not in self.aliases:
                self._alias(dalias, oid, domain or "")
            elif downer is not None and downer != oid:
                self._alias(dalias, None, domain or "")  # written by two outlets: no longer resolves
        return oid

    def _unnamed(self, oid: int) -> bool:
        key = self.outlets.get(oid, ("", "", None))[0]
        name = self.outlets.get(oid, ("", "", None))[1]
        return "." in key and name == key

    def _by_domain(self, domain: str) -> int:
        alias = "domain:" + domain
        if alias in self.aliases:
            oid = self.aliases[alias]
            if oid is not None:
                return oid
            return self._new(domain, domain)  # a shared domain: its bare links are their own outlet
        named = self.aliases.get("name:" + domain_label(domain))
        oid = named if named is not None else self._new(domain, domain)
        self._alias(alias, oid, domain)
        return oid

    def source_key(self, outlet_id: int | None, input_: str | None) -> str | None:
        """Returns what counts as one independent source (same rule as the store's SOURCE_KEY)."""
        if outlet_id is not None:
            owner = self.outlets.get(outlet_id, ("", "", None))[2]
            return f"w:{owner}" if owner else f"o:{outlet_id}"
        return f"i:{input_}" if input_ else None

    def item_row(self, item_id: str, source: str | None, url: str | None, origin: str | None,
                 ingested: str | None) -> tuple[tuple[str, int | None, str | None], str | None]:
        """Returns the item_outlets row of an item and its source key."""
        oid = self.resolve(source, url)
        inp = None if oid is not None else input_key(origin, ingested)
        return (item_id, oid, inp), self.source_key(oid, inp)


def backfill(store: Any, resolver: Resolver, skip: set[str] | None = None) -> int:
    """Resolves stored items that have no outlet row yet; returns how many."""
    done = 0
    skip = skip or set()
    while True:
        rows = [r for r in store.unresolved_items(5000) if r["id"] not in skip]
        if not rows:
            return done
        store.add_item_outlets([resolver.item_row(r["id"], r["source"], r["url"], r["origin"], r["ingested"])[0]
                                for r in rows])
        done += len(rows)
        if len(rows) < 5000 and not skip:
            return done


def recount(store: Any, story_ids: list[str] | None = None) -> int:
    """Recounts independent sources of stories from their members; returns stories updated.

    Bumps the story generation so a story stage holding stories in memory reloads them.
    """
    if not hasattr(store, "story_source_keys"):
        return 0
    keys = store.story_source_keys(story_ids)
    store.set_story_sources([(sid, k, n) for sid, (k, n) in keys.items()])
    if keys and hasattr(store, "bump_story_generation"):
        store.bump_story_generation()
    return len(keys)


def with_source(records: Any, name: str) -> Any:
    """Yields records, giving `name` as the source of items that carry none (page dumps, text)."""
    name = name.strip()
    for record in records:
        if name and getattr(record, "kind", None) is not None and not getattr(record, "source", None):
            record.source = name
        yield record
