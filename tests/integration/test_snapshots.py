"""Snapshots: beside the events, never instead of them; snapshot + tail == full replay."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_factory import new_store, require_postgres

from esdemo import Aggregate, EventStore, FakeClock, Repository, SerializationError, SnapshotStore
from esdemo.examples.bank import Account, InsufficientFundsError
from esdemo.examples.orders import Order

BACKENDS = ["duckdb", "sqlite", "postgres"]
T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)


def account_with(accounts: Repository, deposits: int, id: str = "123") -> Account:
    """Open the account and deposit $1 ``deposits`` times, saving after every command."""
    account = Account.open(id, owner="Ada")
    accounts.save(account)
    for _ in range(deposits):
        account.deposit(Decimal("1"))
        accounts.save(account)
    return account


def test_snapshot_every_n_snapshots_when_a_save_crosses_a_multiple(store):
    accounts = Repository(store, Account, snapshot_every=3)
    account = account_with(accounts, deposits=1)  # versions 1, 2
    assert accounts.snapshots.all("Account-123") == []
    account.deposit(Decimal("1"))
    account.deposit(Decimal("1"))
    accounts.save(account)  # 2 -> 4 crosses 3
    account.deposit(Decimal("1"))
    accounts.save(account)  # 5
    account.deposit(Decimal("1"))
    accounts.save(account)  # 6 is a multiple
    snaps = accounts.snapshots.all("Account-123")
    assert [(s.version, s.schema_version, s.state["balance"]) for s in snaps] == [(4, 1, Decimal("3")),
                                                                                  (6, 1, Decimal("5"))]


def test_loading_reads_the_snapshot_and_replays_only_the_tail(store, reads):
    accounts = Repository(store, Account, snapshot_every=10)
    account_with(accounts, deposits=11)  # snapshot at 10, stream at 12
    reads.clear()
    loaded = accounts.load("123")
    assert reads.from_versions == [11]  # events 11 and 12 only
    assert (loaded.balance, loaded.version) == (Decimal("11"), 12)


def test_a_loaded_snapshot_really_is_used(store):
    """A deliberately wrong snapshot shows up in the result: the load trusted it, as a cache should be."""
    accounts = Repository(store, Account)
    account_with(accounts, deposits=3)
    accounts.snapshots.save("Account-123", 2, Account.snapshot_version,
                            {"owner": "Ada", "balance": Decimal("1000"), "is_open": True})
    assert accounts.load("123").balance == Decimal("1002")  # 1000 + the two deposits after version 2


def test_snapshots_live_beside_the_events_and_never_replace_them(store):
    accounts = Repository(store, Account, snapshot_every=2)
    account_with(accounts, deposits=4)
    assert list(store.sql("SELECT version FROM snapshots ORDER BY version")["version"]) == [2, 4]
    assert store.stream_version("Account-123") == 5 and store.head() == 5
    with store.transaction() as cur:
        cur.execute("DELETE FROM snapshots")
    assert accounts.load("123").balance == Decimal("4")


def test_a_snapshot_from_an_older_snapshot_version_is_ignored(store, reads):
    accounts = Repository(store, Account)
    account_with(accounts, deposits=3)
    accounts.snapshots.save("Account-123", 3, 1, {"owner": "Ada", "balance": Decimal("-1"), "is_open": True})

    class AccountV2(Account):
        stream_prefix = "Account"
        snapshot_version = 2  # the state's shape changed: old snapshots no longer fit

    reads.clear()
    loaded = Repository(store, AccountV2).load("123")
    assert loaded.balance == Decimal("3") and reads.from_versions == [1]  # full replay, the old snapshot was not used


def test_the_newest_snapshot_of_the_right_version_wins(store):
    accounts = Repository(store, Account)
    account_with(accounts, deposits=4)
    snaps = accounts.snapshots
    snaps.save("Account-123", 2, 1, {"owner": "Ada", "balance": Decimal("1"), "is_open": True})
    snaps.save("Account-123", 4, 99, {"something": "else"})
    assert snaps.latest("Account-123", schema_version=1).version == 2
    assert accounts.load("123").balance == Decimal("4")


def test_time_travel_only_uses_snapshots_at_or_before_the_target(store, reads):
    accounts = Repository(store, Account, snapshot_every=2)
    account_with(accounts, deposits=5)  # snapshots at 2, 4, 6
    reads.clear()
    assert accounts.load("123", at_version=3).balance == Decimal("2")
    assert accounts.load("123", at_version=4).balance == Decimal("3")
    assert reads.from_versions == [3, 5]  # after snapshot 2; after snapshot 4 (nothing left to read but the check)


def test_as_of_uses_a_snapshot_that_is_not_in_the_future(backend):
    with new_store(backend, clock=FakeClock(T0, step=timedelta(days=1))) as store:
        accounts = Repository(store, Account, snapshot_every=2)
        account_with(accounts, deposits=5)  # version v recorded on day v
        poisoned = {"owner": "Ada", "balance": Decimal("1000"), "is_open": True}
        accounts.snapshots.save("Account-123", 6, 1, poisoned)  # a later snapshot must not be used for day 4
        assert accounts.load("123", as_of=T0 + timedelta(days=3)).balance == Decimal("3")
        assert accounts.load("123", as_of=T0 + timedelta(days=30)).balance == Decimal("1000")


def test_take_snapshot_needs_a_saved_aggregate(store):
    accounts = Repository(store, Account)
    fresh = Account.open("1", owner="Ada")
    with pytest.raises(ValueError, match="Account-1 has unsaved events; save it before taking a snapshot"):
        accounts.take_snapshot(fresh)
    with pytest.raises(ValueError, match="Account-2 has no stored events yet"):
        accounts.take_snapshot(Account("2"))
    with pytest.raises(ValueError, match="stream version >= 1"):
        accounts.snapshots.save("Account-1", 0, 1, {})


def test_state_that_cannot_be_stored_is_refused_with_its_name(store):
    class Tags(Aggregate):
        def __init__(self, id):
            super().__init__(id)
            self.tags = {"a", "b"}

    tags = Tags("1")
    tags.version = 1
    with pytest.raises(SerializationError, match=r"the snapshot state of Tags-1.tags is of type set"):
        Repository(store, Tags).take_snapshot(tags)
    assert SnapshotStore(store).all("Tags-1") == []


def test_a_failed_snapshot_warns_but_keeps_the_saved_events(store, monkeypatch):
    accounts = Repository(store, Account, snapshot_every=1)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(accounts.snapshots, "save", broken)
    account = Account.open("1", owner="Ada")
    with pytest.warns(RuntimeWarning, match=r"Account-1 was saved at version 1, but its snapshot failed: OSError"):
        result = accounts.save(account)
    assert result.version == 1 and accounts.load("1").owner == "Ada"


def test_snapshots_survive_closing_the_file(backend, store_file):
    with EventStore(store_file, backend=backend) as store:
        account_with(Repository(store, Account, snapshot_every=2), deposits=2)
    with EventStore(store_file, backend=backend) as store:
        accounts = Repository(store, Account)
        assert [s.version for s in accounts.snapshots.all("Account-123")] == [2]
        assert accounts.load("123").balance == Decimal("2")


# -- the property: snapshot + tail gives exactly the state of a full replay ---------------------

commands = st.lists(st.tuples(st.sampled_from(["deposit", "withdraw"]), st.integers(1, 50_000),
                              st.booleans()), min_size=1, max_size=25)


def full_states(repo: Repository, id: str, version: int) -> dict[int, tuple]:
    """State at every version by full replay, before any snapshot exists."""
    assert repo.snapshots.all(repo.aggregate_class.stream_id_for(id)) == []
    return {v: (repo.load(id, at_version=v).snapshot_state(), v) for v in range(1, version + 1)}


def check_every_snapshot_point(repo: Repository, id: str, version: int, point: int) -> None:
    expected = full_states(repo, id, version)
    repo.take_snapshot(repo.load(id, at_version=point))
    for v in range(1, version + 1):  # before the point the snapshot must be ignored, from it on used
        loaded = repo.load(id, at_version=v)
        assert (loaded.snapshot_state(), loaded.version) == expected[v]
    latest = repo.load(id)
    assert (latest.snapshot_state(), latest.version) == expected[version]


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(max_examples=30, deadline=None)
@given(ops=commands, data=st.data())
def test_account_snapshot_plus_tail_equals_full_replay(backend_name, ops, data):
    if backend_name == "postgres":
        require_postgres()
    with new_store(backend_name) as store:
        accounts = Repository(store, Account)
        account = Account.open("p", owner="Ada", opening_balance=Decimal("100.00"))
        for command, cents, save_now in ops:
            try:
                getattr(account, command)(Decimal(cents) / 100)
            except InsufficientFundsError:
                pass
            if save_now:
                accounts.save(account)
        accounts.save(account)
        point = data.draw(st.integers(1, account.version), label="snapshot at version")
        check_every_snapshot_point(accounts, "p", account.version, point)


@pytest.mark.parametrize("backend_name", BACKENDS)
@settings(max_examples=30, deadline=None)
@given(items=st.lists(st.tuples(st.integers(1, 10_000), st.integers(1, 5)), max_size=8),
       submit=st.booleans(), pay=st.booleans(), data=st.data())
def test_order_snapshot_plus_tail_equals_full_replay(backend_name, items, submit, pay, data):
    if backend_name == "postgres":
        require_postgres()
    with new_store(backend_name) as store:
        orders = Repository(store, Order)
        order = Order.create("p", customer="c-1")
        for index, (cents, quantity) in enumerate(items):
            order.add_item(f"SKU-{index}", Decimal(cents) / 100, quantity)
            orders.save(order)
        if submit:
            order.submit(at=T0)
            if pay and items:
                order.pay(currency="EUR")
        orders.save(order)
        point = data.draw(st.integers(1, order.version), label="snapshot at version")
        check_every_snapshot_point(orders, "p", order.version, point)
