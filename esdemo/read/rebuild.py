"""Rebuilding a projection, blue/green: the seed's four steps as one operation.

::

    1. Create new projection table          storage.new_target()      -> order_summary_2
    2. Replay all events from event store   a runner pinned to it      (batches, with checkpoints)
    3. Switch read traffic to new table     one commit: apply the last events, re-point the view,
    4. Delete old table                       drop order_summary_1

Readers keep reading the old table, complete and consistent, until the
commit of steps 3 and 4; from then on they read the new one. No reader ever
sees a half-built view, and events appended during the rebuild are not
lost: the final commit applies whatever arrived since the replay, and a
live runner simply continues from the new table's checkpoint.

Why rebuild? The projection's code changed (a new column, a fixed bug), or
a new view is wanted over old history: "Rebuild Views" is one of event
sourcing's promises. If the rebuild fails half-way, its table is dropped
and the live view is untouched.

:func:`rebuild_set_based` does the same with one SQL statement over the
``events`` table instead of a Python handler per event: much faster, but
the SQL must repeat the handler's logic (and every upcaster) by hand. The
tests check that both give identical tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..store.events import RecordedEvent
from .projection import Projection, ProjectionConflictError
from .projection_runner import MAX_CONFLICT_RETRIES, ProjectionRunner
from .sql_views import SqlTable

if TYPE_CHECKING:
    from ..store.event_store import EventStore


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did: which generation replaced which, over how many events, how fast."""

    view: str
    method: str
    old_target: Any
    new_target: Any
    events: int
    position: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        """Throughput of the whole operation: events of the log covered per second."""
        return self.events / self.seconds if self.seconds > 0 else float("inf")

    def __str__(self) -> str:
        return (f"{self.view}: {self.method} rebuild of {self.events:,} events into {self.new_target} "
                f"(replacing {self.old_target}) in {self.seconds:.3f} s, {self.events_per_second:,.0f} events/s")


def rebuild(store: EventStore, projection: Projection, *, decoder: Callable[[RecordedEvent], Any] | None = None,
            batch_size: int = 10_000, progress: bool = False) -> RebuildReport:
    """Rebuild ``projection``'s view from the whole log, per event, and switch readers to it atomically.

    Works for every storage (a SQL table, documents, a DataFrame). ``progress=True``
    shows a progress bar while replaying. Returns a :class:`RebuildReport`.
    """
    started = time.perf_counter()
    storage = projection.storage
    storage.attach(store, projection.name)
    old = storage.live_target
    target = storage.new_target()                                   # 1. a new, empty generation
    try:
        runner = ProjectionRunner(store, projection, decoder=decoder, batch_size=batch_size, target=target)
        events = runner.catch_up(progress=progress)                 # 2. replay, batch by batch
        events += _retrying(runner.switch_over)                     # 3. + 4. one commit: switch, drop the old
    except BaseException:
        storage.drop_target(target)
        raise
    return RebuildReport(projection.name, "per-event", old, target, events, storage.position(),
                         time.perf_counter() - started)


def rebuild_set_based(store: EventStore, projection: Projection, sql: str | None = None) -> RebuildReport:
    """Rebuild a SQL view with one ``INSERT ... SELECT`` over the events, then switch atomically.

    ``sql`` (default: the projection's ``rebuild_sql``) is a SELECT that
    returns the view's columns by name, reading the log from ``{events}``,
    which stands for ``events`` up to the log's head at the start of the
    transaction; the new checkpoint is that head. Example::

        SELECT stream_id, count(*) AS events FROM {events} GROUP BY stream_id
    """
    storage = projection.storage
    if not isinstance(storage, SqlTable):
        raise TypeError(f"a set-based rebuild writes SQL into a table; {projection.name!r} is kept in "
                        f"{type(storage).__name__}. Use rebuild() instead.")
    sql = sql if sql is not None else getattr(projection, "rebuild_sql", None)
    if not isinstance(sql, str) or "{events}" not in sql:
        raise ValueError(f"a set-based rebuild of {projection.name!r} needs a SELECT reading FROM {{events}}: pass "
                         "sql=... or give the projection a rebuild_sql attribute")
    started = time.perf_counter()
    storage.attach(store, projection.name)
    old = storage.live_target
    target = storage.new_target()
    columns = ", ".join(storage.columns)

    def fill_and_switch() -> int:
        with storage.batch(target, activate=True) as batch:
            head = batch.cursor.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
            events = f"(SELECT * FROM events WHERE position <= {int(head)})"
            batch.cursor.execute(f"INSERT INTO {target} ({columns}) "
                                 f"SELECT {columns} FROM ({sql.replace('{events}', events)}) AS rebuilt")
            batch.position = head
        return head

    try:
        head = _retrying(fill_and_switch)
    except BaseException:
        storage.drop_target(target)
        raise
    return RebuildReport(projection.name, "set-based", old, target, head, head, time.perf_counter() - started)


def _retrying(step: Callable[[], int]) -> int:
    """Run a commit that may lose a race with a live runner's batch; losing changes nothing, so try again."""
    for attempt in range(MAX_CONFLICT_RETRIES):
        try:
            return step()
        except ProjectionConflictError:
            if attempt == MAX_CONFLICT_RETRIES - 1:
                raise
            time.sleep(0.001 * (attempt + 1))
    raise AssertionError("unreachable")
