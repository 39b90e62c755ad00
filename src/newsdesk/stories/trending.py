"""Trending stories: those whose rate of new independent sources is rising.

For each story, every outlet counts once, at the time of its first independent (non-copy)
report in the story. The figure compares the outlets that joined in the last window with
those that joined in the window before it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from newsdesk.stories.sentences import Member, when

LOGGER = logging.getLogger(__name__)


@dataclass
class Trend:
    """A story's source growth: new independent sources in the last and previous window."""

    story_id: str
    title: str
    last_window: int  # outlets whose first report fell in (now - window, now]
    previous_window: int  # outlets whose first report fell in (now - 2 window, now - window]
    sources: int  # independent outlets in the story up to now
    new_sources: list[str]
    window_hours: float
    now: datetime

    @property
    def rising(self) -> bool:
        return self.last_window > self.previous_window

    @property
    def figure(self) -> str:
        """Returns the growth as a person reads it: '+4 sources in 6h (was 1)'."""
        span = f"{self.window_hours:g}h"
        return f"+{self.last_window} sources in {span} (previous {span}: {self.previous_window})"

    @property
    def score(self) -> float:
        return (self.last_window - self.previous_window) + 0.1 * self.last_window

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id, "title": self.title, "last_window": self.last_window,
            "previous_window": self.previous_window, "sources": self.sources,
            "new_sources": list(self.new_sources), "window_hours": self.window_hours,
            "now": self.now.isoformat(), "figure": self.figure, "score": round(self.score, 3),
        }


def first_reports(members: Iterable[Member]) -> dict[str, datetime]:
    """Returns each outlet's first independent report time in a story (copies not counted)."""
    first: dict[str, datetime] = {}
    for m in members:
        src = m.item.source
        if not src:
            continue
        t = when(m.item)
        if src not in first or t < first[src]:
            first[src] = t
    return first


def story_trend(
    story_id: str, title: str, members: Sequence[Member], *, now: datetime, window: timedelta
) -> Trend:
    """Returns the source growth of one story around `now`."""
    first = first_reports(members)
    start_last, start_prev = now - window, now - 2 * window
    last = sorted(s for s, t in first.items() if start_last < t <= now)
    prev = [s for s, t in first.items() if start_prev < t <= start_last]
    return Trend(story_id, title, len(last), len(prev), sum(1 for t in first.values() if t <= now),
                 last, window.total_seconds() / 3600.0, now)


def rank_trends(trends: Iterable[Trend], *, min_sources: int = 2, top: int = 10) -> list[Trend]:
    """Returns the rising stories with at least `min_sources` new outlets, fastest first."""
    rising = [t for t in trends if t.rising and t.last_window >= min_sources]
    rising.sort(key=lambda t: (-t.score, -t.last_window, t.story_id))
    return rising[:top]
