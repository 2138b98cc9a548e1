"""The same checkout, choreographed: each service reacts to the others' events; nobody runs the flow.

Four :class:`~esdemo.process.reactions.Reactor` s, one per service, share the
checkout's aggregates and command handlers (:mod:`esdemo.examples.checkout`):

=============  ===========================================  ==========================
service        reacts to                                    by sending
=============  ===========================================  ==========================
warehouse      OrderPlaced                                  ReserveStock
               OrderCancelled (if it holds a reservation)   ReleaseStock
payments       StockReserved                                RequestPayment
               ShipmentRefused                              RefundPayment
shipping       PaymentCharged                               ScheduleShipment
orders         StockReservationRejected, PaymentDeclined,   CancelOrder
               ShipmentRefused
               ShipmentScheduled                            ConfirmOrder
=============  ===========================================  ==========================

What it shows, next to :class:`~esdemo.examples.checkout.CheckoutProcess`:

* the flow is nowhere in one place: it is the sum of eight reactions;
* each service must know the events of the others (shipping needs the
  order's address, so it reads the order; the payment amount travels in the
  reservation's conversation, so payments reads the order too);
* compensation is a chain: the order cancels, and the warehouse, seeing the
  cancellation, releases;
* nobody owns "15 minutes": an order whose customer never pays waits for ever,
  with its stock reserved, until someone adds a reaction with a timer
  (which is a process manager again). :func:`stuck_orders` finds them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from ..process.commands import CommandBus
from ..process.reactions import Reactor, run_until_quiet
from ..store.event_store import EventStore
from .checkout import (
    CancelOrder,
    CheckoutHandlers,
    ConfirmOrder,
    RefundPayment,
    ReleaseStock,
    RequestPayment,
    ReserveStock,
    ScheduleShipment,
)


class Choreography:
    """The four services' reactors on one store and one command bus."""

    def __init__(self, store: EventStore, bus: CommandBus, handlers: CheckoutHandlers, *,
                 fault: Callable[[str], None] | None = None):
        self.store, self.bus, self.handlers = store, bus, handlers
        orders = handlers.orders

        def release_if_reserved(event: Any) -> list[tuple[str, Any]]:
            # The warehouse may read its *own* aggregate: only it knows whether it holds a reservation.
            if event.order_id in handlers.warehouse().reserved:
                return [("release-stock", ReleaseStock(event.order_id, event.reason))]
            return []

        self.reactors = [
            Reactor(store, bus, "choreo-warehouse", {
                "OrderPlaced": lambda e: [("reserve-stock", ReserveStock(e.order_id, tuple(e.lines)))],
                "OrderCancelled": release_if_reserved,
            }, fault=fault),
            Reactor(store, bus, "choreo-payments", {
                "StockReserved": lambda e: [("request-payment",
                                             RequestPayment(e.order_id, orders.load(e.order_id).total))],
                "ShipmentRefused": lambda e: [("refund-payment", RefundPayment(e.order_id, "shipment refused"))],
            }, fault=fault),
            Reactor(store, bus, "choreo-shipping", {
                "PaymentCharged": lambda e: [("schedule-shipment",
                                              ScheduleShipment(e.order_id, orders.load(e.order_id).address))],
            }, fault=fault),
            Reactor(store, bus, "choreo-orders", {
                "StockReservationRejected": lambda e: [("cancel-order", CancelOrder(e.order_id, e.reason))],
                "PaymentDeclined": lambda e: [("cancel-order", CancelOrder(e.order_id, "payment declined"))],
                "ShipmentRefused": lambda e: [("cancel-order", CancelOrder(e.order_id, "shipment refused"))],
                "ShipmentScheduled": lambda e: [("confirm-order", ConfirmOrder(e.order_id))],
            }, fault=fault),
        ]

    def run(self) -> int:
        """Poll every service until nothing new happens; return the rounds it took."""
        return run_until_quiet(self.reactors)


def stuck_orders(store: EventStore) -> list[str]:
    """Orders placed but neither confirmed nor cancelled (sorted): where a choreography loses track."""
    open_orders: set[str] = set()
    for event in store.read_all():
        if event.type == "OrderPlaced":
            open_orders.add(event.data["order_id"])
        elif event.type in ("OrderConfirmed", "OrderCancelled"):
            open_orders.discard(event.data["order_id"])
    return sorted(open_orders)


def choreographed_shop(store: EventStore, *, id_factory: Callable[[], uuid.UUID] | None = None,
                       fault: Callable[[str], None] | None = None) -> tuple[Choreography, CommandBus]:
    """A bus with the checkout handlers and the four reactors; returns ``(choreography, bus)``."""
    handlers = CheckoutHandlers(store, id_factory)
    bus = CommandBus(store, id_factory=id_factory)
    handlers.register(bus)
    return Choreography(store, bus, handlers, fault=fault), bus
