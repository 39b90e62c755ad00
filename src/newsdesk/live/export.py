"""Export a store as JSONL, CSV, RSS or OPML; restore a store from a JSONL export.

A JSONL export is one object per line, each with a `type`: a header, outlets (with their
domains, aliases and attributes), then items (with their sightings) in arrival order, stories
(with members), entities, feeds, watches (with the stories they alerted on), alerts, and
editors' corrections. Import restores the outlets first, re-ingests the items
in their original order and batches (so copies, entities and stories are rebuilt the same
way), puts back the sightings, replays the corrections, then restores feeds and watches.
Exporting the restored store gives the same file again.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from newsdesk.errors import Conflict, InputError, NewsdeskError
from newsdesk.ingest.jsonl import strict_records
from newsdesk.model import Item

if TYPE_CHECKING:
    from newsdesk.live.api import LiveService

LOGGER = logging.getLogger(__name__)

FORMATS = ("jsonl", "csv", "rss", "opml")
WHATS = ("outlets", "items", "stories", "entities", "feeds", "watches", "corrections", "all")
EXPORT_VERSION = 1
_ITEM_FIELDS = ("id", "title", "text", "url", "source", "author", "published", "ingested", "language",
                "kind", "origin", "origin_line", "source_id", "extra")
# Wall-clock bookkeeping of a story that a re-ingest cannot reproduce, so it is not exported.
_STORY_VOLATILE = ("created", "updated", "span_hours", "merged_into")


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return {k: _iso(v) for k, v in vars(obj).items() if not k.startswith("_")}


# -- records -----------------------------------------------------------------------------------
def item_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields every item with its sightings, in arrival order."""
    store = live.store
    ids = list(store.iter_item_rows())
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sightings = store.sightings_for(chunk)
        for item in store.items_by_ids(chunk):
            rec: dict[str, Any] = {"type": "item"}
            rec.update({f: _iso(getattr(item, f)) for f in _ITEM_FIELDS})
            rec["sightings"] = sightings.get(item.id, [])
            yield rec


def story_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields every active story with its members (nothing when stories are not built)."""
    if live.story_service is None or not hasattr(live.store, "list_stories"):
        return
    stories = live.story_service.stories(limit=10**9, order="recent")
    for story in sorted(stories, key=lambda s: s.id):
        rec = {"type": "story", **{k: v for k, v in _plain(story).items() if k not in _STORY_VOLATILE}}
        rec["members"] = [
            {"item": m.item.id, "how": m.how, "copy_of": m.copy_of, "pinned": bool(m.pinned)}
            for m in live.story_service.story_items(story.id)
        ]
        yield rec


def entity_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields every entity (nothing when entities are not built)."""
    lister = live.entity_service.entities if live.entity_service else None
    if lister is None:
        return
    try:
        entities = lister(limit=10**9)
    except TypeError:
        entities = lister()
    except NewsdeskError as e:
        LOGGER.info("entities not exported: %s", e)
        return
    rows = [_plain(e) for e in entities]
    for row in sorted(rows, key=lambda r: str(r.get("id", r.get("name", "")))):
        # An entity's own `type` (person, place...) is kept as `entity_type`.
        yield {"type": "entity", **{("entity_type" if k == "type" else k): v for k, v in row.items()}}


def correction_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields corrections (editors' and the story stage's automatic splits), oldest first
    (nothing when stories are not built)."""
    lister = live.story_service.corrections if live.story_service else None
    if lister is None or not hasattr(live.store, "correction_rows"):
        return
    for c in sorted(lister(limit=10**9), key=lambda c: c.id):
        yield {"type": "correction", **_plain(c)}


def feed_records(live: LiveService) -> Iterator[dict[str, Any]]:
    for feed in live.store.list_feeds():
        yield {"type": "feed", **feed}


def watch_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields watches (with the stories they alerted on), then their alerts."""
    store = live.store
    for w in store.list_watches():
        rec = {"type": "watch", **{k: v for k, v in w.items() if k != "checked_rowid"}}
        rec["stories"] = store.watch_stories(w["id"])
        yield rec
    for alert in store.iter_alerts():
        yield {"type": "alert", **alert}


def outlet_records(live: LiveService) -> Iterator[dict[str, Any]]:
    """Yields outlets with their domains, aliases and attributes (nothing when none is known)."""
    lister = live.outlet_service.outlets if live.outlet_service else None
    for o in lister() if lister is not None else []:
        yield {"type": "outlet", "name": o["name"], "domains": o["domains"], "aliases": o["aliases"],
               "attributes": o["attributes"]}


_SECTIONS = {
    "outlets": outlet_records,
    "items": item_records,
    "stories": story_records,
    "entities": entity_records,
    "feeds": feed_records,
    "watches": watch_records,
    "corrections": correction_records,
}


