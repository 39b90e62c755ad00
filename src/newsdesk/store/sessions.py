"""Web reader sessions: created at sign-in, checked on each request, deleted at sign-out."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta


class SessionsStore:
    """Sign-in sessions (mixed into the store class)."""

    conn: sqlite3.Connection

    def add_session(self, session_id: str, lifetime: timedelta) -> None:
        """Records a new sign-in session that ends after `lifetime`."""
        now = datetime.now(UTC)
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("DELETE FROM web_sessions WHERE expires < ?", (now.isoformat(),))
            self.conn.execute(
                "INSERT INTO web_sessions (id, created, expires) VALUES (?,?,?)",
                (session_id, now.isoformat(), (now + lifetime).isoformat()),
            )

    def session_active(self, session_id: str) -> bool:
        """Returns whether the session exists and has not ended."""
        row = self.conn.execute(
            "SELECT 1 FROM web_sessions WHERE id = ? AND expires >= ?",
            (session_id, datetime.now(UTC).isoformat()),
        ).fetchone()
        return row is not None

    def end_session(self, session_id: str) -> None:
        """Ends a session (sign-out): its cookie no longer signs anyone in."""
        with self.transaction():  # type: ignore[attr-defined]
            self.conn.execute("DELETE FROM web_sessions WHERE id = ?", (session_id,))
