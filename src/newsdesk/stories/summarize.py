"""Multi-document story summaries: a few sentences chosen across members, each cited.

The summariser is extractive. Every sentence of every independent member is scored by
how central it is to the story (TF-IDF cosine to the centroid of the members and of their
headlines), how far other members say the same thing, and where it sits in its item (ledes
summarise). Sentences are then picked by maximal marginal relevance until a word budget is
met, so the summary never repeats itself. Each chosen sentence cites its own item and every
member holding a near-identical sentence, with their sources. A story made only of headlines
gets a short synthesis of its most representative, mutually distinct headlines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from scipy import sparse

from newsdesk.model import Item
from newsdesk.stories.sentences import (
    Member,
    Sentence,
    Vectoriser,
    as_utc,
    clean,
    fold_copies,
    item_sentences,
    jaccard,
    near_duplicate,
    novelty,
    terms,
    unit,
    when,
)

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class SummaryParams:
    """The knobs of the summariser (tuned on the allsides-probe-train references)."""

    min_sentences: int = 2
    max_sentences: int = 5
    word_budget: int = 45
    max_words: int = 90  # never exceed, unless that leaves fewer than min_sentences
    max_position: int = 15  # sentences read per member: ledes carry the summary
    max_candidate_position: int = 6  # sentences per member that may enter the summary
    min_sentence_words: int = 6
    max_sentence_words: int = 60
    w_centroid: float = 1.0
    w_title: float = 0.5
    w_support: float = 1.5
    w_position: float = 0.6
    position_decay: float = 0.5
    quote_penalty: float = 1.0  # quotation marks: ROUGE on train prefers no penalty
    first_person_penalty: float = 0.7  # "I", "we": a speaker's words out of context
    mmr_lambda: float = 0.7
    redundancy: float = 0.5  # skip a sentence this similar to one already chosen
    cite_overlap: float = 0.6  # term overlap at which another member's sentence is the same claim


DEFAULT_PARAMS = SummaryParams()


@dataclass
class SummarySentence:
    """One summary sentence and where it comes from."""

    text: str
    item_ids: list[str]
    sources: list[str]
    language: str | None = None  # the language of the item the sentence was taken from

    @property
    def items(self) -> list[str]:
        """Returns the cited item ids (the name views that list citations look for)."""
        return list(self.item_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "item_ids": list(self.item_ids), "sources": list(self.sources),
                "language": self.language}


@dataclass
class Summary:
    """A story summary: cited sentences, and with `since`, what else was new."""

    story_id: str | None
    sentences: list[SummarySentence] = field(default_factory=list)
    kind: str = "articles"  # "articles" (sentences from texts) or "headlines" (synthesis)
    since: datetime | None = None
    new_items: list[str] = field(default_factory=list)
    new_sources: list[str] = field(default_factory=list)
    new_entities: list[Any] = field(default_factory=list)

    @property
    def languages(self) -> list[str]:
        """Returns the languages of the summary's sentences, the most used first."""
        counts: dict[str, int] = {}
        for s in self.sentences:
            if s.language:
                counts[s.language] = counts.get(s.language, 0) + 1
        return sorted(counts, key=lambda k: (-counts[k], k))

    @property
    def text(self) -> str:
        """Returns the summary as one paragraph; with sentences of several languages, each
        sentence not in the main one is marked with its language, like "[de] ..."."""
        return " ".join(self.marked(s) for s in self.sentences)

    def marked(self, sentence: SummarySentence) -> str:
        """Returns a sentence's text, led by its language ("[de] ...") when not the summary's main one."""
        langs = self.languages
        if len(langs) <= 1 or sentence.language in (langs[0], None):
            return sentence.text
        return f"[{sentence.language}] {sentence.text}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "story_id": self.story_id,
            "kind": self.kind,
            "text": self.text,
            "sentences": [s.to_dict() for s in self.sentences],
        }
        if self.since is not None:
            out.update(
                since=self.since.isoformat(),
                new_items=list(self.new_items),
                new_sources=list(self.new_sources),
                new_entities=list(self.new_entities),
            )
        return out


_QUOTE = re.compile(r"[\"“”]|(?:^|\s)[‘']")
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|we|We|my|My|our|Our|us)\b")
_SHOUT = re.compile(r"\b[A-Z]{2,}(?:\s+[A-Z]{2,}){2,}\b")
_ENDS = re.compile(r"[.!?][\"'”’)\]]*$")


def _penalty(sentence: Sentence, params: SummaryParams) -> float:
    """Returns a factor below 1 for sentences that read badly out of context."""
    factor = 1.0
    text = sentence.text
    if _QUOTE.search(text):
        factor *= params.quote_penalty
    if _FIRST_PERSON.search(text):
        factor *= params.first_person_penalty
    if text.endswith("?"):
        factor *= 0.5
    if not _ENDS.search(text):  # cut off mid-sentence (an excerpt), or a subheading
        factor *= 0.5
    if _SHOUT.search(text):  # a kicker in capitals, as some outlets open their texts
        factor *= 0.5
    long_words = [w for w in text.split() if len(w) > 3]
    if len(long_words) >= 4 and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words):
        factor *= 0.5  # a headline in Title Case at the top of the text
    return factor


