"""Readers for each source kind, normalisation, and ingesting into a real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from newsdesk import Desk
from newsdesk.ingest import read, read_text
from newsdesk.ingest.normalise import canonical_url, clean_text, parse_time
from newsdesk.ingest.pagedump import split
from newsdesk.model import Item, Skip

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"


@pytest.fixture
def bare_desk(db_path: Path):
    """Returns a Desk over a fresh store that runs no pipeline stages (ingest only)."""
    d = Desk(db_path, stages=[])
    yield d
    d.close()


def items_of(target) -> list[Item]:
    return [r for r in read(target) if isinstance(r, Item)]


def skips_of(target) -> list[Skip]:
    return [r for r in read(target) if isinstance(r, Skip)]


# -- plain text and page dumps ---------------------------------------------------------------


def test_plain_text_first_line_is_title() -> None:
    [item] = items_of(FIX / "article.txt")
    assert item.kind == "article"
    assert item.title == "Harbour Bridge in Port Wren Reopens After Eight Months of Repairs"
    assert item.text.startswith("The harbour bridge in Port Wren reopened")
    assert "Advertisement" not in item.text
    assert "Council leader Tomas Brandt" in item.text
    assert item.language == "en"
    assert item.origin == str(FIX / "article.txt") and item.origin_line == 1


def test_plain_text_without_title_line() -> None:
    text = (
        "The harbour board said on Monday that the east quay would close for a week.\n"
        "Crews were told to use the west quay instead."
    )
    [item] = list(read_text(text, origin="paste"))
    assert isinstance(item, Item)
    assert item.title is None
    assert item.text == text


def test_page_dump_fixture_splits() -> None:
    records = items_of(FIX / "page-dump.txt")
    article, headlines = records[0], records[1:]
    assert article.kind == "article" and article.title is None
    assert article.text.startswith("Fishing crews in the northern bays")
    assert article.text.endswith("weather permitting.")
    assert [h.kind for h in headlines] == ["headline"] * 5
    assert headlines[0].title == "Lornland Coastal Authority Delays Quota Rules After Strike"
    assert all(h.text == "" for h in headlines)
    assert [h.origin_line for h in headlines] == [6, 7, 8, 9, 10]


@pytest.fixture
def sample_dump(shared_data: Path) -> Path:
    """Returns the shared page-dump sample (next to the shared data), or skips."""
    path = shared_data.parent / "samples" / "page-dump.txt"
    if not path.is_file():
        pytest.skip(f"shared sample not found at {path}")
    return path


def test_shared_page_dump_is_one_article_and_17_headlines(sample_dump: Path) -> None:
    records = list(read(sample_dump))
    assert all(isinstance(r, Item) for r in records)
    kinds = [r.kind for r in records]
    assert kinds.count("article") == 1 and kinds.count("headline") == 17
    assert records[0].title is None  # the body has no title line: none is made up
    assert records[0].text.startswith("Representatives from Ukraine and Russia")
    assert records[-1].title.startswith("Federal Judge Orders")


@pytest.mark.parametrize("variant", ["no blank lines", "extra blank lines", "crlf", "trailing junk spaces"])
def test_page_dump_found_by_shape_not_blank_lines(variant: str, sample_dump: Path) -> None:
    text = sample_dump.read_text(encoding="utf-8")
    if variant == "no blank lines":
        text = "\n".join(line for line in text.splitlines() if line.strip())
    elif variant == "extra blank lines":
        text = text.replace("\n", "\n\n\n")
    elif variant == "crlf":
        text = text.replace("\n", "\r\n")
    else:
        text = "\n".join(line + "   " for line in text.splitlines())
    dump = split(text)
    assert dump is not None and len(dump.headlines) == 17
    items = [r for r in read_text(text, origin="paste") if isinstance(r, Item)]
    assert [i.kind for i in items].count("headline") == 17
    assert items[0].text.rstrip().endswith("postwar Ukraine.")


def test_page_dump_with_title_line() -> None:
    text = (
        "Skarvik Crews Vote to End Strike\n"
        "Fishing crews in Skarvik voted on Thursday to end a three-week strike, their union said.\n"
        "Boats will leave harbour again on Saturday.\n"
        "Storm Warning Issued for Northern Bays\n"
        "Rail Unions Call Off Weekend Walkout\n"
        "New Ferry Timetable Adds Late Crossings\n"
    )
    items = [r for r in read_text(text, origin="paste") if isinstance(r, Item)]
    assert items[0].title == "Skarvik Crews Vote to End Strike"
    assert items[0].text.startswith("Fishing crews")
    assert [i.title for i in items[1:]] == [
        "Storm Warning Issued for Northern Bays",
        "Rail Unions Call Off Weekend Walkout",
        "New Ferry Timetable Adds Late Crossings",
    ]


@pytest.mark.parametrize(
    "ending",
    [
        "\nReporting by Petra Lind\nEditing by Jonas Ekberg\n",  # a sign-off, not a headline list
        "\nThe board will meet again in May.\n",
        (
            "\nthe quay will close at dusk\nand reopen at dawn\nfor the rest of the week\n"
            "while the lamps are fitted\nthe board said\n"
        ),  # hard-wrapped prose, not headlines
    ],
)
def test_article_endings_are_not_headline_blocks(ending: str) -> None:
    text = "Quay Lights Switched On\nThe harbour board switched on forty new lamps on Wednesday evening." + ending
    assert split(text) is None
    items = [r for r in read_text(text, origin="paste") if isinstance(r, Item)]
    assert len(items) == 1 and items[0].kind == "article"


def test_headline_list_alone() -> None:
    text = "Storm Warning Issued for Northern Bays\nRail Unions Call Off Weekend Walkout\nNew Ferry Timetable Adds Late Crossings\n"
    items = [r for r in read_text(text, origin="paste") if isinstance(r, Item)]
    assert [i.kind for i in items] == ["headline"] * 3


# -- JSONL -----------------------------------------------------------------------------------


def test_jsonl_schema_fields() -> None:
    records = list(read(FIX / "items.jsonl"))
    items = [r for r in records if isinstance(r, Item)]
    first = items[0]
    assert first.source_id == "gz-1"
    assert first.title == "Port Wren Council Approves New Ferry Timetable"
    assert first.url == "https://gazette.example/news/ferry-timetable"  # utm_* dropped
    assert first.published == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert first.source == "Gull Coast Gazette" and first.language == "en"
    assert first.extra == {"story": "ferry"}
    assert first.origin_line == 1
    bare = items[1]
    assert bare.kind == "headline" and bare.text == ""
    assert bare.published == datetime(2026, 3, 3, 11, 0, tzinfo=UTC)  # naive taken as UTC
    lowered = items[2]  # no title, a short one-line text: a headline
    assert lowered.kind == "headline" and lowered.title == "island ferry timetable late crossings approved"
    assert lowered.text == ""
    fourth = items[3]
    assert fourth.url == "https://post.example/skarvik-strike"  # fragment dropped
    assert fourth.extra == {"stance": "center", "topic": "fishing", "story": "strike"}
    assert fourth.language == "en"  # detected: the record gave none
    last = items[-1]
    assert last.published == datetime(2026, 3, 6, 22, 40, tzinfo=timezone(timedelta(hours=1)))
    assert last.origin_line == 9
    skips = [r for r in records if isinstance(r, Skip)]
    assert [s.line for s in skips] == [5, 6, 7]
    assert "not valid JSON" in skips[0].reason
    assert "not a JSON object" in skips[1].reason
    assert "no title and no text" in skips[2].reason


def test_jsonl_given_language_is_kept() -> None:
    record = {"id": "x1", "title": "Le port rouvre", "text": "Le pont du port a rouvert lundi après huit mois de travaux.", "language": "EN"}
    [item] = list(read_text(json.dumps(record), origin="paste"))
    assert item.language == "en"  # the record's word stands; no detection


def test_jsonl_detects_language_when_absent() -> None:
    record = {"id": "x2", "title": "Le port rouvre", "text": "Le pont du port a rouvert lundi après huit mois de travaux, a indiqué la mairie."}
    [item] = list(read_text(json.dumps(record), origin="paste"))
    assert item.language == "fr"


def test_jsonl_aliases_and_json_array() -> None:
    records = [
        {"guid": "a1", "headline": "Quay Lights Switched On", "body": "Forty lamps lit the east quay on Wednesday evening for the first time.", "link": "HTTPS://Herald.Example:443/a/quay?gclid=9&id=4#top", "date": "2026-03-04"},
    ]
    [item] = list(read_text(json.dumps(records), origin="paste"))
    assert item.source_id == "a1" and item.title == "Quay Lights Switched On"
    assert item.url == "https://herald.example/a/quay?id=4"
    assert item.published == datetime(2026, 3, 4, tzinfo=UTC)


def test_shared_jsonl_counts(shared_data: Path, bare_desk: Desk) -> None:
    path = shared_data / "allsides-probe-val.jsonl"
    lines = sum(1 for line in path.open(encoding="utf-8") if line.strip())
    report = bare_desk.ingest(path)
    assert report.skipped == []
    assert report.new + report.already == lines == 921
    again = bare_desk.ingest(path)
    assert again.new == 0 and again.already == lines


def test_shared_headlines_set(shared_data: Path) -> None:
    path = shared_data / "googlenews-headlines.jsonl"
    kinds = set()
    for n, record in enumerate(read(path)):
        assert isinstance(record, Item)
        kinds.add(record.kind)
        assert record.title and record.text == ""
        if n > 500:
            break
    assert kinds == {"headline"}


# -- feeds and HTML --------------------------------------------------------------------------


def test_rss2_feed() -> None:
    items = items_of(FIX / "feed-rss2.xml")
    assert len(items) == 3
    bridge, ferry, storm = items
    assert bridge.source == "Gull Coast Gazette"
    assert bridge.source_id == "gazette-1001"
    assert bridge.url == "https://gazette.example/news/bridge-reopens?page=2"
    assert bridge.published == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert bridge.author == "Mara Finch"
    assert bridge.text == "The harbour bridge in Port Wren reopened on Monday after eight months of repairs."
    assert bridge.language == "en" and bridge.origin_line == 1
    assert "<" not in ferry.text and "alert" not in ferry.text  # HTML and scripts stripped
    assert "The council approved the timetable on Tuesday." in ferry.text  # full content preferred
    assert storm.kind == "headline" and storm.origin_line == 3


def test_aggregator_feed_items_keep_their_outlets() -> None:
    """An aggregator's entry names its outlet in <source>: that outlet is the item's source, the
    " - Outlet" appended to the headline goes, and a summary repeating the headline is no body."""
    gazette, post, herald, briefing = items_of(FIX / "feed-aggregator.xml")
    assert [gazette.source, post.source, herald.source] == ["Gull Coast Gazette", "Northern Post", "Harbour Herald"]
    assert gazette.title == "Port of Kelso workers vote to end two-week strike"
    assert gazette.kind == "headline" and not gazette.text
    assert post.title == "Kelso port strike ends as workers back new pay deal"
    assert post.text.startswith("Dockworkers at the Port of Kelso voted")
    assert herald.title == "Ships leave Kelso anchorage after dock strike ends" and not herald.text
    assert gazette.extra.get("via") == "Top stories - Newsroll"
    # An entry without <source> is the feed's own, and a title that only starts with a name keeps it.
    assert briefing.source == "Top stories - Newsroll" and briefing.title == "Gull Coast Gazette - Weekend briefing"
    [bing] = items_of(FIX / "feed-aggregator-bing.xml")  # Bing News names it in <News:Source>
    assert bing.source == "Gull Coast Gazette" and bing.extra.get("via") == "kelso - Bing News"


def test_aggregator_summary_listing_other_reports_is_no_body() -> None:
    """A top-stories entry's summary lists each outlet's report of the story: the item is the
    entry's headline, the other reports are kept beside it; a bulleted summary stays the body."""
    deal, explainer = items_of(FIX / "feed-aggregator-coverage.xml")
    assert deal.kind == "headline" and not deal.text
    assert deal.title == "Kelso dockworkers accept pay deal, ending strike" and deal.source == "Gull Coast Gazette"
    assert deal.extra["coverage"] == [
        {"title": "Ships queue to leave Kelso as strike ends", "source": "Harbour Herald",
         "url": "https://newsroll.example/read/c2"},
        {"title": "What the Kelso pay deal means for exporters", "source": "Northern Post",
         "url": "https://newsroll.example/read/c3"},
    ]
    assert explainer.kind == "article" and "capped at four a week" in explainer.text
    assert "coverage" not in explainer.extra


