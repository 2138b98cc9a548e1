"""The backend contract: what :class:`~esdemo.store.event_store.EventStore` asks of a database.

The store checks every argument, encodes events to JSON and keeps the append
signal; a backend only stores and reads. Every backend (DuckDB, SQLite, and
any new one) is written against this :class:`Backend` protocol, and the one
contract test suite (``tests/integration/test_store_contract.py``) runs on each.
Most of it is written once in :class:`~esdemo.store.backends.base.SqlBackend`;
a SQL backend supplies its connection, its dialect and its type conversions.

Encoded events reach a backend as tuples ``(event_id, type, schema_version,
data_json, metadata_json)``; stored rows come back as
:class:`~esdemo.store.events.RecordedEvent`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from ..events import AppendResult, RecordedEvent

# One event as the backend receives it: (event_id, type, schema_version, data_json, metadata_json).
Encoded = tuple[Any, str, int, str, str]


@runtime_checkable
class Backend(Protocol):
    """The methods the store calls on a backend, each with its promise."""

    name: str
    """Short name, e.g. ``"duckdb"``: what ``EventStore.backend`` reports."""

    path: str
    """Where the data lives (a file path, or ``":memory:"``)."""

    def append(self, stream_id: str, events: Sequence[Encoded], expected: object,
               now: Callable[[], datetime]) -> AppendResult:
        """Append all of ``events`` to the stream, or none: check ``expected``, number, stamp, insert, commit; a retry of the same ids answers as the first time.

        ``now()`` is called once, inside the transaction; the stamp is ``max(now(), the head event's stamp)``.
        """

    def restore(self, events: Sequence[tuple]) -> int:
        """Write exported rows back with their own positions, versions, ids and times, all or nothing; return the new head."""

    def bulk_load(self, insert_sql: str, params: Any) -> int:
        """Run one INSERT INTO events statement as the log's writer; refuse it unless it continues the log; set streams; return the head."""

    def read(self, stream_id: str, from_version: int, to_version: int | None) -> list[RecordedEvent]:
        """One stream's events in version order, from ``from_version`` up to ``to_version`` (inclusive, None for all)."""

    def read_all(self, from_position: int, limit: int | None) -> list[RecordedEvent]:
        """Events of every stream in global order, from ``from_position``, at most ``limit`` of them."""

    def stream_version(self, stream_id: str) -> int:
        """The stream's version: how many events it holds (0 if it does not exist)."""

    def stream_position(self, stream_id: str) -> int:
        """The global position of the stream's last event (0 if it has none)."""

    def head(self) -> int:
        """The global position of the log's last event (0 when empty)."""

    def query(self, sql: str, params: list[Any]) -> tuple[list[str], list[tuple]]:
        """Run read-only SQL: column names and rows; a statement that writes raises ReadOnlyQueryError, having changed nothing."""

    def cursor(self) -> AbstractContextManager[Any]:
        """A DB-API cursor for one thread's reads, outside any write transaction."""

    def transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one write transaction: COMMIT when the block ends, ROLLBACK if it raises; writes to events/streams raise ImmutableEventsError."""

    @property
    def connection(self) -> Any:
        """The underlying DB-API connection, for teaching and set-based SQL (guarded like ``transaction``)."""

    def close(self) -> None:
        """Release the database; later calls are the store's to refuse."""

