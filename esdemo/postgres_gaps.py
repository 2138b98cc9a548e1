"""Gaps for real, on a PostgreSQL server: the naive reader that skips a late commit, and a safe one.

:mod:`esdemo.gaps` simulates the problem; here it happens. A
:class:`SequenceLog` numbers rows the way most tables do, with an identity
column (a sequence): the number is taken when the row is inserted, and the
transactions that took 41 and 42 commit in whatever order they finish::

    writer A: BEGIN; INSERT -> position 1 ...................... COMMIT
    writer B:             BEGIN; INSERT -> position 2; COMMIT
    naive reader ("position > checkpoint"):       sees [2], checkpoint 2 -> never reads 1

The safe reader used here reads below a **transaction-id high-water mark**:
each row records the id of the transaction that wrote it (``xid8``), and a
reader only takes rows whose transaction is older than
``pg_snapshot_xmin(pg_current_snapshot())``, the oldest transaction still
running. Every such transaction has ended, so no row of it can still appear;
and any transaction that writes later gets an id at or above that mark. The
reader's checkpoint is therefore the pair *(transaction id, position)*, read
in that order: a checkpoint on position alone would still skip, since an
older transaction may take a *higher* position than a younger one that is
still open.

The store's own PostgreSQL backend does not need this: it serialises appends
(see :mod:`esdemo.store.backends.postgres` for the choice and its price).
:func:`measure_position_strategies` prints what each approach costs.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any

from .store.backends.postgres import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS gap_log (
    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx       XID8   NOT NULL DEFAULT pg_current_xact_id(),   -- the writing transaction
    payload  TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS gap_log_by_tx ON gap_log (tx, position);
"""


class SequenceLog:
    """A log whose positions come from a sequence (no lock): fast parallel writers, out-of-order commits."""

    def __init__(self, url: str):
        self.url = url
        self._conn = connect(url)
        self._conn.execute(SCHEMA)

    def write(self, payload: str) -> int:
        """Insert one row in its own transaction; return its position."""
        return self._conn.execute("INSERT INTO gap_log (payload) VALUES (%s) RETURNING position",
                                  [payload]).fetchone()[0]

    def begin(self, payload: str | None = None) -> OpenTransaction:
        """Open a transaction on a connection of its own; with ``payload``, insert it (its position is
        taken, its row not yet visible to anyone)."""
        return OpenTransaction(self.url, payload)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SequenceLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OpenTransaction:
    """A writer's transaction left open, to commit (or roll back) when the lesson says so."""

    def __init__(self, url: str, payload: str | None = None):
        self._conn = connect(url)
        self._conn.execute("BEGIN")
        self.position: int | None = None
        if payload is not None:
            self.insert(payload)

    def take_transaction_id(self) -> int:
        """Make PostgreSQL assign this transaction its id now (it does so at the first write otherwise)."""
        return int(self._conn.execute("SELECT pg_current_xact_id()::text").fetchone()[0])

    def insert(self, payload: str) -> int:
        self.position = self._conn.execute(
            "INSERT INTO gap_log (payload) VALUES (%s) RETURNING position", [payload]).fetchone()[0]
        return self.position

    def commit(self) -> None:
        self._conn.execute("COMMIT")
        self._conn.close()

    def rollback(self) -> None:
        self._conn.execute("ROLLBACK")
        self._conn.close()


class NaiveReader:
    """``SELECT ... WHERE position > checkpoint``: skips a row whose transaction commits after a higher one."""

    def __init__(self, url: str):
        self._conn = connect(url)
        self.checkpoint = 0
        self.delivered: list[int] = []

    def poll(self) -> list[int]:
        rows = self._conn.execute("SELECT position FROM gap_log WHERE position > %s ORDER BY position",
                                  [self.checkpoint]).fetchall()
        positions = [row[0] for row in rows]
        if positions:
            self.checkpoint = positions[-1]
        self.delivered.extend(positions)
        return positions

    def close(self) -> None:
        self._conn.close()


class SafeReader:
    """Reads rows of finished transactions only, in (transaction id, position) order; never skips."""

    def __init__(self, url: str):
        self._conn = connect(url)
        self.checkpoint: tuple[int, int] = (0, 0)   # (transaction id, position) of the last row delivered
        self.delivered: list[int] = []

    def poll(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT tx::text::bigint, position FROM gap_log "
            "WHERE (tx, position) > (%s::text::xid8, %s) "
            "AND tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx, position",
            [str(self.checkpoint[0]), self.checkpoint[1]]).fetchall()
        if rows:
            self.checkpoint = (rows[-1][0], rows[-1][1])
        positions = [row[1] for row in rows]
        self.delivered.extend(positions)
        return positions

    def close(self) -> None:
        self._conn.close()


