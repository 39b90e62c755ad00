"""Words per language: tokens, stop words and stems for clustering and related-item terms.

English keeps the story stage's own tokeniser (tuned on the English sets). Other languages
are cut into words, lower-cased, stripped of their stop words (the stopwords-iso lists, from
`stopwordsiso`) and stemmed with the Snowball stemmer of that language (`PyStemmer`).
Chinese and Japanese are written without spaces: their runs of Han and kana characters
become overlapping character pairs (北京宣布 -> 北京, 京宣, 宣布), which match the words
inside a run without a dictionary. A language with no stemmer keeps whole words; one with
no stop-word list keeps them all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

# ISO 639-1 code -> Snowball algorithm name (as PyStemmer spells it).
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
NO_SPACES = frozenset({"zh", "ja", "th", "lo", "km", "my"})
# Letters of scripts written without spaces between words (Han, kana), read as character pairs.
_DENSE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

Tokeniser = Callable[[str | None, int | None], list[tuple[str, bool]]]


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """Returns the stop words of a language (empty when no list is installed for it)."""
    try:
        import stopwordsiso
    except ImportError:
        return frozenset()
    if not stopwordsiso.has_lang(language):
        return frozenset()
    return frozenset(w.casefold() for w in stopwordsiso.stopwords(language))


@lru_cache(maxsize=64)
def _stemmer(language: str):
    name = SNOWBALL.get(language)
    if name is None:
        return None
    try:
        import Stemmer
    except ImportError:
        return None
    return Stemmer.Stemmer(name, 100_000)


def stem(word: str, language: str) -> str:
    """Returns the Snowball stem of a lower-case word (the word itself without a stemmer)."""
    stemmer = _stemmer(language)
    return stemmer.stemWord(word) if stemmer is not None else word


def words(text: str | None, language: str, limit: int | None = None) -> list[tuple[str, bool]]:
    """Returns (term, written with a capital) pairs of a text in `language`, at most `limit`.

    Terms are stemmed lower-case words without stop words; runs of Han or kana characters
    give their overlapping character pairs (a lone character stands as itself).
    """
    if not text:
        return []
    stops = stop_words(language)
    stemmer = _stemmer(language)
    text = english_numbers(unicodedata.normalize("NFKC", text), language)
    out: list[tuple[str, bool]] = []
    for m in _WORD.finditer(text):
        raw = m.group()
        pos = 0
        for dense in _DENSE.finditer(raw):
            _add_latin(raw[pos: dense.start()], stops, stemmer, out)
            run = dense.group()
            if len(run) == 1:
                out.append((run, False))
            else:
                out.extend((run[i: i + 2], False) for i in range(len(run) - 1) if run[i: i + 2] not in stops)
            pos = dense.end()
        _add_latin(raw[pos:], stops, stemmer, out)
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


def _add_latin(raw: str, stops: frozenset[str], stemmer, out: list[tuple[str, bool]]) -> None:
    if not raw:
        return
    word = raw.casefold()
    if len(word) < 2 or word in stops or (word.isdigit() and len(word) < 3):
        return
    capital = raw[0].isupper()
    if capital:
        # A name keeps the form other languages write it in ("Lagarde", "Petrobras"), with
        # only the light plural ending the English reader takes off, so reports of one
        # event in two languages share it.
        word = light_stem(word)
    elif stemmer is not None and not word.isdigit():
        word = stemmer.stemWord(word)
    out.append((word, capital))


def light_stem(word: str) -> str:
    """Returns a word without a possessive or plural -s (the English reader's light stem)."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    n = len(word)
    if n > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if n > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


# Languages that write 1.234,5 (a comma before the decimals, points between thousands).
COMMA_DECIMAL = frozenset({
    "de", "fr", "es", "pt", "it", "nl", "ru", "uk", "pl", "cs", "sk", "sl", "hr", "sr", "bg", "ro",
    "hu", "tr", "da", "no", "nb", "sv", "fi", "et", "lv", "lt", "el", "id", "ca", "eu", "gl",
})
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?:,\d+)?(?![\w])|(?<![\w.,])\d+,\d+(?![\w])")


def english_numbers(text: str, language: str) -> str:
    """Returns text with numbers written the English way (1.234,5 -> 1,234.5; 1,75 -> 1.75),
    so that a figure reads the same whatever the language of the report."""
    if language not in COMMA_DECIMAL:
        return text

    def swap(m: re.Match) -> str:
        whole, _, decimals = m.group().partition(",")
        whole = re.sub(r"[.\u00a0\u202f ]", ",", whole)
        return whole + ("." + decimals if decimals else "")

    return _NUMBER.sub(swap, text)


@lru_cache(maxsize=64)
def tokeniser_for(language: str | None) -> Tokeniser | None:
    """Returns the tokeniser for items in `language`, or None for English and unknown ones
    (the caller's English tokeniser reads those)."""
    if not language or language in ("en", "unknown"):
        return None

    def tokenise(text: str | None, limit: int | None = None) -> list[tuple[str, bool]]:
        return words(text, language, limit)

    return tokenise
