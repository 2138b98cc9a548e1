"""esdemo: CQRS and Event Sourcing, small enough to read, real enough to trust.

The public names of the core, by part (the examples live in ``esdemo.examples``,
the notebooks' helpers in ``esdemo.widgets``, ``esdemo.plots``, ``esdemo.tables``,
``esdemo.exercises`` and ``esdemo.data``):

* the event store: :class:`EventStore`, :class:`NewEvent`, :class:`RecordedEvent`,
  :class:`AppendResult`, the expected versions ``ANY``, ``NO_STREAM`` and
  ``STREAM_EXISTS``, :class:`Subscription`, and the errors (:class:`ConflictError`,
  :class:`DuplicateEventError`, :class:`SerializationError`, :class:`StoreLockedError`,
  :class:`StoreUnavailableError` (a server store out of reach), ...);
* reproducible runs: :class:`FakeClock`, :func:`seeded_ids`;
* the write side: :class:`DomainEvent`, :func:`domain_event`, :class:`EventRegistry`,
  ``default_registry``, :class:`Upcasters`, :func:`copy_and_transform`, :class:`Aggregate`,
  :class:`DomainError`, :class:`Repository` (and its :class:`LoadPlan`),
  :class:`SnapshotStore`, :class:`Snapshot`, and their errors; erasure by crypto-shredding:
  :func:`personal_data`, :class:`KeyStore`, :func:`encrypting_registry`, :func:`forget_subject`,
  ``ERASED`` and :func:`is_erased`; the functional style: :class:`Decider` (decide, evolve,
  initial state) and :class:`DeciderRepository`;
* testing: :func:`given` (given / when / then for aggregates and deciders,
  ``then_view`` for projections), :class:`SpecFailed` and :class:`SpecError`;
* the read side: :class:`Projection`, :class:`ProjectionRunner` (checkpoints, :class:`Lag`,
  ``wait_for``), :class:`ProjectionWorker` (one owner per projection across processes, PostgreSQL),
  :class:`RunnerGroup`, the view storages :class:`SqlTable`, :class:`Documents`
  and :class:`DataFrameTable`, blue/green :func:`rebuild` and :func:`rebuild_set_based`, and
  the deterministic simulations :func:`simulate_lag` and :func:`simulate_gaps`;
* time travel over the whole log: :class:`TimeTravel` (every view and aggregate as of any
  position, the diff against the position before, what-if forks) and :func:`events_upto` (SQL).
* conversations: every saved event carries ``correlation_id`` and ``causation_id``
  (:func:`handling_command`, :func:`reacting_to`), read back by :func:`read_conversation`
  and laid out by :func:`swimlane`;
* the process layer: :class:`CommandBus` (each command id once in effect), :class:`ProcessManager`
  (orchestration with deadlines), :class:`Reactor` (choreography), :class:`OutboxRelay`,
  :class:`MessageBus` and :class:`Inbox` (integration events, at least once, duplicates dropped).
"""

# Each layer lists its public names once, in its own ``__all__``; the package re-exports them all.
from . import process, read, store, write
from .gaps import ConcurrentWrite, GapSimulation, concurrent_writes, simulate_gaps
from .process import *  # noqa: F403
from .read import *  # noqa: F403
from .simulation import LagSimulation, arrival_times, simulate_lag
from .store import *  # noqa: F403
from .testing import given
from .write import *  # noqa: F403

__all__ = [
    *store.__all__,  # the event store
    *write.__all__,  # the write side (aggregates)
    *read.__all__,  # the read side (projections, views, rebuilds, time travel)
    *process.__all__,  # the process layer (command bus, process managers, reactions, outbox)
    "given",  # testing: given / when / then
    # simulations of lag and of position gaps
    "ConcurrentWrite",
    "GapSimulation",
    "LagSimulation",
    "arrival_times",
    "concurrent_writes",
    "simulate_gaps",
    "simulate_lag",
]
