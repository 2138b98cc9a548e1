"""Live subscriptions on PostgreSQL hear other processes' appends through LISTEN/NOTIFY;
polling stays the fallback."""

from __future__ import annotations

import threading

from store_factory import new_store, require_postgres

from esdemo import EventStore, NewEvent
from esdemo.benchmarks.postgres import notify_latency


def test_a_live_subscription_hears_another_writer_through_notify_not_polling():
    require_postgres()
    reader = new_store("postgres")
    writer = EventStore(reader._backend.url)      # another store object: its appends do not wake the reader locally
    delivered, got = [], threading.Event()
    subscription = reader.subscribe(lambda e: (delivered.append(e.position), got.set())).start(interval=600)
    try:
        assert reader._backend.listening.wait(60), "the live subscription did not start listening"
        writer.append("a", [NewEvent("E", {})], expected_version=0)
        # polling alone would take 600 s: delivery now is the notification's doing
        assert got.wait(60), "no delivery: the NOTIFY did not wake the subscription"
        assert delivered == [1] and reader._backend.notifications >= 1
    finally:
        subscription.stop()
        writer.close()
        reader.close()


def test_polling_still_delivers_when_no_notification_comes(monkeypatch):
    require_postgres()
    reader = new_store("postgres")
    monkeypatch.setattr(reader._backend, "listen", lambda callback: None)   # as if LISTEN were unavailable
    writer = EventStore(reader._backend.url)
    got = threading.Event()
    subscription = reader.subscribe(lambda e: got.set()).start(interval=0.05)
    try:
        writer.append("a", [NewEvent("E", {})], expected_version=0)
        assert got.wait(60)
        assert reader._backend.notifications == 0
    finally:
        subscription.stop()
        writer.close()
        reader.close()


def test_a_rolled_back_append_notifies_nobody():
    require_postgres()
    store = new_store("postgres")
    heard = []
    store._backend.listen(lambda: heard.append(1))
    other = EventStore(store._backend.url)
    try:
        assert store._backend.listening.wait(60)
        heard.clear()                               # the listener's own first wake-up
        other.append("a", [NewEvent("E", {})], expected_version=0)
        deadline = threading.Event()
        for _ in range(600):                       # the listener hears the committed one
            if heard:
                break
            deadline.wait(0.1)
        assert heard == [1]
        try:
            other.append("a", [NewEvent("E", {})], expected_version=0)   # a conflict: rolled back
        except Exception:
            pass
        other.append("b", [NewEvent("E", {})], expected_version=0)      # the next commit arrives after it
        for _ in range(600):
            if len(heard) == 2:
                break
            deadline.wait(0.1)
        assert heard == [1, 1] and store.head() == 2
    finally:
        other.close()
        store.close()


def test_notify_latency_is_measured_on_notifications():
    require_postgres()
    latency = notify_latency(samples=3)
    assert latency["notifications"] >= 3 and 0 < latency["median"] <= latency["max"]
