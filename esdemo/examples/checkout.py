"""Checkout across four aggregates, run by a process manager: the saga the seed ends with.

A customer places an order; the warehouse reserves the stock; the customer
pays; a courier ships; the order is confirmed. Each step is a different
aggregate (a different consistency boundary), so no transaction spans them:
a failure later on is undone by *compensating events*, never by deleting any.

=================  ==============================  ==========================================================
aggregate          stream                          events
=================  ==============================  ==========================================================
``ShopOrder``      ``Order-<id>``                  OrderPlaced, OrderConfirmed, OrderCancelled
``Warehouse``      ``Stock-main``                  StockAdded, StockReserved, StockReservationRejected, StockReleased
``Payment``        ``Payment-<order id>``          PaymentRequested, PaymentCharged, PaymentDeclined, PaymentExpired, PaymentRefunded
``Shipment``       ``Shipment-<order id>``         ShipmentScheduled, ShipmentRefused
=================  ==============================  ==========================================================

:class:`CheckoutProcess` is the orchestrator. Its happy path::

    OrderPlaced -> ReserveStock -> StockReserved -> RequestPayment (+ a 15-minute deadline)
    PaymentCharged -> ScheduleShipment -> ShipmentScheduled -> ConfirmOrder -> OrderConfirmed

and its unhappy ones: ``PaymentDeclined`` or ``PaymentExpired`` (the deadline
passed) release the stock and cancel the order; ``ShipmentRefused`` refunds
the payment, releases the stock and cancels. :func:`compensations` says which
undo belongs to which completed step.

``Shop`` wires everything on one store, for notebooks and tests::

    shop = Shop(store, id_factory=seeded_ids(7), clock=clock)
    shop.add_stock("BOOK-1", 5)
    order = shop.place_order("A1", "c-42", [("BOOK-1", 2, Decimal("25.00"))], address="1 Main St")
    shop.run()                                  # the process manager handles everything new
    shop.pay("A1", card="4242")                 # the customer answers the payment request
    shop.run()
    read_conversation(store, order.correlation_id)   # the whole story, in log order

Cards ending in ``0002`` are declined (as a payment provider's test card);
the courier refuses the address ``"nowhere"``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..process.commands import CommandBus
from ..process.process_manager import Crash, Deadline, ProcessManager
from ..read.conversation import read_conversation
from ..store.clock import FakeClock
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..store.ids import seeded_ids
from ..write.aggregate import Aggregate, DomainError
from ..write.context import correlation_of
from ..write.domain import DomainEvent, domain_event
from ..write.repository import AggregateNotFoundError, Repository
from .money import money

PAYMENT_TIMEOUT = timedelta(minutes=15)
WAREHOUSE = "main"


# -- events -----------------------------------------------------------------------------------------
@domain_event("OrderPlaced")
@dataclass(frozen=True, slots=True)
class OrderPlaced(DomainEvent):
    """A customer checked out ``lines`` ([{sku, quantity, price}]) to be shipped to ``address``."""

    order_id: str
    customer_id: str
    lines: list
    total: Decimal
    address: str


@domain_event("OrderConfirmed")
@dataclass(frozen=True, slots=True)
class OrderConfirmed(DomainEvent):
    """Stock reserved, payment charged, shipment scheduled: the order is confirmed."""

    order_id: str


@domain_event("OrderCancelled")
@dataclass(frozen=True, slots=True)
class OrderCancelled(DomainEvent):
    """The order will not be fulfilled, and why."""

    order_id: str
    reason: str


@domain_event("StockAdded")
@dataclass(frozen=True, slots=True)
class StockAdded(DomainEvent):
    sku: str
    quantity: int


@domain_event("StockReserved")
@dataclass(frozen=True, slots=True)
class StockReserved(DomainEvent):
    """``lines`` are set aside for ``order_id``: no one else can buy them."""

    order_id: str
    lines: list


@domain_event("StockReservationRejected")
@dataclass(frozen=True, slots=True)
class StockReservationRejected(DomainEvent):
    order_id: str
    reason: str


@domain_event("StockReleased")
@dataclass(frozen=True, slots=True)
class StockReleased(DomainEvent):
    """Compensation: the reservation of ``order_id`` is undone; the lines are for sale again."""

    order_id: str
    lines: list
    reason: str


@domain_event("PaymentRequested")
@dataclass(frozen=True, slots=True)
class PaymentRequested(DomainEvent):
    order_id: str
    amount: Decimal


@domain_event("PaymentCharged")
@dataclass(frozen=True, slots=True)
class PaymentCharged(DomainEvent):
    order_id: str
    amount: Decimal
    card: str


@domain_event("PaymentDeclined")
@dataclass(frozen=True, slots=True)
class PaymentDeclined(DomainEvent):
    order_id: str
    reason: str


@domain_event("PaymentExpired")
@dataclass(frozen=True, slots=True)
class PaymentExpired(DomainEvent):
    """No payment arrived in time; a late one is refused."""

    order_id: str


@domain_event("PaymentRefunded")
@dataclass(frozen=True, slots=True)
class PaymentRefunded(DomainEvent):
    """Compensation: the charge is paid back (the charge itself stays in the log)."""

    order_id: str
    amount: Decimal
    reason: str


@domain_event("ShipmentScheduled")
@dataclass(frozen=True, slots=True)
class ShipmentScheduled(DomainEvent):
    order_id: str
    address: str


@domain_event("ShipmentRefused")
@dataclass(frozen=True, slots=True)
class ShipmentRefused(DomainEvent):
    order_id: str
    reason: str


# -- aggregates ---------------------------------------------------------------------------------------
class ShopOrder(Aggregate):
    """An order in the checkout saga; stream ``Order-<id>``. placed -> confirmed | cancelled."""

    stream_prefix = "Order"

    def __init__(self, id: str | int):
        super().__init__(id)
        self.status = "new"
        self.customer_id: str | None = None
        self.lines: list[dict[str, Any]] = []
        self.total = Decimal("0")
        self.address = ""
        self.reason: str | None = None

    @classmethod
    def place(cls, order_id: str, customer_id: str, lines: list[tuple[str, int, Decimal]], address: str) -> ShopOrder:
        """Place an order of ``lines`` given as (sku, quantity, unit price)."""
        if not isinstance(customer_id, str) or not customer_id.strip():
            raise DomainError(f"an order needs a customer id, got {customer_id!r}")
        if not lines:
            raise DomainError("an order needs at least one line (sku, quantity, price)")
        rows, total = [], Decimal("0")
        for line in lines:
            sku, quantity, price = line
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise DomainError(f"quantity of {sku} must be a whole number >= 1, got {quantity!r}")
            price = money(price, f"the price of {sku}")
            rows.append({"sku": sku, "quantity": quantity, "price": price})
            total += price * quantity
        order = cls(order_id)
        order.record(OrderPlaced(order.id, customer_id, rows, total, address))
        return order

    def confirm(self) -> None:
        self._require_placed("confirm")
        self.record(OrderConfirmed(self.id))

    def cancel(self, reason: str) -> None:
        self._require_placed("cancel")
        self.record(OrderCancelled(self.id, reason))

    def _require_placed(self, action: str) -> None:
        if self.status != "placed":
            raise DomainError(f"cannot {action} order {self.id}: it is {self.status}")

    def apply(self, event: DomainEvent) -> None:
        match event:
            case OrderPlaced():
                self.status, self.customer_id, self.lines = "placed", event.customer_id, list(event.lines)
                self.total, self.address = event.total, event.address
            case OrderConfirmed():
                self.status = "confirmed"
            case OrderCancelled():
                self.status, self.reason = "cancelled", event.reason
            case _:
                super().apply(event)


class Warehouse(Aggregate):
    """Stock on hand and reservations per order; stream ``Stock-<warehouse>``.

    It reserves what an order asks for, if it is there. It does not guard
    against the *same* reservation sent twice: the command ids see to that
    (see :mod:`esdemo.process.commands`); a test would notice a double.
    """

    stream_prefix = "Stock"

    def __init__(self, id: str | int):
        super().__init__(id)
        self.on_hand: dict[str, int] = {}
        self.reserved: dict[str, list[dict[str, Any]]] = {}

    def add(self, sku: str, quantity: int) -> None:
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise DomainError(f"quantity must be a whole number >= 1, got {quantity!r}")
        self.record(StockAdded(sku, quantity))

    def reserve(self, order_id: str, lines: list[dict[str, Any]]) -> None:
        """Reserve every line, or none: ``StockReserved`` or ``StockReservationRejected``."""
        short = [f"{line['sku']} (want {line['quantity']}, have {self.on_hand.get(line['sku'], 0)})"
                 for line in lines if self.on_hand.get(line["sku"], 0) < line["quantity"]]
        if short:
            self.record(StockReservationRejected(order_id, "out of stock: " + ", ".join(short)))
        else:
            self.record(StockReserved(order_id, [{"sku": line["sku"], "quantity": line["quantity"]} for line in lines]))

    def release(self, order_id: str, reason: str) -> None:
        """Compensation: put ``order_id``'s reserved lines back on sale."""
        if order_id not in self.reserved:
            raise DomainError(f"nothing is reserved for order {order_id}, so there is nothing to release")
        self.record(StockReleased(order_id, self.reserved[order_id], reason))

    def available(self, sku: str) -> int:
        return self.on_hand.get(sku, 0)

    def apply(self, event: DomainEvent) -> None:
        match event:
            case StockAdded():
                self.on_hand[event.sku] = self.on_hand.get(event.sku, 0) + event.quantity
            case StockReserved():
                for line in event.lines:
                    self.on_hand[line["sku"]] -= line["quantity"]
                self.reserved[event.order_id] = list(event.lines)
            case StockReleased():
                for line in event.lines:
                    self.on_hand[line["sku"]] += line["quantity"]
                del self.reserved[event.order_id]
            case StockReservationRejected():
                pass
            case _:
                super().apply(event)


