"""Notebook 08's chart: rebuild time against the number of events."""

from __future__ import annotations

import pytest

from esdemo.plots import rebuild_time_chart

SIZES = [5_000, 10_000, 20_000]
TIMES = {"per event (Python)": [0.1, 0.2, 0.4], "set-based (SQL)": [0.01, 0.012, 0.02]}


def test_one_line_per_method_with_the_measured_points():
    axes = rebuild_time_chart(SIZES, TIMES).axes[0]
    assert axes.get_title() == "Rebuilding the Order Summary: time against history"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("events in the log (events)", "rebuild time (s)")
    assert [line.get_label() for line in axes.lines] == list(TIMES)
    for line, times in zip(axes.lines, TIMES.values()):
        assert list(line.get_xdata()) == SIZES and list(line.get_ydata()) == times
    assert [t.get_text() for t in axes.get_legend().get_texts()] == list(TIMES)
    assert axes.get_ylim()[0] == 0 and axes.get_xlim()[0] == 0


def test_a_custom_title():
    assert rebuild_time_chart(SIZES, TIMES, title="x").axes[0].get_title() == "x"


@pytest.mark.parametrize("sizes, times", [([], TIMES), (SIZES, {}), (SIZES, {"per event": [0.1, 0.2]})])
def test_refuses_missing_or_mismatched_data(sizes, times):
    with pytest.raises(ValueError):
        rebuild_time_chart(sizes, times)
