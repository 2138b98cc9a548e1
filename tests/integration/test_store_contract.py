"""The event store's contract, proved on both backends by the same tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from store_factory import new_store

from esdemo import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    ConflictError,
    DuplicateEventError,
    EventStore,
    EventStoreError,
    NewEvent,
    SerializationError,
    StoreClosedError,
)


def ev(type_: str = "Happened", **data) -> NewEvent:
    return NewEvent(type_, data)


def snapshot_of(store: EventStore) -> tuple:
    """Everything observable about the store, to prove that nothing changed."""
    return store.head(), [(e.position, e.stream_id, e.version, e.event_id) for e in store.read_all()]


# -- append and read -------------------------------------------------------------------

def test_append_returns_new_version_and_last_position(store):
    first = store.append("Order-12345", [ev("OrderCreated"), ev("ItemAdded")], expected_version=0)
    assert (first.version, first.position) == (2, 2)
    other = store.append("Order-9", [ev("OrderCreated")], expected_version=0)
    assert (other.version, other.position) == (1, 3)
    third = store.append("Order-12345", [ev("OrderSubmitted")], expected_version=2)
    assert (third.version, third.position) == (3, 4)


def test_read_returns_the_stream_in_version_order_with_everything_recorded(store, clock):
    event_id = uuid.uuid4()
    store.append("Order-12345", [NewEvent("OrderCreated", {"customer": "ada"}, {"user": "u1"}, event_id, 2)],
                 expected_version=0)
    (recorded,) = store.read("Order-12345")
    assert recorded.position == 1 and recorded.version == 1 and recorded.stream_id == "Order-12345"
    assert recorded.type == "OrderCreated" and recorded.schema_version == 2
    assert recorded.data == {"customer": "ada"} and recorded.metadata == {"user": "u1"}
    assert recorded.event_id == event_id
    assert recorded.recorded_at == datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)
    assert recorded.recorded_at.utcoffset() == timedelta(0)


def test_read_from_and_to_version(store):
    store.append("s", [ev(n=i) for i in range(1, 6)], expected_version=0)
    assert [e.data["n"] for e in store.read("s", from_version=3)] == [3, 4, 5]
    assert [e.data["n"] for e in store.read("s", 2, to_version=3)] == [2, 3]
    assert store.read("s", from_version=9) == []
    assert store.read("missing") == []


def test_read_all_is_global_order_with_limit(store):
    store.append("a", [ev(n=1), ev(n=2)], expected_version=0)
    store.append("b", [ev(n=3)], expected_version=0)
    store.append("a", [ev(n=4)], expected_version=2)
    assert [(e.position, e.stream_id, e.data["n"]) for e in store.read_all()] == [
        (1, "a", 1), (2, "a", 2), (3, "b", 3), (4, "a", 4)]
    assert [e.position for e in store.read_all(from_position=2, limit=2)] == [2, 3]
    assert store.read_all(from_position=5) == []


def test_stream_version_and_head(store):
    assert store.head() == 0 and store.stream_version("a") == 0
    store.append("a", [ev(), ev()], expected_version=0)
    store.append("b", [ev()], expected_version=0)
    assert store.head() == 3 and store.stream_version("a") == 2 and store.stream_version("b") == 1


def test_the_clock_stamps_every_event_of_an_append_once(store):
    store.append("a", [ev(), ev()], expected_version=0)
    store.append("a", [ev()], expected_version=2)
    stamps = [e.recorded_at for e in store.read("a")]
    assert stamps[0] == stamps[1] and stamps[2] == stamps[0] + timedelta(minutes=1)


def test_a_clock_returning_a_naive_datetime_is_refused(backend):
    with new_store(backend, clock=lambda: datetime(2024, 1, 1)) as store:
        with pytest.raises(ValueError, match="timezone-aware"):
            store.append("a", [ev()], expected_version=0)
        assert store.head() == 0


# -- expected versions and conflicts -------------------------------------------------------

def test_wrong_expected_version_raises_conflict_with_a_helpful_message(store):
    store.append("Order-12345", [ev() for _ in range(5)], expected_version=0)
    store.append("Order-12345", [ev()], expected_version=5)  # someone else moved it to 6
    with pytest.raises(ConflictError) as info:
        store.append("Order-12345", [ev()], expected_version=5)
    err = info.value
    assert (err.stream_id, err.expected, err.actual) == ("Order-12345", 5, 6)
    message = str(err)
    assert "expected version 5" in message and "version 6" in message and "Reload" in message
    assert isinstance(err, EventStoreError)


@pytest.mark.parametrize("expected, current, ok", [
    (ANY, 0, True), (ANY, 3, True),
    (NO_STREAM, 0, True), (NO_STREAM, 3, False),
    (STREAM_EXISTS, 0, False), (STREAM_EXISTS, 3, True),
    (0, 0, True), (3, 3, True), (2, 3, False), (4, 3, False),
])
def test_expected_version_sentinels(store, expected, current, ok):
    if current:
        store.append("s", [ev() for _ in range(current)], expected_version=0)
    if ok:
        assert store.append("s", [ev()], expected_version=expected).version == current + 1
    else:
        with pytest.raises(ConflictError):
            store.append("s", [ev()], expected_version=expected)
        assert store.stream_version("s") == current


def test_a_failed_append_consumes_no_position_and_no_version(store):
    store.append("a", [ev()], expected_version=0)
    with pytest.raises(ConflictError):
        store.append("a", [ev(), ev()], expected_version=0)
    result = store.append("b", [ev()], expected_version=0)
    assert result.position == 2
    assert store.append("a", [ev()], expected_version=1).version == 2
    assert [e.position for e in store.read_all()] == [1, 2, 3]


# -- atomicity -----------------------------------------------------------------------------

def test_a_multi_event_append_is_all_or_nothing_when_the_database_refuses_a_row(store):
    taken = ev("Taken")
    store.append("other", [taken], expected_version=0)
    before = snapshot_of(store)
    batch = [ev("One"), ev("Two"), NewEvent("Three", {}, event_id=taken.event_id), ev("Four")]
    with pytest.raises(DuplicateEventError, match="already stored"):
        store.append("order", batch, expected_version=0)
    assert snapshot_of(store) == before
    assert store.stream_version("order") == 0
    assert store.append("order", [ev("One")], expected_version=0).position == 2


def test_a_crash_during_the_insert_rolls_the_whole_append_back(store, monkeypatch):
    store.append("a", [ev()], expected_version=0)
    before = snapshot_of(store)
    backend = store._backend
    real_insert = backend.insert_events

    def insert_half_then_crash(cur, rows):
        real_insert(cur, rows[:1])
        raise RuntimeError("power cut")

    monkeypatch.setattr(backend, "insert_events", insert_half_then_crash)
    with pytest.raises(RuntimeError, match="power cut"):
        store.append("a", [ev(), ev(), ev()], expected_version=1)
    monkeypatch.undo()
    assert snapshot_of(store) == before
    assert store.append("a", [ev()], expected_version=1).position == 2


# -- idempotent retry ---------------------------------------------------------------------

def test_retrying_the_same_events_is_idempotent(store):
    batch = [ev("OrderCreated", n=1), ev("ItemAdded", n=2)]
    first = store.append("order", batch, expected_version=0)
    store.append("elsewhere", [ev()], expected_version=0)
    again = store.append("order", batch, expected_version=0)
    assert again == first
    assert store.head() == 3 and store.stream_version("order") == 2


def test_retrying_with_any_expected_version_is_idempotent_too(store):
    batch = [ev(n=1)]
    first = store.append("order", batch, expected_version=ANY)
    assert store.append("order", batch, expected_version=ANY) == first
    assert store.head() == 1


def test_same_ids_with_different_content_is_an_error(store):
    original = ev("ItemAdded", price=Decimal("10"))
    store.append("order", [original], expected_version=0)
    forged = NewEvent("ItemAdded", {"price": Decimal("99")}, event_id=original.event_id)
    with pytest.raises(DuplicateEventError, match="different content"):
        store.append("order", [forged], expected_version=0)
    with pytest.raises(DuplicateEventError):
        store.append("another-stream", [original], expected_version=0)
    assert store.head() == 1


def test_same_ids_with_a_different_expected_version_is_an_error(store):
    batch = [ev()]
    store.append("order", [ev()], expected_version=0)
    store.append("order", batch, expected_version=1)
    with pytest.raises(DuplicateEventError, match="expected version 1"):
        store.append("order", batch, expected_version=0)
    assert store.head() == 2


# -- empty appends --------------------------------------------------------------------------

def test_appending_an_empty_list_writes_nothing_and_creates_no_stream(store):
    result = store.append("ghost", [], expected_version=0)
    assert (result.version, result.position) == (0, 0)
    assert store.stream_version("ghost") == 0 and store.head() == 0
    assert store.sql("SELECT count(*) AS n FROM streams")["n"][0] == 0
    store.append("real", [ev(), ev()], expected_version=0)
    assert store.append("real", [], expected_version=2).version == 2
    with pytest.raises(ConflictError):
        store.append("real", [], expected_version=1)
    assert store.head() == 2


# -- immutability -------------------------------------------------------------------------------

def test_the_api_offers_no_way_to_change_or_remove_an_event(store):
    public = {name for name in dir(store) if not name.startswith("_")}
    assert not public & {"update", "delete", "remove", "truncate", "edit", "replace"}


@pytest.mark.parametrize("statement", [
    "UPDATE events SET type = 'Forged' WHERE position = 1",
    "DELETE FROM events WHERE position = 1",
    "DELETE FROM events",
])
def test_raw_sql_cannot_update_or_delete_events(store, statement):
    store.append("a", [ev("Original")], expected_version=0)
    with pytest.raises(Exception, match="immutable"):
        store.connection.execute(statement)
    (event,) = store.read_all()
    assert event.type == "Original"


# -- serialization ---------------------------------------------------------------------------

def test_typed_values_round_trip_exactly(store):
    when = datetime(2024, 1, 15, 12, 30, 45, 123456, tzinfo=timezone(timedelta(hours=-5)))
    data = {
        "amount": Decimal("200.10"), "tiny": Decimal("0.000000000000000001"), "big": Decimal("123456789012345678901234567890.5"),
        "when": when, "day": date(2024, 1, 15), "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "nested": {"items": [{"price": Decimal("1.50"), "qty": 2}], "flag": True, "none": None, "ratio": 0.25},
    }
    store.append("a", [NewEvent("T", data, {"at": when})], expected_version=0)
    (event,) = store.read("a")
    assert event.data == data
    assert str(event.data["amount"]) == "200.10" and str(event.data["big"]) == "123456789012345678901234567890.5"
    assert event.data["when"] == when and event.data["when"].utcoffset() is not None
    assert isinstance(event.data["id"], uuid.UUID) and type(event.data["day"]) is date
    assert event.metadata == {"at": when}


def test_naive_datetimes_are_refused_and_nothing_is_written(store):
    good = ev(at=datetime(2024, 1, 1, tzinfo=timezone.utc))
    bad = ev(at=datetime(2024, 1, 1))
    with pytest.raises(SerializationError, match=r"events\[1\]\.data\.at is a naive datetime"):
        store.append("a", [good, bad], expected_version=0)
    assert store.head() == 0 and store.stream_version("a") == 0


@pytest.mark.parametrize("value, type_name", [({1, 2}, "set"), (b"raw", "bytes"), (object(), "object")])
def test_unserializable_values_are_refused_naming_type_and_field(store, value, type_name):
    with pytest.raises(SerializationError) as info:
        store.append("a", [NewEvent("T", {"order": {"lines": [1, value]}})], expected_version=0)
    assert "events[0].data.order.lines[1]" in str(info.value) and type_name in str(info.value)
    assert store.head() == 0


def test_nan_and_reserved_keys_are_refused(store):
    with pytest.raises(SerializationError, match="NaN"):
        store.append("a", [ev(x=float("nan"))], expected_version=0)
    with pytest.raises(SerializationError, match="reserved"):
        store.append("a", [NewEvent("T", {"$decimal": "1"})], expected_version=0)
    with pytest.raises(SerializationError, match="metadata"):
        store.append("a", [NewEvent("T", {}, {"who": {1, 2}})], expected_version=0)
    assert store.head() == 0


# -- bad arguments are refused before the database is touched ----------------------------------

class Untouchable:
    def __getattr__(self, name):
        raise AssertionError(f"the database was touched ({name}) before the arguments were checked")


@pytest.fixture
def untouched(store, monkeypatch):
    """The store, with a backend that fails the test if anything reaches it."""
    monkeypatch.setattr(store, "_backend", Untouchable())
    return store


@pytest.mark.parametrize("stream_id, error", [("", ValueError), ("   ", ValueError), (None, TypeError), (42, TypeError)])
def test_bad_stream_ids(untouched, stream_id, error):
    store = untouched
    with pytest.raises(error, match="stream_id"):
        store.append(stream_id, [ev()], expected_version=0)
    with pytest.raises(error, match="stream_id"):
        store.read(stream_id)


@pytest.mark.parametrize("expected, error", [(-1, ValueError), (None, TypeError), (True, TypeError), ("5", TypeError), (1.0, TypeError)])
def test_bad_expected_versions(untouched, expected, error):
    store = untouched
    with pytest.raises(error, match="expected_version"):
        store.append("a", [ev()], expected_version=expected)


def test_expected_version_is_required(store):
    with pytest.raises(TypeError, match="expected_version"):
        store.append("a", [ev()])


@pytest.mark.parametrize("events, match", [
    ("not a list", "list of NewEvent"),
    (ev(), "wrap it in a list"),
    ([{"type": "T", "data": {}}], r"events\[0\] is a dict"),
    ([ev(), "x"], r"events\[1\] is a str"),
])
def test_events_that_are_not_new_events(untouched, events, match):
    store = untouched
    with pytest.raises(TypeError, match=match):
        store.append("a", events, expected_version=0)


def test_the_same_event_twice_in_one_batch_is_refused(untouched):
    store = untouched
    event = ev()
    with pytest.raises(ValueError, match="repeats event id"):
        store.append("a", [event, event], expected_version=0)


@pytest.mark.parametrize("call", [
    lambda s: s.read("a", from_version=0), lambda s: s.read("a", from_version="1"),
    lambda s: s.read_all(from_position=0), lambda s: s.read_all(limit=-1), lambda s: s.subscribe(print, 0),
])
def test_bad_read_arguments(untouched, call):
    store = untouched
    with pytest.raises((ValueError, TypeError)):
        call(store)


def test_new_event_checks_its_own_fields():
    with pytest.raises(ValueError, match="type"):
        NewEvent("", {})
    with pytest.raises(TypeError, match="data must be a dict"):
        NewEvent("T", [1, 2])
    with pytest.raises(ValueError, match="schema_version"):
        NewEvent("T", {}, schema_version=0)
    with pytest.raises(ValueError, match="UUID"):
        NewEvent("T", {}, event_id="not-a-uuid")
    first, second = NewEvent("T", {}), NewEvent("T", {})
    assert isinstance(first.event_id, uuid.UUID) and first.event_id != second.event_id
    assert NewEvent("T", {}).metadata == {}


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of"):
        EventStore(backend="oracle")


# -- transactions next to the log ----------------------------------------------------------

def test_transaction_commits_on_success_and_rolls_back_on_error(store):
    with store.transaction() as cur:
        cur.execute("CREATE TABLE view_rows (k VARCHAR PRIMARY KEY, v INTEGER)")
        cur.execute("INSERT INTO view_rows VALUES ('a', 1)")
    with pytest.raises(RuntimeError):
        with store.transaction() as cur:
            cur.execute("INSERT INTO view_rows VALUES ('b', 2)")
            raise RuntimeError("handler failed half-way")
    assert store.sql("SELECT k, v FROM view_rows").values.tolist() == [["a", 1]]
    assert store.query("SELECT k, v FROM view_rows WHERE k = ?", ["a"]) == [("a", 1)]


# -- lifecycle --------------------------------------------------------------------------

def test_file_store_keeps_events_across_close_and_reopen(backend, store_file):
    with EventStore(store_file, backend=backend) as store:
        store.append("a", [ev(n=1), ev(n=2)], expected_version=0)
    with EventStore(store_file, backend=backend) as store:
        assert [e.data["n"] for e in store.read("a")] == [1, 2]
        assert store.append("a", [ev(n=3)], expected_version=2).position == 3


def test_a_closed_store_says_so(backend):
    store = new_store(backend)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreClosedError, match="closed"):
        store.read("a")


# -- restoring an export ------------------------------------------------------------------

def test_restore_keeps_positions_versions_ids_and_times(backend, clock):
    with EventStore(backend="duckdb", clock=clock) as source:
        source.append("a", [ev(n=1), ev(n=2)], expected_version=0)
        source.append("b", [ev(amount=Decimal("1.50"))], expected_version=0)
        source.append("a", [ev(n=3)], expected_version=2)
        exported = source.read_all()
    with new_store(backend) as target:
        assert target.restore(exported) == 4
        assert target.read_all() == exported
        assert target.stream_version("a") == 3
        # the restored store carries on like any other
        assert target.append("a", [ev(n=4)], expected_version=3).position == 5
        with pytest.raises(ConflictError):
            target.append("b", [ev()], expected_version=0)


def test_restore_refuses_what_would_not_be_the_same_history(backend, clock):
    with new_store(backend, clock=clock) as source:
        source.append("a", [ev(), ev(), ev()], expected_version=0)
        exported = source.read_all()
    with new_store(backend) as target:
        with pytest.raises(ValueError, match="contiguous"):
            target.restore([exported[0], exported[2]])
        with pytest.raises(EventStoreError, match="starts at position 2"):
            target.restore(exported[1:])
        target.append("a", [ev()], expected_version=0)
        with pytest.raises(EventStoreError, match="starts at position 1 but this store's head is 1"):
            target.restore(exported)
        assert target.head() == 1 and target.stream_version("a") == 1
    with new_store(backend) as target:
        target.restore(exported[:1])
        with pytest.raises(TypeError, match="RecordedEvent"):
            target.restore([ev()])
        assert target.restore([]) == 1


def test_restore_refuses_a_stream_that_jumps_versions(backend, clock):
    import dataclasses

    with new_store(backend, clock=clock) as source:
        source.append("a", [ev(), ev()], expected_version=0)
        first, second = source.read_all()
    jumped = dataclasses.replace(second, version=5)
    with new_store(backend) as target:
        with pytest.raises(EventStoreError, match="jump from version 1 to 5"):
            target.restore([first, jumped])
        assert target.head() == 0 and target.stream_version("a") == 0


def test_timestamps_before_the_year_1000_round_trip(backend):
    """SQLite keeps times as text: an unpadded year ('999-...') could be written but not read back."""
    when = datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    with new_store(backend, clock=lambda: when) as store:
        store.append("a", [ev(at=when)], expected_version=0)
        (event,) = store.read("a")
        assert event.recorded_at == when and event.data["at"] == when
        assert store.read_all(1)[0].recorded_at == when


class _FailingCommit:
    """A cursor whose next COMMIT fails without committing (a full disk, a busy database)."""

    def __init__(self, cursor, failures: list):
        self._cursor, self._failures = cursor, failures

    def execute(self, sql, *args):
        if sql == "COMMIT" and self._failures:
            raise self._failures.pop()
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_a_transaction_whose_commit_fails_is_rolled_back_and_the_store_keeps_working(store, monkeypatch):
    import contextlib

    with store.transaction() as cur:
        cur.execute("CREATE TABLE notes (n INTEGER)")
    real_cursor, failures = store._backend.cursor, [OSError("disk full")]

    @contextlib.contextmanager
    def failing_cursor():
        with real_cursor() as cur:
            yield _FailingCommit(cur, failures)

    monkeypatch.setattr(store._backend, "cursor", failing_cursor)
    with pytest.raises(OSError, match="disk full"):
        with store.transaction() as cur:
            cur.execute("INSERT INTO notes VALUES (1)")
    assert store.query("SELECT count(*) FROM notes") == [(0,)]       # nothing of it is visible...
    with store.transaction() as cur:                                   # ...and the next transaction can begin
        cur.execute("INSERT INTO notes VALUES (2)")
    assert store.append("a", [ev()], expected_version=0).position == 1
    assert store.query("SELECT n FROM notes") == [(2,)]
