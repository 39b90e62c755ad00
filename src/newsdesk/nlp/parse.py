"""Parsing only where it pays: the sentences that name people or look like a missed name.

The named-entity model of the small English pipeline carries its own token vectors, so it
runs alone first. The tagger and parser (with their shared token vectors) then run only on
the sentences where roles and entity fixes come from: sentences naming a person, an
organisation without an organisation word in its name (maybe a person or a place), or a capitalised word the model left
unlabelled next to a title, a place noun or a place. Their tags and dependencies are copied
back into the document; the other tokens stay untagged, each its own root.
"""

from __future__ import annotations

import numpy
from spacy.attrs import DEP, HEAD, TAG
from spacy.language import Language
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc, Span

from newsdesk.nlp.roles import ROLE_WORDS
from newsdesk.nlp.rules import ORG_WORDS, PLACE_NOUNS

PARSE_PIPES = ("tok2vec", "tagger", "parser")
_LISTING = {"including", "like", "alongside", "and"}


def needs_parse(sent: Span) -> bool:
    """Returns whether a sentence holds something only the parse can settle."""
    for ent in sent.ents:
        if ent.label_ == "PERSON":
            return True
        if ent.label_ in ("ORG", "GPE", "FAC", "NORP") and 2 <= len(ent) <= 3:
            return True
        if ent.label_ == "ORG" and not any(t.lower_ in ORG_WORDS for t in ent):
            return True  # maybe a person or a place the model took for an organisation
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


class PartialParser:
    """Tags and parses the sentences of NER-only docs that need it."""

    def __init__(self, nlp: Language):
        self.pipes = [(name, nlp.get_pipe(name)) for name in PARSE_PIPES if name in nlp.component_names]
        self.sentencizer = Sentencizer()
        self.root = nlp.vocab.strings.add("ROOT")

    def __call__(self, docs: list[Doc]) -> float:
        """Parses the needed sentences of docs in place; returns the share of tokens parsed."""
        spans: list[tuple[int, Span]] = []
        total = 0
        for i, doc in enumerate(docs):
            total += len(doc)
            if len(doc) == 0:
                continue
            self.sentencizer(doc)
            spans.extend((i, s) for s in doc.sents if needs_parse(s))
        if not spans:
            return 0.0
        sent_docs = [s.as_doc() for _, s in spans]
        for _, pipe in self.pipes:
            sent_docs = list(pipe.pipe(sent_docs, batch_size=256))
        arrays: dict[int, numpy.ndarray] = {}
        for (i, span), sdoc in zip(spans, sent_docs, strict=True):
            arr = arrays.get(i)
            if arr is None:
                arr = numpy.zeros((len(docs[i]), 3), dtype="uint64")
                arr[:, 2] = self.root
                arrays[i] = arr
            arr[span.start : span.end] = sdoc.to_array([TAG, HEAD, DEP])
        for i, arr in arrays.items():
            ents = list(docs[i].ents)
            docs[i].from_array([TAG, HEAD, DEP], arr)
            docs[i].ents = ents
        return sum(s.end - s.start for _, s in spans) / total if total else 0.0
