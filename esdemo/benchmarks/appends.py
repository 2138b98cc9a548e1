"""Appending through ``store.append``: one event per call, and 10,000 events in one call.

Two ways to write the same events, on both backends, in the same run::

    python -m esdemo.benchmarks.appends

* **single**: what a command handler does, one small append per command,
  each with the expected version the handler read (a real concurrency check,
  spread round-robin over ``streams`` streams). Every append is its own
  transaction: BEGIN, look up the stream's version and the log's head,
  INSERT, record the stream's new version, COMMIT.
* **batch**: one call appending ``batch`` events to a new stream (an import,
  a migration): the same statements, once, for all the events.

The events are built before the clock starts (``NewEvent`` picks its id when
made); encoding them to JSON is part of the append and is timed. Both run in
an in-memory store, so the numbers are the database's and Python's work, not
the disk's ``fsync``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ..store.event_store import EventStore
from ..store.events import NO_STREAM, NewEvent
from .timing import median, ratio, timings


def deposits(count: int, account: str = "bench") -> list[NewEvent]:
    """``count`` MoneyDeposited events (the bank example's shape), ids fixed now."""
    return [NewEvent("MoneyDeposited", {"account_id": account, "amount": Decimal("10.00")}) for _ in range(count)]


def run(single: int = 2_000, batch: int = 10_000, repeat: int = 5, streams: int = 100,
        backends: Sequence[str] = ("duckdb", "sqlite")) -> dict[str, float]:
    """Median events/s of single-event appends and of one ``batch``-event append, per backend.

    Keys for each backend ``b``: ``b.single_events_per_s`` (``single`` appends
    of one event each, median of ``repeat`` runs), ``b.batch_events_per_s``
    (one append of ``batch`` events to a new stream, median of ``repeat``
    runs), ``b.single_ms`` (median milliseconds per single append) and
    ``b.batch_vs_single`` (how many times more events per second the batch
    writes; both measured on the same store in the same run).
    """
    for name, value, low in (("single", single, 1), ("batch", batch, 1), ("repeat", repeat, 1), ("streams", streams, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    results: dict[str, float] = {"single": single, "batch": batch, "repeat": repeat}
    for backend in backends:
        with EventStore(backend=backend) as store:
            versions: dict[str, int] = {}
            pending = iter(deposits(single * (repeat + 1)))

            def single_appends() -> None:
                for i in range(single):
                    stream_id = f"Account-{i % streams}"
                    version = versions.get(stream_id, 0)
                    store.append(stream_id, [next(pending)], expected_version=version)
                    versions[stream_id] = version + 1

            single_s = timings(single_appends, repeat)
            imports = iter([(f"Import-{n}", deposits(batch, account=f"import-{n}")) for n in range(repeat + 1)])

            def batch_append() -> None:
                stream_id, events = next(imports)      # built above: only the append is timed
                store.append(stream_id, events, expected_version=NO_STREAM)

            batch_s = timings(batch_append, repeat)
            if store.stream_version("Account-0") != versions["Account-0"]:
                raise RuntimeError("the single appends did not all land; the benchmark is broken")
        single_rate = median([single / s for s in single_s])
        batch_rate = median([batch / s for s in batch_s])
        results |= {f"{backend}.single_events_per_s": single_rate, f"{backend}.single_ms": 1000 / single_rate,
                    f"{backend}.batch_events_per_s": batch_rate,
                    f"{backend}.batch_vs_single": ratio(batch_rate, single_rate)}
    return results


def on_a_big_log(events: int = 1_000_000, appends: int = 300, repeat: int = 3, streams: int = 10_000,
                 backends: Sequence[str] = ("duckdb", "sqlite")) -> dict[str, float]:
    """Median events/s of single-event appends into a log that already holds ``events`` events.

    The same appends as :func:`run`'s single ones, into the interleaved log of
    :func:`esdemo.benchmarks.reads.generate`: does an append get slower as the
    log grows? (It does wherever finding the log's head means scanning it.)
    Keys: ``b.big_log_events_per_s`` and ``b.big_log_ms`` for each backend ``b``.
    """
    from .reads import generate

    results: dict[str, float] = {"log_events": events}
    for backend in backends:
        with EventStore(backend=backend) as store:
            generate(store, events, streams)
            versions = {f"Account-{s}": events // streams for s in range(streams)}
            pending = iter(deposits(appends * (repeat + 1)))

            def single_appends() -> None:
                for i in range(appends):
                    stream_id = f"Account-{(i * 7919) % streams}"
                    store.append(stream_id, [next(pending)], expected_version=versions[stream_id])
                    versions[stream_id] += 1

            rate = median([appends / s for s in timings(single_appends, repeat)])
        results |= {f"{backend}.big_log_events_per_s": rate, f"{backend}.big_log_ms": 1000 / rate}
    return results


if __name__ == "__main__":
    numbers = run()
    print(f"Appending through store.append (in memory; median of {numbers['repeat']:.0f} runs)")
    print(f"{'backend':<8} {'single (events/s)':>18} {'ms each':>8} {'batch of ' + format(int(numbers['batch']), ','):>16} "
          f"{'ratio':>7}")
    for backend in ("duckdb", "sqlite"):
        if f"{backend}.batch_vs_single" in numbers:
            print(f"{backend:<8} {numbers[f'{backend}.single_events_per_s']:>18,.0f} {numbers[f'{backend}.single_ms']:>8.2f} "
                  f"{numbers[f'{backend}.batch_events_per_s']:>16,.0f} {numbers[f'{backend}.batch_vs_single']:>6.0f}x")
