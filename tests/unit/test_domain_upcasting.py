"""The upcaster chain on its own, and inside a registry (no database)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from esdemo import DomainEvent, EventDecodeError, EventRegistry, RecordedEvent, UpcastError, Upcasters

V1 = {"order_id": "12345", "amount": Decimal("25.00")}


def recorded(data: dict, schema_version: int, position: int = 3) -> RecordedEvent:
    return RecordedEvent(position, "Order-12345", 4, "OrderPaid", schema_version, data, {}, uuid.uuid4(),
                         datetime(2024, 1, 1, tzinfo=timezone.utc))


def test_steps_are_chained_from_the_stored_version_to_the_newest():
    upcasters = Upcasters()
    upcasters.register("OrderPaid", 1, lambda d: {**d, "currency": "USD"})

    @upcasters.upcaster("OrderPaid", from_version=2)
    def amount_in_cents(data):
        data["amount_minor"] = int(data.pop("amount") * 100)
        return data

    assert upcasters.upcast("OrderPaid", 1, V1) == (3, {"order_id": "12345", "currency": "USD", "amount_minor": 2500})
    assert upcasters.upcast("OrderPaid", 2, {**V1, "currency": "EUR"}) == (
        3, {"order_id": "12345", "currency": "EUR", "amount_minor": 2500})


def test_an_event_without_a_step_comes_back_unchanged():
    upcasters = Upcasters()
    upcasters.register("OrderPaid", 1, lambda d: {**d, "currency": "USD"})
    data = {"order_id": "1"}
    assert upcasters.upcast("OrderCreated", 1, data) == (1, data)
    assert upcasters.upcast("OrderPaid", 2, data) == (2, data)


def test_a_step_works_on_a_copy_so_the_stored_data_never_changes():
    upcasters = Upcasters()

    @upcasters.upcaster("OrderPaid", from_version=1)
    def in_place(data):
        data["currency"] = "USD"
        return data

    original = dict(V1)
    upcasters.upcast("OrderPaid", 1, original)
    assert original == V1


def test_a_step_that_changes_nested_data_in_place_never_changes_the_stored_event():
    """The copy must reach the nested dicts and lists too: otherwise decoding the same stored
    event twice upcasts its nested data twice (here: the lines' prices multiplied by 100 twice)."""
    registry = EventRegistry()

    @registry.event("OrderPlaced", version=2)
    @dataclass(frozen=True)
    class OrderPlaced(DomainEvent):
        lines: list

    @registry.upcaster("OrderPlaced", from_version=1)
    def prices_in_cents(data):
        for line in data["lines"]:
            line["price_cents"] = int(line.pop("price") * 100)
        return data

    stored = {"lines": [{"sku": "BOOK-1", "price": Decimal("25.00")}]}
    event = RecordedEvent(1, "Order-1", 1, "OrderPlaced", 1, stored, {}, uuid.uuid4(),
                          datetime(2024, 1, 1, tzinfo=timezone.utc))
    expected = OrderPlaced([{"sku": "BOOK-1", "price_cents": 2500}])
    assert registry.decode(event) == expected
    assert event.data == {"lines": [{"sku": "BOOK-1", "price": Decimal("25.00")}]}
    assert registry.decode(event) == expected

def test_a_failing_step_names_itself_the_versions_and_the_event():
    upcasters = Upcasters()

    @upcasters.upcaster("OrderPaid", from_version=1)
    def broken(data):
        return {**data, "currency": data["curency"]}

    with pytest.raises(UpcastError, match=r"broken \(OrderPaid V1 -> V2\) failed on the event at position 9") as info:
        upcasters.upcast("OrderPaid", 1, V1, where="at position 9")
    assert isinstance(info.value.__cause__, KeyError)


def test_a_step_must_return_a_dict():
    upcasters = Upcasters()
    upcasters.register("OrderPaid", 1, lambda d: None)
    with pytest.raises(UpcastError, match="returned NoneType.*must return the new data dict"):
        upcasters.upcast("OrderPaid", 1, V1)


def test_one_step_per_type_and_version():
    upcasters = Upcasters()

    def add_usd(d):
        return {**d, "currency": "USD"}

    def add_eur(d):
        return {**d, "currency": "EUR"}

    upcasters.register("OrderPaid", 1, add_usd)
    with pytest.raises(ValueError, match="already has the upcaster .*add_usd"):
        upcasters.register("OrderPaid", 1, add_eur)
    assert upcasters.upcast("OrderPaid", 1, V1)[1]["currency"] == "USD"
    assert upcasters.chain("OrderPaid") == [(1, add_usd.__qualname__)]
    assert len(upcasters) == 1


@pytest.mark.parametrize("args, error", [
    (("", 1, dict), ValueError), (("OrderPaid", 0, dict), ValueError), (("OrderPaid", True, dict), ValueError),
    (("OrderPaid", 1, "not callable"), TypeError),
])
def test_bad_registrations_are_refused(args, error):
    with pytest.raises(error):
        Upcasters().register(*args)


# -- inside a registry: decode runs the chain before the class sees the data --------------------

@pytest.fixture
def registry():
    registry = EventRegistry()

    @registry.event("OrderPaid", version=2)
    @dataclass(frozen=True)
    class OrderPaid(DomainEvent):
        order_id: str
        amount: Decimal
        currency: str

    return registry


def test_decode_upcasts_old_versions(registry):
    registry.upcaster("OrderPaid", from_version=1)(lambda d: {**d, "currency": "USD"})
    event = registry.decode(recorded(V1, schema_version=1))
    assert (event.order_id, event.amount, event.currency) == ("12345", Decimal("25.00"), "USD")


def test_without_an_upcaster_an_old_event_is_refused_with_the_fix(registry):
    with pytest.raises(EventDecodeError, match=r"OrderPaid at position 3 .* is schema version 1 but OrderPaid is V2, "
                                               r"and no upcaster from V1 is registered") as info:
        registry.decode(recorded(V1, schema_version=1))
    assert "upcaster('OrderPaid', from_version=1)" in str(info.value)


def test_an_event_newer_than_the_code_is_refused(registry):
    with pytest.raises(EventDecodeError, match="schema version 3, newer than this code's V2"):
        registry.decode(recorded({**V1, "currency": "USD"}, schema_version=3))


def test_registry_upcast_works_on_raw_data(registry):
    registry.upcaster("OrderPaid", from_version=1)(lambda d: {**d, "currency": "USD"})
    assert registry.upcast("OrderPaid", 1, V1) == (2, {**V1, "currency": "USD"})
    with pytest.raises(EventDecodeError, match="Unknown event type 'Nope'"):
        registry.upcast("Nope", 1, {})