class Payment(Aggregate):
    """The payment of one order; stream ``Payment-<order id>``.

    requested -> charged (-> refunded) | declined | expired. A charge needs
    a request that has not expired; a refund needs a charge.
    """

    def __init__(self, id: str | int):
        super().__init__(id)
        self.status = "new"
        self.amount = Decimal("0")

    @classmethod
    def request(cls, order_id: str, amount: Decimal) -> Payment:
        payment = cls(order_id)
        payment.record(PaymentRequested(payment.id, money(amount, "the amount to pay")))
        return payment

    def pay(self, card: str) -> None:
        """Charge ``card``: ``PaymentCharged``, or ``PaymentDeclined`` for a card ending in 0002."""
        if self.status == "expired":
            raise DomainError(f"the payment window of order {self.id} has closed (the order was cancelled); "
                              "nothing was charged")
        if self.status != "requested":
            raise DomainError(f"order {self.id}'s payment is {self.status}; it cannot be paid now")
        if not isinstance(card, str) or not card.strip():
            raise DomainError(f"a card number is needed, got {card!r}")
        if card.endswith("0002"):
            self.record(PaymentDeclined(self.id, "card declined"))
        else:
            self.record(PaymentCharged(self.id, self.amount, card[-4:]))

    def expire(self) -> None:
        if self.status != "requested":
            raise DomainError(f"order {self.id}'s payment is {self.status}; only a pending request can expire")
        self.record(PaymentExpired(self.id))

    def refund(self, reason: str) -> None:
        """Compensation: pay the charge back."""
        if self.status != "charged":
            raise DomainError(f"order {self.id}'s payment is {self.status}; only a charge can be refunded")
        self.record(PaymentRefunded(self.id, self.amount, reason))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case PaymentRequested():
                self.status, self.amount = "requested", event.amount
            case PaymentCharged():
                self.status = "charged"
            case PaymentDeclined():
                self.status = "declined"
            case PaymentExpired():
                self.status = "expired"
            case PaymentRefunded():
                self.status = "refunded"
            case _:
                super().apply(event)


