"""Outlet template lines: what they cost the story engine, and what dropping them gives back.

    python benchmarks/templates.py [--sets giveme5w1h allsides-stream]

For each set (records with an outlet in `source`), a copy is written to a temporary folder with
page furniture around every body: a header line and three footer lines (a newsletter line, a
follow line, a copyright line), the same for every article of one outlet, made up here from the
outlet's name and a fixed list of words (no text is kept). Each file is ingested into a fresh
store (copies and stories, default vectors) and scored with B-cubed F1:

- the set as it is, template lines dropped (the default);
- the set with furniture, template lines dropped (the default);
- the set with furniture, `drop_templates` off.

It also prints how many items lost lines. The sets are read from ../shared/data by path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))
WORDS = ["subscribe", "newsletter", "follow", "twitter", "facebook", "share", "comment", "article", "advertisement", "copyright", "rights", "reserved", "privacy", "policy", "cookies", "terms", "read", "more", "related", "stories", "latest", "news", "sign", "up", "email", "alerts", "download", "app", "sports", "weather", "opinion", "video", "photos", "podcast"]


def furniture(source: str) -> tuple[str, str]:
    """Returns the header and footer an outlet's template puts around every body."""
    rng = random.Random(hashlib.sha256(source.encode("utf-8")).hexdigest())
    name = source.removeprefix("www.").split(".")[0].capitalize()
    head = f"{name} | " + " ".join(rng.sample(WORDS, 6)).capitalize()
    tail = "\n".join([
        f"Sign up for the {name} {rng.choice(['Daily', 'Morning', 'Evening'])} Briefing newsletter.",
        f"Follow {name} on Twitter and Facebook. " + " ".join(rng.sample(WORDS, 8)),
        f"© {name} Media Group. All rights reserved. " + " ".join(rng.sample(WORDS, 5)),
    ])
    return head, tail


def with_furniture(path: Path, out: Path) -> int:
    """Writes the set with every outlet's furniture around its bodies; returns records changed."""
    changed = 0
    with open(path, encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for line in src:
            rec = json.loads(line)
            if rec.get("source") and rec.get("text"):
                head, tail = furniture(rec["source"])
                rec["text"] = f"{head}\n{rec['text']}\n{tail}"
                changed += 1
            dst.write(json.dumps(rec) + "\n")
    return changed


def score(path: Path, drop: bool) -> tuple[Any, int, float]:
    """Returns the scores, the items that lost lines and the seconds the ingest took."""
    from newsdesk.evaluate import evaluate_file
    from newsdesk.ingest.templates import EXTRA_KEY

    lost = 0

    def count(desk: Any) -> None:
        nonlocal lost
        ids = desk.store.source_item_map(None).values()
        lost = sum(1 for i in ids if EXTRA_KEY in desk.item(i).extra)

    start = time.perf_counter()
    r = evaluate_file(path, settings={"drop_templates": drop}, stages=["copies", "stories"], inspect=count)
    return r, lost, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=["giveme5w1h", "allsides-stream"])
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA}: no shared data folder (set NEWSDESK_SHARED_DATA)")
    print(f"{'set':22} {'variant':37} {'F1':>6} {'P':>6} {'R':>6} {'items losing lines':>19}")
    with tempfile.TemporaryDirectory(prefix="newsdesk-templates-") as tmp:
        for name in args.sets:
            path = DATA / f"{name}.jsonl"
            furnished = Path(tmp) / f"{name}-furniture.jsonl"
            n = with_furniture(path, furnished)
            for label, p, drop in (("as it is, dropped (default)", path, True),
                                   (f"furniture on {n}, dropped (default)", furnished, True),
                                   (f"furniture on {n}, drop_templates off", furnished, False)):
                r, lost, _ = score(p, drop)
                print(f"{name:22} {label:37} {r.f1:6.3f} {r.precision:6.3f} {r.recall:6.3f} {lost:19}",
                      flush=True)


if __name__ == "__main__":
    main()
