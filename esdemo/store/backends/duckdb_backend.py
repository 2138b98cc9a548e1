"""The DuckDB backend: a column store, fast at bulk reads and set-based SQL.

Each thread gets its own cursor (DuckDB connections are not thread-safe,
cursors are), so readers never wait for writers; a thread's cursor is
closed once that thread has ended. Concurrent writers are
sorted out by DuckDB's optimistic transactions: the loser's COMMIT fails
with a TransactionException, which the shared append loop turns into a
retry or a ConflictError (see ``base.py``).

Events are immutable here not only by API but in the database, whatever SQL
door is used (``query``, ``sql``, ``transaction``, ``connection``). DuckDB has
no authorizer hook, so the guard has two parts:

* **Triggers refuse every row change** to the log: UPDATE and DELETE on
  ``events`` always; INSERT on ``events`` and INSERT/UPDATE/DELETE on
  ``streams`` unless the connection holds the writer's token, a session
  variable (per connection) set only on each thread's *writer* cursor, which
  this backend's append, restore and bulk_load use and never hand out, with a
  secret that lives in this process's memory (the trigger keeps only its
  SHA-256). Triggers act inside the
  database, so SQL from any door, DuckDB's relational API included, meets them.
* **Statement inspection on every door** (``duckdb.extract_statements``):
  ``query()``/``sql()`` accept only SELECT (and EXPLAIN without ANALYZE);
  the write doors hand out a :class:`GuardedCursor` that runs every
  CREATE/DROP/ALTER inside a transaction and then compares the catalog of
  the log (its tables, columns and triggers, and anything shadowing them in
  ``temp``) with what it was at open: dropping or altering a table or a
  trigger of the log, or adding one, is rolled back and refused. ``USE`` and
  ``SET search_path`` (which would point the store's SQL at other tables)
  are refused outright.

DuckDB's automatic extension install and load are off on the database (so on
every cursor): the store never reaches the network. Paths are checked before
DuckDB touches them (see :mod:`.store_files`).

Refusals are :class:`~esdemo.store.errors.ImmutableEventsError` and
:class:`~esdemo.store.errors.ReadOnlyQueryError`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from ..errors import EventStoreError, ImmutableEventsError, ReadOnlyQueryError, StoreLockedError
from .base import SqlBackend
from .sqlite_backend import immutable_message, read_only_message
from .store_files import check_path, check_tables, open_failed, remove_empty_file

# The store never reaches the network: DuckDB would otherwise download and load extensions it thinks a
# statement needs (opening a SQLite file fetches the sqlite extension). Off for the database, so for every
# cursor the store hands out; the doors refuse to switch them back on.
NO_NETWORK = (("autoinstall_known_extensions", False), ("autoload_known_extensions", False))
_NETWORK_SETTING = re.compile(r"(?is)^\s*(set|pragma)\s+(global\s+|session\s+)?(autoinstall_known_extensions|"
                              r"autoload_known_extensions)\b")

# The log writer's token: set only around this backend's own append/restore, on that connection.
_WRITER_VARIABLE = "esdemo_log_writer"
_SECRET = secrets.token_hex(16)   # one per process: stores on the same file in one process share the triggers
_GUARD_MARK = "esdemo-log-guard"


def _token_trigger(name: str, action: str, table: str) -> str:
    digest = hashlib.sha256(_SECRET.encode()).hexdigest()
    return (
        f"CREATE OR REPLACE TRIGGER {name} AFTER {action} ON {table} FOR EACH STATEMENT "
        f"INSERT INTO immutability_guard SELECT error('{_GUARD_MARK}: {action} on {table} is refused') "
        f"WHERE sha256(coalesce(getvariable('{_WRITER_VARIABLE}'), '')) <> '{digest}';"
    )


GUARD = "\n".join([
    _token_trigger("events_refuse_insert", "INSERT", "events"),
    _token_trigger("streams_refuse_insert", "INSERT", "streams"),
    _token_trigger("streams_refuse_update", "UPDATE", "streams"),
    _token_trigger("streams_refuse_delete", "DELETE", "streams"),
])

# What the log is made of, to compare after any DDL from a door (temp objects would shadow the log's tables).
_LOG_CATALOG = """
SELECT 'table', database_name, schema_name, table_name, sql FROM duckdb_tables()
 WHERE lower(table_name) IN ('events', 'streams', 'immutability_guard') AND database_name IN (current_database(), 'temp')
