"""Quality gate: story clustering F1 on every visible gold set must not drop below pinned minimums.

Runs the whole ingest path (parse, store, copies, stories) with the shipped settings; the
entity stage is left out to keep the gate cheap and independent of the NLP models. An undated
set is scored as listed and in two fixed shuffles, its F1 the mean of the three, as the tuning
benchmark scores it (its order is an accident of the file; `newsdesk eval --orders`).
"""

from __future__ import annotations

import pytest

from newsdesk.evaluate import evaluate_orders

ORDERS = 2  # fixed shuffles of an undated set, as benchmarks/cluster.py ORDERS

# Held-out B-cubed F1 from `python benchmarks/cluster.py --tune --held-out` with the default
# embedding backend (static): each set scored at the point chosen without it (allsides-probe-val
# is never tuned on), an undated set the mean over its three orders, minus 0.02 of slack.
PINNED = {
    "allsides-probe-val": 0.829,  # held out 0.849 (0.857 at the lede threshold 0.20 shipped before)
    # held out 0.880 (0.960 in sample): without it the time penalty is chosen by giveme5w1h
    # alone, which prefers 0.1 since the static vectors weigh titles (README, Quality).
    "allsides-stream": 0.860,
    "ecbplus": 0.866,  # held out 0.886 (0.892 in sample)
    "giveme5w1h": 0.887,  # held out 0.907 (0.925 in sample)
    # held out 0.792 (0.792 in sample: 0.810 as listed, 0.777 and 0.790 in the two shuffles)
    "googlenews-headlines": 0.772,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(PINNED))
def test_story_f1_does_not_drop(shared_data, name):
    results = evaluate_orders(shared_data / f"{name}.jsonl", ORDERS, stages=["copies", "stories"])
    assert all(r.documents > 0 for r in results)
    f1 = sum(r.f1 for r in results) / len(results)
    orders = ", ".join(f"{r.f1:.3f}" for r in results)
    assert f1 >= PINNED[name], f"{name}: B-cubed F1 {f1:.3f} (orders: {orders}) < pinned {PINNED[name]:.3f}"
