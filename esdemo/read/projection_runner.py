"""Feeding a projection from the global log, and living with a view that lags.

>>> runner = ProjectionRunner(store, OrderSummary())
>>> runner.catch_up()              # deterministic: apply everything there is; returns how many
>>> runner.lag()                   # Lag(view='order_summary', position=7, head=7, seconds=0.0)
>>> runner.start()                 # or: follow the log in a background thread (live demos)
>>> result = repository.save(order)
>>> runner.wait_for(result.position, timeout=2)     # read-your-writes

The seed's three answers to "projections are eventually consistent":

* **read-your-writes**: the command returns the position it wrote;
  :meth:`ProjectionRunner.wait_for` blocks until the view has applied it
  (or raises :class:`~esdemo.read.projection.ProjectionTimeoutError`). The other
  way to read your own write is to load the aggregate from the event store.
* **polling**: :meth:`ProjectionRunner.has_reached` answers at once; a UI
  asks again a little later ("your order is being processed...").
* **accept staleness**: :meth:`ProjectionRunner.read` returns the answer
  together with how far behind the view was (:class:`AsOf`), for a UI that
  says "as of 3 seconds ago".

:class:`~esdemo.read.runner_group.RunnerGroup` drives several runners as one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ..store.clock import utc_now
from ..store.events import RecordedEvent
from ..store.live_loop import LiveLoop
from .handler_guard import refusing_appends
from .lag import AsOf, Lag
from .projection import Projection, ProjectionConflictError, ProjectionError, ProjectionTimeoutError, apply_events

if TYPE_CHECKING:
    from ..store.event_store import EventStore

T = TypeVar("T")
MAX_CONFLICT_RETRIES = 50


class ProjectionRunner:
    """Feed ``projection`` from ``store``'s global log, in batches of at most ``batch_size`` events.

    ``decoder`` turns each ``RecordedEvent`` into what the handler matches on
    (default: the projection's own :meth:`~esdemo.read.projection.Projection.decode`).
    ``clock`` tells :meth:`lag` what time it is; with a ``FakeClock`` pass
    ``clock=fake.peek`` so that reading the lag does not move time on.
    ``target`` pins the runner to one generation of the view instead of the
    live one; rebuilds use it (see :mod:`esdemo.read.rebuild`).
    """

    def __init__(self, store: EventStore, projection: Projection, *, decoder: Callable[[RecordedEvent], Any] | None = None,
                 batch_size: int = 1000, clock: Callable[[], datetime] | None = None, target: Any = None):
        if not isinstance(projection, Projection):
            raise TypeError(f"projection must be a Projection, got {type(projection).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if decoder is not None and not callable(decoder):
            raise TypeError("decoder must be a function RecordedEvent -> event, e.g. default_registry.decode")
        self.store, self.projection, self.batch_size = store, projection, batch_size
        self.decoder, self.target = decoder, target
        self.clock = clock or utc_now
        self._batch_lock = threading.Lock()
        self._progress = threading.Condition()
        self._live = LiveLoop(store, f"projection-{projection.name}", lambda stop: self._catch_up(False, stop),
                              lambda: self.position, on_error=self._notify_progress)
        projection.storage.attach(store, projection.name)

    @property
    def name(self) -> str:
        """The view's name (the projection's)."""
        return self.projection.name

    @property
    def position(self) -> int:
        """The checkpoint: the position of the last event the view has applied (committed)."""
        return self.projection.storage.position(self.target)

    # -- deterministic mode ------------------------------------------------------------------------
    def run_once(self) -> int:
        """Apply the next batch in one commit (view + checkpoint); return how many events it processed.

        Events the projection does not handle count too: the checkpoint moved past them.
        A batch holds ``batch_size`` events, or a few more so as never to end inside
        an append (a view shows all of an atomic append or none of it).
        """
        return self._run_batch(self.batch_size)[0]

    def catch_up(self, *, progress: bool = False) -> int:
        """Apply batches until the view reaches the head the log had when called; return how many events.

        ``progress=True`` shows a progress bar (tqdm; a widget in a notebook).
        A batch that loses a race with another writer is simply run again.
        """
        return self._catch_up(progress, None)

    def _catch_up(self, progress: bool, stop: threading.Event | None) -> int:
        # The live thread passes its stop flag: a stop() ends it after the batch in flight, not after the backlog.
        head, start = self.store.head(), self.position
        bar = _progress_bar(progress, max(head - start, 0), self.name)
        done, conflicts = 0, 0
        try:
            while True:
                try:
                    count, position = self._run_batch(self.batch_size)
                except ProjectionConflictError:
                    conflicts += 1
                    if conflicts > MAX_CONFLICT_RETRIES:
                        raise
                    continue
                done, conflicts = done + count, 0
                if bar is not None:
                    bar.update(count)
                if count < self.batch_size or position >= head or (stop is not None and stop.is_set()):
                    return done
        finally:
            if bar is not None:
                bar.close()

    def switch_over(self) -> int:
        """Apply every event still missing to the pinned ``target`` and make it the live view, in one commit."""
        if self.target is None:
            raise ProjectionError("switch_over() needs a runner pinned to a new generation (target=...); see rebuild()")
        return self._run_batch(None, activate=True)[0]

    def _run_batch(self, limit: int | None, *, activate: bool = False) -> tuple[int, int]:
        # staged: the handlers run outside the database's write transaction (a slow handler must not
        # block the log's writers); view + checkpoint are then written in one short commit.
        with self._batch_lock:
            with self.projection.storage.staged_batch(self.target, activate=activate) as batch:
                events = read_whole_appends(self.store, batch.position + 1, limit)
                with refusing_appends(self.store, self.name):
                    count = apply_events(self.projection, batch, events, self.decoder)
            position = batch.position
        self._notify_progress()
        return count, position

    # -- lag and consistency -------------------------------------------------------------------------
    def lag(self, now: datetime | None = None) -> Lag:
        """How far behind the view is, in events and in seconds (see :class:`Lag`)."""
        position, head = self.position, self.store.head()
        seconds = 0.0
        if head > position:
            oldest = self.store.read_all(position + 1, limit=1)
            if oldest:
                now = now if now is not None else self.clock()
                seconds = max(0.0, (now - oldest[0].recorded_at).total_seconds())
        return Lag(self.name, position, head, seconds)

    def has_reached(self, position: int) -> bool:
        """Polling: has the view applied the event at ``position`` yet? Answers at once."""
        _check_position(position)
        return self.position >= position

    def wait_for(self, position: int, timeout: float = 5.0) -> int:
        """Read-your-writes: block until the view has applied ``position``; return the position reached.

        Raises :class:`~esdemo.read.projection.ProjectionTimeoutError` naming the
        view, the position asked for and the position reached, if that does
        not happen within ``timeout`` seconds. Something must be applying
        events meanwhile: :meth:`start`, or another thread or process.
        """
        _check_position(position)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:  # NaN too
            raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        deadline = time.monotonic() + timeout
        while True:
            reached = self.position
            if reached >= position:
                return reached
            if self.error is not None and not self.running:
                raise ProjectionError(f"{self.name!r} stopped at position {reached} on an error, so it will not "
                                      f"reach {position}: {self.error}") from self.error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                hint = "" if self.running else (
                    " Nothing in this runner is applying events: call runner.start() for a live view, "
                    "or runner.catch_up().")
                raise ProjectionTimeoutError(
                    f"view {self.name!r} did not reach position {position} within {timeout} s: it is at "
                    f"position {reached} (the log's head is {self.store.head()}).{hint}")
            with self._progress:
                self._progress.wait(min(remaining, 0.05))

    def read(self, query: Callable[[], T]) -> AsOf[T]:
        """Accept staleness: run ``query()`` and return its answer with the view's lag, read just before.

        The answer reflects at least every event up to ``AsOf.position``.
        """
        lag = self.lag()
        return AsOf(query(), lag.position, lag)

    # -- background mode ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Is the background thread alive?"""
        return self._live.running

    @property
    def error(self) -> BaseException | None:
        """What stopped the background thread (None while it runs or if nothing did)."""
        return self._live.error

    def start(self, interval: float = 0.05) -> ProjectionRunner:
        """Follow the log in a background thread until :meth:`stop`; returns ``self``.

        The thread wakes up on every append to this store (and every
        ``interval`` seconds, for writers in other processes). If a handler
        raises, the thread stops and keeps the error in :attr:`error`.
        """
        self._live.start(interval)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread (if any) after the batch in flight, and wait for it.

        Raises :class:`~esdemo.store.errors.StillRunningError` if a handler is
        still busy after ``timeout`` seconds (``running`` then stays true).
        """
        self._live.stop(timeout)

    def _notify_progress(self) -> None:
        with self._progress:
            self._progress.notify_all()

    def __enter__(self) -> ProjectionRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "idle"
        return f"<ProjectionRunner {self.name!r} {state}, batch_size={self.batch_size}>"


def read_whole_appends(store: EventStore, start: int, limit: int | None) -> list[RecordedEvent]:
    """About ``limit`` events from ``start``, never ending inside one append.

    An append is atomic, so a view must never commit half of one. The store
    keeps no append id, but the events of one append are recognisable: one
    stream, consecutive positions and versions, one ``recorded_at``. So when
    the ``limit``-th event may be followed by more of its append, the batch
    is extended while the next event continues it. (Two appends to one
    stream with the same timestamp may be taken together: a bigger batch,
    never a cut one.)
    """
    events = store.read_all(start, limit=limit)
    if limit is None or len(events) < limit:
        return events   # read to the head, and the head is always at the end of an append
    while True:
        more = store.read_all(events[-1].position + 1, limit=limit)
        for event in more:
            if not same_append(events[-1], event):
                return events
            events.append(event)
        if len(more) < limit:
            return events


def same_append(last: RecordedEvent, following: RecordedEvent) -> bool:
    """May ``following`` belong to the same append as ``last`` (the event just before it)?"""
    return (following.position == last.position + 1 and following.stream_id == last.stream_id
            and following.version == last.version + 1 and following.recorded_at == last.recorded_at)


def _check_position(position: object) -> None:
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ValueError(f"position must be an int >= 0 (e.g. the .position an append returned), got {position!r}")


def _progress_bar(enabled: bool, total: int, name: str) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm  # imported only when asked for: a notebook bar pulls in ipywidgets

    return tqdm(total=total, desc=name, unit="events")
