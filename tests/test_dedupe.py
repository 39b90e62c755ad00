"""Copies: near-duplicates link to a canonical item; short texts match by normalised text."""

from __future__ import annotations

from datetime import UTC, datetime

from newsdesk import Item

WIRE = (
    "The river ferry between Oldmere and Castlegate stopped running on Monday after inspectors "
    "found a cracked hull plate, the transport board said. Commuters were told to use the coast "
    "road while the vessel is repaired at the Brinsley yard, a job expected to take three weeks. "
    "The board said a replacement boat would be hired from a neighbouring county if the repair "
    "ran late, and that season tickets would be extended by a month for every affected rider."
)


def _item(title: str, text: str, url: str | None = None, source: str | None = None) -> Item:
    return Item(title=title, text=text, url=url, source=source,
                published=datetime(2026, 3, 2, 9, tzinfo=UTC))


def test_republished_wire_story_is_a_copy(desk):
    original = _item("Ferry halted after hull crack", WIRE, "https://a.example/ferry", "Oldmere Post")
    # New headline, trimmed last sentence, different outlet and address.
    trimmed = WIRE.rsplit(" The board said", 1)[0]
    copy = _item("Oldmere ferry out of service for three weeks", trimmed, "https://b.example/f", "Coast Daily")
    desk.ingest([original, copy])
    assert desk.store.copy_of(copy.id)["canonical_id"] == original.id
    assert desk.store.copy_of(original.id) is None
    assert desk.store.copies_of(original.id) == [copy.id]


def test_different_article_is_not_a_copy(desk):
    original = _item("Ferry halted after hull crack", WIRE, "https://a.example/ferry")
    other = _item(
        "Castlegate library reopens",
        "The Castlegate library reopened on Saturday after a two year renovation that added a "
        "reading garden, a repair cafe and late opening hours on Thursdays, the council said, "
        "adding that the children's floor would follow in the spring once the lift is installed.",
        "https://a.example/library",
    )
    desk.ingest([original, other])
    assert desk.store.copy_of(other.id) is None


def test_same_headline_from_two_feeds_is_a_copy(desk):
    a = _item("Storm closes Oldmere harbour", "", "https://feed-one.example/1", "Feed One")
    b = _item("Storm closes Oldmere harbour!", "", "https://feed-two.example/9", "Feed Two")
    desk.ingest([a, b])
    assert a.id != b.id
    assert desk.store.copy_of(b.id) == {"canonical_id": a.id, "score": 1.0, "method": "title"}


def test_copies_found_across_processes(db_path):
    from newsdesk import Desk

    original = _item("Ferry halted after hull crack", WIRE, "https://a.example/ferry")
    with Desk(db_path) as first:
        first.ingest(original)
    copy = _item("Ferry out", WIRE + " More later.", "https://c.example/ferry")
    with Desk(db_path) as second:
        second.ingest(copy)
        assert second.store.copy_of(copy.id)["canonical_id"] == original.id
        # The copy joins the canonical item's story and counts as a copy there.
        story = second.item_story(copy.id)
        assert story is not None and story.id == second.item_story(original.id).id
        assert story.copies == 1 and story.size == 2


def test_exact_same_content_is_one_item(desk):
    a = _item("Ferry halted after hull crack", WIRE)
    b = _item("Ferry halted after hull crack", WIRE)
    report = desk.ingest([a, b])
    assert report.new == 1 and report.already == 1
