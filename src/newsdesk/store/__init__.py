"""The store: the only place that speaks SQL. SQLite by default."""

from newsdesk.store.sqlite import SQLiteStore, open_store

__all__ = ["SQLiteStore", "open_store"]
