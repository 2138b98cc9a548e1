"""Notebook 10's widget: a stored event next to what the domain sees, with or without the upcaster."""

from __future__ import annotations

from decimal import Decimal

import pytest

from esdemo import EventRegistry, NewEvent, default_registry
from esdemo.data import open_store
from esdemo.examples.orders import ItemAdded, OrderCreated, OrderPaid, OrderSubmitted, order_paid_v1
from esdemo.widgets import build_upcast_widget, stored_vs_seen


def registry_without_upcaster() -> EventRegistry:
    bare = EventRegistry()
    for cls in (OrderCreated, ItemAdded, OrderSubmitted, OrderPaid):
        bare.register(cls)
    return bare


@pytest.fixture
def v1_payment(store):
    """Order-12345 as 2023 code wrote it: created, then an OrderPaid V1 (no currency)."""
    store.append("Order-12345", [default_registry.encode(OrderCreated("12345", "c-42")),
                                 order_paid_v1("12345", Decimal("50.00"))], expected_version=0)
    return store


def test_the_upcaster_adds_the_currency_on_read_and_the_log_keeps_v1(v1_payment):
    recorded = v1_payment.read("Order-12345")[1]
    view = stored_vs_seen(recorded, default_registry)
    assert (view.position, view.stream_id, view.type) == (2, "Order-12345", "OrderPaid")
    assert (view.stored_version, view.stored_data) == (1, {"order_id": "12345", "amount": Decimal("50.00")})
    assert (view.seen_type, view.seen_version, view.upcast, view.error) == ("OrderPaid", 2, True, None)
    assert view.seen_data == {"order_id": "12345", "amount": Decimal("50.00"), "currency": "USD"}
    assert "upcast V1 -> V2" in view.describe() and "currency: USD" in view.describe()
    again = v1_payment.read("Order-12345")[1]
    assert (again.schema_version, again.data) == (1, {"order_id": "12345", "amount": Decimal("50.00")})


def test_without_the_upcaster_the_view_carries_the_registrys_error(v1_payment):
    view = stored_vs_seen(v1_payment.read("Order-12345")[1], registry_without_upcaster())
    assert (view.seen_type, view.seen_version, view.seen_data, view.upcast) == (None, None, None, False)
    assert "no upcaster from V1" in view.error and "position 2" in view.error
    assert "the read fails" in view.describe()


def test_a_current_event_is_seen_as_stored(v1_payment):
    view = stored_vs_seen(v1_payment.read("Order-12345")[0], registry_without_upcaster())
    assert not view.upcast and view.error is None
    assert view.seen_data == view.stored_data == {"order_id": "12345", "customer_id": "c-42"}
    assert "(as stored)" in view.describe()


def test_an_unknown_type_is_reported_not_raised(store):
    store.append("Misc-1", [NewEvent("Mystery", {"x": 1})], expected_version=0)
    view = stored_vs_seen(store.read("Misc-1")[0], default_registry)
    assert view.seen_type is None and "Unknown event type 'Mystery'" in view.error


def test_bad_arguments_are_refused_with_a_hint(v1_payment):
    with pytest.raises(TypeError, match="RecordedEvent"):
        stored_vs_seen({"type": "OrderPaid"}, default_registry)
    with pytest.raises(TypeError, match="EventRegistry"):
        stored_vs_seen(v1_payment.read("Order-12345")[0], {})
    with pytest.raises(ValueError, match="at least one"):
        build_upcast_widget([], {"x": default_registry})
    with pytest.raises(ValueError, match="map a label"):
        build_upcast_widget(v1_payment.read_all(), {})
    with pytest.raises(ValueError, match="between 1 and 2"):
        build_upcast_widget(v1_payment.read_all(), {"x": default_registry}, start=3)


def test_widget_follows_the_slider_and_the_registry_on_the_legacy_data():
    with open_store("legacy_orders") as store:
        events = store.read_all()
        payments = [i for i, e in enumerate(events, start=1) if e.type == "OrderPaid"]
        panel = build_upcast_widget(events, {"with upcaster": default_registry,
                                             "no upcaster": registry_without_upcaster()})
        assert panel.controls["event"].max == len(events)
        assert "position 1 ·" in panel.result.value and "as stored, no upcast" in panel.result.value

        panel.controls["event"].value = payments[0]
        paid = events[payments[0] - 1]
        assert f"position {paid.position} · {paid.stream_id}" in panel.result.value
        assert "OrderPaid V1" in panel.result.value and "upcast V1 → V2" in panel.result.value
        assert "<code>currency</code></td><td>USD" in panel.result.value

        panel.controls["registry"].value = "no upcaster"
        assert "the read fails" in panel.result.value and "no upcaster from V1" in panel.result.value
        assert "<code>currency</code>" not in panel.result.value

        panel.controls["event"].value = payments[-1]
        assert f"position {events[payments[-1] - 1].position} ·" in panel.result.value
        assert "the read fails" in panel.result.value
        assert store.sql("SELECT DISTINCT schema_version FROM events").iloc[:, 0].tolist() == [1]


def test_the_seen_side_names_the_event_type_not_the_python_class():
    """Release 3's class is OrderPaidV3, but the event it stands for is an OrderPaid: say that."""
    from dataclasses import dataclass

    from esdemo import DomainEvent, EventRegistry, EventStore, NewEvent
    from esdemo.widgets import stored_vs_seen

    registry = EventRegistry()

    @registry.event("Renamed", version=1)
    @dataclass(frozen=True)
    class SomethingV1(DomainEvent):
        n: int

    with EventStore() as store:
        store.append("S-1", [NewEvent("Renamed", {"n": 1})], expected_version=0)
        view = stored_vs_seen(store.read("S-1")[0], registry)
    assert view.seen_type == "Renamed" and "seen:    Renamed V1" in view.describe()
