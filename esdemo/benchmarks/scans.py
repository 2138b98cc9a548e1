"""Memory of a scan of the whole log: ``read_all()`` (one list) against ``iter_all()`` (one page at a time).

Both loops count the events and sum one field, so they do the same work; the
figure is the peak of Python memory (``tracemalloc``) during the scan. With
``read_all()`` it grows with the log (every event at once); with
``iter_all()`` it is one page, whatever the log's length. Run it with
``python -m esdemo.benchmarks.scans [events]``.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from .reads import generate


def run(events: int = 1_000_000, *, page_size: int = 1_000, backends: Iterable[str] = ("duckdb", "sqlite"),
        ) -> dict[str, Any]:
    """Peak MB and seconds of a whole-log scan per backend, as one list and streamed.

    Keys: ``events``, ``page_size``, and per backend ``{b}.read_all_mb``,
    ``{b}.iter_all_mb``, ``{b}.read_all_s``, ``{b}.iter_all_s``.
    """
    numbers: dict[str, Any] = {"events": events, "page_size": page_size}
    streams = max(1, min(10_000, events // 100))
    for backend in backends:
        with EventStore(backend=backend) as store:
            generate(store, events=events, streams=streams)
            for label, scan in (("read_all", lambda: store.read_all()),
                                ("iter_all", lambda: store.iter_all(page_size=page_size))):
                megabytes, seconds = _peak(scan, events)
                numbers[f"{backend}.{label}_mb"] = megabytes
                numbers[f"{backend}.{label}_s"] = seconds
    return numbers


def _peak(scan: Callable[[], Iterable[RecordedEvent]], expected: int) -> tuple[float, float]:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        count, total = 0, 0
        for event in scan():
            count += 1
            total += event.version
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if count != expected:
        raise RuntimeError(f"the scan saw {count} events, the log holds {expected}; the benchmark is broken")
    return peak / 2**20, seconds


if __name__ == "__main__":
    figures = run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
    print(f"Scanning a {figures['events']:,}-event log (peak Python memory, tracemalloc; "
          f"pages of {figures['page_size']:,})")
    for backend in ("duckdb", "sqlite"):
        print(f"  {backend:<7} read_all(): {figures[f'{backend}.read_all_mb']:8.1f} MB in "
              f"{figures[f'{backend}.read_all_s']:6.1f} s   iter_all(): {figures[f'{backend}.iter_all_mb']:6.1f} MB in "
              f"{figures[f'{backend}.iter_all_s']:6.1f} s")
