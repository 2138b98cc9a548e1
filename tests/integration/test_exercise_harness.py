"""The bench the exercise checks share: the shop, the learner's projection run, and the plug pulled at write N."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from esdemo import EventStore, Projection, SqlTable
from esdemo.exercises.harness import (
    CrashAtWrite,
    CrashingStore,
    SimulatedCrash,
    make_projection,
    order_shop,
    run_projection,
)
from esdemo.tables import live_rows


def products() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE products (id VARCHAR PRIMARY KEY, price DECIMAL(18, 2))")
    return con


def test_the_proxy_counts_writes_only_and_lets_everything_else_through():
    con = products()
    watched = CrashAtWrite(con)
    watched.execute("INSERT INTO products VALUES ('a', 1.00)")
    watched.executemany("INSERT INTO products VALUES (?, ?)", [["b", 2], ["c", 3]])
    watched.sql("  update products SET price = 5 WHERE id = 'a'")
    watched.execute("SELECT count(*) FROM products").fetchone()
    watched.begin()                                              # not watched: straight to the connection
    watched.execute("DELETE FROM products WHERE id = 'c'")
    watched.commit()
    assert len(watched.writes) == 4 and watched.writes[0].startswith("INSERT")
    assert con.execute("SELECT id, price FROM products ORDER BY id").fetchall() == [("a", Decimal("5.00")),
                                                                                   ("b", Decimal("2.00"))]


def test_the_proxy_dies_at_write_n_before_running_it():
    con = products()
    crashing = CrashAtWrite(con, crash_at=2)
    crashing.execute("INSERT INTO products VALUES ('a', 1.00)")
    with pytest.raises(SimulatedCrash, match="write 2"):
        crashing.execute("INSERT INTO products VALUES ('b', 2.00)")
    assert len(crashing.writes) == 2
    assert con.execute("SELECT id FROM products").fetchall() == [("a",)]


def test_a_crashing_store_counts_writes_across_transactions_and_rolls_back_the_one_that_died():
    with EventStore() as store:
        with store.transaction() as cur:
            cur.execute("CREATE TABLE t (n INTEGER)")
        counted = CrashingStore(store)
        for n in (1, 2):
            with counted.transaction() as cur:
                cur.execute("INSERT INTO t VALUES (?)", [n])
        assert len(counted.writes) == 2 and counted.head() == store.head()   # the rest is the real store
        crashing = CrashingStore(store, crash_at=2)
        with pytest.raises(SimulatedCrash):
            with crashing.transaction() as cur:
                cur.execute("INSERT INTO t VALUES (3)")
                cur.execute("INSERT INTO t VALUES (4)")
        assert store.query("SELECT n FROM t ORDER BY n") == [(1,), (2,)]


def test_the_shop_is_the_same_for_the_same_seed_and_holds_every_status():
    first, orders = order_shop(7, created=2, submitted=3, paid=4, currencies=("USD", "EUR"))
    again, _ = order_shop(7, created=2, submitted=3, paid=4, currencies=("USD", "EUR"))
    assert [(e.stream_id, e.type, e.data) for e in first.read_all()] == [(e.stream_id, e.type, e.data)
                                                                          for e in again.read_all()]
    streams = [s for (s,) in first.query("SELECT DISTINCT stream_id FROM events ORDER BY stream_id")]
    statuses = sorted(orders.load(s.removeprefix("Order-")).status for s in streams)
    assert statuses == ["created"] * 2 + ["paid"] * 4 + ["submitted"] * 3
    streams_in_log_order = [e.stream_id for e in first.read_all()]
    assert streams_in_log_order != sorted(streams_in_log_order, key=streams_in_log_order.index)  # interleaved


class Counted(Projection):
    name = "counted"

    def default_storage(self):
        return SqlTable(key="stream_id", columns={"stream_id": "VARCHAR", "events": "INTEGER"})

    def handle(self, event, recorded, view):
        row = view.get(recorded.stream_id)
        view.upsert({"stream_id": recorded.stream_id, "events": (row["events"] if row else 0) + 1})


class InsertsTwice(Counted):
    name = "inserts_twice"

    def handle(self, event, recorded, view):
        view.insert({"stream_id": recorded.stream_id, "events": 1})


class UpdatesMissing(Counted):
    name = "updates_missing"

    def handle(self, event, recorded, view):
        view.update(recorded.stream_id, events=1)


def test_make_projection_builds_the_class_or_says_why_not():
    assert isinstance(make_projection(Counted, "Counted"), Counted)
    assert "define the class first" in make_projection(..., "Counted")
    assert "must extend Projection" in make_projection(dict, "Counted")

    class NeedsArgs(Counted):
        def __init__(self, where):
            super().__init__()

    assert "NeedsArgs() failed" in make_projection(NeedsArgs, "NeedsArgs")


def test_run_projection_turns_each_handler_mistake_into_a_hint():
    store, _ = order_shop(3, created=1, submitted=1, paid=1)
    right = Counted()
    assert run_projection(store, right) is None
    assert sum(row["events"] for row in live_rows(right)) == store.head()
    assert "already has a row" in run_projection(store, InsertsTwice())
    assert "view.get(key) returns None" in run_projection(store, UpdatesMissing())