UNION ALL
SELECT 'view', database_name, schema_name, view_name, sql FROM duckdb_views()
 WHERE lower(view_name) IN ('events', 'streams', 'immutability_guard') AND database_name IN (current_database(), 'temp')
UNION ALL
SELECT 'trigger', database_name, schema_name, trigger_name, sql FROM duckdb_triggers()
 WHERE lower(table_name) IN ('events', 'streams', 'immutability_guard') AND database_name IN (current_database(), 'temp')
ORDER BY 1, 2, 3, 4
"""
_DDL = {duckdb.StatementType.CREATE, duckdb.StatementType.DROP, duckdb.StatementType.ALTER}
_READ_ONLY = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_LOG_WRITE = re.compile(r'(?is)^\s*(insert\s+or\s+\w+\s+into|insert\s+into|update|delete\s+from|merge\s+into)'
                        r'\s+(?:"?\w+"?\.)*"?(events|streams)"?(?![\w"])')
_NAMES_LOG = re.compile(r'(?i)(?<![\w"])"?(events|streams|immutability_guard)"?(?![\w"])')
_REPOINTS = re.compile(r"(?is)^\s*(use\b|(set|reset)\s+(session\s+|local\s+|global\s+)?(search_path|schema)\b)")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position       BIGINT    PRIMARY KEY,   -- global order, gapless, from 1
    stream_id      VARCHAR   NOT NULL,
    version        BIGINT    NOT NULL,      -- order within the stream, from 1
    type           VARCHAR   NOT NULL,
    schema_version INTEGER   NOT NULL,
    data           JSON      NOT NULL,
    metadata       JSON      NOT NULL,
    event_id       UUID      NOT NULL UNIQUE,
    recorded_at    TIMESTAMP NOT NULL,      -- UTC
    UNIQUE (stream_id, version)
);
-- DuckDB's index scans use single-column ART indexes only: UNIQUE (stream_id, version) above does not
-- serve "WHERE stream_id = ?", this one does (a 100-event read from 1M events: ~6 ms -> ~1 ms).
CREATE INDEX IF NOT EXISTS events_by_stream ON events (stream_id);
CREATE TABLE IF NOT EXISTS streams (
    stream_id VARCHAR PRIMARY KEY,
    version   BIGINT  NOT NULL
);
CREATE TABLE IF NOT EXISTS immutability_guard (refused VARCHAR);
CREATE TRIGGER IF NOT EXISTS events_refuse_update AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    INSERT INTO immutability_guard
    SELECT error('events are immutable facts: UPDATE on events is refused. Append a new, correcting event instead.')
    FROM old_rows;
CREATE TRIGGER IF NOT EXISTS events_refuse_delete AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    INSERT INTO immutability_guard
    SELECT error('events are immutable facts: DELETE on events is refused. Append a new, compensating event instead.')
    FROM old_rows;
"""

_INSERT_ONE = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_MANY = "INSERT INTO events SELECT " + ", ".join(f"unnest(${i})" for i in range(1, 10))
_NAMES = ("position", "stream_id", "version", "type", "schema_version", "data", "metadata", "event_id", "recorded_at")
_INSERT_FRAME = ("INSERT INTO events SELECT position, stream_id, version, type, schema_version, data, metadata, "
                 "CAST(event_id AS UUID), recorded_at FROM esdemo_new_events")


