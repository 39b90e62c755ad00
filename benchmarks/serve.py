"""Prints latency (p50/p95/p99) and requests/s of the reader and search on a 100,000-item store.

    python benchmarks/serve.py [--items 100000] [--story-items 20000] [--requests 200] [--db PATH]

1. Builds a store: the shared evaluation sets, repeated with new ids (a new URL per repeat)
   and dates shifted by 400 days per repeat (undated sets get dates spread over a year),
   through Desk.ingest in batches of 1,000. The first --story-items go through the copy
   and story stages; the rest are stored and indexed only. The full pipeline is too slow
   for 100k items in a few minutes on 2 shared cores (copies+stories ran at ~140 items/s,
   the entity stage is slower still), so the river and story pages show the stories of
   the first part while search runs over all 100k. --db reuses a store built before.
2. Starts the real server (`newsdesk serve`, uvicorn, one process) on 127.0.0.1.
3. Drives it from this process with httpx: a bounded sequential loop per page (latency),
   then the same mix from 4 threads (throughput).

Coverage and blindspots: before serving, every outlet gets invented attributes (`group`
g0/g1/g2 and an `owner` shared by some, from a hash of its name: no real ratings) through
`outlets import` (which also resolves the outlets of items stored without stages). Their
in-process p95 (Desk.coverage, Desk.blindspots) is printed, and the API routes join the pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SETS = ["allsides-stream.jsonl", "giveme5w1h.jsonl", "ecbplus.jsonl", "allsides-probe-train.jsonl",
        "allsides-probe-val.jsonl", "googlenews-headlines.jsonl"]
QUERIES = ["election", "climate change", "police shooting", "vaccine", "supreme court", "border",
           "earthquake", "trump", "biden", "china trade", '"white house"', "econom*", "fire OR flood",
           "covid -vaccine", "minister resigns", "stock market"]


def records() -> list[dict]:
    """Returns every record of the shared sets, dated (undated ones spread over a year)."""
    out = []
    base = datetime(2021, 1, 1, tzinfo=UTC)
    for name in SETS:
        path = DATA / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                rec = json.loads(line)
                when = rec.get("published")
                rec["_t"] = (datetime.fromisoformat(when) if when
                             else base + timedelta(minutes=47 * n))
                if rec["_t"].tzinfo is None:
                    rec["_t"] = rec["_t"].replace(tzinfo=UTC)
                rec["_set"] = name
                out.append(rec)
    return out


def generate(total: int):
    """Yields `total` Items: the records repeated with new URLs and shifted dates, in time order per repeat."""
    from newsdesk.model import Item

    recs = sorted(records(), key=lambda r: r["_t"])
    if not recs:
        sys.exit(f"no shared data found in {DATA}")
    made = 0
    repeat = 0
    while made < total:
        shift = timedelta(days=400 * repeat)
        for rec in recs:
            if made >= total:
                return
            title, text = rec.get("title") or None, rec.get("text") or ""
            if not title:  # a bare headline set: the text is the headline
                title, text = text[:200], ""
            yield Item(
                title=title, text=text, url=f"https://bench.example/{repeat}/{rec['_set']}/{rec['id']}",
                source=rec.get("source") or rec["_set"].split(".")[0], published=rec["_t"] + shift,
                kind="article" if text else "headline",
            )
            made += 1
        repeat += 1


def build(db: str, total: int, stages: list[str], story_items: int) -> None:
    from itertools import islice

    from newsdesk import Desk

    started = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 10000 < n:
            rate = done[0] / (time.perf_counter() - started)
            print(f"  {done[0]:>7} items  {rate:7.0f} items/s", flush=True)

    items = generate(total)
    new = 0
    for names, count in ((stages, story_items), ([], total - story_items)):
        t0 = time.perf_counter()
        with Desk(db, stages=names) as desk:
            report = desk.ingest(islice(items, max(0, count)), progress=progress, batch_size=1000)
            stats = desk.stats()
        took = time.perf_counter() - t0
        new += report.new
        print(f"  {report.new} items with stages {','.join(names) or 'none'} in {took:.0f} s "
              f"({report.new / max(took, 1e-9):.0f} items/s)")
    print(f"built {db}: {new} items in {time.perf_counter() - started:.0f} s, "
          f"{stats.get('stories', '?')} stories, {stats.get('copies', '?')} copies")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).with_name("newsdesk")
    env = {**os.environ, "NEWSDESK_TOKEN": "bench"}
    proc = subprocess.Popen([str(exe), "--db", db, "serve", "--port", str(port), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/stats", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("server did not start")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def cpu_seconds(pid: int) -> float:
    """Returns CPU seconds used by the server process and its workers."""
    import psutil

    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def drive(url: str, paths: list[str], n: int, threads: int = 1, pid: int | None = None) -> dict:
    """Returns latency percentiles (ms), requests/s and server CPU ms per request."""
    cpu0 = cpu_seconds(pid) if pid else 0.0
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                resp = client.get(paths[i % len(paths)])
                dt = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies.append(dt)
                    if resp.status_code != 200:
                        errors[0] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    took = time.perf_counter() - started
    cpu_ms = (cpu_seconds(pid) - cpu0) * 1000 / n if pid else float("nan")
    return {"n": n, "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "mean": statistics.fmean(latencies),
            "rps": n / took, "errors": errors[0], "cpu_ms": cpu_ms}


def outlets_bench(db: str, n: int) -> None:
    """Gives outlets invented attributes, then prints coverage and blindspots p95 in-process."""
    import csv
    import hashlib

    from newsdesk import Desk

    with Desk(db, stages=[]) as desk:
        t0 = time.perf_counter()
        resolved = desk.resolve_outlets()
        took_resolve = time.perf_counter() - t0
        outlets = desk.outlets()
        path = Path(db).with_suffix(".outlets.csv")
        with path.open("w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["name", "group", "owner"])
            for o in outlets:
                h = int(hashlib.blake2b(o["name"].encode(), digest_size=4).hexdigest(), 16)
                out.writerow([o["name"], f"g{h % 3}", f"owner {h % 7}" if h % 5 == 0 else ""])
        t0 = time.perf_counter()
        report = desk.import_outlets(path)
        took_import = time.perf_counter() - t0
        print(f"\noutlets: {resolved} stored items resolved in {took_resolve:.1f} s; {len(outlets)} outlets "
              f"imported in {took_import:.1f} s ({report.get('stories_recounted', 0)} stories recounted)")
        stories = desk.stories(limit=2000, order="rank")
        rng = random.Random(11)
        picked = [rng.choice(stories).id for _ in range(n)]
        latest = max((s.last_time for s in stories if s.last_time), default=None)

        def p95(fn) -> tuple[float, float, int]:
            times, size = [], 0
            for i in range(n):
                t = time.perf_counter()
                size = len(fn(i))
                times.append((time.perf_counter() - t) * 1000)
            return percentile(times, 50), percentile(times, 95), size

        cases = {
            "coverage ?by=group": lambda i: desk.coverage(picked[i], by="group")["groups"],
            "coverage (by outlet)": lambda i: desk.coverage(picked[i])["by_outlet"],
            "blindspots all time": lambda i: desk.blindspots("group"),
            "blindspots --min-sources 5": lambda i: desk.blindspots("group", min_sources=5),
        }
        if latest is not None:
            since = latest - timedelta(days=7)
            cases["blindspots --since 7d"] = lambda i: desk.blindspots("group", since=since)
        print(f"in-process, {n} calls each (machine shared with other jobs: figures are depressed)")
        print(f"{'call':<28} {'p50 ms':>8} {'p95 ms':>8} {'results':>8}")
        for name, fn in cases.items():
            a, b, size = p95(fn)
            print(f"{name:<28} {a:8.1f} {b:8.1f} {size:8d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="items to load")
    parser.add_argument("--requests", type=int, default=200, help="requests per page in each loop")
    parser.add_argument("--story-items", type=int, default=20_000, help="items that go through the stages")
    parser.add_argument("--stages", default="outlets,copies,stories", help="stages for those items (comma list)")
    parser.add_argument("--db", help="reuse (or keep) the store at this path")
    parser.add_argument("--workers", type=int, default=1, help="server processes (serve --workers)")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    db = args.db or str(Path(tmp.name) / "bench.db")
    if not Path(db).exists():
        build(db, args.items, [s for s in args.stages.split(",") if s], min(args.story_items, args.items))
    outlets_bench(db, args.requests)
    proc, url = start_server(db, args.workers)
    try:
        stories = httpx.get(url + "/api/stories", params={"limit": 200}, timeout=60).json()["stories"]
        rng = random.Random(7)
        picked = rng.sample(stories, min(80, len(stories)))
        cold = [f"/story/{s['id']}" for s in picked[:30]]
        warm = [f"/story/{s['id']}" for s in picked[30:]]
        pages = {
            "river /": ["/"],
            "story (seen before)": warm,
            "search /search?q=": [f"/search?q={httpx.QueryParams({'q': q})['q']}" for q in QUERIES],
            "api /api/search": [f"/api/search?q={httpx.QueryParams({'q': q})['q']}" for q in QUERIES],
            "api coverage ?by=": [f"/api/stories/{s['id']}/coverage?by=group" for s in picked],
            "api /api/blindspots": ["/api/blindspots?by=group", "/api/blindspots?by=group&min_sources=5"],
        }
        for paths in pages.values():  # warm up: every path once
            for p in paths:
                httpx.get(url + p, timeout=120)
        print(f"\nserver {url} ({args.workers} worker(s)), {httpx.get(url + '/api/stats').json().get('items')} items, "
              f"{os.cpu_count()} CPUs visible, load average {os.getloadavg()[0]:.1f}")
        header = f"{'page':<22} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'cpu ms/req':>10} {'errors':>7}"

        def line(name: str, r: dict) -> str:
            return (f"{name:<22} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {r['rps']:8.1f} "
                    f"{r['cpu_ms']:10.1f} {r['errors']:7d}")

        print(f"\nfirst view of {len(cold)} stories (summary, timeline, entities computed), 1 client")
        print(header)
        print(line("story (first view)", drive(url, cold, len(cold), 1, proc.pid)))
        for threads in (1, 4):
            print(f"\n{threads} client thread(s), {args.requests} requests per page")
            print(header)
            for name, paths in pages.items():
                print(line(name, drive(url, paths, args.requests, threads, proc.pid)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        tmp.cleanup()


if __name__ == "__main__":
    main()
