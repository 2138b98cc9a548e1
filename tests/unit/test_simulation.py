"""The eventual-consistency simulation and the gaps model: deterministic, and right about the cases
whose answer can be worked out by hand."""

from __future__ import annotations

import pytest

from esdemo.simulation import (
    ConcurrentWrite,
    arrival_times,
    concurrent_writes,
    simulate_gaps,
    simulate_lag,
)

BURST = [(0, 50), (20, 400), (30, 50)]


def test_the_same_inputs_give_the_same_table_every_run():
    runs = [simulate_lag(duration=40, command_rate=BURST, projection_rate=200, batch_size=50) for _ in range(2)]
    assert runs[0].rows == runs[1].rows and runs[0].summary() == runs[1].summary()
    seeded = [simulate_lag(duration=40, command_rate=BURST, projection_rate=200, seed=7) for _ in range(2)]
    assert seeded[0].rows == seeded[1].rows
    assert simulate_lag(duration=40, command_rate=BURST, projection_rate=200, seed=8).rows != seeded[0].rows


def test_evenly_spaced_arrivals_follow_the_rate_of_each_phase():
    assert arrival_times(10, 1.0) == pytest.approx([k / 10 for k in range(1, 11)])
    times = arrival_times([(0, 10), (1, 20)], 2.0)
    assert sum(t <= 1.0 for t in times) == 10 and sum(t > 1.0 for t in times) == 20
    assert arrival_times([(0, 10), (1, 0), (2, 10)], 3.0)[10] == pytest.approx(2.1)   # a quiet second
    poisson = arrival_times(100, 10.0, seed=1)
    assert 800 < len(poisson) < 1200 and poisson == sorted(poisson)


