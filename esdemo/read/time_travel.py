"""Time travel over the whole log: every view and every aggregate as they were at any global position.

Views are deterministic functions of the log, and so are aggregates: the
state of the whole system at position ``P`` is a replay of events ``1..P``.
:class:`TimeTravel` does that replay into **in-memory copies** (the real
views and their checkpoints are never touched), with the projections' own
handlers and the aggregates' own ``apply``::

    debugger = TimeTravel(store, projections=[OrderSummary(), OrderAnalytics()], aggregates=[Order],
                          decoder=default_registry, checkpoint_every=500)
    moment = debugger.at(13242)
    moment.event                          # the RecordedEvent at 13242, metadata included
    moment.aggregate(Order, "12345")      # {"status": "created", "total": ..., "version": 2}
    moment.view("order_summary")          # {order_id: row}, as the view was right after 13242
    moment.changes                        # what 13242 changed: aggregate fields, view rows (vs 13241)
    debugger.last_change("order_summary", "12345", 13282)    # the last event that changed that row
    debugger.next_in_stream(13242)        # 13243, the next event of Order-12345
    debugger.cause_of(13243)              # the event named by metadata["causation_id"], if any

**Fast scrubbing.** Every ``checkpoint_every`` positions the debugger keeps
a checkpoint of the state (a version history of each row and aggregate, so
a checkpoint costs only what changed since the previous one). Going to
``P`` replays at most ``checkpoint_every`` events from the checkpoint below
it; stepping forward replays one. Checkpoints are a cache of the code that
built them: when a handler, an aggregate's ``apply``, an event class or an
upcaster changes (:func:`code_fingerprint`), they are thrown away.

**What if?** :meth:`TimeTravel.what_if` copies events ``1..P`` into a new
in-memory store, runs a different command there, and returns the
alternative future next to the real one. **SQL:** :func:`events_upto` and
:func:`install_events_upto` give "the log as of ``P``" to SQL.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..store.clock import FakeClock
from ..store.events import RecordedEvent
from .projection import Projection, ProjectionError
from .view_rows import ViewRows

if TYPE_CHECKING:
    import pandas as pd

    from ..store.event_store import EventStore


class TimeTravelError(ProjectionError):
    """The debugger could not go there: a position outside the log, an unknown view, or a handler that failed."""


# -- what a step shows ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowChange:
    """One row of one view that an event changed: ``before`` and ``after`` (``None``: no row)."""

    view: str
    key: Any
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def kind(self) -> str:
        """``"inserted"``, ``"deleted"`` or ``"updated"``."""
        return "inserted" if self.before is None else "deleted" if self.after is None else "updated"

    @property
    def columns(self) -> list[str]:
        """The columns whose value changed (every column of an inserted or deleted row)."""
        before, after = self.before or {}, self.after or {}
        return [name for name in dict.fromkeys([*before, *after]) if before.get(name) != after.get(name)]

    def __str__(self) -> str:
        if self.kind != "updated":
            return f"{self.view}[{self.key!r}] {self.kind}"
        parts = [f"{name} {_short(self.before.get(name))} → {_short(self.after.get(name))}"  # type: ignore[union-attr]
                 for name in self.columns]
        return f"{self.view}[{self.key!r}] " + ", ".join(parts)


@dataclass(frozen=True)
class FieldChange:
    """One field of one aggregate that an event changed."""

    stream_id: str
    field: str
    before: Any
    after: Any

    def __str__(self) -> str:
        return f"{self.stream_id}.{self.field} {_short(self.before)} → {_short(self.after)}"


@dataclass(frozen=True)
class Changes:
    """What the event at a position changed, against the position before it."""

    fields: tuple[FieldChange, ...] = ()
    rows: tuple[RowChange, ...] = ()

    def in_view(self, view: str) -> list[RowChange]:
        """The changed rows of one view."""
        return [change for change in self.rows if change.view == view]

    def keys(self, view: str) -> set[Any]:
        """The keys of the changed rows of one view (for highlighting)."""
        return {change.key for change in self.rows if change.view == view}

    def __bool__(self) -> bool:
        return bool(self.fields or self.rows)

    def describe(self) -> str:
        """One line per change; ``"nothing changed"`` if the event touched no view and no aggregate."""
        lines = [str(change) for change in (*self.fields, *self.rows)]
        return "\n".join(lines) if lines else "nothing changed"


class Moment:
    """The system right after the event at ``position`` (0: before the first event). Read-only.

    ``event`` is that event (``None`` at 0), ``changes`` what it changed,
    ``lag`` how far each live view was behind it when the moment was
    taken (``None`` where the live view's checkpoint cannot be read).
    """

    def __init__(self, debugger: TimeTravel, position: int, head: int, event: RecordedEvent | None,
                 changes: Changes, base: _Frozen, rows: dict[str, dict[Any, Any]], aggregates: dict[str, Any],
                 lag: dict[str, int | None]):
        self._debugger, self._base, self._rows, self._aggregates = debugger, base, rows, aggregates
        self.position, self.head, self.event, self.changes, self.lag = position, head, event, changes, lag

    # -- views --------------------------------------------------------------------------------------
    @property
    def view_names(self) -> list[str]:
        """The views this debugger replays, in the order the projections were given."""
        return list(self._rows)

    def row(self, view: str, key: Any) -> dict[str, Any] | None:
        """One row of one view at this moment (a copy), or ``None``."""
        overlay = self._overlay(view)
        row = overlay[key] if key in overlay else self._base.row(view, key)
        return None if row is None else dict(row)

    def view(self, view: str) -> dict[Any, dict[str, Any]]:
        """Every row of one view at this moment, ``{key: row}`` sorted by key."""
        overlay = self._overlay(view)
        keys = set(self._base.keys(view)) | set(overlay)
        rows = {}
        for key in _sorted(keys):
            row = overlay[key] if key in overlay else self._base.row(view, key)
            if row is not None:
                rows[key] = dict(row)
        return rows

    # -- aggregates ---------------------------------------------------------------------------------
    def aggregate(self, aggregate_class: type, id: str | int) -> dict[str, Any] | None:
        """The state of one aggregate at this moment (its public fields and ``version``), or ``None``."""
        stream_id = self._debugger._stream_of(aggregate_class, id)
        return _state(self._aggregate(stream_id))

    def aggregates(self, aggregate_class: type) -> dict[str, dict[str, Any]]:
        """Every aggregate of a class at this moment: ``{id: state}``, sorted by id."""
        prefix = self._debugger._prefix_of(aggregate_class) + "-"
        ids = {sid for sid in (*self._base.streams(), *self._aggregates) if sid.startswith(prefix)}
        states = {}
        for stream_id in sorted(ids):
            state = _state(self._aggregate(stream_id))
            if state is not None:
                states[stream_id[len(prefix):]] = state
        return states

    def aggregate_of_event(self, aggregate_class: type) -> dict[str, Any] | None:
        """The state right after the event of the aggregate the event belongs to (``None``: another class's stream)."""
        if self.event is None or self._debugger._class_of_stream(self.event.stream_id) is not aggregate_class:
            return None
        return _state(self._aggregate(self.event.stream_id))

    def _aggregate(self, stream_id: str) -> Any:
        if stream_id in self._aggregates:
            return self._aggregates[stream_id]
        return self._base.aggregate(stream_id)

    def _overlay(self, view: str) -> dict[Any, Any]:
        if view not in self._rows:
            raise TimeTravelError(f"no view named {view!r} in this debugger; its views are {list(self._rows)}")
        return self._rows[view]

    def describe(self) -> str:
        """The moment in a few lines: where, which event, what it changed."""
        if self.event is None:
            return f"position 0 of {self.head}: before the first event"
        e = self.event
        return (f"position {self.position} of {self.head} · {e.type} V{e.schema_version} on {e.stream_id} "
                f"(version {e.version}) · {e.recorded_at:%Y-%m-%d %H:%M:%S}\n{self.changes.describe()}")

    def __repr__(self) -> str:
        return f"<Moment position {self.position} of {self.head}>"


# -- the replay machinery ---------------------------------------------------------------------------

class _Frozen:
    """The state at one checkpoint: each row's and aggregate's version history, read at checkpoint ``index``."""

    def __init__(self, history: _History, index: int):
        self.history, self.index = history, index

    def row(self, view: str, key: Any) -> dict[str, Any] | None:
        return _at(self.history.rows[view].get(key), self.index)

    def keys(self, view: str) -> Iterable[Any]:
        return self.history.rows[view].keys()

    def aggregate(self, stream_id: str) -> Any:
        return _at(self.history.aggregates.get(stream_id), self.index)

    def streams(self) -> Iterable[str]:
        return self.history.aggregates.keys()


class _History:
    """Checkpoints as version histories: for each row key (and stream), ``([checkpoint index], [value])``.

    Checkpoint ``i`` is the state at position ``i * every``. Building checkpoint
    ``i + 1`` appends only what changed since checkpoint ``i``, so memory grows
    with the changes, not with (checkpoints x rows).
    """

    def __init__(self, views: Iterable[str], every: int):
        self.every = every
        self.rows: dict[str, dict[Any, tuple[list[int], list[Any]]]] = {name: {} for name in views}
        self.aggregates: dict[str, tuple[list[int], list[Any]]] = {}
        self.count = 1  # checkpoint 0: the empty state

    @property
    def last_position(self) -> int:
        return (self.count - 1) * self.every

    def add(self, cursor: _Cursor) -> None:
        index = self.count
        for name, overlay in cursor.rows.items():
            versions = self.rows[name]
            for key, row in overlay.items():
                versions.setdefault(key, ([], []))
                versions[key][0].append(index)
                versions[key][1].append(row)
        for stream_id, aggregate in cursor.aggregates.items():
            entry = self.aggregates.setdefault(stream_id, ([], []))
            entry[0].append(index)
            entry[1].append(aggregate)
        cursor.owned.clear()
        self.count += 1


def _at(versions: tuple[list[int], list[Any]] | None, index: int) -> Any:
    if versions is None:
        return None
    i = bisect.bisect_right(versions[0], index)
    return versions[1][i - 1] if i else None


class _Cursor:
    """A working state: a checkpoint plus what the events since it changed (copy-on-write for aggregates)."""

    def __init__(self, debugger: TimeTravel, base: _Frozen, position: int):
        self.debugger, self.base, self.position = debugger, base, position
        self.rows: dict[str, dict[Any, Any]] = {p.name: {} for p in debugger.projections}
        self.aggregates: dict[str, Any] = {}
        self.owned: set[str] = set()   # aggregates this cursor may change in place (nobody else holds them)

    def row(self, view: str, key: Any) -> Any:
        overlay = self.rows[view]
        return overlay[key] if key in overlay else self.base.row(view, key)

    def aggregate(self, stream_id: str) -> Any:
        return self.aggregates[stream_id] if stream_id in self.aggregates else self.base.aggregate(stream_id)

    def apply(self, recorded: RecordedEvent, track: bool = False) -> Changes | None:
        debugger = self.debugger
        fields: list[FieldChange] = []
        rows: list[RowChange] = []
        try:
            aggregate_class = debugger._class_of_stream(recorded.stream_id)
            if aggregate_class is not None:
                fields = self._apply_to_aggregate(aggregate_class, recorded, track)
            for projection, key, columns, copy_row in debugger._views:
                if projection.wants(recorded.type):
                    rows += self._apply_to_view(projection, key, columns, copy_row, recorded, track)
        except Exception as exc:
            raise TimeTravelError(
                f"replaying the event at position {recorded.position} ({recorded.type}, stream {recorded.stream_id!r}) "
                f"failed: {exc!r}. The same event would stop the real projection or load: fix the handler, the "
                "aggregate's apply or the upcaster, and scrub again.") from exc
        self.position = recorded.position
        return Changes(tuple(fields), tuple(rows)) if track else None

    def _apply_to_aggregate(self, cls: type, recorded: RecordedEvent, track: bool) -> list[FieldChange]:
        stream_id = recorded.stream_id
        current = self.aggregate(stream_id)
        if stream_id in self.owned:
            aggregate = current
        else:
            aggregate = _clone(current) if current is not None else cls(stream_id[len(self.debugger._prefix_of(cls)) + 1:])
            self.aggregates[stream_id] = aggregate
            self.owned.add(stream_id)
        before = _state(aggregate) if track and current is not None else {}
        aggregate.apply(self.debugger._decode(recorded))
        aggregate.version = recorded.version
        if not track:
            return []
        after = _state(aggregate)
        return [FieldChange(stream_id, name, before.get(name), after.get(name))
                for name in dict.fromkeys([*before, *after]) if before.get(name) != after.get(name)]

    def _apply_to_view(self, projection: Projection, key: Any, columns: Any, copy_row: Callable,
                       recorded: RecordedEvent, track: bool) -> list[RowChange]:
        name = projection.name
        view = ViewRows(name, key, columns, load=lambda k: self.row(name, k), copy_row=copy_row)
        projection.handle(projection.decode(recorded), recorded, view)
        written, removed = view.changes()
        overlay, changes = self.rows[name], []
        for row in written:
            row_key = view.key_of(row)
            if track:
                before = self.row(name, row_key)
                if before != row:
                    changes.append(RowChange(name, row_key, _copy(before), dict(row)))
            overlay[row_key] = row
        for row_key in removed:
            if track:
                before = self.row(name, row_key)
                if before is not None:
                    changes.append(RowChange(name, row_key, dict(before), None))
            overlay[row_key] = None
        return changes


# -- the debugger -------------------------------------------------------------------------------------

class TimeTravel:
    """Scrub the whole system through the log of ``store``; see the module docstring.

    * ``projections``: :class:`~esdemo.read.projection.Projection` objects whose
      handlers are replayed into in-memory copies of their views (their
      storage must say its ``key``: SqlTable, Documents and DataFrameTable do);
    * ``aggregates``: aggregate classes (``Order``...); every stream
      ``<prefix>-<id>`` of each is replayed with the class's own ``apply``;
    * ``decoder``: turns a stored event into the domain event aggregates
      ``apply`` (a registry such as ``default_registry``, or a function);
      projections decode with their own registry;
    * ``checkpoint_every``: positions between two cached checkpoints (``K``);
    * ``lag``: compare each position with the live views' checkpoints (``Moment.lag``).
    """

    def __init__(self, store: EventStore, *, projections: Sequence[Projection] = (), aggregates: Sequence[type] = (),
                 decoder: Any = None, checkpoint_every: int = 1000, lag: bool = True):
        from ..store.event_store import EventStore

        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        projections, aggregates = list(projections), list(aggregates)
        if not projections and not aggregates:
            raise TimeTravelError("give the debugger something to show: projections=[...] and/or aggregates=[...]")
        if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be an int >= 1, got {checkpoint_every!r}")
        self.store, self.projections, self.aggregate_classes = store, projections, aggregates
        self.checkpoint_every, self.show_lag = checkpoint_every, lag
        self._views = [self._view_shape(p) for p in projections]
        names = [p.name for p in projections]
        if len(set(names)) != len(names):
            raise TimeTravelError(f"two projections share a view name in {names}; give each view its own name")
        self._prefixes: dict[type, str] = {}
        for cls in aggregates:
            if not isinstance(cls, type) or not all(hasattr(cls, a) for a in ("apply", "snapshot_state", "restore_state")):
                raise TypeError(f"aggregates must be Aggregate classes such as Order, got {cls!r}")
            prefix = cls.stream_prefix or cls.__name__
            if prefix in self._prefixes.values():
                raise TimeTravelError(f"two aggregate classes use the stream prefix {prefix!r}")
            self._prefixes[cls] = prefix
        if aggregates and decoder is None:
            raise TypeError("aggregates need decoder=... to turn stored events into domain events: pass the registry "
                            "their events are registered in, e.g. decoder=default_registry")
        self.decoder = decoder
        self._decode: Callable[[RecordedEvent], Any] = (
            decoder.decode if hasattr(decoder, "decode") else decoder if decoder is not None else (lambda e: e))
        if not callable(self._decode):
            raise TypeError(f"decoder must be a registry or a function RecordedEvent -> event, got {decoder!r}")
        self._fingerprint = self.fingerprint()
        self._reset()

    # -- checkpoints and their invalidation -------------------------------------------------------
    def fingerprint(self) -> str:
        """A hash of the code the state depends on: handlers, ``apply``, event classes, upcasters."""
        return code_fingerprint(*self.projections, *self.aggregate_classes, self.decoder)

    @property
    def checkpoints(self) -> list[int]:
        """The positions of the checkpoints built so far (0, K, 2K, ...)."""
        return [i * self.checkpoint_every for i in range(self._history.count)]

    def invalidate(self) -> None:
        """Throw the checkpoints away (done by itself when the code's fingerprint changes)."""
        self._reset()

    def _reset(self) -> None:
        self._history = _History([p.name for p in self.projections], self.checkpoint_every)
        self._cursor: _Cursor | None = None
        self.invalidations = getattr(self, "invalidations", -1) + 1

    def _check_code(self) -> None:
        now = self.fingerprint()
        if now != self._fingerprint:
            self._fingerprint = now
            self._reset()

    def _extend_checkpoints(self, position: int) -> None:
        history, every = self._history, self.checkpoint_every
        while history.last_position + every <= position:
            start = history.last_position
            cursor = _Cursor(self, _Frozen(history, history.count - 1), start)
            for event in self.store.read_all(start + 1, limit=every):
                cursor.apply(event)
            history.add(cursor)

    def _cursor_at(self, position: int) -> _Cursor:
        """A working state right after ``position`` (checkpoint below it + replay, or the last cursor moved on)."""
        self._extend_checkpoints(position)
        index = position // self.checkpoint_every
        below = index * self.checkpoint_every
        cursor = self._cursor
        if (cursor is None or not below <= cursor.position <= position or cursor.base.history is not self._history
                or cursor.base.index != index):     # crossed a checkpoint: start again from it, keep overlays small
            cursor = _Cursor(self, _Frozen(self._history, index), below)
        if cursor.position < position:
            for event in self.store.read_all(cursor.position + 1, limit=position - cursor.position):
                cursor.apply(event)
        return cursor

    # -- where am I -----------------------------------------------------------------------------------
    def head(self) -> int:
        """The log's head: the last position the slider can reach."""
        return self.store.head()

    def at(self, position: int) -> Moment:
        """The system right after the event at ``position``: event, views, aggregates, changes against ``position - 1``."""
        self._check_code()
        head = self.store.head()
        _check_position(position, head)
        lag = self._lag(position)
        if position == 0:
            return Moment(self, 0, head, None, Changes(), _Frozen(self._history, 0),
                          {p.name: {} for p in self.projections}, {}, lag)
        cursor = self._cursor_at(position - 1)
        event = self.store.read_all(position, limit=1)[0]
        changes = cursor.apply(event, track=True)
        assert changes is not None
        self._cursor = cursor
        cursor.owned.clear()  # the moment keeps these aggregates as they are: the next change copies them first
        return Moment(self, position, head, event, changes, cursor.base,
                      {name: dict(overlay) for name, overlay in cursor.rows.items()}, dict(cursor.aggregates), lag)

    def _lag(self, position: int) -> dict[str, int | None]:
        lag: dict[str, int | None] = {}
        if not self.show_lag:
            return lag
        for projection in self.projections:
            try:
                checkpoint = projection.storage.position()
            except Exception:   # a storage never attached to a store has no checkpoint to compare with
                lag[projection.name] = None
            else:
                lag[projection.name] = max(0, position - checkpoint)
        return lag

    # -- jumps ---------------------------------------------------------------------------------------
    def event(self, position: int) -> RecordedEvent:
        """The event at ``position`` (1..head)."""
        _check_position(position, self.store.head(), minimum=1)
        return self.store.read_all(position, limit=1)[0]

    def next_in_stream(self, position: int, stream_id: str | None = None) -> int | None:
        """The position of the next event of ``stream_id`` after ``position`` (default: the stream of the event there)."""
        return self._neighbour(position, stream_id, +1)

    def previous_in_stream(self, position: int, stream_id: str | None = None) -> int | None:
        """The position of the previous event of the stream before ``position``, or ``None``."""
        return self._neighbour(position, stream_id, -1)

    def _neighbour(self, position: int, stream_id: str | None, step: int) -> int | None:
        head = self.store.head()
        _check_position(position, head)
        here = self.event(position) if position else None
        if stream_id is None:
            if here is None:
                raise TimeTravelError("position 0 has no event, so no stream: pass stream_id=...")
            stream_id = here.stream_id
        if here is not None and here.stream_id == stream_id:      # the stream's versions say where its neighbours are
            version = here.version + step
            found = self.store.read(stream_id, version, to_version=version) if version >= 1 else []
            return found[0].position if found else None
        positions = [e.position for e in self.store.read(stream_id)]
        if step > 0:
            i = bisect.bisect_right(positions, position)
            return positions[i] if i < len(positions) else None
        i = bisect.bisect_left(positions, position)
        return positions[i - 1] if i else None

    def cause_of(self, position: int) -> int | None:
        """The position of the event that caused the one at ``position`` (its ``metadata["causation_id"]``).

        ``None`` when the event names no cause, or when its cause is not in
        this log. The causation id may be an event id or a position.
        """
        event = self.event(position)
        cause = (event.metadata or {}).get("causation_id")
        if cause is None or isinstance(cause, bool):
            return None
        if isinstance(cause, int):
            return cause if 1 <= cause <= self.store.head() else None
        if str(cause) == str(event.event_id):
            return None  # an event that names itself started its conversation: a command from outside caused it
        try:
            found = self.store.find_event(str(cause))
        except ValueError:  # not an event id at all (e.g. a command's name): nothing in this log caused it
            return None
        return found.position if found is not None else None

    def last_change(self, view: str, key: Any, position: int) -> int | None:
        """The last position at or before ``position`` whose event changed row ``key`` of ``view``; ``None`` if none did.

        Searches backwards one checkpoint interval at a time. The checkpoints
        record every row a handler wrote in each interval, so an interval in
        which the row was never written is skipped without replaying it; the
        others are replayed from their checkpoint, watching the row.
        """
        self._check_code()
        _check_position(position, self.store.head())
        if view not in {p.name for p in self.projections}:
            raise TimeTravelError(f"no view named {view!r} in this debugger; its views are "
                                  f"{[p.name for p in self.projections]}")
        self._extend_checkpoints(position)
        every, high = self.checkpoint_every, position
        versions = self._history.rows[view].get(key)
        written = set(versions[0]) if versions else set()
        while high >= 1:
            low = ((high - 1) // every) * every
            interval = low // every + 1          # the checkpoint that closes (low, low + every]
            if high == low + every and interval < self._history.count and interval not in written:
                high = low                       # not written in this whole interval: it did not change there
                continue
            cursor = _Cursor(self, _Frozen(self._history, low // every), low)
            found = None
            for event in self.store.read_all(low + 1, limit=high - low):
                before = cursor.row(view, key)
                cursor.apply(event)
                if cursor.row(view, key) != before:
                    found = event.position
            if found is not None:
                return found
            high = low
        return None

    # -- what if -------------------------------------------------------------------------------------
    def what_if(self, position: int, command: Callable[[EventStore], Any], *,
                clock: Callable[[], Any] | None = None) -> Fork:
        """Run ``command(fork)`` on an in-memory copy of events ``1..position``; the real log is never touched.

        ``command`` gets the forked :class:`~esdemo.store.event_store.EventStore`
        (e.g. ``lambda fork: pay_again(Repository(fork, Order))``). The fork's
        clock starts one second after the event at ``position`` unless
        ``clock`` is given. Returns a :class:`Fork`.
        """
        from ..store.event_store import EventStore

        _check_position(position, self.store.head())
        if not callable(command):
            raise TypeError("command must be a function that takes the forked store, e.g. lambda fork: ...")
        prefix = self.store.read_all(1, limit=position) if position else []
        if clock is None:
            if not prefix:
                raise TimeTravelError("a fork at position 0 has no event to take the time from: pass clock=FakeClock(...)")
            clock = FakeClock(prefix[-1].recorded_at + timedelta(seconds=1), step=timedelta(seconds=1))
        fork = EventStore(backend=self.store.backend, clock=clock)
        try:
            fork.restore(prefix)
            result = command(fork)
        except BaseException:
            fork.close()
            raise
        alternative = fork.read_all(position + 1)
        real = self.store.read_all(position + 1, limit=max(len(alternative), 1)) if position < self.store.head() else []
        debugger = TimeTravel(fork, projections=self.projections, aggregates=self.aggregate_classes,
                              decoder=self.decoder, checkpoint_every=self.checkpoint_every, lag=False)
        return Fork(position, fork, debugger, self, real, alternative, result)

    # -- helpers ---------------------------------------------------------------------------------------
    def _class_of_stream(self, stream_id: str) -> type | None:
        for cls, prefix in self._prefixes.items():
            if stream_id.startswith(prefix) and stream_id[len(prefix):len(prefix) + 1] == "-":
                return cls
        return None

    def _prefix_of(self, cls: type) -> str:
        if cls not in self._prefixes:
            raise TimeTravelError(f"{getattr(cls, '__name__', cls)} is not one of this debugger's aggregates "
                                  f"{[c.__name__ for c in self._prefixes]}")
        return self._prefixes[cls]

    def _stream_of(self, cls: type, id: str | int) -> str:
        return f"{self._prefix_of(cls)}-{id}"

    @staticmethod
    def _view_shape(projection: Projection) -> tuple[Projection, Any, Any, Callable]:
        if not isinstance(projection, Projection):
            raise TypeError(f"projections must be Projection objects, got {type(projection).__name__}")
        storage = projection.storage
        key = getattr(storage, "key", None)
        if key is None:
            raise TimeTravelError(f"{projection.name!r} is kept in {type(storage).__name__}, which does not say its key; "
                                  "the debugger copies views keyed like SqlTable, Documents or DataFrameTable")
        columns = getattr(storage, "columns", None)
        return projection, key, (list(columns) if columns is not None else None), getattr(storage, "copy_row", dict)

    def __repr__(self) -> str:
        return (f"<TimeTravel over {self.store!r}: {len(self.projections)} views, {len(self.aggregate_classes)} "
                f"aggregate classes, checkpoints every {self.checkpoint_every}>")


@dataclass
class Fork:
    """A what-if: the log up to ``position``, then an alternative future, beside the real one.

    ``store`` is the in-memory fork, ``debugger`` a :class:`TimeTravel` over
    it (same projections and aggregates), ``real`` and ``alternative`` the
    events after ``position`` in each timeline (as many real ones as there
    are alternative ones), ``result`` what the command returned.
    """

    position: int
    store: EventStore
    debugger: TimeTravel
    source: TimeTravel
    real: list[RecordedEvent]
    alternative: list[RecordedEvent]
    result: Any = None

    @property
    def end(self) -> int:
        """The last position of the alternative timeline."""
        return self.position + len(self.alternative)

    def side_by_side(self) -> list[dict[str, Any]]:
        """One dict per position after the fork: what really happened there, and what happens in the fork."""
        rows = []
        for i in range(max(len(self.real), len(self.alternative))):
            real = self.real[i] if i < len(self.real) else None
            alt = self.alternative[i] if i < len(self.alternative) else None
            rows.append({"position": self.position + i + 1, "real": _event_text(real), "what if": _event_text(alt)})
        return rows

    def view_differences(self) -> list[RowChange]:
        """Rows that differ between the two timelines at :attr:`end`: ``before`` is real, ``after`` the fork."""
        real_end = min(self.end, self.source.head())
        real, alt = self.source.at(real_end), self.debugger.at(self.end)
        changes = []
        for name in real.view_names:
            mine, theirs = real.view(name), alt.view(name)
            for key in _sorted(set(mine) | set(theirs)):
                if mine.get(key) != theirs.get(key):
                    changes.append(RowChange(name, key, mine.get(key), theirs.get(key)))
        return changes

    def close(self) -> None:
        """Release the fork's in-memory store."""
        self.store.close()


# -- SQL over the log ---------------------------------------------------------------------------------

def events_upto(store: EventStore, position: int, sql: str = "SELECT * FROM log ORDER BY position") -> pd.DataFrame:
    """Run ``sql`` over the log as it was at ``position``: ``log`` stands for events ``1..position``.

    Works on both backends::

        events_upto(store, 13242, "SELECT type, count(*) AS n FROM log GROUP BY type ORDER BY type")
    """
    _check_position(position, store.head())
    if not re.search(r"\blog\b", sql):
        raise ValueError("the query must read FROM log (the events up to the position), e.g. 'SELECT * FROM log'")
    prefix = f"WITH log AS (SELECT * FROM events WHERE position <= {int(position)}) "
    return store.sql(prefix + sql)


def install_events_upto(store: EventStore) -> str:
    """Define the DuckDB table macro ``events_upto(p)`` in the store's database; returns its name.

    Then, in SQL: ``SELECT type, count(*) FROM events_upto(100) GROUP BY type``.
    SQLite has no table macros: use :func:`events_upto` there (it works on both).
    """
    if store.backend != "duckdb":
        raise TimeTravelError(f"events_upto(p) is a DuckDB table macro and this store is {store.backend}; "
                              "use esdemo.events_upto(store, p, 'SELECT ... FROM log') instead, which works on both")
    with store.transaction() as cur:
        cur.execute("CREATE OR REPLACE MACRO events_upto(p) AS TABLE SELECT * FROM events WHERE position <= p")
    return "events_upto"


# -- code fingerprints -------------------------------------------------------------------------------

class _CodeHasher:
    """Feeds the code behind things into one sha256 digest, each class and each registry once."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.seen: set[int] = set()

    def text(self, text: str) -> None:
        self.digest.update(text.encode("utf-8", "replace"))
        self.digest.update(b"\0")

    def code(self, obj: types.CodeType) -> None:
        """The bytecode, the names it uses and its constants (nested functions' code included)."""
        self.digest.update(obj.co_code)
        self.text(repr(obj.co_names))
        for const in obj.co_consts:
            if isinstance(const, types.CodeType):
                self.code(const)
            else:
                self.text(repr(const))

    def function(self, func: Any) -> None:
        """A plain function's qualified name and code (a bound or static/class method is unwrapped first)."""
        func = getattr(func, "__func__", func)
        if isinstance(func, types.FunctionType):
            self.text(func.__qualname__)
            self.code(func.__code__)

    def klass(self, cls: type) -> None:
        """Every class of the MRO (but object and abc's): its methods and its plain class attributes."""
        if id(cls) in self.seen:
            return
        self.seen.add(id(cls))
        for base in cls.__mro__:
            if base is object or base.__module__ == "abc":
                continue
            self.text(base.__qualname__)
            for name, value in sorted(vars(base).items()):
                if name.startswith("__") and name != "__init__":
                    continue
                self.attribute(name, value)

    def attribute(self, name: str, value: Any) -> None:
        """One class attribute: a method by its code, a plain value by its repr; anything else is left out."""
        if isinstance(value, (staticmethod, classmethod)) or isinstance(value, types.FunctionType):
            self.text(name)
            self.function(value)
        elif isinstance(value, (str, int, float, tuple, frozenset, bool)) or value is None:
            self.text(f"{name}={value!r}")
        elif isinstance(value, (set, list)):
            self.text(f"{name}={sorted(map(repr, value))!r}")

    def registry(self, reg: Any) -> None:
        """Each registered event type with its schema version and class, then each upcaster step."""
        if id(reg) in self.seen:
            return
        self.seen.add(id(reg))
        for name in getattr(reg, "types", []):
            cls = reg.class_for(name)
            self.text(f"{name}:{getattr(cls, 'schema_version', '?')}")
            self.klass(cls)
        steps = getattr(getattr(reg, "upcasters", None), "_steps", {})
        for (event_type, version), step in sorted(steps.items()):
            self.text(f"{event_type}:{version}")
            self.function(step)

    def thing(self, thing: Any) -> None:
        """A class, a registry, a projection (its class and registry), a function (and its registry), or a value."""
        if isinstance(thing, type):
            self.klass(thing)
        elif hasattr(thing, "upcasters") and hasattr(thing, "decode"):
            self.registry(thing)
        elif isinstance(thing, Projection):
            self.klass(type(thing))
            if thing.registry is not None:
                self.registry(thing.registry)
        elif callable(thing):
            owner = getattr(thing, "__self__", None)
            if owner is not None and hasattr(owner, "upcasters"):
                self.registry(owner)
            self.function(thing)
        else:
            self.text(repr(thing))


def code_fingerprint(*things: Any) -> str:
    """A short hash of the code behind ``things`` (projections, aggregate classes, registries, functions).

    It changes when a method's body, a class attribute, an event class or an
    upcaster changes; a cache built by the old code is then stale.
    """
    hasher = _CodeHasher()
    for thing in things:
        if thing is not None:
            hasher.thing(thing)
    return hasher.digest.hexdigest()[:16]


# -- small helpers ----------------------------------------------------------------------------------

def _check_position(position: object, head: int, minimum: int = 0) -> None:
    if isinstance(position, bool) or not isinstance(position, int) or not minimum <= position <= head:
        raise TimeTravelError(f"position must be a whole number from {minimum} to the log's head {head}, got {position!r}")


def _state(aggregate: Any) -> dict[str, Any] | None:
    if aggregate is None:
        return None
    return {**copy.deepcopy(aggregate.snapshot_state()), "version": aggregate.version}


def _clone(aggregate: Any) -> Any:
    twin = type(aggregate)(aggregate.id)
    twin.restore_state(copy.deepcopy(aggregate.snapshot_state()))
    twin.version = aggregate.version
    return twin


def _copy(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else dict(row)


def _sorted(keys: Iterable[Any]) -> list[Any]:
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _event_text(event: RecordedEvent | None) -> str:
    if event is None:
        return ""
    data = ", ".join(f"{k}={_short(v)}" for k, v in event.data.items())
    return f"{event.type} {event.stream_id} v{event.version} ({data})"
