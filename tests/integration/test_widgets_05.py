"""Notebook 05's command console: OrderConsole.send and the widget built on it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo.widgets import ORDER_COMMANDS, OrderConsole, build_order_console


def test_a_command_records_events_and_reports_the_new_state():
    console = OrderConsole()
    created = console.send("12345", "CreateOrder", customer="c-42")
    assert created.accepted and [e.type for e in created.events] == ["OrderCreated"]
    added = console.send("12345", "AddItem", sku="BOOK-1", price="25.00", quantity=2)
    assert added.accepted and added.version == 2
    [event] = added.events
    assert (event.type, event.version, event.data["new_total"]) == ("ItemAdded", 2, Decimal("50.00"))
    assert added.state["lines"] == [{"sku": "BOOK-1", "price": Decimal("25.00"), "quantity": 2}]
    text = added.describe()
    assert text.splitlines()[0] == "AddItem(sku='BOOK-1', price='25.00', quantity=2)"
    assert "v2 ItemAdded" in text and "Order-12345 at version 2: created, 1 line, total 50.00" in text
    assert repr(added) == text


def test_the_events_are_what_the_store_holds():
    console = OrderConsole()
    results = [console.send("7", "CreateOrder"), console.send("7", "AddItem", sku="MUG-1", price=Decimal("12.00")),
               console.send("7", "SubmitOrder"), console.send("7", "PayOrder", currency="EUR")]
    assert [e for r in results for e in r.events] == console.store.read("Order-7")
    assert results[-1].state["status"] == "paid" and results[-1].state["currency"] == "EUR"
    assert "paid 12.00 EUR" in results[-1].summary()


@pytest.mark.parametrize("setup, command, fields, reason", [
    ([], "AddItem", {"sku": "BOOK-1", "price": "25.00"}, "AggregateNotFoundError: No Order with id '1'"),
    ([("CreateOrder", {})], "PayOrder", {}, "it has not been submitted yet"),
    ([("CreateOrder", {}), ("SubmitOrder", {})], "PayOrder", {}, "order 1 is empty"),
    ([("CreateOrder", {}), ("SubmitOrder", {})], "AddItem", {"sku": "PEN-2", "price": "2.50"},
     "cannot add items to order 1: it has already been submitted"),
    ([("CreateOrder", {}), ("AddItem", {"sku": "PEN-2", "price": "2.50"}), ("SubmitOrder", {}), ("PayOrder", {})],
     "PayOrder", {}, "cannot be paid twice"),
    ([("CreateOrder", {})], "CreateOrder", {}, "ConflictError: Order-1 already exists (version 1)"),
    ([("CreateOrder", {})], "AddItem", {"sku": "PEN-2", "price": "two"}, "price must be a number such as 25.00"),
    ([("CreateOrder", {}), ("AddItem", {"sku": "PEN-2", "price": "2.50"}), ("SubmitOrder", {})],
     "PayOrder", {"currency": "usd"}, "three-letter code"),
])
def test_a_rejected_command_records_nothing_and_says_why(setup, command, fields, reason):
    console = OrderConsole()
    for name, args in setup:
        assert console.send("1", name, **args).accepted
    before = console.store.read("Order-1")
    outcome = console.send("1", command, **fields)
    assert not outcome.accepted and outcome.events == ()
    assert reason in outcome.rejection
    assert console.store.read("Order-1") == before and outcome.version == len(before)
    assert "nothing was recorded" in outcome.describe()


def test_the_same_commands_give_the_same_output():
    def run() -> list[str]:
        console = OrderConsole()
        return [console.send("1", "CreateOrder").describe(), console.send("1", "SubmitOrder").describe(),
                repr(console.store.read("Order-1"))]

    assert run() == run()


def test_bad_calls_are_programming_errors_not_rejections():
    console = OrderConsole()
    with pytest.raises(ValueError, match="unknown command 'CancelOrder'"):
        console.send("1", "CancelOrder")
    with pytest.raises(TypeError, match=r"SubmitOrder takes no fields, not \['sku'\]"):
        console.send("1", "SubmitOrder", sku="X")
    assert console.store.head() == 0


def test_the_widget_sends_the_chosen_command_with_only_its_fields():
    panel = build_order_console()
    assert "Start with CreateOrder" in panel.result.value
    assert list(panel.controls["command"].options) == list(ORDER_COMMANDS)
    panel.controls["send"].click()  # CreateOrder 12345
    assert "OrderCreated" in panel.result.value
    panel.controls["command"].value = "AddItem"
    panel.controls["item"].value = "MUG-1 (12.00)"
    panel.controls["quantity"].value = 3
    panel.controls["send"].click()
    assert "AddItem(sku=&#x27;MUG-1&#x27;, price=&#x27;12.00&#x27;, quantity=3)" in panel.result.value
    assert "total 36.00" in panel.result.value
    panel.controls["command"].value = "PayOrder"
    panel.controls["send"].click()
    assert "rejected" in panel.result.value and "not been submitted" in panel.result.value
    assert [e.type for e in panel.console.store.read("Order-12345")] == ["OrderCreated", "ItemAdded"]


def test_the_widget_reports_an_empty_order_id_instead_of_failing():
    panel = build_order_console()
    panel.controls["order"].value = "  "
    panel.controls["send"].click()
    assert "non-empty" in panel.result.value
