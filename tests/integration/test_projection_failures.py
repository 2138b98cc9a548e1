"""Failure handling for projections (issue 12): stop, retry with backoff, park and replay.

Every test runs on both backends and on a SQL table and an in-memory view.
Backoffs are measured with a FakeClock: nothing sleeps.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from store_factory import new_store

from esdemo import EventStore, FakeClock, NewEvent
from esdemo.read.failure_policy import FailurePolicy, ParkedEvent
from esdemo.read.memory_views import Documents
from esdemo.read.projection import Projection, ProjectionError, ProjectionHandlerError, TooManyParkedError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


class Totals(Projection):
    """Sums ``n`` per stream; events whose position is in ``poison`` make the handler raise."""

    name = "totals"

    def __init__(self, storage=None, poison=(), *, fail_times=None):
        super().__init__(storage)
        self.poison = set(poison)
        self.fail_times = fail_times    # None: poison events always fail; k: only the first k calls each
        self.calls: dict[int, int] = {}

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "total": "INTEGER", "positions": "VARCHAR"})

    def handle(self, event, recorded, view):
        calls = self.calls[recorded.position] = self.calls.get(recorded.position, 0) + 1
        if recorded.position in self.poison and (self.fail_times is None or calls <= self.fail_times):
            raise ValueError(f"cannot handle n={recorded.data['n']}")
        row = view.get(recorded.stream_id)
        if row is None:
            view.insert({"stream_id": recorded.stream_id, "total": recorded.data["n"], "positions": str(recorded.position)})
        else:
            view.update(recorded.stream_id, total=row["total"] + recorded.data["n"],
                        positions=f"{row['positions']},{recorded.position}")


@pytest.fixture(params=["sql", "documents"])
def storage_kind(request):
    return request.param


@pytest.fixture
def setup(backend, storage_kind):
    clock = FakeClock(T0, step=timedelta(seconds=1))
    store = new_store(backend, clock=clock)
    for i in range(1, 7):   # positions 1..6, streams a, b, a, b, a, b
        store.append("ab"[(i - 1) % 2], [NewEvent("Added", {"n": i})], expected_version=(i - 1) // 2)

    def make(policy, poison=(), **kwargs):
        storage = None if storage_kind == "sql" else Documents(key="stream_id")
        projection = Totals(storage, poison, **kwargs)
        return ProjectionRunner(store, projection, policy=policy, clock=clock.peek)

    yield store, clock, make
    store.close()


def rows(runner):
    storage = runner.projection.storage
    found = storage.query(order_by="stream_id") if isinstance(storage, SqlTable) else storage.all()
    return {row["stream_id"]: (row["total"], row["positions"]) for row in found}


def test_the_default_policy_stops_at_the_first_failure_as_before(setup):
    store, clock, make = setup
    runner = make(None, poison={3})
    with pytest.raises(ProjectionHandlerError, match="position 3") as caught:
        runner.catch_up()
    assert caught.value.recorded.position == 3 and isinstance(caught.value.__cause__, ValueError)
    assert runner.position == 0 and runner.parked() == []
    assert runner.health().state == "stopped"
    runner.projection.poison.clear()                  # fix, run again
    assert runner.catch_up() == 6 and runner.health().ok


def test_a_transient_failure_is_retried_after_the_backoff_without_sleeping(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.retry(3, backoff=10), poison={3}, fail_times=2)
    started = time.monotonic()
    assert runner.catch_up() == 2                       # fails at 3: what came before it is committed
    assert runner.position == 2 and rows(runner) == {"a": (1, "1"), "b": (2, "2")}
    health = runner.health()
    assert (health.state, health.failing_position, health.attempts, health.next_try_in) == ("retrying", 3, 1, 10.0)
    assert health.lag.events == 4
    assert runner.catch_up() == 0 and runner.projection.calls[3] == 1    # not due yet: not even tried
    clock.advance(seconds=10)
    assert runner.catch_up() == 0 and runner.projection.calls[3] == 2    # second failure, backoff doubles
    health = runner.health()
    assert (health.attempts, health.next_try_in, health.stuck_seconds) == (2, 20.0, 10.0)
    assert "retrying at position 3" in str(health)
    clock.advance(seconds=20)
    assert runner.catch_up() == 4                       # third try works
    assert runner.health().ok and runner.parked() == []
    assert rows(runner) == {"a": (9, "1,3,5"), "b": (12, "2,4,6")}
    assert time.monotonic() - started < 30              # no real backoff was slept (a loose bound)


def test_retry_then_stop_gives_up_after_its_attempts_and_says_so(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.retry(2, backoff=1), poison={4})
    assert runner.catch_up() == 3
    clock.advance(seconds=5)
    assert runner.catch_up() == 0
    clock.advance(seconds=5)
    with pytest.raises(ProjectionHandlerError, match="gave up after 3 attempts"):
        runner.catch_up()
    health = runner.health()
    assert health.state == "stopped" and health.attempts == 3 and runner.position == 3


def test_a_poison_event_is_parked_after_its_retries_and_the_rest_goes_on(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.parking(retries=1, backoff=5), poison={3})
    assert runner.catch_up() == 2
    clock.advance(seconds=5)
    parked_at = clock.peek()
    assert runner.catch_up() == 4                       # second failure: parked, and the batch goes on
    assert runner.position == 6
    assert rows(runner) == {"a": (6, "1,5"), "b": (12, "2,4,6")}
    (parked,) = runner.parked()
    event = store.read_all(3, 1)[0]
    assert parked == ParkedEvent("totals", 3, "a", str(event.event_id), "Added", "ValueError", "cannot handle n=3",
                                 2, parked_at)
    assert runner.parked_event(3).data == {"n": 3}      # inspect it
    health = runner.health()
    assert health.ok and health.parked == 1 and "1 parked event" in str(health)


def test_replay_after_the_fix_applies_each_parked_event_once_in_order(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.parking(retries=0), poison={3, 4, 5})
    assert runner.catch_up() == 6
    assert [p.position for p in runner.parked()] == [3, 4, 5]
    runner.projection.poison = {5}                      # fix for 3 and 4 only
    with pytest.raises(ProjectionHandlerError, match="position 5"):
        runner.replay_parked()
    assert [p.position for p in runner.parked()] == [5]  # 3 and 4 replayed (in order), 5 still parked
    assert rows(runner) == {"a": (4, "1,3"), "b": (12, "2,6,4")}
    runner.projection.poison.clear()
    assert runner.replay_parked() == 1
    assert runner.replay_parked() == 0                  # exactly once
    assert rows(runner) == {"a": (9, "1,3,5"), "b": (12, "2,6,4")}
    history = runner.parked(include_replayed=True)
    assert [p.position for p in history] == [3, 4, 5] and all(p.replayed_at is not None for p in history)
    assert runner.position == 6                         # replays do not move the checkpoint


def test_a_view_that_parks_more_than_its_ceiling_stops_and_says_why(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.parking(retries=0, max_parked=1), poison={2, 5})
    with pytest.raises(TooManyParkedError, match="ceiling") as caught:
        runner.catch_up()
    assert "max_parked" in str(caught.value)
    # Everything before the event over the ceiling is committed, the first poison event parked.
    assert runner.position == 4
    assert [p.position for p in runner.parked()] == [2]
    assert rows(runner) == {"a": (4, "1,3"), "b": (4, "4")}
    health = runner.health()
    assert health.state == "stopped" and health.failing_position == 5 and "ceiling" in str(health)
    with pytest.raises(TooManyParkedError):             # still over the ceiling: stops again, never parks it
        runner.catch_up()
    runner.projection.poison.clear()                    # the fix: then replay and go on
    assert runner.replay_parked() == 1
    assert runner.catch_up() == 2
    assert runner.health().ok and rows(runner) == {"a": (9, "1,3,5"), "b": (12, "4,2,6")}


def test_a_live_runner_parks_and_keeps_following_the_log(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.parking(retries=0), poison={2})
    with runner.start(interval=0.01):
        runner.wait_for(6, timeout=30)
        store.append("c", [NewEvent("Added", {"n": 7})], expected_version=0)
        runner.wait_for(7, timeout=30)
    assert [p.position for p in runner.parked()] == [2]
    assert runner.error is None


def test_bad_policies_are_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="retries"):
        FailurePolicy.retry(-1)
    with pytest.raises(ValueError, match="park=True"):
        FailurePolicy(max_parked=3)
    with pytest.raises(ValueError, match="backoff"):
        FailurePolicy.parking(backoff=float("nan"))
    with EventStore() as store, pytest.raises(TypeError, match="FailurePolicy"):
        ProjectionRunner(store, Totals(), policy="park")
    assert isinstance(ProjectionHandlerError("x", None), ProjectionError)
    assert str(FailurePolicy.parking(3, max_parked=5)) == "retry 3 times (backoff 1 s x2), then park, stop beyond 5 parked"


def test_wait_for_says_which_event_keeps_failing(setup):
    from esdemo.read.projection import ProjectionTimeoutError

    store, clock, make = setup
    runner = make(FailurePolicy.retry(5, backoff=60), poison={2})
    assert runner.catch_up() == 1
    with pytest.raises(ProjectionTimeoutError, match="position 2 keeps failing"):
        runner.wait_for(6, timeout=0.05)


def test_two_runners_replaying_the_same_parked_event_apply_it_once(backend):
    import threading

    clock = FakeClock(T0, step=timedelta(seconds=1))
    with new_store(backend, clock=clock) as store:
        for i in range(1, 4):
            store.append("a", [NewEvent("Added", {"n": i})], expected_version=i - 1)
        first = ProjectionRunner(store, Totals(poison={2}), policy=FailurePolicy.parking(retries=0), clock=clock.peek)
        assert first.catch_up() == 3
        first.projection.poison.clear()
        entered, release = threading.Event(), threading.Event()

        class Paused(Totals):
            def handle(self, event, recorded, view):
                if not entered.is_set():
                    entered.set()
                    assert release.wait(30)
                super().handle(event, recorded, view)

        second = ProjectionRunner(store, Paused(), policy=FailurePolicy.parking(retries=0), clock=clock.peek)
        replayed = []
        thread = threading.Thread(target=lambda: replayed.append(second.replay_parked()), daemon=True)
        thread.start()
        assert entered.wait(30)
        assert first.replay_parked() == 1          # commits while the second runner's replay is staged
        release.set()
        thread.join(60)
        assert replayed == [0]                      # it saw the event was replayed meanwhile
        assert rows(first) == {"a": (6, "1,3,2")}   # applied once
        assert first.parked() == [] and len(first.parked(include_replayed=True)) == 1


def test_an_event_that_cannot_be_decoded_is_parked_like_a_handler_failure(setup):
    store, clock, make = setup
    runner = make(FailurePolicy.parking(retries=0))

    def decoder(recorded):
        if recorded.position == 4:
            raise KeyError("no upcaster for Added v0")
        return recorded

    runner.decoder = decoder
    assert runner.catch_up() == 6
    (parked,) = runner.parked()
    assert (parked.position, parked.error_type) == (4, "KeyError")


def test_a_live_runner_with_the_real_clock_retries_a_transient_failure_by_itself(backend):
    with new_store(backend) as store:
        for i in range(1, 4):
            store.append("a", [NewEvent("Added", {"n": i})], expected_version=i - 1)
        projection = Totals(poison={2}, fail_times=2)
        runner = ProjectionRunner(store, projection, policy=FailurePolicy.retry(5, backoff=0.01))
        with runner.start(interval=0.01):
            runner.wait_for(3, timeout=30)
        assert projection.calls[2] == 3 and runner.health().ok and runner.error is None
        assert rows(runner) == {"a": (6, "1,2,3")}
