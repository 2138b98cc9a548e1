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
