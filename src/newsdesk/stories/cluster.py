"""Online clustering: the active stories, their index, and the join-or-start decision.

Pure in-memory logic, no SQL: the stage loads stories from the store into an `Engine`,
asks it where each new item goes, and writes back what changed.

A story keeps the sum of its members' unit term vectors (its centroid, truncated to the
strongest terms), entity counts, an optional dense vector sum, and its time span. Only
stories active around an item's time are candidates, found through an inverted index
over each story's strongest terms, so the work per item does not grow with the store.
"""

from __future__ import annotations

import base64
import functools
import heapq
import itertools
import json
import math
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from newsdesk.stories.features import Features

DAY = 86400.0
# Capacity limits, not fitted: they bound the work per item and the memory per story.
INDEX_TERMS = 40        # a story is found through its strongest terms
QUERY_TERMS = 12        # an item looks stories up by its strongest terms
POSTING_CAP = 300       # most recent stories read per term
MAX_CANDIDATES = 25     # stories compared by centroid cosine
RESCORE = 5             # of those, fully scored (closest member, vectors, time)
CENTROID_TERMS = 150    # terms a story centroid keeps
RECENT_MEMBERS = 8      # latest members kept for the closest-member score ...
MEMBER_TERMS = 40       # ... each by its strongest terms
# What a headline and a lede are: distinct content words of a bare headline, of a lede.
HEADLINE_WORDS = 6
LEDE_WORDS = 30
ENTITY_NORM = 5         # shared entities counted up to this many
# The time evidence's scale is the same share of each kind's window: half a day of a headline's
# 30 days, about six days of a full article's year (its follow-ups and analyses come days later).
TIME_SCALE = 1 / 60
CYCLE = 0.2             # the share of the log-scaled window that is an item's news cycle


@dataclass
class StoryState:
    """What clustering knows about one story."""

    id: str
    seq: int
    terms: dict[str, float] = field(default_factory=dict)
    n: int = 0                           # members folded into the centroid
    first: float = math.inf
    last: float = -math.inf
    entities: dict[str, int] = field(default_factory=dict)
    vector: Any = None                   # sum of member dense unit vectors
    sources: list[str] = field(default_factory=list)   # distinct outlets of canonical members
    size: int = 0                        # members, copies included
    copies: int = 0
    unattributed: int = 0                # canonical members without a source
    title: str = ""
    title_time: float = math.inf
    titled: bool = False                 # the title is a member's headline (not a lead)
    dfirst: float = math.inf             # span of the members with a publication time
    dlast: float = -math.inf
    recent: list[dict[str, float]] = field(default_factory=list)  # latest members' strongest terms
    lsum: float = 0.0                    # sum of canonical members' distinct word counts
    articles: int = 0                    # canonical members that are full articles
    norm: float = 0.0
    vnorm: float = 0.0                   # norm of `vector`, 0 until computed
    indexed: frozenset[str] = frozenset()
    # When (engine ticks) the story was last posted under each indexed term and entity: the
    # order of an index posting, kept with the story so that a reload rebuilds the same order.
    ticks: dict[str, int] = field(default_factory=dict)
    ent_ticks: dict[str, int] = field(default_factory=dict)
    dirty: bool = True
    loaded: bool = False                 # read from the store, not yet placed in an index

    @property
    def last_stored(self) -> float:
        """Returns the last time the store keeps (dated members' span, else all members')."""
        return self.dlast if self.dlast >= self.dfirst else self.last

    @property
    def independent_sources(self) -> int:
        """Returns distinct outlets among canonical members (each unattributed one counts)."""
        return len(self.sources) + self.unattributed

    def to_state(self) -> dict[str, Any]:
        """Returns the JSON-able clustering state kept in the store."""
        # Saved exactly (no rounding): a process that reloads a story must score it as the
        # process that kept it in memory did.
        out: dict[str, Any] = {
            "terms": dict(self.terms),
            "n": self.n,
            "entities": self.entities,
            "sources": self.sources,
            "unattributed": self.unattributed,
            "title_time": None if math.isinf(self.title_time) else self.title_time,
            "dated": None if math.isinf(self.dfirst) else [self.dfirst, self.dlast],
            "recent": [dict(m) for m in self.recent],
            "lsum": self.lsum,
            "articles": self.articles,
            "titled": self.titled,
            "span": None if math.isinf(self.first) else [self.first, self.last],
            "ticks": self.ticks,
            "ent_ticks": self.ent_ticks,
        }
        if self.vector is not None:
            out["vector"] = vector_text(self.vector)
        return out

    @classmethod
    def from_row(cls, row: dict[str, Any], state: dict[str, Any]) -> StoryState:
        """Returns the state of a stored story row and its JSON state."""
        vec = state.get("vector")
        dated = state.get("dated") or [math.inf, -math.inf]
        span = state.get("span") or [row["first"], row["last"]]
        s = cls(
            id=row["id"], seq=row["seq"], terms=dict(state.get("terms") or {}),
            n=int(state.get("n") or 0), first=span[0], last=span[1],
            entities=dict(state.get("entities") or {}),
            vector=vector_from(vec) if vec else None,
            sources=list(state.get("sources") or []), size=row["size"], copies=row["copies"],
            unattributed=int(state.get("unattributed") or 0), title=row["title"] or "",
            title_time=state.get("title_time") or math.inf, dfirst=dated[0], dlast=dated[1],
            recent=list(state.get("recent") or []), lsum=float(state.get("lsum") or 0),
            articles=int(state.get("articles") or 0), titled=bool(state.get("titled")), dirty=False,
            ticks=dict(state.get("ticks") or {}), ent_ticks=dict(state.get("ent_ticks") or {}),
            loaded=True,
        )
        s.norm = math.sqrt(sum(w * w for w in s.terms.values()))
        return s


