"""The bundled demo corpus: its files are well formed, and the real ingest reads all of it
into items that each carry exactly one gold story."""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdesk.data import (
    PREFIX_CHARS,
    demo_gold,
    demo_gold_lines,
    demo_path,
    flat,
    gold_path,
    gold_story,
)
from newsdesk.model import Item

ATOM = "{http://www.w3.org/2005/Atom}"
JSONL_FIELDS = {"id", "title", "text", "published", "source", "url", "language"}

needs_readers = pytest.mark.skipif(
    importlib.util.find_spec("newsdesk.ingest.directory") is None,
    reason="newsdesk.ingest has no directory reader yet (only JSONL is read)",
)


def files(suffix: str) -> list[Path]:
    return sorted(p for p in demo_path().iterdir() if p.name.endswith(suffix))


def feed_kind(path: Path) -> str:
    """Returns 'rss' or 'atom' from the XML root element."""
    root = ET.parse(path).getroot()
    if root.tag == "rss":
        return "rss"
    assert root.tag == f"{ATOM}feed", f"{path.name}: root is {root.tag}"
    return "atom"


# -- the files as written --------------------------------------------------------------------


def test_every_source_format_is_present():
    assert 2 <= len(files(".txt")) <= 4
    assert 1 <= len(files(".jsonl")) <= 2
    assert len(files(".html")) >= 3
    kinds = Counter(feed_kind(p) for p in files(".xml"))
    assert kinds == {"rss": 1, "atom": 1}
    # Only news belongs in the ingested folder: gold and README live one level up.
    assert gold_path().parent != demo_path()
    assert not [p for p in demo_path().iterdir() if p.suffix in (".md", ".py")]


