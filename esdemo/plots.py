"""Charts for the notebooks: projection lag, replay cost, balances over time.

Conventions every chart here follows:

* a function takes plain data (lists, a DataFrame, a simulation's table) and
  returns a ``matplotlib.figure.Figure``; it never calls ``plt.show()`` and
  never touches pyplot's global state, so a widget can redraw it and a test
  can inspect it (``fig.axes[0].get_title()``, ``line.get_ydata()``);
* every chart has a title, axis labels **with units** (``"lag (events)"``,
  ``"load time (ms)"``), and a legend when it has more than one series;
* the look is fixed here, once, so that notebooks stay short.

In a notebook, the returned figure is displayed when it is the last value of
a cell; in a widget callback, ``display(fig)`` inside ``Output.capture``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .examples.order_views import DailyStats
from .gaps import GapSimulation
from .simulation import LagSimulation

SIZE = (7.5, 3.6)


def new_chart(title: str, xlabel: str, ylabel: str, *, size: tuple[float, float] = SIZE) -> tuple[Figure, Axes]:
    """An empty figure with one set of axes, titled and labelled (include the unit in each label)."""
    figure = Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    return figure, axes


# -- 01 · CQRS: where is the new price? -----------------------------------------------------------

SYNC_COLOURS = ("#d9d9d9", "#f4a259", "#5b8e7d")  # 0 nothing to show, 1 behind, 2 shows the current price
SYNC_MEANING = ("nothing to show", "behind (stale, or waiting to be relayed)", "shows the current price")


def price_sync_chart(steps: Sequence[str], places: Sequence[str], codes: Sequence[Sequence[int]],
                     labels: Sequence[Sequence[str]]) -> Figure:
    """A grid: one row per place the price is kept, one column per step of a price change.

    ``codes[row][column]`` colours a cell (0: nothing to show, 1: behind, 2:
    shows the write model's current price) and ``labels[row][column]`` is
    written in it (the price that place shows). Reading a column top to
    bottom answers "after this step, who already shows the new price?"
    """
    rows, columns = len(places), len(steps)
    if len(codes) != rows or len(labels) != rows or any(len(r) != columns for r in (*codes, *labels)):
        raise ValueError(f"codes and labels must be {rows} rows (places) of {columns} values (steps)")
    if any(code not in (0, 1, 2) for row in codes for code in row):
        raise ValueError("codes are 0 (nothing to show), 1 (behind) or 2 (current)")
    figure, axes = new_chart("Where is the new price? One column per step", "step (what just ran)",
                             "where the price is kept", size=(max(5.0, 1.3 * columns + 2.5), 0.45 * rows + 1.8))
    axes.imshow([list(row) for row in codes], cmap=ListedColormap(SYNC_COLOURS), vmin=0, vmax=2, aspect="auto")
    axes.grid(False)
    axes.set_xticks(range(columns), [str(step) for step in steps], rotation=20, ha="right")
    axes.set_yticks(range(rows), list(places))
    for row in range(rows):
        for column in range(columns):
            axes.text(column, row, labels[row][column], ha="center", va="center", fontsize=8)
    axes.legend(handles=[Patch(color=colour, label=meaning) for colour, meaning in zip(SYNC_COLOURS, SYNC_MEANING)],
                loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return figure


# -- 02 · Event sourcing: the balance, replayed ------------------------------------------------------

def balance_chart(times: Sequence[datetime], balances: Sequence[Decimal | float], *, upto: int | None = None,
                  as_of: datetime | None = None, title: str = "Account 123: the balance, replayed") -> Figure:
    """The balance after each event, as a step line over time (it only changes when an event happens).

    ``upto=n`` draws the first ``n`` steps (what a replay to step ``n`` has
    seen) in colour with a dot on step ``n``, and the rest of the stream in
    grey. ``as_of`` draws a dashed line at that instant (a temporal query).
    """
    if len(times) != len(balances) or not times:
        raise ValueError(f"need one balance per time, and at least one: got {len(times)} times, {len(balances)} balances")
    if upto is not None and not 1 <= upto <= len(times):
        raise ValueError(f"upto must be between 1 and {len(times)} (a step of the stream), got {upto}")
    upto = len(times) if upto is None else upto
    values = [float(balance) for balance in balances]
    figure, axes = new_chart(title, "recorded at (UTC)", "balance (USD)")
    if upto < len(times):
        axes.plot(times, values, drawstyle="steps-post", color="#bbbbbb", marker="o", markersize=3,
                  label="rest of the stream")
    axes.plot(times[:upto], values[:upto], drawstyle="steps-post", color="#1f6f8b", marker="o", markersize=4,
              label=f"replayed: steps 1-{upto}")
    axes.plot([times[upto - 1]], [values[upto - 1]], "o", color="#d1495b", markersize=9,
              label=f"step {upto}: balance {Decimal(str(balances[upto - 1])):.2f}")
    if as_of is not None:
        axes.axvline(as_of, color="#6a4c93", linestyle="--", label=f"as of {as_of:%Y-%m-%d %H:%M}")
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    axes.set_ylim(bottom=min(0.0, *values))
    axes.legend(loc="upper left", fontsize=8)
    return figure


# -- 06 · Rebuilding projections: rebuild time against history --------------------------------------

def rebuild_time_chart(events: Sequence[int], seconds: Mapping[str, Sequence[float]], *,
                       title: str = "Rebuilding the Order Summary: time against history") -> Figure:
    """Measured rebuild time against the number of events in the log, one line per method.

    ``events`` are the log sizes measured; ``seconds`` maps each method (e.g.
    ``"per event (Python)"``, ``"set-based (SQL)"``) to one time per size.
    A per-event rebuild grows in a straight line with history: twice the
    events, twice the wait. Timings differ between machines and runs, so
    show this chart in a cell whose first line is ``# NBVAL_IGNORE_OUTPUT``.

    >>> rebuild_time_chart([10_000, 20_000], {"per event (Python)": [0.2, 0.4], "set-based (SQL)": [0.02, 0.03]})
    """
    sizes = [int(n) for n in events]
    if not sizes or not seconds:
        raise ValueError("nothing to plot: pass the log sizes and at least one method's times")
    for method, times in seconds.items():
        if len(times) != len(sizes):
            raise ValueError(f"{method!r} has {len(times)} times for {len(sizes)} log sizes; give one time per size")
    figure, axes = new_chart(title, "events in the log (events)", "rebuild time (s)")
    for method, times in seconds.items():
        axes.plot(sizes, [float(t) for t in times], marker="o", label=str(method))
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.xaxis.set_major_formatter(lambda value, _position: f"{value:,.0f}")
    axes.legend()
    return figure


# -- 07 · Snapshots: what a load replays, and what it costs ---------------------------------------

def _lines_by_column(axes: Axes, frame: pd.DataFrame, *, drawstyle: str = "default", marker: str | None = None) -> None:
    if frame.empty or len(frame.columns) == 0:
        raise ValueError("nothing to plot: pass a DataFrame with one row per stream length and one column per series")
    for name in frame.columns:
        axes.plot(frame.index, frame[name], label=str(name), drawstyle=drawstyle, marker=marker)
    axes.set_ylim(bottom=0)
    if len(frame.columns) > 1:
        axes.legend()


def replayed_chart(frame: pd.DataFrame, *, title: str = "Events replayed to load an account") -> Figure:
    """Events replayed per load against the stream's length, one line per column of ``frame``.

    ``frame`` is indexed by the number of events in the stream; each column is
    one way of loading it (``"no snapshots"``, ``"snapshot every 1,000"``).
    Without snapshots the line is the diagonal; with them, a saw-tooth that
    never climbs above one interval. The counts are exact, so the chart is
    the same on every machine.
    """
    figure, axes = new_chart(title, "events in the stream (events)", "events replayed per load (events)")
    _lines_by_column(axes, frame, drawstyle="steps-post")
    return figure


def load_time_chart(frame: pd.DataFrame, *, title: str = "Time to load an account") -> Figure:
    """Measured load time against the stream's length, one line per column of ``frame`` (milliseconds).

    Timings differ between machines and runs: show this chart in a cell whose
    first line is ``# NBVAL_IGNORE_OUTPUT``, next to :func:`replayed_chart`.
    """
    figure, axes = new_chart(title, "events in the stream (events)", "load time (ms)")
    _lines_by_column(axes, frame, marker="o")
    return figure


# -- 09 · Eventual consistency: lag over time, batch sizes, gaps ---------------------------------

def lag_chart(runs: Mapping[str, LagSimulation], *, title: str = "Projection lag over time") -> Figure:
    """How many events a view is behind the log, second by second: one line per labelled simulation.

    >>> lag_chart({"projection 250 events/s": fast, "projection 150 events/s": slow},
    ...           title="Writes at 200 events/s")
    """
    if not runs:
        raise ValueError("pass at least one simulation, e.g. {'projection 250 events/s': simulate_lag(...)}")
    figure, axes = new_chart(title, "time (s)", "lag (events)")
    for label, simulation in runs.items():
        if not isinstance(simulation, LagSimulation):
            raise TypeError(f"{label!r} must be a LagSimulation (from simulate_lag), got {type(simulation).__name__}")
        axes.plot([row["time_s"] for row in simulation.rows], [row["lag_events"] for row in simulation.rows],
                  label=label)
    axes.set_ylim(bottom=0)
    if len(runs) > 1:
        axes.legend(loc="upper left", fontsize=8)
    return figure


def log_and_view_chart(simulation: LagSimulation, *, until_s: float | None = None,
                       title: str = "The log moves on every append, the view at every commit") -> Figure:
    """Events written to the log and events applied by the view, exactly (every arrival, every commit).

    The vertical distance between the two lines is the lag. The view's line is
    a staircase: a batch becomes visible all at once, when it commits.
    ``until_s`` zooms in on the first seconds.
    """
    if not isinstance(simulation, LagSimulation):
        raise TypeError(f"pass a LagSimulation (from simulate_lag), got {type(simulation).__name__}")
    end = until_s if until_s is not None else simulation.rows[-1]["time_s"]
    written = [t for t in simulation.arrivals_s if t <= end]
    commits = [(t, applied) for t, applied in simulation.commits if t <= end]
    figure, axes = new_chart(title, "time (s)", "events (count)")
    axes.step([0.0, *written, end], [0, *range(1, len(written) + 1), len(written)], where="post",
              label="written: the log's head")
    axes.step([0.0, *(t for t, _ in commits), end], [0, *(a for _, a in commits), commits[-1][1] if commits else 0],
              where="post", label="applied: the view's checkpoint")
    axes.set_xlim(0, end)
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def batch_size_chart(batch_sizes: Sequence[int], backlog_cleared_s: Sequence[float | None],
                     longest_freeze_s: Sequence[float], *,
                     title: str = "Catching up a backlog: batch size against time") -> Figure:
    """Two costs of a batch size, on a log scale: time to clear a backlog, and the longest time the view froze.

    ``None`` in ``backlog_cleared_s`` (never cleared within the run) leaves a gap in the line.
    """
    if not len(batch_sizes) == len(backlog_cleared_s) == len(longest_freeze_s) or not batch_sizes:
        raise ValueError("batch_sizes, backlog_cleared_s and longest_freeze_s must be lists of the same, non-zero length")
    figure, axes = new_chart(title, "batch size (events, log scale)", "time (s)")
    axes.set_xscale("log")
    cleared = [math.nan if value is None else value for value in backlog_cleared_s]
    axes.plot(list(batch_sizes), cleared, marker="o", label="backlog cleared after (s)")
    axes.plot(list(batch_sizes), list(longest_freeze_s), marker="s", label="longest freeze of the view (s)")
    axes.set_ylim(bottom=0)
    axes.legend(loc="center right", fontsize=8)
    return figure


def gap_readers_chart(simulation: GapSimulation, *, title: str = "Two readers of a log with gaps") -> Figure:
    """Each reader's checkpoint (the last position it delivered) at every poll.

    The naive reader's line runs ahead: it jumps over a gap at once, and
    whatever commits into that gap later is behind it, skipped. The
    high-water mark waits at the gap until it fills (or times out).
    """
    if not isinstance(simulation, GapSimulation):
        raise TypeError(f"pass a GapSimulation (from simulate_gaps), got {type(simulation).__name__}")
    figure, axes = new_chart(title, "time (s)", "checkpoint (position)")
    times = [row["time_s"] for row in simulation.rows]
    axes.step(times, [row["naive_checkpoint"] for row in simulation.rows], where="post",
              label=f"naive: position > checkpoint ({len(simulation.naive_missed)} skipped)")
    axes.step(times, [row["hwm_checkpoint"] for row in simulation.rows], where="post", linestyle="--",
              label=f"high-water mark ({len(simulation.hwm_lost)} lost)")
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))   # positions are whole numbers
    axes.legend(loc="upper left", fontsize=8)
    return figure


# -- 10 · Capstone: an order system ----------------------------------------------------------------

DAILY_MEASURES = {
    "revenue": ("Revenue per day and currency (Analytics view)", "revenue per day (each currency, not converted)"),
    "orders_paid": ("Orders paid per day and currency (Analytics view)", "orders paid (orders per day)"),
}
"""What :func:`daily_stats_chart` can draw: the measure, its title and its y label (with units)."""


def daily_stats_chart(days: Sequence[DailyStats], measure: str = "revenue", *,
                      marks: Mapping[date, str] | None = None) -> Figure:
    """One line per currency over the days of GetStats: ``measure`` is ``"revenue"`` or ``"orders_paid"``.

    Amounts in different currencies are never added: each has its own line.
    ``marks`` draws a dashed vertical line per date, e.g. ``{date(2024, 2, 5): "OrderPaid V2 deployed"}``.
    """
    if measure not in DAILY_MEASURES:
        raise ValueError(f"measure must be one of {sorted(DAILY_MEASURES)}, got {measure!r}")
    if not days:
        raise ValueError("no days to draw: pass GetStats().days from a view that has applied some payments")
    title, ylabel = DAILY_MEASURES[measure]
    figure, axes = new_chart(title, "day (UTC)", ylabel)
    for currency in sorted({day.currency for day in days}):
        mine = sorted((day.day, getattr(day, measure)) for day in days if day.currency == currency)
        axes.plot([d for d, _ in mine], [float(value) for _, value in mine], marker=".", label=currency)
    for when, label in (marks or {}).items():
        axes.axvline(when, color="#6a4c93", linestyle="--", label=label)
    first, last = min(day.day for day in days), max(day.day for day in days)
    axes.set_xlim(mdates.date2num(first) - 0.5, mdates.date2num(last) + 0.5)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    axes.set_ylim(bottom=0)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return figure


def stream_length_chart(lengths: Mapping[int, int], *, title: str = "Events per order stream") -> Figure:
    """Bars: how many streams have 1, 2, 3... events. Tells you whether snapshots could pay off."""
    if not lengths:
        raise ValueError("pass {events in the stream: number of streams}, e.g. from the streams table")
    figure, axes = new_chart(title, "events in the stream (events)", "streams (count)")
    events = sorted(lengths)
    axes.bar(events, [lengths[n] for n in events], color="#5b8e7d")
    axes.set_xticks(events)
    return figure


def hourly_orders_chart(per_hour: Mapping[str, Sequence[int]], *, title: str) -> Figure:
    """Stacked bars: orders paid in each hour of the day (UTC), one colour per currency.

    ``per_hour`` maps a currency to 24 counts, hour 0 first.
    """
    if not per_hour or any(len(counts) != 24 for counts in per_hour.values()):
        raise ValueError("per_hour must map each currency to 24 counts, one per hour of the day")
    figure, axes = new_chart(title, "hour of the day (UTC)", "orders paid (orders per hour)")
    bottom = [0] * 24
    for currency in sorted(per_hour):
        counts = list(per_hour[currency])
        axes.bar(range(24), counts, bottom=bottom, label=currency)
        bottom = [b + c for b, c in zip(bottom, counts)]
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlim(-0.5, 23.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(per_hour) > 1:
        axes.legend(loc="upper left", fontsize=8)
    return figure


def poison_race_chart(rounds: Sequence[Any]) -> Figure:
    """Lag per round for each failure policy (from :func:`esdemo.poison_events.poison_race`): a stuck view climbs, a parking one stays at 0."""
    figure = Figure(figsize=(8.5, 3.6), layout="constrained")
    axes = figure.add_subplot()
    for label in dict.fromkeys(r.policy for r in rounds):
        mine = [r for r in rounds if r.policy == label]
        axes.plot([r.round for r in mine], [r.lag for r in mine], marker="o", label=label)
        for r in mine:
            if r.parked and r is mine[-1]:
                axes.annotate(f"{r.parked} parked", (r.round, r.lag), xytext=(0, 8), textcoords="offset points",
                              ha="center", fontsize=8)
    axes.set_xlabel("round (a few payments each)")
    axes.set_ylabel("lag (events not applied)")
    axes.set_title("One poison event: the view that stops falls behind for ever; the one that parks keeps up")
    axes.legend(title="failure policy")
    return figure