def _repeats_title(s: Sentence, member: Member) -> bool:
    """Returns whether a sentence is the item's own headline repeated at the top of its text."""
    # Jaccard only: a lede that contains the headline's words and more is a real sentence.
    return s.position == 0 and bool(member.item.title) and jaccard(s.terms, terms(member.item.title)) >= 0.75


def _usable(s: Sentence, params: SummaryParams) -> bool:
    n = s.n_words
    return bool(s.terms) and params.min_sentence_words <= n <= params.max_sentence_words


def summarize(
    items: Sequence[Item],
    copies: Mapping[str, str] | None = None,
    *,
    story_id: str | None = None,
    since: datetime | None = None,
    params: SummaryParams = DEFAULT_PARAMS,
) -> Summary:
    """Returns the summary of the story these items make (copies folded by `copies`).

    With `since`, only what members published after that time added is summarised: their
    sentences that are not near-duplicates of anything said before, plus the new sources.
    """
    members = fold_copies(items, copies)
    since = as_utc(since)
    summary = Summary(story_id, since=since)
    if not members:
        return summary
    earlier: list[Member] = []
    focus = members
    if since is not None:
        earlier = [m for m in members if when(m.item) < since]
        focus = [m for m in members if when(m.item) >= since]
        old_sources = {s for m in earlier for s in m.sources}
        summary.new_items = [i for m in focus for i in m.item_ids]
        summary.new_sources = sorted({s for m in focus for s in m.sources} - old_sources)
        if not focus:
            return summary
    by_member = {m.id: m for m in members}
    sentences = {m.id: item_sentences(m.item, max_sentences=params.max_position) for m in members}
    old_terms = [s.terms for m in earlier for s in sentences[m.id]]
    old_terms += [terms(m.item.title) for m in earlier if m.item.title]

    usable = [
        s for m in focus for s in sentences[m.id][: params.max_candidate_position]
        if _usable(s, params) and not _repeats_title(s, m)
    ]
    fresh = novelty([[s.terms for s in usable]], prior=old_terms)[0] if old_terms else [True] * len(usable)
    candidates = [s for s, is_new in zip(usable, fresh, strict=True) if is_new]
    candidates = _main_language(candidates, by_member, params)
    if usable:
        # Texts to read: a story whose new texts only repeat old facts has nothing new to say.
        chosen = _pick_sentences(members, sentences, candidates, params) if candidates else []
        summary.kind = "articles"
    else:
        chosen = _pick_headlines(focus, earlier, params)
        summary.kind = "headlines"
    summary.sentences = [_cite(s, members, sentences, by_member, params) for s in chosen]
    return summary


def _pick_sentences(
    members: Sequence[Member],
    sentences: Mapping[str, list[Sentence]],
    candidates: list[Sentence],
    params: SummaryParams,
) -> list[Sentence]:
    """Returns the chosen candidate sentences in reading order."""
    titles = [terms(m.item.title) for m in members if m.item.title]
    # Rows of every member's sentences (its headline when it has no text), member by member.
    spans: dict[str, tuple[int, int]] = {}
    docs: list[list[str]] = []
    where: dict[tuple[str, int], int] = {}
    for m in members:
        start = len(docs)
        for s in sentences[m.id]:
            where[(m.id, s.position)] = len(docs)
            docs.append(s.terms)
        if len(docs) == start:
            docs.append(terms(m.item.headline))
        spans[m.id] = (start, len(docs))
    vec = Vectoriser(docs + titles)
    rows = vec.transform(docs)
    cand = rows[[where[(s.item_id, s.position)] for s in candidates]]
    # Each member weighs the same in the centroid, however long it is.
    owner = sparse.csr_matrix(
        (np.ones(len(docs)), ([k for k, (a, b) in enumerate(spans.values()) for _ in range(a, b)],
                              list(range(len(docs))))),
        shape=(len(spans), len(docs)),
    )
    per_member = np.asarray((owner @ rows).toarray())
    norms = np.linalg.norm(per_member, axis=1, keepdims=True)
    centroid = unit((per_member / np.where(norms == 0, 1.0, norms)).sum(axis=0))
    title_vec = unit(vec.transform(titles).sum(axis=0)) if titles else np.zeros(cand.shape[1])
    centrality = cand @ centroid
    title_sim = cand @ title_vec
    support = np.zeros(len(candidates))
    if len(members) > 1:
        sims = (cand @ rows.T).toarray()
        best = np.stack([sims[:, a:b].max(axis=1) for a, b in spans.values()], axis=1)
        own = np.array([[mid == s.item_id for mid in spans] for s in candidates])
        support = np.where(own, 0.0, best).sum(axis=1) / (len(spans) - 1)
    position = np.array([1.0 / (1.0 + s.position) ** params.position_decay for s in candidates])
    penalty = np.array([_penalty(s, params) for s in candidates])
    score = (
        params.w_centroid * centrality
        + params.w_title * title_sim
        + params.w_support * support
        + params.w_position * position
    ) * penalty
    pair = (cand @ cand.T).toarray()

    chosen: list[int] = []
    n_words = 0
    left = np.ones(len(candidates), dtype=bool)
    while left.any() and len(chosen) < params.max_sentences:
        overlap = pair[:, chosen].max(axis=1) if chosen else np.zeros(len(candidates))
        value = params.mmr_lambda * score - (1 - params.mmr_lambda) * overlap
        value[~left] = -np.inf
        best_i = int(np.argmax(value))
        left[best_i] = False
        s = candidates[best_i]
        if chosen and (overlap[best_i] >= params.redundancy
                       or any(near_duplicate(s.terms, candidates[j].terms) for j in chosen)):
            continue
        if len(chosen) >= params.min_sentences and n_words + s.n_words > params.max_words:
            continue
        chosen.append(best_i)
        n_words += s.n_words
        if n_words >= params.word_budget and len(chosen) >= params.min_sentences:
            break
    order = {m.id: k for k, m in enumerate(members)}
    picked = [candidates[i] for i in chosen]
    # Reading order: the most central sentence first, the rest as their members came in.
    if picked:
        lead, rest = picked[0], picked[1:]
        rest.sort(key=lambda s: (order[s.item_id], s.position))
        picked = [lead, *rest]
    return picked


