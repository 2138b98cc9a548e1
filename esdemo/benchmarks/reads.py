"""Reading one 100-event stream out of a 1,000,000-event store, and whether an index does the work.

::

    python -m esdemo.benchmarks.reads            # 1,000,000 events
    python -m esdemo.benchmarks.reads 100000     # a quicker look

A real log interleaves its streams: Account-7's deposits sit between
everybody else's. So the generated log is 10,000 streams of 100 events
written round-robin (event ``i`` belongs to stream ``i % streams``): each
stream's events are spread evenly over the whole table, the worst case for
a column store's min/max statistics (every block of rows holds a few events
of every stream, so none can be skipped) and the normal case for a B-tree.

Besides the time of ``store.read`` (SQL and JSON decoding), each backend
reports the plan the database really ran for the store's own query: DuckDB
from its profiler (plain ``EXPLAIN`` shows "Sequential Scan" even where the
executor then chooses an index, so only the executed plan counts); SQLite
from ``EXPLAIN QUERY PLAN`` of the exact SQL the store sent.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..store.event_store import EventStore
from ..store.serialization import dumps
from .timing import median_seconds

PROPOSED_INDEX = "CREATE INDEX IF NOT EXISTS bench_events_by_stream ON events (stream_id)"

_DATA = dumps({"account_id": "bench", "amount": Decimal("10.00")})
_GENERATE = {
    "duckdb": f"""
        INSERT INTO events
        SELECT i + 1, 'Account-' || CAST(i % $streams AS VARCHAR), i // $streams + 1, 'MoneyDeposited', 1,
               CAST('{_DATA}' AS JSON), CAST('{{}}' AS JSON), CAST(md5(CAST(i AS VARCHAR)) AS UUID),
               TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i)
        FROM range($events) AS r(i)""",
    "sqlite": f"""
        WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i + 1 < :events)
        INSERT INTO events
        SELECT i + 1, 'Account-' || (i % :streams), i / :streams + 1, 'MoneyDeposited', 1, '{_DATA}', '{{}}',
               '00000000-0000-4000-8000-' || printf('%012x', i),
               strftime('%Y-%m-%d %H:%M:%S', 1704067200 + i, 'unixepoch') || '.000000'
        FROM r""",
}


def generate(store: EventStore, events: int = 1_000_000, streams: int = 10_000) -> int:
    """Fill an empty store with ``events`` deposits in ``streams`` interleaved streams; returns the head.

    ``events`` must be a multiple of ``streams`` (every stream gets ``events // streams`` events).
    """
    if store.head() != 0:
        raise ValueError("generate() fills an empty store")
    if streams < 1 or events < streams or events % streams:
        raise ValueError(f"events must be a positive multiple of streams, got events={events}, streams={streams}")
    params = {"events": events, "streams": streams, "per": events // streams}
    store.bulk_load(_GENERATE[store.backend], {k: params[k] for k in ("events", "streams")})
    sample = store.read("Account-1")
    if len(sample) != events // streams or sample[-1].position != events - streams + 2:
        raise RuntimeError("the generated log is not interleaved as described; the benchmark is broken")
    return store.head()


def plan_of_read(store: EventStore, stream_id: str) -> str:
    """How the database executed ``store.read(stream_id)``: e.g. ``"Index Scan"`` or ``"Sequential Scan"``.

    DuckDB: the scan type from its profiler for the query ``read`` ran. SQLite:
    the ``EXPLAIN QUERY PLAN`` line of the SQL that ``read`` sent (``SEARCH ...
    USING INDEX ...`` or ``SCAN events``).
    """
    if store.backend == "duckdb":
        return _duckdb_executed_scan(store, stream_id)
    sent: list[str] = []
    connection: sqlite3.Connection = store.connection
    connection.set_trace_callback(sent.append)
    try:
        store.read(stream_id)
    finally:
        connection.set_trace_callback(None)
    query = next(sql for sql in sent if sql.lstrip().upper().startswith("SELECT") and "FROM EVENTS" in sql.upper())
    plan = connection.execute("EXPLAIN QUERY PLAN " + query).fetchall()
    return "; ".join(row[-1] for row in plan)


def _duckdb_executed_scan(store: EventStore, stream_id: str) -> str:
    cur = store.connection   # this thread's cursor: the one store.read uses
    with tempfile.TemporaryDirectory() as folder:
        profile = Path(folder) / "profile.json"
        cur.execute("SET enable_profiling = 'json'")
        cur.execute(f"SET profiling_output = '{profile}'")
        try:
            store.read(stream_id)
        finally:
            cur.execute("RESET enable_profiling")
            cur.execute("RESET profiling_output")
        tree = json.loads(profile.read_text())
    scans = [node["extra_info"] for node in _nodes(tree) if node.get("type") == "TABLE_SCAN"
             and node.get("extra_info", {}).get("Table", "").endswith(".events")]
    if not scans:
        raise RuntimeError("DuckDB's profile shows no scan of events for store.read; cannot tell the plan")
    return ", ".join(dict.fromkeys(scan.get("Type", "?") for scan in scans))


def _nodes(node: dict[str, Any]):
    for child in node.get("children", node.get("operator", [])):
        yield child
        yield from _nodes(child)


def uses_index(plan: str) -> bool:
    """Whether a plan from :func:`plan_of_read` looks rows up through an index instead of scanning the table."""
    return "Index Scan" in plan or "USING INDEX" in plan or "USING COVERING INDEX" in plan


def run(events: int = 1_000_000, streams: int = 10_000, repeat: int = 15,
        backends: Sequence[str] = ("duckdb", "sqlite"), try_index: bool = True) -> dict[str, Any]:
    """Median milliseconds of ``store.read`` of one stream, per backend, and the executed plan.

    Keys for each backend ``b``: ``b.read_ms`` (median over ``repeat`` reads,
    each of a different stream), ``b.plan`` (see :func:`plan_of_read`) and
    ``b.index`` (1.0 if that plan uses an index, else 0.0). With ``try_index``
    and a DuckDB plan that scans the table, the same reads are timed again
    after :data:`PROPOSED_INDEX` (a one-column index on ``stream_id`` in this
    scratch store): ``duckdb+index.read_ms``, ``duckdb+index.plan``, and
    ``duckdb+index.create_s`` (seconds to build it over the whole log).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    per_stream = events // streams if streams else 0
    results: dict[str, Any] = {"events": events, "streams": streams, "stream_events": per_stream, "repeat": repeat}
    for backend in backends:
        with EventStore(backend=backend) as store:
            generate(store, events, streams)
            results |= _measure(store, backend, streams, repeat, per_stream)
            if try_index and backend == "duckdb" and not results["duckdb.index"]:
                import time

                started = time.perf_counter()
                with store.transaction() as cur:
                    cur.execute(PROPOSED_INDEX)
                results["duckdb+index.create_s"] = time.perf_counter() - started
                results |= _measure(store, "duckdb+index", streams, repeat, per_stream)
    return results


def _measure(store: EventStore, label: str, streams: int, repeat: int, per_stream: int) -> dict[str, Any]:
    picks = iter(range(repeat + 1))

    def read_one() -> None:
        stream_id = f"Account-{(next(picks) * 7919 + 13) % streams}"   # a different stream every time
        if len(store.read(stream_id)) != per_stream:
            raise RuntimeError(f"{stream_id} should have {per_stream} events")

    seconds = median_seconds(read_one, repeat)
    plan = plan_of_read(store, f"Account-{streams // 2}")
    return {f"{label}.read_ms": seconds * 1000, f"{label}.plan": plan, f"{label}.index": float(uses_index(plan))}


if __name__ == "__main__":
    numbers = run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(f"Reading one {numbers['stream_events']}-event stream out of {numbers['events']:,} events "
          f"({numbers['streams']:,} interleaved streams; median of {numbers['repeat']} reads)")
    for label in ("duckdb", "duckdb+index", "sqlite"):
        if f"{label}.read_ms" in numbers:
            print(f"  {label:<13} {numbers[f'{label}.read_ms']:8.2f} ms   plan: {numbers[f'{label}.plan']}")
