"""Projection workers in several OS processes: one owner at a time, failover after SIGKILL,
no event applied twice or skipped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from projection_kit import Tally, expected_rows, fill, rows_of
from store_factory import new_store, require_postgres

from esdemo import EventStore
from esdemo.postgres_server import fresh_store_url
from esdemo.read.projection import ProjectionError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.projection_worker import ProjectionWorker

pytestmark = pytest.mark.slow

# A worker process: waits for "go", then works or stands by until the view reaches the head.
WORKER = textwrap.dedent(
    """
    import sys, threading, time
    from projection_kit import Tally
    from esdemo import EventStore
    from esdemo.read.projection_worker import ProjectionWorker

    store = EventStore(sys.argv[1])
    head = store.head()
    projection = Tally(on_event=lambda recorded: time.sleep(0.03))      # slow enough to be killed mid-way
    worker = ProjectionWorker(store, projection, batch_size=4, standby_interval=0.05)
    print("ready", flush=True)
    sys.stdin.readline()
    owned = False
    while True:
        if worker.try_to_own():
            if not owned:
                print("owner", flush=True)
                owned = True
            worker.runner.run_once()
            position = worker.runner.position
            print(f"at {position}", flush=True)
            if position >= head:
                print("done", flush=True)
                break
        else:
            time.sleep(0.05)
    """
)


def _start(url: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", WORKER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env=env)


def _go(child: subprocess.Popen) -> None:
    child.stdin.write("go\n")
    child.stdin.flush()


def test_a_standby_takes_over_when_the_owner_is_killed_and_applies_each_event_once():
    require_postgres()
    url = fresh_store_url(prefix="test_workers")
    with EventStore(url) as store:
        fill(store, streams=3, per_stream=12)        # 48 events, 36 of them applied (0.03 s each)
        ProjectionRunner(store, Tally(), batch_size=4)   # the view's tables exist before the workers start
        head = store.head()
    first, second = _start(url), _start(url)
    try:
        assert first.stdout.readline().strip() == "ready" and second.stdout.readline().strip() == "ready"
        _go(first)
        assert first.stdout.readline().strip() == "owner"
        _go(second)                                   # the second stands by: the first holds the lock
        while True:
            line = first.stdout.readline().strip()
            assert line.startswith("at "), line
            if int(line.split()[1]) >= 12:
                break
        first.send_signal(signal.SIGKILL)             # mid-way: its batch in flight dies with it
        first.wait(30)
        killed_at = int(line.split()[1])
        assert killed_at < head
        lines = [second.stdout.readline().strip()]
        assert lines[0] == "owner"                    # the first thing the standby reports: it took over
        while lines[-1] != "done":
            lines.append(second.stdout.readline().strip())
            assert lines[-1], "the standby died"
        positions = [int(line.split()[1]) for line in lines if line.startswith("at ")]
        assert positions[0] > killed_at and positions[-1] == head
    finally:
        for child in (first, second):
            child.kill()
            child.wait(30)
    with EventStore(url) as store:
        projection = Tally()
        runner = ProjectionRunner(store, projection)
        assert runner.position == head
        assert rows_of(projection) == expected_rows(store)   # every position exactly once, none skipped


def test_only_one_worker_owns_a_projection_and_a_release_hands_it_on():
    require_postgres()
    store = new_store("postgres")
    other = EventStore(store._backend.url)
    fill(store, streams=2, per_stream=2)
    mine, theirs = ProjectionWorker(store, Tally()), ProjectionWorker(other, Tally())
    assert mine.step() == store.head() and mine.owns()
    assert not theirs.try_to_own() and theirs.step() == 0
    assert mine.try_to_own()                          # asking again keeps it (no second lock to release)
    mine.release()
    assert not mine.owns() and theirs.try_to_own()
    fill(store, streams=2, per_stream=1, start=2)
    assert theirs.step() == 3 and mine.step() == 0
    assert rows_of(theirs.runner.projection) == expected_rows(store)
    other.close()
    store.close()


def test_run_stands_by_then_works_when_the_owner_lets_go():
    require_postgres()
    store = new_store("postgres")
    other = EventStore(store._backend.url)
    fill(store, streams=1, per_stream=3)
    owner, standby = ProjectionWorker(store, Tally()), ProjectionWorker(other, Tally(), standby_interval=0.02)
    assert owner.try_to_own()
    stop, became_owner = threading.Event(), threading.Event()
    thread = threading.Thread(target=standby.run, args=(stop,), kwargs={"on_owner": became_owner.set})
    thread.start()
    assert not became_owner.wait(0.3)
    owner.release()
    assert became_owner.wait(30)
    stop.set()
    thread.join(30)
    assert standby.runner.position == store.head()
    other.close()
    store.close()


def test_the_same_projection_over_two_stores_of_one_database_has_two_owners():
    """Advisory locks are database-wide: the key names the store's schema, so two stores do not share an owner."""
    require_postgres()
    first, second = new_store("postgres"), new_store("postgres")
    one, two = ProjectionWorker(first, Tally()), ProjectionWorker(second, Tally())
    assert one.lock_key != two.lock_key
    assert one.try_to_own() and two.try_to_own()
    one.release()
    two.release()
    first.close()
    second.close()


def test_a_worker_needs_a_postgres_store():
    with EventStore() as store, pytest.raises(ProjectionError, match="PostgreSQL"):
        ProjectionWorker(store, Tally())
