"""Stories across languages: B-cubed F1 and cross-language pairs joined on the bilingual set.

    python benchmarks/languages.py                  # words only, static, MiniLM, multilingual-e5
    python benchmarks/languages.py --set tests/fixtures/multilingual/one-city.jsonl
    python benchmarks/languages.py --enrich         # with the entity stage too
    python benchmarks/languages.py --set other.jsonl

The set (tests/fixtures/multilingual/bilingual-events.jsonl, written for this project) has
12 events each reported in English and in one other language (de, fr, es, pt, it, ru, zh)
and a few unrelated items. A cross-language pair is two reports of one event in different
languages; "joined" counts those that ended in one story, "false" counts pairs of different
events in different languages put together.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "tests" / "fixtures" / "multilingual" / "bilingual-events.jsonl"


def run(path: Path, settings: dict, stages: list[str] | None) -> dict:
    """Returns the scores of one configuration on the set."""
    from newsdesk.desk import Desk
    from newsdesk.evaluate import bcubed

    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk(Path(tmp) / "x.db", settings=settings, stages=stages)
        try:
            start = time.perf_counter()
            desk.ingest(path)
            seconds = time.perf_counter() - start
            by_source = desk.store.source_item_map(None)
            story_of = desk.store.all_memberships()
        finally:
            desk.close()
    pred = [story_of.get(by_source.get(r["id"]), f"missing:{r['id']}") for r in recs]
    gold = [r["story"] for r in recs]
    p, r, f = bcubed(pred, gold)
    joined = total = false = 0
    for i, j in combinations(range(len(recs)), 2):
        if recs[i]["language"] == recs[j]["language"]:
            continue
        if gold[i] == gold[j]:
            total += 1
            joined += pred[i] == pred[j]
        elif pred[i] == pred[j]:
            false += 1
    return {"precision": p, "recall": r, "f1": f, "joined": joined, "pairs": total, "false": false,
            "stories": len(set(pred)), "gold": len(set(gold)), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=DEFAULT, help="bilingual gold file (JSONL with story and language)")
    ap.add_argument("--enrich", action="store_true", help="run the entity stage too")
    args = ap.parse_args()
    stages = None if args.enrich else ["copies", "stories"]
    configs = [("words only", {"embed_backend": "none"}),
               ("static (default)", {"embed_backend": "static"}),
               ("minilm", {"embed_backend": "minilm"}),
               ("multilingual-e5", {"embed_backend": "multilingual-e5"})]
    print(f"set: {args.set.name}; stages: {'all' if stages is None else ', '.join(stages)}")
    print(f"{'vectors':18} {'P':>6} {'R':>6} {'B3 F1':>6}  cross-language pairs joined  false joins  stories/gold  seconds")
    for name, settings in configs:
        try:
            out = run(args.set, settings, stages)
        except Exception as e:  # noqa: BLE001 - a missing extra skips its row
            print(f"{name:18} not run: {e}")
            continue
        print(f"{name:18} {out['precision']:6.3f} {out['recall']:6.3f} {out['f1']:6.3f}  "
              f"{out['joined']:>12} of {out['pairs']:<13} {out['false']:>11}  "
              f"{out['stories']:>6}/{out['gold']:<6} {out['seconds']:7.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
