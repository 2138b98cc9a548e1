"""given(events).then_commands(Process, ...): specs for a process manager, on the checkout saga."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from esdemo import SpecError, SpecFailed, given
from esdemo.examples.checkout import (
    CancelOrder,
    CheckoutProcess,
    ExpirePayment,
    OrderPlaced,
    PaymentDeclined,
    ReleaseStock,
    RequestPayment,
    ReserveStock,
    StockReserved,
)

LINES = [{"sku": "BOOK-1", "quantity": 2, "price": Decimal("25.00")}]
placed = OrderPlaced("A1", "c-42", LINES, Decimal("50.00"), "1 Main St")
reserved = StockReserved("A1", LINES)


def test_an_order_placed_makes_the_manager_reserve_its_stock():
    sent = given(placed).then_commands(CheckoutProcess, ReserveStock("A1", tuple(LINES)))
    assert sent == [ReserveStock("A1", tuple(LINES))]


def test_reserved_stock_makes_it_request_the_payment_and_nothing_else_before_the_deadline():
    given(placed, reserved).then_commands(
        CheckoutProcess, ReserveStock("A1", tuple(LINES)), RequestPayment("A1", Decimal("50.00")),
        after=timedelta(minutes=14, seconds=59))


def test_after_fifteen_minutes_without_payment_the_deadline_expires_the_payment():
    given(placed, reserved).then_commands(
        CheckoutProcess, ReserveStock("A1", tuple(LINES)), RequestPayment("A1", Decimal("50.00")), ExpirePayment("A1"),
        after=timedelta(minutes=15))


def test_a_declined_payment_is_compensated_and_its_deadline_never_fires():
    sent = given(placed, reserved, PaymentDeclined("A1", "card declined")).then_commands(
        CheckoutProcess, ReserveStock("A1", tuple(LINES)), RequestPayment("A1", Decimal("50.00")),
        ReleaseStock("A1", "payment declined"), CancelOrder("A1", "payment declined"), after=timedelta(hours=1))
    assert ExpirePayment("A1") not in sent


def test_a_wrong_expectation_fails_with_a_command_by_command_diff():
    with pytest.raises(SpecFailed) as failed:
        given(placed, reserved).then_commands(CheckoutProcess, ReserveStock("A1", tuple(LINES)),
                                              RequestPayment("A1", Decimal("5.00")))
    message = str(failed.value)
    assert "Spec failed for CheckoutProcess" in message and "given: OrderPlaced, StockReserved" in message
    assert "first difference: command 2, field 'amount'" in message
    assert ">>" in message and "Decimal('5.00')" in message and "Decimal('50.00')" in message


def test_a_missing_command_says_how_many_were_sent():
    with pytest.raises(SpecFailed, match=r"expected 1 command, the process manager sent 2"):
        given(placed, reserved).then_commands(CheckoutProcess, ReserveStock("A1", tuple(LINES)))


def test_bad_specs_are_refused_with_what_to_do():
    with pytest.raises(SpecError, match="ProcessManager class"):
        given(placed).then_commands("CheckoutProcess", ReserveStock("A1", tuple(LINES)))
    with pytest.raises(SpecError, match="timedelta"):
        given(placed).then_commands(CheckoutProcess, after=15)
    with pytest.raises(SpecError, match="not an event type the registry knows"):
        given(object()).then_commands(CheckoutProcess)
