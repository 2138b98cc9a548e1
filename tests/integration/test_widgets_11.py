"""Notebook 11's lag explorer: the pure lag_experiment and the widget that redraws the chart."""

from __future__ import annotations

import pytest

from esdemo.simulation import simulate_lag
from esdemo.widgets import LAG_BATCH_SIZES, build_lag_widget, lag_experiment, png_bytes


def test_the_experiment_is_the_simulation_with_these_settings():
    experiment = lag_experiment(200, 250, 100)
    same = simulate_lag(duration=60, command_rate=200, projection_rate=250, batch_size=100, batch_overhead_s=0.02)
    assert experiment.simulation.rows == same.rows
    assert experiment.capacity == pytest.approx(100 / (0.02 + 100 / 250))
    assert experiment.keeps_up
    text = experiment.describe()
    assert "keeps up: the lag stays bounded" in text
    assert f"max lag: {same.summary()['max_lag_events']} events" in text


def test_small_batches_fall_behind_when_each_commit_costs_time():
    experiment = lag_experiment(200, 250, 10)           # 10 / (0.02 + 0.04) = 167 events/s < 200
    assert not experiment.keeps_up
    last = experiment.simulation.rows[-1]
    assert last["lag_events"] > 1000                    # about (200 - 167) * 60 s
    text = experiment.describe()
    assert f"it is {last['lag_events']} events behind" in text and "Bigger batches" in text


def test_a_projection_slower_than_the_writes_cannot_be_saved_by_batching():
    experiment = lag_experiment(300, 250, 1000)
    assert not experiment.keeps_up
    assert "No batch size can fix that" in experiment.describe()


def test_a_burst_builds_a_backlog_that_drains():
    calm, burst = lag_experiment(100, 250, 100), lag_experiment(100, 250, 100, burst=True)
    assert burst.simulation.summary()["events_written"] == calm.simulation.summary()["events_written"] + 3 * 100 * 10
    lag_at = {row["time_s"]: row["lag_events"] for row in burst.simulation.rows}
    assert lag_at[30.0] > 1000 and lag_at[55.0] < 100   # built up by the end of the burst, drained later
    assert "a backlog builds, then drains" in burst.describe()


def test_moving_the_sliders_reruns_the_simulation_and_redraws_the_chart():
    panel = build_lag_widget()
    first, first_png = panel.figure, bytes(panel.chart.value)
    assert "keeps up" in panel.result.value
    assert first_png.startswith(b"\x89PNG") and first_png == png_bytes(first)
    assert list(first.axes[0].get_lines()[0].get_ydata()) == [r["lag_events"] for r in panel.experiment.simulation.rows]

    panel.controls["projection_rate"].value = 150
    expected = simulate_lag(duration=60, command_rate=200, projection_rate=150, batch_size=100, batch_overhead_s=0.02)
    assert panel.figure is not first
    assert bytes(panel.chart.value) != first_png and bytes(panel.chart.value) == png_bytes(panel.figure)   # redrawn
    assert list(panel.figure.axes[0].get_lines()[0].get_ydata()) == [r["lag_events"] for r in expected.rows]
    assert "falls behind" in panel.result.value
    assert f"max lag: {expected.summary()['max_lag_events']} events" in panel.result.value
    assert "150 events/s projected" in panel.figure.axes[0].get_title()

    panel.controls["projection_rate"].value = 1000
    panel.controls["batch_size"].value = 1               # 1 / (0.02 + 0.001) = 48 events/s: behind again
    assert panel.experiment.batch_size == 1 and not panel.experiment.keeps_up
    panel.controls["batch_size"].value = 500
    panel.controls["burst"].value = True
    assert panel.experiment.burst and "x4 from 20 s to 30 s" in panel.result.value
    panel.controls["write_rate"].value = 50
    assert panel.experiment.write_rate == 50 and "keeps up" in panel.result.value


def test_the_widget_offers_only_the_listed_batch_sizes():
    assert build_lag_widget(batch_size=20).controls["batch_size"].options == LAG_BATCH_SIZES
    with pytest.raises(ValueError, match="batch_size must be one of"):
        build_lag_widget(batch_size=7)
