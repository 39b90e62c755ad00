"""Fetching over real HTTP on 127.0.0.1: the address guard, redirects, size cap, conditional GET,
and ingesting URLs, feeds and OPML lists through the library and the CLI."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsdesk import config
from newsdesk.errors import FetchError
from newsdesk.ingest import FeedRef, fetch, read, read_opml
from newsdesk.model import Item, Skip

FIX = Path(__file__).resolve().parent / "fixtures" / "ingest"

Route = tuple[int, dict[str, str], bytes]


class Server:
    """A threaded HTTP server on 127.0.0.1 answering from a table of routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                path = self.path.split("?")[0]
                if path == "/slow":
                    time.sleep(3)
                if path == "/ua":
                    body = self.headers.get("User-Agent", "").encode()
                    self._send(200, {"Content-Type": "text/plain"}, body)
                    return
                if path == "/stream-big":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"news " * 2000
                    try:
                        for _ in range(200):
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                status, headers, body = server.routes.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))
                if path == "/feed.xml" and self.headers.get("If-None-Match") == headers.get("ETag"):
                    self._send(304, {"ETag": headers["ETag"]}, b"")
                    return
                self._send(status, headers, body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading (size cap): expected

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    """Returns a running local HTTP server serving the ingest fixtures."""
    srv = Server()
    rss = (FIX / "feed-rss2.xml").read_bytes()
    srv.routes.update({
        "/feed.xml": (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, rss),
        "/atom": (200, {"Content-Type": "application/xml"}, (FIX / "feed-atom.xml").read_bytes()),
        "/article": (200, {"Content-Type": "text/html; charset=utf-8"}, (FIX / "article.html").read_bytes()),
        "/page.txt": (200, {"Content-Type": "text/plain"}, (FIX / "page-dump.txt").read_bytes()),
        "/items": (200, {"Content-Type": "application/x-ndjson"}, (FIX / "items.jsonl").read_bytes()),
        "/gz": (200, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}, gzip.compress(rss)),
        "/broken-feed": (200, {"Content-Type": "application/rss+xml"}, b"<rss version='2.0'><channel><title>Cut"),
        "/big": (200, {"Content-Type": "text/plain"}, b"x" * 50_000),
        "/cp1252": (200, {"Content-Type": "text/plain; charset=windows-1252"},
                    "Caf\u00e9 Owners on the Pier Count the Cost\n\nThe caf\u00e9 owners said the storm cost them a week of trade.".encode("cp1252")),
        "/redirect": (302, {"Location": "/feed.xml"}, b""),
        "/redirect-abs": (301, {"Location": "/redirect"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/to-private": (302, {"Location": "http://10.20.30.40/secret"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
    })
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _items(records: list[Item | Skip]) -> list[Item]:
    return [r for r in records if isinstance(r, Item)]


# -- the address guard -----------------------------------------------------------------------


def test_loopback_refused_without_allow_private(server: Server) -> None:
    with pytest.raises(FetchError, match="loopback"):
        fetch(server.url("/feed.xml"))
    assert server.requests == []  # refused before any connection


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10:8080/x", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "reserved"),
        ("http://localhost/", "loopback"),
    ],
)
def test_private_addresses_refused(url: str, why: str) -> None:
    with pytest.raises(FetchError, match=why):
        fetch(url, timeout=1)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/", "http://"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(FetchError):
        fetch(url, allow_private=True)


def test_redirect_to_private_address_refused(server: Server) -> None:
    # The test server itself is allowed by network; the hop to 10.20.30.40 is checked and refused.
    with pytest.raises(FetchError, match=r"10\.20\.30\.40.*private"):
        fetch(server.url("/to-private"), allow_private=["127.0.0.1/32"])
    result = fetch(server.url("/feed.xml"), allow_private=["127.0.0.0/8"])
    assert result.status == 200


def test_redirect_to_other_scheme_refused(server: Server) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch(server.url("/to-file"), allow_private=True)


# -- fetching --------------------------------------------------------------------------------


def test_fetch_follows_bounded_redirects(server: Server) -> None:
    result = fetch(server.url("/redirect-abs"), allow_private=True)
    assert result.status == 200
    assert result.url == server.url("/redirect-abs")
    assert result.final_url == server.url("/feed.xml")
    assert result.content_type == "application/rss+xml"
    assert b"Gull Coast Gazette" in result.content
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(server.url("/redirect-abs"), allow_private=True, max_redirects=1)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(server.url("/loop"), allow_private=True)


def test_fetch_conditional_get(server: Server) -> None:
    first = fetch(server.url("/feed.xml"), allow_private=True)
    assert first.etag == '"v1"'
    again = fetch(server.url("/feed.xml"), allow_private=True, etag=first.etag, last_modified="Mon, 02 Mar 2026 08:00:00 GMT")
    assert again.status == 304
    assert again.content == b""
    assert server.requests[-1]["if-none-match"] == '"v1"'
    assert server.requests[-1]["if-modified-since"] == "Mon, 02 Mar 2026 08:00:00 GMT"


def test_fetch_sends_user_agent(server: Server) -> None:
    result = fetch(server.url("/ua"), allow_private=True)
    assert result.content.decode() == config.get("user_agent")
    assert "newsdesk" in result.content.decode()


def test_fetch_size_cap(server: Server) -> None:
    with pytest.raises(FetchError, match="50000 bytes, over the 1000 limit"):
        fetch(server.url("/big"), allow_private=True, max_bytes=1000)
    with pytest.raises(FetchError, match="over the 100000 byte limit"):
        fetch(server.url("/stream-big"), allow_private=True, max_bytes=100_000)
    assert len(fetch(server.url("/big"), allow_private=True, max_bytes=60_000).content) == 50_000


