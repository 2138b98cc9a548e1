"""The seed's order, event-sourced: stream ``Order-12345``.

::

    order = Order.create("12345", customer="c-42")
    order.add_item("BOOK-1", Decimal("25.00"), quantity=2)    # ItemAdded {item, new_total}
    order.submit()
    order.pay()                                               # OrderPaid V2 {order_id, amount, currency}

Invariants (each a :class:`~esdemo.write.aggregate.DomainError`): no items after
submit; an order is submitted once; it can only be paid once, after submit,
and not when empty.

Schema evolution, the seed's example: ``OrderPaid`` V1 stored
``{order_id, amount}``; V2 (current) adds ``currency``. Old V1 events stay in
the log as they are, and two of the seed's strategies read them:

* upcasting: :func:`add_currency` turns V1 data into V2 on every read
  (all V1 payments were in US dollars);
* a versioned handler: :func:`payment_of` reads any version itself.

:func:`order_paid_v1` writes a V1 event, as the old code did, for demos and tests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..store.clock import utc_now
from ..store.events import NewEvent, RecordedEvent
from ..write.aggregate import Aggregate, DomainError
from ..write.domain import DomainEvent, EventDecodeError, default_registry, domain_event
from .money import money


@domain_event("OrderCreated")
@dataclass(frozen=True, slots=True)
class OrderCreated(DomainEvent):
    """A customer started an order."""

    order_id: str
    customer_id: str


@domain_event("ItemAdded")
@dataclass(frozen=True, slots=True)
class ItemAdded(DomainEvent):
    """``quantity`` of ``sku`` at unit ``price``; ``new_total`` is the order total after it."""

    order_id: str
    sku: str
    price: Decimal
    quantity: int
    new_total: Decimal


@domain_event("OrderSubmitted")
@dataclass(frozen=True, slots=True)
class OrderSubmitted(DomainEvent):
    """The customer checked out; the order can no longer change."""

    order_id: str
    submitted_at: datetime


@domain_event("OrderPaid", version=2)
@dataclass(frozen=True, slots=True)
class OrderPaid(DomainEvent):
    """The order was paid (schema V2; V1 had no ``currency``)."""

    order_id: str
    amount: Decimal
    currency: str


@default_registry.upcaster("OrderPaid", from_version=1)
def add_currency(data: dict[str, Any]) -> dict[str, Any]:
    """OrderPaid V1 -> V2: V1 payments were all in US dollars."""
    return {**data, "currency": "USD"}


def order_paid_v1(order_id: str, amount: Decimal, *, event_id: uuid.UUID | None = None) -> NewEvent:
    """An ``OrderPaid`` exactly as the V1 code stored it: ``{order_id, amount}``, schema version 1."""
    return NewEvent("OrderPaid", {"order_id": order_id, "amount": amount}, event_id=event_id, schema_version=1)


def payment_of(recorded: RecordedEvent) -> tuple[Decimal, str]:
    """A versioned handler: ``(amount, currency)`` of a stored ``OrderPaid`` of any known version.

    The alternative to upcasting: the reader knows every version itself. Fine
    for one reader; with many readers, upcasting keeps that knowledge in one place.
    """
    if recorded.type != "OrderPaid":
        raise ValueError(f"payment_of reads OrderPaid events, got {recorded.type} at position {recorded.position}")
    match recorded.schema_version:
        case 1:
            return recorded.data["amount"], "USD"
        case 2:
            return recorded.data["amount"], recorded.data["currency"]
        case version:
            raise EventDecodeError(
                f"OrderPaid V{version} at position {recorded.position} is unknown to payment_of (it knows V1 and V2)"
            )


class Order(Aggregate):
    """An order; stream ``Order-<id>``. Status goes ``new`` -> ``created`` -> ``submitted`` -> ``paid``."""

    def __init__(self, id: str | int):
        super().__init__(id)
        self.customer_id: str | None = None
        self.status = "new"
        self.lines: list[dict[str, Any]] = []  # {"sku", "price", "quantity"}, in the order they were added
        self.total = Decimal("0")
        self.submitted_at: datetime | None = None
        self.paid_amount: Decimal | None = None
        self.currency: str | None = None

    # -- commands: validate, then record ------------------------------------------------
    @classmethod
    def create(cls, order_id: str | int, customer: str) -> Order:
        """Start a new order for ``customer`` (save it with a ``Repository``)."""
        if not isinstance(customer, str) or not customer.strip():
            raise DomainError(f"an order needs a customer id, got {customer!r}")
        order = cls(order_id)
        order.record(OrderCreated(order.id, customer))
        return order

    def add_item(self, sku: str, price: Decimal, quantity: int = 1) -> None:
        """Add ``quantity`` of ``sku`` at unit ``price``; only before the order is submitted."""
        self._require_status("created", "add items to")
        if not isinstance(sku, str) or not sku.strip():
            raise DomainError(f"an item needs a SKU, got {sku!r}")
        price = money(price, "an item's price")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise TypeError(f"quantity must be a whole number, got {type(quantity).__name__} {quantity!r}")
        if quantity < 1:
            raise DomainError(f"quantity must be at least 1, got {quantity}")
        self.record(ItemAdded(self.id, sku, price, quantity, self.total + price * quantity))

    def submit(self, *, at: datetime | None = None) -> None:
        """Check out. ``at`` is the submission time (default: now; pass one for reproducible notebooks)."""
        self._require_status("created", "submit")
        at = utc_now() if at is None else at
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"at must be a timezone-aware datetime, got {at!r}")
        self.record(OrderSubmitted(self.id, at))

    def pay(self, *, currency: str = "USD") -> None:
        """Pay the order's total: once, after submit, and only if it has items."""
        if self.status == "paid":
            raise DomainError(f"order {self.id} is already paid ({self.paid_amount} {self.currency}); it cannot be paid twice")
        self._require_status("submitted", "pay")
        if not self.lines:
            raise DomainError(f"order {self.id} is empty; there is nothing to pay")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise DomainError(f"currency must be a three-letter code such as 'USD', got {currency!r}")
        self.record(OrderPaid(self.id, self.total, currency))

    def _require_status(self, wanted: str, action: str) -> None:
        if self.status != wanted:
            why = {"new": "it has not been created (use Order.create)", "created": "it has not been submitted yet",
                   "submitted": "it has already been submitted", "paid": "it has already been paid"}[self.status]
            raise DomainError(f"cannot {action} order {self.id}: {why}")

    # -- the only place state changes ------------------------------------------------------
    def apply(self, event: DomainEvent) -> None:
        """Change lines, total and status; the same code for a new event and for a replayed one."""
        match event:
            case ItemAdded():
                self.lines.append({"sku": event.sku, "price": event.price, "quantity": event.quantity})
                self.total = event.new_total
            case OrderCreated():
                self.customer_id, self.status = event.customer_id, "created"
            case OrderSubmitted():
                self.submitted_at, self.status = event.submitted_at, "submitted"
            case OrderPaid():
                self.paid_amount, self.currency, self.status = event.amount, event.currency, "paid"
            case _:
                super().apply(event)
