"""A real threaded HTTP server on 127.0.0.1 for the live tests: feeds, pages and webhooks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Route:
    """What one path answers; `fail` answers 500 that many times first."""

    body: bytes = b""
    status: int = 200
    ctype: str = "application/rss+xml"
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    fail: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[Any], tuple[int, dict[str, str], bytes]] | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LiveServer:
    """Serves registered routes; records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.requests.append(req)
                    route = server.routes.get(self.path)
                    failing = route is not None and route.fail > 0
                    if failing:
                        route.fail -= 1
                if route is None:
                    return self._send(404, {"Content-Type": "text/plain"}, b"not here")
                if route.delay:
                    time.sleep(route.delay)
                if failing:
                    return self._send(500, {"Content-Type": "text/plain"}, b"try later")
                if route.handler is not None:
                    return self._send(*route.handler(req))
                head = {"Content-Type": route.ctype, **route.headers}
                if route.etag:
                    head["ETag"] = route.etag
                if route.last_modified:
                    head["Last-Modified"] = route.last_modified
                fresh_etag = route.etag and req.headers.get("if-none-match") == route.etag
                fresh_date = route.last_modified and req.headers.get("if-modified-since") == route.last_modified
                if method == "GET" and (fresh_etag or fresh_date):
                    return self._send(304, head, b"")
                self._send(route.status, head, route.body)

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                self._answer("GET")

            def do_POST(self) -> None:
                self._answer("POST")

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that hang up early (timeouts, size limits) are expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, **kwargs: Any) -> str:
        self.routes[path] = Route(**kwargs)
        return self.url(path)

    def hits(self, path: str, method: str = "GET") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(title: str, entries: list[dict[str, str]], *, base: str = "https://news.example") -> bytes:
    """Returns an RSS 2.0 document with these entries (title, text, guid, link)."""
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    parts = [(f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             f"<title>{escape(title)}</title><link>{base}/</link><description>test</description>")]
    for n, e in enumerate(entries):
        link = e.get("link") or f"{base}/{e['guid']}"
        when = format_datetime(start + timedelta(minutes=n), usegmt=True)
        parts.append(
            f"<item><title>{escape(e['title'])}</title><link>{escape(link)}</link>"
            f"<guid>{escape(e['guid'])}</guid><pubDate>{when}</pubDate>"
            f"<description>{escape(e.get('text', ''))}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def story_text(topic: str, n: int) -> str:
    """Returns a fictional article body of a few sentences about a topic."""
    return (
        f"The harbour council of Lindqvist met on Tuesday to discuss {topic}. "
        f"Councillor Amara Okafor said the plan, the {n}th of its kind, would be reviewed by spring. "
        f"Residents of the eastern quay asked for more time to read the proposal about {topic}. "
        "A vote is expected next month after a public hearing at the old customs house. "
        "The council's budget office said the cost would be covered by ferry fees."
    )
