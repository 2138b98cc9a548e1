"""The orders example: Order's commands and invariants, and the V1 payment event (no database)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import DomainError, EventDecodeError, RecordedEvent, default_registry
from esdemo.examples.orders import (
    ItemAdded,
    Order,
    OrderCreated,
    OrderPaid,
    OrderSubmitted,
    add_currency,
    order_paid_v1,
    payment_of,
)

AT = datetime(2024, 1, 3, 14, 15, tzinfo=timezone.utc)


def submitted_order() -> Order:
    order = Order.create("12345", customer="c-42")
    order.add_item("BOOK-1", Decimal("25.00"), quantity=2)
    order.add_item("PEN-7", Decimal("1.50"))
    order.submit(at=AT)
    return order


def stored(new_event, position=4) -> RecordedEvent:
    return RecordedEvent(position, "Order-12345", position, new_event.type, new_event.schema_version, new_event.data,
                         new_event.metadata, new_event.event_id, AT)


def test_a_full_order_records_the_contract_events():
    order = submitted_order()
    order.pay()
    assert order.pending_events == (
        OrderCreated("12345", "c-42"),
        ItemAdded("12345", "BOOK-1", Decimal("25.00"), 2, Decimal("50.00")),
        ItemAdded("12345", "PEN-7", Decimal("1.50"), 1, Decimal("51.50")),
        OrderSubmitted("12345", AT),
        OrderPaid("12345", Decimal("51.50"), "USD"),
    )
    assert (order.status, order.total, order.paid_amount, order.currency) == ("paid", Decimal("51.50"),
                                                                              Decimal("51.50"), "USD")
    assert order.stream_id == "Order-12345"


def test_replay_gives_the_same_order():
    live = submitted_order()
    replayed = Order("12345")
    replayed.replay(list(live.pending_events), version=4)
    assert replayed.snapshot_state() == live.snapshot_state()
    assert replayed.lines == [{"sku": "BOOK-1", "price": Decimal("25.00"), "quantity": 2},
                              {"sku": "PEN-7", "price": Decimal("1.50"), "quantity": 1}]


def test_no_items_after_submit():
    order = submitted_order()
    with pytest.raises(DomainError, match="cannot add items to order 12345: it has already been submitted"):
        order.add_item("MUG-1", Decimal("9.00"))
    assert len(order.pending_events) == 4


def test_no_items_after_payment_either():
    order = submitted_order()
    order.pay()
    with pytest.raises(DomainError, match="cannot add items to order 12345: it has already been paid"):
        order.add_item("MUG-1", Decimal("9.00"))


def test_cannot_pay_an_unsubmitted_order():
    order = Order.create("12345", customer="c-42")
    order.add_item("BOOK-1", Decimal("25.00"))
    with pytest.raises(DomainError, match="cannot pay order 12345: it has not been submitted yet"):
        order.pay()
    assert order.status == "created"


def test_cannot_pay_an_empty_order():
    order = Order.create("12345", customer="c-42")
    order.submit(at=AT)
    with pytest.raises(DomainError, match="order 12345 is empty; there is nothing to pay"):
        order.pay()
    assert order.status == "submitted"


def test_cannot_pay_twice():
    order = submitted_order()
    order.pay(currency="EUR")
    with pytest.raises(DomainError, match=r"order 12345 is already paid \(51.50 EUR\); it cannot be paid twice"):
        order.pay()
    assert sum(isinstance(e, OrderPaid) for e in order.pending_events) == 1


def test_submit_only_once():
    order = submitted_order()
    with pytest.raises(DomainError, match="cannot submit order 12345: it has already been submitted"):
        order.submit(at=AT + timedelta(hours=1))


def test_commands_on_an_order_that_was_never_created():
    for command in (lambda o: o.add_item("X", Decimal("1")), lambda o: o.submit(at=AT)):
        with pytest.raises(DomainError, match="it has not been created"):
            command(Order("1"))


@pytest.mark.parametrize("sku, price, quantity, error, match", [
    ("", Decimal("1"), 1, DomainError, "an item needs a SKU"),
    ("X", Decimal("0"), 1, DomainError, "an item's price must be more than zero"),
    ("X", 1.5, 1, TypeError, "an item's price must be a Decimal"),
    ("X", Decimal("1"), 0, DomainError, "quantity must be at least 1, got 0"),
    ("X", Decimal("1"), 1.0, TypeError, "quantity must be a whole number"),
    ("X", Decimal("1"), True, TypeError, "quantity must be a whole number"),
])
def test_bad_items_are_refused(sku, price, quantity, error, match):
    order = Order.create("1", customer="c")
    with pytest.raises(error, match=match):
        order.add_item(sku, price, quantity)
    assert order.lines == [] and len(order.pending_events) == 1


def test_create_needs_a_customer_and_pay_a_currency_code():
    with pytest.raises(DomainError, match="an order needs a customer id"):
        Order.create("1", customer="")
    order = submitted_order()
    for bad in ("usd", "US", "DOLLAR", 1):
        with pytest.raises(DomainError, match="three-letter code such as 'USD'"):
            order.pay(currency=bad)


def test_submit_needs_an_aware_time_and_defaults_to_now():
    order = Order.create("1", customer="c")
    with pytest.raises(ValueError, match="timezone-aware"):
        order.submit(at=datetime(2024, 1, 1))
    before = datetime.now(timezone.utc)
    order.submit()
    assert before <= order.submitted_at <= datetime.now(timezone.utc)


# -- OrderPaid V1: the upcaster and the versioned handler -------------------------------------

def test_order_paid_v1_is_what_the_old_code_stored():
    event_id = uuid.uuid4()
    v1 = order_paid_v1("12345", Decimal("51.50"), event_id=event_id)
    assert (v1.type, v1.schema_version, v1.data, v1.event_id) == (
        "OrderPaid", 1, {"order_id": "12345", "amount": Decimal("51.50")}, event_id)


def test_the_default_registry_upcasts_v1_payments_to_usd():
    assert default_registry.upcasters.chain("OrderPaid") == [(1, add_currency.__qualname__)]
    event = default_registry.decode(stored(order_paid_v1("12345", Decimal("51.50"))))
    assert event == OrderPaid("12345", Decimal("51.50"), "USD")


def test_the_versioned_handler_reads_both_versions_itself():
    v1 = stored(order_paid_v1("12345", Decimal("51.50")))
    v2 = stored(default_registry.encode(OrderPaid("12345", Decimal("9.00"), "EUR")))
    assert payment_of(v1) == (Decimal("51.50"), "USD")
    assert payment_of(v2) == (Decimal("9.00"), "EUR")
    v9 = RecordedEvent(5, "Order-1", 5, "OrderPaid", 9, {}, {}, uuid.uuid4(), AT)
    with pytest.raises(EventDecodeError, match="OrderPaid V9 at position 5 is unknown to payment_of"):
        payment_of(v9)
    with pytest.raises(ValueError, match="payment_of reads OrderPaid events, got OrderCreated"):
        payment_of(stored(default_registry.encode(OrderCreated("1", "c"))))
