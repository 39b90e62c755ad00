"""Files and directories: size and readability checks, then the reader for each file type."""

from __future__ import annotations

import logging
import os
import stat
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
        # Opened without blocking and checked on the open file: a FIFO put in a file's place
        # would otherwise hang the read forever.
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                yield Skip(origin, None, "not a regular file")
                return
            if info.st_size > max_bytes:
                yield Skip(origin, None, f"file is {info.st_size} bytes, over the {max_bytes} limit")
                return
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

    Hidden files and folders are passed over; other unsupported files, and links to files
    outside the directory, are one Skip each.
    """
    inside = root.resolve()
    for folder, dirs, files in os.walk(root, onerror=lambda e: LOGGER.warning("%s", e)):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if not path.is_file():  # a pipe or socket would block; a dangling link is gone
                yield Skip(str(path), None, "not a regular file")
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(inside):
                yield Skip(str(path), None, "a link to a file outside the directory")
                continue
            supported, fmt = format_for_path(path)
            if not supported:
                kinds = ", ".join(sorted(SUFFIXES))
                yield Skip(str(path), None, f"not a supported file type (use one of {kinds})")
                continue
            yield from read_file(
                path, fmt=fmt, allow_private=allow_private, max_bytes=max_bytes, max_chars=max_chars
            )
