"""Notebook 08 · Rebuilding projections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb

from ..examples.orders import ItemAdded
from ..read.projection import Projection
from ..read.rebuild import rebuild, rebuild_set_based
from ..read.sql_views import SqlTable
from ..store.event_store import EventStore
from ..tables import live_rows
from ..write.domain import default_registry
from .feedback import Feedback, _no, _not_done, _ok
from .harness import make_projection, order_shop, run_projection


class SkuDemand(Projection):
    """What customers put in their carts, per SKU: units, and their value at the unit price (from ItemAdded).

    Every cart counts, paid or not: this is demand, not revenue. Exercise
    06.1 asks for the same view as one SQL query over the log.
    """

    name = "sku_demand"
    event_types = ("ItemAdded",)
    registry = default_registry

    def default_storage(self) -> SqlTable:
        return SqlTable(key="sku", columns={"sku": "VARCHAR", "units": "INTEGER", "value": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view) -> None:
        match event:
            case ItemAdded(sku=sku, price=price, quantity=quantity):
                row = view.get(sku, {"units": 0, "value": Decimal("0")})
                view.upsert({"sku": sku, "units": row["units"] + quantity, "value": row["value"] + price * quantity})

    def key_of(self, event, recorded) -> str:
        return event.sku


def _sku_rows(store: EventStore, *, units: str, value: str) -> dict[str, tuple[int, Decimal]]:
    """Per SKU, a typical wrong answer (units as ``count`` or ``sum``; value as ``price`` or ``line``)."""
    rows: dict[str, tuple[int, Decimal]] = {}
    for event in store.iter_all():
        if event.type == "ItemAdded":
            n, v = rows.get(event.data["sku"], (0, Decimal("0")))
            quantity, price = event.data["quantity"], event.data["price"]
            rows[event.data["sku"]] = (n + (1 if units == "count" else quantity),
                                       v + (price if value == "price" else price * quantity))
    return rows


def check_sku_demand_sql(sql: Any) -> Feedback:
    """Exercise 06.1: the SQL of a set-based rebuild of :class:`SkuDemand`.

    ``sql`` is a SELECT returning the columns ``sku``, ``units`` and ``value``,
    reading the log ``FROM {events}``. The check builds the view per event on
    a shop of its own, rebuilds it set-based with ``sql``, and compares the
    two tables row by row.
    """
    if _not_done(sql) or not isinstance(sql, str) or not sql.strip():
        return _no("define sku_demand_sql first: a string holding a SELECT ... FROM {events} ...")
    if "{events}" not in sql:
        return _no("the query must read the log FROM {events} (with the braces): the rebuild replaces {events} with "
                   "the events up to the log's head, so the new table and its checkpoint agree.")
    store, _ = order_shop(61, created=4, submitted=3, paid=6)
    projection = SkuDemand()
    rebuild(store, projection)
    per_event = {row["sku"]: (row["units"], row["value"]) for row in live_rows(projection)}
    try:
        rebuild_set_based(store, projection, sql)
    except duckdb.Error as exc:
        text = str(exc)
        if "$decimal" in text or ("Conversion" in type(exc).__name__ and "{" in text):
            return _no("the database could not turn a price into a number. Prices are stored as tagged JSON, "
                       "{\"$decimal\": \"25.00\"}: read them with data->>'$.price.\"$decimal\"' and CAST that to "
                       f"DECIMAL(18, 2). ({type(exc).__name__}: {text.splitlines()[0]})")
        if "null" in text.lower() and "constraint" in text.lower():
            return _no("a row came out with no sku: only ItemAdded events have one. Add WHERE type = 'ItemAdded'. "
                       f"({text.splitlines()[0]})")
        if "duplicate" in text.lower() or "PRIMARY KEY" in text:
            return _no("two rows came out for the same sku: GROUP BY the sku, so each SKU is one row. "
                       f"({text.splitlines()[0]})")
        if "Binder" in type(exc).__name__ and any(name in text for name in ("sku", "units", "value")):
            return _no("the query must return columns named sku, units and value (use AS units, AS value). "
                       f"({text.splitlines()[0]})")
        return _no(f"the database refused the query: {type(exc).__name__}: {text.splitlines()[0]}")
    except Exception as exc:  # noqa: BLE001 - anything else is feedback, not a crash
        return _no(f"the set-based rebuild failed: {type(exc).__name__}: {exc}")
    set_based = {row["sku"]: (row["units"], row["value"]) for row in live_rows(projection)}
    if set_based == per_event:
        return _ok(f"the set-based rebuild gives exactly the per-event table: {len(per_event)} SKUs, "
                   f"{sum(u for u, _ in per_event.values())} units, on a log of {store.head()} events you had never seen.")
    if set_based == _sku_rows(store, units="count", value="line"):
        return _no("units counts ItemAdded events (count(*)), but one event can add 2 or 3 of a SKU: units is the "
                   "sum of the quantities.")
    if {sku: v for sku, (_, v) in set_based.items()} == {sku: v for sku, (_, v) in
                                                        _sku_rows(store, units="sum", value="price").items()}:
        return _no("value adds up unit prices, but a line of 3 mugs is worth 3 × the price: sum price × quantity.")
    missing = sorted(set(per_event) - set(set_based))
    if missing:
        return _no(f"SKUs missing from your table: {missing}. Read every ItemAdded in {{events}}.")
    wrong = sorted(sku for sku in per_event if set_based.get(sku) != per_event[sku])
    sku = wrong[0] if wrong else sorted(set(set_based) - set(per_event))[0]
    return _no(f"the tables differ, e.g. for {sku}: per event (units, value) = {per_event.get(sku)}, "
               f"yours = {set_based.get(sku)}.")


OPEN_CART_COLUMNS = {"order_id": "VARCHAR", "customer_id": "VARCHAR", "items": "INTEGER", "value": "DECIMAL(18, 2)"}
"""Exercise 06.2's view: one row per cart not (yet) checked out."""


