"""Following the log live: one background thread, written once.

A :class:`~esdemo.store.subscription.Subscription` and a
:class:`~esdemo.read.projection_runner.ProjectionRunner` both "catch up, then
wait for the next append, then catch up again" in a thread of their own. This
module is that loop, so its lifecycle is right in one place:

* ``start(interval)`` starts one thread (never two: a second ``start`` while
  it lives does nothing);
* the thread runs ``step(stop)`` (deliver everything new), then sleeps in
  :meth:`EventStore.wait_for_append <esdemo.store.event_store.EventStore.wait_for_append>`
  until this store appends past the position reached, ``stop()`` is called, or
  ``interval`` seconds pass (writers in *other* processes wake nobody, so the
  timer is what finds their events; on PostgreSQL, LISTEN/NOTIFY wakes it for them too);
* if ``step`` raises, the thread ends and keeps the exception in ``error``:
  the failed event is delivered again after a restart, never skipped;
* ``stop(timeout)`` asks the thread to end after the batch in flight and
  waits for it. A thread still busy after ``timeout`` (a handler that hangs)
  is reported with :class:`~esdemo.store.errors.StillRunningError`, and
  ``running`` stays true, because it is.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import StillRunningError

if TYPE_CHECKING:
    from .event_store import EventStore


class LiveLoop:
    """Run ``step(stop)`` in a background thread, waking on every append after ``position()``."""

    def __init__(self, store: EventStore, name: str, step: Callable[[threading.Event], object],
                 position: Callable[[], int], on_error: Callable[[], None] | None = None):
        self._store, self._name, self._step, self._position = store, name, step, position
        self._on_error = on_error
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Is the background thread alive?"""
        return self._thread is not None and self._thread.is_alive()

    def start(self, interval: float) -> None:
        """Start the thread, unless one is alive already."""
        check_interval(interval)
        with self._lock:
            if self.running:
                return
            self.error = None
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(interval,), name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end after the batch in flight and wait up to ``timeout`` seconds for it."""
        self._stop.set()
        self._store.wake_waiters()
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            raise StillRunningError(
                f"{self._name} is still running {timeout} s after stop(): its handler has not returned. "
                "The thread will end once the handler returns; until then running stays True and "
                "start() does not start another. Find what the handler waits for, or call stop() again "
                "with a longer timeout."
            )
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def _run(self, interval: float) -> None:
        stalled = False   # the last wait said "ahead" although the step before it delivered nothing
        while not self._stop.is_set():
            try:
                delivered = self._step(self._stop)
                if stalled and not delivered:
                    # The log is ahead, yet a step after the wake-up delivered nothing either: do not
                    # spin, wait for the next tick. (A first wake-up from idle delivers without delay.)
                    self._stop.wait(interval)
                ahead = self._store.wait_for_append(self._position(), interval, stop=self._stop)
            except BaseException as exc:  # keep it for the caller; do not die silently
                self.error = exc
                if self._on_error is not None:
                    self._on_error()
                return
            stalled = ahead and not delivered


def check_interval(interval: object) -> None:
    """Refuse a polling interval a background thread cannot sleep for: it would poll in a tight loop."""
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or not 0 < interval < math.inf:
        raise ValueError(f"interval must be a number of seconds > 0 (how long to sleep between polls "
                         f"when nothing wakes the thread), got {interval!r}")
