"""The story stage: each new item joins the best active story or starts one, online.

The stage keeps an `Engine` (active stories and their index) in memory, loaded lazily
from the store on first use and reloaded when another writer (another process, or an
editor's correction) changed the stories since. Everything it decides is written to the
store in the batch's transaction: memberships, decisions with their score components,
story rows with their clustering state, and the term counts that weight words.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

import numpy as np

from newsdesk.errors import NotInstalled
from newsdesk.model import Item
from newsdesk.pipeline import Stage
from newsdesk.store.stories import epoch, iso_from_epoch
from newsdesk.stories.cluster import (
    DAY,
    MEMBER_TERMS,
    RECENT_MEMBERS,
    Choice,
    Engine,
    StoryState,
    separation,
    two_means,
)
from newsdesk.stories.features import (
    Features,
    TermWeights,
    background,
    entity_keys,
    is_article,
    item_time,
    item_title,
    raw_counts,
    vectorise,
)
from newsdesk.stories.params import SPECS, coerce, shipped

if TYPE_CHECKING:
    from newsdesk.context import Context

LOGGER = logging.getLogger(__name__)
_WARNED: set[str] = set()  # say once per process what is missing
ENGINE_STATE_KEY = "engine_state"  # story_meta: the engine's state beyond the stories
ARTICLE_COUNTS_KEPT = 4096  # recent full articles whose word counts the split check keeps
WINDOW_KEPT = 1100  # latest decided items whose features a consolidation pass reuses (its window is 1,000)


MERGE_CHECKS = frozenset({2, 4, 8, 16, 32, 64})  # story sizes at which a merge is looked for
SPLIT_CHECKS = frozenset({6, 8, 10, 12, 16, 20, 24, 32, 48, 64})  # ... and a split
SPLIT_MIN = 3  # each part of a split holds at least this many members and a quarter of them


def default_params() -> dict[str, Any]:
    """Returns the clustering settings shipped with the package (see params.py)."""
    return dict(shipped())


def desk_params(desk: Context) -> dict[str, Any]:
    """Returns the clustering settings in force for a desk: its settings, else the
    environment (NEWSDESK_STORY_<KEY>), else settings.json; each checked."""
    out = {}
    for spec in SPECS:
        name = "story_" + spec.key
        out[spec.key] = coerce(spec, desk.setting(name), "settings", f"{name} (NEWSDESK_{name.upper()})")
    return out


def story_id_for(item_id: str, attempt: int = 0) -> str:
    """Returns the id a story started by this item gets (attempt > 0 on a clash)."""
    return "s" + blake2b(f"{item_id}/{attempt}".encode(), digest_size=5).hexdigest()


class StoryStage(Stage):
    """Clusters new items into stories (see the module docstring)."""

    name = "stories"

    @classmethod
    def create(cls, desk: Context) -> StoryStage:
        return cls(desk)

    def __init__(self, desk: Context, params: dict[str, Any] | None = None):
        self.params = desk_params(desk)
        self.params.update(params or {})
        self.engine: Engine | None = None
        self.weights: TermWeights | None = None
        self.generation = -1
        self.low = math.inf          # every story whose last member is after this is loaded
        self.low_article = math.inf  # every story of mostly full articles after this is loaded
        self.next_seq = 1
        self.loaded_stories = 0  # stories read from the store into the engine by time window
        self.embedder = None
        # Recent full articles' word counts (they do not depend on the weights): split checks
        # weight them anew, as they would a member read back from the store.
        self.article_counts: OrderedDict[str, Counter[str]] = OrderedDict()
        self.redirects: dict[str, str] = {}
        # The latest items this process decided: their features (terms before weighting) and
        # dense vectors, which do not change, so a consolidation pass need not read and embed
        # them again; only the term weights are applied afresh.
        self.window: OrderedDict[str, tuple[Counter[str], Features, Any]] = OrderedDict()
        self.since_pass = 0  # canonical items since the last consolidation pass
        self.refiner = None  # cascade: the transformer, asked again for close decisions only
        self.refine_calls = 0
        self.refine_new = False  # cascade: also the items that find no candidate story
        self.cascade_margin = float(desk.setting("embed_cascade_margin"))
        from newsdesk.nlp.embed import backend_for, load_embedder, load_refiner

        backend = backend_for(desk.settings)
        try:
            self.embedder = load_embedder(backend)
            if backend == "cascade":
                self.refiner = load_refiner(str(desk.setting("embed_cascade_refiner")))
                self.refine_new = str(desk.setting("embed_cascade_new")).lower() in {"1", "true", "yes", "on"}
        except NotInstalled as e:
            if str(e) not in _WARNED:
                _WARNED.add(str(e))
                LOGGER.warning("story clustering without %s vectors: %s",
                               "transformer" if self.embedder is not None else "dense", e)

    # -- loading --------------------------------------------------------------------------
    def ensure(self, desk: Context) -> Engine:
        """Returns the engine, (re)loaded from the store when the stories changed elsewhere."""
        store = desk.store
        gen = store.story_generation()
        if self.engine is not None and gen == self.generation:
            return self.engine
        self.weights = self._weights(desk)
        self.engine = Engine(self.params)
        self.redirects = {}
        # Nothing is loaded up front: each new item loads the stories of its own window (_cover).
        self.low = self.low_article = math.inf
        self.next_seq = store.next_story_seq()
        self._restore_engine_state(desk)
        self.generation = gen
        return self.engine

    def _weights(self, desk: Context) -> TermWeights:
        """Returns term weights that read the stored document frequencies term by term, when
        needed (a store of a million items has millions of terms: none is loaded up front)."""
        bg, bg_n = background()
        weights = TermWeights(bg, bg_n, lookup=desk.store.term_df)
        weights.n = desk.store.term_documents()
        return weights

    def _load(self, desk: Context, since: float, until: float | None, long_only: bool = False) -> None:
        assert self.engine is not None
        rows = desk.store.story_states(since=iso_from_epoch(since), until=iso_from_epoch(until),
                                       long_only=long_only)
        loaded = [StoryState.from_row(row, state) for row, state in rows if row["id"] not in self.engine.stories]
        self.engine.put_loaded(loaded)
        self.loaded_stories += len(loaded)

    def horizon_days(self) -> float:
        """Returns how far back (days) an item may find a story: the longer of the windows."""
        return max(self.params["window_days"], self.params["window_days_article"])

    # -- features -------------------------------------------------------------------------
    def features(self, item: Item, vector: Any = None, *, learn: bool = True,
                 counts: Counter[str] | None = None) -> Features:
        """Returns the item's features; learn=True also counts its words for weighting.
        `counts`: the item's raw term counts, when the caller has them already."""
        assert self.weights is not None
        if counts is None:
            counts = raw_counts(item, self.params)
        article = is_article(item, self.params)
        if learn:
            self.weights.observe(set(counts))
            if article:
                self.article_counts[item.id] = counts
                if len(self.article_counts) > ARTICLE_COUNTS_KEPT:
                    self.article_counts.popitem(last=False)
        t, dated = item_time(item)
        f = Features(
            item_id=item.id, terms=vectorise(counts, self.weights), length=len(counts), time=t,
            dated=dated, source=item.annotations.get("source_key", item.source),
            entities=entity_keys(item), vector=vector,
            headline=item.headline, article=article,
        )
        if learn:
            self.window[item.id] = (counts, f, vector)
            if len(self.window) > WINDOW_KEPT:
                self.window.popitem(last=False)
        return f

    def window_features(self, desk: Context, ids: list[str]) -> dict[str, tuple[Counter[str], Features, Any]]:
        """Returns, for a consolidation pass, each stored item's term counts (unweighted),
        features and dense vector (all zeros where it has no words to embed; None without
        vectors).

        Items this process decided lately reuse what it computed then; the others are read
        from the store and embedded again. Either way it is what the item read afresh gives.
        """
        need = [i for i in ids if i not in self.window]
        read = {it.id: it for it in desk.store.items_by_ids(need)} if need else {}
        fresh: dict[str, Any] = {}
        if self.embedder is not None and read:
            order = [i for i in need if i in read]
            fresh = dict(zip(order, self.embedder.encode_items([read[i] for i in order]), strict=True))
        zero = np.zeros(self.embedder.dim, dtype=np.float32) if self.embedder is not None else None
        out: dict[str, tuple[Counter[str], Features, Any]] = {}
        for i in ids:
            kept = self.window.get(i)
            if kept is not None:
                counts, f, vec = kept
                out[i] = (counts, f, zero if vec is None else vec)
            elif i in read:
                counts = raw_counts(read[i], self.params)
                out[i] = (counts, self.features(read[i], learn=False, counts=counts), fresh.get(i))
        return out

    # -- the stage ------------------------------------------------------------------------
    def process(self, desk: Context, items: Sequence[Item]) -> None:
        """Decides each new item in arrival order; a consolidation pass runs every
        `consolidate_every` canonical items, wherever that falls in the batch, so the passes
        fall at the same items whatever the batch size (copies do not count)."""
        every = int(self.params["consolidate_every"])
        if not every:
            self._process(desk, items)
            return
        start, count = 0, self.since_pass
        for i, item in enumerate(items):
            if not item.annotations.get("copy_of"):
                count += 1
                if count >= every:
                    self._process(desk, items[start:i + 1])
                    start, count = i + 1, 0
        if start < len(items):
            self._process(desk, items[start:])

    def _process(self, desk: Context, items: Sequence[Item]) -> None:
        engine = self.ensure(desk)
        store = desk.store
        latest = epoch(store.latest_story_time())
        engine.live_from = None if latest is None else latest - 2 * self.params["window_days"] * DAY
        engine.live_from_long = None if latest is None else latest - 2 * self.horizon_days() * DAY
        # A copy joins its canonical item's story: it needs no vector of its own. Vectors that
        # cluster workers computed (newsdesk.scaleout) are used as they come.
        pre = [it.annotations.pop("pre_vector", None) for it in items]
        vectors: list[Any] = [None if it.annotations.get("copy_of") or (v is not None and not v.any()) else v
                              for it, v in zip(items, pre, strict=True)]
        if self.embedder is not None and any(v is None for v in vectors):
            need = [i for i, it in enumerate(items) if not it.annotations.get("copy_of") and vectors[i] is None]
            start = time.perf_counter()
            encoded = self.embedder.encode_items([items[i] for i in need])
            for i, vec in zip(need, encoded, strict=True):
                vectors[i] = vec if vec.any() else None  # nothing to embed, or not its language: words alone
                keys = getattr(self.embedder, "neighbour_keys", None)  # lets vectors nominate stories
                if keys is not None and vectors[i] is not None:
                    items[i].annotations["entities"] = [*items[i].annotations.get("entities", []), *keys(vec)]
            desk.add_time("vectors", time.perf_counter() - start)
            # The same vectors serve semantic search (its text is the same title and lead). A zero
            # row (nothing to embed, or a language the model does not read) marks the item as
            # read, so search does not wait for its vector; such an item is found by text.
            store.save_vectors([(items[i].id, vec) for i, vec in zip(need, encoded, strict=True)],
                               model=self.embedder.name)
        members: list[tuple] = []
        decisions: list[tuple] = []
        placed: dict[str, str] = {}
        for item, vec in zip(items, vectors, strict=True):
            copy_of = item.annotations.get("copy_of")
            if copy_of:
                sid = placed.get(copy_of) or store.member_story(copy_of)
                sid = self.current(sid) if sid else None
                story = engine.stories.get(sid) if sid else None
                if story is None and sid:
                    found = store.story_states(ids=[sid])
                    if found:
                        story = StoryState.from_row(*found[0])
                        engine.put(story)
                if story is not None:
                    t, dated = item_time(item)
                    engine.touch(story, t, item.annotations.get("source_key", item.source), copy=True, dated=dated)
                    placed[item.id] = story.id
                    members.append((item.id, story.id, iso_from_epoch(t), copy_of, "copy", 0))
                    decisions.append(_decision_row(item.id, story.id, "copy", None, {"copy_of": copy_of}))
                    continue
            if vec is None and copy_of and self.embedder is not None:  # its story is gone
                vec = self.embedder.encode_items([item])[0]
                vec = vec if vec.any() else None
            f = self.features(item, vec)
            if f.dated:
                self._cover(desk, f.time, f.article)
            else:  # news of the stream's present (Engine.live_from)
                self._cover_live(desk)
            choice = engine.choose(f)
            if self.refiner is not None and f.vector is not None and (choice.best is not None or self.refine_new):
                choice, f = self._refine(desk, item, choice, f)
            if choice.joins:
                assert choice.best is not None
                story = choice.best.story
                action = "joined"
            else:
                story = self._new_story(desk, item.id)
                action = "started"
            title, titled = item_title(item)
            engine.add(story, f, headline=title, titled=titled)
            placed[item.id] = story.id
            members.append((item.id, story.id, iso_from_epoch(f.time), None, action, 0))
            decisions.append(_choice_row(item.id, story.id, action, choice))
            if action == "joined" and story.n in MERGE_CHECKS:
                self._maybe_merge(desk, story, members)
            if (action == "joined" and story.id in engine.stories
                    and story.n in SPLIT_CHECKS and story.articles * 2 > story.n):
                self._maybe_split(desk, story, members, decisions)
        every = int(self.params["consolidate_every"])
        due = False
        if every:  # counted before the flush, which saves the count with the batch
            self.since_pass += sum(1 for it in items if not it.annotations.get("copy_of"))
            if self.since_pass >= every:
                self.since_pass, due = 0, True
        self.flush(desk, members, decisions)
        if due:
            self.consolidate(desk)
        self._settle(desk)

    def finish(self, desk: Context, stored: int) -> dict[str, int] | None:
        """Ends an ingest run that stored `stored` new items (called in a transaction).

        When passes are on, a run that stored at least RUN_MIN new items ends with one, so
        the stories a command or a poll leaves behind are settled whatever the count towards
        the next pass stood at; a run of one item (an API call per item) waits for the count.
        """
        from newsdesk.stories.consolidate import RUN_MIN

        if not int(self.params["consolidate_every"]) or stored < RUN_MIN or not self.since_pass:
            return None
        self.ensure(desk)
        self.since_pass = 0
        self._save_engine_state(desk)
        return self.consolidate(desk)

    def consolidate(self, desk: Context) -> dict[str, int]:
        """Clusters the active window again and applies the differences (see consolidate.py)."""
        from newsdesk.stories.consolidate import consolidate

        start = time.perf_counter()
        done = consolidate(self, desk)
        desk.add_time("consolidation", time.perf_counter() - start)
        return done

    def _refine(self, desk: Context, item: Item, choice: Choice, f: Features) -> tuple[Choice, Features]:
        """Cascade: a decision close to the threshold is taken again with the transformer's vector."""
        assert self.engine is not None and self.refiner is not None
        if choice.best is not None and abs(choice.best.score - choice.threshold) > self.cascade_margin:
            return choice, f
        start = time.perf_counter()
        vec = self.refiner.encode_items([item])[0]
        desk.add_time("vectors", time.perf_counter() - start)
        self.refine_calls += 1
        if not vec.any():
            return choice, f
        f.vector = vec
        return (self.engine.choose(f) if choice.best is not None else choice), f

    def current(self, sid: str) -> str:
        """Returns the story a (possibly merged-away) story id now lives in."""
        seen = 0
        while sid in self.redirects and seen < 100:
            sid = self.redirects[sid]
            seen += 1
        return sid

    def new_story(self, desk: Context, item_id: str) -> StoryState:
        """Returns a new, empty story registered with the engine (editors' splits use it)."""
        return self._new_story(desk, item_id)

    def _new_story(self, desk: Context, item_id: str) -> StoryState:
        assert self.engine is not None
        attempt = 0
        sid = story_id_for(item_id)
        while sid in self.engine.stories or desk.store.story_exists(sid):
            attempt += 1
            sid = story_id_for(item_id, attempt)
        story = StoryState(id=sid, seq=self.next_seq)
        self.next_seq += 1
        self.engine.put(story)
        return story

    def _maybe_merge(self, desk: Context, story: StoryState, members: list) -> None:
        """Merges the story with an active one that now looks the same (unless kept apart)."""
        assert self.engine is not None
        blocked = desk.store.blocked_stories(story.id)
        found = self.engine.similar_story(story, blocked)
        if found is None:
            return
        other = found.story
        keep, gone = (story, other) if story.seq < other.seq else (other, story)
        # No flush: the batch's memberships not written yet are pointed at the story kept (the
        # redirect points the stored ones), and the story that goes is written once, so that
        # the redirect marks its row merged. The decisions keep the story each item chose.
        for k, m in enumerate(members):
            if m[1] == gone.id:
                members[k] = (m[0], keep.id, *m[2:])
        if gone.dirty:
            desk.store.save_stories([story_row(gone)])
            gone.dirty = False
        self.engine.absorb(keep, gone)
        self.redirects[gone.id] = keep.id
        desk.store.redirect_story(gone.id, keep.id)
        LOGGER.debug("merged story %s into %s (%.3f)", gone.id, keep.id, found.score)

    def _maybe_split(self, desk: Context, story: StoryState, members: list, decisions: list) -> None:
        """Splits a story of full articles whose members form two events apart.

        Two events of one kind (two fires at one chain's shops, two title fights of one
        boxer) share most of their words, so the first report of the second one can join
        the first's story. At set sizes the members are cut in two (spherical 2-means over
        their term vectors); when each part is big enough and the members are clearly closer
        to their own part than to the other (`split_separation`), the part without the
        story's first member becomes a story of its own, kept apart from the first. Later
        items choose between the two as usual. A story an editor has worked on is left alone.
        """
        from newsdesk.stories import edits

        assert self.engine is not None
        store = desk.store
        rows = [(r["item_id"], r["pinned"]) for r in store.story_member_rows(story.id) if not r["copy_of"]]
        # and this batch's, not written yet: (item, story, time, copy_of, how, pinned)
        rows += [(m[0], m[5]) for m in members if m[1] == story.id and not m[3]]
        if len(rows) < 2 * SPLIT_MIN or any(pinned for _, pinned in rows):
            return  # too few to tell, or an editor has worked on it
        ids = [i for i, _ in rows]
        # Every member is weighted with today's weights (not as read on arrival): a process that
        # reloaded the stories, and reads the members back from the store, splits alike.
        assert self.weights is not None
        read = {i: (vectorise(self.article_counts[i], self.weights), len(self.article_counts[i]), True)
                for i in ids if i in self.article_counts}
        missing = [i for i in ids if i not in read]
        for it in store.items_by_ids(missing) if missing else []:
            f = self.features(it, learn=False)
            read[it.id] = (f.terms, f.length, f.article)
        ids = [i for i in ids if i in read]
        vecs = [read[i][0] for i in ids]
        groups = two_means(vecs)
        if groups is None:
            return
        a, b = groups
        if 0 not in a:  # the group holding the first member keeps the story
            a, b = b, a
        minimum = max(SPLIT_MIN, len(ids) // 4)
        if len(b) < minimum or len(a) < minimum:
            return
        apart = separation(vecs, a, b)
        if apart < self.params["split_separation"]:
            return
        self.flush(desk, members, decisions)  # the moves below read the stored members
        members.clear()
        decisions.clear()
        moved_ids = [ids[i] for i in b]
        new = edits.new_story(desk, moved_ids[0])
        moved = edits.move(desk, moved_ids, story.id, new, how="split", pinned=False)
        store.add_block(story.id, new, "stories")  # the merge check must not undo it
        store.add_correction("split", story.id, new, moved,
                             f"automatic: two events (separation {apart:.2f})")
        LOGGER.debug("split %d items of story %s into %s (%.3f)", len(moved), story.id, new, apart)
        other = self.engine.stories[new]
        for s_, grp in ((story, a), (other, b)):
            s_.articles = sum(read[ids[i]][2] for i in grp)
            s_.lsum = float(sum(read[ids[i]][1] for i in grp))
            s_.recent = [dict(heapq.nlargest(MEMBER_TERMS, vecs[i].items(), key=lambda kv: kv[1]))
                         for i in grp[-RECENT_MEMBERS:]]
            self.engine.put(s_)

    def flush(self, desk: Context, members: list, decisions: list) -> None:
        """Writes the batch's memberships, decisions, changed stories and term counts."""
        assert self.engine is not None and self.weights is not None
        store = desk.store
        dirty = [s for s in self.engine.stories.values() if s.dirty]
        store.save_stories([story_row(s) for s in dirty])
        for s in dirty:
            s.dirty = False
        store.add_members(members)
        store.add_decisions(decisions)
        n, counts = self.weights.take_pending()
        store.add_term_counts(n, counts)
        self._save_engine_state(desk)
        self.generation = store.bump_story_generation()

    def _save_engine_state(self, desk: Context) -> None:
        """Writes what the engine learned beyond the stories (running score levels, the count
        towards the next consolidation) in the batch's transaction: a process that reloads
        decides as this one would."""
        assert self.engine is not None
        desk.store.set_story_meta(ENGINE_STATE_KEY, json.dumps({
            "levels": self.engine.levels.to_text(), "since_pass": self.since_pass,
            "tick": self.engine.tick,
        }))

    def _restore_engine_state(self, desk: Context) -> None:
        """Reads back what `_save_engine_state` wrote (nothing on a new store)."""
        assert self.engine is not None
        raw = desk.store.story_meta(ENGINE_STATE_KEY)
        if raw:
            state = json.loads(raw)
            self.engine.levels.load_text(state.get("levels"))
            self.since_pass = int(state.get("since_pass") or 0)
            self.engine.tick = max(self.engine.tick, int(state.get("tick") or 0))

    def _settle(self, desk: Context) -> None:
        """Drops the stories gone dormant after a batch (memory stays bounded on a long run). What
        else a running process holds beyond a new one is outside every new item's window, and
        the engine never lets a story outside the window take a candidate's place."""
        assert self.engine is not None
        latest = epoch(desk.store.latest_story_time())
        if latest is not None:
            self._evict(latest)

    def _evict(self, latest: float) -> None:
        """Drops dormant stories: those of mostly full articles after twice the article window,
        the rest after twice the short window (an article item finds those only that far back)."""
        assert self.engine is not None
        short = latest - 2 * self.params["window_days"] * DAY
        long = latest - 2 * self.horizon_days() * DAY
        self.engine.evict_before(short, long)
        self.low = max(self.low, short)
        self.low_article = max(self.low_article, long)

    def _cover_live(self, desk: Context) -> None:
        """Loads the live stories (Engine.live_from) that are not in memory yet: what a running
        engine keeps after its evictions, so an undated item finds the same in a fresh process."""
        assert self.engine is not None
        short, long = self.engine.live_from, self.engine.live_from_long
        if short is not None and long is not None:  # else nothing was stored before this batch
            self._load_from(desk, short, long)

    def _cover(self, desk: Context, t: float, article: bool) -> None:
        """Loads the stories an item at time t may join that are not in memory yet: every story
        of the short window (twice that for a full article) and, for a full article, the
        stories of mostly full articles of the article window (see Engine.candidates)."""
        short = t - self.params["window_days"] * DAY * (2 if article else 1)
        self._load_from(desk, short, t - self.params["window_days_article"] * DAY if article else None)

    def _load_from(self, desk: Context, since: float, since_long: float | None) -> None:
        """Loads every story whose last member is after `since` and, unless None, every story of
        mostly full articles after `since_long`, that is not loaded yet. `low` and
        `low_article` mark what is loaded; low_article <= low always."""
        if since < self.low:
            self._load(desk, since, self.low if self.low < math.inf else None)
            self.low = since
            self.low_article = min(self.low_article, since)  # everything from `since` on is loaded
        if since_long is not None and since_long < self.low_article:
            self._load(desk, since_long, self.low_article if self.low_article < math.inf else None,
                       long_only=True)
            self.low_article = since_long


def story_row(s: StoryState) -> dict[str, Any]:
    """Returns the store row of a story's state."""
    # The span readers see is that of the dated members (publication times); an item read
    # without one (a page dump's headline list) counts only where no member is dated.
    dated = s.dlast >= s.dfirst
    return {
        "seq": s.seq, "id": s.id, "first_time": iso_from_epoch(s.dfirst if dated else s.first),
        "last_time": iso_from_epoch(s.dlast if dated else s.last),
        "size": s.size, "copies": s.copies, "sources": s.independent_sources, "title": s.title,
        "status": "active" if s.size else "empty", "state": s.to_state(),
    }


def _decision_row(item_id: str, story_id: str, action: str, score: float | None,
                  components: dict[str, Any]) -> tuple:
    from datetime import UTC, datetime

    return (item_id, story_id, action, score, None, json.dumps(components), None, None, None,
            datetime.now(UTC).isoformat(), None)


def _choice_row(item_id: str, story_id: str, action: str, choice: Choice) -> tuple:
    from datetime import UTC, datetime

    best, runner = choice.best, choice.runner_up
    if action == "started":
        # The best candidate did not make it: it is the runner-up of starting a story.
        runner, best = best, None
    return (
        item_id, story_id, action,
        round(best.score, 4) if best else None, round(choice.threshold, 4),
        json.dumps(best.components if best else {}),
        runner.story.id if runner else None, round(runner.score, 4) if runner else None,
        json.dumps(runner.components if runner else {}),
        datetime.now(UTC).isoformat(), round(choice.crowding, 4) if choice.crowding else None,
    )
