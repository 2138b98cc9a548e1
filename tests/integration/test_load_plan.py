"""Repository.load_plan says what a load restores and replays; SnapshotStore.delete drops the cache.

The plan is only worth showing if it is what ``load`` really does, so the main
test spies on the store's reads during real loads and compares.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import AggregateNotFoundError, LoadPlan, Repository
from esdemo.examples.bank import Account


def grow(accounts: Repository, account: Account, deposits: int) -> Account:
    for _ in range(deposits):
        account.deposit(Decimal("1"))
    accounts.save(account)
    return account


def test_the_seeds_example(store):
    accounts = Repository(store, Account, snapshot_every=1000)
    account = grow(accounts, Account.open("123", owner="Ada"), 999)  # events 1..1000, snapshot at 1000
    grow(accounts, account, 50)  # 1001..1050
    plan = accounts.load_plan("123")
    assert plan == LoadPlan("Account-123", 1050, 1000, 50)
    assert str(plan) == "Account-123 at version 1,050: snapshot at 1,000 + replay 1,001..1,050 (50 events)"


def test_the_plan_is_what_load_reads(store, reads):
    accounts = Repository(store, Account, snapshot_every=4)
    account = Account.open("123", owner="Ada")
    for batch in (2, 3, 1, 5, 2):  # saves at versions 3, 6, 7, 12, 14; snapshots at 6 and 12
        grow(accounts, account, batch)
    assert [s.version for s in accounts.snapshots.all("Account-123")] == [6, 12]
    for at_version in [None, *range(1, 15)]:
        plan = accounts.load_plan("123", at_version=at_version)
        reads.clear()
        loaded = accounts.load("123", at_version=at_version)
        [(from_version, returned)] = reads
        assert (plan.snapshot or 0, plan.replayed, plan.version) == (from_version - 1, returned, loaded.version)


def test_a_plan_reads_no_events(store, reads):
    accounts = Repository(store, Account)
    grow(accounts, Account.open("123", owner="Ada"), 10)
    reads.clear()
    assert accounts.load_plan("123") == LoadPlan("Account-123", 11, None, 11)
    assert reads == []


def test_without_a_usable_snapshot_the_plan_is_a_full_replay(store):
    accounts = Repository(store, Account, snapshot_every=5)
    grow(accounts, Account.open("123", owner="Ada"), 6)  # snapshot at 7

    class AccountV2(Account):
        stream_prefix = "Account"
        snapshot_version = 2

    plan = Repository(store, AccountV2).load_plan("123")
    assert plan == LoadPlan("Account-123", 7, None, 7)
    assert str(plan) == "Account-123 at version 7: no usable snapshot, replay 1..7 (7 events)"
    assert str(accounts.load_plan("123")) == "Account-123 at version 7: snapshot at 7, nothing to replay"
    assert str(accounts.load_plan("123", at_version=1)) == "Account-123 at version 1: no usable snapshot, replay 1..1 (1 event)"


def test_one_event_after_the_snapshot_reads_naturally(store):
    accounts = Repository(store, Account, snapshot_every=2)
    account = grow(accounts, Account.open("123", owner="Ada"), 1)  # snapshot at 2
    grow(accounts, account, 1)
    assert str(accounts.load_plan("123")) == "Account-123 at version 3: snapshot at 2 + replay 3..3 (1 event)"


def test_load_plan_refuses_what_load_refuses(store):
    accounts = Repository(store, Account)
    with pytest.raises(AggregateNotFoundError, match=r"No Account with id '9': the stream 'Account-9' has no events"):
        accounts.load_plan("9")
    grow(accounts, Account.open("123", owner="Ada"), 2)
    with pytest.raises(ValueError, match="Account-123 has only 3 events, so there is no version 4 yet"):
        accounts.load_plan("123", at_version=4)
    for bad in (0, True, "2"):
        with pytest.raises(ValueError, match="at_version must be an int >= 1"):
            accounts.load_plan("123", at_version=bad)


# -- SnapshotStore.delete ------------------------------------------------------------------------

def test_deleting_snapshots_costs_replay_time_but_never_correctness(store):
    accounts = Repository(store, Account, snapshot_every=2)
    grow(accounts, Account.open("123", owner="Ada"), 5)  # snapshot at 6
    grow(accounts, Account.open("124", owner="Bo"), 3)  # snapshot at 4
    before = accounts.load("123").snapshot_state()
    assert accounts.snapshots.delete("Account-123") == 1
    assert accounts.snapshots.all("Account-123") == [] and len(accounts.snapshots.all("Account-124")) == 1
    assert accounts.load_plan("123").snapshot is None
    assert accounts.load("123").snapshot_state() == before
    assert store.stream_version("Account-123") == 6  # the events are untouched


def test_delete_without_a_stream_drops_every_snapshot_and_they_can_be_rebuilt(store):
    accounts = Repository(store, Account, snapshot_every=1)
    account = grow(accounts, Account.open("123", owner="Ada"), 0)  # snapshot at 1
    grow(accounts, account, 1)  # and at 2
    grow(accounts, Account.open("124", owner="Bo"), 0)  # at 1
    assert accounts.snapshots.delete() == 3
    assert accounts.snapshots.delete() == 0
    accounts.take_snapshot(accounts.load("123"))
    assert accounts.load_plan("123") == LoadPlan("Account-123", 2, 2, 0)
