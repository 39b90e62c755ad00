"""The bundled demo corpus: fictional news written for this project, with gold story labels.

`demo_path()` is the folder of news files to ingest (every source format newsdesk reads);
`demo_gold()` maps each item's title to the story it belongs to. Page-dump articles that
carry no title line are keyed by the first `PREFIX_CHARS` characters of their body instead.

>>> desk.ingest(demo_path()).summary()
'117 new, 0 already stored, 0 skipped'
"""

from __future__ import annotations

import json
import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

from newsdesk.model import Item

LOGGER = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent / "demo"
PREFIX_CHARS = 60  # length of the body prefix that keys an untitled page-dump article

_WS = re.compile(r"\s+")


def demo_path() -> Path:
    """Returns the folder holding the demo news files (feeds, pages, page dumps, JSONL)."""
    return DEMO_DIR / "news"


def demo_outlets_path() -> Path:
    """Returns the demo's outlet file: invented attributes (country, lean, owner...) of its outlets."""
    return DEMO_DIR / "outlets.csv"


def gold_path() -> Path:
    """Returns the path of the demo's gold file (one JSON object per line)."""
    return DEMO_DIR / "gold.jsonl"


@cache
def _gold_lines() -> tuple[dict[str, Any], ...]:
    lines = []
    with gold_path().open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                lines.append(json.loads(line))
    return tuple(lines)


def demo_gold_lines() -> list[dict[str, Any]]:
    """Returns the gold lines: {"title" or "text_prefix", "story", optional "copies"}.

    `copies` (default 1) is how many demo items carry that exact title: a wire story
    republished verbatim by other outlets is several items with one title.
    """
    return [dict(line) for line in _gold_lines()]


def demo_gold() -> dict[str, str]:
    """Returns title → gold story id; untitled page-dump articles are keyed by body prefix."""
    return {line.get("title") or line["text_prefix"]: line["story"] for line in _gold_lines()}


def flat(text: str | None) -> str:
    """Returns text with every run of whitespace folded to one space, trimmed."""
    return _WS.sub(" ", text or "").strip()


def gold_story(item: Item) -> str | None:
    """Returns the gold story of a demo item (by title, else by body prefix), or None."""
    by_title = {line["title"]: line["story"] for line in _gold_lines() if "title" in line}
    if item.title and item.title in by_title:
        return by_title[item.title]
    body = flat(item.body)
    for line in _gold_lines():
        prefix = line.get("text_prefix")
        if prefix and body.startswith(prefix):
            return line["story"]
    return None
