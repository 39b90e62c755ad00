"""Outlets: folding names and domains, counting independent sources, coverage, blindspots, files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FIXTURES

from newsdesk import Desk, Item
from newsdesk.errors import InputError
from newsdesk.outlets.coverage import find_blindspots
from newsdesk.outlets.fold import fold_name, name_as_domain, registered_domain

HERE = FIXTURES / "outlets"
STAGES = ["outlets", "copies", "stories"]  # no entity stage: faster


# -- folding ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, key", [
    ("Reuters", "reuters"), ("REUTERS", "reuters"), ("The Reuters", "reuters"), ("Reuters News", "reuters"),
    ("  The  Lake Post ", "lake post"), ("Lake Post News Online", "lake post"), ("Fox & Friends", "fox and friends"),
    ("Le Monde", "le monde"), ("News", "news"), ("The", "the"), ("", ""),
])
def test_fold_name(name, key):
    assert fold_name(name) == key


@pytest.mark.parametrize("value, domain", [
    ("https://www.reuters.com/world/x", "reuters.com"), ("https://news.bbc.co.uk/a", "bbc.co.uk"),
    ("http://edition.cnn.com:8080/x", "cnn.com"), ("https://www.smh.com.au/x", "smh.com.au"),
    ("https://lakepost.example/dam", "lakepost.example"), ("https://someone.github.io/post", "someone.github.io"),
    ("http://127.0.0.1/x", None), ("not a url", None), ("https://localhost/x", None),
])
def test_registered_domain(value, domain):
    assert registered_domain(value) == domain


def test_a_source_name_that_is_an_address_is_a_domain():
    assert name_as_domain("www.Reuters.com") == "reuters.com"
    assert name_as_domain("Reuters") is None and name_as_domain("Reuters News Agency") is None


def test_names_domains_and_aliases_resolve_to_one_outlet(db_path):
    items = [
        Item(title="a1", text="one", source="Reuters", url="https://www.reuters.com/a"),
        Item(title="a2", text="two", source="REUTERS"),
        Item(title="a3", text="three", source="The Reuters News"),
        Item(title="a4", text="four", url="https://reuters.com/b"),  # a bare link: the domain alias
        Item(title="a5", text="five", source="reuters.com"),  # a name that is an address
        # a domain first seen alone, then with a new name: the name joins the unnamed outlet
        Item(title="b1", text="six", url="https://apnews.com/x"),
        Item(title="b2", text="seven", source="Associated Press", url="https://apnews.com/y"),
        # a domain two outlets write from (an aggregator) stops resolving
        Item(title="c1", text="eight", source="Lake Post", url="https://news.aggregator.example/1"),
        Item(title="c2", text="nine", source="Vale Times", url="https://news.aggregator.example/2"),
        Item(title="c3", text="ten", url="https://news.aggregator.example/3"),
    ]
    with Desk(db_path, stages=["outlets"]) as desk:
        desk.ingest(items)
        outlets = {o["name"]: o for o in desk.outlets()}
    assert outlets["Reuters"]["items"] == 5
    assert outlets["Reuters"]["domains"] == ["reuters.com"]
    assert {"Reuters", "REUTERS", "The Reuters News"} <= set(outlets["Reuters"]["aliases"])
    assert outlets["Associated Press"]["items"] == 2 and outlets["Associated Press"]["domains"] == ["apnews.com"]
    assert outlets["Lake Post"]["items"] == 1 and outlets["Vale Times"]["items"] == 1
    assert outlets["aggregator.example"]["items"] == 1  # the bare link is not given to either outlet
    assert len(outlets) == 5


# -- counting independent sources ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fixture_desk(tmp_path_factory):
    """Returns a desk over the test's fixture: outlets imported first, then two stories and a page dump."""
    db = tmp_path_factory.mktemp("outlets") / "newsdesk.db"
    desk = Desk(db, stages=STAGES)
    report = desk.import_outlets(HERE / "outlets.csv")
    assert report["added"] == 7 and not report["problems"]
    desk.ingest(HERE / "stories.jsonl")
    desk.ingest(HERE / "page-dump.txt")
    yield desk
    desk.close()


