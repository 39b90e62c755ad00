"""Consolidation: the latest items clustered again (average link), applied as automatic corrections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_stories import BRIDGE, STRIKE, T0, _items

from newsdesk import Desk, InputError, Item

STAGES = ["copies", "stories"]
# The online pass forced to keep every item apart (a threshold no item reaches) or to join
# whatever shares two words (a threshold every such item reaches): what consolidation sees.
PLAIN = {"embed_backend": "none"}  # the mechanics, on term evidence alone
APART = {**PLAIN, "story_threshold": 1.0, "story_threshold_headline": 1.0, "story_threshold_article": 1.0}
CHAINED = {**PLAIN, "story_threshold": 0.0, "story_threshold_headline": 0.0, "story_threshold_article": 0.0}
BRIDGING = ("Velmora bridge crack and Quillfield orchestra strike disrupt the city",
            "The Velmora bridge crack and the Quillfield orchestra strike over pay disrupted the city.")


def _story(desk, item):
    return desk.item_story(item.id).id


def test_consolidation_merges_what_the_online_pass_kept_apart(db_path):
    bridge = _items(BRIDGE)
    with Desk(db_path, stages=STAGES, settings=APART) as d:
        d.ingest(bridge)
        before = [_story(d, it) for it in bridge]
    assert len(set(before)) == 4
    with Desk(db_path, stages=STAGES, settings=PLAIN) as d:
        done = d.consolidate()
        after = {_story(d, it) for it in bridge}
        assert done["merged"] == 3 and after == {before[0]}  # the oldest id stays
        fixes = d.corrections(before[0])
        assert {c.action for c in fixes} == {"merge"}
        assert all(c.reason.startswith("consolidation: ") for c in fixes)
        moved = {i for c in fixes for i in c.items}
        assert moved == {it.id for it in bridge[1:]}  # why finds each moved item's correction


def test_consolidation_splits_a_chained_story_and_keeps_its_id(db_path):
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="City Times", hours=6)
    middle = Item(title=BRIDGING[0], text=BRIDGING[1], source="Metro", published=T0 + timedelta(hours=5))
    with Desk(db_path, stages=STAGES, settings=CHAINED) as d:
        d.ingest(bridge + [middle] + strike)
        chained = {_story(d, it) for it in bridge + strike}
    assert len(chained) == 1
    (sid,) = chained
    with Desk(db_path, stages=STAGES, settings=PLAIN) as d:
        done = d.consolidate()
        assert done["new"] >= 1
        assert {_story(d, it) for it in bridge} == {sid}  # the larger part keeps the id
        strike_ids = {_story(d, it) for it in strike}
        assert len(strike_ids) == 1 and sid not in strike_ids
        fixes = d.corrections(sid)
        assert any(c.reason.startswith("consolidation: ") and strike[0].id in c.items for c in fixes)


def test_consolidation_leaves_an_editors_move(db_path):
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="City Times")
    with Desk(db_path, stages=STAGES, settings=PLAIN) as d:
        d.ingest(bridge + strike)
        bridge_id, strike_id = _story(d, bridge[0]), _story(d, strike[0])
        assert bridge_id != strike_id
        d.move_item(strike[2].id, bridge_id, reason="editor")
        d.consolidate()
        assert _story(d, strike[2]) == bridge_id  # pinned by the editor: stays
        assert _story(d, strike[0]) == strike_id and _story(d, bridge[0]) == bridge_id


def test_consolidation_runs_every_n_items(db_path):
    bridge = _items(BRIDGE)
    with Desk(db_path, stages=STAGES, settings={**APART, "story_consolidate_every": 4}) as d:
        d.ingest(bridge[:2])
        assert len({_story(d, it) for it in bridge[:2]}) == 2  # not yet: two items
        d.ingest(bridge[2:])
        # The pass reads the online settings (here: nothing joins), so it changes nothing ...
        assert len({_story(d, it) for it in bridge}) == 4
    with Desk(db_path, stages=STAGES, settings={**PLAIN, "story_consolidate_every": 1}) as d:
        d.ingest(Item(title="Velmora bridge crack repairs begin", text="", published=T0 + timedelta(hours=9)))
        # ... and with the shipped settings the pass after one more item joins them all.
        assert len({_story(d, it) for it in bridge}) == 1


def test_a_bad_story_setting_is_named(db_path, monkeypatch):
    with pytest.raises(InputError, match="story_threshold"):
        Desk(db_path, stages=STAGES, settings={"story_threshold": 2.0}).ingest(_items(BRIDGE[:1]))
    monkeypatch.setenv("NEWSDESK_STORY_MERGE_MARGIN", "lots")
    with pytest.raises(InputError, match="NEWSDESK_STORY_MERGE_MARGIN"):
        Desk(db_path, stages=STAGES).ingest(_items(BRIDGE[1:2]))


def test_settings_json_is_checked():
    from newsdesk.stories.params import check, shipped

    good = dict(shipped())
    assert len(good) <= 15
    with pytest.raises(InputError, match="unknown story setting 'threshold_mid'"):
        check({**good, "threshold_mid": 0.2}, "settings.json")
    missing = dict(good)
    del missing["member_weight"]
    with pytest.raises(InputError, match="missing story setting 'member_weight'"):
        check(missing, "settings.json")
    with pytest.raises(InputError, match="'lead_words' must be an integer"):
        check({**good, "lead_words": 2.5}, "settings.json")
    with pytest.raises(InputError, match="'threshold' = 1.5 is out of range"):
        check({**good, "threshold": 1.5}, "settings.json")