class Shipment(Aggregate):
    """The shipment of one order; stream ``Shipment-<order id>``. The courier refuses ``"nowhere"``."""

    def __init__(self, id: str | int):
        super().__init__(id)
        self.status = "new"

    @classmethod
    def schedule(cls, order_id: str, address: str) -> Shipment:
        shipment = cls(order_id)
        if not address.strip() or address.strip().lower() == "nowhere":
            shipment.record(ShipmentRefused(shipment.id, f"the courier does not deliver to {address!r}"))
        else:
            shipment.record(ShipmentScheduled(shipment.id, address))
        return shipment

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ShipmentScheduled():
                self.status = "scheduled"
            case ShipmentRefused():
                self.status = "refused"
            case _:
                super().apply(event)


# -- commands --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    customer_id: str
    lines: tuple
    address: str


@dataclass(frozen=True)
class ReserveStock:
    order_id: str
    lines: tuple


@dataclass(frozen=True)
class ReleaseStock:
    order_id: str
    reason: str


@dataclass(frozen=True)
class RequestPayment:
    order_id: str
    amount: Decimal


@dataclass(frozen=True)
class PayOrder:
    order_id: str
    card: str


@dataclass(frozen=True)
class ExpirePayment:
    order_id: str


@dataclass(frozen=True)
class RefundPayment:
    order_id: str
    reason: str