def test_aggregator_feed_counts_each_outlet_once(tmp_path) -> None:
    desk = Desk(tmp_path / "agg.db", stages=["copies", "stories"])
    try:
        desk.ingest(str(FIX / "feed-aggregator.xml"))
        stories = desk.stories()
    finally:
        desk.close()
    strike = max(stories, key=lambda s: s.size)
    assert strike.size == 3 and strike.sources == 3
    assert strike.title == "Port of Kelso workers vote to end two-week strike"


def test_atom_feed() -> None:
    rail, fish = items_of(FIX / "feed-atom.xml")
    assert rail.source == "Northern Post" and rail.author == "Jonas Ekberg"
    assert rail.source_id == "urn:uuid:post-rail-0001"
    assert rail.published == datetime(2026, 3, 6, 20, 55, tzinfo=UTC)
    assert "Sign up for our newsletter" not in rail.text
    assert rail.text.endswith("Trains will run normally on Monday.")
    assert fish.published == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)  # from <updated>


def test_rss1_and_rss091_feeds() -> None:
    [quay] = items_of(FIX / "feed-rss1.rdf")
    assert quay.source == "Harbour Herald" and quay.url == "https://herald.example/a/quay-lights"
    assert quay.published == datetime(2026, 3, 4, 17, 20, tzinfo=UTC)
    [cafe] = items_of(FIX / "feed-rss091.xml")
    assert cafe.title == "Caf\u00e9 on the Pier Reopens for the Season"


