"""``given(events).then_commands(Process, *commands)``: a spec for a process manager.

A process manager is tested like an aggregate, on facts: *given* these events
happened, *then* it sends these commands (and, ``after`` some time, those its
deadlines send)::

    given(OrderPlaced("A1", "c-42", lines, address="1 Main St")) \\
        .then_commands(CheckoutProcess, ReserveStock("A1", lines))

    given(placed, reserved, requested) \\
        .then_commands(CheckoutProcess, ReserveStock(...), RequestPayment(...), ExpirePayment("A1"),
                       after=timedelta(minutes=15))

Nothing is executed: the commands are recorded, not handled, so the spec
tests the manager's decisions alone (the aggregates have their own specs).
The given events are appended to a fresh in-memory store, one stream each,
and the manager catches up on them exactly as it would in production; with
``after``, its clock then moves on by that much and :meth:`ProcessManager.tick`
fires the deadlines that came due. A failing spec raises
:class:`~esdemo.store.errors.SpecFailed` with a command-by-command diff.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from ..store.clock import FakeClock
from ..store.errors import SpecError, SpecFailed
from ..store.event_store import EventStore
from ..write.testing import _encode, _event_diff, _type_name
from .commands import CommandBus, CommandResult, Envelope
from .process_manager import ProcessManager

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


class RecordingBus(CommandBus):
    """A command bus that records every command it is given and runs none (for specs)."""

    def __init__(self, store: EventStore):
        super().__init__(store)
        self.recorded: list[Any] = []

    def envelope(self, command: Any, *, command_id: uuid.UUID | None = None, cause: Any = None,
                 correlation_id: str | None = None) -> Envelope:
        command_id = command_id if command_id is not None else uuid.uuid4()
        causation = str(cause.event_id) if cause is not None else str(command_id)
        return Envelope(command, command_id, correlation_id or causation, causation)

    def dispatch(self, envelope: Envelope) -> CommandResult:
        self.recorded.append(envelope.command)
        return CommandResult(envelope)


def then_commands(events: list[Any], process: type[ProcessManager], *expected: Any,
                  after: timedelta | None = None) -> list[Any]:
    """Run ``process`` on ``events``; raise :class:`SpecFailed` unless it sent exactly ``expected``, in order."""
    __tracebackhide__ = True
    if not isinstance(process, type) or not issubclass(process, ProcessManager):
        raise SpecError(f"then_commands needs a ProcessManager class first, e.g. then_commands(CheckoutProcess, ...); "
                        f"got {process!r}")
    if after is not None and (not isinstance(after, timedelta) or after < timedelta(0)):
        raise SpecError(f"after must be a timedelta >= 0 (how long to wait before firing deadlines), got {after!r}")
    clock = FakeClock(_EPOCH, step=timedelta(0))
    with EventStore(clock=clock) as store:
        bus = RecordingBus(store)
        manager = process(store, bus, clock=clock.peek)
        for n, event in enumerate(events, start=1):
            store.append(f"Given-{n}", [_encode(manager.registry, event, f"given event {n}")], expected_version=0)
        manager.catch_up()
        if after is not None:
            clock.advance(after)
            manager.tick()
        actual = list(bus.recorded)
    if actual != list(expected):
        summary, table = _event_diff(list(expected), actual, noun="command", producer="the process manager sent",
                                     same="sent as many")
        given = ", ".join(_type_name(e) for e in events) or "(no events)"
        waited = "" if after is None else f"\n  after: {after} (deadlines fired)"
        raise SpecFailed(f"Spec failed for {process.__name__}\n  given: {given}{waited}\n  then:  {summary}\n\n{table}")
    return actual
