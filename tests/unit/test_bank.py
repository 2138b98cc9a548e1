"""The bank example: Account's commands, rules and replay (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import DomainError
from esdemo.examples.bank import (
    Account,
    AccountOpened,
    BooksClosed,
    InsufficientFundsError,
    MoneyDeposited,
    MoneyWithdrawn,
)


def seed_account() -> Account:
    account = Account.open("123", owner="Ada")
    account.deposit(Decimal("200"))
    account.withdraw(Decimal("50"))
    return account


def test_the_seeds_history_gives_150():
    account = seed_account()
    assert account.pending_events == (
        AccountOpened("123", "Ada", Decimal("0")),
        MoneyDeposited("123", Decimal("200")),
        MoneyWithdrawn("123", Decimal("50")),
    )
    assert account.balance == Decimal("150") and isinstance(account.balance, Decimal)
    assert account.stream_id == "Account-123"


def test_replaying_the_events_gives_the_same_account():
    live = seed_account()
    replayed = Account("123")
    replayed.replay(list(live.pending_events), version=3)
    assert (replayed.balance, replayed.owner, replayed.is_open) == (Decimal("150"), "Ada", True)


def test_money_is_exact_decimal():
    account = Account.open("1", owner="Ada")
    for _ in range(10):
        account.deposit(Decimal("0.10"))
    assert account.balance == Decimal("1.00")


def test_an_opening_balance_is_kept():
    assert Account.open("1", owner="Ada", opening_balance=Decimal("25.50")).balance == Decimal("25.50")


def test_no_overdraft_is_a_clear_domain_error_and_records_nothing():
    account = seed_account()
    with pytest.raises(InsufficientFundsError,
                       match=r"Cannot withdraw \$150.01 from account 123: the balance is \$150.00 and overdraft is not allowed"):
        account.withdraw(Decimal("150.01"))
    assert len(account.pending_events) == 3 and account.balance == Decimal("150")
    account.withdraw(Decimal("150"))  # exactly everything is fine
    assert account.balance == 0
    assert issubclass(InsufficientFundsError, DomainError)


@pytest.mark.parametrize("command", ["deposit", "withdraw"])
@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-5"), -5])
def test_amounts_must_be_positive(command, amount):
    account = Account.open("1", owner="Ada", opening_balance=Decimal("100"))
    with pytest.raises(DomainError, match=r"must be more than zero, got -?\d"):
        getattr(account, command)(amount)
    assert len(account.pending_events) == 1


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_amounts_must_be_finite(amount):
    with pytest.raises(DomainError, match="must be a finite amount"):
        Account.open("1", owner="Ada").deposit(amount)


def test_floats_are_refused_with_the_decimal_to_write_instead():
    with pytest.raises(TypeError, match=r"a deposit must be a Decimal, got float 0.1; write Decimal\('0.1'\)"):
        Account.open("1", owner="Ada").deposit(0.1)
    with pytest.raises(TypeError, match="must be a Decimal, got str"):
        Account.open("1", owner="Ada").deposit("10")


def test_whole_numbers_are_accepted_as_money():
    account = Account.open("1", owner="Ada")
    account.deposit(200)
    assert account.balance == Decimal("200") and isinstance(account.pending_events[-1].amount, Decimal)


def test_opening_needs_an_owner_and_a_non_negative_balance():
    with pytest.raises(DomainError, match="needs an owner's name"):
        Account.open("1", owner=" ")
    with pytest.raises(DomainError, match="the opening balance must be zero or more, got -1"):
        Account.open("1", owner="Ada", opening_balance=Decimal("-1"))


def test_an_account_that_was_never_opened_takes_no_money():
    with pytest.raises(DomainError, match=r"account 9 is not open; open it first with Account.open\('9'"):
        Account("9").deposit(Decimal("1"))
    with pytest.raises(DomainError, match="account 9 is not open"):
        Account("9").withdraw(Decimal("1"))


def test_closing_the_books_carries_the_balance_and_refuses_every_later_command():
    account = seed_account()
    account.close_books(carried_to="123-2025")
    assert account.pending_events[-1] == BooksClosed("123", Decimal("150"), "123-2025")
    assert not account.is_open and account.carried_to == "123-2025"
    for late in (lambda: account.deposit(Decimal("5.00")), lambda: account.withdraw(Decimal("5.00")),
                 lambda: account.close_books("123-2026")):
        with pytest.raises(DomainError, match=r"books are closed.*carried to account 123-2025"):
            late()
    assert len(account.pending_events) == 4            # nothing recorded after the close


def test_a_replayed_closed_account_is_still_closed():
    live = seed_account()
    live.close_books(carried_to="123-2025")
    replayed = Account("123")
    replayed.replay(list(live.pending_events), version=4)
    with pytest.raises(DomainError, match="books are closed"):
        replayed.deposit(Decimal("1.00"))


def test_books_close_into_another_account():
    account = seed_account()
    with pytest.raises(DomainError, match="another account"):
        account.close_books(carried_to="123")
