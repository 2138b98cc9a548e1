"""The production notebook's experiments on a PostgreSQL server: racing writer processes, LISTEN/NOTIFY
latency, and a projection worker killed with SIGKILL while a standby waits (a teaching helper).

Each function starts real OS processes (or connections) against a store URL
(:func:`esdemo.postgres_server.fresh_store_url`) and returns a report whose
*verdicts* are the same on every run (counts, sorted lists, yes/no), kept apart
from what depends on the machine (timings, how often processes collided, where
the kill landed), so a notebook can print the first and hide the second::

    report = race_writers(fresh_store_url())
    print(report.verdicts())          # reproducible
    print(report.seconds, report.conflicts)   # not
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .read.projection import Projection
from .read.projection_runner import ProjectionRunner
from .read.sql_views import SqlTable
from .store.event_store import EventStore
from .store.events import NewEvent

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


def _child_env() -> dict[str, str]:
    """The environment of a child process: it imports this very copy of esdemo."""
    paths = [_PACKAGE_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _spawn(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=_child_env())


def _go(children: list[subprocess.Popen]) -> None:
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()


# --------------------------------------------------------------------------------------------- writers
_WRITER = textwrap.dedent(
    """
    import json, sys, uuid
    from esdemo import ConflictError, EventStore, NewEvent
    url, me, batches, batch, increments, shared = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:7])
    store = EventStore(url)
    print("ready", flush=True)
    sys.stdin.readline()                                   # every process starts at the same moment
    conflicts = 0
    for b in range(batches):                               # atomic batches on a stream of my own ...
        store.append(f"own-{me}", [NewEvent("Tick", {"p": me, "b": b, "i": i}) for i in range(batch)],
                     expected_version=b * batch)
        for k in range(increments * b // batches, increments * (b + 1) // batches):
            while True:                                    # ... a counter all processes increment ...
                version = store.stream_version("counter")
                try:
                    store.append("counter", [NewEvent("Incremented", {"p": me, "seen": version})],
                                 expected_version=version)
                    break
                except ConflictError:
                    conflicts += 1                         # someone was faster: read again, retry
        if b < shared:                                     # ... and batches every process sends with the same ids
            ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"shared-{b}-{i}") for i in range(batch)]
            store.append(f"shared-{b}", [NewEvent("Shared", {"b": b, "i": i}, event_id=ids[i]) for i in range(batch)],
                         expected_version=0)
    store.close()
    print(json.dumps({"conflicts": conflicts}), flush=True)
    """
)


@dataclass
class RaceReport:
    """What four (or ``processes``) writers left in the store; :meth:`verdicts` is reproducible."""

    processes: int
    events: int
    expected_events: int
    events_per_stream: dict[str, int]
    positions_gapless: bool
    counter_versions_unique: bool
    batches_contiguous: bool
    shared_batches_written_once: bool
    conflicts: int = 0
    seconds: float = 0.0

    def verdicts(self) -> dict[str, Any]:
        """Everything but the timing and the number of conflicts (which depend on the scheduler)."""
        return {"processes": self.processes, "events": self.events, "expected": self.expected_events,
                "positions 1..N without a gap": self.positions_gapless,
                "each counter version taken once": self.counter_versions_unique,
                "each batch in consecutive positions": self.batches_contiguous,
                "each shared batch stored once": self.shared_batches_written_once}


def race_writers(url: str, processes: int = 4, *, batches: int = 10, batch: int = 3, increments: int = 8,
                 shared: int = 4, timeout: float = 120) -> RaceReport:
    """Start ``processes`` writer processes on ``url`` at once and check what they left.

    Each appends ``batches`` atomic batches of ``batch`` events to a stream of its own
    (expected version), increments a shared ``counter`` stream ``increments`` times
    (read the version, append with it, retry on ConflictError), and sends the
    first ``shared`` batches of the ``shared-N`` streams with the *same* event ids
    as every other process (idempotent ids: stored once).
    """
    EventStore(url).close()   # the tables exist before the race starts
    children = [_spawn(_WRITER, url, str(p), str(batches), str(batch), str(increments), str(shared))
                for p in range(processes)]
    conflicts = 0
    try:
        for child in children:
            if child.stdout.readline().strip() != "ready":
                raise RuntimeError("a writer process failed to start")
        started = time.perf_counter()
        _go(children)
        for child in children:
            out, _ = child.communicate(timeout=timeout)
            if child.returncode != 0:
                raise RuntimeError(f"a writer process failed (exit code {child.returncode})")
            conflicts += json.loads(out.strip().splitlines()[-1])["conflicts"]
        seconds = time.perf_counter() - started
    finally:
        for child in children:
            child.kill()
            child.wait()
    with EventStore(url) as store:
        events = store.read_all()
    per_stream = Counter(event.stream_id for event in events)
    positions = [event.position for event in events]
    seen = [event.data["seen"] for event in events if event.stream_id == "counter"]
    by_batch: dict[tuple[str, int], list[int]] = {}
    for event in events:
        if event.type == "Tick":
            by_batch.setdefault((event.stream_id, event.data["b"]), []).append(event.position)
    contiguous = all(sorted(p) == list(range(min(p), min(p) + batch)) for p in by_batch.values())
    shared_once = all(per_stream.get(f"shared-{b}") == batch for b in range(shared))
    return RaceReport(
        processes=processes, events=len(events),
        expected_events=processes * (batches * batch + increments) + shared * batch,
        events_per_stream=dict(sorted(per_stream.items())),
        positions_gapless=positions == list(range(1, len(events) + 1)),
        counter_versions_unique=sorted(seen) == list(range(processes * increments)),
        batches_contiguous=contiguous and len(by_batch) == processes * batches,
        shared_batches_written_once=shared_once, conflicts=conflicts, seconds=seconds)


# --------------------------------------------------------------------------------------------- notify
def notify_latencies(url: str, samples: int = 30, poll_interval: float = 30.0) -> list[float]:
    """Milliseconds from the start of each append (on one store object) to a live subscriber's handler
    (on another). The subscription polls only every ``poll_interval`` s: faster means LISTEN/NOTIFY woke it."""
    arrived: dict[int, float] = {}
    got = threading.Event()

    def handler(event: Any) -> None:
        arrived[event.position] = time.perf_counter()
        got.set()

    latencies = []
    with EventStore(url) as reader, EventStore(url) as writer:
        subscription = reader.subscribe(handler).start(interval=poll_interval)
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
    return latencies


# --------------------------------------------------------------------------------------------- failover
class PositionLog(Projection):
    """One row per event it applies: ``position``, ``stream_id``, and which ``worker`` applied it.

    ``insert`` refuses a key twice, so an event applied twice would stop the
    view with an error; a skipped event is a missing position.
    """

    name = "position_log"

    def __init__(self, storage: Any = None, *, worker: str = "", delay: float = 0.0):
        super().__init__(storage)
        self.worker, self.delay = worker, delay

    def default_storage(self) -> SqlTable:
        return SqlTable(key="position", columns={"position": "BIGINT", "stream_id": "VARCHAR", "worker": "VARCHAR"})

    def handle(self, event: Any, recorded: Any, view: Any) -> None:
        if self.delay:
            time.sleep(self.delay)   # slow enough for the lesson to kill it mid-way
        view.insert({"position": recorded.position, "stream_id": recorded.stream_id, "worker": self.worker})


_WORKER = textwrap.dedent(
    """
    import sys, time
    from esdemo import EventStore
    from esdemo.production_demo import PositionLog
    from esdemo.read.projection_worker import ProjectionWorker
    url, name, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = EventStore(url)
    head = store.head()
    worker = ProjectionWorker(store, PositionLog(worker=name, delay=delay), batch_size=4, standby_interval=0.05)
    print("ready", flush=True)
    sys.stdin.readline()
    owned = False
    while True:
        if worker.try_to_own():
            if not owned:
                print("owner", flush=True)
                owned = True
            worker.runner.run_once()
            print(f"at {worker.runner.position}", flush=True)
            if worker.runner.position >= head:
                print("done", flush=True)
                break
        else:
            time.sleep(0.05)
    """
)


@dataclass
class FailoverReport:
    """What the view holds after the owner was killed and the standby finished; :meth:`verdicts` is reproducible."""

    head: int
    rows: int
    missing: list[int]
    checkpoint: int
    first_owner: str
    took_over: str
    killed_at: int = 0
    applied_by: dict[str, int] = field(default_factory=dict)

    def verdicts(self) -> dict[str, Any]:
        return {"events in the log": self.head, "rows in the view": self.rows, "missing positions": self.missing,
                "checkpoint": self.checkpoint, "first owner": self.first_owner, "took over": self.took_over}


def kill_owner_and_fail_over(url: str, *, kill_after: int = 12, delay: float = 0.03,
                             timeout: float = 120) -> FailoverReport:
    """Two worker processes for :class:`PositionLog` on ``url``: ``first`` owns it, ``second`` stands by.

    Once ``first`` reports a checkpoint at or past ``kill_after``, it gets SIGKILL
    (its batch in flight dies with it); ``second`` takes the advisory lock and
    finishes from the checkpoint. The store must already hold the events.
    """
    with EventStore(url) as store:
        ProjectionRunner(store, PositionLog())   # the view's tables exist before the workers start
        head = store.head()
    first, second = _spawn(_WORKER, url, "first", str(delay)), _spawn(_WORKER, url, "second", str(delay))
    killed_at = 0
    timed_out = threading.Event()

    def give_up() -> None:   # a blocked readline() returns "" once its process is killed
        timed_out.set()
        for child in (first, second):
            child.kill()

    watchdog = threading.Timer(timeout, give_up)
    watchdog.daemon = True
    watchdog.start()

    def line_of(child: subprocess.Popen) -> str:
        line = child.stdout.readline().strip()
        if timed_out.is_set():
            raise TimeoutError(f"the failover demo took longer than {timeout} s: is another connection holding the "
                               "projection's advisory lock? (locks are per database, not per schema)")
        if not line:
            raise RuntimeError("a worker process died unexpectedly")
        return line

    try:
        if line_of(first) != "ready" or line_of(second) != "ready":
            raise RuntimeError("a worker process failed to start")
        _go([first])
        first_owner = "first" if line_of(first) == "owner" else "?"
        _go([second])                                   # it stands by: first holds the lock
        while True:
            line = line_of(first)
            if line == "done":
                break
            killed_at = int(line.split()[1])
            if killed_at >= kill_after:
                break
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        took_over = "second" if line_of(second) == "owner" else "?"
        while line_of(second) != "done":
            pass
    finally:
        watchdog.cancel()
        for child in (first, second):
            child.kill()
            child.wait(30)
    with EventStore(url) as store:
        projection = PositionLog()
        checkpoint = ProjectionRunner(store, projection).position
        rows = projection.storage.rows()
        positions = sorted(int(row["position"]) for row in rows)
        expected = sorted(event.position for event in store.read_all())
    return FailoverReport(head=head, rows=len(rows), missing=sorted(set(expected) - set(positions)),
                          checkpoint=checkpoint, first_owner=first_owner, took_over=took_over, killed_at=killed_at,
                          applied_by=dict(sorted(Counter(str(row["worker"]) for row in rows).items())))
