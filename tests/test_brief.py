"""Briefings (md, html, json), trending, and the brief/summary/timeline/trending commands."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from test_summaries_data import T0, bridge_story, headline_story

from newsdesk import Desk, InputError, Item
from newsdesk.stories.brief import Brief, render_brief

HOSTILE = '<script>alert("x")</script> Harbour crane <b>collapse</b>'


def _crane_story() -> list[Item]:
    """Returns a fictional story that grows fast: one outlet, then four more within hours."""
    base = ("A harbour crane collapsed onto the container quay at Port Selwyn early on Friday, "
            "injuring two dock workers. ")
    extra = [
        "The port authority halted all loading at the quay.",
        "Investigators from the safety board arrived at the quay by midday.",
        "Shipping lines diverted three vessels to the northern terminal.",
        "The crane operator said wind gusts had been reported before the collapse.",
        "Dock unions called for an inspection of every crane in the harbour.",
    ]
    sources = ["Selwyn Daily", "Coastal News", "Harbour Radio", "Freight Weekly", "Port Ledger"]
    hours = [1, 8, 9, 10, 11]
    items = []
    for i, (src, h, more) in enumerate(zip(sources, hours, extra, strict=True)):
        title = HOSTILE if i == 0 else f"Crane collapse at Port Selwyn quay injures two workers ({src})"
        items.append(Item(title=title, text=base + more, source=src,
                          published=T0 + timedelta(days=10, hours=h)))
    return items


@pytest.fixture
def brief_desk(db_path):
    """Returns a Desk (copies and stories stages) holding three fictional stories."""
    d = Desk(db_path, stages=["copies", "stories"])
    d.ingest(bridge_story() + headline_story() + _crane_story())
    yield d
    d.close()


def test_brief_ranks_and_summarises_every_story(brief_desk):
    brief = brief_desk.brief(top=5)
    assert len(brief.stories) == 3
    scores = [s.score for s in brief.stories]
    assert scores == sorted(scores, reverse=True)
    # The crane story: most independent sources and the newest.
    assert brief.stories[0].sources == 5
    for s in brief.stories:
        members = {m.item.id for m in brief_desk.story_items(s.story_id)}
        assert s.summary.sentences
        for sentence in s.summary.sentences:
            assert set(sentence.item_ids) <= members
        assert s.first_time <= s.last_time
    assert len(brief_desk.brief(top=1).stories) == 1


def test_brief_since_keeps_active_stories_and_reports_changes(brief_desk):
    since = T0 + timedelta(days=2)
    brief = brief_desk.brief(since=since)
    titles = " ".join(s.title for s in brief.stories)
    assert "Pellham" not in titles  # that story ended before `since`
    bridge = next(s for s in brief.stories if "Marrowby" in s.title)
    assert bridge.changes is not None
    assert bridge.changes.new_sources == ["Shire Times"]
    assert all("cracked" not in s.text for s in bridge.changes.sentences)


def test_brief_renders_in_all_three_formats_with_content_escaped(brief_desk):
    brief = brief_desk.brief()
    data = json.loads(render_brief(brief, "json"))
    assert [s["story_id"] for s in data["stories"]] == [s.story_id for s in brief.stories]
    assert data["stories"][0]["summary"]["sentences"][0]["item_ids"]
    md = render_brief(brief, "md")
    assert md.startswith("# News brief")
    assert "<script>" not in md
    for s in brief.stories:
        assert s.summary.sentences[0].text[:30] in md.replace("\\", "")
    html = render_brief(brief, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "@media print" in html and "<link" not in html and "<script" not in html
    assert "&lt;script&gt;" in html or "Crane collapse" in html
    for s in brief.stories:
        assert f'id="story-{s.story_id}"' in html
    with pytest.raises(InputError):
        render_brief(brief, "pdf")


def test_hostile_content_is_escaped_in_html_and_markdown(brief_desk):
    crane = next(s for s in brief_desk.brief().stories if s.sources == 5)
    crane.title = HOSTILE
    crane.summary.sentences[0].text = HOSTILE
    crane.entities = [{"name": "<i>Port</i> Selwyn", "role": "place", "kind": None}]
    one = Brief(generated=T0, since=None, until=None, stories=[crane])
    page = render_brief(one, "html")
    assert "<script>alert" not in page and "<b>collapse" not in page and "<i>Port" not in page
    assert "&lt;script&gt;" in page and "&lt;i&gt;Port" in page
    md = render_brief(one, "md")
    assert "<script>" not in md and "<b>" not in md


def test_trending_finds_the_story_gaining_sources(brief_desk):
    now = T0 + timedelta(days=10, hours=12)
    trends = brief_desk.trending(window=timedelta(hours=6), now=now)
    assert len(trends) == 1
    t = trends[0]
    assert (t.last_window, t.previous_window) == (4, 1)
    assert t.rising and "+4 sources in 6h" in t.figure
    assert sorted(t.new_sources) == ["Coastal News", "Freight Weekly", "Harbour Radio", "Port Ledger"]
    # A day later nothing is rising any more.
    assert brief_desk.trending(window=timedelta(hours=6), now=now + timedelta(days=1)) == []
    with pytest.raises(InputError):
        brief_desk.trending(window=timedelta(0))


def test_cli_brief_writes_every_format(cli, db_path, tmp_path):
    with Desk(db_path, stages=["copies", "stories"]) as d:
        d.ingest(bridge_story() + headline_story() + _crane_story())
    for fmt in ("md", "html", "json"):
        out = tmp_path / f"brief.{fmt}"
        result = cli("brief", "--format", fmt, "--top", "2", "-o", str(out))
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert "Marrowby" in text or "Port Selwyn" in text
    assert len(json.loads((tmp_path / "brief.json").read_text())["stories"]) == 2
    result = cli("brief", "--since", "2026-03-03")
    assert result.exit_code == 0 and "Pellham" not in result.output
    result = cli("brief", "--since", "yesterday-ish")
    assert result.exit_code != 0 and "not a time" in result.output


def test_cli_summary_since_timeline_and_trending(cli, db_path):
    items = bridge_story()
    with Desk(db_path, stages=["copies", "stories"]) as d:
        d.ingest(items + _crane_story())
        sid = d.item_story(items[0].id).id
    result = cli("summary", sid)
    assert result.exit_code == 0
    assert result.output.count("\n- ") >= 2 and "[" in result.output
    result = cli("summary", sid, "--since", "2026-03-03T00:00:00Z", "--json")
    data = json.loads(result.output)
    assert data["new_sources"] == ["Shire Times"]
    assert all("cracked" not in s["text"] for s in data["sentences"])
    result = cli("timeline", sid, "--json")
    entries = json.loads(result.output)
    assert [e["item_id"] for e in entries][:2] == [items[0].id, items[1].id]
    result = cli("trending", "--window", "6h", "--now", "2026-03-12T18:00:00Z")
    assert result.exit_code == 0 and "+4 sources in 6h" in result.output
    result = cli("trending", "--window", "soon")
    assert result.exit_code != 0 and "not a duration" in result.output
    result = cli("summary", "s-missing")
    assert result.exit_code == 3 and "no story" in result.output


def test_brief_lists_entities_from_the_enriched_story(db_path):
    """With the full pipeline (entities stage included when installed), entities come with the brief."""
    with Desk(db_path) as d:
        if not hasattr(d, "story_entities"):
            pytest.skip("the entities area is not part of this build")
        d.ingest(_crane_story())
        crane = d.brief(top=1).stories[0]
        names = [e["name"] for e in crane.entities]
        if not names:
            pytest.skip("no entity model installed: the pipeline runs without entities")
        text = " ".join(it.body for it in _crane_story())
        assert all(n in text for n in names)
        assert "Port Selwyn" in names or "Selwyn" in " ".join(names)
        md = render_brief(d.brief(top=1), "md")
        assert "Main entities:" in md


def test_a_tie_in_the_briefing_goes_to_the_larger_story(db_path):
    # One page dump: one outlet and no times, so sources, growth and recency tie.
    reports = [Item(title=t, text=x, source="Page") for t, x in (
        ("Velmora bridge closed after crack found in main span",
         "Engineers closed the Velmora suspension bridge on Monday after a crack was found in the main span."),
        ("Crack shuts Velmora suspension bridge to traffic",
         "The Velmora suspension bridge was shut to all traffic after inspectors found a crack in its main span."),
    )]
    lone = [Item(title=t, text="", source="Page") for t in (
        "Quillfield library extends its opening hours", "Harbour ferry timetable changes in spring",
        "Farmers market moves to the old tram depot")]
    with Desk(db_path, stages=["copies", "stories"]) as d:
        d.ingest([*lone[:2], *reports, lone[2]])
        first = d.brief().stories[0]
    assert first.size == 2 and first.sources == 1
