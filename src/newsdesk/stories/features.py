"""What the story stage reads from an item: weighted terms, entities, time, length.

Terms are lower-cased words without stop words, lightly stemmed, weighted by
sublinear term frequency times inverse document frequency. Title words count more
than body words, and only the lead of a long article is read (it names the event).
IDF blends a background table shipped with the package (learned from a training set)
with document frequencies learned online from the items this store has seen; a word the
stream itself uses in more than a fifth of its documents weighs by the stream's count alone.
"""

from __future__ import annotations

import gzip
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from itertools import islice
from typing import Any

from newsdesk.model import Item
from newsdesk.nlp.words import light_stem as stem
from newsdesk.nlp.words import tokeniser_for


def _english_stop_words() -> frozenset[str]:
    """Returns scikit-learn's English stop words, read from their module alone: importing
    scikit-learn's package for them cost every process start about two seconds."""
    import importlib.util

    found = importlib.util.find_spec("sklearn")  # a top-level package is found, not imported
    for folder in (found.submodule_search_locations or []) if found else []:
        spec = importlib.util.spec_from_file_location(
            "_newsdesk_sklearn_stop_words", f"{folder}/feature_extraction/_stop_words.py")
        if spec is not None and spec.loader is not None:
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
                return frozenset(module.ENGLISH_STOP_WORDS)
            except (OSError, AttributeError):
                pass
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


ENGLISH_STOP_WORDS = _english_stop_words()
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_STOP = frozenset(ENGLISH_STOP_WORDS) | frozenset(
    {"said", "says", "say", "mr", "mrs", "ms", "new", "news", "just", "like", "year", "years",
     "told", "according", "including", "percent", "also", "will", "would", "could"}
)


# A contraction of a function word ("isn't", "they're", "we'll", "it's") is a function word:
# two headlines sharing "isn't" share no news.
_CONTRACTION = re.compile(r"(.+?)(n't|'re|'ll|'ve|'d|'m|'s)")


@lru_cache(maxsize=200_000)
def _norm_word(raw: str) -> str | None:
    word = raw.casefold()
    if "’" in word:
        word = word.replace("’", "'")  # one apostrophe: "O’Neill" and "O'Neill" are one word
    if word in _STOP or len(word) < 2:
        return None
    if "'" in word:
        m = _CONTRACTION.fullmatch(word)
        if m is not None and (m.group(2) == "n't" or m.group(1) in _STOP):
            return None
    if word.isdigit() and len(word) < 3:
        return None
    word = stem(word)
    return None if word in _STOP else word


def tokens(text: str | None, limit: int | None = None) -> list[str]:
    """Returns the content words of a text, normalised, at most `limit` of them."""
    return [w for w, _ in cased_tokens(text, limit)]


def cased_tokens(text: str | None, limit: int | None = None) -> list[tuple[str, bool]]:
    """Returns (content word, written with a capital) pairs of a text, at most `limit`."""
    if not text:
        return []
    out: list[tuple[str, bool]] = []
    for m in _WORD.finditer(unicodedata.normalize("NFKC", text) if not text.isascii() else text):
        raw = m.group()
        w = _norm_word(raw)
        if w is not None:
            out.append((w, raw[0].isupper()))
            if limit is not None and len(out) >= limit:
                break
    return out


@dataclass
class Features:
    """One item as the story stage sees it."""

    item_id: str
    terms: dict[str, float]          # unit-length TF-IDF vector
    length: int                      # distinct content words read
    time: float                      # epoch seconds: published, else arrival
    dated: bool                      # whether `time` is a publication time
    source: str | None
    entities: list[str] = field(default_factory=list)
    vector: Any = None               # dense unit vector (numpy) when embeddings are on
    headline: str = ""
    article: bool = False            # a full article (long body), compared by title and lead


# A word in more than a fifth of the stream's documents, once it has this many, names the
# stream rather than an event: every headline of a city paper names the city. Weighed by the
# background alone (which has seen the city in a handful of texts), one such shared word was
# enough to join unrelated headlines: allsides-probe-train's third val-sized part as bare titles
# scored 0.722, and 0.569 with a city's name put in front of every title (0.667 with this rule;
# every visible set within 0.002 of where it was).
STREAM_DOCS = 300
STREAM_SHARE = 0.2
DF_CACHE = 200_000  # terms whose learned counts a lazy TermWeights keeps in memory


