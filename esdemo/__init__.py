"""esdemo: CQRS and Event Sourcing, small enough to read, real enough to trust.

The public names of the core, by part (the examples live in ``esdemo.examples``,
the notebooks' helpers in ``esdemo.widgets``, ``esdemo.plots``, ``esdemo.tables``,
``esdemo.exercises`` and ``esdemo.data``):

* the event store: :class:`EventStore`, :class:`NewEvent`, :class:`RecordedEvent`,
  :class:`AppendResult`, the expected versions ``ANY``, ``NO_STREAM`` and
  ``STREAM_EXISTS``, :class:`Subscription`, and the errors (:class:`ConflictError`,
  :class:`DuplicateEventError`, :class:`SerializationError`, :class:`StoreLockedError`, ...);
* reproducible runs: :class:`FakeClock`, :func:`seeded_ids`;
* the write side: :class:`DomainEvent`, :func:`domain_event`, :class:`EventRegistry`,
  ``default_registry``, :class:`Upcasters`, :func:`copy_and_transform`, :class:`Aggregate`,
  :class:`DomainError`, :class:`Repository` (and its :class:`LoadPlan`),
  :class:`SnapshotStore`, :class:`Snapshot`, and their errors; the functional style:
  :class:`Decider` (decide, evolve, initial state) and :class:`DeciderRepository`;
* testing: :func:`given` (given / when / then for aggregates and deciders,
  ``then_view`` for projections), :class:`SpecFailed` and :class:`SpecError`;
* the read side: :class:`Projection`, :class:`ProjectionRunner` (checkpoints, :class:`Lag`,
  ``wait_for``), :class:`RunnerGroup`, the view storages :class:`SqlTable`, :class:`Documents`
  and :class:`DataFrameTable`, blue/green :func:`rebuild` and :func:`rebuild_set_based`, and
  the deterministic simulations :func:`simulate_lag` and :func:`simulate_gaps`.
"""

from .store import (
    ANY,
    NO_STREAM,
    STREAM_EXISTS,
    AppendResult,
    ConflictError,
    DuplicateEventError,
    EventStore,
    EventStoreError,
    ExpectedVersion,
    FakeClock,
    NewEvent,
    RecordedEvent,
    SerializationError,
    SpecError,
    SpecFailed,
    StoreClosedError,
    StoreLockedError,
    Subscription,
    seeded_ids,
    utc_now,
)
from .write import (
    Aggregate,
    AggregateNotFoundError,
    DomainError,
    DomainEvent,
    EventDecodeError,
    EventRegistry,
    LoadPlan,
    Repository,
    Snapshot,
    SnapshotStore,
    UnknownEventTypeError,
    UpcastError,
    Upcasters,
    copy_and_transform,
    default_registry,
    domain_event,
)
from .read import (
    AsOf,
    Batch,
    ColumnValues,
    DataFrameTable,
    Documents,
    Lag,
    Projection,
    ProjectionConflictError,
    ProjectionError,
    ProjectionRunner,
    ProjectionTimeoutError,
    RebuildReport,
    RunnerGroup,
    SqlTable,
    ViewRows,
    ViewStorage,
    rebuild,
    rebuild_set_based,
)
from .write.decider import Decider, DeciderRepository
from .testing import given
from .simulation import LagSimulation, arrival_times, simulate_lag
from .gaps import ConcurrentWrite, GapSimulation, concurrent_writes, simulate_gaps

__all__ = [
    # the read side (projections, views, rebuilds, simulations)
    "AsOf",
    "Batch",
    "ColumnValues",
    "ConcurrentWrite",
    "DataFrameTable",
    "Documents",
    "GapSimulation",
    "Lag",
    "LagSimulation",
    "Projection",
    "ProjectionConflictError",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionTimeoutError",
    "RebuildReport",
    "RunnerGroup",
    "SqlTable",
    "ViewRows",
    "ViewStorage",
    "arrival_times",
    "concurrent_writes",
    "rebuild",
    "rebuild_set_based",
    "simulate_gaps",
    "simulate_lag",
    # the write side (aggregates)
    "Aggregate",
    "AggregateNotFoundError",
    "Decider",
    "DeciderRepository",
    "DomainError",
    "DomainEvent",
    "EventDecodeError",
    "EventRegistry",
    "LoadPlan",
    "Repository",
    "Snapshot",
    "SnapshotStore",
    "UnknownEventTypeError",
    "UpcastError",
    "Upcasters",
    "copy_and_transform",
    "default_registry",
    "domain_event",
    "given",
    # the event store
    "ANY",
    "NO_STREAM",
    "STREAM_EXISTS",
    "AppendResult",
    "ConflictError",
    "DuplicateEventError",
    "EventStore",
    "EventStoreError",
    "ExpectedVersion",
    "FakeClock",
    "NewEvent",
    "RecordedEvent",
    "SerializationError",
    "SpecError",
    "SpecFailed",
    "StoreClosedError",
    "StoreLockedError",
    "Subscription",
    "seeded_ids",
    "utc_now",
]
