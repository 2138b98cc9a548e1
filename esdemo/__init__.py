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
  :class:`SnapshotStore`, :class:`Snapshot`, and their errors;
* the read side: :class:`Projection`, :class:`ProjectionRunner` (checkpoints, :class:`Lag`,
  ``wait_for``), :class:`RunnerGroup`, the view storages :class:`SqlTable`, :class:`Documents`
  and :class:`DataFrameTable`, blue/green :func:`rebuild` and :func:`rebuild_set_based`, and
  the deterministic simulations :func:`simulate_lag` and :func:`simulate_gaps`.
"""

from .clock import FakeClock, utc_now
from .errors import (
    ConflictError,
    DuplicateEventError,
    EventStoreError,
    SerializationError,
    StoreClosedError,
    StoreLockedError,
)
from .events import ANY, NO_STREAM, STREAM_EXISTS, AppendResult, ExpectedVersion, NewEvent, RecordedEvent
from .ids import seeded_ids
from .store import EventStore
from .subscription import Subscription
from .aggregate import Aggregate, DomainError
from .domain import DomainEvent, EventDecodeError, EventRegistry, UnknownEventTypeError, default_registry, domain_event
from .repository import AggregateNotFoundError, LoadPlan, Repository
from .snapshots import Snapshot, SnapshotStore
from .upcasting import Upcasters, UpcastError, copy_and_transform
from .projection import Batch, Projection, ProjectionConflictError, ProjectionError, ProjectionTimeoutError, ViewStorage
from .lag import AsOf, Lag
from .projection_runner import ProjectionRunner
from .runner_group import RunnerGroup
from .sql_values import ColumnValues
from .view_rows import ViewRows
from .sql_views import SqlTable
from .memory_views import DataFrameTable, Documents
from .rebuild import RebuildReport, rebuild, rebuild_set_based
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
    "StoreClosedError",
    "StoreLockedError",
    "Subscription",
    "seeded_ids",
    "utc_now",
]
