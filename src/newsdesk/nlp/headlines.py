"""Headlines in Title Case fool a named-entity model ("Curb Iran Oil Exports" as an ORG).

`truecase` rewrites such a headline in sentence case before the model reads it: a word is
lowered when it is an ordinary English word (a verb, adjective, adverb or stop word, or a
word the item's body writes in lower case), and kept when it is an acronym, a name the desk
already knows, a demonym, or a word no dictionary holds. Only letter case changes, so every
character offset found in the rewritten headline is an offset in the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_][\w'’.]*", re.UNICODE)
_DEMONYM = re.compile(r"(?:an|ian|ese|ish|i|ic)$")
_DEMONYM_STRICT = re.compile(r"(?:an|ian|ese|ish|i)$")  # "-ic" adjectives ("public") are not names
# Acronyms of news that are also letters a dictionary holds, or too short to tell from a word:
# a caseless text writes them in capitals ("fbi", "gop").
ACRONYMS = frozenset({
    "fbi", "cia", "nsa", "cdc", "fda", "gop", "nba", "nfl", "nhl", "mlb", "nhs", "bbc", "cnn", "eu",
    "un", "uk", "usa", "nato", "imf", "ecb", "opec", "uae", "ira", "irs", "sec", "epa", "faa", "nasa",
    "wto", "g7", "g20", "ceo", "gdp", "ai", "ev", "mp", "mps", "dhs", "doj", "icc", "icj",
})
_ALWAYS_LOWER = {
    "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "for", "by",
    "with", "as", "from", "into", "over", "after", "before", "amid", "against", "about", "up",
    "out", "off", "new", "says", "said", "set", "plan", "plans", "talks", "major", "high",
}


def is_title_case(text: str) -> bool:
    """Returns whether most words of the text start with a capital (a Title Case headline)."""
    words = [w for w in _WORD.findall(text) if len(w) > 3]
    if len(words) < 3:
        return False
    upper = sum(1 for w in words if w[0].isupper())
    return upper / len(words) >= 0.7


def is_caseless(text: str) -> bool:
    """Returns whether the text is written in one case only (all lower, or ALL CAPS) over at
    least three words: its capitals then say nothing about which words are names."""
    words = [w for w in _WORD.findall(text) if len(w) > 1]
    if len(words) < 3:
        return False
    joined = "".join(words)
    upper = any(c.isupper() for c in joined)
    lower = any(c.islower() for c in joined)
    return upper != lower  # one case only (a script without case has neither)


def _stems(word: str) -> Iterable[str]:
    yield word
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e"), ("d", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            yield word[: -len(suffix)] + repl


_IRREGULAR_PAST = {
    "said", "told", "went", "made", "took", "gave", "came", "saw", "knew", "thought", "found",
    "held", "met", "ran", "kept", "brought", "began", "felt", "stood", "won", "paid", "sent",
    "built", "spent", "led", "heard", "meant", "wrote", "spoke", "chose", "rose", "fell", "drove",
    "says", "does", "did", "has", "had", "is", "was", "were", "are",
}
_NOUN_SUFFIX = re.compile(
    r"(tion|sion|ment|ness|ity|ism|ance|ence|ship|ure|ing|ist|ery|ogy|age|dom|hood|ure|cy)s?$"
)


MEMO_MAX = 200_000  # words whose answers a Truecaser keeps (then it starts afresh)


class Truecaser:
    """Rewrites Title Case headlines in sentence case, keeping names."""

    def __init__(self, common: set[str], nouns: set[str] | None = None, adjectives: set[str] | None = None):
        self.common = frozenset(common | _ALWAYS_LOWER)
        self.nouns = frozenset(nouns or ())
        self.adjectives = frozenset(adjectives or ())
        self.verbs: set[str] = set()
        # Answers of is_common and is_word by word: the desk's known names are looked up for
        # every batch, and a word's stems take a dozen set lookups.
        self._common: dict[str, bool] = {}
        self._words: dict[str, bool] = {}

    def is_common(self, word: str) -> bool:
        """Returns whether a lower-cased word is an ordinary word.

        Verbs, adjectives, adverbs and stop words are; a noun is when it is plural or has a
        common-noun ending, since the dictionary's nouns include place names ("iran").
        """
        found = self._common.get(word)
        if found is None:
            if len(self._common) >= MEMO_MAX:
                self._common.clear()
            found = self._common[word] = self._is_common(word)
        return found

    def _is_common(self, word: str) -> bool:
        if any(s in self.common for s in _stems(word)):
            return True
        if word in self.nouns and _NOUN_SUFFIX.search(word):
            return True
        return any(s in self.nouns for s in _stems(word) if s != word)

    def is_content(self, word: str) -> bool:
        """Returns whether a lower-cased word can be part of a noun phrase (noun, adjective, name)."""
        stems = list(_stems(word))
        if any(s in self.nouns or s in self.adjectives for s in stems):
            return True
        return not any(s in self.common for s in stems)

    def is_verb_form(self, word: str) -> bool:
        """Returns whether a lower-cased word reads as an inflected verb ("needs", "failed", "said")."""
        if word in _IRREGULAR_PAST:
            return True
        for suffix in ("s", "ed", "d"):
            if word.endswith(suffix) and word[: -len(suffix)] in self.verbs:
                return True
        return False

    def is_word(self, word: str) -> bool:
        """Returns whether a lower-cased word is in the dictionary at all (nouns included)."""
        found = self._words.get(word)
        if found is None:
            if len(self._words) >= MEMO_MAX:
                self._words.clear()
            found = self._words[word] = any(s in self.common or s in self.nouns for s in _stems(word))
        return found

    def truecase(self, text: str, known: set[str] | None = None, lower_seen: set[str] | None = None) -> str:
        """Returns the headline in sentence case, offsets unchanged.

        known: words of entity names already seen (kept as written);
        lower_seen: words the item's body writes in lower case (lowered).
        """
        known = known or set()
        lower_seen = lower_seen or set()
        out = list(text)
        for m in _WORD.finditer(text):
            for part_start, part in _parts(m.start(), m.group()):
                if not part[:1].isupper() or _is_acronym(part):
                    continue
                if part in known or part.rstrip("’'s") in known:
                    continue
                low = part.lower()
                if _DEMONYM.search(low) and low not in lower_seen and not self._verbish(low):
                    continue
                if low in lower_seen or self.is_common(low):
                    out[part_start] = part[0].lower()
        return "".join(out)

    def recase(self, text: str, casing: Casing | None = None, lower_seen: set[str] | None = None,
               capital_seen: dict[str, str] | None = None) -> str:
        """Returns a caseless text (see `is_caseless`) with the capitals a name would have,
        offsets unchanged.

        A name the desk knows is written as the desk writes it (`casing`: "white house" ->
        "White House", "desantis" -> "DeSantis"), a news acronym in capitals ("fbi"). With
        `capital_seen` (the words the item's own body writes with a capital inside a
        sentence), only those words get one: the body names what its headline names. Without
        it, a demonym gets one, and so does any word that is not an ordinary English word
        ("mourinho", "florida"); words the body writes in lower case (`lower_seen`) stay lower.
        """
        words, phrases = casing or ({}, {})
        lower_seen = lower_seen or set()
        out = [c.lower() if len(c.lower()) == 1 else c for c in text]
        lowered = "".join(out)
        done = 0  # offsets below this are written by a known phrase
        for m in _WORD.finditer(lowered):
            if m.start() < done:
                continue
            for phrase, cased in phrases.get(_bare(m.group()), ()):
                end = m.start() + len(phrase)
                if lowered.startswith(phrase, m.start()) and (end == len(lowered) or not lowered[end].isalnum()):
                    out[m.start():end] = cased
                    done = end
                    break
            if m.start() < done:
                continue
            for start, part in _parts(m.start(), m.group()):
                word = _bare(part)
                cased = words.get(word)
                if cased is None and capital_seen is not None:
                    cased = capital_seen.get(word)
                if cased is not None and len(cased) == len(word):
                    out[start:start + len(word)] = cased
                    continue
                if word in ACRONYMS:
                    out[start:start + len(word)] = word.upper()
                    continue
                if capital_seen is not None or not word[:1].isalpha() or word in lower_seen:
                    continue
                single = word.removesuffix("s")  # "americans"
                if _DEMONYM_STRICT.search(single) and single in self.adjectives:
                    out[start] = word[0].upper()  # "american", "chinese": a demonym, as in truecase
                    continue
                if not (self.is_common(word) or self.is_verb_form(word)):  # "met", "signs"
                    out[start] = word[0].upper()
        return "".join(out)

    def _verbish(self, low: str) -> bool:
        return low in _ALWAYS_LOWER


def _parts(start: int, word: str) -> Iterable[tuple[int, str]]:
    """Returns the pieces of a hyphenated word with their offsets."""
    offset = start
    for piece in word.split("-"):
        if piece:
            yield offset, piece
        offset += len(piece) + 1


def _is_acronym(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return sum(1 for c in letters if c.isupper()) >= 2 or (len(letters) == 1)


# lower-cased word -> as written; first word of a name -> [(the name lower-cased, as written)]
Casing = tuple[dict[str, str], dict[str, list[tuple[str, str]]]]


def known_casing(names, truecaser: Truecaser) -> Casing:
    """Returns how a caseless text should write the desk's known names: a name of several
    words as a whole ("White House"), and alone the words no dictionary holds ("NATO",
    "Kelso", "DeSantis"), not "White" or "Fire"."""
    words: dict[str, str] = {}
    phrases: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        low_name = name.lower()
        if len(low_name) != len(name) or name == low_name:
            continue
        parts = name.split()
        if len(parts) > 1:
            phrases.setdefault(_bare(parts[0]).lower(), []).append((low_name, name))
        for word in map(_bare, parts):
            low = word.lower()
            if len(low) != len(word) or word == low:
                continue
            if not truecaser.is_word(low):  # "FIRE" in a shouted line is no acronym
                words.setdefault(low, word)
    for found in phrases.values():
        found.sort(key=lambda p: -len(p[0]))  # the longest name first
    return words, phrases


_SENTENCE_END = frozenset(".!?:;\n\"“”‘’'(—–-•|")


def capital_words(text: str, lower: set[str] | None = None) -> dict[str, str]:
    """Returns lower-cased word -> as written, for the words a text writes with a capital
    inside a sentence and never in lower case (a sentence's first word says nothing, nor does
    a line in Title Case). lower: `lower_words(text)`, when the caller has it."""
    out: dict[str, str] = {}
    lower = lower_words(text) if lower is None else lower
    for line in text.splitlines():
        if not is_title_case(line):
            out.update((k, v) for k, v in _capitals(line).items() if k not in out and k not in lower)
    return out


def _capitals(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _WORD.finditer(text):
        word = m.group()
        if not word[:1].isupper():
            continue
        i = m.start() - 1
        while i >= 0 and text[i] == " ":
            i -= 1
        if i < 0 or text[i] in _SENTENCE_END:
            continue
        word = _bare(word)
        if len(word.lower()) == len(word):
            out.setdefault(word.lower(), word)
    return out


def _bare(word: str) -> str:
    """Returns the word without a possessive or a sentence's full stop ("Wasilla's", "Wasilla.")."""
    if word.endswith(("'s", "’s")):
        return word[:-2]
    if word.endswith(".") and word.count(".") == 1:
        return word[:-1]
    return word


