"""Issue 11, case 2: a snapshot records how its events were decoded, and is ignored and replaced when
that changes (an upcaster added or changed). On every backend."""

from __future__ import annotations

import sqlite3
import warnings
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pytest

from esdemo import ANY, Aggregate, EventRegistry, EventStore, NewEvent, Repository, SnapshotStore, Upcasters
from esdemo.write.upcasting import upcaster_fingerprint




@dataclass(frozen=True, slots=True)
class Deposited:
    wallet_id: str
    amount: Decimal


class Wallet(Aggregate):
    def __init__(self, id):
        super().__init__(id)
        self.balance = Decimal("0")

    def apply(self, event):
        match event:
            case Deposited(amount=amount):
                self.balance += amount
            case _:
                super().apply(event)


def registry(cents_step=None, *, fingerprint=None) -> EventRegistry:
    """Deposited is V2 (dollars); V1 events stored cents, or (the old, wrong belief) dollars already."""
    reg = EventRegistry()
    reg.register(Deposited, "Deposited", 2)
    reg.upcasters.register("Deposited", 1, cents_step or (lambda data: data), fingerprint=fingerprint)
    return reg


def in_dollars(data):
    return {**data, "amount": data["amount"] / 100}


def v1_deposit(amount: str) -> NewEvent:
    return NewEvent("Deposited", {"wallet_id": "1", "amount": Decimal(amount)}, schema_version=1)


@pytest.fixture
def wallet_store(store):
    store.append("Wallet-1", [v1_deposit("400")], expected_version=ANY)
    return store


def test_the_issue_case_a_snapshot_under_the_old_decoding_is_not_loaded(wallet_store):
    old = Repository(wallet_store, Wallet, registry=registry())
    old.take_snapshot(old.load("1"))
    assert old.load("1").balance == Decimal("400")          # the old belief: V1 stored dollars

    new = Repository(wallet_store, Wallet, registry=registry(in_dollars))
    assert new.load_plan("1").snapshot is None               # the snapshot no longer fits
    assert new.load("1").balance == Decimal("4")             # what a full replay gives, not 400
    assert old.load("1").balance == Decimal("400")           # each registry reads with its own decoding


def test_a_stale_snapshot_is_replaced_by_one_under_the_new_decoding(wallet_store):
    wallet_store.append("Wallet-1", [v1_deposit("100"), v1_deposit("100")], expected_version=ANY)
    old = Repository(wallet_store, Wallet, registry=registry())
    old.take_snapshot(old.load("1", at_version=2))

    new = Repository(wallet_store, Wallet, registry=registry(in_dollars))
    assert new.load("1").balance == Decimal("6")
    (snapshot,) = new.snapshots.all("Wallet-1")               # replaced in place, at the same version
    assert snapshot.version == 2 and snapshot.state["balance"] == Decimal("5")
    assert snapshot.decoding == new.registry.decoding()
    plan = new.load_plan("1")
    assert (plan.snapshot, plan.replayed) == (2, 1)           # and the next load uses it
    assert new.load("1").balance == Decimal("6")


def test_changing_an_upcasters_code_under_the_same_name_makes_the_snapshot_stale(wallet_store):
    def to_dollars(data):                                     # a notebook cell, first version (a bug)
        return {**data, "amount": data["amount"] / 10}
    reg = registry(to_dollars)
    wallets = Repository(wallet_store, Wallet, registry=reg)
    wallets.take_snapshot(wallets.load("1"))
    assert wallets.load("1").balance == Decimal("40")

    def to_dollars(data):  # noqa: F811  the same cell, corrected and run again
        return {**data, "amount": data["amount"] / 100}
    reg.upcasters.register("Deposited", 1, to_dollars)       # same name: it replaces the step
    assert wallets.load_plan("1").snapshot is None
    assert wallets.load("1").balance == Decimal("4")


