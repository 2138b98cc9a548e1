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


def test_append_with_retry_explains_each_typical_mistake():
    assert "ANY" in check_append_with_retry(retry_with_any).message
    assert "stale history" in check_append_with_retry(retry_on_stale_history).message
    assert "forever" in check_append_with_retry(retry_forever).message
    assert "define" in check_append_with_retry(...).message
