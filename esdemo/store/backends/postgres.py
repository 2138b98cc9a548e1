"""The PostgreSQL backend: a server store that many processes share.

DuckDB lets one process own a file and SQLite one writer at a time; a
PostgreSQL server takes connections from any number of processes and
machines. The tables, the append algorithm (``base.py``) and the guarantees
are the same as on the embedded backends; what changes is how positions are
kept in commit order when writers really run in parallel.

**Gaps, and the choice made here.** With positions from a sequence, writer A
takes 41, writer B takes 42, and B commits first. A reader that asks for
"everything after 40" sees 42, moves its checkpoint to 42, and never reads 41
when A commits a moment later (``esdemo.postgres_gaps`` makes that happen on
a real server). There are two well-known cures:

1. *Serialise position assignment* (the ``eventsourcing`` library's
   PostgreSQL recorder): each append takes ``LOCK TABLE events IN EXCLUSIVE
   MODE`` before it reads the head. The lock conflicts only with other
   writers of ``events``, never with readers, and is held until COMMIT, so
   the writer of 42 cannot even read the head before 41 is committed:
   positions become visible in order, and stay gapless (``max + 1`` under the
   lock; a rolled-back append uses nothing).
2. *Read below a high-water mark*: positions from a sequence, each row
   stamped with its transaction id (``xid8``), and readers only take rows whose
   transaction is older than ``pg_snapshot_xmin(pg_current_snapshot())``, the
   oldest transaction still running. Writers run in parallel, but positions
   have holes for ever (rolled-back transactions), every reader must apply the
   rule, and *any* long transaction in the database, even an unrelated report,
   holds every subscriber back for as long as it runs.

This backend takes (1): the store's ``read_all``, subscriptions and projection
checkpoints stay the simple "everything after my position" they are on the
other backends, and ``read_all(limit=...)`` can keep using position ranges
because there are no holes. The price is that appends do not run in parallel:
throughput is one append's round trips at a time, whatever the number of
writer processes. ``esdemo.postgres_gaps.measure_position_strategies()``
measures both. One run on 2 shared cores (load 5-7): the store's appends,
1 thread 1,900/s and 4 threads 1,100/s (they take turns, and hand the lock
over); a sequence table without a lock, 10,500/s and 12,400/s (one INSERT per
transaction, so compare how each scales, not the rates); a safe read of
2,000 rows 1.1 ms against the naive 0.6 ms, and a safe reader waits as long as
the oldest open transaction stays open.

Each thread gets its own connection (psycopg connections serialise their
calls), in autocommit mode, so the explicit ``BEGIN``/``COMMIT`` of the shared
algorithm delimit the transactions; a finished thread's connection is closed
when the next thread opens one, and a broken one is replaced on next use.
SQL passed through ``query``/``sql``/``transaction``/``connection`` may use
``?`` placeholders, as on DuckDB and SQLite.

Events are immutable in the database too, through every door. ``query``
runs one statement in a ``READ ONLY`` transaction that is always rolled
back. Statement triggers refuse any UPDATE, DELETE or TRUNCATE on ``events``
and any write at all to ``events`` or ``streams`` unless the transaction set
``esdemo.log_writer`` (only ``append``, ``restore`` and ``bulk_load`` do, with
``SET LOCAL``; the doors refuse SQL that names that setting or the
``search_path``). A database-wide event trigger refuses DDL on the log (DROP,
ALTER, a trigger added to it, its guard triggers dropped, a temporary table
shadowing it); creating it needs a superuser, once per database: without one
the row triggers still hold, but DDL on the log is not refused.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from ..errors import (EventStoreError, ImmutableEventsError, ReadOnlyQueryError, StoreAuthenticationError,
                      StoreUnavailableError)
from .base import SqlBackend
from .sqlite_backend import immutable_message, read_only_message
from .urls import SERVER_URL_SCHEMES, redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position       BIGINT    PRIMARY KEY,   -- global order, gapless, from 1
    stream_id      TEXT      NOT NULL,
    version        BIGINT    NOT NULL,      -- order within the stream, from 1
    type           TEXT      NOT NULL,
    schema_version INTEGER   NOT NULL,
    data           JSON      NOT NULL,      -- JSON, not JSONB: the text is kept exactly as written
    metadata       JSON      NOT NULL,
    event_id       UUID      NOT NULL UNIQUE,
    recorded_at    TIMESTAMP NOT NULL,      -- UTC
    UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT   PRIMARY KEY,
    version   BIGINT NOT NULL
);
CREATE OR REPLACE FUNCTION esdemo_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are immutable facts: % on events is refused. Append a new, correcting '
                    'or compensating event instead.', TG_OP USING ERRCODE = 'EV001';
END $$;
CREATE OR REPLACE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION esdemo_refuse_change();
-- Only the store's own append/restore/bulk_load write the log: they set esdemo.log_writer for their transaction.
CREATE OR REPLACE FUNCTION esdemo_log_writers_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('esdemo.log_writer', true), '') <> 'on' THEN
        RAISE EXCEPTION 'the log is append-only: % on % is refused outside store.append()', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'EV001';
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER events_writers_only BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION esdemo_log_writers_only();
CREATE OR REPLACE TRIGGER streams_writers_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON streams
    FOR EACH STATEMENT EXECUTE FUNCTION esdemo_log_writers_only();
"""