def test_html_article_page() -> None:
    [page] = items_of(FIX / "article.html")
    assert page.title == "Quay Lights Switched On in Skarvik"
    assert page.source == "Harbour Herald" and page.author == "Petra Lind"
    assert page.url == "https://herald.example/a/quay-lights-on"
    assert page.published == datetime(2026, 3, 4, 17, 20, tzinfo=UTC)
    assert page.text.startswith("The harbour board switched on forty new lamps")
    assert "Advertisement" not in page.text and "Home" not in page.text
    assert page.language == "en"


def test_html_page_title_loses_its_site_name(tmp_path: Path) -> None:
    """A page title that ends with the site's own name ("Headline - Outlet") is stored without it;
    one that merely contains a dash keeps it whole."""
    body = ("<p>Dockworkers at the Port of Kelso voted on Monday to accept a 6% pay rise, ending a strike "
            "that left ships queueing offshore for two weeks. The union called it the best deal in a "
            "decade.</p><p>Shipping lines said the backlog would take ten days to clear.</p>")
    for name, title, want in (
        ("a.html", "Port strike ends as dockworkers accept pay deal - Gull Coast Gazette",
         "Port strike ends as dockworkers accept pay deal"),
        ("b.html", "Port strike ends | Gull Coast Gazette", "Port strike ends"),
        ("c.html", "Kelso - Port strike ends as dockworkers accept pay deal",
         "Kelso - Port strike ends as dockworkers accept pay deal"),
    ):
        page = tmp_path / name
        page.write_text(f'<html><head><title>{title}</title><meta property="og:title" content="{title}">'
                        '<meta property="og:site_name" content="Gull Coast Gazette"></head>'
                        f"<body><article>{body}</article></body></html>", encoding="utf-8")
        [item] = items_of(page)
        assert item.source == "Gull Coast Gazette"
        assert item.title == want


