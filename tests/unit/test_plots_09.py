"""Notebook 09's charts: events replayed (exact) and load time (measured) against the stream's length."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from esdemo.plots import load_time_chart, replayed_chart

LENGTHS = pd.Index([500, 1000, 1050, 2000, 2050], name="events in the stream")
REPLAYED = pd.DataFrame({"no snapshots": [500, 1000, 1050, 2000, 2050],
                         "snapshot every 1,000": [500, 0, 50, 0, 50]}, index=LENGTHS)


def lines(figure: Figure) -> dict[str, tuple[list, list]]:
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in figure.axes[0].lines}


def test_replayed_chart_draws_one_step_line_per_column():
    figure = replayed_chart(REPLAYED)
    axes = figure.axes[0]
    assert axes.get_title() == "Events replayed to load an account"
    assert axes.get_xlabel() == "events in the stream (events)"
    assert axes.get_ylabel() == "events replayed per load (events)"
    assert lines(figure) == {name: (list(LENGTHS), list(REPLAYED[name])) for name in REPLAYED.columns}
    assert {line.get_drawstyle() for line in axes.lines} == {"steps-post"}  # counts change only at a save
    assert [t.get_text() for t in axes.get_legend().get_texts()] == list(REPLAYED.columns)
    assert axes.get_ylim()[0] == 0


def test_load_time_chart_plots_milliseconds_with_markers():
    timings = pd.DataFrame({"no snapshots": [10.0, 31.5], "snapshot every 1,000": [1.2, 1.4]},
                           index=pd.Index([1050, 5050], name="events in the stream"))
    figure = load_time_chart(timings, title="Loading account 123")
    axes = figure.axes[0]
    assert axes.get_title() == "Loading account 123"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("events in the stream (events)", "load time (ms)")
    assert lines(figure) == {"no snapshots": ([1050, 5050], [10.0, 31.5]),
                             "snapshot every 1,000": ([1050, 5050], [1.2, 1.4])}
    assert {line.get_marker() for line in axes.lines} == {"o"}
    assert axes.get_legend() is not None and axes.get_ylim()[0] == 0


def test_one_series_needs_no_legend():
    axes = replayed_chart(REPLAYED[["snapshot every 1,000"]]).axes[0]
    assert axes.get_legend() is None and len(axes.lines) == 1


@pytest.mark.parametrize("chart", [replayed_chart, load_time_chart])
def test_an_empty_table_is_refused_with_a_hint(chart):
    with pytest.raises(ValueError, match="one row per stream length and one column per series"):
        chart(pd.DataFrame())
