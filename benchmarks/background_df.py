"""Builds the background document frequencies shipped with the story stage.

Reads a training set (default: allsides-probe-train) and writes
src/newsdesk/stories/background_df.json.gz: word -> number of documents containing it.
Only counts leave the script; no text is copied.

    python benchmarks/background_df.py [TRAIN.jsonl ...]
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path

from newsdesk.stories.features import tokens
from newsdesk.stories.stage import default_params

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "allsides-probe-train.jsonl"
OUT = ROOT / "src" / "newsdesk" / "stories" / "background_df.json.gz"


def main(paths: list[str]) -> None:
    lead = int(default_params()["lead_words"])
    df: Counter[str] = Counter()
    n = 0
    for path in paths or [str(DEFAULT)]:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                words = set(tokens(rec.get("title"), 40)) | set(tokens(rec.get("text"), lead))
                df.update(words)
                n += 1
    kept = {t: c for t, c in sorted(df.items()) if c >= 2}
    OUT.write_bytes(gzip.compress(json.dumps({"n": n, "df": kept}, separators=(",", ":")).encode(), 9, mtime=0))
    print(f"{n} documents, {len(kept)} terms -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
