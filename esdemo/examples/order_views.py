"""The read side of the orders domain: the seed's three views and three queries.

::

    Commands -> Event Store -> Projections             Queries (read only from views)
                OrderCreated   Order Summary View   ->  GetOrder     get_order("12345")
                ItemAdded      Customer Orders View ->  ListOrders   list_orders(customer_id="c-42")
                OrderPaid      Analytics View       ->  GetStats     get_stats()

>>> views = OrderViews(store)              # three projections, each with its runner
>>> result = orders.save(order)            # the write side returns the position it wrote
>>> views.catch_up()                       # or views.start() and views.wait_for(result.position)
>>> views.get_order("12345")
OrderSummaryRow(order_id='12345', customer_id='c-42', status='paid', item_count=3, total=Decimal('51.50'), ...)

The views are tables in the store's DuckDB database (see :mod:`esdemo.read.sql_views`).
They are DuckDB-first: money is ``DECIMAL`` and :attr:`OrderSummary.rebuild_sql`
uses DuckDB's JSON operators. "Paid at" is the ``OrderPaid`` event's
``recorded_at`` (the seed's ``event.timestamp``); days are UTC days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from ..read.projection import Projection
from ..read.runner_group import RunnerGroup
from ..read.sql_views import SqlTable
from ..write.domain import default_registry
from .orders import ItemAdded, OrderCreated, OrderPaid, OrderSubmitted

if TYPE_CHECKING:
    from ..store.event_store import EventStore

ORDER_EVENTS = ("OrderCreated", "ItemAdded", "OrderSubmitted", "OrderPaid")


@dataclass(frozen=True)
class OrderSummaryRow:
    """One order as GetOrder shows it."""

    order_id: str
    customer_id: str
    status: str
    item_count: int
    total: Decimal
    created_at: datetime
    submitted_at: datetime | None
    paid_at: datetime | None
    paid_amount: Decimal | None
    currency: str | None


@dataclass(frozen=True)
class CustomerOrderRow:
    """One line of a customer's order list (ListOrders)."""

    order_id: str
    customer_id: str
    status: str
    item_count: int
    total: Decimal
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DailyStats:
    """Paid orders and revenue of one UTC day, in one currency."""

    day: date
    currency: str
    orders_paid: int
    revenue: Decimal


@dataclass(frozen=True)
class OrderStats:
    """GetStats: the days, and the totals per currency (amounts in different currencies are never added)."""

    days: list[DailyStats]
    orders_paid: int
    revenue: dict[str, Decimal]


