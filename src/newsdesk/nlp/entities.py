"""The spaCy extractor: named entities, roles, dates, figures and keyphrases of items.

Only the components enrichment needs run (the lemmatizer and attribute ruler are switched
off). Large batches are split between this process and worker processes that each hold the
model (setting `enrich_workers`); a body is read up to `enrich_max_words` words.

Two things keep the model fast on a few cores, without changing what it finds: BLAS is
held to one thread while items are analysed, so each worker's BLAS threads do not compete with
the other workers for the cores; and the named-entity model computes its own token vectors a
few documents at a time (`T2V_CHUNK` tokens) while its transition loop still steps through the whole
batch together. Token vectors for a batch of 256 articles fill arrays of over a hundred
megabytes, and allocating and sweeping them cost more than the layers' arithmetic: on the
shared full-text sets the named-entity model runs about a quarter faster in chunks of 4 articles.
Chunks are cut by tokens, not documents: four headlines a pass made the layers' per-call cost
dominate a headline stream.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from newsdesk.cores import one_blas_thread
from newsdesk.model import HEADLINE, Item
from newsdesk.nlp.base import NAMED_TYPES, DateMention, Enrichment, EntityExtractor, Mention

LOGGER = logging.getLogger(__name__)

_OFF = ("lemmatizer", "attribute_ruler")
PARSE_MODES = ("needed", "all")
_SPACE = re.compile(r"\S+")
# Starting a worker costs seconds (it loads the model), so an extractor reads in-process until
# it has read WARM_WORDS in all (a long ingest: a 500-headline batch holds about 3,000 words),
# then starts the workers in the background and goes on reading in-process while they load;
# once they are ready, any batch of BATCH_MIN_WORDS or more is shared with them (a live poll's
# few items are not). A batch of POOL_MIN_WORDS or more is worth waiting for them.
WARM_WORDS = 3_000
POOL_MIN_WORDS = 20_000
BATCH_MIN_WORDS = 1_000
# A batch is read in parts of about PART_WORDS words (at most MAX_PARTS), here or by the
# workers alike: names one item of a part gives tag the others of that part, so the parts are
# cut from the batch alone, and what is found does not depend on which process read a part or
# on when the workers were ready. 80 headlines are about a tenth of a second: small enough that
# this process and the workers end a shared batch together, large enough that a part's fixed
# costs (some milliseconds) stay small (see `Ahead`). Parts of 2,000 words left this process
# waiting for the worker's last two parts after each batch's stories (googlenews-headlines
# 664-693 items/s, against 716-737).
PART_WORDS = 500
MAX_PARTS = 32
# A caseless headline's names are the words its body writes with a capital, when the body has
# at least this many words (a shorter one may not name them all).
EVIDENCE_WORDS = 20
# Tokens per pass (whole documents) of the named-entity model's token-vector layers (see the module docstring).
T2V_CHUNK = 1_500  # tokens: about four articles, or two hundred headlines
# Tokens per batch handed to the models (whole documents). A batch's arrays grow with its tokens:
# a fixed 256 documents a batch was a few thousand tokens of headlines but 200,000 of long
# articles, and 210 giveme5w1h articles then took 1.2 GB over the loaded model (150 MB with
# 16 documents a batch, and faster).
BATCH_TOKENS = 4_000


def token_batches(docs: Sequence[Any], limit: int) -> list[list[Any]]:
    """Returns docs in order, cut into runs of at most `limit` tokens (a longer doc alone)."""
    batches: list[list[Any]] = []
    run: list[Any] = []
    tokens = 0
    for doc in docs:
        n = len(doc)
        if run and tokens + n > limit:
            batches.append(run)
            run, tokens = [], 0
        run.append(doc)
        tokens += n
    if run:
        batches.append(run)
    return batches


def numpy_matmul(nlp) -> None:
    """Makes every model of a loaded spaCy pipeline multiply its matrices with numpy's BLAS.

    thinc multiplies with its bundled BLIS by default. On this project's 2-core machine BLIS
    reached about 30 GFLOP/s against numpy's OpenBLAS at about 87 per core, and the named-entity
    model spent half its time in those products: googlenews headlines through the model alone
    1,120 -> 1,753 a second, ecbplus articles 24 -> 39, the same entities (README, "What the
    stage costs"). The models run inside `one_blas_thread`, so each process still uses one core.
    Only thinc's plain CPU ops are replaced: a GPU's, or Apple's accelerated ones, stay.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, pipe in nlp.components:
        model = getattr(pipe, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if type(node.ops) is NumpyOps:
                node.ops = ops


def missing(model: str) -> str | None:
    """Returns what is missing to run `model` ('spaCy', 'spaCy model X'), or None."""
    if not _importable("spacy"):
        return "entity extraction (spaCy is not installed)"
    if Path(model).exists():
        return None
    if not re.fullmatch(r"[A-Za-z_][\w.]*", model) or not _importable(model):
        return f"entity extraction (spaCy model {model!r} is not installed)"
    return None


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a blocked or half-installed package
        return False


def cap_words(text: str, max_words: int) -> str:
    """Returns the text cut after max_words words (all of it when max_words is 0)."""
    if max_words <= 0:
        return text
    for i, m in enumerate(_SPACE.finditer(text)):
        if i == max_words:
            return text[: m.start()].rstrip()
    return text


# spaCy's tokenizer peels prefixes and suffixes one at a time off each space-free chunk and
# copies what is left, so a run of punctuation costs time quadratic in its length (20,000
# quotation marks took 40 s). `defuse` keeps such runs short; offsets do not move.
_PUNCT_RUN = re.compile(r"(?:[^\w\s]|_){9,}")
_LONG_CHUNK = re.compile(r"\S{65,}")
DEFUSE_KEEP = 8  # punctuation marks kept at the start of a run
# Tokens the models read per word of `enrich_max_words`: an article's 1,500 words are about 1,800
# tokens, but a 100 KB text of "a-" has 1,563 words (broken every 64 characters) and 100,000
# tokens, which took the models 9 s.
TOKENS_PER_WORD = 3
CHUNK_MAX = 64  # longest space-free run the tokenizer sees


def defuse(text: str) -> str:
    """Returns text of the same length that tokenizes in linear time.

    A run of 9 or more punctuation marks keeps its first 8 and the rest become spaces; a
    space-free run longer than 64 characters gets a space every 64. Entities are read from
    the original text at the same offsets.
    """
    if len(text) < 9:
        return text
    text = _PUNCT_RUN.sub(lambda m: m.group()[:DEFUSE_KEEP].ljust(len(m.group())), text)
    return _LONG_CHUNK.sub(lambda m: _break(m.group()), text)


def _break(chunk: str) -> str:
    """Returns the chunk with every CHUNK_MAX-th character replaced by a space."""
    chars = list(chunk)
    for i in range(CHUNK_MAX - 1, len(chars), CHUNK_MAX):
        chars[i] = " "
    return "".join(chars)


def _word_count(item: Item, max_words: int) -> int:
    n = len((item.title or "").split()) + len((item.text or "").split())
    return min(n, max_words + 40) if max_words > 0 else n


class Analyzer:
    """Holds one loaded spaCy pipeline and turns items into enrichments."""

    def __init__(self, model: str, max_words: int = 0, parse: str = "needed", budget: float = 0.0):
        import spacy

        from newsdesk.nlp.headlines import Truecaser, common_words, verb_lemmas

        if parse not in PARSE_MODES:
            from newsdesk.errors import InputError

            raise InputError(f"enrich_parse {parse!r}: use one of {', '.join(PARSE_MODES)}")
        nlp = spacy.load(model)
        for name in _OFF:
            if name in nlp.pipe_names:
                nlp.disable_pipe(name)
        self.nlp = nlp
        if _ner_stands_alone(nlp):
            _chunk_token_vectors(nlp.get_pipe("ner").model, T2V_CHUNK)
        numpy_matmul(nlp)
        self.max_words = max_words
        self.budget = budget  # seconds one item may take (0: no limit)
        self.truecaser = Truecaser(*common_words(nlp))
        self.truecaser.verbs = verb_lemmas(nlp)
        self.partial = None
        self._known: KnownNames | None = None
        if parse == "needed" and _ner_stands_alone(nlp):
            from newsdesk.nlp.parse import PartialParser

            self.partial = PartialParser(nlp)

    def _known_base(self, known: dict[str, str]) -> KnownNames:
        """Returns what is derived from the desk's known names, kept while they stay the same
        (the parts of one batch, the batches of a run between new names)."""
        if self._known is None or self._known.raw != known:
            self._known = KnownNames(known, self.truecaser)
        return self._known

    def _tokenize(self, texts: list[str], spent: list[float]) -> list:
        """Returns a Doc per text, each made from its defused text and timed into `spent`.

        A text whose tokens already took its item's budget becomes an empty Doc, so the
        models do not read it.
        """
        clock = time.perf_counter
        docs = []
        for i, text in enumerate(texts):
            start = clock()
            doc = self.nlp.make_doc(defuse(text))
            if self.max_words and len(doc) > self.max_words * TOKENS_PER_WORD:
                # Words are counted between spaces: "a-b-c-..." is one word of many tokens.
                doc = doc[: self.max_words * TOKENS_PER_WORD].as_doc()
            spent[i] += clock() - start
            if self.budget and spent[i] > self.budget:
                doc = self.nlp.make_doc("")
            docs.append(doc)
        return docs

    def _pipe(self, docs: list) -> list:
        """Returns the docs through the enabled pipes, a batch of about BATCH_TOKENS tokens at a time."""
        # An empty doc (an item without a title, say) has nothing for a model to read.
        full = [d for d in docs if len(d)]
        done: list = []
        for batch in token_batches(full, BATCH_TOKENS):
            done.extend(self.nlp.pipe(batch, batch_size=len(batch)))
        if len(full) == len(docs):
            return done
        piped = iter(done)
        return [next(piped) if len(d) else d for d in docs]

    def _bodies(self, texts: list) -> list:
        """Returns the parsed bodies: NER everywhere, the parse where it is needed."""
        if self.partial is None:
            return self._pipe(texts)
        with self.nlp.select_pipes(enable=["ner"]):
            docs = self._pipe(texts)
        self.partial(docs)
        return docs

    def analyse_parts(self, parts: list[list[Item]], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns one Enrichment per item of the parts, in order, each part read as one batch."""
        with one_blas_thread():
            return [enr for part in parts for enr in self._analyse(part, known)]

    def analyse(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns one Enrichment per item.

        Bodies are read first: the names they hold join `known` (name -> type), which keeps
        those names capitalised when a Title Case headline is rewritten in sentence case and
        tags them in headlines where the model misses them.
        """
        with one_blas_thread():
            return self._analyse(items, known)

    def _analyse(self, items: Sequence[Item], known: dict[str, str] | None) -> list[Enrichment]:
        from newsdesk.nlp.headlines import (
            capital_words,
            is_caseless,
            is_title_case,
            lower_words,
        )

        base = self._known_base(known or {})
        clock = time.perf_counter
        spent = [0.0] * len(items)
        bodies = [cap_words(it.text or "", self.max_words) for it in items]
        # A text in one case (all lower, ALL CAPS) gets a name's capitals before the model reads
        # it: the model finds names by their capitals, and a caseless text has none or all.
        caseless = [is_caseless(b) for b in bodies]
        if any(caseless):
            casing = base.casing()
            bodies = [self.truecaser.recase(b, casing) if c else b for b, c in zip(bodies, caseless, strict=True)]
        body_docs = self._bodies(self._tokenize(bodies, spent))
        from newsdesk.nlp.rules import fix_entities, tag_known

        known = dict(base.named)  # with the surnames of its people
        index = base.index
        for doc, flat in zip(body_docs, caseless, strict=True):
            fix_entities(doc, index, self.truecaser.is_common)
            if flat:
                _drop_headline_junk(doc, known, self.truecaser)
            for e in doc.ents:
                if e.label_ in NAMED_TYPES and e.text[:1].isupper():
                    known.setdefault(e.text, e.label_)
            for e in doc.ents:
                if e.label_ == "PERSON" and len(e) > 1:
                    known[e[-1].text] = "PERSON"  # the surname alone names the person, whatever the model said
        _add_surnames(known)
        grown = base.grown(known)
        index = grown.index()
        if len(items) > 1:
            for doc in body_docs:  # names from the other items of the batch
                tag_known(doc, index)
        known_words = grown.words()
        flat_titles = [bool(it.title) and is_caseless(it.title) for it in items]
        casing = grown.casing() if any(flat_titles) else None
        titles: list[str] = []
        cased: list[bool] = []
        sources: list[str | None] = []  # what a title's names are read from (None: the title as written)
        for i, (it, body, flat, flat_title) in enumerate(zip(items, bodies, caseless, flat_titles, strict=True)):
            start = clock()
            title = it.title or ""
            source = None
            recase = bool(title) and (it.kind == HEADLINE or is_title_case(title)) and is_title_case(title)
            if recase and not flat_title:
                title = self.truecaser.truecase(title, known_words, set() if flat else lower_words(body))
            elif flat_title:
                # A body written in both cases says which of the headline's words are names.
                lower = set() if flat else lower_words(body)
                evidence = not flat and len(body.split()) >= EVIDENCE_WORDS
                title = source = self.truecaser.recase(
                    title, casing, lower, capital_words(body, lower) if evidence else None)
                recase = True
            titles.append(title)
            cased.append(recase)
            sources.append(source)
            spent[i] += clock() - start
        title_docs = self._pipe(self._tokenize(titles, spent))
        for doc, recase in zip(title_docs, cased, strict=True):
            fix_entities(doc, index, self.truecaser.is_common)
            if recase:
                _drop_headline_junk(doc, known, self.truecaser)
        # A doc's text is its defused text: the same length, so its offsets index the original.
        out = []
        for i, (it, tdoc, bdoc, title, body, source) in enumerate(
            zip(items, title_docs, body_docs, titles, bodies, sources, strict=True)
        ):
            start = clock()
            if not (self.budget and spent[i] > self.budget):
                enr = enrich_one(it, tdoc, bdoc, self.truecaser, (title, body), source)
                spent[i] += clock() - start
            if self.budget and spent[i] > self.budget:
                enr = Enrichment(it.id, skipped=f"over the {self.budget:g} s budget (took {spent[i]:.3g} s)")
            out.append(enr)
        return out


def _ner_stands_alone(nlp) -> bool:
    """Returns whether the pipeline's NER has its own token vectors (can run without the rest)."""
    if "ner" not in nlp.pipe_names:
        return False
    return not any("listener" in layer.name for layer in nlp.get_pipe("ner").model.walk())


def _chunk_token_vectors(model, size: int) -> None:
    """Makes a transition model compute its own token vectors about `size` tokens (whole documents) at a time.

    The model's token-vector layer maps each document on its own (windows stop at the
    document's edges), so the vectors are the same; only the arrays are smaller.
    """
    from thinc.api import Model

    if not model.has_ref("tok2vec"):
        return
    outer = model.get_ref("tok2vec")
    if not outer.layers or outer.layers[0].name.startswith(("chunked(", "tok2vec-listener")):
        return
    inner = outer.layers[0]

    def forward(chunked, docs, is_train):
        vectors: list = []
        backprops = []
        start = 0
        while start < len(docs):
            end, tokens = start, 0
            while end < len(docs) and (end == start or tokens + len(docs[end]) <= size):
                tokens += len(docs[end])
                end += 1
            part, backprop = inner(docs[start:end], is_train)
            vectors.extend(part)
            backprops.append((start, len(part), backprop))
            start = end

        def backward(d_vectors):
            d_docs: list = []
            for start, n, backprop in backprops:
                d_docs.extend(backprop(d_vectors[start: start + n]) or [])
            return d_docs

        return vectors, backward

    dims = {name: inner.maybe_get_dim(name) for name in ("nI", "nO")}
    outer.layers[0] = Model(f"chunked({inner.name})", forward, layers=[inner], dims=dims)


class KnownNames:
    """The desk's known names (name -> type) and what the analyser derives from them: their
    casing for caseless text, and the index that tags them, with the surnames of people."""

    def __init__(self, raw: dict[str, str], truecaser):
        from newsdesk.nlp.rules import known_index

        self.raw = dict(raw)
        self.truecaser = truecaser
        self.named = dict(raw)
        _add_surnames(self.named)
        self.index = known_index(self.named, truecaser.is_word)
        self._casing: Any = None
        self._named_casing: Any = None
        self._words: set[str] | None = None

    def casing(self):
        """Returns `known_casing` of the names as given (without the surnames)."""
        from newsdesk.nlp.headlines import known_casing

        if self._casing is None:
            self._casing = known_casing(self.raw, self.truecaser)
        return self._casing

    def named_casing(self):
        from newsdesk.nlp.headlines import known_casing

        if self._named_casing is None:
            self._named_casing = known_casing(self.named, self.truecaser)
        return self._named_casing

    def words(self) -> set[str]:
        if self._words is None:
            self._words = name_words(self.named)
        return self._words

    def grown(self, known: dict[str, str]) -> GrownNames:
        """Returns `known` (these names with more, in insertion order after them) to derive from."""
        return GrownNames(self, known)


class GrownNames:
    """Known names grown by a batch's own: what is derived from them is what is derived
    from the whole dict, built from the base's and the new names' alone."""

    def __init__(self, base: KnownNames, known: dict[str, str]):
        self.base = base
        self.known = known
        named = base.named
        self.new = {n: label for n, label in known.items() if n not in named}
        self.relabelled = {n: label for n, label in known.items() if n in named and named[n] != label}

    def index(self):
        from newsdesk.nlp.rules import index_entry, known_index

        skip = self.base.truecaser.is_word
        extra = known_index(self.new, skip)
        if not extra and not self.relabelled:
            return self.base.index
        index = dict(self.base.index)
        for name, label in self.relabelled.items():  # a name of the base changed its type: in its place
            old = index_entry(name, self.base.named[name], skip)
            new = index_entry(name, label, skip)
            if old is None and new is None:
                continue
            entries = index.get(old[0][0], []) if old is not None else []
            if old is None or entries.count(old) != 1:  # a new entry among the base's, or one of twins
                return known_index(self.known, skip)
            entries = list(entries)
            at = entries.index(old)
            if new is not None:
                entries[at] = new  # the same words: the same place in the longest-first order
                index[old[0][0]] = entries
            elif len(entries) > 1:
                del entries[at]
                index[old[0][0]] = entries
            else:
                del index[old[0][0]]
        for first, entries in extra.items():
            if first in index:  # the base's entries first, each list longest name first (a stable sort)
                index[first] = sorted(index[first] + entries, key=lambda e: -len(e[0]))
            else:
                index[first] = entries
        return index

    def words(self) -> set[str]:
        return self.base.words() | name_words(self.new) if self.new else self.base.words()

    def casing(self):
        from newsdesk.nlp.headlines import known_casing

        base_words, base_phrases = self.base.named_casing()
        if not self.new:
            return base_words, base_phrases
        new_words, new_phrases = known_casing(self.new, self.base.truecaser)
        words = dict(base_words)
        for low, word in new_words.items():
            words.setdefault(low, word)
        phrases = dict(base_phrases)
        for first, found in new_phrases.items():
            phrases[first] = sorted(phrases[first] + found, key=lambda p: -len(p[0])) if first in phrases else found
        return words, phrases


def name_words(names) -> set[str]:
    """Returns the words of names, without a possessive ending."""
    return {w.rstrip("’'s") for name in names for w in name.split()}


def _add_surnames(known: dict[str, str]) -> None:
    """Adds the surname of every known full person name (later mentions use the surname)."""
    for name, label in list(known.items()):
        if label == "PERSON" and " " in name:
            known.setdefault(name.rsplit(" ", 1)[-1], "PERSON")


def enrich_one(item: Item, title_doc, body_doc, lexicon=None, texts: tuple[str, str] | None = None,
               title_source: str | None = None) -> Enrichment:
    """Returns what one item's parsed title and body hold (texts: the docs' texts, when known;
    title_source: the text a title's names are read from, when not the title as written)."""
    from newsdesk.nlp import keyphrases
    from newsdesk.nlp.canonical import resolve_item
    from newsdesk.nlp.dates import reference_of

    out = Enrichment(item.id)
    ref_name, ref_time = reference_of(item.published, item.ingested)
    title_text, body_text = texts or (None, None)
    for field, doc, original, text in (("title", title_doc, title_source or item.title or "", title_text),
                                       ("text", body_doc, None, body_text)):
        if len(doc) == 0:
            continue
        _analyse_doc(doc, field, original, out, ref_name, ref_time, text)
    out.mentions = resolve_item(out.mentions)
    out.keyphrases = keyphrases.rank(
        keyphrases.candidates(body_doc, lexicon), keyphrases.candidates(title_doc, lexicon)
    )
    return out


def _analyse_doc(doc, field: str, original: str | None, out: Enrichment, ref_name: str,
                 ref_time: datetime | None, text: str | None = None) -> None:
    from newsdesk.nlp.dates import resolve
    from newsdesk.nlp.figures import find_figures
    from newsdesk.nlp.roles import find_roles
    text = doc.text if text is None else text
    source = original if original is not None else text
    people = [e for e in doc.ents if e.label_ == "PERSON"]
    roles = find_roles(doc, people) if doc.has_annotation("DEP") else {}
    for ent in doc.ents:
        if ent.label_ in NAMED_TYPES:
            role = roles.get(ent.start)
            if role and original is not None:
                role = _recase(role, text, original)
            for start, end in _parts(ent, text):
                surface = source[start:end]
                if not surface or not any(c.isupper() for c in text[start:end]) or len(surface) > 80:
                    continue
                out.mentions.append(Mention(surface, ent.label_, start, end, field, role))
        elif ent.label_ == "DATE":
            sentence = _sentence_around(text, ent.start_char, ent.end_char)
            found = resolve(ent.text, ref_time.date(), sentence) if ref_time else None
            out.dates.append(DateMention(
                source[ent.start_char: ent.end_char], ent.start_char, ent.end_char, field,
                found[0].isoformat() if found else None, found[1] if found else None,
                ref_name, ref_time.isoformat() if ref_time else None,
            ))
    for fig in find_figures(doc, field):
        if original is not None:
            fig.text = original[fig.start: fig.end]
            if fig.measure:
                fig.measure = _recase(fig.measure, text, original)
        out.figures.append(fig)


_DEMONYM_ADJ = re.compile(r"(?:an|ian|ese|ish|i)$")
_JUNK_LABELS = {"PERSON", "ORG", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW"}


def _drop_headline_junk(doc, known: dict[str, str], truecaser) -> None:
    """Removes headline entities made only of dictionary words the desk has not seen as names."""
    from spacy.tokens import Span

    keep = []
    for ent in doc.ents:
        words = [t.lower_ for t in ent if t.is_alpha]
        label = known.get(ent.text)
        if label and label != ent.label_ and len(ent) == 1:
            # A name the desk knows keeps its type: "Trump Administration" names Trump the person.
            keep.append(Span(doc, ent.start, ent.end, label=label))
            continue
        if ent.label_ == "PERSON" and words and _DEMONYM_ADJ.search(words[0]) and words[0] in truecaser.adjectives:
            continue  # "Honduran Student" is a description, not a name
        if ent.label_ == "PERSON" and len(words) >= 2:
            keep.append(ent)  # a full name is a name even when its words are in a dictionary
            continue
        if (
            ent.label_ in _JUNK_LABELS
            and ent.text not in known
            and words
            and all(truecaser.is_word(w) for w in words)
            and not any(t.is_upper and len(t) > 1 for t in ent)
        ):
            continue
        keep.append(ent)
    doc.ents = keep


def _sentence_around(text: str, start: int, end: int) -> str:
    """Returns the sentence (roughly: between full stops) holding text[start:end]."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start)) + 1
    right = min((p for p in (text.find(". ", end), text.find("\n", end)) if p >= 0), default=len(text))
    return text[left:right]


def _trim(ent) -> tuple[int, int]:
    """Returns the character span of an entity without a leading 'the' or trailing possessive."""
    tokens = list(ent)
    for k, tok in enumerate(tokens[1:-1], start=1):
        if tok.tag_ == "POS" or tok.text in ("'s", "’s"):
            tokens = tokens[:k]  # "Marco Rubio's Munich": the name ends at the possessive
            break
    while tokens and tokens[0].lower_ in ("the", "a", "an"):
        tokens = tokens[1:]
    while tokens and (tokens[-1].tag_ == "POS" or tokens[-1].text in ("'s", "’s", "'", "’") or tokens[-1].is_punct and tokens[-1].text != "."):
        tokens = tokens[:-1]
    if not tokens:
        return ent.start_char, ent.start_char
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


_HYPHEN_NAMES = re.compile(r"^[A-Z][\w.]*(?:-[A-Z][\w.]*)+$")


def _parts(ent, doc_text: str) -> list[tuple[int, int]]:
    """Returns the character spans of an entity: "Russia-Ukraine" names two places."""
    start, end = _trim(ent)
    text = doc_text[start:end]
    if ent.label_ in ("GPE", "LOC", "NORP", "ORG") and _HYPHEN_NAMES.match(text):
        out, pos = [], start
        for piece in text.split("-"):
            out.append((pos, pos + len(piece)))
            pos += len(piece) + 1
        return out
    return [(start, end)]


def _recase(phrase: str, truecased: str, original: str) -> str:
    """Returns phrase (found in the truecased text) as the original text writes it."""
    for probe, cut in ((phrase, 0), (phrase + "s", 1)):
        i = truecased.find(probe)
        if i >= 0:
            found = original[i: i + len(probe)]
            return found[: len(found) - cut] if cut else found
    return phrase


# -- worker processes ------------------------------------------------------------------------
_WORKER: Analyzer | None = None


def refuse_in_worker_start() -> None:
    """Exits a worker process that is still starting, when the script being imported opens a desk.

    A worker process starts by importing the main script (how multiprocessing spawns, on
    every platform here); a script without an `if __name__ == "__main__":` guard would then
    open its desk and ingest again inside the worker. The flag read is the one multiprocessing
    itself checks before refusing to start a process from such a worker.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise SystemExit(
            "newsdesk: an entity worker process was asked to run the script that started it; "
            "put that script's code under `if __name__ == \"__main__\":`")


def _init_worker(model: str, max_words: int, parse: str, budget: float = 0.0) -> None:
    global _WORKER
    logging.getLogger("spacy").setLevel(logging.ERROR)
    _WORKER = Analyzer(model, max_words, parse, budget)


def _loaded() -> bool:
    """Returns True in a worker whose model has loaded (the initializer has run)."""
    return _WORKER is not None


def _work(items: list[Item], known: dict[str, str]) -> list[Enrichment]:
    assert _WORKER is not None
    return _WORKER.analyse(items, known)


class Ahead:
    """A batch cut into parts that the workers read, from the first, while this process reads
    them from the last (`take`), until the two meet: they end about together, however fast
    each one is (a worker still loading its model takes fewer parts).

    A thread here hands the parts to the workers, two at a time each (one waits while the
    other is read, so a worker is not idle while this busy process answers). A batch still to come
    (`SpacyExtractor.submit`) starts with the workers alone, while this process does other work.
    """

    def __init__(self, pool: ProcessPoolExecutor, slots: int, known: dict[str, str],
                 chunks: list[list[Item]], words: int):
        self.known = known  # the names it is read with
        self.chunks = chunks
        self.words = words
        self.results: list[list[Enrichment] | None] = [None] * len(chunks)
        self._next = 0  # the first part nobody has taken
        self._end = len(chunks)  # parts from here on are taken by this process
        self._lock = threading.Lock()
        self._dropped = False
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._feed, args=(pool, max(1, slots)), daemon=True,
                                        name="newsdesk-entities-ahead")
        self._thread.start()

    def _claim_first(self) -> int | None:
        with self._lock:
            if self._dropped or self._next >= self._end:
                return None
            self._next += 1
            return self._next - 1

    def _claim_last(self) -> int | None:
        with self._lock:
            if self._next >= self._end:
                return None
            self._end -= 1
            return self._end

    def _feed(self, pool: ProcessPoolExecutor, slots: int) -> None:
        running: dict[Future, int] = {}
        try:
            while True:
                while len(running) < slots:
                    k = self._claim_first()
                    if k is None:
                        break
                    running[pool.submit(_work, self.chunks[k], self.known)] = k
                if not running:
                    return
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in done:
                    self.results[running.pop(fut)] = fut.result()
        except BaseException as e:  # noqa: BLE001 - a worker died: `take` reads what is missing here
            self.error = e
            with self._lock:
                self._next = self._end = len(self.chunks)  # nothing more is handed out

    def take(self, analyse: Callable[[list[Item]], list[Enrichment]]) -> list[Enrichment]:
        """Returns the batch's enrichments in order, reading here the parts still unclaimed."""
        while (k := self._claim_last()) is not None:
            self.results[k] = analyse(self.chunks[k])
        self._thread.join()
        out: list[Enrichment] = []
        for chunk, found in zip(self.chunks, self.results, strict=True):
            out.extend(found if found is not None else analyse(chunk))
        return out

    def drop(self) -> None:
        """Stops handing out parts; what the workers are reading is thrown away."""
        with self._lock:
            self._dropped = True


class SpacyExtractor(EntityExtractor):
    """Entities, roles, dates, figures and keyphrases from a spaCy pipeline."""

    name = "spacy"

    def __init__(
        self, model: str, *, workers: int = 1, max_words: int = 0, parse: str = "needed", budget: float = 0.0
    ):
        if parse not in PARSE_MODES:
            from newsdesk.errors import InputError

            raise InputError(f"enrich_parse {parse!r}: use one of {', '.join(PARSE_MODES)}")
        self.model = model
        self.parse = parse
        self.workers = max(1, workers)
        self.max_words = max_words
        self.budget = budget
        self._local: Analyzer | None = None
        self._pool: ProcessPoolExecutor | None = None
        self.words_read = 0  # words of every batch so far (see WARM_WORDS)
        self._ready: Future | None = None  # done once the workers have loaded the model
        self.shared_batches = 0  # batches shared with the workers
        self.read_ahead = 0  # batches the workers began before they were wanted (see `submit`)

    @property
    def analyzer(self) -> Analyzer:
        """Returns the in-process analyzer, loading the model on first use."""
        if self._local is None:
            self._local = Analyzer(self.model, self.max_words, self.parse, self.budget)
        return self._local

    def extract(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns one Enrichment per item, using worker processes for large batches."""
        items = list(items)
        known = known or {}
        words = sum(_word_count(it, self.max_words) for it in items)
        self.words_read += words
        parts = self._parts(items, words)
        if self.workers <= 1 or len(parts) < 2 or not self._share(words):
            return self.analyzer.analyse_parts(parts, known)
        ahead = self._start(parts, known, words)
        return self._take(ahead, known) if ahead is not None else self.analyzer.analyse_parts(parts, known)

    def submit(self, items: Sequence[Item], known: dict[str, str] | Callable[[], dict[str, str]]) -> Ahead | None:
        """Starts reading a batch that is still to come on the workers; None when they are not in use.

        The ingest hands over its next batch while this process runs the later stages of the
        present one. `collect` takes the results when that batch is prepared, if they were
        read with the names the store then knows; otherwise they are dropped. `known` may be
        a function that reads the names, called only when the batch is handed over.
        """
        items = list(items)
        if self.workers <= 1 or len(items) < 2 * self.workers or self._ready is None or not self._ready.done():
            return None
        if self._ready.exception() is not None:
            return None
        words = sum(_word_count(it, self.max_words) for it in items)
        if words < BATCH_MIN_WORDS:
            return None
        return self._start(self._parts(items, words), known() if callable(known) else known, words)

    def collect(self, ahead: Ahead, items: Sequence[Item], known: dict[str, str]) -> dict[str, Enrichment]:
        """Returns, by item id, what `submit` read of these items, when it read them as they
        are now with these known names; the rest is left to `extract`."""
        wanted = {it.id: (it.title, it.text) for it in items}
        if ahead.known != known or not any(wanted.get(it.id) == (it.title, it.text)
                                           for chunk in ahead.chunks for it in chunk):
            ahead.drop()
            return {}
        self.words_read += ahead.words
        found = self._take(ahead, known)
        self.read_ahead += 1
        flat = [it for chunk in ahead.chunks for it in chunk]
        return {it.id: enr for it, enr in zip(flat, found, strict=True)
                if wanted.get(it.id) == (it.title, it.text)}

    def _parts(self, items: list[Item], words: int) -> list[list[Item]]:
        """Returns the parts a batch of `words` is read in, here or by the workers (see PART_WORDS)."""
        return _split(items, min(max(words // PART_WORDS, 1), MAX_PARTS), self.max_words)

    def _start(self, parts: list[list[Item]], known: dict[str, str], words: int) -> Ahead | None:
        """Returns a batch's parts handed to the workers (None when they cannot start)."""
        try:
            return Ahead(self._get_pool(), 2 * (self.workers - 1), dict(known), parts, words)
        except (RuntimeError, OSError) as e:
            self._without_workers(e)
            return None

    def _take(self, ahead: Ahead, known: dict[str, str]) -> list[Enrichment]:
        """Returns a shared batch's enrichments, reading here the parts the workers have not taken."""
        found = ahead.take(lambda part: self.analyzer.analyse(part, known))
        if isinstance(ahead.error, BrokenProcessPool):  # a worker died (or never started): read here
            self._without_workers(ahead.error)
        self.shared_batches += 1
        return found

    def _share(self, words: int) -> bool:
        """Returns whether a batch of `words` goes to the workers, starting them once the run is long.

        The workers load in the background: batches go on in-process until they are ready,
        except one of POOL_MIN_WORDS or more, which is worth the wait.
        """
        large = words >= POOL_MIN_WORDS
        if not large and (self.words_read < WARM_WORDS or words < BATCH_MIN_WORDS):
            return False
        if self._ready is None:
            try:
                self._ready = self._get_pool().submit(_loaded)
            except (BrokenProcessPool, RuntimeError, OSError) as e:
                self._without_workers(e)
                return False
        if large:
            return True
        if not self._ready.done():
            return False
        if self._ready.exception() is not None:
            self._without_workers(self._ready.exception())
            return False
        return True

    def _without_workers(self, error: BaseException) -> None:
        """Goes on in this process alone after the worker processes failed, saying so once."""
        if self.workers > 1:
            LOGGER.warning(
                "entity worker processes failed (%s); reading entities in this process only. A "
                "script that ingests with newsdesk must keep its code under "
                "`if __name__ == \"__main__\":`, or each worker runs the script again",
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
        self.workers = 1
        self.close()

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers - 1, mp_context=ctx,
                initializer=_init_worker, initargs=(self.model, self.max_words, self.parse, self.budget),
            )
        return self._pool

    def close(self) -> None:
        """Stops the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._ready = None


def _split(items: list[Item], parts: int, max_words: int) -> list[list[Item]]:
    """Returns items cut into `parts` runs of about equal words, order kept."""
    total = sum(_word_count(it, max_words) for it in items)
    target = total / parts
    chunks: list[list[Item]] = [[]]
    acc = 0.0
    for it in items:
        if acc >= target * len(chunks) and len(chunks) < parts:
            chunks.append([])
        chunks[-1].append(it)
        acc += _word_count(it, max_words)
    return chunks


def describe(extractor: EntityExtractor) -> dict[str, Any]:
    """Returns what the extractor is, for stats."""
    return {"extractor": extractor.name, "model": getattr(extractor, "model", None)}
