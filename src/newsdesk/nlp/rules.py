"""Fixes to the model's entities from evidence in the parse.

- a name labelled ORG that is listed with people, or given a title, is a PERSON
  ("Rustem Umerov and senior officials", "including Kyrylo Budanov and Serhiy Kyslytsya");
- a name labelled PERSON or ORG that modifies a place noun, or is listed with places, is a
  place ("the Zaporizhzhia nuclear power plant", "Crimea and parts of the Donbas region");
- a proper noun the model missed is a place when it names a region or is listed with a
  place ("the Donetsk region", "Moscow and Kyiv");
- a named weather system is an event, not a person ("Storm Wren", "Typhoon Haiyan",
  "Tropical Storm Alberto");
- once a name is an entity in an item, its other unlabelled occurrences are too;
- a name ending in a word like "Chemicals", "Rovers" or "Wire" is an organisation;
- photo furniture is not part of a name ("Photo Reuters" is Reuters), and a photo credit
  ("Joe Raedle/Getty Images") is no entity.
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from newsdesk.nlp.roles import HONORIFICS, ROLE_WORDS

PLACE_NOUNS = {
    "region", "regions", "province", "oblast", "city", "town", "village", "county", "district",
    "state", "territory", "peninsula", "river", "valley", "plant", "airport", "port", "border",
    "capital", "area", "coast", "island", "islands", "mountains", "sea", "strait", "gulf",
    "bay", "lake", "front", "frontline", "enclave", "republic", "airbase", "base", "harbor",
    "harbour", "dam", "station", "parts", "part",
}
PERSON_NOUNS = ROLE_WORDS | {
    "people", "officials", "leaders", "ministers", "envoys", "aides", "advisers", "delegates",
    "members", "negotiators", "lawmakers", "generals", "commanders", "men", "women", "brother",
    "sister", "wife", "husband", "son", "daughter", "father", "mother",
}
ORG_WORDS = {
    "inc", "inc.", "corp", "corp.", "co", "co.", "ltd", "ltd.", "llc", "plc", "group", "party",
    "ministry", "department", "council", "committee", "agency", "bank", "university", "college",
    "institute", "association", "union", "company", "industries", "holdings", "news", "times",
    "post", "journal", "press", "army", "navy", "force", "forces", "court", "office", "service",
    "foundation", "fund", "network", "club", "fc", "league", "federation", "organisation",
    "organization", "commission", "board", "house", "senate", "congress", "parliament",
    "assembly", "team", "airlines", "motors", "media", "police", "guard", "corps", "command",
}


# Last words that make a name an organisation's whatever the model read ("Brennick Chemicals",
# "Eastmere Rovers", "Meridian Wire"): not "bank", "union" or "post" (West Bank, Soviet Union,
# Emily Post).
ORG_FINAL = {
    "inc", "inc.", "corp", "corp.", "ltd", "ltd.", "llc", "plc", "group", "party", "ministry",
    "council", "committee", "agency", "university", "college", "institute", "association",
    "company", "industries", "holdings", "chemicals", "pharmaceuticals", "airlines", "airways",
    "motors", "media", "wire", "news", "journal", "gazette", "herald", "tribune", "rovers", "fc",
    "club", "league", "federation", "foundation", "commission", "technologies", "labs",
}
ORG_ANY = ORG_WORDS | ORG_FINAL  # a word that keeps a name from being read as a person's or a place's


def _org_by_last_word(ents: list[Span]) -> list[Span] | None:
    """Returns the entities with a person, place or group whose name ends in ORG_FINAL made an
    organisation, or None when none is."""
    out, changed = [], False
    for ent in ents:
        if ent.label_ in ("PERSON", "GPE", "LOC", "NORP") and len(ent) >= 2 and ent[-1].lower_ in ORG_FINAL:
            out.append(Span(ent.doc, ent.start, ent.end, label="ORG"))
            changed = True
        else:
            out.append(ent)
    return out if changed else None


def _namelike(span: Span) -> bool:
    """Returns whether a span reads like a personal name: 2-3 capitalised words, no org word."""
    words = [t for t in span if not t.is_punct]
    if not 2 <= len(words) <= 3:
        return False
    for t in words:
        if not (t.is_alpha and t.text[0].isupper() and not t.is_upper):
            return False
        if t.lower_ in ORG_ANY or t.lower_ in PLACE_NOUNS:
            return False
    return True


def _linked(tok, doc: Doc):
    """Yields the tokens coordinated with tok or listed under the same 'including'."""
    seen = set()
    for other in list(tok.conjuncts):
        if other.i not in seen:
            seen.add(other.i)
            yield other
    if tok.dep_ == "pobj" and tok.head.lower_ in ("including", "like", "alongside") and tok.head.head.i != tok.i:
        yield tok.head.head
    if tok.dep_ == "appos":
        yield tok.head


def _has_title(span: Span) -> bool:
    left = span.start - 1
    if left < 0:
        return False
    prev = span.doc[left]
    return prev.lower_ in ROLE_WORDS and prev.head.i in range(span.start, span.end)


# Photo and video furniture that scraped bodies run into names ("Photo Reuters", "GETTY
# Bitcoin", "Enlarge Image Google", "CLOSE John Mahoney", "Nice Hide Caption"): these words at
# either end of an entity are not part of it. The second set only in capitals, where it is a
# caption's label, or just before a word of the first ("Hide Caption", "View Photos"); "Credit"
# only after one ("Photo Credit", not "Credit Suisse").
FURNITURE = {"photo", "photos", "image", "images", "enlarge", "caption", "wireimage", "slideshow"}
FURNITURE_CAPS = {"getty", "close", "hide", "view", "file", "video", "watch", "gallery"}


def _furniture(doc: Doc, i: int) -> bool:
    tok = doc[i]
    low = tok.lower_
    if tok.is_space or low in FURNITURE:
        return True
    nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
    if low in FURNITURE_CAPS and (tok.is_upper or nxt in FURNITURE):
        return True
    if low == "credit":
        return i > 0 and doc[i - 1].lower_ in FURNITURE
    return low == "getty" and nxt == "images"


def _has_letter(doc: Doc, start: int, end: int) -> bool:
    return any(ch.isalpha() for i in range(start, end) for ch in doc[i].text)


def without_furniture(doc: Doc, ents: list[Span], is_common=None) -> list[Span]:
    """Returns the entities with photo furniture trimmed from their ends; a photo credit
    ("Joe Raedle/Getty Images", "AP Photo/Richard Drew") or a trimmed span left without a letter goes.

    is_common(word) -> bool: a caption's label followed by one ordinary word ("Getty Images
    Witnesses said...") leaves the sentence's first word, not a name; it goes too.
    """
    out = []
    for ent in ents:
        start, end = ent.start, ent.end
        if any(t.text == "/" for t in ent) and any(_furniture(doc, t.i) for t in ent):
            continue
        while start < end and _furniture(doc, start):
            start += 1
        while end > start and _furniture(doc, end - 1):
            end -= 1
        if (start, end) == (ent.start, ent.end):
            out.append(ent)
            continue
        if not _has_letter(doc, start, end):
            continue
        if start > ent.start and end - start == 1 and is_common is not None and is_common(doc[start].lower_):
            continue
        out.append(Span(doc, start, end, label=ent.label_))
    return out


def fix_entities(doc: Doc, known: KnownIndex | None = None, is_common=None) -> None:
    """Relabels and adds entities in place, from the evidence listed in the module docstring.

    known: names seen before (see `known_index`), tagged where the doc names them unlabelled.
    is_common: ordinary words, for the captions `without_furniture` drops.
    """
    if doc.user_data.get("newsdesk_fixed"):
        return
    doc.user_data["newsdesk_fixed"] = True
    ents = list(doc.ents)
    trimmed = without_furniture(doc, ents, is_common)
    if [(e.start, e.end) for e in trimmed] != [(e.start, e.end) for e in ents]:
        doc.ents = trimmed
    storms = _named_weather(doc)
    if storms is not None:
        doc.ents = storms
    orgs = _org_by_last_word(list(doc.ents))
    if orgs is not None:
        doc.ents = orgs
    if not doc.has_annotation("DEP"):
        _propagate(doc, list(doc.ents), known)
        return
    ents = list(doc.ents)
    label_at = {}
    for ent in ents:
        for t in ent:
            label_at[t.i] = ent.label_
    fixed: list[Span] = []
    for ent in ents:
        label = ent.label_
        root = ent.root
        if label in ("ORG", "GPE", "NORP", "PRODUCT", "WORK_OF_ART", "FAC") and _namelike(ent):
            for other in _linked(root, doc):
                if label_at.get(other.i) == "PERSON" or (
                    other.i not in label_at and other.lower_ in PERSON_NOUNS
                ):
                    label = "PERSON"
                    break
            if label != "PERSON" and _has_title(ent):
                label = "PERSON"
        if label in ("PERSON", "ORG") and len(ent) <= 2 and not any(t.lower_ in ORG_ANY for t in ent):
            head = root.head
            if root.dep_ in ("compound", "nmod") and head.i >= ent.end and head.lower_ in PLACE_NOUNS:
                label = "GPE"
            elif label == "ORG":
                for other in _linked(root, doc):
                    if label_at.get(other.i) in ("GPE", "LOC") or (
                        other.i not in label_at and other.lower_ in PLACE_NOUNS
                    ):
                        label = "GPE"
                        break
        start = ent.start
        if label == "PERSON":
            # Titles inside the name span: "[VP Kamala Harris]" -> VP [Kamala Harris].
            while start < ent.end - 1 and (doc[start].lower_ in ROLE_WORDS or doc[start].lower_ in HONORIFICS):
                start += 1
            # The model sometimes leaves a first name out: "Anders [Lindqvist]".
            while start > 0 and ent.end - start < 3:
                prev = doc[start - 1]
                if (prev.tag_ == "NNP" and prev.i not in label_at and prev.is_alpha and prev.text[0].isupper()
                        and not prev.is_upper and prev.dep_ == "compound" and ent.start <= prev.head.i < ent.end
                        and prev.lower_ not in ROLE_WORDS):
                    start -= 1
                else:
                    break
        if label == ent.label_ and start == ent.start:
            fixed.append(ent)
        else:
            fixed.append(Span(doc, start, ent.end, label=label))
            for t in range(ent.start, start):
                label_at.pop(t, None)
    taken = {t for ent in fixed for t in range(ent.start, ent.end)}
    added: list[Span] = _missed_people(doc, taken, label_at)
    taken.update(t for ent in added for t in range(ent.start, ent.end))
    for tok in doc:
        if tok.i in taken or tok.tag_ != "NNP" or not tok.is_alpha or not tok.text[0].isupper():
            continue
        if tok.is_upper or tok.is_sent_start and tok.lower_ in doc.vocab.strings and tok.is_stop:
            continue
        # A bare proper noun naming a region ("the Donetsk region").
        if tok.dep_ == "compound" and tok.head.lower_ in PLACE_NOUNS and tok.head.i == tok.i + 1:
            added.append(Span(doc, tok.i, tok.i + 1, label="GPE"))
            taken.add(tok.i)
            continue
        # Listed with a place ("Moscow and Kyiv").
        if any(label_at.get(o.i) in ("GPE", "LOC") for o in tok.conjuncts):
            added.append(Span(doc, tok.i, tok.i + 1, label="GPE"))
            taken.add(tok.i)
    _propagate(doc, fixed + added, known)


WEATHER_WORDS = {"storm", "hurricane", "typhoon", "cyclone"}
_STORM_NAME = re.compile(r"\b(?:Storm|Hurricane|Typhoon|Cyclone)\s+\w")
POSSESSIVES = {"'s", "’s", "'", "’"}
WEATHER_PREFIXES = {"tropical", "subtropical", "super", "winter", "severe"}
# What the model calls a storm's name by mistake. A product ("Storm Shadow" missiles) or a longer
# name ("Storm Hunters Ltd") is left as it is; a possessive inside the span ("Hurricane Ian's") is not
# part of the name.
MISREAD_AS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT"}
WEATHER_NOUNS = {"warning", "warnings", "watch", "season", "damage", "surge", "center", "centre", "force",
                 "system", "conditions", "alert", "alerts", "front", "clouds", "chasers", "drain", "shelter"}


def _named_weather(doc: Doc) -> list[Span] | None:
    """Returns doc.ents with each named weather system ("Storm Wren") as one EVENT span, or None
    when the doc names none (a text search rules out most docs before any token is read).

    The name is one capitalised word after a capitalised storm word, and the model must have
    seen a name there: an entity on either word, a proper-noun tag, or a "Tropical"-like word
    before it. So "Storm Clouds Gather" in a headline written in Title Case is left alone.
    """
    if not _STORM_NAME.search(doc.text):
        return None
    ents = list(doc.ents)
    label_at = {t: e for e in ents for t in range(e.start, e.end)}
    spans: list[Span] = []
    i = 0
    while i < len(doc) - 1:
        start = _storm_name_start(doc, i, label_at)
        if start is None:
            i += 1
            continue
        spans.append(Span(doc, start, i + 2, label="EVENT"))
        i += 2
    if not spans:
        return None
    covered = {t for s in spans for t in range(s.start, s.end)}
    kept = [e for e in ents if not any(t in covered for t in range(e.start, e.end))]
    return sorted(kept + spans, key=lambda s: s.start)


def _storm_name_start(doc: Doc, i: int, label_at: dict[int, Span]) -> int | None:
    """Returns where a storm's name starts when doc[i] is its storm word and doc[i + 1] its name."""
    word, name = doc[i], doc[i + 1]
    if not (word.lower_ in WEATHER_WORDS and word.text[:1].isupper() and name.is_alpha
            and name.text[:1].isupper() and not name.is_upper and not name.is_stop
            and name.lower_ not in WEATHER_WORDS and name.lower_ not in WEATHER_NOUNS):
        return None
    start = i
    while start > 0 and doc[start - 1].lower_ in WEATHER_PREFIXES and doc[start - 1].text[:1].isupper():
        start -= 1
    if not (start < i or i in label_at or i + 1 in label_at or name.tag_ == "NNP"):
        return None
    for t in (i, i + 1):
        ent = label_at.get(t)
        if ent is None:
            continue
        beyond = [doc[k].lower_ for k in range(i + 2, ent.end)]
        if ent.label_ not in MISREAD_AS or ent.start < start or any(w not in POSSESSIVES for w in beyond):
            return None
    return start


