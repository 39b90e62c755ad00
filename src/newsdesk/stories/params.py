"""The story stage's settings: declared once here with their ranges, values in settings.json.

Each setting is also an ordinary desk setting named `story_<key>` (environment variable
`NEWSDESK_STORY_<KEY>`, listed by `newsdesk settings`). `settings.json` is written by
`python benchmarks/cluster.py --tune`; a missing, unknown or out-of-range key is an error
that names it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from newsdesk.errors import InputError


@dataclass(frozen=True)
class Spec:
    key: str
    kind: type
    low: float
    high: float
    help: str


SPECS: tuple[Spec, ...] = (
    Spec("title_weight", float, 1.0, 5.0, "Times a headline word counts against a body word."),
    Spec("lead_words", int, 10, 1000, "Words of an item's body the story stage reads (the lead names the event)."),
    Spec("article_words", int, 30, 2000, "A body longer than this many words is a full article, compared by title and lead."),
    Spec("threshold_headline", float, 0.0, 1.0, "Score a bare headline needs to join a story (interpolated up to a lede's)."),
    Spec("threshold", float, 0.0, 1.0, "Score a lede or longer short item needs to join a story."),
    Spec("threshold_article", float, 0.0, 1.0, "Score a full article needs to join a story."),
    Spec("coherence_power", float, 0.0, 10.0, "How steeply a loose story (members unlike each other) attracts less than a tight one."),
    Spec("member_weight", float, 0.0, 1.0, "Share of the score that is the closest recent member rather than the story centroid."),
    Spec("vector_weight", float, 0.0, 1.0, "Share of the score that is dense-vector similarity (with vectors on)."),
    Spec("time_penalty", float, 0.0, 1.0, "Weight of the time evidence: a bonus within the news cycle, a penalty growing to a whole window away, each side weighted by how rare it is among the stream's candidates."),
    Spec("window_days", float, 0.5, 3650.0, "How far apart in days a headline or lede may be from a story it joins."),
    Spec("window_days_article", float, 0.5, 3650.0, "How far apart in days a full article may be from a story it joins."),
    Spec("merge_margin", float, 0.0, 1.0, "How far above the join threshold two stories must score to be merged automatically."),
    Spec("split_separation", float, 0.0, 2.0, "How clearly two halves of a story of full articles must be apart to be split."),
    Spec("consolidate_every", int, 0, 1_000_000, "New items between two consolidation passes over the active window (0: only on demand)."),
)
BY_KEY = {s.key: s for s in SPECS}


def check(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Returns the settings with their declared types; raises InputError naming a bad key."""
    for key in values:
        if key not in BY_KEY:
            raise InputError(f"{where}: unknown story setting {key!r}")
    out: dict[str, Any] = {}
    for spec in SPECS:
        if spec.key not in values:
            raise InputError(f"{where}: missing story setting {spec.key!r}")
        out[spec.key] = coerce(spec, values[spec.key], where)
    return out


def coerce(spec: Spec, value: Any, where: str, name: str | None = None) -> Any:
    """Returns one value as its declared type, or raises InputError naming the setting."""
    label = f"{where}: story setting {name or repr(spec.key)}"
    try:
        if isinstance(value, bool) or value is None:
            raise ValueError
        number = float(value)
        if spec.kind is int:
            if number != int(number):
                raise ValueError
            number = int(number)
    except (TypeError, ValueError):
        raise InputError(f"{label} must be a{'' if spec.kind is float else 'n integer'} number, "
                         f"not {value!r}") from None
    if not spec.low <= number <= spec.high:
        raise InputError(f"{label} = {value!r} is out of range [{spec.low:g}, {spec.high:g}]")
    return number


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """Returns the settings shipped in settings.json, checked."""
    raw = (resources.files("newsdesk.stories") / "settings.json").read_text(encoding="utf-8")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"newsdesk/stories/settings.json:{e.lineno}: not valid JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise InputError("newsdesk/stories/settings.json: not a JSON object")
    return check(data, "newsdesk/stories/settings.json")