def story_of(desk: Desk, source_id: str) -> str:
    return desk.item_story(desk.item(source_id).id).id


def test_copies_owners_and_one_page_dump_count_once(fixture_desk):
    desk = fixture_desk
    dam = story_of(desk, "dam-1")
    assert {story_of(desk, f"dam-{n}") for n in range(1, 8)} == {dam}  # the fixture is one story
    cov = desk.coverage(dam)
    # Orvik Herald (twice), Lake Post, Vale Times (a bare link), North Star and North Star Evening
    # (one owner), Ridge Courier (a copy of the Herald's text): 6 outlets, 4 independent sources.
    assert cov["outlets"] == 6 and cov["independent"] == 4
    assert desk.story(dam).sources == 4
    rail = story_of(desk, "rail-1")
    dump_items = [i for i in desk.story_items(rail) if i.item.source is None]
    assert len(dump_items) >= 2  # the page dump's article and its headline joined the story
    assert desk.story(rail).sources == 4  # three outlets and one page dump
    assert desk.coverage(rail)["independent"] == 4


def test_owners_imported_later_recount_stories(db_path):
    with Desk(db_path, stages=STAGES) as desk:
        desk.ingest(HERE / "stories.jsonl")
        dam = story_of(desk, "dam-1")
        assert desk.story(dam).sources == 5  # North Star and North Star Evening still apart
        report = desk.import_outlets(HERE / "outlets.csv")
        assert report["stories_recounted"] >= 2
        assert desk.story(dam).sources == 4
        # the story stage, holding the story in memory, must not write the old count back
        desk.ingest([Item(title="Tessaly Dam spillway: Orva valley residents stay in shelters",
                          text="Residents of the lower Orva valley stayed in the Orvik sports hall as the "
                               "Tessaly Dam spillway remained open and the water board said the dam wall was sound.",
                          source="North Star Evening", published=datetime(2026, 5, 4, 20, tzinfo=UTC))])
        assert desk.story(dam).sources == 4 and desk.coverage(dam)["independent"] == 4


def test_page_dump_headlines_are_one_source_and_source_option_names_them(db_path, cli):
    result = cli("ingest", "--no-progress", "--source", "Hadley Gazette", str(HERE / "page-dump.txt"))
    assert result.exit_code == 0, result.output
    with Desk(db_path) as desk:
        names = {o["name"]: o["items"] for o in desk.outlets()}
        assert names == {"Hadley Gazette": 4}
        assert desk.outlet_inputs() == []


# -- coverage and blindspots ---------------------------------------------------------------------
def test_coverage_by_attribute(fixture_desk):
    desk = fixture_desk
    cov = desk.coverage(story_of(desk, "dam-1"), by="lean")
    groups = {g["value"]: g for g in cov["groups"]}
    assert groups["left"]["sources"] == 2 and groups["left"]["items"] == 4
    assert sorted(groups["left"]["outlets"]) == ["North Star", "North Star Evening", "Orvik Herald"]
    assert groups["centre"]["sources"] == 2 and sorted(groups["centre"]["outlets"]) == ["The Lake Post", "Vale Times"]
    assert groups["right"] == {**groups["right"], "sources": 0, "items": 1, "outlets": ["Ridge Courier"]}
    assert groups["left"]["first"].startswith("2026-05-04T06:00")
    assert cov["first"]["outlet"] == "Orvik Herald"
    assert cov["reach_hours"] == {"2": 2.0, "5": None, "10": None}
    rail = desk.coverage(story_of(desk, "rail-1"), by="lean")
    assert {g["value"]: g["sources"] for g in rail["groups"]} == {"left": 1, "centre": 1, "right": 1, "unknown": 1}
    assert rail["first"]["outlet"] == "Ridge Courier" and rail["reach_hours"]["2"] == 1.0
    by_owner = desk.coverage(story_of(desk, "dam-1"), by="owner")
    assert {g["value"]: g["sources"] for g in by_owner["groups"]}["Polar Group"] == 1