def _pick_headlines(
    focus: Sequence[Member], earlier: Sequence[Member], params: SummaryParams
) -> list[Sentence]:
    """Returns up to three distinct, representative headlines as summary sentences."""
    old = [terms(m.item.headline) for m in earlier]
    heads = []
    for m in focus:
        text = clean(m.item.headline)
        t = terms(text)
        if t and not any(near_duplicate(t, o) for o in old):
            heads.append(Sentence(text, m.id, 0, True, t))
    if not heads:
        return []
    vec = Vectoriser([h.terms for h in heads])
    rows = vec.transform([h.terms for h in heads]).toarray()
    centroid = unit(rows.sum(axis=0))
    # Headlines shared in substance by several members count more.
    score = rows @ centroid + 0.5 * np.array(
        [float(np.mean([r @ rows[i] for j, r in enumerate(rows) if j != i])) if len(rows) > 1 else 0.0
         for i in range(len(rows))]
    )
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        if len(chosen) >= 3:
            break
        if any(float(rows[i] @ rows[j]) >= params.redundancy for j in chosen):
            continue
        if any(near_duplicate(heads[i].terms, heads[j].terms) for j in chosen):
            continue
        chosen.append(int(i))
    return [_as_sentence(heads[i]) for i in chosen]


def _as_sentence(s: Sentence) -> Sentence:
    text = s.text.rstrip()
    if not _ENDS.search(text):
        text += "."
    return Sentence(text, s.item_id, s.position, s.is_title, s.terms)


def _cite(
    s: Sentence,
    members: Sequence[Member],
    sentences: Mapping[str, list[Sentence]],
    by_member: Mapping[str, Member],
    params: SummaryParams,
) -> SummarySentence:
    """Returns the sentence with its own member and every member saying the same thing."""
    cited = [s.item_id]
    for m in members:
        if m.id == s.item_id:
            continue
        others = [o.terms for o in sentences[m.id]]
        if m.item.title:
            others.append(terms(m.item.title))
        if any(near_duplicate(s.terms, o, params.cite_overlap) for o in others):
            cited.append(m.id)
    sources: list[str] = []
    for mid in cited:
        for src in by_member[mid].sources:
            if src not in sources:
                sources.append(src)
    return SummarySentence(s.text, cited, sources, by_member[s.item_id].item.language)


def _main_language(candidates: list[Sentence], by_member: Mapping[str, Member],
                   params: SummaryParams) -> list[Sentence]:
    """Returns the candidates in the story's main language when they suffice for a summary.

    A story told in several languages is summarised in the one most of its candidate
    sentences use; sentences of other languages stay only when that one has too few (and
    are then marked with their language in the summary's text).
    """
    langs = [by_member[s.item_id].item.language or "unknown" for s in candidates]
    if len(set(langs)) <= 1:
        return candidates
    main = max(set(langs), key=lambda k: (langs.count(k), k == "en"))
    kept = [s for s, lang in zip(candidates, langs, strict=True) if lang == main]
    return kept if len(kept) >= params.min_sentences else candidates
