"""Fuzzing every reader and the API's query parameters with Hypothesis.

Each generated document goes through the whole ingest (every stage, spaCy included, into a
real store file); the rules are: never an exception other than the one-line errors newsdesk
raises on purpose, never a stored field past its cap, and never more than 1 s per 10 KB of
input. Each API query must answer below 500.

Budget: NEWSDESK_FUZZ_EXAMPLES examples per reader (default 20, about a minute for the whole
file on two cores); `make fuzz` runs 500. What was tried is written to
test-artifacts/fuzz.json (examples per reader, worst seconds per 10 KB).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsdesk.errors import NewsdeskError

EXAMPLES = int(os.environ.get("NEWSDESK_FUZZ_EXAMPLES", "20"))
# The rule is 1 s per 10 KB; a slack factor absorbs other processes on a shared machine
# (NEWSDESK_FUZZ_SLACK=1 holds to the rule exactly), and every document gets one second.
SLACK = float(os.environ.get("NEWSDESK_FUZZ_SLACK", "3"))
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

settings.register_profile(
    "newsdesk",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("NEWSDESK_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    database=None,
)
FUZZ = settings.get_profile("newsdesk")

STATS: dict[str, dict[str, float]] = {}

# -- building blocks ------------------------------------------------------------------------

PATHOLOGICAL = ['"', "'", "(", ")", "[", "...", "-", "_", "“", "’", "«", "»", ":’_", "\"'", "a.", "&", "<", "\u200b", "\x00", "\ufeff", "é", "\u0301", "🙂", "\r"]
words = st.sampled_from([
    "Harbor", "strike", "Kelso", "Quay", "minister", "said", "on", "Monday", "the", "U.S.", "EU's",
    "Angela", "Merkel", "Paris", "$4.5bn", "40%", "2026", "–", "«", "»", "Dr.", "O'Neil", "naïve",
])
sentence = st.lists(words, min_size=1, max_size=30).map(" ".join)
run = st.builds(lambda s, n: s * n, st.sampled_from(PATHOLOGICAL), st.integers(1, 20000))
junk = st.text(max_size=300)
text_value = st.one_of(sentence, run, junk, st.lists(st.one_of(sentence, run), max_size=5).map("\n".join))
time_value = st.one_of(
    st.none(), st.just(""), st.sampled_from([
        "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-02-17T10:00:00Z",
        "Tue, 17 Feb 2026 10:00:00 +0000", "yesterday", "2026-13-45", "Z" * 300,
    ]),
    st.integers(-(10**30), 10**30), st.floats(allow_nan=True, allow_infinity=True), junk,
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), junk,
    # Python converts at most 4,300 digits (the 5,000-digit document is in test_hardening.py).
    st.builds(lambda n: int("9" * n), st.integers(1, 4300)),
)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=10)
record = st.fixed_dictionaries(
    {"title": st.one_of(st.none(), text_value, json_value), "text": st.one_of(text_value, json_value)},
    optional={
        "id": json_value, "published": time_value, "url": st.one_of(junk, st.just("https://example.org/" + "a" * 9000)),
        "source": st.one_of(junk, run), "author": junk, "language": junk, "kind": junk,
        "extra_field": st.one_of(json_value, run),
    },
)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _raw(s: str) -> str:  # sometimes escaped, sometimes raw markup
    return s


def _xml_text() -> st.SearchStrategy[str]:
    return st.one_of(text_value.map(_esc), text_value.map(_raw), st.just("<![CDATA[" + "]]" * 50 + "]]>"),
                     st.just("&amp;" * 5000), st.just("&#x10FFFF;&#0;&bogus;"))


jsonl_doc = st.lists(st.one_of(record.map(lambda r: json.dumps(r, ensure_ascii=False)), junk,
                               st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 100_000))),
                     min_size=1, max_size=6).map("\n".join)
json_doc = st.one_of(
    st.lists(record, max_size=5).map(lambda rs: json.dumps(rs)),
    record.map(json.dumps),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 100_000)),
    st.builds(lambda rs: json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": rs}),
              st.lists(json_value, max_size=4)),
    junk,
)
feed_doc = st.one_of(
    st.builds(
        lambda t, d, p, link, n: "<?xml version='1.0'?><rss version='2.0'><channel><title>" + t + "</title>"
        + ("<item><title>" + t + "</title><description>" + d + "</description><pubDate>" + _esc(str(p))
           + "</pubDate><link>" + _esc(link) + "</link></item>") * n + "</channel></rss>",
        _xml_text(), _xml_text(), time_value, junk, st.integers(0, 5)),
    st.builds(
        lambda t, d, p: "<feed xmlns='http://www.w3.org/2005/Atom'><title>" + t + "</title><entry><title>" + t
        + "</title><content type='html'>" + d + "</content><updated>" + _esc(str(p)) + "</updated></entry></feed>",
        _xml_text(), _xml_text(), time_value),
    st.builds(lambda n: "<?xml version='1.0'?>" + "<a>" * n + "</a>" * n, st.integers(1, 50_000)),
    st.just("<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
            "<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
            "<rss><channel><item><title>&d;&d;&d;&d;</title></item></channel></rss>"),
    junk.map(lambda j: "<?xml version='1.0'?><rss>" + j),
)
html_doc = st.one_of(
    st.builds(
        lambda t, body, p, n: "<html><head><title>" + t + "</title><meta property='article:published_time' content='"
        + _esc(str(p)) + "'></head><body><article><h1>" + t + "</h1>" + ("<p>" + body + "</p>") * n
        + "</article></body></html>",
        _xml_text(), _xml_text(), time_value, st.integers(1, 20)),
    st.builds(lambda n: "<html><body>" + "<div>" * n + "x" + "</div>" * n + "</body></html>", st.integers(1, 20_000)),
    junk.map(lambda j: "<html>" + j),
)
pagedump_doc = st.builds(
    lambda title, body, heads: title + "\n\n" + body + "\n\n" + "\n".join(heads),
    sentence, text_value, st.lists(st.one_of(sentence, run, junk), min_size=3, max_size=40),
)
opml_doc = st.builds(
    lambda urls, t: "<?xml version='1.0'?><opml version='2.0'><head><title>" + t + "</title></head><body>"
    + "".join(f"<outline type='rss' text='{_esc(t)[:50]}' xmlUrl='{_esc(u)}'/>" for u in urls) + "</body></opml>",
    # Only addresses the guard refuses without a lookup: no fuzz example reaches the network.
    st.lists(st.sampled_from(["http://127.0.0.1:9/feed", "http://10.0.0.1/rss", "ftp://x/y", "javascript:alert(1)",
                              "http://[::1]/a", "http://169.254.169.254/latest", "", "http://0.0.0.0/"]), max_size=6),
    _xml_text(),
)
text_doc = st.one_of(text_value, st.binary(max_size=2000).map(lambda b: b.decode("latin-1")))

READERS: dict[str, tuple[str, st.SearchStrategy[str]]] = {
    "jsonl": (".jsonl", jsonl_doc),
    "json": (".json", json_doc),
    "feed": (".xml", feed_doc),
    "html": (".html", html_doc),
    "pagedump": (".txt", pagedump_doc),
    "opml": (".opml", opml_doc),
    "text": (".txt", text_doc),
}

# -- the one desk every example goes through ----------------------------------------------


@pytest.fixture(scope="module")
def fuzz_desk(tmp_path_factory):
    from newsdesk import Desk

    folder = tmp_path_factory.mktemp("fuzz")
    desk = Desk(folder / "fuzz.db")
    desk.ingest(iter([]))  # load the stages and their models before anything is timed
    warm = folder / "warm.jsonl"
    # A published time no format reads sends dateparser to guess its language: its first guess
    # loads every language's dictionary (about 2 s, once per process), like a model load.
    warm.write_text(json.dumps({"title": "Warm up", "text": "Angela Merkel met officials in Paris.",
                                "published": "qz 12 wv"}) + "\n")
    desk.ingest(warm)
    yield desk, folder
    desk.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz.json").write_text(json.dumps(STATS, indent=2, sort_keys=True))
    print("\nfuzz:", json.dumps(STATS, sort_keys=True))


def _check_caps(desk: Any, ids: list[str]) -> None:
    from newsdesk.ingest.normalise import MAX_EXTRA_CHARS, MAX_ID_CHARS, MAX_URL_CHARS

    max_chars = int(desk.setting("max_item_chars"))
    for item in desk.store.items_by_ids(ids):
        assert len(item.title or "") <= 1000
        assert len(item.text or "") <= max_chars
        assert len(item.source or "") <= 300 and len(item.author or "") <= 300
        assert len(item.url or "") <= MAX_URL_CHARS + 100
        assert len(item.source_id or "") <= MAX_ID_CHARS
        assert len(item.language or "") <= 20
        assert len(json.dumps(item.extra, ensure_ascii=False)) <= MAX_EXTRA_CHARS + 1000


def _ingest_one(fuzz_desk, reader: str, suffix: str, document: str) -> None:
    desk, folder = fuzz_desk
    path = folder / f"doc{suffix}"
    data = document.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        report = desk.ingest(path)
    except NewsdeskError:  # one line on purpose (an unreadable target); never anything else
        report = None
    seconds = time.perf_counter() - start
    per_10kb = seconds / max(len(data) / 10240, 1e-9)
    stats = STATS.setdefault(reader, {"examples": 0, "worst_s_per_10kb": 0.0, "worst_s": 0.0, "largest_bytes": 0})
    stats["examples"] += 1
    stats["worst_s"] = max(stats["worst_s"], round(seconds, 3))
    stats["largest_bytes"] = max(stats["largest_bytes"], len(data))
    if len(data) >= 10240:  # below 10 KB the fixed cost of a batch dominates the ratio
        stats["worst_s_per_10kb"] = max(stats["worst_s_per_10kb"], round(per_10kb, 3))
    if report is not None:
        _check_caps(desk, report.new_ids)
    assert seconds <= SLACK * (1.0 + len(data) / 10240), f"{reader}: {len(data)} bytes took {seconds:.1f} s"


def _reader_test(reader: str):
    suffix, strategy = READERS[reader]

    @FUZZ
    @given(document=strategy)
    def check(fuzz_desk, document: str) -> None:
        _ingest_one(fuzz_desk, reader, suffix, document)

    return check


test_fuzz_jsonl = _reader_test("jsonl")
test_fuzz_json = _reader_test("json")
test_fuzz_feed = _reader_test("feed")
test_fuzz_html = _reader_test("html")
test_fuzz_pagedump = _reader_test("pagedump")
test_fuzz_opml = _reader_test("opml")
test_fuzz_text = _reader_test("text")


# -- the API's query parameters -------------------------------------------------------------

param_value = st.one_of(
    st.sampled_from(["1000000d", "99999w", "0m", "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00",
                     "1e20", "-1", "0", "9" * 30, str(2**63), "24h", "2026-02-17", "auto", "semantic", "hybrid",
                     "text", "rank", "recent", "%", "_", "' OR 1=1 --", "\"unclosed", "NEAR(", "*", "a OR"]),
    st.text(max_size=40),
)
cursor_value = st.one_of(
    param_value,
    st.lists(st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=5), st.none()), max_size=4).map(
        lambda v: __import__("newsdesk.search", fromlist=["encode_cursor"]).encode_cursor(v)),
)
ROUTES = {
    "/api/items": {"since": param_value, "until": param_value, "limit": param_value, "cursor": cursor_value,
                   "kind": param_value, "source": param_value},
    "/api/stories": {"since": param_value, "until": param_value, "min_size": param_value, "limit": param_value,
                     "cursor": cursor_value, "order": param_value},
    "/api/search": {"q": param_value, "mode": param_value, "since": param_value, "limit": param_value,
                    "cursor": cursor_value, "entity": param_value, "story": param_value},
    "/api/entities": {"type": param_value, "since": param_value, "q": param_value, "limit": param_value,
                      "cursor": cursor_value},
    "/api/trending": {"window": param_value, "limit": param_value},
    "/api/briefing": {"since": param_value, "limit": param_value},
}


@pytest.fixture(scope="module")
def api_client(fuzz_desk):
    from fastapi.testclient import TestClient

    from newsdesk.api.app import create_app

    desk, _ = fuzz_desk
    return TestClient(create_app(desk, token="fuzz-token"), raise_server_exceptions=False)


@FUZZ
@given(data=st.data())
def test_fuzz_api_query_parameters(api_client, data) -> None:
    route = data.draw(st.sampled_from(sorted(ROUTES)))
    params = data.draw(st.fixed_dictionaries({}, optional=ROUTES[route]))
    resp = api_client.get(route, params=params)
    stats = STATS.setdefault("api", {"examples": 0})
    stats["examples"] += 1
    assert resp.status_code < 500 or resp.status_code == 501, (route, params, resp.text[:300])
    if resp.headers.get("content-type", "").startswith("application/json"):
        body = resp.json()
        assert isinstance(body, dict)
