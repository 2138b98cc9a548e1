"""One spec suite, two implementations: the Account aggregate and the account decider."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import DomainError, given
from esdemo.examples.bank import Account, AccountOpened, InsufficientFundsError, MoneyDeposited, MoneyWithdrawn
from esdemo.examples.bank_decider import (
    AccountState,
    Deposit,
    OpenAccount,
    Withdraw,
    account_decider,
    decide,
    evolve,
    handle_on_account,
)

STYLES = {
    "aggregate": {"aggregate": Account, "handler": handle_on_account},
    "decider": {"decider": account_decider},
}
OPENED = AccountOpened("123", "Ada", Decimal("0"))


@pytest.fixture(params=sorted(STYLES))
def account(request):
    return STYLES[request.param]


def test_opening_a_new_account(account):
    given(**account).when(OpenAccount("123", "Ada")).then(AccountOpened("123", "Ada", Decimal("0")))


def test_an_account_opens_once(account):
    given(OPENED, **account).when(OpenAccount("123", "Bob")).then_raises(DomainError, match="already open")


def test_an_owner_is_required(account):
    given(**account).when(OpenAccount("123", " ")).then_raises(DomainError, match="owner")


def test_deposit(account):
    given(OPENED, **account).when(Deposit("123", Decimal("200"))).then(MoneyDeposited("123", Decimal("200")))


def test_no_deposit_into_an_account_that_is_not_open(account):
    given(**account).when(Deposit("123", Decimal("5"))).then_raises(DomainError, match="not open")


def test_a_deposit_must_be_positive(account):
    given(OPENED, **account).when(Deposit("123", Decimal("-5"))).then_raises(DomainError, match="more than zero")


def test_withdraw_within_the_balance(account):
    given(OPENED, MoneyDeposited("123", Decimal("200")), **account) \
        .when(Withdraw("123", Decimal("50"))).then(MoneyWithdrawn("123", Decimal("50")))


def test_no_overdraft(account):
    given(OPENED, MoneyDeposited("123", Decimal("200")), MoneyWithdrawn("123", Decimal("150")), **account) \
        .when(Withdraw("123", Decimal("51"))).then_raises(InsufficientFundsError, match=r"balance is \$50")


def test_the_whole_balance_can_be_withdrawn(account):
    given(OPENED, MoneyDeposited("123", Decimal("200")), **account) \
        .when(Withdraw("123", Decimal("200"))).then(MoneyWithdrawn("123", Decimal("200")))


def test_the_decider_is_pure_functions():
    state = account_decider.fold([OPENED, MoneyDeposited("123", Decimal("200"))])
    assert state == AccountState(is_open=True, owner="Ada", balance=Decimal("200"))
    assert decide(Withdraw("123", Decimal("50")), state) == [MoneyWithdrawn("123", Decimal("50"))]
    assert state.balance == Decimal("200")  # deciding changed nothing
    assert evolve(state, MoneyWithdrawn("123", Decimal("50"))).balance == Decimal("150")
    assert account_decider.handle(Deposit("123", Decimal("1")), [OPENED]) == [MoneyDeposited("123", Decimal("1"))]


def test_unknown_commands_and_events_are_refused_clearly():
    with pytest.raises(TypeError, match="no rule for str"):
        decide("deposit", AccountState())
    with pytest.raises(TypeError, match="no case for int"):
        evolve(AccountState(), 7)
    with pytest.raises(TypeError, match="no command handler for str"):
        handle_on_account(Account("1"), "deposit")
