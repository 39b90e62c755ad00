"""Key figures: amounts of money, percentages, quantities and counts, with what they measure.

"20% of the Donetsk region" -> 20 %, measure "the Donetsk region";
"tens of thousands of deaths" -> 10000, measure "deaths";
"$8 Billion Funding" -> 8e9 USD, measure "Funding".
"""

from __future__ import annotations

import re

from spacy.tokens import Span

FIGURE_LABELS = ("MONEY", "PERCENT", "QUANTITY", "CARDINAL")
_SCALE = {"thousand": 1e3, "thousands": 1e3, "million": 1e6, "millions": 1e6, "billion": 1e9,
          "billions": 1e9, "trillion": 1e12, "trillions": 1e12, "hundred": 1e2, "hundreds": 1e2,
          "dozen": 12, "dozens": 12, "k": 1e3, "m": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
          "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "tens": 10, "a": 1, "an": 1}
_CURRENCY = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "dollars": "USD",
             "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP", "yen": "JPY",
             "rubles": "RUB", "roubles": "RUB", "yuan": "CNY", "hryvnias": "UAH"}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_STOP_MEASURE = {"that", "which", "who", "and", "or", "but", "as", "at", "in", "on", "for", "to",
                 "from", "by", "with", "since", "after", "before", "than", "while", "when", "is",
                 "are", "was", "were", "has", "have", "had", "will", "would", "amid", "over"}
_MAX_MEASURE = 6


def parse_value(text: str) -> tuple[float | None, str | None]:
    """Returns (value, unit) of a figure as written: '$8 billion' -> (8e9, 'USD')."""
    low = text.lower().replace("per cent", "%").replace("percent", "%")
    unit = None
    for sym, code in _CURRENCY.items():
        if sym in low.split() or (not sym.isalpha() and sym in low):
            unit = code
            break
    if "%" in low:
        unit = "%"
    value = None
    m = _NUMBER.search(low)
    words = re.findall(r"[a-z]+", low)
    if m:
        value = float(m.group().replace(",", ""))
    else:
        for w in words:
            if w in _WORDS:
                value = float(_WORDS[w])
                break
    scale = 1.0
    for w in words:
        if w in _SCALE:
            scale *= _SCALE[w]
            if value is None:
                value = 1.0
    if value is not None and unit != "%":
        value *= scale
    return value, unit


def measure_of(ent: Span) -> str | None:
    """Returns what a figure measures: the 'of ...' phrase after it, or the noun it counts."""
    doc = ent.doc
    i = ent.end
    if i < len(doc) and doc[i].lower_ == "of":
        i += 1
    elif ent.label_ == "PERCENT":
        return None
    words = []
    while i < len(doc) and len(words) < _MAX_MEASURE:
        tok = doc[i]
        if tok.is_punct and tok.text not in ("’s", "'s", "-") or tok.lower_ in _STOP_MEASURE:
            break
        if tok.ent_type_ in ("DATE", "TIME", "MONEY", "PERCENT", "CARDINAL"):
            break
        if tok.pos_ == "VERB" or tok.tag_ in ("VBD", "VBZ", "VBP", "MD"):
            break
        words.append(tok)
        i += 1
    while words and (words[-1].lower_ in ("the", "a", "an") or words[-1].is_punct):
        words.pop()
    if not words or not any(t.is_alpha and t.lower_ not in ("the", "a", "an") for t in words):
        return None
    return "".join(t.text_with_ws for t in words).strip()


def find_figures(doc, field: str = "text"):
    """Returns the key figures of a doc (counts only when they count something)."""
    from newsdesk.nlp.base import Figure

    out = []
    for ent in doc.ents:
        if ent.label_ not in FIGURE_LABELS:
            continue
        measure = measure_of(ent)
        if ent.label_ == "CARDINAL" and measure is None:
            continue
        value, unit = parse_value(ent.text)
        out.append(Figure(ent.text, ent.start_char, ent.end_char, field, value, unit, measure))
    return out
