"""Pure summariser, sentence splitting and copy folding on fictional stories."""

from __future__ import annotations

from datetime import timedelta

from test_summaries_data import T0, bridge_copies, bridge_story, headline_story

from newsdesk.model import Item
from newsdesk.stories.sentences import fold_copies, split_sentences
from newsdesk.stories.summarize import summarize


def test_split_sentences_keeps_abbreviations_and_initials():
    text = 'Sen. Ada Brook met Dr. J. Hale in the U.S. capital on Monday. "It went well," she said. Next?'
    assert split_sentences(text) == [
        "Sen. Ada Brook met Dr. J. Hale in the U.S. capital on Monday.",
        '"It went well," she said.',
        "Next?",
    ]


def test_fold_copies_puts_wire_copy_under_its_canonical_item():
    items = bridge_story()
    members = fold_copies(items, bridge_copies(items))
    assert len(members) == 4
    valley = next(m for m in members if m.id == items[1].id)
    assert [c.id for c in valley.copies] == [items[2].id]
    assert valley.sources == ["Valley Post", "Northern Wire"]


def test_summary_sentences_come_from_and_cite_real_members():
    items = bridge_story()
    summary = summarize(items, bridge_copies(items))
    assert summary.kind == "articles"
    assert 2 <= len(summary.sentences) <= 5
    by_id = {it.id: it for it in items}
    for sentence in summary.sentences:
        assert sentence.item_ids, sentence
        assert all(i in by_id for i in sentence.item_ids)
        # The first cited item is the one the sentence was taken from.
        assert sentence.text in by_id[sentence.item_ids[0]].text
        expected_sources = {by_id[i].source for i in sentence.item_ids}
        assert expected_sources <= set(sentence.sources)
    texts = [s.text for s in summary.sentences]
    assert len(set(texts)) == len(texts)


def test_near_identical_sentence_in_another_member_counts_as_citation():
    items = bridge_story()
    summary = summarize(items, bridge_copies(items))
    girders = [s for s in summary.sentences if "girders" in s.text and "eastern span" in s.text]
    assert girders, summary.text
    cited = set(girders[0].item_ids)
    # Both the Courier and the Valley Post lede say it; the wire copy adds its source.
    assert {items[0].id, items[1].id} <= cited
    assert "Northern Wire" in girders[0].sources
    assert items[2].id not in cited  # a copy is cited through its canonical item


def test_summary_is_not_redundant():
    items = bridge_story()
    summary = summarize(items, bridge_copies(items))
    closed = [s for s in summary.sentences if "closed to all traffic" in s.text]
    assert len(closed) <= 1


def test_headline_only_story_gets_a_short_synthesis():
    items = headline_story()
    summary = summarize(items)
    assert summary.kind == "headlines"
    assert 1 <= len(summary.sentences) <= 3
    titles = {it.id: it.title for it in items}
    for sentence in summary.sentences:
        assert sentence.text.rstrip(".") in titles[sentence.item_ids[0]]
        assert sentence.text.endswith(".")
    # The two near-identical "cancelled" headlines appear once, citing both members.
    festival = [s for s in summary.sentences if "festival" in s.text.lower()]
    assert len(festival) == 1
    assert {items[0].id, items[1].id} <= set(festival[0].item_ids)


def test_since_summarises_only_what_is_new():
    items = bridge_story()
    since = T0 + timedelta(days=1)
    summary = summarize(items, bridge_copies(items), since=since)
    late = {it.id for it in items if it.published >= since}
    assert summary.sentences
    for sentence in summary.sentences:
        assert sentence.item_ids[0] in late
    assert "4 million" in summary.text or "ferry" in summary.text
    assert "cracked" not in summary.text
    assert summary.new_sources == ["Shire Times"]  # Valley Post wrote earlier too
    assert set(summary.new_items) == late


def test_since_drops_repeated_facts():
    items = bridge_story()
    repeat = Item(
        title="Marrowby bridge stays closed",
        text=(
            "The Marrowby river bridge was closed to all traffic on Monday after inspectors found "
            "cracked steel girders beneath the eastern span."
        ),
        source="Harwell Herald",
        published=T0 + timedelta(days=4),
    )
    summary = summarize([*items, repeat], since=T0 + timedelta(days=3, hours=12))
    assert summary.sentences == []
    assert summary.new_sources == ["Harwell Herald"]


def test_empty_story_has_empty_summary():
    assert summarize([]).sentences == []