def lower_words(text: str) -> set[str]:
    """Returns the words a text writes in lower case (evidence that they are ordinary words)."""
    return {w for w in _WORD.findall(text) if w.islower()}


def common_words(nlp) -> tuple[set[str], set[str], set[str]]:
    """Returns (verbs, adjectives, adverbs and stop words; nouns; adjectives) from the model's lists."""
    words: set[str] = set(nlp.Defaults.stop_words)
    nouns: set[str] = set()
    adjectives: set[str] = set()
    if "lemmatizer" not in nlp.component_names:
        return words, nouns, adjectives
    lookups = nlp.get_pipe("lemmatizer").lookups
    if "lemma_index" not in lookups.tables:
        return words, nouns, adjectives
    index = lookups.get_table("lemma_index")
    for pos, into in (("verb", words), ("adj", words), ("adv", words), ("noun", nouns), ("adj", adjectives)):
        try:
            into.update(w for w in index[pos] if "_" not in w)
        except KeyError:
            continue
    return words, nouns, adjectives


def verb_lemmas(nlp) -> set[str]:
    """Returns the verbs of the model's word list."""
    if "lemmatizer" not in nlp.component_names:
        return set()
    lookups = nlp.get_pipe("lemmatizer").lookups
    if "lemma_index" not in lookups.tables:
        return set()
    try:
        return {w for w in lookups.get_table("lemma_index")["verb"] if "_" not in w}
    except KeyError:
        return set()
