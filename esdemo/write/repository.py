"""The repository: load an aggregate from its events, save its new events.

::

    accounts = Repository(store, Account, snapshot_every=1000)
    account = accounts.load("123")          # snapshot (if any) + replay of the tail
    account.withdraw(Decimal("50"))         # a command: validate, then record
    accounts.save(account)                  # append with expected_version=account.version
    print(accounts.load_plan("123"))        # what a load restores and replays, without loading

If another writer appended to ``Account-123`` between the load and the
save, the store raises :class:`~esdemo.store.errors.ConflictError` and nothing is
written: reload and run the command again.

Time travel is the same replay, stopped early:
``accounts.load("123", at_version=2)`` or
``accounts.load("123", as_of=datetime(2024, 1, 15, tzinfo=timezone.utc))``
("what was the balance on Jan 15?").
"""

from __future__ import annotations

import inspect
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from ..store.event_store import EventStore
from ..store.events import NO_STREAM, AppendResult, RecordedEvent
from .aggregate import Aggregate
from .context import CAUSATION_ID, CORRELATION_ID, current_context
from .domain import EventRegistry, default_registry
from .snapshots import Snapshot, SnapshotStore

A = TypeVar("A", bound=Aggregate)


class AggregateNotFoundError(LookupError):
    """There are no events for this aggregate id (at the requested point in time)."""


@dataclass(frozen=True)
class LoadPlan:
    """What a load costs: the snapshot it starts from and how many events it replays.

    ``snapshot`` is the stream version of the snapshot the load restores (``None``:
    no usable snapshot, so it replays from event 1); ``replayed`` is how many
    events it then reads, decodes and applies to reach ``version``. The seed's
    example prints as::

        Account-123 at version 1,050: snapshot at 1,000 + replay 1,001..1,050 (50 events)
    """

    stream_id: str
    version: int
    snapshot: int | None
    replayed: int

    def __str__(self) -> str:
        head = f"{self.stream_id} at version {self.version:,}: "
        count = f"({self.replayed:,} event{'s' if self.replayed != 1 else ''})"
        if self.snapshot is None:
            return head + f"no usable snapshot, replay 1..{self.version:,} {count}"
        if not self.replayed:
            return head + f"snapshot at {self.snapshot:,}, nothing to replay"
        return head + f"snapshot at {self.snapshot:,} + replay {self.snapshot + 1:,}..{self.version:,} {count}"


