"""Files and directories: size and readability checks, then the reader for each file type."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

from newsdesk.ingest.document import SUFFIXES, format_for_path, read_document
from newsdesk.model import Item, Skip

LOGGER = logging.getLogger(__name__)


def read_file(
    path: Path,
    *,
    fmt: str | None = None,
    allow_private: bool = False,
    max_bytes: int = 20_000_000,
    max_chars: int | None = None,
) -> Iterator[Item | Skip]:
    """Yields the items of one file, or one Skip when it is too big, unreadable or empty."""
    origin = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield Skip(origin, None, f"file is {size} bytes, over the {max_bytes} limit")
            return
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as e:
        yield Skip(origin, None, f"cannot read ({e.strerror or type(e).__name__})")
        return
    if len(data) > max_bytes:  # grew since stat, or a special file
        yield Skip(origin, None, f"file is over the {max_bytes} byte limit")
        return
    if not data:
        yield Skip(origin, None, "empty file")
        return
    if fmt is None:
        _, fmt = format_for_path(path)
    yield from read_document(
        data, origin=origin, fmt=fmt, allow_private=allow_private, max_bytes=max_bytes,
        max_chars=max_chars,
    )


def read_directory(
    root: Path,
    *,
    allow_private: bool = False,
    max_bytes: int = 20_000_000,
    max_chars: int | None = None,
) -> Iterator[Item | Skip]:
    """Yields the items of every supported file under a directory, in name order.

    Hidden files and folders are passed over; other unsupported files are one Skip each.
    """
    for folder, dirs, files in os.walk(root, onerror=lambda e: LOGGER.warning("%s", e)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if not path.is_file():  # a pipe or socket would block; a dangling link is gone
                yield Skip(str(path), None, "not a regular file")
                continue
            supported, fmt = format_for_path(path)
            if not supported:
                kinds = ", ".join(sorted(SUFFIXES))
                yield Skip(str(path), None, f"not a supported file type (use one of {kinds})")
                continue
            yield from read_file(
                path, fmt=fmt, allow_private=allow_private, max_bytes=max_bytes, max_chars=max_chars
            )
