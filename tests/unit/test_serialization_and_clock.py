"""Pure pieces of the core: JSON with exact types, the fake clock, seeded ids."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from esdemo import FakeClock, SerializationError, seeded_ids
from esdemo.store.serialization import dumps, loads


def test_dumps_is_canonical_and_tags_exact_types():
    text = dumps({"b": Decimal("1.50"), "a": date(2024, 1, 15)})
    assert text == '{"a":{"$date":"2024-01-15"},"b":{"$decimal":"1.50"}}'
    assert loads(text) == {"a": date(2024, 1, 15), "b": Decimal("1.50")}


def test_datetime_keeps_its_instant_and_offset():
    when = datetime(2024, 1, 15, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    back = loads(dumps({"when": when}))["when"]
    assert back == when and back.utcoffset() == timedelta(hours=2)


def test_uuid_and_tuple():
    ident = uuid.uuid4()
    assert loads(dumps({"id": ident, "pair": (1, "x")})) == {"id": ident, "pair": [1, "x"]}


@pytest.mark.parametrize("value, match", [
    ({1: "x"}, "keys must be strings"),
    ({"x": float("inf")}, "infinity"),
    ({"x": datetime(2024, 1, 1)}, "naive"),
    ({"x": [{"y": frozenset()}]}, r"data\.x\[0\]\.y is of type frozenset"),
])
def test_refusals_name_the_field(value, match):
    with pytest.raises(SerializationError, match=match):
        dumps(value)


def test_serialization_error_is_a_type_error_for_callers_that_catch_those():
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_fake_clock_steps_and_never_goes_back():
    start = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
    clock = FakeClock(start, step=timedelta(seconds=30))
    assert clock() == start and clock() == start + timedelta(seconds=30)
    assert clock.peek() == start + timedelta(minutes=1)
    assert clock.advance(hours=1) == start + timedelta(hours=1, minutes=1)
    with pytest.raises(ValueError, match="back"):
        clock.set(start)
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2024, 1, 1))


def test_seeded_ids_repeat_per_seed_and_differ_between_seeds():
    a, b, c = seeded_ids(1), seeded_ids(1), seeded_ids(2)
    first = [a() for _ in range(3)]
    assert first == [b() for _ in range(3)]
    assert first != [c() for _ in range(3)]
    assert all(u.version == 4 for u in first) and len(set(first)) == 3
