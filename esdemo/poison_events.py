"""One poison event against different failure policies, round by round: the data behind a chart.

A shop records payments; the ``payments_by_currency`` view totals them per
currency, and its handler refuses a currency it does not know. The shop starts
taking Swiss francs before anyone tells the view: the first payment in ``CHF``
is a *poison event* (the bug is in the handler, not in the event). The fix is
one line, ``projection.currencies += ("CHF",)``, and then
``runner.replay_parked()``. :func:`poison_race` feeds the same log to one runner per
:class:`~esdemo.read.failure_policy.FailurePolicy`, a few payments per round,
and records after each round how far each view got::

    rounds = poison_race({"stop": FailurePolicy.stop(),
                          "park": FailurePolicy.parking(retries=1, backoff=30)})
    [(r.policy, r.round, r.lag, r.parked, r.status) for r in rounds]

Deterministic: a fake clock (one minute per round), seeded ids, in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .read.failure_policy import FailurePolicy
from .read.memory_views import Documents
from .read.projection import Projection, ProjectionError
from .read.projection_runner import ProjectionRunner
from .store.clock import FakeClock
from .store.event_store import EventStore
from .store.events import NewEvent
from .store.ids import seeded_ids

KNOWN_CURRENCIES = ("EUR", "GBP", "USD")
POISON_CURRENCY = "CHF"
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


class PaymentsByCurrency(Projection):
    """Total paid per currency; its handler refuses a currency not in ``currencies`` (the poison)."""

    name = "payments_by_currency"
    event_types = {"PaymentReceived"}

    def __init__(self, name: str = "payments_by_currency", storage: Any = None,
                 currencies: tuple[str, ...] = KNOWN_CURRENCIES):
        self.name = name
        self.currencies = tuple(currencies)
        super().__init__(storage)

    def default_storage(self) -> Documents:
        return Documents(key="currency")

    def handle(self, event: Any, recorded: Any, view: Any) -> None:
        currency = recorded.data["currency"]
        if currency not in self.currencies:
            raise ValueError(f"unknown currency {currency!r} in payment {recorded.data['payment_id']}")
        row = view.get(currency)
        if row is None:
            view.insert({"currency": currency, "payments": 1, "total": recorded.data["amount"]})
        else:
            view.update(currency, payments=row["payments"] + 1, total=row["total"] + recorded.data["amount"])


@dataclass(frozen=True)
class PolicyRound:
    """Where one policy's view stood after one round of payments."""

    policy: str
    round: int
    head: int
    position: int
    parked: int
    status: str

    @property
    def lag(self) -> int:
        """Events in the log that the view has not applied (its checkpoint behind the head)."""
        return self.head - self.position


def poison_race(policies: Mapping[str, FailurePolicy], *, rounds: int = 8, per_round: int = 5,
                poison_round: int = 2, backend: str = "duckdb") -> list[PolicyRound]:
    """Append ``per_round`` payments per round (one poison in ``poison_round``), catch each view up; return every round."""
    if not policies or not all(isinstance(p, FailurePolicy) for p in policies.values()):
        raise TypeError("policies must map a label to a FailurePolicy, e.g. {'stop': FailurePolicy.stop()}")
    if not 1 <= poison_round <= rounds or per_round < 1:
        raise ValueError(f"need 1 <= poison_round <= rounds and per_round >= 1, got poison_round={poison_round}, "
                         f"rounds={rounds}, per_round={per_round}")
    clock = FakeClock(START, step=timedelta(0))
    ids = seeded_ids(11)
    results: list[PolicyRound] = []
    with EventStore(backend=backend, clock=clock) as store:
        runners = {label: ProjectionRunner(store, PaymentsByCurrency(f"payments_{n}"), policy=policy, clock=clock.peek)
                   for n, (label, policy) in enumerate(policies.items())}
        for round_ in range(1, rounds + 1):
            for n in range(per_round):
                number = (round_ - 1) * per_round + n + 1
                currency = POISON_CURRENCY if (round_ == poison_round and n == 0) else KNOWN_CURRENCIES[number % 3]
                store.append(f"Payment-{number}", [NewEvent("PaymentReceived", {
                    "payment_id": number, "currency": currency, "amount": Decimal(10 + number) + Decimal("0.50"),
                }, event_id=ids())], expected_version=0)
            for label, runner in runners.items():
                try:
                    runner.catch_up()
                except ProjectionError:
                    pass  # the policy decided to stop (or wait for the next try): the health says which
                health = runner.health()
                results.append(PolicyRound(label, round_, store.head(), runner.position, health.parked, health.state))
            clock.advance(timedelta(minutes=1))
    return results
