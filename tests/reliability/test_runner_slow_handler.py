"""Issue 11, case 6: a slow projection handler must not block the writers of the log.

The runner runs handlers on a staged batch, outside any database transaction,
and then writes the view's changes and the checkpoint in one short
transaction that checks the checkpoint did not move meanwhile.
"""

from __future__ import annotations

import threading
import time

from esdemo import EventStore, NewEvent
from esdemo.read.projection import Projection
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable

SLEEP = 3.0   # generous: the assertion is "well under the handler's sleep", not a tight bound


class Seen(Projection):
    """One row per stream with the positions applied; ``pause`` makes the first call wait."""

    name = "seen"

    def __init__(self, pause=None):
        super().__init__()
        self.pause = pause

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "positions": "VARCHAR"})

    def handle(self, event, recorded, view):
        if self.pause is not None:
            pause, self.pause = self.pause, None
            pause()
        row = view.get(recorded.stream_id)
        positions = str(recorded.position) if row is None else f"{row['positions']},{recorded.position}"
        view.upsert({"stream_id": recorded.stream_id, "positions": positions})


def in_thread(target):
    errors = []

    def run():
        try:
            target()
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


def test_an_append_from_another_thread_waits_far_less_than_a_slow_handler(backend, store_file):
    entered = threading.Event()

    def slow():
        entered.set()
        time.sleep(SLEEP)

    with EventStore(store_file, backend=backend) as store:
        store.append("a", [NewEvent("Tick", {})], expected_version=0)
        runner = ProjectionRunner(store, Seen(pause=slow))
        thread, errors = in_thread(runner.catch_up)
        assert entered.wait(30), "the handler never started"
        started = time.monotonic()
        store.append("b", [NewEvent("Tick", {})], expected_version=0)
        waited = time.monotonic() - started
        thread.join(60)
        assert not errors and not thread.is_alive()
        assert waited < SLEEP / 2, f"an append waited {waited:.2f} s for a handler sleeping {SLEEP} s"
        # The slow batch committed what it read, view and checkpoint together; the next one the rest.
        assert runner.position == 1
        assert runner.projection.storage.query(order_by="stream_id") == [{"stream_id": "a", "positions": "1"}]
        assert runner.catch_up() == 1
        assert runner.projection.storage.query(order_by="stream_id") == [
            {"stream_id": "a", "positions": "1"}, {"stream_id": "b", "positions": "2"}]


def test_a_batch_whose_checkpoint_moved_while_its_handler_ran_is_thrown_away_and_run_again(backend, store_file):
    # Two runners on one view: the slow one's batch loses to the fast one's commit, and is run again,
    # so that every event is still applied exactly once.
    entered, release = threading.Event(), threading.Event()

    def wait_for_the_other():
        entered.set()
        assert release.wait(30)

    with EventStore(store_file, backend=backend) as store:
        for stream in "abc":
            store.append(stream, [NewEvent("Tick", {})], expected_version=0)
        slow = ProjectionRunner(store, Seen(pause=wait_for_the_other))
        fast = ProjectionRunner(store, Seen())
        thread, errors = in_thread(slow.catch_up)
        assert entered.wait(30)
        assert fast.catch_up() == 3
        release.set()
        thread.join(60)
        assert not errors and not thread.is_alive()
        assert slow.position == fast.position == 3
        assert fast.projection.storage.query(order_by="stream_id") == [
            {"stream_id": "a", "positions": "1"}, {"stream_id": "b", "positions": "2"},
            {"stream_id": "c", "positions": "3"}]


def test_an_append_from_another_process_waits_far_less_than_a_slow_handler(backend, store_file):
    # SQLite's write lock is the file's: another process's append was held for the handler's whole sleep.
    import subprocess
    import sys

    if backend == "duckdb":
        import pytest

        pytest.skip("a DuckDB file is opened read-write by one process at a time; the thread test covers DuckDB")
    child = (
        "import sys, time\n"
        "from esdemo import EventStore, NewEvent\n"
        f"store = EventStore(sys.argv[1], backend={backend!r})\n"
        "started = time.monotonic()\n"
        "store.append('from-child', [NewEvent('Tick', {})], expected_version=0)\n"
        "print(time.monotonic() - started)\n"
    )
    entered, release = threading.Event(), threading.Event()

    def slow():   # busy until the other process has appended (or for 10x SLEEP: then its append was held)
        entered.set()
        release.wait(SLEEP * 10)

    with EventStore(store_file, backend=backend) as store:
        store.append("a", [NewEvent("Tick", {})], expected_version=0)
        runner = ProjectionRunner(store, Seen(pause=slow))
        thread, errors = in_thread(runner.catch_up)
        assert entered.wait(30)
        try:
            result = subprocess.run([sys.executable, "-c", child, str(store_file)], capture_output=True, text=True,
                                    timeout=120)
        finally:
            release.set()
        thread.join(60)
        assert result.returncode == 0, result.stderr
        waited = float(result.stdout.strip())
        assert not errors and not thread.is_alive()
        assert waited < SLEEP / 2, f"another process's append waited {waited:.2f} s for a handler sleeping {SLEEP} s"
        assert store.head() == 2 and runner.position == 1
