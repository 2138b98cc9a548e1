"""Notebook 01 · CQRS."""

from __future__ import annotations

import random
from collections.abc import (
    Callable,
    Mapping,
)
from decimal import Decimal
from typing import Any

import duckdb

from ..examples.catalog import Catalog, Product, UpdateProductPrice
from ..store.event_store import EventStore
from ..store.ids import seeded_ids
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok
from .harness import CrashAtWrite

PRICE_EVENTS = ("ProductCreated", "ProductPriceUpdated")


def _catalog_log(seed: int) -> tuple[EventStore, dict[str, Decimal], dict[str, list[tuple[Decimal, Decimal]]]]:
    """A fresh relayed catalog log: products, reviews, sales and price changes, in a random mix.

    Returns the store, each product's current price (from the write model) and
    each product's price changes as ``(old, new)`` pairs, in order.
    """
    rng = random.Random(seed)
    store = _fresh_store()
    changes: dict[str, list[tuple[Decimal, Decimal]]] = {}
    with Catalog(price_managers={"pat"}, id_factory=seeded_ids(seed)) as catalog:
        ids = [f"sku-{rng.randrange(100, 999)}-{n}" for n in range(4)]
        for product_id in ids:
            price = Decimal(rng.randrange(500, 9000)) / 100
            catalog.create_product(Product(product_id, f"Item {product_id}", "", price, inventory=50))
            changes[product_id] = []
        # ids[0] changes price twice, ids[1] and ids[3] once, ids[2] never; reviews and sales in between
        for product_id in [ids[0], ids[1], ids[0], ids[3]]:
            catalog.add_review(product_id, "kim", rng.randint(1, 5), "ok")
            catalog.sell(product_id, rng.randint(1, 3))
            old = catalog.get(product_id).price
            new = (old * Decimal(rng.choice(["0.8", "0.9", "1.1", "1.25"]))).quantize(Decimal("0.01"))
            catalog.update_product_price(UpdateProductPrice(product_id, new, user="pat"))
            changes[product_id].append((old, new))
        catalog.sell(ids[2], 2)
        catalog.relay_outbox(store)
        prices = {product_id: catalog.get(product_id).price for product_id in ids}
    return store, prices, changes


def check_price_list(price_list: Callable[[list], Any]) -> Feedback:
    """Exercise 01.1: ``price_list(events)`` folds the relayed catalog log into ``{product_id: price}``.

    The check runs it on a fresh log of its own (other products, other
    prices, reviews and sales mixed in) and compares with the write model.
    """
    if _not_done(price_list) or not callable(price_list):
        return _no("define price_list(events) first: it takes a list of recorded events and returns a dict.")
    store, prices, changes = _catalog_log(seed=101)
    events = store.read_all()
    try:
        answer = price_list(events)
    except Exception as exc:  # noqa: BLE001  (any error is feedback, not a crash)
        try:
            price_list([e for e in events if e.type in PRICE_EVENTS])
        except Exception:  # noqa: BLE001
            return _no(f"your function raised {exc!r}. Read prices from event.data: data['price'] in "
                       "ProductCreated, data['new_price'] in ProductPriceUpdated.")
        return _no(f"your function raised {exc!r} on a log that also holds ReviewAdded and ProductSold events. "
                   "A view reads the whole log: skip the event types it does not need (if event.type == ...).")
    if not isinstance(answer, Mapping):
        return _no(f"return a dict {{product_id: price}}, got {type(answer).__name__}.")
    missing = [p for p in prices if p not in answer]
    never_changed = [p for p in missing if not changes[p]]
    if never_changed:
        return _no(f"{never_changed[0]} is missing. Its price never changed, so the only event that states it "
                   "is ProductCreated (data['price']): handle that event type too.")
    if missing or set(answer) != set(prices):
        return _no(f"the keys should be the product ids in the log, {sorted(prices)}; got {sorted(answer, key=str)}.")
    floats = [p for p in prices if isinstance(answer[p], float)]
    if floats:
        return _no(f"{floats[0]}: got the float {answer[floats[0]]!r}. Keep prices as Decimal, as the events hold "
                   "them (floats cannot hold 19.99 exactly).")
    wrong = [p for p in prices if answer[p] != prices[p]]
    if not wrong:
        return _ok(f"your view agrees with the write model for all {len(prices)} products, on a log of "
                   f"{len(events)} events you had never seen.")
    created = {p: (changes[p][0][0] if changes[p] else prices[p]) for p in prices}
    if all(answer[p] == created[p] for p in prices):
        return _no("every product still has the price it was created with: apply ProductPriceUpdated too "
                   "(its data['new_price']).")
    if any(len(changes[p]) == 1 and answer[p] == changes[p][0][0] for p in prices):
        product_id = next(p for p in prices if len(changes[p]) == 1 and answer[p] == changes[p][0][0])
        return _no(f"{product_id}: got {answer[product_id]}, the price BEFORE its change. ProductPriceUpdated has "
                   "old_price and new_price; the view wants new_price.")
    if any(len(changes[p]) > 1 and answer[p] == changes[p][0][1] for p in prices):
        product_id = next(p for p in prices if len(changes[p]) > 1 and answer[p] == changes[p][0][1])
        return _no(f"{product_id}: got {answer[product_id]}, the price after its FIRST change, but it changed again "
                   "later. Apply the events in log order and let each update overwrite the last.")
    return _no(f"{wrong[0]}: expected {prices[wrong[0]]} (what the write model says), got {answer[wrong[0]]}.")


