"""Plain text: decoding raw bytes, and one article per document (title first when it has one)."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from dataclasses import dataclass

from newsdesk.ingest.normalise import looks_like_title, make_item
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

SNIFF_BYTES = 8192
# Encodings tried after UTF-8, in order; latin-1 decodes anything, so it is the last resort.
FALLBACK_ENCODINGS = ("cp1252", "latin-1")


@dataclass
class Decoded:
    """Text decoded from bytes, with the encoding used and a note when it was a guess."""

    text: str
    encoding: str
    note: str | None = None


def is_binary(data: bytes) -> bool:
    """Returns whether bytes look like a binary file rather than text."""
    head = data[:SNIFF_BYTES]
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control / len(head) > 0.05


def decode(data: bytes) -> Decoded | str:
    """Returns the decoded text, or a one-line reason why the bytes are not text."""
    if is_binary(data):
        return "binary file, not text"
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError as e:
            return f"not valid UTF-16 ({e.reason} at byte {e.start})"
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as e:
        first_error = e.start
    for encoding in FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        note = f"not valid UTF-8 (byte {first_error}); read as {encoding}"
        return Decoded(text, encoding, note)
    return "not valid text in any known encoding"  # pragma: no cover - latin-1 always decodes


def split_title(text: str) -> tuple[str | None, str]:
    """Returns (title, rest): the first line is the title when it looks like one and more follows."""
    stripped = text.strip()
    first, _, rest = stripped.partition("\n")
    if rest.strip() and looks_like_title(first, max_words=20, max_chars=200):
        return first.strip(), rest.strip()
    return None, stripped


def read_plain(
    text: str,
    *,
    origin: str,
    max_chars: int | None = None,
    extra: dict | None = None,
) -> Iterator[Item | Skip]:
    """Yields one article from a plain text document (its first line as title when title-like)."""
    title, body = split_title(text)
    item = make_item(
        title=title, text=body, origin=origin, origin_line=1, max_chars=max_chars, extra=extra
    )
    if item is None:
        yield Skip(origin, None, "empty document")
        return
    yield item
