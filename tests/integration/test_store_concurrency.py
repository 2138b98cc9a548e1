"""Many threads, one store: optimistic concurrency, no lost or duplicated events,
gapless positions that a follower can trust."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter

import pytest
from store_factory import new_store

from esdemo import ConflictError, EventStore, NewEvent

THREADS = 8


def run_in_threads(target, count: int = THREADS) -> list:
    """Start ``count`` threads on ``target(i)`` at the same moment; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = target(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture(params=["one shared store", "two stores on one file"])
def two_handles(request, backend, store_file):
    """Either one store object used by every thread, or two objects on the same file."""
    if request.param == "one shared store":
        store = new_store(backend)
        yield store, store
        store.close()
    else:
        first = EventStore(store_file, backend=backend)
        second = EventStore(store_file, backend=backend)
        yield first, second
        first.close()
        second.close()


def test_racing_writers_on_one_stream_exactly_one_wins(two_handles):
    handles = two_handles
    handles[0].append("Order-12345", [NewEvent("OrderCreated", {})], expected_version=0)

    def write(i: int):
        return handles[i % 2].append("Order-12345", [NewEvent("ItemAdded", {"by": i})], expected_version=1)

    results = run_in_threads(write)
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    assert all(isinstance(r, ConflictError) and r.actual == 2 for r in losers), losers
    events = handles[0].read("Order-12345")
    assert [e.version for e in events] == [1, 2] and handles[0].head() == 2


def test_writers_on_different_streams_never_conflict_and_nothing_is_lost(two_handles):
    handles = two_handles
    per_thread = 25

    def write(i: int):
        stream = f"Account-{i}"
        for n in range(per_thread):
            handles[i % 2].append(stream, [NewEvent("Deposited", {"n": n, "t": i})], expected_version=n)
        return stream

    results = run_in_threads(write)
    assert not [r for r in results if isinstance(r, Exception)], results
    everything = handles[0].read_all()
    assert [e.position for e in everything] == list(range(1, THREADS * per_thread + 1))
    assert Counter(e.event_id for e in everything).most_common(1)[0][1] == 1
    for i in range(THREADS):
        assert [e.data["n"] for e in handles[0].read(f"Account-{i}")] == list(range(per_thread))


def test_a_follower_never_skips_an_event_that_commits_late(backend):
    """A reader that asks for 'everything after the last position I saw' must see every event:
    positions are handed out in commit order, so a late commit never lands behind the reader."""
    store = new_store(backend)
    writers, per_writer = 4, 40
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        last = 0
        while True:
            finished = done.is_set()
            batch = store.read_all(from_position=last + 1)
            for event in batch:
                seen.append(event.position)
                last = event.position
            if finished and not batch:
                return

    follower = threading.Thread(target=follow)
    follower.start()
    run_in_threads(lambda i: [store.append(f"s{i}", [NewEvent("E", {}), NewEvent("E", {})], expected_version=2 * n)
                              for n in range(per_writer)], count=writers)
    done.set()
    follower.join(timeout=60)
    assert seen == list(range(1, writers * per_writer * 2 + 1))
    store.close()


class PauseBeforeCommit:
    """Wraps a DB cursor so that one thread stops just before its COMMIT."""

    def __init__(self, cursor, thread_name: str, reached: threading.Event, release: threading.Event):
        self._cursor, self._thread_name, self._reached, self._release = cursor, thread_name, reached, release

    def execute(self, sql, *args):
        if sql == "COMMIT" and threading.current_thread().name == self._thread_name:
            self._reached.set()
            self._release.wait(timeout=1.0)  # SQLite: B waits on our write lock, so we go on alone
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_the_loser_of_a_commit_race_gets_conflict_error(backend, monkeypatch):
    """Writer A has written everything but not committed when writer B appends to the same stream.

    DuckDB lets B commit and refuses A at COMMIT with a TransactionException;
    SQLite makes B wait for A's write lock, then B finds the stream moved. Either
    way exactly one wins and the other gets ConflictError, never a raw database error."""
    store = new_store(backend)
    real_cursor = store._backend.cursor
    a_at_commit, b_finished = threading.Event(), threading.Event()

    @contextlib.contextmanager
    def pausing_cursor():
        with real_cursor() as cur:
            yield PauseBeforeCommit(cur, "writer-A", a_at_commit, b_finished)

    monkeypatch.setattr(store._backend, "cursor", pausing_cursor)
    outcome: dict = {}

    def append(name: str) -> None:
        try:
            outcome[name] = store.append("Order-12345", [NewEvent("ItemAdded", {"by": name})], expected_version=0)
        except Exception as exc:
            outcome[name] = exc

    a = threading.Thread(target=append, args=("A",), name="writer-A")
    a.start()
    assert a_at_commit.wait(timeout=10)
    b = threading.Thread(target=append, args=("B",), name="writer-B")
    b.start()
    b.join(timeout=30 if backend == "duckdb" else 0.3)
    b_finished.set()
    a.join(timeout=30)
    b.join(timeout=30)

    conflicts = [name for name, r in outcome.items() if isinstance(r, ConflictError)]
    winners = [name for name, r in outcome.items() if not isinstance(r, Exception)]
    assert len(conflicts) == 1 and len(winners) == 1, outcome
    (stored,) = store.read("Order-12345")
    assert stored.data["by"] == winners[0]
    if backend == "duckdb":
        assert winners == ["B"], "DuckDB lets B commit first and refuses A at COMMIT"
    else:
        assert winners == ["A"], "SQLite's write lock makes B wait for A"
    store.close()


def test_one_store_is_safe_for_mixed_readers_and_writers(store):
    def work(i: int):
        if i % 2:
            for n in range(30):
                store.append(f"w{i}", [NewEvent("E", {"n": n})], expected_version=n)
        else:
            for _ in range(30):
                events = store.read_all()
                assert [e.position for e in events] == list(range(1, len(events) + 1))
        return i

    results = run_in_threads(work)
    assert results == list(range(THREADS))
    assert store.head() == (THREADS // 2) * 30


def _register_blocking_function(connection, backend: str, release: threading.Event, entered: threading.Event) -> None:
    """A SQL function esdemo_block() that holds its query until ``release`` is set."""
    def block():
        entered.set()
        release.wait(30)
        return 1

    if backend == "duckdb":
        from duckdb import sqltypes

        connection.create_function("esdemo_block", block, [], sqltypes.INTEGER)
    elif backend == "sqlite":
        connection.create_function("esdemo_block", 0, block)
    else:   # PostgreSQL runs no Python: the query waits for an advisory lock a second connection holds until release
        import psycopg

        holder = psycopg.connect(connection.connection.info.dsn, autocommit=True)
        holder.execute("SELECT pg_advisory_lock(4242)")
        connection.execute("CREATE FUNCTION esdemo_block() RETURNS int LANGUAGE sql "
                           "AS 'SELECT 1 FROM pg_advisory_lock(4242)'")

        def hold() -> None:
            while not holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                     "AND objid = 4242 AND NOT granted").fetchone()[0]:
                time.sleep(0.01)
            block()
            holder.close()   # releases the lock: the blocked query returns

        threading.Thread(target=hold, daemon=True).start()


def test_close_while_another_thread_is_running_a_query_waits_for_it_and_releases_everything(backend, store_file):
    """DuckDB refuses to close a connection in the middle of a call ("connection is busy"); close() used
    to pass that error on, half-way: the store said closed, the file stayed open for good."""
    store = EventStore(store_file, backend=backend)
    store.append("a", [NewEvent("E", {})], expected_version=0)
    entered, release, cursors = threading.Event(), threading.Event(), []

    def query_in_flight() -> None:
        cursors.append(store.connection)
        _register_blocking_function(cursors[0], backend, release, entered)
        with contextlib.suppress(Exception):   # its result may come back after the close: not the point here
            store.query("SELECT esdemo_block()")

    reader = threading.Thread(target=query_in_flight)
    reader.start()
    assert entered.wait(10)
    closing_errors: list[BaseException] = []

    def close() -> None:
        try:
            store.close()
        except BaseException as exc:  # asserted on below
            closing_errors.append(exc)

    closer = threading.Thread(target=close)
    closer.start()
    closer.join(timeout=1)            # still waiting for the query, or (the bug) already failed
    release.set()
    closer.join(timeout=30)
    reader.join(timeout=30)
    assert not closer.is_alive() and closing_errors == []
    with pytest.raises(Exception, match="(?i)closed"):
        cursors[0].execute("SELECT 1")      # the reader's connection was closed too
    with EventStore(store_file, backend=backend) as again:
        assert again.head() == 1


def test_duckdb_closes_the_cursor_of_a_thread_that_has_ended():
    """DuckDB gives each thread its own cursor (a connection of its own). Each runner.start(), each
    worker thread used to leave one behind, open until the store closed: a leak that grew with every
    thread. A finished thread's cursor is closed when the next thread opens one.
    (SQLite: one connection serves every thread, nothing per thread to release.)"""
    with EventStore() as store:
        store.append("a", [NewEvent("E", {})], expected_version=0)
        held = []

        def use_the_store() -> None:
            held.append(store.connection)
            assert store.head() == 1

        for _ in range(4):
            thread = threading.Thread(target=use_the_store)
            thread.start()
            thread.join(timeout=30)
        for cursor in held[:-1]:
            with pytest.raises(Exception, match="(?i)closed"):
                cursor.execute("SELECT 1")
        assert held[-1].execute("SELECT count(*) FROM events").fetchall() == [(1,)]   # not yet replaced
        assert store.read_all()[0].position == 1 and store.head() == 1              # the main thread's still works
