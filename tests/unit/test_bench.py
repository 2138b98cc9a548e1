"""The benchmark table and its helpers: what they compute and print, never how fast anything is."""

from __future__ import annotations

import pytest

from esdemo.bench import (
    Plan,
    Row,
    Target,
    append_rows,
    collect,
    format_table,
    notebook_rows,
    read_rows,
    rebuild_rows,
    time_travel_rows,
)
from esdemo.benchmarks.timing import median, median_seconds, ratio, timings

# -- timing helpers ----------------------------------------------------------------------------------

def test_timings_runs_the_warmup_untimed_then_each_timed_run():
    calls = []
    seconds = timings(lambda: calls.append(1), repeat=4, warmup=2)
    assert len(calls) == 6 and len(seconds) == 4
    assert all(s >= 0 for s in seconds)


def test_median_seconds_is_the_median_of_the_timed_runs(monkeypatch):
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 22.0])    # three runs: 1 s, 3 s, 2 s
    monkeypatch.setattr("esdemo.benchmarks.timing.time.perf_counter", lambda: next(clock))
    assert median_seconds(lambda: None, repeat=3, warmup=0) == 2.0


@pytest.mark.parametrize("repeat", [0, -1, 1.5, True])
def test_timings_refuses_a_repeat_that_is_not_a_positive_int(repeat):
    with pytest.raises(ValueError, match="repeat must be an int >= 1"):
        timings(lambda: None, repeat=repeat)


def test_median_and_ratio():
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([1.0, 2.0]) == 1.5
    assert ratio(300.0, 3.0) == 100.0
    assert ratio(1.0, 0.0) == float("inf")
    with pytest.raises(ValueError, match="no runs"):
        median([])


# -- targets and rows ------------------------------------------------------------------------------------

def test_targets_are_at_least_or_at_most():
    assert Target(">=", 1000).met_by(1000) and not Target(">=", 1000).met_by(999.9)
    assert Target("<=", 5).met_by(4.2) and not Target("<=", 5).met_by(5.01)
    assert str(Target(">=", 5_000_000)) == ">= 5,000,000"
    assert str(Target("<=", 5, " ms")) == "<= 5 ms"
    with pytest.raises(ValueError, match="'>=' or '<='"):
        Target(">", 1)


def test_a_measured_row_says_whether_it_met_its_target():
    assert Row.measured("x", "duckdb", 1200, "events/s", Target(">=", 1000)).verdict == "met"
    assert Row.measured("x", "duckdb", 400, "events/s", Target(">=", 1000)).verdict == "MISSED"
    assert Row.measured("x", "duckdb", 400, "events/s").verdict == ""
    assert Row("x", "-", None).result == "not run"
    assert Row.measured("x", "sqlite", 123456.7, "events/s").result == "123,457 events/s"
    assert Row.measured("x", "sqlite", 0.4567, "ms").result == "0.46 ms"


def test_the_table_is_one_markdown_table_with_aligned_columns():
    rows = [Row.measured("append", "duckdb", 412.3, "events/s", Target(">=", 1000), note="2.4 ms"),
            Row("plan", "duckdb", "Sequential Scan", target="an index", met=False)]
    lines = format_table(rows).splitlines()
    assert lines[0].split("|")[1:-1] == [" measure ", " backend ", " result          ", " target   ", " met?   ",
                                         " note   "]
    assert set(lines[1]) == {"|", "-"}
    assert len({len(line) for line in lines}) == 1                       # every line as wide as the header
    assert "| 412 events/s" in lines[2] and "MISSED" in lines[2] and ">= 1,000" in lines[2]
    assert "Sequential Scan" in lines[3] and "an index" in lines[3]


# -- turning each benchmark's numbers into rows ----------------------------------------------------------

def test_append_rows_give_each_backend_its_own_single_append_target():
    numbers = {"batch": 10_000}
    for b, single in (("duckdb", 1500.0), ("sqlite", 4000.0)):
        numbers |= {f"{b}.single_events_per_s": single, f"{b}.single_ms": 1000 / single,
                    f"{b}.batch_events_per_s": 150_000.0, f"{b}.batch_vs_single": 150_000 / single}
    rows = append_rows(numbers, {"log_events": 1_000_000, "duckdb.big_log_events_per_s": 300.0,
                                 "duckdb.big_log_ms": 3.33})
    single = {r.backend: r.verdict for r in rows if r.measure.startswith("append 1 event per call")}
    assert single == {"duckdb": "met", "sqlite": "MISSED"}      # 1,500 >= 1,000 but 4,000 < 5,000
    assert any("1,000,000-event log" in r.measure and r.backend == "duckdb" for r in rows)
    assert not any("log" in r.measure and r.backend == "sqlite" for r in rows)


