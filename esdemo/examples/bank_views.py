"""A read model of the bank: one row per account, its balance and how many deposits and withdrawals made it.

::

    balances = AccountBalances()                 # kept in memory (Documents), keyed by account_id
    ProjectionRunner(store, balances).catch_up()
    balances.storage.get("123")                  # {"account_id": "123", "owner": "Ada Lovelace", "balance": ...}

Notebook 02 scrubs it through January with the time-travel debugger.
"""

from __future__ import annotations

from ..read.memory_views import Documents
from ..read.projection import Projection
from ..write.domain import default_registry
from .bank import AccountOpened, MoneyDeposited, MoneyWithdrawn


class AccountBalances(Projection):
    """``account_balances``: owner, balance, and the number of deposits and withdrawals, per account."""

    name = "account_balances"
    event_types = ("AccountOpened", "MoneyDeposited", "MoneyWithdrawn")
    registry = default_registry

    def default_storage(self) -> Documents:
        return Documents(key="account_id")

    def handle(self, event, recorded, view) -> None:
        match event:
            case AccountOpened(account_id=account_id, owner=owner, opening_balance=opening):
                view.insert({"account_id": account_id, "owner": owner, "balance": opening,
                             "deposits": 0, "withdrawals": 0})
            case MoneyDeposited(account_id=account_id, amount=amount):
                row = view[account_id]
                view.update(account_id, balance=row["balance"] + amount, deposits=row["deposits"] + 1)
            case MoneyWithdrawn(account_id=account_id, amount=amount):
                row = view[account_id]
                view.update(account_id, balance=row["balance"] - amount, withdrawals=row["withdrawals"] + 1)

    def key_of(self, event, recorded) -> str:
        return event.account_id
