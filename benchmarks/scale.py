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
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EQUAL_SETS = [DATA / "ecbplus.jsonl", DATA / "googlenews-headlines.jsonl"]


def _child(args: argparse.Namespace) -> None:
    from newsdesk import Desk
    from newsdesk import ingest as sources
    from newsdesk.model import Item

    settings: dict = {"embed": args.embed}
    if args.cluster:
        settings["cluster"] = args.cluster
    items = [r for r in sources.read(args.path) if isinstance(r, Item)]
    if args.slice:
        k, n = (int(x) for x in args.slice.split("/"))
        items = items[k::n]
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
        labels: bool = False, slice_: str = "") -> dict:
    cmd = [sys.executable, __file__, "child", str(path), "--db", db, "--batch", str(batch)]
    if cluster:
        cmd += ["--cluster", cluster]
    if embed:
        cmd.append("--embed")
    if labels:
        cmd.append("--labels")
    if slice_:
        cmd += ["--slice", slice_]
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
    print(f"article path ({path.stem}, entities{' and vectors' if args.embed else ''}), SQLite store")
    print("| run | items | seconds | items/s | client peak MB |")
    print("|---|---|---|---|---|")
    runs = [("in-process", "")] + [(f"Dask local:{w}", f"local:{w}") for w in args.workers]
    for label, cluster in runs:
        with tempfile.TemporaryDirectory() as tmp:
            r = run(path, str(Path(tmp) / "a.db"), cluster=cluster, embed=args.embed)
        print(f"| {label} | {r['new']} | {r['seconds']:.1f} | {r['new'] / r['seconds']:.1f} | {r['peak_mb']:.0f} |",
              flush=True)


def cmd_ceiling(args: argparse.Namespace) -> None:
    path = (args.files or [DATA / "allsides-probe-train.jsonl"])[0]
    with tempfile.TemporaryDirectory() as tmp:
        r = run(path, str(Path(tmp) / "a.db"), embed=args.embed)
    t = r["timings"]
    serial = t.get("stories", 0.0) - t.get("vectors", 0.0) + t.get("copies", 0.0) + t.get("store", 0.0)
    print(f"{path.stem}: {r['new']} items in {r['seconds']:.1f} s in-process ({r['new'] / r['seconds']:.1f}/s)")
    print("seconds by part: " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(t.items())))
    print(f"serial part (store + copies + story decisions, without vectors): {serial:.1f} s "
          f"-> ceiling {r['new'] / serial:.0f} items/s whatever the number of workers")


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
        _child(p.parse_args())
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["equal", "workers", "ceiling", "writers"])
    p.add_argument("files", nargs="*", type=Path)
    p.add_argument("--pg", default="", help="address of a PostgreSQL admin database")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--writers", type=int, default=3)
    p.add_argument("--embed", action="store_true", help="dense vectors on (the [embed] extra)")
    args = p.parse_intermixed_args()
    if args.what in ("equal", "writers") and not args.pg:
        p.error(f"{args.what} needs --pg ADDRESS")
    {"equal": cmd_equal, "workers": cmd_workers, "ceiling": cmd_ceiling, "writers": cmd_writers}[args.what](args)


if __name__ == "__main__":
    main()
