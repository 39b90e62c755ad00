"""Entities per language: each item is read by the spaCy pipeline of its own language.

The English extractor (setting `spacy_model`) reads English items, and items of unknown
language written in plain ASCII letters (short English headlines are often too short to
tell). Other languages map to any installed spaCy pipeline through the setting
`spacy_models` ("fr=fr_core_news_sm,de=de_core_news_sm"); French ships as the optional
extra [nlp-fr]. An item in a language with no pipeline gets no entities (its dates are
still read, with dateparser), and never another language's model: an English model reads
German nouns as organisations. A pipeline that is configured but not installed is one
notice, at start, not one per item; `stats` counts the items left without entities per
language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from newsdesk.model import Item
from newsdesk.nlp.base import DateMention, Enrichment, EntityExtractor, Mention

LOGGER = logging.getLogger(__name__)

ENGLISH = "en"
# Labels of the WikiNER-trained pipelines (fr, de, es, pt, it, ...) in the English scheme,
# so that "Berlin" is GPE:berlin whichever language named it. MISC is too mixed to keep.
LABELS = {"PER": "PERSON", "PERSON": "PERSON", "ORG": "ORG", "LOC": "GPE", "GPE": "GPE",
          "FAC": "FAC", "NORP": "NORP", "EVENT": "EVENT", "PRODUCT": "PRODUCT"}
_PAIR = re.compile(r"^\s*([a-z]{2,3})\s*=\s*(\S+)\s*$", re.IGNORECASE)
_ASCII_SHARE = 0.98
_TOLD: set[tuple[str, str]] = set()  # missing pipelines already reported by this process


def parse_models(value: str | None) -> dict[str, str]:
    """Returns {language: pipeline} from "fr=fr_core_news_sm, de=de_core_news_sm"; InputError if malformed."""
    from newsdesk.errors import InputError

    out: dict[str, str] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        m = _PAIR.match(part)
        if not m:
            raise InputError(f"spacy_models {part.strip()!r}: write language=pipeline, like fr=fr_core_news_sm")
        out[m.group(1).lower()] = m.group(2)
    return out


def reads_as_english(item: Item) -> bool:
    """Returns whether the English pipeline may read an item: English, or unknown and plain ASCII."""
    lang = item.language
    if lang == ENGLISH:
        return True
    if lang not in (None, "", "unknown"):
        return False
    letters = [c for c in item.body if c.isalpha()]
    if letters and sum(c.isascii() for c in letters) / len(letters) < _ASCII_SHARE:
        return False
    from newsdesk.nlp.language import segment_votes

    # A mixed text with any sentence clearly in another language is not the English model's.
    return all(lang == ENGLISH for lang in segment_votes(item.body))


class ForeignAnalyzer:
    """One spaCy pipeline of another language: names (labels mapped to the English scheme)."""

    def __init__(self, language: str, model: str, max_words: int = 0):
        import spacy

        from newsdesk.nlp.entities import numpy_matmul

        self.language = language
        self.model = model
        self.max_words = max_words
        nlp = spacy.load(model)
        numpy_matmul(nlp)
        keep = [p for p in ("tok2vec", "ner") if p in nlp.pipe_names]
        self.nlp = nlp
        self.enable = keep or nlp.pipe_names

    def analyse(self, items: Sequence[Item]) -> list[Enrichment]:
        """Returns one Enrichment per item: its names and dates."""
        from newsdesk.cores import one_blas_thread
        from newsdesk.nlp.canonical import resolve_item
        from newsdesk.nlp.entities import BATCH_TOKENS, cap_words, defuse, token_batches

        titles = [it.title or "" for it in items]
        bodies = [cap_words(it.text or "", self.max_words) for it in items]
        # Runs of punctuation are kept short (same length, so offsets hold): spaCy's tokenizer
        # is quadratic on them.
        texts = [self.nlp.make_doc(defuse(t)) for t in titles + bodies]
        docs: list = []
        with one_blas_thread(), self.nlp.select_pipes(enable=self.enable):
            for batch in token_batches(texts, BATCH_TOKENS):  # bounded memory, as for English
                docs.extend(self.nlp.pipe(batch, batch_size=len(batch)))
        out = []
        for k, item in enumerate(items):
            enr = Enrichment(item.id)
            for field, doc, original in (("title", docs[k], titles[k]),
                                         ("text", docs[len(items) + k], bodies[k])):
                for ent in doc.ents:
                    label = LABELS.get(ent.label_)
                    text = original[ent.start_char:ent.end_char].strip()
                    if label is None or not text[:1].isupper() or len(text) > 80:
                        continue
                    raw = original[ent.start_char:ent.end_char]
                    start = ent.start_char + (len(raw) - len(raw.lstrip()))
                    enr.mentions.append(Mention(text, label, start, start + len(text), field))
            enr.mentions = resolve_item(enr.mentions)
            enr.dates = localised_dates(item)
            out.append(enr)
        return out


def localised_dates(item: Item) -> list[DateMention]:
    """Returns the dates named in an item's title and text in its language, via dateparser."""
    from newsdesk.nlp.dates import find_localised, reference_of

    lang = item.language
    if not lang or lang in (ENGLISH, "unknown"):
        return []
    ref_name, ref_time = reference_of(item.published, item.ingested)
    out = []
    for field, text in (("title", item.title or ""), ("text", (item.text or "")[:5000])):
        for surface, start, end, day in find_localised(text, lang, ref_time):
            out.append(DateMention(surface, start, end, field, day.isoformat() if ref_time else None,
                                   "day" if ref_time else None, ref_name,
                                   ref_time.isoformat() if ref_time else None))
    return out