def vector_text(vector: Any) -> str:
    """Returns a dense vector as text that reads back bit for bit (base64 of float32)."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def vector_from(value: Any) -> Any:
    """Returns the float32 vector of `vector_text` output (or of a list, as older stores kept)."""
    if isinstance(value, str):
        return np.frombuffer(base64.b64decode(value), dtype="<f4").astype(np.float32)
    return np.asarray(value, dtype=np.float32)


@dataclass
class Scored:
    """One candidate story and how well an item fits it."""

    story: StoryState
    score: float
    components: dict[str, Any]


@dataclass
class Choice:
    """The decision for one item: the best story (None: start one), scores, runner-up."""

    best: Scored | None
    runner_up: Scored | None
    threshold: float
    crowding: float = 0.0  # how much of the threshold is the raise for competing stories

    @property
    def joins(self) -> bool:
        return self.best is not None and self.best.score >= self.threshold


class Engine:
    """The active stories and their inverted index; decides where items go."""

    def __init__(self, params: dict[str, Any]):
        self.p = params
        self.stories: dict[str, StoryState] = {}
        self.index: dict[str, dict[str, int]] = {}   # term -> story id: tick, most recent last
        self.ent_index: dict[str, dict[str, int]] = {}
        self.tick = 0  # counts postings: orders each posting, saved with the stories
        # Running means and spreads of the vector and term scores of scored candidates.
        self.levels = Levels()
        # The live stories: those a running engine keeps (StoryStage._evict) as of the stream's
        # present, the latest stored story time when the batch began (None: nothing stored yet).
        # Stories of mostly full articles stay live from `live_from_long` on. An undated item
        # may join only these; whatever else a process holds never decides (exact resume).
        self.live_from: float | None = None
        self.live_from_long: float | None = None

    # -- index upkeep ---------------------------------------------------------------------
    def put(self, story: StoryState) -> None:
        """Adds or refreshes a story in the engine and its index (a story just read from the
        store goes where its saved ticks put it)."""
        if story.loaded and story.ticks:
            self.put_loaded([story])
            return
        story.loaded = False
        self.stories[story.id] = story
        self._reindex(story)

    def put_loaded(self, stories: list[StoryState]) -> None:
        """Adds stories read from the store, each posting in the order of the saved ticks (the
        order a process that never dropped them has), without reindexing them."""
        new: dict[int, dict[str, list[tuple[int, str]]]] = {0: {}, 1: {}}
        for story in stories:
            if not story.ticks:  # saved before ticks were: indexed afresh
                self.put(story)
                continue
            story.loaded = False
            old = self.stories.get(story.id)
            if old is not None and old is not story:
                self.drop(story.id)
            self.stories[story.id] = story
            story.indexed = frozenset(story.ticks)
            for which, ticks in ((0, story.ticks), (1, story.ent_ticks)):
                for key, k in ticks.items():
                    new[which].setdefault(key, []).append((k, story.id))
                    self.tick = max(self.tick, k)
        for which, index in ((0, self.index), (1, self.ent_index)):
            for key, entries in new[which].items():
                posting = index.setdefault(key, {})
                for _, sid in entries:
                    posting.pop(sid, None)
                entries.sort()
                if posting and next(reversed(posting.values())) > entries[0][0]:
                    merged = sorted([(k, sid) for sid, k in posting.items()] + entries)
                    posting.clear()
                    entries = merged
                for k, sid in entries:
                    posting[sid] = k

    def drop(self, story_id: str) -> None:
        """Removes a story (merged away, emptied or dormant) from the engine."""
        story = self.stories.pop(story_id, None)
        if story is None:
            return
        for t in story.indexed:
            posting = self.index.get(t)
            if posting is not None:
                posting.pop(story_id, None)
                if not posting:
                    del self.index[t]
        for e in story.ent_ticks:
            posting = self.ent_index.get(e)
            if posting is not None:
                posting.pop(story_id, None)
                if not posting:
                    del self.ent_index[e]

    def _reindex(self, story: StoryState) -> None:
        k = INDEX_TERMS
        top = heapq.nlargest(k, story.terms.items(), key=lambda kv: kv[1])
        new = frozenset(t for t, _ in top)
        sid = story.id
        self.tick += 1
        tick = self.tick
        for t in story.indexed - new:
            posting = self.index.get(t)
            if posting is not None:
                posting.pop(sid, None)
                if not posting:
                    del self.index[t]
        story.ticks = {}
        for t, _ in top:
            posting = self.index.setdefault(t, {})
            posting.pop(sid, None)
            posting[sid] = tick  # most recently touched at the end
            story.ticks[t] = tick
        story.indexed = new
        for e in story.ent_ticks.keys() - story.entities.keys():  # entities the story lost
            posting = self.ent_index.get(e)
            if posting is not None:
                posting.pop(sid, None)
                if not posting:
                    del self.ent_index[e]
        story.ent_ticks = {}
        for e in story.entities:
            posting = self.ent_index.setdefault(e, {})
            posting.pop(sid, None)
            posting[sid] = tick
            story.ent_ticks[e] = tick
        story.dirty = True

    def evict_before(self, t: float, t_article: float | None = None) -> int:
        """Drops stories whose last member is older than t (t_article for stories of mostly
        full articles, which stay findable longer); returns how many."""
        ta = t if t_article is None else t_article
        old = [sid for sid, s in self.stories.items()
               if not s.dirty and s.last_stored < (ta if s.articles * 2 > s.n else t)]
        for sid in old:
            self.drop(sid)
        return len(old)

    # -- scoring --------------------------------------------------------------------------
    def threshold(self, length: float, article: bool = False, competing: int = 0) -> float:
        """Returns the join threshold for an item: by its distinct words, or full article.

        A bare headline shares few words with anything, so it needs less overlap than a
        lede; a full article is compared by its title and lead. `competing`: how many
        stories of the item's window share one of its strongest terms (see `crowding`).
        """
        p = self.p
        if article:
            return p["threshold_article"] + self.crowding(competing)
        x = self.length_scale(length)
        return p["threshold_headline"] + x * (p["threshold"] - p["threshold_headline"]) + self.crowding(competing)

    def crowding(self, competing: int) -> float:
        """Returns how much the bar rises when more stories compete for an item than the
        engine compares closely (MAX_CANDIDATES).

        The best of N unrelated stories scores higher by chance the larger N is: the expected
        maximum of N draws grows as spread x sqrt(2 ln N). So a crowded stream (thousands of
        live stories on the same few subjects) needs that much more than the thresholds, which
        were tuned on sets where few stories compete; it never needs less.
        """
        if competing <= MAX_CANDIDATES:
            return 0.0
        spread = math.sqrt(self.levels.t_var)
        return spread * (math.sqrt(2 * math.log(competing)) - math.sqrt(2 * math.log(MAX_CANDIDATES)))

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def length_scale(length: float) -> float:
        """Returns 0 for a bare headline, 1 for a lede or longer, log-linear between."""
        lo, hi = math.log(HEADLINE_WORDS), math.log(LEDE_WORDS)
        return min(1.0, max(0.0, (math.log(max(length, 1)) - lo) / (hi - lo)))

    def live(self, s: StoryState, since: float = -math.inf) -> bool:
        """Returns whether a story is live (see `live_from`) and its last member is after `since`."""
        bound = self.live_from_long if s.articles * 2 > s.n else self.live_from
        return s.last_stored >= max(since, -math.inf if bound is None else bound)

    def candidates(self, f: Features) -> list[StoryState]:
        """Returns the active stories sharing strong terms or entities with the item."""
        return self.competition(f)[0]

    def competition(self, f: Features) -> tuple[list[StoryState], int]:
        """Returns the closest active stories sharing strong terms or entities with the item,
        and how many stories of its window share them (before the closest are kept)."""
        p = self.p
        per_term = POSTING_CAP
        acc: dict[str, float] = {}
        top_terms = heapq.nlargest(QUERY_TERMS, f.terms.items(), key=lambda kv: kv[1])
        for t, w in top_terms:
            posting = self.index.get(t)
            if not posting:
                continue
            ids = reversed(posting) if len(posting) <= per_term else itertools.islice(reversed(posting), per_term)
            for sid in ids:
                acc[sid] = acc.get(sid, 0.0) + w
        for e in f.entities:
            posting = self.ent_index.get(e)
            if posting:
                for sid in itertools.islice(reversed(posting), per_term):
                    acc[sid] = acc.get(sid, 0.0) + 0.1
        if not acc:
            return [], 0
        # Stories outside the item's window are dropped before the best are kept: whatever else
        # a process holds in memory (a long run holds more than a fresh start) never decides.
        # A full article may join a story of mostly full articles for the long window, and any
        # other story for twice the short one (as long as a running engine keeps those, see
        # StoryStage._evict); a headline or lede any story for the short window.
        short = p["window_days"] * DAY
        long = p["window_days_article"] * DAY if f.article else short
        if f.article:
            short *= 2
        stories = self.stories
        inside: list[tuple[str, float]] = []
        for sid, w in acc.items():
            s = stories.get(sid)
            if s is None:
                continue
            window = long if s.articles * 2 > s.n else short
            if not f.dated:
                # An undated item is news of the stream's present: it may join any live story.
                if not self.live(s):
                    continue
            elif s.dlast >= s.dfirst:
                if f.time < s.dfirst - window or f.time > s.dlast + window:
                    continue
            elif not self.live(s, f.time - window):  # a story of undated items: when it was read
                continue
            inside.append((sid, w))
        keep = heapq.nlargest(MAX_CANDIDATES, inside, key=lambda kv: kv[1])
        return [stories[sid] for sid, _ in keep], len(inside)

    def score(self, f: Features, s: StoryState, explain: bool = False) -> Scored:
        """Returns how well the item fits the story, with the score's components."""
        p = self.p
        terms = s.terms
        fterms = f.terms
        dot = 0.0
        n_shared = 0
        if len(fterms) <= len(terms):
            for t, w in fterms.items():
                c = terms.get(t)
                if c is not None:
                    dot += w * c
                    n_shared += 1
        else:
            for t, c in terms.items():
                w = fterms.get(t)
                if w is not None:
                    dot += w * c
                    n_shared += 1
        cos = dot / s.norm if s.norm else 0.0
        comp: dict[str, Any] = {"terms": cos}
        if f.article or s.articles:  # full articles, or a story holding one: no coherence
            alpha = 0.0
        else:
            alpha = p["coherence_power"] * self.length_scale(f.length)
        if alpha and s.n > 1 and s.norm:
            # The centroid's length over its member count is how alike the members are: a
            # story that has drifted over a whole topic (short centroid) attracts less than
            # one tight event, as in average-link clustering (alpha 1). The shipped power is
            # steep; a large, loose story is still joined through its closest member (below).
            coherence = min(1.0, s.norm / s.n)
            cos *= coherence ** alpha
            comp["coherence"] = coherence
        mw = p["member_weight"]
        if mw and s.recent:
            best = _best_dot(fterms, s.recent)
            cos = (1 - mw) * cos + mw * best
            comp["best_member"] = best
        score = cos
        # With dense vectors the vector judges a thin overlap; without, two shared words at least.
        vectors = f.vector is not None and s.vector is not None and f.vector.shape == s.vector.shape
        if n_shared < (1 if vectors else 2):
            score -= 1.0  # one shared word (a place name, say) is not a story
            comp["too_few_shared"] = n_shared
        if f.entities and s.entities:
            shared = [e for e in f.entities if e in s.entities]
            # Shown, not scored: between headlines and ledes the same few names (a president, a
            # country) recur across many stories, and between full articles so do a topic's
            # (two games of one team, two fires of one chain). A bonus of 0.1 for full articles,
            # with the entity stage on, lowered ecbplus from 0.883 to 0.865 and giveme5w1h
            # from 0.891 to 0.889 (the stories' settings are tuned without the entity stage).
            comp["entities"] = min(1.0, len(shared) / min(len(f.entities), ENTITY_NORM))
            if explain:
                comp["shared_entities"] = shared[:10]
        if vectors:
            if s.vnorm <= 0:
                s.vnorm = float(np.linalg.norm(s.vector))
            vsim = float(np.dot(f.vector, s.vector) / s.vnorm) if s.vnorm else 0.0
            # The vector's similarity counts above what candidates typically reach in this
            # stream (a running mean), so it needs no offset fitted to one model or one set.
            a = p["vector_weight"]
            if not explain:
                self.levels.observe(max(score, 0.0), vsim)
            score = (1 - a) * score + a * self.levels.on_term_scale(vsim)
            comp["vector"] = vsim
        if f.dated and s.dlast >= s.dfirst:
            gap = max(0.0, s.dfirst - f.time, f.time - s.dlast) / DAY
            # Close in time is evidence for the same story; far apart, evidence against, in
            # proportion to the log of the gap, whole at the end of the item's window. The
            # bonus counts as much as sharing the cycle is rare in the stream (Levels.on_time).
            window = p["window_days_article"] if f.article else p["window_days"]
            far = time_far(gap, window)
            if not explain:
                self.levels.observe_time(far, f.article)
            adj = p["time_penalty"] * self.levels.on_time(far, f.article)
            score += adj
            comp["gap_days"] = gap
            comp["time"] = adj
        if explain:
            for key, value in comp.items():
                if isinstance(value, float):
                    comp[key] = round(value, 4 if key != "gap_days" else 2)
            shared_terms = sorted(
                ((w * terms[t], t) for t, w in fterms.items() if t in terms), reverse=True
            )
            comp["shared_terms"] = [t for _, t in shared_terms[:10]]
        return Scored(s, score, comp)

    def centroid_cosine(self, f: Features, s: StoryState) -> float:
        """Returns the cosine between the item and the story centroid (the cheap first pass)."""
        return _dot(f.terms, s.terms) / s.norm if s.norm else 0.0

    def choose(self, f: Features, explain: bool = True) -> Choice:
        """Returns the best and runner-up stories for an item, and the threshold to join."""
        cands, competing = self.competition(f)
        rescore = RESCORE
        if len(cands) > rescore:
            # Full scoring (best member, entities, vectors, time) for the closest centroids only.
            cands = heapq.nlargest(rescore, cands, key=lambda s: self.centroid_cosine(f, s))
        scored = [self.score(f, s) for s in cands]
        scored.sort(key=lambda x: (-x.score, x.story.seq))
        best = scored[0] if scored else None
        runner = scored[1] if len(scored) > 1 else None
        if explain:
            if best is not None:
                best = self.score(f, best.story, explain=True)
            if runner is not None:
                runner = self.score(f, runner.story, explain=True)
        return Choice(best, runner, self.threshold(f.length, f.article, competing), self.crowding(competing))

    # -- growth ---------------------------------------------------------------------------
    def add(self, s: StoryState, f: Features, headline: str = "", titled: bool = False) -> None:
        """Folds a canonical member into a story's centroid, entities, span and sources."""
        self.fold(s, f.terms, f.entities, f.vector, 1)
        s.lsum += f.length
        s.articles += int(f.article)
        if self.p["member_weight"]:
            top = heapq.nlargest(MEMBER_TERMS, f.terms.items(), key=lambda kv: kv[1])
            s.recent.append(dict(top))
            if len(s.recent) > RECENT_MEMBERS:
                del s.recent[0]
        self.touch(s, f.time, f.source, copy=False, headline=headline, dated=f.dated, titled=titled)
        if s.n <= 8 or s.n % 8 == 0:
            self._reindex(s)
        else:  # between full refreshes, index the new member's strongest terms too
            sid = s.id
            extra = set()
            self.tick += 1
            for t, _ in heapq.nlargest(6, f.terms.items(), key=lambda kv: kv[1]):
                posting = self.index.setdefault(t, {})
                posting.pop(sid, None)
                posting[sid] = self.tick
                s.ticks[t] = self.tick
                extra.add(t)
            s.indexed = s.indexed | extra

    def fold(self, s: StoryState, terms: dict[str, float], entities: list[str] | dict[str, int],
             vector: Any, n: int, sign: float = 1.0) -> None:
        """Adds (or with sign -1 removes) term weights, entities and a vector to a story."""
        st = s.terms
        for t, w in terms.items():
            v = st.get(t, 0.0) + sign * w
            if v > 1e-6:
                st[t] = v
            else:
                st.pop(t, None)
        cap = CENTROID_TERMS
        if len(st) > cap * 1.5:
            s.terms = st = dict(heapq.nlargest(cap, st.items(), key=lambda kv: kv[1]))
        ents = entities.items() if isinstance(entities, dict) else ((e, 1) for e in entities)
        for e, c in ents:
            v = s.entities.get(e, 0) + int(sign) * c
            if v > 0:
                s.entities[e] = v
            else:
                s.entities.pop(e, None)
        if len(s.entities) > 60:
            s.entities = dict(heapq.nlargest(40, s.entities.items(), key=lambda kv: kv[1]))
        if vector is not None:  # a vector of another backend (other size) is replaced
            same = s.vector is not None and s.vector.shape == vector.shape
            s.vector = s.vector + sign * vector if same else vector * sign
            s.vnorm = 0.0
        s.n = max(0, s.n + int(sign) * n)
        weights = st.values()
        s.norm = math.sqrt(sum(map(operator.mul, weights, weights)))
        s.dirty = True

    def touch(self, s: StoryState, t: float, source: str | None, *, copy: bool, headline: str = "",
              dated: bool = False, titled: bool = False) -> None:
        """Counts a member in a story's size, span and sources."""
        s.size += 1
        s.first = min(s.first, t)
        s.last = max(s.last, t)
        if dated:
            s.dfirst = min(s.dfirst, t)
            s.dlast = max(s.dlast, t)
        if copy:
            s.copies += 1
        else:
            if source:
                if source not in s.sources and len(s.sources) < 500:
                    s.sources.append(source)
            else:
                s.unattributed += 1
            # The earliest headline; a lead only while no member has a headline.
            if headline and (not s.title or (titled, -t) > (s.titled, -s.title_time)):
                s.title, s.title_time, s.titled = headline, t, titled
        s.dirty = True

    def absorb(self, keep: StoryState, gone: StoryState) -> None:
        """Merges story `gone` into `keep` (centroids, counts, span) and drops `gone`."""
        self.fold(keep, gone.terms, gone.entities, gone.vector, gone.n)
        keep.size += gone.size
        keep.copies += gone.copies
        keep.first = min(keep.first, gone.first)
        keep.last = max(keep.last, gone.last)
        keep.dfirst = min(keep.dfirst, gone.dfirst)
        keep.dlast = max(keep.dlast, gone.dlast)
        for src in gone.sources:
            if src not in keep.sources:
                keep.sources.append(src)
        keep.unattributed += gone.unattributed
        keep.lsum += gone.lsum
        keep.articles += gone.articles
        keep.recent = (keep.recent + gone.recent)[-RECENT_MEMBERS:]
        if gone.title and (not keep.title or (gone.titled, -gone.title_time) > (keep.titled, -keep.title_time)):
            keep.title, keep.title_time, keep.titled = gone.title, gone.title_time, gone.titled
        self.drop(gone.id)
        self._reindex(keep)

    def similar_story(self, s: StoryState, blocked: set[str]) -> Scored | None:
        """Returns the active story most like s above the merge threshold, if any."""
        if s.norm == 0:
            return None
        n = max(s.n, 1)
        dated = s.dlast >= s.dfirst
        top = dict(heapq.nlargest(40, s.terms.items(), key=lambda kv: kv[1]))
        tnorm = math.sqrt(sum(w * w for w in top.values())) or 1.0
        probe = Features(item_id="", terms={t: w / tnorm for t, w in top.items()},
                         length=round(s.lsum / n), time=s.dlast if dated else s.last, dated=dated,
                         source=None, entities=list(s.entities), article=s.articles * 2 > n,
                         vector=None if s.vector is None else s.vector / (np.linalg.norm(s.vector) or 1))
        need = self.threshold(probe.length, probe.article) + self.p["merge_margin"]
        best = None
        for other in self.candidates(probe):
            if other.id == s.id or other.id in blocked:
                continue
            sc = self.score(probe, other)
            if sc.score >= need and (best is None or sc.score > best.score):
                best = sc
        return best


