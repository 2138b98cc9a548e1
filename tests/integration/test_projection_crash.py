"""A process that dies in the middle of a batch: the view and its checkpoint survive together, or not at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from projection_kit import Tally, expected_rows, fill, rows_of

from esdemo import EventStore
from esdemo.read.projection_runner import ProjectionRunner

pytestmark = pytest.mark.slow

# The child applies batches of 3 and dies (no cleanup, no rollback) while applying position 8.
CHILD = textwrap.dedent(
    """
    import os, sys
    from projection_kit import Tally
    from esdemo import EventStore
    from esdemo.read.projection_runner import ProjectionRunner

    def die(recorded):
        if recorded.position == 8:
            os._exit(17)

    store = EventStore(sys.argv[1], backend=sys.argv[2])
    ProjectionRunner(store, Tally(on_event=die), batch_size=3).catch_up()
    """
)


def test_a_crash_mid_batch_keeps_the_committed_batches_and_loses_the_rest_then_resumes_exactly_once(
        backend, store_file):
    with EventStore(store_file, backend=backend) as store:
        fill(store, streams=2, per_stream=4)        # 12 events
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run([sys.executable, "-c", CHILD, str(store_file), backend], env=env, timeout=120,
                           capture_output=True, text=True)
    assert child.returncode == 17, child.stderr
    with EventStore(store_file, backend=backend) as store:
        projection = Tally()
        runner = ProjectionRunner(store, projection)
        assert runner.position == 6                 # batches 1-3 and 4-6 committed, 7-9 died with the process
        applied = ",".join(row["positions"] for row in rows_of(projection)).split(",")
        assert sorted(map(int, applied)) == [p for p in range(1, 7) if store.read_all(p, 1)[0].type == "Added"]
        assert runner.catch_up() == store.head() - 6
        assert rows_of(projection) == expected_rows(store)