def _carts_from_write_model(store: Any, orders: Any) -> dict[str, Any]:
    """Every order of the shop, loaded from its stream: the truth the view is compared with."""
    carts = {}
    for (stream_id,) in store.query("SELECT DISTINCT stream_id FROM events ORDER BY stream_id"):
        order = orders.load(stream_id.removeprefix("Order-"))
        carts[order.id] = order
    return carts


def _diagnose_which_carts(projection: Any, got: dict[str, Any], carts: dict[str, Any],
                          open_ids: set[str]) -> str | None:
    """None if the view holds exactly the open carts; else why it is empty, has checked-out orders or misses some."""
    if not got:
        if projection.registry is None:
            return ("the view is empty. Without registry = default_registry, handle() receives RecordedEvents and "
                    "no case OrderCreated(...) matches.")
        return "the view is empty: insert a row for every OrderCreated."
    extra = set(got) - open_ids
    if extra:
        if {carts[order_id].status for order_id in extra if order_id in carts} == {"submitted"}:
            return ("paid orders are gone, but submitted ones are still there. A cart closes at checkout: delete "
                    "its row on OrderSubmitted, not on OrderPaid.")
        return (f"{len(extra)} of your rows are orders that were checked out. When an OrderSubmitted arrives, the "
                "cart is no longer open: view.delete(order_id).")
    missing = open_ids - set(got)
    if missing:
        empty = {order_id for order_id in missing if not carts[order_id].lines}
        if empty == missing:
            return ("carts with no items are missing. An empty cart is still an open cart: insert the row on "
                    "OrderCreated (items 0, value 0), not on the first ItemAdded.")
        return f"open carts missing from your view: {sorted(missing)}."
    return None


def _first_wrong_cart(got: dict[str, Any], carts: dict[str, Any], open_ids: set[str]) -> str | None:
    """The first open cart (by id) whose customer, item count or value is wrong, said with the likely cause; or None."""
    for order_id in sorted(open_ids):
        order, row = carts[order_id], got[order_id]
        units = sum(line["quantity"] for line in order.lines)
        if row["customer_id"] != order.customer_id:
            return (f"cart {order_id}: customer_id {row['customer_id']!r}, expected {order.customer_id!r} (from "
                    "OrderCreated).")
        if row["items"] != units:
            if row["items"] == len(order.lines):
                return (f"cart {order_id}: items is {row['items']}, the number of ItemAdded events; count units: "
                        "add each event's quantity.")
            return f"cart {order_id}: items is {row['items']}, expected {units} units."
        if row["value"] != order.total:
            last = order.lines[-1] if order.lines else None
            if last and row["value"] == last["price"] * last["quantity"]:
                return (f"cart {order_id}: value {row['value']} is only the last line. The cart's value is its "
                        "total: ItemAdded.new_total (or add price × quantity to the row's value).")
            return f"cart {order_id}: value is {row['value']}, expected {order.total}."
    return None


def check_open_carts(OpenCarts: Any) -> Feedback:  # noqa: N803 - the learner's class
    """Exercise 06.2: a new view built from history: the carts nobody has checked out.

    One row per order that was created but not submitted, with the columns
    of :data:`OPEN_CART_COLUMNS`: ``items`` (units in the cart) and
    ``value`` (the cart's total). The check builds it from a shop's whole
    history of its own and compares with the write model.
    """
    projection = make_projection(OpenCarts, "OpenCarts")
    if isinstance(projection, str):
        return _no(projection)
    store, orders = order_shop(62, created=5, submitted=3, paid=4)
    problem = run_projection(store, projection)
    if problem:
        if "OrderPaid" in problem or "OrderSubmitted" in problem:
            problem += (" Once a cart is checked out its row is gone: an OrderPaid needs no case at all (leave it out "
                        "of event_types).")
        return _no(problem)
    rows = live_rows(projection)
    if rows and not set(OPEN_CART_COLUMNS) <= set(rows[0]):
        return _no(f"the view's rows have the columns {sorted(rows[0])}; use OPEN_CART_COLUMNS: {list(OPEN_CART_COLUMNS)}.")
    got = {row["order_id"]: row for row in rows}
    carts = _carts_from_write_model(store, orders)
    open_ids = {order_id for order_id, order in carts.items() if order.status == "created"}
    problem = _diagnose_which_carts(projection, got, carts, open_ids) or _first_wrong_cart(got, carts, open_ids)
    if problem:
        return _no(problem)
    return _ok(f"{len(open_ids)} open carts worth {sum((carts[i].total for i in open_ids), Decimal('0'))}, built "
               f"from a history of {store.head()} events that never had this view.")
