"""Notebook 15 · Capstone: one day of the shop, from the read side."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import ipywidgets as W
from matplotlib.figure import Figure

from ..examples.order_views import DailyStats, OrderViews
from ..plots import hourly_orders_chart
from .images import chart_image, show_figure
from .panel import panel


@dataclass(frozen=True)
class DayReport:
    """One UTC day of the shop, answered from the read side only (no event is read).

    ``paid`` comes from the Analytics view (GetStats for that day); ``created``
    counts the orders created that day by their status now, and
    ``paid_per_hour`` the payments of each hour per currency, both from the
    Order Summary view. ``position`` is the lowest checkpoint of the views:
    the report reflects at least every event up to it.
    """

    day: date
    position: int
    paid: list[DailyStats]
    created: dict[str, int]
    paid_per_hour: dict[str, list[int]]

    @property
    def orders_paid(self) -> int:
        """Payments recorded that day, all currencies."""
        return sum(stats.orders_paid for stats in self.paid)

    def describe(self) -> str:
        """The day in a few lines: payments per currency, what became of the day's orders, the busiest hour."""
        lines = [f"{self.day:%a %d %b %Y} (UTC), from the read side as of position {self.position:,}",
                 f"paid: {self.orders_paid} orders (Analytics view)"]
        lines += [f"  {s.currency}  {s.orders_paid:>4} orders  {s.revenue:>10,.2f}" for s in self.paid]
        if self.created:
            carts = self.created.get("created", 0)
            lines.append(f"orders created that day: {sum(self.created.values())}; now {self.created.get('paid', 0)} paid, "
                         f"{self.created.get('submitted', 0)} submitted and unpaid, {carts} carts never checked out")
        totals = [sum(hour) for hour in zip(*self.paid_per_hour.values())] if self.paid_per_hour else []
        if totals and max(totals):
            busiest = max(range(24), key=lambda hour: (totals[hour], -hour))
            lines.append(f"busiest hour: {busiest:02d}:00-{busiest + 1:02d}:00 UTC, {totals[busiest]} payments")
        return "\n".join(lines)

    def chart(self) -> Figure:
        """Payments per hour of the day, per currency (:func:`esdemo.plots.hourly_orders_chart`)."""
        per_hour = self.paid_per_hour or {"none": [0] * 24}
        return hourly_orders_chart(per_hour, title=f"Orders paid per hour on {self.day:%a %d %b %Y} (Order Summary view)")


def day_report(views: OrderViews, day: date) -> DayReport:
    """The read side's answer for one UTC ``day``: see :class:`DayReport`.

    >>> day_report(views, date(2024, 2, 18)).orders_paid
    """
    if not isinstance(views, OrderViews):
        raise TypeError(f"views must be the orders read side (OrderViews), got {type(views).__name__}")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"day must be a datetime.date such as date(2024, 2, 18), got {day!r}")
    position = min(runner.position for runner in views.runners)
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    window = [start, start + timedelta(days=1)]
    created: dict[str, int] = {}
    for row in views.summary.storage.query("created_at >= ? AND created_at < ?", window):
        created[row["status"]] = created.get(row["status"], 0) + 1
    per_hour: dict[str, list[int]] = {}
    for row in views.summary.storage.query("paid_at >= ? AND paid_at < ?", window):
        per_hour.setdefault(row["currency"], [0] * 24)[row["paid_at"].astimezone(timezone.utc).hour] += 1
    paid = views.get_stats(since=day, until=day).days
    return DayReport(day, position, paid, dict(sorted(created.items())), dict(sorted(per_hour.items())))


def build_day_widget(views: OrderViews, days: Sequence[date], *, start: date | None = None) -> W.VBox:
    """A slider over ``days``: the day's payments, orders and hourly chart, from the read side.

    ``panel.controls["day"]`` holds the date; ``panel.result`` shows
    :meth:`DayReport.describe`, ``panel.chart`` the chart (an image widget),
    ``panel.report`` and ``panel.figure`` the last report and its figure.
    """
    days = list(days)
    if not days:
        raise ValueError("pass the days to choose from, e.g. [date(2024, 2, 1) + timedelta(days=n) for n in range(29)]")
    start = days[0] if start is None else start
    if start not in days:
        raise ValueError(f"start must be one of the days offered, got {start}")
    controls = {"day": W.SelectionSlider(options=[(f"{d:%a %d %b}", d) for d in days], value=start,
                                         description="day", continuous_update=False,
                                         layout=W.Layout(width="36em"))}
    result = W.HTML()
    chart = chart_image()

    def show(_change: object = None) -> None:
        box.report = day_report(views, controls["day"].value)
        box.figure = box.report.chart()
        result.value = f"<pre style='margin:0'>{html.escape(box.report.describe())}</pre>"
        show_figure(chart, box.figure)

    box = panel(controls, result)
    box.children = (*box.children, chart)
    box.chart = chart
    controls["day"].observe(show, names="value")
    show()
    return box