class Repository(Generic[A]):
    """Loads and saves one aggregate class in ``store``.

    * ``snapshot_every=N``: after a save that crosses a multiple of ``N``
      (e.g. from version 998 to 1003 with ``N=1000``), store a snapshot.
      Loads use the newest usable snapshot whether or not ``N`` is set:
      one of the class's ``snapshot_version`` whose events were decoded as
      ``registry`` decodes them now. A snapshot decoded otherwise (an upcaster
      was added or changed since) is ignored, and the load replaces it.
    * ``registry``: the :class:`~esdemo.write.domain.EventRegistry` that encodes and
      decodes the events (default: ``default_registry``).
    * ``id_factory``: a callable giving each new event its id, e.g.
      ``seeded_ids(7)`` for a notebook whose output must not change.
      Timestamps come from the store's clock.
    """

    def __init__(self, store: EventStore, aggregate_class: type[A], *, snapshot_every: int | None = None,
                 registry: EventRegistry | None = None, id_factory: Callable[[], uuid.UUID] | None = None):
        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        if not (isinstance(aggregate_class, type) and issubclass(aggregate_class, Aggregate)):
            raise TypeError(f"aggregate_class must be a subclass of Aggregate, got {aggregate_class!r}")
        if snapshot_every is not None and (isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int)
                                           or snapshot_every < 1):
            raise ValueError(f"snapshot_every must be None (no automatic snapshots) or an int >= 1, got {snapshot_every!r}")
        if id_factory is not None and not callable(id_factory):
            raise TypeError("id_factory must be a callable returning a uuid.UUID, e.g. seeded_ids(42)")
        self.store = store
        self.aggregate_class = aggregate_class
        self.snapshot_every = snapshot_every
        self.registry = registry if registry is not None else default_registry
        self.snapshots = SnapshotStore(store, decoding=self.registry.decoding)
        self._id_factory = id_factory

    # -- loading -------------------------------------------------------------------------
    def load(self, id: str | int, *, at_version: int | None = None, as_of: datetime | None = None) -> A:
        """The aggregate now, or at stream version ``at_version``, or as recorded up to ``as_of``.

        ``as_of`` keeps the events recorded at or before that instant (the
        longest such prefix of the stream). Raises :class:`AggregateNotFoundError`
        if there is nothing to load. An aggregate loaded in the past can be
        inspected; saving new events on it raises ``ConflictError``.
        """
        cls = self.aggregate_class
        stream_id = cls.stream_id_for(id)
        if at_version is not None and as_of is not None:
            raise ValueError("pass at_version or as_of, not both")
        _check_at_version(at_version)
        target, history = at_version, None  # history: the events already read, for as_of
        if as_of is not None:
            history = self._history_as_of(stream_id, as_of)
            target = len(history)
        snapshot, stale = self.snapshots.find(stream_id, schema_version=cls.snapshot_version, at_most=target)
        start = 1 if snapshot is None else snapshot.version + 1
        tail = history[start - 1:] if history is not None else self.store.read(stream_id, start, to_version=target)
        if snapshot is None and not tail:
            raise self._not_found(id, stream_id)
        aggregate = cls(id)
        if snapshot is not None:
            aggregate.restore_state(snapshot.state)
            aggregate.version = snapshot.version
        decode = self.registry.decode
        events = [decode(recorded) for recorded in tail]
        if stale is not None and tail and tail[0].version <= stale.version <= tail[-1].version:
            # A snapshot decoded with other upcasters: replay up to it, then replace it with the true state.
            cut = stale.version - tail[0].version + 1
            aggregate.replay(events[:cut], stale.version)
            self._replace_stale(aggregate)
            events, tail = events[cut:], tail[cut:]
        aggregate.replay(events, tail[-1].version if tail else aggregate.version)
        if target is not None and aggregate.version != target:
            raise _beyond_the_end(stream_id, self.store.stream_version(stream_id), target)
        return aggregate

    def load_plan(self, id: str | int, *, at_version: int | None = None) -> LoadPlan:
        """How :meth:`load` (with the same arguments) would get there, without reading any event.

        It asks the two questions ``load`` asks: which is the newest snapshot of
        this class's ``snapshot_version`` at or before the target, and what is
        the stream's version. Use it to see what snapshots save::

            print(accounts.load_plan("123"))
            # Account-123 at version 1,050: snapshot at 1,000 + replay 1,001..1,050 (50 events)
        """
        _check_at_version(at_version)
        stream_id = self.aggregate_class.stream_id_for(id)
        current = self.store.stream_version(stream_id)
        if current == 0:
            raise self._not_found(id, stream_id)
        target = current if at_version is None else at_version
        if target > current:
            raise _beyond_the_end(stream_id, current, target)
        snapshot = self._usable_snapshot(stream_id, target)
        start = 0 if snapshot is None else snapshot.version
        return LoadPlan(stream_id, target, None if snapshot is None else snapshot.version, target - start)

    def _replace_stale(self, aggregate: A) -> None:
        try:
            self.take_snapshot(aggregate)
        except Exception as exc:  # a cache that could not be refreshed: the load is still right
            warnings.warn(f"{aggregate.stream_id}: could not replace the stale snapshot at version "
                          f"{aggregate.version}: {exc!r}. Loads stay correct (full replay).", RuntimeWarning,
                          stacklevel=3)

    def _usable_snapshot(self, stream_id: str, target: int | None) -> Snapshot | None:
        """The one rule for picking a snapshot, shared by load and load_plan."""
        return self.snapshots.latest(stream_id, schema_version=self.aggregate_class.snapshot_version, at_most=target)

    def _not_found(self, id: str | int, stream_id: str) -> AggregateNotFoundError:
        cls = self.aggregate_class
        return AggregateNotFoundError(
            f"No {cls.__name__} with id {str(id)!r}: the stream {stream_id!r} has no events. "
            f"Create it with a command (e.g. {cls.__name__}.{_factory_hint(cls)}) and save it first."
        )

    def _history_as_of(self, stream_id: str, as_of: datetime) -> list[RecordedEvent]:
        if not isinstance(as_of, datetime) or as_of.tzinfo is None or as_of.utcoffset() is None:
            raise ValueError(
                f"as_of must be a timezone-aware datetime, e.g. datetime(2024, 1, 15, tzinfo=timezone.utc); got {as_of!r}"
            )
        events = self.store.read(stream_id)
        count = 0
        while count < len(events) and events[count].recorded_at <= as_of:
            count += 1
        if count == 0:
            when = f"its first event was recorded at {events[0].recorded_at.isoformat()}" if events else "it has no events"
            raise AggregateNotFoundError(f"{stream_id} did not exist yet at {as_of.isoformat()}: {when}.")
        return events[:count]

    # -- saving ----------------------------------------------------------------------------
    def save(self, aggregate: A, *, metadata: dict[str, Any] | None = None) -> AppendResult:
        """Append the aggregate's pending events, expecting the stream at ``aggregate.version``.

        Returns the store's ``AppendResult``; its ``position`` is what a
        read-your-writes query waits for. ``metadata`` (e.g. ``{"user": "ada"}``)
        is stored with every event of this save.

        Every event also carries ``correlation_id`` and ``causation_id``, taken
        from the message context (:mod:`esdemo.write.context`). Outside any
        context the save starts its own conversation: both are the id of its
        first event. Keys given in ``metadata`` win over the context's. In a
        context with a ``command_id`` the event ids are derived from it
        (deterministic: a redelivered command produces the same events).
        """
        if not isinstance(aggregate, self.aggregate_class):
            raise TypeError(f"this repository saves {self.aggregate_class.__name__}, got {type(aggregate).__name__}")
        if metadata is not None and not isinstance(metadata, dict):
            raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
        encode, next_id, context = self.registry.encode, self._id_factory, current_context()
        ids = []
        for _ in aggregate.pending_events:
            derived = context.next_event_id() if context is not None else None
            ids.append(derived if derived is not None else next_id() if next_id else uuid.uuid4())
        if context is not None:
            stamp = context.metadata()
        elif ids:
            stamp = {CORRELATION_ID: str(ids[0]), CAUSATION_ID: str(ids[0])}
        else:
            stamp = {}
        stamp = {**stamp, **(metadata or {})}
        new = [encode(event, event_id=event_id, metadata=dict(stamp))
               for event, event_id in zip(aggregate.pending_events, ids)]
        before = aggregate.version
        # A new aggregate expects no stream: "account 123 already exists" is a conflict too.
        result = self.store.append(aggregate.stream_id, new, expected_version=before or NO_STREAM)
        aggregate.mark_saved(result.version)
        every = self.snapshot_every
        if every and new and result.version // every > before // every:
            try:
                self.take_snapshot(aggregate)
            except Exception as exc:  # the events are saved; a missing snapshot only costs replay time
                warnings.warn(f"{aggregate.stream_id} was saved at version {result.version}, but its snapshot "
                              f"failed: {exc!r}. Loads stay correct (full replay).", RuntimeWarning, stacklevel=2)
        return result

    def take_snapshot(self, aggregate: A) -> Snapshot:
        """Store a snapshot of ``aggregate`` at its version (it must have no unsaved events)."""
        if aggregate.pending_events:
            raise ValueError(f"{aggregate.stream_id} has unsaved events; save it before taking a snapshot")
        if aggregate.version < 1:
            raise ValueError(f"{aggregate.stream_id} has no stored events yet; there is nothing to snapshot")
        return self.snapshots.save(aggregate.stream_id, aggregate.version,
                                   type(aggregate).snapshot_version, aggregate.snapshot_state())

    def __repr__(self) -> str:
        return f"Repository({self.store!r}, {self.aggregate_class.__name__}, snapshot_every={self.snapshot_every})"


def _check_at_version(at_version: object) -> None:
    if at_version is not None and (isinstance(at_version, bool) or not isinstance(at_version, int) or at_version < 1):
        raise ValueError(f"at_version must be an int >= 1 (the first event is version 1), got {at_version!r}")


def _beyond_the_end(stream_id: str, current: int, target: int) -> ValueError:
    return ValueError(f"{stream_id} has only {current} events, so there is no version {target} yet; "
                      f"at_version must be between 1 and the stream's version.")


def _factory_hint(cls: type) -> str:
    for name in ("open", "create"):
        if isinstance(inspect.getattr_static(cls, name, None), classmethod):  # inherited ones count too
            return f"{name}(...)"
    return "<command>(...)"
