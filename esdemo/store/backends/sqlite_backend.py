"""The SQLite backend: the standard library's row store, same contract.

SQLite has one writer at a time per database file: ``BEGIN IMMEDIATE``
takes the write lock up front, so concurrent appends queue instead of
colliding, across threads and processes alike. A single connection, guarded
by a lock, serves every thread of this process.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .base import SqlBackend

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


class SQLiteBackend(SqlBackend):
    name = "sqlite"
    begin_write = "BEGIN IMMEDIATE"
    retryable = (sqlite3.IntegrityError,)

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._con = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._lock = threading.RLock()
        if self.path != ":memory:":
            self._con.execute("PRAGMA journal_mode = WAL")
        self._con.execute("PRAGMA synchronous = FULL")
        self._con.executescript(SCHEMA)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with self._lock:
            yield self._con

    def insert_events(self, cur: Any, rows: list[tuple]) -> None:
        cur.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

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
