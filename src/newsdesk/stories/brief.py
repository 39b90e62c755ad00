"""Story titles, summaries, timelines, briefings and trending (a service the Desk composes).

    story_title(story_id) -> StoryTitle                  the title the story is listed with
    story_summary(story_id, since=None) -> Summary       2-5 cited sentences; with since: what is new
    story_timeline(story_id) -> list[TimelineEntry]      members by time, copies folded, new facts
    brief(since=None, top=10, now=None) -> Brief         the top stories, ranked, each summarised
    trending(window=6h, now=None, top=10) -> list[Trend] stories whose new sources are rising
    render_brief(brief, fmt) -> str                      'md', 'html' (self-contained) or 'json'

The algorithms are pure functions in label.py, summarize.py, timeline.py and trending.py;
this module reads stories through the stories service and entities through the entities
service when the desk has one.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsdesk.errors import InputError, NewsdeskError
from newsdesk.model import Item
from newsdesk.stories.label import StoryTitle
from newsdesk.stories.sentences import as_utc, fold_copies, when
from newsdesk.stories.summarize import Summary, summarize
from newsdesk.stories.timeline import TimelineEntry, build_timeline
from newsdesk.stories.trending import Trend, rank_trends, story_trend

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.nlp.api import EntitiesService
    from newsdesk.outlets.api import OutletsService
    from newsdesk.store.protocol import Store
    from newsdesk.stories.api import StoriesService

LOGGER = logging.getLogger(__name__)

FORMATS = ("md", "html", "json")
MAX_MEMBERS = 120  # members read for a summary; the earliest and latest are kept


@dataclass
class BriefStory:
    """One story in a briefing."""

    story_id: str
    title: str
    summary: Summary
    entities: list[dict[str, Any]]
    sources: int
    source_names: list[str]
    size: int
    first_time: datetime | None
    last_time: datetime | None
    new_sources: list[str]
    score: float
    changes: Summary | None = None  # what the story added since the briefing's start
    languages: list[str] = field(default_factory=list)  # of its members, the most used first

    @property
    def span_hours(self) -> float:
        if self.first_time is None or self.last_time is None:
            return 0.0
        return (self.last_time - self.first_time).total_seconds() / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id, "title": self.title, "summary": self.summary.to_dict(),
            "entities": self.entities, "sources": self.sources, "source_names": self.source_names,
            "size": self.size, "first_time": _iso(self.first_time), "last_time": _iso(self.last_time),
            "span_hours": round(self.span_hours, 2), "new_sources": self.new_sources,
            "score": round(self.score, 4),
            "changes": self.changes.to_dict() if self.changes is not None else None,
            "languages": list(self.languages),
        }


@dataclass
class Brief:
    """A briefing: the top stories of a period, ranked."""

    generated: datetime
    since: datetime | None
    until: datetime | None
    stories: list[BriefStory] = field(default_factory=list)
    blindspots_by: str | None = None  # the outlet attribute blindspots compare (setting blindspot_attribute)
    blindspots: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"generated": _iso(self.generated), "since": _iso(self.since), "until": _iso(self.until),
                "stories": [s.to_dict() for s in self.stories],
                "blindspots_by": self.blindspots_by, "blindspots": self.blindspots}


def _languages(items: list[Item]) -> list[str]:
    """Returns the languages of a story's items, the most used first ("unknown" last)."""
    counts: dict[str, int] = {}
    for it in items:
        lang = it.language or "unknown"
        counts[lang] = counts.get(lang, 0) + 1
    return sorted(counts, key=lambda k: (k == "unknown", -counts[k], k))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _entity_dict(value: Any) -> dict[str, Any] | None:
    """Returns {name, role, kind} read from whatever the entities area returns for one entity."""
    def pick(*keys: str) -> Any:
        for key in keys:
            v = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
            if v:
                return v
        return None

    if isinstance(value, str):
        return {"name": value, "role": None, "kind": None, "key": None}
    name = pick("name", "canonical", "text", "label")
    if not name:
        return None
    role = pick("role", "roles")
    if isinstance(role, (list, tuple, set)):
        role = ", ".join(str(r) for r in role)
    return {"name": str(name), "role": str(role) if role else None, "kind": pick("kind", "type"),
            "key": pick("key")}


