"""Stories through the API and the reader: listing with cursors, detail, editor actions."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from test_api import AUTH, TOKEN, assert_error
from test_search import corpus

from newsdesk.desk import Desk

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)

pytestmark = pytest.mark.skipif(not hasattr(Desk, "stories"), reason="stories area not built")


@pytest.fixture
def loaded(desk):
    desk.ingest(corpus())
    assert desk.stories(), "the story stage made no stories"
    return desk


@pytest.fixture
def client(loaded):
    from newsdesk.api import create_app

    with TestClient(create_app(loaded, token=TOKEN), raise_server_exceptions=False) as c:
        yield c


def bridge_story(client) -> dict:
    stories = client.get("/api/stories").json()["stories"]
    return next(s for s in stories if "bridge" in s["title"].lower())


def test_story_listing_pages_by_cursor(client, loaded):
    everything = [s["id"] for s in client.get("/api/stories").json()["stories"]]
    assert everything == [s.id for s in loaded.stories()]
    seen, cursor = [], None
    while True:
        data = client.get("/api/stories", params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(s["id"] for s in data["stories"])
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert seen == everything
    assert_error(client.get("/api/stories", params={"cursor": "W10"}), 400)


def test_story_detail(client):
    story = bridge_story(client)
    data = client.get(f"/api/stories/{story['id']}").json()
    assert data["id"] == story["id"] and data["sources"] == 2
    assert len(data["items"]) == 3 and all("Avalon" in i["title"] for i in data["items"])
    assert_error(client.get("/api/stories/s000000000"), 404)


def test_item_knows_its_story_and_why(client, loaded):
    story = bridge_story(client)
    item_id = client.get(f"/api/stories/{story['id']}").json()["items"][0]["id"]
    assert client.get(f"/api/items/{item_id}").json()["story"]["id"] == story["id"]
    why = client.get(f"/api/items/{item_id}/why").json()
    assert why["item_id"] == item_id and why["current_story"] == story["id"]


def test_search_within_a_story(client):
    story = bridge_story(client)
    hits = client.get("/api/search", params={"q": "bridge OR election", "story": story["id"]}).json()["hits"]
    assert len(hits) == 3 and all("Avalon" in h["title"] for h in hits)


def test_editor_split_move_merge(client, loaded):
    story = bridge_story(client)
    items = [i["id"] for i in client.get(f"/api/stories/{story['id']}").json()["items"]]
    assert_error(client.post(f"/api/stories/{story['id']}/split", json={"items": items[-1:]}), 401)
    resp = client.post(f"/api/stories/{story['id']}/split", json={"items": items[-1:], "reason": "test"}, headers=AUTH)
    assert resp.status_code == 200, resp.text
    new_id = resp.json()["story"]["id"]
    assert new_id != story["id"] and loaded.item_story(items[-1]).id == new_id
    resp = client.post(f"/api/items/{items[-1]}/move", json={"story": story["id"]}, headers=AUTH)
    assert resp.status_code == 200 and resp.json()["story"]["id"] == story["id"]
    other = next(s.id for s in loaded.stories() if s.id != story["id"])
    resp = client.post("/api/stories/merge", json={"stories": [story["id"], other]}, headers=AUTH)
    assert resp.status_code == 200, resp.text
    kept = resp.json()["story"]["id"]
    assert loaded.story(story["id"]).id == kept and loaded.story(other).id == kept
    assert_error(client.post("/api/stories/merge", json={"stories": [kept]}, headers=AUTH), 422)
    corrections = client.get(f"/api/stories/{kept}/corrections").json()["corrections"]
    assert {c["action"] for c in corrections} >= {"split", "merge"}


def test_river_and_story_page(client):
    river = client.get("/").text
    story = bridge_story(client)
    assert f'href="/story/{story["id"]}"' in river and "2 sources" in river
    page = client.get(f"/story/{story['id']}").text
    assert "<svg" in page and page.count('class="item') >= 3
    assert "<script" not in page
    assert "Editor" not in page  # not signed in


def test_story_page_editor_forms_when_signed_in(client, loaded):
    client.post("/signin", data={"token": TOKEN})
    story = bridge_story(client)
    page = client.get(f"/story/{story['id']}").text
    assert "Editor" in page
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    item_id = re.findall(r'name="items" value="([0-9a-f]+)"', page)[-1]
    resp = client.post(f"/story/{story['id']}/split", data={"items": [item_id], "csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    assert loaded.item_story(item_id).id != story["id"]
    resp = client.post(f"/story/{story['id']}/split", data={"items": [item_id], "csrf": "bad"})
    assert resp.status_code == 401


needs_entities = pytest.mark.skipif(not hasattr(Desk, "entity"), reason="entities area not built")


@needs_entities
def test_entities_routes_and_page(client, loaded):
    listed = client.get("/api/entities", params={"limit": 50}).json()["entities"]
    names = {e["name"] for e in listed}
    assert "Port Avalon" in names or "Veridian" in names
    name = "Port Avalon" if "Port Avalon" in names else "Veridian"
    detail = client.get(f"/api/entities/{name}").json()
    assert detail["name"] == name and detail["item_ids"]
    assert_error(client.get("/api/entities/Nobody At All Zzz"), 404)
    page = client.get(f"/entity/{name}").text
    assert "mentions in" in page and 'href="/story/' in page


@needs_entities
def test_search_entity_filter_uses_entity_links(client, loaded):
    entity = loaded.entity("Veridian")
    hits = client.get("/api/search", params={"q": "election OR budget", "entity": "Veridian"}).json()["hits"]
    assert hits and {h["id"] for h in hits} <= set(entity["item_ids"])


def test_story_page_cites_summary_items(client, loaded):
    story = bridge_story(client)
    page = client.get(f"/story/{story['id']}").text
    summary = loaded.story_summary(story["id"]) if hasattr(loaded, "story_summary") else None
    if summary is None or not summary.sentences:
        pytest.skip("no summary for this story")
    cited = summary.sentences[0].item_ids[0]
    assert f'<sup><a href="/item/{cited}"' in page


def test_story_page_shows_changes_after_an_edit(client, loaded):
    story = bridge_story(client)
    items = [i["id"] for i in client.get(f"/api/stories/{story['id']}").json()["items"]]
    before = client.get(f"/story/{story['id']}").text
    assert f'href="/item/{items[-1]}"' in before
    resp = client.post(f"/api/stories/{story['id']}/split", json={"items": items[-1:]}, headers=AUTH)
    assert resp.status_code == 200
    after = client.get(f"/story/{story['id']}").text
    assert f'<a href="/item/{items[-1]}">' not in after.split("<h2>Items</h2>")[1].split("</section>")[0]


@pytest.mark.skipif(not hasattr(Desk, "brief"), reason="briefing not built")
def test_brief_page_and_route(client, loaded):
    data = client.get("/api/briefing", params={"limit": 2}).json()
    assert 1 <= len(data["stories"]) <= 2 and data["stories"][0]["summary"]["sentences"]
    page = client.get("/brief").text
    first = data["stories"][0]
    assert f'href="/story/{first["story_id"]}"' in page and "<sup><a href=\"/item/" in page
    numbers = [int(n) for n in re.findall(r'<sup><a href="/item/[0-9a-f]+">\[(\d+)\]</a></sup>', page)]
    assert numbers and numbers[0] == 1 and max(numbers) <= len(set(numbers))  # one number per cited item
    loaded.ingest(corpus()[:1])  # nothing new: same page from the cache
    assert client.get("/brief").text == page


@pytest.mark.skipif(not hasattr(Desk, "trending"), reason="trending not built")
def test_trending_route(client):
    data = client.get("/api/trending", params={"window": "2d"}).json()
    assert isinstance(data["trending"], list)
    assert_error(client.get("/api/trending", params={"window": "soon"}), 400)
