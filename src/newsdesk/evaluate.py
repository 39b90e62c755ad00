"""Scores story clustering against a gold file: B-cubed precision/recall/F1, ARI, speed.

A gold file is JSONL with an `id` and a gold `story` per document (the shared evaluation
schema). It is ingested into a throw-away store through the whole pipeline (parse, store,
copies, stories); every document is then scored with the story its item ended up in. A
document whose content was already stored maps to that item through its sighting's
source id, so exact and near copies are scored with the story of their copy group.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from newsdesk.errors import InputError
from newsdesk.ingest.jsonl import strict_records

LOGGER = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """Scores of one gold file."""

    file: str
    documents: int
    precision: float
    recall: float
    f1: float
    ari: float
    stories_found: int
    stories_gold: int
    seconds: float
    items_per_second: float
    # Ingest seconds by part: "parse" (reading the file), "store", "load" (stages and models),
    # each stage ("copies", "enrich", "stories") and "vectors" (within "stories").
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bcubed(pred: Sequence[Any], gold: Sequence[Any]) -> tuple[float, float, float]:
    """Returns B-cubed (precision, recall, F1), averaged over documents."""
    n = len(gold)
    if n == 0 or len(pred) != n:
        raise ValueError("bcubed needs two labelings of the same, non-empty documents")
    pair = Counter(zip(pred, gold, strict=True))
    size_p, size_g = Counter(pred), Counter(gold)
    precision = sum(c * c / size_p[p] for (p, _), c in pair.items()) / n
    recall = sum(c * c / size_g[g] for (_, g), c in pair.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def read_gold(path: Path) -> list[tuple[str, str]]:
    """Returns (document id, gold story) for every document of a gold file."""
    out = []
    for n, rec in strict_records(path):
        if rec.get("id") is None or rec.get("story") is None:
            raise InputError(f"{path}:{n}: a gold record needs 'id' and 'story'")
        out.append((str(rec["id"]), str(rec["story"])))
    if not out:
        raise InputError(f"{path}: no gold documents")
    return out


def evaluate_file(path: str | Path, *, settings: dict[str, Any] | None = None,
                  stages: Sequence[str] | None = None, workdir: str | Path | None = None,
                  inspect: Callable[[Any], None] | None = None) -> EvalResult:
    """Returns the scores of one gold file, ingested into a fresh throw-away store.

    `stages` restricts the pipeline (default: every installed stage, as `ingest` runs);
    `inspect` is called with the Desk after the ingest, before the store is thrown away.
    """
    from sklearn.metrics import adjusted_rand_score

    from newsdesk.desk import Desk

    path = Path(path)
    gold = read_gold(path)
    with tempfile.TemporaryDirectory(dir=workdir, prefix="newsdesk-eval-") as tmp:
        desk = Desk(Path(tmp) / "eval.db", settings=settings, stages=stages)
        try:
            start = time.perf_counter()
            desk.ingest(path)
            seconds = time.perf_counter() - start
            timings = {k: round(v, 3) for k, v in desk.timings.items()}
            timings["parse"] = round(max(0.0, seconds - sum(v for k, v in desk.timings.items()
                                                          if k != "vectors")), 3)
            by_source = desk.store.source_item_map(None)
            story_of = desk.store.all_memberships()
            if inspect is not None:
                inspect(desk)
        finally:
            desk.close()
    pred, labels = [], []
    for doc_id, story in gold:
        item = by_source.get(doc_id)
        # A document that produced no item or no story stands alone (it counts against us).
        pred.append(story_of.get(item, f"missing:{doc_id}") if item else f"missing:{doc_id}")
        labels.append(story)
    p, r, f = bcubed(pred, labels)
    return EvalResult(
        file=str(path), documents=len(gold), precision=round(p, 4), recall=round(r, 4), f1=round(f, 4),
        ari=round(float(adjusted_rand_score(labels, pred)), 4), stories_found=len(set(pred)),
        stories_gold=len(set(labels)), seconds=round(seconds, 3),
        items_per_second=round(len(gold) / seconds, 1) if seconds > 0 else 0.0, timings=timings,
    )


def other_orders(path: str | Path, workdir: str | Path, orders: int) -> list[Path]:
    """Returns an undated gold file in `orders` fixed shuffles, written into workdir; none for a
    file with any publication time (a dated stream arrives in time order, as listed).

    An undated file's order is an accident of how it was made (one story's reports listed
    together, or none), and the stories an online engine finds depend on the order items arrive
    in; scores over several orders say how it does on the news rather than on one order.
    The shuffles are the same on every run (seeded 1, 2, ...).
    """
    import random

    path = Path(path)
    if any(rec.get("published") for _, rec in strict_records(path)):
        return []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for k in range(1, orders + 1):
        order = list(lines)
        random.Random(k).shuffle(order)
        shuffled = Path(workdir) / f"{path.stem}-order{k}.jsonl"
        shuffled.write_text("".join(line + "\n" for line in order), encoding="utf-8")
        out.append(shuffled)
    return out


def evaluate_orders(path: str | Path, orders: int, *, settings: dict[str, Any] | None = None,
                    stages: Sequence[str] | None = None) -> list[EvalResult]:
    """Returns the scores of a gold file as listed and, when it is undated, in `orders` fixed
    shuffles (see other_orders)."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-orders-") as tmp:
        paths = [Path(path), *other_orders(path, tmp, orders)]
        results = [evaluate_file(p, settings=settings, stages=stages) for p in paths]
    for k, r in enumerate(results[1:], 1):
        r.file = f"{path} (shuffle {k})"
    return results


def evaluate(paths: Sequence[str | Path], *, settings: dict[str, Any] | None = None,
             stages: Sequence[str] | None = None) -> list[EvalResult]:
    """Returns the scores of each gold file."""
    return [evaluate_file(p, settings=settings, stages=stages) for p in paths]
