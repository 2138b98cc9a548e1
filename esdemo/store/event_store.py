"""The event store: an append-only log of immutable events, grouped in streams.

The seed's contract, in Python::

    store.append(stream_id, events, expected_version=...)   # Append
    store.read(stream_id, from_version=1)                    # Read
    store.subscribe(handler)                                 # Subscribe
    ConflictError                                            # ConflictException

Everything the caller passes is checked *before* the database is touched, so
bad input raises a clear ``ValueError``/``TypeError`` and nothing is written.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from .backends import BACKENDS, is_server_url, open_backend
from .backends.contract import Backend
from .clock import utc_now
from .errors import StoreClosedError, ValueOutOfRangeError
from .events import MAX_POSITION, MAX_SCHEMA_VERSION, AppendResult, ExpectedVersion, NewEvent, RecordedEvent, check_expected
from .serialization import dumps
from .subscription import Handler, Subscription


_INSERTS_EVENTS = re.compile(r'(?is)^\s*(with\b.*?\)\s*)?insert\s+into\s+(?:"?main"?\.)?"?events"?\s')


class EventStore:
    """An event store on DuckDB (default), SQLite or PostgreSQL.

    >>> store = EventStore()                      # in memory, DuckDB
    >>> store = EventStore("shop.duckdb")         # a file
    >>> store = EventStore(backend="sqlite")      # the row-store backend
    >>> store = EventStore("postgresql://me@localhost/shop")   # a server many processes share

    ``clock`` is a callable returning an aware ``datetime``; it is asked once
    per append, inside the append's transaction, and stamps every event of
    that append, except that a stamp is never earlier than the stamp of the
    event before it: ``recorded_at`` never decreases in position order, so
    "what was recorded by t" is always a prefix of the log. Pass a
    :class:`~esdemo.store.clock.FakeClock` for reproducible timestamps.

    One store object may be shared by several threads. Use it as a context
    manager, or call :meth:`close`, to release the file.
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, backend: str | None = None,
                 clock: Callable[[], datetime] | None = None):
        if backend is None:
            backend = "postgres" if is_server_url(path) else "duckdb"
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {backend!r}")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path, ':memory:' or a postgresql:// URL, got {type(path).__name__}")
        if clock is not None and not callable(clock):
            raise TypeError("clock must be a callable returning a timezone-aware datetime")
        self._clock = clock or utc_now
        self._backend: Backend = open_backend(backend, path)
        self._closed = False
        self._appended = threading.Condition()
        self._append_count = 0
        self._listening = False

    @property
    def backend(self) -> str:
        """``"duckdb"``, ``"sqlite"`` or ``"postgres"``."""
        return self._backend.name

    @property
    def path(self) -> str:
        return self._backend.path

    # -- the contract -----------------------------------------------------------
    def append(self, stream_id: str, events: Sequence[NewEvent], *,
               expected_version: int | ExpectedVersion) -> AppendResult:
        """Append ``events`` to ``stream_id`` atomically, if the stream is at ``expected_version``.

        ``expected_version`` is the version you read (0: the stream must not
        exist yet), or ``ANY``, ``NO_STREAM`` or ``STREAM_EXISTS``. If the
        stream has moved on, :class:`~esdemo.store.errors.ConflictError` is raised
        and nothing is written.

        Returns the stream's new version and the global position of the last
        event written. Appending the same events again (same ids, same
        expected version) is a safe retry: it returns the first result.
        An empty list writes nothing; it still checks the expected version.
        """
        _check_stream_id(stream_id)
        _check_expected_version(expected_version)
        encoded = _encode_events(events)
        self._check_open()
        if not encoded:
            current = self._backend.stream_version(stream_id)
            check_expected(stream_id, expected_version, current)
            return AppendResult(version=current, position=self._backend.stream_position(stream_id))
        result = self._backend.append(stream_id, encoded, expected_version, self._read_clock)
        self._appended_now()
        return result

    def _read_clock(self) -> datetime:
        now = self._clock()
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"the store's clock must return a timezone-aware datetime, it returned {now!r}")
        return now

    def restore(self, events: Sequence[RecordedEvent]) -> int:
        """Load exported events (e.g. from ``read_all()`` of another store) as they were.

        Positions, versions, event ids and ``recorded_at`` are kept, so a
        restored log is the same history, not a re-enactment of it. The events
        must continue this store's log exactly (the first position is
        ``head() + 1``, positions have no holes, each stream's versions carry
        on from where it is). All or nothing; returns the new head. This is
        how the course's sample data loads a month of events in a moment.
        """
        if not isinstance(events, (list, tuple)):
            raise TypeError(f"events must be a list of RecordedEvent, got {type(events).__name__}")
        rows = []
        for index, event in enumerate(events):
            if not isinstance(event, RecordedEvent):
                raise TypeError(f"events[{index}] is a {type(event).__name__}, not a RecordedEvent")
            if index and event.position != events[index - 1].position + 1:
                raise ValueError(
                    f"events[{index}] is at position {event.position} after {events[index - 1].position}; "
                    "an export must be a contiguous run of the log"
                )
            _check_stream_id(event.stream_id)
            for name, value, largest in (("position", event.position, MAX_POSITION),
                                         ("version", event.version, MAX_POSITION),
                                         ("schema_version", event.schema_version, MAX_SCHEMA_VERSION)):
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise ValueError(f"events[{index}].{name} must be an int >= 1, got {value!r}")
                _check_range(f"events[{index}].{name}", value, largest)
            when = event.recorded_at
            if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
                raise ValueError(f"events[{index}].recorded_at must be a timezone-aware datetime, got {when!r}")
            if index and when < events[index - 1].recorded_at:
                raise ValueError(
                    f"events[{index}] was recorded at {when.isoformat()}, before events[{index - 1}] "
                    f"({events[index - 1].recorded_at.isoformat()}); in a log, time never goes back in position order"
                )
            rows.append((event.position, event.stream_id, event.version, event.type, event.schema_version,
                         dumps(event.data, f"events[{index}].data"), dumps(event.metadata, f"events[{index}].metadata"),
                         event.event_id, when))
        self._check_open()
        if not rows:
            return self.head()
        head = self._backend.restore(rows)
        self._appended_now()
        return head

    def bulk_load(self, insert_sql: str, params: Any = ()) -> int:
        """Generate a history in the database itself: one ``INSERT INTO events ...`` statement, all or nothing.

        For benchmarks and sample data (a million synthetic events in seconds,
        where ``append`` would take minutes). Every other door refuses writes to
        ``events``; this one runs the statement as the log's writer, then checks
        that the new rows continue the log exactly (positions ``head() + 1``
        onwards without holes, each stream's versions continuing in position
        order), sets ``streams`` from them, and commits. Returns the new head.
        """
        if not isinstance(insert_sql, str) or not _INSERTS_EVENTS.match(insert_sql):
            raise ValueError("bulk_load takes one INSERT INTO events ... statement (a WITH ... before it is fine)")
        if re.search(r"(?i)\bon\s+conflict\b", insert_sql):
            raise ValueError("bulk_load only adds events: ON CONFLICT (which would change stored ones) is refused")
        self._check_open()
        head = self._backend.bulk_load(insert_sql, params)
        self._appended_now()
        return head

    def read(self, stream_id: str, from_version: int = 1, *, to_version: int | None = None) -> list[RecordedEvent]:
        """The events of one stream, in version order, from ``from_version`` (to ``to_version``, inclusive)."""
        _check_stream_id(stream_id)
        _check_count("from_version", from_version, minimum=1)
        if to_version is not None:
            _check_count("to_version", to_version, minimum=0)
        self._check_open()
        return self._backend.read(stream_id, from_version, to_version)

    def read_all(self, from_position: int = 1, limit: int | None = None) -> list[RecordedEvent]:
        """Events of every stream in global order, from ``from_position``, at most ``limit`` of them, as one list.

        Without ``limit`` this is the whole log in memory at once: to scan a
        long log, use :meth:`iter_all` or :meth:`read_all_pages` instead.
        """
        _check_count("from_position", from_position, minimum=1)
        if limit is not None:
            _check_count("limit", limit, minimum=0)
        self._check_open()
        if limit is not None and from_position + limit > MAX_POSITION:
            limit = None   # no log holds more: the same answer, without a bound the database cannot compare
        return self._backend.read_all(from_position, limit)

    def find_event(self, event_id: uuid.UUID | str) -> RecordedEvent | None:
        """The stored event with this id, or ``None``: "was this message already handled?".

        Event ids are unique in the log (and indexed), so this is one lookup.
        Idempotent consumers ask it before doing work whose events have
        deterministic ids (see :mod:`esdemo.write.context`).
        """
        if isinstance(event_id, str):
            try:
                event_id = uuid.UUID(event_id)
            except ValueError:
                raise ValueError(f"event_id must be a UUID, got {event_id!r}") from None
        if not isinstance(event_id, uuid.UUID):
            raise TypeError(f"event_id must be a uuid.UUID, got {type(event_id).__name__}")
        self._check_open()
        return self._backend.event_by_id(event_id)

    def read_all_pages(self, from_position: int = 1, *, page_size: int = 1_000,
                       to_position: int | None = None) -> Iterator[list[RecordedEvent]]:
        """The log in global order, one page (a list of at most ``page_size`` events) at a time.

        Memory stays bounded by one page however long the log is: each page is
        one query for the next ``page_size`` positions (``position`` is the
        primary key, so a page costs the same at the end of a 1M-event log as
        at its start). ``to_position`` (inclusive) stops there; without it the
        pages go on while there are events, so events appended meanwhile are
        read too. For scans of the whole log: rebuilds, exports, reports.
        """
        _check_count("from_position", from_position, minimum=1)
        _check_count("page_size", page_size, minimum=1)
        if to_position is not None:
            _check_count("to_position", to_position, minimum=0)
        position = from_position
        while to_position is None or position <= to_position:
            limit = page_size if to_position is None else min(page_size, to_position - position + 1)
            page = self.read_all(position, limit=limit)
            if not page:
                return
            yield page
            if len(page) < limit and to_position is not None:
                return   # (without to_position: ask once more, for what was appended while the page was used)
            position = page[-1].position + 1

    def iter_all(self, from_position: int = 1, *, page_size: int = 1_000,
                 to_position: int | None = None) -> Iterator[RecordedEvent]:
        """Every event from ``from_position`` in global order, streamed: :meth:`read_all_pages`, one event at a time.

        ``for event in store.iter_all(): ...`` is ``for event in store.read_all(): ...``
        without building the whole log as one list (1M small events: ~1 GB as a
        list, one page here).
        """
        for page in self.read_all_pages(from_position, page_size=page_size, to_position=to_position):
            yield from page

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version: how many events it has (0 if it does not exist)."""
        _check_stream_id(stream_id)
        self._check_open()
        return self._backend.stream_version(stream_id)

    def head(self) -> int:
        """The global position of the last event (0 when the store is empty)."""
        self._check_open()
        return self._backend.head()

    def subscribe(self, handler: Handler, from_position: int = 1, *, stream_id: str | None = None,
                  category: str | None = None) -> Subscription:
        """Follow the log from ``from_position``: call ``.poll()`` to deliver, or ``.start()`` to run live.

        All streams by default; ``stream_id="Order-12345"`` for one stream, ``category="Order"``
        for every ``Order-...`` stream (see :mod:`esdemo.store.subscription`).
        """
        _check_count("from_position", from_position, minimum=1)
        return Subscription(self, handler, from_position, stream_id=stream_id, category=category)

    # -- SQL access for teaching and set-based work -------------------------------
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run read-only SQL outside any write transaction; returns its rows.

        For the store's neighbours that read their own tables (snapshots, read
        models). It is read-only for real: a statement that writes raises
        :class:`~esdemo.store.errors.ReadOnlyQueryError` and changes nothing.
        To change those tables, use :meth:`transaction`.
        """
        self._check_open()
        return self._backend.query(sql, list(params))[1]

    def sql(self, query: str, params: Sequence[Any] = ()) -> Any:
        """Run read-only SQL against the store's tables; returns a pandas DataFrame (writes are refused, as in :meth:`query`)."""
        self._check_open()
        import pandas as pd

        columns, rows = self._backend.query(query, list(params))
        return pd.DataFrame(rows, columns=columns)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One database transaction next to the log, for snapshots, read models and checkpoints.

        Yields a DB-API cursor; commits when the block ends, rolls back if it raises::

            with store.transaction() as cur:
                cur.execute("UPDATE order_summary SET status = 'paid' WHERE order_id = ?", [order_id])
                cur.execute("UPDATE checkpoints SET position = ? WHERE name = ?", [position, name])

        Events themselves are only ever written by :meth:`append`: a statement
        that would change ``events`` or ``streams`` (or the guards around them)
        raises :class:`~esdemo.store.errors.ImmutableEventsError`.
        """
        self._check_open()
        with self._backend.transaction() as cur:
            yield cur

    @property
    def connection(self) -> Any:
        """The underlying DB-API connection (a per-thread DuckDB cursor, the sqlite3 connection, or a
        per-thread PostgreSQL cursor that takes ``?`` placeholders).

        Each statement commits on its own. Like every door, it leaves the log
        alone: writes to ``events``/``streams`` raise
        :class:`~esdemo.store.errors.ImmutableEventsError`.
        """
        self._check_open()
        return self._backend.connection

    # -- lifecycle ------------------------------------------------------------
    def close(self) -> None:
        """Close the database. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._backend.close()
            self.wake_waiters()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EventStore({self.path!r}, backend={self.backend!r})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self!r} is closed; open a new EventStore to keep working.")

    # -- the append signal: what live followers wait on ------------------------------
    def wait_for_append(self, after_position: int, timeout: float, *, stop: threading.Event | None = None) -> bool:
        """Block until the log's head is past ``after_position``; True if it is, False otherwise.

        Returns early, with False, when ``timeout`` seconds pass, the store is
        closed, or ``stop`` is set (and :meth:`wake_waiters` is called). Appends
        through *this* store object wake the waiter at once; appends from other
        processes or store objects are found when the timeout runs out and the
        caller asks again (on PostgreSQL at once too: LISTEN/NOTIFY wakes it). This is what :class:`~esdemo.store.live_loop.LiveLoop`
        sleeps on between two catch-ups.
        """
        _check_count("after_position", after_position, minimum=0)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
            raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        if not self._listening:
            self._listen_for_other_writers()
        deadline = time.monotonic() + timeout
        while True:
            with self._appended:
                seen = self._append_count
            if self._head_past(after_position):
                return True
            with self._appended:
                # ``stop`` is checked under the lock wake_waiters() takes to notify: a stop() that sets it
                # while the caller is still busy cannot slip in before this wait and be missed.
                while self._append_count == seen and not self._closed and not (stop is not None and stop.is_set()):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._appended.wait(remaining)
                ended = self._closed or (stop is not None and stop.is_set()) or time.monotonic() >= deadline
            if ended:
                return self._head_past(after_position)
            # woken, but the head may not be past yet (a notification for an earlier append): look again

    def wake_waiters(self) -> None:
        """Wake every :meth:`wait_for_append` now, so that it looks at its ``stop`` flag (used by ``stop()``)."""
        with self._appended:
            self._appended.notify_all()

    def _head_past(self, position: int) -> bool:
        if self._closed:
            return False
        try:
            return self._backend.head() > position
        except Exception:
            if self._closed:  # closed by another thread while we asked
                return False
            raise

    def _appended_now(self) -> None:
        with self._appended:
            self._append_count += 1
            self._appended.notify_all()

    def _listen_for_other_writers(self) -> None:
        """A live reader waits here: a server backend that can push news of other processes' appends
        (PostgreSQL: LISTEN/NOTIFY) wakes it at once; the polling interval stays as the fallback."""
        with self._appended:
            if self._listening or self._closed:
                return
            self._listening = True
        listen = getattr(self._backend, "listen", None)
        if listen is not None:
            listen(self._appended_now)



