"""Notebook 11's charts: lag over time, the log against the view, batch sizes, two readers of a log with gaps."""

from __future__ import annotations

import math

import pytest

from esdemo.gaps import ConcurrentWrite, simulate_gaps
from esdemo.plots import batch_size_chart, gap_readers_chart, lag_chart, log_and_view_chart
from esdemo.simulation import simulate_lag


def test_lag_chart_draws_one_line_per_run_with_a_legend():
    fast = simulate_lag(duration=10, command_rate=200, projection_rate=250)
    slow = simulate_lag(duration=10, command_rate=200, projection_rate=150)
    axes = lag_chart({"fast": fast, "slow": slow}, title="Writes at 200 events/s").axes[0]
    assert (axes.get_title(), axes.get_xlabel(), axes.get_ylabel()) == ("Writes at 200 events/s", "time (s)",
                                                                         "lag (events)")
    fast_line, slow_line = axes.get_lines()
    assert list(slow_line.get_xdata()) == [row["time_s"] for row in slow.rows]
    assert list(slow_line.get_ydata()) == [row["lag_events"] for row in slow.rows]
    assert list(fast_line.get_ydata()) == [row["lag_events"] for row in fast.rows]
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["fast", "slow"]


def test_lag_chart_with_one_run_has_no_legend_and_refuses_nonsense():
    axes = lag_chart({"only": simulate_lag(duration=2, command_rate=10)}).axes[0]
    assert axes.get_legend() is None and axes.get_title() == "Projection lag over time"
    with pytest.raises(ValueError, match="at least one"):
        lag_chart({})
    with pytest.raises(TypeError, match="LagSimulation"):
        lag_chart({"rows": [{"time_s": 0, "lag_events": 0}]})


def test_log_and_view_chart_steps_through_every_arrival_and_commit():
    # 10 events/s, one batch of up to 5 events takes 0.5 s: commits at known times.
    sim = simulate_lag(duration=3, command_rate=10, projection_rate=10, batch_size=5)
    axes = log_and_view_chart(sim, until_s=2.0).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("time (s)", "events (count)")
    written, applied = axes.get_lines()
    arrivals = [t for t in sim.arrivals_s if t <= 2.0]
    assert list(written.get_xdata()) == [0.0, *arrivals, 2.0]
    assert list(written.get_ydata()) == [0, *range(1, len(arrivals) + 1), len(arrivals)]
    commits = [(t, a) for t, a in sim.commits if t <= 2.0]
    assert list(applied.get_xdata()) == [0.0, *(t for t, _ in commits), 2.0]
    assert list(applied.get_ydata()) == [0, *(a for _, a in commits), commits[-1][1]]
    assert axes.get_xlim() == (0.0, 2.0)
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["written: the log's head",
                                                                     "applied: the view's checkpoint"]


def test_batch_size_chart_uses_a_log_axis_and_leaves_a_gap_for_never():
    axes = batch_size_chart([1, 10, 100], [None, 35.0, 15.0], [0.05, 0.06, 0.15]).axes[0]
    assert axes.get_xscale() == "log"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("batch size (events, log scale)", "time (s)")
    cleared, freeze = axes.get_lines()
    assert math.isnan(cleared.get_ydata()[0]) and list(cleared.get_ydata()[1:]) == [35.0, 15.0]
    assert list(freeze.get_ydata()) == [0.05, 0.06, 0.15] and list(freeze.get_xdata()) == [1, 10, 100]
    assert len(axes.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="same"):
        batch_size_chart([1, 2], [1.0], [1.0, 2.0])


def test_gap_readers_chart_shows_both_checkpoints_and_what_each_missed():
    sim = simulate_gaps([ConcurrentWrite(1, 0.0, 0.30), ConcurrentWrite(2, 0.05, 0.10)], poll_interval_s=0.05,
                        gap_timeout_s=1.0, until_s=0.4)
    axes = gap_readers_chart(sim).axes[0]
    assert (axes.get_title(), axes.get_ylabel()) == ("Two readers of a log with gaps", "checkpoint (position)")
    naive, hwm = axes.get_lines()
    assert list(naive.get_ydata()) == [row["naive_checkpoint"] for row in sim.rows]
    assert list(hwm.get_ydata()) == [row["hwm_checkpoint"] for row in sim.rows]
    assert list(naive.get_xdata()) == [row["time_s"] for row in sim.rows]
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert labels == ["naive: position > checkpoint (1 skipped)", "high-water mark (0 lost)"]
    with pytest.raises(TypeError, match="GapSimulation"):
        gap_readers_chart(sim.rows)
