"""Notebook 15's charts: GetStats per day and currency, stream lengths, payments per hour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import matplotlib.dates as mdates
import pytest

from esdemo.examples.order_views import DailyStats
from esdemo.plots import daily_stats_chart, hourly_orders_chart, stream_length_chart

DAYS = [DailyStats(date(2024, 2, 2), "USD", 3, Decimal("30.50")), DailyStats(date(2024, 2, 1), "USD", 2, Decimal("20.00")),
        DailyStats(date(2024, 2, 2), "EUR", 1, Decimal("9.99"))]


def test_daily_revenue_has_one_line_per_currency_in_day_order():
    axes = daily_stats_chart(DAYS, marks={date(2024, 2, 2): "V2 deployed"}).axes[0]
    assert axes.get_title() == "Revenue per day and currency (Analytics view)"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("day (UTC)", "revenue per day (each currency, not converted)")
    eur, usd, mark = axes.get_lines()
    assert list(usd.get_ydata()) == [20.0, 30.5] and list(eur.get_ydata()) == [9.99]
    assert list(usd.get_xdata()) == [date(2024, 2, 1), date(2024, 2, 2)]
    assert axes.get_xlim() == (mdates.date2num(date(2024, 2, 1)) - 0.5, mdates.date2num(date(2024, 2, 2)) + 0.5)
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["EUR", "USD", "V2 deployed"]


def test_daily_orders_paid_and_bad_measures():
    axes = daily_stats_chart(DAYS, "orders_paid").axes[0]
    assert axes.get_ylabel() == "orders paid (orders per day)"
    assert [list(line.get_ydata()) for line in axes.get_lines()] == [[1.0], [2.0, 3.0]]
    with pytest.raises(ValueError, match="measure must be one of"):
        daily_stats_chart(DAYS, "profit")
    with pytest.raises(ValueError, match="no days"):
        daily_stats_chart([])


def test_stream_length_bars():
    axes = stream_length_chart({4: 900, 2: 98, 8: 363}).axes[0]
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("events in the stream (events)", "streams (count)")
    assert [(bar.get_x() + bar.get_width() / 2, bar.get_height()) for bar in axes.patches] == [(2, 98), (4, 900), (8, 363)]
    with pytest.raises(ValueError):
        stream_length_chart({})


def test_hourly_bars_are_stacked_per_currency():
    usd, eur = [0] * 24, [0] * 24
    usd[9], usd[14], eur[14] = 3, 2, 4
    axes = hourly_orders_chart({"USD": usd, "EUR": eur}, title="Orders paid per hour").axes[0]
    assert axes.get_xlabel() == "hour of the day (UTC)" and axes.get_ylabel() == "orders paid (orders per hour)"
    eur_bars, usd_bars = axes.containers                       # currencies in name order, EUR at the bottom
    assert [bar.get_height() for bar in eur_bars] == eur
    assert [bar.get_height() for bar in usd_bars] == usd
    assert usd_bars[14].get_y() == 4 and usd_bars[9].get_y() == 0
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["EUR", "USD"]
    assert hourly_orders_chart({"USD": usd}, title="one").axes[0].get_legend() is None
    with pytest.raises(ValueError, match="24 counts"):
        hourly_orders_chart({"USD": [1, 2]}, title="x")
