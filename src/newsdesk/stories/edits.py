"""Editor corrections applied to the store and to the clustering state together.

Called by StoriesService inside one transaction. Centroids change incrementally (an item's
vector is taken out of one story and added to another); counts, span and fallback title
are recounted from the stored members.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from newsdesk.stories.cluster import Engine, StoryState
from newsdesk.stories.features import lead_title
from newsdesk.stories.stage import StoryStage, story_id_for, story_row

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)


# The story stage edits use for a desk that runs without one, one per context.
_SPARE: WeakKeyDictionary[Any, StoryStage] = WeakKeyDictionary()


def stage_for(desk: Context) -> StoryStage:
    """Returns the desk's story stage (built on demand when the desk runs without it)."""
    for stage in desk.stages:
        if isinstance(stage, StoryStage):
            stage.ensure(desk)
            return stage
    spare = _SPARE.get(desk)
    if spare is None:
        spare = _SPARE[desk] = StoryStage(desk)
    spare.ensure(desk)
    return spare


def _states(stage: StoryStage, desk: Context, ids: Iterable[str]) -> dict[str, StoryState]:
    engine = stage.engine
    assert engine is not None
    out: dict[str, StoryState] = {}
    missing = []
    for sid in ids:
        if sid in engine.stories:
            out[sid] = engine.stories[sid]
        else:
            missing.append(sid)
    for row, state in desk.store.story_states(ids=missing):
        s = StoryState.from_row(row, state)
        engine.put(s)
        out[s.id] = s
    return out


def new_story(desk: Context, item_id: str) -> str:
    """Returns the id of a new, empty story registered with the engine."""
    stage = stage_for(desk)
    story = stage.new_story(desk, item_id)
    return story.id


def merge(desk: Context, a: str, b: str) -> str:
    """Merges stories a and b into the older one; returns its id."""
    stage = stage_for(desk)
    engine = stage.engine
    assert engine is not None
    states = _states(stage, desk, [a, b])
    sa, sb = states[a], states[b]
    keep, gone = (sa, sb) if sa.seq < sb.seq else (sb, sa)
    engine.absorb(keep, gone)
    desk.store.redirect_story(gone.id, keep.id)
    desk.store.remove_block(keep.id, gone.id)
    stage.redirects[gone.id] = keep.id
    _recount(desk, keep)
    return keep.id


def move(desk: Context, item_ids: Sequence[str], source: str | None, target: str, *, how: str,
         pinned: bool = True) -> list[str]:
    """Moves items and their copies from story `source` to `target`; returns the ids moved.

    An editor's move pins the items (automatic steps leave them); the story stage's own
    split does not.
    """
    stage = stage_for(desk)
    engine = stage.engine
    assert engine is not None
    store = desk.store
    states = _states(stage, desk, [s for s in (source, target) if s])
    src, dst = (states.get(source) if source else None), states[target]
    group: list[str] = []
    for iid in item_ids:
        if iid not in group:
            group.append(iid)
        for c in store.copies_of(iid):
            if c not in group and store.member_story(c) == source:
                group.append(c)
    in_source = store.member_stories(group)
    canonical = [it for it in store.items_by_ids(group) if not store.copy_of(it.id)]
    _with_entities(desk, canonical)
    vectors: list[Any] = [None] * len(canonical)
    if stage.embedder is not None and canonical:
        vectors = [v if v.any() else None for v in stage.embedder.encode_items(canonical)]
    for it, vec in zip(canonical, vectors, strict=True):
        f = stage.features(it, vec, learn=False)
        if src is not None and in_source.get(it.id) == source:
            engine.fold(src, f.terms, f.entities, f.vector, 1, sign=-1.0)
        engine.fold(dst, f.terms, f.entities, f.vector, 1)
    for iid in group:
        if iid in in_source:
            store.set_member(iid, target, how, pinned=pinned)
        else:
            store.add_members([(iid, target, None, None, how, int(pinned))])
    for s in (src, dst):
        if s is not None:
            _recount(desk, s)
            engine.put(s)
    return group


def _with_entities(desk: Context, items: Sequence[Any]) -> None:
    """Puts on items read back from the store the entity keys the entity stage gave them, so
    a move takes their entity counts from one story to the other."""
    keys_of = getattr(desk.store, "item_entity_keys", None)
    if keys_of is None or not items:
        return
    from newsdesk.nlp.stage import salient

    found = keys_of([it.id for it in items])
    total = desk.store.enriched_item_count()
    for it in items:
        keyed = found.get(it.id, [])
        it.annotations["entities"] = salient([k for k, _ in keyed], dict(keyed), total)


def _recount(desk: Context, s: StoryState) -> None:
    info = desk.store.story_member_summary(s.id)
    s.size, s.copies = info["size"], info["copies"]
    s.first = info["first"] if info["first"] is not None else float("inf")
    s.last = info["last"] if info["last"] is not None else float("-inf")
    s.sources, s.unattributed = info["sources"], info["unattributed"]
    s.titled = bool(info["titled"])
    s.title = info["title"] if s.titled else lead_title(info["title"])
    s.title_time = info["title_time"] if info["title_time"] is not None else float("inf")
    s.dirty = True


def finish(desk: Context) -> None:
    """Writes the changed stories and marks the stories changed for other processes."""
    stage = stage_for(desk)
    engine: Engine | None = stage.engine
    assert engine is not None
    dirty = [s for s in engine.stories.values() if s.dirty]
    desk.store.save_stories([story_row(s) for s in dirty])
    for s in dirty:
        s.dirty = False
        if not s.size:
            engine.drop(s.id)
    stage.generation = desk.store.bump_story_generation()


__all__ = ["finish", "merge", "move", "new_story", "stage_for", "story_id_for"]