def _check_stream_id(stream_id: object) -> None:
    if not isinstance(stream_id, str):
        raise TypeError(f"stream_id must be a string such as 'Order-12345', got {type(stream_id).__name__}")
    if not stream_id.strip():
        raise ValueError("stream_id must not be empty or blank; name the stream, e.g. 'Account-123'")


def _check_expected_version(expected: object) -> None:
    if isinstance(expected, ExpectedVersion):
        return
    if expected is None or isinstance(expected, bool) or not isinstance(expected, int):
        raise TypeError(
            f"expected_version must be an int (the version you read; 0 for a new stream) or one of "
            f"ANY, NO_STREAM, STREAM_EXISTS; got {expected!r}"
        )
    if expected < 0:
        raise ValueError(f"expected_version must be >= 0 (0 means the stream must not exist yet), got {expected}")
    _check_range("expected_version", expected)


def _check_count(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    _check_range(name, value)


def _check_range(name: str, value: int, largest: int = MAX_POSITION) -> None:
    if value > largest:
        raise ValueOutOfRangeError(
            f"{name} is {value}, above {largest} ({'2**63' if largest == MAX_POSITION else '2**31'} - 1), the largest "
            "number every backend can store or compare. Positions, versions and limits are counts of events: "
            "pass a smaller number (or limit=None for no limit).")


def _encode_events(events: object) -> list[tuple]:
    if isinstance(events, NewEvent):
        raise TypeError("events must be a list of NewEvent; got a single NewEvent, wrap it in a list: [event]")
    if not isinstance(events, (list, tuple)):
        raise TypeError(f"events must be a list of NewEvent, got {type(events).__name__}")
    encoded, seen = [], set()
    for index, event in enumerate(events):
        if not isinstance(event, NewEvent):
            raise TypeError(
                f"events[{index}] is a {type(event).__name__}, not a NewEvent; "
                "build it with NewEvent(type, data)"
            )
        if event.event_id in seen:
            raise ValueError(f"events[{index}] repeats event id {event.event_id}; every event in a batch needs its own id")
        seen.add(event.event_id)
        data = dumps(event.data, f"events[{index}].data")
        metadata = dumps(event.metadata, f"events[{index}].metadata")
        encoded.append((event.event_id, event.type, event.schema_version, data, metadata))
    return encoded