_LOG_SPAN = math.log1p(1 / TIME_SCALE)


def time_far(gap: Any, window: Any) -> Any:
    """Returns how far apart in time (days; numbers, or arrays in the consolidation pass) on
    the item's window's scale: 0 at the same moment, 1 at the window's end, logarithmic
    between, so a headline's first half day (a full article's first six days) is a sixth
    of the way."""
    if isinstance(gap, np.ndarray):
        return np.minimum(1.0, np.log1p(gap / (window * TIME_SCALE)) / _LOG_SPAN)
    return min(1.0, math.log1p(gap / (window * TIME_SCALE)) / _LOG_SPAN)


class Levels:
    """Running means and spreads of candidates' term scores and vector similarities.

    A vector similarity counts on the term score's scale: as many spreads above the
    candidates' mean as it is above theirs. Models (and streams) differ in where unrelated
    texts sit and how far apart related ones are; this needs no offset fitted to one model.
    """

    RATE = 0.01

    def __init__(self) -> None:
        self.t_mean, self.t_var = 0.1, 0.08 ** 2
        self.v_mean, self.v_var = 0.3, 0.15 ** 2
        # The share of candidates in the item's news cycle (no prior either way), for headlines
        # and ledes and for full articles apart: an article's cycle is some six days, not hours.
        self.close = 0.5
        self.close_article = 0.5

    def observe(self, term: float, vsim: float) -> None:
        r = self.RATE
        dt, dv = term - self.t_mean, vsim - self.v_mean
        self.t_mean += r * dt
        self.v_mean += r * dv
        self.t_var = (1 - r) * (self.t_var + r * dt * dt)
        self.v_var = (1 - r) * (self.v_var + r * dv * dv)

    def observe_time(self, far: float, article: bool = False) -> None:
        """Counts a candidate's time gap (`far`: 0 same moment, 1 the window's end) for an
        item of its kind (full article or not)."""
        if article:
            self.close_article += self.RATE * (float(far < CYCLE) - self.close_article)
        else:
            self.close += self.RATE * (float(far < CYCLE) - self.close)

    def on_time(self, far: float, article: bool = False) -> float:
        """Returns the time evidence for a candidate's gap: CYCLE - far, its bonus
        (within the news cycle) weighted by how rare sharing the cycle is among the stream's
        candidates: 2 x (1 - share), so 1 when half of them share it.

        In a sparse stream few candidates share an item's news cycle, so sharing it says much;
        in a dense one, where most candidates are of the same day, it says little. The
        penalty for a gap keeps its plain weight: weighted by rarity too (weak in a sparse
        stream), it let bare headlines join stories months old (allsides-stream's titles alone,
        B-cubed F1 0.806 -> 0.787).
        """
        base = CYCLE - far
        close = self.close_article if article else self.close
        return 2.0 * (1.0 - close) * base if base > 0 else base

    def to_text(self) -> str:
        """Returns the running figures as text that reads back exactly."""
        return json.dumps([self.t_mean, self.t_var, self.v_mean, self.v_var, self.close, self.close_article])

    def load_text(self, text: str | None) -> None:
        """Restores the figures `to_text` wrote (the defaults stay when there are none; a store
        written before the time share was kept starts it from its prior; one written before
        full articles had a share of their own goes on from the one share it kept)."""
        if text:
            values = [float(x) for x in json.loads(text)]
            self.t_mean, self.t_var, self.v_mean, self.v_var = values[:4]
            if len(values) > 4:
                self.close = self.close_article = values[4]
            if len(values) > 5:
                self.close_article = values[5]

    def on_term_scale(self, vsim: Any) -> Any:
        """Returns vector similarity (a number or an array) mapped onto the term score's scale."""
        return self.t_mean + (vsim - self.v_mean) * math.sqrt(self.t_var / max(self.v_var, 1e-6))