@dataclass(frozen=True)
class ScheduleShipment:
    order_id: str
    address: str


@dataclass(frozen=True)
class ConfirmOrder:
    order_id: str


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str


@dataclass(frozen=True)
class AddStock:
    sku: str
    quantity: int


class CheckoutHandlers:
    """The command handlers: load (or create) the aggregate, call one method, save."""

    def __init__(self, store: EventStore, id_factory: Callable[[], uuid.UUID] | None = None):
        self.orders = Repository(store, ShopOrder, id_factory=id_factory)
        self.stock = Repository(store, Warehouse, id_factory=id_factory)
        self.payments = Repository(store, Payment, id_factory=id_factory)
        self.shipments = Repository(store, Shipment, id_factory=id_factory)

    def register(self, bus: CommandBus) -> None:
        for command, handler in [
            (PlaceOrder, self.place_order), (ConfirmOrder, self.confirm_order), (CancelOrder, self.cancel_order),
            (AddStock, self.add_stock), (ReserveStock, self.reserve_stock), (ReleaseStock, self.release_stock),
            (RequestPayment, self.request_payment), (PayOrder, self.pay_order), (ExpirePayment, self.expire_payment),
            (RefundPayment, self.refund_payment), (ScheduleShipment, self.schedule_shipment),
        ]:
            bus.register(command, handler)

    def warehouse(self) -> Warehouse:
        try:
            return self.stock.load(WAREHOUSE)
        except AggregateNotFoundError:
            return Warehouse(WAREHOUSE)

    def place_order(self, c: PlaceOrder) -> None:
        self.orders.save(ShopOrder.place(c.order_id, c.customer_id, list(c.lines), c.address))

    def confirm_order(self, c: ConfirmOrder) -> None:
        self._change(self.orders, c.order_id, lambda order: order.confirm())

    def cancel_order(self, c: CancelOrder) -> None:
        self._change(self.orders, c.order_id, lambda order: order.cancel(c.reason))

    def add_stock(self, c: AddStock) -> None:
        warehouse = self.warehouse()
        warehouse.add(c.sku, c.quantity)
        self.stock.save(warehouse)

    def reserve_stock(self, c: ReserveStock) -> None:
        warehouse = self.warehouse()
        warehouse.reserve(c.order_id, [dict(line) for line in c.lines])
        self.stock.save(warehouse)

    def release_stock(self, c: ReleaseStock) -> None:
        self._change(self.stock, WAREHOUSE, lambda warehouse: warehouse.release(c.order_id, c.reason))

    def request_payment(self, c: RequestPayment) -> None:
        self.payments.save(Payment.request(c.order_id, c.amount))

    def pay_order(self, c: PayOrder) -> None:
        self._change(self.payments, c.order_id, lambda payment: payment.pay(c.card))

    def expire_payment(self, c: ExpirePayment) -> None:
        self._change(self.payments, c.order_id, lambda payment: payment.expire())

    def refund_payment(self, c: RefundPayment) -> None:
        self._change(self.payments, c.order_id, lambda payment: payment.refund(c.reason))

    def schedule_shipment(self, c: ScheduleShipment) -> None:
        self.shipments.save(Shipment.schedule(c.order_id, c.address))

    @staticmethod
    def _change(repository: Repository, id: str, command: Callable[[Any], None]) -> None:
        aggregate = repository.load(id)
        command(aggregate)
        repository.save(aggregate)


