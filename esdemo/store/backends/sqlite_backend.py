"""The SQLite backend: the standard library's row store, same contract.

SQLite has one writer at a time per database file: ``BEGIN IMMEDIATE``
takes the write lock up front, so concurrent appends queue instead of
colliding, across threads and processes alike. A single connection, guarded
by a lock, serves every thread of this process. A path is checked before
SQLite touches it (see :mod:`.store_files`): a 0-byte file is an empty store.

Why the log cannot be rewritten through any door (``query``, ``sql``,
``transaction``, ``connection``): triggers alone are not enough on SQLite
(``INSERT OR REPLACE`` deletes without firing a DELETE trigger, and
``DROP TRIGGER`` removes them), so the connection carries an **authorizer**
(``sqlite3_set_authorizer``). SQLite asks it about every action of every
statement while compiling it, whatever door the SQL came through, triggers'
bodies included. It refuses INSERT/UPDATE/DELETE on ``events`` and
``streams``, dropping, altering, shadowing or adding triggers to them, and
``PRAGMA writable_schema`` / ``query_only``. Only this backend's own append
and restore lift it, for the thread that runs them, under the connection's
lock. ``query()``/``sql()`` run with the authorizer in read-only mode (reads
and introspection pragmas only) and ``PRAGMA query_only`` on, which SQLite
checks while running, not only while compiling.

SQLite asks the authorizer when it *compiles* a statement, and the sqlite3
module caches compiled statements by their text. So a statement compiled
while the guard is lifted must never be found by a door: the append path's
writes to the log carry a comment with a per-process secret (no door can send
the same text), and after ``restore``/``bulk_load`` (which run SQL given to
them) the authorizer is re-installed, which makes SQLite expire every compiled
statement so that each is authorized again before it runs. The connection object handed
out refuses ``set_authorizer`` and ``deserialize``, the two calls that would
take the guard off or swap the database under it.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ImmutableEventsError, ReadOnlyQueryError, StoreLockedError
from .base import SqlBackend
from .store_files import check_path, check_tables, open_failed

PROTECTED = ("events", "streams")
_TAG = f" -- esdemo log writer {secrets.token_hex(16)}"   # see the module docstring
_OWN_TRIGGERS = ("events_refuse_update", "events_refuse_delete")
_WRITE_ROWS = {sqlite3.SQLITE_INSERT: "INSERT into", sqlite3.SQLITE_UPDATE: "UPDATE of", sqlite3.SQLITE_DELETE: "DELETE from"}
_DDL_ON_TABLE = {   # action -> (what it does, which argument names the table)
    sqlite3.SQLITE_DROP_TABLE: ("DROP TABLE", 0), sqlite3.SQLITE_DROP_TEMP_TABLE: ("DROP TABLE", 0),
    sqlite3.SQLITE_CREATE_TABLE: ("CREATE TABLE", 0), sqlite3.SQLITE_CREATE_TEMP_TABLE: ("CREATE TEMP TABLE", 0),
    sqlite3.SQLITE_CREATE_VIEW: ("CREATE VIEW", 0), sqlite3.SQLITE_CREATE_TEMP_VIEW: ("CREATE TEMP VIEW", 0),
    sqlite3.SQLITE_ALTER_TABLE: ("ALTER TABLE", 1),
    sqlite3.SQLITE_CREATE_TRIGGER: ("CREATE TRIGGER on", 1), sqlite3.SQLITE_CREATE_TEMP_TRIGGER: ("CREATE TRIGGER on", 1),
    sqlite3.SQLITE_DROP_TRIGGER: ("DROP TRIGGER on", 1), sqlite3.SQLITE_DROP_TEMP_TRIGGER: ("DROP TRIGGER on", 1),
}
_GUARD_PRAGMAS = ("writable_schema", "query_only")
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
_WRITING_PRAGMAS = ("optimize", "wal_checkpoint", "shrink_memory", "incremental_vacuum")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,     -- global order, gapless, from 1
    stream_id      TEXT    NOT NULL,
    version        INTEGER NOT NULL,        -- order within the stream, from 1
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    data           TEXT    NOT NULL,
    metadata       TEXT    NOT NULL,
    event_id       TEXT    NOT NULL UNIQUE,
    recorded_at    TEXT    NOT NULL,        -- UTC, 'YYYY-MM-DD HH:MM:SS.ffffff'
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT    PRIMARY KEY,
    version   INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_refuse_update BEFORE UPDATE ON events BEGIN
    SELECT RAISE(ABORT, 'events are immutable facts: UPDATE on events is refused. Append a new, correcting event instead.');
END;
CREATE TRIGGER IF NOT EXISTS events_refuse_delete BEFORE DELETE ON events BEGIN
    SELECT RAISE(ABORT, 'events are immutable facts: DELETE on events is refused. Append a new, compensating event instead.');
END;
"""


