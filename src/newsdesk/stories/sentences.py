"""Sentences and term vectors shared by titles, summaries, timelines and change reports.

Everything here is pure: lists of items in, plain data out, so the same code serves the
store-backed Desk calls, the tests and the summary benchmark.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import sparse

from newsdesk.model import Item

LOGGER = logging.getLogger(__name__)

# Words before a full stop that do not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "lt", "col", "sgt", "capt",
    "st", "jr", "sr", "inc", "corp", "co", "ltd", "vs", "no", "nos", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mt", "ft", "pres", "rev", "hon",
    "approx", "est", "dept", "univ", "adm", "cmdr", "maj", "supt", "atty", "u.s", "u.k", "u.n",
    "e.g", "i.e", "etc", "al", "d.c", "a.m", "p.m",
}
# A boundary starts at the first mark of a run ("...", "?!"): tried from every mark of a long
# run, a text of 20,000 dots took 5 s to split, every time a summary read it.
_BOUNDARY = re.compile(r"(?<![.!?])([.!?]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_WS = re.compile(r"\s+")

_STOP_TEXT = """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    said says say s t it's don't told new one two may might must shall amid"""
STOP_WORDS = frozenset(_STOP_TEXT.split())


def clean(text: str | None) -> str:
    """Returns text with normalised unicode and single spaces."""
    if not text:
        return ""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def split_sentences(text: str | None) -> list[str]:
    """Returns the sentences of a text, paragraph breaks included as boundaries."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n|\n", text or ""):
        para = clean(para)
        if not para:
            continue
        start = 0
        for m in _BOUNDARY.finditer(para):
            before = para[start : m.start(1)]
            last = before.rsplit(" ", 1)[-1].lower().strip("\"'“‘(")
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
            out.append(para[start : m.end(1)].strip())
            start = m.end()
        tail = para[start:].strip()
        if tail:
            out.append(tail)
    return out


@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Returns a crude stem: enough to match plurals and simple verb forms."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            base = word[: len(word) - len(suffix)] + keep
            if suffix in ("ed", "ing") and len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiouls":
                base = base[:-1]  # stopped -> stop; but not "fall" or "press"
            return base
    return word


def words(text: str) -> list[str]:
    """Returns the lower-cased words of a text."""
    return [w.replace("’", "'") for w in _WORD.findall(text.casefold())]


def terms(text: str) -> list[str]:
    """Returns the content terms of a text: stemmed words without stop words or numbers alone."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS and len(w) > 1 and not w.isdigit()]


@dataclass
class Sentence:
    """One sentence of one member item (or its headline), with where it sits."""

    text: str
    item_id: str
    position: int  # 0 = headline or first sentence of the text
    is_title: bool = False
    terms: list[str] = field(default_factory=list, repr=False)

    @property
    def n_words(self) -> int:
        return len(words(self.text))


def item_sentences(item: Item, *, with_title: bool = False, max_sentences: int = 40) -> list[Sentence]:
    """Returns the sentences of an item's text (and its title when asked), in order.

    Results are shared between calls (title, summary and timeline read the same items):
    treat them as read-only.
    """
    return _item_sentences(item.id, item.title, item.text, with_title, max_sentences)


@functools.lru_cache(maxsize=4096)
def _item_sentences(
    item_id: str, title: str | None, text: str | None, with_title: bool, max_sentences: int
) -> list[Sentence]:
    item = Item(title=title, text=text or "", id=item_id)
    out: list[Sentence] = []
    if with_title and item.title:
        title = clean(item.title)
        out.append(Sentence(title, item.id, 0, True, terms(title)))
    for i, sentence in enumerate(split_sentences(item.text)[:max_sentences]):
        out.append(Sentence(sentence, item.id, i, False, terms(sentence)))
    return out


class Vectoriser:
    """TF-IDF over a small vocabulary (one story); rows are sparse and L2-normalised."""

    def __init__(self, documents: Sequence[Sequence[str]]):
        vocab: dict[str, int] = {}
        for doc in documents:
            for t in doc:
                vocab.setdefault(t, len(vocab))
        self.vocab = vocab
        df = np.zeros(len(vocab))
        for doc in documents:
            for t in set(doc):
                df[vocab[t]] += 1
        n = max(len(documents), 1)
        self.idf = np.log((1 + n) / (1 + df)) + 1.0

    def transform(self, documents: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Returns one L2-normalised TF-IDF row per document (unknown terms ignored)."""
        vocab = self.vocab
        rows = [i for i, doc in enumerate(documents) for t in doc if t in vocab]
        cols = [vocab[t] for doc in documents for t in doc if t in vocab]
        mat = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                                shape=(len(documents), max(len(vocab), 1)))
        mat.sum_duplicates()
        mat.data = (1.0 + np.log(mat.data)) * self.idf[mat.indices]
        norms = np.sqrt(np.asarray(mat.multiply(mat).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ mat)


def unit(v: np.ndarray) -> np.ndarray:
    """Returns v scaled to length 1 (a zero vector stays zero), flattened."""
    v = np.asarray(v).ravel()
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """Returns the Jaccard overlap of two term sets."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def near_duplicate(a: Sequence[str], b: Sequence[str], threshold: float = 0.6) -> bool:
    """Returns whether two term lists say the same thing (overlap or containment)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return False
    inter = len(sa & sb)
    if inter / len(sa | sb) >= threshold:
        return True
    # A shortened copy of a sentence (a lede trimmed by an outlet) counts too.
    return min(len(sa), len(sb)) >= 5 and inter / min(len(sa), len(sb)) >= 0.85


def _binary(term_lists: Sequence[Sequence[str]], vocab: dict[str, int]) -> sparse.csr_matrix:
    rows, cols = [], []
    for i, tl in enumerate(term_lists):
        for t in set(tl):
            rows.append(i)
            cols.append(vocab.setdefault(t, len(vocab)))
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(term_lists), len(vocab) or 1))


