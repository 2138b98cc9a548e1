"""Issue 11, case 12: values beyond what the store can keep get the package's errors, the same on both
backends, and nothing is written (no raw RecursionError, OverflowError or ConversionException)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from store_factory import new_store

from esdemo import EventStore, NewEvent, RecordedEvent, SerializationError, ValueOutOfRangeError
from esdemo.store.errors import EventStoreError


def _nested(depth: int) -> dict:
    data: dict = {}
    inner = data
    for _ in range(depth):
        inner["x"] = {}
        inner = inner["x"]
    return data


@pytest.fixture
def one(store):
    store.append("a", [NewEvent("E", {"n": 1})], expected_version=0)
    return store


def _unchanged(store) -> None:
    assert store.head() == 1 and store.stream_version("a") == 1
    assert [e.data for e in store.read_all()] == [{"n": 1}]


@pytest.mark.parametrize("depth", [1_000, 101])
def test_data_nested_too_deep(one, depth):
    with pytest.raises(SerializationError, match="nested more than 100 levels") as refused:
        one.append("a", [NewEvent("E", {"ok": 1}), NewEvent("E", _nested(depth))], expected_version=1)
    assert isinstance(refused.value, EventStoreError)
    _unchanged(one)


def test_data_nested_within_the_limit_round_trips(one):
    one.append("a", [NewEvent("E", _nested(99))], expected_version=1)
    assert one.read("a", 2)[0].data == _nested(99)


def test_data_that_contains_itself(one):
    loop: dict = {"name": "loop"}
    loop["self"] = loop
    with pytest.raises(SerializationError, match="contains itself"):
        one.append("a", [NewEvent("E", loop)], expected_version=1)
    _unchanged(one)


@pytest.mark.parametrize("call", [
    lambda s: s.read_all(2**63),
    lambda s: s.read_all(2**64),
    lambda s: s.read_all(1, limit=2**63),
    lambda s: s.read("a", 2**63),
    lambda s: s.read("a", 1, to_version=2**63),
    lambda s: s.subscribe(lambda e: None, from_position=2**63),
    lambda s: s.wait_for_append(2**63, 0),
    lambda s: s.append("a", [NewEvent("E", {})], expected_version=2**63),
], ids=["read_all-from", "read_all-from-2**64", "read_all-limit", "read-from", "read-to", "subscribe",
        "wait_for_append", "expected_version"])
def test_numbers_of_2_63_or_more(one, call):
    with pytest.raises(ValueOutOfRangeError, match=r"2\*\*63 - 1"):
        call(one)
    _unchanged(one)


def test_the_largest_numbers_still_work(one):
    assert one.read_all(2**63 - 1) == []
    assert [e.position for e in one.read_all(1, limit=2**63 - 1)] == [1]   # from + limit beyond 2**63: no bound
    assert one.read("a", 1, to_version=2**63 - 1)[0].version == 1
    with pytest.raises(Exception, match="(?i)conflict"):
        one.append("a", [NewEvent("E", {})], expected_version=2**63 - 1)


def test_a_schema_version_of_2_31_or_more(one):
    with pytest.raises(ValueOutOfRangeError, match=r"2\*\*31 - 1"):
        one.append("a", [NewEvent("E", {}, schema_version=2**31)], expected_version=1)
    _unchanged(one)
    one.append("a", [NewEvent("E", {}, schema_version=2**31 - 1)], expected_version=1)
    assert one.read("a", 2)[0].schema_version == 2**31 - 1


def test_restore_refuses_numbers_the_backends_cannot_keep(backend):
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)

    def exported(**changes) -> RecordedEvent:
        fields = dict(position=1, stream_id="a", version=1, type="E", schema_version=1, data={}, metadata={},
                      event_id=__import__("uuid").uuid4(), recorded_at=when)
        return RecordedEvent(**{**fields, **changes})

    with new_store(backend) as store:
        for bad in (dict(schema_version=2**31), dict(version=2**63), dict(position=2**63)):
            with pytest.raises(ValueOutOfRangeError):
                store.restore([exported(**bad)])
        assert store.head() == 0
        store.restore([exported(recorded_at=when + timedelta(seconds=1))])
        assert store.head() == 1


def test_big_integers_inside_data_round_trip(one):
    """Not a limit: JSON keeps any integer, on both backends."""
    one.append("a", [NewEvent("E", {"n": 2**70, "m": -(2**65)})], expected_version=1)
    assert one.read("a", 2)[0].data == {"n": 2**70, "m": -(2**65)}
