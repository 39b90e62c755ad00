"""The store: the only place that speaks SQL. SQLite by default, PostgreSQL by address."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from newsdesk.store.sqlite import DB_ERRORS, SQLiteStore, store_error
from newsdesk.store.sqlite import open_store as open_sqlite

if TYPE_CHECKING:
    from newsdesk.store.protocol import Store


def open_store(db: str | Path, *, busy_timeout: float = 30.0) -> Store:
    """Returns the store a path or address names, created and migrated as needed.

    `postgresql://user@host/db` (or `postgres://`) opens a PostgreSQL database (the
    [postgres] extra); anything else is the path of a SQLite file. A writer waits up to
    `busy_timeout` seconds for another to finish, then StoreBusy.
    """
    from newsdesk.store.postgres import is_address

    if isinstance(db, str) and is_address(db):
        from newsdesk.store.postgres import open_store as open_postgres

        return open_postgres(db, busy_timeout=busy_timeout)
    return open_sqlite(db, busy_timeout=busy_timeout)


__all__ = ["DB_ERRORS", "SQLiteStore", "open_store", "store_error"]
