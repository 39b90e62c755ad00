"""Consolidation: the active window clustered again, average-link, over the online evidence.

The online pass decides each item on arrival and never looks back, so the order of arrival
shapes its stories: two halves of one story can start apart, and one story can chain two
events. From time to time (every `consolidate_every` new items, and on `newsdesk
consolidate`) the latest canonical items are clustered again with average link over the
same evidence the online score reads (term cosine, the two-shared-words rule, dense vectors
when on, the time gap), cut where the average pair score reaches the pair's join threshold:
for two single items that is exactly the online rule, for larger groups every pair counts,
so no single bridging item chains two events.

The differences are applied as automatic corrections, listed with the reason
"consolidation: ...": a cluster keeps the id of the story it overlaps most (each story id
goes to one cluster at most; a cluster left without one becomes a new story); a story all
of whose members move into another is merged into it (the older id stays); the rest move
item by item, but only items with at least a lede's words (`movable`). Items an editor
placed (pinned) stay, and stories an editor kept apart are not joined.

Besides every `consolidate_every` items, an ingest run that stored at least `RUN_MIN` new
items ends with a pass (`StoryStage.finish`), so the stories a command or a poll leaves
behind are settled whatever the count stood at.
"""

from __future__ import annotations

import heapq
import logging
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import numpy as np

from newsdesk.stories.cluster import (
    CYCLE,
    DAY,
    MEMBER_TERMS,
    RECENT_MEMBERS,
    Engine,
    time_far,
)
from newsdesk.stories.features import Features, TermWeights

if TYPE_CHECKING:
    from newsdesk.context import Context
    from newsdesk.stories.stage import StoryStage

LOGGER = logging.getLogger(__name__)
WINDOW_ITEMS = 1000  # latest canonical items a pass clusters again (bounds its cost)
SPLIT_MIN = 3  # a part split off as a new story holds this many items and a quarter of its story
RUN_MIN = 10  # new items an ingest run stores before it ends with a pass (when passes are on)


def term_matrix(counts: list[Counter[str]], weights: TermWeights) -> Any:
    """Returns the items' unit TF-IDF rows, weighted as of now, as one sparse matrix.

    Row i is what `features.vectorise` gives item i's term counts, computed for the whole
    window at once (each term's weight looked up once).
    """
    from scipy import sparse

    vocab: dict[str, int] = {}
    indices: list[int] = []
    tf: list[float] = []
    indptr = [0]
    for c in counts:
        for t, k in c.items():
            indices.append(vocab.setdefault(t, len(vocab)))
            tf.append(k)
        indptr.append(len(indices))
    terms = list(vocab)
    weights.fill(terms)
    idf = np.array([weights.idf(t) for t in terms], dtype=np.float64)
    col = np.asarray(indices, dtype=np.int64)
    k = np.asarray(tf, dtype=np.float64)
    w = np.where(k >= 1, 1.0 + np.log(np.maximum(k, 1.0)), k) * idf[col] if len(col) else k
    x = sparse.csr_matrix((w, col, np.asarray(indptr, dtype=np.int64)), shape=(len(counts), max(1, len(terms))))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sparse.csr_matrix(sparse.diags(inverse) @ x)


def pair_scores(engine: Engine, feats: list[Features], x: Any, vecs: list[Any] | None) -> np.ndarray:
    """Returns the matrix of pair scores minus the pair's join threshold (0: just joins).

    x: the items' unit term rows (`term_matrix`); vecs: their dense vectors, or None.
    """
    p = engine.p
    cos = (x @ x.T).toarray()
    b = x.copy()
    b.data[:] = 1.0
    shared = (b @ b.T).toarray()
    score = cos
    if vecs is None:
        score[shared < 2] -= 1.0  # the online rule: one shared word is not a story
    else:
        # Pairs where both items have a vector mix it in and need one shared word; a pair
        # with an item that has none (nothing to embed, or a language the backend does not
        # read: a zero row) is judged by its words, as the online score judges such an item.
        v = np.stack([np.zeros(_vector_dim(vecs), dtype=np.float32) if vec is None
                      else np.asarray(vec, dtype=np.float32) for vec in vecs])
        has = np.abs(v).max(axis=1) > 0
        both = has[:, None] & has[None, :]
        score[shared < np.where(both, 1, 2)] -= 1.0
        a = p["vector_weight"]
        score = np.where(both, (1 - a) * score + a * engine.levels.on_term_scale(v @ v.T), score)
    article = np.array([f.article for f in feats])
    dated = np.array([f.dated for f in feats])
    times = np.array([f.time for f in feats])
    if dated.any():
        gap = np.abs(times[:, None] - times[None, :]) / DAY
        window = np.where(article[:, None] & article[None, :], p["window_days_article"], p["window_days"])
        far = time_far(gap, window)
        both = dated[:, None] & dated[None, :]
        # The plain time evidence, not the online bonus weighted by rarity (Levels.on_time):
        # the pass sets the whole window's items against each other, where the running share
        # of the online candidates says nothing about its pairs. With the weighted bonus here,
        # allsides-stream gained (0.942 -> 0.949) but the same stream made ten and thirty
        # times denser lost (0.858 -> 0.848, 0.799 -> 0.774: the pass over-merged).
        score = np.where(both, score + p["time_penalty"] * (CYCLE - far), score)
        score = np.where(both & (gap > window), -2.0, score)  # out of each other's window
    # The plain thresholds, without the online crowding raise (Engine.crowding): counting each
    # window item's competing stories again at every pass cost about a sixth of the headline
    # path's throughput, for F1 on allsides-probe-train's prefixes of 0.878 / 0.835 / 0.804
    # against 0.868 / 0.825 / 0.808 (921 / 3,684 / 7,356 records).
    thr = np.array([engine.threshold(f.length, f.article) for f in feats])
    score -= (thr[:, None] + thr[None, :]) / 2
    return score


