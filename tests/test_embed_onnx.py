"""The onnx backend (all-MiniLM-L6-v2, int8, ONNX Runtime): close to torch MiniLM on real
data, chosen by setting, bad input, and as the cascade's refiner."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from conftest import DATA
from test_embed import BAD, RELATED, T0, UNRELATED, backends

from newsdesk.errors import NotInstalled
from newsdesk.model import Item
from newsdesk.nlp import embed


@pytest.fixture(scope="module")
def onnx():
    pytest.importorskip("onnxruntime", reason="the [embed-onnx] extra (onnxruntime) is not installed")
    try:
        return embed.load_embedder("onnx")
    except NotInstalled as e:  # no model file and nothing to build it with
        pytest.skip(str(e))


def real_texts() -> list[str]:
    """Headlines and article leads from the shared sets (the test's own pairs without them)."""
    texts = [t for pair in RELATED + UNRELATED for t in pair]
    if DATA.is_dir():
        for name, n in (("googlenews-headlines", 150), ("ecbplus", 50)):
            with open(DATA / f"{name}.jsonl", encoding="utf-8") as fh:
                for line in list(fh)[:n]:
                    rec = json.loads(line)
                    texts.append(f"{rec.get('title') or ''}\n{rec.get('text') or ''}".strip())
    return texts


def test_onnx_vectors_are_close_to_torch_minilm(onnx):
    if "minilm" not in backends():
        pytest.skip("the [embed] extra (torch MiniLM, the reference) is not installed")
    texts = real_texts()
    a = onnx.inner.encode(texts)  # not the cache: every text through the model
    b = embed.load_embedder("minilm").inner.encode(texts)
    cos = (a * b).sum(axis=1)
    assert a.shape == b.shape == (len(texts), 384)
    assert float(cos.mean()) >= 0.99, float(cos.mean())
    assert float(cos.min()) >= 0.97, float(cos.min())


def test_onnx_ranks_related_pairs_above_unrelated(onnx):
    a = onnx.encode([p[0] for p in RELATED + UNRELATED])
    b = onnx.encode([p[1] for p in RELATED + UNRELATED])
    sims = (a * b).sum(axis=1)
    assert sims[:len(RELATED)].min() > sims[len(RELATED):].max(), sims


def test_onnx_is_chosen_by_setting(onnx, db_path, monkeypatch):
    from newsdesk import Desk

    monkeypatch.setenv("NEWSDESK_EMBED_BACKEND", "onnx")
    assert embed.backend_name() == "onnx"
    monkeypatch.delenv("NEWSDESK_EMBED_BACKEND")
    with Desk(db_path, stages=["copies", "stories"], settings={"embed_backend": "onnx"}) as d:
        d.ingest([Item(title=a, text=b, source=f"Wire {i}", published=T0 + timedelta(hours=i))
                  for i, (a, b) in enumerate(RELATED)])
        stage = next(s for s in d.stages if s.name == "stories")
        assert stage.embedder is onnx
        assert d.search("gale topples bridge", mode="semantic").hits


def test_onnx_bad_input_gets_a_vector_or_a_clear_skip(onnx):
    out = onnx.inner.encode(list(BAD.values()))
    assert out.shape == (len(BAD), 384) and np.isfinite(out).all()
    norms = dict(zip(BAD, np.linalg.norm(out, axis=1), strict=True))
    for name, n in norms.items():
        assert abs(n - 1) < 1e-3 or n == 0, name
    assert norms["empty"] == 0
    for name in ("1 MB", "Cyrillic", "CJK", "Arabic", "20 KB of one punctuation character"):
        assert norms[name] > 0, name


def test_missing_onnx_model_names_what_to_install(onnx, tmp_path, monkeypatch):
    from newsdesk.nlp import embed_onnx

    monkeypatch.setenv("NEWSDESK_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(embed_onnx, "ONNX_FILE", "no-such-model.onnx")
    with pytest.raises(NotInstalled) as e:
        embed_onnx.load_onnx(embed.static_vocab(), build=False)
    assert "embed-onnx" in str(e.value) and "build_onnx_minilm.py" in str(e.value)
    assert len(str(e.value).splitlines()) == 1


def _cascade(db_path, new: bool) -> tuple[int, int, int]:
    """Returns (refiner calls, texts the onnx model encoded, items) for a small cascade run."""
    from newsdesk import Desk

    items = [Item(title=a, text=b, source=f"Wire {i}", published=T0 + timedelta(hours=i))
             for i, (a, b) in enumerate(RELATED + UNRELATED)]
    items += [Item(title=f"{b} ({k})", source=f"Post {i}", kind="headline", published=T0 + timedelta(hours=10 + i))
              for k in range(2) for i, (_, b) in enumerate(RELATED)]
    if db_path.exists():
        db_path.unlink()
    refiner = embed.load_embedder("onnx")
    before = refiner.calls
    settings = {"embed_backend": "cascade", "embed_cascade_margin": 10.0, "embed_cascade_new": new,
                "embed_cascade_refiner": "onnx"}
    with Desk(db_path, stages=["copies", "stories"], settings=settings) as d:
        d.ingest(items)
        stage = next(s for s in d.stages if s.name == "stories")
        assert stage.refiner is refiner and stage.embedder is not refiner
        return stage.refine_calls, refiner.calls - before, len(items)


def test_cascade_refines_with_onnx_and_optionally_the_items_without_a_candidate(onnx, db_path):
    calls, asked, n = _cascade(db_path, new=False)
    assert 0 < calls < n and asked == calls  # only decisions with a candidate story
    calls_new, asked_new, n = _cascade(db_path, new=True)
    assert calls_new == asked_new and calls < calls_new <= n  # also the items with no candidate


def test_onnx_batches_stay_within_their_token_budget(onnx, monkeypatch):
    # Hundreds of short titles sorted before a few long articles: each run of the model is
    # padded to its longest text, so a batch sized by its first (shortest) text took the long
    # ones along with hundreds of rows (2.75 GB on giveme5w1h's articles and titles).
    from newsdesk.nlp import embed_onnx

    inner = onnx.inner
    shapes: list[tuple[int, int]] = []
    real_run = inner.session.run

    def run(outputs, feed):
        shapes.append(feed["input_ids"].shape)
        return real_run(outputs, feed)

    monkeypatch.setattr(inner, "session", type("S", (), {"run": staticmethod(run),
                                                         "get_inputs": inner.session.get_inputs})())
    titles = [f"Harbour strike day {i} as cranes stand idle at Kelso Quay" for i in range(300)]
    long = [" ".join(["The dockworkers said the talks would go on through the week."] * 40)] * 5
    vecs = inner.encode(titles + long)
    assert vecs.shape == (305, 384) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert shapes and all(rows * cols <= embed_onnx.BATCH_TOKENS or rows == 1 for rows, cols in shapes), shapes
