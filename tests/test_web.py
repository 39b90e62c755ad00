"""Web reader pages through an in-process client: escaping, sign-in, paste, headers."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from test_api import PAGE_DUMP, TOKEN, hostile_items

HTML = {"accept": "text/html"}


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


def sign_in(client) -> str:
    """Signs in and returns the CSRF value the forms carry."""
    resp = client.post("/signin", data={"token": TOKEN}, follow_redirects=False)
    assert resp.status_code == 303
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and TOKEN not in cookie
    page = client.get("/paste").text
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)


def test_river_lists_something(client):
    resp = client.get("/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "Port Avalon" in resp.text


def test_hostile_content_is_inert_everywhere(client, loaded):
    bad = next(i for i in loaded.items() if "pwned" in (i.title or ""))
    pages = [client.get(f"/item/{bad.id}").text, client.get("/search", params={"q": "budget"}).text,
             client.get("/").text, client.get("/entity/Veridian").text]
    for page in pages:
        assert "<script>window.pwned" not in page
        assert 'onerror="window' not in page
        assert 'href="javascript:' not in page.lower()
    item_page = pages[0]
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in item_page
    assert '<span class="inert">javascript:window.pwned=3</span>' in item_page


def test_huge_titles_are_clipped(client, loaded):
    long = next(i for i in loaded.items() if len(i.title or "") > 5000)
    page = client.get(f"/item/{long.id}").text
    h1 = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL).group(1)
    assert len(h1) <= 300 and h1.endswith("…")


def test_search_page_filters_and_bad_query(client):
    page = client.get("/search", params={"q": "bridge", "source": "Coastal Wire"}).text
    assert page.count('class="hit"') == 1 and "<mark>" in page
    resp = client.get("/search", params={"q": '"'})
    assert resp.status_code == 400 and "no words to search for" in resp.text


def test_entity_page(client):
    page = client.get("/entity/Port Avalon").text
    assert "Port Avalon" in page and "Harbour bridge" in page


def test_unknown_page_is_html_for_browsers_json_otherwise(client):
    resp = client.get("/item/ffffffffffffffff", headers=HTML)
    assert resp.status_code == 404 and "<h1>404</h1>" in resp.text
    resp = client.get("/item/ffffffffffffffff")
    assert resp.status_code == 404 and resp.json()["ok"] is False


def test_paste_needs_sign_in_and_csrf(client):
    form = client.get("/paste").text
    assert "sign in" in form.lower() and "<textarea" not in form
    assert client.post("/paste", data={"text": PAGE_DUMP}).status_code == 401
    sign_in(client)
    assert client.post("/paste", data={"text": PAGE_DUMP, "csrf": "forged"}).status_code == 401


def test_paste_ingests_a_page_dump(client, loaded):
    csrf = sign_in(client)
    before = loaded.stats()["items"]
    resp = client.post("/paste", data={"text": PAGE_DUMP, "fmt": "pagedump", "csrf": csrf})
    assert resp.status_code == 200, resp.text
    assert "5 new" in resp.text and "Gull Island Ferry Timetable" in resp.text
    assert loaded.stats()["items"] == before + 5


def test_wrong_token_sign_in(client):
    resp = client.post("/signin", data={"token": "nope"})
    assert resp.status_code == 401 and "wrong token" in resp.text
    assert "set-cookie" not in resp.headers


def test_sign_out_clears_cookie(client):
    sign_in(client)
    client.post("/signout", follow_redirects=False)
    assert "<textarea" not in client.get("/paste").text


def test_coverage_chart_is_inline_svg():
    from datetime import UTC, datetime, timedelta

    from newsdesk.api.chart import coverage_svg

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    svg = str(coverage_svg([t0, t0 + timedelta(hours=1), t0 + timedelta(days=3), None]))
    assert svg.startswith("<svg") and svg.count("<rect") == 2 and "style=" not in svg
    assert str(coverage_svg([None])) == ""
