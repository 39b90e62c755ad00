"""Several ingest processes on one PostgreSQL store: nothing lost or doubled, the same stories."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import PG, PG_SKIP, ROOT, pg_drop_database, pg_fresh_database

from newsdesk import Desk
from newsdesk import ingest as sources
from newsdesk.data import demo_path
from newsdesk.model import Item

WRITERS = 3
BATCH = 8
# The entity stage's model would load in every process: slow, and not the point. Consolidation
# passes are off: each writer's run ends with one, and where a run ended is not in the order the
# database committed the batches, which is all the one writer below is given.
SETTINGS = {"enrich": False, "story_consolidate_every": 0}

_CHILD = """
import sys
from newsdesk import Desk, ingest as sources
from newsdesk.data import demo_path
from newsdesk.model import Item
address, k, n, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
items = [r for r in sources.read(demo_path()) if isinstance(r, Item)][k::n]
with Desk(address, settings={"enrich": False, "story_consolidate_every": 0}) as desk:
    report = desk.ingest(items, batch_size=batch)
print(report.new)
"""


def _items() -> list[Item]:
    return [r for r in sources.read(demo_path()) if isinstance(r, Item)]


def _partition(memberships: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for item, story in memberships.items():
        groups.setdefault(story, set()).add(item)
    return {frozenset(g) for g in groups.values()}


def test_concurrent_ingest_processes_store_each_item_once_and_decide_stories_as_one_writer(tmp_path):
    if not PG:
        pytest.skip(PG_SKIP)
    items = _items()
    address = pg_fresh_database()
    try:
        procs = [subprocess.Popen([sys.executable, "-c", _CHILD, address, str(k), str(WRITERS), str(BATCH)],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for k in range(WRITERS)]
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
        assert sum(int(o[0].split()[-1]) for o in outs) == len(items)
        with Desk(address) as shared:
            stats = shared.store.item_stats()
            assert stats["items"] == len(items) and stats["sightings"] == len(items)
            arrival = list(shared.store.iter_item_rows())
            memberships = shared.store.all_memberships()
        assert sorted(arrival) == sorted(it.id for it in items)
        assert set(memberships) == set(arrival)  # every item has its story
        # One writer given the batches in the order the database committed them decides the same.
        where = {}
        for k in range(WRITERS):
            for pos, it in enumerate(items[k::WRITERS]):
                where[it.id] = (k, pos // BATCH)
        by_id = {it.id: it for it in _items()}
        batches: list[list[Item]] = []
        for item_id in arrival:
            if batches and where[batches[-1][-1].id] == where[item_id]:
                batches[-1].append(by_id[item_id])
            else:
                batches.append([by_id[item_id]])
        assert len(batches) >= len(items) // BATCH
        with Desk(tmp_path / "one.db", settings=SETTINGS) as alone:
            for batch in batches:
                alone.ingest(batch, batch_size=BATCH)
            # A writer reloads the story state after another's batch and decides as one that kept it.
            assert _partition(alone.store.all_memberships()) == _partition(memberships)
    finally:
        pg_drop_database(address)