def crowded_cut(margin: np.ndarray, crowding: list[float]) -> list[int] | None:
    """Returns the average-link cut with each item at the bar its online decision had: the
    join threshold raised for the stories that competed for it (Engine.crowding, kept with
    the decision), or None when no item's bar was raised.

    The pass cuts at the plain thresholds, and in a crowded stream (thousands of live stories
    on the same few subjects) average link then joins stories that merely share a subject. A
    join (a story merged, an item moved to another story) is made only where this cut agrees;
    splits still follow the plain cut, which the raised bars would fray. On
    `benchmarks/cluster.py --variants` (before -> after): allsides-probe-train's first 3,684
    records 0.824 -> 0.832 (shuffled 0.725 -> 0.769), all 7,356 0.808 -> 0.803 (shuffled 0.656
    -> 0.720), allsides-stream undated 0.763 -> 0.772; the val-sized parts 0.001-0.002 lower,
    every other variant the same (mean F1 over the 24 files 0.8127 -> 0.8178). Cutting
    everything at the raised bars instead (splits too) lowered F1 on the crowded sets.
    """
    raised = np.asarray(crowding, dtype=float)
    if not raised.any():
        return None
    return average_link(margin - (raised[:, None] + raised[None, :]) / 2)


def _vector_dim(vecs: list[Any]) -> int:
    """Returns the length of the vectors given (1 when none is)."""
    return next((len(v) for v in vecs if v is not None), 1)


def movable(f: Features) -> bool:
    """Returns whether consolidation may move the item alone into another existing story.

    Only an item with at least a lede's words: between bare headlines the pair scores are
    too thin for average link to overrule the online decision, which also read the story's
    closest member and coherence. Moving headlines item by item lowered googlenews-headlines
    from 0.813 to 0.762 (a pass every 200 items); a whole story merged, or a part split off
    as an event of its own, still takes its headlines along.
    """
    return f.article or Engine.length_scale(f.length) >= 1.0


