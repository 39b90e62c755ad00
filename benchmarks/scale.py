"""Scale-out figures: the same answers on every backend, Dask workers, the story stage's ceiling,
concurrent writers on PostgreSQL.

    python benchmarks/scale.py equal --pg postgresql://... [--workers 2] [FILE.jsonl ...]
    python benchmarks/scale.py workers [--workers 1 2] [--embed] [FILE.jsonl]
    python benchmarks/scale.py ceiling [FILE.jsonl]
    python benchmarks/scale.py writers --pg postgresql://... [--writers 3] [FILE.jsonl]

`--pg` names a PostgreSQL server's admin database (e.g. the test cluster's NEWSDESK_TEST_PG);
each run creates and drops its own database there. Every run is a fresh process, so peak memory
(max RSS of the client) is its own. Speeds depend on the machine and what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path(os.environ.get("NEWSDESK_BENCH_CACHE", "/work/cache"))
PART = 5000  # items per file of a generated archive (under the 20 MB input limit)
BUILD_STAGES = ["outlets", "copies", "stories"]  # entities off: the model is too slow for 100k here
EQUAL_SETS = [DATA / "ecbplus.jsonl", DATA / "googlenews-headlines.jsonl"]


def _child(args: argparse.Namespace) -> None:
    from newsdesk import Desk
    from newsdesk import ingest as sources
    from newsdesk.model import Item

    settings: dict = {"embed_backend": "minilm" if args.embed else "static"}
    if args.cluster:
        settings["cluster"] = args.cluster
    items = [r for r in sources.read(args.path) if isinstance(r, Item)]
    if args.slice:
        k, n = (int(x) for x in args.slice.split("/"))
        items = items[k::n]
    if args.limit:
        items = items[:args.limit]
    with Desk(args.db, settings=settings) as desk:
        started = time.perf_counter()
        report = desk.ingest(items, batch_size=args.batch)
        elapsed = time.perf_counter() - started
        memberships = desk.store.all_memberships() if args.labels else {}
        timings = dict(desk.timings)
    print(json.dumps({"seconds": elapsed, "new": report.new, "timings": timings,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "labels": memberships}))


def run(path: Path, db: str, *, cluster: str = "", embed: bool = False, batch: int = 500,
        labels: bool = False, slice_: str = "", limit: int = 0) -> dict:
    cmd = [sys.executable, __file__, "child", str(path), "--db", db, "--batch", str(batch)]
    if cluster:
        cmd += ["--cluster", cluster]
    if embed:
        cmd.append("--embed")
    if labels:
        cmd.append("--labels")
    if slice_:
        cmd += ["--slice", slice_]
    if limit:
        cmd += ["--limit", str(limit)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


class PgDatabase:
    """A fresh database on a PostgreSQL server, dropped afterwards."""

    def __init__(self, admin: str):
        self.admin = admin
        self.name = "newsdesk_bench_" + uuid.uuid4().hex[:8]

    def __enter__(self) -> str:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {self.name}")
        return urlsplit(self.admin)._replace(path="/" + self.name).geturl()

    def __exit__(self, *exc: object) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


# -- a store of N items, built once ---------------------------------------------------------
def _records(start: int, count: int):
    """Yields JSONL records start..start+count of the shared sets repeated (benchmarks/serve.py's
    generator: new URLs and dates shifted by 400 days per repeat)."""
    from itertools import islice

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from serve import generate

    for it in islice(generate(start + count), start, None):
        yield {"id": it.url, "title": it.title, "text": it.text, "published": it.published.isoformat(),
               "source": it.source, "url": it.url}


def write_archive(folder: Path, start: int, count: int) -> Path:
    """Writes `count` generated records as a folder of JSONL files of PART lines (kept if there)."""
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    fh = None
    for n, rec in enumerate(_records(start, count)):
        if n % PART == 0:
            if fh:
                fh.close()
            fh = (folder / f"part-{n // PART:04d}.jsonl").open("w", encoding="utf-8")
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    if fh:
        fh.close()
    done.write_text(str(count))
    return folder


def pg_named(admin: str, name: str) -> str:
    return urlsplit(admin)._replace(path="/" + name).geturl()


def _child_build(db: str, folder: str) -> None:
    from newsdesk import Desk
    from newsdesk import ingest as sources

    started = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 10000 < n:
            print(f"  {done[0]:>7} items  {done[0] / (time.perf_counter() - started):6.0f} items/s", flush=True)

    with Desk(db, stages=BUILD_STAGES, settings={"enrich": False}) as desk:
        report = desk.ingest(sources.read(folder), batch_size=1000, progress=progress)
        stats = desk.stats()
    took = time.perf_counter() - started
    print(f"built {db}: {report.new} items in {took:.0f} s ({report.new / took:.0f} items/s), "
          f"{stats.get('stories', '?')} stories", flush=True)


def cmd_build(args: argparse.Namespace) -> None:
    """Builds the N-item archive, SQLite store and PostgreSQL database once (kept in CACHE)."""
    n = args.items
    folder = write_archive(CACHE / f"scale-archive-{n}", 0, n)
    print(f"archive {folder}: {n} items")
    todo = []
    if not (CACHE / f"scale-{n}.db.complete").exists():
        todo.append(("sqlite", str(CACHE / f"scale-{n}.db")))
    if args.pg:
        import psycopg

        name = f"newsdesk_scale_{n}"
        with psycopg.connect(args.pg, autocommit=True) as c:
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            ready = exists and c.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                         "WHERE datname = %s", (name,)).fetchone()[0] == "complete"
            if not ready:
                c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                c.execute(f"CREATE DATABASE {name}")
                todo.append(("postgres", pg_named(args.pg, name)))
    for backend, db in todo:
        if backend == "sqlite":
            Path(db).unlink(missing_ok=True)
        subprocess.run(["nice", sys.executable, __file__, "child-build", db, str(folder)], check=True)
        if backend == "sqlite":
            Path(db + ".complete").write_text("")
        else:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True) as c:
                c.execute(f"COMMENT ON DATABASE newsdesk_scale_{n} IS 'complete'")


# -- concurrent writers and API latency at N stored items ----------------------------------
QUERIES = ["election", "climate change", "vaccine", '"white house"', "econom*", "fire OR flood"]


class Reader:
    """A client thread sending list/story/search requests in turn until stopped; keeps latencies."""

    def __init__(self, url: str, story_ids: list[str]):
        self.url, self.story_ids = url, story_ids
        self.latencies: list[float] = []
        self.by_route: dict[str, list[float]] = {}
        self.errors = 0
        self._stop = False
        import threading

        self.thread = threading.Thread(target=self._loop, daemon=True)

    def paths(self):
        n = 0
        while True:
            yield ["/api/items?limit=20", "/api/stories?limit=20",
                   f"/api/stories/{self.story_ids[n % len(self.story_ids)]}",
                   f"/api/search?q={QUERIES[n % len(QUERIES)]}"][n % 4]
            n += 1

    def _note(self, path: str, ms: float) -> None:
        self.latencies.append(ms)
        route = "search" if "search" in path else "story" if path.count("/") > 2 else path.split("?")[0][5:]
        self.by_route.setdefault(route, []).append(ms)

    def _loop(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, timeout=120) as client:
            for path in self.paths():
                if self._stop:
                    return
                t0 = time.perf_counter()
                try:
                    ok = client.get(path).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self._note(path, (time.perf_counter() - t0) * 1000)
                self.errors += not ok

    def run_for(self, count: int) -> None:
        """Sends `count` requests (no writers: the idle baseline)."""
        paths = self.paths()
        import httpx

        with httpx.Client(base_url=self.url, timeout=120) as client:
            for _ in range(count):
                t0 = time.perf_counter()
                path = next(paths)
                self.errors += client.get(path).status_code != 200
                self._note(path, (time.perf_counter() - t0) * 1000)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop = True
        self.thread.join()


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


class StoreCopy:
    """A throw-away copy of the built N-item store: a SQLite file, or a PostgreSQL database made
    from the built one as its template."""

    def __init__(self, backend: str, n: int, admin: str, tmp: Path):
        self.backend, self.n, self.admin, self.tmp = backend, n, admin, tmp
        self.name = "newsdesk_bench_" + uuid.uuid4().hex[:8]

    def __enter__(self) -> str:
        if self.backend == "sqlite":
            import shutil

            src = CACHE / f"scale-{self.n}.db"
            if not Path(str(src) + ".complete").exists():
                sys.exit(f"no built store {src}: run `scale.py build --items {self.n}` first")
            dst = self.tmp / f"{self.name}.db"
            shutil.copyfile(src, dst)
            return str(dst)
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {self.name} TEMPLATE newsdesk_scale_{self.n}")
        return pg_named(self.admin, self.name)

    def __exit__(self, *exc: object) -> None:
        if self.backend == "sqlite":
            for f in self.tmp.glob(self.name + ".db*"):
                f.unlink()
            return
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def cmd_concurrent(args: argparse.Namespace) -> None:
    """N `newsdesk ingest` processes on disjoint new inputs into a store of N items while a client
    reads from a real `newsdesk serve`: items/s of all writers together, API latency."""
    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from serve import start_server

    n, per = args.items, args.per_writer
    exe = str(Path(sys.executable).with_name("newsdesk"))
    env = {**os.environ, "NEWSDESK_ENRICH": "0", "NEWSDESK_TOKEN": "bench"}
    backends = ["sqlite"] + (["postgres"] if args.pg else [])
    print(f"store of {n} items (stages {', '.join(BUILD_STAGES)}); each writer: `newsdesk ingest` of {per} new "
          f"items (entities off), a fresh process (its start and story-state load included); one client "
          f"thread reads from `newsdesk serve --workers {args.serve_workers}` (items, stories, one story, search "
          f"in turn) before and during the writes")
    print("| backend | writers | new items | wall s | items/s (all writers) | p50 idle ms | p95 idle ms | "
          "p50 during writes ms | p95 during writes ms | reads during writes | read errors | writers failed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    notes: list[str] = []
    routes: list[str] = []
    for backend in backends:
        for writers in args.writers_list:
            inputs = [write_archive(CACHE / f"scale-new-{n}-{per}-{k}", n + k * per, per) for k in range(writers)]
            with tempfile.TemporaryDirectory(dir=CACHE) as tmp, StoreCopy(backend, n, args.pg, Path(tmp)) as db:
                proc, url = start_server(db, workers=args.serve_workers)
                try:
                    before = httpx.get(url + "/api/stats", timeout=120).json()["items"]
                    ids = [s["id"] for s in httpx.get(url + "/api/stories?limit=50", timeout=120).json()["stories"]]
                    idle = Reader(url, ids)
                    idle.run_for(args.requests)
                    busy = Reader(url, ids)
                    busy.start()
                    started = time.perf_counter()
                    procs = [subprocess.Popen(["nice", exe, "--db", db, "ingest", "--no-progress", str(folder)],
                                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                             for folder in inputs]
                    fails = [p.communicate()[1] for p in procs if p.wait() not in (0, 9)]
                    wall = time.perf_counter() - started
                    busy.stop()
                    after = httpx.get(url + "/api/stats", timeout=120).json()["items"]
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
            routes.append(f"| {backend} | {writers} | " + " | ".join(
                f"{pct(idle.by_route.get(r, []), 95):.0f} / {pct(busy.by_route.get(r, []), 95):.0f}"
                for r in ("items", "stories", "story", "search")) + " |")
            for f in fails:
                notes.append(f"{backend}, {writers} writers: {(f.strip().splitlines() or ['?'])[-1]}")
            new = after - before
            print(f"| {backend} | {writers} | {new} | {wall:.1f} | {new / wall:.0f} | {pct(idle.latencies, 50):.0f} | "
                  f"{pct(idle.latencies, 95):.0f} | {pct(busy.latencies, 50):.0f} | {pct(busy.latencies, 95):.0f} | "
                  f"{len(busy.latencies)} | {busy.errors + idle.errors} | {len(fails)} |", flush=True)
    print("\np95 ms by route, idle / during writes")
    print("| backend | writers | items list | stories list | one story | search |")
    print("|---|---|---|---|---|---|")
    print("\n".join(routes))
    for line in notes:
        print("failed writer: " + line)


def cmd_memory(args: argparse.Namespace) -> None:
    """Peak RSS of the client (`newsdesk ingest --cluster local:W` of the built N-item archive into a
    fresh store), sampled every 0.2 s; the Dask workers are other processes, shown apart."""
    import psutil

    n = args.items
    folder = CACHE / f"scale-archive-{n}"
    if not (folder / ".complete").exists():
        sys.exit(f"no archive {folder}: run `scale.py build --items {n}` first")
    exe = str(Path(sys.executable).with_name("newsdesk"))
    env = {**os.environ, "NEWSDESK_ENRICH": "1" if args.entities else "0"}
    print(f"archive of {n} items ({folder}), entities {'on' if args.entities else 'off'}, vectors static, "
          "fresh SQLite store")
    print("| run | items stored | seconds | items/s | client peak RSS MB | client RSS at 25/50/75/100% of the time MB "
          "| workers peak RSS MB (sum) |")
    print("|---|---|---|---|---|---|---|")
    runs = [(f"Dask local:{w}", ["--cluster", f"local:{w}"]) for w in args.workers]
    if args.in_process:
        runs.insert(0, ("in-process", []))
    for label, extra in runs:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            db = str(Path(tmp) / "m.db")
            started = time.perf_counter()
            proc = subprocess.Popen(["nice", exe, "--db", db, "ingest", "--no-progress", *extra, str(folder)],
                                    env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            client = psutil.Process(proc.pid)
            samples: list[float] = []
            workers_peak = 0.0
            while proc.poll() is None:
                try:
                    kids = client.children(recursive=True)
                    me = [p for p in kids if p.name() != "nice"]
                    target = client if client.name() != "nice" else me[0] if me else None
                    if target is not None:
                        samples.append(target.memory_info().rss / 2**20)
                        others = [p for p in target.children(recursive=True)]
                        workers_peak = max(workers_peak, sum(p.memory_info().rss for p in others) / 2**20)
                except (psutil.NoSuchProcess, IndexError):
                    pass
                time.sleep(0.2)
            took = time.perf_counter() - started
            err = proc.stderr.read()
            if proc.returncode not in (0, 9):
                sys.exit(f"{label} failed: {err[-2000:]}")
            from newsdesk import Desk

            with Desk(db, stages=[]) as desk:
                stored = desk.stats()["items"]
        quart = "/".join(f"{samples[min(len(samples) - 1, int(q * len(samples)))]:.0f}" for q in (0.25, 0.5, 0.75, 0.999))
        print(f"| {label} | {stored} | {took:.0f} | {stored / took:.0f} | {max(samples):.0f} | {quart} | "
              f"{workers_peak:.0f} |", flush=True)


def b3(a: dict[str, str], b: dict[str, str]) -> float:
    from newsdesk.evaluate import bcubed

    ids = sorted(a)
    if sorted(b) != ids:
        return float("nan")
    return bcubed([a[i] for i in ids], [b[i] for i in ids])[2]


def cmd_equal(args: argparse.Namespace) -> None:
    print("| set | items | SQLite in-process | PostgreSQL in-process | PostgreSQL + Dask | B³ F1 PG vs SQLite | B³ F1 PG+Dask vs SQLite |")
    print("|---|---|---|---|---|---|---|")
    for path in args.files or EQUAL_SETS:
        with tempfile.TemporaryDirectory() as tmp:
            lite = run(path, str(Path(tmp) / "a.db"), embed=args.embed, labels=True)
        with PgDatabase(args.pg) as db:
            pg = run(path, db, embed=args.embed, labels=True)
        with PgDatabase(args.pg) as db:
            dask = run(path, db, embed=args.embed, labels=True, cluster=f"local:{args.workers[0]}")
        n = lite["new"]
        print(f"| {path.stem} | {n} | {n / lite['seconds']:.0f}/s | {n / pg['seconds']:.0f}/s | "
              f"{n / dask['seconds']:.0f}/s | {b3(pg['labels'], lite['labels']):.3f} | "
              f"{b3(dask['labels'], lite['labels']):.3f} |", flush=True)


def cmd_workers(args: argparse.Namespace) -> None:
    path = (args.files or [DATA / "allsides-probe-train.jsonl"])[0]
    vectors = "minilm" if args.embed else "static"
    print(f"article path ({path.stem}{f', first {args.limit}' if args.limit else ''}: entities and vectors "
          f"({vectors}), copies, stories), SQLite store")
    print("| run | items | seconds | items/s | client peak MB |")
    print("|---|---|---|---|---|")
    runs = [("in-process", "")] + [(f"Dask local:{w}", f"local:{w}") for w in args.workers]
    ceiling: list[dict] = []
    for label, cluster in runs:
        print(f"({label}: ingesting {path.name}{f', first {args.limit}' if args.limit else ''}; the article path "
              "with entities runs at about 20 items/s per core, so the whole file takes minutes per run)",
              file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            r = run(path, str(Path(tmp) / "a.db"), cluster=cluster, embed=args.embed, limit=args.limit)
        print(f"| {label} | {r['new']} | {r['seconds']:.1f} | {r['new'] / r['seconds']:.1f} | {r['peak_mb']:.0f} |",
              flush=True)
        if not cluster:
            ceiling.append(r)
    for r in ceiling:
        print_ceiling(r, "in-process run above")


def print_ceiling(r: dict, what: str) -> None:
    t = r["timings"]
    serial = t.get("stories", 0.0) - t.get("vectors", 0.0) + t.get("copies", 0.0) + t.get("store", 0.0)
    print(f"{what}: seconds by part: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(t.items())))
    print(f"serial part (store + copies + story decisions, without vectors): {serial:.1f} s "
          f"-> ceiling {r['new'] / serial:.0f} items/s whatever the number of workers")


def cmd_ceiling(args: argparse.Namespace) -> None:
    path = (args.files or [DATA / "allsides-probe-train.jsonl"])[0]
    with tempfile.TemporaryDirectory() as tmp:
        r = run(path, str(Path(tmp) / "a.db"), embed=args.embed, limit=args.limit)
    print(f"{path.stem}: {r['new']} items in {r['seconds']:.1f} s in-process ({r['new'] / r['seconds']:.1f}/s)")
    print_ceiling(r, "in-process")


def cmd_writers(args: argparse.Namespace) -> None:
    path = (args.files or [DATA / "allsides-probe-train.jsonl"])[0]
    with tempfile.TemporaryDirectory() as tmp:
        one = run(path, str(Path(tmp) / "a.db"))
    print(f"{path.stem}: one process on SQLite {one['new'] / one['seconds']:.1f} items/s")
    with PgDatabase(args.pg) as db:
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, __file__, "child", str(path), "--db", db, "--batch", "100",
                                   "--slice", f"{k}/{args.writers}"], stdout=subprocess.PIPE, text=True)
                 for k in range(args.writers)]
        outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        elapsed = time.perf_counter() - started
        total = sum(o["new"] for o in outs)
    print(f"{args.writers} processes on one PostgreSQL: {total} items in {elapsed:.1f} s wall "
          f"({total / elapsed:.1f} items/s, model loading included)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child-build":
        _child_build(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        p = argparse.ArgumentParser()
        p.add_argument("child")
        p.add_argument("path")
        p.add_argument("--db", required=True)
        p.add_argument("--cluster", default="")
        p.add_argument("--embed", action="store_true")
        p.add_argument("--labels", action="store_true")
        p.add_argument("--batch", type=int, default=500)
        p.add_argument("--slice", default="")
        p.add_argument("--limit", type=int, default=0)
        _child(p.parse_args())
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["equal", "workers", "ceiling", "writers", "build", "concurrent", "memory"])
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--pg", default="", help="address of a PostgreSQL admin database")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--writers", type=int, default=3)
    p.add_argument("--limit", type=int, default=0, help="first N items of the file (workers, ceiling)")
    p.add_argument("--items", type=int, default=100_000, help="store size (build, concurrent, memory)")
    p.add_argument("--writers-list", type=int, nargs="+", default=[1, 3], help="writer counts (concurrent)")
    p.add_argument("--per-writer", type=int, default=1000, help="new items per writer (concurrent)")
    p.add_argument("--serve-workers", type=int, default=1, help="`serve --workers` (concurrent)")
    p.add_argument("--requests", type=int, default=80, help="idle-baseline requests (concurrent)")
    p.add_argument("--entities", action="store_true", help="entity stage on (memory)")
    p.add_argument("--in-process", action="store_true", help="also the in-process run (memory)")
    p.add_argument("--embed", action="store_true", help="dense vectors on (the [embed] extra)")
    args = p.parse_intermixed_args()
    if args.what in ("equal", "writers") and not args.pg:
        p.error(f"{args.what} needs --pg ADDRESS")
    {"equal": cmd_equal, "workers": cmd_workers, "ceiling": cmd_ceiling, "writers": cmd_writers,
     "build": cmd_build, "concurrent": cmd_concurrent, "memory": cmd_memory}[args.what](args)


if __name__ == "__main__":
    main()
