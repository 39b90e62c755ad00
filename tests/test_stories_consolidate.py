"""Consolidation: the latest items clustered again (average link), applied as automatic corrections."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
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


def test_consolidation_joins_no_stories_where_the_crowded_bar_disagrees(db_path):
    # The same four reports the pass merges above, now decided in a crowded stream: each
    # decision's bar was raised for the many stories that competed for it (kept with the
    # decision). At those bars the reports are not alike enough, so the pass joins nothing.
    bridge = _items(BRIDGE)
    with Desk(db_path, stages=STAGES, settings=APART) as d:
        d.ingest(bridge)
        before = [_story(d, it) for it in bridge]
    with Desk(db_path, stages=STAGES, settings=PLAIN) as d:
        d.store.add_decisions([(it.id, sid, "started", None, 0.2, "{}", None, None, "{}", "2026-12-01T00:00:00+00:00",
                                5.0) for it, sid in zip(bridge, before, strict=True)])
        done = d.consolidate()
        assert done["merged"] == 0 and done["moved"] == 0
        assert [_story(d, it) for it in bridge] == before


def test_the_crowded_cut_parts_pairs_below_their_raised_bars():
    from newsdesk.stories.consolidate import crowded_cut

    margin = np.array([[0.0, 0.3, -1.0], [0.3, 0.0, -1.0], [-1.0, -1.0, 0.0]])
    assert crowded_cut(margin, [0.0, 0.0, 0.0]) is None  # no bar raised: the plain cut decides
    low = crowded_cut(margin, [0.1, 0.1, 0.0])
    assert low[0] == low[1] != low[2]  # 0.3 above the plain bars clears a raise of 0.1
    high = crowded_cut(margin, [0.4, 0.4, 0.0])
    assert len(set(high)) == 3  # not a raise of 0.4


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


# A report of the orchestra strike that the online pass put in the bridge story (it names the
# bridge): as a bare headline, and as a lede with the words of one.
ASTRAY = "Quillfield orchestra strike over pay spreads, players picket near Velmora bridge"
ASTRAY_LEDE = (
    "Musicians of the Quillfield symphony orchestra extended their strike over pay on Wednesday, "
    "cancelling rehearsals and a gala concert; union leaders said talks with the orchestra board "
    "had stalled, while players picketed outside the concert hall near the Velmora bridge. The "
    "season's opening programme of Mahler and Sibelius, sold out for weeks, was postponed, and "
    "ticket holders will be refunded by the box office."
)


@pytest.mark.parametrize(("text", "moves"), [("", False), (ASTRAY_LEDE, True)], ids=["headline", "lede"])
def test_consolidation_moves_a_lede_alone_but_not_a_bare_headline(db_path, text, moves):
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="City Times", hours=6)
    astray = Item(title=ASTRAY, text=text, source="Metro", published=T0 + timedelta(hours=5))
    with Desk(db_path, stages=STAGES, settings=CHAINED) as d:
        d.ingest(bridge + [astray])  # joins the bridge story: two shared words are enough here
    with Desk(db_path, stages=STAGES, settings=APART) as d:
        d.ingest(strike)
    with Desk(db_path, stages=STAGES, settings=PLAIN) as d:
        bridge_id = _story(d, bridge[0])
        assert _story(d, astray) == bridge_id
        done = d.consolidate()
        assert done["merged"] == 2  # the strike's three one-item stories become one
        strike_id = _story(d, strike[0])
        assert {_story(d, it) for it in strike} == {strike_id} != {bridge_id}
        assert {_story(d, it) for it in bridge} == {bridge_id}
        assert _story(d, astray) == (strike_id if moves else bridge_id)
        moved = [c for c in d.corrections(strike_id) if c.action == "move"]
        assert [c.items for c in moved] == ([[astray.id]] if moves else [])


def test_an_ingest_run_of_ten_new_items_ends_with_a_pass(db_path):
    bridge = _items(BRIDGE)
    with Desk(db_path, stages=STAGES, settings=APART) as d:
        d.ingest(bridge)
    others = [Item(title=f"Harbour regatta day {k} draws {k + 3} crews to Ostrel marina", text="",
                   source=f"Coast {k}", published=T0 + timedelta(days=2, hours=k)) for k in range(30)]
    with Desk(db_path, stages=STAGES, settings={**PLAIN, "story_consolidate_every": 0}) as d:
        d.ingest(others[:10])  # passes off: none at the end of a run either
        assert len({_story(d, it) for it in bridge}) == 4
    every = {**PLAIN, "story_consolidate_every": 1000}  # far from the count: only a run's end
    with Desk(db_path, stages=STAGES, settings=every) as d:
        d.ingest(others[10:19])
        d.ingest(others[19:20])  # ten since the last pass, but each run stored fewer than ten
        assert len({_story(d, it) for it in bridge}) == 4
        d.ingest(others[20:])
        assert len({_story(d, it) for it in bridge}) == 1
        assert any(c.reason.startswith("consolidation: ") for c in d.corrections(_story(d, bridge[0])))


def test_one_ingest_command_is_one_run_whatever_its_files(db_path, cli, tmp_path):
    import json

    bridge = _items(BRIDGE)
    with Desk(db_path, stages=STAGES, settings=APART) as d:
        d.ingest(bridge)
    files = []
    for part in range(2):  # two files of six items: each alone is too small a run for a pass
        path = tmp_path / f"regatta-{part}.jsonl"
        rows = [{"id": f"r{part}-{k}", "title": f"Regatta heat {part}-{k} won by Ostrel crew {k}", "text": "",
                 "published": (T0 + timedelta(days=2, hours=k)).isoformat(), "source": f"Coast {k}"}
                for k in range(6)]
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
        files.append(str(path))
    result = cli("ingest", "--no-progress", *files)
    assert result.exit_code == 0, result.output
    assert "12 new, 0 already stored, 0 skipped" in result.output
    assert "consolidation: 3 stories merged" in result.output
    with Desk(db_path) as d:
        assert len({_story(d, it) for it in bridge}) == 1


def test_a_pass_decides_the_same_from_what_the_process_kept_as_from_the_store(tmp_path):
    """The process that decided the items reuses their term counts and vectors; a fresh one
    reads and embeds them again. Both passes (default vectors) must apply the same changes."""
    from newsdesk import ingest as sources
    from newsdesk.data import demo_path

    items = [r for r in sources.read(demo_path()) if isinstance(r, Item)]
    online = {"enrich": False, "story_consolidate_every": 0}
    done, parts = [], []
    for name, reopen in (("kept.db", False), ("read.db", True)):
        d = Desk(tmp_path / name, stages=STAGES, settings=online)
        d.ingest(items)
        if reopen:
            d.close()
            d = Desk(tmp_path / name, stages=STAGES, settings=online)
        done.append(d.consolidate())
        members = d.store.all_memberships()
        groups: dict[str, set[str]] = {}
        for item_id, story in members.items():
            groups.setdefault(story, set()).add(item_id)
        parts.append({frozenset(g) for g in groups.values()})
        d.close()
    assert done[0]["moved"] + done[0]["merged"] + done[0]["new"] > 0  # the pass changed something
    assert done[0] == done[1]
    assert parts[0] == parts[1]


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


def test_a_pass_judges_a_pair_without_a_vector_by_its_words():
    # An item with no vector (nothing to embed, or a language the backend does not read) is
    # judged by its words online; the pass judges its pairs the same way, not as vector 0.
    from collections import Counter

    from newsdesk.stories.cluster import Engine
    from newsdesk.stories.consolidate import pair_scores, term_matrix
    from newsdesk.stories.features import Features, TermWeights
    from newsdesk.stories.params import shipped

    engine = Engine(dict(shipped()))
    counts = [Counter({"velmora": 1, "bridge": 1}), Counter({"velmora": 1, "orchestra": 1}),
              Counter({"velmora": 1, "strike": 1})]
    feats = [Features(item_id=str(i), terms={}, length=30, time=0.0, dated=False, source=None) for i in range(3)]
    x = term_matrix(counts, TermWeights())
    v = np.full(384, 384 ** -0.5, dtype=np.float32)
    with_vectors = pair_scores(engine, feats, x, [v, v, v])
    one_without = pair_scores(engine, feats, x, [v, v, np.zeros(384, dtype=np.float32)])
    words_only = pair_scores(engine, feats, x, None)
    assert one_without[0, 1] == pytest.approx(with_vectors[0, 1])  # both have vectors: as before
    assert one_without[0, 2] == pytest.approx(words_only[0, 2])  # one shared word, no vector: words alone
    assert one_without[0, 2] < with_vectors[0, 2] - 0.5


def test_passes_fall_every_n_items_whatever_the_batch(db_path):
    # A pass falls due at the n-th new item even inside a batch, so what is left towards the
    # next pass is the same whether items come one by one or all at once.
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="Arts Desk", hours=1)
    quiet = {"story_consolidate_every": 0}
    with Desk(db_path, stages=STAGES, settings={**APART, **quiet}) as d:
        d.ingest(bridge[:2])
    every_two = {**PLAIN, "story_consolidate_every": 2}
    with Desk(db_path, stages=STAGES, settings=every_two) as d:
        d.ingest(strike)  # one batch of three: a pass after the second (the bridge's halves join)
        assert _story(d, bridge[0]) == _story(d, bridge[1])
    with Desk(db_path, stages=STAGES, settings={**APART, **quiet}) as d:
        d.ingest(bridge[2:])
        assert len({_story(d, it) for it in bridge}) == 3
    with Desk(db_path, stages=STAGES, settings=every_two) as d:
        # The third report of the strike was the first item towards the next pass; this is the
        # second, so the pass runs and the bridge's new reports join their story.
        d.ingest(Item(title="Quillfield orchestra players vote on new pay offer", text="",
                      source="Arts Desk 9", published=T0 + timedelta(hours=9)))
        assert len({_story(d, it) for it in bridge}) == 1
