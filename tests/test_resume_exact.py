"""A process that reloads the story state from the store decides exactly as one that kept it.

The same items go into two stores in the same batches: once through one desk (the story
state stays in memory), once through a new desk per batch (the state is read back from the
store before every batch, as after a kill -9 and a resume). The stories must be the same.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from newsdesk import Desk
from newsdesk import ingest as sources
from newsdesk.data import demo_path
from newsdesk.model import Item
from newsdesk.stories.cluster import Levels, StoryState
from newsdesk.stories.stage import story_row

SETTINGS = {"enrich": False}  # the entity model is not the point, and slow


def _partition(memberships: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item, story in memberships.items():
        groups.setdefault(story, set()).add(item)
    return {frozenset(g) for g in groups.values()}


def _kept_and_reloaded(items: list[Item], batch: int, folder: Path) -> tuple[set, set]:
    """Returns the stories of one desk for every batch, and of a new desk per batch."""
    with Desk(folder / "kept.db", settings=SETTINGS) as desk:
        for start in range(0, len(items), batch):
            desk.ingest(items[start:start + batch], batch_size=batch)
        kept = _partition(desk.store.all_memberships())
        assert sum(len(s) for s in kept) == desk.store.item_stats()["items"]  # every item has its story
    for start in range(0, len(items), batch):
        with Desk(folder / "reloaded.db", settings=SETTINGS) as desk:
            desk.ingest(items[start:start + batch], batch_size=batch)
    with Desk(folder / "reloaded.db", settings=SETTINGS) as desk:
        reloaded = _partition(desk.store.all_memberships())
    return kept, reloaded


def test_demo_corpus_one_item_per_process_equals_one_process(tmp_path: Path) -> None:
    items = [r for r in sources.read(demo_path()) if isinstance(r, Item)]
    kept, reloaded = _kept_and_reloaded(items, 1, tmp_path)
    assert len(kept) > 5
    assert reloaded == kept


def test_shared_sets_reloaded_before_every_batch_equal_one_process(shared_data: Path, tmp_path: Path) -> None:
    # Undated headlines, then a dated stream, then dated full articles (split checks, long window).
    items: list[Item] = []
    for name, n in (("googlenews-headlines", 1500), ("allsides-stream", 300), ("ecbplus", 400)):
        records = sources.read(shared_data / f"{name}.jsonl")
        items += [r for r in itertools.islice(records, n) if isinstance(r, Item)]
    kept, reloaded = _kept_and_reloaded(items, 100, tmp_path)
    assert len(kept) > 100
    assert reloaded == kept, f"{len(kept ^ reloaded)} stories differ"


HARBOUR = [
    ("Crane collapses at Velmora harbour, two dockers hurt",
     "A gantry crane collapsed at Velmora harbour on Tuesday, injuring two dockers."),
    ("Velmora harbour crane collapse: inquiry opened",
     "Inspectors opened an inquiry into the gantry crane collapse at Velmora harbour."),
    ("Velmora dockers strike after crane collapse",
     "Dockers at Velmora harbour walked out after the gantry crane collapse."),
]
LATE = ("Velmora harbour gantry crane collapse inquiry names dockers", "Dock Post")


def _harbour_story(n: int) -> list[Item]:
    """Returns the first n reports of a story dated May 2021."""
    old = datetime(2021, 5, 25, 9, tzinfo=UTC)
    return [Item(title=t, text=x, source=f"Harbour Wire {i}", published=old + timedelta(hours=i))
            for i, (t, x) in enumerate(HARBOUR[:n])]


def test_undated_item_ignores_an_old_story_an_editor_read_back(tmp_path: Path) -> None:
    # An old dated story stops being live once undated items (timed by their arrival, today)
    # come in. An editor's split reads it back into the running process; an undated item about
    # it must then decide as a process started afresh does, which loads only live stories.
    story = _harbour_story(3)
    other = Item(title="Quillon chess festival opens with record entry", source="Arts Desk")
    late = Item(title=LATE[0], source=LATE[1])
    with Desk(tmp_path / "kept.db", settings=SETTINGS) as desk:
        desk.ingest(story)
        desk.ingest([other])  # the stream's present is now today: the old story is dormant
        sid = desk.item_story(story[0].id).id
        desk.split_story(sid, [story[2].id], reason="the strike is its own story")
        desk.ingest([late])
        kept = _partition(desk.store.all_memberships())
    with Desk(tmp_path / "kept.db", settings=SETTINGS) as desk:
        assert desk.item_story(late.id).id not in {desk.item_story(i.id).id for i in story}
    assert any(late.id in group and len(group) == 1 for group in kept)


def test_undated_item_finds_a_live_story_in_a_fresh_process_too(tmp_path: Path) -> None:
    # An undated page read today about a story whose latest news is the latest stored (the
    # stream's present): a running process holds that story, and one started for this item
    # finds it too.
    story = _harbour_story(2)
    late = Item(title=LATE[0], source=LATE[1])
    joined = []
    for name, fresh in (("kept.db", False), ("fresh.db", True)):
        desk = Desk(tmp_path / name, settings=SETTINGS)
        desk.ingest(story)
        if fresh:
            desk.close()
            desk = Desk(tmp_path / name, settings=SETTINGS)
        desk.ingest([late])
        joined.append(desk.item_story(late.id).id == desk.item_story(story[0].id).id)
        desk.close()
    assert joined == [True, True]


def test_story_state_reads_back_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    s = StoryState(id="s1", seq=4, terms={"fire": 0.1234567891234, "ward": 1 / 3}, n=2,
                   first=1.7e9 + 0.123456789, last=1.7e9 + 86400.987654321,
                   vector=rng.standard_normal(16).astype(np.float32),
                   recent=[{"fire": 0.7071067811865476, "ward": 2 / 7}],
                   ticks={"fire": 5, "ward": 5}, ent_ticks={"gpe:x": 5}, size=2)
    s.dfirst, s.dlast = s.first, s.last
    row = story_row(s)
    state = json.loads(json.dumps(row["state"]))  # as the store keeps it
    back = StoryState.from_row({"id": "s1", "seq": 4, "first": 0.0, "last": 0.0, "size": 2,
                                "copies": 0, "title": ""}, state)
    assert back.terms == s.terms and back.recent == s.recent
    assert back.vector.dtype == np.float32 and np.array_equal(back.vector, s.vector)
    assert (back.first, back.last, back.dfirst, back.dlast) == (s.first, s.last, s.dfirst, s.dlast)
    assert back.ticks == s.ticks and back.ent_ticks == s.ent_ticks


def test_running_levels_read_back_exactly() -> None:
    levels = Levels()
    for k in range(50):
        levels.observe(k / 97, (k % 7) / 11)
        levels.observe_time((k % 5) / 4)
    again = Levels()
    again.load_text(levels.to_text())
    assert vars(again) == vars(levels)
    assert again.on_term_scale(0.4) == levels.on_term_scale(0.4)
    assert again.on_time(0.05) == levels.on_time(0.05) and again.on_time(0.7) == levels.on_time(0.7)


def test_levels_of_a_store_written_before_the_time_share_load() -> None:
    old = Levels()
    old.observe(0.3, 0.5)
    four = json.dumps(json.loads(old.to_text())[:4])  # what such a store holds
    again = Levels()
    again.load_text(four)
    assert (again.t_mean, again.v_mean) == (old.t_mean, old.v_mean)
    assert again.close == Levels().close  # the time share starts from its prior
