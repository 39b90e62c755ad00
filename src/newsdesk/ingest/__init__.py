"""Sources: each module reads one kind of input and yields Items (or Skips).

`read(target)` picks the module by what the target is (URL, directory, '-', file type).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from newsdesk.errors import InputError
from newsdesk.model import Item, Skip


def read(
    target: str | Path,
    *,
    allow_private: bool = False,
    max_bytes: int = 20_000_000,
    max_chars: int = 200_000,
) -> Iterator[Item | Skip]:
    """Yields the items of a file, directory, URL or '-' (stdin); raises InputError if unreadable."""
    path = Path(target)
    if not path.exists():
        raise InputError(f"{target}: no such file or directory")
    # Placeholder JSONL-only reader until the source modules land.
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                yield Skip(str(target), n, f"not JSON ({e.msg})")
                continue
            yield Item(
                title=rec.get("title"), text=rec.get("text") or "", url=rec.get("url"),
                source=rec.get("source"), source_id=rec.get("id"), origin=str(target), origin_line=n,
                kind="article" if rec.get("text") else "headline",
            )


def read_text(text: str, *, origin: str = "paste", fmt: str | None = None) -> Iterator[Item | Skip]:
    """Yields the items of a pasted document: JSONL, a page dump, or plain text."""
    raise InputError("pasted documents are not supported yet")
