"""A decider is loaded and saved like an aggregate, with the same expected-version check (both backends)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import ConflictError, Decider, DeciderRepository, DomainError, Repository, seeded_ids
from esdemo.examples.bank import Account, InsufficientFundsError, MoneyDeposited
from esdemo.examples.bank_decider import AccountState, Deposit, OpenAccount, Withdraw, account_decider


def test_handle_loads_decides_and_appends(store):
    accounts = DeciderRepository(store, account_decider, stream_prefix="Account", id_factory=seeded_ids(1))
    accounts.handle("123", OpenAccount("123", "Ada"))
    assert accounts.handle("123", Deposit("123", Decimal("200"))) == [MoneyDeposited("123", Decimal("200"))]
    accounts.handle("123", Withdraw("123", Decimal("50")))
    loaded = accounts.load("123")
    assert (loaded.state, loaded.version) == (AccountState(True, "Ada", Decimal("150")), 3)
    assert [e.type for e in store.read("Account-123")] == ["AccountOpened", "MoneyDeposited", "MoneyWithdrawn"]


def test_a_refused_command_writes_nothing(store):
    accounts = DeciderRepository(store, account_decider, stream_prefix="Account")
    accounts.handle("1", OpenAccount("1", "Ada"))
    with pytest.raises(InsufficientFundsError):
        accounts.handle("1", Withdraw("1", Decimal("1")))
    with pytest.raises(DomainError, match="already open"):
        accounts.handle("1", OpenAccount("1", "Bob"))
    assert store.stream_version("Account-1") == 1


def test_aggregate_and_decider_read_each_others_streams(store):
    accounts = Repository(store, Account)
    account = Account.open("7", owner="Ada")
    account.deposit(Decimal("10"))
    accounts.save(account)
    deciders = DeciderRepository(store, account_decider, stream_prefix="Account")
    deciders.handle("7", Withdraw("7", Decimal("4")))
    assert accounts.load("7").balance == Decimal("6") == deciders.load("7").state.balance


def test_a_concurrent_writer_makes_save_conflict(store):
    accounts = DeciderRepository(store, account_decider, stream_prefix="Account")
    accounts.handle("1", OpenAccount("1", "Ada"))
    loaded = accounts.load("1")
    accounts.handle("1", Deposit("1", Decimal("5")))                   # another writer got in first
    events = account_decider.decide(Deposit("1", Decimal("1")), loaded.state)
    with pytest.raises(ConflictError):
        accounts.save("1", events, loaded.version)
    with pytest.raises(ConflictError):                                 # a new stream expects no stream
        accounts.save("1", events, 0)
    assert accounts.save("1", [], loaded.version) is None


def test_bad_arguments(store):
    with pytest.raises(TypeError, match="decider must be a Decider"):
        DeciderRepository(store, object(), stream_prefix="A")
    with pytest.raises(ValueError, match="stream_prefix"):
        DeciderRepository(store, account_decider, stream_prefix=" ")
    with pytest.raises(TypeError, match="two functions"):
        Decider("decide", "evolve", None)
    with pytest.raises(ValueError, match="non-empty"):
        DeciderRepository(store, account_decider, stream_prefix="A").load("")
    assert DeciderRepository(store, account_decider, stream_prefix="A").load("none").version == 0
