"""A user's search query, parsed once, independent of any database.

The syntax people type:

    word word        both words (AND)
    "a phrase"       the words in this order
    word*            words starting with "word"
    a OR b           either
    -word, NOT word  without this word

`parse_query()` turns the text into a `Query` (AND of OR-groups of terms, minus terms to
leave out). Each store compiles a `Query` into its own dialect (FTS5 for SQLite, tsquery for
PostgreSQL); a user's text never reaches a database as query syntax, and watches keep the
text as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from newsdesk.errors import InputError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32

_QUERY_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """Words in this order (one word for a plain term); prefix: the last word may go on."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    """Items matching every group (a group: any of its terms) and none of the negatives."""

    groups: tuple[tuple[Term, ...], ...]
    negatives: tuple[Term, ...] = ()

    def and_phrase(self, text: str) -> Query:
        """Returns this query narrowed to items that also hold the words of text, in order."""
        words = tuple(WORD.findall(text))
        if not words:
            return self
        return Query((*self.groups, (Term(words),)), self.negatives)

    @classmethod
    def any_of(cls, words: Iterable[str]) -> Query:
        """Returns the query for items holding any of these words."""
        terms = tuple(Term((w,)) for w in words if WORD.fullmatch(w))
        if not terms:
            raise InputError("search query has no words to search for")
        return cls((terms,))

    @classmethod
    def phrase(cls, text: str) -> Query:
        """Returns the query for items holding these words in this order."""
        words = tuple(WORD.findall(text))
        if not words:
            raise InputError(f"{text!r} has no words to search for")
        return cls(((Term(words),),))


def parse_query(query: str | Query) -> Query:
    """Returns the parsed query; InputError if nothing is left to search."""
    if isinstance(query, Query):
        return query
    if query is None or not query.strip():
        raise InputError("empty search query")
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"search query too long ({len(query)} characters, at most {MAX_QUERY_CHARS})")
    groups: list[list[Term]] = []
    negatives: list[Term] = []
    join_or = negate = False
    count = 0
    for m in _QUERY_TOKEN.finditer(query):
        phrase, raw = m.group(1), m.group(2)
        if phrase is not None:
            words = WORD.findall(phrase)
            term = Term(tuple(words)) if words else None
        else:
            if raw == "OR":
                join_or = bool(groups)
                continue
            if raw in ("AND", "+"):
                continue
            if raw == "NOT":
                negate = True
                continue
            if raw.startswith("-") and len(raw) > 1:
                negate, raw = True, raw[1:]
            prefix = raw.endswith("*")
            words = WORD.findall(raw)
            term = Term(tuple(words), prefix) if words else None
        if term is None:
            join_or = negate = False
            continue
        count += 1
        if count > MAX_TERMS:
            raise InputError(f"search query has too many terms (at most {MAX_TERMS})")
        if negate:
            negatives.append(term)
        elif join_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_or = negate = False
    if not groups:
        if negatives:
            raise InputError(f"search query {query!r} only excludes words; add a word to look for")
        raise InputError(f"search query {query!r} has no words to search for")
    return Query(tuple(tuple(g) for g in groups), tuple(negatives))


def query_words(query: str) -> list[str]:
    """Returns the plain words of a query (operators and exclusions left out)."""
    out = []
    for m in _QUERY_TOKEN.finditer(query or ""):
        raw = m.group(1) if m.group(1) is not None else m.group(2)
        if raw in ("OR", "AND", "NOT") or raw.startswith("-"):
            continue
        out.extend(WORD.findall(raw))
    return out
