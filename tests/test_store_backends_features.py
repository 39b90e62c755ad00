"""Outlets, blindspots, languages, search without spaces, item notes and sign-in sessions on
PostgreSQL: the same tests as on SQLite (their own modules), run here on the PostgreSQL store."""

from __future__ import annotations

import pytest
from conftest import PG, PG_SKIP, pg_drop_database, pg_fresh_database
from test_hardening import (  # noqa: F401
    test_each_sign_in_has_its_own_session_and_sign_out_revokes_it,
    test_id_prefix_lookup_treats_wildcards_as_characters,
    test_item_over_the_entity_budget_is_stored_without_entities_and_show_says_so,
    test_moving_an_item_moves_its_entity_counts,
)
from test_languages import (  # noqa: F401
    multi,
    test_every_item_stores_a_language_declared_or_detected,
    test_language_filter_in_cli_and_api,
    test_language_filters_and_stats,
    test_search_finds_words_in_each_script,
    test_search_without_spaces_marks_matches_and_respects_filters,
)
from test_outlets import (  # noqa: F401
    HERE,
    STAGES,
    test_a_store_export_carries_outlets,
    test_blindspots,
    test_copies_owners_and_one_page_dump_count_once,
    test_coverage_by_attribute,
    test_names_domains_and_aliases_resolve_to_one_outlet,
    test_owners_imported_later_recount_stories,
)

from newsdesk import Desk

BACKENDS = ("postgres",)  # the SQLite runs are in the modules named above


@pytest.fixture(scope="module")
def fixture_desk():
    """Returns a desk over the outlets fixture, on a PostgreSQL database."""
    if not PG:
        pytest.skip(PG_SKIP)
    address = pg_fresh_database()
    desk = Desk(address, stages=STAGES)
    report = desk.import_outlets(HERE / "outlets.csv")
    assert report["added"] == 7 and not report["problems"]
    desk.ingest(HERE / "stories.jsonl")
    desk.ingest(HERE / "page-dump.txt")
    yield desk
    desk.close()
    pg_drop_database(address)


def test_a_blindspot_watch_fires_on_postgresql(db_path, tmp_path):
    import json

    from test_outlets import story_of

    with Desk(db_path, stages=STAGES) as desk:
        desk.import_outlets(HERE / "outlets.csv")
        desk.add_watch("blindspot", "lean")
        lines = (HERE / "stories.jsonl").read_text(encoding="utf-8").splitlines()
        first = [x for x in lines if json.loads(x)["id"] in ("dam-1", "dam-3")]
        rest = [x for x in lines if json.loads(x)["id"] not in ("dam-1", "dam-3")]
        (tmp_path / "a.jsonl").write_text("\n".join(first), encoding="utf-8")
        (tmp_path / "b.jsonl").write_text("\n".join(rest), encoding="utf-8")
        desk.ingest(tmp_path / "a.jsonl")
        assert desk.check_watches() == []
        desk.ingest(tmp_path / "b.jsonl")
        fired = desk.check_watches()
        assert [a["story"] for a in fired] == [story_of(desk, "dam-1")]
        assert fired[0]["sources"] == 4


def test_a_writer_kept_waiting_gets_store_busy_exit_7_on_postgresql(db_path, tmp_path, monkeypatch):
    import psycopg
    from click.testing import CliRunner

    from newsdesk.cli import main
    from newsdesk.errors import StoreBusy
    from newsdesk.store.postgres import WRITE_LOCK

    path = tmp_path / "a.jsonl"
    path.write_text('{"title": "Ferry fees rise", "text": "The council voted on Tuesday."}\n', encoding="utf-8")
    with Desk(db_path, stages=[], settings={"busy_timeout": 0.3}) as desk:
        other = psycopg.connect(db_path)  # another writer, in the middle of its transaction
        try:
            other.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            with pytest.raises(StoreBusy, match="store busy, retry"):
                desk.ingest(path)
            monkeypatch.setenv("NEWSDESK_BUSY_TIMEOUT", "0.2")
            result = CliRunner().invoke(main, ["--db", db_path, "ingest", "--no-progress", str(path)])
            assert result.exit_code == 7, result.output
            assert "store busy, retry" in result.output and "Traceback" not in result.output
        finally:
            other.rollback()
            other.close()
        assert desk.ingest(path).new == 1  # the lock released: the same write goes through
