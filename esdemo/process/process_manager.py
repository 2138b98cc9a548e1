"""Process managers: a long-running conversation across aggregates, run by one class.

A process manager (orchestration) listens to events of several aggregates,
remembers where each conversation is, and decides the next step by sending
commands::

    class Checkout(ProcessManager):
        name = "checkout"
        event_types = {"OrderPlaced", "StockReserved", "PaymentCharged", "PaymentDeclined", ...}

        def process_id(self, event):
            return event.order_id

        def handle(self, event, recorded, state):
            match event:
                case OrderPlaced():
                    state["status"] = "reserving"
                    self.send(ReserveStock(event.order_id, event.lines), step="reserve-stock")
                case StockReserved():
                    self.schedule("payment-timeout", after=timedelta(minutes=15))
                    ...

        def on_deadline(self, deadline, state):
            self.send(ExpirePayment(deadline.process_id), step="expire-payment")

**Where its state lives.** In a table next to its checkpoint (``process_state``,
``process_deadlines`` and ``process_checkpoints``), written in *one* database
transaction per event handled: state, deadlines and checkpoint move together
or not at all. (The alternative, event-sourcing the state in a stream of its
own, makes the state's history visible but leaves two writes, the stream and
the checkpoint, to keep in step; this course keeps the log for domain facts.)

**Exactly once in effect.** The commands go out *before* that transaction,
so a crash can fall between any two of: reading the event, sending each
command, saving the state, committing the checkpoint. Nothing is lost: the
checkpoint did not move, so the event is delivered again. Nothing is doubled:
each command's id is ``uuid5(event id, step)``, the same on every delivery,
and the :class:`~esdemo.process.commands.CommandBus` handles a command id
once (its events have ids derived from it, and the store keeps an event id
once). Deciding from the *stored* state and the event alone, never from
anything read elsewhere, is what makes the second delivery send the same
commands as the first.

**Deadlines** ("no payment within 15 minutes: cancel") are rows with a due
time computed from the event's ``recorded_at`` (the store's clock), fired by
:meth:`ProcessManager.tick` when the injected clock says they are due: the
same crash-and-redeliver rules apply, with command ids ``uuid5(deadline id, step)``.
A deadline goes ``pending`` -> ``firing`` (committed before its commands go
out, so no cancel can stop it half-way) -> ``fired``, or ``pending`` -> ``cancelled``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from ..store.clock import utc_now
from ..store.event_store import EventStore
from ..store.events import RecordedEvent
from ..store.serialization import dumps, loads
from ..write.context import step_id
from ..write.domain import default_registry
from .commands import CommandBus, Envelope
from .errors import ProcessError

TABLES = (
    "CREATE TABLE IF NOT EXISTS process_checkpoints (name VARCHAR PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS process_state (name VARCHAR NOT NULL, process_id VARCHAR NOT NULL, "
    "state VARCHAR NOT NULL, PRIMARY KEY (name, process_id))",
    "CREATE TABLE IF NOT EXISTS process_deadlines (name VARCHAR NOT NULL, deadline_id VARCHAR NOT NULL, "
    "process_id VARCHAR NOT NULL, step VARCHAR NOT NULL, due_at VARCHAR NOT NULL, cause_event_id VARCHAR NOT NULL, "
    "status VARCHAR NOT NULL, PRIMARY KEY (name, deadline_id))",
)
UPSERT_STATE = ("INSERT INTO process_state VALUES (?, ?, ?) "
                "ON CONFLICT (name, process_id) DO UPDATE SET state = excluded.state")
UPSERT_CHECKPOINT = ("INSERT INTO process_checkpoints VALUES (?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET position = excluded.position")


class Crash(Exception):
    """Raised by a fault injector to simulate the process dying at a given point."""


@dataclass(frozen=True)
class Deadline:
    """A timer: at ``due_at``, call ``on_deadline`` for ``process_id``. ``status``: pending, fired or cancelled."""

    deadline_id: str
    process_id: str
    step: str
    due_at: datetime
    cause_event_id: str
    status: str = "pending"


@dataclass
class _Decision:
    """What one call of ``handle``/``on_deadline`` decided; carried out by the runtime."""

    cause: RecordedEvent
    key: uuid.UUID  # what command and deadline ids derive from (the event's id, or the deadline's)
    commands: list[tuple[str, Envelope]]
    schedules: list[Deadline]
    cancels: list[str]


class ProcessManager:
    """Base class: subclass it, set ``name`` and ``event_types``, write ``process_id``, ``handle``
    and (if it schedules) ``on_deadline``. See the module docstring.

    ``fault`` (tests and notebooks) is called with the name of each point a
    crash could hit: ``"read"``, ``"command:<step>"`` after each command,
    ``"state"`` and ``"checkpoint"`` inside the final transaction (before
    its commit). Raise :class:`Crash` there to simulate a crash.
    """

    name: ClassVar[str]
    event_types: ClassVar[Iterable[str]]
    registry: ClassVar[Any] = default_registry

    def __init__(self, store: EventStore, bus: CommandBus, *, clock: Callable[[], datetime] | None = None,
                 fault: Callable[[str], None] | None = None):
        if not isinstance(store, EventStore):
            raise TypeError(f"store must be an EventStore, got {type(store).__name__}")
        if not isinstance(bus, CommandBus) or bus.store is not store:
            raise TypeError("bus must be a CommandBus on the same store")
        name = getattr(type(self), "name", None)
        if not isinstance(name, str) or not name.strip():
            raise ProcessError(f"{type(self).__name__} needs a class attribute name = '...' (it names its checkpoint)")
        types = getattr(type(self), "event_types", None)
        if isinstance(types, str) or types is None:
            raise ProcessError(f"{type(self).__name__}.event_types must be a set of event type names, got {types!r}")
        self.store, self.bus, self.clock = store, bus, clock or utc_now
        self.fault = fault
        self._types = frozenset(types)
        self._decision: _Decision | None = None
        with store.transaction() as cur:
            for sql in TABLES:
                cur.execute(sql)

    # -- what a subclass writes -------------------------------------------------------------
    def process_id(self, event: Any) -> str:
        """Which conversation ``event`` belongs to (e.g. its order id)."""
        raise NotImplementedError(f"{type(self).__name__} must define process_id(event)")

    def initial_state(self) -> dict[str, Any]:
        """The state of a conversation before its first event."""
        return {}

    def handle(self, event: Any, recorded: RecordedEvent, state: dict[str, Any]) -> None:
        """React to ``event``: change ``state`` in place, :meth:`send` commands, :meth:`schedule` deadlines."""
        raise NotImplementedError(f"{type(self).__name__} must define handle(event, recorded, state)")

    def on_deadline(self, deadline: Deadline, state: dict[str, Any]) -> None:
        """A deadline came due (and was not cancelled): decide what to do.

        Decide from the deadline itself: after a crash half-way through firing,
        it is fired again and may then see a later state (the events its first
        firing caused may have been handled meanwhile). Sending the same
        commands again is harmless (same ids); let the events they cause
        change the state.
        """
        raise ProcessError(f"{type(self).__name__} scheduled {deadline.step!r} but has no on_deadline()")

    # -- what handle() and on_deadline() call ---------------------------------------------------
    def send(self, command: Any, *, step: str) -> None:
        """Send ``command`` as this reaction's step ``step`` (its id: ``uuid5(cause id, step)``)."""
        decision = self._current("send")
        if any(existing == step for existing, _ in decision.commands):
            raise ProcessError(f"step {step!r} is sent twice in one reaction; give each command its own step name")
        envelope = self.bus.envelope(command, command_id=step_id(decision.key, step), cause=decision.cause)
        decision.commands.append((step, envelope))

    def schedule(self, step: str, *, after: timedelta) -> None:
        """Call :meth:`on_deadline` ``after`` the cause was recorded, unless :meth:`cancel` ed first."""
        decision = self._current("schedule")
        if not isinstance(after, timedelta) or after < timedelta(0):
            raise ValueError(f"after must be a timedelta >= 0, got {after!r}")
        deadline_id = str(step_id(decision.key, f"deadline:{step}"))
        decision.schedules.append(Deadline(deadline_id, self._process_of_decision, step,
                                           decision.cause.recorded_at + after, str(decision.cause.event_id)))

    def cancel(self, step: str) -> None:
        """Cancel this conversation's pending deadline(s) named ``step`` (nothing if none)."""
        self._current("cancel").cancels.append(step)

    # -- running ---------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        """The checkpoint: the position of the last event handled and committed."""
        rows = self.store.query("SELECT position FROM process_checkpoints WHERE name = ?", [self.name])
        return rows[0][0] if rows else 0

    def state(self, process_id: str) -> dict[str, Any] | None:
        """The committed state of one conversation (``None`` if it never started)."""
        rows = self.store.query("SELECT state FROM process_state WHERE name = ? AND process_id = ?",
                                [self.name, str(process_id)])
        return loads(rows[0][0]) if rows else None

    def states(self) -> dict[str, dict[str, Any]]:
        """Every conversation's committed state, by process id (sorted)."""
        rows = self.store.query("SELECT process_id, state FROM process_state WHERE name = ? ORDER BY process_id",
                                [self.name])
        return {pid: loads(state) for pid, state in rows}

    def deadlines(self, status: str | None = None) -> list[Deadline]:
        """The deadlines (optionally only those with ``status``), by due time."""
        rows = self.store.query("SELECT deadline_id, process_id, step, due_at, cause_event_id, status "
                                "FROM process_deadlines WHERE name = ?", [self.name])
        found = [Deadline(d, p, s, datetime.fromisoformat(due), c, st) for d, p, s, due, c, st in rows]
        return sorted((d for d in found if status is None or d.status == status), key=lambda d: (d.due_at, d.deadline_id))

    def run_once(self) -> RecordedEvent | None:
        """Handle the next event this manager subscribes to (skipping others); return it, or ``None`` if none."""
        start = self.position
        batch = self.store.read_all(start + 1, limit=1000)
        self._fault("read")
        for recorded in batch:
            if recorded.type in self._types:
                self._handle_event(recorded)
                return recorded
        if batch:
            with self.store.transaction() as cur:
                self._commit_checkpoint(cur, start, batch[-1].position)
        return None

    def catch_up(self) -> int:
        """Handle every event up to the head; return how many were handled."""
        handled = 0
        while self.position < self.store.head():
            if self.run_once() is not None:
                handled += 1
        return handled

    def tick(self, now: datetime | None = None) -> list[Deadline]:
        """Catch up, then fire every pending deadline due at ``now`` (default: the clock); return those fired.

        Catching up first means a deadline never fires for a conversation
        whose answer (e.g. the payment) is already in the log.
        """
        self.catch_up()
        now = now if now is not None else self.clock()
        if not isinstance(now, datetime) or now.tzinfo is None:
            raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
        fired = []
        for deadline in self.deadlines():
            if deadline.status in ("pending", "firing") and deadline.due_at <= now:
                self._fire(deadline)
                fired.append(deadline)
        return fired

    # -- the runtime -------------------------------------------------------------------------------
    def _handle_event(self, recorded: RecordedEvent) -> None:
        event = self.registry.decode(recorded) if self.registry is not None else recorded
        pid = str(self.process_id(event))
        state = self.state(pid) or self.initial_state()
        decision = self._decide(recorded, recorded.event_id, pid, lambda: self.handle(event, recorded, state))
        self._carry_out(decision, pid, state, checkpoint=(self.position, recorded.position))

    def _fire(self, deadline: Deadline) -> None:
        state = self.state(deadline.process_id) or self.initial_state()
        cause = self.store.find_event(deadline.cause_event_id)
        if cause is None:
            raise ProcessError(f"deadline {deadline.step!r} of {deadline.process_id} names a cause "
                               f"{deadline.cause_event_id} that is not in the log")
        self._fault(f"deadline:{deadline.step}")
        if deadline.status == "pending":
            # Firing starts with a commit: from here on a cancel() (e.g. by the very event this deadline
            # causes, handled by a catch-up after a crash) cannot stop it half-way; tick() finishes it.
            with self.store.transaction() as cur:
                cur.execute("UPDATE process_deadlines SET status = 'firing' WHERE name = ? AND deadline_id = ?",
                            [self.name, deadline.deadline_id])
        decision = self._decide(cause, uuid.UUID(deadline.deadline_id), deadline.process_id,
                                lambda: self.on_deadline(deadline, state))
        self._carry_out(decision, deadline.process_id, state, fired=deadline.deadline_id)

    def _decide(self, cause: RecordedEvent, key: uuid.UUID, pid: str, decide: Callable[[], None]) -> _Decision:
        self._decision = _Decision(cause, key, [], [], [])
        self._process_of_decision = pid
        try:
            decide()
            return self._decision
        finally:
            self._decision = None

    def _carry_out(self, decision: _Decision, pid: str, state: dict[str, Any], *,
                   checkpoint: tuple[int, int] | None = None, fired: str | None = None) -> None:
        for step, envelope in decision.commands:
            self.bus.dispatch(envelope)
            self._fault(f"command:{step}")
        with self.store.transaction() as cur:
            cur.execute(UPSERT_STATE, [self.name, pid, dumps(state, f"{self.name} state")])
            for deadline in decision.schedules:
                cur.execute("INSERT INTO process_deadlines VALUES (?, ?, ?, ?, ?, ?, 'pending') "
                            "ON CONFLICT (name, deadline_id) DO NOTHING",
                            [self.name, deadline.deadline_id, pid, deadline.step,
                             deadline.due_at.astimezone(timezone.utc).isoformat(), deadline.cause_event_id])
            for step in decision.cancels:
                cur.execute("UPDATE process_deadlines SET status = 'cancelled' WHERE name = ? AND process_id = ? "
                            "AND step = ? AND status = 'pending'", [self.name, pid, step])
            if fired is not None:
                cur.execute("UPDATE process_deadlines SET status = 'fired' WHERE name = ? AND deadline_id = ?",
                            [self.name, fired])
            self._fault("state")
            if checkpoint is not None:
                self._commit_checkpoint(cur, *checkpoint)
            self._fault("checkpoint")

    def _commit_checkpoint(self, cur: Any, expected: int, position: int) -> None:
        row = cur.execute("SELECT position FROM process_checkpoints WHERE name = ?", [self.name]).fetchall()
        if (row[0][0] if row else 0) != expected:
            raise ProcessError(f"{self.name}: another runner moved the checkpoint; nothing of this step was kept. "
                               "Run one instance of a process manager at a time (or run again).")
        cur.execute(UPSERT_CHECKPOINT, [self.name, position])

    def _current(self, what: str) -> _Decision:
        if self._decision is None:
            raise ProcessError(f"{what}() may only be called from handle() or on_deadline()")
        return self._decision

    def _fault(self, point: str) -> None:
        if self.fault is not None:
            self.fault(point)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} at position {self.position}>"