def novelty(
    blocks: Sequence[Sequence[Sequence[str]]],
    prior: Sequence[Sequence[str]] = (),
    threshold: float = 0.6,
) -> list[list[bool]]:
    """Returns, block by block, whether each term list is new: no near-duplicate earlier.

    Blocks come in time order (one per member); a term list is compared with `prior` and with
    every term list of earlier blocks, by the same rule as `near_duplicate`, using sparse
    products so that stories of hundreds of members stay fast.
    """
    flat = [list(t) for t in prior] + [list(t) for b in blocks for t in b]
    if not flat:
        return [[] for _ in blocks]
    vocab: dict[str, int] = {}
    mat = _binary(flat, vocab)
    sizes = np.asarray(mat.sum(axis=1)).ravel()
    out: list[list[bool]] = []
    start = len(prior)
    for block in blocks:
        end = start + len(block)
        if start == 0 or end == start:
            out.append([bool(sizes[k] > 0) for k in range(start, end)])
            start = end
            continue
        inter = (mat[start:end] @ mat[:start].T).toarray()
        a = sizes[start:end, None]
        b = sizes[None, :start]
        union = np.maximum(a + b - inter, 1)
        smaller = np.minimum(a, b)
        dup = (inter / union >= threshold) | ((smaller >= 5) & (inter >= 0.85 * np.maximum(smaller, 1)))
        dup &= (a > 0) & (b > 0)
        out.append([bool(sizes[start + k] > 0 and not dup[k].any()) for k in range(len(block))])
        start = end
    return out


@dataclass
class Member:
    """One independent report in a story: a canonical item and the copies folded under it."""

    item: Item
    copies: list[Item] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def sources(self) -> list[str]:
        """Returns the distinct sources of the item and its copies, canonical first."""
        seen: list[str] = []
        for it in [self.item, *self.copies]:
            if it.source and it.source not in seen:
                seen.append(it.source)
        return seen

    @property
    def item_ids(self) -> list[str]:
        return [self.item.id, *(c.id for c in self.copies)]


def when(item: Item) -> datetime:
    """Returns the time an item counts at: published, else ingested, else the epoch (UTC)."""
    t = item.published or item.ingested
    if t is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Returns the time with a time zone: a naive time is taken as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def fold_copies(items: Sequence[Item], copies: Mapping[str, str] | None = None) -> list[Member]:
    """Returns the story's members with copies folded under their canonical item, by time.

    `copies` maps an item id to its canonical item id; items absent from it (or mapped to
    themselves) are canonical. A copy whose canonical item is not in `items` stands alone.
    """
    copies = copies or {}
    present = {it.id for it in items}
    members: dict[str, Member] = {}
    pending: list[Item] = []
    for it in sorted(items, key=when):  # stable: arrival order breaks ties
        canon = copies.get(it.id, it.id)
        if canon == it.id or canon not in present:
            members.setdefault(it.id, Member(it))
        else:
            pending.append(it)
    for it in pending:
        canon = copies[it.id]
        members.setdefault(canon, Member(next(i for i in items if i.id == canon))).copies.append(it)
    return sorted(members.values(), key=lambda m: when(m.item))
