"""newsdesk eval: B-cubed and ARI against gold labels, every document scored."""

from __future__ import annotations

import json

import pytest

from newsdesk.evaluate import bcubed, evaluate_file, evaluate_orders, other_orders

GOLD = [
    {"id": "d1", "title": "Velmora bridge closed after crack found in main span",
     "text": "Engineers closed the Velmora suspension bridge after a crack was found in the main span.",
     "story": "bridge"},
    {"id": "d2", "title": "Crack shuts Velmora suspension bridge",
     "text": "The Velmora suspension bridge was shut after inspectors found a crack in its main span.",
     "story": "bridge"},
    {"id": "d3", "title": "Quillfield orchestra musicians strike over pay",
     "text": "Musicians of the Quillfield symphony orchestra walked out on strike over pay.",
     "story": "strike"},
    {"id": "d4", "title": "Quillfield symphony cancels concerts as orchestra strike goes on",
     "text": "The Quillfield symphony cancelled concerts as the orchestra strike over pay went on.",
     "story": "strike"},
]


def _write(tmp_path, rows):
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_bcubed_known_values():
    assert bcubed(["a", "a", "b"], ["x", "x", "y"]) == (1.0, 1.0, 1.0)
    p, r, f = bcubed(["a", "a", "a", "a"], ["x", "x", "y", "y"])
    assert (p, r) == (0.5, 1.0) and f == pytest.approx(2 / 3)
    p, r, _ = bcubed(["a", "b", "c", "d"], ["x", "x", "y", "y"])
    assert (p, r) == (1.0, 0.5)


def test_eval_scores_every_document_copies_included(tmp_path):
    # d5 repeats d1 exactly: it is the same item and is scored with d1's story.
    rows = [*GOLD, {**GOLD[0], "id": "d5"}]
    result = evaluate_file(_write(tmp_path, rows))
    assert result.documents == 5
    assert result.stories_gold == 2
    assert result.f1 == 1.0 and result.ari == 1.0 and result.stories_found == 2


def test_eval_command_prints_scores(cli, tmp_path, db_path):
    path = _write(tmp_path, GOLD)
    out = cli("eval", str(path)).output
    assert "F1 1.000" in out and "ARI 1.000" in out and "stories 2 (gold 2)" in out
    data = json.loads(cli("eval", str(path), "--json").output)
    assert data[0]["documents"] == 4 and data[0]["f1"] == 1.0
    assert set(data[0]) >= {"precision", "recall", "ari", "stories_found", "stories_gold", "items_per_second"}
    assert not db_path.exists()  # the user's store is not touched


def test_eval_rejects_records_without_gold(cli, tmp_path):
    path = _write(tmp_path, [{"id": "x", "title": "No story label here"}])
    res = cli("eval", str(path))
    assert res.exit_code == 2 and "needs 'id' and 'story'" in res.output


def test_eval_reports_where_the_time_went(tmp_path):
    result = evaluate_file(_write(tmp_path, GOLD), stages=["copies", "stories"])
    t = result.timings
    assert {"parse", "store", "load", "copies", "stories"} <= set(t)
    assert "enrich" not in t and "vectors" in t  # only what ran is counted (vectors: on by default)
    assert all(v >= 0 for v in t.values())
    assert sum(t.values()) == pytest.approx(result.seconds, abs=0.01)


def test_other_orders_shuffles_an_undated_file_the_same_way_each_run(tmp_path):
    rows = [{**GOLD[k % 4], "id": f"d{k}"} for k in range(12)]
    path = _write(tmp_path, rows)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = other_orders(path, tmp_path / "a", 2)
    again = other_orders(path, tmp_path / "b", 2)
    listed = path.read_text(encoding="utf-8").splitlines()
    orders = [p.read_text(encoding="utf-8").splitlines() for p in first]
    assert len(orders) == 2
    assert all(sorted(o) == sorted(listed) for o in orders)  # the same records ...
    assert all(o != listed for o in orders) and orders[0] != orders[1]  # ... in other orders
    assert orders == [p.read_text(encoding="utf-8").splitlines() for p in again]  # fixed shuffles


def test_other_orders_leaves_a_dated_file_in_time_order(tmp_path):
    rows = [dict(r, published=f"2026-03-0{k + 1}T10:00:00Z") for k, r in enumerate(GOLD)]
    assert other_orders(_write(tmp_path, rows), tmp_path, 2) == []


def test_eval_command_scores_other_orders_and_their_mean(cli, tmp_path):
    path = _write(tmp_path, GOLD)
    out = cli("eval", str(path), "--orders", "2").output
    assert out.count("docs  B3") == 3 and "(shuffle 1)" in out and "(shuffle 2)" in out
    assert "mean F1 over 3 orders 1.000" in out
    results = evaluate_orders(path, 2)
    assert [r.documents for r in results] == [4, 4, 4] and all(r.f1 == 1.0 for r in results)
    dated = _write(tmp_path, [dict(r, published="2026-03-01T10:00:00Z") for r in GOLD])
    assert "dated, scored in time order only" in cli("eval", str(dated), "--orders", "2").output
