"""Notebook 08's exercise checks, each with a right answer and the typical wrong ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import (
    EventStore,
    Projection,
    ProjectionRunner,
    Repository,
    SqlTable,
    default_registry,
    seeded_ids,
)
from esdemo.examples.orders import ItemAdded, Order, OrderCreated, OrderPaid, OrderSubmitted
from esdemo.exercises import OPEN_CART_COLUMNS, SkuDemand, check_open_carts, check_sku_demand_sql
from esdemo.tables import live_rows

ITEMS = """FROM {events} WHERE type = 'ItemAdded'"""
PRICE = """CAST(data->>'$.price."$decimal"' AS DECIMAL(18, 2))"""
QUANTITY = """CAST(data->>'$.quantity' AS INTEGER)"""
RIGHT_SQL = f"""
    SELECT data->>'$.sku' AS sku, sum({QUANTITY}) AS units, sum({PRICE} * {QUANTITY}) AS value
    {ITEMS} GROUP BY sku
"""


def test_the_reference_projection_counts_units_and_value_per_sku(clock):
    with EventStore(clock=clock) as store:
        orders = Repository(store, Order, id_factory=seeded_ids(1))
        for order_id, lines in [("1", [("BOOK-1", "25.00", 2), ("PEN-2", "2.50", 1)]), ("2", [("BOOK-1", "25.00", 1)])]:
            order = Order.create(order_id, customer="c-1")
            for sku, price, quantity in lines:
                order.add_item(sku, Decimal(price), quantity)
            orders.save(order)
        projection = SkuDemand()
        ProjectionRunner(store, projection).catch_up()
        assert [(r["sku"], r["units"], r["value"]) for r in live_rows(projection)] == [
            ("BOOK-1", 3, Decimal("75.00")), ("PEN-2", 1, Decimal("2.50"))]


def test_the_right_sql_passes():
    feedback = check_sku_demand_sql(RIGHT_SQL)
    assert feedback, feedback.message
    assert "exactly the per-event table" in feedback.message


@pytest.mark.parametrize("sql, hint", [
    (..., "define sku_demand_sql first"),
    ("", "define sku_demand_sql first"),
    ("SELECT * FROM events", "FROM {events} (with the braces)"),
    (f"SELECT data->>'$.sku' AS sku, count(*) AS units, sum({PRICE} * {QUANTITY}) AS value {ITEMS} GROUP BY sku",
     "units counts ItemAdded events"),
    (f"SELECT data->>'$.sku' AS sku, sum({QUANTITY}) AS units, sum({PRICE}) AS value {ITEMS} GROUP BY sku",
     "sum price × quantity"),
    (f"SELECT data->>'$.sku' AS sku, sum({QUANTITY}) AS units, "
     f"sum(CAST(data->>'$.price' AS DECIMAL(18, 2)) * {QUANTITY}) AS value {ITEMS} GROUP BY sku",
     "Prices are stored as tagged JSON"),
    (f"SELECT data->>'$.sku' AS sku, sum({QUANTITY}) AS units, sum({PRICE} * {QUANTITY}) AS value "
     "FROM {events} GROUP BY sku", "only ItemAdded events have one"),
    (f"SELECT data->>'$.sku' AS sku, {QUANTITY} AS units, {PRICE} * {QUANTITY} AS value {ITEMS}",
     "GROUP BY the sku"),
    (f"SELECT data->>'$.sku' AS sku, sum({QUANTITY}) AS n, sum({PRICE} * {QUANTITY}) AS value {ITEMS} GROUP BY sku",
     "columns named sku, units and value"),
    ("SELECT 'BOOK-1' AS sku, 7 AS units, 175.00 AS value FROM {events} LIMIT 1", "SKUs missing from your table"),
    (f"SELECT data->>'$.sku' AS sku, sum({QUANTITY}) + 1 AS units, sum({PRICE} * {QUANTITY}) AS value {ITEMS} "
     "GROUP BY sku", "the tables differ, e.g. for"),
])
def test_typical_sql_mistakes_get_a_specific_hint(sql, hint):
    feedback = check_sku_demand_sql(sql)
    assert not feedback and hint in feedback.message, feedback.message


class Carts(Projection):
    name = "open_carts"
    event_types = ("OrderCreated", "ItemAdded", "OrderSubmitted")
    registry = default_registry

    def default_storage(self):
        return SqlTable(key="order_id", columns=OPEN_CART_COLUMNS)


class RightCarts(Carts):
    def handle(self, event, recorded, view):
        match event:
            case OrderCreated(order_id=order_id, customer_id=customer_id):
                view.insert({"order_id": order_id, "customer_id": customer_id, "items": 0, "value": Decimal("0")})
            case ItemAdded(order_id=order_id, quantity=quantity, new_total=new_total):
                view.update(order_id, items=view[order_id]["items"] + quantity, value=new_total)
            case OrderSubmitted(order_id=order_id):
                view.delete(order_id)


class KeepsCheckedOut(RightCarts):
    def handle(self, event, recorded, view):
        if not isinstance(event, OrderSubmitted):
            super().handle(event, recorded, view)


class DeletesWhenPaid(RightCarts):
    event_types = ("OrderCreated", "ItemAdded", "OrderPaid")

    def handle(self, event, recorded, view):
        if isinstance(event, OrderPaid):
            view.delete(event.order_id)
        else:
            super().handle(event, recorded, view)


class UpdatesAfterDelete(RightCarts):
    event_types = ("OrderCreated", "ItemAdded", "OrderSubmitted", "OrderPaid")

    def handle(self, event, recorded, view):
        if isinstance(event, OrderPaid):
            view.update(event.order_id, value=event.amount)
        else:
            super().handle(event, recorded, view)


class InsertsOnFirstItem(RightCarts):
    def handle(self, event, recorded, view):
        match event:
            case ItemAdded(order_id=order_id, quantity=quantity, new_total=new_total) if order_id not in view:
                view.insert({"order_id": order_id, "customer_id": None, "items": quantity, "value": new_total})
            case OrderCreated():
                pass
            case _:
                super().handle(event, recorded, view)


class CountsLines(RightCarts):
    def handle(self, event, recorded, view):
        if isinstance(event, ItemAdded):
            view.update(event.order_id, items=view[event.order_id]["items"] + 1, value=event.new_total)
        else:
            super().handle(event, recorded, view)


class LastLineValue(RightCarts):
    def handle(self, event, recorded, view):
        if isinstance(event, ItemAdded):
            view.update(event.order_id, items=view[event.order_id]["items"] + event.quantity,
                        value=event.price * event.quantity)
        else:
            super().handle(event, recorded, view)


class NoRegistry(RightCarts):
    registry = None


class WrongColumns(RightCarts):
    def default_storage(self):
        return SqlTable(key="order_id", columns={"order_id": "VARCHAR", "customer_id": "VARCHAR", "units": "INTEGER",
                                                 "value": "DECIMAL(18, 2)", "items": "INTEGER"})

    def handle(self, event, recorded, view):
        if isinstance(event, OrderCreated):
            view.insert({"order_id": event.order_id, "customer_id": event.customer_id, "items": 0, "units": 0,
                         "value": Decimal("0")})
        else:
            super().handle(event, recorded, view)


class NoColumns(RightCarts):
    def default_storage(self):
        return SqlTable(key="order_id", columns={"order_id": "VARCHAR", "customer": "VARCHAR"})

    def handle(self, event, recorded, view):
        if isinstance(event, OrderCreated):
            view.insert({"order_id": event.order_id, "customer": event.customer_id})
        elif isinstance(event, OrderSubmitted):
            view.delete(event.order_id)


def test_right_open_carts_pass():
    feedback = check_open_carts(RightCarts)
    assert feedback, feedback.message
    assert "open carts worth" in feedback.message


@pytest.mark.parametrize("answer, hint", [
    (..., "define the class first: class OpenCarts(Projection)"),
    (KeepsCheckedOut, "view.delete(order_id)"),
    (DeletesWhenPaid, "delete its row on OrderSubmitted, not on OrderPaid"),
    (UpdatesAfterDelete, "an OrderPaid needs no case at all"),
    (InsertsOnFirstItem, "An empty cart is still an open cart"),
    (CountsLines, "the number of ItemAdded events"),
    (LastLineValue, "is only the last line"),
    (NoRegistry, "registry = default_registry"),
    (NoColumns, "use OPEN_CART_COLUMNS"),
])
def test_typical_open_cart_mistakes_get_a_specific_hint(answer, hint):
    feedback = check_open_carts(answer)
    assert not feedback and hint in feedback.message, feedback.message


def test_extra_columns_are_fine_if_the_asked_ones_are_right():
    assert check_open_carts(WrongColumns)