# -- the process manager ------------------------------------------------------------------------------------
def compensations(order_id: str, completed: list[str], reason: str) -> list[tuple[str, Any]]:
    """The commands that undo ``completed`` steps (newest first), then cancel the order.

    ``completed`` lists the steps done so far, in order: ``"stock"`` (reserved)
    and ``"payment"`` (charged). The undo of a charge is a refund, of a
    reservation a release: new events that say so, never a deleted one.
    """
    undo = {"payment": ("refund-payment", RefundPayment(order_id, reason)),
            "stock": ("release-stock", ReleaseStock(order_id, reason))}
    unknown = [step for step in completed if step not in undo]
    if unknown:
        raise ValueError(f"no compensation is known for step(s) {unknown}; known: {sorted(undo)}")
    return [undo[step] for step in reversed(completed)] + [("cancel-order", CancelOrder(order_id, reason))]


class CheckoutProcess(ProcessManager):
    """Orchestrates checkout; its state per order: ``status``, ``completed`` steps, and what it needs next.

    It decides from its own state and the event only (nothing read from the
    aggregates), which is what makes a redelivered event send the same commands.
    """

    name = "checkout"
    event_types = {"OrderPlaced", "StockReserved", "StockReservationRejected", "PaymentCharged",
                   "PaymentDeclined", "PaymentExpired", "ShipmentScheduled", "ShipmentRefused",
                   "OrderConfirmed", "OrderCancelled"}

    def process_id(self, event: Any) -> str:
        return event.order_id

    def initial_state(self) -> dict[str, Any]:
        return {"status": "new", "completed": []}

    def handle(self, event: Any, recorded: RecordedEvent, state: dict[str, Any]) -> None:
        match event:
            case OrderPlaced():
                state.update(status="reserving stock", total=event.total, address=event.address)
                self.send(ReserveStock(event.order_id, tuple(event.lines)), step="reserve-stock")
            case StockReservationRejected():
                state["status"] = "cancelling"
                self.send(CancelOrder(event.order_id, event.reason), step="cancel-order")
            case StockReserved():
                state["status"] = "awaiting payment"
                state["completed"].append("stock")
                self.send(RequestPayment(event.order_id, state["total"]), step="request-payment")
                self.schedule("payment-timeout", after=PAYMENT_TIMEOUT)
            case PaymentCharged():
                self.cancel("payment-timeout")
                state["status"] = "shipping"
                state["completed"].append("payment")
                self.send(ScheduleShipment(event.order_id, state["address"]), step="schedule-shipment")
            case PaymentDeclined() | PaymentExpired() | ShipmentRefused():
                self.cancel("payment-timeout")
                reason = {PaymentDeclined: "payment declined", PaymentExpired: "payment not received in time",
                          ShipmentRefused: "shipment refused"}[type(event)]
                state["status"] = "compensating"
                for step, command in self.compensations(event.order_id, list(state["completed"]), reason):
                    self.send(command, step=step)
            case ShipmentScheduled():
                state["status"] = "confirming"
                self.send(ConfirmOrder(event.order_id), step="confirm-order")
            case OrderConfirmed():
                state["status"] = "confirmed"
            case OrderCancelled():
                state["status"] = "cancelled"

    def compensations(self, order_id: str, completed: list[str], reason: str) -> list[tuple[str, Any]]:
        """The undo plan (see :func:`compensations`); a subclass may plan differently."""
        return compensations(order_id, completed, reason)

    def on_deadline(self, deadline: Deadline, state: dict[str, Any]) -> None:
        if deadline.step == "payment-timeout":  # the PaymentExpired it causes moves the state on
            self.send(ExpirePayment(deadline.process_id), step="expire-payment")