OUTBOX_SCHEMA = """
CREATE TABLE products (id VARCHAR PRIMARY KEY, price DECIMAL(18, 2) NOT NULL);
CREATE SEQUENCE outbox_seq;
CREATE TABLE outbox (seq BIGINT PRIMARY KEY DEFAULT nextval('outbox_seq'), type VARCHAR NOT NULL,
                     product_id VARCHAR NOT NULL, old_price DECIMAL(18, 2) NOT NULL,
                     new_price DECIMAL(18, 2) NOT NULL);
"""


def outbox_exercise_db(products: Mapping[str, Decimal] | None = None) -> duckdb.DuckDBPyConnection:
    """Exercise 01.2's database: a ``products`` table (id, price) and an ``outbox`` table, in memory.

    ``outbox`` columns: ``seq`` (filled in for you), ``type``, ``product_id``,
    ``old_price``, ``new_price``. Default products: p-1 at 40.00, p-2 at 12.50.
    """
    con = duckdb.connect(":memory:")
    con.execute(OUTBOX_SCHEMA)
    for product_id, price in (products or {"p-1": Decimal("40.00"), "p-2": Decimal("12.50")}).items():
        con.execute("INSERT INTO products VALUES (?, ?)", [product_id, price])
    return con


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.begin()
    except duckdb.TransactionException:
        return True
    con.rollback()
    return False


def _outbox_state(con: duckdb.DuckDBPyConnection, product_id: str) -> tuple[Decimal, list[tuple]]:
    (price,) = con.execute("SELECT price FROM products WHERE id = ?", [product_id]).fetchone()
    rows = con.execute("SELECT type, product_id, old_price, new_price FROM outbox ORDER BY seq").fetchall()
    return price, rows


def _diagnose_price_change(change_price: Callable[..., Any], products: dict[str, Decimal], old: Decimal,
                           new: Decimal) -> str | None:
    """A normal run on a fresh database: None if mug-3's price changed and one right outbox row was written."""
    con = outbox_exercise_db(products)
    try:
        change_price(con, "mug-3", new)
    except Exception as exc:  # noqa: BLE001
        return f"change_price(con, 'mug-3', Decimal('8.75')) raised {exc!r}."
    try:
        if _in_transaction(con):
            return "your function began a transaction and never committed it: end with con.commit()."
        price, rows = _outbox_state(con, "mug-3")
        (other,) = con.execute("SELECT price FROM products WHERE id = 'lamp-7'").fetchone()
    except duckdb.ConnectionException:
        return ("the connection was closed by your function. In DuckDB `with con:` closes the connection "
                "(it does not open a transaction as sqlite3 does): use con.begin() ... con.commit().")
    if other != products["lamp-7"]:
        return "another product's price changed too: update only WHERE id = ?."
    if price != new:
        return f"the products table still says {price} for mug-3; UPDATE products SET price = ? WHERE id = ?."
    if not rows:
        return ("the price changed but the outbox is empty: nobody (no read view, no other service) will ever "
                "hear about it. INSERT a ProductPriceUpdated row into the outbox as well.")
    if len(rows) != 1:
        return f"one price change should write one outbox row, found {len(rows)}."
    expected = ("ProductPriceUpdated", "mug-3", old, new)
    if rows[0] != expected:
        names = ("type", "product_id", "old_price", "new_price")
        wrong = [f"{n}={got!r} (expected {want!r})" for n, got, want in zip(names, rows[0], expected) if got != want]
        return "the outbox row is not quite right: " + ", ".join(wrong) + ". old_price is the price before the change."
    return None


def _diagnose_crash_between_writes(change_price: Callable[..., Any], products: dict[str, Decimal], old: Decimal,
                                   new: Decimal) -> str | None:
    """Pull the plug on the second write: None if the database holds neither the new price nor an outbox row."""
    con = outbox_exercise_db(products)
    crashing = CrashAtWrite(con, crash_at=2)
    try:
        change_price(crashing, "mug-3", new)
    except Exception:  # noqa: BLE001  (the crash we caused, or what the learner turned it into)
        pass
    if len(crashing.writes) < 2:
        return ("the check could not interrupt your function between its two writes: run both statements "
                "through con.execute(...) on the connection you are given.")
    if _in_transaction(con):
        con.rollback()  # the process died: the database throws away what was not committed
    price, rows = _outbox_state(con, "mug-3")
    if price == new and not rows:
        return ("when the process died between your two writes, the price had changed and the event was lost: "
                "the dual-write problem. Do both in ONE transaction: con.begin(), both statements, con.commit() "
                "(con.rollback() if anything fails).")
    if price == old and rows:
        return ("when the process died between your two writes, the outbox announced a price change that never "
                "happened. Do both in ONE transaction: con.begin(), both statements, con.commit().")
    if price != old or rows:
        return (f"after the crash the database holds price {price} and {len(rows)} outbox rows; a crash must "
                "leave both untouched. Do both writes in ONE transaction.")
    return None


def check_change_price(change_price: Callable[..., Any]) -> Feedback:
    """Exercise 01.2: ``change_price(con, product_id, new_price)`` updates the product and writes the outbox
    in ONE transaction, so a crash between the two writes leaves neither.

    The check runs it twice on fresh databases of its own: once normally, and
    once pulling the plug on its second write.
    """
    if _not_done(change_price) or not callable(change_price):
        return _no("define change_price(con, product_id, new_price) first.")
    old, new = Decimal("9.50"), Decimal("8.75")
    products = {"lamp-7": Decimal("64.00"), "mug-3": old}
    problem = (_diagnose_price_change(change_price, products, old, new)
               or _diagnose_crash_between_writes(change_price, products, old, new))
    if problem:
        return _no(problem)
    return _ok("the price and its event are written together or not at all: after a crash between the two writes "
               "there was neither. A relay can now publish the outbox at leisure.")