# DDL is not a row change: no table trigger sees DROP TABLE events, ALTER TABLE streams, DROP TRIGGER on
# them or a temporary table named events that would shadow the log. A database-wide event trigger does
# (it needs a superuser to create, once per database; without one, the row triggers above still hold).
DDL_GUARD = """
CREATE OR REPLACE FUNCTION public.esdemo_guard_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
    obj record;
BEGIN
    IF coalesce(current_setting('esdemo.log_writer', true), '') = 'on' THEN
        RETURN;
    END IF;
    IF TG_EVENT = 'sql_drop' THEN
        FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
            IF obj.object_type = 'schema' THEN
                RETURN;   -- dropping a whole store (its schema) is not rewriting it
            END IF;
            IF (obj.object_type IN ('table', 'view') AND obj.object_name IN ('events', 'streams'))
               OR (obj.object_type = 'trigger' AND obj.object_identity ~
                   '^(events_refuse_change|events_writers_only|streams_writers_only) on ')
               OR (obj.object_type = 'function' AND obj.object_identity ~ '[.]esdemo_(refuse_change|log_writers_only|guard_ddl)[(]') THEN
                RAISE EXCEPTION 'the log is append-only: % of % is refused', TG_TAG, obj.object_identity
                    USING ERRCODE = 'EV001';
            END IF;
        END LOOP;
    ELSE
        FOR obj IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
            IF (obj.classid = 'pg_class'::regclass AND EXISTS (
                    SELECT 1 FROM pg_trigger WHERE tgrelid = obj.objid
                    AND tgname IN ('events_refuse_change', 'events_writers_only', 'streams_writers_only')))
               OR (obj.classid = 'pg_trigger'::regclass AND EXISTS (
                    SELECT 1 FROM pg_trigger AS t JOIN pg_trigger AS g ON g.tgrelid = t.tgrelid
                    WHERE t.oid = obj.objid
                    AND g.tgname IN ('events_refuse_change', 'events_writers_only', 'streams_writers_only')))
               OR (obj.object_type IN ('table', 'view') AND obj.schema_name LIKE 'pg_temp%'
                   AND obj.object_identity ~ '[.](events|streams)$')
               OR (obj.object_type = 'function' AND obj.object_identity ~ '[.]esdemo_(refuse_change|log_writers_only|guard_ddl)[(]') THEN
                RAISE EXCEPTION 'the log is append-only: % on % is refused', TG_TAG, obj.object_identity
                    USING ERRCODE = 'EV001';
            END IF;
        END LOOP;
    END IF;
END $$;
"""
DDL_GUARD_TRIGGERS = """
CREATE EVENT TRIGGER esdemo_guard_drop ON sql_drop EXECUTE FUNCTION public.esdemo_guard_ddl();
CREATE EVENT TRIGGER esdemo_guard_ddl ON ddl_command_end EXECUTE FUNCTION public.esdemo_guard_ddl();
"""

# Statements a door may not send: they would move the store's own SQL somewhere else (search_path) or
# end the transaction the door runs in.
_REPOINTS = re.compile(r"(?is)\bsearch_path\b|\bsession_authorization\b|^\s*(reset\s+all|discard\b|set\s+role\b)")
_TRANSACTION_CONTROL = re.compile(r"(?is)^\s*(begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b")

DEFAULT_CONNECT_TIMEOUT = 10   # seconds; a URL's own ?connect_timeout= wins


