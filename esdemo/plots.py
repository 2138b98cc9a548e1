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

from matplotlib.axes import Axes
from matplotlib.figure import Figure

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

from collections.abc import Sequence  # noqa: E402  (each section keeps its own imports)

from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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

from datetime import datetime as _datetime  # noqa: E402  (each section keeps its own imports)
from decimal import Decimal as _Decimal  # noqa: E402

import matplotlib.dates as _mdates  # noqa: E402


def balance_chart(times: Sequence[_datetime], balances: Sequence[_Decimal | float], *, upto: int | None = None,
                  as_of: _datetime | None = None, title: str = "Account 123: the balance, replayed") -> Figure:
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
              label=f"step {upto}: balance {_Decimal(str(balances[upto - 1])):.2f}")
    if as_of is not None:
        axes.axvline(as_of, color="#6a4c93", linestyle="--", label=f"as of {as_of:%Y-%m-%d %H:%M}")
    axes.xaxis.set_major_formatter(_mdates.DateFormatter("%b %d"))
    axes.set_ylim(bottom=min(0.0, *values))
    axes.legend(loc="upper left", fontsize=8)
    return figure


# -- 07 · Snapshots: what a load replays, and what it costs ---------------------------------------
# This section's own imports (the file is shared; each section keeps its imports with it).

import pandas as pd  # noqa: E402


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
