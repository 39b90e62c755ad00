"""Fictional story fixtures for the summary, timeline and briefing tests (written for newsdesk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from newsdesk.model import Item

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def bridge_story() -> list[Item]:
    """Returns a five-report story (one a wire copy) about a fictional bridge closure."""
    return [
        Item(
            title="Marrowby river bridge closed after inspectors find cracked girders",
            text=(
                "The Marrowby river bridge was closed to all traffic on Monday after inspectors "
                "found cracked steel girders beneath the eastern span. The county roads office "
                "said the closure would last at least three weeks. Buses between Marrowby and "
                "Tollcross will run a diversion through the Harwell crossing."
            ),
            source="Marrowby Courier",
            published=T0,
        ),
        Item(
            title="Cracked girders shut Marrowby bridge for weeks",
            text=(
                "Inspectors found cracked steel girders beneath the eastern span of the Marrowby "
                "river bridge, which was closed to all traffic on Monday. Local shops on Quay "
                "Street fear a drop in trade while the bridge stays shut. The roads office has "
                "not said how much the repairs will cost."
            ),
            source="Valley Post",
            published=T0 + timedelta(hours=2),
        ),
        Item(
            title="Cracked girders shut Marrowby bridge for weeks",
            text=(
                "Inspectors found cracked steel girders beneath the eastern span of the Marrowby "
                "river bridge, which was closed to all traffic on Monday. Local shops on Quay "
                "Street fear a drop in trade while the bridge stays shut. The roads office has "
                "not said how much the repairs will cost."
            ),
            url="https://wire.example/marrowby-bridge",
            source="Northern Wire",
            published=T0 + timedelta(hours=3),
        ),
        Item(
            title="Marrowby bridge repairs to cost 4 million, council says",
            text=(
                "Repairs to the Marrowby river bridge will cost about 4 million, the county "
                "council said on Wednesday. Engineers will replace six girders on the eastern "
                "span. The council expects the bridge to reopen to cars in late April."
            ),
            source="Shire Times",
            published=T0 + timedelta(days=2),
        ),
        Item(
            title="Ferry service added while Marrowby bridge is shut",
            text=(
                "A temporary ferry will carry foot passengers across the river from Thursday "
                "while the Marrowby bridge is closed for repairs. The ferry will run every twenty "
                "minutes from Quay Street."
            ),
            source="Valley Post",
            published=T0 + timedelta(days=3),
        ),
    ]


def bridge_copies(items: list[Item]) -> dict[str, str]:
    """Returns the copy map of `bridge_story()`: the wire copy folds under the Valley Post item."""
    return {items[2].id: items[1].id}


def headline_story() -> list[Item]:
    """Returns a story made only of headlines about a fictional orchard festival."""
    return [
        Item(title="Pellham orchard festival cancelled after late frost", kind="headline",
             source="Pellham Gazette", published=T0),
        Item(title="Late frost cancels Pellham orchard festival", kind="headline",
             source="County Radio", published=T0 + timedelta(hours=1)),
        Item(title="Pellham growers count cost of frost damage to apple blossom", kind="headline",
             source="Farm Weekly", published=T0 + timedelta(hours=5)),
    ]


def test_fixture_ids_are_distinct():
    items = bridge_story() + headline_story()
    assert len({it.id for it in items}) == len(items)
