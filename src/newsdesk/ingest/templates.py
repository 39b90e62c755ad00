"""An outlet's page template: lines that stand in every one of its articles.

A scraped or exported article body often carries its outlet's furniture besides the report:
"Photo", "Advertisement Continue reading the main story", "Scroll down for video", "Follow
The Ledger on X and Facebook", its copyright line. The generic list (`normalise.is_boilerplate`)
knows the common ones; each outlet has its own. Those lines are the same in the outlet's
reports on every subject, so two unrelated reports of one outlet look alike through them (more
shared words, closer vectors), and summaries and entities read them as news.

A line that stood in at least TEMPLATE_SEEN of the outlet's TEMPLATE_LOOKBACK latest earlier items
is taken for the template and dropped from the new item's text before the item is stored, unless
those lines are nearly all of the text (then the item repeats earlier ones, and is kept whole). The
lines dropped are kept with the item (`extra["template_lines"]`, shown by `show`), so the outlet's
template is still known from stored items whose text no longer holds it. What an item keeps
depends only on the items of its outlet stored before it, in arrival order: an ingest resumed
after a crash keeps what an uninterrupted one did.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, deque
from collections.abc import Iterable

TEMPLATE_SEEN = 3  # earlier items of the outlet a line must stand in (three: not a repeated fact)
TEMPLATE_LOOKBACK = 30  # the outlet's latest items read
LINE_MAX = 300  # a longer line is prose, never template
KEEP_MIN = 0.25  # an item that would keep less of its text than this repeats earlier ones
EXTRA_KEY = "template_lines"
EXTRA_MAX = 100  # lines dropped that an item keeps in its extra fields (the text is capped, so is this)

_SPACE = re.compile(r"\s+")


def line_key(line: str) -> str | None:
    """Returns a short key of a line (case and spacing ignored), or None for a blank line or
    one too long to be template."""
    s = _SPACE.sub(" ", line).strip().lower()
    if not s or len(s) > LINE_MAX:
        return None
    return hashlib.blake2b(s.encode("utf-8"), digest_size=8).hexdigest()


def line_keys(text: str | None) -> set[str]:
    """Returns the keys of a text's lines."""
    keys = (line_key(line) for line in (text or "").split("\n"))
    return {k for k in keys if k is not None}


def stored_keys(text: str | None, extra: str | dict | None) -> set[str]:
    """Returns the line keys of a stored item: its text's and those dropped from it."""
    keys = line_keys(text)
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = None
    dropped = extra.get(EXTRA_KEY) if isinstance(extra, dict) else None
    if isinstance(dropped, list):
        keys.update(k for k in (line_key(x) for x in dropped if isinstance(x, str)) if k is not None)
    return keys


class Template:
    """One outlet's template, read from its latest items (oldest first) and updated as items arrive."""

    def __init__(self, earlier: Iterable[set[str]] = ()):
        self.window: deque[set[str]] = deque()
        self.counts: Counter[str] = Counter()
        for keys in earlier:
            self.add(keys)

    def add(self, keys: set[str]) -> None:
        """Counts an item's line keys (the oldest item leaves the lookback)."""
        self.window.append(keys)
        self.counts.update(keys)
        if len(self.window) > TEMPLATE_LOOKBACK:
            self.counts.subtract(self.window.popleft())

    def drop(self, text: str) -> tuple[str, list[str]]:
        """Returns the text without the template's lines, and the lines dropped (each once).

        An article is more than its furniture. When the lines seen before make up nearly all of
        the text (less than KEEP_MIN would stay), the item is another version of earlier items (a
        wire story sent again, a lede repeated) and is kept whole: it is the copies stage's to judge.
        """
        kept: list[str] = []
        dropped: dict[str, str] = {}
        lost = 0
        for line in text.split("\n"):
            key = line_key(line)
            if key is not None and self.counts[key] >= TEMPLATE_SEEN:
                dropped.setdefault(key, line.strip())
                lost += len(line)
                continue
            kept.append(line)
        if not dropped or len(text) - lost < KEEP_MIN * len(text):
            return text, []
        return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip(), list(dropped.values())[:EXTRA_MAX]
