"""Notebook 03 · The event store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store.errors import ConflictError, StoreClosedError
from ..store.event_store import EventStore
from ..store.events import ANY, NewEvent
from .feedback import Feedback, _fresh_store, _no, _not_done, _ok, _RunawayLoop

ORDER_FLOW = ["OrderCreated", "ItemAdded", "OrderSubmitted"]


def check_order_stream(store: Any, stream_id: str = "Order-777") -> Feedback:
    """Exercise 03.1: ``stream_id`` holds OrderCreated, ItemAdded, OrderSubmitted, written in ONE append.

    One append stamps all its events with one reading of the store's clock, so
    events with different ``recorded_at`` came from separate appends. That
    needs a clock that moves between appends, as the notebook's ``my_store``
    has (``FakeClock(..., step=timedelta(minutes=1))``, or the real clock).
    """
    if not isinstance(store, EventStore):
        return _no("pass the EventStore you appended to, e.g. check_order_stream(my_store).")
    try:
        events = store.read(stream_id)
    except StoreClosedError:
        return _no("this store is closed (a closed in-memory store has lost its events): run the cell that "
                   "creates my_store again, then your append.")
    if not events:
        return _no(f"the stream {stream_id!r} is empty. Append to it with store.append({stream_id!r}, [...], expected_version=0).")
    types = [e.type for e in events]
    if types != ORDER_FLOW:
        return _no(f"the stream holds {types}; it should hold exactly {ORDER_FLOW}, in that order.")
    if len({e.recorded_at for e in events}) != 1:
        return _no(
            "the three events were written by separate appends. Pass all three in one list to a single "
            "store.append(...): one append is one transaction, all or nothing."
        )
    without_id = [e.type for e in events if "order_id" not in e.data]
    if without_id:
        return _no(f"{without_id[0]} has no 'order_id' in its data: give every event of the order one, so that "
                   "a reader of the global log knows which order it is about.")
    return _ok(f"{stream_id} has versions 1-3 at positions {events[0].position}-{events[-1].position}, written atomically.")


def check_append_with_retry(append_with_retry: Callable[..., Any]) -> Feedback:
    """Exercise 03.2: a function that reloads and retries on ConflictError, and never uses ANY.

    The check runs it against a stream where another writer sneaks in an event
    between the function's read and its first append.
    """
    if _not_done(append_with_retry) or not callable(append_with_retry):
        return _no("define append_with_retry(store, stream_id, decide, attempts=3) first.")
    store = _fresh_store()
    store.append("Counter-1", [NewEvent("Incremented", {"by": 1})], expected_version=0)
    real_read, interfered = store.read, []

    def read_then_interfere(stream_id: str, *args: Any, **kwargs: Any) -> list:
        events = real_read(stream_id, *args, **kwargs)
        if not interfered:  # another user appends right after our first read
            interfered.append(True)
            store.append(stream_id, [NewEvent("Incremented", {"by": 10})], expected_version=len(events))
        return events

    def decide(history: list) -> list[NewEvent]:
        total = sum(e.data["by"] for e in history)
        return [NewEvent("Snapshotted", {"total_seen": total})]

    real_append, expectations = store.append, []

    def recording_append(stream_id: str, events: Any, *args: Any, **kwargs: Any) -> Any:
        expectations.append(kwargs.get("expected_version"))
        return real_append(stream_id, events, *args, **kwargs)

    store.read = read_then_interfere  # type: ignore[method-assign]
    store.append = recording_append  # type: ignore[method-assign]
    try:
        append_with_retry(store, "Counter-1", decide)
    except ConflictError:
        return _no("the first append conflicted and your function let ConflictError escape. Catch it, read again, "
                   "decide again, append again.")
    except TypeError as exc:
        if "positional argument" in str(exc) and "append" in str(exc):
            return _no(f"store.append raised {exc!r}: expected_version is a keyword argument, "
                       "store.append(stream_id, events, expected_version=len(history)).")
        return _no(f"your function raised {exc!r}. The check calls append_with_retry(store, stream_id, decide) "
                   "and decide(history) returns the list of NewEvent to append.")
    except Exception as exc:  # noqa: BLE001  (any error is feedback, not a crash)
        return _no(f"your function raised {exc!r}. The store's methods are store.read(stream_id) and "
                   "store.append(stream_id, events, expected_version=...).")
    finally:
        store.read, store.append = real_read, real_append  # type: ignore[method-assign]
    if ANY in expectations:
        return _no(
            "expected_version=ANY turns the conflict check off: the other writer's change is built upon "
            "without being looked at. Append with the version you read."
        )
    events = store.read("Counter-1")
    written = [e for e in events if e.type == "Snapshotted"]
    if len(written) != 1:
        return _no(f"expected exactly one new event after the retry, found {len(written)}.")
    if written[0].data["total_seen"] != 11:
        return _no(
            f"your retry decided on stale history (it saw a total of {written[0].data['total_seen']}, the "
            "stream's total was 11). Re-read the stream inside the loop, before deciding again."
        )
    problem = _give_up_problem(append_with_retry)
    if problem:
        return _no(problem)
    return _ok("it re-read the stream, decided on the new history, appended with the version it read, "
               "and gives up after `attempts` conflicts.")


def _give_up_problem(append_with_retry: Callable[..., Any]) -> str | None:
    """When every attempt conflicts, the function must re-raise ConflictError after `attempts` tries."""
    store, reads = _fresh_store(), [0]
    real_read = store.read

    def always_interfere(stream_id: str, *args: Any, **kwargs: Any) -> list:
        reads[0] += 1
        if reads[0] > 20:
            raise _RunawayLoop()
        events = real_read(stream_id, *args, **kwargs)
        store.append(stream_id, [NewEvent("Noise", {})], expected_version=len(events))
        return events

    store.read = always_interfere  # type: ignore[method-assign]
    try:
        append_with_retry(store, "Busy-1", lambda history: [NewEvent("Mine", {})], attempts=3)
    except ConflictError:
        if reads[0] > 4:
            return f"with attempts=3 your function read the stream {reads[0]} times; stop after `attempts` tries."
        return None
    except _RunawayLoop:
        return "with a writer that always gets in first, your function retries forever. Stop after `attempts` tries and re-raise ConflictError."
    except Exception as exc:  # noqa: BLE001
        return (f"when every attempt conflicts, your function raised {exc!r} instead of the last ConflictError: "
                "re-raise the ConflictError itself (a bare `raise` inside the except block).")
    return "when every attempt conflicts, your function returned normally. After `attempts` tries, re-raise the ConflictError so the caller knows nothing was written."
