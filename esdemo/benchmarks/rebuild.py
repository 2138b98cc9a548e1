"""Rebuilding the Order Summary over 1,000,000 events: per event in Python vs one SQL statement.

Both rebuilds run on the same store in the same run, so their ratio is a
fair comparison even on a busy machine. Run it with::

    python -m esdemo.benchmarks.rebuild            # 1,000,000 events
    python -m esdemo.benchmarks.rebuild 100000     # a quicker look

The events are generated with one ``INSERT ... SELECT`` straight into the
``events`` table (appending a million events through ``append`` would
take longer than the benchmark itself). They are exactly what the orders
domain writes (checked below by decoding a sample and by loading an
``Order``): 200,000 orders of five events each (created, two items,
submitted, paid), 10% of the payments as old ``OrderPaid`` V1 events that
need the upcaster.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from decimal import Decimal

from ..examples.order_views import OrderSummary
from ..examples.orders import Order
from ..read.projection_runner import ProjectionRunner
from ..read.rebuild import rebuild, rebuild_set_based
from ..store.event_store import EventStore
from ..store.serialization import dumps
from ..write.domain import default_registry
from ..write.repository import Repository

EVENTS_PER_ORDER = 5
GROUP = 100  # orders interleave in groups of 100: all created, then all first items, ...

# Event i (from 0): order o, step k; order o's events are at positions group*500 + k*100 + (o % 100) + 1.
GENERATE = f"""
INSERT INTO events
WITH numbered AS (
    SELECT i + 1 AS position,
           (i // ({GROUP} * {EVENTS_PER_ORDER})) * {GROUP} + i % {GROUP} AS o,
           (i // {GROUP}) % {EVENTS_PER_ORDER} AS k,
           TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i) AS recorded
    FROM range(?) AS r(i)
), shaped AS (
    SELECT *, CAST(o AS VARCHAR) AS id, 1 + o % 3 AS q,
           CAST(CAST(25 * (1 + o % 3) AS DECIMAL(18, 2)) AS VARCHAR) AS first_total,
           CAST(CAST(25 * (1 + o % 3) + 1.5 AS DECIMAL(18, 2)) AS VARCHAR) AS total
    FROM numbered
)
SELECT position, 'Order-' || id, k + 1,
       CASE k WHEN 0 THEN 'OrderCreated' WHEN 1 THEN 'ItemAdded' WHEN 2 THEN 'ItemAdded'
              WHEN 3 THEN 'OrderSubmitted' ELSE 'OrderPaid' END,
       CASE WHEN k = 4 AND o % 10 = 0 THEN 1 WHEN k = 4 THEN 2 ELSE 1 END,
       CAST(CASE k
           WHEN 0 THEN '{{"customer_id":"c-' || CAST(o % 5000 AS VARCHAR) || '","order_id":"' || id || '"}}'
           WHEN 1 THEN '{{"new_total":{{"$decimal":"' || first_total || '"}},"order_id":"' || id
                       || '","price":{{"$decimal":"25.00"}},"quantity":' || CAST(q AS VARCHAR) || ',"sku":"BOOK-1"}}'
           WHEN 2 THEN '{{"new_total":{{"$decimal":"' || total || '"}},"order_id":"' || id
                       || '","price":{{"$decimal":"1.50"}},"quantity":1,"sku":"PEN-7"}}'
           WHEN 3 THEN '{{"order_id":"' || id || '","submitted_at":{{"$datetime":"'
                       || strftime(recorded, '%Y-%m-%dT%H:%M:%S') || '+00:00"}}}}'
           ELSE CASE WHEN o % 10 = 0
               THEN '{{"amount":{{"$decimal":"' || total || '"}},"order_id":"' || id || '"}}'
               ELSE '{{"amount":{{"$decimal":"' || total || '"}},"currency":"USD","order_id":"' || id || '"}}' END
       END AS JSON),
       CAST('{{}}' AS JSON),
       CAST(md5(CAST(position AS VARCHAR)) AS UUID),
       recorded
FROM shaped ORDER BY position
"""


def generate(store: EventStore, events: int) -> int:
    """Fill an empty DuckDB store with ``events`` order events (a multiple of 500); returns the head."""
    if store.backend != "duckdb" or store.head() != 0:
        raise ValueError("generate() fills an empty DuckDB store")
    if events <= 0 or events % (GROUP * EVENTS_PER_ORDER):
        raise ValueError(f"events must be a positive multiple of {GROUP * EVENTS_PER_ORDER}, got {events}")
    store.bulk_load(GENERATE, [events])
    _check_like_the_domain_writes_them(store)
    return store.head()


def _check_like_the_domain_writes_them(store: EventStore) -> None:
    """The generated rows must be exactly what the orders domain would have written."""
    for recorded in store.read_all(1, limit=GROUP * EVENTS_PER_ORDER):
        event = default_registry.decode(recorded)
        if recorded.schema_version == 2 or recorded.type != "OrderPaid":
            stored = store.sql("SELECT CAST(data AS VARCHAR) AS d FROM events WHERE position = ?",
                               [recorded.position])["d"][0]
            if stored != dumps(default_registry.encode(event).data):
                raise RuntimeError(f"generated event {recorded.position} is not what the domain writes: {stored}")
    order = Repository(store, Order).load("1")
    if (order.status, order.total, order.currency) != ("paid", Decimal("51.50"), "USD"):
        raise RuntimeError(f"generated Order 1 loads wrong: {order.status} {order.total} {order.currency}")


def run(events: int = 1_000_000, batch_size: int = 10_000) -> dict[str, float]:
    """Rebuild the Order Summary both ways over ``events`` generated events; returns the numbers.

    Keys: ``events``, ``generate_s``, ``per_event_s`` and ``per_event_events_per_s`` (the
    projection's Python handler, one event at a time, batches of ``batch_size``),
    ``set_based_s`` and ``set_based_events_per_s`` (``OrderSummary.rebuild_sql``), ``ratio``
    (set-based / per-event speed), and where the per-event time goes: ``read_s`` (the store's
    ``read_all`` in batches, JSON included) and ``decode_s`` (the registry's decode, upcasting included).
    """
    with EventStore() as store:
        started = time.perf_counter()
        head = generate(store, events)
        generated = time.perf_counter() - started
        read_s, decode_s = _read_and_decode(store, batch_size)
        projection = OrderSummary()
        ProjectionRunner(store, projection)                       # creates order_summary_1 (empty)
        per_event = rebuild(store, projection, batch_size=batch_size)
        with store.transaction() as cur:
            cur.execute("CREATE TABLE bench_per_event AS SELECT * FROM order_summary")
        set_based = rebuild_set_based(store, projection)
        differences = store.sql("SELECT count(*) AS n FROM ((SELECT * FROM bench_per_event EXCEPT ALL "
                                "SELECT * FROM order_summary) UNION ALL (SELECT * FROM order_summary EXCEPT ALL "
                                "SELECT * FROM bench_per_event))")["n"][0]
        if differences or per_event.position != head or set_based.position != head:
            raise RuntimeError(f"the two rebuilds differ in {differences} rows; they must be identical")
        rows = store.sql("SELECT count(*) AS n FROM order_summary")["n"][0]
    return {
        "events": head, "orders": int(rows), "generate_s": generated,
        "read_s": read_s, "decode_s": decode_s,
        "per_event_s": per_event.seconds, "per_event_events_per_s": per_event.events_per_second,
        "set_based_s": set_based.seconds, "set_based_events_per_s": set_based.events_per_second,
        "ratio": set_based.events_per_second / per_event.events_per_second,
    }


def _read_and_decode(store: EventStore, batch_size: int) -> tuple[float, float]:
    read = decode = 0.0
    pages = store.read_all_pages(1, page_size=batch_size, to_position=store.head())
    while True:
        started = time.perf_counter()
        batch = next(pages, None)
        middle = time.perf_counter()
        if batch is None:
            return read, decode
        for recorded in batch:
            default_registry.decode(recorded)
        read, decode = read + middle - started, decode + time.perf_counter() - middle


def scaling(sizes: Sequence[int], *, repeat: int = 2, batch_size: int = 10_000) -> list[dict[str, float]]:
    """Rebuild time against history: both rebuilds over a generated log of each size, best of ``repeat``.

    One dict per size, with ``events``, ``orders``, ``per_event_s`` and ``set_based_s``: the
    fastest of ``repeat`` rebuilds of each kind, so that a busy machine's slow moments count
    less. The two kinds must give identical tables every time (else ``RuntimeError``). Sizes
    are multiples of 500, as for :func:`generate`. Notebook 08 charts the result with
    :func:`esdemo.plots.rebuild_time_chart`.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    results = []
    for events in sizes:
        with EventStore() as store:
            head = generate(store, events)
            projection = OrderSummary()
            per_event, set_based = [], []
            for _ in range(repeat):
                per_event.append(rebuild(store, projection, batch_size=batch_size).seconds)
                rows = projection.storage.query(order_by="order_id")
                set_based.append(rebuild_set_based(store, projection).seconds)
                if projection.storage.query(order_by="order_id") != rows:
                    raise RuntimeError(f"over {head:,} events the set-based rebuild differs from the per-event one; "
                                       "they must be identical")
            results.append({"events": head, "orders": len(rows), "per_event_s": min(per_event),
                            "set_based_s": min(set_based)})
    return results


if __name__ == "__main__":
    numbers = run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    n = numbers["events"]
    print(f"Rebuilding the Order Summary over {n:,} events ({numbers['orders']:,} orders); "
          f"generated in {numbers['generate_s']:.1f} s")
    print(f"  per event (Python) : {numbers['per_event_s']:8.2f} s  {numbers['per_event_events_per_s']:>12,.0f} events/s")
    print(f"    of which reading : {numbers['read_s']:8.2f} s  (read_all + JSON, measured separately)")
    print(f"    and decoding     : {numbers['decode_s']:8.2f} s  (registry.decode + upcasting)")
    print(f"  set-based (SQL)    : {numbers['set_based_s']:8.2f} s  {numbers['set_based_events_per_s']:>12,.0f} events/s")
    print(f"  ratio              : {numbers['ratio']:8.1f}x  (identical tables: checked)")
