"""Issue 11, case 13: DECIMAL view columns sort and compare as numbers on both backends.

SQLite has no decimal type; the view keeps money exact as text, and a
collation compares that text as numbers (lexically '10.00' < '9.99').
"""

from __future__ import annotations

from decimal import Decimal

from store_factory import new_store

from esdemo import EventStore, NewEvent
from esdemo.read.projection import Projection
from esdemo.read.projection_runner import ProjectionRunner
from esdemo.read.sql_views import SqlTable

AMOUNTS = {"a": "9.99", "b": "10.00", "c": "100.50", "d": "2.5", "e": "-3", "f": "1000"}


class Prices(Projection):
    name = "prices"

    def default_storage(self):
        return SqlTable(key="sku", columns={"sku": "VARCHAR", "price": "DECIMAL(18, 2)"})

    def handle(self, event, recorded, view):
        view.upsert({"sku": recorded.stream_id, "price": Decimal(recorded.data["price"])})


def prices(backend):
    store = new_store(backend)
    for sku, price in AMOUNTS.items():
        store.append(sku, [NewEvent("Priced", {"price": price})], expected_version=0)
    projection = Prices()
    ProjectionRunner(store, projection).catch_up()
    return store, projection


def test_order_by_a_decimal_column_is_numeric(backend):
    store, projection = prices(backend)
    with store:
        rows = projection.storage.query(order_by="price")
        assert [row["sku"] for row in rows] == ["e", "d", "a", "b", "c", "f"]
        assert [row["price"] for row in rows] == sorted(Decimal(p) for p in AMOUNTS.values())
        assert [row["sku"] for row in projection.storage.query(order_by="price DESC", limit=2)] == ["f", "c"]
        # Plain SQL over the view, as a notebook writes it
        assert [sku for (sku,) in store.query("SELECT sku FROM prices ORDER BY price")] == ["e", "d", "a", "b", "c", "f"]


def test_comparisons_and_max_on_a_decimal_column_are_numeric(backend):
    store, projection = prices(backend)
    with store:
        bigger = projection.storage.query("price > ?", [Decimal("9.995")], order_by="sku")
        assert [row["sku"] for row in bigger] == ["b", "c", "f"]
        assert [sku for (sku,) in store.query("SELECT sku FROM prices WHERE price >= 10 ORDER BY sku")] == ["b", "c", "f"]
        assert [sku for (sku,) in store.query("SELECT sku FROM prices WHERE price = 10")] == ["b"]
        (top,) = store.query("SELECT max(price) FROM prices")[0]
        assert Decimal(str(top)) == Decimal("1000")