class LanguageRouter(EntityExtractor):
    """Hands each item to the extractor of its language; items of other languages get no entities."""

    name = "spacy"

    def __init__(self, english: EntityExtractor, others: dict[str, str], *, max_words: int = 0):
        from newsdesk.nlp.entities import missing

        self.english = english
        self.model = getattr(english, "model", None)
        self.max_words = max_words
        self.pipelines: dict[str, str] = {}
        self.missing: dict[str, str] = {}
        for lang, model in others.items():
            problem = missing(model)
            if problem:
                self.missing[lang] = model
                if (lang, model) in _TOLD:
                    continue
                _TOLD.add((lang, model))
                LOGGER.warning("no entities for %s items: spaCy pipeline %r is not installed%s", lang, model,
                               " (pip install 'newsdesk[nlp-fr]')" if lang == "fr" else "")
            else:
                self.pipelines[lang] = model
        self._loaded: dict[str, ForeignAnalyzer] = {}
        self.without: dict[str, int] = {}  # items per language that got no entities, this run
        self._told: set[str] = set()

    @property
    def languages(self) -> list[str]:
        """Returns the languages that have a pipeline, English first."""
        return [ENGLISH, *sorted(self.pipelines)]

    def language_of(self, item: Item) -> str | None:
        """Returns the pipeline language that reads the item, or None when none may."""
        if reads_as_english(item):
            return ENGLISH
        return item.language if item.language in self.pipelines else None

    def extract(self, items: Sequence[Item], known: dict[str, str] | None = None) -> list[Enrichment]:
        """Returns one Enrichment per item, in order, each from its own language's pipeline."""
        groups: dict[str | None, list[int]] = {}
        for k, item in enumerate(items):
            groups.setdefault(self.language_of(item), []).append(k)
        out: list[Enrichment | None] = [None] * len(items)
        for lang, idx in groups.items():
            part = [items[k] for k in idx]
            if lang == ENGLISH:
                found = self.english.extract(part, known)
            elif lang is not None:
                found = self._analyser(lang).analyse(part)
            else:
                found = []
                for item in part:
                    code = item.language or "unknown"
                    self.without[code] = self.without.get(code, 0) + 1
                    if code not in self._told:
                        self._told.add(code)
                        LOGGER.info("%s items get no entities: no spaCy pipeline for %s (setting spacy_models)",
                                    code, code)
                    found.append(Enrichment(item.id, dates=localised_dates(item)))
            for k, enr in zip(idx, found, strict=True):
                out[k] = enr
        return [e if e is not None else Enrichment(it.id) for e, it in zip(out, items, strict=True)]

    def submit(self, items: Sequence[Item], known: Any) -> Any:
        """Starts reading the English items of a batch still to come (see SpacyExtractor.submit)."""
        submit = getattr(self.english, "submit", None)
        english = [it for it in items if self.language_of(it) == ENGLISH]
        return submit(english, known) if submit is not None and english else None

    def collect(self, ahead: Any, items: Sequence[Item], known: dict[str, str]) -> dict[str, Enrichment]:
        """Returns what `submit` read of these items, by id (see SpacyExtractor.collect)."""
        collect = getattr(self.english, "collect", None)
        english = [it for it in items if self.language_of(it) == ENGLISH]
        return collect(ahead, english, known) if collect is not None else {}

    def _analyser(self, lang: str) -> ForeignAnalyzer:
        if lang not in self._loaded:
            self._loaded[lang] = ForeignAnalyzer(lang, self.pipelines[lang], self.max_words)
        return self._loaded[lang]

    def take_without(self) -> dict[str, int]:
        """Returns and clears the per-language counts of items left without entities."""
        out, self.without = self.without, {}
        return out

    def describe(self) -> dict[str, Any]:
        """Returns the pipelines in use and those configured but missing."""
        return {"pipelines": {ENGLISH: self.model, **self.pipelines}, "missing": dict(self.missing)}

    def close(self) -> None:
        self.english.close()