def test_blindspots(fixture_desk):
    desk = fixture_desk
    found = desk.blindspots("lean")
    assert [(b["story"], b["missing"], b["sources"]) for b in found] == [(story_of(desk, "dam-1"), ["right"], 4)]
    assert desk.blindspots("lean", min_sources=5) == []
    # by country: the rail story has an unknown page dump (25%): never a blindspot
    assert [b["story"] for b in desk.blindspots("country")] == [story_of(desk, "dam-1")]
    assert desk.blindspots("lean", since=datetime(2026, 6, 1, tzinfo=UTC)) == []


def test_blindspot_share_is_a_setting():
    rows = [("s1", f"k{n}", v) for n, v in enumerate(["left"] * 4 + ["centre"] * 5 + ["right"])]
    assert find_blindspots(rows, ["left", "centre", "right"], share=0.1, min_sources=3)[0]["missing"] == ["right"]
    assert find_blindspots(rows, ["left", "centre", "right"], share=0.05, min_sources=3) == []
    rows.append(("s1", "k99", None))  # an unknown source: the others no longer hold 90%
    assert find_blindspots(rows, ["left", "centre", "right"], share=0.1, min_sources=3) == []


def test_an_attribute_no_outlet_has_is_a_clear_error(fixture_desk, db_path, cli):
    with pytest.raises(InputError, match="no outlet has the attribute 'colour'.*known: country, lean, owner"):
        fixture_desk.coverage(story_of(fixture_desk, "dam-1"), by="colour")
    result = cli("blindspots", "--by", "lean")
    assert result.exit_code == 2 and "no outlet has the attribute 'lean'" in result.output
    assert "import an outlets file first" in result.output and "Traceback" not in result.output


# -- files -----------------------------------------------------------------------------------
def test_bad_outlet_files_report_each_problem_and_import_the_good_rows(tmp_path, db_path, cli):
    bad = tmp_path / "outlets.csv"
    bad.write_bytes(
        b"name,lean,owner\n"
        b"Orvik Herald,left,Orvik Media\n"
        b"ORVIK HERALD,left,\n"  # duplicate, same attributes
        b"The Orvik Herald,right,\n"  # duplicate with a conflicting lean
        b",centre,\n"  # no name
        b"Caf\xe9 Journal,centre,\n"  # not UTF-8
        b"Summit Review,right,Summit Media\n"
    )
    result = cli("outlets", "import", str(bad))
    assert result.exit_code == 9
    lines = [x for x in result.output.splitlines() if x.startswith(str(bad))]
    assert [x.split(":")[1] for x in lines] == ["3", "4", "5", "6"] or len(lines) == 4
    assert any(f"{bad}:3: duplicate of line 2" in x for x in lines)
    assert any(f"{bad}:4: conflicting attributes" in x and "lean 'left' (line 2) vs 'right'" in x for x in lines)
    assert any(f"{bad}:5: no outlet named" in x for x in lines)
    assert any(f"{bad}:6: not UTF-8" in x for x in lines)
    with Desk(db_path, stages=[]) as desk:
        outlets = {o["name"]: o["attributes"] for o in desk.outlets()}
    assert outlets == {"Orvik Herald": {"lean": "left", "owner": "Orvik Media"},
                       "Summit Review": {"lean": "right", "owner": "Summit Media"}}