class GuardedConnection(sqlite3.Connection):
    """A ``sqlite3.Connection`` whose authorizer keeps ``events`` and ``streams`` append-only (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._log_writer: int | None = None   # the thread running the backend's own append/restore
        self._reader: int | None = None       # the thread running a read-only query()
        self._refusals = threading.local()

    # -- the authorizer ----------------------------------------------------------------
    def _authorize(self, action: int, arg1: str | None, arg2: str | None, db: str | None, source: str | None) -> int:
        me = threading.get_ident()
        if me == self._log_writer:
            return sqlite3.SQLITE_OK
        if me == self._reader:
            if action in _READ_ACTIONS or (action == sqlite3.SQLITE_PRAGMA and _reads_pragma(arg1, arg2)):
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
                # Table-valued pragmas (SELECT ... FROM pragma_table_info('t')) are authorized as an UPDATE of
                # the schema table while SQLite reads it; PRAGMA query_only, on for every read, refuses a real write.
                return sqlite3.SQLITE_OK
            self._refusals.refused = ("read-only", None)
            return sqlite3.SQLITE_DENY
        refused = _touches_the_log(action, arg1, arg2)
        if refused is not None:
            self._refusals.refused = ("log", refused)
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def _install(self) -> None:
        # (Re)installing the authorizer makes SQLite expire every prepared statement: each is authorized afresh.
        sqlite3.Connection.set_authorizer(self, self._authorize)

    @contextmanager
    def as_log_writer(self, *, runs_given_sql: bool = False) -> Iterator[None]:
        """The backend's own append/restore: the only writer of ``events`` and ``streams``."""
        self._log_writer = threading.get_ident()
        try:
            yield
        finally:
            self._log_writer = None
            if runs_given_sql:
                self._install()

    @contextmanager
    def read_only(self) -> Iterator[None]:
        was_in_transaction = self.in_transaction
        with self.as_log_writer():
            super().execute("PRAGMA query_only = 1" + _TAG)
        self._reader = threading.get_ident()
        try:
            yield
        finally:
            self._reader = None
            with self.as_log_writer():
                super().execute("PRAGMA query_only = 0" + _TAG)
            if self.in_transaction and not was_in_transaction:   # a BEGIN compiled earlier, found in the cache
                super().execute("ROLLBACK")
                raise ReadOnlyQueryError(read_only_message("BEGIN"))

    # -- what the doors call: refusals become the package's errors ------------------------
    def _translate(self, exc: sqlite3.DatabaseError, sql: str) -> BaseException:
        refused = getattr(self._refusals, "refused", None)
        self._refusals.refused = None
        if threading.get_ident() == self._reader and any(
                words in str(exc) for words in ("may not be modified", "readonly database")):
            return ReadOnlyQueryError(read_only_message(sql))   # SQLite itself refused a write in a read-only query
        if refused is None or "not authorized" not in str(exc):
            return exc
        kind, what = refused
        if kind == "read-only":
            return ReadOnlyQueryError(read_only_message(sql))
        return ImmutableEventsError(immutable_message(what))

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        self._refusals.refused = None
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc, sql) from None

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        self._refusals.refused = None
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc, sql) from None

    def executescript(self, script: str, /) -> sqlite3.Cursor:  # type: ignore[override]
        self._refusals.refused = None
        try:
            return super().executescript(script)
        except sqlite3.DatabaseError as exc:
            raise self._translate(exc, script) from None

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or GuardedCursor)

    def set_authorizer(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        raise ImmutableEventsError(
            "The store's connection keeps its authorizer: it is what keeps events and streams append-only. "
            "Open your own sqlite3 connection to the file if you need another authorizer."
        )

    def deserialize(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        raise ImmutableEventsError(
            "deserialize() would replace the whole database, events included, under the store. "
            "Open a new EventStore on another file (or restore() exported events) instead."
        )


class GuardedCursor(sqlite3.Cursor):
    """A cursor of a :class:`GuardedConnection`: refusals come back as the package's errors."""

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:  # type: ignore[override]
        con = self.connection
        con._refusals.refused = None
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise con._translate(exc, sql) from None

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:  # type: ignore[override]
        con = self.connection
        con._refusals.refused = None
        try:
            return super().executemany(sql, parameters)
        except sqlite3.DatabaseError as exc:
            raise con._translate(exc, sql) from None


def _touches_the_log(action: int, arg1: str | None, arg2: str | None) -> str | None:
    """What ``action`` would do to the log (e.g. "UPDATE of streams"), or None when it leaves it alone."""
    if action in _WRITE_ROWS and (arg1 or "").lower() in PROTECTED:
        return f"{_WRITE_ROWS[action]} {arg1.lower()}"
    if action in _DDL_ON_TABLE:
        what, index = _DDL_ON_TABLE[action]
        table = ((arg1, arg2)[index] or "").lower()
        if table in PROTECTED or (arg1 or "").lower() in _OWN_TRIGGERS:
            return f"{what} {table}"
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _GUARD_PRAGMAS and arg2 is not None:
        return f"PRAGMA {arg1.lower()}"
    return None


def _reads_pragma(name: str | None, argument: str | None) -> bool:
    name = (name or "").lower()
    return name not in _WRITING_PRAGMAS and (argument is None or name in (
        "table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list",
        "integrity_check", "quick_check", "table_list",
    ))


def immutable_message(what: str) -> str:
    return (
        f"Refused: {what}. Events are immutable and the log is append-only: events and streams are written only by "
        "store.append() (and restore() / bulk_load()), and never changed or removed, through any SQL door. To correct "
        "a mistake, append a correcting event; the tables next to the log (views, checkpoints, snapshots) "
        "are yours to write with store.transaction()."
    )


def read_only_message(sql: str) -> str:
    first = " ".join(sql.split())[:80]
    return (
        f"store.query() and store.sql() are read-only, and this statement writes: {first!r}. "
        "Write the tables next to the log with `with store.transaction() as cur: cur.execute(...)`; "
        "add events with store.append()."
    )


class SQLiteBackend(SqlBackend):
    name = "sqlite"
    begin_write = "BEGIN IMMEDIATE"
    retryable = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path):
        self.path = str(path)
        check_path(self.path, "sqlite")
        self._con: GuardedConnection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30, factory=GuardedConnection)
        self._lock = threading.RLock()
        try:
            # Another application's events/streams are refused before anything is added to the file.
            check_tables(self.path, {table: columns for table in ("events", "streams") if (columns := [
                row[1] for row in self._con.execute(f"PRAGMA table_info({table})").fetchall()])})
            if self.path != ":memory:":
                self._con.execute("PRAGMA journal_mode = WAL")
            self._con.execute("PRAGMA synchronous = FULL")
            self._con.executescript(SCHEMA)
        except BaseException as exc:
            self._con.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise StoreLockedError(
                    f"The SQLite file {self.path!r} stayed locked by another writer for 30 s while the store "
                    "opened it. Close the store or program holding it, or retry.") from exc
            if isinstance(exc, sqlite3.DatabaseError):
                raise open_failed(self.path, "sqlite", exc) from exc
            raise
        self._con._install()

    def append(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock, self._con.as_log_writer():
            return super().append(*args, **kwargs)

    def restore(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock, self._con.as_log_writer(runs_given_sql=True):
            return super().restore(*args, **kwargs)

    def bulk_load(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock, self._con.as_log_writer(runs_given_sql=True):
            try:
                return super().bulk_load(*args, **kwargs)
            except sqlite3.ProgrammingError as exc:
                if "one statement" in str(exc):
                    raise ValueError("bulk_load takes exactly one INSERT INTO events ... statement") from None
                raise

    def query(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        with self._lock, self._con.read_only():
            try:
                cur = self._con.execute(sql, params)
                return [d[0] for d in cur.description or ()], cur.fetchall()
            except sqlite3.OperationalError as exc:
                if "readonly database" in str(exc):   # PRAGMA query_only stopped it while running
                    raise ReadOnlyQueryError(read_only_message(sql)) from None
                raise

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with self._lock:
            yield self._con

    write_tag = _TAG

    def insert_events(self, cur: Any, rows: list[tuple]) -> None:
        cur.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" + _TAG, rows)

    def to_db_time(self, when: datetime) -> str:
        # isoformat, not strftime("%Y-..."): strftime does not pad a year before 1000 to four digits
        return when.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")

    def from_db_time(self, value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)

    def to_db_uuid(self, value: uuid.UUID) -> str:
        return str(value)

    def from_db_uuid(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    @property
    def connection(self) -> sqlite3.Connection:
        """The sqlite3 connection, for SQL over the events table."""
        return self._con

    def close(self) -> None:
        with self._lock:
            self._con.close()