class PostgresBackend(SqlBackend):
    name = "postgres"
    begin_write = "BEGIN"
    # With positions serialised by the table lock, the only clash left is an event id already stored.
    retryable = (psycopg.errors.UniqueViolation,)

    def __init__(self, url: str):
        if not isinstance(url, str) or not url.startswith(SERVER_URL_SCHEMES):
            raise ValueError(f"the postgres backend needs a URL such as 'postgresql://user@host/db', got {url!r}")
        self.url = url
        self.path = redact(url)
        self._local = threading.local()
        self._connections: dict[threading.Thread, psycopg.Connection] = {}
        self._connections_lock = threading.Lock()
        self._closed = False
        self._listener: threading.Thread | None = None
        self.notifications = 0   # NOTIFYs received by the listener (see listen)
        self.listening = threading.Event()   # set while the listener's LISTEN is in place
        self._create_schema()
        with self.cursor() as cur:   # one channel per store (schema): appends elsewhere do not wake us
            self._channel = cur.execute("SELECT 'esdemo_' || md5(current_schema())").fetchone()[0]

    # -- connections -----------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        return connect(self.url)

    def _connection(self) -> psycopg.Connection:
        conn = getattr(self._local, "connection", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if self._closed:
            raise EventStoreError(f"the store on {self.path} is closed")
        conn = self._connect()
        with self._connections_lock:
            for thread in [t for t, c in self._connections.items() if not t.is_alive() or c.closed]:
                old = self._connections.pop(thread)
                if old.lock.acquire(blocking=False):   # busy: handed on through .connection, leave it
                    try:
                        old.close()
                    finally:
                        old.lock.release()
                else:
                    self._connections[thread] = old
            previous = self._connections.get(threading.current_thread())
            if previous is not None and previous is not conn:
                previous.close()
            self._connections[threading.current_thread()] = conn
        self._local.connection = conn
        return conn

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        conn = self._connection()
        try:
            yield QmarkCursor(conn.cursor(), self._local)
        except psycopg.OperationalError as exc:
            if conn.broken or conn.closed:
                raise StoreUnavailableError(
                    f"The connection to {self.path} was lost ({_first_line(exc)}). An append in flight was all or "
                    "nothing: it either committed whole or not at all. Once the server is back, retry the same "
                    "append with the same event ids: if it had committed, the retry returns the first result and "
                    "writes nothing twice."
                ) from exc
            raise

    @property
    def connection(self) -> Any:
        """This thread's connection as a cursor that takes ``?`` placeholders (autocommit: each statement commits)."""
        return QmarkCursor(self._connection().cursor(), self._local, door=True)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with super().transaction() as cur:
            cur.door = True
            yield cur

    def _create_schema(self) -> None:
        with self.cursor() as cur:
            schema = cur.execute("SELECT current_schema()").fetchone()[0]
            if schema is None:
                raise EventStoreError(
                    f"{self.path}: no schema of the search_path exists, so there is nowhere to create the events "
                    "table. Create the schema first (CREATE SCHEMA ...), or drop options=-csearch_path from the URL."
                )
            if cur.execute("SELECT to_regclass('events') IS NOT NULL AND to_regclass('streams') IS NOT NULL "
                           "AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'streams_writers_only' "
                           "AND tgrelid = to_regclass('streams'))").fetchone()[0]:
                return
            cur.execute("BEGIN")
            try:   # several processes may open a new store at once: one creates, the others wait and find it
                cur.execute("SET LOCAL esdemo.log_writer = 'on'")
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('esdemo-schema:' || current_schema()))")
                cur.execute(SCHEMA)
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('esdemo-ddl-guard'))")
                guarded = cur.execute("SELECT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'esdemo_guard_ddl')"
                                      ).fetchone()[0]
                superuser = cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
                if superuser:
                    cur.execute(DDL_GUARD)   # this version's function, also where an older one was installed
                    if not guarded:
                        cur.execute(DDL_GUARD_TRIGGERS)
                cur.execute("COMMIT")
            except BaseException:
                if not cur.connection.broken:
                    cur.execute("ROLLBACK")
                raise

    # -- the guard: only the store's own writers touch events and streams --------------------
    def append(self, *args: Any, **kwargs: Any) -> Any:
        with self._as_log_writer():
            return super().append(*args, **kwargs)

    def restore(self, *args: Any, **kwargs: Any) -> Any:
        with self._as_log_writer():
            return super().restore(*args, **kwargs)

    def bulk_load(self, insert_sql: str, params: Any) -> Any:
        with self._as_log_writer():
            return super().bulk_load(insert_sql, params)

    @contextmanager
    def _as_log_writer(self) -> Iterator[None]:
        # QmarkCursor turns this thread's BEGIN into BEGIN + SET LOCAL esdemo.log_writer (see the triggers).
        self._local.writing = True
        try:
            yield
        finally:
            self._local.writing = False

    def query(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        """Read-only SQL: one statement, in a READ ONLY transaction (PostgreSQL refuses any write in it)."""
        if _TRANSACTION_CONTROL.match(sql) or _REPOINTS.search(sql):
            raise ReadOnlyQueryError(read_only_message(sql))
        with self.cursor() as cur:
            raw = cur.raw
            raw.execute("BEGIN READ ONLY")
            try:
                try:
                    raw.execute(to_pyformat(sql), list(params))   # parameters given: one statement only
                except psycopg.errors.ReadOnlySqlTransaction:
                    raise ReadOnlyQueryError(read_only_message(sql)) from None
                except psycopg.errors.SyntaxError as exc:
                    if "multiple commands" in str(exc) or "cannot insert multiple" in str(exc):
                        raise ReadOnlyQueryError(read_only_message(sql)) from None
                    raise
                result = [d[0] for d in raw.description or ()], (raw.fetchall() if raw.description else [])
            finally:
                if not raw.connection.broken and not raw.connection.closed:
                    raw.execute("ROLLBACK")
            return result

    # -- the dialect -------------------------------------------------------------
    def _lock_log(self, cur: Any) -> None:
        # See the module docstring: writers take turns, readers never wait.
        cur.execute("LOCK TABLE events IN EXCLUSIVE MODE")

    def insert_events(self, cur: Any, rows: list[tuple]) -> None:
        # Live readers in other processes LISTEN on the store's channel: PostgreSQL delivers the
        # notification when (and only if) this transaction commits.
        cur.execute("SELECT pg_notify(?, ?)", [self._channel, str(rows[-1][0])])
        if len(rows) < 50:
            cur.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return
        # Many rows: COPY streams them in one go (10,000 events: ~60 ms instead of ~400 ms).
        with cur.raw.copy("COPY events (position, stream_id, version, type, schema_version, data, metadata, "
                          "event_id, recorded_at) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def to_db_time(self, when: datetime) -> datetime:
        return when.astimezone(timezone.utc).replace(tzinfo=None)

    def from_db_time(self, value: datetime) -> datetime:
        return value.replace(tzinfo=timezone.utc)

    # -- live readers ----------------------------------------------------------------
    def listen(self, callback: Any) -> None:
        """Call ``callback()`` whenever any process commits an append to this store (LISTEN/NOTIFY).

        A daemon thread keeps one connection LISTENing; if it cannot connect, or loses the
        connection, it tries again every second, and the reader's polling interval covers the gap.
        """
        if self._listener is None:
            self._listener = threading.Thread(target=self._listen, args=(callback,), name="esdemo-postgres-listen",
                                              daemon=True)
            self._listener.start()

    def _listen(self, callback: Any) -> None:
        while not self._closed:
            try:
                conn = connect(self.url)
            except StoreUnavailableError:
                threading.Event().wait(1.0)
                continue
            try:
                conn.execute(f'LISTEN "{self._channel}"')
                callback()   # an append that committed before LISTEN sent its NOTIFY to nobody: look once more
                self.listening.set()
                while not self._closed:
                    for _ in conn.notifies(timeout=0.25):
                        self.notifications += 1
                        callback()
            except psycopg.Error:
                threading.Event().wait(0.2)   # dropped: reconnect (polling delivers meanwhile)
            finally:
                self.listening.clear()
                conn.close()

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.join(5)
        with self._connections_lock:
            connections, self._connections = list(self._connections.values()), {}
        for conn in connections:
            # A query in flight on another thread finishes first (psycopg holds conn.lock while it runs).
            if conn.lock.acquire(timeout=30):
                try:
                    conn.close()
                finally:
                    conn.lock.release()
            else:  # pragma: no cover - a query stuck for 30 s: close under it
                conn.close()


class QmarkCursor:
    """A psycopg cursor that takes ``?`` placeholders like DuckDB and SQLite (psycopg's own are ``%s``).

    ``execute`` returns the cursor, so ``cur.execute(sql, params).fetchall()``
    works as on the other backends; ``fetchall`` after a statement without
    rows returns ``[]`` instead of raising.
    """

    def __init__(self, cursor: psycopg.Cursor, local: Any = None, door: bool = False):
        self.raw = cursor
        self._local = local
        self.door = door   # handed to user code (connection, transaction): may not repoint the store's SQL

    def cursor(self) -> QmarkCursor:
        """A new cursor on the same connection, with the same guard."""
        return QmarkCursor(self.raw.connection.cursor(), self._local, door=self.door)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> QmarkCursor:
        if sql == "BEGIN" and getattr(self._local, "writing", False):
            sql = "BEGIN; SET LOCAL esdemo.log_writer = 'on'"   # the store's own append, restore or bulk_load
        elif self.door and (_REPOINTS.search(sql) or "esdemo.log_writer" in sql):
            raise ImmutableEventsError(immutable_message(f"{' '.join(sql.split())[:80]!r} (it would repoint or "
                                                         "unguard the store's own SQL)"))
        try:
            if params is None or (not params and "?" not in sql):
                self.raw.execute(sql)   # no parameters: several statements may be sent at once
            else:
                self.raw.execute(to_pyformat(sql), list(params))
        except psycopg.Error as exc:
            raise _guarded(exc, sql) from None
        return self

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> QmarkCursor:
        try:
            self.raw.executemany(to_pyformat(sql), [list(p) for p in seq_of_params])
        except psycopg.Error as exc:
            raise _guarded(exc, sql) from None
        return self

    def fetchall(self) -> list[tuple]:
        return self.raw.fetchall() if self.raw.description is not None else []

    def fetchone(self) -> tuple | None:
        return self.raw.fetchone() if self.raw.description is not None else None

    def fetchmany(self, size: int = 1) -> list[tuple]:
        return self.raw.fetchmany(size) if self.raw.description is not None else []

    @property
    def connection(self) -> psycopg.Connection:
        return self.raw.connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.fetchall())


def _guarded(exc: psycopg.Error, sql: str) -> BaseException:
    """A refusal of the log's triggers becomes the package's ImmutableEventsError; anything else passes."""
    if getattr(exc, "sqlstate", None) == "EV001":
        what = " ".join(sql.split())[:80]
        return ImmutableEventsError(immutable_message(f"{what!r} ({_first_line(exc)})"))
    return exc


_TOKENS = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\?|%)""")


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """``?`` outside quotes and comments becomes ``%s``; a literal ``%`` becomes ``%%``."""
    out = []
    for part in _TOKENS.split(sql):
        if part == "?":
            out.append("%s")
        elif part == "%":
            out.append("%%")
        elif part.startswith(("'", '"')):
            out.append(part.replace("%", "%%"))
        else:
            out.append(part)
    return "".join(out)


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """An autocommit connection that returns JSON as text, or the package's own error saying what to check."""
    if "connect_timeout" not in url:
        kwargs.setdefault("connect_timeout", DEFAULT_CONNECT_TIMEOUT)
    try:
        conn = psycopg.connect(url, autocommit=True, **kwargs)
    except psycopg.OperationalError as exc:
        raise connection_error(url, exc) from exc
    for json_type in ("json", "jsonb"):
        conn.adapters.register_loader(json_type, TextLoader)
    return conn


