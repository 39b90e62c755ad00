"""The reader in a real browser (Debian chromium driven by Playwright) against `newsdesk serve`.

Screenshots of each page go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_api import PAGE_DUMP, TOKEN
from test_api_server import Server, build_store

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("browser") / "newsdesk.db"
    build_store(db)
    srv = Server(db)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    ctx.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_river(page, server):
    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "Stories"
    assert page.locator("ol.river li.story").count() >= 2
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    shot(page, "river")


def test_story_page(page, server):
    page.goto(server.url + "/")
    page.locator("ol.river a.headline", has_text="bridge").first.click()
    page.wait_for_url("**/story/*")
    assert page.locator("svg.coverage rect").count() >= 1
    assert page.locator(".sources li.item").count() >= 3
    shot(page, "story")


def test_brief_page(page, server):
    page.goto(server.url + "/brief")
    assert page.locator("h1").inner_text() == "Briefing"
    assert page.locator("ol.brief li.story").count() >= 1
    shot(page, "brief")


def test_entity_page(page, server):
    page.goto(server.url + "/entity/Port%20Avalon")
    assert "Port Avalon" in page.locator("h1").inner_text()
    assert page.locator("ul.items li.item").count() >= 3
    shot(page, "entity")


def test_search_page(page, server):
    page.goto(server.url + "/search")
    page.fill("form.search input[name=q]", "harbour bridge")
    page.locator("form.search button").click()
    page.wait_for_url("**/search?q=*")
    assert page.locator("li.hit").count() >= 2
    assert page.locator("li.hit mark").count() >= 2
    shot(page, "search")


def test_hostile_item_is_inert(page, server):
    page.goto(server.url + "/search?q=budget")
    page.locator("li.hit a", has_text="Veridian budget").first.click()
    page.wait_for_url("**/item/*")
    assert "<script>window.pwned=1</script>" in page.locator("h1").inner_text()  # shown as text
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("a[href^='javascript']").count() == 0
    assert page.locator("img").count() == 0
    assert page.locator(".inert", has_text="javascript:").count() == 1
    shot(page, "hostile-item")


def test_long_title_does_not_break_layout(page, server):
    page.goto(server.url + "/search?q=election")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "long-title")


def test_sign_in_and_paste_a_page_dump(page, server):
    page.goto(server.url + "/paste")
    assert page.locator("textarea").count() == 0  # not signed in: no form
    page.goto(server.url + "/signin")
    page.fill("input[name=token]", TOKEN)
    page.locator("form.signin button").click()
    page.wait_for_url(server.url + "/")
    page.goto(server.url + "/paste")
    page.fill("textarea[name=text]", PAGE_DUMP)
    page.select_option("select[name=fmt]", "pagedump")
    page.locator("form.paste button").click()
    page.wait_for_load_state()
    assert "5 new" in page.locator("p.ok").inner_text()
    assert page.locator("ul.items li.item", has_text="Gull Island Ferry Timetable").count() == 1
    shot(page, "paste")
    page.goto(server.url + "/search?q=lighthouse")
    assert page.locator("li.hit").count() >= 1
    assert not page.errors
