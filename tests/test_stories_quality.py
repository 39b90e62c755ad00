"""Quality gate: story clustering F1 on shared gold sets must not drop below pinned minimums.

Runs the whole ingest path (parse, store, copies, stories) with the shipped settings; the
entity stage is left out to keep the gate cheap and independent of the NLP models.
"""

from __future__ import annotations

import pytest

from newsdesk.evaluate import evaluate_file

# B-cubed F1 reached when the settings were fixed, minus 0.02 of slack.
PINNED = {
    "allsides-probe-val": 0.838,  # reached 0.858 (held out: never used for tuning)
    "ecbplus": 0.859,  # reached 0.879
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(PINNED))
def test_story_f1_does_not_drop(shared_data, name):
    result = evaluate_file(shared_data / f"{name}.jsonl", stages=["copies", "stories"])
    assert result.documents > 0
    assert result.f1 >= PINNED[name], f"{name}: B-cubed F1 {result.f1:.3f} < pinned {PINNED[name]:.3f}"
