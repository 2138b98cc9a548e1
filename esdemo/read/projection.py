"""Projections: event handlers that build read models, exactly once.

The seed's definition, in Python::

    class OrderSummary(Projection):
        name = "order_summary"
        event_types = {"OrderCreated", "ItemAdded", "OrderPaid"}

        def handle(self, event, recorded, view):
            match event:
                case OrderCreated():
                    view.insert({"order_id": event.order_id, "status": "created", "total": Decimal(0)})
                case ItemAdded():
                    view.update(event.order_id, total=view[event.order_id]["total"] + event.price)
                case OrderPaid():
                    view.update(event.order_id, status="paid", paid_at=recorded.recorded_at)

``event`` is the decoded domain event (the projection's :meth:`Projection.decode`,
by default the registry's, which runs the upcasters first), ``recorded`` is
the :class:`~esdemo.store.events.RecordedEvent` envelope (its ``position`` and
``recorded_at``, the seed's ``event.timestamp``), and ``view`` is the
:class:`~esdemo.read.view_rows.ViewRows` of the read model.

**Exactly once.** A projection keeps a *checkpoint*: the position of the last
event it applied. Events are applied in batches, and a batch's changes to
the view and its new checkpoint are committed together, in one step of the
view's storage (:class:`ViewStorage`): one database transaction for a
DuckDB table, one swap of ``(rows, checkpoint)`` for an in-memory view. So
after a crash, or an exception in a handler, the view and the checkpoint
are both where they were before the batch: the next run starts after the
checkpoint and applies each event once, none twice, none skipped.
:class:`~esdemo.read.projection_runner.ProjectionRunner` feeds a projection.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Container, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..store.events import RecordedEvent
from .view_rows import ViewRows

if TYPE_CHECKING:
    from ..store.event_store import EventStore


class ProjectionError(Exception):
    """A projection could not apply an event; nothing of the failed batch was kept."""


class ProjectionConflictError(ProjectionError):
    """Another writer changed the view or its checkpoint during the batch (a second runner,
    or a rebuild switching tables). Nothing of the batch was kept; running again is safe."""


class ProjectionTimeoutError(ProjectionError, TimeoutError):
    """``wait_for`` gave up: the view did not reach the position in time."""


class ProjectionHandlerError(ProjectionError):
    """One event broke the projection (its handler, its decoding): ``recorded`` is the event,
    ``__cause__`` the original exception. What happens next is the runner's
    :class:`~esdemo.read.failure_policy.FailurePolicy`."""

    def __init__(self, message: str, recorded: RecordedEvent):
        super().__init__(message)
        self.recorded = recorded


class TooManyParkedError(ProjectionError):
    """A view would park more events than its policy's ``max_parked``: it stopped instead."""


class ProjectionCommitError(ProjectionError):
    """The database refused to commit a batch for a reason other than a race (a constraint,
    a full disk, an I/O error...). Nothing of the batch was kept; running again will not help
    until the cause is fixed, so the runner does not retry it."""


class AppendInHandlerError(ProjectionError):
    """A projection handler tried to append to the event store it is projecting.

    A handler only builds its view: its batch may be run again (after a crash or
    a conflict), so an event it appended would be appended again, or kept for a
    batch that was thrown away. Deriving new events from events is the job of a
    *process manager* (or a subscription that appends with its own idempotent
    event ids), outside the projection.
    """


@dataclass
class Batch:
    """One unit of work on a view: the rows a handler writes to, and the checkpoint.

    ``position`` starts at the committed checkpoint; the runner moves it
    forward as it applies events, and the storage commits it with ``rows``.
    ``cursor`` is the open database transaction for SQL storages (``None``
    otherwise); set-based rebuilds write through it. ``parked`` and
    ``replayed`` are committed with it too (see :mod:`esdemo.read.failure_policy`).
    """

    rows: ViewRows
    position: int
    target: Any = None
    cursor: Any = None
    start: int = field(init=False)
    parked: list[Any] = field(default_factory=list)              # ParkedEvents to record with this commit
    replayed: dict[int, Any] = field(default_factory=dict)       # position -> when: parked events now applied

    def __post_init__(self) -> None:
        self.start = self.position


class ViewStorage(ABC):
    """Where a read model lives, and its checkpoint with it.

    Implementations: :class:`~esdemo.read.sql_views.SqlTable` (a table in the
    store's database, the default), :class:`~esdemo.read.memory_views.Documents`
    and :class:`~esdemo.read.memory_views.DataFrameTable` (in memory).

    A storage holds *generations* ("targets") of its view: the live one, and
    during a rebuild a new one being filled next to it. ``batch(target)``
    works on a given generation (default: the live one) and, with
    ``activate=True``, makes it the live one in the same commit.
    """

    @abstractmethod
    def attach(self, store: EventStore, name: str) -> None:
        """Bind to ``store`` under the view name ``name``; create the live generation if missing."""

    @abstractmethod
    def position(self, target: Any = None) -> int:
        """The committed checkpoint of ``target`` (default: the live generation); 0 before any event."""

    @abstractmethod
    def batch(self, target: Any = None, *, activate: bool = False) -> AbstractContextManager[Batch]:
        """A unit of work: commit the batch's rows and position together on success, nothing on error."""

    def staged_batch(self, target: Any = None, *, activate: bool = False) -> AbstractContextManager[Batch]:
        """Like :meth:`batch`, but the handlers run outside any database transaction.

        The rows are read and changed in memory while no lock is held; at the end
        one short transaction writes the changes and the checkpoint together, if
        the checkpoint did not move meanwhile (else :class:`ProjectionConflictError`,
        nothing kept). This is what the runner uses, so that a slow handler never
        blocks the writers of the log. The default is :meth:`batch` itself, which is
        right for storages that already work on a copy (the in-memory ones).
        """
        return self.batch(target, activate=activate)

    @abstractmethod
    def new_target(self) -> Any:
        """Create an empty generation next to the live one (checkpoint 0), invisible to readers."""

    @abstractmethod
    def drop_target(self, target: Any) -> None:
        """Throw away a generation that was never made live (a failed or abandoned rebuild)."""

    @property
    @abstractmethod
    def live_target(self) -> Any:
        """The generation readers see now."""

    @abstractmethod
    def rows(self) -> list[dict[str, Any]]:
        """Every row of the live view as a dict (a copy), in key order; values keep their types."""

    def parked(self, target: Any = None, *, include_replayed: bool = False) -> list[Any]:
        """The :class:`~esdemo.read.failure_policy.ParkedEvent` s of ``target`` (default: live), by position."""
        raise NotImplementedError(f"{type(self).__name__} cannot park events; use FailurePolicy.stop() or retry()")