def test_a_projection_slower_than_the_commands_falls_behind_at_the_difference_of_the_rates():
    sim = simulate_lag(duration=10, command_rate=100, projection_rate=50, batch_size=10)
    last = sim.rows[-1]
    assert last["written"] == 1000
    assert 450 <= last["lag_events"] <= 550           # (100 - 50) events/s for 10 s
    lags = [row["lag_events"] for row in sim.rows]
    assert lags[len(lags) // 2] < lags[-1]             # and it keeps growing


def test_a_faster_projection_keeps_the_lag_within_a_batch_and_catches_up():
    sim = simulate_lag(duration=10, command_rate=BURST, projection_rate=1000, batch_size=20)
    assert max(row["lag_events"] for row in sim.rows) <= 20
    assert sim.summary()["events_applied"] >= sim.summary()["events_written"] - 1


def test_a_burst_builds_a_backlog_that_drains_afterwards():
    sim = simulate_lag(duration=60, command_rate=BURST, projection_rate=200, batch_size=100)
    lag_at = {row["time_s"]: row["lag_events"] for row in sim.rows}
    assert lag_at[15.0] <= 1                            # 50/s is easy for a 200/s projection
    assert lag_at[30.0] >= (400 - 200) * 10 * 0.9       # the burst: 10 s at 400/s against 200/s
    assert lag_at[55.0] <= 1                            # drained at (200 - 50)/s after the burst


def test_bigger_batches_win_when_each_commit_costs_time():
    small = simulate_lag(duration=20, command_rate=150, projection_rate=200, batch_size=10, batch_overhead_s=0.05)
    large = simulate_lag(duration=20, command_rate=150, projection_rate=200, batch_size=100, batch_overhead_s=0.05)
    # 10 per (0.05 + 0.05) s = 100/s < 150/s: falls behind; 100 per (0.05 + 0.5) s = 182/s: keeps up
    assert small.rows[-1]["lag_events"] > 10 * large.rows[-1]["lag_events"]


def test_the_checkpoint_moves_only_at_commits_and_never_passes_the_head():
    sim = simulate_lag(duration=30, command_rate=BURST, projection_rate=300, batch_size=25, poll_interval_s=0.2,
                       seed=3)
    steps = [b[1] - a[1] for a, b in zip(sim.commits, sim.commits[1:])]
    assert all(0 < step <= 25 for step in steps)
    for row in sim.rows:
        assert 0 <= row["applied"] <= row["written"]
        assert row["lag_s"] >= 0 and (row["lag_s"] == 0 if row["lag_events"] == 0 else True)


def test_how_long_a_write_takes_to_become_visible():
    one = simulate_lag(duration=2, command_rate=[(0, 0), (0.45, 2), (1, 0)], projection_rate=10)  # one event, at 0.95 s
    assert one.arrivals_s == pytest.approx([0.95]) and one.visible_after_s() == pytest.approx([0.1])
    polled = simulate_lag(duration=20, command_rate=10, projection_rate=10_000, poll_interval_s=1.0)
    summary = polled.summary()
    assert summary["max_visible_after_s"] <= 1.0 + 0.01  # at most one poll interval (plus the work)
    assert 0.3 < summary["mean_visible_after_s"] < 0.7  # about half of it on average


def test_the_table_has_clear_columns_for_a_chart():
    frame = simulate_lag(duration=5, command_rate=10, projection_rate=5, sample_every_s=1).to_frame()
    assert list(frame.columns) == ["time_s", "written", "applied", "lag_events", "lag_s"]
    assert list(frame["time_s"]) == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize("kwargs, match", [
    ({"duration": 0}, "duration"),
    ({"batch_size": 0}, "batch_size"),
    ({"projection_rate": -1}, "projection_rate"),
    ({"command_rate": "fast"}, "command_rate"),
    ({"command_rate": [(1, 10)]}, "start at time 0"),
    ({"command_rate": [(0, -5)]}, "rates"),
    ({"poll_interval_s": -1}, "poll_interval_s"),
])
def test_bad_inputs_are_refused(kwargs, match):
    arguments = {"duration": 10, "command_rate": 10, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        simulate_lag(**arguments)


# -- gaps and the high-water mark -------------------------------------------------------------------

def test_the_naive_reader_skips_a_late_commit_and_the_high_water_mark_waits_for_it():
    # A takes position 1 and commits late; B takes 2 and commits first (the module docstring's story).
    sim = simulate_gaps([ConcurrentWrite(1, 0.0, 0.30), ConcurrentWrite(2, 0.05, 0.10)], poll_interval_s=0.05, gap_timeout_s=1.0)
    assert sim.naive_missed == [1]
    assert sim.hwm_gave_up == [] and sim.hwm_lost == []
    at = {row["time_s"]: row for row in sim.rows}
    assert (at[0.1]["naive_checkpoint"], at[0.1]["hwm_checkpoint"], at[0.1]["hwm_waiting"]) == (2, 0, 1)
    assert (at[0.3]["hwm_checkpoint"], at[0.3]["naive_missed"]) == (2, 1)
    assert sim.hwm_max_wait_s == pytest.approx(0.20)    # position 2: committed at 0.10, delivered at 0.30


def test_a_rolled_back_position_is_a_gap_the_high_water_mark_gives_up_on():
    sim = simulate_gaps([ConcurrentWrite(1, 0.0, 0.1, rolled_back=True), ConcurrentWrite(2, 0.0, 0.05)], poll_interval_s=0.05,
                        gap_timeout_s=0.2)
    assert sim.naive_missed == [] and sim.hwm_gave_up == [1] and sim.hwm_lost == []
    assert sim.rows[-1]["hwm_checkpoint"] == 2
    assert sim.hwm_max_wait_s == pytest.approx(0.20)


def test_a_timeout_shorter_than_a_transaction_loses_its_event():
    sim = simulate_gaps([ConcurrentWrite(1, 0.0, 1.0), ConcurrentWrite(2, 0.0, 0.1)], poll_interval_s=0.05, gap_timeout_s=0.3)
    assert sim.hwm_gave_up == [1] and sim.hwm_lost == [1] and sim.naive_missed == [1]


def test_with_positions_taken_at_commit_nobody_misses_anything():
    for seed in range(5):
        writes = concurrent_writes(300, rate=300, duration_s=(0.001, 0.3), rollback_rate=0.05, seed=seed,
                                   allocate="at_commit")
        sim = simulate_gaps(writes, gap_timeout_s=0.1)
        assert sim.naive_missed == [] and sim.hwm_gave_up == []
        sequence = concurrent_writes(300, rate=300, duration_s=(0.001, 0.3), rollback_rate=0.05, seed=seed)
        assert simulate_gaps(sequence, gap_timeout_s=0.5).naive_missed   # the same load with a sequence: misses


def test_concurrent_writes_are_reproducible_per_seed():
    assert concurrent_writes(50, seed=4) == concurrent_writes(50, seed=4) != concurrent_writes(50, seed=5)
    writes = concurrent_writes(50, rollback_rate=0.5, seed=4)
    assert [w.position for w in writes] == list(range(1, 51))
    assert all(w.begins_at <= w.commits_at for w in writes)
    with pytest.raises(ValueError, match="allocate"):
        concurrent_writes(5, allocate="whenever")


# -- caught up, and how long the view stands still (notebook 11's batch-size trade-off) -----------------

def test_a_backlog_is_applied_when_its_last_batch_commits():
    # 1,000 events at once (a backlog), then none; 100 events/s in batches of 100: one batch per second.
    sim = simulate_lag(duration=20, command_rate=[(0, 0), (0.999, 1_000_000), (1.0, 0)], projection_rate=100,
                       batch_size=100)
    assert sim.summary()["events_written"] == 1000
    assert sim.backlog_applied_at(1.0) == pytest.approx(1.0 + 10 * 1.0, abs=0.01)   # ten batches of 1 s each
    assert sim.backlog_applied_at(0.5) == 0.5                                        # nothing written yet
    # One event at a time, 0.02 s each, from the first arrival at 0.01 s: event k is applied at 0.01 + 0.02 k.
    slow = simulate_lag(duration=10, command_rate=100, projection_rate=50, batch_size=1)
    assert slow.backlog_applied_at(2.0) == pytest.approx(0.01 + 0.02 * 200)   # the 200 events written by 2 s
    assert slow.backlog_applied_at(5.0) is None     # the 500th would be applied at 10.01 s, after the end


def test_each_batch_is_a_pause_and_big_batches_make_long_pauses():
    one = simulate_lag(duration=2, command_rate=[(0, 0), (0.45, 2), (1, 0)], projection_rate=10)  # one event at 0.95 s
    assert one.longest_freeze_s() == pytest.approx(0.1)                        # its own work, 1/10 s
    backlog = [(0, 0), (0.999, 1_000_000), (1.0, 0)]                           # 1,000 events at once
    small = simulate_lag(duration=30, command_rate=backlog, projection_rate=100, batch_size=50)
    large = simulate_lag(duration=30, command_rate=backlog, projection_rate=100, batch_size=500)
    assert small.longest_freeze_s() == pytest.approx(0.5) and large.longest_freeze_s() == pytest.approx(5.0)
    idle = simulate_lag(duration=5, command_rate=0, projection_rate=10)
    assert idle.commits == [] and idle.longest_freeze_s() == 0.0