def records(live: LiveService, what: str) -> Iterator[dict[str, Any]]:
    """Yields the records of one kind, or of all kinds in import order."""
    if what not in WHATS:
        raise InputError(f"{what!r}: nothing of that name to export (use {', '.join(WHATS)})")
    names = list(_SECTIONS) if what == "all" else [what]
    for name in names:
        yield from _SECTIONS[name](live)


# -- writers -----------------------------------------------------------------------------------
def export(live: LiveService, out: IO[str], *, fmt: str = "jsonl", what: str = "all") -> int:
    """Returns the number of records written to `out` in the chosen format."""
    if fmt not in FORMATS:
        raise InputError(f"{fmt!r}: not an export format (use {', '.join(FORMATS)})")
    if fmt == "jsonl":
        header = {"type": "header", "format": "newsdesk-export", "version": EXPORT_VERSION, "what": what}
        out.write(json.dumps(header, sort_keys=True) + "\n")
        n = 0
        for rec in records(live, what):
            out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
        return n
    if fmt == "csv":
        if what == "all":
            raise InputError("CSV holds one kind of record: choose --what items, stories, feeds...")
        return write_csv(records(live, what), out)
    if fmt == "rss":
        if what not in ("items", "stories", "all"):
            raise InputError("RSS exports items or stories")
        return write_rss(live, out, stories=what == "stories")
    if what not in ("feeds", "all"):
        raise InputError("OPML exports feeds")
    return write_opml(live.store.list_feeds(), out)