# -- sparse vector arithmetic (scoring and the split check) -------------------------------
def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    """Returns the dot product of two sparse vectors (walks the shorter one)."""
    if len(a) > len(b):
        a, b = b, a
    total, get = 0.0, b.get
    for t, w in a.items():
        c = get(t)
        if c is not None:
            total += w * c
    return total


def _best_dot(a: dict[str, float], vecs: list[dict[str, float]]) -> float:
    """Returns max(0, the largest dot product of `a` with each of `vecs`), as `_dot` sums each
    (the scoring loop's hottest line: one call, no call per member)."""
    best = 0.0
    na = len(a)
    for b in vecs:
        total = 0.0
        if na > len(b):
            get = a.get
            for t, w in b.items():
                c = get(t)
                if c is not None:
                    total += w * c
        else:
            get = b.get
            for t, w in a.items():
                c = get(t)
                if c is not None:
                    total += w * c
        best = max(best, total)
    return best


def _sum(vecs: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in vecs:
        for t, w in v.items():
            out[t] = out.get(t, 0.0) + w
    return out


def _centroid(vecs: list[dict[str, float]]) -> dict[str, float]:
    out = _sum(vecs)
    norm = math.sqrt(sum(w * w for w in out.values())) or 1.0
    return {t: w / norm for t, w in out.items()}


def separation(vecs: list[dict[str, float]], a: list[int], b: list[int]) -> float:
    """Returns how much closer members are to their own group than to the other (mean over
    members; a member is left out of its own group's centroid)."""
    total = 0.0
    for own, other in ((a, b), (b, a)):
        c_other = _centroid([vecs[i] for i in other])
        sums = _sum([vecs[i] for i in own])
        sq = sum(w * w for w in sums.values())
        for i in own:
            v = vecs[i]
            dot = _dot(v, sums)
            vv = sum(w * w for w in v.values())
            rest = sq - 2 * dot + vv  # |sum - v|^2: the own part without this member
            own_sim = (dot - vv) / math.sqrt(rest) if rest > 1e-12 else 0.0
            total += own_sim - _dot(v, c_other)
    return total / (len(a) + len(b))


def two_means(vecs: list[dict[str, float]], rounds: int = 8) -> tuple[list[int], list[int]] | None:
    """Returns two groups of unit vectors (spherical 2-means), indexes in input order."""
    if len(vecs) < 2:
        return None
    whole = _centroid(vecs)
    seed_a = 0
    seed_b = min(range(len(vecs)), key=lambda i: (_dot(vecs[i], vecs[seed_a]) + _dot(vecs[i], whole), i))
    ca, cb = vecs[seed_a], vecs[seed_b]
    groups: tuple[list[int], list[int]] = ([], [])
    for _ in range(rounds):
        a = [i for i, v in enumerate(vecs) if _dot(v, ca) >= _dot(v, cb)]
        in_a = set(a)
        b = [i for i in range(len(vecs)) if i not in in_a]
        if not a or not b:
            return None
        if (a, b) == groups:
            break
        groups = (a, b)
        ca, cb = _centroid([vecs[i] for i in a]), _centroid([vecs[i] for i in b])
    return groups
