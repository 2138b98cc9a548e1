"""Guarantees that need a second process: durability after SIGKILL, and the DuckDB file lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from esdemo import EventStore, StoreLockedError

pytestmark = pytest.mark.slow

BATCH = 5

# The child appends batches of BATCH events forever and reports each commit on stdout.
WRITER = textwrap.dedent(
    """
    import sys
    from esdemo import EventStore, NewEvent
    store = EventStore(sys.argv[1], backend=sys.argv[2])
    batch = 0
    while True:
        events = [NewEvent("Tick", {"batch": batch, "i": i}) for i in range(%d)]
        store.append("ticks", events, expected_version=batch * %d)
        print(batch, flush=True)
        batch += 1
    """
    % (BATCH, BATCH)
)

HOLDER = textwrap.dedent(
    """
    import sys, time
    from esdemo import EventStore
    store = EventStore(sys.argv[1])
    print("open", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_mid_way_keeps_every_committed_event_and_none_of_the_rest(backend, store_file):
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(store_file), backend],
                             stdout=subprocess.PIPE, text=True)
    reported = -1
    try:
        while reported < 30:
            line = child.stdout.readline()
            assert line, "the writer died before committing 30 batches"
            reported = int(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    with EventStore(store_file, backend=backend) as store:
        events = store.read("ticks")
        count = len(events)
        # every batch the child reported as committed is there ...
        assert count >= (reported + 1) * BATCH
        # ... and no batch is there in part: the one in flight is all or nothing
        assert count % BATCH == 0
        assert [(e.data["batch"], e.data["i"]) for e in events] == [
            (b, i) for b in range(count // BATCH) for i in range(BATCH)]
        assert [e.position for e in events] == list(range(1, count + 1))
        assert store.stream_version("ticks") == count
        # and the store keeps working after recovery
        assert store.append("ticks", [], expected_version=count).version == count


def test_a_second_process_on_a_duckdb_file_gets_store_locked_error(tmp_path):
    path = tmp_path / "owned.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError) as info:
            EventStore(path)
        message = str(info.value)
        assert "one process" in message and str(holder.pid) in message
        assert "close" in message.lower()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # once the owner is gone, the file opens normally
        try:
            EventStore(path).close()
            break
        except StoreLockedError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert os.path.exists(path)
