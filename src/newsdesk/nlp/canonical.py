"""Canonical entity names: folding spellings together, known aliases, surname resolution.

`fold` turns a surface form into the key entities are merged on: accents, case, a leading
"the", a trailing possessive and the usual transliteration endings (Zelenskiy, Zelenskyy,
Zelensky) all fold to the same key. `resolve_item` merges the mentions of one item:
a surname alone becomes the full name it abbreviates, and a name typed PERSON in most
mentions is PERSON in all of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

from newsdesk.nlp.base import Mention

# Folded alias -> (canonical name, type). Only forms that spelling rules cannot join.
ALIASES: dict[str, tuple[str, str]] = {}
for _names, _canon, _type in (
    (("us", "u s", "usa", "u s a", "united states", "united states of america", "the us"),
     "United States", "GPE"),
    (("uk", "u k", "britain", "great britain", "united kingdom"), "United Kingdom", "GPE"),
    (("eu", "e u", "european union"), "European Union", "ORG"),
    (("un", "u n", "united nations"), "United Nations", "ORG"),
    (("uae", "u a e", "united arab emirates"), "United Arab Emirates", "GPE"),
    (("nato", "north atlantic treaty organization", "north atlantic treaty organisation"), "NATO", "ORG"),
    (("russian federation",), "Russia", "GPE"),
    (("prc", "people s republic of china"), "China", "GPE"),
    (("dprk",), "North Korea", "GPE"),
    (("kiev",), "Kyiv", "GPE"),
):
    for _n in _names:
        ALIASES[_n] = (_canon, _type)

_APOS = re.compile(r"[’'`]s$|[’'`]$")
_NONWORD = re.compile(r"[^\w\s]")
_WS = re.compile(r"\s+")
# Transliteration endings folded together: -iy, -yy, -yi, -ij, -ii -> -y.
_ENDINGS = re.compile(r"(iy|yy|yi|ij|ii)\b")
_DOUBLE = re.compile(r"([a-z])\1+")


def strip_accents(text: str) -> str:
    """Returns text without combining accents."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def clean_surface(text: str) -> str:
    """Returns a mention's display text: trimmed, no leading 'the', no trailing possessive."""
    text = _WS.sub(" ", text).strip().strip(",;:-–—\"“”'‘’").strip()
    if text.lower().startswith("the ") and len(text) > 4:
        text = text[4:]
    return _APOS.sub("", text).strip()


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Returns the key a surface form merges on (spelling variants fold together)."""
    text = strip_accents(clean_surface(text)).casefold()
    text = _WS.sub(" ", _NONWORD.sub(" ", text)).strip()
    if text in ALIASES:
        return fold_plain(ALIASES[text][0])
    text = _ENDINGS.sub("y", text)
    return _DOUBLE.sub(r"\1", text)


def fold_plain(text: str) -> str:
    """Returns the key of a canonical name (no alias lookup)."""
    text = strip_accents(text).casefold()
    text = _WS.sub(" ", _NONWORD.sub(" ", text)).strip()
    return _DOUBLE.sub(r"\1", _ENDINGS.sub("y", text))


@lru_cache(maxsize=65536)
def alias_of(text: str) -> tuple[str, str] | None:
    """Returns (canonical name, type) when the surface is a known alias, else None."""
    key = _WS.sub(" ", _NONWORD.sub(" ", strip_accents(clean_surface(text)).casefold())).strip()
    return ALIASES.get(key)


def surname(key: str) -> str:
    """Returns the last word of a folded person key."""
    return key.rsplit(" ", 1)[-1]


def entity_key(label: str, name: str) -> str:
    """Returns the public key of an entity, e.g. 'PERSON:volodymyr zelenskiy'."""
    return f"{label}:{name.casefold()}"


def resolve_item(mentions: Iterable[Mention]) -> list[Mention]:
    """Returns the mentions with canonical names set and labels agreed within the item.

    A one-word PERSON that is the surname of exactly one longer PERSON in the item takes
    that full name; each name's label is the label most of its mentions carry.
    """
    mentions = list(mentions)
    for m in mentions:
        alias = alias_of(m.text)
        if alias:
            m.name, m.label = alias
        else:
            m.name = clean_surface(m.text)
    # Full names by surname, to resolve one-word mentions.
    full: dict[str, set[str]] = defaultdict(set)
    for m in mentions:
        if m.label == "PERSON" and " " in m.name:
            full[surname(fold(m.name))].add(m.name)
    for m in mentions:
        if " " not in m.name and m.label in ("PERSON", "ORG", "GPE", "NORP"):
            names = full.get(fold(m.name))
            if names and len({fold(n) for n in names}) == 1:
                m.name = _longest(names)
                m.label = "PERSON"
    # One label per name: the majority, PERSON winning ties against ORG.
    votes: dict[str, Counter] = defaultdict(Counter)
    for m in mentions:
        votes[fold(m.name)][m.label] += 1
    for m in mentions:
        counts = votes[fold(m.name)]
        best = max(counts.items(), key=lambda kv: (kv[1], kv[0] == "PERSON", kv[0] in ("GPE", "LOC")))
        m.label = best[0]
    # One display name per key within the item: the longest form seen.
    names: dict[str, list[str]] = defaultdict(list)
    for m in mentions:
        names[fold(m.name)].append(m.name)
    for m in mentions:
        m.name = _longest(names[fold(m.name)])
    return mentions


def _longest(names: Iterable[str]) -> str:
    return max(names, key=lambda n: (len(n.split()), len(n), n))
