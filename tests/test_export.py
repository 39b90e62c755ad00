"""Export and import: JSONL round trip loses nothing; CSV, RSS and OPML read back."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from test_live_server import LiveServer, rss
from test_watches import T0, ferry, festival

from newsdesk import Desk, Item
from newsdesk.errors import Conflict, InputError

SETTINGS = {"allow_private": True, "poll_host_delay": 0.0, "webhook_backoff": 0.01}


@pytest.fixture
def server():
    s = LiveServer()
    yield s
    s.close()


def build(desk: Desk, server: LiveServer) -> None:
    """Fills a store with every kind of record: items in batches, copies, stories, feeds, watches."""
    hook = server.add("/hook", status=204, ctype="text/plain")
    desk.add_watch("query", "ferry", name="fees", webhook=hook, secret="s3", min_new_sources=1)
    desk.add_watch("entity", "Okafor")
    desk.ingest([ferry("Quay Post", 0), ferry("Harbour Times", 1), ferry("Wire Copy", 1, copy=True)])
    desk.ingest([festival(), Item(title="Tarn valley lantern parade sets record", source="Valley News",
                                  kind="headline", published=T0 + timedelta(hours=5))])
    desk.check_watches()
    desk.ingest(ferry("Quay Post", 0))  # seen again: one more sighting, nothing new
    server.add("/feed.xml", body=rss("Bay Herald", [
        {"title": "Ferry crews back Lindqvist fee plan", "guid": "bh-1",
         "text": "The ferry crews' association in Lindqvist welcomed the fee rise on Wednesday. " * 8},
    ]), etag='"e1"')
    desk.add_feed(server.url("/feed.xml"), fulltext="never")
    desk.add_feed(server.url("/broken.xml"))  # 404: stored with its error
    desk.poll()
    ferry_story = desk.item_story(desk.items(source="Harbour Times")[0].id)
    fest_story = desk.item_story(desk.items(source="Valley News", kind="article")[0].id)
    if hasattr(desk, "merge_stories") and ferry_story and fest_story and ferry_story.id != fest_story.id:
        desk.merge_stories(ferry_story.id, fest_story.id, reason="same harbour week")
        desk.split_story(ferry_story.id, [desk.items(source="Valley News", kind="article")[0].id],
                         reason="not the same event")


def test_jsonl_round_trip_is_identical(server, tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    with Desk(tmp_path / "a.db", settings=SETTINGS) as desk:
        build(desk, server)
        with first.open("w", encoding="utf-8") as fh:
            written = desk.export(fh)
        entities_built = bool(getattr(desk, "entities", list)())
    text = first.read_text(encoding="utf-8")
    kinds = [json.loads(line)["type"] for line in text.splitlines()]
    for kind in ("header", "item", "feed", "watch", "alert"):
        assert kind in kinds, kind
    assert written == len(kinds) - 1
    assert ("entity" in kinds) == entities_built
    sightings = [json.loads(x)["sightings"] for x in text.splitlines() if '"type": "item"' in x]
    assert max(len(s) for s in sightings) == 2

    with Desk(tmp_path / "a.db", settings=SETTINGS) as desk, pytest.raises(Conflict):
        desk.import_jsonl(first)  # never mixed into a store that holds anything
    with Desk(tmp_path / "b.db", settings=SETTINGS) as fresh:
        counts = fresh.import_jsonl(first)
        assert counts["items"] == kinds.count("item")
        assert counts["watches"] == 2 and counts["feeds"] == 2
        with second.open("w", encoding="utf-8") as fh:
            fresh.export(fh)
        assert fresh.check_watches() == []  # restored watches do not fire again on old items
    assert second.read_text(encoding="utf-8") == text


def test_round_trip_keeps_stories_and_corrections(server, tmp_path):
    with Desk(tmp_path / "a.db", settings=SETTINGS) as desk:
        build(desk, server)
        if not hasattr(desk.store, "correction_rows"):
            pytest.skip("stories are not built in this tree")
        out = io.StringIO()
        desk.export(out, what="all")
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    stories = [r for r in lines if r["type"] == "story"]
    corrections = [r for r in lines if r["type"] == "correction"]
    assert stories and all(r["members"] for r in stories)
    assert [c["action"] for c in corrections] == ["merge", "split"]
    path = tmp_path / "x.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    with Desk(tmp_path / "b.db", settings=SETTINGS) as fresh:
        assert fresh.import_jsonl(path)["corrections"] == 2
        again = io.StringIO()
        fresh.export(again)
    restored = [json.loads(x) for x in again.getvalue().splitlines()]
    assert [r for r in restored if r["type"] == "story"] == stories
    assert [r for r in restored if r["type"] == "correction"] == corrections


def test_csv_rss_and_opml_exports(server, tmp_path):
    from newsdesk.ingest.opml import read_opml

    with Desk(tmp_path / "a.db", settings=SETTINGS) as desk:
        build(desk, server)
        n_items = desk.stats()["items"]
        out = io.StringIO()
        assert desk.export(out, fmt="csv", what="items") == n_items
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert len(rows) == n_items and "sightings" in rows[0]
        assert all(json.loads(r["sightings"]) for r in rows)
        out = io.StringIO()
        desk.export(out, fmt="csv", what="watches")
        assert "s3" not in out.getvalue()  # secrets stay out of CSV
        out = io.StringIO()
        desk.export(out, fmt="rss", what="items")
        parsed = feedparser.parse(out.getvalue().encode())
        assert not parsed.bozo and len(parsed.entries) == n_items
        out = io.StringIO()
        assert desk.export(out, fmt="opml", what="feeds") == 2
        assert sorted(f.url for f in read_opml(out.getvalue())) == sorted(f["url"] for f in desk.feeds())
        with pytest.raises(InputError):
            desk.export(io.StringIO(), fmt="csv", what="all")
        with pytest.raises(InputError):
            desk.export(io.StringIO(), fmt="opml", what="items")


def test_csv_cells_cannot_run_as_formulas(db_path):
    with Desk(db_path, stages=[]) as desk:
        desk.ingest(Item(title="=HYPERLINK(\"http://evil.example\")", text="body", source="+Wire"))
        out = io.StringIO()
        desk.export(out, fmt="csv", what="items")
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["title"].startswith("'=") and row["source"] == "'+Wire"


def test_import_refuses_bad_files_with_file_and_line(tmp_path, db_path, cli):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "header", "format": "newsdesk-export", "version": 1}\n{"type": "item", "id"\n',
                   encoding="utf-8")
    with Desk(db_path, stages=[]) as desk, pytest.raises(InputError, match=r"bad.jsonl:2: not JSON"):
        desk.import_jsonl(bad)
    alien = tmp_path / "alien.jsonl"
    alien.write_text('{"title": "no header"}\n', encoding="utf-8")
    result = cli("import", str(alien))
    assert result.exit_code == 2 and "alien.jsonl:1" in result.output


def test_cli_export_import(server, tmp_path: Path, cli, db_path):
    with Desk(db_path, settings=SETTINGS) as desk:
        desk.ingest([ferry("Quay Post", 0), festival()])
    dump = tmp_path / "dump.jsonl"
    done = cli("export", "-o", str(dump))
    assert done.exit_code == 0 and dump.exists()
    items_only = cli("export", "--what", "items")
    assert items_only.output.count('"type": "item"') == 2
    other = tmp_path / "other.db"
    from click.testing import CliRunner

    from newsdesk.cli import main

    restored = CliRunner().invoke(main, ["--db", str(other), "import", str(dump), "--json"])
    assert restored.exit_code == 0 and json.loads(restored.output)["items"] == 2
    again = CliRunner().invoke(main, ["--db", str(other), "export"])
    assert again.output == dump.read_text(encoding="utf-8")


def test_round_trip_remakes_what_consolidation_changed(tmp_path, caplog):
    """The demo's run ends with a consolidation pass that moves and splits; an import re-ingests
    the items batch by batch and makes the same changes, instead of replaying them as an editor's."""
    from newsdesk import ingest as sources
    from newsdesk.data import demo_path

    items = [r for r in sources.read(demo_path()) if isinstance(r, Item)]
    settings = {"enrich": False}

    def partition(desk: Desk) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for item_id, story in desk.store.all_memberships().items():
            groups.setdefault(story, set()).add(item_id)
        return {frozenset(g) for g in groups.values()}

    with Desk(tmp_path / "a.db", settings=settings) as desk:
        report = desk.ingest(items)
        assert report.settled.get("moved") or report.settled.get("new")  # the pass changed something
        before = partition(desk)
        out = io.StringIO()
        desk.export(out, what="all")
    path = tmp_path / "x.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    with Desk(tmp_path / "b.db", settings=settings) as fresh, caplog.at_level("WARNING"):
        fresh.import_jsonl(path)
        assert partition(fresh) == before
        assert "not replayed" not in caplog.text  # remade by the pass, not replayed over it
        stories = set(fresh.store.all_memberships().values())
        pinned = [r["item_id"] for sid in stories for r in fresh.store.story_member_rows(sid) if r["pinned"]]
        assert pinned == []  # the pass's moves are not made up as an editor's (pinned for good)
