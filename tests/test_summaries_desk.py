"""Titles, summaries, changes and timelines of stories built by the real Desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_summaries_data import T0, bridge_copies, bridge_story, headline_story

from newsdesk import Desk, Item, NotFound
from newsdesk.stories.label import story_title


@pytest.fixture
def story_desk(db_path):
    """Returns a Desk (copies and stories stages) holding the bridge and festival stories."""
    d = Desk(db_path, stages=["copies", "stories"])
    d.ingest(bridge_story() + headline_story())
    yield d
    d.close()


def _story_of(desk: Desk, item: Item) -> str:
    story = desk.item_story(item.id)
    assert story is not None
    return story.id


def test_bridge_reports_form_one_story_with_the_wire_copy_folded(story_desk):
    items = bridge_story()
    sid = _story_of(story_desk, items[0])
    assert {_story_of(story_desk, it) for it in items} == {sid}
    timeline = story_desk.story_timeline(sid)
    assert [e.item_id for e in timeline] == [items[0].id, items[1].id, items[3].id, items[4].id]
    assert [c["id"] for c in timeline[1].copies] == [items[2].id]
    assert [e.time for e in timeline] == sorted(e.time for e in timeline)


def test_summary_citations_point_at_real_members(story_desk):
    items = bridge_story()
    sid = _story_of(story_desk, items[0])
    members = {m.item.id: m.item for m in story_desk.story_items(sid)}
    summary = story_desk.story_summary(sid)
    assert 2 <= len(summary.sentences) <= 5
    for sentence in summary.sentences:
        assert set(sentence.item_ids) <= set(members)
        assert sentence.text in members[sentence.item_ids[0]].text
        assert set(sentence.sources) >= {members[i].source for i in sentence.item_ids}


def test_since_shows_only_what_is_new(story_desk):
    items = bridge_story()
    sid = _story_of(story_desk, items[0])
    since = T0 + timedelta(days=1)
    whole = story_desk.story_summary(sid)
    new = story_desk.story_summary(sid, since=since)
    late = {it.id for it in items if it.published >= since}
    assert new.sentences
    assert all(s.item_ids[0] in late for s in new.sentences)
    early_text = " ".join(it.text for it in items if it.published < since)
    assert not any(s.text in early_text for s in new.sentences)
    assert new.new_sources == ["Shire Times"]
    assert whole.text != new.text
    nothing = story_desk.story_summary(sid, since=T0 + timedelta(days=30))
    assert nothing.sentences == [] and nothing.new_items == []


def test_timeline_lists_new_facts_only_once(story_desk):
    sid = _story_of(story_desk, bridge_story()[0])
    seen: list[str] = []
    for entry in story_desk.story_timeline(sid):
        for fact in entry.new_facts:
            assert fact not in seen
            seen.append(fact)
    assert any("ferry" in f for f in seen)


def test_headline_only_story_gets_a_summary(story_desk):
    heads = headline_story()
    sid = _story_of(story_desk, heads[0])
    summary = story_desk.story_summary(sid)
    assert summary.kind == "headlines"
    assert summary.sentences
    ids = {m.item.id for m in story_desk.story_items(sid)}
    assert all(set(s.item_ids) <= ids for s in summary.sentences)


def test_story_title_is_a_member_headline_and_stays_put(story_desk):
    items = bridge_story()
    sid = _story_of(story_desk, items[0])
    first = story_desk.story_title(sid)
    titles = {it.title for it in items}
    assert first.kind == "headline" and first.text in titles
    # A new report with its own angle joins: the title holds.
    story_desk.ingest(Item(
        title="Marrowby bridge closure: commuters face longer trips",
        text=("Commuters face longer trips while the Marrowby river bridge stays closed for girder "
              "repairs on the eastern span, the roads office said."),
        source="Harwell Herald", published=T0 + timedelta(days=4),
    ))
    assert _story_of(story_desk, items[0]) == sid
    again = story_desk.story_title(sid)
    assert again.text == first.text
    assert not again.changed


def test_title_hysteresis_keeps_a_close_current_title_and_drops_a_weak_one():
    items = bridge_story()
    copies = bridge_copies(items)
    best = story_title(items, copies)
    assert best.item_id is not None and best.text in {it.title for it in items}
    # Both lede headlines describe the closure; whichever is shown now stays shown.
    for current in (items[0].title, items[1].title):
        kept = story_title(items, copies, current=current)
        assert kept.text == current and not kept.changed
    # The ferry headline covers one later detail: a clearly better title replaces it.
    weak = story_title(items, copies, current=items[4].title)
    assert weak.changed and weak.text == best.text
    stale = story_title(items, copies, current="A headline no member carries")
    assert stale.changed and stale.text == best.text


def test_story_calls_on_unknown_story_raise_not_found(story_desk):
    for call in (story_desk.story_title, story_desk.story_summary, story_desk.story_timeline):
        with pytest.raises(NotFound):
            call("s-no-such-story")
