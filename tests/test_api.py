"""HTTP API through an in-process ASGI client: shapes, errors, auth, limits, cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from newsdesk.model import Item

TOKEN = "test-token-5b1f"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]

PAGE_DUMP = """Lighthouse keepers on Gull Island voted on Tuesday to return to work after a two-week \
strike over night-shift pay. The island's harbour authority agreed to a new rota and a bonus.

The keepers said the lamp had been kept lit by volunteers throughout the dispute.


Gull Island Ferry Timetable Changes From Monday
Storm Warning Issued for the Northern Coast
Fishing Quotas Set for the Spring Season
Harbour Authority Names New Chief Engineer
"""


def hostile_items() -> list[Item]:
    """Returns fictional items, some with hostile content."""
    return [
        Item(title="Harbour bridge in Port Avalon closes for repairs",
             text="The Port Avalon harbour bridge will close for six weeks.", source="Avalon Herald",
             url="https://avalon.example/bridge", published=T0),
        Item(title="Ferries added as Port Avalon bridge shuts",
             text="Extra ferries will cross the harbour while the bridge is closed.", source="Coastal Wire",
             published=T0 + timedelta(hours=5)),
        Item(title="<script>window.pwned=1</script>Veridian budget fails",
             text='Click <a href="javascript:alert(1)">here</a> <img src=x onerror="window.pwned=2">',
             source="Veridian Post", url="javascript:window.pwned=3", published=T0 + timedelta(days=1)),
        Item(title="Veridian election " + "very " * 2000 + "long title", text="A huge title.",
             source="Veridian Post", published=T0 + timedelta(days=2)),
    ]


@pytest.fixture
def loaded(db_path):
    """Returns a desk over a fresh store with the fixture items (no entity stage: faster)."""
    from newsdesk import Desk

    desk = Desk(db_path, stages=["copies", "stories"])
    yield _load(desk)
    desk.close()


def _load(desk):
    desk.ingest(hostile_items())
    return desk


@pytest.fixture
def client(loaded):
    from newsdesk.api import create_app

    with TestClient(create_app(loaded, token=TOKEN), raise_server_exceptions=False) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def assert_error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["ok"] is False and body["status"] == status and isinstance(body["error"], str)
    assert set(body) == {"ok", "error", "status"}
    return body


def test_items_list_and_cursor_pages(client):
    seen, cursor = [], None
    for _ in range(10):
        resp = client.get("/api/items", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200
        data = resp.json()
        seen.extend(i["id"] for i in data["items"])
        cursor = data["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 4 and len(set(seen)) == 4
    assert client.get("/api/items").json()["items"][0]["source"] == "Veridian Post"  # newest first


def test_item_cursor_survives_new_arrivals(client, loaded):
    first = client.get("/api/items", params={"limit": 2}).json()
    second = client.get("/api/items", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    loaded.ingest(Item(title="Newest of all", text="x", source="Late", published=T0 + timedelta(days=9)))
    again = client.get("/api/items", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in again["items"]] == [i["id"] for i in second["items"]]


def test_item_filters(client):
    data = client.get("/api/items", params={"source": "Coastal Wire"}).json()
    assert [i["source"] for i in data["items"]] == ["Coastal Wire"]
    data = client.get("/api/items", params={"since": "2026-03-03"}).json()
    assert {i["source"] for i in data["items"]} == {"Veridian Post"}


def test_item_detail_and_404(client, loaded):
    item = loaded.items(source="Coastal Wire")[0]
    data = client.get(f"/api/items/{item.id}").json()
    assert data["title"] == item.title and data["sightings"]
    assert "annotations" not in data
    assert_error(client.get("/api/items/ffffffffffffffff"), 404)


def test_search_route(client):
    data = client.get("/api/search", params={"q": "ferries"}).json()
    assert data["hits"][0]["title"].startswith("Ferries")
    assert "<mark>" in data["hits"][0]["title_html"]
    data = client.get("/api/search", params={"q": "budget"}).json()
    assert "<script>" not in data["hits"][0]["title_html"]
    body = assert_error(client.get("/api/search", params={"q": '"'}), 400)
    assert "\n" not in body["error"]
    assert_error(client.get("/api/search"), 422)
    assert_error(client.get("/api/search", params={"q": "x", "cursor": "@@"}), 400)
    assert_error(client.get("/api/search", params={"q": "x", "limit": "many"}), 422)


def test_search_pages_with_cursor(client):
    first = client.get("/api/search", params={"q": "Port Avalon", "limit": 1, "mode": "text"}).json()
    assert first["next_cursor"]
    second = client.get("/api/search", params={"q": "Port Avalon", "limit": 1, "mode": "text", "cursor": first["next_cursor"]}).json()
    assert second["hits"] and second["hits"][0]["id"] != first["hits"][0]["id"]
    assert second["next_cursor"] is None


def test_related_route(client, loaded):
    item = loaded.items(source="Avalon Herald")[0]
    data = client.get(f"/api/items/{item.id}/related").json()
    assert [i["source"] for i in data["items"]][:1] == ["Coastal Wire"]


def test_unknown_route_and_method(client):
    assert_error(client.get("/api/nothing-here"), 404)
    assert_error(client.delete("/api/items"), 405)


def test_writes_need_the_token(client):
    assert_error(client.post("/api/ingest", content=PAGE_DUMP), 401)
    assert_error(client.post("/api/ingest", content=PAGE_DUMP, headers={"Authorization": "Bearer wrong"}), 401)
    assert_error(client.post("/api/stories/merge", json={"stories": ["a", "b"]}), 401)
    assert_error(client.post("/api/items/x/move", json={"story": None}), 401)


def test_writes_refused_when_no_token_configured(loaded, monkeypatch):
    from newsdesk.api import create_app

    monkeypatch.delenv("NEWSDESK_TOKEN", raising=False)
    with TestClient(create_app(loaded), raise_server_exceptions=False) as c:
        body = assert_error(c.post("/api/ingest", content=PAGE_DUMP, headers={"Authorization": "Bearer "}), 401)
        assert "no token is configured" in body["error"]
        assert c.get("/api/items").status_code == 200


def test_private_reads_need_the_token(loaded):
    from newsdesk.api import create_app

    with TestClient(create_app(loaded, token=TOKEN, public_reads=False), raise_server_exceptions=False) as c:
        assert_error(c.get("/api/items"), 401)
        assert c.get("/api/items", headers=AUTH).status_code == 200
        assert c.get("/", headers={"accept": "text/html"}).status_code == 401


def test_ingest_page_dump(client):
    resp = client.post("/api/ingest", content=PAGE_DUMP.encode(), headers={**AUTH, "content-type": "text/plain"},
                       params={"fmt": "pagedump", "origin": "test"})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["ok"] is True and data["new"] == 5  # the article and the four headlines
    again = client.post("/api/ingest", content=PAGE_DUMP.encode(), headers=AUTH, params={"fmt": "pagedump"}).json()
    assert again["new"] == 0 and again["already"] == data["new"]
    found = client.get("/api/search", params={"q": "lighthouse keepers"}).json()
    assert found["hits"]


def test_ingest_jsonl_by_content_type(client):
    lines = "\n".join(json.dumps({"id": f"r{n}", "title": f"Tidal record number {n}", "text": "", "source": "Tide Desk"})
                      for n in range(3))
    resp = client.post("/api/ingest", content=lines + "\nnot json\n",
                       headers={**AUTH, "content-type": "application/x-ndjson"})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["new"] == 3 and len(data["skipped"]) == 1


def test_ingest_bad_bodies(client):
    assert_error(client.post("/api/ingest", content=b"", headers=AUTH), 400)
    assert_error(client.post("/api/ingest", content=b"\xff\xfe\xfa", headers=AUTH), 400)
    assert_error(client.post("/api/ingest", content=b"x", headers=AUTH, params={"fmt": "nope"}), 400)


def test_request_size_limit(loaded):
    from newsdesk.api import create_app

    with TestClient(create_app(loaded, token=TOKEN, max_body=1000), raise_server_exceptions=False) as c:
        assert_error(c.post("/api/ingest", content=b"x" * 1001, headers=AUTH), 413)

        def chunks():
            for _ in range(5):
                yield b"y" * 400

        assert_error(c.post("/api/ingest", content=chunks(), headers=AUTH), 413)
        assert c.post("/api/ingest", content=b"Short note about tides.", headers=AUTH).status_code == 200


def test_security_headers_on_every_response(client):
    for resp in (client.get("/api/items"), client.get("/api/nope"), client.get("/")):
        assert "default-src 'none'" in resp.headers["content-security-policy"]
        assert "unsafe-inline" not in resp.headers["content-security-policy"]
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "no-referrer"


def test_stats_hides_server_path(client):
    data = client.get("/api/stats").json()
    assert data["items"] == 4 and "db" not in data


def test_alert_feeds_route(client, loaded):
    resp = client.get("/api/alerts.rss")
    if not hasattr(loaded, "alerts_feed"):
        assert_error(resp, 501)
        return
    assert resp.status_code == 200 and "xml" in resp.headers["content-type"]
    assert client.get("/api/alerts.atom").status_code == 200


def test_openapi_served_and_committed_copy_is_current(client):
    from newsdesk.api.openapi import render

    served = client.get("/openapi.json").json()
    assert "/api/search" in served["paths"] and "/api/ingest" in served["paths"]
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == render(), "docs/openapi.json is stale: python -m newsdesk.api.openapi docs/openapi.json"


def test_every_route_has_a_summary(client):
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
