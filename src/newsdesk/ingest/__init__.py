"""Sources: each module reads one kind of input and yields Items (or Skips).

`read(target)` picks the reader by what the target is: a URL (fetched with the address
guard), '-' (stdin), a directory (walked), or a file (by its type, else by its shape).
`read_text(text)` reads a pasted document. A record that cannot become an item is a
`Skip` naming where and why; only a target that cannot be read at all raises InputError.

Readers: text (plain articles), pagedump (article + headline list), jsonl, feeds (RSS,
Atom), html (article pages), opml (feed lists); fetch (guarded HTTP GET); normalise.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from newsdesk.errors import InputError
from newsdesk.ingest.document import FORMATS, format_for_content_type, read_document, sniff
from newsdesk.ingest.feeds import parse_feed, read_feed
from newsdesk.ingest.fetch import FetchResult, check_url, fetch
from newsdesk.ingest.opml import FeedRef, read_opml
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)

__all__ = [
    "FORMATS",
    "FeedRef",
    "FetchResult",
    "check_url",
    "fetch",
    "is_url",
    "parse_feed",
    "read",
    "read_feed",
    "read_opml",
    "read_text",
    "read_url",
    "sniff",
]

STDIN = "<stdin>"


def is_url(target: str | Path) -> bool:
    """Returns whether a target names a web address rather than a path."""
    return isinstance(target, str) and target.strip().lower().startswith(("http://", "https://"))


def read(
    target: str | Path,
    *,
    allow_private: bool = False,
    max_bytes: int = 20_000_000,
    max_chars: int = 200_000,
) -> Iterator[Item | Skip]:
    """Yields the items of a file, directory, URL or '-' (stdin); raises InputError if unreadable."""
    if is_url(target):
        return read_url(str(target).strip(), allow_private=allow_private, max_bytes=max_bytes,
                        max_chars=max_chars)
    if str(target) == "-":
        return _read_stdin(allow_private=allow_private, max_bytes=max_bytes, max_chars=max_chars)
    path = Path(target).expanduser()
    if not path.exists():
        raise InputError(f"{target}: no such file or directory")
    from newsdesk.ingest.directory import read_directory, read_file

    if not path.is_dir() and not path.is_file():
        raise InputError(f"{target}: not a regular file (a pipe, socket or device would block)")
    if path.is_dir():
        return read_directory(path, allow_private=allow_private, max_bytes=max_bytes,
                              max_chars=max_chars)
    return read_file(path, allow_private=allow_private, max_bytes=max_bytes, max_chars=max_chars)


def read_url(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = 20_000_000,
    max_chars: int = 200_000,
) -> Iterator[Item | Skip]:
    """Fetches a URL now (raising FetchError if it cannot be) and yields the items it holds."""
    result = fetch(url, allow_private=allow_private, max_bytes=max_bytes)
    return read_document(
        result.content,
        origin=url,
        fmt=format_for_content_type(result.content_type),
        url=result.final_url,
        charset=result.charset,
        allow_private=allow_private,
        max_bytes=max_bytes,
        max_chars=max_chars,
    )


def _read_stdin(*, allow_private: bool, max_bytes: int, max_chars: int) -> Iterator[Item | Skip]:
    stream = getattr(sys.stdin, "buffer", None)
    try:
        if stream is not None:
            data: bytes | str = stream.read(max_bytes + 1)
        else:
            data = sys.stdin.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"{STDIN}: cannot read ({e.strerror or e})") from None
    if len(data) > max_bytes:
        yield Skip(STDIN, None, f"input is over the {max_bytes} byte limit")
        return
    yield from read_document(
        data, origin=STDIN, allow_private=allow_private, max_bytes=max_bytes, max_chars=max_chars
    )


def read_text(
    text: str,
    *,
    origin: str = "paste",
    fmt: str | None = None,
    max_chars: int = 200_000,
) -> Iterator[Item | Skip]:
    """Yields the items of a pasted document: JSONL, a page dump, plain text (or a feed/HTML).

    `fmt` forces a format (one of FORMATS, or "auto"); raises InputError for an unknown one.
    OPML is refused here: a paste never makes newsdesk fetch addresses.
    """
    from newsdesk.ingest.document import format_name

    name = format_name(fmt) or sniff(text)
    if name == "opml":
        raise InputError(f"{origin}: OPML feed lists can be ingested from a file, not pasted")
    return read_document(text, origin=origin, fmt=name, max_chars=max_chars)