class BriefService:
    """Summaries, timelines and briefings."""

    def __init__(self, ctx: Context, stories: StoriesService, entities: EntitiesService | None = None,
                 outlets: OutletsService | None = None):
        self.ctx = ctx
        self.story_service = stories
        self.entity_service = entities
        self.outlet_service = outlets

    @property
    def store(self) -> Store:
        return self.ctx.store

    def brief_version(self) -> tuple[int, int]:
        """Returns what moves whenever a briefing could change: the newest item stored and
        the stories' generation (bumped by every story write and editor's correction)."""
        return self.store.last_item_rowid(), self.store.story_generation()

    # -- reading a story ---------------------------------------------------------------------
    def _story_input(self, story_id: str) -> tuple[Any, list[Item], dict[str, str]]:
        """Returns (story, member items, copy map) of a story, capped at MAX_MEMBERS."""
        story = self.story_service.story(story_id)
        members = self.story_service.story_items(story.id)
        items = [m.item for m in members]
        copies = {m.item.id: m.copy_of for m in members if m.copy_of}
        if len(items) > MAX_MEMBERS:
            half = MAX_MEMBERS // 2
            ordered = sorted(items, key=when)
            keep = ordered[:half] + ordered[-half:]
            ids = {it.id for it in keep}
            keep += [it for it in items if it.id not in ids and copies.get(it.id) in ids]
            items = keep
        return story, items, copies

    def story_title(self, story_id: str) -> StoryTitle:
        """Returns the story's title as listed: its earliest headline (else its earliest lead,
        cut at a word), kept by the story stage. Reading it writes nothing."""
        story = self.story_service.story(story_id)
        return StoryTitle(story.title or story.id, None, 0.0, "headline")

    def story_summary(self, story_id: str, since: datetime | None = None) -> Summary:
        """Returns the story's cited summary; with since, only what it added after that time."""
        story, items, copies = self._story_input(story_id)
        summary = summarize(items, copies, story_id=story.id, since=since)
        if summary.since is not None:
            summary.new_entities = self._new_entities(story.id, items, copies, summary.since)
        return summary

    def story_timeline(self, story_id: str) -> list[TimelineEntry]:
        """Returns the story's members by time, copies folded, with the new facts each brought."""
        _story, items, copies = self._story_input(story_id)
        return build_timeline(items, copies)

    def _entities_of(self, story_id: str, limit: int = 8) -> list[dict[str, Any]]:
        if self.entity_service is None:
            return []
        fn = self.entity_service.story_entities
        try:
            found = fn(story_id)
        except NewsdeskError as e:
            LOGGER.info("no entities for story %s: %s", story_id, e)
            return []
        out = [d for d in (_entity_dict(v) for v in list(found or [])[:limit]) if d]
        if any(d["role"] is None for d in out):
            self._add_roles(story_id, out)
        return out

    def _add_roles(self, story_id: str, entities: list[dict[str, Any]]) -> None:
        """Fills each entity's role from the roles the story's own items state (else any)."""
        find = getattr(self.store, "find_entity", None)
        roles_of = getattr(self.store, "entity_roles", None)
        if find is None or roles_of is None:
            return
        members = {m.item.id for m in self.story_service.story_items(story_id)}
        for e in entities:
            if e["role"] is not None:
                continue
            try:
                roles = roles_of(find(e.get("key") or e["name"])["id"])
            except NewsdeskError:
                continue
            here = [r for r in roles if members & set(r.get("items") or [])]
            if here:
                e["role"] = str(here[0]["role"])

    def _new_entities(self, story_id: str, items: list[Item], copies: dict[str, str],
                      since: datetime) -> list[dict[str, Any]]:
        """Returns the story's entities named by members after `since` and by none before."""
        entities = self._entities_of(story_id, limit=100)
        if not entities:
            return []
        old = " ".join(it.body for it in items if when(it) < since).casefold()
        new = " ".join(it.body for it in items if when(it) >= since).casefold()
        return [e for e in entities if e["name"].casefold() in new and e["name"].casefold() not in old]

    # -- briefing ----------------------------------------------------------------------------
    def brief(self, since: datetime | None = None, top: int = 10, now: datetime | None = None) -> Brief:
        """Returns the top stories active since `since`, ranked by sources, growth and recency
        (then size).

        Recency and growth are measured against `now` (default: the newest story time in the
        store, so a replayed archive briefs like a live desk). Growth counts the outlets
        whose first report fell after `since` (default: the 24 hours before `now`).
        """
        if top < 1:
            raise InputError(f"top {top}: must be at least 1")
        since, now = as_utc(since), as_utc(now)
        ref = now or self._latest_time() or datetime.now(UTC)
        window_start = since or ref - timedelta(hours=24)
        candidates = self.story_service.stories(limit=max(5 * top, 50), since=since, order="rank")
        ranked = []
        for story in candidates:
            _s, items, copies = self._story_input(story.id)
            members = fold_copies(items, copies)
            first: dict[str, datetime] = {}
            for m in members:
                if m.item.source:
                    first.setdefault(m.item.source, when(m.item))
                    first[m.item.source] = min(first[m.item.source], when(m.item))
            new_sources = sorted(s for s, t in first.items() if t >= window_start)
            age_h = max(0.0, (ref - (story.last_time or ref)).total_seconds() / 3600.0)
            score = math.log1p(story.sources) + math.log1p(len(new_sources)) + math.exp(-age_h / 24.0)
            ranked.append((score, story, items, copies, sorted(first), new_sources))
        ranked.sort(key=lambda r: (-r[0], -r[1].size, r[1].id))  # a tie: the larger story first
        out = Brief(generated=datetime.now(UTC), since=since, until=now)
        for score, story, items, copies, names, new_sources in ranked[:top]:
            summary = summarize(items, copies, story_id=story.id)
            changes = None
            if since is not None and story.first_time is not None and story.first_time < since:
                changes = summarize(items, copies, story_id=story.id, since=since)
                changes.new_entities = self._new_entities(story.id, items, copies, since)
            out.stories.append(BriefStory(
                story_id=story.id, title=self.story_title(story.id).text, summary=summary,
                entities=self._entities_of(story.id), sources=story.sources, source_names=names,
                size=story.size, first_time=story.first_time, last_time=story.last_time,
                new_sources=new_sources, score=score, changes=changes, languages=_languages(items),
            ))
        out.blindspots_by, out.blindspots = self._brief_blindspots(since, top)
        return out

    def _brief_blindspots(self, since: datetime | None, top: int) -> tuple[str | None, list[dict[str, Any]]]:
        """Returns the attribute and the blindspot stories of the period (none when no outlet has it)."""
        finder = self.outlet_service.blindspots if self.outlet_service is not None else None
        attr = str(self.ctx.setting("blindspot_attribute") or "")
        if finder is None or not attr or attr not in self.store.outlet_attribute_names():
            return None, []
        return attr, finder(attr, since=since, limit=top)

    def trending(self, window: timedelta = timedelta(hours=6), now: datetime | None = None,
                 top: int = 10, min_sources: int = 2) -> list[Trend]:
        """Returns stories whose new independent sources rose from the previous window to the last."""
        if window.total_seconds() <= 0:
            raise InputError("trending window must be positive")
        now = as_utc(now)
        ref = now or self._latest_time() or datetime.now(UTC)
        trends = []
        for story in self.story_service.stories(limit=500, since=ref - 2 * window, order="recent"):
            _s, items, copies = self._story_input(story.id)
            trends.append(story_trend(story.id, story.title, fold_copies(items, copies), now=ref, window=window))
        ranked = rank_trends(trends, min_sources=min_sources, top=top)
        for t in ranked:
            t.title = self.story_title(t.story_id).text
        return ranked

    def _latest_time(self) -> datetime | None:
        fn = getattr(self.store, "latest_story_time", None)
        value = fn() if fn else None
        return datetime.fromisoformat(value) if value else None


