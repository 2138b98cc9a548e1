"""Issue 11, case 4: a projection batch never shows half an append.

An append is atomic: readers of the log see all of its events or none. A
view must keep that promise too, so the runner never ends a batch inside an
append, whatever its ``batch_size``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from store_factory import new_store

from esdemo import EventStore, FakeClock, NewEvent
from esdemo.read.memory_views import Documents
from esdemo.read.projection import Projection
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)


class Lines(Projection):
    """One row per stream: how many lines it has seen, and the positions."""

    name = "lines"

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "lines": "INTEGER", "positions": "VARCHAR"})

    def handle(self, event, recorded, view):
        row = view.get(recorded.stream_id)
        if row is None:
            view.insert({"stream_id": recorded.stream_id, "lines": 1, "positions": str(recorded.position)})
        else:
            view.update(recorded.stream_id, lines=row["lines"] + 1, positions=f"{row['positions']},{recorded.position}")


def lines(n: int) -> list[NewEvent]:
    return [NewEvent("Line", {"n": i}) for i in range(n)]


@pytest.mark.parametrize("storage", ["sql", "documents"])
@pytest.mark.parametrize("step", [timedelta(minutes=1), timedelta(0)], ids=["ticking-clock", "frozen-clock"])
def test_every_committed_checkpoint_is_at_the_end_of_an_append(backend, storage, step):
    # Appends of 5, 3, 1, 4 events (two to the same stream in a row), with batches of 2.
    with new_store(backend, clock=FakeClock(T0, step=step)) as store:
        ends = [store.append("a", lines(5), expected_version=0).position,
                store.append("b", lines(3), expected_version=0).position,
                store.append("b", lines(1), expected_version=3).position,
                store.append("a", lines(4), expected_version=5).position]
        projection = Lines() if storage == "sql" else Lines(Documents(key="stream_id"))
        runner = ProjectionRunner(store, projection, batch_size=2)
        seen = []
        while runner.run_once():
            seen.append(runner.position)
        assert seen and set(seen) <= set(ends)   # never inside an append
        assert runner.position == ends[-1]
        if step:   # distinct stamps: each batch ends at the first append end once it holds 2 events
            expected, position = [], 0
            while position < ends[-1]:
                position = min(end for end in ends if end >= position + 2)
                expected.append(position)
            assert seen == expected == [5, 8, 13]


def test_a_batch_of_one_applies_a_whole_append_of_many(backend):
    with new_store(backend, clock=FakeClock(T0, step=timedelta(seconds=1))) as store:
        store.append("a", lines(7), expected_version=0)
        store.append("b", lines(2), expected_version=0)
        runner = ProjectionRunner(store, Lines(), batch_size=1)
        assert runner.run_once() == 7
        assert runner.projection.storage.query(order_by="stream_id") == [
            {"stream_id": "a", "lines": 7, "positions": "1,2,3,4,5,6,7"}]
        assert runner.run_once() == 2
        assert runner.run_once() == 0


def test_a_long_append_longer_than_several_batches_is_applied_in_one(backend):
    with new_store(backend, clock=FakeClock(T0, step=timedelta(seconds=1))) as store:
        store.append("big", lines(25), expected_version=0)
        store.append("small", lines(1), expected_version=0)
        runner = ProjectionRunner(store, Lines(), batch_size=4)
        assert runner.run_once() == 25
        assert runner.position == 25
        assert runner.catch_up() == 1
