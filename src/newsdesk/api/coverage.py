"""A story's coverage by outlet attribute for the reader: a small SVG bar chart, no JavaScript."""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from newsdesk.errors import NewsdeskError

WIDTH, ROW, LABEL, PAD = 320, 18, 96, 2
MAX_ROWS = 12


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def groups_svg(cov: dict[str, Any]) -> Markup:
    """Returns bars of independent sources per attribute value (per outlet when not grouped)."""
    if cov.get("by"):
        rows = [(str(g["value"]), g["sources"], g["items"], ", ".join(g["outlets"]), g.get("share", 0.0))
                for g in cov.get("groups", [])]
        unit = "sources"
    else:
        rows = [(o["name"], o["items"], o["items"], o["name"], 0.0) for o in cov.get("by_outlet", [])]
        unit = "items"
    rows = rows[:MAX_ROWS]
    if not rows:
        return Markup("")
    top = max(r[1] for r in rows) or 1
    height = len(rows) * ROW + PAD
    label = f"coverage by {cov['by']}" if cov.get("by") else "coverage by outlet"
    parts = [(f'<svg class="coverage-by" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
              f'role="img" aria-label="{escape(label)}">')]
    span = WIDTH - LABEL - 70
    for n, (name, count, items, outlets, share) in enumerate(rows):
        y = PAD + n * ROW
        w = max(2.0, span * count / top) if count else 0.0
        tip = (f"{name}: {count} independent source(s) ({share:.0%}), {items} item(s); {outlets}"
               if cov.get("by") else f"{name}: {items} item(s)")
        parts.append(f'<g class="bar"><title>{escape(tip)}</title>'
                     f'<text x="{LABEL - 4}" y="{y + 12}" font-size="11" fill="#333" text-anchor="end">'
                     f'{escape(_clip(name, 15))}</text>')
        if w:
            parts.append(f'<rect x="{LABEL}" y="{y + 2}" width="{w:.1f}" height="{ROW - 5}" '
                         f'fill="{"#999" if name == "unknown" else "#3b6ea5"}"/>')
        parts.append(f'<text x="{LABEL + w + 4:.1f}" y="{y + 12}" font-size="10" fill="#555">'
                     f'{count} {unit if count != 1 else unit[:-1]}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def coverage_context(desk: Any, story_id: str, by: str | None) -> dict[str, Any]:
    """Returns what the story page shows of coverage: the chart, counts, attributes to pick from."""
    fn = getattr(desk, "coverage", None)
    if fn is None:
        return {"coverage": None}
    attrs = desk.outlet_attribute_names()
    if by not in attrs:
        preferred = str(desk.setting("blindspot_attribute") or "")
        by = preferred if preferred in attrs else (attrs[0] if attrs else None)
    try:
        cov = fn(story_id, by=by)
    except NewsdeskError:
        return {"coverage": None}
    return {"coverage": cov, "coverage_chart": groups_svg(cov), "attributes": attrs}
