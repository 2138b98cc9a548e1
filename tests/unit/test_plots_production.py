"""The notify-latency chart draws one point per append and the median."""

from __future__ import annotations

import pytest

from esdemo.plots_production import plot_notify_latencies


def test_one_point_per_append_and_the_median_line():
    fig = plot_notify_latencies([3.0, 1.0, 2.0], poll_interval_s=30)
    ax = fig.axes[0]
    points, median = ax.lines
    assert list(points.get_ydata()) == [3.0, 1.0, 2.0] and list(points.get_xdata()) == [1, 2, 3]
    assert list(median.get_ydata()) == [2.0, 2.0]
    assert "30 s" in ax.get_title() and "median 2.0 ms" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_no_latencies_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one latency"):
        plot_notify_latencies([], poll_interval_s=30)
