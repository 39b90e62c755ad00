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
    "allsides-probe-val": 0.839,  # held out 0.859
    "allsides-stream": 0.889,  # held out 0.909 (0.953 in sample)
    "ecbplus": 0.861,  # held out 0.881 (0.881 in sample)
    "giveme5w1h": 0.865,  # held out 0.885 (0.906 in sample)
    # held out 0.784 (0.806 in sample): without it the other sets' best mean flips between
    # headline thresholds 0.10 and 0.14 by 0.0004 (README, Quality); the pin stays at the
    # figure of the 0.14 side rather than loosen for a tie.
    "googlenews-headlines": 0.786,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(PINNED))
def test_story_f1_does_not_drop(shared_data, name):
    result = evaluate_file(shared_data / f"{name}.jsonl", stages=["copies", "stories"])
    assert result.documents > 0
    assert result.f1 >= PINNED[name], f"{name}: B-cubed F1 {result.f1:.3f} < pinned {PINNED[name]:.3f}"
