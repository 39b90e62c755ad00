"""Prints ROUGE-1/2/L F-measures of story summaries against neutral reference summaries.

    python benchmarks/summaries.py [--split val|train] [--limit N] [--set name=value ...]

Input: the gold stories of allsides-probe-<split>.jsonl (documents grouped by `story`),
references: allsides-probe-<split>.summaries.jsonl. Next to the newsdesk summariser it scores
two baselines: the first sentence of the first article (lead-1) and the first sentence of
each article (lead-each). Tune on train; val is held out. Also prints the summary time per
story (single process; the figure is for this machine's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from dataclasses import fields, replace
from pathlib import Path

from rouge_score import rouge_scorer

from newsdesk.model import Item
from newsdesk.stories.sentences import split_sentences
from newsdesk.stories.summarize import DEFAULT_PARAMS, SummaryParams, summarize

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
METRICS = ("rouge1", "rouge2", "rougeL")


def load(split: str, limit: int | None) -> list[tuple[str, list[Item], str]]:
    """Returns (story, items, reference summary) for each gold story of the split."""
    docs: dict[str, list[Item]] = defaultdict(list)
    with open(DATA / f"allsides-probe-{split}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            docs[row["story"]].append(
                Item(title=row.get("title"), text=row.get("text") or "", source=row.get("source"),
                     kind="article" if row.get("text") else "headline", source_id=row["id"])
            )
    refs = {}
    with open(DATA / f"allsides-probe-{split}.summaries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            refs[row["story"]] = row["summary"]
    out = [(s, docs[s], refs[s]) for s in docs if refs.get(s)]
    return out[:limit] if limit else out


def lead_one(items: list[Item]) -> str:
    for it in items:
        sents = split_sentences(it.text)
        if sents:
            return sents[0]
    return items[0].headline if items else ""


def lead_each(items: list[Item]) -> str:
    return " ".join((split_sentences(it.text) or [it.headline])[0] for it in items)


def parse_overrides(pairs: list[str]) -> SummaryParams:
    types = {f.name: type(getattr(DEFAULT_PARAMS, f.name)) for f in fields(SummaryParams)}
    values = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in types:
            raise SystemExit(f"unknown parameter {name!r}; known: {', '.join(types)}")
        values[name] = types[name](value)
    return replace(DEFAULT_PARAMS, **values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="val", choices=["val", "train"], help="which set to score")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N stories")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="override a summariser parameter")
    args = parser.parse_args()
    params = parse_overrides(args.set)
    stories = load(args.split, args.limit)
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    systems = {"newsdesk": [], "lead-1": [], "lead-each": []}
    seconds, words = [], defaultdict(list)
    for _story, items, ref in stories:
        started = time.perf_counter()
        ours = summarize(items, params=params).text
        seconds.append(time.perf_counter() - started)
        for name, text in (("newsdesk", ours), ("lead-1", lead_one(items)), ("lead-each", lead_each(items))):
            scores = scorer.score(ref, text)
            systems[name].append({m: scores[m].fmeasure for m in METRICS})
            words[name].append(len(text.split()))
    print(f"allsides-probe-{args.split}: {len(stories)} stories, "
          f"reference {statistics.mean(len(r.split()) for _, _, r in stories):.1f} words on average")
    print(f"{'system':<10} {'R1-F':>7} {'R2-F':>7} {'RL-F':>7} {'words':>6}")
    for name, rows in systems.items():
        means = [100 * statistics.mean(r[m] for r in rows) for m in METRICS]
        print(f"{name:<10} {means[0]:7.2f} {means[1]:7.2f} {means[2]:7.2f} {statistics.mean(words[name]):6.1f}")
    ours = systems["newsdesk"]
    beats = all(
        statistics.mean(r[m] for r in ours) > statistics.mean(r[m] for r in systems[b])
        for b in ("lead-1", "lead-each") for m in METRICS
    )
    print(f"newsdesk above both baselines on every figure: {'yes' if beats else 'NO'}")
    print(f"summary time per story: mean {1000 * statistics.mean(seconds):.2f} ms, "
          f"p95 {1000 * sorted(seconds)[int(0.95 * (len(seconds) - 1))]:.2f} ms "
          f"({os.cpu_count()} cores, one process)")


if __name__ == "__main__":
    main()
