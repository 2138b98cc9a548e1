"""Many OS processes append to one PostgreSQL store at once (no single-writer file lock):
expected versions, idempotent event ids and atomic batches hold across processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from store_factory import require_postgres

from esdemo import EventStore
from esdemo.postgres_server import fresh_store_url

pytestmark = pytest.mark.slow

PROCESSES, BATCHES, BATCH, INCREMENTS, SHARED = 4, 10, 3, 8, 4

CHILD = textwrap.dedent(
    """
    import json, sys, uuid
    from esdemo import ConflictError, EventStore, NewEvent
    url, me = sys.argv[1], int(sys.argv[2])
    BATCHES, BATCH, INCREMENTS, SHARED = %d, %d, %d, %d
    store = EventStore(url)
    print("ready", flush=True)
    sys.stdin.readline()                                   # wait until every process is ready
    report = {"conflicts": 0, "shared": {}}
    for b in range(BATCHES):                               # atomic batches on a stream of my own ...
        store.append(f"own-{me}", [NewEvent("Tick", {"p": me, "b": b, "i": i}) for i in range(BATCH)],
                     expected_version=b * BATCH)
        for k in range(INCREMENTS * b // BATCHES, INCREMENTS * (b + 1) // BATCHES):
            while True:                                    # ... a counter every process increments ...
                version = store.stream_version("counter")
                try:
                    store.append("counter", [NewEvent("Incremented", {"p": me, "k": k, "seen": version})],
                                 expected_version=version)
                    break
                except ConflictError:
                    report["conflicts"] += 1
        if b < SHARED:                                     # ... and batches every process sends with the same ids
            ids = [uuid.uuid5(uuid.NAMESPACE_URL, f"shared-{b}-{i}") for i in range(BATCH)]
            result = store.append(f"shared-{b}", [NewEvent("Shared", {"b": b, "i": i}, event_id=ids[i])
                                                   for i in range(BATCH)], expected_version=0)
            report["shared"][b] = [result.version, result.position]
    store.close()
    print(json.dumps(report), flush=True)
    """
    % (BATCHES, BATCH, INCREMENTS, SHARED)
)


def test_four_processes_append_at_once_and_every_guarantee_holds():
    require_postgres()
    url = fresh_store_url(prefix="test_procs")
    EventStore(url).close()                                # the tables exist before the race starts
    children = [subprocess.Popen([sys.executable, "-c", CHILD, url, str(p)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True) for p in range(PROCESSES)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        for child in children:                             # go, all at once
            child.stdin.write("go\n")
            child.stdin.flush()
        reports = []
        for child in children:
            out, _ = child.communicate(timeout=120)
            assert child.returncode == 0
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for child in children:
            child.kill()

    with EventStore(url) as store:
        events = store.read_all()
        expected = PROCESSES * (BATCHES * BATCH + INCREMENTS) + SHARED * BATCH
        # gapless positions, every event once
        assert [e.position for e in events] == list(range(1, expected + 1))
        assert len({e.event_id for e in events}) == expected
        for p in range(PROCESSES):
            own = store.read(f"own-{p}")
            assert [(e.data["b"], e.data["i"]) for e in own] == [(b, i) for b in range(BATCHES) for i in range(BATCH)]
            for b in range(BATCHES):                       # a batch's events sit side by side in the log
                positions = [e.position for e in own[b * BATCH:(b + 1) * BATCH]]
                assert positions == list(range(positions[0], positions[0] + BATCH))
        counter = store.read("counter")
        # expected versions: no increment lost or doubled, each written on the version it read
        assert Counter((e.data["p"], e.data["k"]) for e in counter) == Counter(
            (p, k) for p in range(PROCESSES) for k in range(INCREMENTS))
        assert [e.data["seen"] for e in counter] == list(range(PROCESSES * INCREMENTS))
        for b in range(SHARED):                            # idempotent ids: stored once, one answer for all
            assert [e.data["i"] for e in store.read(f"shared-{b}")] == list(range(BATCH))
            assert len({tuple(report["shared"][str(b)]) for report in reports}) == 1
    print(f"conflicts retried across processes: {sum(r['conflicts'] for r in reports)}")