def connection_error(url: str, exc: BaseException) -> StoreUnavailableError:
    """Turn psycopg's connection failure into the package's error, naming the URL (no password) and a hint."""
    text = str(exc)
    where = redact(url)
    if re.search(r"password authentication failed|role .* does not exist|no password supplied|"
                 r"authentication failed|pg_hba\.conf", text, re.IGNORECASE):
        return StoreAuthenticationError(
            f"PostgreSQL at {where} refused the credentials: {_first_line(exc)}. Check the user name and password "
            "in the URL (postgresql://USER:PASSWORD@HOST/DB), or ask the server's owner for a role."
        )
    if re.search(r"database .* does not exist", text, re.IGNORECASE):
        return StoreUnavailableError(
            f"PostgreSQL at {where} is up, but the database does not exist: {_first_line(exc)}. "
            "Create it (CREATE DATABASE ...), or use esdemo.postgres_server.fresh_database_url(...)."
        )
    timed_out = "timeout" in text.lower()
    return StoreUnavailableError(
        f"Cannot reach PostgreSQL at {where}{' (gave up after the connect timeout)' if timed_out else ''}: "
        f"{_first_line(exc)}. Is the server running, and are host, port (or socket folder) right? For a "
        "throwaway server with nothing to install, use esdemo.postgres_server.start_throwaway_server(); "
        "to point at your own, set ESDEMO_POSTGRES_URL."
    )


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else type(exc).__name__
