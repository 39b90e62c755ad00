"""Crash test: kill -9 an ingest at random points, resume it, and compare with a clean run.

    python benchmarks/crash.py --items 20000 --kills 10     # the full size (make crash)
    python benchmarks/crash.py --items 300 --kills 2 --batch 25

The input is the first N records of the shared sets (../shared/data, held-out set left out),
written to a temporary JSONL file. A clean run ingests it once. The crashed run starts the
same `newsdesk ingest` in a subprocess, kills it (SIGKILL) after a random time, and starts it
again, until it finishes; then the two stores are compared in items, copies, stories (as sets
of members), entities (key, type, mentions, items) and mention counts per item. Prints one
line per kill (when, items stored by then) and the verdict; exits 1 when the stores differ.
Seconds depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SETS = ("allsides-probe-train", "googlenews-headlines", "ecbplus", "allsides-stream", "giveme5w1h")


def write_input(path: Path, items: int) -> int:
    """Writes the first `items` records of the shared sets to path; returns how many."""
    n = 0
    with path.open("w", encoding="utf-8") as out:
        for name in SETS:
            source = DATA / f"{name}.jsonl"
            if not source.exists():
                continue
            with source.open(encoding="utf-8") as fh:
                for line in fh:
                    if n >= items:
                        return n
                    if line.strip():
                        out.write(line)
                        n += 1
    return n


def newsdesk_cmd(db: Path, source: Path) -> list[str]:
    exe = Path(sys.executable).parent / "newsdesk"
    return [str(exe), "--db", str(db), "ingest", "--no-progress", str(source)]


def run_env(batch: int) -> dict[str, str]:
    env = dict(os.environ)
    env["NEWSDESK_INGEST_BATCH"] = str(batch)
    env["NEWSDESK_ENRICH_WORKERS"] = "1"  # one process: a kill -9 leaves no orphaned workers
    env.pop("NEWSDESK_DB", None)
    return env


def clean_run(db: Path, source: Path, batch: int) -> float:
    """Ingests source into db in one go; returns the seconds it took."""
    start = time.perf_counter()
    subprocess.run(newsdesk_cmd(db, source), env=run_env(batch), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=7200)
    return time.perf_counter() - start


def stored_items(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def crashed_run(db: Path, source: Path, batch: int, kills: int, span: float, seed: int,
                reach: tuple[float, float] = (0.2, 1.0), spread: bool = False) -> list[dict[str, Any]]:
    """Ingests source into db, killing the ingest `kills` times, each after a random share
    (within `reach`) of `span` seconds, then lets it finish; returns what each kill hit.

    spread=True: each run is killed a random share (within `reach`) of span / (kills + 1)
    seconds after it stored its first batch, so that the kills land all along the ingest
    rather than in model loading or after the end."""
    rng = random.Random(seed)
    points: list[dict[str, Any]] = []
    for _ in range(kills):
        start = time.perf_counter()
        proc = subprocess.Popen(newsdesk_cmd(db, source), env=run_env(batch),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = rng.uniform(*reach) * (span / (kills + 1) if spread else span)
        if spread:  # wait for this run's first commit (or its end)
            before = stored_items(db)
            while proc.poll() is None and stored_items(db) == before:
                time.sleep(0.5)
            after += time.perf_counter() - start
        try:
            proc.wait(timeout=max(0.0, after - (time.perf_counter() - start)))
            points.append({"after_s": round(after, 1), "killed": False, "items_stored": stored_items(db)})
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            points.append({"after_s": round(after, 1), "killed": True, "items_stored": stored_items(db)})
    subprocess.run(newsdesk_cmd(db, source), env=run_env(batch), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=7200)
    return points


def snapshot(db: Path) -> dict[str, Any]:
    """Returns what a store holds, in terms that do not depend on when things happened."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    q = conn.execute
    items = {r["id"]: (r["title"], r["text"], r["url"], r["source"], r["published"], r["kind"])
             for r in q("SELECT id, title, text, url, source, published, kind FROM items")}
    copies = sorted(tuple(r) for r in q("SELECT item_id, canonical_id FROM copies"))
    members: dict[str, set[str]] = {}
    for r in q("SELECT story_id, item_id FROM story_members"):
        members.setdefault(r["story_id"], set()).add(r["item_id"])
    stories = sorted(sorted(m) for m in members.values() if m)
    entities = sorted(tuple(r) for r in q("SELECT key, type, mentions, items FROM entities"))
    per_item = dict(tuple(r) for r in q("SELECT item_id, COUNT(*) FROM mentions GROUP BY item_id"))
    total = q("SELECT COUNT(*) FROM mentions").fetchone()[0]
    conn.close()
    return {"items": items, "copies": copies, "stories": stories, "entities": entities,
            "mentions_per_item": per_item, "mentions": total}


def compare(clean: dict[str, Any], crashed: dict[str, Any]) -> dict[str, Any]:
    """Returns, per part, whether the crashed store equals the clean one (and the sizes)."""
    out: dict[str, Any] = {}
    for part in ("items", "copies", "stories", "entities", "mentions_per_item", "mentions"):
        a, b = clean[part], crashed[part]
        size = (lambda v: v if isinstance(v, int) else len(v))
        out[part] = {"equal": a == b, "clean": size(a), "crashed": size(b)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--batch", type=int, default=500, help="ingest_batch for both runs")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--keep", help="folder to keep the stores and input in")
    ap.add_argument("--reuse-clean", type=float, metavar="SECONDS",
                    help="with --keep: reuse the clean store there (its run took SECONDS)")
    ap.add_argument("--spread", action="store_true",
                    help="kill each run a random time after its first commit (kills land all along the ingest)")
    ap.add_argument("--reach", type=float, default=0.25,
                    help="each run is killed after up to this share of the clean run's time")
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}")
        return 2
    folder = Path(args.keep or tempfile.mkdtemp(prefix="newsdesk-crash-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "input.jsonl"
    n = write_input(source, args.items)
    clean_db, crash_db = folder / "clean.db", folder / "crashed.db"
    reuse = args.reuse_clean is not None and args.keep and clean_db.exists()
    for db in (crash_db,) if reuse else (clean_db, crash_db):
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    seconds = args.reuse_clean if reuse else clean_run(clean_db, source, args.batch)
    print(f"clean run: {n} records, {stored_items(clean_db)} items stored in {seconds:.0f} s"
          + (" (reused)" if reuse else ""))
    reach = (0.2, 1.0) if args.spread else (args.reach / 5, args.reach)
    points = crashed_run(crash_db, source, args.batch, args.kills, seconds, args.seed,
                         reach=reach, spread=args.spread)
    for k, p in enumerate(points, 1):
        what = "killed" if p["killed"] else "finished before the kill"
        print(f"kill {k}: at {p['after_s']} s, {what}, {p['items_stored']} items stored by then")
    result = compare(snapshot(clean_db), snapshot(crash_db))
    print(json.dumps(result, indent=2))
    same = all(v["equal"] for v in result.values())
    print("crashed store equals the clean run" if same else "crashed store DIFFERS from the clean run")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