class Projection(ABC):
    """An event handler that builds one read model; see the module docstring.

    Class attributes:

    * ``name``: the view's name (its table or view name, and its checkpoint's);
    * ``event_types``: the type names it handles. Other events are not even
      decoded, but the checkpoint still moves past them. ``None``: all types;
    * ``registry``: the :class:`~esdemo.write.domain.EventRegistry` that decodes
      events (``None``: handlers receive the ``RecordedEvent`` itself).

    Pass ``storage=`` to keep the same view somewhere else; by default
    :meth:`default_storage` decides.
    """

    name: ClassVar[str]
    event_types: ClassVar[Iterable[str] | None] = None
    registry: ClassVar[Any] = None

    def __init__(self, storage: ViewStorage | None = None):
        name = getattr(type(self), "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__} must set a class attribute name = '...' (the view's name)")
        if storage is not None and not isinstance(storage, ViewStorage):
            raise TypeError(f"storage must be a ViewStorage such as SqlTable(...) or Documents(...), got {storage!r}")
        self.storage = storage if storage is not None else self.default_storage()
        types = type(self).event_types
        if isinstance(types, str):  # ("OrderPaid") without its comma: a set of letters would match no event
            raise TypeError(f"{type(self).__name__}.event_types must be a collection of type names, e.g. "
                            f"({types!r},) with the comma; got the single string {types!r}")
        self._types = None if types is None else frozenset(types)

    def default_storage(self) -> ViewStorage:
        """The storage used when none is passed; subclasses say where their view lives."""
        raise TypeError(f"{type(self).__name__} has no default storage: pass storage=SqlTable(...) or Documents(...)")

    def wants(self, event_type: str) -> bool:
        """Does this projection handle events of this type?"""
        return self._types is None or event_type in self._types

    def decode(self, recorded: RecordedEvent) -> Any:
        """Turn the stored event into what ``handle`` matches on (via ``registry``, upcasting first)."""
        return recorded if self.registry is None else self.registry.decode(recorded)

    @abstractmethod
    def handle(self, event: Any, recorded: RecordedEvent, view: ViewRows) -> None:
        """Apply one event to the view. Raise to refuse it: the whole batch is then undone."""

    def key_of(self, event: Any, recorded: RecordedEvent) -> Any:
        """Optional: the key of the row ``handle`` will touch for this event (``None``: don't know).

        If a projection says, the runner loads all the rows a batch needs in
        one query before handling it, instead of one query per row: a large
        saving for a table in DuckDB, which is slow at single-row lookups.
        """
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} in {type(self.storage).__name__}>"


def apply_events(projection: Projection, batch: Batch, events: Sequence[RecordedEvent], decoder: Any = None,
                 skip: Container[int] = ()) -> int:
    """Apply ``events`` to ``batch`` in order, moving ``batch.position``; returns how many were processed.

    Events whose position is in ``skip`` (being parked) are passed over, not handled.
    Three steps: decode the events the projection wants, prefetch the rows
    they touch (see :meth:`Projection.key_of`), handle them one by one.
    A failure is re-raised as :class:`ProjectionError` naming the event, from
    inside the batch, so the storage throws the whole batch away.
    """
    decode = decoder or projection.decode
    current: RecordedEvent | None = None
    try:
        wanted = []
        for current in events:
            if current.position not in skip and projection.wants(current.type):
                wanted.append((decode(current), current))
        keys = []
        for event, current in wanted:
            keys.append(projection.key_of(event, current))
        current = None
        batch.rows.prefetch(keys)
        for event, current in wanted:
            projection.handle(event, current, batch.rows)
    except Exception as exc:
        if isinstance(exc, AppendInHandlerError):
            raise AppendInHandlerError(f"{projection.name}: {exc} (at position "
                                       f"{current.position if current else '?'}; nothing of this batch was kept, "
                                       f"the checkpoint stays at {batch.start})") from exc
        where = "" if current is None else (
            f" on the event at position {current.position} ({current.type}, stream {current.stream_id!r}, "
            f"version {current.version})")
        message = (f"{projection.name} failed{where}: {exc!r}. Nothing of this batch was kept; the checkpoint stays "
                   f"at {batch.start}. Fix the handler (or the upcaster) and run again: the event will be delivered "
                   "again.")
        if current is None:
            raise ProjectionError(message) from exc
        raise ProjectionHandlerError(message, current) from exc
    if events:
        batch.position = events[-1].position
    return len(events)