def test_fetch_errors_are_one_line(server: Server) -> None:
    with pytest.raises(FetchError, match="HTTP 404") as err:
        fetch(server.url("/missing"), allow_private=True)
    assert "\n" not in str(err.value)
    with pytest.raises(FetchError, match="timed out"):
        fetch(server.url("/slow"), allow_private=True, timeout=0.5)
    with pytest.raises(FetchError, match="cannot resolve"):
        fetch("http://no-such-host.invalid/", timeout=2)


def test_fetch_decompresses_gzip(server: Server) -> None:
    result = fetch(server.url("/gz"), allow_private=True)
    assert result.content == (FIX / "feed-rss2.xml").read_bytes()


# -- reading URLs ----------------------------------------------------------------------------


def test_read_url_of_each_kind(server: Server) -> None:
    feed = list(read(server.url("/redirect"), allow_private=True))
    assert [i.title for i in _items(feed)][:2] == ["Harbour Bridge Reopens After Repairs", "Ferry Timetable Adds Late Crossings"]
    assert all(i.origin == server.url("/redirect") for i in _items(feed))
    atom = _items(list(read(server.url("/atom"), allow_private=True)))  # sniffed from application/xml
    assert {i.source for i in atom} == {"Northern Post"}
    page = _items(list(read(server.url("/article"), allow_private=True)))
    assert len(page) == 1 and page[0].source == "Harbour Herald" and page[0].author == "Petra Lind"
    # The page names a canonical address on another host than it came from: not trusted.
    assert page[0].url == server.url("/article")
    dump = _items(list(read(server.url("/page.txt"), allow_private=True)))
    assert [i.kind for i in dump].count("headline") == 5
    jsonl = list(read(server.url("/items"), allow_private=True))
    assert sum(isinstance(r, Skip) for r in jsonl) == 3 and len(_items(jsonl)) == 5
    text = _items(list(read(server.url("/cp1252"), allow_private=True)))
    assert text[0].title == "Caf\u00e9 Owners on the Pier Count the Cost"


def test_read_url_refused_without_allow_private(server: Server) -> None:
    with pytest.raises(FetchError, match="refused"):
        read(server.url("/feed.xml"))


def test_broken_feed_url_is_a_skip(server: Server) -> None:
    records = list(read(server.url("/broken-feed"), allow_private=True))
    assert len(records) == 1 and isinstance(records[0], Skip)
    assert "feed" in records[0].reason


# -- OPML ------------------------------------------------------------------------------------


def _opml(server: Server) -> str:
    return f"""<?xml version="1.0"?>
<opml version="2.0">
  <head><title>Coast news</title></head>
  <body>
    <outline text="Local">
      <outline text="Gull Coast Gazette" type="rss" xmlUrl="{server.url('/feed.xml')}"/>
      <outline title="Northern Post" text="NP" type="rss" xmlUrl="{server.url('/atom')}"/>
    </outline>
    <outline text="Gone" type="rss" xmlUrl="{server.url('/gone.xml')}"/>
    <outline text="Broken" type="rss" xmlUrl="{server.url('/broken-feed')}"/>
    <outline text="Not a feed link" htmlUrl="https://example.org/"/>
  </body>
</opml>"""


def test_read_opml_lists_feeds(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(_opml(server), encoding="utf-8")
    refs = read_opml(path)
    assert refs == [
        FeedRef("Gull Coast Gazette", server.url("/feed.xml")),
        FeedRef("Northern Post", server.url("/atom")),
        FeedRef("Gone", server.url("/gone.xml")),
        FeedRef("Broken", server.url("/broken-feed")),
    ]
    assert read_opml(_opml(server)) == refs  # the document's text works as well as a path
    assert read_opml(str(path)) == refs


def test_opml_ingest_fetches_each_feed(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(_opml(server), encoding="utf-8")
    records = list(read(path, allow_private=True))
    items = _items(records)
    skips = [r for r in records if isinstance(r, Skip)]
    assert {i.source for i in items} == {"Gull Coast Gazette", "Northern Post"}
    assert len(items) == 5
    assert len(skips) == 2
    assert any("Gone" in str(s) and "HTTP 404" in str(s) for s in skips)
    assert any(s.origin == server.url("/broken-feed") for s in skips)


def test_opml_without_allow_private_skips_each_feed(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(_opml(server), encoding="utf-8")
    records = list(read(path))
    assert records and all(isinstance(r, Skip) and "refused" in r.reason for r in records)
    assert server.requests == []


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_ingest_url(server: Server, cli) -> None:
    refused = cli("ingest", "--no-progress", server.url("/feed.xml"))
    assert refused.exit_code == 2
    assert "refused" in refused.output and "Traceback" not in refused.output
    first = cli("ingest", "--no-progress", "--allow-private", server.url("/feed.xml"))
    assert first.exit_code == 0, first.output
    assert "3 new, 0 already stored, 0 skipped" in first.output
    again = cli("ingest", "--no-progress", "--allow-private", server.url("/feed.xml"))
    assert "0 new, 3 already stored" in again.output


def test_cli_ingest_opml(server: Server, cli, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(_opml(server), encoding="utf-8")
    result = cli("ingest", "--no-progress", "--allow-private", str(path))
    assert result.exit_code == 9  # some feeds were skipped, the rest went in
    assert "5 new, 0 already stored, 2 skipped" in result.output
