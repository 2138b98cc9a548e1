"""PostgreSQL: appends from several OS processes, and how fast a live reader hears of them.

    python -m esdemo.benchmarks.postgres

* :func:`process_appends`: ``processes`` OS processes each append ``appends``
  single events (expected version, a stream each) to one store at once;
  events/s for all of them together. PostgreSQL takes every process; an SQLite
  file queues them at its write lock; a DuckDB file admits one process only,
  so it is measured with one.
* :func:`notify_latency`: a live subscription on one store object, appends
  through another (as from another process): the time from the start of the
  append to the handler's call. The subscription polls only every 30 s, so
  anything faster is LISTEN/NOTIFY's doing.

Both use a throwaway server (:mod:`esdemo.postgres_server`) unless
``ESDEMO_POSTGRES_URL`` is set, and print nothing unless asked: the numbers
are returned.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from ..store.event_store import EventStore
from ..store.events import NewEvent

_WRITER = textwrap.dedent(
    """
    import sys, time
    from esdemo import EventStore, NewEvent
    location, backend, me, appends = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = EventStore(location, backend=backend)
    events = [NewEvent("Deposited", {"n": n}) for n in range(appends)]
    print("ready", flush=True)
    sys.stdin.readline()
    for n, event in enumerate(events):
        store.append(f"w{me}", [event], expected_version=n)
    store.close()
    print("done", flush=True)
    """
)


def process_appends(backend: str, processes: int, appends: int = 200, location: str | None = None) -> float:
    """Events/s when ``processes`` OS processes append single events to one store at once."""
    with tempfile.TemporaryDirectory() as folder:
        if location is None:
            if backend == "postgres":
                from ..postgres_server import fresh_store_url

                location = fresh_store_url(prefix="bench")
            else:
                location = str(Path(folder) / f"bench.{backend}")
        EventStore(location, backend=backend).close()   # tables exist before the race
        children = [subprocess.Popen([sys.executable, "-c", _WRITER, location, backend, str(p), str(appends)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    for p in range(processes)]
        try:
            for child in children:
                if child.stdout.readline().strip() != "ready":
                    raise RuntimeError(f"a {backend} writer process failed to start")
            started = time.perf_counter()
            for child in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            for child in children:
                if child.stdout.readline().strip() != "done":
                    raise RuntimeError(f"a {backend} writer process failed")
            seconds = time.perf_counter() - started
        finally:
            for child in children:
                child.kill()
                child.wait()
    return processes * appends / seconds


def notify_latency(url: str | None = None, samples: int = 20) -> dict[str, float]:
    """Append-to-handler latency of a live subscription in ms: ``median``, ``p95``, ``max``; and ``notifications``."""
    if url is None:
        from ..postgres_server import fresh_store_url

        url = fresh_store_url(prefix="bench")
    arrived: dict[int, float] = {}
    got = threading.Event()

    def handler(event) -> None:
        arrived[event.position] = time.perf_counter()
        got.set()

    latencies = []
    with EventStore(url) as reader, EventStore(url) as writer:
        subscription = reader.subscribe(handler).start(interval=30)
        try:
            if not reader._backend.listening.wait(60):
                raise RuntimeError("the live subscription did not start listening within 60 s")
            for n in range(samples):
                got.clear()
                started = time.perf_counter()
                result = writer.append("pings", [NewEvent("Ping", {"n": n})], expected_version=n)
                if not got.wait(60):
                    raise RuntimeError("the live subscription heard nothing within 60 s")
                latencies.append((arrived[result.position] - started) * 1000)
        finally:
            subscription.stop()
        notifications = reader._backend.notifications
    latencies.sort()
    return {"median": statistics.median(latencies), "p95": latencies[int(0.95 * (len(latencies) - 1))],
            "max": latencies[-1], "notifications": notifications}


def run(processes: tuple[int, ...] = (1, 2, 4), appends: int = 200, samples: int = 20) -> dict[str, float]:
    """Every number of this module: ``{backend}.{n}p_events_per_s`` and ``notify_{median,p95,max}_ms``."""
    results: dict[str, float] = {}
    for backend in ("postgres", "sqlite", "duckdb"):
        for count in processes if backend != "duckdb" else (1,):
            results[f"{backend}.{count}p_events_per_s"] = process_appends(backend, count, appends)
    latency = notify_latency(samples=samples)
    results.update({f"notify_{key}_ms": value for key, value in latency.items() if key != "notifications"})
    return results


if __name__ == "__main__":  # pragma: no cover - a manual run
    for key, value in run().items():
        print(f"{key:<32} {value:>12,.1f}")
