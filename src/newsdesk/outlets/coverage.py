"""Who covers a story, by attribute value, and which stories are blindspots (pure functions).

A story's coverage lists, for each value of an attribute (plus "unknown"), the outlets that
carried it, their first report and item count (copies included: a syndicated copy is still
that outlet carrying the story), and the independent sources the value holds (copies left
out; outlets of one owner count once; an independent source takes the value of its earliest
report). It also says which outlet reported first and how long the story took to reach 2, 5
and 10 independent sources. Times are publication times: a report without one (a page
dump's headline) counts toward the sources but not toward the first report or the times to
reach them.

A story is a blindspot for a value V when it has at least `min_sources` independent sources,
V holds at most `share` of them and the other known values together hold at least 1 - share.
Sources whose value is unknown count in the total, so a story mostly covered by outlets of
unknown value is never called a blindspot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from newsdesk.outlets.fold import input_label

UNKNOWN = "unknown"
REACH = (2, 5, 10)


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _label(row: dict[str, Any]) -> str:
    if row.get("outlet"):
        return str(row["outlet"])
    if row.get("input"):
        return "unattributed: " + input_label(str(row["input"]))
    return "unknown source"


def story_coverage(story_id: str, rows: Sequence[dict[str, Any]], by: str | None,
                   reach: Iterable[int] = REACH, values: Sequence[str] = ()) -> dict[str, Any]:
    """Returns a story's coverage from its members' rows (store.story_coverage_rows).

    `values` are listed as groups even when no outlet of the story has them (none reported).
    """
    outlets: dict[str, dict[str, Any]] = {}
    first_row = None
    keys_seen: set[str] = set()
    reached: dict[str, float | None] = {str(n): None for n in reach}
    targets = sorted(reach)
    source_value: dict[str, str] = {}
    start: datetime | None = None
    rows = sorted(rows, key=lambda r: (not r.get("dated", True), r.get("time") or ""))
    for row in rows:
        label = _label(row)
        dated = bool(row.get("dated", True))
        value = row.get("value") if by else None
        value = value if value not in (None, "") else UNKNOWN
        when = row.get("time")
        entry = outlets.setdefault(label, {
            "name": label, "outlet_id": row.get("outlet_id"), "value": value if by else None,
            "first": None, "items": 0, "copies": 0})
        entry["items"] += 1
        if row.get("copy_of"):
            entry["copies"] += 1
        if not dated:
            when = None
        elif entry["first"] is None or (when and when < entry["first"]):
            entry["first"] = when
        if first_row is None:
            first_row = row
            start = _time(when)
        if row.get("copy_of"):
            continue
        key = row.get("skey") or "x:" + str(row["item_id"])
        if key not in keys_seen:
            keys_seen.add(key)
            source_value[key] = value
            t = _time(when)
            for n in targets:
                if len(keys_seen) == n and start is not None and t is not None:
                    reached[str(n)] = round((t - start).total_seconds() / 3600.0, 2)
    groups: list[dict[str, Any]] = []
    if by:
        by_value: dict[str, dict[str, Any]] = {}
        for entry in outlets.values():
            g = by_value.setdefault(entry["value"], {"value": entry["value"], "outlets": [], "first": None,
                                                     "items": 0, "sources": 0})
            g["outlets"].append(entry["name"])
            g["items"] += entry["items"]
            if entry["first"] and (g["first"] is None or entry["first"] < g["first"]):
                g["first"] = entry["first"]
        for value in values:
            by_value.setdefault(value, {"value": value, "outlets": [], "first": None, "items": 0, "sources": 0})
        for value in source_value.values():
            by_value.setdefault(value, {"value": value, "outlets": [], "first": None, "items": 0, "sources": 0})
            by_value[value]["sources"] += 1
        total = len(keys_seen) or 1
        for g in by_value.values():
            g["share"] = round(g["sources"] / total, 4)
        groups = sorted(by_value.values(), key=lambda g: (g["value"] == UNKNOWN, -g["sources"], -g["items"],
                                                          str(g["value"])))
    return {
        "story": story_id,
        "by": by,
        "items": len(rows),
        "outlets": len({e["outlet_id"] for e in outlets.values() if e["outlet_id"] is not None}),
        "independent": len(keys_seen),
        "first": None if first_row is None else {
            "outlet": _label(first_row), "item_id": first_row["item_id"],
            "time": first_row.get("time") if first_row.get("dated", True) else None},
        "reach_hours": reached,
        "groups": groups,
        "by_outlet": sorted(outlets.values(), key=lambda e: (e["first"] is None, e["first"] or "", e["name"])),
    }


def find_blindspots(rows: Iterable[tuple[str, str, str | None]], values: Sequence[str], *,
                    share: float, min_sources: int) -> list[dict[str, Any]]:
    """Returns the blindspot stories among (story, source key, value) rows, most sources first."""
    per_story: dict[str, dict[str, int]] = {}
    for story, _key, value in rows:
        counts = per_story.setdefault(story, {})
        v = value if value not in (None, "") else UNKNOWN
        counts[v] = counts.get(v, 0) + 1
    out = []
    for story, counts in per_story.items():
        total = sum(counts.values())
        if total < min_sources:
            continue
        known = total - counts.get(UNKNOWN, 0)
        missing = []
        for v in values:
            mine = counts.get(v, 0)
            if mine / total <= share + 1e-9 and (known - mine) / total >= 1 - share - 1e-9:
                missing.append(v)
        if missing:
            out.append({"story": story, "sources": total, "counts": dict(sorted(counts.items())),
                        "missing": missing})
    out.sort(key=lambda r: (-r["sources"], r["story"]))
    return out