def test_read_rows_judge_duckdb_by_whether_its_plan_uses_an_index():
    numbers = {"events": 1_000_000, "streams": 10_000, "stream_events": 100, "repeat": 3,
               "duckdb.read_ms": 6.0, "duckdb.plan": "Sequential Scan", "duckdb.index": 0.0,
               "duckdb+index.read_ms": 1.0, "duckdb+index.plan": "Index Scan", "duckdb+index.index": 1.0,
               "duckdb+index.create_s": 0.3,
               "sqlite.read_ms": 0.4, "sqlite.plan": "SEARCH events USING INDEX x", "sqlite.index": 1.0}
    rows = read_rows(numbers)
    duckdb_plan = next(r for r in rows if r.backend == "duckdb" and r.measure.strip().startswith("plan"))
    assert (duckdb_plan.result, duckdb_plan.verdict) == ("Sequential Scan", "MISSED")
    reads = {r.backend: r.verdict for r in rows if "read a 100-event stream of 1,000,000" in r.measure}
    assert reads == {"duckdb": "MISSED", "sqlite": "met"}
    assert any(r.backend == "duckdb+index" and r.verdict == "met" for r in rows)


def test_rebuild_rows_take_the_median_run_and_the_ratio_from_each_run():
    runs = [{"events": 1_000_000, "per_event_events_per_s": p, "set_based_events_per_s": s, "ratio": s / p,
             "read_s": 10.0, "per_event_s": 25.0} for p, s in ((40_000, 2_000_000), (50_000, 4_000_000),
                                                               (30_000, 6_000_000))]
    per_event, set_based, ratio_row = rebuild_rows(runs)
    assert per_event.value == 40_000 and set_based.value == 4_000_000
    assert ratio_row.value == 80.0           # median of 50x, 80x, 200x: ratios are never mixed across runs
    assert set_based.verdict == "MISSED" and ratio_row.verdict == "met"


def test_notebook_rows_name_the_slowest_and_any_failure():
    row, = notebook_rows({"notebooks": {"01_a.ipynb": 4.0, "02_b.ipynb": 9.5}, "total_s": 13.5, "repeat": 1,
                          "failed": {"03_c.ipynb": "cell 4 failed"}})
    assert row.value == 13.5 and "(2)" in row.measure
    assert "02_b.ipynb 9.5 s" in row.note and "FAILED: 03_c.ipynb" in row.note


def test_the_quick_plan_is_smaller_but_still_measures_100_event_streams():
    quick, full = Plan.quick(), Plan()
    assert quick.read_events < full.read_events and quick.rebuild_events < full.rebuild_events
    assert quick.read_events // quick.read_streams == full.read_events // full.read_streams == 100
    assert full.read_events == full.rebuild_events == 1_000_000 and full.batch == full.aggregate_events == 10_000


def test_time_travel_rows_hold_the_10000_event_target_and_the_big_log():
    small = {"events": 10_000, "every": 500, "build_s": 0.3, "memory_mib": 5.0, "scrub_ms": 14.0, "step_ms": 2.0,
             "checkpoints": 20}
    big = {**small, "events": 1_000_000, "build_s": 50.0, "memory_mib": None, "scrub_ms": 140.0, "step_ms": 6.0}
    scrub, step, big_scrub, big_step = time_travel_rows(small, big)
    assert "10,000-event log" in scrub.measure and scrub.verdict == "met" and "5 MiB" in scrub.note
    assert step.value == 2.0 and step.verdict == ""
    assert "1,000,000-event log" in big_scrub.measure and big_scrub.verdict == "" and "MiB" not in big_scrub.note
    assert big_step.value == 6.0
    slow, _ = time_travel_rows({**small, "scrub_ms": 150.0})
    assert slow.verdict == "MISSED"


def test_unknown_sections_are_refused_before_anything_runs():
    with pytest.raises(ValueError, match="unknown benchmark section"):
        collect(Plan.quick(), ["appends", "writes"])


def test_postgres_rows_compare_processes_per_backend_and_give_the_notify_latency():
    from esdemo.bench import postgres_rows

    rows = postgres_rows({"postgres.1p_events_per_s": 900.0, "postgres.4p_events_per_s": 1100.0,
                          "sqlite.1p_events_per_s": 5000.0, "duckdb.1p_events_per_s": 500.0,
                          "notify_median_ms": 1.5, "notify_p95_ms": 3.0, "notify_max_ms": 4.0})
    assert [(r.backend, r.measure.split(", ")[1]) for r in rows[:4]] == [
        ("postgres", "1 process at once"), ("postgres", "4 processes at once"),
        ("sqlite", "1 process at once"), ("duckdb", "1 process at once")]
    assert rows[-1].value == 1.5 and "p95 3.0 ms" in rows[-1].note and "LISTEN/NOTIFY" in rows[-1].measure
