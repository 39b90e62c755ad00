"""Keyphrases: the noun phrases an item (or a story) is about, ranked without a model.

Candidates are runs of adjectives and nouns ending in a noun (from the tagger), else runs of
non-stop words; a phrase scores by how often it occurs, longer phrases and those in the title
counting more. Across a story, item scores are summed and weighted by inverse document
frequency over the store, so phrases every item of the desk uses rank low.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_KEEP_TAGS = {"JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS", "VBG", "HYPH"}
_NOUN_TAGS = {"NN", "NNS", "NNP", "NNPS"}
_WORD = re.compile(r"^[^\W\d_][\w'’-]*$")
_NOISE = {"said", "says", "told", "percent", "year", "years", "time", "times", "mr", "mrs", "ms",
          "people", "thing", "things", "way", "lot", "day", "days", "week", "weeks", "month",
          "months", "today", "yesterday", "tomorrow", "news", "story", "report", "reports"}
_MAX_WORDS = 4


def _norm(tokens) -> str:
    return " ".join(
        t.text if t.tag_ in ("NNP", "NNPS") or t.is_upper or (not t.tag_ and t.ent_type_) else t.lower_
        for t in tokens
    )


def candidates(doc, lexicon=None) -> list[str]:
    """Returns the candidate phrases of a doc, one per occurrence.

    Untagged tokens (sentences left unparsed) are judged by the lexicon (a Truecaser): a
    noun phrase holds nouns, adjectives and names, and ends before an inflected verb.
    """
    from spacy.lang.en.stop_words import STOP_WORDS

    tagged = doc.has_annotation("TAG")
    out: list[str] = []
    run: list = []

    def flush() -> None:
        # Untagged tokens (sentences left unparsed) count as nouns: the stop words bound them.
        while run and tagged and run[-1].tag_ and run[-1].tag_ not in _NOUN_TAGS:
            run.pop()
        while run and run[0].tag_ == "HYPH":
            run.pop(0)
        if run and len(run) <= _MAX_WORDS:
            phrase = _norm(run)
            if phrase.lower() not in _NOISE and len(phrase) > 2:
                out.append(phrase)
        run.clear()

    for tok in doc:
        ok = (
            _WORD.match(tok.text) is not None
            and tok.lower_ not in STOP_WORDS
            and (tok.tag_ in _KEEP_TAGS if tagged and tok.tag_ else _untagged_ok(tok, run, lexicon))
            and tok.ent_type_ not in ("DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY")
        )
        if ok:
            run.append(tok)
        else:
            flush()
    flush()
    return out


def _untagged_ok(tok, run: list, lexicon) -> bool:
    if lexicon is None:
        return True
    low = tok.lower_
    if run and lexicon.is_verb_form(low):
        return False  # "the plant needs", "residents boiled"
    if not run and low in ("said", "says"):
        return False
    return lexicon.is_content(low)


def rank(body: Iterable[str], title: Iterable[str] = (), limit: int = 10) -> list[tuple[str, float]]:
    """Returns the top phrases with scores from body and title candidates."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for weight, phrases in ((1.0, body), (2.0, title)):
        for p in phrases:
            key = p.lower()
            shown.setdefault(key, p)
            counts[key] += weight
    scored = [
        (shown[k], round(c * (1 + 0.5 * (len(k.split()) - 1)), 3)) for k, c in counts.items()
    ]
    scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:limit]


def story_rank(
    per_item: Iterable[tuple[str, float]], df: dict[str, int], n_items: int, limit: int = 10
) -> list[tuple[str, float]]:
    """Returns a story's phrases: summed item scores times inverse document frequency."""
    total: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for phrase, score in per_item:
        key = phrase.lower()
        shown.setdefault(key, phrase)
        total[key] += score
    scored = []
    for key, score in total.items():
        idf = math.log((1 + n_items) / (1 + df.get(key, 0))) + 1
        scored.append((shown[key], round(score * idf, 3)))
    scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:limit]