class DuckDBBackend(SqlBackend):
    name = "duckdb"
    retryable = (duckdb.TransactionException, duckdb.ConstraintException)

    def __init__(self, path: str | Path):
        self.path = str(path)
        if check_path(self.path, "duckdb") == "empty":
            remove_empty_file(self.path)   # a 0-byte file is an empty store, as on SQLite
        try:
            self._con = duckdb.connect(self.path, config=dict(NO_NETWORK))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(_locked_message(self.path, str(exc))) from exc
            raise open_failed(self.path, "duckdb", exc) from exc
        except duckdb.Error as exc:
            raise open_failed(self.path, "duckdb", exc) from exc
        try:
            found: dict[str, list[str]] = {}
            for table, column in self._con.execute(
                    "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
                    "AND schema_name = 'main' AND table_name IN ('events', 'streams') "
                    "ORDER BY table_name, column_index").fetchall():
                found.setdefault(table, []).append(column)
            check_tables(self.path, found)   # another application's events: refused before anything is added
        except BaseException:
            self._con.close()
            raise
        self._local = threading.local()
        # The log's last position, remembered after each append: max(position) is a scan of the whole
        # column (about 1 ms at 1M events). Only a hint: a stale value makes the INSERT collide on the
        # primary key, which rolls back and retries with the head read afresh (it is never too high:
        # it is set only after a COMMIT, and forgotten after any failure or restore).
        self._head: int | None = None
        self._head_time: Any = None   # the stamp of the event at self._head
        self._head_lock = threading.Lock()
        # each thread's cursors (its door cursor, its writer cursor), closed once the thread ends
        self._cursors: dict[tuple[threading.Thread, str], Any] = {}
        self._cursors_lock = threading.Lock()
        # A progress bar would appear in notebook outputs for slow queries: keep DuckDB quiet.
        self._con.execute("SET enable_progress_bar = false")
        self._con.execute(SCHEMA)
        self._con.execute(GUARD)
        self._in_transaction: set[int] = set()   # cursors (by id) inside a transaction a door began
        self._catalog = self._con.execute(_LOG_CATALOG).fetchall()

    # -- the guard (see the module docstring) --------------------------------------------
    def append(self, *args: Any, **kwargs: Any) -> Any:
        with self._as_log_writer():
            return super().append(*args, **kwargs)

    def restore(self, *args: Any, **kwargs: Any) -> Any:
        with self._as_log_writer():
            return super().restore(*args, **kwargs)

    def bulk_load(self, insert_sql: str, params: Any) -> Any:
        statements = _statements(insert_sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.INSERT:
            # DuckDB runs every statement of a string: only the one INSERT may run with the writer's token
            raise ValueError("bulk_load takes exactly one INSERT INTO events ... statement")
        with self._as_log_writer():
            return super().bulk_load(insert_sql, params)

    @contextmanager
    def _as_log_writer(self) -> Iterator[None]:
        door = getattr(self._local, "cursor", None)
        if door is not None and id(door) in self._in_transaction:
            # Inside a transaction this thread began through a door: the append runs on that cursor and
            # its BEGIN fails there, as it does on SQLite (one connection), instead of committing apart.
            yield
            return
        self._local.writing = True   # cursor() now gives this thread's writer cursor (see cursor())
        try:
            yield
        finally:
            self._local.writing = False

    def query(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        for statement in _statements(sql):
            if statement.type not in _READ_ONLY or re.match(r"(?is)\s*explain\s+analy[sz]e", statement.query):
                raise ReadOnlyQueryError(read_only_message(statement.query))
        with self.cursor() as cur:
            cur.execute(sql, params)
            return [d[0] for d in cur.description or ()], cur.fetchall()

    def run_guarded(self, cur: Any, sql: str, run: Any) -> Any:
        """Run ``run()`` (which executes ``sql`` on ``cur``) as a write door must: the log left alone."""
        statements = _statements(sql)
        for statement in statements:
            if _NETWORK_SETTING.match(statement.query):
                raise EventStoreError(
                    f"{' '.join(statement.query.split())[:80]!r} is refused: the store never reaches the network, "
                    "so DuckDB's automatic extension install and load stay off. INSTALL and LOAD an extension "
                    "explicitly if you need one (from a local file, e.g. INSTALL 'path/to/ext.duckdb_extension').")
            if statement.type == duckdb.StatementType.SET and _REPOINTS.match(statement.query):
                raise ImmutableEventsError(immutable_message(
                    f"{' '.join(statement.query.split())[:60]!r} (it would point the store's SQL at other tables)"))
        if not any(statement.type in _DDL for statement in statements):
            try:
                result = run()
                for statement in statements:   # follow BEGIN/COMMIT sent through the door: DDL checks need to know
                    if statement.type == duckdb.StatementType.TRANSACTION:
                        word = statement.query.split(None, 1)[0].lower() if statement.query.split() else ""
                        if word in ("begin", "start"):
                            self._in_transaction.add(id(cur))
                        else:
                            self._in_transaction.discard(id(cur))
                return result
            except duckdb.Error as exc:
                if _GUARD_MARK in str(exc) or "events are immutable" in str(exc):
                    found = re.search(r"(INSERT|UPDATE|DELETE) on (events|streams)", str(exc))
                    what = found.group(0) if found else "a change to the log"
                    raise ImmutableEventsError(immutable_message(what)) from None
                targets = [_LOG_WRITE.match(statement.query) for statement in statements]
                target = next((match for match in targets if match), None)
                if target is not None:   # refused by DuckDB itself (e.g. INSERT OR REPLACE): say why it cannot be
                    what = f"{' '.join(target.group(1).upper().split())} {target.group(2).lower()}"
                    raise ImmutableEventsError(immutable_message(what)) from exc
                raise
        own = id(cur) not in self._in_transaction   # inside the caller's: checked and rolled back all the same
        if own:
            cur.execute("BEGIN TRANSACTION")
        try:
            result = run()
            changed = cur.execute(_LOG_CATALOG).fetchall() != self._catalog
        except BaseException as exc:
            if own:
                _rollback_quietly(cur)
            if isinstance(exc, duckdb.DependencyException) and _NAMES_LOG.search(sql):
                raise ImmutableEventsError(immutable_message(
                    f"{' '.join(sql.split())[:80]!r} (the log's triggers depend on its tables)")) from exc
            raise
        if changed:
            _rollback_quietly(cur)
            raise ImmutableEventsError(immutable_message(
                f"{' '.join(sql.split())[:80]!r} (it would drop, alter, add to or shadow the log's tables or triggers)"))
        if own:
            cur.execute("COMMIT")
        return result

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with super().transaction() as cur:
            self._in_transaction.add(id(cur))
            try:
                yield GuardedCursor(cur, self)
            finally:
                self._in_transaction.discard(id(cur))

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        # Inside the backend's own append/restore the thread uses its *writer* cursor, which holds the
        # writer's token for good and is never handed out; every other use gets the thread's door cursor.
        kind = "writer" if getattr(self._local, "writing", False) else "cursor"
        cur = getattr(self._local, kind, None)
        if cur is None:
            with self._cursors_lock:
                for key in [key for key in self._cursors if not key[0].is_alive()]:
                    try:   # a finished thread's connection: nobody should be using it now
                        self._cursors[key].close()
                    except duckdb.Error:
                        continue   # handed on through .connection and busy elsewhere: try again next time
                    del self._cursors[key]
                cur = self._con.cursor()
                if kind == "writer":
                    cur.execute(f"SET VARIABLE {_WRITER_VARIABLE} = '{_SECRET}'")
                self._cursors[(threading.current_thread(), kind)] = cur
            setattr(self._local, kind, cur)
        yield cur

    def insert_events(self, cur: Any, rows: list[tuple]) -> None:
        if len(rows) == 1:
            cur.execute(_INSERT_ONE, rows[0])
        elif len(rows) < 100:
            cur.execute(_INSERT_MANY, [list(column) for column in zip(*rows)])
        else:
            # Many rows: a DataFrame crosses into DuckDB column by column, about twice as fast as
            # unnesting nine Python lists (10,000 events: ~35 ms instead of ~70 ms).
            import pandas as pd

            frame = pd.DataFrame({name: column for name, column in zip(_NAMES, zip(*rows))})
            frame["event_id"] = frame["event_id"].astype(str)
            cur.register("esdemo_new_events", frame)
            try:
                cur.execute(_INSERT_FRAME).fetchall()   # finish it: DuckDB 2 refuses unregister otherwise
            finally:
                cur.unregister("esdemo_new_events")

    def _version_and_head(self, cur: Any, stream_id: str) -> tuple[int, int, Any]:
        with self._head_lock:
            head, head_time = self._head, self._head_time
        if head is None:
            return super()._version_and_head(cur, stream_id)
        # The stamp remembered with the head is the head event's (this store wrote both). A stale hint
        # makes the INSERT collide on the primary key, and the append retries with both read afresh:
        # a commit always saw the true head and its stamp.
        rows = cur.execute("SELECT version FROM streams WHERE stream_id = ?", (stream_id,)).fetchall()
        return (rows[0][0] if rows else 0), head, head_time

    def _committed(self, head: int, recorded_at: Any) -> None:
        with self._head_lock:
            if self._head is None or head > self._head:
                self._head, self._head_time = head, recorded_at

    def _forget_head(self) -> None:
        with self._head_lock:
            self._head = None

    def upsert_streams(self, cur: Any, versions: list[tuple[str, int]]) -> None:
        # One statement for many streams: executemany is a loop of tiny statements in DuckDB.
        cur.execute(
            "INSERT INTO streams SELECT unnest($1), unnest($2) "
            "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version",
            [list(column) for column in zip(*versions)],
        )

    def to_db_time(self, when: datetime) -> datetime:
        return when.astimezone(timezone.utc).replace(tzinfo=None)

    def from_db_time(self, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc)

    @property
    def connection(self) -> Any:
        """This thread's DuckDB cursor behind a :class:`GuardedCursor` (the cursor is closed after the thread ends)."""
        with self.cursor() as cur:
            return GuardedCursor(cur, self)

    def close(self) -> None:
        with self._cursors_lock:
            cursors, self._cursors = list(self._cursors.values()), {}
        try:
            for cur in cursors:
                _close_when_idle(cur)
        finally:
            _close_when_idle(self._con)


class GuardedCursor:
    """A DuckDB cursor whose SQL goes through the log's guard (see the module docstring); everything else is the cursor's."""

    def __init__(self, cursor: Any, backend: DuckDBBackend):
        self._cursor = cursor
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)

    def execute(self, query: str, parameters: Any = None) -> GuardedCursor:
        cur = self._cursor
        run = (lambda: cur.execute(query)) if parameters is None else (lambda: cur.execute(query, parameters))
        self._backend.run_guarded(cur, query, run)
        return self

    def executemany(self, query: str, parameters: Any = None) -> GuardedCursor:
        cur = self._cursor
        run = (lambda: cur.executemany(query)) if parameters is None else (lambda: cur.executemany(query, parameters))
        self._backend.run_guarded(cur, query, run)
        return self

    def sql(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return self._backend.run_guarded(self._cursor, query, lambda: self._cursor.sql(query, *args, **kwargs))

    query = sql

    def cursor(self) -> GuardedCursor:
        return GuardedCursor(self._cursor.cursor(), self._backend)

    def __repr__(self) -> str:
        return f"GuardedCursor({self._cursor!r})"


def _statements(sql: str) -> list[Any]:
    if not isinstance(sql, str):
        raise TypeError(f"SQL must be a string, got {type(sql).__name__}")
    return duckdb.extract_statements(sql)


def _rollback_quietly(cur: Any) -> None:
    try:
        cur.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _close_when_idle(connection: Any, patience: float = 30.0) -> None:
    # DuckDB refuses to close a connection in the middle of a call (another thread's query) instead of
    # waiting for it; such a call is short, and the store already refuses new ones, so wait for it.
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.close()
            return
        except duckdb.ResourceInUseException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _locked_message(path: str, raw: str) -> str:
    pid = re.search(r"PID (\d+)", raw)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return (
        f"The DuckDB file {path!r} is already open read-write in {holder}. DuckDB lets one process own a "
        "file at a time. Close the store there (store.close(), or restart that notebook's kernel), "
        "or give this process its own file or ':memory:'."
    )
