"""The append algorithm, written once for every SQL backend.

An append is one transaction:

1. Read the stream's version from ``streams`` and the log's last position.
2. Compare the stream's version with the expected version: a mismatch is a
   :class:`ConflictError`.
3. Number the events: stream versions continue from the stream's version,
   global positions continue from the log's last position.
4. Insert the events, record the stream's new version, commit.

When an append fails (a conflict, or a clash with another writer), one more
question is asked before anything is reported: is this a *retry* of an
append that already succeeded (its first event id is stored)? Then the
answer is what the first attempt returned, and nothing is written twice.
Asking only on failure keeps the common path to a single round of statements.

Why positions stay gapless and in commit order: ``position`` is the primary
key, and a writer takes ``max(position) + 1`` inside its transaction. Two
writers that overlap pick the same position; the database lets one commit
and refuses the other (DuckDB at COMMIT, SQLite by taking the write lock at
BEGIN). The loser rolls back, having used nothing, and tries again. If its
own stream moved meanwhile, the retry reports a ConflictError; if not (the
winner wrote to another stream), it simply succeeds with the next position.
A failed append therefore consumes no position and no version.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..errors import ConflictError, DuplicateEventError, EventStoreError
from ..events import ANY, NO_STREAM, STREAM_EXISTS, AppendResult, RecordedEvent, check_expected
from ..serialization import loads_many
from .contract import Encoded


UPSERT_STREAM = (
    "INSERT INTO streams (stream_id, version) VALUES (?, ?) "
    "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version"
)
COLUMNS = "position, stream_id, version, type, schema_version, data, metadata, event_id, recorded_at"


class SqlBackend:
    """The :class:`~esdemo.store.backends.contract.Backend` contract written once for SQL; subclasses supply the connection and the dialect."""

    name = "sql"
    begin_write = "BEGIN TRANSACTION"
    retryable: tuple[type[BaseException], ...] = ()
    max_attempts = 100
    write_tag = ""   # appended to the append path's writes to the log (SQLite: see GuardedConnection)

    # -- supplied by subclasses ------------------------------------------------
    @contextmanager
    def cursor(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
        yield

    def insert_events(self, cur: Any, rows: list[tuple]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def upsert_streams(self, cur: Any, versions: list[tuple[str, int]]) -> None:
        """Set each stream's version in ``streams`` (insert the stream if new)."""
        cur.executemany(UPSERT_STREAM, versions)

    def to_db_time(self, when: datetime) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def from_db_time(self, value: Any) -> datetime:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_db_uuid(self, value: Any) -> Any:
        return value

    def from_db_uuid(self, value: Any) -> Any:
        return value

    def close(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- writing -----------------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[Encoded], expected: object,
               now: Callable[[], datetime]) -> AppendResult:
        """Append ``events`` atomically; see the module docstring for how."""
        clock_time: datetime | None = None
        for attempt in range(self.max_attempts):
            with self.cursor() as cur:
                cur.execute(self.begin_write)
                try:
                    self._lock_log(cur)
                    current, head, head_time = self._version_and_head(cur, stream_id)
                    if clock_time is None:
                        clock_time = now()   # asked once per append (conflict or not), inside its first transaction
                    check_expected(stream_id, expected, current)
                    recorded_at = self.to_db_time(_not_before(clock_time, head_time and self.from_db_time(head_time)))
                    rows = [
                        (head + i, stream_id, current + i, type_, schema, data, meta, self.to_db_uuid(eid), recorded_at)
                        for i, (eid, type_, schema, data, meta) in enumerate(events, start=1)
                    ]
                    self.insert_events(cur, rows)
                    if current:
                        cur.execute("UPDATE streams SET version = ? WHERE stream_id = ?" + self.write_tag,
                                    (current + len(rows), stream_id))
                    else:
                        cur.execute("INSERT INTO streams (stream_id, version) VALUES (?, ?)" + self.write_tag,
                                    (stream_id, len(rows)))
                    cur.execute("COMMIT")
                    self._committed(head + len(rows), recorded_at)
                    return AppendResult(version=current + len(rows), position=head + len(rows))
                except (ConflictError, *self.retryable) as failure:
                    _rollback(cur)
                    self._forget_head()
                    # Before reporting a conflict or retrying, is this a retry of an append
                    # that already happened (same event ids)? Then answer as the first time.
                    retried = self._answer_retry(cur, stream_id, events, expected)
                    if retried is not None:
                        return retried
                    if isinstance(failure, ConflictError):
                        raise
                    # Our ids taken by other events cannot be fixed by retrying.
                    self._refuse_stored_ids(cur, stream_id, events)
                except BaseException:
                    _rollback(cur)
                    self._forget_head()
                    raise
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
        raise EventStoreError(
            f"Gave up appending to {stream_id!r} after {self.max_attempts} attempts: other writers kept "
            "committing first. Reduce the number of concurrent writers, or retry later."
        )

    def _lock_log(self, cur: Any) -> None:
        """Called first in an append's or restore's transaction: a server backend serialises writers here."""

    def _version_and_head(self, cur: Any, stream_id: str) -> tuple[int, int, Any]:
        """The stream's version, the log's last position and that event's stamp, read inside the append's transaction."""
        current, head, head_time = cur.execute(
            "SELECT (SELECT version FROM streams WHERE stream_id = ?), "
            "(SELECT coalesce(max(position), 0) FROM events), "
            "(SELECT recorded_at FROM events WHERE position = (SELECT max(position) FROM events))", (stream_id,)
        ).fetchall()[0]   # fetchall: a result left open blocks DuckDB's register() in insert_events
        return current or 0, head, head_time

    def _committed(self, head: int, recorded_at: Any) -> None:
        """An append committed up to position ``head``, stamped ``recorded_at`` (a backend may remember both)."""

    def _forget_head(self) -> None:
        """Something failed or wrote around append: drop whatever was remembered about the head."""

    def _answer_retry(self, cur: Any, stream_id: str, events: Sequence[Encoded], expected: object) -> AppendResult | None:
        """If this exact append was already done, return its result (idempotent retry)."""
        first = cur.execute(
            "SELECT stream_id, version FROM events WHERE event_id = ?", (self.to_db_uuid(events[0][0]),)
        ).fetchone()
        if first is None:
            return None
        first_stream, first_version = first
        stored = cur.execute(
            "SELECT event_id, type, schema_version, data, metadata, version, position FROM events "
            "WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?",
            (first_stream, first_version, len(events)),
        ).fetchall()
        same = first_stream == stream_id and len(stored) == len(events) and all(
            (self.from_db_uuid(row[0]), *row[1:5]) == tuple(ev) for row, ev in zip(stored, events)
        )
        if not same:
            raise DuplicateEventError(
                f"Event id {events[0][0]} is already stored (stream {first_stream!r}, version {first_version}) "
                "with different content or as part of a different batch. An event id names one event forever: "
                "give a new event a new id, and resend a retry unchanged."
            )
        if expected not in (ANY, STREAM_EXISTS):
            wanted = 0 if expected is NO_STREAM else expected
            if first_version != wanted + 1:
                raise DuplicateEventError(
                    f"These events were already appended to {stream_id!r} at versions {first_version}.."
                    f"{first_version + len(events) - 1}, i.e. with expected version {first_version - 1}, "
                    f"not {wanted}. A retry must repeat the original expected version."
                )
        return AppendResult(version=stored[-1][5], position=stored[-1][6])

    def _refuse_stored_ids(self, cur: Any, stream_id: str, events: Sequence[Encoded]) -> None:
        ids = [self.to_db_uuid(ev[0]) for ev in events]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found = cur.execute(
                f"SELECT event_id, stream_id, position FROM events WHERE event_id IN ({marks}) ORDER BY position LIMIT 1",
                chunk,
            ).fetchone()
            if found is not None:
                raise DuplicateEventError(
                    f"Event id {found[0]} is already stored at position {found[2]} (stream {found[1]!r}); "
                    f"nothing was appended to {stream_id!r}. Each event may be appended once: "
                    "a retry must resend the whole original batch, unchanged."
                )

    def restore(self, events: Sequence[tuple]) -> int:
        """Write exported events back with their own positions, versions, ids and times.

        ``events`` are rows in ``COLUMNS`` order with data already encoded. The
        caller has checked that they continue the log without holes; this
        method checks it again inside the transaction (the log may have moved).
        """
        with self.cursor() as cur:
            cur.execute(self.begin_write)
            try:
                self._lock_log(cur)
                head = cur.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
                if events[0][0] != head + 1:
                    raise EventStoreError(
                        f"Cannot restore: the export starts at position {events[0][0]} but this store's head is "
                        f"{head}. Restore into an empty store, or an export that continues this one."
                    )
                if head:
                    (head_time,) = cur.execute("SELECT recorded_at FROM events WHERE position = ?", (head,)).fetchone()
                    if events[0][8] < self.from_db_time(head_time):
                        raise EventStoreError(
                            f"Cannot restore: the export's first event was recorded at {events[0][8].isoformat()}, "
                            f"before this store's last event ({self.from_db_time(head_time).isoformat()}). Time in "
                            "the log never goes back: restore into an empty store, or an export that continues this one.")
                known = dict(cur.execute("SELECT stream_id, version FROM streams").fetchall())
                last: dict[str, int] = {}
                for row in events:
                    stream_id, version = row[1], row[2]
                    if stream_id not in last:
                        last[stream_id] = known.get(stream_id, 0)
                    if version != last[stream_id] + 1:
                        raise EventStoreError(
                            f"Cannot restore: {stream_id!r} would jump from version {last[stream_id]} to {version} "
                            f"at position {row[0]}. An export must hold whole streams, in order."
                        )
                    last[stream_id] = version
                rows = [(*row[:7], self.to_db_uuid(row[7]), self.to_db_time(row[8])) for row in events]
                self.insert_events(cur, rows)
                self.upsert_streams(cur, list(last.items()))
                cur.execute("COMMIT")
            except BaseException:
                _rollback(cur)
                raise
            finally:
                self._forget_head()
        return events[-1][0]

    def bulk_load(self, insert_sql: str, params: Any) -> int:
        """Run one ``INSERT INTO events ...`` as the log's writer, check it continued the log, set ``streams``."""
        with self.cursor() as cur:
            cur.execute(self.begin_write)
            try:
                head = cur.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
                try:
                    cur.execute(insert_sql, params)
                except self.retryable as exc:
                    raise EventStoreError(
                        f"Cannot bulk-load: the rows clash with stored events ({exc}). They must be new events "
                        "(new ids) continuing the log: positions from head + 1, each stream's versions continuing."
                    ) from exc
                count, low, high = cur.execute(
                    "SELECT count(*), min(position), max(position) FROM events WHERE position > ?", (head,)).fetchone()
                if count and (low != head + 1 or high != head + count):
                    raise EventStoreError(
                        f"Cannot bulk-load: the new rows hold positions {low}..{high} ({count} rows) after head {head}. "
                        "They must continue the log without holes, from head + 1.")
                jump = cur.execute(
                    "SELECT n.stream_id, n.version, n.position FROM (SELECT stream_id, version, position, "
                    "row_number() OVER (PARTITION BY stream_id ORDER BY position) AS k FROM events WHERE position > ?) AS n "
                    "LEFT JOIN streams AS s ON s.stream_id = n.stream_id "
                    "WHERE n.version <> coalesce(s.version, 0) + n.k ORDER BY n.position LIMIT 1", (head,)).fetchone()
                if jump is not None:
                    raise EventStoreError(
                        f"Cannot bulk-load: {jump[0]!r} gets version {jump[1]} at position {jump[2]}, which does not "
                        "continue that stream's versions (each stream counts 1, 2, 3, ... in position order).")
                versions = cur.execute(
                    "SELECT stream_id, max(version) FROM events WHERE position > ? GROUP BY stream_id", (head,)).fetchall()
                if versions:
                    self.upsert_streams(cur, versions)
                cur.execute("COMMIT")
            except BaseException:
                _rollback(cur)
                raise
            finally:
                self._forget_head()
        return head + count

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one write transaction: COMMIT on success, ROLLBACK on any error."""
        with self.cursor() as cur:
            cur.execute(self.begin_write)
            try:
                yield cur
                cur.execute("COMMIT")   # inside the try: a COMMIT that fails must not leave the transaction open
            except BaseException:
                _rollback(cur)
                raise

    # -- reading -------------------------------------------------------------------
    def read(self, stream_id: str, from_version: int, to_version: int | None) -> list[RecordedEvent]:
        sql = f"SELECT {COLUMNS} FROM events WHERE stream_id = ? AND version >= ?"
        params: list[Any] = [stream_id, from_version]
        if to_version is not None:
            sql += " AND version <= ?"
            params.append(to_version)
        with self.cursor() as cur:
            rows = cur.execute(sql + " ORDER BY version", params).fetchall()
        return self._events(rows)

    def read_all(self, from_position: int, limit: int | None) -> list[RecordedEvent]:
        sql = f"SELECT {COLUMNS} FROM events WHERE position >= ?"
        params: list[Any] = [from_position]
        if limit is not None:
            # Positions have no holes, so the range says exactly which rows: the database
            # need not sort everything after from_position to find the first `limit`.
            sql += " AND position < ?"
            params.append(from_position + limit)
        sql += " ORDER BY position"
        with self.cursor() as cur:
            rows = cur.execute(sql, params).fetchall()
        return self._events(rows)

    def event_by_id(self, event_id: Any) -> RecordedEvent | None:
        with self.cursor() as cur:
            rows = cur.execute(f"SELECT {COLUMNS} FROM events WHERE event_id = ?", (self.to_db_uuid(event_id),)).fetchall()
        return self._events(rows)[0] if rows else None

    def stream_version(self, stream_id: str) -> int:
        with self.cursor() as cur:
            return self._stream_version(cur, stream_id)

    def stream_position(self, stream_id: str) -> int:
        """Global position of the stream's last event (0 when it has none)."""
        with self.cursor() as cur:
            row = cur.execute("SELECT coalesce(max(position), 0) FROM events WHERE stream_id = ?", (stream_id,)).fetchone()
        return row[0]

    def head(self) -> int:
        with self.cursor() as cur:
            return cur.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]

    def _stream_version(self, cur: Any, stream_id: str) -> int:
        row = cur.execute("SELECT version FROM streams WHERE stream_id = ?", (stream_id,)).fetchone()
        return 0 if row is None else row[0]

    def _events(self, rows: list[tuple]) -> list[RecordedEvent]:
        datas = loads_many([row[5] for row in rows])
        metas = loads_many([row[6] for row in rows])
        uuid_of, times = self.from_db_uuid, {}

        def time_of(value: Any) -> datetime:  # the events of one append share one time: convert it once
            converted = times.get(value)
            if converted is None:
                converted = times[value] = self.from_db_time(value)
            return converted

        return [
            RecordedEvent(row[0], row[1], row[2], row[3], row[4], data, meta, uuid_of(row[7]), time_of(row[8]))
            for row, data, meta in zip(rows, datas, metas)
        ]


def _not_before(clock_time: datetime, head_time: datetime | None) -> datetime:
    """The stamp of an append: the clock's reading, but never earlier than the event before it.

    Time in the log is then non-decreasing in position order, within a stream
    and across streams, whatever the clocks of racing writers said (a writer
    that read its clock first may commit second).
    """
    if head_time is not None and head_time > clock_time:
        return head_time
    return clock_time


def _rollback(cur: Any) -> None:
    try:
        cur.execute("ROLLBACK")
    except Exception:  # the failed COMMIT may already have ended the transaction
        pass
