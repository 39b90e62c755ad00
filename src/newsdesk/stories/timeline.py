"""Story timelines: members by publication time, copies folded, with the new facts each brought.

A member's new facts are its sentences (or, for a bare headline, its headline) that are not
near-duplicates of anything an earlier member said. A member that only repeats earlier
reports has none, which is itself worth seeing on a timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsdesk.model import Item
from newsdesk.stories.sentences import clean, fold_copies, item_sentences, novelty, terms

LOGGER = logging.getLogger(__name__)

MAX_FACTS = 3
MIN_FACT_WORDS = 5
MAX_SCANNED = 25  # sentences read per member: facts come early in news texts


@dataclass
class TimelineEntry:
    """One independent report on the timeline, with its copies and what it added."""

    time: datetime | None
    item_id: str
    source: str | None
    title: str
    url: str | None
    kind: str
    copies: list[dict[str, Any]] = field(default_factory=list)  # {id, source, time, url}
    new_facts: list[str] = field(default_factory=list)
    new_source: bool = False  # first report from this outlet in the story

    @property
    def text(self) -> str:
        """Returns one line: the headline, and the first new fact when there is one."""
        return self.title if not self.new_facts else f"{self.title} — {self.new_facts[0]}"

    @property
    def date(self) -> str | None:
        return self.time.isoformat(timespec="minutes") if self.time else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat() if self.time else None,
            "item_id": self.item_id, "source": self.source, "title": self.title, "url": self.url,
            "kind": self.kind, "copies": list(self.copies), "new_facts": list(self.new_facts),
            "new_source": self.new_source,
        }


def build_timeline(
    items: Sequence[Item], copies: Mapping[str, str] | None = None, *, max_facts: int = MAX_FACTS
) -> list[TimelineEntry]:
    """Returns the story's timeline: one entry per independent member, oldest first."""
    members = fold_copies(items, copies)
    # Per member: its sentences' terms, then its headline's (a headline alone can be a fact).
    blocks, texts = [], []
    for m in members:
        sents = [s for s in item_sentences(m.item)[:MAX_SCANNED] if s.terms]
        head = terms(m.item.title) if m.item.title else []
        blocks.append([s.terms for s in sents] + [head])
        texts.append(sents)
    fresh = novelty(blocks)
    seen_sources: set[str] = set()
    entries: list[TimelineEntry] = []
    for m, sents, new in zip(members, texts, fresh, strict=True):
        it = m.item
        facts = [s.text for s, is_new in zip(sents, new, strict=False)
                 if is_new and s.n_words >= MIN_FACT_WORDS][:max_facts]
        if not sents and it.title and new[-1]:
            facts = [clean(it.title)]
        new_source = bool(it.source) and it.source not in seen_sources
        seen_sources.update(m.sources)
        entries.append(TimelineEntry(
            time=it.published or it.ingested, item_id=it.id, source=it.source,
            title=clean(it.headline), url=it.url, kind=it.kind,
            copies=[{"id": c.id, "source": c.source, "url": c.url,
                     "time": (c.published or c.ingested).isoformat() if (c.published or c.ingested) else None}
                    for c in m.copies],
            new_facts=facts, new_source=new_source,
        ))
    return entries