def test_missing_name_column_and_bad_jsonl(tmp_path, db_path):
    nocol = tmp_path / "o.csv"
    nocol.write_text("title,lean\nOrvik Herald,left\n", encoding="utf-8")
    lines = tmp_path / "o.jsonl"
    lines.write_text('{"name": "Orvik Herald", "lean": "left"}\nnot json\n[1]\n'
                     '{"domain": "lakepost.example", "lean": "centre", "tags": ["x"]}\n', encoding="utf-8")
    with Desk(db_path, stages=[]) as desk:
        report = desk.import_outlets(nocol)
        assert report["problems"] == [(f"{nocol}:1: no column names the outlet (add a name, outlet or domain "
                                       "column; found title, lean); nothing imported")]
        report = desk.import_outlets(lines)
        assert [p.split(": ", 1)[0] for p in report["problems"]] == [f"{lines}:2", f"{lines}:3", f"{lines}:4"]
        assert report["added"] == 2
        with pytest.raises(InputError, match="is .csv or .jsonl"):
            desk.import_outlets(tmp_path / "o.txt")


def test_export_writes_the_import_format_back(fixture_desk, tmp_path):
    fixture_desk.ingest([Item(title="Wire piece", text="A wire piece.", source="www.wire.example")])
    assert any(o["name"] == "wire.example" for o in fixture_desk.outlets())  # named by its address
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"outlets.{fmt}"
        with open(out, "w", encoding="utf-8", newline="") as f:
            assert fixture_desk.export_outlets(f, fmt) == 8
        with Desk(tmp_path / f"copy-{fmt}.db", stages=[]) as other:
            report = other.import_outlets(out)
            assert not report["problems"] and report["added"] == 8
            again = {o["name"]: (o["attributes"], o["domains"]) for o in other.outlets()}
        original = {o["name"]: (o["attributes"], o["domains"]) for o in fixture_desk.outlets()}
        assert again == original


def test_unknown_outlets_are_kept_for_later(db_path):
    with Desk(db_path, stages=STAGES) as desk:
        desk.import_outlets(HERE / "outlets.csv")
        summit = next(o for o in desk.outlets() if o["name"] == "Summit Review")
        assert summit["items"] == 0 and summit["attributes"]["lean"] == "right"
        desk.ingest([Item(title="Summit piece", text="text", url="https://www.summitreview.example/a")])
        summit = next(o for o in desk.outlets() if o["name"] == "Summit Review")
        assert summit["items"] == 1


def test_attribute_values_are_escaped(db_path, tmp_path):
    from starlette.testclient import TestClient

    from newsdesk.api.app import create_app
    from newsdesk.stories.brief import render_brief

    hostile = tmp_path / "o.jsonl"
    rows = [{"name": "Orvik Herald", "lean": "<script>window.x=1</script>"},
            {"name": "The Lake Post", "lean": "centre"}, {"name": "Vale Times", "lean": "centre"},
            {"name": "North Star", "lean": "centre", "owner": "<b>Polar</b>"}, {"name": "Ridge Courier", "lean": "right"},
            {"name": "North Star Evening", "lean": "centre"}]
    hostile.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with Desk(db_path, stages=STAGES) as desk:
        desk.ingest(HERE / "stories.jsonl")
        desk.import_outlets(hostile)
        dam = story_of(desk, "dam-1")
        brief = render_brief(desk.brief(), "md") + render_brief(desk.brief(), "html")
        assert "<script>window.x=1" not in brief
        client = TestClient(create_app(desk))
        for path in (f"/story/{dam}?by=lean", f"/story/{dam}?by=owner", "/blindspots?by=lean"):
            page = client.get(path).text
            assert "<script>window.x=1" not in page and "<b>Polar</b>" not in page
        assert "&lt;script&gt;window.x=1&lt;/script&gt;" in client.get(f"/story/{dam}?by=lean").text
        api = client.get(f"/api/stories/{dam}/coverage", params={"by": "lean"}).json()
        assert "<script>window.x=1</script>" in {g["value"] for g in api["groups"]}  # JSON carries it as data


