"""Prints items/s and peak memory for ingesting a JSONL file, first time and again (all copies).

    python benchmarks/ingest.py [FILE.jsonl] [--stages none|all|copies,stories,...]
    python benchmarks/ingest.py ../shared/data/allsides-stream.jsonl --limit 400 --copies 3

Each measurement runs in a fresh process so peak memory (max RSS) is its own. `--copies K`
ingests, after each record, K wire copies of it: the same title and text under other outlets'
names and addresses (`--limit N`: the first N records only).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "allsides-probe-train.jsonl"


def _child(path: str, db: str, stages: str) -> None:
    from newsdesk import Desk

    names = None if stages == "all" else ([] if stages == "none" else stages.split(","))
    desk = Desk(db, stages=names)
    started = time.perf_counter()
    report = desk.ingest(path)
    elapsed = time.perf_counter() - started
    desk.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "new": report.new, "already": report.already,
                      "skipped": len(report.skipped), "peak_mb": peak_mb}))


def measure(path: str, db: str, stages: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, "--db", db, "--stages", stages],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", nargs="?", default=str(DEFAULT))
    parser.add_argument("--stages", default=None, help="none, all, or a comma list (default: none and all)")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N records")
    parser.add_argument("--copies", type=int, default=0, help="follow each record by K wire copies of it")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.file, args.db, args.stages)
        return
    if not Path(args.file).exists():
        sys.exit(f"{args.file}: not found (the shared evaluation sets live in ../shared/data)")
    if args.limit or args.copies:
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "records.jsonl"
            path.write_text(wire_copies(args.file, args.limit, args.copies), encoding="utf-8")
            print(f"{args.file}: first {args.limit or 'all'} records, each followed by {args.copies} copies")
            run(str(path), args.stages)
        return
    run(args.file, args.stages)


def wire_copies(path: str, limit: int, copies: int) -> str:
    """Returns the file's first `limit` records (0: all) as JSONL, each followed by `copies` copies
    of it under other outlets' names and addresses."""
    lines = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if limit and n >= limit:
                break
            rec = json.loads(line)
            lines.append(json.dumps(rec))
            for k in range(copies):
                copy = dict(rec, id=f"{rec.get('id')}-copy{k}", source=f"Wire Copy {k}",
                            url=f"https://copy{k}.example/{rec.get('id')}")
                lines.append(json.dumps(copy))
    return "\n".join(lines) + "\n"


def run(file: str, stages_arg: str | None) -> None:
    """Prints the table for one file: each set of stages, first time and again."""
    print(f"ingest of {file}")
    print(f"{'stages':<10} {'run':<8} {'items':>7} {'new':>7} {'seconds':>8} {'items/s':>9} {'peak MB':>8}")
    for stages in [stages_arg] if stages_arg else ["none", "all"]:
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.db")
            for attempt in ("first", "again"):
                r = measure(file, db, stages)
                items = r["new"] + r["already"] + r["skipped"]
                print(f"{stages:<10} {attempt:<8} {items:>7} {r['new']:>7} {r['seconds']:>8.2f} "
                      f"{items / r['seconds']:>9.0f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