def test_jsonl_records_follow_the_shared_schema_without_gold():
    ids = set()
    for path in files(".jsonl"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rec = json.loads(line)
            assert JSONL_FIELDS <= rec.keys(), f"{path.name}:{n}"
            assert "story" not in rec, f"{path.name}:{n} carries its gold label"
            assert rec["language"] == "en" and rec["title"] and rec["text"]
            assert datetime.fromisoformat(rec["published"]).tzinfo
            assert rec["id"] not in ids
            ids.add(rec["id"])


def test_feeds_are_valid_with_ids_links_and_times():
    for path in files(".xml"):
        root = ET.parse(path).getroot()
        if feed_kind(path) == "rss":
            channel = root.find("channel")
            assert channel.findtext("title") == "Northline Post"
            entries = channel.findall("item")
            for e in entries:
                assert e.findtext("guid") and e.findtext("link") and e.findtext("description")
                assert re.search(r"[+-]\d{4}$", e.findtext("pubDate"))
        else:
            assert root.findtext(f"{ATOM}title") == "Harbor Times"
            entries = root.findall(f"{ATOM}entry")
            for e in entries:
                assert e.findtext(f"{ATOM}id") and e.find(f"{ATOM}link").get("href")
                assert e.findtext(f"{ATOM}summary")
                assert datetime.fromisoformat(e.findtext(f"{ATOM}updated")).tzinfo
        assert len(entries) >= 5


def test_html_pages_carry_the_metadata_an_extractor_reads():
    for path in files(".html"):
        page = path.read_text(encoding="utf-8")
        for marker in ('property="og:site_name"', 'property="article:published_time"',
                       'name="author"', "<article>", "<h1>", "<title>", "Advertisement"):
            assert marker in page, f"{path.name} lacks {marker}"
        assert page.count("<p>") >= 3


def test_page_dumps_end_in_title_case_headline_lists():
    for path in files(".txt"):
        text = path.read_text(encoding="utf-8")
        body, _, tail = text.strip().partition("\n\n\n")
        headlines = [h for h in tail.splitlines() if h.strip()]
        assert body and 10 <= len(headlines) <= 17, path.name
        for h in headlines:
            assert h[0].isupper() and not h.endswith((".", ",", ";", ":")), h


def test_gold_lines_are_well_formed_and_unique():
    lines = demo_gold_lines()
    keys = [line.get("title") or line.get("text_prefix") for line in lines]
    for line in lines:
        assert ("title" in line) != ("text_prefix" in line), line
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", line["story"]), line
        assert line.get("copies", 1) >= 1
        if "text_prefix" in line:
            assert len(line["text_prefix"]) == PREFIX_CHARS
    assert len(keys) == len(set(keys))
    assert demo_gold() == {k: line["story"] for k, line in zip(keys, lines, strict=True)}
    sizes = Counter()
    for line in lines:
        sizes[line["story"]] += line.get("copies", 1)
    assert len(sizes) >= 16
    assert all(2 <= n <= 10 for n in sizes.values()), sizes


def test_gold_story_matches_by_title_or_body_prefix():
    titled = next(line for line in demo_gold_lines() if "title" in line)
    assert gold_story(Item(title=titled["title"], text="")) == titled["story"]
    prefixed = next(line for line in demo_gold_lines() if "text_prefix" in line)
    assert gold_story(Item(title=None, text=prefixed["text_prefix"] + " and more")) == prefixed["story"]
    assert gold_story(Item(title="A Story Nobody Wrote", text="Nothing here.")) is None


def test_content_is_fictional_and_original():
    # Every address uses the reserved .example domain, so no real outlet is quoted.
    for path in demo_path().iterdir():
        for url in re.findall(r"https?://([^/\s\"<]+)", path.read_text(encoding="utf-8")):
            assert url.endswith(".example") or url in ("purl.org", "www.w3.org"), (path.name, url)


# -- through the real ingest -----------------------------------------------------------------


@pytest.fixture
def demo_items(desk) -> list[Item]:
    """Returns every item the real ingest stored from the demo folder."""
    report = desk.ingest(demo_path())
    assert report.skipped == []
    assert report.new == desk.stats()["items"]
    return desk.items(limit=10_000)


def test_ingest_reads_jsonl_records_as_items(desk):
    path = files(".jsonl")[0]
    report = desk.ingest(path)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert report.new == len(records) and not report.skipped
    for rec in records:
        assert desk.item(rec["id"]).title == rec["title"]


@needs_readers
def test_ingest_stores_every_item_with_one_gold_story(demo_items):
    assert len(demo_items) >= 90
    sources = {it.source for it in demo_items if it.source}
    assert len(sources) >= 8, sources
    unlabelled = [(it.origin, it.headline) for it in demo_items if gold_story(it) is None]
    assert unlabelled == []
    # every gold line names exactly as many stored items as it says (verbatim copies share one)
    for line in demo_gold_lines():
        if "title" in line:
            found = [it for it in demo_items if it.title == line["title"]]
        else:
            found = [it for it in demo_items if flat(it.body).startswith(line["text_prefix"])]
        assert len(found) == line.get("copies", 1), line
    assert len({gold_story(it) for it in demo_items}) >= 16


@needs_readers
def test_ingest_reads_every_file_and_format(demo_items):
    by_file: dict[str, Counter] = defaultdict(Counter)
    for it in demo_items:
        by_file[Path(it.origin).name][it.kind] += 1
    assert set(by_file) == {p.name for p in demo_path().iterdir()}
    for path in files(".txt"):
        assert by_file[path.name] == {"article": 1, "headline": by_file[path.name]["headline"]}
        assert by_file[path.name]["headline"] >= 10
    for suffix in (".jsonl", ".xml", ".html"):
        for path in files(suffix):
            assert set(by_file[path.name]) == {"article"}, path.name
    html_sources = {it.source for it in demo_items if it.origin.endswith(".html")}
    assert len(html_sources) == len(files(".html"))


@needs_readers
def test_ingest_keeps_times_with_offsets_over_three_days(demo_items):
    times = [it.published for it in demo_items if it.published is not None]
    assert len(times) >= 70
    assert all(t.tzinfo is not None for t in times)
    assert {t.astimezone(UTC).day for t in times} >= {24, 25, 26}
    assert datetime(2026, 11, 23, tzinfo=UTC) <= min(times) < max(times) < datetime(2026, 11, 27, tzinfo=UTC)


@needs_readers
def test_some_stories_are_told_only_in_headlines(demo_items):
    kinds: dict[str, set[str]] = defaultdict(set)
    for it in demo_items:
        kinds[gold_story(it)].add(it.kind)
    assert sum(1 for k in kinds.values() if k == {"headline"}) >= 3


@needs_readers
def test_wire_stories_are_syndicated_across_formats(demo_items):
    wire = [it for it in demo_items if it.source == "Meridian Wire"]
    syndicated = 0
    formats: set[str] = set()
    for w in wire:
        lede = flat(w.text.split("\n")[0])
        copies = [
            it for it in demo_items
            if it.id != w.id and it.source != "Meridian Wire" and lede in flat(it.text)
        ]
        if copies:
            syndicated += 1
            formats.update(Path(c.origin).suffix for c in copies)
            assert all(gold_story(c) == gold_story(w) for c in copies)
    assert syndicated >= 3
    assert len(formats) >= 3, formats


@needs_readers
def test_ingesting_the_demo_twice_adds_nothing(desk, demo_items):
    again = desk.ingest(demo_path())
    assert again.new == 0 and again.already == len(demo_items)


# -- stories, as `make run` builds them ---------------------------------------------------------

# Pairs of demo stories that share places, names or words but are different events: the engine
# once put them together (a wire dateline shared by the breach and the ruling; the storm that
# delayed the launch, whose first report started the story the storm's reports joined; the cup
# parade rerouted around the closed bridge). The last two are parted by the consolidation pass
# that ends each `make run` ingest.
APART = [
    ("crestline-breach", "court-data-retention"),
    ("storm-wren", "kestrel-launch"),
    ("harlow-bridge", "cup-final"),
    ("port-strike", "cup-final"),
    ("port-strike", "whale-rescue"),
]
PAGE_DUMP_OUTLETS = {"bayview-gazette-": "Bayview Gazette", "granite-star-": "The Granite Star",
                     "riverside-daily-": "Riverside Daily"}


@pytest.fixture(scope="module")
def demo_stories(tmp_path_factory) -> dict[str, Counter]:
    """Returns each story's gold stories (with counts) after ingesting the demo as `make demo`
    does, through the real command line: outlets first, every file but the page dumps, then
    each page dump with its outlet. Built once for the module (SQLite)."""
    from click.testing import CliRunner

    from newsdesk import Desk
    from newsdesk.cli import main
    from newsdesk.data import demo_outlets_path

    db = tmp_path_factory.mktemp("make-run") / "demo.db"
    runner = CliRunner()

    def cli(*args: str) -> None:
        result = runner.invoke(main, ["--db", str(db), *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    cli("outlets", "import", str(demo_outlets_path()))
    news = demo_path()
    cli("ingest", "--no-progress", *sorted(str(p) for p in news.iterdir() if p.suffix != ".txt"))
    for prefix, outlet in PAGE_DUMP_OUTLETS.items():
        cli("ingest", "--no-progress", "--source", outlet, *sorted(str(p) for p in news.glob(prefix + "*.txt")))
    with Desk(db) as desk:
        members = desk.store.all_memberships()
        out: dict[str, Counter] = defaultdict(Counter)
        for it in desk.items(limit=10_000):
            out[members[it.id]][gold_story(it)] += 1
    return out


@needs_readers
@pytest.mark.parametrize(("a", "b"), APART)
def test_make_run_keeps_related_events_apart(demo_stories, a, b):
    mixed = {sid: dict(golds) for sid, golds in demo_stories.items() if golds[a] and golds[b]}
    assert mixed == {}, f"{a} and {b} share a story: {mixed}"


@needs_readers
def test_make_run_stories_match_the_gold_ones(demo_stories):
    from newsdesk.evaluate import bcubed

    pred, gold = [], []
    for sid, golds in demo_stories.items():
        for g, n in golds.items():
            pred += [sid] * n
            gold += [g] * n
    _, _, f1 = bcubed(pred, gold)
    assert f1 >= 0.95, f"demo B-cubed F1 {f1:.3f}"
