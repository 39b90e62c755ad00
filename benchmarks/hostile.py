"""Hostile text: seconds each shape of junk costs, and which patterns grow faster than their input.

    python benchmarks/hostile.py                # every shape through the default pipeline
    python benchmarks/hostile.py --size 200000  # characters per item (default 100,000)
    python benchmarks/hostile.py --patterns     # every regular expression of the package, timed

The first table ingests one item per shape (a JSONL record with a headline and the shape as its
text; the same shape as an HTML feed summary) into a fresh store with every installed stage,
then reads the story it joined (title, summary, timeline, entities) and searches. Each row is
timed at a quarter of the size and at the full size: a ratio near 4 is linear, near 16 is
quadratic (the shapes that were quadratic once are in the list).

--patterns times every regular expression written in the package (compiled at module level or
passed as a literal to `re`) on inputs made of one unit repeated (a character, a pair, the
pattern's own words) at 2,000 and 8,000 characters, and lists those whose time grew more than
eightfold (linear is fourfold). A listed pattern is only a danger where the text it reads is not
already capped short.
"""

from __future__ import annotations

import argparse
import ast
import html
import importlib
import json
import pkgutil
import re
import sys
import tempfile
import time
from pathlib import Path

SHAPES = {
    "dots": ".", "spaces before text": " ", "tabs before text": "\t", "lone <": "<", "a'": "a'",
    "- ": "- ", "lines": "a\n", "A ": "A ", "1,": "1,", "one long word": "x", "urls": "http://a.example/ ",
    "emoji": "\U0001f600", "CJK": "\u4e2d", ".!?": ".!?", "quotes": '"', "(": "(", "a-": "a-", "$1 ": "$1 ",
    "short sentences": "Ames said. ", "names": "John Smith met Anna Berg in Paris. ",
    "dates": "On Monday, 3 March 2025 at 10:00 ", "figures": "up 5.2% to $3.1bn, ", ". ": ". ",
    "ellipses": "Well... ", "a/": "a/", "a: ": "a: ", "bullets": "\n- item ", "tags": "<b>bold</b> ",
    "entities": "&amp;", "right-to-left": "\u05d0\u200f", "zero-width": "a\u200b", "combining": "\u0301",
    "lone surrogates": "\ud83d", "NUL": "a\x00", "<!--": "<!--", "<a ": "<a ", "<![CDATA[>": "<![CDATA[>",
    "</": "</", "<title>": "<title>", "\u2026": "\u2026",
}


