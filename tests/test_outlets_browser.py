"""The story page's coverage chart and the blindspots page in a real browser (Debian chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_api_server import Server
from test_outlets import HERE, STAGES
from test_web_browser import CHROMIUM, browser, page, shot  # noqa: F401 - fixtures

from newsdesk import Desk

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[Server, str]]:
    db = tmp_path_factory.mktemp("coverage") / "newsdesk.db"
    with Desk(db, stages=STAGES) as desk:
        desk.import_outlets(HERE / "outlets.csv")
        desk.ingest(HERE / "stories.jsonl")
        dam = desk.item_story(desk.item("dam-1").id).id
    srv = Server(db)
    yield srv, dam
    srv.stop()


def test_story_page_draws_coverage_by_lean(page, server):  # noqa: F811
    srv, dam = server
    page.goto(f"{srv.url}/story/{dam}")
    chart = page.locator("section.coverage-groups svg.coverage-by")
    assert chart.count() == 1
    bars = chart.locator("g.bar")
    assert bars.count() == 3  # left, centre and right (none reported on the right)
    assert [t.strip() for t in bars.locator("text[text-anchor=end]").all_text_contents()] == ["left", "centre", "right"]
    assert chart.locator("rect").count() == 2
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    assert "6 outlets, 4 independent" in page.locator("section.coverage-groups p.meta").inner_text()
    page.select_option("section.coverage-groups select[name=by]", "owner")
    page.locator("section.coverage-groups button").click()
    page.wait_for_url("**by=owner")
    labels = page.locator("svg.coverage-by text[text-anchor=end]").all_text_contents()
    assert "Polar Group" in labels
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.errors == []
    shot(page, "story-coverage")


def test_blindspots_page(page, server):  # noqa: F811
    srv, dam = server
    page.goto(srv.url + "/")
    page.locator("nav a", has_text="Blindspots").click()
    page.wait_for_url("**/blindspots")
    spots = page.locator("ol.blindspots li.blindspot")
    assert spots.count() == 1
    assert spots.locator(".missing").inner_text() == "right"
    spots.locator("a.headline").click()
    page.wait_for_url(f"**/story/{dam}")
    shot(page, "blindspots")
