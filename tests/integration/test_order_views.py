"""The orders read side: the seed's three views and queries, checked against the write model.

DuckDB only: the example views keep money as DECIMAL and their set-based SQL
uses DuckDB's JSON operators (the generic machinery is tested on both backends).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import EventStore, FakeClock, Repository
from esdemo.examples.order_views import OrderSummary, OrderViews
from esdemo.examples.orders import Order, order_paid_v1
from esdemo.read.projection import ProjectionTimeoutError
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.rebuild import rebuild, rebuild_set_based

T0 = datetime(2024, 1, 1, 22, 0, tzinfo=timezone.utc)
# (order id, customer, items [(sku, price, qty)], submit?, pay? (currency, or "v1" for an old V1 payment))
ORDERS = [
    ("12345", "c-42", [("BOOK-1", "25.00", 2), ("PEN-7", "1.50", 1)], True, "USD"),
    ("12346", "c-42", [("MUG-3", "9.99", 3)], True, None),
    ("12347", "c-7", [("LAMP-2", "40.00", 1)], True, "EUR"),
    ("12348", "c-7", [], False, None),
    ("12349", "c-9", [("BOOK-1", "25.00", 1)], True, "v1"),
    ("12350", "c-9", [("PEN-7", "1.50", 4), ("MUG-3", "9.99", 1)], True, "USD"),
]


@pytest.fixture
def shop():
    """A store with the ORDERS above, written through the Repository; an hour between commands."""
    clock = FakeClock(T0, step=timedelta(hours=1))
    store = EventStore(clock=clock)
    orders = Repository(store, Order)
    for order_id, customer, items, submit, pay in ORDERS:
        order = Order.create(order_id, customer=customer)
        orders.save(order)
        for sku, price, quantity in items:
            order.add_item(sku, Decimal(price), quantity=quantity)
            orders.save(order)
        if submit:
            order.submit(at=clock.peek())
            orders.save(order)
        if pay == "v1":      # written by the old code: OrderPaid V1 has no currency
            store.append(order.stream_id, [order_paid_v1(order_id, order.total)], expected_version=order.version)
        elif pay:
            order.pay(currency=pay)
            orders.save(order)
    yield store, orders, clock
    store.close()


def test_get_order_agrees_with_the_write_model_for_every_order(shop):
    store, orders, _ = shop
    views = OrderViews(store)
    assert views.catch_up() == store.head()
    for order_id, *_ in ORDERS:
        order, row = orders.load(order_id), views.get_order(order_id)
        assert (row.customer_id, row.status, row.total) == (order.customer_id, order.status, order.total)
        assert row.item_count == sum(line["quantity"] for line in order.lines)
        assert row.submitted_at == order.submitted_at
        assert (row.paid_amount, row.currency) == (order.paid_amount, order.currency)
        events = store.read(order.stream_id)
        assert row.created_at == events[0].recorded_at
        paid = [e.recorded_at for e in events if e.type == "OrderPaid"]
        assert row.paid_at == (paid[0] if paid else None)          # the seed's paidAt: event.timestamp
    assert views.get_order("no-such-order") is None


def test_an_old_v1_payment_reads_as_usd_through_the_upcaster(shop):
    store, _, _ = shop
    views = OrderViews(store)
    views.catch_up()
    row = views.get_order("12349")
    assert (row.status, row.paid_amount, row.currency) == ("paid", Decimal("25.00"), "USD")


def test_list_orders_per_customer_newest_first_and_by_status(shop):
    store, orders, _ = shop
    views = OrderViews(store)
    views.catch_up()
    assert [row.order_id for row in views.list_orders("c-42")] == ["12346", "12345"]
    everyone = views.list_orders(limit=None)
    assert sorted(row.order_id for row in everyone) == sorted(o[0] for o in ORDERS)
    assert [row.created_at for row in everyone] == sorted((row.created_at for row in everyone), reverse=True)
    assert {row.order_id for row in views.list_orders(status="paid", limit=None)} == {"12345", "12347", "12349", "12350"}
    assert [row.order_id for row in views.list_orders("c-7", status="created")] == ["12348"]
    last_change = store.read("Order-12346")[-1].recorded_at
    (row,) = [row for row in views.list_orders("c-42") if row.order_id == "12346"]
    assert (row.updated_at, row.total, row.status) == (last_change, orders.load("12346").total, "submitted")
    assert len(views.list_orders(limit=2)) == 2


def test_get_stats_revenue_and_orders_per_day_and_currency(shop):
    store, orders, _ = shop
    views = OrderViews(store)
    views.catch_up()
    stats = views.get_stats()
    expected: dict = {}
    for event in store.read_all():
        if event.type == "OrderPaid":
            order = orders.load(event.data["order_id"])
            key = (event.recorded_at.date(), order.currency)
            count, revenue = expected.get(key, (0, Decimal(0)))
            expected[key] = (count + 1, revenue + order.paid_amount)
    assert {(d.day, d.currency): (d.orders_paid, d.revenue) for d in stats.days} == expected
    assert stats.orders_paid == 4
    assert stats.revenue == {"USD": Decimal("51.50") + Decimal("25.00") + Decimal("15.99"), "EUR": Decimal("40.00")}
    first_day = min(d.day for d in stats.days)
    later = views.get_stats(since=first_day + timedelta(days=1))
    assert all(d.day > first_day for d in later.days) and later.orders_paid < stats.orders_paid
    assert views.get_stats(until=first_day).days == [d for d in stats.days if d.day == first_day]


def test_per_event_and_set_based_rebuilds_of_the_order_summary_are_identical(shop):
    store, _, _ = shop
    projection = OrderSummary()
    ProjectionRunner(store, projection).catch_up()
    rebuild(store, projection)
    per_event = projection.storage.query(order_by="order_id")
    report = rebuild_set_based(store, projection)
    set_based = projection.storage.query(order_by="order_id")
    assert set_based == per_event and len(set_based) == len(ORDERS)
    assert report.position == store.head()
    frame = store.sql("SELECT * FROM order_summary ORDER BY order_id")          # the SQL tables, compared raw
    assert list(frame.columns) == list(projection.storage.columns)


def test_read_your_writes_with_live_views(shop):
    store, orders, _ = shop
    with OrderViews(store).start() as views:
        order = Order.create("20000", customer="c-1")
        order.add_item("BOOK-1", Decimal("25.00"))
        result = orders.save(order)
        views.wait_for(result.position, timeout=10)
        row = views.get_order("20000")
        assert (row.status, row.total, row.item_count) == ("created", Decimal("25.00"), 1)
        assert [r.order_id for r in views.list_orders("c-1")] == ["20000"]


def test_without_a_runner_a_read_your_writes_wait_times_out_clearly(shop):
    store, orders, _ = shop
    views = OrderViews(store)
    views.catch_up()
    order = Order.create("20001", customer="c-1")
    result = orders.save(order)
    assert views.get_order("20001") is None                     # eventual consistency, visibly
    with pytest.raises(ProjectionTimeoutError, match=f"order_summary.*position {result.position}"):
        views.wait_for(result.position, timeout=0.05)
    assert [lag.events for lag in views.lag()] == [1, 1, 1]
    views.catch_up()
    assert views.get_order("20001").status == "created"
