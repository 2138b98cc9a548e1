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

When an event breaks the handler, the runner's :class:`~esdemo.read.failure_policy.FailurePolicy`
decides: stop (the default), retry with backoff, or park it and go on::

    runner = ProjectionRunner(store, OrderSummary(), policy=FailurePolicy.parking(retries=3, max_parked=10))
    runner.catch_up()
    runner.health()          # Health: ok / retrying (since when, next try) / stopped (why); parked count
    runner.parked()          # [ParkedEvent(view, position, event_type, error_type, error_message, attempts, ...)]
    runner.replay_parked()   # after the fix: each parked event applied once, in order

A batch never ends inside an append; handlers run outside the database's
write transaction (a slow handler does not block the log's writers), and may
not append to the store they project (:class:`~esdemo.read.projection.AppendInHandlerError`).
:class:`~esdemo.read.runner_group.RunnerGroup` drives several runners as one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ..store.clock import utc_now
from ..store.events import RecordedEvent
from ..store.live_loop import LiveLoop
from .failure_policy import Failing, FailurePolicy, ParkedEvent
from .handler_guard import refusing_appends
from .lag import AsOf, Health, Lag
from .projection import (
    Projection,
    ProjectionConflictError,
    ProjectionError,
    ProjectionHandlerError,
    ProjectionTimeoutError,
    TooManyParkedError,
    apply_events,
)

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
    ``policy`` says what to do when an event breaks the handler: stop (the
    default), retry with backoff, park and go on (see :class:`FailurePolicy`);
    backoffs are measured with ``clock``, so nothing sleeps: the events before
    the failing one (up to the start of its append) are committed, a try that
    is not due yet simply does nothing, and the next ``catch_up`` (or the live
    thread's next tick) tries again once it is.
    """

    def __init__(self, store: EventStore, projection: Projection, *, decoder: Callable[[RecordedEvent], Any] | None = None,
                 batch_size: int = 1000, clock: Callable[[], datetime] | None = None, target: Any = None,
                 policy: FailurePolicy | None = None):
        if policy is not None and not isinstance(policy, FailurePolicy):
            raise TypeError(f"policy must be a FailurePolicy (e.g. FailurePolicy.parking(retries=3)), got {policy!r}")
        self.policy = policy or FailurePolicy.stop()
        self._failing: Failing | None = None     # the event failing now (retry state, in memory)
        self._to_park: dict[int, Failing] = {}   # events out of retries, parked with the next commit
        self._cut_before: int | None = None      # a failing event: commit only what comes before its append
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
        with self._batch_lock:
            try:
                count, position = self._run_batch_locked(limit, activate)
            finally:
                self._cut_before = None
        self._notify_progress()
        return count, position

    def _run_batch_locked(self, limit: int | None, activate: bool) -> tuple[int, int]:
        while True:
            failing = self._failing
            if (self._cut_before is None and failing is not None and failing.next_try is not None
                    and self.clock() < failing.next_try):
                return 0, self.position     # waiting for the next try (the policy's backoff)
            try:
                count, position = self._try_batch(limit, activate)
            except ProjectionHandlerError as exc:
                self._failed(exc)           # raises to stop; else park it, or commit what came before it
                continue
            if failing is not None and self._failing is failing and position >= failing.position:
                self._failing = None        # the failing event went through (a transient failure)
            if self._cut_before is not None and self._failing is not None and self._failing.stopped:
                self._notify_progress()     # committed what came before the event over the ceiling: stop
                raise self._failing.error
            return count, position

    def _try_batch(self, limit: int | None, activate: bool) -> tuple[int, int]:
        # staged: the handlers run outside the database's write transaction (a slow handler must not
        # block the log's writers); view + checkpoint (+ parked events) are then written in one short commit.
        with self.projection.storage.staged_batch(self.target, activate=activate) as batch:
            events = read_whole_appends(self.store, batch.position + 1, limit)
            if self._cut_before is not None:   # a failing event: apply what comes before its append
                events = events[:_append_start(events, self._cut_before)]
            skip = {e.position: self._to_park[e.position] for e in events if e.position in self._to_park}
            with refusing_appends(self.store, self.name):
                count = apply_events(self.projection, batch, events, self.decoder, skip)
            if skip:
                batch.parked = [self._parked_event(e, skip[e.position]) for e in events if e.position in skip]
        for position in skip:
            self._to_park.pop(position, None)
        return count, batch.position

    def _failed(self, exc: ProjectionHandlerError) -> None:
        """Apply the policy to a failure: raise to stop; else mark the event to park, or to be cut off
        (the batch then commits what came before it, and the event is tried again after the backoff)."""
        policy, now = self.policy, self.clock()
        position = exc.recorded.position
        failing = self._failing
        if failing is None or failing.position != position:
            failing = self._failing = Failing(position, since=now)
        failing.attempts += 1
        failing.error, failing.stopped = exc, False
        if failing.attempts <= policy.retries:
            failing.next_try = now + timedelta(seconds=policy.delay(failing.attempts))
            self._cut_before = position
            return
        if policy.park and not self._over_ceiling(failing, exc):
            self._to_park[position] = failing
            self._failing = None
            return
        if policy.park:
            return   # over the ceiling: commit what came before this event, then stop (see _run_batch_locked)
        failing.stopped, failing.next_try = True, None
        if policy.retries:
            raise ProjectionHandlerError(f"{exc} (gave up after {failing.attempts} attempts: {policy})",
                                         exc.recorded) from exc
        raise exc

    def _over_ceiling(self, failing: Failing, exc: ProjectionHandlerError) -> bool:
        ceiling = self.policy.max_parked
        if ceiling is None:
            return False
        parked = len(self.projection.storage.parked(self.target)) + len(self._to_park)
        if parked < ceiling:
            return False
        failing.stopped, failing.next_try = True, None
        failing.error = TooManyParkedError(
            f"{self.name} stopped before position {failing.position}: {parked} events are parked already, the "
            f"ceiling (max_parked) is {ceiling}, and this one failed too ({exc.recorded.type}: "
            f"{exc.__cause__!r}). So many failures are a bug, not bad luck: look at runner.parked(), fix the "
            "handler, run again and replay_parked(); or raise max_parked.")
        self._cut_before = failing.position
        return True

    def _parked_event(self, recorded: RecordedEvent, failing: Failing) -> ParkedEvent:
        cause = failing.error.__cause__ if failing.error is not None else None
        cause = cause if cause is not None else failing.error
        return ParkedEvent(self.name, recorded.position, recorded.stream_id, str(recorded.event_id), recorded.type,
                           type(cause).__name__, str(cause), failing.attempts, self.clock())

    # -- parked events ---------------------------------------------------------------------------
    def parked(self, *, include_replayed: bool = False) -> list[ParkedEvent]:
        """The events this view parked, oldest first (``include_replayed``: also those replayed since)."""
        return self.projection.storage.parked(self.target, include_replayed=include_replayed)

    def parked_event(self, position: int) -> RecordedEvent:
        """The stored event behind a parked one, to inspect it (``runner.parked_event(p.position).data``)."""
        _check_position(position)
        if not any(p.position == position for p in self.parked(include_replayed=True)):
            raise ValueError(f"{self.name} parked no event at position {position}; see runner.parked()")
        return self.store.read_all(position, limit=1)[0]

    def replay_parked(self, positions: Iterable[int] | None = None) -> int:
        """Apply the parked events (or those at ``positions``) after a fix: in order, each exactly once.

        Each is applied to the view as it is now, and marked replayed in the same
        commit. The first that fails again stops the replay (raising its error,
        :class:`ProjectionHandlerError`); those before it stay replayed, it and
        those after it stay parked. Returns how many were replayed.
        """
        wanted = None if positions is None else set(positions)
        done = 0
        with self._batch_lock:
            for parked in self.parked():
                if wanted is not None and parked.position not in wanted:
                    continue
                for attempt in range(MAX_CONFLICT_RETRIES + 1):
                    if attempt and not any(p.position == parked.position for p in self.parked()):
                        break   # replayed by someone else meanwhile (another runner): not twice
                    try:
                        self._replay_one(parked.position)
                    except ProjectionConflictError:
                        if attempt == MAX_CONFLICT_RETRIES:
                            raise
                        continue
                    done += 1
                    break
        self._notify_progress()
        return done

    def _replay_one(self, position: int) -> None:
        recorded = self.store.read_all(position, limit=1)[0]
        with self.projection.storage.staged_batch(self.target) as batch:
            with refusing_appends(self.store, self.name):
                apply_events(self.projection, batch, [recorded], self.decoder)
            batch.position = batch.start          # a replay does not move the checkpoint
            batch.replayed = {position: self.clock()}

    def health(self, now: datetime | None = None) -> Health:
        """Is the view keeping up? Its lag, whether it is retrying an event (and how long), stopped, how many parked."""
        lag = self.lag(now)
        now = now if now is not None else self.clock()
        try:
            parked = len(self.parked())
        except NotImplementedError:   # a storage that cannot park
            parked = 0
        failing = self._failing
        if failing is None:
            if self.error is not None and not self.running:
                return Health(lag, "stopped", parked, error=str(self.error))
            return Health(lag, "ok", parked)
        state = "stopped" if failing.stopped or (self.error is not None and not self.running) else "retrying"
        next_try = None if failing.next_try is None or state == "stopped" else \
            max(0.0, (failing.next_try - now).total_seconds())
        return Health(lag, state, parked, failing.position, failing.attempts,
                      max(0.0, (now - failing.since).total_seconds()), next_try,
                      None if failing.error is None else str(failing.error))

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
                failing = self._failing
                if failing is not None:
                    hint += (f" The event at position {failing.position} keeps failing ({failing.attempts} "
                             f"attempt{'s' * (failing.attempts != 1)}): see runner.health().")
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
    chunk = 16   # most appends are short: look a little ahead, further only while the append goes on
    while True:
        more = store.read_all(events[-1].position + 1, limit=chunk)
        for event in more:
            if not same_append(events[-1], event):
                return events
            events.append(event)
        if len(more) < chunk:
            return events
        chunk = min(chunk * 4, max(limit, 16))


def _append_start(events: list[RecordedEvent], position: int) -> int:
    """The index in ``events`` where the append holding ``position`` begins (``len(events)`` if absent)."""
    index = next((i for i, e in enumerate(events) if e.position == position), len(events))
    while 0 < index < len(events) and same_append(events[index - 1], events[index]):
        index -= 1
    return index


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