# -- directories, stdin, paste ---------------------------------------------------------------


def test_directory_walk(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "story.txt").write_text((FIX / "article.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "feed.xml").write_bytes((FIX / "feed-atom.xml").read_bytes())
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / ".hidden.txt").write_text("Hidden Title\nHidden body text that should not be read.", encoding="utf-8")
    records = list(read(tmp_path))
    items = [r for r in records if isinstance(r, Item)]
    skips = [r for r in records if isinstance(r, Skip)]
    assert sorted(i.title for i in items) == sorted(
        ["Harbour Bridge in Port Wren Reopens After Eight Months of Repairs",
         "Lornland Rail Strike Called Off", "Skarvik Crews Vote to End Strike"]
    )
    assert len(skips) == 1 and skips[0].origin.endswith("notes.pdf")
    assert "not a supported file type" in skips[0].reason


def test_read_text_formats() -> None:
    dump = (FIX / "page-dump.txt").read_text(encoding="utf-8")
    assert len(list(read_text(dump, origin="paste"))) == 6
    forced = list(read_text(dump, origin="paste", fmt="text"))  # "text" still splits a page dump
    assert len(forced) == 6
    rss = (FIX / "feed-rss2.xml").read_text(encoding="utf-8")
    assert len(list(read_text(rss, origin="paste"))) == 3
    from newsdesk.errors import InputError

    with pytest.raises(InputError, match="unknown format"):
        read_text("x", fmt="pdf")
    with pytest.raises(InputError, match="OPML"):
        read_text('<?xml version="1.0"?><opml version="2.0"><body/></opml>', origin="paste")


def test_desk_ingest_text(bare_desk: Desk) -> None:
    report = bare_desk.ingest_text((FIX / "page-dump.txt").read_text(encoding="utf-8"), origin="paste box")
    assert report.new == 6
    stored = bare_desk.items(kind="headline", limit=10)
    assert len(stored) == 5 and all(i.origin == "paste box" for i in stored)


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("HTTP://Example.ORG:80/a?b=1&utm_source=x&fbclid=y#frag", "http://example.org/a?b=1"),
        ("https://example.org:443", "https://example.org/"),
        ("https://example.org:8443/x?gclid=1&mc_cid=2&utm_campaign=z", "https://example.org:8443/x"),
        ("https://example.org/x?q=a%20b&page=2", "https://example.org/x?q=a+b&page=2"),
        ("javascript:alert(1)", None),
        ("not a url", None),
        ("", None),
    ],
)
def test_canonical_url(raw: str, canonical: str | None) -> None:
    assert canonical_url(raw) == canonical