def _missed_people(doc: Doc, taken: set[int], label_at: dict[int, str]) -> list[Span]:
    """Returns names the model missed that the parse shows are people.

    A run of 2-3 capitalised proper nouns is a person when a title stands before it,
    a role noun stands beside it by apposition, or it is listed with a person.
    """
    out: list[Span] = []
    i = 0
    n = len(doc)
    while i < n:
        if i in taken or doc[i].tag_ != "NNP":
            i += 1
            continue
        j = i
        while j < n and j not in taken and doc[j].tag_ == "NNP" and j - i < 3:
            j += 1
        span = Span(doc, i, j)
        if _namelike(span):
            root = span.root
            before = doc[i - 1] if i > 0 else None
            titled = before is not None and before.lower_ in ROLE_WORDS and before.tag_ in ("NN", "NNS", "NNP")
            appos = any(c.dep_ == "appos" and c.lower_ in PERSON_NOUNS for c in root.children)
            listed = any(label_at.get(o.i) == "PERSON" for o in root.conjuncts)
            if titled or appos or listed:
                out.append(Span(doc, i, j, label="PERSON"))
        i = j
    return out


_NAME_CHARS = re.compile(r"[\w.'’ -]+$")


KnownIndex = dict[str, list[tuple[tuple[str, ...], str]]]


