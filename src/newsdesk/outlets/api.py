"""Outlets, coverage and blindspots (a service the Desk composes).

    outlets() -> list[dict]                         outlets with items, stories, first/last seen, domains
    import_outlets(path) -> dict                    attributes from a CSV/JSONL file; problems by file:line
    export_outlets(out, fmt) -> int                 the same format written back
    coverage(story_id, by=None) -> dict             who covered a story, by attribute value
    blindspots(by, since=None, min_sources=None) -> list[dict]   stories one side barely covers
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from newsdesk.errors import InputError
from newsdesk.outlets.coverage import find_blindspots, story_coverage
from newsdesk.outlets.files import read_outlets, write_outlets
from newsdesk.outlets.fold import domain_label, fold_name, name_as_domain, registered_domain
from newsdesk.outlets.resolve import VERSION_KEY, Resolver, backfill, recount

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.store.protocol import Store

LOGGER = logging.getLogger(__name__)
MAX_EMPTY_GROUPS = 8  # an attribute with this many values or fewer lists the values no outlet reported


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class OutletsService:
    """Outlets as things: listing, attributes from files, coverage and blindspots."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.setting = ctx.setting

    @property
    def store(self) -> Store:
        return self.ctx.store

    def outlets(self) -> list[dict[str, Any]]:
        """Returns every outlet, most items first: items, stories, first/last seen, domains, attributes."""
        rows = self.store.outlet_rows()
        rows.sort(key=lambda o: (-o["items"], o["name"].casefold()))
        return rows

    def outlet_inputs(self) -> list[dict[str, Any]]:
        """Returns the inputs (page dumps, pastes) whose items name no outlet, each one source."""
        return self.store.outlet_inputs()

    def resolve_outlets(self) -> int:
        """Returns how many stored items got their outlet now (items stored before outlets existed)."""
        with self.store.transaction():
            n = backfill(self.store, Resolver(self.store))
            if n:
                recount(self.store)
        return n

    def import_outlets(self, path: str | Path) -> dict[str, Any]:
        """Returns what importing an outlets file did: added, updated, kept for later, problems."""
        rows, problems = read_outlets(path)
        return self.import_outlet_rows(rows, problems, str(path))

    def import_outlet_rows(self, rows: list[Any], problems: list[str] | None = None,
                           where: str = "outlets") -> dict[str, Any]:
        """Returns what importing outlet rows (files.OutletRow) did; problems name where:line."""
        problems = problems if problems is not None else []
        report = {"rows": len(rows), "added": 0, "updated": 0, "unseen": 0, "problems": problems}
        store = self.store
        with store.transaction():
            resolver = Resolver(store)
            backfill(store, resolver)
            seen: dict[int, Any] = {}
            owners_changed = False
            for row in rows:
                oid, created, clashes = self._outlet_for_row(resolver, row)
                problems.extend(f"{where}:{row.line}: {c}" for c in clashes)
                if oid in seen:
                    first = seen[oid]
                    clash = {k: (first.attrs[k], v) for k, v in row.attrs.items()
                             if k in first.attrs and first.attrs[k] != v}
                    if clash:
                        detail = "; ".join(f"{k} {a!r} (line {first.line}) vs {b!r}" for k, (a, b) in clash.items())
                        problems.append(f"{where}:{row.line}: conflicting attributes for "
                                        f"{resolver.outlets[oid][1]!r}: {detail}; line {first.line} kept")
                    else:
                        problems.append(f"{where}:{row.line}: duplicate of line {first.line} "
                                        f"({resolver.outlets[oid][1]!r}); line skipped")
                    continue
                seen[oid] = row
                owner = fold_name(row.attrs["owner"]) if "owner" in row.attrs else None
                if "owner" in row.attrs and resolver.outlets[oid][2] != owner:
                    owners_changed = True
                store.set_outlet_attrs(oid, row.attrs, owner)
                key, name, _ = resolver.outlets[oid]
                resolver.outlets[oid] = (key, name, owner if "owner" in row.attrs else resolver.outlets[oid][2])
                report["added" if created else "updated"] += 1
            if seen:
                stats = {o["id"]: o["items"] for o in store.outlet_rows() if o["id"] in seen}
                report["unseen"] = sum(1 for oid in seen if not stats.get(oid))
            store.set_story_meta(VERSION_KEY, datetime.now(UTC).isoformat())
            if owners_changed:
                report["stories_recounted"] = recount(store)
        return report

    @staticmethod
    def _outlet_for_row(resolver: Resolver, row: Any) -> tuple[int, bool, list[str]]:
        """Returns (outlet id, created, clashes) for a file row, adding its names and domains as aliases.

        A name or domain that already belongs to another outlet stays with it (a clash is reported).
        """
        domains = [d for d in (registered_domain(x) or name_as_domain(x) for x in row.domains) if d]
        names = []
        for alias in ([row.name] if row.name else []) + row.aliases:
            d = name_as_domain(alias)  # a name that is a web address is a domain, as in resolution
            if d:
                domains.append(d)
            else:
                names.append(alias)
        oid = None
        for n in names:
            oid = resolver.aliases.get("name:" + fold_name(n))
            if oid is not None:
                break
        if oid is None:  # by domain: only an outlet known by its domain alone, or a row without a name
            for d in domains:
                held = resolver.aliases.get("domain:" + d)
                if held is not None and (not names or resolver._unnamed(held)
                                         or domain_label(d) == fold_name(names[0]).replace(" ", "")):
                    oid = held
                    break
        created = oid is None
        if oid is None:
            key = fold_name(names[0]) if names else domains[0]
            oid = resolver._new(key, row.name or (names[0] if names else domains[0]))
        clashes = []
        for alias, surface in [("name:" + fold_name(n), n) for n in names if fold_name(n)] + \
                [("domain:" + d, d) for d in domains]:
            held = resolver.aliases.get(alias, oid)
            if alias not in resolver.aliases:
                resolver._alias(alias, oid, surface)
            elif held is not None and held != oid:
                clashes.append(f"{surface!r} already names {resolver.outlets[held][1]!r}; left with it")
        if row.name and resolver._unnamed(oid):
            resolver.store.rename_outlet(oid, row.name)
            key, _, owner = resolver.outlets[oid]
            resolver.outlets[oid] = (key, row.name, owner)
        return oid, created, clashes

    def export_outlets(self, out: IO[str], fmt: str = "csv") -> int:
        """Returns the number of outlets written to `out` as CSV or JSONL (the import format)."""
        return write_outlets(self.outlets(), out, fmt)

    # -- coverage and blindspots -----------------------------------------------------------
    def outlet_attribute_names(self) -> list[str]:
        """Returns the outlet attributes some outlet has (from imported outlet files)."""
        return self.store.outlet_attribute_names()

    def check_attribute(self, by: str | None) -> str | None:
        """Returns the attribute as stored (lower case, spaces as _); InputError when no
        outlet has it."""
        if by is None or by == "":
            return None
        name = " ".join(by.strip().lower().split()).replace(" ", "_")
        known = self.store.outlet_attribute_names()
        if name not in known:
            hint = f"known: {', '.join(known)}" if known else "import an outlets file first (newsdesk outlets import)"
            raise InputError(f"no outlet has the attribute {by!r} ({hint})")
        return name

    def coverage(self, story_id: str, *, by: str | None = None) -> dict[str, Any]:
        """Returns who covered a story: outlets by attribute value, first report, time to 2/5/10 sources."""
        attr = self.check_attribute(by)
        sid = self.store.resolve_story(story_id)
        values = self.store.outlet_attribute_values(attr) if attr else []
        return story_coverage(sid, self.store.story_coverage_rows(sid, attr), attr,
                              values=values if len(values) <= MAX_EMPTY_GROUPS else ())

    def blindspots(self, by: str, *, since: datetime | None = None, min_sources: int | None = None,
                   share: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Returns stories where one value of an attribute holds at most `share` of the sources."""
        attr = self.check_attribute(by)
        if attr is None:
            raise InputError("blindspots need an attribute (--by), such as lean or country")
        floor = int(self.setting("blindspot_min_sources") if min_sources is None else min_sources)
        cut = float(self.setting("blindspot_share") if share is None else share)
        if floor < 1:
            raise InputError("min_sources must be at least 1")
        if not 0 <= cut < 0.5:
            raise InputError("the blindspot share must be at least 0 and below 0.5")
        rows = self.store.blindspot_rows(attr, since=_iso(since), min_sources=floor)
        found = find_blindspots(rows, self.store.outlet_attribute_values(attr), share=cut, min_sources=floor)
        heads = self.store.story_heads([e["story"] for e in found[:limit]])
        return [{**entry, "by": attr, **heads[entry["story"]]} for entry in found[:limit] if entry["story"] in heads]