def average_link(margin: np.ndarray) -> list[int]:
    """Returns a cluster label per item: average link, merged while the mean pair margin >= 0."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    n = margin.shape[0]
    if n < 2:
        return [0] * n
    dist = np.maximum(0.0, 4.0 - margin)
    np.fill_diagonal(dist, 0.0)
    z = linkage(squareform(dist, checks=False), method="average")
    return [int(c) for c in fcluster(z, t=4.0, criterion="distance")]


def consolidate(stage: StoryStage, desk: Context, window: int = WINDOW_ITEMS) -> dict[str, int]:
    """Clusters the latest items again and applies the differences; returns what it did.

    Runs inside the caller's transaction (the stage's batch, or the consolidate command's).
    """
    from newsdesk.stories import edits

    engine = stage.ensure(desk)
    store = desk.store
    rows = store.latest_members(window)
    done = {"items": len(rows), "merged": 0, "moved": 0, "new": 0}
    if len(rows) < 2:
        return done
    found = stage.window_features(desk, [r["item_id"] for r in rows])
    rows = [r for r in reversed(rows) if r["item_id"] in found]  # oldest first
    ids = [r["item_id"] for r in rows]
    feats = [found[i][1] for i in ids]
    by_id = dict(zip(ids, feats, strict=True))
    assert stage.weights is not None  # loaded with the engine
    x = term_matrix([found[i][0] for i in ids], stage.weights)
    vecs = [found[i][2] for i in ids] if stage.embedder is not None else None
    margin = pair_scores(engine, feats, x, vecs)
    labels = average_link(margin)
    current = {r["item_id"]: r["story_id"] for r in rows}
    pinned = {r["item_id"] for r in rows if r["pinned"]}
    crowded = crowded_cut(margin, [r["crowding"] or 0.0 for r in rows])
    crowded_of = dict(zip(ids, crowded, strict=True)) if crowded is not None else {}
    crowded_in: dict[str, set[int]] = defaultdict(set)
    for i, lab in crowded_of.items():
        crowded_in[current[i]].add(lab)

    # Each cluster keeps the id of the story it overlaps most; each story id goes to one cluster.
    overlap: Counter[tuple[int, str]] = Counter((lab, current[i]) for i, lab in zip(ids, labels, strict=True))
    owner: dict[int, str] = {}
    taken: set[str] = set()
    for (lab, sid), _ in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1])):
        if lab not in owner and sid not in taken:
            owner[lab] = sid
            taken.add(sid)
    members: dict[int, list[str]] = defaultdict(list)
    for i, lab in zip(ids, labels, strict=True):
        members[lab].append(i)
    # Where each item goes: pinned items stay; items of a story whose cluster has no story
    # yet become a new story only as a part of it big enough to be an event of its own (a
    # chained story splits, a story is not frayed into fragments).
    size = Counter(current.values())
    moves: dict[tuple[str, str | int], list[str]] = defaultdict(list)
    for lab, group in members.items():
        target: str | int = owner.get(lab, lab)
        parts: dict[str, list[str]] = defaultdict(list)
        for i in group:
            if i not in pinned and current[i] != target:
                parts[current[i]].append(i)
        for source, part in parts.items():
            if isinstance(target, int) and len(part) < max(SPLIT_MIN, size[source] // 4):
                continue
            if crowded_of and not isinstance(target, int):
                # Joining another story must hold at the crowded cut too (see crowded_cut).
                part = [i for i in part if crowded_of[i] in crowded_in[target]]
                if not part:
                    continue
            moves[(source, target)].extend(part)
    if not moves:
        return done
    stage.flush(desk, [], [])
    touched: set[str] = set()
    new_ids: dict[int, str] = {}
    blocked: dict[str, set[str]] = {}
    for (source, target), group in sorted(moves.items(), key=lambda kv: -len(kv[1])):
        source = stage.current(source)
        if isinstance(target, int):
            if target not in new_ids:
                new_ids[target] = edits.new_story(desk, group[0])
                done["new"] += 1
            dest = new_ids[target]
        else:
            dest = stage.current(target)
        if dest == source:
            continue
        if source not in blocked:
            blocked[source] = store.blocked_stories(source)
        if dest in blocked[source]:
            continue  # kept apart by an editor (or by a split)
        # Whether the group is the whole story: one row more than the group says it is not,
        # without reading the rest of a large story.
        in_source = store.story_latest_members(source, len(group) + 1)
        whole = not isinstance(target, int) and len(group) == len(in_source)
        if not whole and not isinstance(target, int):
            group = [i for i in group if movable(by_id[i])]
            if not group:
                continue
        if whole:  # the whole story goes
            in_dest = [r["item_id"] for r in store.story_member_rows(dest) if not r["copy_of"]]
            keep = edits.merge(desk, source, dest)
            gone = dest if keep == source else source
            stage.redirects[gone] = keep
            store.add_correction("merge", keep, gone, in_dest if gone == dest else in_source,
                                 f"consolidation: {_count(group)} clustered with story {dest}")
            done["merged"] += 1
            touched.add(keep)
        else:
            moved = edits.move(desk, group, source, dest, how="consolidation", pinned=False)
            if isinstance(target, int):  # a part of the story split off as a new one
                store.add_correction("split", source, dest, moved,
                                     f"consolidation: {_count(group)} apart from the rest of story {source}")
            else:
                store.add_correction("move", dest, source, moved,
                                     f"consolidation: {_count(group)} clustered with story {dest}")
            done["moved"] += len(group)
            touched |= {source, dest}
            for i in group:  # what the centroid arithmetic of a move does not count
                f = by_id[i]
                for sid, sign in ((source, -1), (dest, 1)):
                    st = engine.stories.get(sid)
                    if st is not None:
                        st.articles = max(0, st.articles + sign * int(f.article))
                        st.lsum = max(0.0, st.lsum + sign * f.length)
    _refresh(stage, desk, touched)
    edits.finish(desk)
    LOGGER.debug("consolidation over %d items: %s", len(ids), done)
    return done


def _count(group: list[str]) -> str:
    return "1 item" if len(group) == 1 else f"{len(group)} items"


def _refresh(stage: StoryStage, desk: Context, story_ids: set[str]) -> None:
    """Rereads each touched story's latest members for the closest-member score."""
    engine = stage.engine
    assert engine is not None
    store = desk.store
    for sid in story_ids:
        s = engine.stories.get(stage.current(sid))
        if s is None:
            continue
        rows = store.story_latest_members(s.id, RECENT_MEMBERS)
        latest = {it.id: it for it in store.items_by_ids(rows)}
        feats = [stage.features(latest[i], learn=False) for i in rows if i in latest]
        s.recent = [dict(heapq.nlargest(MEMBER_TERMS, f.terms.items(), key=lambda kv: kv[1])) for f in feats]
        s.dirty = True
        engine.put(s)
