"""Semantic and hybrid search (the [embed] extra): vectors, fusion, cursors, filters."""

from __future__ import annotations

import pytest
from test_search import corpus

from newsdesk.errors import NotInstalled

BACKENDS = ("sqlite", "postgres")  # store backends these tests run on (conftest)


@pytest.fixture
def loaded(db_path):
    from newsdesk import Desk

    desk = Desk(db_path, stages=[])
    try:
        desk._search_embedder()
    except NotInstalled as e:
        desk.close()
        pytest.skip(str(e))
    desk.ingest(corpus())
    yield desk
    desk.close()


def test_semantic_finds_meaning_without_shared_words(loaded):
    assert not loaded.search("boats over the water", mode="text").hits
    page = loaded.search("boats over the water", mode="semantic", limit=1)
    assert page.hits[0].item.title.startswith("Ferries")
    assert page.mode == "semantic" and -1.0 <= page.hits[0].score <= 1.0


def test_hybrid_fuses_both_rankings(loaded):
    text_first = loaded.search("bridge", mode="text").hits[0].item.id
    hybrid = loaded.search("bridge", mode="hybrid", limit=3)
    assert hybrid.mode == "hybrid" and text_first in {h.item.id for h in hybrid.hits}
    assert any(h.title_marked for h in hybrid.hits)


def test_semantic_pages_and_filters(loaded):
    first = loaded.search("city council vote", mode="semantic", limit=2)
    second = loaded.search("city council vote", mode="semantic", limit=2, cursor=first.next_cursor)
    assert not {h.item.id for h in first.hits} & {h.item.id for h in second.hits}
    only = loaded.search("city council vote", mode="semantic", source="Coastal Wire").hits
    assert only and {h.item.source for h in only} == {"Coastal Wire"}


def test_vectors_are_indexed_once(loaded):
    loaded.search("anything at all", mode="semantic")
    assert loaded.index_vectors() == 0


def test_cli_index_vectors_then_semantic(cli, loaded):
    res = cli("search", "--index-vectors")
    assert res.exit_code == 0 and f"indexed {len(corpus())} item vectors" in res.output
    assert "indexed 0 item vectors" in cli("search", "--index-vectors").output
    res = cli("search", "boats over the water", "--mode", "semantic", "--json", "--limit", "1")
    assert res.exit_code == 0, res.output
    assert '"mode": "semantic"' in res.output and "Ferries" in res.output


def test_cli_search_needs_a_query(cli):
    res = cli("search")
    assert res.exit_code == 2 and "QUERY" in res.output


def test_auto_goes_hybrid_only_with_vectors_on_and_indexed(db_path):
    from newsdesk import Desk

    with Desk(db_path, stages=[], settings={"embed": True}) as desk:
        try:
            desk._search_embedder()
        except NotInstalled as e:
            pytest.skip(str(e))
        desk.ingest(corpus())
        assert desk.search("bridge").mode == "hybrid"  # six items waiting: one query embeds them
    with Desk(db_path, stages=[], settings={"embed": False}) as desk:
        assert desk.search("bridge").mode == "text"


def test_items_the_backend_does_not_read_are_found_by_text_not_by_vector(db_path):
    from pathlib import Path

    from newsdesk import Desk

    one_city = Path(__file__).resolve().parent / "fixtures" / "multilingual" / "one-city.jsonl"
    with Desk(db_path, stages=["copies", "stories"], settings={"embed_backend": "static"}) as desk:
        desk.ingest(one_city)
        page = desk.search("warehouse fire damage", mode="semantic", limit=30)
        assert page.unindexed == 0  # every item was read once, German and French ones too
        langs = {h.item.language for h in page.hits}
        assert langs == {"en"}, langs  # English vectors say nothing of German or French text
        assert page.hits[0].item.source_id == "en7"
        hits = desk.search("Lagerhalle", mode="text").hits
        assert [h.item.source_id for h in hits] == ["de7"]
