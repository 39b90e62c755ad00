"""Story titles as shown: the state that keeps a title stable while its story grows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any


class SummariesStore:
    """Queries on the titles shown for stories (mixed into the store class)."""

    conn: sqlite3.Connection

    def shown_title(self, story_id: str) -> dict[str, Any] | None:
        """Returns the stored title row of a story (title, item_id, kind, score, size), or None."""
        row = self.conn.execute(
            "SELECT story_id, title, item_id, kind, score, size, updated FROM story_titles WHERE story_id = ?",
            (story_id,),
        ).fetchone()
        return dict(row) if row else None

    def save_shown_title(self, story_id: str, title: str, item_id: str | None, kind: str,
                         score: float, size: int) -> None:
        """Stores (or replaces) the title shown for a story."""
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute(
                "INSERT INTO story_titles (story_id, title, item_id, kind, score, size, updated) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(story_id) DO UPDATE SET title = excluded.title, "
                "item_id = excluded.item_id, kind = excluded.kind, score = excluded.score, "
                "size = excluded.size, updated = excluded.updated",
                (story_id, title, item_id, kind, score, size, datetime.now(UTC).isoformat()),
            )
