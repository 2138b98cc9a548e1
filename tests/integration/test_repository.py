"""Repository: load, save, optimistic concurrency and time travel, on both backends."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from store_factory import new_store

from esdemo import (
    AggregateNotFoundError,
    AppendResult,
    ConflictError,
    EventRegistry,
    FakeClock,
    NewEvent,
    Repository,
    UnknownEventTypeError,
    seeded_ids,
)
from esdemo.examples.bank import Account
from esdemo.examples.orders import Order

JAN = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)


@pytest.fixture
def daily_store(backend):
    """A store whose clock moves one day per append: 1 Jan, 2 Jan, 3 Jan..."""
    with new_store(backend, clock=FakeClock(JAN, step=timedelta(days=1))) as store:
        yield store


@pytest.fixture
def accounts(daily_store):
    return Repository(daily_store, Account)


def seed_history(accounts: Repository) -> Account:
    """The seed's account 123: opened 1 Jan, +200 on 2 Jan, -50 on 3 Jan."""
    account = Account.open("123", owner="Ada")
    accounts.save(account)
    account.deposit(Decimal("200"))
    accounts.save(account)
    account.withdraw(Decimal("50"))
    accounts.save(account)
    return account


def test_save_appends_the_pending_events_and_load_replays_them(accounts, daily_store):
    account = Account.open("123", owner="Ada")
    account.deposit(Decimal("200"))
    account.withdraw(Decimal("50"))
    result = accounts.save(account)
    assert result == AppendResult(version=3, position=3)
    assert account.version == 3 and account.pending_events == ()
    assert [(e.type, e.data) for e in daily_store.read("Account-123")] == [
        ("AccountOpened", {"account_id": "123", "owner": "Ada", "opening_balance": Decimal("0")}),
        ("MoneyDeposited", {"account_id": "123", "amount": Decimal("200")}),
        ("MoneyWithdrawn", {"account_id": "123", "amount": Decimal("50")}),
    ]
    loaded = accounts.load("123")
    assert (loaded.balance, loaded.owner, loaded.version, loaded.pending_events) == (Decimal("150"), "Ada", 3, ())
    assert accounts.load(123).balance == Decimal("150")


def test_a_loaded_aggregate_saves_with_its_version_as_expected_version(accounts):
    seed_history(accounts)
    account = accounts.load("123")
    account.deposit(Decimal("10"))
    assert accounts.save(account).version == 4
    assert accounts.load("123").balance == Decimal("160")


def test_a_concurrent_change_raises_conflict_and_writes_nothing(accounts, daily_store):
    seed_history(accounts)
    mine, theirs = accounts.load("123"), accounts.load("123")
    theirs.withdraw(Decimal("100"))
    accounts.save(theirs)
    mine.withdraw(Decimal("100"))  # valid on my stale copy: 150 - 100
    with pytest.raises(ConflictError, match="expected version 3, but it is at version 4"):
        accounts.save(mine)
    assert daily_store.stream_version("Account-123") == 4
    assert accounts.load("123").balance == Decimal("50")
    assert mine.version == 3 and len(mine.pending_events) == 1  # still unsaved: reload and retry


def test_creating_an_existing_aggregate_again_is_a_conflict(accounts):
    seed_history(accounts)
    with pytest.raises(ConflictError, match="expected no stream"):
        accounts.save(Account.open("123", owner="Mallory"))
    assert accounts.load("123").owner == "Ada"


def test_saving_with_nothing_pending_appends_nothing(accounts, daily_store):
    seed_history(accounts)
    account = accounts.load("123")
    assert accounts.save(account) == AppendResult(version=3, position=3)
    assert daily_store.head() == 3


def test_loading_an_unknown_id_is_a_clear_not_found_error(accounts):
    with pytest.raises(AggregateNotFoundError,
                       match=r"No Account with id '999': the stream 'Account-999' has no events\. "
                             r"Create it with a command \(e\.g\. Account\.open\(\.\.\.\)\)"):
        accounts.load("999")
    with pytest.raises(AggregateNotFoundError, match=r"Order\.create\(\.\.\.\)"):
        Repository(accounts.store, Order).load("1")

    class SavingsAccount(Account):  # the factory is inherited: the hint still names it
        pass

    with pytest.raises(AggregateNotFoundError, match=r"SavingsAccount\.open\(\.\.\.\)"):
        Repository(accounts.store, SavingsAccount).load("7")


def test_the_repository_only_saves_its_own_class(accounts):
    with pytest.raises(TypeError, match="this repository saves Account, got Order"):
        accounts.save(Order.create("1", customer="c"))


def test_metadata_and_seeded_event_ids_are_stored(daily_store):
    accounts = Repository(daily_store, Account, id_factory=seeded_ids(7))
    account = Account.open("123", owner="Ada")
    account.deposit(Decimal("1"))
    accounts.save(account, metadata={"user": "ada"})
    expected_ids = seeded_ids(7)
    first, second = expected_ids(), expected_ids()
    # A save outside any message context starts its own conversation: both ids are its first event's.
    stamp = {"user": "ada", "correlation_id": str(first), "causation_id": str(first)}
    assert [(e.event_id, e.metadata) for e in daily_store.read("Account-123")] == [(first, stamp), (second, stamp)]


