"""Feed polling speed and alert latency against a local HTTP server (127.0.0.1).

    python benchmarks/poll.py [--feeds 200] [--items 50] [--stages none|all] [--every 2]

Serves N generated feeds of M items each: some slow, some broken (HTTP 500, malformed,
wrong content type), the rest with ETag / Last-Modified so unchanged ones answer 304.
Prints feeds/s and items/s for a cold poll and a warm (mostly 304) poll, then runs
`poll --every` in the background, publishes new items on some feeds while it runs, and
prints the time from each item's appearance on the server to its alert.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from newsdesk import Desk

logging.disable(logging.WARNING)  # failing feeds are expected here; the figures are the output

EVENT_WORDS = ["amber", "basalt", "cobalt", "dune", "ember", "fjord", "glacier", "harrow", "indigo", "juniper", "kestrel", "lagoon", "marram", "nimbus", "osprey", "quarry", "rowan", "saffron", "tundra", "umber", "vesper", "willow", "yarrow", "zinnia", "alder", "bramble", "cinder", "dapple", "egret", "fennel", "gorse", "heron", "iris", "jasper", "kelp", "linden"]
WORDS = ["harbour", "council", "ferry", "budget", "school", "river", "festival", "bridge", "museum", "election", "strike", "market", "railway", "clinic", "stadium", "library", "orchard", "tunnel", "lighthouse", "vineyard"]


def feed_xml(n: int, items: list[tuple[str, str, str]]) -> bytes:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    parts = [(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
             f"<title>Bench Outlet {n}</title><link>https://outlet{n}.example/</link>"
             "<description>generated</description>")]
    for k, (guid, title, text) in enumerate(items):
        when = format_datetime(start + timedelta(minutes=k + n), usegmt=True)
        parts.append(f"<item><title>{escape(title)}</title><link>https://outlet{n}.example/{guid}</link>"
                     f"<guid>{guid}</guid><pubDate>{when}</pubDate>"
                     f"<description>{escape(text)}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def article(n: int, k: int, extra: str = "") -> tuple[str, str, str]:
    a, b, c = WORDS[(n + k) % len(WORDS)], WORDS[(n * 7 + k) % len(WORDS)], WORDS[(k * 3) % len(WORDS)]
    title = f"{a.title()} plan {n}-{k} divides {b} committee {extra}".strip()
    text = " ".join(
        f"Officials in district {n} said the {a} and {b} proposal number {k} would go to a vote. "
        f"Residents near the {c} asked for a hearing before sentence {s} of the plan is settled."
        for s in range(4)
    )
    return f"f{n}-i{k}{'-' + extra if extra else ''}", title, text + (f" {extra}" if extra else "")


class Feeds:
    """The generated feeds and how each one behaves."""

    def __init__(self, count: int, per_feed: int):
        self.lock = threading.Lock()
        self.items = {n: [article(n, k) for k in range(per_feed)] for n in range(count)}
        self.version = dict.fromkeys(self.items, 1)
        self.kind: dict[int, str] = {}
        for n in range(count):
            self.kind[n] = ("slow" if n % 20 == 1 else "error500" if n % 40 == 2 else
                            "malformed" if n % 40 == 3 else "html" if n % 40 == 4 else "ok")
        self.appeared: dict[str, float] = {}  # guid -> wall time it was first served
        self.requests = 0

    def publish(self, n: int, word: str) -> str:
        """Puts a new item at the top of feed n, about an event of its own; returns its guid."""
        with self.lock:
            k = len(self.items[n])
            rng = random.Random(n * 1000 + k)
            event = rng.sample(EVENT_WORDS, 6)
            guid = f"f{n}-i{k}-{word}"
            title = f"{event[0].title()} {event[1]} {word} halts {event[2]} in {event[3].title()}"
            text = " ".join(
                f"The {event[s % 6]} {word} near {event[(s + 1) % 6].title()} closed the "
                f"{event[(s + 2) % 6]} and the {event[(s + 3) % 6]} for {s + 2} hours."
                for s in range(5)
            )
            self.items[n].insert(0, (guid, title, text))
            self.version[n] += 1
            self.appeared[guid] = time.time()
        return guid

    def answer(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.requests += 1
            n = int(path.strip("/").split(".")[0].removeprefix("feed"))
            kind, version = self.kind[n], self.version[n]
            items = list(self.items[n])
        if kind == "slow":
            time.sleep(1.0)
        if kind == "error500":
            return 500, {"Content-Type": "text/plain"}, b"down"
        if kind == "malformed":
            return 200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><item>&&&<<"
        if kind == "html":
            return 200, {"Content-Type": "text/html"}, b"<!doctype html><html><body>moved</body></html>"
        etag = f'"{n}-{version}"'
        if headers.get("If-None-Match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, feed_xml(n, items)


def serve(feeds: Feeds) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, head, body = feeds.answer(self.path, self.headers)
            self.send_response(status)
            for k, v in head.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up on a slow feed

    httpd = Quiet(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--stages", choices=["none", "all"], default="none",
                        help="pipeline stages run on new items (none: polling and storing only)")
    parser.add_argument("--every", type=float, default=2.0, help="poll interval for the latency run")
    parser.add_argument("--publish", type=int, default=10, help="new items published during the latency run")
    args = parser.parse_args()

    feeds = Feeds(args.feeds, args.items)
    httpd = serve(feeds)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    db = Path(tempfile.mkdtemp()) / "bench.db"
    settings = {"allow_private": True, "poll_workers": args.workers, "poll_per_host": args.workers,
                "poll_host_delay": 0.0, "fetch_timeout": 5.0}
    stages = [] if args.stages == "none" else None
    print(f"{args.feeds} feeds x {args.items} items on {base}; {sum(k != 'ok' for k in feeds.kind.values())} "
          f"slow or broken ({', '.join(f'{k}={list(feeds.kind.values()).count(k)}' for k in sorted(set(feeds.kind.values())))}); "
          f"workers={args.workers}, per-host limit={args.workers} (all feeds share one host), stages={args.stages}")
    with Desk(db, stages=stages, settings=settings) as desk:
        for n in range(args.feeds):
            desk.add_feed(f"{base}/feed{n}.xml", fulltext="never")
        desk.add_watch("query", "zephyrquake", name="bench", min_new_sources=1)
        for label in ("cold", "warm"):
            t = time.perf_counter()
            report = desk.poll()
            dt = time.perf_counter() - t
            print(f"{label} poll: {len(report.feeds)} feeds in {dt:.2f}s = {len(report.feeds) / dt:.1f} feeds/s; "
                  f"{report.seen} items read, {report.new} new = {report.seen / dt:.0f} items/s; "
                  f"{report.count('unchanged')} unchanged (304 on warm), {report.count('error')} failed")

        stop = threading.Event()
        rounds: list[Any] = []
        poller = threading.Thread(target=lambda: desk.poll_every(args.every, stop=stop, on_round=rounds.append),
                                  daemon=True)
        # The background thread polls feeds due now; failing feeds back off, as in real use.
        poller.start()
        time.sleep(args.every / 2)
        ok_feeds = [n for n, k in feeds.kind.items() if k == "ok"]
        published = []
        for i in range(args.publish):
            published.append(feeds.publish(ok_feeds[(i * 7) % len(ok_feeds)], "zephyrquake"))
            time.sleep(args.every * 0.37)
        time.sleep(args.every * 2 + 2)
        stop.set()
        poller.join(timeout=60)

    # An alert covers every matching item of its story that arrived before it (once per story).
    lat = []
    with Desk(db, stages=[]) as reader:
        alerts = sorted(reader.alerts(limit=10_000), key=lambda a: a["created"])
        by_url = {(it.url or "").rsplit("/", 1)[-1]: it for it in reader.items(limit=10**6)}
        for guid in published:
            item = by_url.get(guid)
            if item is None:
                continue
            story = reader.item_story(item.id) if hasattr(reader, "item_story") else None
            key = story.id if story is not None else f"item:{item.id}"
            seen = feeds.appeared[guid]
            when = next((datetime.fromisoformat(a["created"]).timestamp() for a in alerts
                         if a["story"] == key and datetime.fromisoformat(a["created"]).timestamp() >= seen),
                        None)
            if when is not None:
                lat.append(when - seen)
    missing = len(published) - len(lat)
    round_times = [r.seconds for r in rounds]
    print(f"latency run: poll --every {args.every:g}s, {len(rounds)} rounds "
          f"(median round {statistics.median(round_times):.2f}s); {len(published)} items published, "
          f"{len(lat)} alerted, {missing} missed")
    if lat:
        print(f"appearance -> alert: median {statistics.median(lat):.2f}s, max {max(lat):.2f}s, "
              f"min {min(lat):.2f}s (bounded by the interval plus one round)")
    print(f"server answered {feeds.requests} requests")
    httpd.shutdown()
    sys.exit(0 if not missing else 1)


if __name__ == "__main__":
    main()
