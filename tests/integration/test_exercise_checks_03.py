"""The checks of notebook 03's exercises accept right answers and explain wrong ones."""

from __future__ import annotations

from esdemo import ANY, ConflictError, EventStore, NewEvent
from esdemo.exercises import Feedback, check_append_with_retry, check_order_stream


def order_flow(order_id: str = "777") -> list[NewEvent]:
    return [NewEvent("OrderCreated", {"order_id": order_id}), NewEvent("ItemAdded", {"order_id": order_id}),
            NewEvent("OrderSubmitted", {"order_id": order_id})]


def test_feedback_prints_one_line_and_is_truthy_only_when_passed():
    assert bool(Feedback(True, "x")) and not Feedback(False, "y")
    assert repr(Feedback(False, "why")) == "❌ Not yet: why"


def test_order_stream_right_answer(store):
    store.append("Order-777", order_flow(), expected_version=0)
    assert check_order_stream(store)


def test_order_stream_wrong_answers(store):
    assert "empty" in check_order_stream(store).message
    store.append("Order-777", order_flow()[:2], expected_version=0)
    assert "should hold exactly" in check_order_stream(store).message
    other = EventStore()
    for version, event in enumerate(order_flow()):
        other.append("Order-777", [event], expected_version=version)
    feedback = check_order_stream(other)
    assert not feedback and "one append" in feedback.message



def test_order_stream_catches_separate_appends_in_the_notebooks_own_store():
    # The notebook's my_store: a FakeClock that moves one minute per append, so separate appends show.
    from datetime import datetime, timedelta, timezone

    from esdemo import FakeClock

    mine = EventStore(clock=FakeClock(datetime(2024, 3, 2, 9, tzinfo=timezone.utc), step=timedelta(minutes=1)))
    for version, event in enumerate(order_flow()):
        mine.append("Order-777", [event], expected_version=version)
    feedback = check_order_stream(mine)
    assert not feedback and "separate appends" in feedback.message


def test_order_stream_wants_an_order_id_in_every_event_and_an_open_store(store):
    events = order_flow()
    events[2] = NewEvent("OrderSubmitted", {})
    store.append("Order-777", events, expected_version=0)
    feedback = check_order_stream(store)
    assert not feedback and "OrderSubmitted has no 'order_id'" in feedback.message
    closed = EventStore()
    closed.close()
    feedback = check_order_stream(closed)
    assert not feedback and "closed" in feedback.message


def retry_right(store, stream_id, decide, attempts=3):
    for attempt in range(attempts):
        history = store.read(stream_id)
        try:
            return store.append(stream_id, decide(history), expected_version=len(history))
        except ConflictError:
            if attempt == attempts - 1:
                raise


def retry_with_any(store, stream_id, decide, attempts=3):
    return store.append(stream_id, decide(store.read(stream_id)), expected_version=ANY)


def retry_on_stale_history(store, stream_id, decide, attempts=3):
    history = store.read(stream_id)
    for _ in range(attempts):
        try:
            return store.append(stream_id, decide(history), expected_version=store.stream_version(stream_id))
        except ConflictError:
            pass


def retry_forever(store, stream_id, decide, attempts=3):
    while True:
        history = store.read(stream_id)
        try:
            return store.append(stream_id, decide(history), expected_version=len(history))
        except ConflictError:
            pass


def test_append_with_retry_accepts_a_correct_solution():
    assert check_append_with_retry(retry_right)


def retry_with_a_typo(store, stream_id, decide, attempts=3):
    return store.read_stream(stream_id)                 # no such method: AttributeError


def retry_with_positional_version(store, stream_id, decide, attempts=3):
    history = store.read(stream_id)
    return store.append(stream_id, decide(history), len(history))


def retry_then_raise_something_else(store, stream_id, decide, attempts=3):
    for _ in range(attempts):
        history = store.read(stream_id)
        try:
            return store.append(stream_id, decide(history), expected_version=len(history))
        except ConflictError:
            pass
    raise RuntimeError("gave up")


def test_append_with_retry_turns_any_error_into_feedback():
    typo = check_append_with_retry(retry_with_a_typo)
    assert not typo and "read_stream" in typo.message and "store.read(stream_id)" in typo.message
    positional = check_append_with_retry(retry_with_positional_version)
    assert not positional and "keyword argument" in positional.message
    other = check_append_with_retry(retry_then_raise_something_else)
    assert not other and "RuntimeError" in other.message and "re-raise the ConflictError" in other.message


def test_append_with_retry_explains_each_typical_mistake():
    assert "ANY" in check_append_with_retry(retry_with_any).message
    assert "stale history" in check_append_with_retry(retry_on_stale_history).message
    assert "forever" in check_append_with_retry(retry_forever).message
    assert "define" in check_append_with_retry(...).message
