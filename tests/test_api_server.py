"""The real server: `newsdesk serve` in a subprocess on a free 127.0.0.1 port, driven by httpx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_api import PAGE_DUMP, TOKEN, hostile_items
from test_search import corpus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running `newsdesk serve` process."""

    def __init__(self, db: Path, token: str | None = TOKEN, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "NEWSDESK_TOKEN"}
        if token:
            env["NEWSDESK_TOKEN"] = token
        exe = Path(sys.executable).with_name("newsdesk")
        self.proc = subprocess.Popen(
            [str(exe), "--db", str(db), "serve", "--port", str(self.port), "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.proc.stderr.read()}")
            try:
                if httpx.get(self.url + "/api/stats", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start within 30 s")

    def stop(self) -> str:
        self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out


def build_store(db: Path) -> None:
    from newsdesk import Desk

    with Desk(db) as desk:
        desk.ingest(corpus())
        desk.ingest(hostile_items())


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("served") / "newsdesk.db"
    build_store(db)
    srv = Server(db)
    yield srv
    srv.stop()


def test_serve_prints_address_and_answers(server):
    resp = httpx.get(server.url + "/api/items", params={"limit": 2})
    assert resp.status_code == 200 and len(resp.json()["items"]) == 2
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_real_server_search_and_errors(server):
    data = httpx.get(server.url + "/api/search", params={"q": "ferr*"}).json()
    assert data["hits"] and all(h["source"] == "Coastal Wire" for h in data["hits"])
    resp = httpx.get(server.url + "/api/items/nope-nope")
    assert resp.status_code == 404 and resp.json() == {"ok": False, "error": resp.json()["error"], "status": 404}


def test_real_server_writes(server):
    resp = httpx.post(server.url + "/api/ingest", content=PAGE_DUMP)
    assert resp.status_code == 401
    resp = httpx.post(server.url + "/api/ingest", content=PAGE_DUMP, params={"fmt": "pagedump"},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    assert resp.status_code == 200 and resp.json()["new"] == 5
    resp = httpx.post(server.url + "/api/ingest", content=b"x" * 6_000_000,
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
    assert resp.status_code == 413 and resp.json()["status"] == 413


def test_real_server_pages(server):
    river = httpx.get(server.url + "/")
    assert river.status_code == 200 and "Port Avalon" in river.text
    css = httpx.get(server.url + "/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert httpx.get(server.url + "/openapi.json").json()["info"]["title"] == "newsdesk"


def test_serve_without_token_refuses_writes(tmp_path):
    db = tmp_path / "n.db"
    build_store(db)
    srv = Server(db, token=None)
    try:
        resp = httpx.post(srv.url + "/api/ingest", content=PAGE_DUMP, headers={"Authorization": "Bearer x"})
        assert resp.status_code == 401 and "no token" in resp.json()["error"]
    finally:
        printed = srv.stop()
    assert f"at http://127.0.0.1:{srv.port}/" in printed


def test_serve_with_two_workers(tmp_path):
    db = tmp_path / "w.db"
    build_store(db)
    srv = Server(db, workers=2)
    try:
        hits = [httpx.get(srv.url + "/api/search", params={"q": "bridge"}).json()["hits"] for _ in range(6)]
        assert all(h == hits[0] and h for h in hits)
        resp = httpx.post(srv.url + "/api/ingest", content=PAGE_DUMP, params={"fmt": "pagedump"},
                          headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
        assert resp.status_code == 200 and resp.json()["new"] == 5
        assert httpx.post(srv.url + "/api/ingest", content=PAGE_DUMP).status_code == 401
    finally:
        srv.stop()
