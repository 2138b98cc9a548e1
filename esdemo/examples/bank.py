"""The seed's bank account, event-sourced.

Account 123's log, and the state it replays to::

    1  AccountOpened($0)
    2  MoneyDeposited($200)
    3  MoneyWithdrawn($50)        balance = $0 + $200 - $50 = $150

>>> account = Account.open("123", owner="Ada")
>>> account.deposit(Decimal("200.00"))
>>> account.withdraw(Decimal("50.00"))
>>> account.balance
Decimal('150.00')

The balance is never stored: it is what ``apply`` makes of the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..write.aggregate import Aggregate, DomainError
from ..write.domain import DomainEvent, domain_event
from .money import money


@domain_event("AccountOpened")
@dataclass(frozen=True, slots=True)
class AccountOpened(DomainEvent):
    """The account exists, with its owner and opening balance."""

    account_id: str
    owner: str
    opening_balance: Decimal


@domain_event("MoneyDeposited")
@dataclass(frozen=True, slots=True)
class MoneyDeposited(DomainEvent):
    """Money came into the account."""

    account_id: str
    amount: Decimal


@domain_event("MoneyWithdrawn")
@dataclass(frozen=True, slots=True)
class MoneyWithdrawn(DomainEvent):
    """Money left the account."""

    account_id: str
    amount: Decimal


@domain_event("BooksClosed")
@dataclass(frozen=True, slots=True)
class BooksClosed(DomainEvent):
    """The period is over: the closing balance was carried forward to ``carried_to``; nothing more is written here."""

    account_id: str
    closing_balance: Decimal
    carried_to: str


class InsufficientFundsError(DomainError):
    """A withdrawal larger than the balance: this bank allows no overdraft."""


class Account(Aggregate):
    """A bank account; stream ``Account-<id>``. Commands: :meth:`open`, :meth:`deposit`, :meth:`withdraw`, :meth:`close_books`."""

    def __init__(self, id: str | int):
        super().__init__(id)
        self.owner: str | None = None
        self.balance = Decimal("0.00")
        self.is_open = False
        self.carried_to: str | None = None

    # -- commands: validate, then record ------------------------------------------------
    @classmethod
    def open(cls, account_id: str | int, owner: str, opening_balance: Decimal = Decimal("0.00")) -> Account:
        """Open a new account (save it with a ``Repository``)."""
        if not isinstance(owner, str) or not owner.strip():
            raise DomainError(f"an account needs an owner's name, got {owner!r}")
        account = cls(account_id)
        account.record(AccountOpened(account.id, owner, money(opening_balance, "the opening balance", allow_zero=True)))
        return account

    def deposit(self, amount: Decimal) -> None:
        """Put ``amount`` (a positive Decimal) into the account."""
        self._require_open()
        self.record(MoneyDeposited(self.id, money(amount, "a deposit")))

    def withdraw(self, amount: Decimal) -> None:
        """Take ``amount`` out; refused with :class:`InsufficientFundsError` if the balance is too low."""
        self._require_open()
        amount = money(amount, "a withdrawal")
        if amount > self.balance:
            raise InsufficientFundsError(
                f"Cannot withdraw ${amount} from account {self.id}: the balance is ${self.balance} "
                f"and overdraft is not allowed."
            )
        self.record(MoneyWithdrawn(self.id, amount))

    def close_books(self, carried_to: str | int) -> None:
        """Close this period: record the closing balance as carried to account ``carried_to``.

        Afterwards every command on this account is refused: a late deposit
        belongs to the new period's account, not to closed books.
        """
        self._require_open()
        carried_to = str(carried_to)
        if not carried_to.strip() or carried_to == self.id:
            raise DomainError(f"close the books into another account, not {carried_to!r}")
        self.record(BooksClosed(self.id, self.balance, carried_to))

    def _require_open(self) -> None:
        if self.carried_to is not None:
            raise DomainError(f"account {self.id}'s books are closed: its balance of ${self.balance} was carried to "
                              f"account {self.carried_to}. Send this command to account {self.carried_to}.")
        if not self.is_open:
            raise DomainError(f"account {self.id} is not open; open it first with Account.open({self.id!r}, owner=...)")

    # -- the only place state changes ------------------------------------------------------
    def apply(self, event: DomainEvent) -> None:
        """Move the balance; the same code for a new event and for a replayed one."""
        match event:
            case MoneyDeposited(amount=amount):
                self.balance += amount
            case MoneyWithdrawn(amount=amount):
                self.balance -= amount
            case AccountOpened(owner=owner, opening_balance=opening_balance):
                self.owner, self.balance, self.is_open = owner, opening_balance, True
            case BooksClosed(carried_to=carried_to):
                self.is_open, self.carried_to = False, carried_to
            case _:
                super().apply(event)