def test_cli_outlets_coverage_and_blindspots(fixture_desk, cli, db_path):
    cli("outlets", "import", str(HERE / "outlets.csv"))
    assert cli("ingest", "--no-progress", str(HERE / "stories.jsonl")).exit_code == 0
    listing = json.loads(cli("outlets", "--json").output)
    assert {o["name"] for o in listing["outlets"]} >= {"Orvik Herald", "Vale Times", "Summit Review"}
    herald = next(o for o in listing["outlets"] if o["name"] == "Orvik Herald")
    assert herald["items"] == 3 and herald["stories"] == 2 and herald["first_seen"].startswith("2026-05-04T06:00")
    story = json.loads(cli("stories", "--json").output)[0]["id"]
    text = cli("coverage", story, "--by", "lean").output
    assert "first report:" in text and "time to reach 2 sources" in text
    spots = json.loads(cli("blindspots", "--by", "lean", "--json").output)
    assert [s["missing"] for s in spots] == [["right"]]
    exported = cli("outlets", "export").output
    assert exported.splitlines()[0] == "name,domain,aliases,country,lean,owner"


def test_blindspot_watch_fires_when_a_story_becomes_one(db_path):
    with Desk(db_path, stages=STAGES) as desk:
        desk.import_outlets(HERE / "outlets.csv")
        with pytest.raises(InputError, match="no outlet has the attribute 'colour'"):
            desk.add_watch("blindspot", "colour")
        desk.add_watch("blindspot", "lean")
        lines = (HERE / "stories.jsonl").read_text(encoding="utf-8").splitlines()
        first = [json.loads(x) for x in lines if json.loads(x)["id"] in ("dam-1", "dam-3")]
        rest = [json.loads(x) for x in lines if json.loads(x)["id"] not in ("dam-1", "dam-3")]
        path = Path(db_path).parent
        (path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in first), encoding="utf-8")
        (path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rest), encoding="utf-8")
        desk.ingest(path / "a.jsonl")
        assert desk.check_watches() == []  # two sources: too few to be a blindspot
        desk.ingest(path / "b.jsonl")
        fired = desk.check_watches()
        assert [a["story"] for a in fired] == [story_of(desk, "dam-1")]
        assert fired[0]["sources"] == 4


def test_a_store_export_carries_outlets(fixture_desk, tmp_path):
    out = tmp_path / "desk.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        fixture_desk.export(f, fmt="jsonl", what="all")
    with Desk(tmp_path / "restored.db", stages=STAGES) as other:
        counts = other.import_jsonl(out)
        assert counts["outlets"] == len(fixture_desk.outlets())
        restored = {o["name"]: (o["attributes"], o["domains"], o["items"]) for o in other.outlets()}
        dam = other.item_story(other.item("dam-1").id).id
        assert other.story(dam).sources == 4  # owners known before the items came back
    assert restored == {o["name"]: (o["attributes"], o["domains"], o["items"]) for o in fixture_desk.outlets()}


def test_an_input_is_a_file_or_address_or_one_paste():
    from newsdesk.outlets.fold import input_key

    assert input_key("saved/front-page.txt", "2026-05-04T10:00:00+00:00") == "saved/front-page.txt"
    assert input_key("https://example.org/page", "t1") == input_key("https://example.org/page", "t2")
    assert input_key("paste", "t1") != input_key("paste", "t2")  # two pastes, two sources
    assert input_key(None, "t1") is None


def test_a_row_whose_domain_belongs_to_another_outlet_is_reported(tmp_path, db_path):
    f = tmp_path / "o.csv"
    f.write_text("name,domain,lean\nOrvik Herald,orvikherald.example,left\n"
                 "Lake Post,orvikherald.example,centre\n", encoding="utf-8")
    with Desk(db_path, stages=[]) as desk:
        report = desk.import_outlets(f)
        assert report["problems"] == [f"{f}:3: 'orvikherald.example' already names 'Orvik Herald'; left with it"]
        assert {o["name"]: o["domains"] for o in desk.outlets()} == {"Orvik Herald": ["orvikherald.example"],
                                                                     "Lake Post": []}