# -- wiring, for notebooks and tests -------------------------------------------------------------------------
@dataclass(frozen=True)
class PlacedOrder:
    """What placing an order returns: its id and the conversation it started."""

    order_id: str
    correlation_id: str
    position: int


class Shop:
    """A store, a command bus with the checkout handlers, and the :class:`CheckoutProcess`.

    ``fault`` goes to the process manager (see :class:`~esdemo.process.process_manager.ProcessManager`).
    ``clock`` is what deadlines are measured against; pass the store's ``FakeClock``
    (its ``peek``, so asking the time does not move it).
    """

    def __init__(self, store: EventStore, *, id_factory: Callable[[], uuid.UUID] | None = None,
                 clock: Callable[[], datetime] | None = None, fault: Callable[[str], None] | None = None,
                 process: type[CheckoutProcess] | None = None):
        self.store = store
        self.handlers = CheckoutHandlers(store, id_factory)
        self.bus = CommandBus(store, id_factory=id_factory)
        self.handlers.register(self.bus)
        self.process = (process or CheckoutProcess)(store, self.bus, clock=clock, fault=fault)

    def add_stock(self, sku: str, quantity: int) -> None:
        self.bus.send(AddStock(sku, quantity))

    def place_order(self, order_id: str, customer_id: str, lines: list[tuple[str, int, Decimal]], *,
                    address: str) -> PlacedOrder:
        """The customer's command; it starts a conversation (its id is the correlation id)."""
        result = self.bus.send(PlaceOrder(order_id, customer_id, tuple(tuple(line) for line in lines), address))
        return PlacedOrder(order_id, result.envelope.correlation_id, result.events[-1].position)

    def pay(self, order_id: str, card: str) -> Any:
        """The customer pays, in answer to the order's ``PaymentRequested`` (so it joins that conversation)."""
        requested = [e for e in self.store.read(Payment.stream_id_for(order_id)) if e.type == "PaymentRequested"]
        if not requested:
            raise DomainError(f"order {order_id} has no payment request yet; run the process manager first")
        return self.bus.send(PayOrder(order_id, card), cause=requested[0])

    def run(self) -> int:
        """Let the process manager handle everything new; return how many events it handled."""
        return self.process.catch_up()

    def tick(self, now: datetime | None = None) -> list[Deadline]:
        """Fire due deadlines (after catching up), then handle what they caused."""
        fired = self.process.tick(now)
        self.run()
        return fired

    def conversation(self, order: PlacedOrder | str) -> list[RecordedEvent]:
        """Every event of the order's conversation, in log order."""
        correlation = order.correlation_id if isinstance(order, PlacedOrder) else order
        return read_conversation(self.store, correlation)

    def order_status(self, order_id: str) -> str:
        return self.handlers.orders.load(order_id).status

    def warehouse(self) -> Warehouse:
        return self.handlers.warehouse()


def ledger(store: EventStore, order_id: str) -> dict[str, int]:
    """How many times each money or stock fact happened to ``order_id`` (what must never double)."""
    counts = {name: 0 for name in ("StockReserved", "StockReleased", "PaymentCharged", "PaymentRefunded",
                                   "OrderConfirmed", "OrderCancelled")}
    for event in store.read_all():
        if event.type in counts and event.data.get("order_id") == order_id:
            counts[event.type] += 1
    return counts


def conversation_of(store: EventStore, order_id: str) -> str:
    """The correlation id of ``order_id``'s conversation (from its first event)."""
    events = store.read(ShopOrder.stream_id_for(order_id))
    if not events:
        raise LookupError(f"no order {order_id!r} in this store")
    return correlation_of(events[0])


# -- scenarios with faults, for the notebook's fault injector and the crash tests ----------------------------
SCENARIOS = {
    "paid": "the customer pays; the order ships and is confirmed",
    "declined": "the card is declined: release the stock, cancel the order",
    "timeout": "no payment within 15 minutes: expire the payment, release the stock, cancel",
    "refused": "paid, but the courier refuses the address: refund, release, cancel",
}
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
CARDS = {"paid": "4242-4242-4242-4242", "declined": "4000-0000-0000-0002", "refused": "4242-4242-4242-4242"}