def _cell(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        value = "'" + value  # a spreadsheet would run it as a formula
    return value


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """Returns the rows written as CSV (nested values as JSON; a secret is never written)."""
    writer = None
    n = 0
    for row in rows:
        row = {k: v for k, v in row.items() if k != "secret"}
        if row.get("type") != "alert" and writer is None:
            writer = csv.DictWriter(out, fieldnames=list(row), extrasaction="ignore")
            writer.writeheader()
        if writer is None or row.get("type") == "alert":
            continue  # alerts ride along with watches in JSONL only
        writer.writerow({k: _cell(v) for k, v in row.items()})
        n += 1
    return n


def _rfc822(value: str | None) -> str | None:
    return format_datetime(datetime.fromisoformat(value), usegmt=True) if value else None


def write_rss(live: LiveService, out: IO[str], *, stories: bool) -> int:
    """Returns the entries written: items, or stories (linked to their first member), as RSS 2.0."""
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = "newsdesk " + ("stories" if stories else "items")
    ET.SubElement(channel, "link").text = "http://localhost/"
    ET.SubElement(channel, "description").text = f"Exported from {Path(live.ctx.db).name}"
    n = 0
    source = story_records(live) if stories else item_records(live)
    for rec in source:
        entry = ET.SubElement(channel, "item")
        if stories:
            first = live.store.items_by_ids([m["item"] for m in rec["members"][:1]])
            ET.SubElement(entry, "title").text = rec.get("title") or ""
            if first and first[0].url:
                ET.SubElement(entry, "link").text = first[0].url
            ET.SubElement(entry, "description").text = (
                f"{rec.get('size')} item(s) from {rec.get('sources')} independent source(s)")
            when = rec.get("last_time")
        else:
            ET.SubElement(entry, "title").text = rec["title"] or ""
            if rec["url"]:
                ET.SubElement(entry, "link").text = rec["url"]
            ET.SubElement(entry, "description").text = rec["text"] or ""
            if rec["source"]:
                ET.SubElement(entry, "source", url="http://localhost/").text = rec["source"]
            when = rec["published"]
        ET.SubElement(entry, "guid", isPermaLink="false").text = rec["id"]
        if when:
            ET.SubElement(entry, "pubDate").text = _rfc822(when)
        n += 1
    out.write('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n")
    return n


def write_opml(feeds: list[dict[str, Any]], out: IO[str]) -> int:
    """Returns the feeds written as an OPML 2.0 subscription list."""
    opml = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(opml, "head"), "title").text = "newsdesk feeds"
    body = ET.SubElement(opml, "body")
    for f in feeds:
        ET.SubElement(body, "outline", type="rss", text=f["title"] or f["url"], xmlUrl=f["url"])
    out.write('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(opml, encoding="unicode") + "\n")
    return len(feeds)


# -- import ------------------------------------------------------------------------------------
_KNOWN = {"header", "outlet", "item", "story", "entity", "feed", "watch", "alert", "correction"}


def read_records(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """Returns (line, record) of a JSONL export; raises InputError naming file:line when bad."""
    out = []
    for n, rec in strict_records(path):
        if rec.get("type") not in _KNOWN:
            raise InputError(f"{path}:{n}: not a newsdesk export record (no known 'type')")
        if rec["type"] == "header" and rec.get("version", 0) > EXPORT_VERSION:
            raise InputError(f"{path}:{n}: export version {rec['version']} is newer than this newsdesk")
        if rec["type"] == "item" and not rec.get("id"):
            raise InputError(f"{path}:{n}: item without an id")
        out.append((n, rec))
    if not out or out[0][1]["type"] != "header":
        raise InputError(f"{path}: not a newsdesk JSONL export (no header line)")
    return out


def _item(rec: dict[str, Any]) -> Item:
    def when(key: str) -> datetime | None:
        return datetime.fromisoformat(rec[key]) if rec.get(key) else None

    return Item(
        id=rec["id"], title=rec.get("title"), text=rec.get("text") or "", url=rec.get("url"),
        source=rec.get("source"), author=rec.get("author"), published=when("published"),
        ingested=when("ingested"), language=rec.get("language"), kind=rec.get("kind") or "article",
        origin=rec.get("origin"), origin_line=rec.get("origin_line"), source_id=rec.get("source_id"),
        extra=rec.get("extra") or {},
    )


def _batches(items: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Yields items grouped as they first arrived: one ingest batch shares its first sighting time."""
    batch: list[dict[str, Any]] = []
    key: Any = object()
    for rec in items:
        first = (rec.get("sightings") or [{}])[0].get("seen")
        if batch and (first != key or first is None):
            yield batch
            batch = []
        batch.append(rec)
        key = first
    if batch:
        yield batch


def import_jsonl(live: LiveService, path: str | Path) -> dict[str, int]:
    """Returns counts by record type after restoring a JSONL export into the desk's store."""
    recs = read_records(path)
    held = live.store.max_item_rowid() or live.store.list_feeds() or live.store.list_watches()
    if held:
        raise Conflict(f"{live.store.path}: the store is not empty; import {path} into a fresh store")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for _, rec in recs:
        by_type.setdefault(rec["type"], []).append(rec)
    counts: dict[str, int] = {}
    if by_type.get("outlet") and live.outlet_service is not None:  # before items: owners count at once
        from newsdesk.outlets.files import OutletRow

        rows = [OutletRow(n, r.get("name"), list(r.get("domains") or []), list(r.get("aliases") or []),
                          {str(k): str(v) for k, v in (r.get("attributes") or {}).items()})
                for n, r in enumerate(by_type["outlet"], 1)]
        counts["outlets"] = len(rows) - len(live.outlet_service.import_outlet_rows(rows, where=str(path))["problems"])
    items = by_type.get("item", [])
    new = 0
    for batch in _batches(items):
        new += live.ingest_service.ingest(iter([_item(r) for r in batch]), batch_size=len(batch) + 1).new
    for rec in items:
        live.store.replace_sightings(rec["id"], rec.get("sightings") or [])
    counts["items"] = new
    counts["corrections"] = _replay(live, by_type.get("correction", []))
    for rec in by_type.get("feed", []):
        live.store.restore_feed({k: v for k, v in rec.items() if k != "type"})
    counts["feeds"] = len(by_type.get("feed", []))
    for rec in by_type.get("watch", []):
        data = {k: v for k, v in rec.items() if k not in ("type", "stories")}
        live.store.restore_watch(data, rec.get("stories") or [])
    counts["watches"] = len(by_type.get("watch", []))
    for rec in by_type.get("alert", []):
        live.store.restore_alert({k: v for k, v in rec.items() if k != "type"})
    counts["alerts"] = len(by_type.get("alert", []))
    counts["stories"] = sum(1 for _ in story_records(live))
    counts["entities"] = sum(1 for _ in entity_records(live))
    return counts


def _replay(live: LiveService, corrections: list[dict[str, Any]]) -> int:
    """Returns the corrections replayed through the stories API, oldest first, times kept."""
    done = 0
    for c in sorted(corrections, key=lambda c: c.get("id") or 0):
        action, story, other = c.get("action"), c.get("story_id"), c.get("other_id")
        ids = c.get("items") or []
        if (c.get("reason") or "").startswith(("automatic", "consolidation")):
            continue  # the story stage's own split or pass: re-ingesting the items makes it again
        try:
            if action == "merge":
                live.story_service.merge_stories(story, other, reason=c.get("reason"))
            elif action == "move" and ids:
                live.story_service.move_item(ids[0], story, reason=c.get("reason"))
            elif action == "split" and ids:
                live.story_service.split_story(story, ids, reason=c.get("reason"))
            else:
                LOGGER.warning("correction %s: cannot replay action %r", c.get("id"), action)
                continue
        except NewsdeskError as e:
            LOGGER.warning("correction %s (%s) not replayed: %s", c.get("id"), action, e)
            continue
        if c.get("at"):
            live.store.restore_correction_time(c["at"])
        done += 1
    return done
