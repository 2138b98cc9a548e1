"""Parking and replaying survive a crash at the commit: view, checkpoint and parked events move together.

A child process dies (no cleanup, no rollback) inside the transaction that
would commit a batch with a parked event, or a replay; the parent then
checks that nothing of it is visible, and that running again parks or
replays each event exactly once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from esdemo import EventStore, FailurePolicy, NewEvent, ProjectionRunner
from esdemo.read.projection import Projection
from esdemo.read.sql_views import SqlTable

pytestmark = pytest.mark.slow

PROJECTION = textwrap.dedent(
    """
    from esdemo.read.projection import Projection
    from esdemo.read.sql_views import SqlTable

    class Sums(Projection):
        name = "sums"
        poison = {3}

        def default_storage(self):
            return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "positions": "VARCHAR"})

        def handle(self, event, recorded, view):
            if recorded.position in self.poison:
                raise ValueError("poison")
            row = view.get(recorded.stream_id)
            positions = str(recorded.position) if row is None else row["positions"] + "," + str(recorded.position)
            view.upsert({"stream_id": recorded.stream_id, "positions": positions})
    """
)

CHILD = PROJECTION + textwrap.dedent(
    """
    import os, sys
    from esdemo import EventStore, FailurePolicy, ProjectionRunner

    store = EventStore(sys.argv[1], backend=sys.argv[2])
    projection = Sums()
    if sys.argv[3] == "replay":
        projection.poison = set()
    runner = ProjectionRunner(store, projection, policy=FailurePolicy.parking(retries=0))
    original = projection.storage._commit

    def commit_then_die(cur, table, batch, activate):
        original(cur, table, batch, activate)     # every statement of the commit ran, the COMMIT did not
        if batch.parked or batch.replayed:
            os._exit(17)

    projection.storage._commit = commit_then_die
    runner.catch_up() if sys.argv[3] == "park" else runner.replay_parked()
    os._exit(0)
    """
)

namespace: dict = {}
exec(PROJECTION, namespace)
Sums = namespace["Sums"]
assert issubclass(Sums, Projection) and SqlTable


def run_child(store_file, backend, what):
    child = subprocess.run([sys.executable, "-c", CHILD, str(store_file), backend, what], timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == 17, child.stderr


def positions(projection):
    return {row["stream_id"]: row["positions"] for row in projection.storage.query(order_by="stream_id")}


def test_a_crash_while_committing_a_park_or_a_replay_keeps_nothing_of_it(backend, store_file):
    with EventStore(store_file, backend=backend) as store:
        for i in range(1, 5):
            store.append("s", [NewEvent("Added", {})], expected_version=i - 1)
    run_child(store_file, backend, "park")
    with EventStore(store_file, backend=backend) as store:
        projection = Sums()
        runner = ProjectionRunner(store, projection, policy=FailurePolicy.parking(retries=0))
        assert runner.position == 0 and runner.parked() == [] and positions(projection) == {}
        assert runner.catch_up() == 4                  # run again: parked once
        assert [p.position for p in runner.parked()] == [3]
        assert positions(projection) == {"s": "1,2,4"}
    run_child(store_file, backend, "replay")
    with EventStore(store_file, backend=backend) as store:
        projection = Sums()
        projection.poison = set()
        runner = ProjectionRunner(store, projection, policy=FailurePolicy.parking(retries=0))
        assert [p.position for p in runner.parked()] == [3]     # the replay died: still parked, view unchanged
        assert positions(projection) == {"s": "1,2,4"}
        assert runner.replay_parked() == 1 and runner.replay_parked() == 0
        assert positions(projection) == {"s": "1,2,4,3"} and runner.position == 4
