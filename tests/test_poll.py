"""Polling feeds from a real HTTP server on 127.0.0.1: conditional GET, backoff, hostile feeds."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_live_server import LiveServer, rss, story_text

from newsdesk import Desk

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)

SETTINGS = {"allow_private": True, "poll_host_delay": 0.0, "poll_backoff": 60.0,
            "fetch_timeout": 2.0, "max_bytes": 100_000}


def entries(prefix: str, n: int, *, text: bool = True) -> list[dict[str, str]]:
    return [{"title": f"{prefix} report {i}", "guid": f"{prefix}-{i}",
             "text": story_text(f"{prefix} topic {i}", i) if text else f"Short note {i}."}
            for i in range(n)]


@pytest.fixture
def server():
    s = LiveServer()
    yield s
    s.close()


@pytest.fixture
def live(db_path: Path):
    d = Desk(db_path, stages=[], settings=SETTINGS)
    yield d
    d.close()


def test_conditional_get_second_poll_is_304_and_stores_nothing(server, live):
    url = server.add("/a.xml", body=rss("Quay Post", entries("quay", 3)), etag='"v1"',
                     last_modified="Mon, 02 Mar 2026 08:00:00 GMT")
    live.add_feed(url)
    first = live.poll()
    assert [f.outcome for f in first.feeds] == ["new"]
    assert first.new == 3
    feed = live.feed(url)
    assert feed["etag"] == '"v1"' and feed["last_modified"].startswith("Mon, 02 Mar")
    sightings = live.stats()["sightings"]

    second = live.poll()
    assert second.feeds[0].outcome == "unchanged" and second.feeds[0].status == 304
    assert second.new == 0
    assert live.stats()["sightings"] == sightings  # nothing stored, not even a sighting
    conditional = server.hits("/a.xml")[-1].headers
    assert conditional["if-none-match"] == '"v1"'
    assert conditional["if-modified-since"] == "Mon, 02 Mar 2026 08:00:00 GMT"
    assert live.feed(url)["last_status"] == 304


def test_changed_feed_stores_only_new_entries(server, live):
    url = server.add("/b.xml", body=rss("Quay Post", entries("quay", 2)), etag='"v1"')
    live.add_feed(url)
    assert live.poll().new == 2
    server.routes["/b.xml"].body = rss("Quay Post", entries("quay", 3))
    server.routes["/b.xml"].etag = '"v2"'
    again = live.poll()
    assert again.new == 1 and again.feeds[0].outcome == "new"
    assert live.feed(url)["etag"] == '"v2"'
    assert live.stats()["items"] == 3


def test_failing_feed_backs_off_with_reason_then_recovers(server, live):
    url = server.add("/down.xml", body=rss("Down", entries("down", 2)), fail=1)
    live.add_feed(url)
    before = datetime.now(UTC)
    first = live.poll()
    assert first.feeds[0].outcome == "error"
    feed = live.feed(url)
    assert "500" in feed["error"] and feed["failures"] == 1 and feed["last_status"] == 500
    assert datetime.fromisoformat(feed["retry_after"]) > before

    hits = len(server.hits("/down.xml"))
    waiting = live.poll()
    assert waiting.feeds[0].outcome == "backoff" and "500" in waiting.feeds[0].error
    assert len(server.hits("/down.xml")) == hits  # not asked while backing off

    forced = live.poll(force=True)
    assert forced.feeds[0].outcome == "new" and forced.new == 2
    feed = live.feed(url)
    assert feed["error"] is None and feed["failures"] == 0 and feed["retry_after"] is None


def test_backoff_doubles_with_each_failure(server, live):
    url = server.add("/gone.xml", status=404, body=b"gone", ctype="text/plain")
    live.add_feed(url)
    waits = []
    for _ in range(3):
        started = datetime.now(UTC)
        live.poll(force=True)
        waits.append((datetime.fromisoformat(live.feed(url)["retry_after"]) - started).total_seconds())
    assert live.feed(url)["failures"] == 3
    assert waits[1] > 1.5 * waits[0] and waits[2] > 1.5 * waits[1]


def test_broken_and_hostile_feeds_never_stop_the_others(server, live):
    good = server.add("/good.xml", body=rss("Good", entries("good", 4)))
    server.add("/missing.xml", status=404, body=b"no", ctype="text/plain")
    server.add("/garbage.xml", body=b"<rss version='2.0'><channel><item>\x00\x01&&&<<<", ctype="application/rss+xml")
    server.add("/picture.xml", body=b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, ctype="image/png")
    server.add("/page.xml", body=b"<!doctype html><html><body><p>Hello</p></body></html>", ctype="text/html")
    server.add("/huge.xml", body=b"<rss>" + b"x" * 300_000 + b"</rss>")
    server.add("/slow.xml", body=rss("Slow", entries("slow", 1)), delay=3.0)
    for path in ("/missing.xml", "/garbage.xml", "/picture.xml", "/page.xml", "/huge.xml", "/slow.xml"):
        live.add_feed(server.url(path))
    live.add_feed(good)

    report = live.poll()
    by_url = {f.url.rsplit("/", 1)[1]: f for f in report.feeds}
    assert by_url["good.xml"].outcome == "new" and by_url["good.xml"].new == 4
    for name in ("missing.xml", "garbage.xml", "picture.xml", "page.xml", "huge.xml", "slow.xml"):
        assert by_url[name].outcome == "error", name
    assert "404" in by_url["missing.xml"].error
    assert "image/png" in by_url["picture.xml"].error
    assert "not a feed" in by_url["page.xml"].error
    assert "limit" in by_url["huge.xml"].error
    assert "timed out" in by_url["slow.xml"].error
    stored = {f["url"].rsplit("/", 1)[1]: f for f in live.feeds()}
    assert all(stored[n]["error"] for n in by_url if n != "good.xml")
    assert live.stats()["items"] == 4


def test_private_addresses_refused_unless_allowed(server, db_path):
    url = server.add("/p.xml", body=rss("P", entries("p", 1)))
    with Desk(db_path, stages=[], settings={**SETTINGS, "allow_private": False}) as desk:
        desk.add_feed(url)
        report = desk.poll()
        assert report.feeds[0].outcome == "error" and "refused" in report.feeds[0].error
        assert not server.hits("/p.xml")
        assert desk.poll(force=True, allow_private=True).new == 1


def test_redirect_to_private_address_refused(server, db_path, monkeypatch):
    """A public-looking host that redirects to loopback: the second hop is refused."""
    import importlib

    fetch_module = importlib.import_module("newsdesk.ingest.fetch")

    real_resolve, real_getaddrinfo = fetch_module.resolve, socket.getaddrinfo

    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"] if host == "public.test" else real_resolve(host, port)

    def getaddrinfo(host, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host == "public.test" else host, *args, **kwargs)

    monkeypatch.setattr(fetch_module, "resolve", resolve)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    port = server.httpd.server_address[1]
    server.add("/secret.xml", body=rss("Inside", entries("inside", 1)))
    server.add("/hop.xml", status=302, headers={"Location": f"http://127.0.0.1:{port}/secret.xml"})
    with Desk(db_path, stages=[], settings={**SETTINGS, "allow_private": False}) as desk:
        desk.add_feed(f"http://public.test:{port}/hop.xml")
        report = desk.poll()
    assert server.hits("/hop.xml"), "the public hop was fetched"
    assert not server.hits("/secret.xml"), "the private hop was not"
    assert report.feeds[0].outcome == "error" and "refused" in report.feeds[0].error


def test_snippets_fetched_in_full_when_asked(server, live):
    article = ("<!doctype html><html lang='en'><head><title>Ferry fees rise</title></head><body>"
               "<article><h1>Ferry fees rise</h1>" + "".join(
                   f"<p>{story_text('ferry fees', n)}</p>" for n in range(4)) + "</article></body></html>")
    page = server.add("/story/ferry.html", body=article.encode(), ctype="text/html; charset=utf-8")
    snippet = [{"title": "Ferry fees rise", "guid": "ferry", "text": "Fees go up.", "link": page}]
    auto = server.add("/auto.xml", body=rss("Auto", snippet))
    never = server.add("/never.xml", body=rss("Never", [{**snippet[0], "guid": "ferry-2",
                                                          "link": page + "?v=2"}]))
    live.add_feed(auto)
    live.add_feed(never, fulltext="never")
    report = live.poll()
    by = {f.url: f for f in report.feeds}
    assert by[auto].fulltext_fetched == 1 and by[never].fulltext_fetched == 0
    texts = {it.source: it.text for it in live.items()}
    assert "harbour council" in texts["Auto"] and len(texts["Auto"]) > 400
    assert texts["Never"] == "Fees go up."
    assert len(server.hits("/story/ferry.html")) == 1

    # The feed changes: only its new entry's page is fetched, not the stored one's again.
    other = server.add("/story/quay.html", body=article.replace("Ferry fees rise", "Quay reopens").encode(),
                       ctype="text/html")
    server.routes["/auto.xml"].body = rss("Auto", [*snippet, {"title": "Quay reopens", "guid": "quay",
                                                              "text": "Open again.", "link": other}])
    assert live.poll(feeds=[auto]).new == 1
    assert len(server.hits("/story/ferry.html")) == 1
    assert len(server.hits("/story/quay.html")) == 1


def test_per_host_limit_caps_concurrent_requests(server, db_path):
    active, peak, lock = [0], [0], threading.Lock()
    body = rss("Busy", entries("busy", 1))

    def slow(req):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.2)
        with lock:
            active[0] -= 1
        return 200, {"Content-Type": "application/rss+xml"}, body.replace(b"busy-0", req.path.encode())

    settings = {**SETTINGS, "poll_workers": 6, "poll_per_host": 2}
    with Desk(db_path, stages=[], settings=settings) as desk:
        for n in range(6):
            desk.add_feed(server.add(f"/busy{n}.xml", handler=slow))
        report = desk.poll()
    assert report.count("new") == 6
    assert peak[0] == 2


def test_poll_every_runs_rounds_until_stopped(server, live):
    url = server.add("/r.xml", body=rss("R", entries("r", 1)), etag='"x"')
    live.add_feed(url)
    seen = []
    live.poll_every(0.05, rounds=3, on_round=seen.append)
    assert [r.feeds[0].outcome for r in seen] == ["new", "unchanged", "unchanged"]


def test_cli_feeds_opml_poll_and_list(server, cli, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDESK_POLL_HOST_DELAY", "0")
    a = server.add("/one.xml", body=rss("One", entries("one", 2)))
    b = server.add("/two.xml", status=500, body=b"broken", ctype="text/plain")
    opml = tmp_path / "list.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        f'<outline text="One" xmlUrl="{a}"/><outline text="Two" xmlUrl="{b}"/></body></opml>',
        encoding="utf-8",
    )
    added = cli("feeds", "add", str(opml))
    assert added.exit_code == 0 and added.output.count("added") == 2
    assert "already there" in cli("feeds", "add", a).output
    polled = cli("poll", "--allow-private")
    assert polled.exit_code == 9  # one feed failed
    assert "2 new item(s)" in polled.output and "1 failed" in polled.output
    listing = cli("feeds", "list", "--json")
    import json

    rows = {r["url"]: r for r in json.loads(listing.output)}
    assert rows[a]["error"] is None and rows[a]["items_seen"] == 2
    assert "500" in rows[b]["error"]
    assert cli("feeds", "remove", b).exit_code == 0
    assert len(json.loads(cli("feeds", "list", "--json").output)) == 1
    bad = cli("feeds", "add", "not-a-url-or-file")
    assert bad.exit_code == 2


def test_feed_urls_checked(live):
    from newsdesk.errors import InputError

    with pytest.raises(InputError):
        live.add_feed("ftp://example.org/feed")
    with pytest.raises(InputError):
        live.add_feed("https://example.org/feed", fulltext="sometimes")


def test_entity_expansion_bomb_is_not_expanded(server, live):
    levels = b"".join(
        b'<!ENTITY l%d "%s">' % (i, (b"&l%d;" % (i - 1)) * 10) for i in range(1, 10))
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY l0 "lollollollol">' + levels + b"]>\n"
            b'<rss version="2.0"><channel><title>Bomb</title><item><title>&l9;</title>'
            b"<description>Nothing to see.</description><guid>b1</guid></item></channel></rss>")
    live.add_feed(server.add("/bomb.xml", body=bomb))
    report = live.poll()
    assert report.feeds[0].outcome in ("new", "error")
    assert all(len(it.title or "") < 1000 for it in live.items())
