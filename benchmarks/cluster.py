"""Story clustering: quality beside the anchors, speed, memory, and time per item as the store grows.

    python benchmarks/cluster.py                 # quality per set: default vectors beside MiniLM (an undated set
                                                 # also in two fixed shuffles; --orders 0: as listed only)
    python benchmarks/cluster.py --backends static none   # F1 columns for these embedding backends
    python benchmarks/cluster.py --growth 10000 100000   # items/s of new items at two store sizes
    python benchmarks/cluster.py --growth 10000 100000 1000000 --keep /work/cache/growth
                                                 # each size built once, then a fresh process timed on a copy
    python benchmarks/cluster.py --sets ecbplus --enrich  # include the entity stage
    python benchmarks/cluster.py --slices 8      # F1 on val-sized parts of the training set
    python benchmarks/cluster.py --variants      # F1 on the tuning sets shuffled, denser, undated, crowded
    python benchmarks/cluster.py --tune --held-out   # the grid, settings.json, held-out figures

--tune scores a small grid over the join thresholds, the time penalty and the coherence power, with the first of
--backends (default static: the default install), on the tuning sets
(two val-sized parts of allsides-probe-train and the visible sets, never allsides-probe-val;
an undated file as listed and in two fixed shuffles, its F1 the mean of the three)
and writes the point with the best mean F1 to src/newsdesk/stories/settings.json.
--held-out prints, for each visible set, its F1 at the point chosen without it (held out)
beside its F1 at the point chosen with it (in sample) and the best oracle anchor (allsides-probe-val,
undated, also over the three orders); the grid's scores are kept in --grid-file, so a second
run reuses them.

Each set runs in a child process (clean peak memory) through the whole ingest path:
parse, store, copies, stories (and entities with --enrich). Settings are the shipped ones;
allsides-probe-val is held out (never used for tuning).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSDESK_SHARED_DATA", ROOT.parent / "shared" / "data"))

# B-cubed F1 of the reference methods; each threshold picked on that very set (upper bounds).
ANCHORS = {
    "allsides-probe-val": (0.819, 0.854, 0.843, 0.733),
    "allsides-stream": (0.741, 0.775, 0.777, 0.681),
    "ecbplus": (0.876, 0.870, 0.851, 0.790),
    "giveme5w1h": (0.895, 0.899, 0.916, 0.856),
    "googlenews-headlines": (0.676, 0.721, 0.823, 0.358),
}
ANCHOR_NAMES = ("online tfidf", "avg-link tfidf", "avg-link MiniLM", "BERTopic")
ORDERS = 2  # fixed shuffles an undated set is also scored in (see tuning_files)


def child_quality(name: str, backend: str, enrich: bool) -> None:
    from newsdesk.evaluate import evaluate_file

    stages = None if enrich else ["copies", "stories"]
    path = Path(name) if name.endswith(".jsonl") else DATA / f"{name}.jsonl"
    # A backend may carry settings: cascade:embed_cascade_new=1,embed_cascade_refiner=minilm
    name_, _, extra = backend.partition(":")
    settings: dict = {"embed_backend": name_}
    settings.update(kv.split("=", 1) for kv in extra.split(",") if "=" in kv)
    r = evaluate_file(path, settings=settings, stages=stages)
    out = r.to_dict()
    from newsdesk.nlp.embed import LOADED

    out["encoded"] = {name: e.misses for name, e in LOADED.items()}
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # The largest process this one started and waited for: an entity worker (gone once the desk closed).
    out["worker_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(out))


def run_child(args: list[str]) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                         env=env, check=False)
    if res.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def quality(sets: list[str], backends: list[str], enrich: bool, orders: int = ORDERS) -> None:
    """Prints F1 per set for each embedding backend (first: P, R, ARI, speed), then where the
    time went for each, and an undated set's F1 in `orders` fixed shuffles too (their mean
    beside the listed order's: see tuning_files)."""
    from newsdesk.evaluate import other_orders

    first = backends[0]
    tag = " +entities" if enrich else ""
    head = f"{'set':22} " + " ".join(f"{'F1 ' + b + tag:>16}" for b in backends) + " "
    head += " ".join(f"{a:>16}" for a in ANCHOR_NAMES)
    print(head + f" {'best+':>6} {'P':>6} {'R':>6} {'ARI':>6} {'found/gold':>11} {'items/s':>8} {'peak MB':>8}"
          + f"   ({first}; items/s and peak MB per backend below)")
    for name in sets:
        runs = {b: run_child(["quality", name, b, str(int(enrich))]) for b in backends}
        r = runs[first]
        anchors = ANCHORS.get(name, (float("nan"),) * 4)
        best = max(anchors)
        print(f"{name:22} " + " ".join(f"{runs[b]['f1']:>16.3f}" for b in backends) + " "
              + " ".join(f"{a:>16.3f}" for a in anchors)
              + f" {r['f1'] - best:>+6.3f} {r['precision']:>6.3f} {r['recall']:>6.3f} {r['ari']:>6.3f}"
              + f" {str(r['stories_found']) + '/' + str(r['stories_gold']):>11} {r['items_per_second']:>8.0f}"
              + f" {r['peak_mb']:>8.0f}", flush=True)
        for b in backends:
            rb = runs[b]
            encoded = ", ".join(f"{k} {v}" for k, v in (rb.get("encoded") or {}).items())
            worker = f" (entity worker {rb['worker_peak_mb']:.0f} MB)" if rb.get("worker_peak_mb") else ""
            print(f"{'':22} {b:>7}: {rb['items_per_second']:.0f} items/s, peak {rb['peak_mb']:.0f} MB{worker}; "
                  f"time: {where_time_goes(rb.get('timings') or {}, rb['seconds'], b)}"
                  + (f"; texts encoded: {encoded} (of {r['documents']} items)" if encoded else ""), flush=True)
        path = DATA / f"{name}.jsonl" if not name.endswith(".jsonl") else Path(name)
        with tempfile.TemporaryDirectory(prefix="newsdesk-orders-") as tmp:
            shuffles = other_orders(path, tmp, orders)
            for b in backends if shuffles else ():
                f1s = [runs[b]["f1"]] + [run_child(["quality", str(p), b, str(int(enrich))])["f1"] for p in shuffles]
                print(f"{'':22} {b:>7}: F1 as listed and in {len(shuffles)} fixed shuffles "
                      + " / ".join(f"{f:.3f}" for f in f1s) + f", mean {sum(f1s) / len(f1s):.3f}", flush=True)