def test_timestamps_come_from_the_store_clock(accounts, daily_store):
    seed_history(accounts)
    assert [e.recorded_at for e in daily_store.read("Account-123")] == [JAN, JAN + timedelta(days=1),
                                                                          JAN + timedelta(days=2)]


def test_a_stream_with_an_unregistered_event_type_fails_loudly(accounts, daily_store):
    seed_history(accounts)
    daily_store.append("Account-123", [NewEvent("InterestPaid", {"amount": "1"})], expected_version=3)
    with pytest.raises(UnknownEventTypeError, match="'InterestPaid' at position 4"):
        accounts.load("123")


def test_a_repository_can_use_its_own_registry(daily_store):
    empty = Repository(daily_store, Account, registry=EventRegistry())
    with pytest.raises(TypeError, match="AccountOpened is not a registered domain event in this registry"):
        empty.save(Account.open("1", owner="Ada"))
    assert daily_store.head() == 0


@pytest.mark.parametrize("kwargs, error, match", [
    ({"snapshot_every": 0}, ValueError, "snapshot_every must be None"),
    ({"snapshot_every": 2.5}, ValueError, "snapshot_every must be None"),
    ({"id_factory": "seed"}, TypeError, "id_factory must be a callable"),
])
def test_bad_repository_arguments(daily_store, kwargs, error, match):
    with pytest.raises(error, match=match):
        Repository(daily_store, Account, **kwargs)


def test_repository_needs_a_store_and_an_aggregate_class(daily_store):
    with pytest.raises(TypeError, match="store must be an EventStore"):
        Repository("events.duckdb", Account)
    with pytest.raises(TypeError, match="subclass of Aggregate"):
        Repository(daily_store, dict)


# -- time travel ------------------------------------------------------------------------------

def test_load_at_version(accounts):
    seed_history(accounts)
    assert [accounts.load("123", at_version=v).balance for v in (1, 2, 3)] == [0, 200, 150]
    assert accounts.load("123", at_version=2).version == 2


def test_what_was_the_balance_on_jan_15(backend):
    clock = FakeClock(JAN)
    with new_store(backend, clock=clock) as store:
        accounts = Repository(store, Account)
        account = Account.open("123", owner="Ada")
        accounts.save(account)
        for day, amount in ((10, "200"), (20, "-50")):
            clock.set(JAN.replace(day=day))
            (account.deposit if amount[0] != "-" else account.withdraw)(abs(Decimal(amount)))
            accounts.save(account)
        jan_15 = datetime(2024, 1, 15, tzinfo=timezone.utc)
        assert accounts.load("123", as_of=jan_15).balance == Decimal("200")
        assert accounts.load("123", as_of=jan_15).version == 2
        assert accounts.load("123", as_of=JAN.replace(day=20)).balance == Decimal("150")  # inclusive
        assert accounts.load("123", as_of=datetime(2024, 1, 15, 5, tzinfo=timezone(timedelta(hours=5)))).balance == 200


def test_as_of_before_the_first_event_is_not_found(accounts):
    seed_history(accounts)
    with pytest.raises(AggregateNotFoundError,
                       match=r"Account-123 did not exist yet at 2023-12-31T00:00:00\+00:00: its first event was "
                             r"recorded at 2024-01-01T09:00:00\+00:00"):
        accounts.load("123", as_of=datetime(2023, 12, 31, tzinfo=timezone.utc))
    with pytest.raises(AggregateNotFoundError, match="Account-999 did not exist yet .*it has no events"):
        accounts.load("999", as_of=JAN)


def test_bad_time_travel_arguments(accounts):
    seed_history(accounts)
    with pytest.raises(ValueError, match="has only 3 events, so there is no version 4"):
        accounts.load("123", at_version=4)
    for bad in (0, -1, True, "2"):
        with pytest.raises(ValueError, match="at_version must be an int >= 1"):
            accounts.load("123", at_version=bad)
    with pytest.raises(ValueError, match="as_of must be a timezone-aware datetime"):
        accounts.load("123", as_of=datetime(2024, 1, 15))
    with pytest.raises(ValueError, match="pass at_version or as_of, not both"):
        accounts.load("123", at_version=1, as_of=JAN)
    with pytest.raises(AggregateNotFoundError):
        accounts.load("999", at_version=1)


def test_an_aggregate_loaded_in_the_past_cannot_overwrite_the_present(accounts):
    seed_history(accounts)
    past = accounts.load("123", at_version=2)
    past.withdraw(Decimal("200"))  # fine in the past, where the balance was 200
    with pytest.raises(ConflictError):
        accounts.save(past)
    assert accounts.load("123").balance == Decimal("150")


def test_orders_round_trip_through_the_store(backend, clock):
    with new_store(backend, clock=clock) as store:
        orders = Repository(store, Order)
        order = Order.create("12345", customer="c-42")
        order.add_item("BOOK-1", Decimal("25.00"), quantity=2)
        order.submit(at=datetime(2024, 1, 3, tzinfo=timezone.utc))
        orders.save(order)
        loaded = orders.load("12345")
        loaded.pay()
        orders.save(loaded)
        final = orders.load("12345")
        assert final.snapshot_state() == loaded.snapshot_state()
        assert (final.status, final.paid_amount, final.submitted_at) == (
            "paid", Decimal("50.00"), datetime(2024, 1, 3, tzinfo=timezone.utc))
        assert isinstance(store.read("Order-12345")[0].event_id, uuid.UUID)
