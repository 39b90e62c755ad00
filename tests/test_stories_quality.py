"""Quality gate: story clustering F1 on every visible gold set must not drop below pinned minimums.

Runs the whole ingest path (parse, store, copies, stories) with the shipped settings; the
entity stage is left out to keep the gate cheap and independent of the NLP models.
"""

from __future__ import annotations

import pytest

from newsdesk.evaluate import evaluate_file

# Held-out B-cubed F1 from `python benchmarks/cluster.py --tune --held-out` with the default
# embedding backend (static): each set scored at the point chosen without it (allsides-probe-val
# is never tuned on), minus 0.02 of slack.
PINNED = {
    "allsides-probe-val": 0.846,  # held out 0.866
    # held out 0.876 (0.955 in sample): without it the time penalty is chosen by giveme5w1h
    # alone, which prefers 0.1 since the static vectors weigh titles (README, Quality).
    "allsides-stream": 0.856,
    "ecbplus": 0.857,  # held out 0.877 (0.877 in sample)
    "giveme5w1h": 0.887,  # held out 0.907 (0.926 in sample)
    # held out 0.812 (0.812 in sample); the point chosen without it has flipped between headline
    # thresholds 0.10 and 0.14 on near ties before (README, Quality).
    "googlenews-headlines": 0.792,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(PINNED))
def test_story_f1_does_not_drop(shared_data, name):
    result = evaluate_file(shared_data / f"{name}.jsonl", stages=["copies", "stories"])
    assert result.documents > 0
    assert result.f1 >= PINNED[name], f"{name}: B-cubed F1 {result.f1:.3f} < pinned {PINNED[name]:.3f}"
