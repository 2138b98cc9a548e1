"""Domain events and the registry: encode to NewEvent, decode from RecordedEvent, fail clearly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from esdemo import DomainEvent, EventDecodeError, EventRegistry, NewEvent, RecordedEvent, UnknownEventTypeError

T0 = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)


def recorded(type_: str, data: dict, *, schema_version: int = 1, position: int = 7, stream_id: str = "Account-123",
             version: int = 2) -> RecordedEvent:
    return RecordedEvent(position, stream_id, version, type_, schema_version, data, {}, uuid.uuid4(), T0)


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry()


@pytest.fixture
def Deposited(registry):
    @registry.event("MoneyDeposited")
    @dataclass(frozen=True, slots=True)
    class Deposited(DomainEvent):
        account_id: str
        amount: Decimal

    return Deposited


def test_encode_gives_a_new_event_with_type_version_and_fields(registry, Deposited):
    event_id = uuid.uuid4()
    new = registry.encode(Deposited("123", Decimal("200.00")), event_id=event_id, metadata={"user": "ada"})
    assert isinstance(new, NewEvent)
    assert (new.type, new.schema_version, new.event_id) == ("MoneyDeposited", 1, event_id)
    assert new.data == {"account_id": "123", "amount": Decimal("200.00")}
    assert new.metadata == {"user": "ada"}


def test_decode_gives_back_an_equal_domain_event(registry, Deposited):
    event = Deposited("123", Decimal("200.00"))
    new = registry.encode(event)
    back = registry.decode(recorded(new.type, new.data, schema_version=new.schema_version))
    assert type(back) is Deposited and back == event


def test_the_class_knows_its_type_name_and_schema_version(registry):
    @registry.event("OrderPaid", version=2)
    @dataclass(frozen=True)
    class Paid(DomainEvent):
        order_id: str

    @registry.event
    @dataclass(frozen=True)
    class Shipped(DomainEvent):
        order_id: str

    assert (Paid.event_type, Paid.schema_version) == ("OrderPaid", 2)
    assert (Shipped.event_type, Shipped.schema_version) == ("Shipped", 1)
    assert registry.encode(Paid("1")).schema_version == 2
    assert registry.types == ["OrderPaid", "Shipped"]
    assert "OrderPaid" in registry and registry.class_for("Shipped") is Shipped


def test_unknown_type_on_read_names_the_type_and_the_position(registry, Deposited):
    with pytest.raises(UnknownEventTypeError, match=r"'MoneyTeleported' at position 42 \(stream 'Account-123'\)") as info:
        registry.decode(recorded("MoneyTeleported", {}, position=42))
    assert (info.value.event_type, info.value.position, info.value.stream_id) == ("MoneyTeleported", 42, "Account-123")
    assert "MoneyDeposited" in str(info.value)  # it says what it does know
    assert isinstance(info.value, EventDecodeError) and isinstance(info.value, LookupError)


def test_data_that_does_not_fit_the_class_is_a_clear_error(registry, Deposited):
    with pytest.raises(EventDecodeError, match=r"MoneyDeposited V1 at position 7 .* does not fit Deposited"):
        registry.decode(recorded("MoneyDeposited", {"account_id": "123", "amont": Decimal("1")}))
    with pytest.raises(EventDecodeError, match="missing 1 required positional argument: 'amount'"):
        registry.decode(recorded("MoneyDeposited", {"account_id": "123"}))


def test_encoding_an_unregistered_event_says_how_to_fix_it(registry):
    @dataclass(frozen=True)
    class Stray(DomainEvent):
        x: int

    with pytest.raises(TypeError, match="Stray is not a registered domain event.*@domain_event"):
        registry.encode(Stray(1))


def test_only_frozen_dataclasses_can_be_events(registry):
    class Plain(DomainEvent):
        pass

    @dataclass
    class Mutable(DomainEvent):
        x: int

    with pytest.raises(TypeError, match="must be a dataclass"):
        registry.register(Plain)
    with pytest.raises(TypeError, match="Mutable must be frozen"):
        registry.register(Mutable)


def test_one_name_belongs_to_one_class(registry, Deposited):
    @dataclass(frozen=True)
    class Other(DomainEvent):
        x: int

    with pytest.raises(ValueError, match="'MoneyDeposited' is already registered to .*Deposited"):
        registry.register(Other, "MoneyDeposited")
    assert registry.class_for("MoneyDeposited") is Deposited


def test_bad_names_and_versions_are_refused(registry):
    @dataclass(frozen=True)
    class Ev(DomainEvent):
        x: int

    with pytest.raises(ValueError, match="non-empty string"):
        registry.register(Ev, " ")
    for bad in (0, -1, True, "2"):
        with pytest.raises(ValueError, match="schema version of Ev must be an int >= 1"):
            registry.register(Ev, "Ev", bad)
    assert registry.types == []


def test_a_class_defined_again_replaces_the_old_one(registry):
    """A notebook cell that defines an event, run twice, must not fail."""

    def define():
        @registry.event("Noted")
        @dataclass(frozen=True)
        class Noted(DomainEvent):
            text: str

        return Noted

    first, second = define(), define()
    assert first is not second
    assert registry.class_for("Noted") is second
    assert type(registry.decode(recorded("Noted", {"text": "hi"}))) is second
    with pytest.raises(TypeError, match="not a registered domain event"):
        registry.encode(first("old"))


def test_a_second_registry_reuses_the_declared_name_and_version(registry):
    @registry.event("OrderPaid", version=2)
    @dataclass(frozen=True)
    class Paid(DomainEvent):
        order_id: str

    fresh = EventRegistry()
    fresh.register(Paid)
    assert fresh.encode(Paid("1")).type == "OrderPaid" and fresh.encode(Paid("1")).schema_version == 2
    with pytest.raises(ValueError, match="already declared as OrderPaid V2, not OrderPaid V3"):
        EventRegistry().register(Paid, version=3)


def test_a_subclass_does_not_inherit_its_parents_registration(registry, Deposited):
    @dataclass(frozen=True, slots=True)
    class BigDeposit(Deposited):
        pass

    registry.register(BigDeposit)
    assert BigDeposit.event_type == "BigDeposit" and Deposited.event_type == "MoneyDeposited"
