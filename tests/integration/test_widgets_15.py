"""Notebook 15's day explorer: day_report on a hand-made shop and on the month, and the widget."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import EventStore, FakeClock, Repository
from esdemo.data import open_store
from esdemo.examples.order_views import OrderViews
from esdemo.examples.orders import Order
from esdemo.widgets import build_day_widget, day_report, png_bytes

UTC = timezone.utc


@pytest.fixture
def two_days():
    """Orders on 1 and 2 Feb: one paid the same day, one paid after midnight, one unpaid, one cart."""
    clock = FakeClock(datetime(2024, 2, 1, 9, tzinfo=UTC))
    store = EventStore(clock=clock)
    orders = Repository(store, Order)

    def at(when, order):
        clock.set(when)
        orders.save(order)

    day_order = Order.create("1", customer="c-1")
    at(datetime(2024, 2, 1, 9, 0, tzinfo=UTC), day_order)
    day_order.add_item("BOOK-1", Decimal("25.00"), 2)
    day_order.submit(at=datetime(2024, 2, 1, 9, 5, tzinfo=UTC))
    day_order.pay(currency="EUR")
    at(datetime(2024, 2, 1, 9, 10, tzinfo=UTC), day_order)             # paid in the 09:00 hour, EUR
    unpaid = Order.create("3", customer="c-3")
    unpaid.add_item("PEN-2", Decimal("2.50"))
    unpaid.submit(at=datetime(2024, 2, 1, 12, tzinfo=UTC))
    at(datetime(2024, 2, 1, 12, 0, tzinfo=UTC), unpaid)
    late = Order.create("2", customer="c-2")
    at(datetime(2024, 2, 1, 23, 50, tzinfo=UTC), late)
    late.add_item("MUG-1", Decimal("12.00"))
    late.submit(at=datetime(2024, 2, 1, 23, 55, tzinfo=UTC))
    late.pay()
    at(datetime(2024, 2, 2, 0, 20, tzinfo=UTC), late)                   # created on the 1st, paid on the 2nd
    at(datetime(2024, 2, 2, 15, 0, tzinfo=UTC), Order.create("4", customer="c-1"))   # a cart on the 2nd
    views = OrderViews(store)
    views.catch_up()
    yield store, views
    store.close()


def test_a_day_from_the_views(two_days):
    store, views = two_days
    first = day_report(views, date(2024, 2, 1))
    assert first.position == store.head()
    assert [(s.currency, s.orders_paid, s.revenue) for s in first.paid] == [("EUR", 1, Decimal("50.00"))]
    assert first.created == {"paid": 2, "submitted": 1}        # orders 1, 2 (paid since) and 3
    assert list(first.paid_per_hour) == ["EUR"] and first.paid_per_hour["EUR"][9] == 1
    assert sum(first.paid_per_hour["EUR"]) == 1
    text = first.describe()
    assert "paid: 1 orders" in text and "EUR     1 orders       50.00" in text
    assert "orders created that day: 3; now 2 paid, 1 submitted and unpaid, 0 carts" in text
    assert "busiest hour: 09:00-10:00 UTC, 1 payments" in text
    second = day_report(views, date(2024, 2, 2))
    assert [(s.currency, s.orders_paid) for s in second.paid] == [("USD", 1)]
    assert second.paid_per_hour == {"USD": [1] + [0] * 23} and second.created == {"created": 1}


def test_a_day_without_orders_and_bad_arguments(two_days):
    _, views = two_days
    empty = day_report(views, date(2024, 2, 3))
    assert (empty.paid, empty.created, empty.paid_per_hour, empty.orders_paid) == ([], {}, {}, 0)
    assert "busiest" not in empty.describe()
    assert sum(bar.get_height() for bar in empty.chart().axes[0].patches) == 0
    with pytest.raises(TypeError, match="datetime.date"):
        day_report(views, datetime(2024, 2, 1, tzinfo=UTC))
    with pytest.raises(TypeError, match="OrderViews"):
        day_report(object(), date(2024, 2, 1))


def test_the_report_only_reflects_what_the_views_have_applied(two_days):
    store, views = two_days
    order = Order.create("5", customer="c-5")
    order.add_item("TEA-3", Decimal("8.00"))
    order.submit(at=datetime(2024, 2, 2, 16, tzinfo=UTC))
    order.pay(currency="GBP")
    Repository(store, Order).save(order)            # the store's clock still says 2 Feb 15:00
    before = day_report(views, date(2024, 2, 2))
    assert before.position == store.head() - 4 and "GBP" not in before.paid_per_hour
    views.catch_up()
    assert day_report(views, date(2024, 2, 2)).paid_per_hour["GBP"][15] == 1


def test_on_the_month_the_hourly_counts_add_up_to_the_analytics_view():
    with open_store("shop_month") as store:
        views = OrderViews(store)
        views.catch_up()
        for day in (date(2024, 2, 1), date(2024, 2, 18), date(2024, 2, 29)):
            report = day_report(views, day)
            assert {s.currency: s.orders_paid for s in report.paid} == {
                currency: sum(hours) for currency, hours in report.paid_per_hour.items()}
        panel = build_day_widget(views, [date(2024, 2, 1) + timedelta(days=n) for n in range(29)],
                                 start=date(2024, 2, 18))
        first_png = bytes(panel.chart.value)
        assert panel.report.day == date(2024, 2, 18) and "Sun 18 Feb 2024" in panel.result.value
        assert first_png == png_bytes(panel.figure)
        panel.controls["day"].value = date(2024, 2, 3)           # before the V2 deploy: every payment in USD
        assert panel.report.day == date(2024, 2, 3) and list(panel.report.paid_per_hour) == ["USD"]
        assert "Sat 03 Feb 2024" in panel.result.value and "EUR" not in panel.result.value
        assert bytes(panel.chart.value) != first_png and bytes(panel.chart.value) == png_bytes(panel.figure)
        assert "Sat 03 Feb 2024" in panel.figure.axes[0].get_title()


def test_the_widget_refuses_an_empty_or_foreign_start(two_days):
    _, views = two_days
    with pytest.raises(ValueError, match="pass the days"):
        build_day_widget(views, [])
    with pytest.raises(ValueError, match="start must be one of"):
        build_day_widget(views, [date(2024, 2, 1)], start=date(2024, 2, 2))