@dataclass(frozen=True)
class StrategyCost:
    """One row of :func:`measure_position_strategies`."""

    strategy: str
    writers: int
    events_per_s: float
    note: str = ""


def measure_position_strategies(url_factory: Any = None, *, writers: int = 4, appends: int = 150,
                                read_rows: int = 2000, printed: bool = True) -> list[StrategyCost]:
    """Measure both cures on a live server; print a small table and return its rows (nothing asserted).

    * serialised appends (the store's backend): 1 and ``writers`` threads each
      appending ``appends`` single events, one append at a time under the table lock
      (an append is six statements: BEGIN, LOCK, read versions, INSERT, streams, COMMIT);
    * sequence positions, no lock (:class:`SequenceLog`): one INSERT per transaction,
      1 and ``writers`` threads in parallel. Compare how each *scales* from 1 writer to
      ``writers``, not the absolute rates (the statements differ);
    * the readers' price: a naive read and a safe read (high-water mark) of
      ``read_rows`` rows, and how long a safe reader waits behind an open
      transaction (as long as it stays open: here 0.2 s).

    ``url_factory()`` returns a URL with a fresh schema (default:
    :func:`esdemo.postgres_server.fresh_store_url`).
    """
    from .postgres_server import fresh_store_url
    from .store.event_store import EventStore
    from .store.events import NewEvent

    fresh = url_factory or fresh_store_url
    rows: list[StrategyCost] = []

    def timed_threads(count: int, work: Any) -> float:
        barrier = threading.Barrier(count)
        threads = [threading.Thread(target=lambda i=i: (barrier.wait(), work(i))) for i in range(count)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    for count in sorted({1, writers}):
        with EventStore(fresh()) as store:
            seconds = timed_threads(count, lambda i: [
                store.append(f"s{i}", [NewEvent("E", {"n": n})], expected_version=n) for n in range(appends)])
            rows.append(StrategyCost("serialised appends (LOCK TABLE)", count, count * appends / seconds,
                                     "the store: gapless, commit order = position order"))
    for count in sorted({1, writers}):
        url = fresh()
        with SequenceLog(url):
            logs = [SequenceLog(url) for _ in range(count)]
            try:
                seconds = timed_threads(count, lambda i: [logs[i].write(f"w{i}-{n}") for n in range(appends)])
            finally:
                for log in logs:
                    log.close()
            rows.append(StrategyCost("sequence positions, no lock", count, count * appends / seconds,
                                     "one INSERT per transaction; commits out of order"))

    url = fresh()
    with SequenceLog(url) as log:
        log._conn.execute("INSERT INTO gap_log (payload) SELECT 'x' FROM generate_series(1, %s)", [read_rows])
        naive, safe = NaiveReader(url), SafeReader(url)
        try:
            naive_s = statistics.median(_time(lambda: (setattr(naive, "checkpoint", 0), naive.poll())) for _ in range(5))
            safe_s = statistics.median(_time(lambda: (setattr(safe, "checkpoint", (0, 0)), safe.poll())) for _ in range(5))
            rows.append(StrategyCost(f"naive read of {read_rows} rows", 1, read_rows / naive_s, f"{naive_s * 1000:.1f} ms"))
            rows.append(StrategyCost(f"safe read of {read_rows} rows (xmin mark)", 1, read_rows / safe_s,
                                     f"{safe_s * 1000:.1f} ms"))
            pending = log.begin("slow")
            log.write("fast")
            started = time.perf_counter()
            threading.Timer(0.2, pending.commit).start()
            while not safe.poll():
                time.sleep(0.005)
            rows.append(StrategyCost("safe reader behind a 0.2 s transaction", 1, 0.0,
                                     f"waited {time.perf_counter() - started:.2f} s for the open transaction"))
        finally:
            naive.close()
            safe.close()
    if printed:
        print(f"{'strategy':<45} {'writers':>7} {'events/s':>10}  note")
        for row in rows:
            rate = f"{row.events_per_s:,.0f}" if row.events_per_s else "-"
            print(f"{row.strategy:<45} {row.writers:>7} {rate:>10}  {row.note}")
    return rows


def _time(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