def where_time_goes(timings: dict[str, float], seconds: float, backend: str = "") -> str:
    """Returns the ingest time by part as shares of the whole, largest first."""
    parts = dict(timings)
    vectors = parts.pop("vectors", 0.0)
    if vectors:  # within the story stage: show them apart
        parts["stories"] = max(0.0, parts.get("stories", 0.0) - vectors)
        parts[f"vectors ({backend or 'dense'})"] = vectors
    total = seconds or sum(parts.values()) or 1.0
    return ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
                     if v >= 0.005 * total)


def slices(parts: int, backend: str) -> None:
    """Prints F1 on allsides-probe-train cut into parts the size of allsides-probe-val.

    The whole training file is eight times denser in stories than the held-out file; its
    val-sized parts (whole stories each) are what the settings were tuned on.
    """
    lines = (DATA / "allsides-probe-train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    with open(DATA / "allsides-probe-val.jsonl", encoding="utf-8") as fh:
        size = sum(1 for _ in fh)
    size -= size % 3  # three items per story, stories kept whole
    scores = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-slices-") as tmp:
        for k in range(min(parts, len(lines) // size)):
            path = Path(tmp) / f"allsides-probe-train-part{k}.jsonl"
            path.write_text("".join(lines[k * size:(k + 1) * size]), encoding="utf-8")
            r = run_child(["quality-file", str(path), backend])
            scores.append(r["f1"])
            print(f"part {k}: {size} docs  F1 {r['f1']:.3f}  P {r['precision']:.3f}  R {r['recall']:.3f}",
                  flush=True)
    print(f"mean F1 over {len(scores)} parts (vectors: {backend}): {sum(scores) / len(scores):.4f}")


# -- variants: the tuning sets in other orders, densities and forms ---------------------------
VARIANT_SEED = 11


def _jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _squeezed(records: list[dict], factor: float) -> list[dict]:
    """Returns the records with their times moved toward the first one: `factor` times denser."""
    from datetime import datetime

    times = [datetime.fromisoformat(r["published"]) for r in records if r.get("published")]
    start = min(times)
    out = []
    for r in records:
        r = dict(r)
        if r.get("published"):
            t = datetime.fromisoformat(r["published"])
            r["published"] = (start + (t - start) / factor).isoformat()
        out.append(r)
    return out


def variant_files(tmp: Path) -> list[tuple[str, Path]]:
    """Returns (name, file) of each variant, written into tmp from the tuning sets.

    The tuning sets as listed, then the same news as other streams would bring it: undated sets
    shuffled (a stream does not list each story's reports together), allsides-stream's titles
    alone (a dated headline stream), denser (times squeezed tenfold and thirtyfold) and undated,
    crowded streams (the first 3,684 records of allsides-probe-train and all 7,356, undated so
    all live at once, as listed and shuffled), giveme5w1h without its dates and ecbplus with made-up dates (each gold
    story on a random day over two years, its reports within 72 hours; then each topic's second
    event 2-10 days after its first, and 10-40 days after), and allsides-stream's ledes with
    giveme5w1h's articles in one stream. allsides-probe-val is
    never among them.
    """
    import random
    from datetime import UTC, datetime, timedelta

    rng = random.Random(VARIANT_SEED)
    out: list[tuple[str, Path]] = []
    train = _jsonl(DATA / "allsides-probe-train.jsonl")
    with open(DATA / f"{HELD_OUT}.jsonl", encoding="utf-8") as fh:
        size = sum(1 for _ in fh)
    size -= size % 3
    for k in range(3):
        part = train[k * size:(k + 1) * size]
        out.append((f"train part {k}", _write(tmp / f"part{k}.jsonl", part)))
        shuffled = list(part)
        rng.shuffle(shuffled)
        out.append((f"train part {k} shuffled", _write(tmp / f"part{k}-shuffled.jsonl", shuffled)))
    for n in (3684, len(train)):
        crowd = train[:n]
        out.append((f"train first {n:,}", _write(tmp / f"crowd{n}.jsonl", crowd)))
        crowd = list(crowd)
        rng.shuffle(crowd)
        out.append((f"train first {n:,} shuffled", _write(tmp / f"crowd{n}-shuffled.jsonl", crowd)))
    for name in ("googlenews-headlines", "ecbplus"):
        records = _jsonl(DATA / f"{name}.jsonl")
        out.append((name, DATA / f"{name}.jsonl"))
        rng.shuffle(records)
        out.append((f"{name} shuffled", _write(tmp / f"{name}-shuffled.jsonl", records)))
    stream = _jsonl(DATA / "allsides-stream.jsonl")
    out.append(("allsides-stream", DATA / "allsides-stream.jsonl"))
    titles = [dict(r, text="") for r in stream if r.get("title")]
    out.append(("allsides-stream titles", _write(tmp / "st-titles.jsonl", titles)))
    out.append(("allsides-stream titles x10", _write(tmp / "st-titles-x10.jsonl", _squeezed(titles, 10))))
    out.append(("allsides-stream titles x30", _write(tmp / "st-titles-x30.jsonl", _squeezed(titles, 30))))
    out.append(("allsides-stream titles undated",
                _write(tmp / "st-titles-undated.jsonl", [dict(r, published=None) for r in titles])))
    out.append(("allsides-stream x10", _write(tmp / "st-x10.jsonl", _squeezed(stream, 10))))
    out.append(("allsides-stream undated", _write(tmp / "st-undated.jsonl", [dict(r, published=None) for r in stream])))
    giveme = _jsonl(DATA / "giveme5w1h.jsonl")
    out.append(("giveme5w1h", DATA / "giveme5w1h.jsonl"))
    out.append(("giveme5w1h undated", _write(tmp / "giveme-undated.jsonl", [dict(r, published=None) for r in giveme])))
    ecb = _jsonl(DATA / "ecbplus.jsonl")
    base = datetime(2015, 1, 1, tzinfo=UTC)
    day = {}
    for r in ecb:
        day.setdefault(r["story"], base + timedelta(days=rng.uniform(0, 730)))
    dated = [dict(r, published=(day[r["story"]] + timedelta(hours=rng.uniform(0, 72))).isoformat()) for r in ecb]
    dated.sort(key=lambda r: r["published"])
    out.append(("ecbplus made-up dates", _write(tmp / "ecb-dated.jsonl", dated)))
    # The harder case for time evidence: each topic's two similar events (ecbplus pairs them:
    # two quakes, two rehab stays) days or weeks apart, not years.
    for lo, hi, label in ((2, 10, "a week"), (10, 40, "a month")):
        topic_day: dict[str, datetime] = {}
        story_day: dict[str, datetime] = {}
        for r in ecb:
            topic = str(r.get("topic") or r["story"])
            if r["story"] not in story_day:
                first = topic not in topic_day
                topic_day.setdefault(topic, base + timedelta(days=rng.uniform(0, 730)))
                story_day[r["story"]] = topic_day[topic] + timedelta(days=0 if first else rng.uniform(lo, hi))
        twins = [dict(r, published=(story_day[r["story"]] + timedelta(hours=rng.uniform(0, 72))).isoformat())
                 for r in ecb]
        twins.sort(key=lambda r: r["published"])
        out.append((f"ecbplus twin events within {label}", _write(tmp / f"ecb-twins-{lo}.jsonl", twins)))
    # A desk's feeds mix ledes and full articles: giveme5w1h's articles moved into the months of
    # allsides-stream's ledes (its dates shifted by about four years), the stories kept apart.
    shift = timedelta(days=365 * 4 - 60)
    mixed = [dict(r, story=f"s{r['story']}") for r in stream]
    for r in giveme:
        when = r.get("published")
        moved = (datetime.fromisoformat(when) + shift).isoformat() if when else None
        mixed.append(dict(r, story=f"g{r['story']}", published=moved))
    mixed.sort(key=lambda r: r.get("published") or "")
    out.append(("allsides-stream with giveme5w1h's articles", _write(tmp / "mixed.jsonl", mixed)))
    return out


def _variant_one(job: tuple[str, str, dict, str]) -> tuple[str, dict]:
    name, path, point, backend = job
    return name, eval_point(path, point, backend)


def variants(backend: str, workers: int, overrides: dict[str, float]) -> None:
    """Prints B-cubed F1, P and R of each variant (`variant_files`) at the shipped settings,
    or with `overrides` (story settings without the story_ prefix)."""
    from concurrent.futures import ProcessPoolExecutor

    from newsdesk.stories.params import shipped

    point = {**{k: v for k, v in shipped().items() if isinstance(v, (int, float))}, **overrides}
    print(f"settings: shipped{'; ' + point_key(overrides) if overrides else ''}; vectors: {backend}")
    with tempfile.TemporaryDirectory(prefix="newsdesk-variants-") as tmp:
        files = variant_files(Path(tmp))
        jobs = [(name, str(path), point, backend) for name, path in files]
        scores = []
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for name, r in pool.map(_variant_one, jobs):
                scores.append(r["f1"])
                print(f"{name:34} F1 {r['f1']:.3f}  P {r['precision']:.3f}  R {r['recall']:.3f}", flush=True)
    print(f"mean F1 over {len(scores)} files: {sum(scores) / len(scores):.4f}")


# -- tuning and held-out figures -----------------------------------------------------------
# The grid: the three join thresholds (bare headline, lede, full article), the time penalty and
# how steeply a loose story attracts less (coherence power). Every other setting keeps its
# shipped value.
GRID = {
    "threshold_headline": (0.06, 0.10, 0.14),
    "threshold": (0.16, 0.20, 0.22, 0.24),
    "threshold_article": (0.18, 0.22, 0.26),
    "time_penalty": (0.1, 0.2, 0.3, 0.4),
    "coherence_power": (4.0, 6.0, 8.0),
}
VISIBLE = ("allsides-stream", "ecbplus", "giveme5w1h", "googlenews-headlines")
HELD_OUT = "allsides-probe-val"  # never tuned on, only scored
TRAIN_PARTS = 2  # val-sized parts of allsides-probe-train, always among the tuning sets


def grid_points() -> list[dict[str, float]]:
    import itertools

    keys = list(GRID)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*GRID.values())]


def point_key(point: dict[str, float]) -> str:
    return ",".join(f"{k}={point[k]:g}" for k in sorted(point))


def eval_point(path: str, point: dict[str, float], backend: str) -> dict:
    from newsdesk.evaluate import evaluate_file

    settings = {"story_" + k: v for k, v in point.items()}
    settings["embed_backend"] = backend
    r = evaluate_file(path, settings=settings, stages=["copies", "stories"])
    return {"f1": r.f1, "precision": r.precision, "recall": r.recall}


def tuning_files(tmp: Path, orders: int = ORDERS) -> dict[str, list[Path]]:
    """Returns the tuning sets: each name with its files, its F1 the mean over them.

    The training parts are under one name. An undated set's order is an accident of its file
    (googlenews-headlines is in no order, allsides-probe-train lists each story's reports
    together), and the engine's stories depend on the order items arrive in: googlenews-headlines
    scored 0.812 as listed and 0.776 / 0.788 / 0.777 in three shuffles at the shipped settings.
    So each undated file is also scored in `orders` fixed shuffles, and settings are chosen for
    the news rather than for one lucky order. A dated set arrives in time order, as listed.
    """
    lines = (DATA / "allsides-probe-train.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    with open(DATA / f"{HELD_OUT}.jsonl", encoding="utf-8") as fh:
        size = sum(1 for _ in fh)  # only its size: parts as dense in stories as it is
    size -= size % 3
    parts = []
    for k in range(TRAIN_PARTS):
        path = tmp / f"allsides-probe-train-part{k}.jsonl"
        path.write_text("".join(lines[k * size:(k + 1) * size]), encoding="utf-8")
        parts.append(path)
    out = {"allsides-probe-train": parts}
    out.update({name: [DATA / f"{name}.jsonl"] for name in VISIBLE})
    from newsdesk.evaluate import other_orders

    for paths in out.values():
        paths.extend([order for path in list(paths) for order in other_orders(path, tmp, orders)])
    return out


def live_settings(path: Path) -> set[str]:
    """Returns the grid's settings a file's items can read: the lede and headline thresholds
    and the coherence power only with items that are not full articles, the article one only with full articles, the
    time penalty only with dated items. The others are left at their shipped values (the
    score cannot depend on them), which saves runs."""
    from newsdesk.model import Item
    from newsdesk.stories.features import is_article
    from newsdesk.stories.params import shipped

    live = set()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            item = Item(title=rec.get("title"), text=rec.get("text") or "")
            if is_article(item, shipped()):
                live.add("threshold_article")
            else:
                live |= {"threshold_headline", "threshold", "coherence_power"}
            if rec.get("published"):
                live.add("time_penalty")
    return live


def effective(point: dict[str, float], live: set[str]) -> dict[str, float]:
    from newsdesk.stories.params import shipped

    return {k: (v if k in live else shipped()[k]) for k, v in point.items()}


def code_fingerprint() -> str:
    """Returns a short hash of the package's code and data files, settings.json left out (the
    grid sets what it tunes, and a point's key holds every setting)."""
    import hashlib

    digest = hashlib.sha256()
    package = ROOT / "src" / "newsdesk"
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.name != "settings.json" and path.suffix in {".py", ".json", ".gz", ".npz", ".txt"}:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def run_grid(files: dict[str, list[Path]], backend: str, cache: Path, workers: int) -> dict:
    """Returns {set: {point key: scores}} over the grid, reusing what the cache file holds."""
    from concurrent.futures import ProcessPoolExecutor

    data = json.loads(cache.read_text()) if cache.exists() else {}
    tag = f"{backend}@{code_fingerprint()}"  # a result of other code is never reused
    scores = data.setdefault(tag, {})
    jobs, seen = [], set()
    live = {name: live_settings(paths[0]) for name, paths in files.items()}
    for name, paths in files.items():
        for point in grid_points():
            for k, path in enumerate(paths):
                key = point_key(effective(point, live[name]))
                if key not in scores.get(f"{name}#{k}", {}) and (name, k, key) not in seen:
                    seen.add((name, k, key))
                    jobs.append((name, k, path, effective(point, live[name])))
    print("settings each set can read: " + "; ".join(f"{n}: {', '.join(sorted(v))}" for n, v in live.items()))
    print(f"grid: {len(grid_points())} points x {sum(len(p) for p in files.values())} files; "
          f"{len(jobs)} runs to do ({workers} workers)", flush=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(eval_point, str(path), point, backend): (name, k, point)
                   for name, k, path, point in jobs}
        for done, fut in enumerate(futures, 1):
            name, k, point = futures[fut]
            scores.setdefault(f"{name}#{k}", {})[point_key(point)] = fut.result()
            if done % 20 == 0 or done == len(jobs):
                cache.write_text(json.dumps(data))
                print(f"  {done}/{len(jobs)} runs, {time.perf_counter() - start:.0f}s", flush=True)
    out: dict[str, dict[str, float]] = {}
    for name, paths in files.items():
        out[name] = {}
        for point in grid_points():
            key = point_key(effective(point, live[name]))
            out[name][point_key(point)] = sum(scores[f"{name}#{k}"][key]["f1"]
                                              for k in range(len(paths))) / len(paths)
    return out


def choose(grid: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    """Returns the grid point with the best mean F1 over the named sets (ties: the first)."""
    best, best_score = None, -1.0
    for point in grid_points():
        score = sum(grid[n][point_key(point)] for n in names) / len(names)
        if score > best_score + 1e-9:
            best, best_score = point, score
    assert best is not None
    return best


def tune_and_hold_out(backend: str, tune: bool, held_out: bool, cache: Path, workers: int) -> None:
    from newsdesk.evaluate import other_orders
    from newsdesk.stories.params import shipped

    with tempfile.TemporaryDirectory(prefix="newsdesk-tune-") as tmp:
        files = tuning_files(Path(tmp))
        grid = run_grid(files, backend, cache, workers)
        print(f"embedding backend: {backend}")
        names = list(files)
        chosen = choose(grid, names)
        print(f"chosen on {', '.join(names)}: {point_key(chosen)}")
        if tune:
            path = ROOT / "src" / "newsdesk" / "stories" / "settings.json"
            values = dict(shipped())
            values.update(chosen)
            path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
        if not held_out:
            return
        print(f"\n{'set':22} {'held out':>9} {'in sample':>10} {'best anchor':>12} {'held-best':>10}  chosen without it")
        rows = []
        for name in [HELD_OUT, *VISIBLE]:
            if name == HELD_OUT:  # never among the tuning sets: scored at the point chosen on all
                point = chosen
                paths = [DATA / f"{name}.jsonl", *other_orders(DATA / f"{name}.jsonl", Path(tmp), ORDERS)]
                held = sum(eval_point(str(p), point, backend)["f1"] for p in paths) / len(paths)
                inside = float("nan")
            else:
                point = choose(grid, [n for n in names if n != name])
                held = grid[name][point_key(point)]
                inside = grid[name][point_key(chosen)]
            best = max(ANCHORS[name])
            rows.append((name, held, inside, best))
            print(f"{name:22} {held:>9.3f} {inside:>10.3f} {best:>12.3f} {held - best:>+10.3f}  {point_key(point)}",
                  flush=True)
        print(json.dumps({"held_out": {n: round(h, 4) for n, h, _, _ in rows}}))


# -- growth: time per item as the store grows --------------------------------------------
_WORD = re.compile(r"\w+")
GROWTH_SETS = ("allsides-probe-train", "allsides-stream", "ecbplus", "giveme5w1h", "googlenews-headlines")


def _round_records(round_no: int, names=GROWTH_SETS):
    """Yields the shared sets as round `round_no`: new ids, words suffixed, dates shifted."""
    from newsdesk.model import Item

    base = datetime(2030, 1, 1, tzinfo=UTC) + timedelta(days=40 * round_no)
    suffix = f"r{round_no}"

    def mark(text):
        return _WORD.sub(lambda m: m.group() + suffix, text) if text else text

    k = 0
    for name in names:
        with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                k += 1
                yield Item(title=mark(rec.get("title")), text=mark(rec.get("text") or ""),
                           source=rec.get("source"), source_id=f"{suffix}-{rec['id']}",
                           published=base + timedelta(seconds=60 * k), origin="bench")


def child_growth(sizes: list[int], measure: int) -> None:
    from newsdesk.desk import Desk

    out = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-growth-") as tmp:
        desk = Desk(Path(tmp) / "g.db", stages=["copies", "stories"])
        held, round_no = 0, 0
        for size in sizes:
            while held < size:
                batch = []
                for item in _round_records(round_no):
                    batch.append(item)
                    if held + len(batch) >= size:
                        break
                desk.ingest(batch)
                held += len(batch)
                round_no += 1
            probe = list(_round_records(round_no, ("googlenews-headlines",)))
            random.Random(round_no).shuffle(probe)
            probe = probe[:measure]
            # A fresh process view: state is loaded from the store on first use.
            desk.close()
            desk = Desk(Path(tmp) / "g.db", stages=["copies", "stories"])
            start = time.perf_counter()
            desk.ingest(probe[:500])
            load_and_first = time.perf_counter() - start
            start, cpu = time.perf_counter(), time.process_time()
            desk.ingest(probe[500:])
            secs = time.perf_counter() - start
            cpu = time.process_time() - cpu  # CPU time: less disturbed by a shared machine
            held += len(probe)
            round_no += 1
            out.append({"stored": size, "measured": len(probe) - 500,
                        "items_per_second": round((len(probe) - 500) / secs, 1),
                        "ms_per_item": round(1000 * secs / (len(probe) - 500), 3),
                        "cpu_ms_per_item": round(1000 * cpu / (len(probe) - 500), 3),
                        "first_batch_with_load_s": round(load_and_first, 2),
                        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
        desk.close()
    print(json.dumps(out))


def _snapshot(keep: Path, size: int) -> Path:
    return keep / f"g-{size}.db"


def child_growth_build(keep: Path, size: int) -> None:
    """Builds the growth store of `size` items under `keep` (once), from the largest smaller one kept."""
    import shutil

    from newsdesk.desk import Desk

    keep.mkdir(parents=True, exist_ok=True)
    smaller = sorted(int(p.stem[2:]) for p in keep.glob("g-*.db") if int(p.stem[2:]) < size
                     and p.with_suffix(".json").exists())
    work = keep / f"building-{size}.db"
    held, round_no = 0, 0
    if smaller:
        shutil.copyfile(_snapshot(keep, smaller[-1]), work)
        meta = json.loads(_snapshot(keep, smaller[-1]).with_suffix(".json").read_text())
        held, round_no = meta["held"], meta["round"] + 1  # the kept store's probe round is skipped
    start = time.perf_counter()
    desk = Desk(work, stages=["copies", "stories"])
    while held < size:
        batch = []
        for item in _round_records(round_no):
            batch.append(item)
            if held + len(batch) >= size:
                break
        desk.ingest(batch)
        held += len(batch)
        round_no += 1
    desk.close()
    work.rename(_snapshot(keep, size))
    _snapshot(keep, size).with_suffix(".json").write_text(json.dumps({"held": held, "round": round_no}))
    print(json.dumps({"stored": size, "build_s": round(time.perf_counter() - start, 1)}))


def child_growth_one(keep: Path, size: int, measure: int) -> None:
    """Times new items on a copy of the kept store of `size` items, in a fresh process."""
    import shutil

    from newsdesk.desk import Desk
    from newsdesk.store import open_store

    meta = json.loads(_snapshot(keep, size).with_suffix(".json").read_text())
    start = time.perf_counter()
    open_store(_snapshot(keep, size)).close()  # the kept store gets this newsdesk's migrations, once
    migrate = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="newsdesk-growth-", dir=keep) as tmp:
        db = Path(tmp) / "g.db"
        shutil.copyfile(_snapshot(keep, size), db)
        # The copy (gigabytes at 1M) is flushed first: its write-back would otherwise land in the
        # timed window and be charged to the store's own writes.
        os.sync()
        probe = list(_round_records(meta["round"], ("googlenews-headlines",)))
        random.Random(meta["round"]).shuffle(probe)
        probe = probe[:measure]
        start = time.perf_counter()
        desk = Desk(db, stages=["copies", "stories"])
        desk.ingest(probe[:1])
        first = time.perf_counter() - start
        desk.ingest(probe[1:500])
        load_and_first = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        desk.ingest(probe[500:])
        secs = time.perf_counter() - start
        cpu = time.process_time() - cpu
        stage = next((s for s in desk.stages if s.name == "stories"), None)
        loaded = getattr(stage, "loaded_stories", None)
        desk.close()
        # A new desk (modules already imported) whose first item is a full article (the longer window).
        article = next(it for it in _round_records(meta["round"], ("ecbplus",)) if len((it.text or "").split()) > 300)
        start = time.perf_counter()
        desk = Desk(db, stages=["copies", "stories"])
        desk.ingest([article])
        first_article = time.perf_counter() - start
        stage = next((s for s in desk.stages if s.name == "stories"), None)
        loaded_article = getattr(stage, "loaded_stories", None)
        desk.close()
    n = len(probe) - 500
    print(json.dumps([{"stored": size, "measured": n, "items_per_second": round(n / secs, 1),
                       "ms_per_item": round(1000 * secs / n, 3), "cpu_ms_per_item": round(1000 * cpu / n, 3),
                       "first_item_s": round(first, 2), "first_batch_with_load_s": round(load_and_first, 2),
                       "loaded_stories": loaded, "first_article_s": round(first_article, 2),
                       "loaded_for_article": loaded_article, "migrate_s": round(migrate, 1),
                       "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", nargs="*", default=list(ANCHORS), help="set names under the shared data folder")
    ap.add_argument("--backends", nargs="*", default=["static", "minilm"],
                    help="embedding backends, one F1 column each (static, minilm, onnx, cascade, none; "
                         "settings after a colon: cascade:embed_cascade_new=1); "
                         "minilm is left out when the [embed] extra is missing")
    ap.add_argument("--enrich", action="store_true", help="include the entity stage")
    ap.add_argument("--orders", type=int, default=ORDERS, metavar="N",
                    help="also score each undated set in N fixed shuffles and print the mean (0: as listed only)")
    ap.add_argument("--growth", nargs="*", type=int, help="store sizes at which to time new items")
    ap.add_argument("--slices", type=int, metavar="N",
                    help="F1 on N val-sized parts of allsides-probe-train (what settings are tuned on)")
    ap.add_argument("--variants", nargs="*", metavar="KEY=VALUE",
                    help="F1 on the tuning sets in other orders, densities and forms (shuffled, titles "
                         "alone, denser, undated, crowded); KEY=VALUE overrides a story setting")
    ap.add_argument("--tune", action="store_true",
                    help="score the grid on the tuning sets and write the best point to settings.json")
    ap.add_argument("--held-out", action="store_true",
                    help="each visible set's F1 at the point chosen without it, beside in-sample and anchors")
    ap.add_argument("--grid-file", type=Path, default=Path(tempfile.gettempdir()) / "newsdesk-grid.json",
                    help="where grid scores are kept between runs (each under a hash of the package code, so a change to the code scores the grid again)")
    ap.add_argument("--workers", type=int, default=2, help="processes scoring the grid")
    ap.add_argument("--measure", type=int, default=2500, help="items timed per growth point")
    ap.add_argument("--keep", type=Path,
                    help="with --growth: build each store size once into this folder (outside the repo) "
                         "and time a fresh process on a copy of it")
    ap.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "quality":
            child_quality(rest[0], rest[1], bool(int(rest[2])))
        elif kind == "quality-file":
            child_quality(rest[0], rest[1], False)
        elif kind == "growth-build":
            child_growth_build(Path(rest[0]), int(rest[1]))
        elif kind == "growth-one":
            child_growth_one(Path(rest[0]), int(rest[1]), int(rest[2]))
        else:
            child_growth([int(x) for x in rest[1:]], int(rest[0]))
        return
    if not DATA.is_dir():
        raise SystemExit(f"no shared data at {DATA}")
    print(f"cores available: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f}")
    if args.slices:
        slices(args.slices, backend=args.backends[0])
        return
    if args.variants is not None:
        overrides = {}
        for kv in args.variants:
            key, _, value = kv.partition("=")
            overrides[key.removeprefix("story_")] = float(value)
        variants(args.backends[0], args.workers, overrides)
        return
    if args.tune or args.held_out:
        tune_and_hold_out(args.backends[0], args.tune, args.held_out, args.grid_file, args.workers)
        return
    if args.growth:
        if args.keep:
            rows = []
            for size in args.growth:
                if not (_snapshot(args.keep, size).exists() and _snapshot(args.keep, size).with_suffix(".json").exists()):
                    built = run_child(["growth-build", str(args.keep), str(size)])
                    print(f"built the {size}-item store in {built['build_s']}s", flush=True)
                rows += run_child(["growth-one", str(args.keep), str(size), str(args.measure)])
        else:
            rows = run_child(["growth", str(args.measure), *map(str, args.growth)])
        for r in rows:
            print(f"store {r['stored']:>7} items: {r['items_per_second']:>7.0f} new items/s "
                  f"({r['ms_per_item']:.3f} ms/item wall, {r['cpu_ms_per_item']:.3f} ms/item CPU), "
                  + (f"first item {r['first_item_s']}s, " if "first_item_s" in r else "")
                  + f"first batch incl. state load {r['first_batch_with_load_s']}s, "
                  + (f"{r['loaded_stories']} stories loaded, " if r.get("loaded_stories") is not None else "")
                  + (f"a start on a full article {r['first_article_s']}s ({r['loaded_for_article']} stories "
                     "loaded), " if "first_article_s" in r else "")
                  + f"peak {r['peak_mb']} MB"
                  + (f" (kept store migrated first: {r['migrate_s']}s)" if r.get("migrate_s", 0) >= 0.1 else ""))
        return
    backends = list(args.backends)
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        if {"minilm", "cascade"} & {b.partition(":")[0] for b in backends}:
            backends = [b for b in backends if b.partition(":")[0] not in ("minilm", "cascade")]
            print("[embed] extra not installed: no minilm or cascade column")
    if backends:
        quality(args.sets, backends, enrich=args.enrich, orders=args.orders)


if __name__ == "__main__":
    main()
