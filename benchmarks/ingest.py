"""Prints items/s and peak memory for ingesting a JSONL file, first time and again (all copies).

    python benchmarks/ingest.py [FILE.jsonl] [--stages none|all|copies,stories,...]

Each measurement runs in a fresh process so peak memory (max RSS) is its own.
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
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.file, args.db, args.stages)
        return
    if not Path(args.file).exists():
        sys.exit(f"{args.file}: not found (the shared evaluation sets live in ../shared/data)")
    print(f"ingest of {args.file}")
    print(f"{'stages':<10} {'run':<8} {'items':>7} {'new':>7} {'seconds':>8} {'items/s':>9} {'peak MB':>8}")
    for stages in [args.stages] if args.stages else ["none", "all"]:
        with tempfile.TemporaryDirectory() as tmp:
            db = str(Path(tmp) / "bench.db")
            for run in ("first", "again"):
                r = measure(args.file, db, stages)
                items = r["new"] + r["already"] + r["skipped"]
                print(f"{stages:<10} {run:<8} {items:>7} {r['new']:>7} {r['seconds']:>8.2f} "
                      f"{items / r['seconds']:>9.0f} {r['peak_mb']:>8.0f}")


if __name__ == "__main__":
    main()
