"""Subscribe: catch up, then follow live; deterministic with poll(), live with start()."""

from __future__ import annotations

import threading
import time

import pytest

from esdemo import NewEvent


def fill(store, stream: str, count: int, start_version: int = 0) -> None:
    store.append(stream, [NewEvent("E", {"n": start_version + i}) for i in range(count)], expected_version=start_version)


def test_poll_catches_up_then_delivers_only_what_is_new(store):
    fill(store, "a", 3)
    fill(store, "b", 2)
    seen = []
    sub = store.subscribe(seen.append)
    assert sub.poll() == 5
    assert [e.position for e in seen] == [1, 2, 3, 4, 5]
    assert sub.poll() == 0
    fill(store, "a", 2, start_version=3)
    assert sub.poll() == 2
    assert [e.position for e in seen] == [1, 2, 3, 4, 5, 6, 7] and sub.position == 7


def test_subscribe_from_a_position(store):
    fill(store, "a", 4)
    seen = []
    store.subscribe(seen.append, from_position=3).poll()
    assert [e.position for e in seen] == [3, 4]


def test_poll_delivers_more_than_one_batch(store):
    fill(store, "a", 25)
    seen = []
    sub = store.subscribe(seen.append)
    sub.batch_size = 10
    assert sub.poll() == 25 and len(seen) == 25


def test_a_failing_handler_stops_at_the_event_and_gets_it_again(store):
    fill(store, "a", 3)
    seen, fail_on = [], {2}

    def handler(event):
        if event.position in fail_on:
            raise RuntimeError("handler bug")
        seen.append(event.position)

    sub = store.subscribe(handler)
    with pytest.raises(RuntimeError):
        sub.poll()
    assert seen == [1] and sub.position == 1
    fail_on.clear()
    assert sub.poll() == 2
    assert seen == [1, 2, 3]


def test_background_subscription_follows_live_appends(store):
    received, got_all = [], threading.Event()

    def handler(event):
        received.append(event.position)
        if len(received) == 6:
            got_all.set()

    fill(store, "a", 2)
    with store.subscribe(handler).start(interval=5.0) as sub:  # long interval: woken by appends
        fill(store, "a", 2, start_version=2)
        fill(store, "b", 2)
        assert got_all.wait(timeout=10)
        assert sub.running
    assert not sub.running
    assert received == [1, 2, 3, 4, 5, 6]


def test_background_subscription_keeps_the_error(store):
    fill(store, "a", 1)

    def handler(event):
        raise ValueError("bad projection")

    sub = store.subscribe(handler).start(interval=0.01)
    deadline = time.monotonic() + 10
    while sub.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert isinstance(sub.error, ValueError) and sub.position == 0
    sub.stop()


def test_handler_must_be_callable(store):
    with pytest.raises(TypeError, match="callable"):
        store.subscribe("print")


def test_stop_ends_the_thread_even_when_it_is_called_while_the_handler_runs(store, monkeypatch):
    """stop() wakes the thread; a wake-up sent while the handler is busy must not be lost, or the
    thread sleeps on for a whole interval after stop() has given up waiting for it."""
    fill(store, "a", 1)
    in_handler, release = threading.Event(), threading.Event()

    def handler(event):
        in_handler.set()
        release.wait(10)

    before = set(threading.enumerate())
    sub = store.subscribe(handler).start(interval=60)  # only an append or stop() can wake it early
    assert in_handler.wait(10)
    (thread,) = set(threading.enumerate()) - before
    wake = store.wake_waiters

    def wake_while_the_handler_still_runs():
        wake()
        release.set()

    monkeypatch.setattr(store, "wake_waiters", wake_while_the_handler_still_runs)
    sub.stop(timeout=10)
    assert not thread.is_alive() and not sub.running


@pytest.mark.parametrize("batch_size", [0, -5, 2.5, True])
def test_a_batch_size_that_would_make_poll_loop_forever_is_refused(store, batch_size):
    """poll() reads batches until one comes back short: with batch_size=0 every batch is 'full' and empty."""
    from esdemo import Subscription

    fill(store, "a", 1)
    with pytest.raises(ValueError, match="batch_size must be an int >= 1"):
        Subscription(store, print, batch_size=batch_size)


@pytest.mark.parametrize("interval", [0, -1, float("nan"), float("inf"), "1"])
def test_an_interval_that_would_make_the_thread_spin_or_crash_is_refused(store, interval):
    """Condition.wait() does not wait at all for 0, a negative number or NaN: the thread would poll the
    database in a tight loop, at full CPU."""
    sub = store.subscribe(print)
    with pytest.raises(ValueError, match="interval must be a number of seconds > 0"):
        sub.start(interval=interval)
    assert not sub.running


