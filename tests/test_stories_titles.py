"""Story titles: a member's headline (else a lead cut at a word), the same everywhere, read-only."""

from __future__ import annotations

import html
from datetime import timedelta

from fastapi.testclient import TestClient
from test_stories import BRIDGE, T0, _items

from newsdesk import Desk, Item
from newsdesk.stories.features import lead_title

LONG = ("Delegates from forty nations gathered in the lakeside conference hall on Monday morning to "
        "negotiate the most ambitious treaty on river pollution that the region has seen since the "
        "end of the Second World War, officials said")


def test_a_lead_title_is_never_cut_mid_word():
    title = lead_title(LONG)
    assert title.endswith("…") and len(title) <= 121
    stem = title[:-1]
    assert LONG.startswith(stem) and LONG[len(stem)] in " ,"  # cut at a word boundary
    assert lead_title("Storm closes the island ferry. Crews wait for the wind.") == "Storm closes the island ferry"


def test_a_story_with_a_headline_is_titled_with_one(db_path):
    lede = ("Engineers closed the Velmora suspension bridge after finding a crack in the main span "
            "of the bridge, which carries most of the city's traffic across the river to the port")
    untitled = Item(title=None, text=lede, source="Page Dump", published=T0 - timedelta(hours=2))
    bridge = _items(BRIDGE[:2])
    with Desk(db_path, stages=["copies", "stories"]) as desk:
        desk.ingest([untitled] + bridge)
        story = desk.item_story(untitled.id)
        assert {desk.item_story(it.id).id for it in bridge} == {story.id}
        assert story.title == BRIDGE[0][0]  # the earliest headline, though the lead came first
        lone = Item(title=None, text=LONG, source="Other Page", published=T0 + timedelta(days=90))
        desk.ingest(lone)
        assert desk.item_story(lone.id).title == lead_title(LONG)  # no headline: the lead, cut at a word


def test_list_page_and_api_show_the_same_title_and_reading_writes_nothing(db_path):
    from newsdesk.api import create_app

    with Desk(db_path, stages=["copies", "stories"]) as desk:
        desk.ingest(_items(BRIDGE))
        sid = desk.item_story(_items(BRIDGE[:1])[0].id).id
        listed = desk.stories()[0].title
        changes = desk.store.conn.total_changes
        with TestClient(create_app(desk)) as client:
            river = client.get("/").text
            page = client.get(f"/story/{sid}").text
            api_list = client.get("/api/stories").json()["stories"]
            api_one = client.get(f"/api/stories/{sid}").json()
        assert desk.story_title(sid).text == listed
        assert desk.store.conn.total_changes == changes  # reading a story wrote nothing
    assert html.escape(listed) in river and html.escape(listed) in page
    assert any(r["title"] == listed for r in api_list)
    assert api_one["title"] == listed and api_one["headline"]["text"] == listed


def test_a_headline_read_from_a_url_gives_way_to_a_members_own(db_path, tmp_path):
    import json

    link_only = tmp_path / "links.jsonl"
    link_only.write_text(json.dumps({
        "id": "l1", "source": "Link Wire", "published": (T0 - timedelta(hours=1)).isoformat(),
        "url": "https://wire.example/news/556677-velmora-suspension-bridge-closed-after-crack-found-in-main-span",
    }) + "\n", encoding="utf-8")
    with Desk(db_path, stages=["copies", "stories"]) as desk:
        desk.ingest(link_only)  # first, so the earliest headline is the one read from the URL
        [slug] = desk.store.items_by_ids(list(desk.store.source_item_map(None).values()))
        assert slug.extra["title_from"] == "url"
        assert slug.title == "Velmora suspension bridge closed after crack found in main span"
        bridge = _items(BRIDGE[:2])
        desk.ingest(bridge)
        story = desk.item_story(slug.id)
        assert {desk.item_story(it.id).id for it in bridge} == {story.id}
        assert story.title == BRIDGE[0][0]  # a member's own headline, though the URL's came first
        assert desk.story_title(story.id).text in {t for t, _ in BRIDGE[:2]}