def _record(name: str, unit: str, size: int) -> str:
    text = unit * max(1, size // len(unit))
    return json.dumps({"title": f"Hostile {name} item", "text": text}) + "\n"


def _feed(name: str, unit: str, size: int) -> bytes:
    summary = "<p>Harbour lights</p>" + unit * max(1, size // len(unit))
    body = html.escape(summary.encode("utf-8", "replace").decode("utf-8"))
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Herald</title><item>"
            f"<title>Hostile {html.escape(name)} feed item</title><link>https://herald.example/{abs(hash(name))}</link>"
            f"<description>{body}</description></item></channel></rss>").encode()


def _one(desk, tmp: Path, name: str, unit: str, size: int) -> tuple[float, float, float]:
    """Returns seconds to ingest the JSONL item, to read its story and search, and to read the feed."""
    from newsdesk.ingest.feeds import parse_feed

    path = tmp / "item.jsonl"
    path.write_text(_record(name, unit, size), encoding="utf-8", errors="surrogatepass")
    start = time.perf_counter()
    report = desk.ingest(str(path))
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    for item_id in report.new_ids:
        story = desk.item_story(item_id)
        if story is not None:
            desk.story_title(story.id)
            desk.story_summary(story.id)
            desk.story_timeline(story.id)
            desk.story_entities(story.id)
    desk.search(f"hostile {name}"[:100])
    read = time.perf_counter() - start
    start = time.perf_counter()
    parse_feed(_feed(name, unit, size), origin="hostile.xml")
    feed = time.perf_counter() - start
    return ingest, read, feed


def shapes(size: int) -> None:
    from newsdesk import Desk, Item

    print(f"{'shape':18s} {'ingest s':>9s} {'x growth':>8s} {'read s':>7s} {'x growth':>8s} {'feed s':>7s} {'x growth':>8s}")
    with tempfile.TemporaryDirectory(prefix="newsdesk-hostile-") as tmp, Desk(Path(tmp) / "hostile.db") as desk:
        desk.ingest([Item(title="Kelso quay reopens after repairs", text="The Kelso quay reopened on Monday.")])
        for name, unit in SHAPES.items():
            small = _one(desk, Path(tmp), name + " (quarter)", unit, size // 4)
            full = _one(desk, Path(tmp), name, unit, size)
            cells = []
            for s, f in zip(small, full, strict=True):
                cells += [f"{f:9.3f}", f"{f / max(s, 1e-3):8.1f}"]
            print(f"{name:18s} {cells[0]} {cells[1]} {cells[2][2:]} {cells[3]} {cells[4][2:]} {cells[5]}", flush=True)


def _patterns() -> list[tuple[str, re.Pattern]]:
    """Returns (where, pattern) for every regular expression written in the package."""
    import newsdesk

    found: dict[str | bytes, tuple[str, re.Pattern]] = {}  # one entry per pattern
    for info in pkgutil.walk_packages(newsdesk.__path__, "newsdesk."):
        try:
            module = importlib.import_module(info.name)
        except Exception as e:  # noqa: BLE001 - a module whose extra is missing
            print(f"{info.name}: not imported ({type(e).__name__}), its patterns are not timed", file=sys.stderr)
            continue
        for key, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found.setdefault(value.pattern, (f"{info.name}.{key}", value))
    root = Path(newsdesk.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                try:
                    pattern = re.compile(node.args[0].value)
                except re.error:
                    continue
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                found.setdefault(pattern.pattern, (where, pattern))
    return list(found.values())


def _units(pattern: re.Pattern) -> list[str]:
    source = pattern.pattern if isinstance(pattern.pattern, str) else ""
    words = [w for w in re.sub(r"\\[dDwWsSbB]|\[[^\]]*\]|[()?*+{}|^$.\\]", " ", source).split() if w][:6]
    base = ["<", "a", " ", "a ", "1", ".", "-", "\n", "(", "A", "Aa ", "a.", "1 ", "a-", "'", '"', ":", "/",
            "&", "A ", "\u00e9", ",", "1.", "a\n", "\t", " \n", "- ", "[", "?", "!", "_", ";", "|", " - "]
    return base + words + [w + " " for w in words]


def patterns() -> None:
    listed = 0
    every = _patterns()
    for where, pattern in every:
        as_bytes = isinstance(pattern.pattern, bytes)
        worst: tuple[float, str] | None = None
        for unit in _units(pattern):
            times = []
            for n in (2_000, 8_000):
                text: str | bytes = unit * (n // len(unit) + 1)
                if as_bytes:
                    text = text.encode()
                start = time.perf_counter()
                pattern.search(text)
                pattern.sub(b"" if as_bytes else "", text)
                times.append(time.perf_counter() - start)
            if times[1] > 0.02 and times[1] / max(times[0], 1e-6) > 8 and (worst is None or times[1] > worst[0]):
                worst = (times[1], unit)
        if worst is not None:
            listed += 1
            print(f"{where}: {pattern.pattern[:90]!r} grows faster than its input on {worst[1]!r} "
                  f"({worst[0]:.3f} s at 8,000 characters)", flush=True)
    print(f"{listed} of {len(every)} patterns listed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="characters per item (default 100,000)")
    ap.add_argument("--patterns", action="store_true", help="time every regular expression of the package")
    args = ap.parse_args()
    if args.patterns:
        patterns()
    else:
        shapes(args.size)


if __name__ == "__main__":
    sys.exit(main())
