"""SQLite store: one file, WAL mode, versioned migrations, FTS5.

The store class is assembled from one mixin per area (items, stories, entities, feeds),
each in its own module, so that every SQL statement lives under `store/`.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from newsdesk.errors import StoreBusy, StoreError
from newsdesk.store.items import ItemsStore

LOGGER = logging.getLogger(__name__)

_MIGRATION = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# A writer copies the write-ahead log into the database file itself only once the log holds
# this many pages; below that, a thread of its own does it after each commit (_Checkpointer).
WRITER_CHECKPOINT_PAGES = 10_000


class _Checkpointer:
    """Copies committed pages from the write-ahead log into the database file on a thread of
    its own, after each commit (coalesced), instead of inside the writer's commit.

    At a million items the pages a batch touches are scattered over a file of gigabytes, and
    the copy and its two fsyncs made the commit that happened to cross SQLite's automatic
    checkpoint point ~0.1 ms per item slower (benchmarks/cluster.py --growth). A passive
    checkpoint never blocks the writer or readers; if this thread falls behind or fails, the
    writer's own automatic checkpoint at WRITER_CHECKPOINT_PAGES bounds the log.
    """

    def __init__(self, path: str, busy_timeout: float):
        self.pid = os.getpid()
        self._path, self._timeout = path, busy_timeout
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="newsdesk-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            LOGGER.debug("%s: no checkpoint thread (%s); the writer checkpoints", self._path, e)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as e:  # the writer's own checkpoint takes over
                    LOGGER.debug("%s: checkpoint skipped (%s)", self._path, e)
        finally:
            conn.close()


def _mixins() -> tuple[type, ...]:
    """Returns the area mixins that exist, items first."""
    found: list[type] = [ItemsStore]
    for module, name in (
        ("newsdesk.store.stories", "StoriesStore"),
        ("newsdesk.store.entities", "EntitiesStore"),
        ("newsdesk.store.summaries", "SummariesStore"),
        ("newsdesk.store.search", "SearchStore"),
        ("newsdesk.store.feeds", "FeedsStore"),
        ("newsdesk.store.outlets", "OutletsStore"),
        ("newsdesk.store.sessions", "SessionsStore"),
    ):
        try:
            mod = __import__(module, fromlist=[name])
        except ImportError as e:
            if e.name != module:
                raise
            continue
        cls = getattr(mod, name, None)
        if cls is not None:
            found.append(cls)
    return tuple(found)


def migrations(folder_name: str = "migrations") -> list[tuple[int, str, str]]:
    """Returns (version, name, sql) for every migration shipped in the package's folder
    (`migrations` for SQLite, `migrations_pg` for PostgreSQL), in order."""
    out = []
    folder = resources.files("newsdesk.store") / folder_name
    for entry in folder.iterdir():
        m = _MIGRATION.match(entry.name)
        if m:
            out.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    out.sort()
    return out


class _Base:
    """Connection handling and migrations; the area mixins add the queries."""

    path: str

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0):
        self.path = str(path)
        self.busy_timeout = float(busy_timeout)
        self._local = threading.local()
        self._lock = threading.RLock()
        self._checkpointer: _Checkpointer | None = None
        self.migrate()

    @property
    def conn(self) -> sqlite3.Connection:
        """Returns this thread's connection, opening it on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{self.path}: cannot create its folder ({e.strerror or e})") from None
        conn = None
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute(f"PRAGMA wal_autocheckpoint={WRITER_CHECKPOINT_PAGES}")
        except sqlite3.DatabaseError as e:
            if conn is not None:
                conn.close()
            raise store_error(e, self.path) from None
        return conn

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _committed(self) -> None:
        """Hands the pages just committed to the checkpoint thread (started on first use, and
        again in a forked child, which has no thread)."""
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            return
        ckpt = self._checkpointer
        if ckpt is None or ckpt.pid != os.getpid():
            ckpt = self._checkpointer = _Checkpointer(self.path, self.busy_timeout)
            weakref.finalize(self, ckpt.stop)
        ckpt.poke()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Runs the block in one write transaction (nested calls join the outer one)."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        with self._lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise store_error(e, self.path) from None
            try:
                yield conn
            except BaseException as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if is_store_failure(e):
                    raise store_error(e, self.path) from None
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error as e:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise store_error(e, self.path) from None
                self._committed()

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> int:
        """Applies the migrations this file lacks; returns the schema version reached."""
        try:
            current = self.schema_version()
        except sqlite3.DatabaseError as e:
            raise store_error(e, self.path) from None
        shipped = migrations()
        newest = shipped[-1][0] if shipped else 0
        if current > newest:
            raise StoreError(
                f"{self.path}: schema version {current} is newer than this newsdesk ({newest}); upgrade newsdesk"
            )
        pending = [m for m in shipped if m[0] > current]
        if not pending:
            return current
        # A migration that rebuilds a table sorts it for each new index: on disk, not in memory
        # (the connection's temp_store), or a store of millions of items needs gigabytes of RAM.
        self.conn.execute("PRAGMA temp_store=FILE")
        try:
            self._apply(pending)
        finally:
            self.conn.execute("PRAGMA temp_store=MEMORY")
        return self.schema_version()

    def _apply(self, pending: list[tuple[int, str, str]]) -> None:
        for version, name, sql in pending:
            LOGGER.info("migrating %s to %04d_%s", self.path, version, name)
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as e:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if _is_busy(e):
                    raise store_error(e, self.path) from None
                raise StoreError(f"{self.path}: migration {version:04d}_{name} failed ({e})") from None


# What a database call raises when the store itself fails (locked, full, read-only, corrupt).
DB_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,)


def is_store_failure(e: BaseException) -> bool:
    """Returns whether a database error is the store failing (locked, full, read-only, corrupt)
    rather than a statement the store refused (a constraint)."""
    return isinstance(e, sqlite3.OperationalError) or type(e) is sqlite3.DatabaseError


def _is_busy(e: BaseException) -> bool:
    text = str(e).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def store_error(e: BaseException, path: str = "store") -> StoreError:
    """Returns the one-line StoreError a database failure means (StoreBusy for a lock wait)."""
    if _is_busy(e):
        return StoreBusy(f"{path}: store busy, retry (another writer held it too long)")
    reason = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "readonly" in reason or "read-only" in reason:
        return StoreError(f"{path}: store is read-only ({reason})")
    if "disk is full" in reason or "disk i/o" in reason.lower():
        return StoreError(f"{path}: cannot write the store ({reason})")
    if not is_store_failure(e):
        return StoreError(f"{path}: the store refused a write ({reason})")
    return StoreError(f"{path}: not a usable SQLite store ({reason})")


def _split_sql(script: str) -> list[str]:
    """Returns the statements of a migration script (triggers kept whole)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buf.strip():
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements


def now() -> datetime:
    return datetime.now(UTC)


SQLiteStore = type("SQLiteStore", (*_mixins(), _Base), {"__doc__": "The embedded SQLite store."})


def open_store(path: str | Path, *, busy_timeout: float = 30.0) -> SQLiteStore:  # type: ignore[valid-type]
    """Returns the store at path, created and migrated as needed.

    A writer waits up to `busy_timeout` seconds for another to finish, then StoreBusy.
    """
    return SQLiteStore(path, busy_timeout=busy_timeout)