def test_clean_text() -> None:
    decomposed = "Cafe\u0301 owners met.\n\n\n\nAdvertisement\nShare this article\n  Read more  \nThe  quay\u00a0reopened.\t"
    assert clean_text(decomposed) == "Caf\u00e9 owners met.\n\nThe quay reopened."
    assert clean_text("word " * 100, max_chars=52) == ("word " * 10).strip()
    assert clean_text("Read more than forty lamps were fitted.") == "Read more than forty lamps were fitted."


def test_parse_time() -> None:
    assert parse_time("2026-03-02T08:30:00") == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert parse_time("2026-03-02T08:30:00Z") == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert parse_time("Mon, 02 Mar 2026 08:30:00 +0100") == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert parse_time(None) is None and parse_time("") is None and parse_time("soon") is None
    assert parse_time("2026-03-02").tzinfo is not None


def test_max_chars_caps_text(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("A Very Long Report\n" + "The quay was busy all day. " * 2000, encoding="utf-8")
    with Desk(db_path, stages=[], settings={"max_item_chars": 500}) as desk:
        report = desk.ingest(path)
        item = desk.item(report.new_ids[0])
    assert len(item.text) <= 500 and item.title == "A Very Long Report"


# -- idempotency through the CLI -------------------------------------------------------------


def test_cli_ingest_twice_is_idempotent(cli, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("feed-rss2.xml", "page-dump.txt", "article.html"):
        (folder / name).write_bytes((FIX / name).read_bytes())
    first = cli("ingest", "--no-progress", str(folder))
    assert first.exit_code == 0, first.output
    assert "10 new, 0 already stored, 0 skipped" in first.output
    again = cli("ingest", "--no-progress", "--json", str(folder))
    assert again.exit_code == 0
    data = json.loads(again.output[again.output.index("{"):])
    assert data["new"] == 0 and data["already"] == 10


def test_cli_ingest_stdin(cli) -> None:
    result = cli("ingest", "--no-progress", "-", input=(FIX / "items.jsonl").read_text(encoding="utf-8"))
    assert result.exit_code == 9  # three bad lines skipped, the rest stored
    assert "5 new, 0 already stored, 3 skipped" in result.output
    assert "<stdin>:5: not valid JSON" in result.output


def test_page_dump_with_labels_bullets_and_footer() -> None:
    text = (
        "The harbour board said on Monday that the east quay would close for a week while new lamps are fitted.\n"
        "Crews were told to use the west quay instead.\n\n"
        "Most Read\n"
        "- Storm Warning Issued for Northern Bays\n"
        "- Rail Unions Call Off Weekend Walkout\n"
        "More from the Gazette:\n"
        "3. New Ferry Timetable Adds Late Crossings\n"
        "\u00a9 2026 Gull Coast Gazette. All rights reserved.\n"
    )
    items = [r for r in read_text(text, origin="paste") if isinstance(r, Item)]
    assert [i.kind for i in items] == ["article", "headline", "headline", "headline"]
    assert items[0].text.endswith("use the west quay instead.")
    assert [i.title for i in items[1:]] == [
        "Storm Warning Issued for Northern Bays",
        "Rail Unions Call Off Weekend Walkout",
        "New Ferry Timetable Adds Late Crossings",
    ]
    assert [i.origin_line for i in items[1:]] == [5, 6, 8]


def test_json_feed() -> None:
    cafe, lifeboat = items_of(FIX / "feed.json")
    assert cafe.source == "Skarvik Weekly" and cafe.source_id == "sw-77"
    assert cafe.url == "https://weekly.example/cafe-pier"
    assert cafe.text == "The caf\u00e9 on the old pier reopened on Sunday with a new menu of smoked fish."
    assert cafe.author == "Ebba Stolt"
    assert cafe.published == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    assert lifeboat.kind == "headline" and lifeboat.origin_line == 2


def test_pasted_feed_declaring_another_encoding() -> None:
    # Pasted text is already decoded: a declaration naming ISO-8859-1 must not garble it.
    xml = (FIX / "feed-rss091.xml").read_text(encoding="latin-1").replace("&#233;", "\u00e9")
    [item] = list(read_text(xml, origin="paste"))
    assert item.title == "Caf\u00e9 on the Pier Reopens for the Season"


def test_a_record_with_only_a_url_is_headlined_by_its_slug() -> None:
    lines = [
        {"id": "u1", "url": "https://post.example/news/414348-ferry-strike-ends-after-talks/"},
        {"id": "u2", "url": "https://post.example/search/index.php?q=ferry"},
        {"id": "u3", "title": "", "text": "", "url": "https://post.example/2026/03/06/"},
        {"id": "u4"},
    ]
    records = list(read_text("\n".join(json.dumps(r) for r in lines), origin="paste"))
    item = records[0]
    assert isinstance(item, Item) and item.kind == "headline"
    assert item.title == "Ferry strike ends after talks" and item.text == ""
    assert item.extra["title_from"] == "url"
    assert all(isinstance(r, Skip) and "no title and no text" in r.reason for r in records[1:])


@pytest.mark.parametrize(("url", "title"), [
    ("https://post.example/a/10-killed-in-kelso-quay-fire-2026.html", "10 killed in kelso quay fire"),
    ("https://post.example/caf%C3%A9-owners-strike-in-arden", "Café owners strike in arden"),
    ("https://post.example/2026-budget-vote-delayed", "Budget vote delayed"),
    ("https://post.example/story/a1b2c3d4e5", None),        # an id, not words
    ("https://post.example/news/uk-politics-45678901", None),  # a section and an id
    ("https://post.example/world", None),
    ("not a url", None),
    ("https://post.example/" + "word-" * 2000, None),     # over the URL cap
])
def test_title_from_url(url: str, title: str | None) -> None:
    from newsdesk.ingest.normalise import title_from_url

    assert title_from_url(url) == title


SUBJECTS = ["ferry strike", "harbour fire", "budget vote", "cup final", "school closure", "bridge repair"]


def _report(n: int) -> str:
    return (f"The {SUBJECTS[n % 6]} in Arden entered day {n}, officials said on Tuesday.\n"
            f"Talks on the {SUBJECTS[n % 6]} resume at the town hall on day {n + 2}, the council said.")


def _outlet_record(n: int, source: str) -> dict:
    return {"id": f"{source}-{n}", "title": f"{SUBJECTS[n % 6].capitalize()} update {n}", "source": source,
            "text": f"Photo\n{_report(n)}\nFollow {source} on X and on Facebook\n"
                    f"Copyright 2026 {source} Media. All rights reserved."}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_an_outlets_template_lines_leave_its_articles(db_path: Path, tmp_path: Path) -> None:
    from newsdesk.ingest.templates import EXTRA_KEY

    def ingest(desk: Desk, records: list[dict], name: str) -> None:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        desk.ingest(path)

    ledger = [_outlet_record(n, "The Ledger") for n in range(1, 35)]
    other = [_outlet_record(n, "Harbour Post") for n in range(1, 3)]
    with Desk(db_path, stages=[]) as desk:
        ingest(desk, ledger[:20] + other, "first.jsonl")
    with Desk(db_path, stages=[]) as desk:  # a later run knows the template from the store
        ingest(desk, ledger[20:], "second.jsonl")
        texts = {r["id"]: desk.item(desk.store.source_item_map(None)[r["id"]]) for r in ledger + other}
    for n in (1, 2, 3):  # seen in fewer than three earlier items: kept
        item = texts[f"The Ledger-{n}"]
        assert item.text.startswith("Photo\n") and "Follow The Ledger" in item.text
        assert EXTRA_KEY not in item.extra
    for n in (4, 20, 21, 34):
        item = texts[f"The Ledger-{n}"]
        # The report stays; the photo label, the follow line and the copyright line go. Item
        # 34's 30 latest earlier items hold those lines only in their extras.
        assert item.text == _report(n)
        assert item.extra[EXTRA_KEY] == ["Photo", "Follow The Ledger on X and on Facebook",
                                          "Copyright 2026 The Ledger Media. All rights reserved."]
    for n in (1, 2):  # another outlet: its own count
        assert texts[f"Harbour Post-{n}"].text.startswith("Photo\n")


def test_template_lines_need_three_earlier_items_and_short_lines() -> None:
    from newsdesk.ingest.templates import LINE_MAX, Template, line_keys

    long_line = "word " * (LINE_MAX // 5 + 10)
    template = Template([line_keys(f"Photo\n{long_line}\nReport {k}") for k in range(2)])
    assert template.drop("Photo\nA new report")[1] == []  # two earlier items: not yet template
    template.add(line_keys(f"Photo\n{long_line}\nReport 3"))
    text, dropped = template.drop(f"Photo\n{long_line}\nA new report")
    assert text == f"{long_line}\nA new report" and len(dropped) == 1  # a long line is prose
    # An item made nearly all of lines seen before repeats earlier items: kept whole.
    assert template.drop("Photo") == ("Photo", [])
    assert template.drop("Photo\nA bus") == ("A bus", ["Photo"])


def test_an_outlet_sending_one_report_again_keeps_its_text(db_path: Path, tmp_path: Path) -> None:
    lede = "Ferry crews in Arden walked out at dawn over pay, the union said, halting every crossing."
    records = [{"id": f"wire-{k}", "url": f"https://wire.example/{k}", "title": "Ferry crews walk out",
                "source": "Meridian Wire", "text": lede} for k in range(6)]
    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    with Desk(db_path, stages=[]) as desk:
        desk.ingest(path)
        ids = desk.store.source_item_map(None)
        assert all(desk.item(ids[f"wire-{k}"]).text == lede for k in range(6))