class CrashInjector:
    """A fault hook: records every point reached, and raises :class:`Crash` at the chosen one, once.

    ``at`` is a point's name (crash the first time it is reached, e.g.
    ``"command:request-payment"``) or a number ``n`` (crash at the n-th point
    reached, counting from 1), or ``None`` (never crash: just record).
    """

    def __init__(self, at: int | str | None = None):
        if isinstance(at, bool) or (at is not None and not isinstance(at, (int, str))):
            raise TypeError(f"at must be a point name, a number >= 1 or None, got {at!r}")
        self.at, self.points, self.crashes = at, [], []
        self._armed = at is not None

    def __call__(self, point: str) -> None:
        self.points.append(point)
        if self._armed and (self.at == point if isinstance(self.at, str) else self.at == len(self.points)):
            self._armed = False
            self.crashes.append(point)
            raise Crash(f"crashed at {point!r}")


@dataclass
class ScenarioRun:
    """What :func:`run_scenario` did: the store, the shop, the order, and the faults that hit."""

    scenario: str
    store: EventStore
    shop: Shop
    order: PlacedOrder
    faults: CrashInjector
    duplicates: int

    @property
    def conversation(self) -> list[RecordedEvent]:
        return self.shop.conversation(self.order)

    @property
    def ledger(self) -> dict[str, int]:
        return ledger(self.store, self.order.order_id)

    def story(self) -> list[tuple[str, str]]:
        """The conversation as (stream, event type) pairs, in log order."""
        return [(e.stream_id, e.type) for e in self.conversation]


def run_scenario(scenario: str, *, backend: str = "duckdb", crash_at: int | str | None = None,
                 deliver_twice: bool = False, seed: int = 7,
                 process: type[CheckoutProcess] | None = None) -> ScenarioRun:
    """Run one checkout from placing to the end, on a fresh in-memory store, reproducibly.

    ``crash_at`` crashes the process manager once at that point (see
    :class:`CrashInjector`); the driver then restarts it, as a supervisor
    would, and the event is delivered again. ``deliver_twice`` makes the
    command bus receive every command the manager sends twice. ``process``
    replaces :class:`CheckoutProcess` (e.g. an exercise's variant of it).
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {sorted(SCENARIOS)}, got {scenario!r}")
    clock = FakeClock(START, step=timedelta(seconds=1))
    store = EventStore(backend=backend, clock=clock)
    faults = CrashInjector(crash_at)
    shop = Shop(store, id_factory=seeded_ids(seed), clock=clock.peek, fault=faults, process=process)
    duplicates = 0
    if deliver_twice:
        dispatch = shop.bus.dispatch

        def twice(envelope: Any) -> Any:
            nonlocal duplicates
            dispatch(envelope)
            duplicates += 1
            return dispatch(envelope)

        shop.bus.dispatch = twice  # type: ignore[method-assign]
    shop.add_stock("BOOK-1", 10)
    shop.add_stock("PEN-2", 10)
    address = "nowhere" if scenario == "refused" else "1 Main St"
    order = shop.place_order("A1", "c-42", [("BOOK-1", 2, Decimal("25.00")), ("PEN-2", 1, Decimal("3.50"))],
                             address=address)
    _until_done(shop.run)
    if scenario in CARDS:
        clock.advance(minutes=3)
        shop.pay("A1", CARDS[scenario])
        _until_done(shop.run)
    clock.advance(minutes=16)
    _until_done(shop.tick)
    return ScenarioRun(scenario, store, shop, order, faults, duplicates)


def _until_done(step: Callable[[], object], attempts: int = 100) -> None:
    """Run ``step``; after a simulated crash, run it again (a supervisor restarting the process)."""
    for _ in range(attempts):
        try:
            step()
            return
        except Crash:
            continue
    raise RuntimeError(f"{step} kept crashing after {attempts} restarts")
