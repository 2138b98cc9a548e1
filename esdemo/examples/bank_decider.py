"""The bank account twice: as the ``Account`` aggregate and as a decider, one set of commands.

Commands are data here, so both styles can run them::

    OpenAccount("123", owner="Ada")
    Deposit("123", Decimal("200"))
    Withdraw("123", Decimal("50"))

* the aggregate (:class:`~esdemo.examples.bank.Account`) runs them through
  :func:`handle_on_account`, which calls its command methods;
* the decider (:data:`account_decider`) is :func:`decide` + :func:`evolve` +
  ``AccountState()``, three plain functions and a frozen dataclass.

Both record the same events (``AccountOpened``, ``MoneyDeposited``,
``MoneyWithdrawn``) and refuse with the same errors, so one spec suite runs
against both (``tests/unit/test_bank_decider.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..write.aggregate import DomainError
from ..write.decider import Decider
from .bank import Account, AccountOpened, InsufficientFundsError, MoneyDeposited, MoneyWithdrawn
from .money import money

# -- the commands, as data --------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenAccount:
    account_id: str
    owner: str
    opening_balance: Decimal = Decimal("0")


@dataclass(frozen=True)
class Deposit:
    account_id: str
    amount: Decimal


@dataclass(frozen=True)
class Withdraw:
    account_id: str
    amount: Decimal


# -- the decider ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountState:
    """What decisions need: is the account open, and its balance. Immutable: ``evolve`` returns a new one."""

    is_open: bool = False
    owner: str | None = None
    balance: Decimal = Decimal("0")


def decide(command: OpenAccount | Deposit | Withdraw, state: AccountState) -> list:
    """The business rules: the events a command causes in ``state``, or a ``DomainError``."""
    match command:
        case OpenAccount(account_id=account_id, owner=owner, opening_balance=opening):
            if state.is_open:
                raise DomainError(f"account {account_id} is already open")
            if not isinstance(owner, str) or not owner.strip():
                raise DomainError(f"an account needs an owner's name, got {owner!r}")
            return [AccountOpened(account_id, owner, money(opening, "the opening balance", allow_zero=True))]
        case Deposit(account_id=account_id, amount=amount):
            _require_open(state, account_id)
            return [MoneyDeposited(account_id, money(amount, "a deposit"))]
        case Withdraw(account_id=account_id, amount=amount):
            _require_open(state, account_id)
            amount = money(amount, "a withdrawal")
            if amount > state.balance:
                raise InsufficientFundsError(
                    f"Cannot withdraw ${amount} from account {account_id}: the balance is ${state.balance} "
                    f"and overdraft is not allowed.")
            return [MoneyWithdrawn(account_id, amount)]
    raise TypeError(f"the account decider has no rule for {type(command).__name__}")


def evolve(state: AccountState, event: object) -> AccountState:
    """The state after one event: a pure function, no ``self``."""
    match event:
        case AccountOpened(owner=owner, opening_balance=opening):
            return AccountState(is_open=True, owner=owner, balance=opening)
        case MoneyDeposited(amount=amount):
            return replace(state, balance=state.balance + amount)
        case MoneyWithdrawn(amount=amount):
            return replace(state, balance=state.balance - amount)
    raise TypeError(f"evolve has no case for {type(event).__name__}")


def _require_open(state: AccountState, account_id: str) -> None:
    if not state.is_open:
        raise DomainError(f"account {account_id} is not open; open it first with Account.open({account_id!r}, owner=...)")


account_decider: Decider = Decider(decide, evolve, AccountState(), name="Account")
"""The bank account as a decider."""


# -- the same commands on the aggregate --------------------------------------------------------------------

def handle_on_account(account: Account, command: OpenAccount | Deposit | Withdraw) -> Account:
    """Run a command object on the ``Account`` aggregate (the dispatch an application layer does).

    Opening returns the new aggregate. "Already open" is checked here: the
    aggregate leaves it to the repository (saving a new ``Account`` expects
    no stream), while the decider states it as a rule.
    """
    match command:
        case OpenAccount(account_id=account_id, owner=owner, opening_balance=opening):
            if account.is_open:
                raise DomainError(f"account {account_id} is already open")
            return Account.open(account_id, owner, opening)
        case Deposit(amount=amount):
            account.deposit(amount)
        case Withdraw(amount=amount):
            account.withdraw(amount)
        case _:
            raise TypeError(f"Account has no command handler for {type(command).__name__}")
    return account
