"""Issue 11, case 3: ``recorded_at`` never runs backwards in position order.

The stamp is taken inside the append's transaction and is never earlier than
the head event's stamp, so "what was recorded by t" is a prefix of the log:
``load(as_of=t)`` sees exactly the events stamped at or before t.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone

import pytest
from store_factory import new_store

from decimal import Decimal

from esdemo import ANY, EventStore, FakeClock, NewEvent
from esdemo.examples.bank import Account, AccountOpened, MoneyDeposited
from esdemo.store.errors import EventStoreError
from esdemo.write.domain import default_registry
from esdemo.write.repository import Repository

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


class RacingClock:
    """Each thread's clock reading lags by a different amount: the writer that read its clock first
    (earliest time) is often not the one that commits first, exactly as in the issue's report."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ticks = 0

    def __call__(self) -> datetime:
        with self._lock:
            self._ticks += 1
            lag = (threading.get_ident() % 7) * 50   # milliseconds, different per thread
            return T0 + timedelta(milliseconds=self._ticks * 10 - lag)


def _assert_non_decreasing(events):
    backwards = [(a.position, b.position) for a, b in zip(events, events[1:]) if b.recorded_at < a.recorded_at]
    assert backwards == [], f"time goes back between positions {backwards[:5]}"


def test_six_threads_on_one_stream_never_go_back_in_time(backend, store_file):
    with EventStore(store_file, backend=backend, clock=RacingClock()) as store:
        failures: list[BaseException] = []

        def writer(n: int) -> None:
            try:
                for i in range(20):
                    store.append("Counter-1", [NewEvent("Incremented", {"by": n, "i": i})], expected_version=ANY)
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert failures == [] and not any(thread.is_alive() for thread in threads)
        events = store.read_all()
        assert len(events) == 120
        _assert_non_decreasing(events)
        _assert_non_decreasing(store.read("Counter-1"))


def test_time_never_goes_back_across_streams_with_a_clock_that_jumps_back(backend):
    readings = iter([T0 + timedelta(minutes=5), T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=9)])
    with new_store(backend, clock=lambda: next(readings)) as store:
        store.append("a", [NewEvent("E", {})], expected_version=0)
        store.append("b", [NewEvent("E", {}), NewEvent("E", {})], expected_version=0)   # clock says T0
        store.append("a", [NewEvent("E", {})], expected_version=1)                      # clock says T0+1
        store.append("c", [NewEvent("E", {})], expected_version=0)                      # clock moves on
        stamps = [e.recorded_at for e in store.read_all()]
    assert stamps == [T0 + timedelta(minutes=5)] * 4 + [T0 + timedelta(minutes=9)]


def _encoded(event) -> NewEvent:
    recorded = default_registry.encode(event)
    return NewEvent(recorded.type, recorded.data, schema_version=recorded.schema_version)


def test_load_as_of_sees_exactly_what_was_recorded_by_then(backend, store_file):
    with EventStore(store_file, backend=backend, clock=RacingClock()) as store:
        store.append("Account-1", [_encoded(AccountOpened("1", "Ada", Decimal("0")))], expected_version=0)

        def writer() -> None:
            for _ in range(10):
                store.append("Account-1", [_encoded(MoneyDeposited("1", Decimal("1")))], expected_version=ANY)

        threads = [threading.Thread(target=writer) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        events = store.read("Account-1")
        assert len(events) == 61
        repository = Repository(store, Account)
        for event in events[::6]:
            t = event.recorded_at
            recorded_by_t = [e for e in events if e.recorded_at <= t]
            assert recorded_by_t == events[:len(recorded_by_t)]                  # a prefix of the stream
            assert repository.load("1", as_of=t).balance == len(recorded_by_t) - 1


def test_the_fake_clock_stays_deterministic(backend, clock):
    """The clock is still asked exactly once per append (a conflict included), so notebooks reproduce."""
    with new_store(backend, clock=clock) as store:
        store.append("a", [NewEvent("E", {}), NewEvent("E", {})], expected_version=0)
        with pytest.raises(Exception):
            store.append("a", [NewEvent("E", {})], expected_version=0)        # a conflict: one tick used
        store.append("b", [NewEvent("E", {})], expected_version=0)
        stamps = [e.recorded_at for e in store.read_all()]
    assert stamps == [T0, T0, T0 + timedelta(minutes=2)]


def test_restore_refuses_time_that_goes_back(backend):
    with new_store(backend, clock=FakeClock(T0, step=timedelta(minutes=1))) as source:
        for stream in ("a", "b", "c"):
            source.append(stream, [NewEvent("E", {})], expected_version=0)
        exported = source.read_all()
    earlier = dataclasses.replace(exported[2], recorded_at=T0 - timedelta(hours=1))
    with new_store(backend) as target:
        with pytest.raises(ValueError, match="time never goes back"):    # inside the export
            target.restore([exported[0], exported[1], earlier])
        target.restore(exported[:2])
        with pytest.raises(EventStoreError, match="never goes back"):     # against the store's last event
            target.restore([earlier])
        assert target.head() == 2