class OrderSummary(Projection):
    """The seed's OrderSummaryProjection: one row per order, status and total kept current."""

    name = "order_summary"
    event_types = ORDER_EVENTS
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key="order_id", columns={
            "order_id": "VARCHAR", "customer_id": "VARCHAR", "status": "VARCHAR", "item_count": "INTEGER",
            "total": "DECIMAL(18, 2)", "created_at": "TIMESTAMP", "submitted_at": "TIMESTAMP",
            "paid_at": "TIMESTAMP", "paid_amount": "DECIMAL(18, 2)", "currency": "VARCHAR"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case OrderCreated(order_id=order_id, customer_id=customer_id):
                view.insert({"order_id": order_id, "customer_id": customer_id, "status": "created",
                             "item_count": 0, "total": Decimal("0"), "created_at": recorded.recorded_at})
            case ItemAdded(order_id=order_id, price=price, quantity=quantity):
                row = view[order_id]
                view.update(order_id, item_count=row["item_count"] + quantity, total=row["total"] + price * quantity)
            case OrderSubmitted(order_id=order_id, submitted_at=submitted_at):
                view.update(order_id, status="submitted", submitted_at=submitted_at)
            case OrderPaid(order_id=order_id, amount=amount, currency=currency):
                view.update(order_id, status="paid", paid_at=recorded.recorded_at, paid_amount=amount,
                            currency=currency)

    def key_of(self, event, recorded) -> str:
        return event.order_id   # every order event names its order: the runner loads a batch's rows at once

    # The same view as ONE statement over the log, for rebuild_set_based(). It has to repeat the
    # handler's logic by hand, and the upcaster too: OrderPaid V1 has no currency, it was USD.
    # json_transform parses each event's JSON once, into a struct of every field any order event has.
    rebuild_sql = """
        SELECT e.order_id,
            arg_max(e.customer_id, position) FILTER (WHERE type = 'OrderCreated') AS customer_id,
            coalesce(arg_max(CASE type WHEN 'OrderPaid' THEN 'paid' ELSE 'submitted' END, position)
                     FILTER (WHERE type IN ('OrderSubmitted', 'OrderPaid')), 'created') AS status,
            coalesce(sum(e.quantity) FILTER (WHERE type = 'ItemAdded'), 0) AS item_count,
            CAST(coalesce(sum(CAST(e.price."$decimal" AS DECIMAL(38, 10)) * e.quantity)
                          FILTER (WHERE type = 'ItemAdded'), 0) AS DECIMAL(18, 2)) AS total,
            min(recorded_at) FILTER (WHERE type = 'OrderCreated') AS created_at,
            arg_max(CAST(e.submitted_at."$datetime" AS TIMESTAMPTZ) AT TIME ZONE 'UTC', position)
                FILTER (WHERE type = 'OrderSubmitted') AS submitted_at,
            arg_max(recorded_at, position) FILTER (WHERE type = 'OrderPaid') AS paid_at,
            arg_max(CAST(e.amount."$decimal" AS DECIMAL(18, 2)), position) FILTER (WHERE type = 'OrderPaid') AS paid_amount,
            arg_max(CASE WHEN schema_version = 1 THEN 'USD' ELSE e.currency END, position)
                FILTER (WHERE type = 'OrderPaid') AS currency
        FROM (SELECT position, type, schema_version, recorded_at, json_transform(data, '{
                  "order_id": "VARCHAR", "customer_id": "VARCHAR", "quantity": "INTEGER",
                  "price": {"$decimal": "VARCHAR"}, "amount": {"$decimal": "VARCHAR"}, "currency": "VARCHAR",
                  "submitted_at": {"$datetime": "VARCHAR"}}') AS e
              FROM {events} WHERE type IN ('OrderCreated', 'ItemAdded', 'OrderSubmitted', 'OrderPaid')) AS order_events
        GROUP BY e.order_id
        HAVING count(*) FILTER (WHERE type = 'OrderCreated') > 0
    """


# Much like OrderSummary on purpose: each query gets its own view over the same events (read models duplicate data).
class CustomerOrders(Projection):
    """Customer Orders: the "my orders" list, only what a list shows, plus when each order last changed."""

    name = "customer_orders"
    event_types = ORDER_EVENTS
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key="order_id", columns={
            "order_id": "VARCHAR", "customer_id": "VARCHAR", "status": "VARCHAR", "item_count": "INTEGER",
            "total": "DECIMAL(18, 2)", "created_at": "TIMESTAMP", "updated_at": "TIMESTAMP"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case OrderCreated(order_id=order_id, customer_id=customer_id):
                view.insert({"order_id": order_id, "customer_id": customer_id, "status": "created", "item_count": 0,
                             "total": Decimal("0"), "created_at": recorded.recorded_at,
                             "updated_at": recorded.recorded_at})
            case ItemAdded(order_id=order_id, quantity=quantity, new_total=new_total):
                row = view[order_id]
                view.update(order_id, item_count=row["item_count"] + quantity, total=new_total,
                            updated_at=recorded.recorded_at)
            case OrderSubmitted(order_id=order_id):
                view.update(order_id, status="submitted", updated_at=recorded.recorded_at)
            case OrderPaid(order_id=order_id):
                view.update(order_id, status="paid", updated_at=recorded.recorded_at)

    def key_of(self, event, recorded) -> str:
        return event.order_id


class OrderAnalytics(Projection):
    """Analytics: paid orders and revenue per UTC day and currency (the day the payment was recorded)."""

    name = "order_stats_daily"
    event_types = ("OrderPaid",)
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key=("day", "currency"), columns={
            "day": "DATE", "currency": "VARCHAR", "orders_paid": "INTEGER", "revenue": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case OrderPaid(amount=amount, currency=currency):
                key = (recorded.recorded_at.astimezone(timezone.utc).date(), currency)
                row = view.get(key, {"orders_paid": 0, "revenue": Decimal("0")})
                view.upsert({"day": key[0], "currency": currency, "orders_paid": row["orders_paid"] + 1,
                             "revenue": row["revenue"] + amount})


class OrderViews(RunnerGroup):
    """The orders read side in one object: the three projections, their runners, the three queries.

    ``clock`` is passed to the runners for :meth:`lag` (``fake.peek`` with a FakeClock).
    """

    def __init__(self, store: EventStore, *, batch_size: int = 1000, clock: Callable[[], datetime] | None = None):
        self.summary, self.customer_orders, self.analytics = OrderSummary(), CustomerOrders(), OrderAnalytics()
        super().__init__(store, [self.summary, self.customer_orders, self.analytics], batch_size=batch_size, clock=clock)

    # -- the queries: they read views only, never the event store -------------------------------------
    def get_order(self, order_id: str) -> OrderSummaryRow | None:
        """GetOrder: one order from the Order Summary view (``None`` if the view does not have it (yet))."""
        rows = self.summary.storage.query("order_id = ?", [str(order_id)])
        return OrderSummaryRow(**rows[0]) if rows else None

    def list_orders(self, customer_id: str | None = None, *, status: str | None = None,
                    limit: int | None = 50) -> list[CustomerOrderRow]:
        """ListOrders: a customer's (or everyone's) orders from Customer Orders, newest first."""
        conditions, params = [], []
        for column, value in (("customer_id", customer_id), ("status", status)):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        rows = self.customer_orders.storage.query(" AND ".join(conditions), params,
                                                  order_by="created_at DESC, order_id", limit=limit)
        return [CustomerOrderRow(**row) for row in rows]

    def get_stats(self, *, since: date | None = None, until: date | None = None) -> OrderStats:
        """GetStats: paid orders and revenue per day (``since``/``until`` inclusive) from the Analytics view."""
        conditions, params = [], []
        if since is not None:
            conditions.append("day >= ?")
            params.append(since)
        if until is not None:
            conditions.append("day <= ?")
            params.append(until)
        days = [DailyStats(**row) for row in
                self.analytics.storage.query(" AND ".join(conditions), params, order_by="day, currency")]
        revenue: dict[str, Decimal] = {}
        for day in days:
            revenue[day.currency] = revenue.get(day.currency, Decimal("0")) + day.revenue
        return OrderStats(days, sum(day.orders_paid for day in days), revenue)
