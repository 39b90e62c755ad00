"""BERT's uncased WordPiece tokenizer in plain Python (what the static vectors are keyed by).

Splits text the way all-MiniLM-L6-v2's tokenizer does (BertNormalizer with lowercase and
accent stripping, BertPreTokenizer, WordPiece with "##" continuations and at most 100
characters a word), without the tokenizers package. Each distinct whitespace-separated
chunk is split once and remembered, so news text, which repeats its words, costs a dict
lookup per word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

CACHE_MAX = 400_000  # distinct chunks remembered before the cache starts over


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _drop(ch: str) -> bool:
    """Characters BERT's normaliser removes: NUL, U+FFFD and control characters."""
    cp = ord(ch)
    if cp == 0 or cp == 0xFFFD:
        return True
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


class WordPiece:
    """Turns text into vocabulary ids (unknown words give no id unless keep_unknown)."""

    def __init__(self, vocab: Sequence[str], unk: str = "[UNK]", max_word_chars: int = 100):
        self.ids = {tok: i for i, tok in enumerate(vocab)}
        self.unk_id = self.ids.get(unk, -1)
        self.max_word_chars = max_word_chars
        self.cache: dict[str, tuple[int, ...]] = {}

    def ids_of(self, text: str) -> list[int]:
        """Returns the token ids of a text ([UNK] ids included), no [CLS]/[SEP]."""
        out: list[int] = []
        cache = self.cache
        for chunk in text.split():
            got = cache.get(chunk)
            if got is None:
                if len(cache) >= CACHE_MAX:
                    cache.clear()
                got = cache[chunk] = tuple(self._chunk(chunk))
            out.extend(got)
        return out

    def tokens(self, text: str) -> list[str]:
        """Returns the tokens of a text as strings (for checking against the reference)."""
        inv = {i: t for t, i in self.ids.items()}
        return [inv[i] for i in self.ids_of(text)]

    # -- one whitespace-free chunk --------------------------------------------------------
    def _chunk(self, chunk: str) -> list[int]:
        out: list[int] = []
        for word in self._words(chunk):
            out.extend(self._pieces(word))
        return out

    def _words(self, chunk: str) -> list[str]:
        """Normalises a chunk and splits it at punctuation and CJK ideographs."""
        if not chunk.isascii():
            chunk = "".join(" " if unicodedata.category(c) == "Zs" else c
                            for c in chunk if not _drop(c))
            chunk = unicodedata.normalize("NFD", chunk.lower())
            chunk = "".join(c for c in chunk if unicodedata.category(c) != "Mn")
        else:
            chunk = chunk.lower()
            if chunk.isalnum():
                return [chunk]
        words: list[str] = []
        cur: list[str] = []
        for c in chunk:
            if c == " ":
                if cur:
                    words.append("".join(cur))
                    cur = []
            elif _is_punct(c) or _is_cjk(ord(c)):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(c)
            elif not _drop(c):
                cur.append(c)
        if cur:
            words.append("".join(cur))
        return words

    def _pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece; the whole word is [UNK] when a piece misses."""
        ids = self.ids
        if len(word) > self.max_word_chars:
            return [self.unk_id]
        found = ids.get(word)
        if found is not None:
            return [found]
        out: list[int] = []
        start, n = 0, len(word)
        while start < n:
            end = n
            piece = None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                piece = ids.get(sub)
                if piece is not None:
                    break
                end -= 1
            if piece is None:
                return [self.unk_id]
            out.append(piece)
            start = end
        return out