def test_a_named_fingerprint_is_trusted_until_the_name_changes(wallet_store):
    wallets = Repository(wallet_store, Wallet, registry=registry(in_dollars, fingerprint="cents/1"))
    wallets.take_snapshot(wallets.load("1"))
    same_name = Repository(wallet_store, Wallet, registry=registry(lambda d: {**d}, fingerprint="cents/1"))
    assert same_name.load_plan("1").snapshot == 1            # the user vouched the behaviour is the same
    bumped = Repository(wallet_store, Wallet, registry=registry(in_dollars, fingerprint="cents/2"))
    assert bumped.load_plan("1").snapshot is None


def test_registering_an_unrelated_event_type_keeps_snapshots(wallet_store):
    reg = registry(in_dollars)
    wallets = Repository(wallet_store, Wallet, registry=reg)
    wallets.take_snapshot(wallets.load("1"))

    @dataclass(frozen=True)
    class Renamed:
        wallet_id: str
        name: str
    reg.register(Renamed)
    assert wallets.load_plan("1").snapshot == 1


def test_the_same_code_gives_the_same_fingerprint_and_constants_count():
    assert upcaster_fingerprint(in_dollars) == upcaster_fingerprint(lambda data: {**data, "amount": data["amount"] / 100})
    assert upcaster_fingerprint(in_dollars) != upcaster_fingerprint(lambda data: {**data, "amount": data["amount"] / 10})
    assert upcaster_fingerprint(lambda d: float(d["x"])) != upcaster_fingerprint(lambda d: Decimal(d["x"]))
    a, b = Upcasters(), Upcasters()
    a.register("T", 1, in_dollars)
    b.register("T", 1, lambda data: {**data, "amount": data["amount"] / 100})
    assert a.fingerprint("T") == b.fingerprint("T")


def test_fingerprints_see_closure_values():
    def scaled(factor):
        return lambda data: {**data, "amount": data["amount"] / factor}
    assert upcaster_fingerprint(scaled(100)) == upcaster_fingerprint(scaled(100))
    assert upcaster_fingerprint(scaled(100)) != upcaster_fingerprint(scaled(10))


def test_a_snapshot_table_from_before_fingerprints_is_migrated_and_its_rows_ignored(backend, tmp_path):
    if backend == "postgres":
        pytest.skip("a snapshot table from before fingerprints exists only in old DuckDB/SQLite files "
                    "(the PostgreSQL backend came after them)")
    path = tmp_path / f"old.{backend}"
    with EventStore(path, backend=backend) as store:
        store.append("Wallet-1", [v1_deposit("400")], expected_version=ANY)
    connect = duckdb.connect if backend == "duckdb" else sqlite3.connect
    db = connect(str(path))
    db.execute("CREATE TABLE snapshots (stream_id VARCHAR NOT NULL, version BIGINT NOT NULL, schema_version INTEGER "
               "NOT NULL, state VARCHAR NOT NULL, PRIMARY KEY (stream_id, version))")
    db.execute("""INSERT INTO snapshots VALUES ('Wallet-1', 1, 1, '{"balance": {"$decimal": "400"}}')""")
    db.commit()
    db.close()
    with EventStore(path, backend=backend) as store:
        wallets = Repository(store, Wallet, registry=registry(in_dollars))
        (old,) = wallets.snapshots.all("Wallet-1")
        assert old.decoding is None                           # nobody knows what it was decoded with
        assert wallets.load("1").balance == Decimal("4")
        (new,) = wallets.snapshots.all("Wallet-1")
        assert new.decoding == wallets.registry.decoding()


def test_a_standalone_snapshot_store_records_the_default_registry(store):
    from esdemo import default_registry
    store.append("Wallet-1", [v1_deposit("1")], expected_version=ANY)
    saved = SnapshotStore(store).save("Wallet-1", 1, 1, {"balance": Decimal("1")})
    assert saved.decoding == default_registry.decoding()


def test_a_failed_replacement_warns_and_the_load_is_still_right(wallet_store, monkeypatch):
    old = Repository(wallet_store, Wallet, registry=registry())
    old.take_snapshot(old.load("1"))
    new = Repository(wallet_store, Wallet, registry=registry(in_dollars))

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(new.snapshots, "save", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert new.load("1").balance == Decimal("4")
    assert any("stale snapshot" in str(w.message) for w in caught)