def known_index(known: dict[str, str], skip_word=None) -> KnownIndex:
    """Returns known names (name -> type) indexed by first word, for tagging them in texts.

    skip_word(word) -> bool leaves out one-word names that are ordinary words.
    """
    index: KnownIndex = {}
    for name, label in known.items():
        entry = index_entry(name, label, skip_word)
        if entry is not None:
            index.setdefault(entry[0][0], []).append(entry)
    for entries in index.values():
        entries.sort(key=lambda e: -len(e[0]))
    return index


def index_entry(name: str, label: str, skip_word=None) -> tuple[tuple[str, ...], str] | None:
    """Returns a known name's entry in `known_index` (its words and type), or None when it has none."""
    if label not in ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC") or not _NAME_CHARS.match(name):
        return None
    words = tuple(name.split())
    if not words or not words[0][:1].isupper():
        return None
    if len(words) == 1 and skip_word is not None and skip_word(words[0].lower()):
        return None
    return words, label


def tag_known(doc: Doc, known: KnownIndex) -> None:
    """Tags the unlabelled mentions of known names in a doc whose entities are already fixed."""
    _propagate(doc, list(doc.ents), known)


def _propagate(doc: Doc, ents: list[Span], known: KnownIndex | None = None) -> None:
    """Sets doc.ents to ents plus unlabelled repeats of a named entity's exact words.

    The names come from the doc's own entities and from `known` (names seen before).
    """
    taken = {t for ent in ents for t in range(ent.start, ent.end)}
    index: KnownIndex = {}
    for ent in ents:
        if ent.label_ in ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "FAC") and _NAME_CHARS.match(ent.text):
            words = tuple(t.text for t in ent)
            index.setdefault(words[0], []).append((words, ent.label_))
    for entries in index.values():
        entries.sort(key=lambda e: -len(e[0]))
    extra: list[Span] = []
    n = len(doc)
    i = 0
    while i < n:
        tok = doc[i]
        if i in taken or not tok.text[:1].isupper() or _furniture(doc, i):
            i += 1
            continue
        entries = index.get(tok.text, []) + (known.get(tok.text, []) if known else [])
        hit = 0
        for words, label in entries:
            length = len(words)
            if i + length <= n and all(doc[i + k].text == words[k] for k in range(length)) and not any(
                j in taken for j in range(i, i + length)
            ):
                extra.append(Span(doc, i, i + length, label=label))
                taken.update(range(i, i + length))
                hit = length
                break
        i += hit or 1
    doc.ents = sorted(ents + extra, key=lambda s: s.start)
