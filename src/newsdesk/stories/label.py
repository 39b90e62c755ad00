"""Story titles: the most representative member headline, kept stable as the story grows.

A headline scores by how close it is to the story's centroid (TF-IDF over members' headlines
and texts) and by how far headlines from *other sources* say the same thing, so a title the
outlets share in substance wins over one outlet's angle. When no headline fits (all score
low, or members have no headlines), the story gets a label made of its key terms instead.
Hysteresis: the current title is kept unless the best candidate beats it clearly.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from newsdesk.model import Item
from newsdesk.stories.features import url_headline
from newsdesk.stories.sentences import (
    Member,
    Vectoriser,
    clean,
    fold_copies,
    item_sentences,
    stem,
    terms,
    unit,
)

LOGGER = logging.getLogger(__name__)

MIN_FIT = 0.12  # below this, no member headline represents the story
SWITCH_RATIO = 1.15  # a new title must beat the current one by this factor ...
SWITCH_MARGIN = 0.03  # ... plus this much
_OUTLET_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")


@dataclass
class StoryTitle:
    """A story's title, where it came from and how well it fits."""

    text: str
    item_id: str | None  # the member whose headline it is; None for a key-term label
    score: float
    kind: str = "headline"  # "headline" or "label"
    changed: bool = False  # True when this call replaced the previous title

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "item_id": self.item_id, "score": round(self.score, 4),
                "kind": self.kind, "changed": self.changed}


def tidy_headline(text: str | None) -> str:
    """Returns a headline without a trailing ' - Outlet' suffix and final full stop."""
    text = clean(text)
    if len(text.split()) > 5:
        text = _OUTLET_SUFFIX.sub("", text)
    return text.rstrip(" .")


def _quality(text: str) -> float:
    n = len(text.split())
    factor = 1.0
    if n < 4:
        factor *= 0.6
    elif n > 20:
        factor *= 0.7
    if text.endswith("?"):
        factor *= 0.8
    if text.isupper():
        factor *= 0.7
    return factor


def score_headlines(members: Sequence[Member]) -> dict[str, float]:
    """Returns each member's headline score (member id -> score); members without titles left out."""
    heads = {m.id: tidy_headline(m.item.title) for m in members if m.item.title}
    heads = {k: v for k, v in heads.items() if terms(v)}
    if not heads:
        return {}
    bodies = {m.id: terms(m.item.headline) + [t for s in item_sentences(m.item)[:5] for t in s.terms]
              for m in members}
    vec = Vectoriser(list(bodies.values()))
    centroid = unit(vec.transform(list(bodies.values())).sum(axis=0))
    ids = list(heads)
    head_rows = vec.transform([terms(heads[i]) for i in ids])
    central = head_rows @ centroid
    pair = (head_rows @ head_rows.T).toarray()
    source = {m.id: (m.sources[0] if m.sources else m.id) for m in members}
    by_id = {m.id: m for m in members}
    scores: dict[str, float] = {}
    for k, mid in enumerate(ids):
        others = [pair[k, j] for j, other in enumerate(ids) if other != mid and source[other] != source[mid]]
        shared = float(np.mean(others)) if others else 0.0
        scores[mid] = (float(central[k]) + 0.5 * shared) * _quality(heads[mid])
        if url_headline(by_id[mid].item):
            scores[mid] *= 0.5  # read from a URL's slug: lower case, no punctuation
    return scores


def key_term_label(members: Sequence[Member], n: int = 4) -> str:
    """Returns a label of the story's most frequent content words, in their usual spelling."""
    counts: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    for m in members:
        text = f"{m.item.title or ''} {m.item.text[:1000]}"
        seen = set()
        for raw in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text):
            low = raw.casefold()
            if not terms(low):
                continue
            key = stem(low)
            spelling.setdefault(key, Counter())[raw] += 1
            if key not in seen:  # document frequency: words many members use
                counts[key] += 1
                seen.add(key)
    top = [spelling[k].most_common(1)[0][0] for k, _ in counts.most_common(n)]
    if not top:
        return "Untitled story"
    label = ", ".join(top)
    return label[0].upper() + label[1:]


def story_title(
    items: Sequence[Item],
    copies: Mapping[str, str] | None = None,
    *,
    current: str | None = None,
) -> StoryTitle:
    """Returns the story's title: its best headline (or a key-term label), with hysteresis.

    `current` is the title shown so far; it is kept unless the best candidate scores clearly
    higher under the story's current membership, or it no longer belongs to any member.
    """
    members = fold_copies(items, copies)
    if not members:
        return StoryTitle(current or "Untitled story", None, 0.0, "label")
    scores = score_headlines(members)
    best_id = max(scores, key=lambda k: scores[k]) if scores else None
    by_id = {m.id: m for m in members}
    if best_id is None or (scores[best_id] < MIN_FIT and len(members) > 1):
        best = StoryTitle(key_term_label(members), None, 0.0, "label")
    else:
        best = StoryTitle(tidy_headline(by_id[best_id].item.title), best_id, scores[best_id])
    if current is None or current == best.text:
        return best
    held = [mid for mid in scores if tidy_headline(by_id[mid].item.title) == current]
    if held:
        cur_score = max(scores[mid] for mid in held)
        if best.score <= cur_score * SWITCH_RATIO + SWITCH_MARGIN:
            return StoryTitle(current, held[0], cur_score)
    elif best.kind == "label" and current == key_term_label(members):
        return StoryTitle(current, None, 0.0, "label")
    best.changed = True
    return best
