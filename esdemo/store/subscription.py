"""Subscriptions: follow the global log, first catching up, then live.

A subscription remembers the next position it has to deliver. ``poll()``
hands every event from there up to the current head to the handler, in
order, and returns how many it delivered: deterministic, which is what tests
and notebooks want. ``start()`` runs the same loop in a background thread,
woken up by every append of this store (and by a timer, for writers in
other processes), which is what a live demo wants.

If the handler raises, the subscription stops *at* that event: it will be
delivered again on the next poll, never skipped.

Three scopes, as in the seed's ``Subscribe(streamId, handler)`` and in
KurrentDB:

* **all streams** (the default): one global order, one checkpoint. What a
  projection that joins several streams needs (an order summary that also
  reads payments), and what rebuilding a view replays.
* **one stream** (``stream_id="Order-12345"``): a reaction to one entity,
  e.g. a page that follows one order.
* **one category** (``category="Order"``): every stream whose id starts with
  ``Order-``, the ``$ce-Order`` of KurrentDB; e.g. a handler for all orders.

A scoped subscription still walks the global log and still remembers one
global position (it skips what is not in scope), so its events arrive in the
same global order and a restart from its position misses nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .events import RecordedEvent
from .live_loop import LiveLoop

if TYPE_CHECKING:
    from .event_store import EventStore

Handler = Callable[[RecordedEvent], object]


class Subscription:
    """Deliver events from ``from_position`` on to ``handler``; see the module docstring."""

    def __init__(self, store: EventStore, handler: Handler, from_position: int = 1, batch_size: int = 1000, *,
                 stream_id: str | None = None, category: str | None = None):
        if not callable(handler):
            raise TypeError(f"handler must be callable (it receives each RecordedEvent), got {type(handler).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1 (events read per query), got {batch_size!r}")
        self.stream_id, self.category = _check_scope(stream_id, category)
        self._store = store
        self._handler = handler
        self.next_position = from_position
        self.batch_size = batch_size
        self._poll_lock = threading.Lock()
        self._live = LiveLoop(store, "esdemo-subscription", self._poll, lambda: self.position)

    @property
    def position(self) -> int:
        """The position of the last event delivered (0 before the first)."""
        return self.next_position - 1

    def poll(self) -> int:
        """Deliver everything new, in order; return how many events were delivered."""
        return self._poll(None)

    def _poll(self, stop: threading.Event | None) -> int:
        # The live thread passes its stop flag: a stop() ends it after the batch in flight, not after the backlog.
        delivered = 0
        with self._poll_lock:
            while True:
                batch = self._store.read_all(self.next_position, limit=self.batch_size)
                for event in batch:
                    if self._in_scope(event.stream_id):
                        self._handler(event)
                        delivered += 1
                    self.next_position = event.position + 1
                if len(batch) < self.batch_size or (stop is not None and stop.is_set()):
                    return delivered

    def _in_scope(self, stream_id: str) -> bool:
        if self.stream_id is not None:
            return stream_id == self.stream_id
        if self.category is not None:
            return stream_id.startswith(self.category + "-")
        return True

    # -- live mode -------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Is the background thread alive?"""
        return self._live.running

    @property
    def error(self) -> BaseException | None:
        """What the handler raised in the background thread (None if nothing)."""
        return self._live.error

    def start(self, interval: float = 0.05) -> Subscription:
        """Poll in a background thread until :meth:`stop`; returns ``self``.

        If the handler raises, the thread stops and keeps the exception in
        :attr:`error`; the failed event is delivered again once restarted.
        """
        self._live.start(interval)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (if any) after the batch in flight, and wait for it.

        Raises :class:`~esdemo.store.errors.StillRunningError` if the handler
        is still busy after ``timeout`` seconds.
        """
        self._live.stop(timeout)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "idle"
        scope = (f" to stream {self.stream_id!r}" if self.stream_id is not None
                 else f" to category {self.category!r}" if self.category is not None else "")
        return f"<Subscription{scope} at position {self.position}, {state}>"


def _check_scope(stream_id: object, category: object) -> tuple[str | None, str | None]:
    if stream_id is not None and category is not None:
        raise ValueError("subscribe to one stream (stream_id=...) or one category (category=...), not both")
    if stream_id is not None and (not isinstance(stream_id, str) or not stream_id.strip()):
        raise ValueError(f"stream_id must be a stream's id such as 'Order-12345', got {stream_id!r}")
    if category is not None and (not isinstance(category, str) or not category.strip() or "-" in category):
        raise ValueError(f"category must be the part of stream ids before the first '-', such as 'Order' "
                         f"(for Order-12345), got {category!r}")
    return stream_id, category
