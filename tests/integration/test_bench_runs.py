"""The benchmarks run end to end at a small size: every row is there and the notebook timer reports failures.

Nothing here looks at how fast anything was (timings belong to ``python -m esdemo.bench``).
"""

from __future__ import annotations

import nbformat
import pytest

from esdemo.bench import main
from esdemo.benchmarks import notebooks, reads, time_travel
from esdemo.store.event_store import EventStore

pytestmark = pytest.mark.slow


@pytest.mark.slow
def test_a_quick_run_prints_one_table_with_every_row(capsys):
    """Small stores, few runs: every section but the notebooks (timed separately, in minutes)."""
    assert main(["--quick"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert table[0].startswith("| measure")
    body = "\n".join(table)
    for expected in ("append 1 event per call", "append 10,000 events in one call", "into a 100,000-event log",
                     "read a 100-event stream of 100,000", "plan the database ran", "10,000-event aggregate, no snapshot",
                     "snapshot + 50 events", "snapshot speed-up", "per event", "set-based SQL", "set-based vs per event",
                     "time travel: scrub to a random position, 10,000-event log", "50,000-event log", "one step forward",
                     "2 processes at once", "LISTEN/NOTIFY"):
        assert expected in body, expected
    for backend in ("duckdb", "sqlite", "postgres"):
        assert f"| {backend} " in body
    assert "machine:" in out and "load average" in out and "targets met" in out


@pytest.mark.parametrize("backend", ["duckdb", "sqlite"])
def test_the_generated_log_interleaves_streams_and_the_plan_is_reported(backend):
    with EventStore(backend=backend) as store:
        assert reads.generate(store, events=2_000, streams=20) == 2_000
        first = store.read("Account-3")
        assert [e.version for e in first] == list(range(1, 101))
        assert [e.position for e in first[:3]] == [4, 24, 44]         # one event every `streams` positions
        plan = reads.plan_of_read(store, "Account-3")
        assert plan
        if backend == "sqlite":
            assert reads.uses_index(plan)                             # SQLite's UNIQUE (stream_id, version)


def test_generate_refuses_a_store_that_is_not_empty_or_uneven_sizes():
    with EventStore() as store:
        with pytest.raises(ValueError, match="multiple of streams"):
            reads.generate(store, events=1_050, streams=100)
        reads.generate(store, events=100, streams=10)
        with pytest.raises(ValueError, match="empty store"):
            reads.generate(store, events=100, streams=10)


def test_the_notebook_workload_times_each_notebook_and_reports_a_failing_one(tmp_path):
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = sum(range(10))")]), good)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), bad)
    before = (good.read_bytes(), bad.read_bytes())
    numbers = notebooks.run([good, bad], repeat=1)
    assert list(numbers["notebooks"]) == ["01_good.ipynb"] and numbers["total_s"] == numbers["notebooks"]["01_good.ipynb"]
    assert "ZeroDivisionError" in numbers["failed"]["02_bad.ipynb"]
    assert (good.read_bytes(), bad.read_bytes()) == before              # run on copies: the files are untouched


def test_the_time_travel_benchmark_scrubs_and_steps_a_generated_log():
    numbers = time_travel.run(1_000, every=100, scrubs=3, steps=3)
    assert numbers["events"] == 1_000 and numbers["checkpoints"] == 10
    assert numbers["scrub_ms"] > 0 and numbers["step_ms"] > 0 and numbers["build_s"] > 0
