"""Scrubbing the time-travel debugger: one step on a 10,000-event log, and on a big log with checkpoints.

The debugger replays the three order views and every ``Order`` into memory
(:class:`~esdemo.read.time_travel.TimeTravel`). Measured here: building the
checkpoints (one pass over the log), the memory they take, a *scrub* (a jump
to a random position: checkpoint below it + at most ``every`` events), and a
*step* (one position forward from where it is). Run it with::

    python -m esdemo.benchmarks.time_travel                # 10,000 and 1,000,000 events
    python -m esdemo.benchmarks.time_travel 10000 100000   # a quicker look

The logs are the rebuild benchmark's generated orders (DuckDB), exactly what the domain writes.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from typing import Any

from ..examples.order_views import CustomerOrders, OrderAnalytics, OrderSummary
from ..examples.orders import Order
from ..read.time_travel import TimeTravel
from ..store.event_store import EventStore
from ..write.domain import default_registry
from .rebuild import generate


def run(events: int = 10_000, *, every: int = 500, scrubs: int = 30, steps: int = 100, seed: int = 7) -> dict[str, Any]:
    """Time scrubs and steps over a generated log of ``events`` order events, checkpoints every ``every``.

    Keys: ``events``, ``every``, ``build_s`` (the first pass, building every
    checkpoint), ``memory_mib`` (resident memory the checkpoints added, ``None``
    where it cannot be read), ``scrub_ms`` (median of ``scrubs`` jumps to
    random positions), ``step_ms`` (median of ``steps`` steps forward),
    ``checkpoints``.
    """
    rng = random.Random(seed)
    with EventStore() as store:
        head = generate(store, events)
        debugger = TimeTravel(store, projections=[OrderSummary(), CustomerOrders(), OrderAnalytics()],
                              aggregates=[Order], decoder=default_registry, checkpoint_every=every, lag=False)
        gc.collect()
        before = _resident_mib()
        started = time.perf_counter()
        debugger.at(head)
        build = time.perf_counter() - started
        gc.collect()
        after = _resident_mib()
        scrub = []
        for position in [rng.randint(1, head) for _ in range(scrubs)]:
            started = time.perf_counter()
            debugger.at(position)
            scrub.append(time.perf_counter() - started)
        start = rng.randint(1, max(1, head - steps))
        debugger.at(start)
        step = []
        for position in range(start + 1, min(head, start + steps) + 1):
            started = time.perf_counter()
            debugger.at(position)
            step.append(time.perf_counter() - started)
        checkpoints = len(debugger.checkpoints)
    return {"events": head, "every": every, "build_s": build, "checkpoints": checkpoints,
            "memory_mib": None if before is None or after is None else max(0.0, after - before),
            "scrub_ms": statistics.median(scrub) * 1000, "step_ms": statistics.median(step) * 1000}


def _resident_mib() -> float | None:
    """This process's resident memory in MiB (Linux), or ``None``."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


if __name__ == "__main__":
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 1_000_000]
    for size in sizes:
        n = run(size)
        memory = "?" if n["memory_mib"] is None else f"{n['memory_mib']:.0f} MiB"
        print(f"{n['events']:>9,} events: checkpoints every {n['every']} built in {n['build_s']:.1f} s ({memory}); "
              f"scrub {n['scrub_ms']:.1f} ms, step {n['step_ms']:.2f} ms")