class TermWeights:
    """Inverse document frequencies: shipped background counts plus counts learned online.

    Without `lookup`, `df` holds every learned count (all given up front). With `lookup`
    (terms -> their stored counts), `df` is a cache of at most about `cache` terms, filled on
    demand: a term's entry is its stored count plus the counts still pending, so the weights
    are the same as with every count in memory, whatever the cache holds.
    """

    def __init__(self, background: dict[str, int] | None = None, background_n: int = 0,
                 lookup: Callable[[list[str]], dict[str, int]] | None = None, cache: int = DF_CACHE):
        self.bg = background if background is not None else {}
        self.bg_n = background_n
        self.df: dict[str, int] = {}
        self.n = 0
        self.pending: Counter[str] = Counter()
        self.pending_n = 0
        self.lookup = lookup
        self.cache = cache
        self.fetched = 0  # terms read through `lookup` (misses of the cache)

    def fill(self, terms: Iterable[str]) -> None:
        """Makes sure the learned counts of these terms are in `df` (lazy weights only)."""
        if self.lookup is None:
            return
        df = self.df
        if len(df) > self.cache:  # drop the older half (insertion order); they are read again when needed
            for t in list(islice(df, len(df) // 2)):
                del df[t]
        missing = [t for t in terms if t not in df]
        if not missing:
            return
        stored = self.lookup(missing)
        pending = self.pending
        for t in missing:
            df[t] = stored.get(t, 0) + pending.get(t, 0)
        self.fetched += len(missing)

    def idf(self, term: str) -> float:
        """Returns the smoothed inverse document frequency of a term."""
        learned = self.df.get(term)
        if learned is None:
            if self.lookup is not None:
                self.fill((term,))
            learned = self.df.get(term, 0)
        df = self.bg.get(term, 0) + learned
        pooled = math.log((self.bg_n + self.n + 1) / (df + 1)) + 1.0
        if self.n >= STREAM_DOCS and learned > STREAM_SHARE * self.n:
            # A word of the stream itself (the city of a local feed, the country of a topical
            # one) weighs as rarely as the stream uses it, however rare the background finds it.
            return min(pooled, math.log((self.n + 1) / (learned + 1)) + 1.0)
        return pooled

    def observe(self, terms: set[str]) -> None:
        """Counts one document's distinct terms (kept pending until saved)."""
        self.fill(terms)
        self.n += 1
        self.pending_n += 1
        df = self.df
        for t in terms:
            df[t] = df.get(t, 0) + 1
        self.pending.update(terms)

    def take_pending(self) -> tuple[int, Counter[str]]:
        """Returns and clears the counts not yet written to the store."""
        out = (self.pending_n, self.pending)
        self.pending, self.pending_n = Counter(), 0
        return out


@lru_cache(maxsize=1)
def background() -> tuple[dict[str, int], int]:
    """Returns the shipped background document frequencies and their document count."""
    try:
        raw = (resources.files("newsdesk.stories") / "background_df.json.gz").read_bytes()
    except FileNotFoundError:
        return {}, 0
    data = json.loads(gzip.decompress(raw))
    return data["df"], int(data["n"])


def lead_title(text: str | None, limit: int = 120) -> str:
    """Returns a title for an item without a headline: the first sentence of its first line,
    cut at a word boundary (with an ellipsis) when longer than `limit` characters."""
    line = " ".join((text or "").strip().split("\n", 1)[0].split())
    m = re.search(r"(?<=[.!?])\s+(?=[A-Z0-9\"“‘'(])", line)
    if m and m.start() >= 20:
        line = line[:m.start()]
    if len(line) <= limit:
        return line.rstrip(" .")
    cut = line[:limit + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut[:limit]).rstrip(" ,;:.-") + "…"


def url_headline(item: Item) -> bool:
    """Returns whether the item's title was read from its URL (a link-only record)."""
    return (item.extra or {}).get("title_from") == "url"


def item_title(item: Item) -> tuple[str, bool]:
    """Returns (title, is a headline): the item's headline, else its lead as a title.

    A headline read from the item's URL (a link-only record) is not counted as one: any
    member's own headline is a better story title.
    """
    if item.title and item.title.strip():
        return " ".join(item.title.split()), not url_headline(item)
    return lead_title(item.text), False


def item_time(item: Item) -> tuple[float, bool]:
    """Returns (epoch seconds, dated): publication time, else arrival time, else now."""
    if item.published is not None:
        t = item.published if item.published.tzinfo else item.published.replace(tzinfo=UTC)
        return t.timestamp(), True
    if item.ingested is not None:
        t = item.ingested if item.ingested.tzinfo else item.ingested.replace(tzinfo=UTC)
        return t.timestamp(), False
    return datetime.now(UTC).timestamp(), False


# A wire dateline opening a body ("ARDEN, Nov 24 (Meridian Wire) - ", "PARIS (AP) — "): the
# place it was filed from and the agency are shared by every story filed there, not the event.
_DATELINE = re.compile(
    r"\A\s*[A-Z][A-Z .'’-]{1,40}(?:,[ A-Za-z.]{0,30}\d{0,2})?\s*\([^()\n]{1,40}\)\s*[-–—]+\s+")


def strip_dateline(text: str | None) -> str | None:
    """Returns the text without a leading wire dateline (place, date and agency)."""
    if not text or "(" not in text[:90]:
        return text
    return _DATELINE.sub("", text, count=1)


def raw_counts(item: Item, params: dict[str, Any]) -> Counter[str]:
    """Returns weighted term counts: title words count `title_weight` times, lead only."""
    counts: Counter[str] = Counter()
    title_w = float(params["title_weight"])
    # Other languages' words come tokenised, stop-worded and stemmed for that language.
    tokenise = tokeniser_for(item.language) or cased_tokens
    for t, _ in tokenise(item.title, 40):
        counts[t] += title_w
    for t, _ in tokenise(strip_dateline(item.text), int(params["lead_words"])):
        counts[t] += 1.0
    return counts


def is_article(item: Item, params: dict[str, Any]) -> bool:
    """Returns whether the item's body is long enough to be a full article."""
    text = item.text or ""
    limit = int(params["article_words"])
    return len(text) > limit * 4 and len(text.split(None, limit)) > limit


def vectorise(counts: Counter[str], weights: TermWeights) -> dict[str, float]:
    """Returns the unit-length TF-IDF vector of weighted term counts."""
    weights.fill(counts)
    vec = {t: (1.0 + math.log(c)) * weights.idf(t) if c >= 1 else c * weights.idf(t)
           for t, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vec.values()))
    if norm == 0:
        return {}
    return {t: v / norm for t, v in vec.items()}


def entity_keys(item: Item) -> list[str]:
    """Returns the canonical entity keys the enrich stage left on the item, if any."""
    ents = item.annotations.get("entities") if item.annotations else None
    if not ents:
        return []
    return sorted({str(e) for e in ents if e})