def test_stop_takes_effect_after_the_batch_in_flight_not_after_the_whole_backlog(store):
    """A live subscription with a backlog: stop() used to let the thread deliver everything up to the head
    first, and gave up waiting (returning with the thread still delivering) when that took longer than
    its timeout."""
    from esdemo import Subscription

    fill(store, "a", 30)
    started, delivered = threading.Event(), []

    def slow(event):
        started.set()
        delivered.append(event.position)
        time.sleep(0.2)                                   # 30 events: 6 s of backlog

    before = set(threading.enumerate())
    sub = Subscription(store, slow, batch_size=1).start(interval=60)
    assert started.wait(10)
    (thread,) = set(threading.enumerate()) - before
    sub.stop(timeout=2)
    assert not thread.is_alive() and not sub.running
    stopped_at = len(delivered)
    assert sub.position == stopped_at < 30                # the rest waits for the next start() or poll()
    assert sub.poll() == 30 - stopped_at and delivered == list(range(1, 31))


# -- the append signal and the one live loop (esdemo.store.live_loop) ----------------------------------------


def test_wait_for_append_returns_at_once_when_the_log_is_already_past_the_position(store):
    fill(store, "a", 2)
    assert store.wait_for_append(1, timeout=30) is True


def test_wait_for_append_wakes_on_an_append_from_another_thread(store):
    fill(store, "a", 1)
    woke = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait_for_append(1, timeout=30)))
    waiter.start()
    fill(store, "b", 1)
    waiter.join(30)
    assert woke == [True]


def test_wait_for_append_times_out_false_and_stop_ends_it_early(store):
    fill(store, "a", 1)
    assert store.wait_for_append(1, timeout=0.01) is False
    stop = threading.Event()
    answers = []
    waiter = threading.Thread(target=lambda: answers.append(store.wait_for_append(1, timeout=60, stop=stop)))
    waiter.start()
    stop.set()
    store.wake_waiters()
    waiter.join(30)
    assert not waiter.is_alive() and answers == [False]


@pytest.mark.parametrize("bad", [-1, 1.5, None])
def test_wait_for_append_refuses_a_position_that_is_not_a_count(store, bad):
    with pytest.raises((TypeError, ValueError)):
        store.wait_for_append(bad, timeout=0)


def test_stop_that_times_out_says_so_keeps_running_true_and_never_starts_a_second_thread(store):
    """A handler that hangs: stop(timeout) raises StillRunningError, running stays True, start() adds no thread."""
    from esdemo.store.errors import StillRunningError

    fill(store, "a", 1)
    in_handler, release = threading.Event(), threading.Event()

    def hanging(event):
        in_handler.set()
        release.wait(30)

    before = set(threading.enumerate())
    sub = store.subscribe(hanging).start(interval=60)
    assert in_handler.wait(30)
    with pytest.raises(StillRunningError, match="still running"):
        sub.stop(timeout=0.05)
    assert sub.running
    sub.start()
    assert len(set(threading.enumerate()) - before) == 1
    release.set()
    sub.stop(timeout=30)
    assert not sub.running


def test_every_backend_is_written_against_the_named_contract(store):
    from esdemo.store.backends.contract import Backend

    assert isinstance(store._backend, Backend)


# -- scopes: one stream, one category (the seed's Subscribe(streamId, handler)) ---------------------------


def test_a_stream_subscription_delivers_only_that_stream_in_global_order(store):
    fill(store, "Order-1", 2)
    fill(store, "Order-2", 1)
    fill(store, "Order-1", 1, start_version=2)
    seen = []
    sub = store.subscribe(lambda e: seen.append((e.stream_id, e.version)), stream_id="Order-1")
    assert sub.poll() == 3
    assert seen == [("Order-1", 1), ("Order-1", 2), ("Order-1", 3)]
    assert sub.position == store.head()              # it walked past Order-2's event too: nothing to redo


def test_a_category_subscription_delivers_every_stream_of_the_category_and_nothing_else(store):
    fill(store, "Order-1", 1)
    fill(store, "Payment-1", 1)
    fill(store, "Order-2", 1)
    fill(store, "OrderLine-9", 1)                    # another category that merely starts with "Order"
    seen = []
    store.subscribe(lambda e: seen.append(e.stream_id), category="Order").poll()
    assert seen == ["Order-1", "Order-2"]


def test_a_scoped_subscription_restarted_from_its_position_misses_nothing(store):
    fill(store, "Order-1", 1)
    first = store.subscribe(lambda e: None, stream_id="Order-1")
    first.poll()
    fill(store, "Other-1", 1)
    fill(store, "Order-1", 1, start_version=1)
    seen = []
    store.subscribe(lambda e: seen.append(e.version), from_position=first.position + 1, stream_id="Order-1").poll()
    assert seen == [2]


@pytest.mark.parametrize("scope, problem", [
    ({"stream_id": "Order-1", "category": "Order"}, "not both"),
    ({"stream_id": " "}, "stream_id must be"),
    ({"category": "Order-1"}, "before the first '-'"),
    ({"category": ""}, "category must be"),
])
def test_a_scope_that_cannot_mean_anything_is_refused(store, scope, problem):
    with pytest.raises(ValueError, match=problem):
        store.subscribe(lambda e: None, **scope)
