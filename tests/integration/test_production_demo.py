"""The production notebook's experiments on a live server: their verdicts hold and are reproducible."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from store_factory import require_postgres

from esdemo import EventStore, FakeClock, NewEvent
from esdemo.postgres_server import fresh_store_url
from esdemo.production_demo import kill_owner_and_fail_over, notify_latencies, race_writers

pytestmark = pytest.mark.slow


def test_four_writer_processes_leave_every_guarantee_intact():
    require_postgres()
    report = race_writers(fresh_store_url(prefix="test_prod"), processes=4, batches=4, increments=4, shared=2)
    assert report.events == report.expected_events == 4 * (4 * 3 + 4) + 2 * 3
    verdicts = report.verdicts()
    assert all(verdicts[key] for key in verdicts if key.startswith(("positions", "each")))
    assert report.events_per_stream["counter"] == 16 and report.events_per_stream["shared-1"] == 3


def test_notify_latencies_are_one_per_sample_and_well_below_the_poll_interval():
    require_postgres()
    latencies = notify_latencies(fresh_store_url(prefix="test_prod"), samples=5, poll_interval=30)
    assert len(latencies) == 5 and all(0 < ms < 30_000 for ms in latencies)


def test_a_killed_owner_is_replaced_and_every_event_is_applied_once():
    require_postgres()
    url = fresh_store_url(prefix="test_prod")
    clock = FakeClock(datetime(2024, 1, 1, tzinfo=timezone.utc), timedelta(seconds=1))
    with EventStore(url, clock=clock) as store:
        for n in range(10):
            for s in range(3):
                store.append(f"s{s}", [NewEvent("Added", {"n": n})], expected_version=n)
    report = kill_owner_and_fail_over(url, kill_after=8, delay=0.02)
    assert report.verdicts() == {"events in the log": 30, "rows in the view": 30, "missing positions": [],
                                 "checkpoint": 30, "first owner": "first", "took over": "second"}
    assert 8 <= report.killed_at < 30 and sum(report.applied_by.values()) == 30
    assert report.applied_by["second"] > 0


def test_a_lock_held_elsewhere_makes_the_failover_demo_time_out_with_a_hint():
    require_postgres()
    from esdemo.production_demo import PositionLog
    from esdemo.read.projection_worker import ProjectionWorker

    url = fresh_store_url(prefix="test_prod")
    with EventStore(url) as store:
        store.append("s0", [NewEvent("Added", {"n": n}) for n in range(4)], expected_version=0)
        holder = ProjectionWorker(EventStore(url), PositionLog())
        assert holder.try_to_own()                       # the same store, held by a worker outside the demo
        try:
            with pytest.raises(TimeoutError, match="advisory lock"):
                kill_owner_and_fail_over(url, kill_after=2, delay=0.0, timeout=5)
        finally:
            holder.release()
            holder.store.close()