# -- rendering -----------------------------------------------------------------------------------
def render_brief(brief: Brief, fmt: str = "md") -> str:
    """Returns the briefing as Markdown, a self-contained HTML page, or JSON."""
    if fmt == "json":
        return json.dumps(brief.to_dict(), ensure_ascii=False, indent=2)
    if fmt == "md":
        return _markdown(brief)
    if fmt == "html":
        return _html(brief)
    raise InputError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")


def _span(hours: float) -> str:
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "?"


def _md_escape(text: str) -> str:
    """Returns text with Markdown and HTML control characters neutralised."""
    for ch in "\\`*_[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return text


def _markdown(brief: Brief) -> str:
    lines = ["# News brief", ""]
    period = f"since {_when(brief.since)}" if brief.since else "all stories"
    lines += [f"_Generated {_when(brief.generated)} UTC, {period}, {len(brief.stories)} stories._", ""]
    for n, s in enumerate(brief.stories, 1):
        lines += [f"## {n}. {_md_escape(s.title)}", ""]
        lines.append(f"{s.sources} sources · {s.size} items · {_when(s.first_time)} to "
                     f"{_when(s.last_time)} ({_span(s.span_hours)}) · "
                     + (f"languages: {_md_escape(', '.join(s.languages))} · " if s.languages else "")
                     + f"story `{s.story_id}`")
        lines.append("")
        for sent in s.summary.sentences:
            cites = ", ".join(_md_escape(x) for x in sent.sources) or ", ".join(sent.item_ids)
            lines.append(f"- {_md_escape(s.summary.marked(sent))} [{cites}]")
        if s.changes is not None and (s.changes.sentences or s.changes.new_sources):
            lines += ["", "**New since the last brief:**"]
            for sent in s.changes.sentences:
                lines.append(f"- {_md_escape(sent.text)} [{', '.join(_md_escape(x) for x in sent.sources)}]")
            if s.changes.new_sources:
                lines.append(f"- New sources: {', '.join(_md_escape(x) for x in s.changes.new_sources)}")
        if s.entities:
            ents = "; ".join(_md_escape(e["name"]) + (f" ({_md_escape(e['role'])})" if e.get("role") else "")
                             for e in s.entities)
            lines += ["", f"Main entities: {ents}"]
        lines.append("")
    if brief.blindspots:
        lines += [f"## Blindspots (by {_md_escape(brief.blindspots_by or '')})", ""]
        for b in brief.blindspots:
            counts = ", ".join(f"{_md_escape(str(k))} {v}" for k, v in b["counts"].items())
            lines.append(f"- {_md_escape(b['title'] or b['story'])}: few or no "
                         f"{_md_escape(', '.join(b['missing']))} sources ({counts}) · story `{b['story']}`")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _html(brief: Brief) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("newsdesk.stories", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["when"] = _when
    env.filters["span"] = _span
    return env.get_template("brief.html").render(brief=brief)
