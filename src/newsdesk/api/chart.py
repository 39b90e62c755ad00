"""A story's coverage over time as a small inline SVG bar chart (no JavaScript)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 320, 80, 14
_STEPS = [
    (timedelta(hours=1), "%d %b %H:00"),
    (timedelta(hours=6), "%d %b %H:00"),
    (timedelta(days=1), "%d %b %Y"),
    (timedelta(days=7), "week of %d %b %Y"),
    (timedelta(days=30), "%b %Y"),
]


def coverage_svg(times: Sequence[datetime | None], *, max_bars: int = 40) -> Markup:
    """Returns an SVG of how many items arrived per hour, day or week; empty when undated."""
    dated = sorted(t for t in times if t is not None)
    if not dated:
        return Markup("")
    first, last = dated[0], dated[-1]
    span = last - first
    step, label = _STEPS[-1]
    for candidate, fmt in _STEPS:
        if span / candidate < max_bars:
            step, label = candidate, fmt
            break
    bins = int(span / step) + 1
    counts = [0] * bins
    for t in dated:
        counts[min(int((t - first) / step), bins - 1)] += 1
    top = max(counts)
    bar_w = (WIDTH - 2) / bins
    parts = [
        (
            f'<svg class="coverage" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="items over time: {len(dated)} items from '
        f'{escape(first.strftime("%d %b %Y"))} to {escape(last.strftime("%d %b %Y"))}">'
        )
    ]
    plot_h = HEIGHT - PAD - 4
    for n, count in enumerate(counts):
        if not count:
            continue
        h = max(2.0, plot_h * count / top)
        x = 1 + n * bar_w
        when = (first + step * n).strftime(label)
        parts.append(
            f'<rect x="{x:.1f}" y="{4 + plot_h - h:.1f}" width="{max(1.0, bar_w - 1):.1f}" '
            f'height="{h:.1f}" fill="#3b6ea5"><title>{escape(when)}: {count}</title></rect>'
        )
    parts.append(
        f'<line x1="0" y1="{HEIGHT - PAD}" x2="{WIDTH}" y2="{HEIGHT - PAD}" stroke="#999" stroke-width="1"/>'
        f'<text x="1" y="{HEIGHT - 2}" font-size="10" fill="#555">{escape(first.strftime("%d %b"))}</text>'
        f'<text x="{WIDTH - 1}" y="{HEIGHT - 2}" font-size="10" fill="#555" text-anchor="end">'
        f'{escape(last.strftime("%d %b"))}</text></svg>'
    )
    return Markup("".join(parts))
