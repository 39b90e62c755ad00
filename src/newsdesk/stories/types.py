"""Plain data the stories area hands to views: Story, StoryMember, Decision, Correction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from newsdesk.model import Item


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class Story:
    """One story: a stable id, a fallback title, its size, span and sources."""

    id: str
    title: str
    size: int                    # members, copies included
    copies: int                  # members that are copies of another member
    sources: int                 # independent sources (distinct outlets of canonical members)
    first_time: datetime | None
    last_time: datetime | None
    created: datetime
    updated: datetime
    status: str = "active"       # 'active', 'merged' (see redirect), 'empty'
    merged_into: str | None = None

    @property
    def span_hours(self) -> float:
        """Returns hours between the first and last member."""
        if self.first_time is None or self.last_time is None:
            return 0.0
        return (self.last_time - self.first_time).total_seconds() / 3600.0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("first_time", "last_time", "created", "updated"):
            out[key] = _iso(out[key])
        out["span_hours"] = round(self.span_hours, 2)
        return out


@dataclass
class StoryMember:
    """An item in a story, with its copy status and how it came to be there."""

    item: Item
    story_id: str
    how: str                     # 'started', 'joined', 'copy', 'moved', 'split', 'merged'
    copy_of: str | None = None   # the canonical item when this member is a copy
    pinned: bool = False         # placed by an editor
    copies: list[str] = field(default_factory=list)  # ids of copies of this canonical member

    def to_dict(self) -> dict[str, Any]:
        it = self.item
        return {
            "id": it.id, "title": it.headline, "source": it.source, "url": it.url,
            "kind": it.kind, "published": _iso(it.published), "how": self.how,
            "copy_of": self.copy_of, "pinned": self.pinned, "copies": self.copies,
        }


@dataclass
class Decision:
    """Why an item is in its story, as decided when it arrived."""

    item_id: str
    story_id: str                # the story it joined or started (as decided)
    current_story: str | None    # where it is now (after merges and corrections)
    action: str                  # 'joined', 'started', 'copy'
    score: float | None
    threshold: float | None
    components: dict[str, Any]
    runner_up: str | None
    runner_score: float | None
    runner_components: dict[str, Any]
    decided: datetime

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["decided"] = _iso(self.decided)
        return out


@dataclass
class Correction:
    """An editor's correction: merge, move or split, with time and reason."""

    id: int
    at: datetime
    action: str
    story_id: str
    other_id: str | None
    items: list[str]
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["at"] = _iso(self.at)
        return out
