"""The store: the only place that speaks SQL. SQLite by default."""

from newsdesk.store.sqlite import DB_ERRORS, SQLiteStore, open_store, store_error

__all__ = ["DB_ERRORS", "SQLiteStore", "open_store", "store_error"]
