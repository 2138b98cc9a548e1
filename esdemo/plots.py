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
