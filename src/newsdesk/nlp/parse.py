"""Parsing only where it pays: the sentences that name people or look like a missed name.

The named-entity model of the small English pipeline carries its own token vectors, so it
runs alone first. The tagger and parser (with their shared token vectors) then run only on
the sentences where roles and entity fixes come from: sentences naming a person, an
organisation without an organisation word in its name (maybe a person or a place), or a capitalised word the model left
unlabelled next to a title, a place noun or a place. Their tags and dependencies are copied
back into the document; the other tokens stay untagged, each its own root.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy
from spacy.attrs import (
    DEP,
    ENT_TYPE,
    HEAD,
    IS_ALPHA,
    IS_LOWER,
    IS_UPPER,
    LOWER,
    NORM,
    ORTH,
    SENT_START,
    SPACY,
    TAG,
)
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

from newsdesk.nlp.roles import ROLE_WORDS
from newsdesk.nlp.rules import ORG_WORDS, PLACE_NOUNS

PARSE_PIPES = ("tok2vec", "tagger", "parser")
_LISTING = {"including", "like", "alongside", "and"}


def _ent_needs_parse(ent: Span) -> bool:
    """Returns whether an entity alone makes its sentence worth parsing."""
    label = ent.label_
    if label == "PERSON":
        return True
    if label in ("ORG", "GPE", "FAC", "NORP") and 2 <= len(ent) <= 3:
        return True
    # An organisation without an organisation word: maybe a person or a place.
    return label == "ORG" and not any(t.lower_ in ORG_WORDS for t in ent)


def needs_parse(sent: Span) -> bool:
    """Returns whether a sentence holds something only the parse can settle."""
    if any(_ent_needs_parse(ent) for ent in sent.ents):
        return True
    doc = sent.doc
    for tok in sent:
        if tok.i == sent.start or tok.ent_type_ or not tok.is_alpha or not tok.text[0].isupper() or tok.is_upper:
            continue
        prev = doc[tok.i - 1]
        nxt = doc[tok.i + 1] if tok.i + 1 < sent.end else None
        if prev.lower_ in ROLE_WORDS or prev.lower_ in _LISTING:
            return True
        if nxt is not None and (nxt.lower_ in PLACE_NOUNS or nxt.lower_ == "and" or nxt.text == ","):
            return True
    return False


def _needed(doc: Doc, starts: list[int], ents: list[Span], role_ids: frozenset, listing_ids: frozenset,
            place_ids: frozenset, and_id: int, comma_id: int) -> list[tuple[int, int]]:
    """Returns the (start, end) token spans of the sentences of doc that `needs_parse` picks."""
    n = len(doc)
    bounds = starts + [n]
    needed = [False] * len(starts)
    for ent in ents:
        if _ent_needs_parse(ent):
            needed[bisect_right(starts, ent.start) - 1] = True
    arr = doc.to_array([ENT_TYPE, IS_ALPHA, IS_LOWER, IS_UPPER, LOWER, ORTH])
    cand = numpy.flatnonzero((arr[:, 0] == 0) & (arr[:, 1] == 1) & (arr[:, 2] == 0) & (arr[:, 3] == 0))
    if len(cand):
        is_start = numpy.zeros(n, dtype=bool)
        is_start[starts] = True
        cand = cand[~is_start[cand]]
    lower = arr[:, 4]
    orth = arr[:, 5]
    strings = doc.vocab.strings
    sent = 0
    for i in cand.tolist():
        while bounds[sent + 1] <= i:
            sent += 1
        if needed[sent] or not strings[int(orth[i])][0].isupper():
            continue
        prev = int(lower[i - 1])
        if prev in role_ids or prev in listing_ids:
            needed[sent] = True
        elif i + 1 < bounds[sent + 1]:
            nxt = int(lower[i + 1])
            if nxt in place_ids or nxt == and_id or int(orth[i + 1]) == comma_id:
                needed[sent] = True
    return [(bounds[k], bounds[k + 1]) for k, flag in enumerate(needed) if flag]


class PartialParser:
    """Tags and parses the sentences of NER-only docs that need it."""

    def __init__(self, nlp: Language):
        self.pipes = [(name, nlp.get_pipe(name)) for name in PARSE_PIPES if name in nlp.component_names]
        self.sentencizer = Sentencizer()
        self.root = nlp.vocab.strings.add("ROOT")
        add = nlp.vocab.strings.add
        self.ids = (
            frozenset(add(w) for w in ROLE_WORDS), frozenset(add(w) for w in _LISTING),
            frozenset(add(w) for w in PLACE_NOUNS), add("and"), add(","),
        )

    def __call__(self, docs: list[Doc]) -> float:
        """Parses the needed sentences of docs in place; returns the share of tokens parsed."""
        spans: list[tuple[int, int, int]] = []
        sent_docs: list[Doc] = []
        total = 0
        vocab = docs[0].vocab if docs else None
        for i, doc in enumerate(docs):
            total += len(doc)
            if len(doc) == 0:
                continue
            self.sentencizer(doc)
            starts = numpy.flatnonzero(doc.to_array(SENT_START) == 1).tolist()
            if not starts or starts[0] != 0:
                starts.insert(0, 0)
            needed = _needed(doc, starts, list(doc.ents), *self.ids)
            if not needed:
                continue
            arr = doc.to_array([ORTH, SPACY, NORM, SENT_START])
            strings = doc.vocab.strings
            for start, end in needed:
                part = arr[start:end]
                words = [strings[int(o)] for o in part[:, 0]]
                sdoc = Doc(vocab, words=words, spaces=part[:, 1].astype(bool).tolist())
                # What the parse reads besides the words: their norms and the sentence start.
                sdoc.from_array([NORM, SENT_START], numpy.ascontiguousarray(part[:, 2:4]))
                spans.append((i, start, end))
                sent_docs.append(sdoc)
        if not spans:
            return 0.0
        for _, pipe in self.pipes:
            sent_docs = list(pipe.pipe(sent_docs, batch_size=256))
        arrays: dict[int, numpy.ndarray] = {}
        for (i, start, end), sdoc in zip(spans, sent_docs, strict=True):
            arr = arrays.get(i)
            if arr is None:
                arr = numpy.zeros((len(docs[i]), 3), dtype="uint64")
                arr[:, 2] = self.root
                arrays[i] = arr
            arr[start:end] = sdoc.to_array([TAG, HEAD, DEP])
        for i, arr in arrays.items():
            ents = list(docs[i].ents)
            docs[i].from_array([TAG, HEAD, DEP], arr)
            docs[i].ents = ents
        return sum(end - start for _, start, end in spans) / total if total else 0.0
