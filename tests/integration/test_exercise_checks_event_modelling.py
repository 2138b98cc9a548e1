"""The checks of the event-modelling exercises accept right answers and explain each typical mistake."""

from __future__ import annotations

import pytest

from esdemo.exercises import (
    PROPOSED_EVENTS,
    check_event_names,
    check_warehouse_message,
    sample_paid_order,
)

RIGHT = {
    "OrderUpdated": ("crud", "ItemAdded"),
    "UpdateOrder": ("command", "OrderSubmitted"),
    "PaymentProcess": ("command", "PaymentReceived"),
    "ShipOrder": ("command", "OrderShipped"),
    "CustomerAddressChanged": ("event", None),
    "OrderStatusSetToPaid": ("crud", "OrderPaid"),
    "StockReserved": ("event", "StockReserved"),
    "OrderDeleted": ("crud", "OrderCancelled"),
    "PaymentFailed": ("event", "PaymentDeclined"),
}


def with_(**changes):
    return {**RIGHT, **changes}


def test_the_right_verdicts_pass_and_cover_every_proposed_name():
    assert set(RIGHT) == set(PROPOSED_EVENTS)
    assert check_event_names(RIGHT)


def test_other_good_renames_pass_too():
    assert check_event_names(with_(OrderUpdated=("crud", "LineItemAdded"), CustomerAddressChanged=("event", "CustomerMoved"),
                                   PaymentProcess=("command", "OrderPaid"), OrderDeleted=("crud", "OrderCanceled")))


@pytest.mark.parametrize("answer", [..., None, [], {"OrderUpdated": ("crud", "ItemAdded")}])
def test_an_unfinished_answer_says_what_to_write(answer):
    feedback = check_event_names(answer)
    assert not feedback
    assert "verdict" in feedback.message


@pytest.mark.parametrize("changes, says", [
    ({"OrderUpdated": ("event", "OrderUpdated")}, "OrderUpdated is not a good domain event: it says a row changed"),
    ({"ShipOrder": ("event", "ShipOrder")}, "ShipOrder is not a good domain event: it is imperative"),
    ({"CustomerAddressChanged": ("crud", "CustomerMoved")}, "CustomerAddressChanged is not a CRUD-shaped smell"),
    ({"OrderStatusSetToPaid": ("command", "OrderPaid")}, "not a command in disguise"),
    ({"ShipOrder": ("cmd", "OrderShipped")}, "must be one of"),
    ({"ShipOrder": "OrderShipped"}, "write a pair"),
    ({"ShipOrder": ("command", None)}, "give the better name as text"),
    ({"ShipOrder": ("command", "orderShipped")}, "PascalCase"),
    ({"UpdateOrder": ("command", "SubmitOrder")}, "reads as a command"),
    ({"OrderUpdated": ("crud", "OrderChanged")}, "still CRUD-shaped"),
    ({"OrderDeleted": ("crud", "OrderRemoved")}, "is not a name this check accepts"),
    ({"StockReserved": ("event", "OrderPaid")}, "is not a name this check accepts"),
])
def test_each_wrong_entry_is_named_with_what_is_wrong(changes, says):
    feedback = check_event_names(with_(**changes))
    assert not feedback
    assert says in feedback.message
    assert "1 of 9" in feedback.message


def test_every_wrong_entry_is_reported_not_only_the_first():
    feedback = check_event_names(with_(OrderUpdated=("event", None), ShipOrder=("command", "ShipIt")))
    assert not feedback
    assert "2 of 9" in feedback.message and "OrderUpdated" in feedback.message and "ShipOrder" in feedback.message


def test_a_good_event_cannot_keep_a_bad_name_by_passing_none():
    assert not check_event_names(with_(OrderUpdated=("crud", None)))


def warehouse_message(order):
    return {"order_id": order["order_id"],
            "lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in order["lines"]]}


def test_the_right_message_passes_with_harmless_extras():
    assert check_warehouse_message(warehouse_message)
    assert check_warehouse_message(lambda order: {**warehouse_message(order), "schema": 1, "customer_id": order["customer_id"]})


def test_sample_orders_are_reproducible_and_vary():
    assert sample_paid_order(3) == sample_paid_order(3)
    assert sample_paid_order(3)["order_id"] != sample_paid_order(4)["order_id"]


def fat(order):
    return dict(order)


def thin(order):
    return {"order_id": order["order_id"]}


def email_renamed(order):
    return {**warehouse_message(order), "contact": order["customer_email"]}


def priced(order):
    return {"order_id": order["order_id"], "lines": [{k: v for k, v in line.items()} for line in order["lines"]]}


def with_total(order):
    return {**warehouse_message(order), "total": order["total"]}


def first_line_only(order):
    return {"order_id": order["order_id"], "lines": [{"sku": order["lines"][0]["sku"], "quantity": order["lines"][0]["quantity"]}]}


def mutates(order):
    order.pop("card_last4")
    return warehouse_message(order)


def sorted_lines(order):
    return {"order_id": order["order_id"],
            "lines": sorted(({"sku": l["sku"], "quantity": l["quantity"]} for l in order["lines"]), key=lambda l: l["sku"], reverse=True)}


def raises(order):
    return order["items"]


@pytest.mark.parametrize("answer, says", [
    (..., "define warehouse_message"),
    (fat, "personal data"),
    (email_renamed, "customer_email"),
    (thin, "thin notification"),
    (priced, "unit_price"),
    (with_total, "the total"),
    (lambda order: {**warehouse_message(order), "prices": [l["unit_price"] for l in order["lines"]]}, "prices"),
    (first_line_only, "the lines should be"),
    (sorted_lines, "the lines should be"),
    (mutates, "changed the order"),
    (raises, "KeyError"),
    (lambda order: [order["order_id"]], "return a dict"),
    (lambda order: {"id": order["order_id"], "lines": []}, "must name the order"),
])
def test_each_wrong_message_says_what_is_wrong(answer, says):
    feedback = check_warehouse_message(answer)
    assert not feedback
    assert says in feedback.message
